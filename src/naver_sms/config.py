"""Settings from the environment (`design/interfaces.md`): the only reader of os.environ.

The YAML config (stores, rules, templates) joins this module with the cycle.
Secrets are `SecretStr`, so printing or logging a Settings never shows them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError


class ConfigError(Exception):
    """A configuration mistake: one line naming what is wrong. The CLI exits 2."""


# variable name -> Settings field
_ENV: dict[str, str] = {
    "NAVER_SMS_CONFIG": "config_path",
    "NAVER_SMS_STORE": "store",
    "NAVER_SMS_DB": "db_path",
    "NAVER_SMS_BOOKINGS_TABLE": "bookings_table",
    "NAVER_SMS_SESSION_TABLE": "session_table",
    "AWS_ENDPOINT_URL": "aws_endpoint_url",
    "AWS_DEFAULT_REGION": "aws_region",
    "NAVER_USERNAME": "naver_username",
    "NAVER_PASSWORD": "naver_password",
    "NAVER_BOOKING_URL": "naver_booking_url",
    "NAVER_LOGIN_URL": "naver_login_url",
    "CHROME_BIN": "chrome_bin",
    "CHROMEDRIVER_BIN": "chromedriver_bin",
    "SENS_ACCESS_KEY": "sens_access_key",
    "SENS_SECRET_KEY": "sens_secret_key",
    "SENS_SERVICE_ID": "sens_service_id",
    "SENS_URL": "sens_url",
    "NAVER_SMS_OUTBOX": "outbox_path",
    "TELEGRAM_BOT_TOKEN": "telegram_bot_token",
    "TELEGRAM_CHAT_ID": "telegram_chat_id",
    "TELEGRAM_API_URL": "telegram_api_url",
    "NAVER_SMS_SECRET_ID": "secret_id",
    "NAVER_SMS_LOG_LEVEL": "log_level",
}


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    config_path: Path = Path("naver-sms.yaml")
    store: Literal["sqlite", "dynamodb"] = "sqlite"
    db_path: Path = Path("naver-sms.db")
    bookings_table: str = "sms"
    session_table: str = "session"
    aws_endpoint_url: str | None = None
    aws_region: str = "ap-northeast-2"
    naver_username: str | None = None
    naver_password: SecretStr | None = None
    naver_booking_url: str = "https://partner.booking.naver.com"
    naver_login_url: str = (
        "https://nid.naver.com/nidlogin.login?mode=form&url=https://www.naver.com/"
    )
    chrome_bin: str | None = None
    chromedriver_bin: str | None = None
    sens_access_key: SecretStr | None = None
    sens_secret_key: SecretStr | None = None
    sens_service_id: str | None = None
    sens_url: str = "https://sens.apigw.ntruss.com"
    outbox_path: Path = Path("outbox.jsonl")
    telegram_bot_token: SecretStr | None = None
    telegram_chat_id: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    secret_id: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from `environ` (default: the process environment). Empty values count as unset."""
    env = os.environ if environ is None else environ
    values = {field: env[name] for name, field in _ENV.items() if env.get(name, "").strip()}
    if "log_level" in values:
        values["log_level"] = values["log_level"].upper()
    try:
        return Settings(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0])
        variable = next(name for name, f in _ENV.items() if f == field)
        raise ConfigError(f"environment variable {variable}: {error['msg']}") from None
