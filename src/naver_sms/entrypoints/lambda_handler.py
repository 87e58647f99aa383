"""AWS Lambda entry point: `naver_sms.entrypoints.lambda_handler.handler`.

One cycle per invocation. The event is an EventBridge scheduled event (the
cycle runs at the real time) or `{"now": ISO8601, "dry_run": true}` for
replays and tests (`"adopt": true` is accepted too). A `now` is honoured only
in a dry run: an event that may move the clock could otherwise text a
reminder hours early or advertise at night. The report is returned;
a failed cycle raises `CycleFailed` so Lambda's Errors metric, alarms and
retries see it (a retry is safe: every message is claimed before it is sent).
Whatever happens, the cycle's CloudWatch metrics are written (`metrics.py`),
also when the cycle itself raised (a denied table, a refused configuration).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from naver_sms import bootstrap
from naver_sms.config import ConfigError, is_loopback_url, now_from
from naver_sms.cycle import run_cycle
from naver_sms.metrics import publish_cycle_metrics
from naver_sms.report import CycleReport
from naver_sms.utils.logger import configure_logging
from naver_sms.utils.scrub import scrub


class CycleFailed(RuntimeError):
    """The cycle ran but something failed; the message says what (no phone, no secret)."""

    def __init__(self, report: CycleReport) -> None:
        self.report = report
        data = report.to_dict()
        problems = [f"{e.get('store') or 'session'}: {e['error']}" for e in data["errors"]]
        problems += [f"{f['booking_num']} {f['kind']}: {f['error']}" for f in data["failed"]]
        shown = "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else "")
        super().__init__(scrub(f"cycle at {data['now']} failed (exit {report.exit_code}): {shown}"))


def _flag(event: Mapping[str, Any], name: str) -> bool:
    value = event.get(name, False)
    if not isinstance(value, bool):
        raise ConfigError(f"event field {name}: expected true or false, got {value!r}")
    return value


def handler(event: Mapping[str, Any] | None, context: Any = None) -> dict[str, Any]:
    """Run one cycle; return its report (the `run --json` shape); raise when it failed."""
    started = time.perf_counter()
    result: dict[str, Any] = {}
    try:
        report, dry_run = _run(event if isinstance(event, Mapping) else {}, _deadline(context))
        # First, so nobody reads a rehearsal's "sent" as texts that left.
        result = {"dry_run": dry_run, **report.to_dict()}
    except Exception as exc:
        # No report: the cycle did not finish. Still one failed cycle for the alarms.
        result = {
            "exit_code": 1,
            "errors": [{"store": "", "error": scrub(f"{type(exc).__name__}: {exc}")}],
            "duration_ms": round((time.perf_counter() - started) * 1000),
        }
        raise
    finally:
        # Before anything reaches Lambda: the alarms must see failed cycles too.
        publish_cycle_metrics(result)
    if report.exit_code:
        raise CycleFailed(report)
    return result


def _deadline(context: Any) -> datetime | None:
    """When Lambda stops this invocation (its timeout), on the real clock; None outside Lambda."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return None
    try:
        milliseconds = float(remaining())
    except (TypeError, ValueError):
        return None
    return datetime.now(UTC) + timedelta(milliseconds=milliseconds)


def _run(event: Mapping[str, Any], deadline: datetime | None = None) -> tuple[CycleReport, bool]:
    """The cycle's report and whether it was a dry run; ConfigError for a refused event."""
    # A scheduled event carries its own "time": the cycle still uses the real
    # clock, so a delayed retry decides with the time it actually runs at.
    now = now_from(event.get("now"), "event field now")
    settings = bootstrap.load_settings()
    configure_logging(settings.log_level)
    dry_run = _flag(event, "dry_run")
    adopt = _flag(event, "adopt")
    # Any `now`, not only a far one: whoever may invoke the function must not
    # choose the hour texts go out at. A loopback SENS (tests) reaches no phone.
    if "now" in event and not dry_run and not is_loopback_url(settings.sens_url):
        raise ConfigError(
            'event field now: honoured only with "dry_run": true (a moved clock would text '
            "customers at the wrong hour); leave now out to run at the real time"
        )
    if not dry_run and not bootstrap.has_sens_keys(settings):
        # On a laptop no keys means the outbox; in a Lambda an outbox in /tmp
        # would take every message out of reach while the schedule runs on.
        raise ConfigError(
            "no SENS keys: fill SENS_ACCESS_KEY, SENS_SECRET_KEY and SENS_SERVICE_ID in the "
            "NAVER_SMS_SECRET_ID secret (or the environment); a Lambda never texts into an "
            'outbox file (send {"dry_run": true} to rehearse)'
        )
    with bootstrap.cycle_ports(settings, dry_run=dry_run) as ports:
        return run_cycle(ports=ports, now=now, adopt=adopt, deadline=deadline), dry_run
