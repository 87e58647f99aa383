"""Settings from the environment (`docs/interfaces.md`): the only reader of os.environ.

The YAML config (stores, rules, templates) joins this module with the cycle.
Secrets are `SecretStr`, so printing or logging a Settings never shows them.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from naver_sms.domain import alimtalk
from naver_sms.domain.booking import KST
from naver_sms.domain.catalog import NAME as NAME_PATTERN
from naver_sms.domain.catalog import MessageSpec, When, builtin_catalog
from naver_sms.domain.messages import AD_HOURS, KIND_ALIASES_ONLY, AlimTalkButton, MessageKind
from naver_sms.domain.rules import DEFAULT_KEYWORDS
from naver_sms.domain.session import is_loopback_host
from naver_sms.utils.scrub import register_secrets


class ConfigError(Exception):
    """A configuration mistake: one line naming what is wrong. The CLI exits 2."""


# variable name -> Settings field
_ENV: dict[str, str] = {
    "NAVER_SMS_CONFIG": "config_path",
    "NAVER_SMS_STORE": "store",
    "NAVER_SMS_DB": "db_path",
    "NAVER_SMS_BOOKINGS_TABLE": "bookings_table",
    "NAVER_SMS_SESSION_TABLE": "session_table",
    "NAVER_SMS_SENT_TABLE": "sent_table",
    "AWS_ENDPOINT_URL": "aws_endpoint_url",
    "AWS_DEFAULT_REGION": "aws_region",
    "NAVER_USERNAME": "naver_username",
    "NAVER_PASSWORD": "naver_password",
    "NAVER_BOOKING_URL": "naver_booking_url",
    "NAVER_LOGIN_URL": "naver_login_url",
    "NAVER_SMS_MULTI_STATUS": "naver_multi_status",
    "CHROME_BIN": "chrome_bin",
    "CHROMEDRIVER_BIN": "chromedriver_bin",
    "SENS_ACCESS_KEY": "sens_access_key",
    "SENS_SECRET_KEY": "sens_secret_key",
    "SENS_SERVICE_ID": "sens_service_id",
    "SENS_ALIMTALK_SERVICE_ID": "sens_alimtalk_service_id",
    "SENS_URL": "sens_url",
    "NAVER_SMS_OUTBOX": "outbox_path",
    "TELEGRAM_BOT_TOKEN": "telegram_bot_token",
    "TELEGRAM_CHAT_ID": "telegram_chat_id",
    "TELEGRAM_API_URL": "telegram_api_url",
    "NAVER_SMS_SECRET_ID": "secret_id",
    "NAVER_SMS_LOG_LEVEL": "log_level",
    "NAVER_SMS_WORKERS": "workers",
    "NAVER_SMS_WEB_PASSWORD": "web_password",
}


def is_loopback_url(url: str) -> bool:
    """Whether `url` names this machine (127.0.0.0/8, ::1, localhost): a sandbox or a test."""
    return is_loopback_host(urlsplit(url).hostname or "")


def _endpoint(value: str, *, clear_text_ok: bool = False) -> str:
    """A URL with a scheme and a host; https unless it stays on this machine."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected a URL like https://host[:port], got {value!r}")
    if parts.scheme == "http" and not (clear_text_ok or is_loopback_url(value)):
        # Keys, signatures and cookies would cross the network unencrypted.
        raise ValueError(
            f"expected https:// (http:// is allowed only for 127.0.0.1, ::1 or localhost), "
            f"got {value!r}"
        )
    return value.strip()


# The shortest NAVER_SMS_WEB_PASSWORD the page accepts.
WEB_PASSWORD_MIN_LENGTH: Final = 8

# Concurrent Naver requests and repository writes of one cycle (NAVER_SMS_WORKERS).
DEFAULT_WORKERS: Final = 8


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    config_path: Path = Path("naver-sms.yaml")
    store: Literal["sqlite", "dynamodb"] = "sqlite"
    db_path: Path = Path("naver-sms.db")
    bookings_table: str = "sms"
    session_table: str = "session"
    # DynamoDB only: the per-day index of sent messages (`naver-sms messages --date`).
    sent_table: str = "sms_sent"
    aws_endpoint_url: str | None = None
    aws_region: str = "ap-northeast-2"
    naver_username: str | None = None
    naver_password: SecretStr | None = None
    naver_booking_url: str = "https://partner.booking.naver.com"
    naver_login_url: str = (
        "https://nid.naver.com/nidlogin.login?mode=form&url=https://www.naver.com/"
    )
    # One booking API request for several statuses (confirmed and cancelled): true,
    # false, or unset to find out once whether Naver honours it.
    naver_multi_status: bool | None = None
    chrome_bin: str | None = None
    chromedriver_bin: str | None = None
    sens_access_key: SecretStr | None = None
    sens_secret_key: SecretStr | None = None
    sens_service_id: str | None = None
    # The Biz Message (KakaoTalk) project's own service id: AlimTalk is not
    # sent through the SMS service. Needed only when the config uses AlimTalk.
    sens_alimtalk_service_id: str | None = None
    sens_url: str = "https://sens.apigw.ntruss.com"
    outbox_path: Path = Path("outbox.jsonl")
    telegram_bot_token: SecretStr | None = None
    telegram_chat_id: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    secret_id: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # A cycle's concurrent API requests and store writes. 8 keeps a few stores
    # gentle on Naver; hundreds of stores need more to finish within a minute.
    workers: int = Field(
        default=DEFAULT_WORKERS, ge=1, le=32
    )  # 32: the DynamoDB client's connection pool
    # The owner's web page (`naver-sms web`) lets in whoever types it; without
    # it the page does not start.
    web_password: SecretStr | None = None

    @field_validator("sens_url", "naver_booking_url", "naver_login_url", "telegram_api_url")
    @classmethod
    def _encrypted(cls, value: str) -> str:
        return _endpoint(value)

    @field_validator("aws_endpoint_url")
    @classmethod
    def _aws_endpoint(cls, value: str | None) -> str | None:
        # Requests to DynamoDB are signed (SigV4), never carry the key itself, so
        # a DynamoDB-API server on a private network over http:// is fine; a
        # missing scheme (`localhost:8000`) is not: botocore fails on it late.
        return None if value is None else _endpoint(value, clear_text_ok=True)

    @field_validator("web_password")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # The page can be reached from the shop's network: a PIN is guessed.
        if value is not None and len(value.get_secret_value()) < WEB_PASSWORD_MIN_LENGTH:
            raise ValueError(
                f"at least {WEB_PASSWORD_MIN_LENGTH} characters, so nobody on the network "
                "guesses it"
            )
        return value


# The variables that may live in the Secrets Manager secret (NAVER_SMS_SECRET_ID).
SECRET_VARIABLES: Final = (
    "NAVER_USERNAME",
    "NAVER_PASSWORD",
    "SENS_ACCESS_KEY",
    "SENS_SECRET_KEY",
    "SENS_SERVICE_ID",
    "SENS_ALIMTALK_SERVICE_ID",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_CHAT_ID",
    "NAVER_SMS_WEB_PASSWORD",
)
SecretReader = Callable[[str, str, str | None], str]
"""(secret id, region, endpoint URL) -> the secret's JSON string; `bootstrap.read_secret`."""


def load_settings(
    environ: Mapping[str, str] | None = None, *, read_secret: SecretReader | None = None
) -> Settings:
    """Settings from `environ` (default: the process environment). Empty values count as unset.

    With NAVER_SMS_SECRET_ID, the secret variables the environment leaves
    unset come from that Secrets Manager secret (a JSON object) as
    `read_secret` returns it; `bootstrap.load_settings` passes the reader that
    asks AWS once per process (a Lambda reads it on its cold start, not every
    cycle).
    """
    env = os.environ if environ is None else environ
    values = {field: env[name] for name, field in _ENV.items() if env.get(name, "").strip()}
    if "log_level" in values:
        values["log_level"] = values["log_level"].upper()
    settings = _settings(values)
    if settings.secret_id is None:
        return settings
    if read_secret is None:
        # A caller's bug, not the owner's: without this the secret's keys would
        # silently be missing and the run would fail later on "no SENS keys".
        raise TypeError("NAVER_SMS_SECRET_ID is set: pass read_secret (bootstrap.load_settings)")
    secret = _secret_values(
        settings.secret_id,
        read_secret(settings.secret_id, settings.aws_region, settings.aws_endpoint_url),
    )
    missing = {_ENV[name]: value for name, value in secret.items() if _ENV[name] not in values}
    return _settings({**values, **missing}) if missing else settings


# Settings fields whose values no output may show.
_SECRET_FIELDS: Final = (
    "naver_password",
    "sens_access_key",
    "sens_secret_key",
    "telegram_bot_token",
    "web_password",
)


def _settings(values: dict[str, str]) -> Settings:
    # Registered before validation: an error about another variable (a key pasted
    # into a URL) must not show it either. From here on every output removes them.
    register_secrets(values[field] for field in _SECRET_FIELDS if field in values)
    try:
        return Settings(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0])
        variable = next(name for name, f in _ENV.items() if f == field)
        message = str(error["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"environment variable {variable}: {message}") from None


def _secret_values(secret_id: str, text: str) -> dict[str, str]:
    """The secret's variables; errors name the key, never a value."""
    where = f"secret {secret_id!r} (NAVER_SMS_SECRET_ID)"
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise ConfigError(
            f"{where}: expected a JSON object of variables, got invalid JSON"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a JSON object of variables")
    values: dict[str, str] = {}
    for key, value in data.items():
        if key not in SECRET_VARIABLES:
            raise ConfigError(
                f"{where}: unknown key {key!r}; expected {', '.join(SECRET_VARIABLES)}"
            )
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be a string")
        if value.strip():
            values[key] = value
    return values


def require_alimtalk_service(settings: Settings, config: AppConfig) -> None:
    """ConfigError when `config` sends AlimTalk and SENS_ALIMTALK_SERVICE_ID is not set.

    Without it every AlimTalk would fail at SENS, every cycle; the owner
    learns it at start-up instead, in one line saying where to find the id.
    """
    if config.uses_alimtalk() and not settings.sens_alimtalk_service_id:
        raise ConfigError(
            "environment variable SENS_ALIMTALK_SERVICE_ID: expected the Biz Message "
            "project's service id (SENS console, Project): the config sends AlimTalk "
            "(alimtalk.templates)"
        )


# --- The clock override (`run --now`, the Lambda event's `now`) ---

# How far a requested moment may be from the real clock and still reach the
# real SENS: enough for a slow scheduler, far too little to move a reminder
# or an advertisement to another hour.
MAX_CLOCK_SKEW: Final = timedelta(minutes=5)
# Bookings exist in these years; outside them date arithmetic overflows.
_YEARS: Final = range(2000, 2100)


def parse_moment(text: str) -> datetime:
    """ISO 8601 (without an offset: KST, never the host's zone); ValueError saying what to give."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"expected ISO 8601 like 2026-11-25T13:05:00+09:00, got {text!r}"
        ) from None
    moment = moment.replace(tzinfo=KST) if moment.tzinfo is None else moment
    if moment.year not in _YEARS:
        raise ValueError(
            f"expected a moment in the years {_YEARS.start}-{_YEARS.stop - 1}, got {text!r}"
        )
    return moment


def now_from(text: object, where: str) -> datetime:
    """The cycle's clock from a given moment (`--now`, the Lambda event's `now`),
    else the real time (KST); ConfigError naming `where` when it is not a moment."""
    if text is None:
        return datetime.now(KST)
    if not isinstance(text, str):
        raise ConfigError(f"{where}: expected an ISO 8601 string, got {text!r}")
    try:
        return parse_moment(text)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def must_rehearse(
    now: datetime, real_now: datetime, sens_url: str, *, tolerance: timedelta = MAX_CLOCK_SKEW
) -> bool:
    """Whether a cycle at `now` must be a dry run: its clock is not the real one.

    A moved clock decides what is due as if it were another hour, so it would
    text a reminder hours early or advertise at night. Against a provider on
    this machine (the sandbox, tests) that reaches no phone, it may send.
    """
    if is_loopback_url(sens_url):
        return False
    return abs(now.astimezone(UTC) - real_now.astimezone(UTC)) > tolerance


# --- The YAML file (`docs/interfaces.md`): stores, rules, templates ---

_DIGITS = re.compile(r"^[0-9]+$")
_NUMBER_JUNK = re.compile(r"[\s\-.()]")
_HH_MM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


def _kind_keyed(value: Any) -> Any:
    """Template mappings keyed by kind; `confirm` and `guide` are the names stores use."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        return value
    out: dict[MessageKind, Any] = {}
    for key, text in value.items():
        try:
            kind = MessageKind.parse(str(key))
        except ValueError:
            raise ValueError(
                "expected template names confirmation, reminder, event "
                f"(or confirm, guide), got {key!r}"
            ) from None
        if kind in out:
            raise ValueError(f"template {key!r} given twice (as {kind.value} and an alias)")
        out[kind] = text
    return out


class _Unquoted(str):
    """An unquoted number that starts with 0, kept as written: YAML 1.1 would read
    `0200000000` as the octal 33554432, a number the owner never wrote."""

    __slots__ = ()


class _ConfigLoader(yaml.SafeLoader):
    """The safe loader, but an unquoted number with a leading 0 stays the text written."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        text = str(node.value)
        digits = text.replace("_", "")
        if len(digits) > 1 and digits.startswith("0") and digits.isdigit():
            return _Unquoted(text)
        return super().construct_yaml_int(node)


_ConfigLoader.add_constructor("tag:yaml.org,2002:int", _ConfigLoader.construct_yaml_int)


def _number_text(value: Any, what: str) -> Any:
    if isinstance(value, _Unquoted):
        raise ValueError(
            f'expected {what} as a quoted string "{value}", got {value} unquoted '
            "(YAML would read it as another number)"
        )
    # YAML reads 0212345678 unquoted as the integer 212345678: the leading 0 is lost.
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(
            f'expected {what} as a quoted string (e.g. "0200000000"), got {value} '
            "(YAML reads an unquoted number as an integer and drops its leading 0)"
        )
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# The error type of an AlimTalk mistake whose message is whole already (no "expected: ").
_WHOLE: Final = "naver_sms_whole"


class AlimTalkButtonConfig(_Strict):
    """A button exactly as approved with the template (SENS's `buttons[]`)."""

    type: str
    name: str
    link_mobile: str = ""
    link_pc: str = ""
    scheme_ios: str = ""
    scheme_android: str = ""

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    def button(self) -> AlimTalkButton:
        return AlimTalkButton(
            type=self.type,
            name=self.name,
            link_mobile=self.link_mobile,
            link_pc=self.link_pc,
            scheme_ios=self.scheme_ios,
            scheme_android=self.scheme_android,
        )


class AlimTalkTemplate(_Strict):
    """One approved AlimTalk template: its code, its text, and a Jinja2 value per `#{name}`."""

    code: str = Field(min_length=1)
    content: str
    variables: dict[str, str] = Field(default_factory=dict)
    buttons: list[AlimTalkButtonConfig] = Field(default_factory=list)
    # Whether the provider sends the kind's SMS when the AlimTalk cannot be delivered.
    failover: bool = True

    @field_validator("code", mode="before")
    @classmethod
    def _code(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("content", mode="before")
    @classmethod
    def _content(cls, value: Any) -> Any:
        # A YAML `|` block ends in a line break the approved text does not have;
        # Kakao compares the text with the template, so it must not be sent.
        return value.rstrip() if isinstance(value, str) else value

    @field_validator("variables")
    @classmethod
    def _variables(cls, value: dict[str, str]) -> dict[str, str]:
        for name, expression in value.items():
            if not expression.strip():
                raise ValueError(
                    f'expected a Jinja2 expression for {name} like "{{{{ customer }}}}", got ""'
                )
        return value

    @model_validator(mode="after")
    def _approvable(self) -> AlimTalkTemplate:
        problems = alimtalk.template_problems(self.content, self.variables, self.button_list())
        if problems:
            raise PydanticCustomError(_WHOLE, f"template {self.code}: {problems[0]}")
        return self

    def button_list(self) -> tuple[AlimTalkButton, ...]:
        return tuple(button.button() for button in self.buttons)


def _alimtalk_named(value: Any) -> Any:
    """AlimTalk templates keyed by message name (`confirm` and `guide` name the seed's
    two); the seed's advertising event is refused here, naming why (a configured
    advertising message is refused where the messages are known)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for key, template in value.items():
        name = _message_name(str(key))
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            raise ValueError(f"expected a message name, got {key!r}")
        if name in out:
            raise ValueError(f"template {key!r} given twice (as {name} and an alias)")
        if name == MessageKind.EVENT.value:
            problem = alimtalk.kind_problem(MessageKind.EVENT)
            raise PydanticCustomError(_WHOLE, problem or "")
        out[name] = template
    return out


class AlimTalkConfig(_Strict):
    """`alimtalk:` at the top (every store) or in a store (its own channel and templates).

    A kind listed goes as AlimTalk first, its SMS template as the failover; in
    a store, `<kind>: null` sends that kind as SMS although the top lists it.
    """

    plus_friend_id: str | None = None
    # By message name: the seed's (confirmation, reminder) or a configured one.
    templates: dict[str, AlimTalkTemplate | None] = Field(default_factory=dict)

    @field_validator("plus_friend_id", mode="before")
    @classmethod
    def _plus_friend_id(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value or any(character.isspace() for character in value):
                raise ValueError(
                    'expected the Kakao channel\'s id as SENS shows it (e.g. "@sample-studio"), '
                    f"got {value!r}"
                )
        return value

    @field_validator("templates", mode="before")
    @classmethod
    def _templates(cls, value: Any) -> Any:
        return _alimtalk_named(value)


@dataclass(frozen=True, slots=True)
class AlimTalkChoice:
    """How one store sends one kind as AlimTalk: its channel and the approved template."""

    plus_friend_id: str
    template: AlimTalkTemplate
    origin: Literal["store", "config"]


_DURATION: Final = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([dhm])\s*")
_DURATION_UNITS: Final = {
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
}


def parse_offset(value: Any) -> Any:
    """`1d`, `2h`, `30m` (or a number of hours) as a timedelta; other values unchanged."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(hours=value)
    if isinstance(value, str):
        match = _DURATION.fullmatch(value)
        if match is None:
            raise ValueError(f'expected a duration like "1d", "2h" or "30m", got {value!r}')
        return float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    return value


def _hh_mm_pair(value: Any, *, advertising: bool) -> Any:
    """["HH:MM", "HH:MM"] as two times, the start first; for advertising inside the law's
    08:00-21:00. Other values unchanged (pydantic says what is wrong with them)."""
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, str) for v in value)
    ):
        parsed = []
        for text in value:
            match = _HH_MM.match(text.strip())
            if not match:
                raise ValueError(f'expected ["HH:MM", "HH:MM"], got {text!r}')
            parsed.append(time(int(match.group(1)), int(match.group(2))))
        start, end = parsed
        if not start < end:
            raise ValueError(f"expected the start before the end, got {value}")
        opens, closes = AD_HOURS
        if advertising and (start < opens or end > closes):
            raise ValueError(
                "expected a window inside 08:00-21:00 KST (advertising is not allowed "
                f"outside those hours), got {value}"
            )
        return tuple(parsed)
    if isinstance(value, list | tuple) and len(value) == 2:
        raise ValueError(f'expected ["HH:MM", "HH:MM"] as quoted strings, got {value}')
    return value


DEFAULT_MESSAGE_NAMES: Final = frozenset(kind.value for kind in MessageKind)


def _message_name(value: Any) -> Any:
    """A message's name as written; `confirm` and `guide` name the seed's messages."""
    if isinstance(value, str):
        value = value.strip()
        if value in KIND_ALIASES_ONLY:
            return KIND_ALIASES_ONLY[value].value
    return value


class _MessageFields(_Strict):
    """How a message's name, offset and window are read, in `messages:` and in a store's
    changes to it alike."""

    @field_validator("name", mode="before", check_fields=False)
    @classmethod
    def _name(cls, value: Any) -> Any:
        return _message_name(value)

    @field_validator("offset", mode="before", check_fields=False)
    @classmethod
    def _offset(cls, value: Any) -> Any:
        return parse_offset(value)

    @field_validator("window", mode="before", check_fields=False)
    @classmethod
    def _window(cls, value: Any) -> Any:
        return _hh_mm_pair(value, advertising=False)


class MessageConfig(_MessageFields):
    """One entry of `messages:`: a message the shop sends, and when."""

    name: str
    when: When
    offset: timedelta = timedelta(0)
    template: str | None = None  # Jinja2 text; the seed's three names have defaults
    advertising: bool = False
    window: tuple[time, time] | None = None
    keywords: list[str] = Field(default_factory=list)
    enabled: bool = True

    @model_validator(mode="after")
    def _valid(self) -> MessageConfig:
        try:
            self.spec()
        except ValueError as exc:
            raise PydanticCustomError(
                _WHOLE, str(exc).replace("{", "(").replace("}", ")")
            ) from None
        if self.template is None and self.name not in DEFAULT_MESSAGE_NAMES:
            raise PydanticCustomError(
                _WHOLE,
                f"message {self.name}: expected a template (only confirmation, reminder "
                "and event have a default text)",
            )
        return self

    def spec(self, override: StoreMessageConfig | None = None) -> MessageSpec:
        """The message as one store sends it (its override applied)."""
        changes = override.model_dump(exclude_unset=True, exclude={"name"}) if override else {}
        merged = {**self.model_dump(), **changes}
        return MessageSpec(
            name=self.name,
            when=self.when,
            template=self.name,
            offset=merged["offset"],
            advertising=merged["advertising"],
            window=merged["window"],
            keywords=tuple(merged["keywords"]),
            enabled=merged["enabled"],
        )


class StoreMessageConfig(_MessageFields):
    """A store's change to one message of `messages:`, by name (`enabled: false` turns
    it off there)."""

    name: str
    offset: timedelta | None = None
    template: str | None = None
    advertising: bool | None = None
    window: tuple[time, time] | None = None
    keywords: list[str] | None = None
    enabled: bool | None = None


class StoreConfig(_Strict):
    id: str
    name: str = Field(min_length=1)
    sender: str
    opt_out: str | None = None
    templates: dict[MessageKind, str] = Field(default_factory=dict)
    alimtalk: AlimTalkConfig | None = None
    messages: list[StoreMessageConfig] = Field(default_factory=list)

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not _DIGITS.match(value):
            raise ValueError(f"expected the numeric Naver businessId, got {value!r}")
        return value

    @field_validator("sender", mode="before")
    @classmethod
    def _sender(cls, value: Any) -> Any:
        value = _number_text(value, "the sender number")
        if isinstance(value, str):
            digits = _NUMBER_JUNK.sub("", value)
            if not _DIGITS.match(digits) or not 8 <= len(digits) <= 12:
                raise ValueError(
                    f"expected a sender number registered with SENS (8-12 digits), got {value!r}"
                )
            return digits
        return value

    @field_validator("opt_out", mode="before")
    @classmethod
    def _opt_out(cls, value: Any) -> Any:
        value = _number_text(value, "the opt-out number")
        if isinstance(value, str):
            value = value.strip() or None
            if value is not None and not _DIGITS.match(_NUMBER_JUNK.sub("", value)):
                raise ValueError(f"expected a phone number like 080-000-0000, got {value!r}")
        return value

    @field_validator("templates", mode="before")
    @classmethod
    def _templates(cls, value: Any) -> Any:
        return _kind_keyed(value)


class ConfirmationRule(_Strict):
    enabled: bool = True


class ReminderRule(_Strict):
    enabled: bool = True
    hours_before: float = Field(default=2, gt=0, le=48)


class EventRule(_Strict):
    enabled: bool = True
    keywords: list[str] = Field(default_factory=lambda: list(DEFAULT_KEYWORDS))
    window: tuple[time, time] = (time(20, 0), time(21, 0))

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        keywords = [k.strip() for k in value if k.strip()]
        if not keywords:
            raise ValueError("expected at least one non-empty keyword")
        return keywords

    @field_validator("window", mode="before")
    @classmethod
    def _window(cls, value: Any) -> Any:
        return _hh_mm_pair(value, advertising=True)


class RulesConfig(_Strict):
    confirmation: ConfirmationRule = Field(default_factory=ConfirmationRule)
    reminder: ReminderRule = Field(default_factory=ReminderRule)
    event: EventRule = Field(default_factory=EventRule)


class AppConfig(_Strict):
    """The YAML config file: the stores, the rules, and the default templates."""

    stores: list[StoreConfig]
    rules: RulesConfig = Field(default_factory=RulesConfig)
    templates: dict[MessageKind, str] = Field(default_factory=dict)
    alimtalk: AlimTalkConfig = Field(default_factory=AlimTalkConfig)
    # The messages the shop sends, in the order they go; absent: the seed's three
    # as `rules:` and `templates:` configure them.
    messages: list[MessageConfig] | None = None

    @field_validator("templates", mode="before")
    @classmethod
    def _templates(cls, value: Any) -> Any:
        return _kind_keyed(value)

    @model_validator(mode="after")
    def _one_message_list(self) -> AppConfig:
        if self.messages is None:
            for store in self.stores:
                if store.messages:
                    raise PydanticCustomError(
                        _WHOLE,
                        f"store {store.id}: messages: overrides entries of the top-level "
                        "messages: list, which this config does not have",
                    )
            return self
        if "rules" in self.model_fields_set:
            raise PydanticCustomError(
                _WHOLE,
                "rules: and messages: cannot both be given: messages: replaces rules: "
                "(`naver-sms config migrate FILE` prints the new form of an old file)",
            )
        names = [message.name for message in self.messages]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise PydanticCustomError(_WHOLE, f"message {twice[0]} is given twice")
        for store in self.stores:
            for override in store.messages:
                if override.name not in names:
                    raise PydanticCustomError(
                        _WHOLE,
                        f"store {store.id}: messages: {override.name} is not in the top-level "
                        f"messages: list (expected one of {', '.join(names)})",
                    )
                try:
                    self._message(override.name).spec(override)
                except ValueError as exc:
                    raise PydanticCustomError(
                        _WHOLE, f"store {store.id}: {exc}".replace("{", "(").replace("}", ")")
                    ) from None
        return self

    def _message(self, name: str) -> MessageConfig:
        return next(m for m in self.messages or () if m.name == name)

    def catalog(self, store: StoreConfig) -> tuple[MessageSpec, ...]:
        """The messages `store` sends, in order, its overrides applied."""
        if self.messages is None:
            rules = self.rules
            return builtin_catalog(
                confirmation=rules.confirmation.enabled,
                reminder=rules.reminder.enabled,
                hours_before=rules.reminder.hours_before,
                event=rules.event.enabled,
                keywords=rules.event.keywords,
                event_window=rules.event.window,
            )
        overrides = {override.name: override for override in store.messages}
        return tuple(message.spec(overrides.get(message.name)) for message in self.messages)

    def message_template(self, store: StoreConfig, name: str) -> tuple[str, str] | None:
        """(origin, text) of the template a `messages:` entry (or the store's override of
        it) gives `name`, or None when it gives none."""
        for override in store.messages:
            if override.name == name and override.template is not None:
                return "store", override.template
        for message in self.messages or ():
            if message.name == name and message.template is not None:
                return "config", message.template
        return None

    @field_validator("stores")
    @classmethod
    def _unique_ids(cls, stores: list[StoreConfig]) -> list[StoreConfig]:
        if not stores:
            raise ValueError("expected at least one store")
        seen: set[str] = set()
        for store in stores:
            if store.id in seen:
                raise ValueError(f"expected each store id once, {store.id} is given twice")
            seen.add(store.id)
        return stores

    @model_validator(mode="after")
    def _alimtalk_channels(self) -> AppConfig:
        for store in self.stores:
            catalog = {spec.name: spec for spec in self.catalog(store)}
            named = {
                *self.alimtalk.templates,
                *(store.alimtalk.templates if store.alimtalk else ()),
            }
            for name in sorted(named - set(catalog)):
                raise PydanticCustomError(
                    _WHOLE,
                    f"alimtalk.templates.{name}: store {store.id} ({store.name}) sends no "
                    f"message {name} (expected one of {', '.join(catalog)})",
                )
            for name, spec in catalog.items():
                if self._alimtalk_entry(store, name) is None:
                    continue
                if spec.advertising:
                    raise PydanticCustomError(
                        _WHOLE,
                        f"{name} cannot go as AlimTalk: AlimTalk carries informational "
                        f"messages only and the {name} message is advertising (it goes as "
                        "SMS); remove it from alimtalk.templates",
                    )
                if not self._channel(store):
                    raise PydanticCustomError(
                        _WHOLE,
                        "alimtalk.plus_friend_id: expected the Kakao channel's id "
                        f'(e.g. "@sample-studio"): store {store.id} ({store.name}) sends '
                        f"{name} as AlimTalk (set it under alimtalk: or the store's "
                        "alimtalk:)",
                    )
        return self

    def _alimtalk_entry(
        self, store: StoreConfig, name: str
    ) -> tuple[AlimTalkTemplate, Literal["store", "config"]] | None:
        if store.alimtalk is not None and name in store.alimtalk.templates:
            template = store.alimtalk.templates[name]
            return None if template is None else (template, "store")
        template = self.alimtalk.templates.get(name)
        return None if template is None else (template, "config")

    def _channel(self, store: StoreConfig) -> str | None:
        if store.alimtalk is not None and store.alimtalk.plus_friend_id:
            return store.alimtalk.plus_friend_id
        return self.alimtalk.plus_friend_id

    def alimtalk_template(
        self, store: StoreConfig, message: MessageKind | MessageSpec | str
    ) -> AlimTalkChoice | None:
        """How `store` sends `message` as AlimTalk, or None when it goes as SMS.

        The store's own entry wins (its `null` means SMS), then the top's; the
        channel is the store's `plus_friend_id`, else the top's.
        """
        name = message.name if isinstance(message, MessageSpec) else str(message)
        entry = self._alimtalk_entry(store, name)
        channel = self._channel(store)
        if entry is None or channel is None:  # no channel: refused when the config loaded
            return None
        template, origin = entry
        return AlimTalkChoice(channel, template, origin)

    def uses_alimtalk(self) -> bool:
        """Whether any store sends any kind as AlimTalk: then SENS_ALIMTALK_SERVICE_ID is needed."""
        return any(
            self.alimtalk_template(store, spec) is not None
            for store in self.stores
            for spec in self.catalog(store)
        )

    def warnings(self) -> list[str]:
        """Settings that are valid but hold messages back; worth one log line at start-up."""
        if not self.rules.event.enabled:
            return []
        return [
            f"store {store.id} ({store.name}): no opt_out, so no event (advertising) messages"
            for store in self.stores
            if not store.opt_out
        ]

    def store(self, key: str) -> StoreConfig:
        """The store with this id or name; KeyError naming the choices when there is none."""
        for store in self.stores:
            if key in (store.id, store.name):
                return store
        choices = ", ".join(f"{s.id} ({s.name})" for s in self.stores)
        raise KeyError(f"no store {key!r}: expected one of {choices}")


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _expected(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; see config/example.yaml)"
    if kind in ("guess", _WHOLE):
        return message
    if kind == "missing":
        return "a value (the field is required)"
    if not message.startswith("expected"):
        message = f"expected: {message[:1].lower()}{message[1:]}"
    if "input" in error and kind not in ("model_type", "dict_type", "list_type"):
        shown = repr(error["input"])
        if ", got " not in message and len(shown) <= 60:
            message += f", got {shown}"
    return message


def _first_error(errors: list[Any]) -> Any:
    """The error to show: a misspelt field rather than the "required" it causes.

    `sendr: ...` makes pydantic report `sender` missing first; the owner's
    mistake is the spelling, so the unknown field is named, with the likely
    intended name when a required field of the same mapping resembles it.
    """
    extra = next((e for e in errors if e.get("type") == "extra_forbidden"), None)
    if extra is None:
        return errors[0]
    parent, name = extra["loc"][:-1], str(extra["loc"][-1])
    missing = [
        str(e["loc"][-1]) for e in errors if e.get("type") == "missing" and e["loc"][:-1] == parent
    ]
    guess = difflib.get_close_matches(name, missing, n=1)
    if guess:
        return {**extra, "msg": f"unknown field; did you mean {guess[0]!r}?", "type": "guess"}
    return extra


def load_app_config(path: Path | str) -> AppConfig:
    """The YAML config at `path`; `ConfigError` (one line: file, field, expectation) if wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path}: not found (set NAVER_SMS_CONFIG or --config; "
            "`naver-sms init` writes an example)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path}: cannot be read ({exc})") from None
    try:
        data = yaml.load(text, Loader=_ConfigLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        if "'@'" in problem:
            # `plus_friend_id: @shop`: YAML reserves @, the Kakao channel id starts with it.
            problem += '; quote a value that starts with @, e.g. "@sample-studio"'
        raise ConfigError(f"config file {path}:{where}: expected valid YAML ({problem})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a mapping with stores, rules, templates")
    try:
        return AppConfig.model_validate(data)
    except ValidationError as exc:
        error = _first_error(exc.errors())
        if not error["loc"] and error.get("type") == _WHOLE:
            # A mistake across fields (an AlimTalk template without a channel)
            # names its fields itself.
            raise ConfigError(f"config file {path}: {_expected(error)}") from None
        raise ConfigError(
            f"config file {path}: {_field_path(error['loc'])}: {_expected(error)}"
        ) from None
    except ValueError as exc:  # an unknown template kind raised before pydantic could wrap it
        raise ConfigError(f"config file {path}: {exc}") from None
