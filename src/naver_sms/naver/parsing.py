"""The partner booking API's JSON as domain bookings, or the reasons an entry is unusable.

The API is the owner console's own internal JSON, not a published contract
(observed of the partner API, not a published contract), so every field is checked for its
type and range: a booking that cannot be used is reported with a reason and
never stops the others. Nothing here speaks HTTP; `booking_api` reads the
pages and hands their entries over.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from naver_sms.domain.booking import (
    KST,
    Booking,
    BookingValidationError,
    clean_text,
    format_booking_time,
    make_booking_num,
    mask_phone,
    normalize_phone,
)
from naver_sms.utils.logger import get_logger

__all__ = [
    "CANCELLED",
    "CANCELLED_AT_FIELDS",
    "MASKED_REASON",
    "STATUS_CODE",
    "UnusableBooking",
    "UnusableEntry",
    "entry_id",
    "parse_booking",
    "parse_bookings",
]

MASKED_REASON: Final = "masked by Naver"
STATUS_CODE: Final = re.compile(r"^[A-Z]{2}[0-9]{2}$")
"""A booking status code as the API writes it (RC03)."""
CANCELLED: Final = "RC04"
# Where a cancelled entry may say when it was cancelled, first found wins.
CANCELLED_AT_FIELDS: Final = ("cancelledDateTime", "cancelDateTime")

# Bounds for one booking's fields. Naver's own limits are far below these; a
# value past them is garbage, and keeping it could break a store write
# (DynamoDB's 400 KB item) or an SMS template in every later cycle.
MAX_NAME_CHARS: Final = 100
MAX_TEXT_CHARS: Final = 200
MAX_OPTIONS: Final = 100
_MAX_ID_DIGITS: Final = 20
_MAX_PHONE_CHARS: Final = 40
_MAX_TIME_CHARS: Final = 40
# Visits happen in this century. A time outside it is Naver's zero date
# (0001-01-01, whose Seoul offset is local mean time, +08:27:52) or garbage,
# never a time to message a customer about.
VISIT_YEARS: Final = (2000, 2100)
_TRUE_TEXT: Final = ("true", "y", "yes", "1")
_FALSE_TEXT: Final = ("false", "n", "no", "0", "")

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class UnusableEntry:
    """A booking the API returned that cannot be used, and why (phone masked)."""

    reason: str
    booking_num: str | None = None
    phone_masked: str | None = None

    def to_dict(self) -> dict[str, str]:
        """The `invalid` item of the cycle report (`docs/interfaces.md`)."""
        item = {"booking_num": self.booking_num or "", "reason": self.reason}
        if self.phone_masked:
            item["phone_masked"] = self.phone_masked
        return item


class UnusableBooking(Exception):  # a result, raised only inside parsing
    def __init__(self, entry: UnusableEntry) -> None:
        self.entry = entry
        super().__init__(entry.reason)


class _Bad(Exception):
    """A field of the wrong type or out of range: the booking is unusable for this reason."""


class _NoPhone(Exception):
    """The entry has no phone at all (nothing to show masked in the report)."""


def _decoded(value: object, where: str) -> object:
    """A nested JSON field: the console sends some as objects, some as JSON strings."""
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    try:
        return json.loads(value)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        raise _Bad(f"{where} is not valid JSON") from None


def _lenient_snapshot(value: object) -> Mapping[str, Any]:
    """The snapshot if it is readable, else {}: only for naming an unusable entry."""
    try:
        snapshot = _decoded(value, "snapshotJson")
    except _Bad:
        return {}
    return snapshot if isinstance(snapshot, dict) else {}


def _int_id(value: object) -> str | None:
    if isinstance(value, bool):  # bool is an int subclass; True is no booking id
        return None
    if isinstance(value, int) and 0 <= value < 10**_MAX_ID_DIGITS:
        return str(value)
    if (
        isinstance(value, str)
        and len(value) <= _MAX_ID_DIGITS
        and value.isascii()
        and value.isdigit()
    ):
        return value
    return None


def entry_id(raw: object) -> str | None:
    """What tells one raw entry from another, None when it has no usable id.

    A booking at exactly midnight between two date windows is served by both;
    the reader keeps the first. The key is taken before parsing, so an entry
    served twice is reported once even when it is unusable.
    """
    if not isinstance(raw, dict):
        return None
    book_id = _int_id(raw.get("bookingId"))
    return None if book_id is None else f"{_int_id(raw.get('businessId'))}_{book_id}"


def _checked_id(value: object, where: str) -> None:
    if value is not None and _int_id(value) is None:
        raise _Bad(f"{where} is not a numeric id")


def _flag(value: object, where: str) -> bool:
    if value is None or isinstance(value, bool):
        return value is True
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    if isinstance(value, str) and len(value) <= 10:
        text = value.strip().lower()
        if text in _TRUE_TEXT or text in _FALSE_TEXT:
            return text in _TRUE_TEXT
    raise _Bad(f"{where} is not true or false")


def _visit_time(value: object, where: str) -> datetime | None:
    """The KST instant of one of the API's UTC times, None if absent; _Bad if unusable."""
    if value is None or value == "":
        return None
    # The value itself is not quoted when unreadable: free text may hold a phone number.
    expected = "a UTC time like 2026-11-25T05:00:00Z"
    if not isinstance(value, str) or len(value) > _MAX_TIME_CHARS:
        raise _Bad(f"{where} is not {expected}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _Bad(f"{where} is not {expected}") from None
    if moment.tzinfo is None:
        # The API always marks UTC; guessing a zone could move a reminder by 9 hours.
        raise _Bad(f"{where} has no time zone: expected {expected}")
    low, high = VISIT_YEARS
    # The year is checked before converting: year 1 or 9999 may not survive +09:00.
    if not low <= moment.year <= high:
        raise _Bad(f"{where} {moment.isoformat()!r} is outside the years {low}-{high}")
    return moment.astimezone(KST)


def _text(value: object, where: str, limit: int = MAX_TEXT_CHARS) -> str | None:
    """A stripped text without lone surrogates; None when absent or blank."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Bad(f"{where} is not text")
    if len(value) > limit * 4:  # spare stripping a megabyte only to refuse it
        raise _Bad(f"{where} is longer than {limit} characters")
    text = clean_text(value.strip())
    if len(text) > limit:
        raise _Bad(f"{where} is longer than {limit} characters")
    return text or None


def _option_names(value: object, where: str) -> list[str] | None:
    """The distinct option names, None when the field is absent."""
    options = _decoded(value, where)
    if options is None:
        return None
    if not isinstance(options, list):
        raise _Bad(f"{where} is not a list of options")
    if len(options) > MAX_OPTIONS:
        raise _Bad(f"{where} has more than {MAX_OPTIONS} options")
    names: list[str] = []
    for option in options:
        if not isinstance(option, dict):
            raise _Bad(f"{where} holds an option that is not an object")
        # An option without a name cannot match a keyword: skipped, not an error.
        name = _text(option.get("name"), f"{where} option name")
        if name is not None and name not in names:
            names.append(name)
    return names


def _status_code(value: object, requested: str | None) -> str:
    if value is None or value == "":
        if requested is None:
            # Several statuses were asked for at once: guessing one could give a
            # cancelled booking a reminder.
            raise _Bad("no bookingStatusCode (several statuses were asked for at once)")
        return requested  # the entry came back for the status asked for
    if isinstance(value, str) and STATUS_CODE.match(value):
        return value
    raise _Bad("bookingStatusCode is not a status code like RC03")


def parse_booking(raw: object, *, biz_id: str, status: str | None) -> Booking:
    """One API booking as a domain Booking, or `UnusableBooking` saying why not.

    The Booking's extras: `status` (the entry's `bookingStatusCode`),
    `item_name`, `option_names` (list of str), `end_time` (KST) when known,
    and `cancelled_at` (KST) for a cancelled booking whose entry says when.
    Every field is checked for its type and range; a value that is present
    but wrong (not null) makes the booking unusable, with the field named.
    `status` is the one status asked for (an entry without a code has it);
    None when several were asked for at once (an entry without a code is
    then unusable).
    """
    if not isinstance(raw, dict):
        raise UnusableBooking(UnusableEntry(reason="entry is not a JSON object"))
    snap = _lenient_snapshot(raw.get("snapshotJson"))

    book_id = _int_id(raw.get("bookingId")) or _int_id(snap.get("bookingId"))
    owner = _int_id(raw.get("businessId")) or _int_id(snap.get("businessId")) or biz_id
    booking_num = make_booking_num(owner, book_id) if book_id is not None else None
    phone_raw = raw.get("phone")
    if not isinstance(phone_raw, str) or not phone_raw.strip():
        phone_raw = snap.get("phone", phone_raw)  # the snapshot keeps what the customer gave

    def unusable(reason: str, *, with_phone: bool = True) -> UnusableBooking:
        shown = mask_phone(phone_raw) if with_phone and phone_raw is not None else None
        return UnusableBooking(
            UnusableEntry(reason=reason, booking_num=booking_num, phone_masked=shown)
        )

    if booking_num is None:
        if raw.get("bookingId") is not None:
            raise unusable("bookingId is not a numeric id")
        raise unusable("no bookingId")
    try:
        return _checked_booking(raw, booking_num, phone_raw, status)
    except _Bad as exc:
        raise unusable(str(exc)) from None
    except _NoPhone:
        raise unusable("no phone number", with_phone=False) from None
    except BookingValidationError as exc:  # messages are safe: phones arrive masked
        raise unusable(str(exc)) from None


def _checked_phone(top: object, phone_raw: object) -> str:
    """The stored form of the entry's phone (`phone_raw`: the top level's or the snapshot's)."""
    if top is not None and not isinstance(top, str):
        raise _Bad("phone is not a Korean mobile number")
    if not isinstance(phone_raw, str):
        if phone_raw is None:
            raise _NoPhone
        raise _Bad("phone is not a Korean mobile number")
    if not phone_raw.strip():
        raise _NoPhone
    if "*" in phone_raw:
        raise _Bad(MASKED_REASON)
    if len(phone_raw) > _MAX_PHONE_CHARS:
        raise _Bad("phone is not a Korean mobile number")
    try:
        phone = normalize_phone(phone_raw)
    except BookingValidationError:
        raise _Bad("phone is not a Korean mobile number") from None
    return phone


def _checked_booking(
    raw: Mapping[str, Any], booking_num: str, phone_raw: object, status: str | None
) -> Booking:
    for key in ("bookingId", "businessId"):
        _checked_id(raw.get(key), key)
    snapshot = _decoded(raw.get("snapshotJson"), "snapshotJson")
    if snapshot is not None and not isinstance(snapshot, dict):
        raise _Bad("snapshotJson is not an object")
    snap: Mapping[str, Any] = snapshot or {}
    for key in ("bookingId", "businessId"):
        _checked_id(snap.get(key), f"snapshotJson.{key}")

    masked = _flag(raw.get("isForcedPrivacyMasking"), "isForcedPrivacyMasking")
    if _flag(snap.get("isForcedPrivacyMasking"), "snapshotJson.isForcedPrivacyMasking") or masked:
        raise _Bad(MASKED_REASON)
    phone = _checked_phone(raw.get("phone"), phone_raw)

    name = _text(raw.get("name"), "name", MAX_NAME_CHARS) or _text(
        snap.get("name"), "snapshotJson.name", MAX_NAME_CHARS
    )
    if name is None:
        raise _Bad("no customer name")

    start = _visit_time(snap.get("startDateTime"), "snapshotJson.startDateTime") or _visit_time(
        raw.get("startDateTime"), "startDateTime"
    )
    if start is None:
        raise _Bad("no usable visit start (snapshotJson.startDateTime, UTC)")
    end = _visit_time(snap.get("endDateTime"), "snapshotJson.endDateTime") or _visit_time(
        raw.get("endDateTime"), "endDateTime"
    )
    options = _option_names(raw.get("bookingOptionJson"), "bookingOptionJson")
    if options is None:
        options = _option_names(snap.get("bookingOptionJson"), "snapshotJson.bookingOptionJson")
    item_name = _text(raw.get("bizItemName"), "bizItemName") or _text(
        snap.get("bizItemName"), "snapshotJson.bizItemName"
    )
    code = _status_code(raw.get("bookingStatusCode"), status)
    extra: dict[str, Any] = {
        "status": code,
        "item_name": item_name or "",
        "option_names": options or [],
        "end_time": format_booking_time(end) if end is not None else None,
    }
    if code == CANCELLED:
        cancelled = _cancelled_at(raw, snap)
        if cancelled is not None:
            extra["cancelled_at"] = format_booking_time(cancelled)
    return Booking(
        booking_num=booking_num,
        phone=phone,
        name=name,
        booking_time=format_booking_time(start),
        extra=extra,
    )


def _cancelled_at(raw: Mapping[str, Any], snap: Mapping[str, Any]) -> datetime | None:
    """When the booking was cancelled (KST), None when the entry does not say or says garbage.

    Lenient on purpose: the time only dates the cancellation notice, and an
    unreadable one must not cost the customer the notice itself. The field
    names are the console's pattern (`confirmedDateTime`), not a contract.
    """
    for source in (raw, snap):
        for key in CANCELLED_AT_FIELDS:
            try:
                moment = _visit_time(source.get(key), key)
            except _Bad:
                continue
            if moment is not None:
                return moment
    return None


def parse_bookings(
    entries: Iterable[object], *, biz_id: str, status: str | None
) -> tuple[list[Booking], list[UnusableEntry]]:
    """Usable bookings and the unusable entries, each reported once, in API order."""
    bookings: list[Booking] = []
    unusable: list[UnusableEntry] = []
    for raw in entries:
        try:
            bookings.append(parse_booking(raw, biz_id=biz_id, status=status))
        except UnusableBooking as exc:
            unusable.append(exc.entry)
        except Exception as exc:
            # A shape no check foresaw must still cost one entry, not the store's others.
            # Only the type is logged: the message may quote the data.
            log.error(
                "Booking entry could not be read",
                operation="parse_booking",
                context={"biz_id": biz_id, "status": status},
                error=type(exc).__name__,
            )
            unusable.append(UnusableEntry(reason=f"could not be read ({type(exc).__name__})"))
    return bookings, unusable
