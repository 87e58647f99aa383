"""DynamoDB errors become the seed's exceptions, over HTTP through a fault proxy.

dynalite sits behind a loopback proxy that throttles, fails with HTTP 500,
denies access, or applies a request and drops its answer.
"""

from __future__ import annotations

import builtins
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest

from naver_sms.database import exceptions
from naver_sms.database.dynamodb_client import (
    BookingRepository,
    SessionRepository,
    create_tables,
    make_client,
)
from tests.conftest import FAST_CONFIG
from tests.fault_proxy import FaultProxy
from tests.servers import free_port

NUM = "1051707_12345"
PHONE = "010-1234-5678"
NOW = datetime.fromisoformat("2025-10-20T09:00:00+09:00")
BOOKING = {
    "booking_num": NUM,
    "phone": PHONE,
    "name": "Kim Soo",
    "booking_time": "2025-10-20 14:30:00",
}


@dataclass
class Faulty:
    proxy: FaultProxy
    bookings: BookingRepository
    sessions: SessionRepository


@pytest.fixture(scope="module")
def proxy(dynalite_url: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(dynalite_url).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def faulty(proxy: FaultProxy, dynalite_url: str) -> Iterator[Faulty]:
    suffix = uuid.uuid4().hex[:8]
    create_tables(
        make_client(endpoint_url=dynalite_url),
        bookings_table=f"sms_{suffix}",
        session_table=f"session_{suffix}",
    )
    client = make_client(endpoint_url=proxy.url, config=FAST_CONFIG)
    yield Faulty(
        proxy,
        BookingRepository(f"sms_{suffix}", client=client),
        SessionRepository(f"session_{suffix}", client=client),
    )
    proxy.clear()


def test_throttling_that_outlasts_the_retries_is_a_throttling_error_naming_the_operation(
    faulty: Faulty,
) -> None:
    faulty.proxy.inject("throttle", times=2)  # FAST_CONFIG makes 2 attempts

    with pytest.raises(exceptions.ThrottlingError, match="get_booking"):
        faulty.bookings.get_booking(NUM, PHONE)


def test_throttling_shorter_than_the_retries_is_absorbed(faulty: Faulty) -> None:
    faulty.proxy.inject("throttle", times=1, target="PutItem")

    assert faulty.bookings.create_booking(BOOKING) is True
    assert faulty.proxy.faults["throttle"] == 1


def test_a_server_error_that_persists_is_a_dynamodb_exception_not_throttling(
    faulty: Faulty,
) -> None:
    faulty.proxy.inject("error500", times=2)

    with pytest.raises(exceptions.DynamoDBException, match="create_booking") as raised:
        faulty.bookings.create_booking(BOOKING)

    assert type(raised.value) is exceptions.DynamoDBException
    assert "HTTP 500" in str(raised.value)


def test_access_denied_is_a_permission_error(faulty: Faulty) -> None:
    faulty.proxy.inject("access_denied")

    with pytest.raises(exceptions.PermissionError, match="IAM"):
        faulty.sessions.get_session()


def test_the_seed_permission_error_is_not_the_builtin_one() -> None:
    assert not issubclass(exceptions.PermissionError, builtins.PermissionError)
    assert issubclass(exceptions.PermissionError, exceptions.DynamoDBException)


def test_a_claim_applied_but_unanswered_is_still_won_by_its_owner(faulty: Faulty) -> None:
    faulty.bookings.create_booking(BOOKING)
    faulty.proxy.inject("drop", target="UpdateItem")

    # The first UpdateItem is applied and its answer dropped; botocore retries,
    # the retry fails its condition, and the consistent read shows our claim.
    assert faulty.bookings.claim(NUM, PHONE, "confirm_sms", "cycle-1", NOW) is True

    assert faulty.proxy.faults["drop"] == 1
    assert faulty.proxy.requests["UpdateItem"] == 2
    assert faulty.bookings.claim(NUM, PHONE, "confirm_sms", "cycle-2", NOW) is False


def test_a_mark_applied_but_unanswered_is_still_reported_as_marked(faulty: Faulty) -> None:
    faulty.bookings.create_booking(BOOKING)
    faulty.bookings.claim(NUM, PHONE, "confirm_sms", "cycle-1", NOW)
    faulty.proxy.inject("drop", target="UpdateItem")

    assert faulty.bookings.mark_sent(NUM, PHONE, "confirm_sms", "cycle-1", "req-1", NOW) is True

    stored = faulty.bookings.get_booking(NUM, PHONE)
    assert stored is not None
    assert (stored["confirm_sms"], stored["confirm_sms_request_id"]) == (True, "req-1")


def test_a_create_applied_but_unanswered_never_overwrites_and_leaves_the_record(
    faulty: Faulty,
) -> None:
    faulty.proxy.inject("drop", target="PutItem")

    faulty.bookings.create_booking(BOOKING)

    stored = faulty.bookings.get_booking(NUM, PHONE)
    assert stored is not None
    assert stored["name"] == "Kim Soo"


def test_a_closed_port_is_a_network_error() -> None:
    client = make_client(endpoint_url=f"http://127.0.0.1:{free_port()}", config=FAST_CONFIG)

    with pytest.raises(exceptions.NetworkError, match="get_booking"):
        BookingRepository("sms", client=client).get_booking(NUM, PHONE)


def test_a_missing_table_is_a_dynamodb_exception_that_says_to_create_it(
    dynalite_url: str,
) -> None:
    client = make_client(endpoint_url=dynalite_url, config=FAST_CONFIG)

    with pytest.raises(exceptions.DynamoDBException, match="create-tables"):
        BookingRepository("no_such_table", client=client).get_booking(NUM, PHONE)


def test_create_tables_twice_is_harmless_and_keeps_the_records(dynalite_url: str) -> None:
    client = make_client(endpoint_url=dynalite_url)
    suffix = uuid.uuid4().hex[:8]
    names = {
        "bookings_table": f"sms_{suffix}",
        "session_table": "session_x",
        "sent_table": f"sms_sent_{suffix}",
    }
    create_tables(client, **names)
    BookingRepository(names["bookings_table"], client=client).create_booking(BOOKING)

    assert create_tables(client, **names) == list(names.values())

    described = client.describe_table(TableName=names["bookings_table"])["Table"]
    assert [(key["AttributeName"], key["KeyType"]) for key in described["KeySchema"]] == [
        ("booking_num", "HASH"),
        ("phone", "RANGE"),
    ]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert BookingRepository(names["bookings_table"], client=client).get_booking(NUM, PHONE)


def test_a_failed_operation_logs_one_error_line_with_the_operation_and_the_error(
    faulty: Faulty, capsys: pytest.CaptureFixture[str]
) -> None:
    faulty.proxy.inject("throttle", times=2)
    capsys.readouterr()

    with pytest.raises(exceptions.ThrottlingError):
        faulty.bookings.update_flag(NUM, "01000006666", "remind_sms", True)

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["operation"] == "update_flag"
    assert "ThrottlingError" in errors[0]["error"]
    assert errors[0]["context"]["phone_masked"] == "010-****-6666"
    assert "01000006666" not in json.dumps(lines)
    assert "0000-6666" not in json.dumps(lines)
