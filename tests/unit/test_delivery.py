"""The delivery model, pure: what a record says was sent, and what a check writes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from naver_sms.domain.booking import KST
from naver_sms.domain.delivery import (
    GAVE_UP_RESULT,
    GIVE_UP_AFTER,
    UNTRACKED_RESULT,
    DeliveryResult,
    DeliveryStatus,
    Lookup,
    check_interval,
    first_check,
    history,
    sent_messages,
    settle,
)

SENT = datetime(2026, 12, 1, 10, 0, tzinfo=KST)
FLAGS = ("confirm_sms", "remind_sms", "option_sms")
DELIVERED = DeliveryResult(DeliveryStatus.DELIVERED, "delivered (SKT)")
FAILED = DeliveryResult(DeliveryStatus.FAILED, "failed: 3018 no such number")
PROCESSING = DeliveryResult(DeliveryStatus.ACCEPTED, "processing")


def record(**more: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "booking_num": "1051707_500",
        "phone": "01000001234",
        "name": "고객",
        "booking_time": "2026-12-03 14:00:00",
        "confirm_sms": True,
        "remind_sms": False,
        "option_sms": False,
        "option_time": "",
        "confirm_sms_request_id": "req-1",
        "confirm_sms_at": SENT.isoformat(),
        "confirm_sms_channel": "sms",
        "confirm_sms_status": "accepted",
        "delivery_queue": "pending",
        "delivery_due": first_check(SENT),
    }
    base.update(more)
    return base


def test_a_record_lists_each_message_it_sent_with_its_life() -> None:
    [message] = sent_messages(record())
    assert message.kind == "confirmation"
    assert message.store == "1051707"
    assert message.status is DeliveryStatus.ACCEPTED
    assert message.channel == "sms"
    assert message.phone_masked == "010-****-1234"
    assert message.to_dict()["sent_at"] == "2026-12-01T10:00:00+09:00"
    assert "01000001234" not in str(message.to_dict())


def test_an_adopted_message_is_not_listed_as_sent() -> None:
    adopted = record(remind_sms=True)  # flag true, no request id: nothing went
    assert [m.flag for m in sent_messages(adopted)] == ["confirm_sms"]


def test_a_reminder_sent_before_the_visit_moved_is_still_listed_as_sent() -> None:
    moved = record(
        remind_sms=False,  # reset by the reschedule: the new time gets its own
        remind_sms_request_id="req-2",
        remind_sms_at=SENT.isoformat(),
        remind_sms_status="delivered",
    )
    assert [m.kind for m in sent_messages(moved)] == ["confirmation", "reminder"]


def test_a_message_sent_before_delivery_checks_reads_as_unknown_and_says_why() -> None:
    old = record()
    for name in ("confirm_sms_status", "confirm_sms_channel", "delivery_queue", "delivery_due"):
        del old[name]
    [message] = sent_messages(old)
    assert message.status is DeliveryStatus.UNKNOWN
    assert message.result == UNTRACKED_RESULT


def test_a_delivered_result_settles_the_message_and_empties_the_queue() -> None:
    now = SENT + timedelta(minutes=3)
    outcome = settle(record(), {"confirm_sms": Lookup("m-1", DELIVERED)}, now, FLAGS)
    assert outcome.update.set == {
        "confirm_sms_message_id": "m-1",
        "confirm_sms_result": "delivered (SKT)",
        "confirm_sms_checked_at": "2026-12-01T10:03:00+09:00",
        "confirm_sms_status": "delivered",
    }
    assert outcome.update.due is None
    assert [m.status for m in outcome.final] == [DeliveryStatus.DELIVERED]
    assert outcome.update.days == frozenset({"2026-12-01"})


def test_the_write_expects_every_known_flags_status_as_read() -> None:
    outcome = settle(record(), {"confirm_sms": Lookup("m-1", DELIVERED)}, SENT, FLAGS)
    # A reminder marked meanwhile by another cycle makes the write fail: it is not
    # dropped from the queue by a check that never saw it.
    assert outcome.update.expected == {
        "confirm_sms_status": "accepted",
        "remind_sms_status": None,
        "option_sms_status": None,
    }


def test_a_failed_delivery_is_final_and_never_makes_the_message_due_again() -> None:
    outcome = settle(record(), {"confirm_sms": Lookup("m-1", FAILED)}, SENT, FLAGS)
    assert outcome.update.set["confirm_sms_status"] == "failed"
    assert "confirm_sms" not in outcome.update.set  # the exactly-once flag is untouched
    assert outcome.final[0].result == "failed: 3018 no such number"


def test_a_message_still_processing_is_asked_again_later_as_it_ages() -> None:
    young = settle(
        record(), {"confirm_sms": Lookup("m-1", PROCESSING)}, SENT + timedelta(minutes=2), FLAGS
    )
    assert young.update.due == "2026-12-01T10:03:00+09:00"
    assert young.final == ()
    assert "confirm_sms_status" not in young.update.set
    older = settle(
        record(), {"confirm_sms": Lookup("m-1", PROCESSING)}, SENT + timedelta(hours=2), FLAGS
    )
    assert older.update.due == "2026-12-01T12:30:00+09:00"


def test_the_checks_space_out_as_a_message_ages() -> None:
    ages = [timedelta(minutes=2), timedelta(minutes=30), timedelta(hours=3), timedelta(days=1)]
    intervals = [check_interval(age) for age in ages]
    assert intervals == sorted(intervals)
    assert intervals[0] == timedelta(minutes=1)


def test_a_message_stuck_for_72_hours_becomes_unknown() -> None:
    now = SENT + GIVE_UP_AFTER
    outcome = settle(record(), {}, now, FLAGS)
    assert outcome.update.set["confirm_sms_status"] == "unknown"
    assert outcome.update.set["confirm_sms_result"] == GAVE_UP_RESULT
    assert outcome.update.due is None
    assert [m.status for m in outcome.final] == [DeliveryStatus.UNKNOWN]


def test_a_pending_message_is_never_checked_later_than_its_give_up_moment() -> None:
    now = SENT + GIVE_UP_AFTER - timedelta(minutes=10)
    outcome = settle(record(), {"confirm_sms": Lookup("m-1", PROCESSING)}, now, FLAGS)
    assert outcome.update.due == (SENT + GIVE_UP_AFTER).isoformat()


def test_a_message_the_provider_could_not_be_asked_about_is_due_again_at_once() -> None:
    now = SENT + timedelta(minutes=5)
    outcome = settle(record(), {"confirm_sms": Lookup(None, None)}, now, FLAGS)
    assert outcome.update.due == now.isoformat()
    assert outcome.update.set == {}


def test_one_final_message_leaves_the_record_queued_for_its_other_pending_one() -> None:
    later = SENT + timedelta(hours=4)
    both = record(
        remind_sms=True,
        remind_sms_request_id="req-2",
        remind_sms_at=later.isoformat(),
        remind_sms_channel="lms",
        remind_sms_status="accepted",
    )
    now = later + timedelta(seconds=30)  # the reminder is too young to ask about
    outcome = settle(both, {"confirm_sms": Lookup("m-1", DELIVERED)}, now, FLAGS)
    assert outcome.update.set["confirm_sms_status"] == "delivered"
    assert outcome.update.due == first_check(later)


def test_the_history_lists_a_days_messages_newest_first_by_store_and_status() -> None:
    evening = SENT + timedelta(hours=8)
    records = [
        record(),
        record(
            booking_num="2000000_7",
            phone="01000005678",
            option_sms=True,
            option_sms_request_id="req-9",
            option_sms_at=evening.isoformat(),
            option_sms_status="failed",
            option_sms_result="failed: 3018",
            confirm_sms_at=(SENT - timedelta(days=1)).isoformat(),
        ),
    ]
    day = history(records, "2026-12-01")
    assert [(m.booking_num, m.kind) for m in day] == [
        ("2000000_7", "event"),
        ("1051707_500", "confirmation"),
    ]
    assert [m.kind for m in history(records, "2026-11-30")] == ["confirmation"]
    assert [m.booking_num for m in history(records, "2026-12-01", store="1051707")] == [
        "1051707_500"
    ]
    failed = history(records, "2026-12-01", status=DeliveryStatus.FAILED)
    assert [m.result for m in failed] == ["failed: 3018"]
