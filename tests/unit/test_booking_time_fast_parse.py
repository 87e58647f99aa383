"""Stored visit times read without strptime: the same instants, the same refusals."""

from __future__ import annotations

from datetime import datetime

import pytest

from naver_sms.domain.booking import KST, BookingValidationError, parse_booking_time


def test_a_stored_time_is_the_same_kst_instant_strptime_gave() -> None:
    expected = datetime.strptime("2026-11-25 20:05:09", "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007
    assert parse_booking_time("2026-11-25 20:05:09") == expected.replace(tzinfo=KST)
    assert parse_booking_time("2026-11-25 20:05:09").utcoffset() == KST.utcoffset(expected)


def test_a_time_without_zero_padding_is_still_read_as_before() -> None:
    assert parse_booking_time("2026-1-5 1:02:03") == datetime(2026, 1, 5, 1, 2, 3, tzinfo=KST)


@pytest.mark.parametrize(
    "text", ["2026-02-30 10:00:00", "2026-11-25 24:00:00", "2026-11-25T20:00:00", "2026-11-25"]
)
def test_an_impossible_or_differently_written_time_is_refused_naming_the_form(text: str) -> None:
    with pytest.raises(BookingValidationError, match="YYYY-MM-DD HH:MM:SS"):
        parse_booking_time(text)
