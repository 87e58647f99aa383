"""How the SENS sender reads each outcome, with transport faults httpx raises itself.

The loopback tests (tests/integration/test_sens.py) cover what a fake server
can produce; a connect timeout or a pool timeout cannot be made on loopback
without reaching out, so these use httpx's MockTransport.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from naver_sms.domain.messages import Message, MessageKind
from naver_sms.messaging.base import (
    SenderRefused,
    SendError,
    SendFailed,
    SendRejected,
    SendUnclear,
)
from naver_sms.messaging.sens import SensSender, _Listed, match_accepted, refuses_sender
from naver_sms.utils.scrub import scrub

ACCESS = "unit-access-key-4471"
SECRET = "unit-secret-key-9932"


def sender_answering(handler: Callable[[httpx.Request], httpx.Response]) -> SensSender:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return SensSender(
        access_key=ACCESS,
        secret_key=SECRET,
        service_id="ncp:sms:kr:000000000000:unit",
        base_url="https://sens.invalid",
        client=client,
    )


def raising(exc: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


def one_message() -> Message:
    return Message.build(
        to="010-0000-1234", sender="02-0000-0000", text="예약 확정", kind=MessageKind.CONFIRMATION
    )


def outcome(handler: Callable[[httpx.Request], httpx.Response]) -> SendError | None:
    [result] = sender_answering(handler).send([one_message()])
    return result.error


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ConnectTimeout("connect"), SendFailed),
        (httpx.PoolTimeout("pool"), SendFailed),
        (httpx.ConnectError("refused"), SendFailed),
        (httpx.ReadTimeout("read"), SendUnclear),
        (httpx.WriteTimeout("write"), SendUnclear),
        (httpx.RemoteProtocolError("Server disconnected"), SendUnclear),
        (httpx.ReadError("reset"), SendUnclear),
    ],
)
def test_a_transport_fault_is_failed_only_when_the_request_cannot_have_left(
    exc: Exception, expected: type[SendError]
) -> None:
    error = outcome(raising(exc))

    assert type(error) is expected
    assert error is not None
    assert error.retryable


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(202, json={"requestId": "R1", "statusCode": "202"}), None),
        (httpx.Response(202, json={"requestId": ""}), SendUnclear),
        (httpx.Response(202, json={"requestId": "R1", "statusName": "fail"}), SendUnclear),
        (httpx.Response(200, text="<html><body>portal</body></html>"), SendUnclear),
        (httpx.Response(200, text=""), SendUnclear),
        (httpx.Response(500, json={"errorMessage": "internal"}), SendUnclear),
        (httpx.Response(504, text="Gateway Timeout"), SendUnclear),
        (httpx.Response(429, json={"errorMessage": "too many"}), SendFailed),
        (httpx.Response(400, json={"errorMessage": "content: too long"}), SendRejected),
        (httpx.Response(401, json={"error": {"errorCode": "200"}}), SendRejected),
    ],
)
def test_only_a_well_formed_acceptance_counts_as_sent(
    response: httpx.Response, expected: type[SendError] | None
) -> None:
    error = outcome(lambda request: response)

    assert (type(error) if error is not None else None) is expected


@pytest.mark.parametrize(
    "reason",
    [
        "from: 0299990000 is not a registered sender number",
        "Not registered calling number",
        "발신번호가 등록되지 않았습니다",
        "미등록 발신번호입니다",
        "The sender number has not been registered",
        "unregistered caller id",
    ],
)
def test_the_unregistered_sender_wordings_are_recognised(reason: str) -> None:
    assert refuses_sender(reason)
    error = outcome(lambda request: httpx.Response(400, json={"errorMessage": reason}))
    assert isinstance(error, SenderRefused)
    assert error.sender == "02-0000-0000"


@pytest.mark.parametrize(
    "reason",
    [
        "messages[0].to: invalid recipient number",
        "content: 91 bytes is over the SMS limit of 90",
        "from: expected digits only",
        "signature mismatch",
    ],
)
def test_other_refusals_are_not_taken_for_an_unregistered_sender(reason: str) -> None:
    assert not refuses_sender(reason)


def test_the_keys_are_scrubbed_from_any_text_once_the_sender_exists() -> None:
    access, secret = "fresh-access-key-5150", "fresh-secret-key-6161"
    assert access in scrub(f"bad key {access}")  # nothing registered this value before

    SensSender(access_key=access, secret_key=secret, service_id="ncp:sms:kr:0:unit").close()

    assert scrub(f"gateway said: bad key {access}") == "gateway said: bad key ***"
    assert secret not in scrub(f"echo {secret}")


def _entry(request_id: str, to: str, when: str = "2026-01-01 10:00:00") -> _Listed:
    return _Listed(request_id, f"{request_id}-{to}", when, (to, "0200000000", "SMS", "COMM"))


def test_matching_prefers_the_request_holding_the_whole_lost_batch() -> None:
    keys = [
        ("01000000001", "0200000000", "SMS", "COMM"),
        ("01000000002", "0200000000", "SMS", "COMM"),
    ]
    listed = [
        _entry("YESTERDAY", "01000000001", "2026-01-01 09:00:00"),
        _entry("LOST", "01000000001"),
        _entry("LOST", "01000000002"),
    ]

    assert match_accepted(keys, listed) == ["LOST", "LOST"]


def test_one_listed_message_answers_for_one_of_ours_only() -> None:
    key = ("01000000001", "0200000000", "SMS", "COMM")

    assert match_accepted([key, key], [_entry("R1", "01000000001")]) == ["R1", None]
