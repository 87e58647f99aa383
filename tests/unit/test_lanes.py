"""The test lanes: `make check` runs few Hypothesis examples, CI the full counts.

The counts come from the profile tests/conftest.py loads (`dev` on a laptop,
`ci` when CI is set, or the one HYPOTHESIS_PROFILE names); the tests whose
examples are costly cap it. Each case runs pytest in a child process, as
`make check` and `.ci/run` do, and reads Hypothesis's own statistics.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PARSING = "tests/unit/test_booking_api_parsing.py"
HOSTILE = "tests/unit/test_booking_api_hostile.py"
GENERATED = (
    "test_ten_thousand_generated_pages_parse_without_a_crash_and_report_every_unusable_entry"
)
FREE_FORM = "test_free_form_payloads_parse_without_a_crash"
MIXED = "test_hostile_entries_mixed_with_good_ones_never_raise_and_every_good_one_is_parsed"


def _examples_run(env: dict[str, str]) -> dict[str, int]:
    """Test name -> the number of examples Hypothesis ran it with, under `env`."""
    child_env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("CI", "HYPOTHESIS_PROFILE")
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "--no-cov",
            "-p",
            "no:cacheprovider",
            "--hypothesis-show-statistics",
            f"{PARSING}::{GENERATED}",
            f"{PARSING}::{FREE_FORM}",
            f"{HOSTILE}::{MIXED}",
        ],
        cwd=ROOT,
        env={**child_env, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    counts = {}
    for block in re.split(r"^tests/\S+::", result.stdout, flags=re.MULTILINE)[1:]:
        name = block.split(":", 1)[0]
        stopped = re.search(r"Stopped because settings\.max_examples=(\d+)", block)
        assert stopped, block
        counts[name] = int(stopped.group(1))
    return counts


@pytest.mark.slow
def test_ci_runs_ten_thousand_generated_pages_and_the_costly_tests_their_former_counts() -> None:
    assert _examples_run({"CI": "true"}) == {GENERATED: 10_000, FREE_FORM: 500, MIXED: 150}


@pytest.mark.slow
@pytest.mark.parametrize(
    "env",
    [{}, {"CI": "true", "HYPOTHESIS_PROFILE": "dev"}],
    ids=["a laptop", "CI asking for the dev profile"],
)
def test_a_laptop_runs_a_hundred_examples_of_each(env: dict[str, str]) -> None:
    assert _examples_run(env) == {GENERATED: 100, FREE_FORM: 100, MIXED: 100}
