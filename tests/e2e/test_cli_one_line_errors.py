"""Mistakes an owner makes on the command line: one line on stderr, the right exit code.

Each went out as a Python traceback before (a missing or read-only folder for
`init`, an unwritable outbox, an endpoint without a scheme, `--debug` after
the subcommand, a `--now` at the ends of the calendar).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require
from tests.e2e.conftest import Shop, at
from tests.e2e.test_run_cli_startup import error_lines, invoke


def only_line(stderr: str) -> str:
    lines = error_lines(stderr)
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    immutable = False
    if os.geteuid() == 0:
        # root writes through file modes: the immutable attribute stops it.
        chattr = shutil.which("chattr")
        immutable = (
            chattr is not None
            and subprocess.run([chattr, "+i", folder], check=False).returncode == 0
        )
        require(immutable, "running as root without a working chattr: no read-only folder")
    try:
        yield folder
    finally:
        if immutable:
            subprocess.run([str(shutil.which("chattr")), "-i", folder], check=True)
        folder.chmod(stat.S_IRWXU)


def test_init_into_a_missing_folder_names_it_and_how_to_make_it(shop: Shop) -> None:
    target = shop.tmp / "no" / "such" / "naver-sms.yaml"

    code, _out, err = invoke(shop, "init", str(target))

    assert code == 2
    line = only_line(err)
    assert f"the folder {target.parent} does not exist" in line
    assert "mkdir -p" in line


def test_init_into_a_read_only_folder_names_the_file(shop: Shop, read_only_folder: Path) -> None:
    target = read_only_folder / "naver-sms.yaml"

    code, _out, err = invoke(shop, "init", str(target))

    assert code == 2
    assert f"cannot write {target}" in only_line(err)


def test_an_unwritable_outbox_is_named_before_the_cycle_starts(shop: Shop) -> None:
    blocker = shop.tmp / "a-file"
    blocker.write_text("", encoding="utf-8")

    code, out, err = invoke(
        shop, "run", "--dry-run", NAVER_SMS_OUTBOX=str(blocker / "outbox.jsonl")
    )

    assert code == 2
    line = only_line(err)
    assert "NAVER_SMS_OUTBOX" in line
    assert str(blocker) in line
    assert out == ""
    assert shop.naver.requests["list"] == 0


def test_an_aws_endpoint_without_a_scheme_is_one_line(shop: Shop) -> None:
    code, _out, err = invoke(
        shop, "create-tables", NAVER_SMS_STORE="dynamodb", AWS_ENDPOINT_URL="localhost:8000"
    )

    assert code == 2
    line = only_line(err)
    assert "AWS_ENDPOINT_URL" in line
    assert "'localhost:8000'" in line


def test_a_clear_text_sens_url_is_refused_and_the_line_never_shows_a_secret(shop: Shop) -> None:
    secret = "secret-canary-0042"

    code, _out, err = invoke(
        shop, "run", SENS_SECRET_KEY=secret, SENS_URL=f"http://{secret}.example.com"
    )

    assert code == 2
    line = only_line(err)
    assert "SENS_URL" in line
    assert "https://" in line
    assert secret not in err
    assert shop.naver.requests["list"] == 0


@pytest.mark.parametrize("now", ["9999-12-31T23:00", "0001-01-01T00:00"])
def test_a_now_at_the_ends_of_the_calendar_is_one_line_and_exit_2(shop: Shop, now: str) -> None:
    code, _out, err = invoke(shop, "run", "--dry-run", "--now", now)

    assert code == 2
    line = only_line(err)
    assert "--now" in line
    assert "2000-2099" in line


def test_a_bad_option_value_is_one_line_that_points_to_the_help(shop: Shop) -> None:
    code, _out, err = invoke(shop, "run", "--now", "tomorrow")

    assert code == 2
    line = only_line(err)
    assert "'tomorrow'" in line
    assert "naver-sms run --help" in line


def test_debug_after_the_subcommand_is_accepted(shop: Shop) -> None:
    shop.naver.now = at(9)

    code, out, err = invoke(shop, "run", "--dry-run", "--now", at(9).isoformat(), "--debug")

    assert code == 0, err
    assert "would send" in out


def test_debug_anywhere_shows_the_traceback_instead_of_the_line(shop: Shop) -> None:
    from naver_sms.config import ConfigError  # noqa: PLC0415

    Path(shop.env["NAVER_SMS_CONFIG"]).write_text("stores: []\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="at least one store"):
        invoke(shop, "run", "--debug")
