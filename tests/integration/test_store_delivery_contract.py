"""The store contract of each message's life after the provider accepted it.

Every test runs against each backend (moto, moto_server, dynalite, SQLite and
the in-memory fake): the queue of records whose delivery is to be checked, the
conditional write of a check's outcome, and the per-day history index.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from naver_sms.domain import delivery
from naver_sms.domain.booking import KST, BookingValidationError
from naver_sms.domain.delivery import DeliveryUpdate, Lookup
from naver_sms.domain.record import DELIVERY_DUE, DELIVERY_QUEUE
from tests.conftest import Backend

STORE = "1051707"
OTHER_STORE = "2203311"
NUM = f"{STORE}_90001"
PHONE = "010-0000-1234"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=KST)


def booking(booking_num: str = NUM, phone: str = PHONE, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "booking_num": booking_num,
        "phone": phone,
        "name": "Kim Soo",
        "booking_time": "2026-12-20 14:30:00",
    }
    data.update(overrides)
    return data


def send(
    backend: Backend,
    flag: str = "confirm_sms",
    now: datetime = NOW,
    *,
    booking_num: str = NUM,
    phone: str = PHONE,
    channel: str | None = "sms",
    request_id: str | None = None,
) -> None:
    """What a cycle does for one message: the record, a claim, the send's mark."""
    store = backend.repository
    store.create_booking(booking(booking_num, phone))
    assert store.claim(booking_num, phone, flag, "cycle", now)
    request = request_id or f"req-{booking_num}-{flag}"
    assert store.mark_sent(booking_num, phone, flag, "cycle", request, now, channel=channel)


def delivered(
    flag: str = "confirm_sms",
    *,
    booking_num: str = NUM,
    phone: str = PHONE,
    expected: dict[str, str | None] | None = None,
    due: str | None = None,
    days: frozenset[str] = frozenset({"2026-12-01"}),
) -> DeliveryUpdate:
    """A check's update: `flag`'s message delivered, nothing left to check."""
    return DeliveryUpdate(
        booking_num=booking_num,
        phone=phone,
        set={
            f"{flag}_status": "delivered",
            f"{flag}_result": "delivered to the phone",
            f"{flag}_message_id": "msg-1",
            f"{flag}_checked_at": "2026-12-01T10:05:00+09:00",
        },
        expected=expected if expected is not None else {f"{flag}_status": "accepted"},
        due=due,
        days=days,
    )


def due_numbers(backend: Backend, now: datetime, limit: int = 300) -> list[str]:
    return [record["booking_num"] for record in backend.repository.due_deliveries(now, limit)]


# -- the mark starts a message's life ------------------------------------------------------


def test_a_message_marked_with_its_channel_is_accepted_and_queued_a_minute_later(
    backend: Backend,
) -> None:
    send(backend, channel="lms")

    stored = backend.repository.get_booking(NUM, PHONE)
    assert stored is not None
    assert stored["confirm_sms"] is True
    assert stored["confirm_sms_channel"] == "lms"
    assert stored["confirm_sms_status"] == "accepted"
    assert stored[DELIVERY_QUEUE] == "pending"
    assert stored[DELIVERY_DUE] == "2026-12-01T10:01:00+09:00"
    assert "confirm_sms_claim" not in stored


def test_a_message_marked_without_a_channel_is_not_tracked_as_before(backend: Backend) -> None:
    send(backend, channel=None)

    stored = backend.repository.get_booking(NUM, PHONE)
    assert stored is not None
    assert stored["confirm_sms"] is True
    assert "confirm_sms_status" not in stored
    assert DELIVERY_QUEUE not in stored
    assert due_numbers(backend, NOW + timedelta(days=1)) == []


def test_a_channel_the_senders_do_not_have_is_refused_and_nothing_is_marked(
    backend: Backend,
) -> None:
    backend.repository.create_booking(booking())
    backend.repository.claim(NUM, PHONE, "confirm_sms", "cycle", NOW)

    with pytest.raises(ValueError, match="channel"):
        backend.repository.mark_sent(NUM, PHONE, "confirm_sms", "cycle", "r", NOW, channel="fax")

    stored = backend.repository.get_booking(NUM, PHONE)
    assert stored is not None
    assert stored["confirm_sms"] is False


# -- the queue -----------------------------------------------------------------------------


def test_due_deliveries_gives_only_the_records_due_now_earliest_first(backend: Backend) -> None:
    send(backend, booking_num=f"{STORE}_3", now=NOW + timedelta(minutes=2))
    send(backend, booking_num=f"{STORE}_1", now=NOW)
    send(backend, booking_num=f"{STORE}_2", now=NOW + timedelta(minutes=1))
    send(backend, booking_num=f"{STORE}_4", now=NOW + timedelta(minutes=30))

    # Due a minute after each send: at 10:03 the first three, the earliest first.
    assert due_numbers(backend, NOW + timedelta(minutes=3)) == [
        f"{STORE}_1",
        f"{STORE}_2",
        f"{STORE}_3",
    ]
    assert due_numbers(backend, NOW + timedelta(seconds=59)) == []


def test_due_deliveries_gives_at_most_limit_records_the_oldest_ones(backend: Backend) -> None:
    for minute in range(6):
        send(backend, booking_num=f"{STORE}_{minute + 1}", now=NOW + timedelta(minutes=minute))

    later = NOW + timedelta(hours=1)
    assert due_numbers(backend, later, limit=2) == [f"{STORE}_1", f"{STORE}_2"]
    assert len(due_numbers(backend, later, limit=300)) == 6


def test_due_deliveries_compares_instants_whatever_zone_now_is_in(backend: Backend) -> None:
    send(backend)

    # Lambda's clock is UTC: 01:00:59 UTC is a second before the check is due.
    assert due_numbers(backend, datetime(2026, 12, 1, 1, 0, 59, tzinfo=UTC)) == []
    assert due_numbers(backend, datetime(2026, 12, 1, 1, 1, tzinfo=UTC)) == [NUM]


def test_due_deliveries_refuses_a_limit_below_one(backend: Backend) -> None:
    with pytest.raises(ValueError, match="limit"):
        backend.repository.due_deliveries(NOW, 0)


def test_a_record_whose_delivery_settled_is_never_due_again(backend: Backend) -> None:
    send(backend)

    assert backend.repository.record_delivery(delivered())

    assert due_numbers(backend, NOW + timedelta(days=30)) == []
    stored = backend.repository.get_booking(NUM, PHONE)
    assert stored is not None
    assert stored["confirm_sms_status"] == "delivered"
    assert stored["confirm_sms_result"] == "delivered to the phone"
    assert stored["confirm_sms_message_id"] == "msg-1"
    assert DELIVERY_QUEUE not in stored
    assert DELIVERY_DUE not in stored


def test_a_check_without_a_final_result_keeps_the_record_queued_for_its_next_look(
    backend: Backend,
) -> None:
    send(backend)
    record = backend.repository.get_booking(NUM, PHONE)
    assert record is not None
    checked = NOW + timedelta(minutes=1)
    waiting = delivery.DeliveryResult(delivery.DeliveryStatus.ACCEPTED, "processing")
    settled = delivery.settle(
        record, {"confirm_sms": Lookup("msg-1", waiting)}, checked, ("confirm_sms",)
    )

    assert backend.repository.record_delivery(settled.update)

    assert due_numbers(backend, checked) == []
    assert due_numbers(backend, checked + timedelta(minutes=1)) == [NUM]
    stored = backend.repository.get_booking(NUM, PHONE)
    assert stored is not None
    assert (stored["confirm_sms_status"], stored["confirm_sms_result"]) == (
        "accepted",
        "processing",
    )


# -- the check's conditional write ---------------------------------------------------------


def test_a_check_is_refused_when_another_cycle_marked_a_second_message_meanwhile(
    backend: Backend,
) -> None:
    send(backend, "confirm_sms")
    # Read by the check: the reminder not sent yet (its status absent) ...
    update = delivered(expected={"confirm_sms_status": "accepted", "remind_sms_status": None})
    # ... then another cycle sends the reminder before the check writes.
    later = NOW + timedelta(minutes=5)
    assert backend.repository.claim(NUM, PHONE, "remind_sms", "other", later)
    assert backend.repository.mark_sent(
        NUM, PHONE, "remind_sms", "other", "req-r", later, channel="sms"
    )

    assert backend.repository.record_delivery(update) is False

    stored = backend.repository.get_booking(NUM, PHONE)
    assert stored is not None
    assert stored["confirm_sms_status"] == "accepted"
    # The queue stays: the reminder's delivery is still to be checked.
    assert due_numbers(backend, later + timedelta(minutes=1)) == [NUM]


def test_a_check_is_refused_when_the_status_it_read_has_changed(backend: Backend) -> None:
    send(backend)
    assert backend.repository.record_delivery(delivered())

    failed_late = DeliveryUpdate(
        booking_num=NUM,
        phone=PHONE,
        set={"confirm_sms_status": "failed", "confirm_sms_result": "spam block"},
        expected={"confirm_sms_status": "accepted"},
        due=None,
    )

    assert backend.repository.record_delivery(failed_late) is False
    assert backend.repository.get_booking(NUM, PHONE)["confirm_sms_status"] == "delivered"  # type: ignore[index]


def test_a_check_of_a_missing_record_is_false_and_creates_nothing(backend: Backend) -> None:
    assert backend.repository.record_delivery(delivered(expected={})) is False
    assert backend.repository.get_booking(NUM, PHONE) is None


def test_a_check_repeated_after_it_applied_is_still_true(backend: Backend) -> None:
    # What a retried write sees when its first attempt was applied but unanswered.
    send(backend)
    update = delivered()
    assert backend.repository.record_delivery(update)

    assert backend.repository.record_delivery(update) is True


def test_a_check_may_write_only_delivery_attributes(backend: Backend) -> None:
    send(backend)
    sneaky = DeliveryUpdate(
        booking_num=NUM, phone=PHONE, set={"confirm_sms": "false"}, expected={}, due=None
    )

    with pytest.raises(ValueError, match="delivery attribute"):
        backend.repository.record_delivery(sneaky)
    assert backend.repository.get_booking(NUM, PHONE)["confirm_sms"] is True  # type: ignore[index]


# -- the history's index -------------------------------------------------------------------


def test_sent_on_lists_a_record_on_each_day_it_sent_something_and_on_no_other(
    backend: Backend,
) -> None:
    send(backend, "confirm_sms", NOW)
    send(backend, "option_sms", NOW + timedelta(days=21))
    send(backend, booking_num=f"{STORE}_90002", now=NOW + timedelta(days=1))

    def listed(day: str) -> list[str]:
        return [record["booking_num"] for record in backend.repository.sent_on(day)]

    assert listed("2026-12-01") == [NUM]
    assert listed("2026-12-02") == [f"{STORE}_90002"]
    assert listed("2026-12-22") == [NUM]
    assert listed("2026-12-03") == []


def test_sent_on_of_one_store_leaves_the_other_stores_out(backend: Backend) -> None:
    send(backend, booking_num=NUM)
    send(backend, booking_num=f"{OTHER_STORE}_1", phone="010-0000-5678")

    ours = backend.repository.sent_on("2026-12-01", STORE)
    theirs = backend.repository.sent_on("2026-12-01", OTHER_STORE)

    assert [(r["booking_num"], r["phone"]) for r in ours] == [(NUM, PHONE)]
    assert [(r["booking_num"], r["phone"]) for r in theirs] == [
        (f"{OTHER_STORE}_1", "010-0000-5678")
    ]
    assert len(backend.repository.sent_on("2026-12-01")) == 2


def test_sent_on_lists_a_day_of_kst_whatever_zone_the_send_was_marked_in(
    backend: Backend,
) -> None:
    # 23:30 UTC on 30 November is 08:30 on 1 December in Seoul.
    send(backend, now=datetime(2026, 11, 30, 23, 30, tzinfo=UTC))

    assert [r["booking_num"] for r in backend.repository.sent_on("2026-12-01")] == [NUM]
    assert backend.repository.sent_on("2026-11-30") == []


def test_sent_on_refuses_a_day_that_is_not_a_date(backend: Backend) -> None:
    with pytest.raises(BookingValidationError, match="date"):
        backend.repository.sent_on("12/01/2026")


def test_a_rescheduled_record_keeps_its_sent_messages_life(backend: Backend) -> None:
    send(backend, "confirm_sms")
    assert backend.repository.record_delivery(delivered())

    assert backend.repository.reschedule(NUM, PHONE, "2026-12-21 11:00:00")

    stored = backend.repository.get_booking(NUM, PHONE)
    assert stored is not None
    assert (stored["confirm_sms_status"], stored["confirm_sms_message_id"]) == (
        "delivered",
        "msg-1",
    )
    assert [r["booking_num"] for r in backend.repository.sent_on("2026-12-01")] == [NUM]


def test_a_reminder_sent_again_for_a_new_time_starts_a_life_of_its_own(backend: Backend) -> None:
    send(backend, "remind_sms")
    assert backend.repository.record_delivery(delivered("remind_sms"))
    assert backend.repository.reschedule(NUM, PHONE, "2026-12-21 11:00:00")

    again = NOW + timedelta(days=19)
    assert backend.repository.claim(NUM, PHONE, "remind_sms", "cycle", again)
    assert backend.repository.mark_sent(
        NUM, PHONE, "remind_sms", "cycle", "req-2", again, channel="sms"
    )

    stored = backend.repository.get_booking(NUM, PHONE)
    assert stored is not None
    assert stored["remind_sms_status"] == "accepted"
    # The old message's id and words would be taken for the new one's.
    assert "remind_sms_message_id" not in stored
    assert "remind_sms_result" not in stored
    assert due_numbers(backend, again + timedelta(minutes=1)) == [NUM]


@pytest.mark.parametrize("backend", ["moto", "moto_server", "dynalite"], indirect=True)
def test_on_dynamodb_the_queue_and_the_history_are_read_without_a_scan(backend: Backend) -> None:
    calls: list[str] = []
    backend.client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    for minute in range(3):
        send(backend, booking_num=f"{STORE}_{minute + 1}", now=NOW + timedelta(minutes=minute))
    calls.clear()

    assert len(backend.repository.due_deliveries(NOW + timedelta(hours=1), 2)) == 2
    assert backend.repository.record_delivery(delivered(booking_num=f"{STORE}_1"))
    assert len(backend.repository.sent_on("2026-12-01", STORE)) == 3

    assert "Scan" not in calls
    assert calls.count("Query") == 2  # one for the queue (bounded by Limit), one for the day


# SQLite upgrades its file on open (test_sqlite_store). dynalite 4.0.0's UpdateTable
# validates GlobalSecondaryIndexUpdates but applies only throughput changes
# (actions/updateTable.js has no Create), so the servers that can are moto's two.
@pytest.mark.parametrize("backend", ["moto", "moto_server"], indirect=True)
def test_create_tables_adds_the_queue_index_to_a_bookings_table_of_the_previous_version(
    backend: Backend,
) -> None:
    assert backend.client is not None
    from naver_sms.database.dynamodb_client import (  # noqa: PLC0415
        BOOKINGS_TABLE,
        BookingRepository,
        TableSpec,
        create_tables,
    )

    suffix = uuid.uuid4().hex[:8]
    names = {"bookings_table": f"old_{suffix}", "session_table": f"s_{suffix}"}
    previous = TableSpec(BOOKINGS_TABLE.default_name, BOOKINGS_TABLE.keys)  # no index yet
    backend.client.create_table(**previous.create_table_request(names["bookings_table"]))
    old = BookingRepository(names["bookings_table"], client=backend.client)
    old.create_booking(booking())

    create_tables(backend.client, **names, sent_table=f"sent_{suffix}")

    described = backend.client.describe_table(TableName=names["bookings_table"])["Table"]
    assert [
        (index["IndexName"], index["IndexStatus"]) for index in described["GlobalSecondaryIndexes"]
    ] == [("delivery", "ACTIVE")]
    upgraded = BookingRepository(
        names["bookings_table"], client=backend.client, sent_table_name=f"sent_{suffix}"
    )
    assert upgraded.claim(NUM, PHONE, "confirm_sms", "cycle", NOW)
    assert upgraded.mark_sent(NUM, PHONE, "confirm_sms", "cycle", "req", NOW, channel="sms")
    assert [r["booking_num"] for r in upgraded.due_deliveries(NOW + timedelta(minutes=1), 9)] == [
        NUM
    ]
    assert [r["booking_num"] for r in upgraded.sent_on("2026-12-01")] == [NUM]
