"""The exact requests one read makes: what Naver sees must not change when the client is reshaped.

Each test records every request (endpoint, window, page, query, headers) a
read sends through httpx.MockTransport and the line the read logs, and checks
them against the console's pattern: the pages of each window, read until a
short one, and no count (the count endpoint only checks a session).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import httpx
import pytest

from naver_sms.naver.booking_api import MAX_PAGES, BookingApi, FetchResult, SessionExpired

STORE = "5000001"
COOKIES = [
    {"name": "NID_AUT", "value": "aut-canary", "domain": ".naver.com"},
    {"name": "other", "value": "not-for-naver", "domain": ".example.com"},
    {"name": "NID_SES", "value": "ses-canary", "domain": ".naver.com"},
]
BASE = "https://partner.booking.naver.com"
FIRST = date(2026, 11, 25)
# 40 KST days: two windows, 2026-11-25..12-25 (31 days) and 12-26..01-03.
LAST = date(2027, 1, 3)
WINDOW_1 = ("2026-11-24T15:00:00.000Z", "2026-12-25T15:00:00.000Z")
WINDOW_2 = ("2026-12-25T15:00:00.000Z", "2027-01-03T15:00:00.000Z")
Served = Callable[[str, tuple[str, str], int], object]


def _entry(book_id: int) -> dict[str, Any]:
    return {
        "bookingId": book_id,
        "businessId": int(STORE),
        "name": "김손님",
        "phone": f"010-0000-{book_id % 10000:04d}",
        "bookingStatusCode": "RC03",
        "snapshotJson": {"startDateTime": "2026-11-25T05:00:00Z"},
    }


class Recorder:
    """A fake Naver answering `served(kind, window, page)` and keeping every request."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        params = request.url.params
        kind = "count" if request.url.path.endswith("/count") else "list"
        window = (params["startDateTime"], params["endDateTime"])
        body = self.served(kind, window, int(params["page"]))
        if isinstance(body, httpx.Response):
            return body
        return httpx.Response(200, json=body)

    def calls(self) -> list[tuple[str, tuple[str, str], int]]:
        return [
            (
                "count" if r.url.path.endswith("/count") else "list",
                (r.url.params["startDateTime"], r.url.params["endDateTime"]),
                int(r.url.params["page"]),
            )
            for r in self.requests
        ]


def _read(
    served: Served, capsys: pytest.CaptureFixture[str], **kwargs: Any
) -> tuple[FetchResult, Recorder, list[dict[str, Any]]]:
    naver = Recorder(served)
    ticks = iter(range(1_000, 2_000))
    with httpx.Client(transport=httpx.MockTransport(naver)) as client:
        api = BookingApi(
            BASE,
            client=client,
            sleep=lambda _s: None,
            cache_buster=lambda: next(ticks),
            **kwargs,
        )
        capsys.readouterr()
        result = api.fetch_bookings(STORE, "RC03", FIRST, LAST, COOKIES)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    return result, naver, lines


def _done(lines: list[dict[str, Any]]) -> dict[str, Any]:
    [line] = [line for line in lines if line["message"] == "Bookings fetched"]
    context: dict[str, Any] = line["context"]
    return context


def _lists(naver: Recorder) -> list[tuple[str, tuple[str, str], int]]:
    """The requests made, in page order (pages of one batch are read concurrently)."""
    return sorted(naver.calls(), key=lambda call: (call[1], call[2]))


def test_a_busy_window_is_read_page_by_page_and_an_empty_one_costs_one_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bookings = [_entry(i) for i in range(1, 121)]  # 120: pages of 50, 50, 20

    def served(kind: str, window: tuple[str, str], page: int) -> object:
        assert kind == "list"  # no count: the pages say where the window ends
        return bookings[page * 50 : page * 50 + 50] if window == WINDOW_1 else []

    result, naver, lines = _read(served, capsys)

    # Pages 2 and 3 are asked for together after two full pages; page 2 is
    # short, so 3 is cancelled, or costs its request and nothing else.
    needed = [("list", WINDOW_1, page) for page in (0, 1, 2)] + [("list", WINDOW_2, 0)]
    assert _lists(naver) in (needed, sorted([*needed, ("list", WINDOW_1, 3)]))
    assert [b.book_id for b in result.bookings] == [str(i) for i in range(1, 121)]
    assert result.requests == len(naver.requests)
    done = _done(lines)
    assert done["requests"] == done["pages"] == len(naver.requests)
    assert {key: done[key] for key in ("biz_id", "status", "start", "end", "bookings")} == {
        "biz_id": STORE,
        "status": "RC03",
        "start": "2026-11-25",
        "end": "2027-01-03",
        "bookings": 120,
    }


def test_every_request_carries_the_console_s_query_and_headers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def served(kind: str, window: tuple[str, str], page: int) -> object:
        return [_entry(7)] if window == WINDOW_1 else []

    _, naver, _ = _read(served, capsys)

    first, second = naver.requests
    assert first.url.path == f"/api/businesses/{STORE}/bookings"
    assert dict(first.url.params) == {
        "bizItemTypes": "STANDARD",
        "bookingStatusCodes": "RC03",
        "dateDropdownType": "ENTIRE",
        "dateFilter": "USEDATE",
        "endDateTime": WINDOW_1[1],
        "maxDays": "31",
        "nPayChargedStatusCodes": "",
        "orderBy": "",
        "orderByStartDate": "ASC",
        "paymentStatusCodes": "",
        "searchValue": "",
        "page": "0",
        "size": "50",
        "startDateTime": WINDOW_1[0],
        "noCache": "1000",
    }
    # A fresh cache buster per request, the first one included.
    assert [r.url.params["noCache"] for r in naver.requests] == ["1000", "1001"]
    assert (second.url.path, second.url.params["startDateTime"]) == (first.url.path, WINDOW_2[0])
    assert second.url.params["endDateTime"] == WINDOW_2[1]
    for request in naver.requests:
        assert request.headers["cookie"] == "NID_AUT=aut-canary; NID_SES=ses-canary"
        assert request.headers["x-booking-naver-role"] == "OWNER"
        assert request.headers["referer"] == (f"{BASE}/bizes/{STORE}/booking-list-view")
        assert request.headers["accept"] == "application/json, text/plain, */*"
        assert "Chrome/" in request.headers["user-agent"]


def test_the_first_short_page_ends_the_window(capsys: pytest.CaptureFixture[str]) -> None:
    pages = {0: [_entry(1), _entry(2)], 1: [_entry(3)], 2: [_entry(4), _entry(5)]}

    def served(kind: str, window: tuple[str, str], page: int) -> object:
        return pages.get(page, []) if window == WINDOW_1 else []

    result, naver, lines = _read(served, capsys, page_size=2)

    assert _lists(naver) == [("list", WINDOW_1, 0), ("list", WINDOW_1, 1), ("list", WINDOW_2, 0)]
    assert [b.book_id for b in result.bookings] == ["1", "2", "3"]
    assert _done(lines)["pages"] == 3


def test_a_window_whose_last_page_is_exactly_full_costs_one_empty_page_more(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def served(kind: str, window: tuple[str, str], page: int) -> object:
        return [_entry(1), _entry(2)] if window == WINDOW_1 and page == 0 else []

    result, naver, _ = _read(served, capsys, page_size=2)

    assert _lists(naver) == [("list", WINDOW_1, 0), ("list", WINDOW_1, 1), ("list", WINDOW_2, 0)]
    assert [b.book_id for b in result.bookings] == ["1", "2"]
    assert result.requests == 3


def test_the_pages_of_a_busy_window_are_read_at_the_same_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Pages 4..7 of one batch meet at a barrier: read one after another they
    # would each wait for the others in vain and the read would fail.
    batch = threading.Barrier(4, timeout=5)

    def served(kind: str, window: tuple[str, str], page: int) -> object:
        if window == WINDOW_2:
            return []
        if 4 <= page <= 7:
            batch.wait()
        return [_entry(page * 2 + 1), _entry(page * 2 + 2)] if page < 6 else [_entry(99)]

    result, naver, _ = _read(served, capsys, page_size=2)

    assert [page for _, window, page in _lists(naver) if window == WINDOW_1] == list(range(8))
    # Page 6 is short: it ends the window; page 7, read with it, adds nothing.
    assert len(result.bookings) == 6 * 2 + 1
    assert result.requests == 9


def test_a_failed_page_past_the_end_is_ignored_and_a_failed_page_before_it_raises(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def served(kind: str, window: tuple[str, str], page: int) -> object:
        if window == WINDOW_2 or page == 2:
            return []
        if page == 3:
            return httpx.Response(401)  # read with page 2, after the end
        return [_entry(page * 2 + 1), _entry(page * 2 + 2)]

    result, _, _ = _read(served, capsys, page_size=2, retries=0)
    assert [b.book_id for b in result.bookings] == ["1", "2", "3", "4"]

    def expired(kind: str, window: tuple[str, str], page: int) -> object:
        if page == 2:
            return httpx.Response(401)
        return [_entry(page * 2 + 1), _entry(page * 2 + 2)] if page < 3 else []

    with pytest.raises(SessionExpired):
        _read(expired, capsys, page_size=2, retries=0)


def test_a_booking_served_in_two_windows_is_read_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A visit at exactly midnight KST between two windows comes back in both.
    def served(kind: str, window: tuple[str, str], page: int) -> object:
        return [_entry(1), _entry(2)] if window == WINDOW_1 else [_entry(2)]

    result, naver, lines = _read(served, capsys)

    assert len(naver.requests) == 2
    assert [b.book_id for b in result.bookings] == ["1", "2"]
    assert _done(lines)["pages"] == 2


def test_retries_count_as_requests_and_a_retried_page_is_read_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    failures = iter([True, True, False])

    def served(kind: str, window: tuple[str, str], page: int) -> object:
        if window == WINDOW_2:
            return []
        return httpx.Response(503) if next(failures) else [_entry(9)]

    result, naver, lines = _read(served, capsys)

    assert naver.calls() == [
        ("list", WINDOW_1, 0),
        ("list", WINDOW_1, 0),
        ("list", WINDOW_1, 0),
        ("list", WINDOW_2, 0),
    ]
    assert [b.book_id for b in result.bookings] == ["9"]
    assert result.requests == 4
    assert _done(lines)["requests"] == 4
    assert _done(lines)["pages"] == 2


def test_count_sums_the_windows_and_a_session_check_is_one_count_for_today() -> None:
    def served(kind: str, window: tuple[str, str], page: int) -> object:
        return {"count": 3 if window == WINDOW_1 else 4}

    naver = Recorder(served)
    with httpx.Client(transport=httpx.MockTransport(naver)) as client:
        api = BookingApi(BASE, client=client, sleep=lambda _s: None)
        assert api.count(STORE, "RC08", FIRST, LAST, COOKIES) == 7
        assert [r.url.params["bookingStatusCodes"] for r in naver.requests] == ["RC08", "RC08"]
        naver.requests.clear()

        assert api.check_session(COOKIES, STORE, FIRST) is True

    assert naver.calls() == [("count", (WINDOW_1[0], "2026-11-25T15:00:00.000Z"), 0)]
    assert naver.requests[0].url.params["bookingStatusCodes"] == "RC03"


def test_reads_of_many_stores_at_once_on_one_client_each_count_their_own_requests() -> None:
    # The cycle reads every store and status at once through one BookingApi.
    stores = [str(5_000_001 + index) for index in range(8)]
    seen: dict[str, int] = dict.fromkeys(stores, 0)
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        store = request.url.path.split("/")[-2]
        with lock:
            seen[store] += 1
        size = stores.index(store) + 1  # store n has n bookings, in pages of 2
        page = int(request.url.params["page"])
        ids = range(page * 2 + 1, min(size, page * 2 + 2) + 1)
        return httpx.Response(200, json=[{**_entry(i), "businessId": int(store)} for i in ids])

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        api = BookingApi(BASE, client=client, sleep=lambda _s: None, page_size=2)
        with ThreadPoolExecutor(max_workers=len(stores)) as pool:
            results = list(
                pool.map(lambda s: api.fetch_bookings(s, "RC03", FIRST, FIRST, COOKIES), stores)
            )

    for size, (store, result) in enumerate(zip(stores, results, strict=True), start=1):
        assert result.biz_id == store
        assert [b.booking_num for b in result.bookings] == [
            f"{store}_{i}" for i in range(1, size + 1)
        ]
        assert result.requests == seen[store]
        assert result.requests >= size // 2 + 1  # every page, and the short one that ends it


def test_a_full_page_of_nothing_new_ends_the_window_with_a_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # From page 2 on the server serves page 0 again: it ignores `page`.
    pages = {0: [_entry(1), _entry(2)], 1: [_entry(3), _entry(4)]}

    def served(kind: str, window: tuple[str, str], page: int) -> object:
        if window == WINDOW_2:
            return []
        return pages.get(page, [_entry(1), _entry(2)])

    result, naver, lines = _read(served, capsys, page_size=2)

    assert [page for _, window, page in _lists(naver) if window == WINDOW_1][:3] == [0, 1, 2]
    assert [b.book_id for b in result.bookings] == ["1", "2", "3", "4"]
    [warning] = [line for line in lines if line["message"].startswith("Naver served the same")]
    assert warning["level"] == "WARNING"
    assert warning["context"]["biz_id"] == STORE


def test_a_window_of_endless_full_new_pages_stops_at_the_page_cap(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def served(kind: str, window: tuple[str, str], page: int) -> object:
        if window == WINDOW_2:
            return []
        return [_entry(page * 2 + 1), _entry(page * 2 + 2)]

    result, naver, lines = _read(served, capsys, page_size=2)

    assert [page for _, window, page in _lists(naver) if window == WINDOW_1] == list(
        range(MAX_PAGES)
    )
    assert len(result.bookings) == MAX_PAGES * 2
    [warning] = [line for line in lines if line["message"].startswith("Too many pages")]
    assert warning["context"]["pages"] == MAX_PAGES


def test_requests_in_flight_never_exceed_the_bound_over_stores_and_pages() -> None:
    lock = threading.Lock()
    now_in_flight, most = 0, 0

    def naver(request: httpx.Request) -> httpx.Response:
        nonlocal now_in_flight, most
        with lock:
            now_in_flight += 1
            most = max(most, now_in_flight)
        threading.Event().wait(0.02)
        with lock:
            now_in_flight -= 1
        page = int(request.url.params["page"])
        entries = [_entry(page * 2 + 1), _entry(page * 2 + 2)] if page < 6 else []
        return httpx.Response(200, json=entries)

    with httpx.Client(transport=httpx.MockTransport(naver)) as client:
        api = BookingApi(BASE, client=client, sleep=lambda _s: None, page_size=2, max_requests=3)
        # Four reads at once, each reading its pages side by side: up to 16 without a bound.
        with ThreadPoolExecutor(4) as pool:
            results = list(
                pool.map(
                    lambda _n: api.fetch_bookings(STORE, "RC03", FIRST, FIRST, COOKIES), range(4)
                )
            )

    assert all(len(result.bookings) == 12 for result in results)
    assert most == 3
