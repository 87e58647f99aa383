"""Settings from the environment of interfaces.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from naver_sms.config import ConfigError, load_settings


def test_defaults_are_the_embedded_sqlite_store_and_the_seed_table_names() -> None:
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
