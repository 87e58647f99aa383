"""Batch writes keep each message's own rules: one store request per batch, never a
message won, marked or lost that a single write would not have.

Runs on every backend of the contract suite, plus the fake in its batching mode;
lost answers go through the fault proxy in front of moto_server, and dynalite
(which has no TransactWriteItems) shows the fallback to single writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from naver_sms.database.base import (
    BookingRepositoryPort,
    ClaimRequest,
    MarkRequest,
    NewRecord,
)
from naver_sms.database.dynamodb_client import BookingRepository, create_tables, make_client
from naver_sms.domain.booking import KST
from tests.conftest import FAST_CONFIG
from tests.fakes import MemoryBookingRepository
from tests.fault_proxy import FaultProxy

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=KST)
OWNER = "cycle-a"


def booking(index: int) -> dict[str, str]:
    return {
        "booking_num": f"5000001_{1200000000 + index}",
        "phone": f"010-0000-{index:04d}",
        "name": "Kim",
        "booking_time": "2026-11-28 14:00:00",
    }


def key(index: int) -> tuple[str, str]:
    data = booking(index)
    return data["booking_num"], data["phone"]


def test_new_records_are_stored_with_their_first_claim_and_skips(
    store: BookingRepositoryPort,
) -> None:
    records = [
        NewRecord(booking(n), claim="confirm_sms", skipped=(("remind_sms", "too late"),))
        for n in range(3)
    ]

    assert store.create_bookings(records, OWNER, NOW) == [True, True, True]

    record = store.get_booking(*key(1))
    assert record is not None
    assert record["confirm_sms_claim"] == OWNER
    assert record["remind_sms_skipped"] == "too late"
    # The claim is held: another cycle cannot take it, this one can mark it.
    assert store.claim(*key(1), "confirm_sms", "cycle-b", NOW) is False
    assert store.mark_sent(*key(1), "confirm_sms", OWNER, "req-1", NOW, channel="sms") is True


def test_a_batch_with_one_existing_record_still_stores_the_others(
    store: BookingRepositoryPort,
) -> None:
    store.create_booking(booking(1))

    results = store.create_bookings(
        [NewRecord(booking(n), claim="confirm_sms") for n in range(3)], OWNER, NOW
    )

    assert results == [True, False, True]
    # The record that existed was not overwritten, nor claimed.
    assert "confirm_sms_claim" not in (store.get_booking(*key(1)) or {})


def test_a_batch_of_claims_with_one_taken_wins_the_others(store: BookingRepositoryPort) -> None:
    for n in range(4):
        store.create_booking(booking(n))
    assert store.claim(*key(2), "confirm_sms", "cycle-b", NOW)

    results = store.claim_many([ClaimRequest(*key(n), "confirm_sms") for n in range(4)], OWNER, NOW)

    assert results == [True, True, False, True]
    assert (store.get_booking(*key(2)) or {})["confirm_sms_claim"] == "cycle-b"


def test_a_batch_of_marks_with_one_claim_lost_marks_the_others(
    store: BookingRepositoryPort,
) -> None:
    store.create_bookings(
        [NewRecord(booking(n), claim="confirm_sms") for n in range(3)], OWNER, NOW
    )
    store.release(*key(0), "confirm_sms", OWNER)

    results = store.mark_sent_many(
        [MarkRequest(*key(n), "confirm_sms", f"req-{n}", "sms") for n in range(3)], OWNER, NOW
    )

    assert results == [False, True, True]
    assert (store.get_booking(*key(0)) or {})["confirm_sms"] is False
    assert (store.get_booking(*key(2)) or {})["confirm_sms_request_id"] == "req-2"
    # The history lists the two marked on their day.
    assert sorted(r["booking_num"] for r in store.sent_on("2026-11-25")) == [
        key(1)[0],
        key(2)[0],
    ]


def test_a_repeated_batch_of_marks_counts_as_done(store: BookingRepositoryPort) -> None:
    store.create_bookings(
        [NewRecord(booking(n), claim="confirm_sms") for n in range(2)], OWNER, NOW
    )
    marks = [MarkRequest(*key(n), "confirm_sms", f"req-{n}", "sms") for n in range(2)]
    store.mark_sent_many(marks, OWNER, NOW)

    assert store.mark_sent_many(marks, OWNER, NOW) == [True, True]


def test_the_fake_batching_as_the_real_stores_keeps_the_same_answers() -> None:
    store = MemoryBookingRepository(batches=True)
    store.create_booking(booking(1))
    assert store.create_bookings(
        [NewRecord(booking(n), claim="confirm_sms") for n in range(3)], OWNER, NOW
    ) == [True, False, True]
    assert store.claim_many(
        [ClaimRequest(*key(n), "remind_sms") for n in range(3)], OWNER, NOW
    ) == [True, True, True]


@pytest.fixture
def proxied(moto_server_url: str) -> Iterator[tuple[BookingRepository, FaultProxy]]:
    proxy = FaultProxy(moto_server_url).start()
    client = make_client(endpoint_url=proxy.url, config=FAST_CONFIG)
    suffix = uuid.uuid4().hex[:8]
    create_tables(client, f"sms_{suffix}", f"session_{suffix}", f"sms_sent_{suffix}")
    yield (
        BookingRepository(f"sms_{suffix}", client=client, sent_table_name=f"sms_sent_{suffix}"),
        proxy,
    )
    proxy.stop()


def test_a_batch_whose_answer_was_lost_is_recognised_as_this_cycles(
    proxied: tuple[BookingRepository, FaultProxy],
) -> None:
    store, proxy = proxied
    proxy.inject("drop", target="TransactWriteItems")

    results = store.create_bookings(
        [NewRecord(booking(n), claim="confirm_sms") for n in range(3)], OWNER, NOW
    )

    assert results == [True, True, True]
    assert proxy.faults["drop"] == 1
    # moto does not honour the request token: the retried transaction fails its own
    # conditions, so each create went again alone and recognised its own record.
    assert proxy.requests["PutItem"] == 3
    assert proxy.requests["GetItem"] == 3
    later = NOW + timedelta(minutes=1)
    proxy.inject("drop", target="TransactWriteItems")
    marks = [MarkRequest(*key(n), "confirm_sms", f"req-{n}", "sms") for n in range(3)]
    assert store.mark_sent_many(marks, OWNER, later) == [True, True, True]
    assert all((store.get_booking(*key(n)) or {})["confirm_sms"] is True for n in range(3))


def test_transactions_go_as_one_request_per_batch(
    proxied: tuple[BookingRepository, FaultProxy],
) -> None:
    store, proxy = proxied
    store.create_bookings(
        [NewRecord(booking(n), claim="confirm_sms") for n in range(60)], OWNER, NOW
    )
    store.mark_sent_many(
        [MarkRequest(*key(n), "confirm_sms", f"req-{n}", "sms") for n in range(60)], OWNER, NOW
    )

    assert proxy.requests["TransactWriteItems"] == 2
    assert proxy.requests["BatchWriteItem"] == 3  # 60 history entries, 25 a request
    assert proxy.requests["PutItem"] == proxy.requests["UpdateItem"] == 0


def test_a_server_without_transactions_gets_single_writes_and_is_asked_once(
    dynalite_url: str,
) -> None:
    proxy = FaultProxy(dynalite_url).start()
    try:
        client = make_client(endpoint_url=proxy.url, config=FAST_CONFIG)
        suffix = uuid.uuid4().hex[:8]
        create_tables(client, f"sms_{suffix}", f"session_{suffix}", f"sms_sent_{suffix}")
        store = BookingRepository(
            f"sms_{suffix}", client=client, sent_table_name=f"sms_sent_{suffix}"
        )
        proxy.clear()
        for part in range(2):
            results = store.create_bookings(
                [NewRecord(booking(10 * part + n), claim="confirm_sms") for n in range(5)],
                OWNER,
                NOW,
            )
            assert results == [True] * 5

        assert proxy.requests["TransactWriteItems"] == 1
        assert proxy.requests["PutItem"] == 10
        assert (store.get_booking(*key(3)) or {})["confirm_sms_claim"] == OWNER
    finally:
        proxy.stop()
