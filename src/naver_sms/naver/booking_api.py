"""The partner booking API client: one store, its statuses, a window of KST dates.

What it sends is the console's own query, as observed. The API is the owner
console's own internal JSON, not a published contract, so everything here is
defensive: a response of the wrong shape is a `BookingApiError` for that
store and status, never a crash of the cycle. Turning the entries into
bookings (and a booking that cannot be used into a reason) is `parsing`'s.

Paging: the client reads page 0 of each date window directly; a short page
(fewer than `size`, 50) is the end, so a quiet window costs one request and
a busy one its pages (plus an empty one when the last is exactly full), with
no count request: the count endpoint doubled the requests of every store and
status for nothing but a warning. A full page means there may be more: the
next pages are read concurrently, in growing batches (1, then 2, then 4
pages), and reading stops at the first short page; a page read past it costs
its request and nothing else (at most 3, only for windows of 100 bookings or
more). Safety: a full page bringing
nothing new means the server ignores `page` (reading stops, with a
warning), and `MAX_PAGES` caps a window. A server capping the page size
below `size` would look like the end after its first page; the console's own
size (50) is the one that is known to be served whole.

Several statuses: public clients send `bookingStatusCodes=RC03,RC04` in one
request, which halves the requests of a store's confirmed and cancelled
bookings; Naver has not promised it. `multi_status` (config) says True, False,
or None: find out once, on the first read that can tell (the joined count
must equal the single counts' sum; an API that kept only the first code would
otherwise lose every cancellation silently), and remember. That probe is the
only use of the count endpoint by a read, once per client. A 400 or error
answer to a list, or a status not asked for in the answer, falls back to one
read per status and is remembered too.
"""

from __future__ import annotations

import contextvars
import re
import threading
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, closing, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from naver_sms.domain.booking import KST, Booking
from naver_sms.domain.session import LOGIN_COOKIES, cookie_matches_host
from naver_sms.naver.errors import BookingApiError, NaverThrottled, SessionExpired
from naver_sms.naver.parsing import (
    MASKED_REASON,
    STATUS_CODE,
    UnusableEntry,
    entry_id,
    parse_booking,
    parse_bookings,
)
from naver_sms.utils.clock import to_utc_z
from naver_sms.utils.http import HttpAdapter
from naver_sms.utils.logger import get_logger, logged_operation

# The parsing names are re-exported: callers import them from here.
__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MASKED_REASON",
    "MAX_PAGES",
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
    "parse_booking",
    "parse_bookings",
]

Cookies = Sequence[Mapping[str, Any]]
"""Cookie objects as the seed stores them: at least `name` and `value`."""
Window = tuple[str, str]
"""A date window's start and end as the API's query writes them (`utils.clock.to_utc_z`)."""

DEFAULT_PAGE_SIZE: Final = 50
MAX_WINDOW_DAYS: Final = 31  # the API answers 422 to a longer window
# A desktop browser's user agent: the console is only ever used from one.
DEFAULT_USER_AGENT: Final = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
DEFAULT_TIMEOUT: Final = httpx.Timeout(connect=5.0, read=20.0, write=10.0, pool=5.0)
# The most pages one date window is read to (10,000 bookings at 50 a page, far
# beyond a shop's month): a server that keeps answering full pages of new
# entries must not keep a cycle reading for ever.
MAX_PAGES: Final = 200
# The most pages of one read in flight at once. Reads of several stores run
# in parallel already (the cycle's workers); this only shortens one busy
# store's window, and stays well under the connection pool's limit.
PARALLEL_PAGES: Final = 4
_BIZ_ID = re.compile(r"^[0-9]+$")

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The usable bookings of one store and status, and the entries that were not."""

    biz_id: str
    status: str
    bookings: list[Booking] = field(default_factory=list)
    unusable: list[UnusableEntry] = field(default_factory=list)
    requests: int = 0  # HTTP requests made, retries included

    @property
    def statuses(self) -> tuple[str, ...]:
        """The statuses read (`status` holds them joined: "RC03,RC04")."""
        return tuple(self.status.split(","))


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


def _safe_location(location: str) -> str:
    """A redirect target without its query (it may carry tokens)."""
    parts = urlsplit(location)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else parts.path


def _looks_like_login(text: str) -> bool:
    return "nidlogin" in text or "nid.naver.com" in text


def _query_windows(start: date, end: date) -> list[Window]:
    return [(to_utc_z(opens), to_utc_z(closes)) for opens, closes in date_windows(start, end)]


class BookingApi(HttpAdapter):
    """The partner booking API over httpx. One instance serves many stores and threads.

    `client=None` builds an httpx.Client with timeouts; pass one (or one over
    a MockTransport) in tests. `sleep` is the backoff's sleep (tests pass a
    recorder). Retries: 5xx, timeouts and connection errors, `retries` more
    times after the first try, waiting `backoff * 2**n` (at most
    `max_backoff`) seconds in between. Throttling (429) is never retried.
    `max_requests` bounds the requests in flight at once (the cycle's workers).
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
        multi_status: bool | None = None,
        max_requests: int | None = None,
    ) -> None:
        if page_size < 1 or retries < 0 or (max_requests is not None and max_requests < 1):
            raise ValueError("page_size and max_requests must be >= 1 and retries >= 0")
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
        # Several statuses per request: True/False as configured, None to find
        # out on the first read that can tell, then remembered for this client.
        self._multi_status = multi_status
        self._decision_lock = threading.Lock()
        # Requests in flight at once, over every store and page: the cycle's
        # workers each read pages side by side, and all of it goes to one account.
        self._in_flight: AbstractContextManager[object] = (
            nullcontext() if max_requests is None else threading.BoundedSemaphore(max_requests)
        )

    @property
    def multi_status(self) -> bool | None:
        """Whether one request serves several statuses: True, False, or None (not known yet)."""
        with self._decision_lock:
            return self._multi_status

    def _decide(self, honoured: bool, why: str) -> None:
        with self._decision_lock:
            changed = self._multi_status is not honoured
            self._multi_status = honoured
        if changed:
            log.info(
                "Several statuses per request" if honoured else "One status per request",
                operation="fetch_bookings",
                reason=why,
            )

    def fetch_bookings(
        self,
        biz_id: str,
        statuses: str | Sequence[str],
        start: date,
        end: date,
        cookies: Cookies,
    ) -> FetchResult:
        """Every booking of `biz_id` in `statuses` whose visit starts on a KST date in start..end.

        `statuses` is one code (`"RC03"`) or several (`("RC03", "RC04")`).
        Several are asked for in one request (`bookingStatusCodes=RC03,RC04`)
        when the API honours that (see `multi_status`), else one read per
        status; either way each booking comes once, with its own status in
        `extra["status"]` (a booking whose status changed between two reads
        keeps the later read's). Raises SessionExpired when Naver refuses the
        cookies, BookingApiError for anything else unusable; unusable single
        bookings are in the result.
        """
        codes = _status_codes(statuses)
        with logged_operation(
            "fetch_bookings",
            "Bookings fetched",
            logger=log,
            biz_id=str(biz_id),
            status=",".join(codes),
            start=start.isoformat(),
            end=end.isoformat(),
        ) as ctx:
            result = self._fetch_statuses(biz_id, codes, start, end, cookies, ctx)
            ctx.update(
                bookings=len(result.bookings),
                unusable=len(result.unusable),
                requests=result.requests,
            )
        return result

    def _fetch_statuses(
        self,
        biz_id: str,
        codes: tuple[str, ...],
        start: date,
        end: date,
        cookies: Cookies,
        ctx: dict[str, Any],
    ) -> FetchResult:
        if len(codes) > 1 and self.multi_status is not False:
            read = _Read(self, biz_id, codes, cookies)
            try:
                return self._fetch(read, start, end, ctx)
            except _ListNotHonoured as refused:
                log.warning(
                    "Several statuses in one request not honoured; one request per status",
                    operation="fetch_bookings",
                    context={"biz_id": read.biz_id, "status": read.status},
                    reason=refused.reason,
                )
                if refused.certain:
                    self._decide(False, refused.reason)
                wasted, reason = read.requests, refused.reason
            result = self._fetch_each(biz_id, codes, start, end, cookies, ctx)
            # A refusal (400) means "no lists" only once the single statuses
            # were read: the 400 may have been about something else.
            self._decide(False, reason)
            return replace(result, requests=result.requests + wasted)
        return self._fetch_each(biz_id, codes, start, end, cookies, ctx)

    def _fetch_each(
        self,
        biz_id: str,
        codes: tuple[str, ...],
        start: date,
        end: date,
        cookies: Cookies,
        ctx: dict[str, Any],
    ) -> FetchResult:
        """One read per status, merged: what a single-status API can answer."""
        if len(codes) == 1:
            return self._fetch(_Read(self, biz_id, codes, cookies), start, end, ctx)
        merged: dict[str, Booking] = {}
        unusable: list[UnusableEntry] = []
        requests = 0
        for code in codes:
            result = self._fetch(_Read(self, biz_id, (code,), cookies), start, end, ctx)
            requests += result.requests
            for booking in result.bookings:
                merged.pop(booking.booking_num, None)  # the later read's status is newer
                merged[booking.booking_num] = booking
            unusable += [entry for entry in result.unusable if entry not in unusable]
        return FetchResult(
            biz_id=str(biz_id),
            status=",".join(codes),
            bookings=list(merged.values()),
            unusable=unusable,
            requests=requests,
        )

    def _fetch(self, read: _Read, start: date, end: date, ctx: dict[str, Any]) -> FetchResult:
        """One read over the date windows, parsed; its pages added to `ctx`."""
        for window in _query_windows(start, end):
            read.read_window(window)
        ctx["pages"] = ctx.get("pages", 0) + read.pages
        bookings, unusable = parse_bookings(
            read.entries,
            biz_id=read.biz_id,
            status=read.statuses[0] if len(read.statuses) == 1 else None,
        )
        return FetchResult(
            biz_id=read.biz_id,
            status=read.status,
            bookings=bookings,
            unusable=unusable,
            requests=read.requests,
        )

    def count(self, biz_id: str, status: str, start: date, end: date, cookies: Cookies) -> int:
        """The number of bookings the count endpoint reports for the dates (windows summed)."""
        read = _Read(self, biz_id, (status,), cookies)
        return sum(read.count(window) for window in _query_windows(start, end))

    def has_login_cookies(self, cookies: Cookies) -> bool:
        """Whether `cookies` hold a login cookie this API's host is sent: else no read can work."""
        return any(
            cookie.get("name") in LOGIN_COOKIES and cookie_matches_host(cookie, self._host)
            for cookie in cookies
        )

    def check_session(self, cookies: Cookies, biz_id: str, today: date) -> bool:
        """True when the API accepts the cookies: one count request, no browser.

        False only when Naver *refuses* them. A network failure or an odd
        answer raises BookingApiError: it says nothing about the cookies, and
        treating it as "expired" would throw a good session away.
        """
        if not self.has_login_cookies(cookies):
            return False
        try:
            self.count(biz_id, "RC03", today, today, cookies)
        except SessionExpired:
            return False
        return True

    # -- what every request of the console carries

    def _params(self, status: str, window: Window, page: int) -> dict[str, str | int]:
        # The console's own query, field for field (as observed).
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


class _ListNotHonoured(Exception):
    """The API did not answer several statuses in one request as asked."""

    def __init__(self, reason: str, *, certain: bool, requests: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.certain = certain  # False: a refusal that may have had another cause
        self.requests = requests


def _status_codes(statuses: object) -> tuple[str, ...]:
    """The distinct codes of `statuses` (one code, "RC03,RC04", or a sequence), in order."""
    items = statuses.split(",") if isinstance(statuses, str) else statuses
    if not isinstance(items, Sequence) or not items:
        raise ValueError(f"status must be a code like RC03 or a list of them, got {statuses!r}")
    codes: list[str] = []
    for code in items:
        if not isinstance(code, str) or not STATUS_CODE.match(code):
            raise ValueError(f"status must be a code like RC03, got {code!r}")
        if code not in codes:
            codes.append(code)
    return tuple(codes)


class _Read:
    """One read of one store and its statuses: its requests, its pages, the entries they brought.

    Made per call and never shared, so one `BookingApi` serves many stores
    and threads while each read keeps its own counts; `BookingApiError`s name
    its store and status. Several statuses are one read of the joined list.
    """

    def __init__(self, api: BookingApi, biz_id: object, statuses: object, cookies: Cookies) -> None:
        biz = str(biz_id)
        if not _BIZ_ID.match(biz):
            raise ValueError(f"store id must be a numeric Naver businessId, got {biz!r}")
        self.statuses = _status_codes(statuses)
        self.api = api
        self.biz_id = biz
        self.status = ",".join(self.statuses)
        self.combined = len(self.statuses) > 1
        self.requests = 0  # HTTP requests made, retries included
        self.pages = 0  # list pages answered
        self.entries: list[object] = []  # raw, in API order, each served entry once
        self._seen: set[str] = set()
        self._cookies = cookies
        self._counting = threading.Lock()  # pages of one window are read concurrently

    def read_window(self, window: Window) -> None:
        """Every entry of one date window: page 0, then, while pages come back full, the next."""
        if self.combined and self.api.multi_status is None:
            self._probe(window, self.count(window))
        size = self.api.page_size
        entries = self.page(window, 0)
        self._keep(entries)
        page, batch = 1, 1
        while len(entries) >= size:
            if page >= MAX_PAGES:
                log.warning(
                    f"Too many pages: a window is read to {MAX_PAGES} pages; "
                    "its bookings past them are not read",
                    operation="fetch_bookings",
                    context={"biz_id": self.biz_id, "status": self.status, "pages": page},
                )
                return
            numbers = range(page, min(page + batch, MAX_PAGES))
            with closing(self._pages(window, numbers)) as pages:
                for entries in pages:
                    new = self._keep(entries)
                    if len(entries) < size:
                        return  # the first short page is the end
                    if new == 0:
                        # A full page of entries already read: the server ignores `page`.
                        log.warning(
                            "Naver served the same bookings again; reading stops here",
                            operation="fetch_bookings",
                            context={"biz_id": self.biz_id, "status": self.status, "page": page},
                        )
                        return
                    page += 1
            batch = min(batch * 2, PARALLEL_PAGES)

    def _pages(self, window: Window, numbers: range) -> Generator[list[object]]:
        """Pages `numbers` of the window, in order; read concurrently when there are several.

        The caller stops taking pages at the first short one: a page read
        past it costs its request and nothing else, not even its error. A
        page the caller takes and that failed raises here, in page order.
        """
        if len(numbers) == 1:
            yield self.page(window, numbers[0])
            return
        with ThreadPoolExecutor(len(numbers), thread_name_prefix="naver-page") as pool:
            # Each page in a copy of this context: its retry warnings keep the cycle's fields.
            futures: list[Future[list[object]]] = [
                pool.submit(contextvars.copy_context().run, self.page, window, number)
                for number in numbers
            ]
            try:
                for future in futures:
                    yield future.result()
            finally:
                for future in futures:
                    future.cancel()

    def _probe(self, window: Window, together: int) -> None:
        """Is the list honoured? The joined count must be the sum of the single counts.

        Asked once per `BookingApi` (the answer is remembered), and only
        when the config leaves it open: an API that takes only the first
        code of the list would otherwise lose every cancellation silently.
        Nothing counted anywhere tells nothing; the next read asks again.
        """
        singles = [self.count(window, code) for code in self.statuses]
        if together == sum(singles) == 0:
            return
        if together == sum(singles):
            self.api._decide(True, f"counts agree ({together})")
            return
        raise _ListNotHonoured(
            f"counted {together} for {self.status}, {sum(singles)} one status at a time",
            certain=True,
        )

    def count(self, window: Window, status: str | None = None) -> int:
        body = self._get_json(
            f"/v3.1/businesses/{self.biz_id}/bookings/count",
            self.api._params(status or self.status, window, 0),
        )
        count = body.get("count") if isinstance(body, dict) else None
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise self._error(f"count endpoint answered {_shape(body)} instead of {{'count': N}}")
        return count

    def page(self, window: Window, page: int) -> list[object]:
        body = self._get_json(
            f"/api/businesses/{self.biz_id}/bookings",
            self.api._params(self.status, window, page),
        )
        if not isinstance(body, list):
            raise self._error(f"bookings page {page} is {_shape(body)}, not a JSON array")
        with self._counting:
            self.pages += 1
        if self.combined:
            foreign = {
                code
                for raw in body
                if isinstance(raw, dict)
                and isinstance(code := raw.get("bookingStatusCode"), str)
                and STATUS_CODE.match(code)
                and code not in self.statuses
            }
            if foreign:
                # The filter was ignored: this is not the answer asked for.
                raise _ListNotHonoured(
                    f"asked for {self.status}, got {','.join(sorted(foreign))} too",
                    certain=True,
                )
        return body

    def _keep(self, entries: list[object]) -> int:
        """Keep the entries not served before (by an earlier window or page); how many."""
        new = 0
        for raw in entries:
            key = entry_id(raw)
            if key is not None:
                if key in self._seen:
                    continue
                self._seen.add(key)
            self.entries.append(raw)
            new += 1
        return new

    def _error(self, message: str) -> BookingApiError:
        return BookingApiError(message, biz_id=self.biz_id, status=self.status)

    def _get_json(self, path: str, params: dict[str, str | int]) -> object:
        response = self._get(path, params)
        code = response.status_code
        if code == 429:
            raise NaverThrottled("Naver throttled the booking API (HTTP 429)")
        if code in (401, 403):
            raise SessionExpired(f"Naver refused the session cookies (HTTP {code})")
        if code == 400 and self.combined:
            raise _ListNotHonoured(f"HTTP 400 to {self.status}", certain=False)
        if response.is_redirect:
            location = response.headers.get("location", "")
            if _looks_like_login(location):
                raise SessionExpired("Naver redirected to the login page: the session expired")
            raise self._error(f"unexpected redirect (HTTP {code}) to {_safe_location(location)}")
        if code != 200:
            raise self._error(f"HTTP {code} from {path.rsplit('/', 1)[-1]}: {_snippet(response)}")
        try:
            body = response.json()
        except RecursionError:  # nesting deeper than the parser goes
            raise self._error("answered JSON nested too deeply to read") from None
        except ValueError:
            text = response.text
            if text.lstrip().startswith("<"):
                if _looks_like_login(text):
                    raise SessionExpired("Naver answered with its login page") from None
                raise self._error(
                    f"answered HTML instead of JSON ({response.headers.get('content-type', '?')})"
                ) from None
            raise self._error(
                f"answered something that is not JSON: {_snippet(response)}"
            ) from None
        errors = _error_messages(body)
        if errors is not None:
            raise self._error_answer(path, errors)
        return body

    def _error_answer(self, path: str, errors: list[str]) -> Exception:
        """What an `{"errors": [...]}` answer means: throttling, a refused list, or an error."""
        # Naver answers some failures, throttling among them, with HTTP 200
        # and an error list; read as data it would look like "no bookings".
        if any("toomanyrequests" in message.lower() for message in errors):
            return NaverThrottled("Naver throttled the booking API (BookingAPITooManyRequests)")
        shown = "; ".join(message[:80] for message in errors[:3]) or "no message"
        if self.combined:
            return _ListNotHonoured(f"error answer to {self.status}: {shown}", certain=False)
        return self._error(f"Naver answered an error instead of {path.rsplit('/', 1)[-1]}: {shown}")

    def _get(self, path: str, params: dict[str, str | int]) -> httpx.Response:
        """One GET with the bounded retries; vendor errors become ours here."""
        api = self.api
        url = api.base_url + path
        headers = api._headers(self.biz_id, self._cookies)
        attempts = api.retries + 1
        problem = ""
        for attempt in range(attempts):
            if attempt:
                delay = min(api.max_backoff, api.backoff * 2 ** (attempt - 1))
                log.warning(
                    "Retrying the booking API",
                    operation="booking_api_retry",
                    context={"biz_id": self.biz_id, "status": self.status, "attempt": attempt + 1},
                    error=problem,
                )
                api._sleep(delay)
            with self._counting:
                self.requests += 1
            try:
                with api._in_flight:
                    response = api._client.get(
                        url, params=params, headers=headers, timeout=api._timeout
                    )
            except httpx.TimeoutException as exc:
                problem = f"timed out ({type(exc).__name__})"
                continue
            except httpx.TransportError as exc:
                problem = f"connection failed ({type(exc).__name__})"
                continue
            except httpx.HTTPError as exc:
                raise self._error(f"request failed ({type(exc).__name__})") from None
            if response.status_code >= 500:
                problem = f"HTTP {response.status_code}"
                continue
            # 429 is not retried: throttling lasts minutes, and asking again at
            # once would only prolong it. The caller stops for this cycle.
            return response
        raise self._error(f"{problem} after {attempts} attempts")


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
