"""The store contract for messages the owner configures: any `{name}_sms` flag, once.

Every test runs against each backend (moto, moto_server, dynalite, SQLite and
the in-memory fake). The seed's three flags keep their names and columns; a
configured message's flag (`day_before_sms`) is an extra attribute with the same
exactly-once rules.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from naver_sms.domain.booking import BookingValidationError
from naver_sms.domain.delivery import DeliveryResult as Result
from naver_sms.domain.delivery import DeliveryStatus, Lookup, sent_messages, settle
from tests.conftest import Backend
from tests.integration.test_store_delivery_contract import NOW, NUM, PHONE, booking

FLAG = "day_before_sms"


def test_a_configured_messages_flag_is_claimed_once_and_marked(backend: Backend) -> None:
    store = backend.repository
    store.create_booking(booking())
    assert store.claim(NUM, PHONE, FLAG, "cycle-a", NOW)
    assert not store.claim(NUM, PHONE, FLAG, "cycle-b", NOW)  # the racing cycle loses
    assert store.mark_sent(NUM, PHONE, FLAG, "cycle-a", "req-1", NOW, channel="lms")
    assert not store.claim(NUM, PHONE, FLAG, "cycle-b", NOW + timedelta(hours=1))

    record = store.get_booking(NUM, PHONE)
    assert record is not None
    assert record[FLAG] is True
    assert record["confirm_sms"] is False  # the seed's flags are untouched
    [message] = sent_messages(record)
    assert (message.kind, message.channel, message.status) == (
        "day_before",
        "lms",
        DeliveryStatus.ACCEPTED,
    )


def test_a_released_claim_on_a_configured_flag_lets_the_next_cycle_send(
    backend: Backend,
) -> None:
    store = backend.repository
    store.create_booking(booking())
    assert store.claim(NUM, PHONE, FLAG, "cycle-a", NOW)
    assert store.release(NUM, PHONE, FLAG, "cycle-a")
    assert store.claim(NUM, PHONE, FLAG, "cycle-b", NOW)


def test_update_flag_sets_a_configured_flag_as_a_bool(backend: Backend) -> None:
    store = backend.repository
    store.create_booking(booking())
    assert store.update_flag(NUM, PHONE, FLAG, True)
    record = store.get_booking(NUM, PHONE)
    assert record is not None
    assert record[FLAG] is True
    assert not store.claim(NUM, PHONE, FLAG, "cycle", NOW)


def test_a_moved_visit_resets_exactly_the_flags_asked_and_their_claims(
    backend: Backend,
) -> None:
    store = backend.repository
    store.create_booking(booking())
    for flag in ("remind_sms", FLAG, "confirm_sms"):
        assert store.claim(NUM, PHONE, flag, "cycle", NOW)
        assert store.mark_sent(NUM, PHONE, flag, "cycle", f"req-{flag}", NOW)
    assert store.claim(NUM, PHONE, "changed_sms", "cycle", NOW)  # held, then the move

    assert store.reschedule(
        NUM, PHONE, "2026-12-21 11:00:00", reset=("remind_sms", FLAG, "changed_sms")
    )

    record = store.get_booking(NUM, PHONE)
    assert record is not None
    assert record["booking_time"] == "2026-12-21 11:00:00"
    assert (record["remind_sms"], record[FLAG], record["changed_sms"]) == (False, False, False)
    assert record["confirm_sms"] is True  # a confirmation is never sent again
    assert "changed_sms_claim" not in record
    assert store.claim(NUM, PHONE, "changed_sms", "next", NOW)  # the new move's notice


def test_a_move_with_nothing_to_reset_only_stores_the_time(backend: Backend) -> None:
    store = backend.repository
    store.create_booking(booking())
    assert store.update_flag(NUM, PHONE, "remind_sms", True)
    assert store.reschedule(NUM, PHONE, "2026-12-22 09:00:00", reset=())
    record = store.get_booking(NUM, PHONE)
    assert record is not None
    assert record["remind_sms"] is True
    assert not store.reschedule(NUM, PHONE, "2026-12-22 09:00:00", reset=())  # same time


def test_a_configured_messages_delivery_is_recorded_like_the_seeds(backend: Backend) -> None:
    store = backend.repository
    store.create_booking(booking())
    assert store.claim(NUM, PHONE, FLAG, "cycle", NOW)
    assert store.mark_sent(NUM, PHONE, FLAG, "cycle", "req-1", NOW, channel="sms")
    record = store.get_booking(NUM, PHONE)
    assert record is not None
    outcome = settle(
        record,
        {FLAG: Lookup("m-1", Result(DeliveryStatus.DELIVERED, "delivered (SKT)"))},
        NOW + timedelta(minutes=2),
        ("confirm_sms", "remind_sms", "option_sms", FLAG),
    )
    assert store.record_delivery(outcome.update)
    record = store.get_booking(NUM, PHONE)
    assert record is not None
    assert record[f"{FLAG}_status"] == "delivered"
    assert store.due_deliveries(NOW + timedelta(hours=1), 10) == []


@pytest.mark.parametrize("flag", ["day_before", "Day_before_sms", "x" * 41 + "_sms", "a b_sms"])
def test_a_name_that_cannot_be_a_flag_is_refused_before_any_write(
    backend: Backend, flag: str
) -> None:
    store = backend.repository
    store.create_booking(booking())
    with pytest.raises(BookingValidationError, match="flag"):
        store.claim(NUM, PHONE, flag, "cycle", NOW)
    with pytest.raises(BookingValidationError, match="flag"):
        store.reschedule(NUM, PHONE, "2026-12-21 11:00:00", reset=(flag,))


def test_a_skipped_message_is_recorded_with_its_reason_and_its_flag_stays_false(
    backend: Backend,
) -> None:
    store = backend.repository
    store.create_booking(booking())
    assert store.mark_skipped(NUM, PHONE, FLAG, "skipped: the visit started before it could go")
    record = store.get_booking(NUM, PHONE)
    assert record is not None
    assert record.get(FLAG) is not True
    assert record[f"{FLAG}_skipped"] == "skipped: the visit started before it could go"
    assert sent_messages(record) == []  # nothing was sent
    # A move resets it with the flag: the new time may make the message due again.
    assert store.reschedule(NUM, PHONE, "2026-12-22 10:00:00", reset=(FLAG,))
    moved = store.get_booking(NUM, PHONE)
    assert moved is not None
    assert f"{FLAG}_skipped" not in moved


def test_a_message_that_went_is_never_marked_skipped(backend: Backend) -> None:
    store = backend.repository
    store.create_booking(booking())
    assert store.claim(NUM, PHONE, "confirm_sms", "cycle", NOW)
    assert store.mark_sent(NUM, PHONE, "confirm_sms", "cycle", "req-1", NOW)
    assert not store.mark_skipped(NUM, PHONE, "confirm_sms", "skipped: too late")
    record = store.get_booking(NUM, PHONE)
    assert record is not None
    assert "confirm_sms_skipped" not in record
