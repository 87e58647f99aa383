"""Cycle metrics as CloudWatch embedded-metric-format lines, parsed back as CloudWatch would."""

from __future__ import annotations

import io
import json
import time
from datetime import datetime
from typing import Any

import pytest

from naver_sms.domain.booking import KST
from naver_sms.metrics import METRIC_NAMES, cycle_metrics, publish_cycle_metrics
from naver_sms.report import CycleReport, Sent

NOW = datetime(2026, 11, 25, 13, 5, tzinfo=KST)


@pytest.fixture(autouse=True)
def _no_powertools_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_DISABLED",
        "POWERTOOLS_DEV",
    ):
        monkeypatch.delenv(name, raising=False)


def _sent(kind: str, n: int) -> dict[str, str]:
    return {
        "booking_num": f"5000001_11000000{n:02d}",
        "phone_masked": "010-****-1111",
        "kind": kind,
        "request_id": f"req-{n}",
    }


def _report(**changes: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "now": "2026-11-25T13:05:00+09:00",
        "stores": 2,
        "bookings": 37,
        "sent": [_sent("confirmation", 1), _sent("confirmation", 2), _sent("reminder", 3)],
        "failed": [{"booking_num": "5000001_1100000009", "kind": "event", "error": "HTTP 500"}],
        "invalid": [{"booking_num": "5000001_1100000010", "reason": "no phone"}],
        "delivered": [_sent("confirmation", 4), _sent("reminder", 5)],
        "undelivered": [_sent("confirmation", 6)],
        "duration_ms": 812,
        "errors": [],
        "exit_code": 1,
    }
    report.update(changes)
    return report


def _emf_lines(report: dict[str, Any], **kwargs: Any) -> list[dict[str, Any]]:
    out = io.StringIO()
    publish_cycle_metrics(report, stream=out, **kwargs)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def _values(line: dict[str, Any]) -> dict[str, float]:
    """The metric values of one EMF line, the way CloudWatch reads them."""
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    values = {}
    for metric in directive["Metrics"]:
        value = line[metric["Name"]]
        values[metric["Name"]] = value[0] if isinstance(value, list) else value
    return values


def _dimensions(line: dict[str, Any]) -> dict[str, str]:
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    (names,) = directive["Dimensions"]
    return {name: line[name] for name in names}


def test_a_cycle_becomes_one_service_line_and_one_line_per_kind() -> None:
    lines = _emf_lines(_report())
    assert len(lines) == 4
    service, *kinds = lines
    assert _dimensions(service) == {"service": "naver-sms"}
    assert service["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "NaverSms"
    assert _values(service) == {
        "CyclesRun": 1,
        "CyclesSucceeded": 0,
        "MessagesSent": 3,
        "SendFailures": 1,
        "MessagesDelivered": 2,
        "MessagesUndelivered": 1,
        "InvalidBookings": 1,
        "LoginChallenges": 0,
        "CycleErrors": 0,
        "BookingsSeen": 37,
        "CycleDuration": 812,
    }
    by_kind = {_dimensions(line)["kind"]: _values(line) for line in kinds}
    assert by_kind == {
        "confirmation": {"MessagesSent": 2, "SendFailures": 0},
        "reminder": {"MessagesSent": 1, "SendFailures": 0},
        "event": {"MessagesSent": 0, "SendFailures": 1},
    }
    assert all(_dimensions(line)["service"] == "naver-sms" for line in kinds)


def test_units_are_counts_and_the_duration_is_in_milliseconds() -> None:
    (service, *_kinds) = _emf_lines(_report())
    units = {m["Name"]: m["Unit"] for m in service["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units.pop("CycleDuration") == "Milliseconds"
    assert set(units.values()) == {"Count"}
    assert set(units) | {"CycleDuration"} == METRIC_NAMES


def test_each_line_is_stamped_with_the_time_it_was_written_in_epoch_milliseconds() -> None:
    before = int(time.time() * 1000)
    lines = _emf_lines(_report())
    after = int(time.time() * 1000)
    assert all(before <= line["_aws"]["Timestamp"] <= after for line in lines)


def test_a_clean_cycle_counts_as_succeeded_and_writes_its_zeros() -> None:
    (service, *_kinds) = _emf_lines(_report(sent=[], failed=[], invalid=[], exit_code=0))
    values = _values(service)
    assert values["CyclesSucceeded"] == 1
    assert values["MessagesSent"] == 0
    assert values["SendFailures"] == 0
    assert values["LoginChallenges"] == 0


def test_a_login_challenge_is_counted_and_the_cycle_did_not_succeed() -> None:
    report = _report(
        sent=[],
        failed=[],
        bookings=0,
        errors=[{"store": "", "error": "Naver login challenge (captcha): ..."}],
        exit_code=3,
    )
    values = cycle_metrics(report)
    assert values["LoginChallenges"] == 1
    assert values["CyclesSucceeded"] == 0
    assert values["CycleErrors"] == 1


def test_the_real_cycle_report_dict_is_understood() -> None:
    report = CycleReport(now=NOW, stores=1, bookings=2, duration_ms=5)
    report.sent.append(
        Sent("5000001_1100000001", "010-****-1111", "event", why="", request_id="req-1")
    )
    assert cycle_metrics(report.to_dict())["CyclesSucceeded"] == 1
    report.login_challenge = True
    values = cycle_metrics(report.to_dict())
    assert (values["LoginChallenges"], values["CyclesSucceeded"]) == (1, 0)


def test_a_report_without_an_exit_code_is_judged_by_its_failures() -> None:
    report = _report()
    del report["exit_code"]
    assert cycle_metrics(report)["CyclesSucceeded"] == 0
    assert cycle_metrics({**report, "failed": []})["CyclesSucceeded"] == 1
    assert cycle_metrics({**report, "failed": [], "login_challenge": True})["LoginChallenges"] == 1


def test_the_powertools_variables_name_the_namespace_and_the_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Shop")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "naver-sms-prod")
    lines = _emf_lines(_report())
    assert {line["_aws"]["CloudWatchMetrics"][0]["Namespace"] for line in lines} == {"Shop"}
    assert {line["service"] for line in lines} == {"naver-sms-prod"}
    explicit = _emf_lines(_report(), namespace="Other", service="svc")
    assert explicit[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Other"
    assert explicit[0]["service"] == "svc"


def test_metrics_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    assert _emf_lines(_report()) == []


def test_the_lines_go_to_the_current_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    publish_cycle_metrics(_report())
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert len(lines) == 4
    assert all("_aws" in line for line in lines)
    assert captured.err == ""


def test_a_metrics_failure_is_a_warning_and_never_an_exception(
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Broken(io.StringIO):
        def write(self, _text: str) -> int:
            raise OSError("stdout closed")

    publish_cycle_metrics(_report(), stream=Broken())
    (line,) = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert line["level"] == "WARNING"
    assert line["operation"] == "publish_cycle_metrics"
    assert "stdout closed" in line["error"]


def test_odd_report_values_count_as_zero_rather_than_failing() -> None:
    values = cycle_metrics({"sent": None, "failed": "x", "duration_ms": "slow", "bookings": True})
    assert values["MessagesSent"] == 0
    assert values["SendFailures"] == 0
    assert values["BookingsSeen"] == 0
    assert values["CycleDuration"] == 0
    odd = [{"kind": 7}, {"kind": "Day Before!"}, {"kind": "x" * 100}, "not a mapping"]
    lines = _emf_lines({"sent": odd})
    assert _values(lines[0])["MessagesSent"] == 4
    # None of them is a message's name: no line of its own, nothing counted per message.
    assert [_dimensions(line)["kind"] for line in lines[1:]] == [
        "confirmation",
        "reminder",
        "event",
    ]
    assert sum(_values(line)["MessagesSent"] for line in lines[1:]) == 0


def test_a_message_the_owner_added_gets_its_own_line_when_it_went() -> None:
    report = _report(
        sent=[_sent("confirmation", 1), _sent("day_before", 2), _sent("day_before", 3)],
        failed=[{"booking_num": "5000001_1100000009", "kind": "cancelled", "error": "HTTP 500"}],
    )

    lines = _emf_lines(report)

    by_kind = {_dimensions(line)["kind"]: _values(line) for line in lines[1:]}
    assert by_kind == {
        "confirmation": {"MessagesSent": 1, "SendFailures": 0},
        "reminder": {"MessagesSent": 0, "SendFailures": 0},
        "event": {"MessagesSent": 0, "SendFailures": 0},
        "cancelled": {"MessagesSent": 0, "SendFailures": 1},
        "day_before": {"MessagesSent": 2, "SendFailures": 0},
    }
    # The service line still counts every message, the owner's included.
    assert _values(lines[0])["MessagesSent"] == 3
