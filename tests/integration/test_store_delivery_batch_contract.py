"""Delivery results written in batches keep each result's own answer.

`record_deliveries` writes a cycle's results a batch at a time (one DynamoDB
transaction, one SQLite transaction); each result still gets what
`record_delivery` would have answered it. Runs on every backend of the
contract suite, the fake in its batching mode; the request counts go through
the fault proxy in front of moto_server and dynalite.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest

from naver_sms.database.base import BookingRepositoryPort, MarkRequest, NewRecord
from naver_sms.database.dynamodb_client import BookingRepository, create_tables, make_client
from naver_sms.domain.booking import KST
from naver_sms.domain.delivery import DeliveryUpdate
from naver_sms.domain.record import DELIVERY_QUEUE
from tests.conftest import FAST_CONFIG
from tests.fault_proxy import FaultProxy

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=KST)
DAY = "2026-12-01"
OWNER = "cycle-a"


def booking(index: int) -> dict[str, str]:
    return {
        "booking_num": f"1051707_{1300000000 + index}",
        "phone": f"010-0000-{index:04d}",
        "name": "Kim",
        "booking_time": "2026-12-20 14:00:00",
    }


def key(index: int) -> tuple[str, str]:
    data = booking(index)
    return data["booking_num"], data["phone"]


def sent(store: BookingRepositoryPort, count: int, *, channel: str | None = "sms") -> None:
    """What a cycle does for `count` confirmations: records, claims, marks."""
    created = store.create_bookings(
        [NewRecord(booking(n), claim="confirm_sms") for n in range(count)], OWNER, NOW
    )
    assert created == [True] * count
    marks = [MarkRequest(*key(n), "confirm_sms", f"req-{n}", channel) for n in range(count)]
    assert store.mark_sent_many(marks, OWNER, NOW) == [True] * count


def delivered(
    index: int, *, status: str = "delivered", expected: str | None = "accepted"
) -> DeliveryUpdate:
    """A check's update of record `index`: its confirmation settled, nothing left to check."""
    return DeliveryUpdate(
        *key(index),
        set={
            "confirm_sms_status": status,
            "confirm_sms_result": f"{status} (checked)",
            "confirm_sms_checked_at": "2026-12-01T10:05:00+09:00",
        },
        expected={"confirm_sms_status": expected},
        due=None,
        days=frozenset({DAY}),
    )


def status(store: BookingRepositoryPort, index: int) -> object:
    return (store.get_booking(*key(index)) or {}).get("confirm_sms_status")


def test_a_batch_of_results_is_recorded_and_leaves_the_queue(
    store: BookingRepositoryPort,
) -> None:
    sent(store, 3)

    assert store.record_deliveries([delivered(0), delivered(1, status="failed"), delivered(2)]) == [
        True,
        True,
        True,
    ]

    assert [status(store, n) for n in range(3)] == ["delivered", "failed", "delivered"]
    assert store.due_deliveries(NOW + timedelta(days=30), 10) == []
    assert DELIVERY_QUEUE not in (store.get_booking(*key(1)) or {})


def test_a_result_whose_status_changed_meanwhile_is_false_and_the_others_are_recorded(
    store: BookingRepositoryPort,
) -> None:
    sent(store, 3)
    # Another cycle recorded record 1's result first.
    assert store.record_delivery(delivered(1))

    results = store.record_deliveries([delivered(0), delivered(1, status="failed"), delivered(2)])

    assert results == [True, False, True]
    assert [status(store, n) for n in range(3)] == ["delivered", "delivered", "delivered"]
    assert (store.get_booking(*key(1)) or {})["confirm_sms_result"] == "delivered (checked)"


def test_a_result_for_a_missing_record_is_false_and_creates_nothing(
    store: BookingRepositoryPort,
) -> None:
    sent(store, 2)

    assert store.record_deliveries([delivered(0), delivered(7), delivered(1)]) == [
        True,
        False,
        True,
    ]
    assert store.get_booking(*key(7)) is None


def test_two_results_for_one_record_in_a_batch_are_written_in_order(
    store: BookingRepositoryPort,
) -> None:
    sent(store, 2)

    # The second read the record before the first wrote it: its status no longer holds.
    results = store.record_deliveries([delivered(0), delivered(1), delivered(0, status="failed")])

    assert results == [True, True, False]
    assert status(store, 0) == "delivered"


def test_a_batch_repeated_after_it_applied_is_still_true(store: BookingRepositoryPort) -> None:
    # What a retried batch sees when its first attempt was applied but unanswered.
    sent(store, 2)
    updates = [delivered(0), delivered(1)]
    assert store.record_deliveries(updates) == [True, True]

    assert store.record_deliveries(updates) == [True, True]


def test_history_entries_are_written_for_the_recorded_results_only(
    store: BookingRepositoryPort,
) -> None:
    # Marked before delivery checks existed: no status, no history entry yet.
    sent(store, 3, channel=None)
    assert store.sent_on(DAY) == []

    results = store.record_deliveries(
        [delivered(0, expected=None), delivered(1), delivered(2, expected=None)]
    )

    assert results == [True, False, True]
    assert sorted(record["booking_num"] for record in store.sent_on(DAY)) == [
        key(0)[0],
        key(2)[0],
    ]


def test_an_empty_batch_writes_nothing(store: BookingRepositoryPort) -> None:
    assert store.record_deliveries([]) == []


def test_a_bad_update_is_refused_before_anything_is_written(
    store: BookingRepositoryPort,
) -> None:
    sent(store, 2)
    bad = DeliveryUpdate(
        *key(1),
        set={"confirm_sms": "true"},
        expected={"confirm_sms_status": "accepted"},
        due=None,
    )

    with pytest.raises(ValueError, match="not a delivery attribute"):
        store.record_deliveries([delivered(0), bad])

    assert status(store, 0) == "accepted"


# -- what a batch costs on DynamoDB ---------------------------------------------------------


@contextmanager
def proxied(url: str) -> Iterator[tuple[BookingRepository, FaultProxy]]:
    """A store on fresh tables whose every request goes through a fault proxy."""
    proxy = FaultProxy(url).start()
    try:
        client = make_client(endpoint_url=proxy.url, config=FAST_CONFIG)
        suffix = uuid.uuid4().hex[:8]
        create_tables(client, f"sms_{suffix}", f"session_{suffix}", f"sms_sent_{suffix}")
        yield (
            BookingRepository(f"sms_{suffix}", client=client, sent_table_name=f"sms_sent_{suffix}"),
            proxy,
        )
    finally:
        proxy.stop()


def test_results_go_as_one_transaction_per_batch_and_one_request_per_25_history_entries(
    moto_server_url: str,
) -> None:
    with proxied(moto_server_url) as (store, proxy):
        sent(store, 60)
        proxy.clear()

        assert store.record_deliveries([delivered(n) for n in range(60)]) == [True] * 60

        assert proxy.requests["TransactWriteItems"] == 1
        assert proxy.requests["BatchWriteItem"] == 3  # 60 history entries, 25 a request
        assert proxy.requests["UpdateItem"] == 0
        assert all(status(store, n) == "delivered" for n in range(60))


def test_a_server_without_transactions_writes_each_result_and_the_history_together(
    dynalite_url: str,
) -> None:
    with proxied(dynalite_url) as (store, proxy):
        sent(store, 30)  # the server was asked for a transaction here, once
        proxy.clear()

        assert store.record_deliveries([delivered(n) for n in range(30)]) == [True] * 30

        assert proxy.requests["TransactWriteItems"] == 0
        assert proxy.requests["UpdateItem"] == 30
        assert proxy.requests["BatchWriteItem"] == 2
        assert all(status(store, n) == "delivered" for n in range(30))


def test_a_batch_of_results_whose_answer_was_lost_is_recognised_as_applied(
    moto_server_url: str,
) -> None:
    with proxied(moto_server_url) as (store, proxy):
        sent(store, 3)
        proxy.inject("drop", target="TransactWriteItems")

        assert store.record_deliveries([delivered(n) for n in range(3)]) == [True, True, True]

        assert proxy.faults["drop"] == 1
        assert all(status(store, n) == "delivered" for n in range(3))
