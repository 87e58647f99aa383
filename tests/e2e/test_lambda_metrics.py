"""The Lambda handler writes the cycle's CloudWatch metric lines, failed cycles included."""

from __future__ import annotations

import json
from typing import Any

import pytest

from naver_sms.entrypoints.lambda_handler import CycleFailed, handler
from tests.e2e.conftest import Shop, at

NOW = "2026-11-25T09:00:00+09:00"


@pytest.fixture
def lambda_env(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> Shop:
    for name, value in shop.env.items():
        monkeypatch.setenv(name, value)
    for name in ("POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_DEV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "NaverSms")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "naver-sms-e2e")
    return shop


def _metric_lines(stdout: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" in line]


def _service_values(stdout: str) -> dict[str, float]:
    (line,) = [m for m in _metric_lines(stdout) if "kind" not in m]
    assert line["service"] == "naver-sms-e2e"
    names = [m["Name"] for m in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    return {name: line[name][0] for name in names}


def test_a_cycle_writes_its_metrics_to_stdout(
    lambda_env: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    lambda_env.naver.now = at(9)
    report = handler({"now": NOW}, None)
    stdout = capsys.readouterr().out
    values = _service_values(stdout)
    assert values["CyclesSucceeded"] == 1
    assert values["MessagesSent"] == len(report["sent"]) == 10
    assert values["SendFailures"] == 0
    by_kind = {m["kind"]: m["MessagesSent"][0] for m in _metric_lines(stdout) if "kind" in m}
    assert sum(by_kind.values()) == 10


def test_a_failed_cycle_is_counted_before_the_handler_raises(
    lambda_env: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    lambda_env.naver.now = at(9)
    lambda_env.sens.fail_next(1, status=429)
    with pytest.raises(CycleFailed) as raised:
        handler({"now": NOW}, None)
    values = _service_values(capsys.readouterr().out)
    assert values["CyclesSucceeded"] == 0
    assert values["SendFailures"] == len(raised.value.report.failed) > 0


def test_a_cycle_that_raises_is_still_counted_as_a_failed_cycle(
    lambda_env: Shop,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    moto_server_url: str,
) -> None:
    # Tables that do not exist (or may not be read): the store raises out of the cycle.
    monkeypatch.setenv("NAVER_SMS_STORE", "dynamodb")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server_url)
    monkeypatch.setenv("NAVER_SMS_BOOKINGS_TABLE", "sms_never_created")
    monkeypatch.setenv("NAVER_SMS_SESSION_TABLE", "session_never_created")
    lambda_env.naver.now = at(9)

    with pytest.raises(Exception, match="does not exist") as raised:
        handler({"now": NOW}, None)

    assert not isinstance(raised.value, CycleFailed)
    values = _service_values(capsys.readouterr().out)
    assert values["CyclesRun"] == 1
    assert values["CyclesSucceeded"] == 0
    assert values["CycleErrors"] == 1


def test_a_refused_event_is_counted_as_a_failed_cycle(
    lambda_env: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    from naver_sms.config import ConfigError  # noqa: PLC0415

    with pytest.raises(ConfigError):
        handler({"now": NOW, "dry_run": "yes"}, None)

    values = _service_values(capsys.readouterr().out)
    assert (values["CyclesRun"], values["CyclesSucceeded"]) == (1, 0)
