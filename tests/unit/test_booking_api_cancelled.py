"""Cancelled bookings (RC04) and entries read for several statuses at once."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from naver_sms.naver.booking_api import BookingApi, parse_booking, parse_bookings

DATA = Path(__file__).resolve().parent.parent / "data"
STORE = "5000001"


def _sample(name: str) -> list[dict[str, Any]]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_a_cancelled_booking_parses_with_its_status_and_when_it_was_cancelled() -> None:
    bookings, unusable = parse_bookings(
        _sample("bookings_rc04_page0.json"), biz_id=STORE, status="RC04"
    )
    assert unusable == []
    said, silent = bookings
    assert said.extra["status"] == "RC04"
    assert said.extra["cancelled_at"] == "2026-11-24 21:30:00"  # +09:00 kept as Seoul time
    assert said.booking_time == "2026-11-25 14:00:00"
    assert said.phone == "010-0000-2222"
    assert "cancelled_at" not in silent.extra  # not said: not invented
    assert silent.booking_time == "2026-11-26 10:00:00"


def test_a_cancellation_time_given_in_utc_is_shown_in_seoul_time() -> None:
    (raw, _) = _sample("bookings_rc04_page0.json")
    raw["cancelledDateTime"] = "2026-11-24T12:30:00Z"
    assert parse_booking(raw, biz_id=STORE, status="RC04").extra["cancelled_at"] == (
        "2026-11-24 21:30:00"
    )


@pytest.mark.parametrize("garbage", ["어제", 20261124, "0001-01-01T00:00:00+08:27:52", {}])
def test_an_unreadable_cancellation_time_still_leaves_the_booking_usable(garbage: object) -> None:
    # The time only dates the notice; losing the notice over it would be worse.
    (raw, _) = _sample("bookings_rc04_page0.json")
    raw["cancelledDateTime"] = garbage
    booking = parse_booking(raw, biz_id=STORE, status="RC04")
    assert booking.extra["status"] == "RC04"
    assert "cancelled_at" not in booking.extra


def test_a_confirmed_booking_never_carries_a_cancellation_time() -> None:
    (raw, _) = _sample("bookings_rc04_page0.json")
    raw["bookingStatusCode"] = "RC03"
    assert "cancelled_at" not in parse_booking(raw, biz_id=STORE, status="RC03").extra


def test_an_entry_without_a_status_is_unusable_when_several_were_asked_for() -> None:
    # Guessing "confirmed" for a cancelled booking would send it a reminder.
    (raw, other) = _sample("bookings_rc04_page0.json")
    del raw["bookingStatusCode"]
    bookings, unusable = parse_bookings([raw, other], biz_id=STORE, status=None)
    assert [b.booking_num for b in bookings] == ["5000001_1100000012"]
    assert unusable[0].booking_num == "5000001_1100000011"
    assert "bookingStatusCode" in unusable[0].reason
    assert unusable[0].phone_masked == "010-****-2222"
    one = copy.deepcopy(raw)
    assert parse_booking(one, biz_id=STORE, status="RC04").extra["status"] == "RC04"


@pytest.mark.parametrize("statuses", [(), ("RC03", "cancelled"), "RC03,", ["rc04"], [3]])
def test_statuses_that_are_not_codes_are_refused_before_any_request(statuses: object) -> None:
    api = BookingApi("http://127.0.0.1:9", retries=0)
    with pytest.raises(ValueError, match="status must be a code like RC03"):
        api.fetch_bookings(STORE, statuses, None, None, [])  # type: ignore[arg-type]
