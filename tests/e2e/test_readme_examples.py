"""The README's seed examples run as written, against moto, and print what they promise."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from naver_sms.database.dynamodb_client import create_tables, make_client

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_python_blocks() -> list[str]:
    section = (
        README.read_text(encoding="utf-8").split("## The data layer", 1)[1].split("\n## ", 1)[0]
    )
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


@pytest.fixture
def seed_tables() -> Iterator[None]:
    with mock_aws():
        create_tables(make_client())
        yield


def test_the_readme_shows_the_seed_examples() -> None:
    blocks = readme_python_blocks()

    assert len(blocks) == 3
    assert all("from naver_sms.database" in block for block in blocks)


def test_the_readme_seed_examples_run_in_order_and_print_what_they_promise(
    seed_tables: None, capsys: pytest.CaptureFixture[str]
) -> None:
    for block in readme_python_blocks():
        exec(compile(block, str(README), "exec"), {})  # noqa: S102 - our own README

    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "Booking created",
        "Customer: Kim Soo",
        "Confirm SMS sent: False",
        "Flag updated",
        "Store 1051707: option SMS window 2025-10-20T05:30:00.000Z to 2025-10-20T05:30:00.000Z",
        "Session saved",
        "Found 2 cookies",
        "  - NID_AUT",
        "  - NID_SES",
    ]
