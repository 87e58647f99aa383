"""Messages the owner designs, through the cycle with fakes: each case peers get wrong."""

from __future__ import annotations

from typing import Any

from naver_sms.domain.booking import Booking
from tests.unit.test_cycle import OTHER, STORE, World, at, make_config, sent_kinds

MESSAGES: list[dict[str, Any]] = [
    {"name": "confirmation", "when": "confirmed"},
    {
        "name": "changed",
        "when": "changed",
        "template": "[{{ store }}] {{ customer }}님, 예약이 {{ previous_visit_time }}에서 "
        "{{ visit_time }}(으)로 변경되었습니다.",
    },
    {
        "name": "day_before",
        "when": "before_visit",
        "offset": "1d",
        "template": "[{{ store }}] 내일 {{ visit_clock }} 방문 예정입니다.",
    },
    {"name": "reminder", "when": "before_visit", "offset": "2h"},
    {
        "name": "thanks",
        "when": "after_visit",
        "offset": "1h",
        "template": "[{{ store }}] {{ customer }}님, 방문해 주셔서 감사합니다.",
    },
    {
        "name": "cancelled",
        "when": "cancelled",
        "template": "[{{ store }}] {{ visit_time }} 예약이 취소되었습니다.",
    },
]


def world(**changes: Any) -> World:
    return World(make_config(messages=MESSAGES, **changes))


def cancel(w: World, booking: Booking) -> Booking:
    w.api.remove(booking.booking_num)
    gone = Booking(
        booking_num=booking.booking_num,
        phone=booking.phone,
        name=booking.name,
        booking_time=booking.booking_time,
        extra={**booking.extra, "status": "RC04"},
    )
    return w.api.add(gone)


def move(w: World, booking: Booking, start: str) -> Booking:
    w.api.remove(booking.booking_num)
    moved = Booking(
        booking_num=booking.booking_num,
        phone=booking.phone,
        name=booking.name,
        booking_time=start,
        extra=booking.extra,
    )
    return w.api.add(moved)


def test_each_configured_message_goes_once_in_the_catalogs_order() -> None:
    w = world()
    booking = w.add("2026-11-26 10:00:00")
    assert sent_kinds(w.run(at(9))) == [(booking.booking_num, "confirmation")]
    # From 10:00 the day before: the day-before message, once.
    assert sent_kinds(w.run(at(10, 5))) == [(booking.booking_num, "day_before")]
    assert sent_kinds(w.run(at(10, 10))) == []
    assert sent_kinds(w.run(at(8, 5, day=26))) == [(booking.booking_num, "reminder")]
    record = w.record(booking)
    assert record["day_before_sms"] is True
    assert record["day_before_sms_request_id"]


def test_a_cancelled_booking_gets_its_notice_once_and_nothing_else() -> None:
    w = world()
    booking = w.add("2026-11-25 11:00:00")
    assert [k for _n, k in sent_kinds(w.run(at(9)))] == ["confirmation", "day_before", "reminder"]
    later = w.add("2026-11-26 12:00:00")
    w.run(at(9, 5))  # the later booking's confirmation
    cancel(w, later)
    # The day-before message of the later booking fell due now: the cancellation wins.
    report = w.run(at(12, 30))
    assert [k for n, k in sent_kinds(report) if n == later.booking_num] == ["cancelled"]
    assert [k for n, k in sent_kinds(w.run(at(12, 35))) if n == later.booking_num] == []
    assert w.record(later).get("day_before_sms") is not True  # never sent
    assert w.record(booking).get("cancelled_sms") is not True


def test_a_cancelled_booking_never_stored_gets_nothing() -> None:
    w = world()
    unknown = w.add("2026-11-26 12:00:00", status="RC04")
    assert sent_kinds(w.run(at(9))) == []
    assert sent_kinds(w.run(at(9, 5))) == []  # not in the next cycle either
    assert w.repository.get_booking(unknown.booking_num, unknown.phone) is None


def test_cancelled_bookings_are_fetched_only_when_a_message_needs_them() -> None:
    w = world()
    w.run(at(9))
    assert {status for _biz, status, _s, _e in w.api.calls} == {"RC03,RC04", "RC08"}
    plain = World()
    plain.run(at(9))
    assert {status for _biz, status, _s, _e in plain.api.calls} == {"RC03", "RC08"}


def test_a_moved_visit_gets_its_change_notice_and_its_before_visit_messages_again() -> None:
    w = world()
    booking = w.add("2026-11-25 11:00:00")
    w.run(at(9))  # confirmation, day-before and reminder for 11:00
    moved = move(w, booking, "2026-11-25 13:00:00")
    report = w.run(at(11, 30))
    assert [k for _n, k in sent_kinds(report)] == ["changed", "day_before", "reminder"]
    [notice] = [m for m in w.sender.messages if m.kind == "changed"]
    assert "오전 11:00" in notice.text  # the old time
    assert "오후 1:00" in notice.text  # the new one
    assert w.record(moved)["confirm_sms"] is True  # never a second confirmation
    assert sent_kinds(w.run(at(11, 35))) == []


def test_an_after_visit_message_never_goes_before_the_visit_ended() -> None:
    w = world()
    booking = w.add("2026-11-25 14:00:00", status="RC08")
    booking_end = {**booking.extra, "end_time": "2026-11-25 15:00:00"}
    w.api.remove(booking.booking_num)
    w.api.add(
        Booking(
            booking_num=booking.booking_num,
            phone=booking.phone,
            name=booking.name,
            booking_time=booking.booking_time,
            extra=booking_end,
        )
    )
    assert "thanks" not in [k for _n, k in sent_kinds(w.run(at(15, 30)))]
    assert [k for _n, k in sent_kinds(w.run(at(16, 5)))] == ["thanks"]


def test_a_store_can_turn_a_message_off() -> None:
    stores = [
        {"id": STORE, "name": "샘플 스튜디오", "sender": "0200000000", "opt_out": "080-000-0000"},
        {
            "id": OTHER,
            "name": "샘플 공방",
            "sender": "0200000001",
            "messages": [{"name": "day_before", "enabled": False}],
        },
    ]
    w = world(stores=stores)
    first = w.add("2026-11-26 10:00:00")
    second = w.add("2026-11-26 10:00:00", store=OTHER)
    w.run(at(9))
    report = w.run(at(10, 5))
    assert sent_kinds(report) == [(first.booking_num, "day_before")]
    assert second.booking_num not in {num for num, _kind in sent_kinds(report)}
