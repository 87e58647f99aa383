"""Exactly once across processes: racing `naver-sms run`s, and one killed after its claim.

`naver-sms serve` as a process: test_serve_process.py; its loop: unit/test_serve_loop.py.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest

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
