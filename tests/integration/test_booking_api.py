"""The booking API client over loopback HTTP against the sandbox Naver."""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta

import httpx
import pytest

from naver_sms.naver.booking_api import BookingApi, BookingApiError, NaverThrottled, SessionExpired
from naver_sms.sandbox.naver import NaverSandbox, ThrottleForm, booking_entry
from tests.integration.conftest import NOW
from tests.phones import legacy_010

STORE = "5000001"
TODAY = NOW.date()
UTC_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$")


def _api(naver: NaverSandbox, **kwargs: object) -> tuple[BookingApi, list[float]]:
    slept: list[float] = []
    kwargs.setdefault("timeout", 2.0)
    return BookingApi(naver.base_url, sleep=slept.append, **kwargs), slept  # type: ignore[arg-type]


def _expected(naver: NaverSandbox, status: str, first: date, last: date) -> set[str]:
    nums = set()
    for raw in naver.bookings(STORE, status):
        snapshot = raw["snapshotJson"]
        if isinstance(snapshot, str):
            import json  # noqa: PLC0415

            snapshot = json.loads(snapshot)
        start = datetime.fromisoformat(snapshot["startDateTime"]).astimezone(NOW.tzinfo)
        if first <= start.date() <= last:
            nums.add(f"{STORE}_{raw['bookingId']}")
    return nums


def test_every_page_of_a_busy_store_is_read_and_no_count() -> None:
    with NaverSandbox(now=NOW, stores={STORE: 170}, days=14) as naver:
        api, _ = _api(naver)
        last = TODAY + timedelta(days=14)
        result = api.fetch_bookings(
            STORE, "RC03", TODAY - timedelta(days=1), last, naver.issue_session()
        )
        expected = _expected(naver, "RC03", TODAY - timedelta(days=1), last)
        assert len(expected) > 100  # three pages and more
        assert {b.booking_num for b in result.bookings} == expected
        assert result.unusable == []
        assert naver.requests["count"] == 0
        # Every page up to the first short one; pages read with it cost no more than 3.
        needed = len(expected) // 50 + 1
        assert needed <= naver.requests["list"] <= needed + 3
        assert result.requests == naver.requests["list"]


def test_a_last_page_that_is_full_costs_one_short_page_more() -> None:
    # Without a count only a short page says "the end": a window that fills
    # its pages exactly costs one (empty) page more.
    with NaverSandbox(now=NOW, stores={STORE: 60}, days=14) as naver:
        last = TODAY + timedelta(days=14)
        expected = _expected(naver, "RC03", TODAY, last)
        assert len(expected) >= 2
        page_size = len(expected) // 2 if len(expected) % 2 == 0 else len(expected)
        api, _ = _api(naver, page_size=page_size)

        result = api.fetch_bookings(STORE, "RC03", TODAY, last, naver.issue_session())

        assert {b.booking_num for b in result.bookings} == expected
        needed = len(expected) // page_size + 1
        assert needed <= naver.requests["list"] <= needed + 1  # its batch partner, at most
        assert naver.requests["count"] == 0


def test_a_window_over_31_days_is_split_into_windows_the_api_accepts() -> None:
    with NaverSandbox(now=NOW, stores={STORE: 140}, days=70) as naver:
        api, _ = _api(naver)
        first, last = TODAY, TODAY + timedelta(days=69)
        result = api.fetch_bookings(STORE, "RC03", first, last, naver.issue_session())
        assert {b.booking_num for b in result.bookings} == _expected(naver, "RC03", first, last)
        windows = [
            r.query for r in naver.request_log if r.endpoint == "list" and r.query["page"] == "0"
        ]
        assert len(windows) == 3
        for query in windows:
            opens = datetime.fromisoformat(query["startDateTime"])
            closes = datetime.fromisoformat(query["endDateTime"])
            assert UTC_Z.match(query["startDateTime"])
            assert UTC_Z.match(query["endDateTime"])
            assert closes - opens <= timedelta(days=31)
        # The windows meet at KST midnight: nothing between them is lost.
        assert windows[0]["startDateTime"] == "2026-11-24T15:00:00.000Z"
        assert windows[0]["endDateTime"] == windows[1]["startDateTime"]


def test_the_console_headers_and_query_are_sent(naver: NaverSandbox) -> None:
    api, _ = _api(naver)
    api.fetch_bookings(STORE, "RC03", TODAY, TODAY + timedelta(days=3), naver.issue_session())
    request = next(r for r in naver.request_log if r.endpoint == "list")
    assert request.headers["x-booking-naver-role"] == "OWNER"
    assert request.headers["referer"] == f"{naver.base_url}/bizes/{STORE}/booking-list-view"
    assert "Mozilla/5.0" in request.headers["user-agent"]
    assert request.query["bookingStatusCodes"] == "RC03"
    assert request.query["size"] == "50"
    assert request.query["page"] == "0"
    assert request.query["dateFilter"] == "USEDATE"
    assert request.query["noCache"].isdigit()


def test_completed_bookings_come_with_their_status_item_and_options(naver: NaverSandbox) -> None:
    api, _ = _api(naver)
    result = api.fetch_bookings(
        STORE, "RC08", TODAY - timedelta(days=1), TODAY, naver.issue_session()
    )
    assert result.bookings
    for booking in result.bookings:
        assert booking.extra["status"] == "RC08"
        assert booking.extra["item_name"] == "스튜디오 50분 이용"
        assert "기본 이용 50분" in booking.extra["option_names"]
        assert booking.starts_at < NOW


def test_server_errors_are_retried_with_backoff(naver: NaverSandbox) -> None:
    api, slept = _api(naver)
    naver.fail_next(2, status=503)
    result = api.fetch_bookings(
        STORE, "RC03", TODAY, TODAY + timedelta(days=3), naver.issue_session()
    )
    assert result.bookings
    assert slept == [0.5, 1.0]
    assert naver.requests["list"] == 3


def test_retries_are_bounded_and_then_a_clear_error(naver: NaverSandbox) -> None:
    api, slept = _api(naver, retries=2)
    naver.fail_next(10, status=502)
    with pytest.raises(BookingApiError, match=r"store 5000001 RC03: HTTP 502 after 3 attempts"):
        api.fetch_bookings(STORE, "RC03", TODAY, TODAY, naver.issue_session())
    assert naver.requests["list"] == 3
    assert len(slept) == 2


def test_a_hung_request_times_out_and_is_retried(naver: NaverSandbox) -> None:
    api, slept = _api(naver, timeout=0.3)
    naver.hang_next(1, seconds=10, endpoint="list")
    started = time.monotonic()
    result = api.fetch_bookings(
        STORE, "RC03", TODAY, TODAY + timedelta(days=3), naver.issue_session()
    )
    assert result.bookings
    assert len(slept) == 1
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("answer", ["401", "403", "redirect"])
def test_refused_cookies_raise_session_expired(answer: str) -> None:
    with NaverSandbox(now=NOW, expired_answer=answer) as naver:  # type: ignore[arg-type]
        api, _ = _api(naver)
        cookies = naver.issue_session()
        naver.expire_sessions()
        with pytest.raises(SessionExpired):
            api.fetch_bookings(STORE, "RC03", TODAY, TODAY, cookies)
        assert api.check_session(cookies, STORE, TODAY) is False


def test_a_422_is_a_clear_error_for_that_store_and_status(naver: NaverSandbox) -> None:
    api, slept = _api(naver)
    naver.fail_next(1, status=422, endpoint="list")
    with pytest.raises(BookingApiError) as caught:
        api.fetch_bookings(STORE, "RC08", TODAY, TODAY, naver.issue_session())
    assert caught.value.biz_id == STORE
    assert caught.value.status == "RC08"
    assert "HTTP 422" in str(caught.value)
    assert slept == []  # a 422 is not retried: it will not get better


def test_a_failing_store_does_not_stop_the_next_one() -> None:
    with NaverSandbox(now=NOW, stores={"5000001": 12, "5000002": 12}) as naver:
        api, _ = _api(naver, retries=0)
        cookies = naver.issue_session()
        naver.fail_next(1, status=500)
        outcomes: dict[str, object] = {}
        for store in ("5000001", "5000002"):
            try:
                outcomes[store] = api.fetch_bookings(
                    store, "RC03", TODAY, TODAY + timedelta(days=5), cookies
                )
            except BookingApiError as exc:
                outcomes[store] = exc
        assert isinstance(outcomes["5000001"], BookingApiError)
        assert not isinstance(outcomes["5000002"], BookingApiError)


def test_masked_phones_are_reported_not_dropped() -> None:
    with NaverSandbox(now=NOW, stores={STORE: 30}, masked_every=5) as naver:
        api, _ = _api(naver)
        first, last = TODAY - timedelta(days=1), TODAY + timedelta(days=14)
        result = api.fetch_bookings(STORE, "RC03", first, last, naver.issue_session())
        assert result.unusable
        assert {entry.reason for entry in result.unusable} == {"masked by Naver"}
        reported = {b.booking_num for b in result.bookings} | {
            e.booking_num for e in result.unusable
        }
        assert reported == _expected(naver, "RC03", first, last)


def test_check_session_costs_one_request(naver: NaverSandbox) -> None:
    api, _ = _api(naver)
    assert api.check_session(naver.issue_session(), STORE, TODAY) is True
    assert naver.requests == {"count": 1}


def test_the_sandbox_answers_422_to_a_long_window_or_a_time_without_z(naver: NaverSandbox) -> None:
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in naver.issue_session())
    url = f"{naver.base_url}/api/businesses/{STORE}/bookings"
    long = {"startDateTime": "2026-11-01T00:00:00.000Z", "endDateTime": "2026-12-03T00:00:00.000Z"}
    local = {"startDateTime": "2026-11-01T00:00:00", "endDateTime": "2026-11-03T00:00:00"}
    for params in (long, local):
        response = httpx.get(url, params=params, headers={"cookie": cookies})
        assert response.status_code == 422
    assert httpx.get(url, params=long).status_code == 401  # no cookies: refused first


@pytest.mark.parametrize("form", ["body", "429"])
def test_a_throttled_account_raises_naver_throttled_at_once(
    naver: NaverSandbox, form: ThrottleForm
) -> None:
    api, slept = _api(naver)
    naver.throttle_next(1, form=form, endpoint="list")
    with pytest.raises(NaverThrottled):
        api.fetch_bookings(STORE, "RC03", TODAY, TODAY, naver.issue_session())
    assert slept == []
    assert naver.requests == {"list": 1}


def test_only_the_sessions_cookies_for_the_api_host_reach_it(naver: NaverSandbox) -> None:
    api, _ = _api(naver)
    foreign = [
        {"name": "SID", "value": "google-canary", "domain": ".google.com"},
        {"name": "NID_JKL", "value": "naver-only", "domain": ".naver.com"},
    ]
    result = api.fetch_bookings(STORE, "RC03", TODAY, TODAY, [*naver.issue_session(), *foreign])
    assert result.bookings
    assert {r.cookie_names for r in naver.request_log} == {("NID_AUT", "NID_SES")}


def test_naver_domain_cookies_are_not_sent_to_a_loopback_api(naver: NaverSandbox) -> None:
    api, _ = _api(naver)
    cookies = naver.issue_session(domain=".naver.com")
    assert api.check_session(cookies, STORE, TODAY) is False
    assert naver.requests == {}  # not even asked: no login cookie is for this host


def test_a_zero_date_and_half_an_emoji_cost_one_booking_and_none(naver: NaverSandbox) -> None:
    start = datetime(*TODAY.timetuple()[:3], 15, tzinfo=NOW.tzinfo)
    zero = booking_entry(
        STORE, 1_190_000_001, start, status="RC03", name="영날", phone="01000001001"
    )
    zero["snapshotJson"]["endDateTime"] = "0001-01-01T00:00:00Z"
    emoji = booking_entry(
        STORE,
        1_190_000_002,
        start,
        status="RC03",
        name="김\ud83d",
        phone=legacy_010("010-0000-1002")[0],
    )
    naver.add_booking(STORE, zero)
    naver.add_booking(STORE, emoji)
    api, _ = _api(naver)
    result = api.fetch_bookings(STORE, "RC03", TODAY, TODAY, naver.issue_session())
    by_num = {b.booking_num: b for b in result.bookings}
    assert by_num[f"{STORE}_1190000002"].name == "김\ufffd"
    assert by_num[f"{STORE}_1190000002"].phone == legacy_010("010-0000-1002")[1]
    assert [(u.booking_num, u.phone_masked) for u in result.unusable] == [
        (f"{STORE}_1190000001", "010-****-1001")
    ]
    assert len(by_num) == len(_expected(naver, "RC03", TODAY, TODAY)) - 1
