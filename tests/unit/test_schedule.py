"""The engine of the messages a shop designs (issue 15), one rule per test, `now` fixed (KST)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from naver_sms.domain.booking import KST, Booking
from naver_sms.domain.catalog import MessageSpec, When, builtin_catalog
from naver_sms.domain.schedule import MOVED_FROM, Schedule, evaluate_messages

CONFIRMATION = MessageSpec("confirmation", When.CONFIRMED, "confirmation")
DAY_BEFORE = MessageSpec("day_before", When.BEFORE_VISIT, "day_before", offset=timedelta(hours=24))
GUIDE = MessageSpec("guide", When.BEFORE_VISIT, "guide", offset=timedelta(hours=2))
THANKS = MessageSpec("thanks", When.AFTER_VISIT, "thanks", offset=timedelta(hours=1))
REVIEW = MessageSpec(
    "review",
    When.AFTER_VISIT,
    "review",
    advertising=True,
    window=(time(20, 0), time(21, 0)),
    keywords=("네이버",),
)
CANCELLED = MessageSpec("cancelled", When.CANCELLED, "cancelled")
CHANGED = MessageSpec("changed", When.CHANGED, "changed")
CATALOG = (CONFIRMATION, DAY_BEFORE, GUIDE, THANKS, REVIEW, CANCELLED, CHANGED)


def at(hour: int, minute: int = 0, day: int = 25) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=KST)


def booking(
    start: str = "2026-11-25 14:00:00",
    *,
    status: str = "RC03",
    options: list[str] | None = None,
    end: str | None = "2026-11-25 15:00:00",
) -> Booking:
    extra: dict[str, Any] = {"status": status, "option_names": options or ["기본 이용"]}
    if end is not None:
        extra["end_time"] = end
    return Booking(
        booking_num="5000001_1100000001",
        phone="010-0000-1111",
        name="김민지",
        booking_time=start,
        extra=extra,
    )


def record(b: Booking, *sent: str, **extra: Any) -> dict[str, Any]:
    item = b.to_item()
    for spec in CATALOG:
        item[spec.flag] = spec.name in sent
    item.update(extra)
    return item


ALL_BEFORE = ("confirmation", "day_before", "guide")


def run(
    b: Booking,
    rec: dict[str, Any] | None,
    now: datetime,
    catalog: tuple[MessageSpec, ...] = CATALOG,
    **kw: Any,
) -> Schedule:
    return evaluate_messages(b, rec, now, catalog, **kw)


def names(verdicts: tuple[tuple[MessageSpec, str], ...]) -> list[str]:
    return [spec.name for spec, _why in verdicts]


# 1. confirmed


def test_a_new_confirmed_booking_is_due_its_confirmation_only_while_far_ahead() -> None:
    result = run(booking(), None, at(9, day=20))
    assert result.names == ["confirmation"]
    assert result.new
    assert "confirmed booking for 11-25 14:00" in result.due[0].why


def test_a_confirmation_whose_visit_started_is_skipped_with_the_reason() -> None:
    result = run(booking(), None, at(14, 30))
    assert result.names == []
    assert names(result.skip) == ["confirmation", "day_before", "guide"]
    assert all("started before it could go" in why for _spec, why in result.skip)


def test_a_booking_not_yet_confirmed_gets_nothing() -> None:
    result = run(booking(status="RC02"), None, at(13))
    assert (result.due, result.held, result.skip) == ((), (), ())


# 2. before_visit


def test_before_visit_messages_open_at_their_offset_and_close_at_the_start() -> None:
    b = booking()
    rec = record(b, "confirmation")
    assert run(b, rec, at(13, 59, day=24)).names == []
    assert run(b, rec, at(14, 0, day=24)).names == ["day_before"]
    assert run(b, record(b, "confirmation", "day_before"), at(12)).names == ["guide"]
    assert run(b, record(b, "confirmation", "day_before"), at(11, 59)).names == []


def test_a_booking_made_after_the_moment_still_gets_it_while_the_visit_is_ahead() -> None:
    result = run(booking(), None, at(13))
    assert result.names == ["confirmation", "day_before", "guide"]


def test_a_before_visit_message_missed_while_down_is_skipped_once_the_visit_started() -> None:
    b = booking()
    result = run(b, record(b, "confirmation", "day_before"), at(14, 0))
    assert result.names == []
    assert names(result.skip) == ["guide"]
    assert "the visit at 11-25 14:00 started before it could go" in result.skip[0][1]


def test_a_sent_before_visit_message_is_not_sent_again() -> None:
    b = booking()
    assert run(b, record(b, *ALL_BEFORE), at(13)).names == []


def test_a_windowed_before_visit_message_waits_for_its_window() -> None:
    quiet = MessageSpec(
        "day_before",
        When.BEFORE_VISIT,
        "day_before",
        offset=timedelta(hours=24),
        window=(time(9, 0), time(20, 0)),
    )
    b = booking("2026-11-26 07:00:00", end="2026-11-26 08:00:00")
    early = run(b, record(b, "confirmation"), at(7, 30), (quiet,))
    assert early.names == []
    assert names(early.held) == ["day_before"]
    assert "waits for 09:00-20:00" in early.held[0][1]
    assert run(b, record(b, "confirmation"), at(9), (quiet,)).names == ["day_before"]


# 3. after_visit


def test_a_thank_you_goes_its_offset_after_the_visit_ended_and_never_before() -> None:
    b = booking(status="RC08")
    rec = record(b, *ALL_BEFORE)
    assert run(b, rec, at(15, 59)).names == []
    assert run(b, rec, at(16, 0)).names == ["thanks"]
    assert run(b, rec, at(23, 59)).names == ["thanks"]


def test_a_visit_marked_completed_early_still_ends_when_it_was_booked_to() -> None:
    b = booking(status="RC08")
    assert run(b, record(b, *ALL_BEFORE), at(14, 30)).names == []


def test_a_confirmed_visit_past_its_end_counts_as_ended() -> None:
    b = booking()
    assert run(b, record(b, *ALL_BEFORE), at(16, 30)).names == ["thanks"]


def test_a_thank_you_is_skipped_the_next_day_because_its_window_passed() -> None:
    b = booking(status="RC08")
    result = run(b, record(b, *ALL_BEFORE), at(0, 0, day=26))
    assert result.names == []
    assert names(result.skip) == ["thanks"]
    assert "its window passed" in result.skip[0][1]


def test_a_thank_you_needs_no_opt_out_number() -> None:
    b = booking(status="RC08")
    result = run(b, record(b, *ALL_BEFORE), at(16, 30), advertising_allowed=False)
    assert result.names == ["thanks"]


def test_an_after_visit_message_is_due_only_on_the_day_its_moment_falls_on() -> None:
    late = MessageSpec("late", When.AFTER_VISIT, "late", offset=timedelta(hours=10))
    b = booking(status="RC08")  # ends 15:00, so due 01:00 the next day
    rec = record(b, *ALL_BEFORE)
    assert run(b, rec, at(23, 59), (late,)).names == []
    assert run(b, rec, at(1, 0, day=26), (late,)).names == ["late"]
    assert names(run(b, rec, at(0, 30, day=27), (late,)).skip) == ["late"]


# 4. advertising


EVENT_OPTIONS = ["기본 이용 50분", "네이버 리뷰 이벤트 참여"]


def test_an_advertising_message_waits_for_its_window_then_goes() -> None:
    b = booking(status="RC08", options=EVENT_OPTIONS)
    rec = record(b, *ALL_BEFORE, "thanks")
    waiting = run(b, rec, at(19, 59))
    assert names(waiting.held) == ["review"]
    assert "waits for 20:00-21:00 (advertising)" in waiting.held[0][1]
    due = run(b, rec, at(20, 10))
    assert due.names == ["review"]
    assert "'네이버 리뷰 이벤트 참여' matches '네이버'" in due.due[0].why


def test_an_advertising_message_is_skipped_once_its_deadline_passed() -> None:
    b = booking(status="RC08", options=EVENT_OPTIONS)
    result = run(b, record(b, *ALL_BEFORE, "thanks"), at(21, 0))
    assert result.names == []
    assert names(result.skip) == ["review"]
    assert "21:00 deadline passed" in result.skip[0][1]


def test_a_store_without_an_opt_out_number_holds_advertising_with_the_reason() -> None:
    b = booking(status="RC08", options=EVENT_OPTIONS)
    result = run(b, record(b, *ALL_BEFORE, "thanks"), at(20, 10), advertising_allowed=False)
    assert result.names == []
    assert names(result.held) == ["review"]
    assert "no opt_out number" in result.held[0][1]


def test_an_advertising_message_needs_its_keyword_in_an_option() -> None:
    b = booking(status="RC08", options=["기본 이용 50분"])
    result = run(b, record(b, *ALL_BEFORE, "thanks"), at(20, 10))
    assert (result.due, result.held, result.skip) == ((), (), ())


# 5. cancelled


def test_a_cancelled_booking_gets_its_cancellation_notice_and_not_the_due_reminder() -> None:
    b = booking(status="RC04")
    result = run(b, record(b, "confirmation", "day_before"), at(13))
    assert result.names == ["cancelled"]
    assert (result.held, result.skip, result.reset) == ((), (), ())


def test_a_cancellation_notice_goes_once() -> None:
    b = booking(status="RC04")
    assert run(b, record(b, "confirmation", "cancelled"), at(13)).names == []


def test_a_cancelled_booking_we_never_stored_gets_nothing() -> None:
    result = run(booking(status="RC04"), None, at(13))
    assert (result.due, result.held, result.skip, result.adopt) == ((), (), (), ())


def test_a_cancelled_booking_that_also_moved_gets_only_the_cancellation() -> None:
    old = record(booking(), "confirmation")
    result = run(booking("2026-11-25 15:00:00", status="RC04"), old, at(13, 30))
    assert result.names == ["cancelled"]
    assert result.moved_from is None
    assert result.reset == ()


def test_a_cancellation_seen_after_the_visit_time_is_skipped() -> None:
    b = booking(status="RC04")
    result = run(b, record(b, "confirmation"), at(15))
    assert result.names == []
    assert names(result.skip) == ["cancelled"]


# 6. changed


def test_a_moved_visit_gets_its_change_notice_and_its_before_visit_messages_again() -> None:
    old = record(booking(), *ALL_BEFORE)
    moved = booking("2026-11-25 18:00:00", end="2026-11-25 19:00:00")
    result = run(moved, old, at(16, 30))
    assert result.moved_from == "2026-11-25 14:00:00"
    assert result.reset == ("day_before_sms", "guide_sms", "changed_sms")
    assert result.names == ["day_before", "guide", "changed"]
    assert "moved from 11-25 14:00 to 11-25 18:00" in result.due[-1].why


def test_a_moved_visit_never_gets_a_second_confirmation() -> None:
    old = record(booking(), *ALL_BEFORE)
    moved = booking("2026-11-28 18:00:00", end="2026-11-28 19:00:00")
    assert run(moved, old, at(9)).names == ["changed"]


def test_each_move_of_a_booking_gets_its_own_change_notice() -> None:
    first = booking("2026-11-27 18:00:00", end="2026-11-27 19:00:00")
    after_first = record(first, *ALL_BEFORE, "changed", **{MOVED_FROM: "2026-11-25 14:00:00"})
    assert run(first, after_first, at(9)).names == []
    second = booking("2026-11-28 18:00:00", end="2026-11-28 19:00:00")
    result = run(second, after_first, at(10))
    assert "changed_sms" in result.reset
    assert result.names == ["changed"]


def test_a_change_notice_that_had_to_wait_is_still_due_after_the_move_was_stored() -> None:
    quiet = MessageSpec("changed", When.CHANGED, "changed", window=(time(9, 0), time(20, 0)))
    moved = booking("2026-11-27 18:00:00", end="2026-11-27 19:00:00")
    at_night = run(moved, record(booking(), "confirmation"), at(23), (quiet,))
    assert names(at_night.held) == ["changed"]
    stored = record(moved, "confirmation", **{MOVED_FROM: at_night.moved_from})
    assert run(moved, stored, at(9, day=26), (quiet,)).names == ["changed"]


def test_an_unmoved_booking_gets_no_change_notice() -> None:
    b = booking()
    result = run(b, record(b, *ALL_BEFORE), at(9, day=20))
    assert result.moved_from is None
    assert (result.due, result.reset) == ((), ())


def test_a_move_to_a_time_already_started_skips_the_change_notice() -> None:
    old = record(booking(), *ALL_BEFORE)
    moved = booking("2026-11-25 10:00:00", end="2026-11-25 11:00:00")
    result = run(moved, old, at(10, 30))
    assert result.names == []
    assert "changed" in names(result.skip)


# 7. adopt


def test_adopt_sends_nothing_and_marks_confirmations_of_future_visits() -> None:
    result = run(booking(), None, at(13), adopt=True)
    assert result.due == ()
    assert names(result.adopt) == ["confirmation"]
    b = booking()
    assert run(b, record(b, "confirmation"), at(13), adopt=True).adopt == ()


def test_adopt_does_not_mark_a_confirmation_of_a_visit_already_started() -> None:
    result = run(booking(), None, at(14, 30), adopt=True)
    assert result.adopt == ()


# general


def test_a_disabled_message_is_never_considered() -> None:
    off = MessageSpec("confirmation", When.CONFIRMED, "confirmation", enabled=False)
    result = run(booking(), None, at(13, day=20), (off,))
    assert (result.due, result.held, result.skip, result.adopt) == ((), (), (), ())


def test_a_message_with_keywords_goes_only_to_bookings_with_a_matching_option() -> None:
    pets = MessageSpec("pets", When.CONFIRMED, "pets", keywords=("반려견",))
    assert run(booking(), None, at(9, day=20), (pets,)).names == []
    with_pet = booking(options=["반려견 동반"])
    assert run(with_pet, None, at(9, day=20), (pets,)).names == ["pets"]


def test_due_messages_come_in_the_order_the_catalog_lists_them() -> None:
    reversed_catalog = (GUIDE, CONFIRMATION)
    assert run(booking(), None, at(13), reversed_catalog).names == ["guide", "confirmation"]


def test_now_in_another_zone_means_the_same_instant() -> None:
    b = booking()
    rec = record(b, "confirmation", "day_before")
    utc = datetime(2026, 11, 25, 3, 30, tzinfo=UTC)  # 12:30 KST
    assert run(b, rec, utc).names == ["guide"]
    assert run(b, rec, utc - timedelta(hours=1)).names == []


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        run(booking(), None, datetime(2026, 11, 25, 12))  # noqa: DTZ001


def test_an_explicit_status_overrides_the_bookings_own() -> None:
    b = booking()
    result = run(b, record(b, "confirmation"), at(13), status="RC04")
    assert result.names == ["cancelled"]


def test_the_builtin_catalog_flags_are_the_seeds() -> None:
    b = booking()
    rec = b.to_item() | {"confirm_sms": True}
    assert evaluate_messages(b, rec, at(13), builtin_catalog()).names == ["reminder"]
