"""The seed's rules for booking records: key, phone, time, flags, extras."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from naver_sms.domain.booking import (
    KST,
    Booking,
    BookingValidationError,
    clean_text,
    format_booking_time,
    make_booking_num,
    mask_phone,
    normalize_phone,
    parse_booking_time,
    split_booking_num,
)
from tests.phones import legacy_010

VALID = {
    "booking_num": "1051707_12345",
    "phone": "010-1234-5678",
    "name": "Kim Soo",
    "booking_time": "2025-10-20 14:30:00",
}

# The legacy 10-digit form of a made-up number (issue 10.12).
LEGACY, LEGACY_STORED = legacy_010("010-0000-1234")


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("010-1234-5678", "010-1234-5678"),
        ("01012345678", "010-1234-5678"),
        ("010 1234 5678", "010-1234-5678"),
        ("010.1234.5678", "010-1234-5678"),
        ("+82 10-1234-5678", "010-1234-5678"),
        ("+821012345678", "010-1234-5678"),
        ("82-10-1234-5678", "010-1234-5678"),
        ("+82 010-1234-5678", "010-1234-5678"),
        ("0110001234", "011-000-1234"),  # made-up legacy test numbers
        ("016-000-1234", "016-000-1234"),  # fake
        ("019 0000 1234", "019-0000-1234"),  # fake
        # Legacy 10-digit 010 numbers are still in use (issue 10.12).
        (LEGACY, LEGACY_STORED),
        (LEGACY_STORED, LEGACY_STORED),
        (f"+82 10-{LEGACY_STORED[4:]}", LEGACY_STORED),
        (f"82{LEGACY[1:]}", LEGACY_STORED),
    ],
)
def test_korean_mobile_numbers_are_stored_as_three_groups(raw: str, stored: str) -> None:
    assert normalize_phone(raw) == stored


@pytest.mark.parametrize(
    "raw",
    [
        "02-1234-5678",
        "010-1234-567",  # an 11-digit number missing its last digit, not a 10-digit one
        "010-0000-123",
        "010-1234-56789",
        "+1 10-1234-5678",
        "010-1234-567８",
        "phone",
        "",
        "010-****-5678",
        "012-1234-5678",
    ],
)
def test_anything_else_is_a_validation_error_naming_the_field_with_the_value_masked(
    raw: str,
) -> None:
    with pytest.raises(BookingValidationError, match=r"invalid phone '\*\*\*'") as raised:
        normalize_phone(raw)
    assert raised.value.field == "phone"


def test_a_phone_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(BookingValidationError, match="phone"):
        normalize_phone(1012345678)


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("010-1234-5678", "010-****-5678"),
        ("01012345678", "010-****-5678"),
        ("+82 10-1234-5678", "010-****-5678"),
        ("011-000-1234", "011-***-1234"),  # a made-up legacy test number
        (LEGACY, "010-***-1234"),
        ("not a phone", "***"),
        ("02-1234-5678", "***"),
        (None, "***"),
    ],
)
def test_mask_phone_keeps_only_the_prefix_and_the_last_four_digits(
    raw: object, masked: str
) -> None:
    assert mask_phone(raw) == masked


def test_booking_num_is_biz_id_and_book_id_both_numeric() -> None:
    assert make_booking_num(1051707, 12345) == "1051707_12345"
    assert split_booking_num("1051707_12345") == ("1051707", "12345")
    booking = Booking(**VALID)  # type: ignore[arg-type]
    assert (booking.biz_id, booking.book_id) == ("1051707", "12345")


def test_a_booking_s_key_is_its_number_and_its_phone_in_the_stored_form() -> None:
    booking = Booking(**{**VALID, "phone": "+82 10-0000-5678"})  # type: ignore[arg-type]
    assert booking.key == ("1051707_12345", "010-0000-5678")
    # A record read back from either database finds the same key.
    assert Booking.from_dict(booking.to_item()).key == booking.key
    # The phone is part of the key: the same booking number with another phone is another record.
    assert Booking(**{**VALID, "phone": "010-0000-5679"}).key != booking.key  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["1051707", "1051707_", "_12345", "a_1", "1_2_3", "1 _2"])
def test_a_malformed_booking_num_is_refused(bad: str) -> None:
    with pytest.raises(BookingValidationError, match="booking_num"):
        Booking(**{**VALID, "booking_num": bad})  # type: ignore[arg-type]


def test_booking_time_is_kst_whatever_zone_the_datetime_was_given_in() -> None:
    utc_moment = datetime(2025, 10, 20, 5, 30, tzinfo=UTC)
    booking = Booking(**{**VALID, "booking_time": utc_moment})  # type: ignore[arg-type]

    assert booking.booking_time == "2025-10-20 14:30:00"
    assert booking.starts_at == datetime(2025, 10, 20, 14, 30, tzinfo=KST)
    assert parse_booking_time("2025-10-20 14:30:00").utcoffset().total_seconds() == 9 * 3600  # type: ignore[union-attr]


@pytest.mark.parametrize("bad", ["2025-10-20", "2025-10-20T14:30:00", "20/10/2025 14:30:00", 1])
def test_a_booking_time_in_another_format_is_refused(bad: object) -> None:
    with pytest.raises(BookingValidationError, match=r"booking_time.*YYYY-MM-DD HH:MM:SS"):
        Booking(**{**VALID, "booking_time": bad})  # type: ignore[arg-type]


def test_flags_default_to_false_and_must_be_booleans() -> None:
    booking = Booking.from_dict(VALID)
    assert (booking.confirm_sms, booking.remind_sms, booking.option_sms) == (False, False, False)
    assert Booking.from_dict({**VALID, "remind_sms": None}).remind_sms is False
    with pytest.raises(BookingValidationError, match="remind_sms"):
        Booking.from_dict({**VALID, "remind_sms": 1})


@pytest.mark.parametrize("value", ["", None, "2025-10-20T20:00:00+09:00", "2025-10-20T11:00:00Z"])
def test_option_time_is_empty_or_iso_8601(value: str | None) -> None:
    assert Booking.from_dict({**VALID, "option_time": value}).option_time == (value or "")


def test_option_time_that_is_not_iso_8601_is_refused() -> None:
    with pytest.raises(BookingValidationError, match="option_time"):
        Booking.from_dict({**VALID, "option_time": "after the visit"})


def test_extras_are_top_level_attributes_and_none_values_are_dropped() -> None:
    item = Booking.from_dict({**VALID, "visit_count": 2, "coupon": None}).to_item()

    assert item["visit_count"] == 2
    assert "coupon" not in item
    assert list(item)[:8] == [
        "booking_num",
        "phone",
        "name",
        "booking_time",
        "confirm_sms",
        "remind_sms",
        "option_sms",
        "option_time",
    ]


def test_a_missing_required_attribute_is_named() -> None:
    with pytest.raises(BookingValidationError, match="invalid name"):
        Booking.from_dict({key: value for key, value in VALID.items() if key != "name"})


def test_an_extra_may_not_pose_as_a_core_attribute() -> None:
    with pytest.raises(BookingValidationError, match="extra field"):
        Booking(**VALID, extra={"phone": "010-0000-0000"})  # type: ignore[arg-type]


def test_a_booking_from_naver_with_a_legacy_10_digit_010_number_is_stored_as_3_3_4() -> None:
    ten_digits, stored = legacy_010("010-0000-5678")
    booking = Booking(**{**VALID, "phone": ten_digits})  # type: ignore[arg-type]
    assert booking.phone == stored


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=UTC),  # Naver's zero date: "1-01-01 08:27:52" before the fix
        datetime(999, 12, 31, 12, tzinfo=KST),
        datetime(9999, 12, 31, 23, tzinfo=UTC),
    ],
)
def test_a_booking_time_outside_four_digit_years_is_refused_not_written_short(
    moment: datetime,
) -> None:
    with pytest.raises(BookingValidationError, match=r"booking_time.*years 1000-9999"):
        format_booking_time(moment)
    with pytest.raises(BookingValidationError, match="booking_time"):
        Booking(**{**VALID, "booking_time": moment})  # type: ignore[arg-type]


def test_a_lone_surrogate_in_a_name_or_an_extra_becomes_a_replacement_character() -> None:
    half_emoji = "\ud83d"
    booking = Booking(
        **{**VALID, "name": f"김민지{half_emoji}"},  # type: ignore[arg-type]
        extra={"option_names": [f"이벤트{half_emoji}"], "item_name": f"룸{half_emoji}"},
    )
    assert booking.name == "김민지\ufffd"
    assert booking.extra["option_names"] == ["이벤트\ufffd"]
    assert booking.extra["item_name"] == "룸\ufffd"
    # What every store does with the name: it must encode.
    booking.name.encode("utf-8")
    assert Booking(**{**VALID, "name": "김😀"}).name == "김😀"  # type: ignore[arg-type]


def test_a_surrogate_pair_split_into_two_code_points_is_joined_back() -> None:
    assert clean_text("\ud83d\ude00") == "😀"
    assert clean_text("a\udc00b") == "a\ufffdb"
