"""A booking record and the seed's rules for its key, phone and time.

The record is what both stores keep (the seed's `sms` table): the two key
attributes, the customer's name, the visit time in KST, three "sent" flags and
any extra attributes the rest of the system wants to keep next to them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from naver_sms.domain.record import is_flag_name

KST: Final = ZoneInfo("Asia/Seoul")
BOOKING_TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
FLAGS: Final = ("confirm_sms", "remind_sms", "option_sms")
CORE_FIELDS: Final = (
    "booking_num",
    "phone",
    "name",
    "booking_time",
    *FLAGS,
    "option_time",
)

BookingKey = tuple[str, str]
"""(booking_num, phone): the seed's partition and sort key, what tells one record from another."""

_BOOKING_NUM = re.compile(r"^([0-9]+)_([0-9]+)$")
# Korean mobile prefixes: 010 is the only one issued today; 011 and 016-019 are
# legacy numbers that still exist. Every prefix, 010 included, has old numbers
# with a 3-digit middle block (010-XXX-XXXX) that customers still use.
_MOBILE_PREFIXES: Final = ("010", "011", "016", "017", "018", "019")
_PHONE_JUNK = re.compile(r"[\s\-.()]")


class BookingValidationError(ValueError):
    """A booking attribute does not follow the seed's rules.

    The message names the field and shows the value; phone values are masked
    before they get here, so the message is safe to log.
    """

    def __init__(self, field_name: str, shown_value: str, expected: str) -> None:
        self.field = field_name
        super().__init__(f"invalid {field_name} {shown_value!r}: expected {expected}")


def _mobile_digits(raw: str) -> str | None:
    """The national 10/11-digit form of a Korean mobile number, or None."""
    groups = [group for group in _PHONE_JUNK.split(raw) if group]
    if len(groups) > 1 and len(groups[-1]) < 4:
        # Every Korean number ends in four digits: a last group of three is
        # an 11-digit number missing a digit, not a 10-digit number.
        return None
    compact = "".join(groups)
    if compact.startswith("+82"):
        compact = compact[3:]
    elif compact.startswith("82") and len(compact) in (11, 12, 13):
        compact = compact[2:]
    # "+82 010-..." is a common mistake for "+82 10-...": drop the trunk 0 either way.
    compact = compact.removeprefix("0")
    if not compact.isascii() or not compact.isdigit():
        return None
    digits = "0" + compact
    if digits[:3] not in _MOBILE_PREFIXES or len(digits) not in (10, 11):
        return None
    return digits


def mask_phone(phone: object) -> str:
    """`010-1234-5678` -> `010-****-5678`; anything unparsable is masked whole."""
    digits = _mobile_digits(phone) if isinstance(phone, str) else None
    if digits is None:
        return "***"
    return f"{digits[:3]}-{'*' * (len(digits) - 7)}-{digits[-4:]}"


def normalize_phone(phone: object, field_name: str = "phone") -> str:
    """The stored form of a Korean mobile number: `010-XXXX-XXXX`.

    Accepts the forms people and Naver use (`01012345678`, `010 1234 5678`,
    `+82 10-1234-5678`, `82-10-...`); 10-digit numbers (any prefix, 010
    included) become `0XX-XXX-XXXX`.
    """
    digits = _mobile_digits(phone) if isinstance(phone, str) else None
    if digits is None:
        raise BookingValidationError(field_name, mask_phone(phone), "a Korean mobile number")
    return f"{digits[:3]}-{digits[3:-4]}-{digits[-4:]}"


def clean_text(text: str) -> str:
    """`text` with every lone UTF-16 surrogate replaced by U+FFFD.

    JSON may carry half of an emoji (`"\\ud83d"`) when a name was cut at a
    byte limit; Python decodes it into a string that SQLite, DynamoDB and
    every UTF-8 writer refuse, so one such name would fail every write.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A surrogate pair that arrived as two code points is joined back into
        # its character; only a lone half becomes U+FFFD.
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def clean_value(value: Any) -> Any:
    """`value` with `clean_text` applied to every string in it, keys included."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_value(item) for item in value]
    if isinstance(value, tuple):
        return tuple(clean_value(item) for item in value)
    if isinstance(value, dict):
        return {clean_value(key): clean_value(item) for key, item in value.items()}
    return value


def validate_booking_num(booking_num: object) -> str:
    if not isinstance(booking_num, str) or not _BOOKING_NUM.match(booking_num):
        raise BookingValidationError(
            "booking_num", str(booking_num), "{biz_id}_{book_id}, both numeric"
        )
    return booking_num


def split_booking_num(booking_num: str) -> tuple[str, str]:
    """(biz_id, book_id) of a valid booking number."""
    biz_id, _, book_id = validate_booking_num(booking_num).partition("_")
    return biz_id, book_id


def make_booking_num(biz_id: object, book_id: object) -> str:
    return validate_booking_num(f"{biz_id}_{book_id}")


# The stored form exactly as `format_booking_time` writes it: read without strptime,
# which takes a lock and a locale look-up per call (a 500-store cycle reads 80,000).
_STORED_TIME: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


def parse_booking_time(value: str) -> datetime:
    """The aware KST instant of a stored `YYYY-MM-DD HH:MM:SS`."""
    if isinstance(value, str) and _STORED_TIME.fullmatch(value):
        try:
            return datetime.fromisoformat(value).replace(tzinfo=KST)
        except ValueError:
            pass  # 2026-02-30: strptime below says so in the usual words
    try:
        naive = datetime.strptime(value, BOOKING_TIME_FORMAT)  # noqa: DTZ007 - KST by definition
    except (TypeError, ValueError):
        raise BookingValidationError(
            "booking_time", str(value), "YYYY-MM-DD HH:MM:SS (Asia/Seoul)"
        ) from None
    return naive.replace(tzinfo=KST)


def format_booking_time(moment: datetime) -> str:
    """`YYYY-MM-DD HH:MM:SS` in KST; a naive datetime is taken to be KST already.

    A year without four digits is refused: `%Y` writes year 1 as "1", which
    no reader of the stored form can parse back (and year 1 in Seoul is on
    local mean time, +08:27:52, so the instant is nonsense anyway).
    """
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(KST)
        except (OverflowError, ValueError):  # year 1 or 9999 moved across a day boundary
            raise BookingValidationError(
                "booking_time", moment.isoformat(), "a time in the years 1000-9999"
            ) from None
    if not 1000 <= moment.year <= 9999:
        raise BookingValidationError(
            "booking_time", moment.isoformat(), "a time in the years 1000-9999"
        )
    return moment.strftime(BOOKING_TIME_FORMAT)


def validate_booking_time(value: object) -> str:
    """The stored form of a visit time: a datetime is converted, a string checked."""
    if isinstance(value, datetime):
        return format_booking_time(value)
    if not isinstance(value, str):
        raise BookingValidationError("booking_time", str(value), "YYYY-MM-DD HH:MM:SS (Asia/Seoul)")
    parse_booking_time(value)
    return value


def _validate_option_time(value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return value
    raise BookingValidationError("option_time", str(value), '"" or an ISO 8601 date-time')


def _validate_flag(name: str, value: object) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BookingValidationError(name, str(value), "true or false")
    return value


@dataclass(frozen=True, slots=True)
class Booking:
    """One booking record, validated and normalised on construction."""

    booking_num: str
    phone: str
    name: str
    booking_time: str
    confirm_sms: bool = False
    remind_sms: bool = False
    option_sms: bool = False
    option_time: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate_booking_num(self.booking_num)
        object.__setattr__(self, "phone", normalize_phone(self.phone))
        if not isinstance(self.name, str) or not self.name.strip():
            raise BookingValidationError("name", str(self.name), "a non-empty customer name")
        # Every store is safe from half an emoji, whichever adapter built the booking.
        object.__setattr__(self, "name", clean_text(self.name))
        object.__setattr__(self, "booking_time", validate_booking_time(self.booking_time))
        for flag in FLAGS:
            object.__setattr__(self, flag, _validate_flag(flag, getattr(self, flag)))
        object.__setattr__(self, "option_time", _validate_option_time(self.option_time))
        extra = {}
        for key, value in self.extra.items():
            if not isinstance(key, str) or not key or key in CORE_FIELDS:
                raise BookingValidationError("extra field", str(key), "a new attribute name")
            if value is not None:
                extra[key] = clean_value(value)
        object.__setattr__(self, "extra", extra)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Booking:
        """A booking from a record dict (the seed's shape: extras are top-level)."""
        missing = [
            name for name in ("booking_num", "phone", "name", "booking_time") if name not in data
        ]
        if missing:
            raise BookingValidationError(missing[0], "", "a value (the attribute is required)")
        extra = {key: value for key, value in data.items() if key not in CORE_FIELDS}
        return cls(
            booking_num=data["booking_num"],
            phone=data["phone"],
            name=data["name"],
            booking_time=data["booking_time"],
            confirm_sms=data.get("confirm_sms", False),
            remind_sms=data.get("remind_sms", False),
            option_sms=data.get("option_sms", False),
            option_time=data.get("option_time", ""),
            extra=extra,
        )

    def to_item(self) -> dict[str, Any]:
        """The record as stored: core attributes, then extras; no None values."""
        item: dict[str, Any] = {name: getattr(self, name) for name in CORE_FIELDS}
        item.update(self.extra)
        return item

    @property
    def key(self) -> BookingKey:
        """The record's key: the booking number and the phone in its stored form.

        The phone is part of it (the seed's sort key): the same booking
        number with another phone is another record.
        """
        return self.booking_num, self.phone

    @property
    def biz_id(self) -> str:
        return split_booking_num(self.booking_num)[0]

    @property
    def book_id(self) -> str:
        return split_booking_num(self.booking_num)[1]

    @property
    def starts_at(self) -> datetime:
        """The visit start as an aware KST datetime."""
        return parse_booking_time(self.booking_time)


_DAY: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def validate_day(day: str) -> str:
    """A KST calendar day `YYYY-MM-DD`, written in full: `2026-12-1` would match no
    stored time (they are zero-padded), so it is refused rather than finding nothing."""
    try:
        if not isinstance(day, str) or not _DAY.fullmatch(day):
            raise ValueError(day)
        datetime.strptime(day, "%Y-%m-%d")  # noqa: DTZ007 - a calendar day, no instant
    except (TypeError, ValueError):
        raise BookingValidationError("date", str(day), "YYYY-MM-DD") from None
    return day


def validate_flag_name(flag: str) -> str:
    """A message's flag: the seed's three, or `{name}_sms` of a configured message."""
    if not isinstance(flag, str) or not is_flag_name(flag):
        raise BookingValidationError("flag", str(flag), f"{' or '.join(FLAGS)} or NAME_sms")
    return flag
