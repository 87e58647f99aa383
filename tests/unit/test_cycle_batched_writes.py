"""A cycle over a store that batches: new bookings' first messages go with no claim
of their own, marks go one request's worth at a time, and a claim taken with a
create whose message does not go is given back at once."""

from __future__ import annotations

from datetime import datetime

from naver_sms.database.base import claim_attributes
from naver_sms.domain.booking import KST
from tests.fakes import MemoryBookingRepository
from tests.unit.test_cycle import EVENT_OPTIONS, World, at, sent_kinds


def batching_world() -> World:
    world = World()
    world.repository = MemoryBookingRepository(batches=True)
    world.ports.repository = world.repository
    return world


def test_new_bookings_are_stored_with_their_claim_and_sent_once() -> None:
    world = batching_world()
    bookings = [world.add() for _ in range(3)]

    report = world.run(at(9))

    assert sorted(sent_kinds(report)) == sorted((b.booking_num, "confirmation") for b in bookings)
    assert "claim" not in world.repository.calls  # taken with the create
    for booking in bookings:
        record = world.record(booking)
        assert record["confirm_sms"] is True
        assert claim_attributes("confirm_sms")[0] not in record
    assert sent_kinds(world.run(at(9, 5))) == []


def test_a_claim_taken_with_a_create_is_given_back_when_its_event_is_held() -> None:
    world = batching_world()
    opted = world.add("2026-11-25 18:00:00", status="RC08", options=EVENT_OPTIONS)
    world.sender.opt_outs = {opted.phone: datetime(2026, 11, 20, 10, 0, tzinfo=KST)}

    report = world.run(at(20, 30))

    assert sent_kinds(report) == []
    record = world.record(opted)
    assert record.get("option_sms") is not True
    # Released at once: the next cycle (the opt-out withdrawn) can send it.
    assert claim_attributes("option_sms")[0] not in record
    world.sender.opt_outs = {}
    assert sent_kinds(world.run(at(20, 35))) == [(opted.booking_num, "event")]
