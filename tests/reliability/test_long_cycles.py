"""Time moves while a cycle runs: leases and the advertising window are judged then.

Real cycles (bootstrap's SQLite store and SENS sender) against the sandbox
Naver and a slow sandbox SENS on loopback:

- two overlapping cycles, the first still sending when the second starts:
  claims run from the moment they are taken and no request starts when its
  claims are half-way to lapsing, so no text goes twice;
- a cycle that starts just before 21:00 KST with advertising due: no
  advertising request starts in the last minute of the window, so SENS
  accepts none at or after 21:00.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from naver_sms import bootstrap
from naver_sms.config import AppConfig, Settings
from naver_sms.cycle import run_cycle
from naver_sms.domain.booking import KST
from naver_sms.report import CycleReport
from naver_sms.sandbox.naver import NaverSandbox
from naver_sms.sandbox.sens import FakeSens
from tests.reliability.workload import (
    EVENING,
    SENDER,
    due_per_store,
    load,
    sandbox_settings,
    store_ids,
)

pytestmark = pytest.mark.reliability

STORES = store_ids(6)


@pytest.fixture
def services() -> Iterator[tuple[NaverSandbox, FakeSens]]:
    with (
        NaverSandbox(now=EVENING, stores=dict.fromkeys(STORES, 0)) as naver,
        FakeSens(senders=(SENDER,)) as sens,
    ):
        load(naver, STORES)
        yield naver, sens


def config() -> AppConfig:
    return AppConfig.model_validate(
        {
            "stores": [
                {"id": biz_id, "name": f"시간 {n}호점", "sender": SENDER, "opt_out": "0800000000"}
                for n, biz_id in enumerate(STORES)
            ]
        }
    )


def prepared(tmp_path: Path, naver: NaverSandbox, sens: FakeSens) -> Settings:
    settings = sandbox_settings(tmp_path / "long.db", naver, sens)
    bootstrap.create_tables(settings)
    with bootstrap.session_repository(settings) as sessions:
        sessions.save_session(json.dumps(naver.issue_session()))
    return settings


def cycle(settings: Settings, now: datetime, **kw: Any) -> CycleReport:
    with bootstrap.cycle_ports(settings, config=config()) as ports:
        return run_cycle(ports=ports, now=now, **kw)


def test_an_overlapping_cycle_never_sends_what_a_long_cycle_still_holds(
    services: tuple[NaverSandbox, FakeSens], tmp_path: Path
) -> None:
    naver, sens = services
    settings = prepared(tmp_path, naver, sens)
    sens.latency = 0.3  # a request of the long cycle takes 0.3 s ...
    lease = timedelta(seconds=3)  # ... and its claims last 3 s (the real lease is 10 min)
    reports: list[CycleReport] = []
    long_cycle = threading.Thread(
        target=lambda: reports.append(cycle(settings, EVENING, lease=lease))
    )
    long_cycle.start()
    threading.Event().wait(3.5)  # the first cycle's earliest claims would have lapsed
    reports.append(cycle(settings, EVENING + timedelta(seconds=3.5), lease=lease))
    long_cycle.join()
    sens.latency = 0.0
    reports.append(cycle(settings, EVENING + timedelta(minutes=1), lease=lease))

    accepted = Counter((m.to, m.content) for m in sens.accepted)
    assert sum(n - 1 for n in accepted.values()) == 0
    assert len(accepted) == due_per_store() * len(STORES)


def test_no_advertising_is_accepted_at_or_after_21_even_when_the_cycle_started_before(
    services: tuple[NaverSandbox, FakeSens], tmp_path: Path
) -> None:
    naver, sens = services
    settings = prepared(tmp_path, naver, sens)
    # Each store sends confirmations, guides, then events, 1.5 s a request: a
    # cycle that decided at 20:59:45 reaches the 4th store's events after 21:00.
    sens.latency = 1.5
    start = datetime(2026, 11, 25, 20, 59, 45, tzinfo=KST)
    real_start = datetime.now(UTC)
    report = cycle(settings, start)

    def simulated(accepted_at: datetime) -> datetime:
        return start + (accepted_at - real_start)

    ads = [m for m in sens.accepted if m.content_type == "AD"]
    assert all(simulated(m.request_time) < start.replace(hour=21, minute=0, second=0) for m in ads)
    closed = [item for item in report.held if "window closed" in item.why]
    assert len(ads) + len(closed) == 7 * len(STORES)  # every event was sent or held
    assert closed, "the events decided at 20:59:45 should wait (the last minute is kept free)"
