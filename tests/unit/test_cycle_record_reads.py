"""Record reads asked for while Naver is read: as few reads, the same records, errors kept."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pytest

from naver_sms.cycle import _RecordReads
from naver_sms.database.base import READ_BATCH_KEYS, BookingKey
from naver_sms.database.exceptions import DynamoDBException


def keys(first: int, count: int) -> list[BookingKey]:
    return [(f"1051707_{n}", f"010-0000-{n:04d}") for n in range(first, first + count)]


class Store:
    def __init__(self, fail: bool = False) -> None:
        self.asked: list[list[BookingKey]] = []
        self.fail = fail
        self.first_read = threading.Event()
        self._lock = threading.Lock()

    def get_bookings(self, batch: list[BookingKey]) -> Mapping[BookingKey, dict[str, Any]]:
        with self._lock:
            self.asked.append(batch)
        self.first_read.set()
        if self.fail:
            raise DynamoDBException("table is gone", "get_bookings")
        return {key: {"booking_num": key[0], "confirm_sms": True} for key in batch}


def test_a_full_batch_is_asked_for_before_the_cycle_wants_the_records() -> None:
    store = Store()
    with _RecordReads(store.get_bookings, 2) as reads:
        reads.add(keys(0, READ_BATCH_KEYS))
        # The read is under way while Naver is still being read, not after.
        assert store.first_read.wait(5)


def test_every_booking_is_read_once_in_as_few_reads_as_before() -> None:
    store = Store()
    shown = keys(0, 250)
    with _RecordReads(store.get_bookings, 4) as reads:
        reads.add(shown[:40])
        reads.add(shown[:40])  # a visit that ended between the two calls comes twice
        reads.add(shown[40:130])
        reads.add(shown[130:])
        records = reads.records(shown)

    assert len(store.asked) == 3  # 250 keys, 100 a read
    assert sorted(k for batch in store.asked for k in batch) == sorted(shown)
    assert set(records) == set(shown)


def test_the_records_of_a_store_left_out_are_not_handed_to_the_plan() -> None:
    store = Store()
    with _RecordReads(store.get_bookings, 2) as reads:
        reads.add(keys(0, 50))  # its read came in, then the store's second read failed
        wanted = keys(50, 50)
        records = reads.records(wanted)

    assert set(records) == set(wanted)


def test_a_failed_record_read_still_stops_the_plan() -> None:
    store = Store(fail=True)
    with _RecordReads(store.get_bookings, 2) as reads:
        reads.add(keys(0, READ_BATCH_KEYS))
        with pytest.raises(DynamoDBException, match="table is gone"):
            reads.records(keys(0, READ_BATCH_KEYS))
