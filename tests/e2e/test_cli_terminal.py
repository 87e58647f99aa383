"""`naver-sms` as a person sees it on a terminal, and as a pipe or a log collector gets it.

The child process's stderr is a real pseudo-terminal here, so the CLI's own
terminal check decides, as it does on an owner's laptop.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from dataclasses import dataclass

from tests.e2e.conftest import Shop, at


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str


def command(args: tuple[str, ...], stop_after: float | None) -> list[str]:
    """The child's command line; `stop_after` seconds then SIGTERM, as systemd stops serve."""
    stop = ["timeout", "-s", "TERM", str(stop_after)] if stop_after else []
    return [*stop, sys.executable, "-m", "naver_sms", *args]


def on_terminal(shop: Shop, *args: str, stop_after: float | None = None, **env: str) -> Ran:
    """`naver-sms ARGS` with stderr on a pseudo-terminal and stdout on a pipe."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.run(
            command(args, stop_after),
            env={**os.environ, **shop.env, "COLUMNS": "80", **env},
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            timeout=60,
            check=False,
        )
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: everything was read
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    stderr = b"".join(chunks).decode().replace("\r\n", "\n")
    return Ran(process.returncode, process.stdout, stderr)


def piped(shop: Shop, *args: str, stop_after: float | None = None, **env: str) -> Ran:
    process = subprocess.run(
        command(args, stop_after),
        env={**os.environ, **shop.env, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Ran(process.returncode, process.stdout, process.stderr)


def test_a_dry_run_on_a_terminal_prints_the_table_and_no_json_log_line(shop: Shop) -> None:
    shop.naver.now = at(9)

    ran = on_terminal(shop, "run", "--dry-run", "--now", at(9).isoformat())

    assert ran.code == 0, ran.stderr
    assert "Cycle finished" not in ran.stderr
    assert "{" not in ran.stderr  # no JSON object of any log line
    assert "would send" in ran.stdout
    assert "dry run, nothing sent" in ran.stdout


def test_a_dry_run_piped_logs_json_lines_for_a_collector(shop: Shop) -> None:
    shop.naver.now = at(9)

    ran = piped(shop, "run", "--dry-run", "--now", at(9).isoformat())

    assert ran.code == 0, ran.stderr
    lines = [json.loads(line) for line in ran.stderr.splitlines() if line.startswith("{")]
    assert "Cycle finished" in [line["message"] for line in lines]


def test_log_format_json_on_a_terminal_keeps_the_json_lines(shop: Shop) -> None:
    shop.naver.now = at(9)

    ran = on_terminal(
        shop, "run", "--dry-run", "--now", at(9).isoformat(), NAVER_SMS_LOG_FORMAT="json"
    )

    assert ran.code == 0, ran.stderr
    assert '"message": "Cycle finished"' in ran.stderr


def test_a_misspelt_log_format_is_one_error_line_and_exit_2(shop: Shop) -> None:
    ran = piped(shop, "bookings", NAVER_SMS_LOG_FORMAT="pretty")

    assert ran.code == 2
    assert ran.stderr.splitlines() == [
        "error: NAVER_SMS_LOG_FORMAT='pretty' is not a log format: write json (log "
        "collectors) or text (a person), or leave it unset"
    ]


def test_session_show_and_bookings_print_no_info_line_on_a_terminal(shop: Shop) -> None:
    shop.naver.now = at(9)
    assert shop.run(at(9)).exit_code == 0

    for args in (("session", "show"), ("bookings",)):
        ran = on_terminal(shop, *args)
        assert ran.code == 0, ran.stderr
        assert ran.stderr == "", args


def test_serve_on_a_terminal_says_what_it_runs_against_in_one_line(shop: Shop) -> None:
    ran = on_terminal(shop, "serve", "--dry-run", "--every", "0.1", stop_after=3)

    first = ran.stderr.splitlines()[0]
    assert first.startswith("serving 2 stores (5000001, 5000002) every 0.1s on SQLite ")
    assert first.endswith(f"dry run, messages go to {shop.env['NAVER_SMS_OUTBOX']}")


def test_serve_piped_says_it_as_a_json_line(shop: Shop) -> None:
    ran = piped(shop, "serve", "--dry-run", "--every", "0.1", stop_after=3)

    first = json.loads(ran.stderr.splitlines()[0])
    assert first["message"].startswith("serving 2 stores")
    assert first["context"]["stores"] == ["5000001", "5000002"]
    assert first["context"]["dry_run"] is True
