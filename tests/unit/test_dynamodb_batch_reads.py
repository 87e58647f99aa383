"""BatchGetItem: 100 keys a request, unprocessed keys retried with backoff, then given up."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from naver_sms.database import exceptions
from naver_sms.database.dynamodb_client import BookingRepository, make_client

PHONE = "010-1234-5678"


def item(number: int) -> dict[str, Any]:
    return {
        "booking_num": {"S": f"1051707_{number}"},
        "phone": {"S": PHONE},
        "name": {"S": "Kim Soo"},
        "booking_time": {"S": "2025-10-20 14:30:00"},
        "confirm_sms": {"BOOL": False},
        "visit_count": {"N": "2"},
    }


def key(number: int) -> dict[str, Any]:
    return {"booking_num": {"S": f"1051707_{number}"}, "phone": {"S": PHONE}}


@pytest.fixture
def stubbed() -> tuple[BookingRepository, Stubber, list[float]]:
    client = make_client(region_name="ap-northeast-2")
    sleeps: list[float] = []
    repository = BookingRepository("sms", client=client, batch_attempts=3, sleep=sleeps.append)
    return repository, Stubber(client), sleeps


def test_unprocessed_keys_are_asked_for_again_after_a_pause(
    stubbed: tuple[BookingRepository, Stubber, list[float]],
) -> None:
    repository, stubber, sleeps = stubbed
    stubber.add_response(
        "batch_get_item",
        {"Responses": {"sms": [item(1)]}, "UnprocessedKeys": {"sms": {"Keys": [key(2)]}}},
        {"RequestItems": {"sms": {"Keys": [key(1), key(2)]}}},
    )
    stubber.add_response(
        "batch_get_item",
        {"Responses": {"sms": [item(2)]}, "UnprocessedKeys": {}},
        {"RequestItems": {"sms": {"Keys": [key(2)]}}},
    )

    with stubber:
        found = repository.get_bookings([("1051707_1", PHONE), ("1051707_2", "01012345678")])

    stubber.assert_no_pending_responses()
    assert sorted(found) == [("1051707_1", PHONE), ("1051707_2", PHONE)]
    assert found[("1051707_2", PHONE)]["visit_count"] == 2
    assert len(sleeps) == 1


def test_keys_still_unprocessed_after_every_attempt_are_a_throttling_error(
    stubbed: tuple[BookingRepository, Stubber, list[float]],
) -> None:
    repository, stubber, sleeps = stubbed
    for _ in range(3):
        stubber.add_response(
            "batch_get_item",
            {"Responses": {"sms": []}, "UnprocessedKeys": {"sms": {"Keys": [key(1)]}}},
            {"RequestItems": ANY},
        )

    with stubber, pytest.raises(exceptions.ThrottlingError, match="1 keys still unprocessed"):
        repository.get_bookings([("1051707_1", PHONE)])

    assert len(sleeps) == 3
    assert all(0 <= pause <= 2.0 for pause in sleeps), "backoff is capped at 2 s"


def test_two_hundred_fifty_keys_go_out_as_requests_of_at_most_one_hundred(
    stubbed: tuple[BookingRepository, Stubber, list[float]],
) -> None:
    repository, stubber, _ = stubbed
    for _ in range(3):
        stubber.add_response("batch_get_item", {"Responses": {"sms": []}}, {"RequestItems": ANY})
    seen: list[int] = []
    repository.client.meta.events.register(
        "provide-client-params.dynamodb.BatchGetItem",
        lambda params, **_: seen.append(len(params["RequestItems"]["sms"]["Keys"])),
    )

    with stubber:
        assert repository.get_bookings([(f"1051707_{n}", PHONE) for n in range(250)]) == {}

    assert seen == [100, 100, 50]


def test_building_a_repository_does_no_io() -> None:
    repository = BookingRepository("sms", region_name="ap-northeast-2")

    assert repository._client is None
