"""The Lambda handler with JSON events, against the sandbox shop."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from naver_sms.entrypoints.lambda_handler import CycleFailed, handler
from tests.e2e.conftest import Shop, at


@pytest.fixture
def lambda_env(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> Shop:
    for name, value in shop.env.items():
        monkeypatch.setenv(name, value)
    return shop


def test_the_handler_runs_one_cycle_at_the_events_now_and_returns_the_report(
    lambda_env: Shop,
) -> None:
    lambda_env.naver.now = at(9)
    report = handler(json.loads('{"now": "2026-11-25T09:00:00+09:00", "dry_run": false}'), None)
    assert report["now"] == "2026-11-25T09:00:00+09:00"
    assert len(report["sent"]) == 10
    assert len(lambda_env.sens.accepted) == 10
    assert json.loads(json.dumps(report)) == report  # the runtime serialises it
    assert handler({"now": "2026-11-25T09:00:00+09:00"}, None)["sent"] == []


class LambdaContext:
    """The part of Lambda's context object the handler reads: the time left."""

    def __init__(self, milliseconds: int) -> None:
        self.milliseconds = milliseconds

    def get_remaining_time_in_millis(self) -> int:
        return self.milliseconds


def test_with_its_timeout_near_the_handler_sends_nothing_and_leaves_all_for_the_next(
    lambda_env: Shop,
) -> None:
    lambda_env.naver.now = at(9)
    event = {"now": "2026-11-25T09:00:00+09:00"}
    late = handler(event, LambdaContext(30_000))
    assert late["sent"] == []
    assert lambda_env.sens.accepted == []
    # The 8 confirmations are held (each reminder waits behind its confirmation).
    assert len(late["held"]) == 8
    assert all("time limit" in item["why"] for item in late["held"])
    assert late["exit_code"] == 0  # nothing failed: the next run sends them
    # The next invocation, with its full time, sends each of them once.
    assert len(handler(event, LambdaContext(300_000))["sent"]) == 10
    assert len(lambda_env.sens.accepted) == 10


def test_a_dry_run_event_uses_the_outbox(lambda_env: Shop) -> None:
    lambda_env.naver.now = at(9)
    report = handler({"now": "2026-11-25T00:00:00Z", "dry_run": True}, None)
    assert report["now"] == "2026-11-25T09:00:00+09:00"
    assert len(report["sent"]) == 10
    assert lambda_env.sens.accepted == []


def test_a_failed_cycle_raises_so_lambda_counts_an_error(lambda_env: Shop) -> None:
    lambda_env.naver.now = at(9)
    lambda_env.sens.fail_next(1, status=429)
    with pytest.raises(CycleFailed, match="confirmation") as raised:
        handler({"now": "2026-11-25T09:00:00+09:00"}, None)
    assert "01000000001" not in str(raised.value)
    assert len(raised.value.report.failed) == 8


def test_a_scheduled_event_runs_at_the_real_time(lambda_env: Shop) -> None:
    event = {
        "version": "0",
        "source": "aws.events",
        "detail-type": "Scheduled Event",
        "time": "2026-11-25T00:00:00Z",
        "detail": {},
    }
    report = handler({**event, "dry_run": True}, None)
    ran_at = datetime.fromisoformat(report["now"])
    assert abs((datetime.now(UTC) - ran_at).total_seconds()) < 120
    assert report["stores"] == 2


def test_a_malformed_event_field_is_a_config_error(lambda_env: Shop) -> None:
    from naver_sms.config import ConfigError  # noqa: PLC0415

    with pytest.raises(ConfigError, match="dry_run"):
        handler({"now": "2026-11-25T09:00:00+09:00", "dry_run": "yes"}, None)
    with pytest.raises(ConfigError, match="now"):
        handler({"now": "today"}, None)


def test_without_sens_keys_a_real_cycle_refuses_to_run_and_records_nothing(
    lambda_env: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    from naver_sms.config import ConfigError  # noqa: PLC0415

    for name in ("SENS_ACCESS_KEY", "SENS_SECRET_KEY", "SENS_SERVICE_ID"):
        monkeypatch.delenv(name)
    lambda_env.naver.now = at(9)

    with pytest.raises(ConfigError, match="no SENS keys"):
        handler({"now": "2026-11-25T09:00:00+09:00"}, None)

    assert handler({"now": "2026-11-25T09:00:00+09:00", "dry_run": True}, None)["sent"]
    assert lambda_env.naver.requests["list"] > 0


def test_the_sens_keys_come_from_the_secrets_manager_secret(
    lambda_env: Shop, monkeypatch: pytest.MonkeyPatch, moto_server_url: str
) -> None:
    import boto3  # noqa: PLC0415

    keys = ("SENS_ACCESS_KEY", "SENS_SECRET_KEY", "SENS_SERVICE_ID")
    secret = {name: lambda_env.env[name] for name in keys}
    client = boto3.client("secretsmanager", endpoint_url=moto_server_url)
    client.create_secret(Name="naver-sms/test-secrets", SecretString=json.dumps(secret))
    for name in secret:
        monkeypatch.delenv(name)
    monkeypatch.setenv("NAVER_SMS_SECRET_ID", "naver-sms/test-secrets")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server_url)
    lambda_env.naver.now = at(9)

    report = handler({"now": "2026-11-25T09:00:00+09:00"}, None)

    assert len(report["sent"]) == 10
    assert len(lambda_env.sens.accepted) == 10


def test_an_event_now_without_dry_run_is_refused_against_the_real_sens(
    lambda_env: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    from naver_sms.config import ConfigError  # noqa: PLC0415

    # Never resolvable: a bug here fails instead of texting.
    monkeypatch.setenv("SENS_URL", "https://sens.example.invalid")
    lambda_env.naver.now = at(20, 10)

    with pytest.raises(ConfigError, match=r'now: honoured only with "dry_run": true'):
        handler({"now": "2026-11-25T23:30:00+09:00"}, None)
    assert lambda_env.naver.requests["list"] == 0

    rehearsed = handler({"now": "2026-11-25T20:10:00+09:00", "dry_run": True}, None)
    assert rehearsed["dry_run"] is True
    assert rehearsed["sent"]


def test_the_report_says_first_whether_it_was_a_dry_run(lambda_env: Shop) -> None:
    lambda_env.naver.now = at(9)

    report = handler({"now": "2026-11-25T09:00:00+09:00", "dry_run": True}, None)

    assert next(iter(report)) == "dry_run"
    assert report["dry_run"] is True


@pytest.mark.parametrize("now", ["9999-12-31T23:00", "0001-01-01T00:00"])
def test_an_event_now_out_of_range_is_a_config_error_not_an_overflow(
    lambda_env: Shop, now: str
) -> None:
    from naver_sms.config import ConfigError  # noqa: PLC0415

    with pytest.raises(ConfigError, match="event field now: expected a moment in the years"):
        handler({"now": now, "dry_run": True}, None)
