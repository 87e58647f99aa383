"""A store write that fails costs its own message this cycle, never the whole cycle.

Found by tests/reliability: under 30 % throttling the client's retry budget
runs out, and one failed create, claim or release used to end the cycle
(leaving accepted messages unmarked), and one failed mark repeated a text
once the lease ran out.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from naver_sms import cycle
from naver_sms.database import exceptions
from naver_sms.database.base import claim_attributes
from naver_sms.database.exceptions import DynamoDBException, ThrottlingError
from tests.fakes import MemoryBookingRepository
from tests.unit.test_cycle import OTHER, STORE, World, at, sent_kinds


class FlakyRepository(MemoryBookingRepository):
    """Each named operation raises for the next N calls (optionally only for one booking)."""

    def __init__(self) -> None:
        super().__init__()
        self.failures: dict[str, list[Any]] = {}
        self.attempts: Counter[str] = Counter()

    def fail(
        self, operation: str, times: int, booking_num: str | None = None, error: Any = None
    ) -> None:
        self.failures.setdefault(operation, []).extend(
            [(booking_num, error or ThrottlingError("throttled after retries", operation))] * times
        )

    def _maybe_fail(self, operation: str, booking_num: str) -> None:
        self.attempts[operation] += 1
        queue = self.failures.get(operation, [])
        for index, (only, error) in enumerate(queue):
            if only in (None, booking_num):
                del queue[index]
                raise error

    def create_booking(self, booking_data: Any) -> bool:
        self._maybe_fail("create_booking", str(booking_data["booking_num"]))
        return super().create_booking(booking_data)

    def claim(self, booking_num: str, *args: Any, **kwargs: Any) -> bool:
        self._maybe_fail("claim", booking_num)
        return super().claim(booking_num, *args, **kwargs)

    def mark_sent(self, booking_num: str, *args: Any, **kwargs: Any) -> bool:
        self._maybe_fail("mark_sent", booking_num)
        return super().mark_sent(booking_num, *args, **kwargs)

    def release(self, booking_num: str, *args: Any) -> bool:
        self._maybe_fail("release", booking_num)
        return super().release(booking_num, *args)


@pytest.fixture
def world() -> World:
    world = World()
    world.repository = FlakyRepository()
    world.ports.repository = world.repository
    return world


def flaky(world: World) -> FlakyRepository:
    assert isinstance(world.repository, FlakyRepository)
    return world.repository


def test_a_mark_that_fails_twice_is_retried_and_the_text_never_goes_again(world: World) -> None:
    booking = world.add()
    flaky(world).fail("mark_sent", 2)
    report = world.run(at(9))
    assert sent_kinds(report) == [(booking.booking_num, "confirmation")]
    assert report.exit_code == 0
    assert world.record(booking)["confirm_sms"] is True
    assert world.run(at(9, 30)).sent == []  # long after the lease: nothing twice
    assert len(world.sender.messages) == 1


def test_a_mark_that_keeps_failing_is_reported_with_its_request_id(world: World) -> None:
    world.add()
    flaky(world).fail("mark_sent", 100)
    report = world.run(at(9))
    assert flaky(world).attempts["mark_sent"] == cycle.MARK_ATTEMPTS
    assert "sent (request req-1) but not recorded" in report.failed[0].error
    assert report.exit_code == 1


def test_a_denied_mark_is_not_retried(world: World) -> None:
    world.add()
    flaky(world).fail("mark_sent", 100, error=exceptions.PermissionError("denied", "mark_sent"))
    world.run(at(9))
    assert flaky(world).attempts["mark_sent"] == 1


def test_a_booking_that_could_not_be_stored_waits_and_the_others_are_sent(world: World) -> None:
    unlucky = world.add()
    lucky = world.add()
    flaky(world).fail("create_booking", 1, booking_num=unlucky.booking_num)
    report = world.run(at(9))
    assert sent_kinds(report) == [(lucky.booking_num, "confirmation")]
    assert report.errors[0].shop == STORE
    assert f"1 booking of store {STORE} not stored; retried next cycle" in report.errors[0].error
    assert report.exit_code == 1
    assert sent_kinds(world.run(at(9, 1))) == [(unlucky.booking_num, "confirmation")]


def test_a_claim_that_fails_fails_only_its_message(world: World) -> None:
    unlucky = world.add()
    lucky = world.add()
    flaky(world).fail("claim", 1, booking_num=unlucky.booking_num)
    report = world.run(at(9))
    assert sent_kinds(report) == [(lucky.booking_num, "confirmation")]
    assert report.failed[0].booking_num == unlucky.booking_num
    assert "not claimed" in report.failed[0].error
    assert sent_kinds(world.run(at(9, 1))) == [(unlucky.booking_num, "confirmation")]


def test_a_release_that_fails_does_not_stop_the_other_stores(world: World) -> None:
    first = world.add(store=STORE)
    other = world.add(store=OTHER)
    world.sender.fail_next()  # the first store's batch is not accepted ...
    flaky(world).fail("release", 1)  # ... and its claim cannot be given back
    report = world.run(at(9))
    assert sent_kinds(report) == [(other.booking_num, "confirmation")]
    assert world.record(other)["confirm_sms"] is True
    # The claim stays until its lease ends; then the message goes.
    assert claim_attributes("confirm_sms")[0] in world.record(first)
    assert world.run(at(9, 5)).sent == []
    assert sent_kinds(world.run(at(9, 11))) == [(first.booking_num, "confirmation")]


def test_a_cycle_stopped_by_the_store_logs_a_failed_report(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world.add()

    def down(_keys: Any) -> Any:
        raise DynamoDBException("table is gone", "get_bookings")

    monkeypatch.setattr(world.repository, "get_bookings", down)
    with pytest.raises(DynamoDBException):
        world.run(at(9))
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finished = [line for line in lines if line["operation"] == "run_cycle"]
    assert finished[0]["context"]["exit_code"] == 1
    assert "table is gone" in finished[0]["context"]["errors"][0]["error"]


def test_records_are_read_in_batches_of_at_most_a_hundred_keys(world: World) -> None:
    reads: list[int] = []
    real = world.repository.get_bookings

    def counting(keys: Any) -> Any:
        keys = list(keys)
        reads.append(len(keys))
        return real(keys)

    world.repository.get_bookings = counting  # type: ignore[method-assign]
    for _ in range(250):
        world.add()
    report = world.run(at(9))
    assert sorted(reads) == [50, 100, 100]
    assert len(report.sent) == 250


def test_the_cycle_uses_the_configured_number_of_workers(world: World) -> None:
    import threading  # noqa: PLC0415

    names: set[str] = set()
    real = world.repository.claim

    def claim(*args: Any, **kwargs: Any) -> bool:
        names.add(threading.current_thread().name)
        return real(*args, **kwargs)

    world.repository.claim = claim  # type: ignore[method-assign]
    world.ports.workers = 1
    for _ in range(20):
        world.add()
    world.run(at(9))
    assert len(names) == 1
