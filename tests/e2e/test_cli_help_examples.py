"""Every `Example(s):` line in every command's help parses; those that need no network run.

They run on the config `naver-sms init` writes (the shop fixture's), against
the sandbox, so an example that stopped working shows here, not to an owner.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from naver_sms.entrypoints.cli import cli
from tests.e2e.conftest import Shop, at
from tests.e2e.test_run_cli_startup import invoke

# Run end to end: they read or rehearse, and the sandbox answers. The rest
# (a real login, a send, serve, demo, sandbox, writing files) only parse.
RUNS = {
    ("bookings",),
    ("templates", "check"),
    ("templates", "preview"),
    ("session", "show"),
    ("messages",),
}


def commands(group: click.Group = cli, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = [path]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def command_of(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None
        command = found
    return command


def examples(path: tuple[str, ...]) -> list[list[str]]:
    """The `naver-sms ...` invocations in the command's help, as argument lists."""
    help_text = command_of(path).help or ""
    block = re.search(r"Examples?[^:\n]*:\n(?P<lines>(?:\s{2,}\S.*\n?)+)", help_text)
    assert block is not None, f"`naver-sms {' '.join(path)}` has no Example(s): block"
    found = []
    for line in block["lines"].splitlines():
        for part in line.split("#")[0].split("&&"):
            words = shlex.split(part.split(">")[0])  # a shell redirection is not an argument
            while words and "=" in words[0]:  # an environment prefix: NAVER_SMS_STORE=...
                words.pop(0)
            if words[:1] == ["naver-sms"]:
                found.append(words[1:])
    assert found, f"`naver-sms {' '.join(path)}`'s examples hold no naver-sms line"
    return found


ALL = [path for path in commands() if path]


@pytest.mark.parametrize("path", ALL, ids=[" ".join(p) for p in ALL])
def test_every_example_in_the_help_parses(
    path: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The files an example names (a cookie export, a config) exist, as for the reader.
    monkeypatch.chdir(tmp_path)
    for args in examples(path):
        for arg in args:
            if arg.endswith((".json", ".yaml")) and not arg.startswith("/"):
                (tmp_path / arg).parent.mkdir(parents=True, exist_ok=True)
                (tmp_path / arg).touch()
        target_path: list[str] = []
        group: click.Command = cli
        rest = list(args)
        while isinstance(group, click.Group) and rest and rest[0] in group.commands:
            target_path.append(rest[0])
            group = group.commands[rest.pop(0)]
        if isinstance(group, click.Group):  # a group that does something on its own
            assert group.invoke_without_command, args
        # make_context parses the options and arguments exactly as the command would.
        group.make_context(" ".join(["naver-sms", *target_path]), rest)


def test_the_examples_that_need_no_network_run_on_the_init_config(shop: Shop) -> None:
    assert shop.run(at(9)).exit_code == 0  # some records for bookings and messages
    ran = 0
    for path in RUNS:
        for args in examples(path):
            if "--config" in args:  # the repository's config/, not the installed one
                continue
            code, _out, err = invoke(shop, *args)
            assert code == 0, (args, err)
            assert "error" not in err.lower(), (args, err)
            ran += 1
    assert ran >= len(RUNS)
