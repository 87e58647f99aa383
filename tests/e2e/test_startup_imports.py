"""`naver-sms --help` and `naver-sms <command> --help` load click and the command tree only.

Each check runs a fresh interpreter (what an owner's shell starts) and reads
its `sys.modules` after the help was printed: no timing, so it cannot flake.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
HEAVY = (
    "rich",
    "pydantic",
    "httpx",
    "boto3",
    "botocore",
    "selenium",
    "starlette",
    "uvicorn",
    "jinja2",
    "naver_sms.sandbox",
    "yaml",
    "structlog",
    "aws_lambda_powertools",
    "naver_sms.config",
    "naver_sms.bootstrap",
)
PROBE = """
import json, sys
from naver_sms.entrypoints.cli import main
sys.argv = ["naver-sms", *json.loads(sys.argv[1])]
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def loaded_by(*args: str) -> tuple[str, int, set[str]]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(args))],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    probe = json.loads(done.stderr.strip().splitlines()[-1])
    return done.stdout, probe["code"], set(probe["modules"])


def heavy_in(modules: set[str]) -> list[str]:
    return [name for name in HEAVY if any(m == name or m.startswith(f"{name}.") for m in modules)]


def test_the_help_lists_every_command_without_importing_any_heavy_package() -> None:
    shown, code, modules = loaded_by("--help")
    assert code == 0
    for command in ("run", "serve", "templates", "doctor", "sandbox", "web", "send-test"):
        assert f"  {command} " in shown
    assert heavy_in(modules) == []
    assert not any(m.startswith("naver_sms.entrypoints.cli_") for m in modules)


# Every command and subcommand: its help is text only, whatever its module needs to run.
EVERY_COMMAND = (
    "demo",
    "create-tables",
    "run",
    "serve",
    "bookings",
    "init",
    "templates",
    "templates check",
    "templates preview",
    "login",
    "session",
    "session import",
    "session show",
    "session clear",
    "optouts",
    "optouts add",
    "optouts remove",
    "messages",
    "doctor",
    "send-test",
    "sandbox",
    "config",
    "config migrate",
    "web",
)


@pytest.mark.parametrize("command", EVERY_COMMAND)
def test_a_command_s_help_loads_click_and_its_own_module_only(command: str) -> None:
    shown, code, modules = loaded_by(*command.split(), "--help")
    assert code == 0
    assert f"Usage: naver-sms {command}" in shown
    assert heavy_in(modules) == []


def test_the_help_checks_cover_every_command_of_the_tree() -> None:
    import click  # noqa: PLC0415

    from naver_sms.entrypoints.cli import cli  # noqa: PLC0415

    def walk(command: click.Command, path: tuple[str, ...]) -> Iterator[str]:
        if path:
            yield " ".join(path)
        if isinstance(command, click.Group):
            for name, child in command.commands.items():
                yield from walk(child, (*path, name))

    assert sorted(walk(cli, ())) == sorted(EVERY_COMMAND)


def test_the_listed_help_of_each_lazy_command_is_its_own_first_paragraph() -> None:
    # The group lists lazy commands by a text of its own: it must say what the command says.
    import click  # noqa: PLC0415

    from naver_sms.entrypoints.cli import LAZY_COMMANDS, cli  # noqa: PLC0415

    for name, (_target, listed) in LAZY_COMMANDS.items():
        command = cli.get_command(click.Context(cli), name)
        assert command is not None
        first = (command.help or "").split("\n\n")[0]
        assert " ".join(first.split()) == listed, name
