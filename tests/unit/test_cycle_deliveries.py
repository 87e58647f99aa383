"""Delivery checks in the cycle, with fakes: results recorded, bounded, fail soft."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any

from naver_sms.database.exceptions import RepositoryError, RepositoryUnreachable
from naver_sms.deliveries import check_deliveries
from naver_sms.domain.booking import KST
from naver_sms.domain.delivery import DeliveryUpdate
from naver_sms.domain.messages import MessageKind
from naver_sms.messaging.telegram import format_summary
from naver_sms.naver.errors import NaverError
from tests.unit.test_cycle import World, at

FLAGS = [kind.flag for kind in MessageKind]


def serially(work: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    return [work(item) for item in items]


def test_a_failed_delivery_is_recorded_reported_and_never_sent_again() -> None:
    world = World()
    booking = world.add("2026-11-27 14:00:00")
    world.sender.set_outcome(booking.phone, "failed", code="3018", message="결번")
    assert len(world.run(at(9)).sent) == 1

    report = world.run(at(9, 5))
    [item] = report.undelivered
    assert (item.booking_num, item.kind, item.phone_masked) == (
        booking.booking_num,
        "confirmation",
        booking.phone[:3] + "-****-" + booking.phone[-4:],
    )
    assert "3018" in item.result
    record = world.record(booking)
    assert record["confirm_sms"] is True  # the exactly-once flag keeps its meaning
    assert record["confirm_sms_status"] == "failed"
    assert record["confirm_sms_channel"] == "sms"
    assert "delivery_queue" not in record
    assert report.sent == []
    assert "not delivered 1" in format_summary(report.to_dict())

    lookups = world.sender.delivery_lookups
    assert world.run(at(9, 30)).undelivered == []
    assert world.sender.delivery_lookups == lookups  # settled: never asked again


def test_a_message_is_not_asked_about_in_its_first_minute() -> None:
    world = World()
    world.add("2026-11-27 14:00:00")
    world.run(at(9))
    report = world.run(at(9) + timedelta(seconds=30))
    assert world.sender.delivery_lookups == 0
    assert report.delivered == []


def test_a_delivered_message_is_reported_once_with_the_providers_words() -> None:
    world = World()
    booking = world.add("2026-11-27 14:00:00")
    world.run(at(9))
    [item] = world.run(at(9, 5)).delivered
    assert item.status.value == "delivered"
    assert item.result.startswith("delivered")
    assert world.record(booking)["confirm_sms_status"] == "delivered"
    assert world.run(at(9, 10)).delivered == []


def test_a_dry_run_checks_and_writes_nothing() -> None:
    world = World()
    world.add("2026-11-27 14:00:00")
    world.run(at(9))
    world.ports.dry_run = True
    report = world.run(at(9, 5))
    assert report.delivered == report.undelivered == []
    assert world.sender.delivery_lookups == 0


def test_lookups_are_bounded_and_the_backlog_drains_earliest_first() -> None:
    world = World()
    bookings = [world.add(f"2026-11-27 {10 + n % 8}:00:00") for n in range(12)]
    world.run(at(9))  # 12 confirmations in one request
    now = at(9, 5).astimezone(KST)
    first = check_deliveries(
        world.repository, {"sms": world.sender}, now, each=serially, flags=FLAGS, budget=6
    )
    # One listing of the request's message ids, then one lookup per message.
    assert first.lookups == 6
    assert len(first.delivered) == 5
    assert first.waiting == 1  # read from the queue, left for lack of lookups
    second = check_deliveries(
        world.repository, {"sms": world.sender}, now, each=serially, flags=FLAGS, budget=300
    )
    assert len(second.delivered) == 7
    statuses = {world.record(b)["confirm_sms_status"] for b in bookings}
    assert statuses == {"delivered"}


def test_an_unwell_provider_ends_the_checks_at_its_first_failure_and_nothing_is_lost() -> None:
    world = World()
    bookings = [world.add("2026-11-27 14:00:00") for _ in range(5)]
    world.run(at(9))
    world.sender.lookups_fail = True
    writes: list[DeliveryUpdate] = []
    record_deliveries = world.repository.record_deliveries

    def counted(updates: Sequence[DeliveryUpdate]) -> list[bool | RepositoryError]:
        writes.extend(updates)
        return record_deliveries(updates)

    world.repository.record_deliveries = counted  # type: ignore[method-assign]
    report = world.run(at(9, 5))
    assert world.sender.delivery_lookups == 1  # not 300 timeouts in a row
    assert writes == []  # nothing learned: the records stay due as they are
    assert report.delivered == report.undelivered == []
    assert report.errors == []
    world.sender.lookups_fail = False
    assert len(world.run(at(9, 10)).delivered) == 5
    assert all(world.record(b)["confirm_sms_status"] == "delivered" for b in bookings)


def test_a_message_stuck_in_processing_becomes_unknown_after_72_hours() -> None:
    world = World()
    booking = world.add("2026-12-10 14:00:00")
    world.sender.set_outcome(booking.phone, "processing")
    world.run(at(9))
    assert world.run(at(9, 5)).undelivered == []
    assert world.record(booking)["confirm_sms_status"] == "accepted"
    lookups = world.sender.delivery_lookups
    world.run(at(9, 5) + timedelta(seconds=30))  # asked again only once its next check is due
    assert world.sender.delivery_lookups == lookups
    [item] = world.run(at(9, 1, day=28)).undelivered
    assert item.status.value == "unknown"
    assert "72 hours" in item.result
    assert "delivery_queue" not in world.record(booking)


def test_checks_run_even_when_naver_cannot_be_reached() -> None:
    world = World()
    world.add("2026-11-27 14:00:00")
    world.run(at(9))
    world.authenticator.error = NaverError("naver down")
    report = world.run(at(9, 5))
    assert len(report.delivered) == 1


def test_a_rounds_results_are_written_in_one_call_and_each_keeps_its_own_answer() -> None:
    world = World()
    bookings = [world.add("2026-11-27 14:00:00") for _ in range(3)]
    world.run(at(9))
    now = at(9, 5).astimezone(KST)
    calls: list[list[DeliveryUpdate]] = []

    def answered(updates: Sequence[DeliveryUpdate]) -> list[bool | RepositoryError]:
        calls.append(list(updates))
        # One written, one changed by another cycle meanwhile, one not written.
        return [True, False, RepositoryUnreachable("store down", "record_delivery")]

    world.repository.record_deliveries = answered  # type: ignore[method-assign]
    first = check_deliveries(
        world.repository, {"sms": world.sender}, now, each=serially, flags=FLAGS
    )

    assert [len(updates) for updates in calls] == [3]
    assert len(first.delivered) == 1
    assert first.conflicts == 1
    del world.repository.record_deliveries  # the store's own method again
    # Nothing was really written: all three are still due, and recorded now.
    second = check_deliveries(
        world.repository, {"sms": world.sender}, now, each=serially, flags=FLAGS
    )
    assert len(second.delivered) == 3
    assert {world.record(b)["confirm_sms_status"] for b in bookings} == {"delivered"}
