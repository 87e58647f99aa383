"""The store contract: the seed's examples and rules, plus exactly-once claims.

Every test runs against each backend (moto, moto_server and dynalite over
HTTP, SQLite, and the unit tests' in-memory fake), so the embedded default and
AWS behave the same, and what the unit tests prove with the fake holds for both.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from naver_sms.domain.booking import KST, BookingValidationError
from naver_sms.domain.session import SessionValidationError
from tests.conftest import Backend

NUM = "1051707_12345"
PHONE = "010-1234-5678"
NOW = datetime(2025, 10, 20, 9, 0, tzinfo=KST)


def seed_booking(**overrides: Any) -> dict[str, Any]:
    """The seed's "Create a Booking" example."""
    data: dict[str, Any] = {
        "booking_num": NUM,
        "phone": PHONE,
        "name": "Kim Soo",
        "booking_time": "2025-10-20 14:30:00",
        "confirm_sms": False,
        "remind_sms": False,
        "option_sms": False,
        "option_time": "",
    }
    data.update(overrides)
    return data


# -- the seed's usage examples ------------------------------------------------------------


def test_get_booking_gives_none_when_there_is_no_record(backend: Backend) -> None:
    assert backend.repository.get_booking(NUM, PHONE) is None


def test_a_created_booking_reads_back_exactly_as_written(backend: Backend) -> None:
    assert backend.repository.create_booking(seed_booking()) is True

    booking = backend.repository.get_booking(NUM, PHONE)

    assert booking == seed_booking()
    assert booking["name"] == "Kim Soo"
    assert booking["confirm_sms"] is False


def test_create_booking_never_overwrites_an_existing_record(backend: Backend) -> None:
    backend.repository.create_booking(seed_booking())
    backend.repository.update_flag(NUM, PHONE, "confirm_sms", True)

    again = backend.repository.create_booking(seed_booking(name="Someone Else"))

    assert again is False
    stored = backend.repository.get_booking(NUM, PHONE)
    assert stored is not None
    assert (stored["name"], stored["confirm_sms"]) == ("Kim Soo", True)


def test_update_flag_sets_one_flag_and_leaves_the_others(backend: Backend) -> None:
    backend.repository.create_booking(seed_booking())

    assert backend.repository.update_flag(NUM, PHONE, "confirm_sms", True) is True

    stored = backend.repository.get_booking(NUM, PHONE)
    assert stored is not None
    assert (stored["confirm_sms"], stored["remind_sms"], stored["option_sms"]) == (
        True,
        False,
        False,
    )
    assert backend.repository.update_flag(NUM, PHONE, "confirm_sms", False) is True
    assert backend.repository.get_booking(NUM, PHONE)["confirm_sms"] is False  # type: ignore[index]


def test_update_flag_of_a_missing_record_is_false_and_creates_nothing(backend: Backend) -> None:
    assert backend.repository.update_flag(NUM, PHONE, "remind_sms", True) is False
    assert backend.repository.get_booking(NUM, PHONE) is None


def test_update_flag_refuses_a_name_that_is_no_messages_flag(backend: Backend) -> None:
    # The seed's three and a configured message's NAME_sms are flags; a core field,
    # a flag's companion attribute or a free word is not.
    backend.repository.create_booking(seed_booking())
    for name in ("booking_time", "confirm_sms_at", "review"):
        with pytest.raises(BookingValidationError, match="flag"):
            backend.repository.update_flag(NUM, PHONE, name, True)


def test_flags_default_to_false_when_a_booking_omits_them(backend: Backend) -> None:
    data = seed_booking()
    for flag in ("confirm_sms", "remind_sms", "option_sms", "option_time"):
        del data[flag]
    backend.repository.create_booking(data)

    assert backend.repository.get_booking(NUM, PHONE) == seed_booking()


def test_a_legacy_phone_without_hyphens_is_normalised_on_write_and_read(backend: Backend) -> None:
    backend.repository.create_booking(seed_booking(phone="01012345678"))

    assert backend.repository.get_booking(NUM, "010-1234-5678")["phone"] == PHONE  # type: ignore[index]
    assert backend.repository.get_booking(NUM, "+82 10-1234-5678") is not None


def test_extra_fields_stay_top_level_and_none_is_never_written(backend: Backend) -> None:
    extras = {
        "customer_id": "c-42",
        "visit_count": 3,
        "booking_amount": 55000.5,
        "options": ["네이버 리뷰", "원본"],
        "snapshot": {"item": "스튜디오 A", "count": 2},
        "vip": True,
        "coupon": None,
    }
    backend.repository.create_booking(seed_booking(**extras))

    stored = backend.repository.get_booking(NUM, PHONE)

    assert stored is not None
    assert "coupon" not in stored
    del extras["coupon"]
    assert {key: stored[key] for key in extras} == extras
    assert type(stored["visit_count"]) is int


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("booking_num", "abc_12345"),
        ("booking_num", "1051707-12345"),
        ("phone", "02-123-4567"),
        ("phone", "010-1234-567"),
        ("booking_time", "2025-10-20T14:30:00"),
        ("booking_time", "2025-13-01 10:00:00"),
        ("confirm_sms", "false"),
        ("option_time", "tomorrow"),
        ("name", ""),
    ],
)
def test_an_invalid_booking_is_refused_with_the_field_named_and_nothing_written(
    backend: Backend, field: str, value: str
) -> None:
    with pytest.raises(BookingValidationError, match=field):
        backend.repository.create_booking(seed_booking(**{field: value}))

    assert backend.repository.get_bookings([(NUM, PHONE)]) == {}


def test_scan_unnotified_options_gives_each_store_its_window_in_utc(backend: Backend) -> None:
    store = backend.repository
    store.create_booking(seed_booking(booking_time="2025-10-20 14:30:00"))
    store.create_booking(seed_booking(booking_num="1051707_2", booking_time="2025-10-21 08:00:00"))
    store.create_booking(seed_booking(booking_num="1051707_3", booking_time="2025-10-25 10:00:00"))
    store.update_flag("1051707_3", PHONE, "option_sms", True)
    store.create_booking(seed_booking(booking_num="2000001_1", booking_time="2025-11-01 00:30:00"))

    windows = store.scan_unnotified_options()

    # KST is UTC+9: 14:30 KST is 05:30Z, and 00:30 KST on Nov 1 is still Oct 31 in UTC.
    assert windows == {
        "1051707": {
            "start_time": "2025-10-20T05:30:00.000Z",
            "end_time": "2025-10-20T23:00:00.000Z",
        },
        "2000001": {
            "start_time": "2025-10-31T15:30:00.000Z",
            "end_time": "2025-10-31T15:30:00.000Z",
        },
    }


def test_scan_unnotified_options_reads_every_page_of_more_than_a_megabyte(
    backend: Backend,
) -> None:
    padding = "x" * 4000  # ~4 KB a record: 300 records are well over the 1 MB page limit
    stores = [str(3000000 + index) for index in range(6)]
    records = [
        seed_booking(
            booking_num=f"{stores[index % 6]}_{index}",
            booking_time=f"2025-10-{1 + (index // 6) % 28:02d} 10:00:00",
            padding=padding,
        )
        for index in range(300)
    ]
    _bulk_load(backend, records)
    scans = _count_calls(backend, "Scan")

    windows = backend.repository.scan_unnotified_options()

    assert sorted(windows) == stores
    assert windows[stores[0]] == {
        "start_time": "2025-10-01T01:00:00.000Z",
        "end_time": "2025-10-28T01:00:00.000Z",
    }
    if backend.client is not None:
        assert scans() >= 2, "a 1.2 MB table must take more than one Scan page"


def test_get_bookings_reads_many_records_in_batches_and_leaves_out_missing_ones(
    backend: Backend,
) -> None:
    records = [seed_booking(booking_num=f"4000001_{index}") for index in range(250)]
    _bulk_load(backend, records)
    keys = [(record["booking_num"], "01012345678") for record in records]
    keys += keys[:10]  # duplicates are tolerated
    keys.append(("4000001_999999", PHONE))
    batches = _count_calls(backend, "BatchGetItem")

    found = backend.repository.get_bookings(keys)

    assert len(found) == 250
    assert found[("4000001_7", PHONE)]["booking_num"] == "4000001_7"
    assert ("4000001_999999", PHONE) not in found
    if backend.client is not None:
        assert batches() == 3, "250 distinct keys are 3 requests of at most 100"


def test_a_rescheduled_booking_gets_its_new_time_and_its_reminder_back(backend: Backend) -> None:
    store = backend.repository
    store.create_booking(seed_booking())
    store.claim(NUM, PHONE, "remind_sms", "cycle-1", NOW)
    store.mark_sent(NUM, PHONE, "remind_sms", "cycle-1", "req-1", NOW)
    store.update_flag(NUM, PHONE, "confirm_sms", True)

    assert store.reschedule(NUM, "01012345678", "2025-10-22 11:00:00") is True

    stored = store.get_booking(NUM, PHONE)
    assert stored is not None
    assert stored["booking_time"] == "2025-10-22 11:00:00"
    assert (stored["confirm_sms"], stored["remind_sms"]) == (True, False)
    assert store.claim(NUM, PHONE, "remind_sms", "cycle-2", NOW)


def test_rescheduling_drops_a_reminder_claim_taken_for_the_old_time(backend: Backend) -> None:
    store = backend.repository
    store.create_booking(seed_booking())
    store.claim(NUM, PHONE, "remind_sms", "in-flight", NOW)

    store.reschedule(NUM, PHONE, "2025-10-22 11:00:00")

    assert not store.mark_sent(NUM, PHONE, "remind_sms", "in-flight", "req-old", NOW)
    assert store.claim(NUM, PHONE, "remind_sms", "cycle-2", NOW)


def test_rescheduling_to_the_same_time_or_a_missing_record_changes_nothing(
    backend: Backend,
) -> None:
    store = backend.repository
    store.create_booking(seed_booking(remind_sms=True))

    assert store.reschedule(NUM, PHONE, "2025-10-20 14:30:00") is False
    assert store.get_booking(NUM, PHONE)["remind_sms"] is True  # type: ignore[index]
    assert store.reschedule("1051707_999", PHONE, "2025-10-22 11:00:00") is False
    assert store.get_booking("1051707_999", PHONE) is None
    with pytest.raises(BookingValidationError, match="booking_time"):
        store.reschedule(NUM, PHONE, "22 Oct 11:00")


def test_list_bookings_filters_by_store_and_day_in_visit_order(backend: Backend) -> None:
    store = backend.repository
    store.create_booking(seed_booking(booking_num="5000001_3", booking_time="2025-10-21 09:00:00"))
    store.create_booking(seed_booking(booking_num="5000001_1", booking_time="2025-10-20 18:00:00"))
    store.create_booking(seed_booking(booking_num="5000001_2", booking_time="2025-10-20 10:00:00"))
    store.create_booking(seed_booking(booking_num="50000012_1", booking_time="2025-10-20 11:00:00"))

    def listed(**filters: str) -> list[str]:
        return [record["booking_num"] for record in store.list_bookings(**filters)]

    assert listed() == ["5000001_2", "50000012_1", "5000001_1", "5000001_3"]
    assert listed(biz_id="5000001") == ["5000001_2", "5000001_1", "5000001_3"]
    assert listed(day="2025-10-20") == ["5000001_2", "50000012_1", "5000001_1"]
    assert listed(biz_id="5000001", day="2025-10-21") == ["5000001_3"]
    assert store.list_bookings(day="2025-10-20")[0]["confirm_sms"] is False
    with pytest.raises(BookingValidationError, match="date"):
        store.list_bookings(day="20/10/2025")


# -- session ------------------------------------------------------------------------------

COOKIES = json.dumps(
    [
        {
            "name": "NID_AUT",
            "value": "abc123",
            "domain": ".naver.com",
            "path": "/",
            "httpOnly": True,
        },
        {
            "name": "NID_SES",
            "value": "def456",
            "domain": ".naver.com",
            "path": "/",
            "httpOnly": True,
        },
    ]
)


def test_no_stored_session_is_none(backend: Backend) -> None:
    assert backend.session_repository.get_session() is None


def test_a_saved_session_gives_back_its_cookie_dicts(backend: Backend) -> None:
    assert backend.session_repository.save_session(COOKIES) is True

    session = backend.session_repository.get_session()

    assert session is not None
    assert [cookie["name"] for cookie in session.get_cookies_list()] == ["NID_AUT", "NID_SES"]
    assert session.get_cookies_list()[0]["httpOnly"] is True


def test_saving_a_session_replaces_the_old_one_without_merging(backend: Backend) -> None:
    backend.session_repository.save_session(COOKIES)
    backend.session_repository.save_session(json.dumps([{"name": "NID_AUT", "value": "token123"}]))

    session = backend.session_repository.get_session()

    assert session is not None
    assert session.get_cookies_list() == [{"name": "NID_AUT", "value": "token123"}]


def test_a_deleted_session_is_gone(backend: Backend) -> None:
    backend.session_repository.save_session(COOKIES)

    assert backend.session_repository.delete_session() is True
    assert backend.session_repository.get_session() is None
    assert backend.session_repository.delete_session() is True


@pytest.mark.parametrize("cookies", ["not json", '{"name": "NID_AUT"}', "[1, 2]"])
def test_invalid_cookies_are_refused_and_the_stored_session_is_kept(
    backend: Backend, cookies: str
) -> None:
    backend.session_repository.save_session(COOKIES)

    with pytest.raises(SessionValidationError):
        backend.session_repository.save_session(cookies)

    assert backend.session_repository.get_session().cookies == COOKIES  # type: ignore[union-attr]


# -- exactly once -------------------------------------------------------------------------


def test_only_one_of_eight_threads_racing_for_a_claim_wins(backend: Backend) -> None:
    backend.repository.create_booking(seed_booking())
    stores = [backend.reopen() for _ in range(8)]
    barrier = threading.Barrier(8)
    results: dict[str, bool] = {}

    def race(index: int) -> None:
        barrier.wait()
        results[f"cycle-{index}"] = stores[index].claim(
            NUM, PHONE, "confirm_sms", f"cycle-{index}", NOW
        )

    threads = [threading.Thread(target=race, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [owner for owner, won in results.items() if won]
    assert len(results) == 8
    assert len(winners) == 1
    assert backend.repository.get_booking(NUM, PHONE)["confirm_sms_claim"] == winners[0]  # type: ignore[index]


def test_a_live_claim_blocks_others_until_its_lease_expires(backend: Backend) -> None:
    backend.repository.create_booking(seed_booking())
    lease = timedelta(minutes=10)
    assert backend.repository.claim(NUM, PHONE, "remind_sms", "dead-cycle", NOW, lease)

    assert not backend.repository.claim(
        NUM, PHONE, "remind_sms", "next", NOW + lease - timedelta(seconds=1)
    )
    assert backend.repository.claim(NUM, PHONE, "remind_sms", "next", NOW + lease)
    assert backend.repository.get_booking(NUM, PHONE)["remind_sms_claim"] == "next"  # type: ignore[index]


def test_claims_on_different_flags_do_not_block_each_other(backend: Backend) -> None:
    backend.repository.create_booking(seed_booking())

    assert backend.repository.claim(NUM, PHONE, "confirm_sms", "a", NOW)
    assert backend.repository.claim(NUM, PHONE, "remind_sms", "b", NOW)


def test_mark_sent_sets_the_flag_records_the_request_and_removes_the_claim(
    backend: Backend,
) -> None:
    backend.repository.create_booking(seed_booking())
    backend.repository.claim(NUM, PHONE, "confirm_sms", "cycle-1", NOW)

    assert backend.repository.mark_sent(NUM, PHONE, "confirm_sms", "cycle-1", "req-1", NOW)

    stored = backend.repository.get_booking(NUM, PHONE)
    assert stored is not None
    assert stored["confirm_sms"] is True
    assert stored["confirm_sms_request_id"] == "req-1"
    assert stored["confirm_sms_at"] == "2025-10-20T09:00:00+09:00"
    assert "confirm_sms_claim" not in stored
    assert "confirm_sms_claim_until" not in stored


def test_the_sent_time_is_kept_in_seoul_time_to_the_second_whatever_zone_now_is(
    backend: Backend,
) -> None:
    # The owner reads this time; a UTC `now` (Lambda's clock) must not change its shape.
    backend.repository.create_booking(seed_booking())
    backend.repository.claim(NUM, PHONE, "remind_sms", "cycle-1", NOW)
    utc_now = datetime(2025, 10, 20, 0, 0, 5, 123456, tzinfo=UTC)

    assert backend.repository.mark_sent(NUM, PHONE, "remind_sms", "cycle-1", "req-1", utc_now)

    stored = backend.repository.get_booking(NUM, PHONE)
    assert stored is not None
    assert stored["remind_sms_at"] == "2025-10-20T09:00:05+09:00"


def test_a_sent_message_cannot_be_claimed_again_even_after_the_lease(backend: Backend) -> None:
    backend.repository.create_booking(seed_booking())
    backend.repository.claim(NUM, PHONE, "confirm_sms", "cycle-1", NOW)
    backend.repository.mark_sent(NUM, PHONE, "confirm_sms", "cycle-1", "req-1", NOW)

    assert not backend.repository.claim(
        NUM, PHONE, "confirm_sms", "cycle-2", NOW + timedelta(days=1)
    )


def test_mark_sent_by_a_non_owner_is_refused_and_changes_nothing(backend: Backend) -> None:
    backend.repository.create_booking(seed_booking())
    backend.repository.claim(NUM, PHONE, "confirm_sms", "owner", NOW)

    assert not backend.repository.mark_sent(NUM, PHONE, "confirm_sms", "intruder", "req-x", NOW)

    stored = backend.repository.get_booking(NUM, PHONE)
    assert stored is not None
    assert stored["confirm_sms"] is False
    assert stored["confirm_sms_claim"] == "owner"
    assert "confirm_sms_request_id" not in stored


def test_mark_sent_repeated_with_the_same_request_is_still_true(backend: Backend) -> None:
    # What a retried write sees when its first attempt was applied but unanswered.
    backend.repository.create_booking(seed_booking())
    backend.repository.claim(NUM, PHONE, "confirm_sms", "owner", NOW)
    backend.repository.mark_sent(NUM, PHONE, "confirm_sms", "owner", "req-1", NOW)

    assert backend.repository.mark_sent(NUM, PHONE, "confirm_sms", "owner", "req-1", NOW)
    assert not backend.repository.mark_sent(NUM, PHONE, "confirm_sms", "owner", "req-2", NOW)


def test_a_released_claim_lets_the_next_cycle_send(backend: Backend) -> None:
    backend.repository.create_booking(seed_booking())
    backend.repository.claim(NUM, PHONE, "option_sms", "failed-send", NOW)

    assert backend.repository.release(NUM, PHONE, "option_sms", "failed-send")

    stored = backend.repository.get_booking(NUM, PHONE)
    assert stored is not None
    assert stored["option_sms"] is False
    assert "option_sms_claim" not in stored
    assert backend.repository.claim(NUM, PHONE, "option_sms", "next-cycle", NOW)


def test_release_by_a_non_owner_is_refused(backend: Backend) -> None:
    backend.repository.create_booking(seed_booking())
    backend.repository.claim(NUM, PHONE, "option_sms", "owner", NOW)

    assert not backend.repository.release(NUM, PHONE, "option_sms", "intruder")
    assert not backend.repository.claim(NUM, PHONE, "option_sms", "intruder", NOW)


def test_an_unclear_send_keeps_its_claim_and_records_the_window(backend: Backend) -> None:
    backend.repository.create_booking(seed_booking())
    backend.repository.claim(NUM, PHONE, "confirm_sms", "cycle-a", NOW)

    assert backend.repository.mark_unclear(NUM, PHONE, "confirm_sms", "cycle-a", "1000-2000")
    assert backend.repository.mark_unclear(NUM, PHONE, "confirm_sms", "cycle-a", "1000-2000")

    stored = backend.repository.get_booking(NUM, PHONE)
    assert stored is not None
    assert stored["confirm_sms"] is False
    assert stored["confirm_sms_unclear"] == "1000-2000"
    assert stored["confirm_sms_claim"] == "cycle-a"  # still held: no other cycle sends now
    assert not backend.repository.claim(NUM, PHONE, "confirm_sms", "cycle-b", NOW)
    # After the lease another cycle may claim it (and must ask the provider first).
    assert backend.repository.claim(
        NUM, PHONE, "confirm_sms", "cycle-b", NOW + timedelta(minutes=11)
    )
    assert backend.repository.get_booking(NUM, PHONE)["confirm_sms_unclear"] == "1000-2000"  # type: ignore[index]


def test_rescheduling_forgets_a_lost_answer_of_the_old_times_reminder(backend: Backend) -> None:
    # Otherwise the new time's reminder is matched to the old one SENS accepted
    # and recorded as sent: the customer never gets a reminder for the new time.
    backend.repository.create_booking(seed_booking())
    backend.repository.claim(NUM, PHONE, "remind_sms", "cycle-1", NOW)
    backend.repository.mark_unclear(
        NUM, PHONE, "remind_sms", "cycle-1", "1761000000000-1761000001000"
    )

    assert backend.repository.reschedule(NUM, PHONE, "2025-10-22 11:00:00")

    stored = backend.repository.get_booking(NUM, PHONE)
    assert stored is not None
    assert "remind_sms_unclear" not in stored


def test_an_unclear_mark_by_a_non_owner_is_refused(backend: Backend) -> None:
    backend.repository.create_booking(seed_booking())
    backend.repository.claim(NUM, PHONE, "confirm_sms", "owner", NOW)

    assert not backend.repository.mark_unclear(NUM, PHONE, "confirm_sms", "intruder", "1-2")
    stored = backend.repository.get_booking(NUM, PHONE)
    assert stored is not None
    assert "confirm_sms_unclear" not in stored


def test_a_booking_with_no_record_cannot_be_claimed(backend: Backend) -> None:
    assert not backend.repository.claim(NUM, PHONE, "confirm_sms", "cycle", NOW)
    assert backend.repository.get_booking(NUM, PHONE) is None


# -- logs ---------------------------------------------------------------------------------


def test_every_store_operation_logs_one_seed_shaped_json_line_with_the_phone_masked(
    backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    store = backend.repository
    store.create_booking(seed_booking(phone="01000005432"))
    store.get_booking(NUM, "01000005432")
    store.claim(NUM, "01000005432", "confirm_sms", "cycle", NOW)
    store.mark_sent(NUM, "01000005432", "confirm_sms", "cycle", "req", NOW)
    backend.session_repository.save_session(COOKIES)

    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.err.splitlines() if line.startswith("{")]
    ours = [
        line
        for line in lines
        if line.get("operation")
        in {"create_booking", "get_booking", "claim", "mark_sent", "save_session"}
    ]

    assert [line["operation"] for line in ours] == [
        "create_booking",
        "get_booking",
        "claim",
        "mark_sent",
        "save_session",
    ]
    for line in ours:
        assert set(line) <= {
            "timestamp",
            "level",
            "message",
            "operation",
            "context",
            "duration_ms",
            "error",
        }
        assert line["timestamp"].endswith("Z")
        assert line["level"] == "INFO"
        assert line["duration_ms"] >= 0
    assert ours[0]["context"]["phone_masked"] == "010-****-5432"
    everything = captured.out + captured.err
    for secret in ("01000005432", "0000-5432", "abc123", "def456"):
        assert secret not in everything


# -- helpers ------------------------------------------------------------------------------


def _bulk_load(backend: Backend, records: list[dict[str, Any]]) -> None:
    """Test setup: many records fast (BatchWriteItem on DynamoDB)."""
    if backend.client is None:
        for record in records:
            assert backend.repository.create_booking(record)
        return
    from naver_sms.database.dynamodb_client import _serialize  # noqa: PLC0415

    table = backend.repository.table_name  # type: ignore[attr-defined]
    for start in range(0, len(records), 25):
        request = {
            table: [
                {"PutRequest": {"Item": _serialize(record)}}
                for record in records[start : start + 25]
            ]
        }
        while request:
            request = (
                backend.client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            )


def _count_calls(backend: Backend, operation: str) -> Any:
    """A function giving how many `operation` requests the store has made since now."""
    calls = [0]
    if backend.client is not None:

        def count(**_: Any) -> None:
            calls[0] += 1

        backend.client.meta.events.register(f"before-call.dynamodb.{operation}", count)
    return lambda: calls[0]
