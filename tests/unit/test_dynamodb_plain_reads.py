"""BatchGetItem answers read as plain JSON: the same records as botocore's parser gives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, cast

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from naver_sms.database import exceptions
from naver_sms.database.dynamodb_client import (
    BookingRepository,
    _deserialize,
    _from_dynamo_value,
    make_client,
)

PHONE = "010-0000-1234"


def record(number: int) -> dict[str, Any]:
    return {
        "booking_num": {"S": f"1051707_{number}"},
        "phone": {"S": PHONE},
        "name": {"S": "김민수"},
        "booking_time": {"S": "2026-11-25 14:30:00"},
        "confirm_sms": {"BOOL": True},
        "remind_sms": {"BOOL": False},
        "visit_count": {"N": "2"},
        "score": {"N": "4.5"},
        "big": {"N": "12345678901234567890123456789012345678"},
        "scientific": {"N": "1E+3"},
        "negative": {"N": "-7"},
        "nothing": {"NULL": True},
        "option_names": {"L": [{"S": "네이버 리뷰"}, {"N": "3"}]},
        "nested": {"M": {"count": {"N": "1.0"}, "ok": {"BOOL": True}}},
    }


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def answering(answer: dict[str, Any], status: int = 200) -> tuple[BookingRepository, list[int]]:
    """A repository whose client gets `answer` off the wire, as DynamoDB would send it."""
    client = make_client(region_name="ap-northeast-2")
    calls: list[int] = []

    def send(request: Any, **_: Any) -> AWSResponse:
        calls.append(1)
        body = json.dumps(answer).encode()
        headers = HTTPHeaders()
        headers["Content-Type"] = "application/x-amz-json-1.0"
        return AWSResponse(request.url, status, headers, _Body(body))

    # The answer stands in for the HTTP send; botocore parses it as it would DynamoDB's.
    client.meta.events.register("before-send.dynamodb.BatchGetItem", cast(Any, send))
    return BookingRepository("sms", client=client, batch_attempts=1), calls


def botocore_reads(item: dict[str, Any]) -> dict[str, Any]:
    """What the repository gave before: TypeDeserializer, then plain numbers."""
    return {k: _from_dynamo_value(TypeDeserializer().deserialize(v)) for k, v in item.items()}


def test_a_record_reads_the_same_as_through_the_type_deserializer() -> None:
    item = {
        **record(1),
        "tags": {"SS": ["a", "b"]},
        "numbers": {"NS": ["1", "2.5"]},
        "blob": {"B": b"\x00\x01"},
        "blobs": {"BS": [b"\x02"]},
    }

    assert _deserialize(item) == botocore_reads(item)
    # Types matter too: a count stays an int, a score a float, never a Decimal.
    read = _deserialize(item)
    assert type(read["visit_count"]) is int
    assert type(read["score"]) is float
    assert type(read["nested"]["count"]) is int  # 1.0 is integral, as before
    assert read["blob"] == Binary(b"\x00\x01")
    assert not any(isinstance(v, Decimal) for v in read.values())


def test_an_unknown_attribute_type_is_refused_as_before() -> None:
    with pytest.raises(TypeError):
        _deserialize({"odd": {"X": "1"}})


def test_records_read_off_the_wire_equal_what_botocore_would_have_parsed() -> None:
    answer = {"Responses": {"sms": [record(1), record(2)]}, "UnprocessedKeys": {}}
    repository, calls = answering(answer)

    found = repository.get_bookings([("1051707_1", PHONE), ("1051707_2", PHONE)])

    assert len(calls) == 1
    assert found[("1051707_1", PHONE)] == botocore_reads(record(1))
    assert found[("1051707_2", PHONE)]["option_names"] == ["네이버 리뷰", 3]


def test_an_answer_with_a_binary_still_has_its_bytes_decoded() -> None:
    # On the wire a binary is base64 text; only botocore's parser makes it bytes again.
    item = {**record(1), "blob": {"B": "AAE="}}
    repository, _calls = answering({"Responses": {"sms": [item]}, "UnprocessedKeys": {}})

    found = repository.get_bookings([("1051707_1", PHONE)])

    assert found[("1051707_1", PHONE)]["blob"] == Binary(b"\x00\x01")


def test_an_error_answer_is_still_an_error() -> None:
    answer = {
        "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
        "message": "Requested resource not found",
    }
    repository, _calls = answering(answer, status=400)

    with pytest.raises(exceptions.RepositoryError, match="does not exist: run `naver-sms create"):
        repository.get_bookings([("1051707_1", PHONE)])


def test_the_handler_is_registered_once_however_many_repositories_share_a_client() -> None:
    answer = {"Responses": {"sms": [record(1)]}, "UnprocessedKeys": {}}
    repository, _calls = answering(answer)
    again = BookingRepository("sms", client=repository.client, batch_attempts=1)

    assert again.get_bookings([("1051707_1", PHONE)]) == {
        ("1051707_1", PHONE): botocore_reads(record(1))
    }
