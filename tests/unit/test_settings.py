"""Settings from the environment of docs/interfaces.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from naver_sms import bootstrap
from naver_sms.config import ConfigError, load_settings


def test_defaults_are_embedded_sqlite_and_the_seed_table_names() -> None:
    settings = load_settings({})

    assert settings.store == "sqlite"
    assert settings.db_path == Path("naver-sms.db")
    assert (settings.bookings_table, settings.session_table) == ("sms", "session")
    assert settings.aws_region == "ap-northeast-2"


def test_variables_override_defaults_and_empty_ones_count_as_unset() -> None:
    settings = load_settings(
        {
            "NAVER_SMS_STORE": "dynamodb",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:8000",
            "NAVER_SMS_DB": "",
        }
    )

    assert settings.store == "dynamodb"
    assert settings.aws_endpoint_url == "http://127.0.0.1:8000"
    assert settings.db_path == Path("naver-sms.db")


def test_an_unknown_store_is_one_line_naming_the_variable() -> None:
    with pytest.raises(
        ConfigError, match=r"^environment variable NAVER_SMS_STORE: .*'sqlite' or 'dynamodb'"
    ):
        load_settings({"NAVER_SMS_STORE": "postgres"})


def test_secrets_never_show_when_settings_are_printed() -> None:
    settings = load_settings({"NAVER_PASSWORD": "hunter2-canary", "SENS_SECRET_KEY": "sens-canary"})

    assert "canary" not in repr(settings)
    assert "canary" not in str(settings.model_dump())
    assert settings.naver_password is not None
    assert settings.naver_password.get_secret_value() == "hunter2-canary"


def secret_reader(text: str, calls: list[str] | None = None) -> Any:
    def read(secret_id: str, region: str, endpoint_url: str | None) -> str:
        if calls is not None:
            calls.append(secret_id)
        return text

    return read


def test_secret_variables_come_from_the_named_secret_when_the_environment_lacks_them() -> None:
    secret = json.dumps(
        {"SENS_ACCESS_KEY": "ak", "SENS_SECRET_KEY": "sk-canary", "NAVER_PASSWORD": "pw"}
    )

    settings = load_settings(
        {"NAVER_SMS_SECRET_ID": "naver-sms/secrets", "NAVER_PASSWORD": "from-env"},
        read_secret=secret_reader(secret),
    )

    assert settings.sens_access_key is not None
    assert settings.sens_access_key.get_secret_value() == "ak"
    assert settings.naver_password is not None
    assert settings.naver_password.get_secret_value() == "from-env"  # the environment wins
    assert "sk-canary" not in repr(settings)


def test_without_a_secret_id_no_secret_is_read() -> None:
    calls: list[str] = []

    load_settings({}, read_secret=secret_reader("{}", calls))

    assert calls == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "invalid JSON"),
        ('["SENS_ACCESS_KEY"]', "a JSON object"),
        ('{"AWS_SECRET_ACCESS_KEY": "canary-value"}', "unknown key 'AWS_SECRET_ACCESS_KEY'"),
        ('{"SENS_SECRET_KEY": 12345}', "SENS_SECRET_KEY must be a string"),
    ],
)
def test_a_malformed_secret_is_one_line_that_never_shows_a_value(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        load_settings({"NAVER_SMS_SECRET_ID": "naver-sms/secrets"}, read_secret=secret_reader(text))

    assert "canary-value" not in str(raised.value)
    assert "12345" not in str(raised.value)
    assert "naver-sms/secrets" in str(raised.value)


def test_a_missing_secret_is_a_config_error_naming_it() -> None:
    from moto import mock_aws  # noqa: PLC0415

    with mock_aws(), pytest.raises(ConfigError, match=r"'nope'.*not found, or it has no value"):
        bootstrap.load_settings({"NAVER_SMS_SECRET_ID": "nope"})


def test_a_secret_created_empty_says_how_to_fill_it() -> None:
    """The template creates the secret with no value, so no update can overwrite it."""
    import boto3  # noqa: PLC0415
    from moto import mock_aws  # noqa: PLC0415

    with mock_aws():
        boto3.client("secretsmanager", region_name="ap-northeast-2").create_secret(Name="empty")
        with pytest.raises(ConfigError, match="put-secret-value"):
            bootstrap.load_settings({"NAVER_SMS_SECRET_ID": "empty"})


def test_the_secret_is_read_once_per_process() -> None:
    import boto3  # noqa: PLC0415
    from moto import mock_aws  # noqa: PLC0415

    with mock_aws():
        client = boto3.client("secretsmanager", region_name="ap-northeast-2")
        client.create_secret(Name="once", SecretString='{"SENS_SERVICE_ID": "svc-1"}')
        first = bootstrap.load_settings({"NAVER_SMS_SECRET_ID": "once"})
        client.put_secret_value(SecretId="once", SecretString='{"SENS_SERVICE_ID": "svc-2"}')
        second = bootstrap.load_settings({"NAVER_SMS_SECRET_ID": "once"})

    assert first.sens_service_id == second.sens_service_id == "svc-1"


def test_a_secret_id_without_a_reader_is_a_bug_not_a_run_without_its_keys() -> None:
    with pytest.raises(TypeError, match="read_secret"):
        load_settings({"NAVER_SMS_SECRET_ID": "naver-sms/secrets"})


def test_the_environment_wins_over_the_secret_read_from_aws() -> None:
    import boto3  # noqa: PLC0415
    from moto import mock_aws  # noqa: PLC0415

    with mock_aws():
        boto3.client("secretsmanager", region_name="ap-northeast-2").create_secret(
            Name="wins", SecretString='{"SENS_SERVICE_ID": "from-secret", "NAVER_USERNAME": "u"}'
        )
        settings = bootstrap.load_settings(
            {"NAVER_SMS_SECRET_ID": "wins", "SENS_SERVICE_ID": "from-env"}
        )

    assert settings.sens_service_id == "from-env"
    assert settings.naver_username == "u"
