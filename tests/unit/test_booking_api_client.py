"""The booking API client's rules, against httpx.MockTransport (no network)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

import httpx
import pytest

from naver_sms.domain.booking import KST
from naver_sms.naver.booking_api import (
    BookingApi,
    BookingApiError,
    NaverThrottled,
    SessionExpired,
    cookie_header,
    date_windows,
)
from naver_sms.utils.clock import to_utc_z

COOKIES = [{"name": "NID_AUT", "value": "aut-canary"}, {"name": "NID_SES", "value": "ses-canary"}]
DAY = date(2026, 11, 25)
Handler = Callable[[httpx.Request], httpx.Response]


def _api(handler: Handler, **kwargs: object) -> tuple[BookingApi, list[httpx.Request], list[float]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    slept: list[float] = []
    client = httpx.Client(transport=httpx.MockTransport(record))
    api = BookingApi("https://partner.example", client=client, sleep=slept.append, **kwargs)  # type: ignore[arg-type]
    return api, seen, slept


def _count_then(page: Handler) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/count"):
            return httpx.Response(200, json={"count": 1})
        return page(request)

    return handler


def test_windows_are_kst_days_in_utc_and_at_most_31_days() -> None:
    windows = date_windows(date(2026, 11, 25), date(2027, 1, 31))
    assert [(to_utc_z(a), to_utc_z(b)) for a, b in windows] == [
        ("2026-11-24T15:00:00.000Z", "2026-12-25T15:00:00.000Z"),
        ("2026-12-25T15:00:00.000Z", "2027-01-25T15:00:00.000Z"),
        ("2027-01-25T15:00:00.000Z", "2027-01-31T15:00:00.000Z"),
    ]
    assert date_windows(DAY, DAY) == [
        (datetime(2026, 11, 24, 15, tzinfo=UTC), datetime(2026, 11, 25, 15, tzinfo=UTC))
    ]
    with pytest.raises(ValueError, match="before its start"):
        date_windows(DAY, date(2026, 11, 24))


def test_the_host_time_zone_does_not_change_the_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = date_windows(DAY, DAY)
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    try:
        assert date_windows(DAY, DAY) == expected
        assert to_utc_z(datetime(2026, 11, 25, 0, 0, tzinfo=KST)) == "2026-11-24T15:00:00.000Z"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert "TZ" not in os.environ


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_utc_z(datetime(2026, 11, 25))  # noqa: DTZ001 - the point of the test


def test_cookies_go_out_as_one_header_and_the_last_duplicate_wins() -> None:
    header = cookie_header(
        [*COOKIES, {"name": "NID_SES", "value": "newer"}, {"name": 5}], "partner.booking.naver.com"
    )
    assert header == "NID_AUT=aut-canary; NID_SES=newer"


def test_a_redirect_to_the_login_page_is_an_expired_session() -> None:
    api, _, _ = _api(
        lambda _r: httpx.Response(
            302, headers={"location": "https://nid.naver.com/nidlogin.login?url=x"}
        )
    )
    with pytest.raises(SessionExpired):
        api.fetch_bookings("5000001", "RC03", DAY, DAY, COOKIES)


def test_the_login_page_served_as_html_is_an_expired_session() -> None:
    page = '<html><form action="https://nid.naver.com/nidlogin.login"></form></html>'
    api, _, _ = _api(
        lambda _r: httpx.Response(200, text=page, headers={"content-type": "text/html"})
    )
    with pytest.raises(SessionExpired):
        api.fetch_bookings("5000001", "RC03", DAY, DAY, COOKIES)


@pytest.mark.parametrize(
    ("page", "message"),
    [
        (httpx.Response(200, text="<html>maintenance</html>"), "HTML instead of JSON"),
        (httpx.Response(200, json={"bookings": []}), "not a JSON array"),
        (httpx.Response(200, text="{oops"), "not JSON"),
        (httpx.Response(404, json={"message": "no such store"}), "HTTP 404"),
        (
            httpx.Response(301, headers={"location": "https://elsewhere.example/x?token=1"}),
            "redirect",
        ),
    ],
)
def test_an_unexpected_answer_is_a_clear_error_naming_store_and_status(
    page: httpx.Response, message: str
) -> None:
    api, _, _ = _api(_count_then(lambda _r: page))
    with pytest.raises(BookingApiError, match=message) as caught:
        api.fetch_bookings("5000001", "RC08", DAY, DAY, COOKIES)
    assert str(caught.value).startswith("store 5000001 RC08: ")
    assert "token" not in str(caught.value)


def test_a_count_without_a_number_is_a_clear_error() -> None:
    api, _, _ = _api(lambda _r: httpx.Response(200, json={"total": 3}))
    with pytest.raises(
        BookingApiError, match=r"count endpoint answered an object with keys \[total\]"
    ):
        api.count("5000001", "RC03", DAY, DAY, COOKIES)


def test_connection_errors_are_retried_then_reported() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    api, seen, slept = _api(refuse, retries=3, backoff=1.0, max_backoff=3.0)
    with pytest.raises(BookingApiError, match=r"connection failed .* after 4 attempts"):
        api.fetch_bookings("5000001", "RC03", DAY, DAY, COOKIES)
    assert len(seen) == 4
    assert slept == [1.0, 2.0, 3.0]  # doubling, capped


def test_an_empty_window_costs_one_request_and_no_count() -> None:
    api, seen, _ = _api(lambda _r: httpx.Response(200, json=[]))
    result = api.fetch_bookings("5000001", "RC08", DAY, DAY, COOKIES)
    assert result.bookings == []
    assert [request.url.path for request in seen] == ["/api/businesses/5000001/bookings"]
    assert result.requests == 1


def test_a_server_ignoring_page_numbers_does_not_loop_forever() -> None:
    entry = {"bookingId": 1, "businessId": 5000001}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[entry, {**entry, "bookingId": 2}])  # always full

    api, seen, _ = _api(handler, page_size=2)
    result = api.fetch_bookings("5000001", "RC03", DAY, DAY, COOKIES)
    assert len(result.unusable) == 2  # read once each, however often served
    assert len(seen) == 2  # page 0, page 1 (nothing new: stop, no page 2)


def test_check_session_needs_no_request_without_login_cookies() -> None:
    api, seen, _ = _api(lambda _r: httpx.Response(200, json={"count": 0}))
    assert api.check_session([{"name": "other", "value": "x"}], "5000001", DAY) is False
    assert seen == []


def test_check_session_raises_when_naver_cannot_be_asked() -> None:
    api, _, _ = _api(lambda _r: httpx.Response(500), retries=0)
    with pytest.raises(BookingApiError):
        api.check_session(COOKIES, "5000001", DAY)


def test_bad_arguments_are_programming_errors() -> None:
    api, _, _ = _api(lambda _r: httpx.Response(200, json={"count": 0}))
    with pytest.raises(ValueError, match="businessId"):
        api.fetch_bookings("store-1", "RC03", DAY, DAY, COOKIES)
    with pytest.raises(ValueError, match="RC03"):
        api.fetch_bookings("5000001", "confirmed", DAY, DAY, COOKIES)


# ----------------------------------------------------------------- throttling (issue 10.13)

THROTTLE_BODY = {"errors": [{"message": "BookingAPITooManyRequests", "code": "TOO_MANY"}]}


@pytest.mark.parametrize("endpoint", ["count", "list"])
def test_naver_throttle_answered_with_http_200_is_throttling_not_a_shape_error(
    endpoint: str,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=THROTTLE_BODY)

    api, seen, slept = _api(handler)
    ask = (
        (lambda: api.check_session(COOKIES, "5000001", DAY))
        if endpoint == "count"
        else (lambda: api.fetch_bookings("5000001", "RC03", DAY, DAY, COOKIES))
    )
    with pytest.raises(NaverThrottled, match="BookingAPITooManyRequests"):
        ask()
    assert slept == []  # asking again at once would only prolong the throttling
    assert len(seen) == 1


def test_http_429_is_throttling_and_is_not_retried() -> None:
    api, seen, slept = _api(lambda _r: httpx.Response(429, json=THROTTLE_BODY), retries=3)
    with pytest.raises(NaverThrottled, match="429"):
        api.fetch_bookings("5000001", "RC03", DAY, DAY, COOKIES)
    assert len(seen) == 1
    assert slept == []


def test_a_throttled_session_check_is_neither_valid_nor_expired() -> None:
    # Throttling says nothing about the cookies: they must not be thrown away.
    api, _, _ = _api(lambda _r: httpx.Response(200, json=THROTTLE_BODY))
    with pytest.raises(NaverThrottled):
        api.check_session(COOKIES, "5000001", DAY)


def test_another_error_body_is_reported_with_naver_s_message() -> None:
    body = {"errors": [{"message": "BookingNotAllowed", "code": "E403"}]}
    api, _, _ = _api(lambda _r: httpx.Response(200, json=body))
    with pytest.raises(BookingApiError, match=r"Naver answered an error.*BookingNotAllowed"):
        api.fetch_bookings("5000001", "RC03", DAY, DAY, COOKIES)


# ----------------------------------------------------------------- cookie domains (issue 10.9)

MIXED_SESSION = [
    {"name": "NID_AUT", "value": "aut-canary", "domain": ".naver.com"},
    {"name": "NID_SES", "value": "ses-canary", "domain": ".naver.com"},
    {"name": "BOOKING_X", "value": "booking", "domain": "partner.booking.naver.com"},
    {"name": "NID_CHECK", "value": "nid-only", "domain": "nid.naver.com"},
    {"name": "SID", "value": "google-canary", "domain": ".google.com"},
    {"name": "BANK", "value": "bank-canary", "domain": "bank.example"},
    {"name": "LOOK", "value": "look-alike", "domain": "evilnaver.com"},
    {"name": "PLAIN", "value": "no-domain"},
]


def test_only_cookies_whose_domain_matches_the_naver_host_are_sent() -> None:
    assert cookie_header(MIXED_SESSION, "partner.booking.naver.com") == (
        "NID_AUT=aut-canary; NID_SES=ses-canary; BOOKING_X=booking; PLAIN=no-domain"
    )


def test_naver_cookies_never_reach_a_loopback_sandbox_and_its_cookies_never_reach_naver() -> None:
    sandbox = {"name": "NID_AUT", "value": "sandbox-aut", "domain": "127.0.0.1"}
    assert cookie_header([*MIXED_SESSION, sandbox], "127.0.0.1") == (
        "PLAIN=no-domain; NID_AUT=sandbox-aut"
    )
    assert "sandbox-aut" not in cookie_header([sandbox], "partner.booking.naver.com")


def test_the_request_to_naver_carries_no_other_site_s_cookie() -> None:
    client = httpx.Client(transport=httpx.MockTransport(lambda _r: httpx.Response(200, json=[])))
    seen: list[httpx.Request] = []
    client.event_hooks["request"] = [seen.append]
    api = BookingApi("https://partner.booking.naver.com", client=client)
    api.fetch_bookings("5000001", "RC03", DAY, DAY, MIXED_SESSION)
    (request,) = seen
    sent = request.headers["cookie"]
    assert "NID_AUT=aut-canary" in sent
    for canary in ("google-canary", "bank-canary", "look-alike", "nid-only"):
        assert canary not in sent


def test_a_session_whose_login_cookies_are_for_another_site_is_not_valid() -> None:
    api, seen, _ = _api(lambda _r: httpx.Response(200, json={"count": 0}))
    elsewhere = [{**cookie, "domain": ".google.com"} for cookie in COOKIES]
    assert api.check_session(elsewhere, "5000001", DAY) is False
    assert seen == []
