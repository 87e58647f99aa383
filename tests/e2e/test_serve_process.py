"""`naver-sms serve` as the separate process systemd or docker runs, stopped by SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from click.testing import CliRunner

from naver_sms.entrypoints.cli import cli
from tests.e2e.conftest import Shop


@dataclass
class Served:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def messages(self) -> list[str]:
        return [json.loads(line)["message"] for line in self.lines if line.startswith("{")]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                pytest.fail(f"serve ended early: {self.lines[-5:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting; last lines: {self.lines[-5:]}")
            time.sleep(0.05)

    def terminate(self) -> int:
        """SIGTERM, as `systemctl stop` or `docker stop` sends it; the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def fetches(shop: Shop) -> int:
    """Booking API requests so far (a day without bookings needs only the count)."""
    requests = shop.naver.requests
    return requests["count"] + requests["list"]


@pytest.fixture
def serve(shop: Shop) -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(*args: str) -> Served:
        process = subprocess.Popen(
            [sys.executable, "-m", "naver_sms", "serve", *args],
            env={**os.environ, **shop.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        served = Served(process)
        assert process.stderr is not None
        stream = process.stderr
        threading.Thread(target=lambda: served.lines.extend(stream), daemon=True).start()
        started.append(served)
        return served

    yield start
    for served in started:
        if served.process.poll() is None:
            served.process.kill()
            served.process.wait(timeout=30)


def test_serve_runs_cycles_until_sigterm_then_finishes_and_says_so(
    shop: Shop, serve: Callable[..., Served]
) -> None:
    served = serve("--every", "0.2")
    served.wait_for(lambda: served.messages().count("Cycle finished") >= 2)

    assert served.terminate() == 0
    messages = served.messages()
    assert "Stopping after the current cycle" in messages
    assert messages[-1] == "Stopped"
    stopped = json.loads(served.lines[-1])
    assert stopped["context"]["cycles"] >= 2


@pytest.mark.browser
def test_serve_after_a_login_challenge_waits_for_an_imported_session_then_goes_on(
    shop: Shop, serve: Callable[..., Served], browser_env: dict[str, str]
) -> None:
    shop.env.update(browser_env, NAVER_USERNAME="captcha-user", NAVER_PASSWORD="whatever")
    shop.naver.expire_sessions()  # the stored cookies are refused: the cycle tries a login
    served = serve("--every", "0.2")
    waiting = "Waiting for a person to log in"
    served.wait_for(lambda: served.messages().count(waiting) >= 1)
    before = fetches(shop)  # the refused cookies were tried once
    served.wait_for(lambda: served.messages().count(waiting) >= 4)

    # One browser login, then no retry every interval while nobody has logged in.
    assert shop.naver.requests["login"] == 1
    assert fetches(shop) == before
    assert any("login --headed" in line for line in served.lines if line.startswith("error:"))

    imported = CliRunner().invoke(
        cli, ["session", "import", "-"], input=json.dumps(shop.naver.issue_session()), env=shop.env
    )
    assert imported.exit_code == 0, imported.output
    served.wait_for(lambda: fetches(shop) > before)

    assert served.terminate() == 0
    assert shop.naver.requests["login"] == 1
    assert served.messages()[-1] == "Stopped"
