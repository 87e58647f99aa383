"""One error style in every command: one `error: ...` line, exit 2 for a setup mistake.

Every command is walked from the click tree, so a command added later is
checked too. A bad environment setting stops every command before it runs;
a config file that is not YAML, or is not there, stops every command that
reads it.
"""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from naver_sms.entrypoints.cli import cli
from tests.e2e.conftest import Shop
from tests.e2e.test_run_cli_startup import error_lines, invoke


def leaf_commands(group: click.Group = cli, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += leaf_commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


# The arguments each command that reads the config needs to get as far as reading it.
READS_CONFIG: dict[tuple[str, ...], tuple[str, ...]] = {
    ("run",): ("--dry-run",),
    ("serve",): ("--dry-run",),
    ("templates", "check"): (),
    ("templates", "preview"): ("5000001", "guide"),
    ("login",): (),
    ("send-test",): ("--store", "5000001", "--message", "guide", "--to", "010-0000-1234"),
    ("doctor",): (),
}


def the_only_error(err: str) -> str:
    lines = [line for line in error_lines(err) if line.startswith("error")]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err  # lower case, as everywhere
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("NAVER_SMS_LOG_LEVEL", "LOUD"),
        ("NAVER_SMS_LOG_FORMAT", "pretty"),
        ("NAVER_SMS_STORE", "postgres"),
    ],
)
def test_a_bad_setting_stops_every_command_with_one_line_and_exit_2(
    shop: Shop, setting: str, value: str
) -> None:
    for command in leaf_commands():
        code, out, err = invoke(shop, *command, **{setting: value})

        assert code == 2, (command, err)
        assert setting in the_only_error(err), command
        assert out == "", command


@pytest.mark.parametrize("broken", ["not yaml", "missing"])
def test_a_broken_config_file_stops_every_command_that_reads_it_with_exit_2(
    shop: Shop, broken: str
) -> None:
    path = shop.tmp / "broken.yaml"
    if broken == "not yaml":
        path.write_text("stores: [\n", encoding="utf-8")

    for command, args in READS_CONFIG.items():
        code, _out, err = invoke(shop, *command, *args, NAVER_SMS_CONFIG=str(path))

        assert code == 2, (command, err)
        if command == ("doctor",):  # a report of checks, the config's among them
            assert f"FAIL  config: config file {path}" in _out
            continue
        assert f"config file {path}" in the_only_error(err), command


def test_config_migrate_of_a_file_that_is_not_yaml_is_exit_2(shop: Shop, tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text("stores: [\n", encoding="utf-8")

    code, _out, err = invoke(shop, "config", "migrate", str(path))

    assert code == 2
    assert str(path) in the_only_error(err)


def test_no_command_says_error_with_a_capital_e(shop: Shop) -> None:
    for command in leaf_commands():
        _code, out, err = invoke(shop, *command, "--no-such-option")
        assert "Error:" not in out + err, command
        assert the_only_error(err).endswith(f"(see `naver-sms {' '.join(command)} --help`)")
