"""The rules table of docs/architecture.md, one case per test, with a fixed `now` (KST)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from naver_sms.domain.booking import KST, Booking
from naver_sms.domain.catalog import builtin_catalog
from naver_sms.domain.schedule import Schedule, evaluate_messages

CONFIRMATION, REMINDER, EVENT = "confirmation", "reminder", "event"
RULES: dict[str, Any] = {}


def Rules(**settings: Any) -> dict[str, Any]:
    """The seed's three messages as an old `rules:` section with these settings means them."""
    return settings


def evaluate(
    b: Booking, rec: dict[str, Any] | None, now: datetime, rules: dict[str, Any], **kw: Any
) -> Schedule:
    return evaluate_messages(b, rec, now, builtin_catalog(**rules), **kw)


def at(hour: int, minute: int = 0, day: int = 25) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=KST)


def booking(
    start: str = "2026-11-25 14:00:00",
    *,
    status: str = "RC03",
    options: list[str] | None = None,
    end: str | None = None,
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


def record(b: Booking, **flags: bool) -> dict[str, Any]:
    item = b.to_item()
    item.update(flags)
    return item


def kinds(b: Booking, rec: dict[str, Any] | None, now: datetime, **kw: Any) -> list[str]:
    return evaluate(b, rec, now, RULES, **kw).names


def test_a_new_confirmed_booking_is_due_its_confirmation() -> None:
    result = evaluate(booking(), None, at(9), RULES)
    assert result.names == [CONFIRMATION]
    assert result.new
    assert "confirmed booking for 11-25 14:00" in result.due[0].why


def test_a_confirmation_is_not_sent_twice() -> None:
    b = booking()
    assert kinds(b, record(b, confirm_sms=True), at(9)) == []


def test_a_confirmation_is_due_for_a_visit_weeks_ahead() -> None:
    b = booking("2026-12-20 10:00:00")
    assert kinds(b, None, at(9)) == [CONFIRMATION]


def test_reminder_is_due_two_hours_before_the_visit() -> None:
    b = booking()
    rec = record(b, confirm_sms=True)
    assert kinds(b, rec, at(11, 59)) == []
    assert kinds(b, rec, at(12, 0)) == [REMINDER]
    assert kinds(b, rec, at(13, 59)) == [REMINDER]


def test_reminder_is_not_sent_after_the_visit_started() -> None:
    b = booking()
    assert kinds(b, record(b, confirm_sms=True), at(14, 0)) == []


def test_a_started_visit_gets_no_confirmation_and_no_reminder() -> None:
    b = booking()
    assert kinds(b, None, at(14, 30)) == []


def test_when_the_confirmation_is_also_unsent_it_goes_before_the_reminder() -> None:
    b = booking()
    assert kinds(b, None, at(13, 0)) == [CONFIRMATION, REMINDER]


def test_a_sent_reminder_is_not_sent_again() -> None:
    b = booking()
    assert kinds(b, record(b, confirm_sms=True, remind_sms=True), at(13)) == []


def test_hours_before_is_configurable() -> None:
    b = booking()
    rules = Rules(hours_before=3)
    assert evaluate(b, record(b, confirm_sms=True), at(11, 0), rules).names == [REMINDER]


def test_disabled_rules_send_nothing() -> None:
    b = booking()
    rules = Rules(confirmation=False, reminder=False)
    assert evaluate(b, None, at(13), rules).names == []
    assert evaluate(b, None, at(13), Rules(confirmation=False)).names == [REMINDER]


def test_a_cancelled_booking_gets_nothing() -> None:
    assert kinds(booking(status="RC04"), None, at(13)) == []


def test_a_rescheduled_booking_gets_a_reminder_for_its_new_time() -> None:
    moved = booking("2026-11-25 18:00:00")
    old = record(booking("2026-11-25 14:00:00"), confirm_sms=True, remind_sms=True)
    result = evaluate(moved, old, at(16, 30), RULES)
    assert result.moved_from == "2026-11-25 14:00:00"
    assert "remind_sms" in result.reset
    assert result.names == [REMINDER]


def test_a_rescheduled_booking_not_yet_near_is_only_moved() -> None:
    moved = booking("2026-11-27 18:00:00")
    old = record(booking(), confirm_sms=True, remind_sms=True)
    result = evaluate(moved, old, at(9), RULES)
    assert result.moved_from == "2026-11-25 14:00:00"
    assert result.names == []


def test_an_unchanged_time_is_not_a_reschedule() -> None:
    b = booking()
    assert evaluate(b, record(b), at(9), RULES).moved_from is None


EVENT_OPTIONS = ["기본 이용 50분", "네이버 리뷰 이벤트 참여"]


def test_a_completed_visit_with_a_keyword_option_gets_the_event_in_the_evening() -> None:
    b = booking(status="RC08", options=EVENT_OPTIONS)
    result = evaluate(b, record(b, confirm_sms=True, remind_sms=True), at(20, 10), RULES)
    assert result.names == [EVENT]
    assert "네이버" in result.due[0].why


def test_an_event_waits_for_its_window() -> None:
    b = booking(status="RC08", options=EVENT_OPTIONS)
    result = evaluate(b, None, at(19, 59), RULES)
    assert result.names == []
    assert [spec.name for spec, _why in result.held] == [EVENT]
    assert "waits" in result.held[0][1]


def test_an_event_is_skipped_once_its_window_has_passed() -> None:
    b = booking(status="RC08", options=EVENT_OPTIONS)
    result = evaluate(b, None, at(21, 0), RULES)
    assert result.names == []
    [why] = [why for spec, why in result.skip if spec.name == EVENT]
    assert "deadline passed" in why
    assert kinds(b, None, at(20, 30, day=26)) == []


def test_an_event_is_never_sent_outside_advertising_hours_even_if_configured() -> None:
    b = booking("2026-11-25 06:00:00", status="RC08", options=EVENT_OPTIONS)
    rules = Rules(event_window=(time(8, 0), time(21, 0)))
    assert evaluate(b, None, at(7, 30), rules).names == []
    assert evaluate(b, None, at(8, 0), rules).names == [EVENT]
    assert evaluate(b, None, at(21, 30), rules).names == []


def test_an_event_needs_a_keyword_option() -> None:
    b = booking(status="RC08", options=["기본 이용 50분"])
    assert kinds(b, None, at(20, 10)) == []


def test_every_default_keyword_counts() -> None:
    for option in ("네이버 리뷰", "인스타 이벤트", "원본 추가"):
        b = booking(status="RC08", options=[option])
        assert kinds(b, None, at(20, 10)) == [EVENT], option


def test_a_confirmed_visit_that_has_ended_counts_as_completed() -> None:
    b = booking(options=EVENT_OPTIONS, end="2026-11-25 15:00:00")
    assert kinds(b, record(b, confirm_sms=True, remind_sms=True), at(20, 10)) == [EVENT]


def test_a_confirmed_visit_still_running_gets_no_event() -> None:
    b = booking("2026-11-25 20:00:00", options=EVENT_OPTIONS, end="2026-11-25 21:00:00")
    assert kinds(b, record(b, confirm_sms=True, remind_sms=True), at(20, 30)) == []


def test_a_visit_of_another_day_gets_no_event() -> None:
    b = booking("2026-11-24 14:00:00", status="RC08", options=EVENT_OPTIONS)
    assert kinds(b, None, at(20, 10)) == []


def test_an_event_is_sent_once() -> None:
    b = booking(status="RC08", options=EVENT_OPTIONS)
    assert kinds(b, record(b, option_sms=True), at(20, 10)) == []


def test_a_store_without_opt_out_gets_no_event() -> None:
    b = booking(status="RC08", options=EVENT_OPTIONS)
    result = evaluate(b, None, at(20, 10), RULES, advertising_allowed=False)
    assert result.names == []
    assert "opt_out" in dict((spec.name, why) for spec, why in result.held)[EVENT]


def test_adopt_marks_confirmations_without_sending_anything() -> None:
    b = booking()
    result = evaluate(b, None, at(13), RULES, adopt=True)
    assert result.names == []
    assert [spec.name for spec, _why in result.adopt] == [CONFIRMATION]
    done = evaluate(b, record(b, confirm_sms=True), at(13), RULES, adopt=True)
    assert done.adopt == ()


def test_after_adopt_only_the_reminder_is_due() -> None:
    b = booking()
    assert kinds(b, record(b, confirm_sms=True), at(13)) == [REMINDER]


def test_now_in_another_zone_means_the_same_instant() -> None:
    b = booking()
    rec = record(b, confirm_sms=True)
    utc = datetime(2026, 11, 25, 3, 30, tzinfo=UTC)  # 12:30 KST
    assert kinds(b, rec, utc) == [REMINDER]
    assert kinds(b, rec, utc - timedelta(hours=1)) == []


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        evaluate(booking(), None, datetime(2026, 11, 25, 12), RULES)  # noqa: DTZ001


@pytest.mark.slow  # a child pytest per zone
@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_the_unit_tests_pass_under_another_host_time_zone(zone: str) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "TZ": zone}
    here = Path(__file__)
    tests = [str(here), str(here.with_name("test_cycle.py"))]
    # Everything but this test itself, which would start its own child again.
    others = "not under_another_host_time_zone"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "--no-cov",
            "-p",
            "no:cacheprovider",
            "-k",
            others,
            *tests,
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
