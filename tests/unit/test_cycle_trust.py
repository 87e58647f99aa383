"""The cycle's promises under a lost answer, a long cycle, a closing window, a
refused sender, a throttle and a crash: each message once, at the right time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from naver_sms.config import ConfigError
from naver_sms.database.base import claim_attributes, unclear_attribute
from naver_sms.domain.messages import Message
from naver_sms.messaging.base import SenderRefused, SendFailed, SendResult, SendUnclear
from naver_sms.naver.errors import NaverThrottled
from naver_sms.utils import scrub
from tests.unit.test_cycle import (
    EVENT_OPTIONS,
    OTHER,
    STORE,
    World,
    at,
    make_config,
    sent_kinds,
)


class Clock:
    """The real time, advanced by hand (the cycle's clock follows it)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 12, 1, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


# ---------------------------------------------------------------- lost answers


def test_a_lost_answer_keeps_the_claims_and_no_text_goes_twice() -> None:
    world = World()
    bookings = [world.add() for _ in range(3)]
    clock = Clock()
    world.sender.clock = clock
    world.sender.lose_next_answer()
    first = world.run(at(9), real_clock=clock)
    assert first.sent == []
    assert first.failed == []
    assert len(first.unclear) == 3
    assert first.exit_code == 1  # the operator hears of it, though nothing failed
    record = world.record(bookings[0])
    assert record[claim_attributes("confirm_sms")[0]]  # the claim is kept
    assert record[unclear_attribute("confirm_sms")]
    # Five minutes on, the claims still live: nothing is sent or asked.
    clock.advance(minutes=5)
    assert world.run(at(9, 5), real_clock=clock).sent == []
    assert world.sender.lookups == 0
    # After the lease, the next cycle asks SENS first, finds all three, sends none.
    clock.advance(minutes=6)
    third = world.run(at(9, 11), real_clock=clock)
    assert world.sender.lookups == 1
    assert sorted(sent_kinds(third)) == sorted((b.booking_num, "confirmation") for b in bookings)
    assert all("earlier cycle" in (item.note or "") for item in third.sent)
    assert len(world.sender.messages) == 3  # accepted once each, never sent again
    assert world.record(bookings[0])["confirm_sms"] is True
    assert world.record(bookings[0])["confirm_sms_request_id"] == "req-1"


def test_a_lost_answer_to_a_request_sens_never_took_is_sent_once_later() -> None:
    world = World()
    booking = world.add()
    clock = Clock()
    world.sender.fail_next(SendFailed("never reached"))  # nothing accepted ...
    # ... but reported as unclear: the cycle cannot know, so it must ask.
    real_send = world.sender.send_requests

    def unclear_without_accepting(messages: Sequence[Message]) -> Iterator[list[SendResult]]:
        for chunk in real_send(messages):
            yield [SendResult(r.message, error=SendUnclear("dropped")) for r in chunk]

    world.sender.send_requests = unclear_without_accepting  # type: ignore[method-assign]
    world.run(at(9), real_clock=clock)
    del world.sender.send_requests
    clock.advance(minutes=11)
    later = world.run(at(9, 11), real_clock=clock)
    assert world.sender.lookups == 1
    assert sent_kinds(later) == [(booking.booking_num, "confirmation")]
    assert later.sent[0].note is None
    assert len(world.sender.messages) == 1


def test_a_lost_guide_is_never_taken_for_the_same_customers_confirmation() -> None:
    # Both texts are short SMS, so SENS's list cannot tell them apart by type.
    short = {"confirmation": "{{ customer }}님 예약 확정", "reminder": "{{ customer }}님 곧 방문"}
    world = World(make_config(templates=short))
    booking = world.add("2026-11-25 10:30:00")  # booked late: both are due at 09:00
    clock = Clock()
    world.sender.clock = clock
    accepted = world.sender.send_requests

    def lose_the_guide(messages: Sequence[Message]) -> Iterator[list[SendResult]]:
        for results in accepted(messages):
            if results and results[0].message.kind == "reminder":
                # SENS never took the guide and its answer was lost.
                world.sender.accepted_log = [
                    entry for entry in world.sender.accepted_log if entry[1] != "req-2"
                ]
                yield [SendResult(r.message, error=SendUnclear("dropped")) for r in results]
            else:
                yield results

    world.sender.send_requests = lose_the_guide  # type: ignore[method-assign]
    first = world.run(at(9), real_clock=clock)
    assert [item.kind for item in first.sent] == ["confirmation"]
    del world.sender.send_requests
    clock.advance(minutes=11)
    later = world.run(at(9, 11), real_clock=clock)
    # The confirmation's request is in the window and looks alike, but it is
    # recorded for the confirmation: the guide is sent, not marked from it.
    assert sent_kinds(later) == [(booking.booking_num, "reminder")]
    assert later.sent[0].note is None
    assert (
        world.record(booking)["remind_sms_request_id"]
        != world.record(booking)["confirm_sms_request_id"]
    )


def test_when_sens_cannot_be_asked_the_doubtful_message_waits_and_others_go() -> None:
    world = World()
    doubtful = world.add()
    clock = Clock()
    world.sender.clock = clock
    world.sender.lose_next_answer()
    world.run(at(9), real_clock=clock)
    fresh = world.add()
    clock.advance(minutes=11)

    def broken(*_args: Any, **_kw: Any) -> list[str | None]:
        raise SendFailed("SENS list unreachable")

    world.sender.find_accepted = broken  # type: ignore[method-assign]
    report = world.run(at(9, 11), real_clock=clock)
    assert sent_kinds(report) == [(fresh.booking_num, "confirmation")]
    assert report.failed[0].booking_num == doubtful.booking_num
    assert "could not be asked" in report.failed[0].error
    assert len(world.sender.messages) == 2  # the doubtful one was not sent again
    assert claim_attributes("confirm_sms")[0] not in world.record(doubtful)


def test_each_request_is_marked_as_soon_as_its_answer_arrives() -> None:
    world = World()
    world.sender.max_per_request = 2
    bookings = [world.add() for _ in range(5)]
    marked_before: list[int] = []

    def count_marked(_messages: Sequence[Message]) -> None:
        marked_before.append(sum(world.record(b).get("confirm_sms") is True for b in bookings))

    world.sender.before_request = count_marked
    world.run(at(9))
    # Before the 2nd request the 1st one's two messages are recorded, etc.
    assert marked_before == [0, 2, 4]


# ---------------------------------------------------------------- time


def test_a_long_cycle_stops_sending_before_its_claims_could_lapse() -> None:
    world = World()
    world.sender.max_per_request = 1
    bookings = [world.add() for _ in range(3)]
    clock = Clock()
    # Each request takes four minutes: the third would start past half the lease.
    world.sender.before_request = lambda _m: clock.advance(minutes=4)
    report = world.run(at(9), real_clock=clock)
    assert len(report.sent) == 2
    [held] = [item for item in report.held if item.booking_num == bookings[2].booking_num]
    assert "ran long" in held.why
    # Released at once: the next cycle sends it, and only it.
    world.sender.before_request = None
    assert sent_kinds(world.run(at(9, 15), real_clock=clock)) == [
        (bookings[2].booking_num, "confirmation")
    ]


def test_near_the_run_s_time_limit_no_request_starts_and_the_next_cycle_sends_the_rest() -> None:
    world = World()
    world.sender.max_per_request = 1
    bookings = [world.add() for _ in range(3)]
    clock = Clock()
    # The Lambda stops this run 100 s from now; each request takes 25 s, so the
    # third would start with 50 s left, less than a send and its marks may need.
    world.sender.before_request = lambda _m: clock.advance(seconds=25)
    report = world.run(at(9), real_clock=clock, deadline=clock.now + timedelta(seconds=100))
    assert len(report.sent) == 2
    [held] = [item for item in report.held if item.booking_num == bookings[2].booking_num]
    assert "time limit" in held.why
    assert report.failed == []
    # Released at once: the next cycle sends it, and only it.
    world.sender.before_request = None
    assert sent_kinds(world.run(at(9, 5), real_clock=clock)) == [
        (bookings[2].booking_num, "confirmation")
    ]
    assert len(world.sender.messages) == 3


def test_claims_run_from_the_moment_they_are_taken() -> None:
    world = World()
    first, second = world.add(), world.add(store=OTHER)
    clock = Clock()
    claimed: list[tuple[str, datetime]] = []
    original = world.repository.claim

    def spy(booking_num: str, phone: str, flag: str, owner: str, now: datetime, *rest: Any) -> bool:
        claimed.append((booking_num, now))
        return original(booking_num, phone, flag, owner, now, *rest)

    world.repository.claim = spy  # type: ignore[method-assign,assignment]
    world.sender.before_request = lambda _m: clock.advance(minutes=3)
    world.run(at(9), real_clock=clock)
    # The second store's claim is taken three minutes into the cycle, and its
    # lease runs from then, not from the cycle's start.
    assert claimed == [(first.booking_num, at(9)), (second.booking_num, at(9, 3))]


def test_no_advertising_request_starts_in_the_last_minute_before_21() -> None:
    world = World()
    booking = world.add("2026-11-25 18:00:00", status="RC08", options=EVENT_OPTIONS)
    clock = Clock()
    # The rules decide at 20:59:50; the request would start at 20:59:50 + 20 s.
    world.sender.before_request = None
    original = world.sender.send_requests

    def slow(messages: Sequence[Message]) -> Iterator[list[SendResult]]:
        clock.advance(seconds=20)
        yield from original(messages)

    world.sender.send_requests = slow  # type: ignore[method-assign]
    report = world.run(at(20, 59).replace(second=50), real_clock=clock)
    events = [m for m in world.sender.messages if m.advertising]
    assert events == []
    assert any(
        item.booking_num == booking.booking_num and "window closed" in item.why
        for item in report.held
    )
    record = world.record(booking)
    assert record["option_sms"] is False
    assert claim_attributes("option_sms")[0] not in record


def test_advertising_inside_the_window_still_goes() -> None:
    world = World()
    world.add("2026-11-25 18:00:00", status="RC08", options=EVENT_OPTIONS)
    report = world.run(at(20, 30))
    assert [item.kind for item in report.sent] == ["event"]


# ---------------------------------------------------------------- provider refusals


def test_a_refused_sender_is_one_error_per_store_and_one_alert_a_day() -> None:
    world = World()
    for _ in range(3):
        world.add()
    other = world.add(store=OTHER)
    refusal = SenderRefused("not a registered sender", sender="0200000000", status=400)
    original = world.sender.send_requests

    def refuse_store(messages: Sequence[Message]) -> Iterator[list[SendResult]]:
        if messages and messages[0].store_id == STORE:
            yield [SendResult(m, error=refusal) for m in messages]
            return
        yield from original(messages)

    world.sender.send_requests = refuse_store  # type: ignore[method-assign]
    first = world.run(at(9))
    assert sent_kinds(first) == [(other.booking_num, "confirmation")]
    assert [e.shop for e in first.errors] == [STORE]
    assert "0200000000" in first.errors[0].error
    assert first.failed == []  # not three failures: one store-level error
    second = world.run(at(9, 5))
    assert [e.shop for e in second.errors] == [STORE]
    assert len(world.notifier.alerts) == 1  # the same alert once a day
    for item in world.repository.records.values():
        if item["booking_num"].startswith(STORE):
            assert item["confirm_sms"] is False
            assert claim_attributes("confirm_sms")[0] not in item


# ---------------------------------------------------------------- throttle


def test_a_throttled_account_stops_all_fetching_and_alerts_once() -> None:
    world = World()
    world.add()
    world.add(store=OTHER)
    calls: list[str] = []
    original = world.api.fetch_bookings

    def throttled(biz_id: str, *args: Any) -> Any:
        calls.append(biz_id)
        raise NaverThrottled()

    world.api.fetch_bookings = throttled  # type: ignore[method-assign,assignment]
    world.ports.workers = 1  # one request at a time: the first refusal is seen first
    report = world.run(at(9))
    assert len(calls) == 1  # the first refusal ends the reading
    assert sorted(e.shop or "" for e in report.errors) == [STORE, OTHER]
    assert all("Naver throttled the account" in e.error for e in report.errors)
    assert len(world.notifier.alerts) == 1
    assert report.sent == []
    world.api.fetch_bookings = original  # type: ignore[method-assign]
    assert len(world.run(at(9, 5)).sent) == 2  # the next cycle tries again


# ---------------------------------------------------------------- failures


def test_any_template_failure_costs_only_its_message_and_releases_the_claim() -> None:
    world = World()
    broken, fine = world.add(), world.add()
    original = world.ports.renderer.message

    def render(store: Any, kind: Any, booking: Any) -> Message:
        if booking.booking_num == broken.booking_num:
            raise ZeroDivisionError("division by zero")
        return original(store, kind, booking)

    world.ports.renderer.message = render  # type: ignore[method-assign,assignment]
    report = world.run(at(9))
    assert sent_kinds(report) == [(fine.booking_num, "confirmation")]
    assert "ZeroDivisionError" in report.failed[0].error
    assert claim_attributes("confirm_sms")[0] not in world.record(broken)


def test_a_cycle_that_breaks_after_claiming_releases_what_it_did_not_send() -> None:
    world = World()
    bookings = [world.add() for _ in range(4)]

    def explode(_messages: Sequence[Message]) -> Iterator[list[SendResult]]:
        raise OSError("outbox is read-only")
        yield []  # pragma: no cover - makes this a generator

    world.sender.send_requests = explode  # type: ignore[method-assign,assignment]
    world.sender.reaches_phones = False
    world.ports.dry_run = True
    with pytest.raises(OSError, match="read-only"):
        world.run(at(9))
    for booking in bookings:
        assert claim_attributes("confirm_sms")[0] not in world.record(booking)
    del world.sender.send_requests
    assert len(world.run(at(9, 1)).sent) == 4


def test_a_sender_that_does_not_reach_phones_is_refused_outside_a_dry_run() -> None:
    world = World()
    world.add()
    world.sender.reaches_phones = False
    with pytest.raises(ConfigError, match="--dry-run"):
        world.run(at(9))
    assert world.repository.records == {}  # refused before anything was read or written
    world.ports.dry_run = True
    report = world.run(at(9))
    assert report.to_dict()["dry_run"] is True
    assert report.sent[0].dry_run is True


# ---------------------------------------------------------------- the report


def test_the_report_never_carries_a_secret_value_whatever_key_holds_it() -> None:
    scrub.register_secret("canary-cookie-value-123")
    try:
        world = World()
        world.add()
        world.sender.fail_next(SendFailed("echo: NID_AUT=canary-cookie-value-123; to 01000001234"))
        data = world.run(at(9)).to_dict()
        text = repr(data)
        assert "canary-cookie-value-123" not in text
        assert "01000001234" not in text
        assert "***" in data["failed"][0]["error"]
    finally:
        scrub._forget_all()
