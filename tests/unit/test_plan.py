"""The plan of one cycle, pure: what Naver showed + the records + now -> what to do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from naver_sms.domain.booking import KST, Booking
from naver_sms.domain.catalog import builtin_catalog
from naver_sms.domain.messages import MessageKind
from naver_sms.domain.plan import (
    OPT_OUTS_UNREADABLE,
    Plan,
    Shop,
    hold_opted_out,
    plan_cycle,
    search_window,
    send_stop_reason,
    unclear_window,
)

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=KST)
CATALOG = builtin_catalog(keywords=("리뷰",))
SHOPS = [
    Shop("5000001", advertising_allowed=True, catalog=CATALOG),
    Shop("5000002", advertising_allowed=False, catalog=CATALOG),
]
CONFIRM, REMIND, EVENT = CATALOG


def booking(serial: int, start: str = "2026-11-25 14:00:00", **extra: Any) -> Booking:
    store = extra.pop("store", "5000001")
    return Booking(
        booking_num=f"{store}_{1100000000 + serial}",
        phone=f"010-0000-{serial:04d}",
        name="김민지",
        booking_time=start,
        extra={"status": "RC03", "option_names": ["기본"], **extra},
    )


def record(b: Booking, **flags: Any) -> dict[str, Any]:
    return {**b.to_item(), **flags}


def kinds(plan: Plan) -> list[tuple[str, list[list[str]]]]:
    return [
        (shop, [[f"{d.booking.booking_num}:{d.name}" for d in batch] for batch in batches])
        for shop, batches in plan.batches
    ]


def test_a_new_booking_is_created_and_its_confirmation_is_due() -> None:
    new = booking(1)
    plan = plan_cycle({"5000001": [new]}, {}, NOW, SHOPS)
    assert plan.create == (new,)
    assert kinds(plan) == [("5000001", [[f"{new.booking_num}:confirmation"]])]


def test_a_known_booking_is_not_created_again_and_sent_flags_stay_sent() -> None:
    known = booking(1)
    plan = plan_cycle(
        {"5000001": [known]},
        {(known.booking_num, known.phone): record(known, confirm_sms=True)},
        NOW,
        SHOPS,
    )
    assert plan.create == ()
    assert plan.batches == ()


def test_a_confirmation_comes_before_its_reminder_in_kind_batches() -> None:
    soon = booking(1, "2026-11-25 10:30:00")  # booked late: both are due now
    plan = plan_cycle({"5000001": [soon]}, {}, NOW, SHOPS)
    [(_shop, batches)] = plan.batches
    assert [[d.name for d in batch] for batch in batches] == [
        [MessageKind.CONFIRMATION],
        [MessageKind.REMINDER],
    ]


def test_stores_come_in_configuration_order_and_unknown_stores_are_ignored() -> None:
    first, second = booking(1), booking(2, store="5000002")
    stranger = booking(3, store="5000009")
    plan = plan_cycle(
        {"5000009": [stranger], "5000002": [second], "5000001": [first]}, {}, NOW, SHOPS
    )
    assert [shop for shop, _batches in plan.batches] == ["5000001", "5000002"]
    assert stranger not in plan.create


def test_a_moved_visit_is_planned_as_a_move() -> None:
    moved = booking(1, "2026-11-26 15:00:00")
    stored = record(booking(1), confirm_sms=True)
    plan = plan_cycle({"5000001": [moved]}, {(moved.booking_num, moved.phone): stored}, NOW, SHOPS)
    assert plan.moves == (
        (
            (moved.booking_num, moved.phone),
            "2026-11-26 15:00:00",
            ("remind_sms",),
            "2026-11-25 14:00:00",
        ),
    )


def test_adopting_records_due_messages_as_sent_instead_of_sending_them() -> None:
    new = booking(1)
    plan = plan_cycle({"5000001": [new]}, {}, NOW, SHOPS, adopt=True)
    assert plan.adopt == (((new.booking_num, new.phone), "confirm_sms"),)
    assert plan.batches == ()


def test_advertising_of_a_store_without_an_opt_out_number_is_held_with_the_reason() -> None:
    done = booking(
        1, "2026-11-25 10:00:00", store="5000002", status="RC08", option_names=["리뷰 이벤트"]
    )
    plan = plan_cycle({"5000002": [done]}, {}, NOW.replace(hour=20, minute=30), SHOPS)
    [held] = [h for h in plan.held if h.name == "event"]
    assert "opt_out" in held.why


def test_an_unclear_send_is_carried_on_its_due_message() -> None:
    known = booking(1)
    stored = record(known, confirm_sms_unclear="1000-2000")
    plan = plan_cycle({"5000001": [known]}, {(known.booking_num, known.phone): stored}, NOW, SHOPS)
    [due] = plan.dues()
    assert due.unclear == "1000-2000"


def test_a_moved_visit_s_reminder_is_not_asked_about_the_old_time_s_lost_answer() -> None:
    moved = booking(1, "2026-11-25 10:30:00")  # moved from the 26th: the reminder is due now
    stored = record(
        booking(1, "2026-11-26 10:30:00"), confirm_sms=True, remind_sms_unclear="1000-2000"
    )
    plan = plan_cycle({"5000001": [moved]}, {(moved.booking_num, moved.phone): stored}, NOW, SHOPS)
    [due] = plan.dues()
    assert due.name == "reminder"
    assert due.unclear is None


def test_a_customers_recorded_request_ids_are_known_to_the_plan() -> None:
    known = booking(1)
    stored = record(known, confirm_sms=True, confirm_sms_request_id="req-9")
    plan = plan_cycle({"5000001": [known]}, {(known.booking_num, known.phone): stored}, NOW, SHOPS)
    assert plan.recorded == {known.phone: frozenset({"req-9"})}


def test_a_plan_without_some_bookings_drops_only_their_messages() -> None:
    kept, dropped = booking(1), booking(2)
    plan = plan_cycle({"5000001": [kept, dropped]}, {}, NOW, SHOPS)
    trimmed = plan.without({(dropped.booking_num, dropped.phone)})
    assert [d.booking for d in trimmed.dues()] == [kept]
    assert plan.without(set()) is plan


# ---------------------------------------------------------------- when a request may start

LEASE = timedelta(minutes=10)


def test_a_request_may_start_while_its_claims_have_half_their_lease_left() -> None:
    claimed = NOW
    assert send_stop_reason(claimed + timedelta(minutes=4), claimed, LEASE, CONFIRM) is None
    late = send_stop_reason(claimed + timedelta(minutes=5), claimed, LEASE, CONFIRM)
    assert late is not None
    assert "ran long" in late


def test_no_request_starts_within_a_minute_of_the_run_s_time_limit() -> None:
    assert send_stop_reason(NOW, NOW, LEASE, CONFIRM, time_left=timedelta(seconds=61)) is None
    near = send_stop_reason(NOW, NOW, LEASE, CONFIRM, time_left=timedelta(seconds=59))
    assert near is not None
    assert "time limit" in near


def test_no_advertising_request_starts_in_the_window_s_last_minute() -> None:
    evening = NOW.replace(hour=20, minute=58, second=59)
    assert send_stop_reason(evening, evening, LEASE, EVENT) is None
    last_minute = evening + timedelta(seconds=2)
    closed = send_stop_reason(last_minute, evening, LEASE, EVENT)
    assert closed is not None
    assert "window closed" in closed
    # Information is not advertising: it may still go at 20:59:30.
    assert send_stop_reason(last_minute, evening, LEASE, CONFIRM) is None


def test_a_lost_answer_is_searched_for_with_slack_on_the_provider_s_clock() -> None:
    start = datetime(2026, 12, 1, 3, 0, 0, tzinfo=UTC)
    end = start + timedelta(seconds=4)
    window = unclear_window(start, end)
    assert window == f"{int(start.timestamp() * 1000)}-{int(end.timestamp() * 1000)}"
    assert search_window(window) == (start - timedelta(minutes=2), end + timedelta(minutes=2))


# ---------------------------------------------------------------- opt-outs


def evening_plan() -> tuple[Plan, Booking]:
    done = booking(1, "2026-11-25 10:00:00", status="RC08", option_names=["리뷰 이벤트"])
    soon = booking(2, "2026-11-26 14:00:00")
    plan = plan_cycle({"5000001": [done, soon]}, {}, NOW.replace(hour=20, minute=30), SHOPS)
    return plan, done


def test_advertising_to_an_opted_out_number_is_held_and_the_rest_kept() -> None:
    plan, done = evening_plan()
    assert plan.advertising_due()
    kept, held = hold_opted_out(plan, {done.phone: None})
    assert [d.name for d in kept.dues()] == ["confirmation"]
    assert [(h.booking, h.why) for h in held] == [(done, "opted out (080 line)")]


def test_an_unreadable_list_holds_every_advertising_message_only() -> None:
    plan, _done = evening_plan()
    kept, held = hold_opted_out(plan, None)
    assert [d.name for d in kept.dues()] == ["confirmation"]
    assert [h.why for h in held] == [OPT_OUTS_UNREADABLE]
