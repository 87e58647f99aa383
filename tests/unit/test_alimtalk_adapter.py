"""The AlimTalk adapter's request bodies, its reading of SENS's answers and results, and
the recording fake unit tests use, without a server (httpx.MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from naver_sms.domain.delivery import DeliveryResult, DeliveryStatus
from naver_sms.domain.messages import AlimTalk, AlimTalkButton, Message, MessageKind
from naver_sms.messaging.alimtalk import AlimTalkSender, read_alimtalk_delivery
from naver_sms.messaging.base import SendRejected, SendUnclear
from tests.fakes import RecordingAlimTalkSender

CHANNEL = "@sample-studio"
FIRST, SECOND = "010-0000-0001", "010-0000-0002"


def alimtalk_message(
    to: str, *, failover: bool = True, text: str = "예약이 확정되었습니다."
) -> Message:
    sms = Message.build(
        to=to, sender="02-0000-0000", text=text, kind=MessageKind.CONFIRMATION, subject="예약"
    )
    return replace(
        sms, alimtalk=AlimTalk(CHANNEL, "CONFIRM01", "예약이 확정되었습니다.", (), failover)
    )


def sender_answering(
    answer: Callable[[dict[str, Any]], httpx.Response], seen: list[dict[str, Any]]
) -> AlimTalkSender:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        return answer(body)

    return AlimTalkSender(
        access_key="unit-access",
        secret_key="unit-secret-3b",
        service_id="ncp:kkobizmsg:kr:0:unit",
        base_url="https://sens.example",
        client=httpx.Client(transport=httpx.MockTransport(handler)),
    )


def acceptance(body: dict[str, Any], codes: dict[str, str] | None = None) -> httpx.Response:
    codes = codes or {}
    return httpx.Response(
        202,
        json={
            "requestId": "R1",
            "statusCode": "202",
            "statusName": "success",
            "messages": [
                {
                    "messageId": f"M{i}",
                    "to": m["to"],
                    "requestStatusCode": codes.get(m["to"], "A000"),
                }
                for i, m in enumerate(body["messages"])
            ],
        },
    )


def test_the_body_carries_the_template_buttons_as_approved_and_the_messages_own_failover() -> None:
    seen: list[dict[str, Any]] = []
    sender = sender_answering(acceptance, seen)
    long_text = "예약이 확정되었습니다. " + "주차는 건물 뒤편을 이용해 주세요. " * 4
    button = AlimTalkButton("DS", "배송 조회")
    with_button = replace(
        alimtalk_message(FIRST, text=long_text),
        alimtalk=AlimTalk(CHANNEL, "CONFIRM01", "예약이 확정되었습니다.", (button,)),
    )

    sender.send([with_button, alimtalk_message(SECOND, failover=False)])

    [body] = seen
    assert (body["plusFriendId"], body["templateCode"]) == (CHANNEL, "CONFIRM01")
    first, second = body["messages"]
    assert first["to"] == "01000000001"
    assert first["buttons"] == [{"type": "DS", "name": "배송 조회"}]
    assert first["useSmsFailover"] is True
    assert first["failoverConfig"] == {
        "type": "LMS",
        "from": "0200000000",
        "subject": "예약",
        "content": with_button.text,
    }
    assert second["useSmsFailover"] is False
    assert "failoverConfig" not in second
    assert "buttons" not in second


def test_answers_out_of_order_are_matched_by_recipient() -> None:
    def reversed_answer(body: dict[str, Any]) -> httpx.Response:
        answer = acceptance(body, {"01000000001": "3016"})
        data = answer.json()
        data["messages"].reverse()
        return httpx.Response(202, json=data)

    sender = sender_answering(reversed_answer, [])

    first, second = sender.send([alimtalk_message(FIRST), alimtalk_message(SECOND)])

    assert isinstance(first.error, SendRejected)
    assert second.request_id == "R1"


def test_a_message_the_answer_says_nothing_of_is_unclear_not_lost() -> None:
    def partial(body: dict[str, Any]) -> httpx.Response:
        data = acceptance(body).json()
        data["messages"] = data["messages"][:1]
        return httpx.Response(202, json=data)

    first, second = sender_answering(partial, []).send(
        [alimtalk_message(FIRST), alimtalk_message(SECOND)]
    )

    assert first.ok
    assert isinstance(second.error, SendUnclear)


def test_a_2xx_that_is_not_an_acceptance_is_unclear() -> None:
    failed = sender_answering(lambda body: httpx.Response(200, json={"statusName": "fail"}), [])

    [result] = failed.send([alimtalk_message(FIRST)])

    assert isinstance(result.error, SendUnclear)


@pytest.mark.parametrize(
    ("entry", "status", "words"),
    [
        (
            {"messageStatusCode": "0000", "completeTime": "2026-05-02 14:00:03"},
            DeliveryStatus.DELIVERED,
            "delivered (AlimTalk, 14:00:03)",
        ),
        ({"messageStatusName": "processing"}, DeliveryStatus.ACCEPTED, "processing (AlimTalk)"),
        (
            {"requestStatusCode": "3016", "requestStatusDesc": "template mismatch"},
            DeliveryStatus.FAILED,
            "failed: AlimTalk refused 3016 template mismatch",
        ),
        (
            {
                "messageStatusCode": "3019",
                "messageStatusDesc": "톡 유저 아님",
                "useSmsFailover": True,
            },
            DeliveryStatus.ACCEPTED,
            "SMS failover awaited (AlimTalk 3019: 톡 유저 아님)",
        ),
        (
            {"messageStatusCode": "3019", "failoverInfo": {"type": "LMS", "resultCode": "0"}},
            DeliveryStatus.DELIVERED,
            "delivered by LMS failover (AlimTalk 3019)",
        ),
        (
            {
                "messageStatusCode": "3020",
                "messageStatusName": "fail",
                "failoverInfo": {"type": "SMS", "resultCode": "3018", "resultMessage": "결번"},
            },
            DeliveryStatus.FAILED,
            "failed: AlimTalk 3020; SMS failover failed: 3018 결번",
        ),
        (
            {"messageStatusCode": "3019", "failoverInfo": {"type": "SMS", "status": "PROCESSING"}},
            DeliveryStatus.ACCEPTED,
            "SMS failover processing (AlimTalk 3019)",
        ),
    ],
)
def test_each_result_reads_as_the_owner_should_see_it(
    entry: dict[str, Any], status: DeliveryStatus, words: str
) -> None:
    assert read_alimtalk_delivery(entry) == DeliveryResult(status, words)


def test_an_alimtalk_never_answers_for_the_080_list() -> None:
    assert sender_answering(acceptance, []).opted_out() == {}


# --- the recording fake ------------------------------------------------------------------


def test_the_fake_refuses_a_message_off_its_template_alone_and_sends_the_rest() -> None:
    fake = RecordingAlimTalkSender()
    fake.approve_template(CHANNEL, "CONFIRM01", "#{name}님, 예약이 확정되었습니다.")
    good = replace(
        alimtalk_message(FIRST),
        alimtalk=AlimTalk(CHANNEL, "CONFIRM01", "김하늘님, 예약이 확정되었습니다."),
    )

    refused, sent = fake.send([alimtalk_message(SECOND), good])

    assert isinstance(refused.error, SendRejected)
    assert "3016" in refused.error.reason
    assert sent.ok
    assert fake.messages == [good]
    assert fake.refused == [refused.message]


def test_the_fake_sends_the_failover_of_a_customer_without_kakaotalk() -> None:
    fake = RecordingAlimTalkSender()
    fake.no_kakao(SECOND)

    results = fake.send([alimtalk_message(FIRST), alimtalk_message(SECOND)])
    ids = fake.message_ids(results[1].request_id or "")

    assert [m.to for m in fake.failovers] == [SECOND]
    [second_id] = ids[SECOND]
    assert fake.delivery(second_id) == DeliveryResult(
        DeliveryStatus.DELIVERED, "delivered by SMS failover (AlimTalk 3019: not a KakaoTalk user)"
    )


def test_the_fake_finds_a_lost_answer_by_recipient_template_and_content() -> None:
    fake = RecordingAlimTalkSender()
    fake.lose_next_answer()
    start = datetime.now(UTC) - timedelta(seconds=1)
    [lost] = fake.send([alimtalk_message(FIRST)])
    other = replace(alimtalk_message(FIRST), alimtalk=AlimTalk(CHANNEL, "CONFIRM01", "다른 내용"))

    found = fake.find_accepted(
        [alimtalk_message(FIRST), other], start, datetime.now(UTC) + timedelta(seconds=1)
    )

    assert lost.unclear
    assert found == ["req-1", None]


def test_the_fake_refuses_a_message_without_an_alimtalk_form() -> None:
    plain = Message.build(
        to=FIRST, sender="02-0000-0000", text="예약 확정", kind=MessageKind.CONFIRMATION
    )

    with pytest.raises(ValueError, match="alimtalk"):
        RecordingAlimTalkSender().send([plain])
