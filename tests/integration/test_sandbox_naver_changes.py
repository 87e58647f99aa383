"""Cancelled and moved bookings, and several statuses per request, over loopback.

The sandbox Naver changes the day as it plays (a customer cancels, the owner
moves a visit); the client reads confirmed and cancelled bookings in one
request when the API honours a list of statuses, and one status at a time
when it does not, at the fewest requests that can tell.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from naver_sms.domain.booking import KST
from naver_sms.naver.booking_api import BookingApi, FetchResult
from naver_sms.sandbox.naver import NaverSandbox, SeveralStatuses, booking_entry
from tests.integration.conftest import NOW

STORE = "5000001"
TODAY = NOW.date()
# From yesterday: its visits are over (RC08), which an ignored filter would let in.
FIRST = TODAY - timedelta(days=1)
LAST = TODAY + timedelta(days=13)
FIRST_ID = 1_100_000_000  # the sandbox's booking 0 of its first store
# Booking 2 of the generated store: tomorrow 10:00 KST, confirmed (days=14).
TOMORROWS = FIRST_ID + 2


def _api(naver: NaverSandbox, multi_status: bool | None = None) -> BookingApi:
    return BookingApi(naver.base_url, timeout=2.0, sleep=lambda _: None, multi_status=multi_status)


def _read(api: BookingApi, naver: NaverSandbox, statuses: object = ("RC03", "RC04")) -> FetchResult:
    return api.fetch_bookings(STORE, statuses, FIRST, LAST, naver.issue_session())  # type: ignore[arg-type]


def _by_num(result: FetchResult) -> dict[str, dict[str, object]]:
    return {
        b.booking_num: {"status": b.extra["status"], "time": b.booking_time, **b.extra}
        for b in result.bookings
    }


def _statuses_asked(naver: NaverSandbox) -> list[str]:
    return [r.query.get("bookingStatusCodes", "") for r in naver.request_log]


def test_a_booking_the_customer_cancels_comes_back_cancelled_with_its_time() -> None:
    with NaverSandbox(now=NOW, stores={STORE: 28}) as naver:
        api = _api(naver)
        num = f"{STORE}_{TOMORROWS}"
        assert _by_num(_read(api, naver, "RC03"))[num]["status"] == "RC03"
        cancelled_at = NOW + timedelta(minutes=5)
        naver.cancel(STORE, TOMORROWS, at=cancelled_at)
        still = _by_num(_read(api, naver))
        assert still[num]["status"] == "RC03"  # not yet: the clock is before `at`
        naver.now = cancelled_at
        after = _by_num(_read(api, naver))
        assert after[num]["status"] == "RC04"
        assert after[num]["cancelled_at"] == "2026-11-25 09:05:00"
        assert after[num]["time"] == "2026-11-26 10:00:00"  # the rest of it is kept
        assert num not in _by_num(_read(api, naver, "RC03"))


def test_an_added_booking_is_cancelled_and_moved_like_a_generated_one() -> None:
    start = datetime(2026, 11, 27, 15, 0, tzinfo=KST)
    with NaverSandbox(now=NOW, stores={}) as naver:
        entry = booking_entry(
            STORE, 77, start, status="RC03", name="김민지", phone="01000001234", minutes=90
        )
        naver.add_booking(STORE, entry)
        api = _api(naver)
        naver.move(STORE, 77, start + timedelta(days=1, hours=2))
        moved = _by_num(_read(api, naver))[f"{STORE}_77"]
        assert moved["time"] == "2026-11-28 17:00:00"
        assert moved["end_time"] == "2026-11-28 18:30:00"  # the 90 minutes move along
        naver.cancel(STORE, 77)
        cancelled = _by_num(_read(api, naver))[f"{STORE}_77"]
        assert cancelled["status"] == "RC04"
        assert cancelled["cancelled_at"] == "2026-11-25 09:00:00"


def test_a_moved_visit_comes_back_with_its_new_start_and_end() -> None:
    with NaverSandbox(now=NOW, stores={STORE: 28}) as naver:
        api = _api(naver)
        num = f"{STORE}_{TOMORROWS}"
        naver.move(STORE, TOMORROWS, datetime(2026, 11, 30, 18, 30, tzinfo=KST))
        moved = _by_num(_read(api, naver))[num]
        assert (moved["time"], moved["end_time"]) == ("2026-11-30 18:30:00", "2026-11-30 19:30:00")
        assert moved["status"] == "RC03"


def test_a_visit_moved_into_the_past_counts_as_done_and_leaves_the_window() -> None:
    with NaverSandbox(now=NOW, stores={STORE: 28}) as naver:
        naver.move(STORE, TOMORROWS, NOW - timedelta(hours=3))
        (raw,) = [r for r in naver.bookings(STORE) if r["bookingId"] == TOMORROWS]
        assert raw["bookingStatusCode"] == "RC08"


def test_changing_a_booking_the_store_does_not_have_is_a_clear_error() -> None:
    with NaverSandbox(now=NOW, stores={STORE: 3}) as naver, pytest.raises(KeyError, match="999"):
        naver.cancel(STORE, 999)


def test_confirmed_and_cancelled_come_in_one_request_per_window_when_honoured() -> None:
    with NaverSandbox(now=NOW, stores={STORE: 28}) as naver:
        api = _api(naver, multi_status=True)
        result = _read(api, naver)
        statuses = {b.extra["status"] for b in result.bookings}
        assert statuses == {"RC03", "RC04"}
        expected = {
            f"{STORE}_{r['bookingId']}"
            for code in ("RC03", "RC04")
            for r in naver.bookings(STORE, code)
            if r["startDate"] >= FIRST.isoformat()
        }
        assert {b.booking_num for b in result.bookings} == expected
        # One page: the same as a single status costs.
        assert naver.requests == {"list": 1}
        assert set(_statuses_asked(naver)) == {"RC03,RC04"}
        assert result.status == "RC03,RC04"
        assert result.statuses == ("RC03", "RC04")


def test_the_first_read_checks_the_list_once_and_later_reads_trust_it() -> None:
    with NaverSandbox(now=NOW, stores={STORE: 28}) as naver:
        api = _api(naver)  # not configured: find out
        assert api.multi_status is None
        first = _read(api, naver)
        # The check: the joined count against each status's own count.
        assert naver.requests == {"count": 3, "list": 1}
        assert api.multi_status is True
        naver.reset_counters()
        second = _read(api, naver)
        assert naver.requests == {"list": 1}  # the warm cycle's minimum: one page
        assert _by_num(first) == _by_num(second)


@pytest.mark.parametrize("mode", ["reject", "ignore", "first"])
def test_an_api_that_does_not_honour_the_list_is_read_one_status_at_a_time(
    mode: SeveralStatuses,
) -> None:
    with (
        NaverSandbox(now=NOW, stores={STORE: 28}) as honest,
        NaverSandbox(now=NOW, stores={STORE: 28}, several_statuses=mode) as naver,
    ):
        truth = _by_num(_read(_api(honest, multi_status=False), honest))
        api = _api(naver)
        result = _read(api, naver)
        assert _by_num(result) == truth  # nothing lost, nothing foreign
        assert {s["status"] for s in truth.values()} == {"RC03", "RC04"}
        assert api.multi_status is False
        naver.reset_counters()
        _read(api, naver)
        # Remembered: one page per status, no list asked again.
        assert naver.requests == {"list": 2}
        assert sorted(set(_statuses_asked(naver))) == ["RC03", "RC04"]


def test_a_list_forced_on_by_config_still_falls_back_when_refused() -> None:
    with NaverSandbox(now=NOW, stores={STORE: 28}, several_statuses="ignore") as naver:
        api = _api(naver, multi_status=True)
        result = _read(api, naver)
        assert {b.extra["status"] for b in result.bookings} == {"RC03", "RC04"}
        assert api.multi_status is False
        assert result.requests == sum(naver.requests.values())


def test_one_status_per_request_when_configured_off_never_sends_a_list() -> None:
    with NaverSandbox(now=NOW, stores={STORE: 28}) as naver:
        api = _api(naver, multi_status=False)
        _read(api, naver)
        assert "RC03,RC04" not in _statuses_asked(naver)
        assert naver.requests == {"list": 2}


def test_a_single_status_read_is_what_it_was() -> None:
    with NaverSandbox(now=NOW, stores={STORE: 28}) as naver:
        api = _api(naver)
        result = api.fetch_bookings(STORE, "RC03", FIRST, LAST, naver.issue_session())
        assert {b.extra["status"] for b in result.bookings} == {"RC03"}
        assert naver.requests == {"list": 1}
        assert api.multi_status is None  # nothing learnt, nothing assumed


def test_a_quiet_store_tells_nothing_and_costs_one_empty_page() -> None:
    with NaverSandbox(now=NOW, stores={STORE: 0}) as naver:
        api = _api(naver)
        assert _read(api, naver).bookings == []
        # The joined list's empty page, and each status's count to check it.
        assert naver.requests == {"count": 3, "list": 1}
        assert api.multi_status is None  # zero everywhere cannot tell an API that drops codes
