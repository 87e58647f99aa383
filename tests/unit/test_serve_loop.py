"""`serve`'s loop driven directly: its clock, sleep and stop event are passed in."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from naver_sms.domain.booking import KST
from naver_sms.report import CycleError, CycleReport
from naver_sms.serve import serve_cycles, stop_on_signals

START = datetime(2026, 11, 25, 9, 0, tzinfo=KST)


class Clock:
    """Monotonic seconds and KST time that move only when a cycle or a sleep says so."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def monotonic(self) -> float:
        return self.seconds

    def now(self) -> datetime:
        return START + timedelta(seconds=self.seconds)


class Sleeper:
    """Records each wait and sets `stop` once `limit` waits have happened."""

    def __init__(self, clock: Clock, stop: threading.Event, limit: int) -> None:
        self.clock, self.stop, self.limit = clock, stop, limit
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.seconds += seconds
        if len(self.waits) >= self.limit:
            self.stop.set()


def log_messages(err: str) -> list[str]:
    return [json.loads(line)["message"] for line in err.splitlines() if line.startswith("{")]


def test_a_failing_cycle_is_logged_and_the_next_one_still_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock, stop = Clock(), threading.Event()
    ran: list[datetime] = []

    def cycle(now: datetime) -> CycleReport:
        ran.append(now)
        if len(ran) == 1:
            raise RuntimeError("the store is down for 01000001234")
        return CycleReport(now=now)

    cycles = serve_cycles(
        cycle,
        every=60,
        stop=stop,
        session_stored=lambda: True,
        clock=clock.now,
        monotonic=clock.monotonic,
        sleep=Sleeper(clock, stop, limit=2),
    )

    assert cycles == 1  # the failed one is not counted
    assert ran == [START, START + timedelta(seconds=60)]
    err = capsys.readouterr().err
    assert log_messages(err) == ["Cycle failed; the next one tries again", "Stopped"]
    assert "the store is down" in err
    assert "01000001234" not in err  # the error text is scrubbed like every log line


def test_cycles_start_every_interval_from_start_to_start() -> None:
    clock, stop = Clock(), threading.Event()
    durations = iter([3.0, 75.0, 0.5])

    def cycle(now: datetime) -> CycleReport:
        clock.seconds += next(durations)  # the cycle's own work takes time
        return CycleReport(now=now)

    sleeper = Sleeper(clock, stop, limit=3)
    serve_cycles(
        cycle,
        every=60,
        stop=stop,
        session_stored=lambda: True,
        clock=clock.now,
        monotonic=clock.monotonic,
        sleep=sleeper,
    )

    # A cycle longer than the interval is followed at once, never by a negative wait.
    assert sleeper.waits == [57.0, 0.0, 59.5]


def test_after_a_login_challenge_no_cycle_runs_until_a_session_is_stored(
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock, stop = Clock(), threading.Event()
    ran: list[datetime] = []
    challenged: list[CycleReport] = []
    stored = iter([False, False, True])
    looked = {"count": 0}

    def cycle(now: datetime) -> CycleReport:
        ran.append(now)
        if len(ran) == 1:
            return CycleReport(now=now, login_challenge=True, errors=[CycleError(None, "x")])
        stop.set()  # as a SIGTERM during the cycle would
        return CycleReport(now=now)

    def session_stored() -> bool:
        looked["count"] += 1
        return next(stored)

    cycles = serve_cycles(
        cycle,
        every=300,
        stop=stop,
        session_stored=session_stored,
        on_challenge=challenged.append,
        clock=clock.now,
        monotonic=clock.monotonic,
        sleep=Sleeper(clock, stop, limit=100),
    )

    # Not one cycle (and browser login) while nobody had logged in.
    assert cycles == 2
    assert ran == [START, START + timedelta(seconds=900)]
    assert looked["count"] == 3
    assert [report.login_challenge for report in challenged] == [True]
    messages = log_messages(capsys.readouterr().err)
    assert messages.count("Waiting for a person to log in") == 2
    assert messages[-1] == "Stopped"


def test_a_stop_during_a_cycle_ends_the_loop_without_waiting_out_the_interval() -> None:
    stop = threading.Event()

    def cycle(now: datetime) -> CycleReport:
        stop.set()
        return CycleReport(now=now)

    started = time.monotonic()
    cycles = serve_cycles(cycle, every=3600, stop=stop, session_stored=lambda: True)

    assert cycles == 1
    assert time.monotonic() - started < 5  # the default sleep is the stop event's wait


def test_sigterm_asks_the_loop_to_stop_and_the_old_handlers_come_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    stop = threading.Event()

    with stop_on_signals(stop):
        os.kill(os.getpid(), signal.SIGTERM)  # as systemd or docker stop would
        assert stop.wait(5)

    assert {sig: signal.getsignal(sig) for sig in before} == before
    assert "Stopping after the current cycle" in log_messages(capsys.readouterr().err)


def test_ctrl_c_stops_the_loop_instead_of_raising_keyboard_interrupt() -> None:
    stop = threading.Event()
    ran: list[Any] = []

    def cycle(now: datetime) -> CycleReport:
        ran.append(now)
        os.kill(os.getpid(), signal.SIGINT)
        return CycleReport(now=now)

    with stop_on_signals(stop):
        cycles = serve_cycles(cycle, every=3600, stop=stop, session_stored=lambda: True)

    assert cycles == 1
    assert len(ran) == 1
