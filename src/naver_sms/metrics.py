"""CloudWatch metrics from a cycle report, as embedded-metric-format (EMF) log lines.

In Lambda, a JSON line on stdout that carries an `_aws` block becomes metrics
in CloudWatch with no API call and no IAM permission: the log line *is* the
metric. `deploy/template.yaml` alarms on these names, so renaming one here
silences an alarm there (a test keeps the two in step).

One cycle writes:

- one line with the service dimension: `CyclesRun`, `CyclesSucceeded`,
  `MessagesSent`, `SendFailures`, `MessagesDelivered`, `MessagesUndelivered`
  (final delivery results that came in this cycle), `InvalidBookings`, `LoginChallenges`,
  `CycleErrors`, `BookingsSeen` (Count) and `CycleDuration` (Milliseconds);
- one line per message with the dimensions service and kind: `MessagesSent`
  and `SendFailures` of that message. The seed's three (confirmation,
  reminder, event) always, zeros included; a message the owner added to the
  catalog (`day_before`, `cancelled`) when the cycle sent or failed one, so
  its graph has points when it was in use and no new metric is made for a
  message that never goes.

Every value is written every cycle, zeros included: a graph then shows a
quiet shop as 0, and the heartbeat alarm can tell "no successful cycle" (no
data) from "a cycle that sent nothing" (0 sent, 1 succeeded).

The namespace and the service dimension come from Powertools' own variables
(`POWERTOOLS_METRICS_NAMESPACE`, `POWERTOOLS_SERVICE_NAME`; the template sets
them) and default to `NaverSms` / `naver-sms`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import IO, Any, Final

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
    AmazonCloudWatchEMFProvider,
)

from naver_sms.domain.catalog import NAME as MESSAGE_NAME
from naver_sms.report import EXIT_CHALLENGE
from naver_sms.utils.logger import get_logger

__all__ = [
    "DEFAULT_NAMESPACE",
    "DEFAULT_SERVICE",
    "KINDS",
    "METRIC_NAMES",
    "cycle_metrics",
    "publish_cycle_metrics",
]

DEFAULT_NAMESPACE: Final = "NaverSms"
DEFAULT_SERVICE: Final = "naver-sms"
KINDS: Final = ("confirmation", "reminder", "event")

# name -> unit, in the order they are written
_CYCLE_METRICS: Final[dict[str, MetricUnit]] = {
    "CyclesRun": MetricUnit.Count,
    "CyclesSucceeded": MetricUnit.Count,
    "MessagesSent": MetricUnit.Count,
    "SendFailures": MetricUnit.Count,
    "MessagesDelivered": MetricUnit.Count,
    "MessagesUndelivered": MetricUnit.Count,
    "InvalidBookings": MetricUnit.Count,
    "LoginChallenges": MetricUnit.Count,
    "CycleErrors": MetricUnit.Count,
    "BookingsSeen": MetricUnit.Count,
    "CycleDuration": MetricUnit.Milliseconds,
}
METRIC_NAMES: Final = frozenset(_CYCLE_METRICS)

log = get_logger(__name__)


def _count(report: Mapping[str, Any], key: str) -> int:
    value = report.get(key)
    if isinstance(value, list | tuple):
        return len(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return 0


def _per_kind(report: Mapping[str, Any], key: str) -> dict[str, int]:
    """How many of each message `report[key]` lists: the seed's three always, others seen."""
    counts = dict.fromkeys(KINDS, 0)
    for entry in report.get(key) or ():
        kind = entry.get("kind") if isinstance(entry, Mapping) else None
        # A message's name as the catalog allows it: nothing else becomes a dimension.
        if isinstance(kind, str) and MESSAGE_NAME.fullmatch(kind):
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def cycle_metrics(report: Mapping[str, Any]) -> dict[str, float]:
    """The service-level values of one report (the `run --json` / Lambda result shape)."""
    exit_code = report.get("exit_code")
    challenge = bool(report.get("login_challenge")) or exit_code == EXIT_CHALLENGE
    failed, errors = _count(report, "failed"), _count(report, "errors")
    if isinstance(exit_code, int) and not isinstance(exit_code, bool):
        succeeded = exit_code == 0
    else:  # a report without exit_code: judge by what it lists
        succeeded = not (failed or errors or challenge)
    duration = report.get("duration_ms")
    return {
        "CyclesRun": 1,
        "CyclesSucceeded": 1 if succeeded else 0,
        "MessagesSent": _count(report, "sent"),
        "SendFailures": failed,
        "MessagesDelivered": _count(report, "delivered"),
        "MessagesUndelivered": _count(report, "undelivered"),
        "InvalidBookings": _count(report, "invalid"),
        "LoginChallenges": 1 if challenge else 0,
        "CycleErrors": errors,
        "BookingsSeen": _count(report, "bookings"),
        "CycleDuration": float(duration) if isinstance(duration, int | float) else 0.0,
    }


def _blob(
    namespace: str | None,
    service: str | None,
    values: Mapping[str, float],
    dimensions: Mapping[str, str],
) -> dict[str, Any]:
    # A fresh provider per line: Powertools' `Metrics` class keeps one metric
    # set per process, which would leak values between cycles in `serve` or a
    # warm Lambda. The provider resolves the Powertools variables when the
    # arguments are None; the defaults apply only when those are unset too.
    provider = AmazonCloudWatchEMFProvider(namespace=namespace, service=service)
    provider.namespace = provider.namespace or DEFAULT_NAMESPACE
    provider.service = provider.service or DEFAULT_SERVICE
    for dimension, label in dimensions.items():
        provider.add_dimension(name=dimension, value=label)
    for name, value in values.items():
        provider.add_metric(name=name, unit=_CYCLE_METRICS[name], value=value)
    return dict(provider.serialize_metric_set())  # validates against the EMF schema


def publish_cycle_metrics(
    report: Mapping[str, Any],
    *,
    namespace: str | None = None,
    service: str | None = None,
    stream: IO[str] | None = None,
) -> None:
    """Write the report's metrics as EMF lines to `stream` (default: the current stdout).

    Never raises: a metric that cannot be written is one WARNING log line, and
    the cycle's own result (and Lambda's Errors metric) stays what it was.
    `POWERTOOLS_METRICS_DISABLED=true` turns the lines off.
    """
    if is_metrics_disabled():
        return
    try:
        sent, failed = _per_kind(report, "sent"), _per_kind(report, "failed")
        kinds = [*KINDS, *sorted((sent.keys() | failed.keys()) - set(KINDS))]
        lines = [_blob(namespace, service, cycle_metrics(report), {})]
        lines += [
            _blob(
                namespace,
                service,
                {"MessagesSent": sent.get(kind, 0), "SendFailures": failed.get(kind, 0)},
                {"kind": kind},
            )
            for kind in kinds
        ]
        out = stream if stream is not None else sys.stdout
        # One JSON object per line, nothing else on it: that is what CloudWatch
        # Logs recognises as EMF (the app's own JSON logs go to stderr).
        out.write("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines))
        out.flush()
    except Exception as exc:  # metrics must never turn a cycle's outcome into another
        log.warning(
            "Cycle metrics not published",
            operation="publish_cycle_metrics",
            error=f"{type(exc).__name__}: {exc}",
        )
