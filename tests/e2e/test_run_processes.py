"""Exactly once across processes: racing `naver-sms run`s, and one killed after its claim."""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from click.testing import CliRunner

from naver_sms import bootstrap
from naver_sms.config import load_settings
from naver_sms.cycle import CycleReport
from naver_sms.entrypoints import cli as cli_module
from tests.e2e.conftest import Shop, at

DUE_AT_9 = 10  # 8 confirmations and 2 reminders (see test_run_cli.py)


def test_eight_processes_started_together_send_each_due_message_exactly_once(
    any_shop: Shop,
) -> None:
    shop = any_shop
    shop.naver.now = at(9)
    processes = [shop.spawn(at(9)) for _ in range(8)]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [p.returncode for p in processes] == [0] * 8, [err[-500:] for _, err in outputs]
    reports = [json.loads(out) for out, _ in outputs]
    assert sum(len(r["sent"]) for r in reports) == DUE_AT_9
    accepted = Counter((m.to, m.content) for m in shop.sens.accepted)
    assert len(accepted) == DUE_AT_9
    assert set(accepted.values()) == {1}
    assert shop.run(at(9, 1)).report["sent"] == []


def _wait_for(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting")
        time.sleep(0.02)


def test_a_process_killed_after_its_claim_sends_once_after_the_lease_expires(shop: Shop) -> None:
    shop.naver.now = at(9)
    shop.sens.hang_next(1, seconds=60)  # the first send never answers: the process sits claimed
    victim = shop.spawn(at(9))
    _wait_for(lambda: shop.sens.requests >= 1)
    victim.kill()
    victim.communicate(timeout=30)
    assert shop.sens.accepted == []

    # Within the 10-minute lease nothing goes: not the claimed confirmations,
    # and not the reminders, which never overtake their confirmation.
    assert shop.run(at(9, 5)).report["sent"] == []
    assert shop.sens.accepted == []

    after = shop.run(at(9, 11))
    assert len(after.report["sent"]) == DUE_AT_9
    assert shop.run(at(9, 30)).report["sent"] == []
    assert len(shop.sens.accepted) == DUE_AT_9


def test_serve_logs_a_failing_cycle_goes_on_and_stops_cleanly_on_sigterm(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real_cycle = cli_module.run_cycle

    def cycle(**_kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the store is down")
        os.kill(os.getpid(), signal.SIGTERM)  # as systemd or docker stop would
        return real_cycle(**_kwargs)

    monkeypatch.setattr(cli_module, "run_cycle", cycle)
    shop.naver.now = at(9)
    result = CliRunner().invoke(cli_module.cli, ["serve", "--every", "0.1"], env=shop.env)
    assert result.exit_code == 0, result.output
    assert len(calls) == 2
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    messages = [line["message"] for line in lines]
    assert "Cycle failed; the next one tries again" in messages
    assert messages[-1] == "Stopped"
    assert signal.getsignal(signal.SIGTERM) is not None


def test_serve_after_a_login_challenge_waits_for_a_stored_session_instead_of_retrying(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings({**os.environ, **shop.env})
    sessions = bootstrap.build_session_store(settings)
    calls: list[datetime] = []
    waits = {"count": 0}
    real_get = type(sessions).get_session

    def cycle(*, ports: Any, now: datetime, **_kwargs: Any) -> CycleReport:
        calls.append(now)
        if len(calls) == 1:
            sessions.delete_session()  # as the Authenticator does with refused cookies
            return CycleReport(now=now, login_challenge=True, errors=[{"store": "", "error": "x"}])
        os.kill(os.getpid(), signal.SIGTERM)
        return CycleReport(now=now)

    def get_session(self: Any) -> Any:
        waits["count"] += 1
        if waits["count"] == 3:  # a person logged in while serve waited
            self.save_session(json.dumps(shop.naver.issue_session()))
        return real_get(self)

    monkeypatch.setattr(cli_module, "run_cycle", cycle)
    monkeypatch.setattr(type(sessions), "get_session", get_session)
    result = CliRunner().invoke(cli_module.cli, ["serve", "--every", "0.1"], env=shop.env)
    assert result.exit_code == 0, result.output
    assert len(calls) == 2  # not one cycle (and browser login) while nobody had logged in
    assert waits["count"] == 3
    assert "Waiting for a person to log in" in result.stderr
