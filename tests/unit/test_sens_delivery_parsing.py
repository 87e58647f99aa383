"""How `SensSender` reads SENS's delivery lookups, odd answers included, through httpx's
MockTransport (answers a loopback fake would never give)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from naver_sms.domain.delivery import DeliveryResult, DeliveryStatus
from naver_sms.messaging.base import SendFailed
from naver_sms.messaging.sens import SensSender, read_delivery, sens_signature

ACCESS = "unit-delivery-access-5512"
SECRET = "unit-delivery-secret-7781"
SERVICE = "ncp:sms:kr:000000000000:unit"

Handler = Callable[[httpx.Request], httpx.Response]


def sender_answering(handler: Handler, *, timeout: float = 10.0) -> SensSender:
    return SensSender(
        access_key=ACCESS,
        secret_key=SECRET,
        service_id=SERVICE,
        base_url="https://sens.invalid",
        client=httpx.Client(transport=httpx.MockTransport(handler)),
        timeout=timeout,
    )


def answering(status: int, body: Any = None, *, raw: bytes | None = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if raw is not None:
            return httpx.Response(status, content=raw)
        return httpx.Response(status, json=body)

    return handler


def result_of(entry: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": "202", "statusName": "success", "messages": [entry]}


def completed(code: str | int = "0", **more: Any) -> dict[str, Any]:
    return {
        "messageId": "m-1",
        "status": "COMPLETED",
        "statusCode": code,
        "statusName": "success" if str(code) == "0" else "fail",
        "telcoCode": "SKT",
        "completeTime": "2026-12-01 10:00:03",
        **more,
    }


# --- what SENS's words become ----------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (completed(), DeliveryResult(DeliveryStatus.DELIVERED, "delivered (SKT, 10:00:03)")),
        (
            completed("3018", statusMessage="결번", telcoCode="KTF"),
            DeliveryResult(DeliveryStatus.FAILED, "failed: 3018 결번 (KT)"),
        ),
        (
            completed("3018", statusName="수신 거부", telcoCode="LGT"),
            DeliveryResult(DeliveryStatus.FAILED, "failed: 3018 수신 거부 (LG U+)"),
        ),
        (
            completed("3018", telcoCode=None, completeTime=None),
            DeliveryResult(DeliveryStatus.FAILED, "failed: 3018"),
        ),
        (
            completed(0, completeTime="2026-12-01T10:00:03.120"),
            DeliveryResult(DeliveryStatus.DELIVERED, "delivered (SKT, 10:00:03)"),
        ),
        (
            completed(telcoCode="", completeTime="soon"),
            DeliveryResult(DeliveryStatus.DELIVERED, "delivered"),
        ),
        ({"status": "READY"}, DeliveryResult(DeliveryStatus.ACCEPTED, "waiting")),
        (
            {"status": "processing", "statusName": "processing"},
            DeliveryResult(DeliveryStatus.ACCEPTED, "processing"),
        ),
        (
            {"status": "PROCESSING", "statusMessage": "통신사 처리 중"},
            DeliveryResult(DeliveryStatus.ACCEPTED, "processing (통신사 처리 중)"),
        ),
    ],
)
def test_sens_words_become_a_status_and_a_short_result_for_the_owner(
    entry: dict[str, Any], expected: DeliveryResult
) -> None:
    assert read_delivery(entry) == expected


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ({}, "no status"),
        ({"status": ""}, "no status"),
        ({"status": ["COMPLETED"]}, "no status"),
        ({"status": "SENT"}, "'SENT' is none of"),
        ({"status": "COMPLETED"}, "without a statusCode"),
        ({"status": "COMPLETED", "statusCode": True}, "without a statusCode"),
        ({"status": "COMPLETED", "statusCode": " "}, "without a statusCode"),
    ],
)
def test_a_result_that_is_not_the_documented_one_is_refused_naming_what_is_wrong(
    entry: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        read_delivery(entry)


def test_long_provider_words_are_cut_to_one_short_line_without_the_number_they_echo() -> None:
    words = "수신번호 01000001234 는\n" + "처리할 수 없는 번호입니다 " * 20

    result = read_delivery(completed("3018", statusMessage=words)).result

    assert "\n" not in result
    assert len(result) < 120
    assert "010-****-1234" in result
    assert "0000" not in result


# --- the lookups over HTTP ----------------------------------------------------------


def test_message_ids_are_keyed_by_the_recipients_stored_form_in_sens_order() -> None:
    body = {
        "requestId": "r-1",
        "statusCode": "202",
        "statusName": "success",
        "messages": [
            {"messageId": "m-1", "to": "01000000001", "requestTime": "2026-12-01 10:00:00"},
            {"messageId": "m-2", "to": "+82 10-0000-0002"},
            {"messageId": "m-3", "to": "01000000001"},
            {"messageId": "m-9", "to": "01000000009", "requestId": "another-request"},
        ],
    }

    ids = sender_answering(answering(200, body)).message_ids("r-1")

    assert ids == {"010-0000-0001": ["m-1", "m-3"], "010-0000-0002": ["m-2"]}


@pytest.mark.parametrize(
    ("status", "body", "raw", "named"),
    [
        (200, None, b"<html><body>gateway</body></html>", "an HTML page"),
        (200, None, b"", "an empty body"),
        (200, None, b"requestId=r-1", "a body that is not JSON"),
        (200, [{"messageId": "m-1"}], None, "JSON that is not an object"),
        (200, {"messages": "m-1"}, None, "JSON without a messages list"),
        (200, {"messages": ["m-1"]}, None, "messages[0] is not an object"),
        (200, {"messages": [{"to": "01000000001"}]}, None, "messages[0] has no messageId"),
        (200, {"messages": [{"messageId": "m-1"}]}, None, "messages[0] has no `to` number"),
        (401, {"error": {"errorCode": "200", "message": "Authentication Failed"}}, None, "200"),
        (429, {"error": {"errorCode": "429", "message": "Too Many Requests"}}, None, "Too Many"),
        (503, None, b"", "Service Unavailable"),
    ],
)
def test_a_list_that_cannot_be_read_fails_saying_why(
    status: int, body: Any, raw: bytes | None, named: str
) -> None:
    sender = sender_answering(answering(status, body, raw=raw))

    with pytest.raises(SendFailed) as raised:
        sender.message_ids("r-1")

    assert named in raised.value.reason
    assert raised.value.retryable


def test_an_empty_404_is_no_result_yet_but_a_gateway_404_says_what_it_is() -> None:
    gateway = {"error": {"errorCode": "300", "message": "Not Found", "details": "unknown service"}}

    with pytest.raises(SendFailed) as empty:
        sender_answering(answering(404, raw=b"")).delivery("m-1")
    with pytest.raises(SendFailed) as not_found:
        sender_answering(answering(404, gateway)).delivery("m-1")

    assert "no result for this message yet" in empty.value.reason
    assert "unknown service" in not_found.value.reason
    assert "yet" not in not_found.value.reason


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"messages": []}, "holds no message"),
        ({"messages": [completed(messageId="m-2")]}, "no entry for the message asked"),
        ({"messages": [{"messageId": "m-1", "status": "DONE"}]}, "'DONE' is none of"),
    ],
)
def test_a_result_without_the_message_asked_or_unreadable_fails(body: Any, named: str) -> None:
    with pytest.raises(SendFailed) as raised:
        sender_answering(answering(200, body)).delivery("m-1")

    assert named in raised.value.reason


def test_the_entry_of_the_message_asked_is_read_when_sens_lists_more() -> None:
    body = {"messages": [completed("3018", messageId="m-0"), completed(messageId="m-1")]}

    assert sender_answering(answering(200, body)).delivery("m-1").status is DeliveryStatus.DELIVERED


def test_a_result_without_message_ids_is_taken_when_it_is_the_only_one() -> None:
    entry = completed()
    del entry["messageId"]

    result = sender_answering(answering(200, result_of(entry))).delivery("m-1")

    assert result.status is DeliveryStatus.DELIVERED


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow"),
        httpx.ReadTimeout("no answer"),
        httpx.RemoteProtocolError("closed"),
    ],
)
def test_every_transport_fault_on_a_lookup_is_a_plain_failure(exc: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    sender = sender_answering(handler)

    with pytest.raises(SendFailed) as on_ids:
        sender.message_ids("r-1")
    with pytest.raises(SendFailed) as on_result:
        sender.delivery("m-1")

    assert type(exc).__name__ in on_ids.value.reason
    assert type(exc).__name__ in on_result.value.reason


def test_each_lookup_is_signed_over_its_path_and_query_and_the_id_stays_one_segment() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.params.get("requestId"):
            return httpx.Response(200, json={"messages": []})
        return httpx.Response(200, json=result_of(completed(messageId="a/b?c")))

    sender = sender_answering(handler)
    sender.message_ids("r 1")
    sender.delivery("a/b?c")

    paths = [request.url.raw_path.decode() for request in seen]
    assert paths == [
        f"/sms/v2/services/{SERVICE}/messages?requestId=r+1",
        f"/sms/v2/services/{SERVICE}/messages/a%2Fb%3Fc",
    ]
    for request, path in zip(seen, paths, strict=True):
        assert request.method == "GET"
        assert request.headers["x-ncp-apigw-signature-v2"] == sens_signature(
            method="GET",
            path=path,
            timestamp=request.headers["x-ncp-apigw-timestamp"],
            access_key=ACCESS,
            secret_key=SECRET,
        )


@pytest.mark.parametrize(("adapter_timeout", "read"), [(10.0, 3.0), (0.5, 0.5)])
def test_a_lookup_waits_no_longer_than_the_short_lookup_timeout(
    adapter_timeout: float, read: float
) -> None:
    timeouts: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        return httpx.Response(200, json={"messages": []})

    sender_answering(handler, timeout=adapter_timeout).message_ids("r-1")

    assert timeouts[0]["read"] == read
    assert timeouts[0]["connect"] <= 2.0


def test_an_empty_id_is_a_programming_error_not_a_lookup() -> None:
    sender = sender_answering(answering(500, raw=b""))

    with pytest.raises(ValueError, match="needs a request id"):
        sender.message_ids(" ")
    with pytest.raises(ValueError, match="needs a message id"):
        sender.delivery("")


def test_a_failure_text_from_sens_never_carries_the_number_it_echoes() -> None:
    body = {"errorMessage": "수신번호 010-0000-1234 조회 불가"}

    with pytest.raises(SendFailed) as raised:
        sender_answering(answering(500, body)).delivery("m-1")

    assert "0000-1234" not in str(raised.value)
    assert "010-****-1234" in str(raised.value)
