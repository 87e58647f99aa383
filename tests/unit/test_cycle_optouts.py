"""The 080 opt-out list: no advertising to a number that opted out, fail closed."""

from __future__ import annotations

from datetime import datetime

from naver_sms.domain.booking import KST
from tests.unit.test_cycle import EVENT_OPTIONS, World, at, sent_kinds


def evening_world() -> tuple[World, list[str]]:
    world = World()
    done = [
        world.add("2026-11-25 18:00:00", status="RC08", options=EVENT_OPTIONS) for _ in range(2)
    ]
    return world, [b.booking_num for b in done]


def test_an_opted_out_number_gets_no_event_message_and_the_reason_says_when() -> None:
    world, (opted, other) = evening_world()
    booking = next(b for b in world.api.bookings[("5000001", "RC08")] if b.booking_num == opted)
    world.sender.opt_outs = {booking.phone: datetime(2026, 11, 20, 10, 0, tzinfo=KST)}
    report = world.run(at(20, 30))
    assert sent_kinds(report) == [(other, "event")]
    [held] = [item for item in report.held if item.booking_num == opted and item.kind == "event"]
    assert held.why == "opted out on 2026-11-20"
    assert world.sender.opt_out_reads == 1  # once a cycle, not per message


def test_an_opted_out_customer_still_gets_the_confirmation_and_the_reminder() -> None:
    world = World()
    soon = world.add("2026-11-25 10:30:00")  # booked late: confirmation and reminder due
    world.sender.opt_outs = {soon.phone: None}
    report = world.run(at(9))
    assert sorted(kind for _num, kind in sent_kinds(report)) == ["confirmation", "reminder"]
    assert world.sender.opt_out_reads == 0  # no advertising due: the list is not read


def test_an_unreadable_opt_out_list_holds_advertising_only() -> None:
    world, events = evening_world()
    confirmed = world.add("2026-11-26 14:00:00")
    world.sender.opt_outs_fail = True
    report = world.run(at(20, 30))
    assert sent_kinds(report) == [(confirmed.booking_num, "confirmation")]
    held = {item.booking_num: item.why for item in report.held}
    assert all("could not be read" in held[num] for num in events)
    for num in events:
        record = next(r for r in world.repository.records.values() if r["booking_num"] == num)
        assert record["option_sms"] is False  # not recorded: the next cycle tries again
    world.sender.opt_outs_fail = False
    assert len(world.run(at(20, 35)).sent) == 2
