"""`naver-sms serve`'s loop: cycles one at a time until asked to stop.

Kept apart from the click command so it is driven directly, with its clock,
its sleep and its stop event passed in: tests inject them instead of
patching module attributes.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import FrameType

from naver_sms.naver.errors import HEADED_LOGIN_HINT
from naver_sms.report import CycleReport
from naver_sms.utils.clock import now_kst
from naver_sms.utils.logger import get_logger
from naver_sms.utils.scrub import scrub

log = get_logger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def serve_cycles(
    cycle: Callable[[datetime], CycleReport],
    *,
    every: float,
    stop: threading.Event,
    session_stored: Callable[[], bool],
    on_challenge: Callable[[CycleReport], object] = lambda _report: None,
    clock: Callable[[], datetime] = now_kst,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] | None = None,
) -> int:
    """Run `cycle(now)` every `every` seconds (start to start) until `stop` is set; the count.

    A cycle that raises is logged and the next one tries again: one bad cycle
    must not end the service. After a cycle ends on a login challenge no cycle
    runs until `session_stored()` says a person stored cookies again, so no
    browser retries the login every few minutes; `on_challenge` gets that
    cycle's report. `sleep` defaults to waiting on `stop`, which a signal
    handler sets, so a stop never waits out the interval.
    """
    wait = stop.wait if sleep is None else sleep
    cycles = 0
    waiting_for_login = False
    while not stop.is_set():
        started = monotonic()
        try:
            if waiting_for_login and not session_stored():
                log.info(
                    "Waiting for a person to log in", operation="serve", hint=HEADED_LOGIN_HINT
                )
            else:
                report = cycle(clock())
                cycles += 1
                waiting_for_login = report.login_challenge
                if waiting_for_login:
                    on_challenge(report)
                elif report.exit_code:
                    # "Cycle finished" is INFO, below what a terminal or an alert
                    # rule shows: a cycle that failed a store or a send says so louder.
                    log.warning(
                        "Cycle failed; the next one tries again",
                        operation="serve",
                        error=scrub(_first_problem(report)),
                        failed=len(report.failed),
                        errors=len(report.errors),
                    )
        except Exception as exc:  # one bad cycle must not end the service
            log.error(
                "Cycle failed; the next one tries again",
                operation="serve",
                error=scrub(f"{type(exc).__name__}: {exc}"),
            )
        wait(max(0.0, every - (monotonic() - started)))
    log.info("Stopped", operation="serve", cycles=cycles)
    return cycles


def _first_problem(report: CycleReport) -> str:
    if report.errors:
        error = report.errors[0]
        return f"store {error.shop}: {error.error}" if error.shop else error.error
    if report.failed:
        first = report.failed[0]
        return f"{len(report.failed)} messages failed (first: {first.kind}: {first.error})"
    return f"{len(report.unclear)} messages: SENS's answer was lost"


def describe_interval(seconds: float) -> str:
    """`5m`, `1h`, `90s`, `0.1s`: the interval as an owner wrote it."""
    for unit, size in (("h", 3600.0), ("m", 60.0)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def serving_line(
    *, where: str, stores: list[str], every: float, dry_run: bool, sens_host: str, outbox: str
) -> str:
    """The one line `serve` says at start: what it runs against, so a wrong .env shows at once."""
    sending = f"dry run, messages go to {outbox}" if dry_run else f"sending through {sens_host}"
    return (
        f"serving {len(stores)} stores ({', '.join(stores)}) every {describe_interval(every)} "
        f"on {where}; {sending}"
    )


@contextmanager
def stop_on_signals(
    stop: threading.Event, signals: tuple[signal.Signals, ...] = STOP_SIGNALS
) -> Iterator[threading.Event]:
    """SIGTERM (systemd, docker stop) and Ctrl-C set `stop`; the old handlers come back after.

    The cycle under way is finished rather than cut off between a claim and
    its mark. Only the main thread may install signal handlers.
    """

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("Stopping after the current cycle", operation="serve", signal=signum)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in signals}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
