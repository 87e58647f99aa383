"""The partner booking API client: one store, one status, a window of KST dates.

Facts are in `shared/reference/naver-booking-api.md`. The API is the owner
console's own internal JSON, not a published contract, so everything here is
defensive: a booking that cannot be used is reported with a reason and never
stops the others, and a response of the wrong shape is a `BookingApiError`
for that store and status, never a crash of the cycle.

Paging: the client asks the count endpoint first, then reads
ceil(count / size) pages of `size` (50). That is the console's own request
pattern (the owner's browser does the same), an empty window costs one small
request and no list call at all (the common case for RC08 and quiet stores),
and a short page before the expected end shows up as a warning instead of a
silently truncated list, which "read until a short page" could not tell from
the end. Bookings confirmed while we read are still caught: when the last
expected page is full, reading goes on until a page is short or brings
nothing new.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

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
from naver_sms.domain.session import cookie_matches_host
from naver_sms.naver.errors import BookingApiError, NaverThrottled, SessionExpired
from naver_sms.utils.http import HttpAdapter
from naver_sms.utils.logger import get_logger, logged_operation

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_WINDOW_DAYS",
    "BookingApi",
    "BookingApiError",
    "Cookies",
    "FetchResult",
    "NaverThrottled",
    "SessionExpired",
    "UnusableEntry",
    "cookie_header",
    "date_windows",
    "format_utc_z",
    "parse_booking",
    "parse_bookings",
]

Cookies = Sequence[Mapping[str, Any]]
"""Cookie objects as the seed stores them: at least `name` and `value`."""

DEFAULT_PAGE_SIZE: Final = 50
MAX_WINDOW_DAYS: Final = 31  # the API answers 422 to a longer window
# A desktop browser's user agent: the console is only ever used from one.
DEFAULT_USER_AGENT: Final = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
DEFAULT_TIMEOUT: Final = httpx.Timeout(connect=5.0, read=20.0, write=10.0, pool=5.0)
# Pages read past the count when the last expected one comes back full; a
# server ignoring `page` is caught earlier by the "nothing new" rule.
_EXTRA_PAGES: Final = 20
MASKED_REASON: Final = "masked by Naver"
_STATUS_CODE = re.compile(r"^[A-Z]{2}[0-9]{2}$")
_BIZ_ID = re.compile(r"^[0-9]+$")

log = get_logger(__name__)


# ---------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class UnusableEntry:
    """A booking the API returned that cannot be used, and why (phone masked)."""

    reason: str
    booking_num: str | None = None
    phone_masked: str | None = None

    def to_dict(self) -> dict[str, str]:
        """The `invalid` item of the cycle report (`interfaces.md`)."""
        item = {"booking_num": self.booking_num or "", "reason": self.reason}
        if self.phone_masked:
            item["phone_masked"] = self.phone_masked
        return item


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The usable bookings of one store and status, and the entries that were not."""

    biz_id: str
    status: str
    bookings: list[Booking] = field(default_factory=list)
    unusable: list[UnusableEntry] = field(default_factory=list)
    requests: int = 0  # HTTP requests made, retries included


class UnusableBooking(Exception):  # a result, raised only inside parsing
    def __init__(self, entry: UnusableEntry) -> None:
        self.entry = entry
        super().__init__(entry.reason)


# ---------------------------------------------------------------- parsing

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


def _status_code(value: object, requested: str) -> str:
    if value is None or value == "":
        return requested  # the entry came back for the status asked for
    if isinstance(value, str) and _STATUS_CODE.match(value):
        return value
    raise _Bad("bookingStatusCode is not a status code like RC03")


def parse_booking(raw: object, *, biz_id: str, status: str) -> Booking:
    """One API booking as a domain Booking, or `UnusableBooking` saying why not.

    The Booking's extras: `status` (the entry's `bookingStatusCode`),
    `item_name`, `option_names` (list of str), and `end_time` (KST) when known.
    Every field is checked for its type and range; a value that is present
    but wrong (not null) makes the booking unusable, with the field named.
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
    raw: Mapping[str, Any], booking_num: str, phone_raw: object, status: str
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
    extra: dict[str, Any] = {
        "status": _status_code(raw.get("bookingStatusCode"), status),
        "item_name": item_name or "",
        "option_names": options or [],
        "end_time": format_booking_time(end) if end is not None else None,
    }
    return Booking(
        booking_num=booking_num,
        phone=phone,
        name=name,
        booking_time=format_booking_time(start),
        extra=extra,
    )


def parse_bookings(
    entries: Iterable[object], *, biz_id: str, status: str
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


# ---------------------------------------------------------------- windows


def format_utc_z(moment: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.000Z`: the only time form the API accepts (else 422)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: give a time zone (the host's must not matter)")
    utc = moment.astimezone(UTC)
    # `%Y` writes a year below 1000 with fewer digits; the API wants exactly four.
    return f"{utc.year:04d}-" + utc.strftime("%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def date_windows(
    start: date, end: date, max_days: int = MAX_WINDOW_DAYS
) -> list[tuple[datetime, datetime]]:
    """The KST dates start..end (inclusive) as UTC windows of at most `max_days` days.

    Each window runs from a date's 00:00 KST to the 00:00 KST after its last
    date. A booking at exactly that midnight may come back in two windows;
    the caller drops the duplicate.
    """
    if end < start:
        raise ValueError(f"window end {end} is before its start {start}")
    windows: list[tuple[datetime, datetime]] = []
    day = start
    while day <= end:
        last = min(end, day + timedelta(days=max_days - 1))
        opens = datetime(day.year, day.month, day.day, tzinfo=KST)
        after = last + timedelta(days=1)
        closes = datetime(after.year, after.month, after.day, tzinfo=KST)
        windows.append((opens.astimezone(UTC), closes.astimezone(UTC)))
        day = after
    return windows


def cookie_header(cookies: Cookies, host: str) -> str:
    """The `Cookie` header for a request to `host`; a name seen twice keeps its last value.

    Only cookies whose domain matches `host` go out (`cookie_matches_host`):
    a session may hold a cookie of another site, and Naver must never see
    it, nor the sandbox see Naver's. The header is built here rather than by
    httpx's jar because a jar shared by the client could mix two sessions.
    """
    pairs: dict[str, str] = {}
    for cookie in cookies:
        name, value = cookie.get("name"), cookie.get("value")
        if (
            isinstance(name, str)
            and isinstance(value, str)
            and name
            and cookie_matches_host(cookie, host)
        ):
            pairs[name] = value
    return "; ".join(f"{name}={value}" for name, value in pairs.items())


# ---------------------------------------------------------------- client


def _safe_location(location: str) -> str:
    """A redirect target without its query (it may carry tokens)."""
    parts = urlsplit(location)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else parts.path


def _looks_like_login(text: str) -> bool:
    return "nidlogin" in text or "nid.naver.com" in text


class BookingApi(HttpAdapter):
    """The partner booking API over httpx. One instance serves many stores and threads.

    `client=None` builds an httpx.Client with timeouts; pass one (or one over
    a MockTransport) in tests. `sleep` is the backoff's sleep (tests pass a
    recorder). Retries: 5xx, 429, timeouts and connection errors, `retries`
    more times after the first try, waiting `backoff * 2**n` (at most
    `max_backoff`) seconds in between.
    """

    def __init__(
        self,
        base_url: str = "https://partner.booking.naver.com",
        *,
        client: httpx.Client | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        page_size: int = DEFAULT_PAGE_SIZE,
        user_agent: str = DEFAULT_USER_AGENT,
        cache_buster: Callable[[], int] | None = None,
    ) -> None:
        if page_size < 1 or retries < 0:
            raise ValueError("page_size must be >= 1 and retries >= 0")
        # Redirects are not followed: a redirect to the login page is how an
        # expired session shows, and following it would hide that.
        super().__init__(base_url, client, timeout, follow_redirects=False)
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self.page_size = page_size
        self.user_agent = user_agent
        self._host = urlsplit(self.base_url).hostname or ""
        # `noCache` only defeats caches; it is not business time, so the wall clock is fine.
        self._cache_buster = cache_buster or (lambda: time.time_ns() // 1_000_000)

    # -- lifecycle

    # -- public calls

    def fetch_bookings(
        self, biz_id: str, status: str, start: date, end: date, cookies: Cookies
    ) -> FetchResult:
        """Every booking of `biz_id` with `status` whose visit starts on a KST date in start..end.

        Raises SessionExpired when Naver refuses the cookies, BookingApiError
        for anything else unusable; unusable single bookings are in the result.
        """
        biz_id, status = self._checked(biz_id, status)
        counter = [0]
        seen: set[str] = set()
        raw_entries: list[object] = []
        pages = 0
        with logged_operation(
            "fetch_bookings",
            "Bookings fetched",
            logger=log,
            biz_id=biz_id,
            status=status,
            start=start.isoformat(),
            end=end.isoformat(),
        ) as ctx:
            for opens, closes in date_windows(start, end):
                window = (format_utc_z(opens), format_utc_z(closes))
                expected = self._count(biz_id, status, window, cookies, counter)
                if expected == 0:
                    continue
                last_expected = math.ceil(expected / self.page_size)
                got = 0
                page = 0
                while page < last_expected + _EXTRA_PAGES:
                    entries = self._page(biz_id, status, window, page, cookies, counter)
                    pages += 1
                    page += 1
                    new = 0
                    for raw in entries:
                        key = self._dedupe_key(raw)
                        if key is not None:
                            if key in seen:
                                continue
                            seen.add(key)
                        raw_entries.append(raw)
                        new += 1
                    got += len(entries)
                    if not entries or (page >= last_expected and len(entries) < self.page_size):
                        break
                    if page >= last_expected and got >= expected:
                        # Everything counted is read. A booking confirmed meanwhile
                        # is read next cycle; a speculative page per store and
                        # window would cost every cycle a request for nothing.
                        break
                    if page >= last_expected and new == 0:
                        break  # a full page of nothing new: the server ignores `page`
                if got < expected:
                    log.warning(
                        "Fewer bookings than counted",
                        operation="fetch_bookings",
                        context={"biz_id": biz_id, "status": status, "counted": expected},
                        # Bookings cancelled while we read, or a server capping page size.
                        read=got,
                    )
            bookings, unusable = parse_bookings(raw_entries, biz_id=biz_id, status=status)
            ctx.update(
                bookings=len(bookings),
                unusable=len(unusable),
                pages=pages,
                requests=counter[0],
            )
        return FetchResult(
            biz_id=biz_id,
            status=status,
            bookings=bookings,
            unusable=unusable,
            requests=counter[0],
        )

    def count(self, biz_id: str, status: str, start: date, end: date, cookies: Cookies) -> int:
        """The number of bookings the count endpoint reports for the dates (windows summed)."""
        biz_id, status = self._checked(biz_id, status)
        counter = [0]
        return sum(
            self._count(biz_id, status, (format_utc_z(a), format_utc_z(b)), cookies, counter)
            for a, b in date_windows(start, end)
        )

    def check_session(self, cookies: Cookies, biz_id: str, today: date) -> bool:
        """True when the API accepts the cookies: one count request, no browser.

        False only when Naver *refuses* them. A network failure or an odd
        answer raises BookingApiError: it says nothing about the cookies, and
        treating it as "expired" would throw a good session away.
        """
        if not any(
            cookie.get("name") in ("NID_AUT", "NID_SES") and cookie_matches_host(cookie, self._host)
            for cookie in cookies
        ):
            return False
        try:
            self.count(biz_id, "RC03", today, today, cookies)
        except SessionExpired:
            return False
        return True

    # -- internals

    @staticmethod
    def _checked(biz_id: object, status: object) -> tuple[str, str]:
        biz = str(biz_id)
        if not _BIZ_ID.match(biz):
            raise ValueError(f"store id must be a numeric Naver businessId, got {biz!r}")
        if not isinstance(status, str) or not _STATUS_CODE.match(status):
            raise ValueError(f"status must be a code like RC03, got {status!r}")
        return biz, status

    @staticmethod
    def _dedupe_key(raw: object) -> str | None:
        if not isinstance(raw, dict):
            return None
        book_id = _int_id(raw.get("bookingId"))
        return None if book_id is None else f"{_int_id(raw.get('businessId'))}_{book_id}"

    def _params(self, status: str, window: tuple[str, str], page: int) -> dict[str, str | int]:
        # The console's own query, field for field (naver-booking-api.md).
        return {
            "bizItemTypes": "STANDARD",
            "bookingStatusCodes": status,
            "dateDropdownType": "ENTIRE",
            "dateFilter": "USEDATE",
            "endDateTime": window[1],
            "maxDays": MAX_WINDOW_DAYS,
            "nPayChargedStatusCodes": "",
            "orderBy": "",
            "orderByStartDate": "ASC",
            "paymentStatusCodes": "",
            "searchValue": "",
            "page": page,
            "size": self.page_size,
            "startDateTime": window[0],
            "noCache": self._cache_buster(),
        }

    def _headers(self, biz_id: str, cookies: Cookies) -> dict[str, str]:
        return {
            "accept": "application/json, text/plain, */*",
            "user-agent": self.user_agent,
            "x-booking-naver-role": "OWNER",
            "referer": f"{self.base_url}/bizes/{biz_id}/booking-list-view",
            "cookie": cookie_header(cookies, self._host),
        }

    def _count(
        self,
        biz_id: str,
        status: str,
        window: tuple[str, str],
        cookies: Cookies,
        counter: list[int],
    ) -> int:
        body = self._get_json(
            f"/v3.1/businesses/{biz_id}/bookings/count",
            self._params(status, window, 0),
            biz_id,
            status,
            cookies,
            counter,
        )
        count = body.get("count") if isinstance(body, dict) else None
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise BookingApiError(
                f"count endpoint answered {_shape(body)} instead of {{'count': N}}",
                biz_id=biz_id,
                status=status,
            )
        return count

    def _page(
        self,
        biz_id: str,
        status: str,
        window: tuple[str, str],
        page: int,
        cookies: Cookies,
        counter: list[int],
    ) -> list[object]:
        body = self._get_json(
            f"/api/businesses/{biz_id}/bookings",
            self._params(status, window, page),
            biz_id,
            status,
            cookies,
            counter,
        )
        if not isinstance(body, list):
            raise BookingApiError(
                f"bookings page {page} is {_shape(body)}, not a JSON array",
                biz_id=biz_id,
                status=status,
            )
        return body

    def _get_json(
        self,
        path: str,
        params: dict[str, str | int],
        biz_id: str,
        status: str,
        cookies: Cookies,
        counter: list[int],
    ) -> object:
        response = self._get(path, params, biz_id, status, cookies, counter)
        code = response.status_code
        if code == 429:
            raise NaverThrottled("Naver throttled the booking API (HTTP 429)")
        if code in (401, 403):
            raise SessionExpired(f"Naver refused the session cookies (HTTP {code})")
        if response.is_redirect:
            location = response.headers.get("location", "")
            if _looks_like_login(location):
                raise SessionExpired("Naver redirected to the login page: the session expired")
            raise BookingApiError(
                f"unexpected redirect (HTTP {code}) to {_safe_location(location)}",
                biz_id=biz_id,
                status=status,
            )
        if code != 200:
            raise BookingApiError(
                f"HTTP {code} from {path.rsplit('/', 1)[-1]}: {_snippet(response)}",
                biz_id=biz_id,
                status=status,
            )
        try:
            body = response.json()
        except RecursionError:  # nesting deeper than the parser goes
            raise BookingApiError(
                "answered JSON nested too deeply to read", biz_id=biz_id, status=status
            ) from None
        except ValueError:
            text = response.text
            if text.lstrip().startswith("<"):
                if _looks_like_login(text):
                    raise SessionExpired("Naver answered with its login page") from None
                raise BookingApiError(
                    f"answered HTML instead of JSON ({response.headers.get('content-type', '?')})",
                    biz_id=biz_id,
                    status=status,
                ) from None
            raise BookingApiError(
                f"answered something that is not JSON: {_snippet(response)}",
                biz_id=biz_id,
                status=status,
            ) from None
        errors = _error_messages(body)
        if errors is not None:
            # Naver answers some failures, throttling among them, with HTTP 200
            # and an error list; read as data it would look like "no bookings".
            if any("toomanyrequests" in message.lower() for message in errors):
                raise NaverThrottled("Naver throttled the booking API (BookingAPITooManyRequests)")
            shown = "; ".join(message[:80] for message in errors[:3]) or "no message"
            raise BookingApiError(
                f"Naver answered an error instead of {path.rsplit('/', 1)[-1]}: {shown}",
                biz_id=biz_id,
                status=status,
            )
        return body

    def _get(
        self,
        path: str,
        params: dict[str, str | int],
        biz_id: str,
        status: str,
        cookies: Cookies,
        counter: list[int],
    ) -> httpx.Response:
        """One GET with the bounded retries; vendor errors become ours here."""
        url = self.base_url + path
        headers = self._headers(biz_id, cookies)
        attempts = self.retries + 1
        problem = ""
        for attempt in range(attempts):
            if attempt:
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                log.warning(
                    "Retrying the booking API",
                    operation="booking_api_retry",
                    context={"biz_id": biz_id, "status": status, "attempt": attempt + 1},
                    error=problem,
                )
                self._sleep(delay)
            counter[0] += 1
            try:
                response = self._client.get(
                    url, params=params, headers=headers, timeout=self._timeout
                )
            except httpx.TimeoutException as exc:
                problem = f"timed out ({type(exc).__name__})"
                continue
            except httpx.TransportError as exc:
                problem = f"connection failed ({type(exc).__name__})"
                continue
            except httpx.HTTPError as exc:
                raise BookingApiError(
                    f"request failed ({type(exc).__name__})", biz_id=biz_id, status=status
                ) from None
            if response.status_code >= 500:
                problem = f"HTTP {response.status_code}"
                continue
            # 429 is not retried: throttling lasts minutes, and asking again at
            # once would only prolong it. The caller stops for this cycle.
            return response
        raise BookingApiError(f"{problem} after {attempts} attempts", biz_id=biz_id, status=status)


def _error_messages(body: object) -> list[str] | None:
    """The messages of an `{"errors": [...]}` answer, None for any other body."""
    if not isinstance(body, dict) or "errors" not in body:
        return None
    errors = body["errors"]
    items = errors if isinstance(errors, list) else [errors]
    messages: list[str] = []
    for item in items:
        fields = (
            [item]
            if not isinstance(item, dict)
            else [item.get(key) for key in ("message", "code", "errorCode", "type")]
        )
        messages.extend(" ".join(value.split()) for value in fields if isinstance(value, str))
    return messages


def _shape(body: object) -> str:
    if isinstance(body, dict):
        keys = ", ".join(sorted(str(key) for key in body)[:5])
        return f"an object with keys [{keys}]"
    if isinstance(body, list):
        return f"an array of {len(body)}"
    return f"a JSON {type(body).__name__}"


def _snippet(response: httpx.Response, limit: int = 160) -> str:
    """The start of an error body, for the operator; the logger masks any phone in it."""
    text = " ".join(response.text.split())
    return (text[:limit] + "...") if len(text) > limit else (text or "(empty body)")
