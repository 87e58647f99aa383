"""The real `AlimTalkSender` against the fake SENS's AlimTalk API over loopback HTTP, with
real signatures: sends, the SMS failover, Kakao's refusals, batching, lookups and lost
answers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from naver_sms.domain.booking import KST, normalize_phone
from naver_sms.domain.delivery import DeliveryStatus
from naver_sms.domain.messages import AlimTalk, AlimTalkButton, Message, MessageKind
from naver_sms.messaging.alimtalk import AlimTalkSender
from naver_sms.messaging.base import (
    SenderRefused,
    SendFailed,
    SendRejected,
    SendResult,
    SendUnclear,
)
from naver_sms.sandbox.sens import FakeSens

ACCESS = "alimtalk-access-key"
SECRET = "alimtalk-secret-key-7d21"
SERVICE = "ncp:kkobizmsg:kr:000000000000:alimtalk-test"
CHANNEL = "@sample-studio"
STORE_NUMBER = "02-0000-0000"
CONFIRM = "CONFIRM01"
GUIDE = "GUIDE01"
CONFIRM_TEXT = "#{name}님, #{date} 예약이 확정되었습니다."
GUIDE_TEXT = "#{name}님, 내일 #{time} 방문 안내입니다. 출입 코드: #{code}"
FIRST, SECOND, THIRD = "010-0000-0001", "010-0000-0002", "010-0000-0003"
CANARY = "010-0000-1234"


@pytest.fixture
def fake() -> Iterator[FakeSens]:
    with FakeSens(access_key=ACCESS, secret_key=SECRET, alimtalk_service_id=SERVICE) as server:
        server.approve_template(CHANNEL, CONFIRM, CONFIRM_TEXT)
        server.approve_template(CHANNEL, GUIDE, GUIDE_TEXT)
        yield server


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as http:
        yield http


def sender_for(
    fake: FakeSens, client: httpx.Client, *, secret: str = SECRET, timeout: float = 2.0
) -> AlimTalkSender:
    return AlimTalkSender(
        access_key=ACCESS,
        secret_key=secret,
        service_id=SERVICE,
        base_url=fake.url,
        client=client,
        timeout=timeout,
    )


def confirmation(
    to: str,
    *,
    name: str = "김하늘",
    content: str | None = None,
    template: str = CONFIRM,
    failover: bool = True,
    buttons: tuple[AlimTalkButton, ...] = (),
) -> Message:
    text = f"{name}님, 5월 2일 14:00 예약이 확정되었습니다."
    sms = Message.build(
        to=to, sender=STORE_NUMBER, text=text, kind=MessageKind.CONFIRMATION, booking_num="B1"
    )
    return replace(
        sms,
        alimtalk=AlimTalk(
            CHANNEL, template, text if content is None else content, buttons, failover
        ),
    )


def guide(to: str) -> Message:
    text = "박바다님, 내일 14:00 방문 안내입니다. 출입 코드: 4321"
    sms = Message.build(to=to, sender=STORE_NUMBER, text=text, kind=MessageKind.REMINDER)
    return replace(sms, alimtalk=AlimTalk(CHANNEL, GUIDE, text))


def accepted_id(results: list[SendResult]) -> str:
    assert all(r.ok for r in results), [str(r.error) for r in results]
    request_id = results[0].request_id
    assert request_id is not None
    return request_id


def message_id(sender: AlimTalkSender, request_id: str, number: str) -> str:
    [found] = sender.message_ids(request_id)[normalize_phone(number)]
    return found


# --- sending ------------------------------------------------------------------------


def test_an_alimtalk_is_accepted_with_its_template_buttons_and_sms_failover(
    fake: FakeSens, client: httpx.Client
) -> None:
    button = AlimTalkButton("WL", "예약 보기", "https://example.com/m", "https://example.com")
    message = confirmation(FIRST, buttons=(button,))

    [result] = sender_for(fake, client).send([message])

    assert result.ok
    [sent] = fake.accepted_alimtalk
    assert (sent.request_id, sent.plus_friend_id, sent.template_code) == (
        result.request_id,
        CHANNEL,
        CONFIRM,
    )
    assert sent.to == "01000000001"
    assert sent.content == "김하늘님, 5월 2일 14:00 예약이 확정되었습니다."
    assert dict(sent.buttons[0]) == {
        "type": "WL",
        "name": "예약 보기",
        "linkMobile": "https://example.com/m",
        "linkPc": "https://example.com",
    }
    assert sent.use_sms_failover
    assert sent.failover is not None
    assert (sent.failover.type, sent.failover.sender) == ("SMS", "0200000000")
    assert sent.failover.content == message.text
    # An AlimTalk is not a text: the SMS API sent nothing.
    assert fake.accepted == []
    assert fake.failovers == []
    assert (fake.alimtalk_requests, fake.send_requests) == (1, 0)


def test_a_long_failover_goes_as_lms_with_its_subject(fake: FakeSens, client: httpx.Client) -> None:
    text = "김하늘님, 예약이 확정되었습니다. " + "주차는 건물 뒤편을 이용해 주세요. " * 4
    sms = Message.build(
        to=FIRST,
        sender=STORE_NUMBER,
        text=text,
        kind=MessageKind.CONFIRMATION,
        subject="예약 확정",
    )
    content = "김하늘님, 5월 2일 14:00 예약이 확정되었습니다."
    message = replace(sms, alimtalk=AlimTalk(CHANNEL, CONFIRM, content))

    [result] = sender_for(fake, client).send([message])

    assert result.ok
    [sent] = fake.accepted_alimtalk
    assert sent.failover is not None
    assert (sent.failover.type, sent.failover.subject) == ("LMS", "예약 확정")
    assert sent.failover.content == message.text


def test_a_customer_without_kakaotalk_gets_the_failover_sms(
    fake: FakeSens, client: httpx.Client
) -> None:
    fake.no_kakao(SECOND)
    sender = sender_for(fake, client)

    request_id = accepted_id(sender.send([confirmation(FIRST), confirmation(SECOND)]))

    [failover] = fake.failovers
    assert failover.to == "01000000002"
    assert failover.sender == "0200000000"
    assert failover.content == "김하늘님, 5월 2일 14:00 예약이 확정되었습니다."
    result = sender.delivery(message_id(sender, request_id, SECOND))
    assert result.status is DeliveryStatus.DELIVERED
    assert result.result == "delivered by SMS failover (AlimTalk 3019: not a KakaoTalk user)"
    assert sender.delivery(message_id(sender, request_id, FIRST)).status is (
        DeliveryStatus.DELIVERED
    )


def test_a_content_that_does_not_match_its_template_is_refused_alone(
    fake: FakeSens, client: httpx.Client
) -> None:
    altered = confirmation(SECOND, content="김하늘님, 예약이 확정되었습니다! 할인 쿠폰도 드려요.")

    first, second, third = sender_for(fake, client).send(
        [confirmation(FIRST), altered, confirmation(THIRD)]
    )

    assert first.ok
    assert third.ok
    assert isinstance(second.error, SendRejected)
    assert not second.error.retryable
    assert "3016" in second.error.reason
    assert "does not match the approved template" in second.error.reason
    assert [m.to for m in fake.accepted_alimtalk] == ["01000000001", "01000000003"]
    assert fake.alimtalk_requests == 1


def test_a_template_kakao_never_approved_is_refused_with_its_code(
    fake: FakeSens, client: httpx.Client
) -> None:
    [result] = sender_for(fake, client).send([confirmation(FIRST, template="NOPE01")])

    assert isinstance(result.error, SendRejected)
    assert result.error.reason == "AlimTalk refused: 3015 template not found"
    assert fake.accepted_alimtalk == []


def test_a_channel_that_is_not_the_services_refuses_the_request_without_halving_it(
    fake: FakeSens, client: httpx.Client
) -> None:
    messages = [
        replace(m, alimtalk=replace(m.alimtalk, plus_friend_id="@unknown"))
        for m in (confirmation(FIRST), confirmation(SECOND), confirmation(THIRD))
        if m.alimtalk is not None
    ]

    results = sender_for(fake, client).send(messages)

    assert all(isinstance(r.error, SendRejected) for r in results)
    assert "@unknown is not a Kakao channel" in str(results[0].error)
    assert fake.alimtalk_requests == 1


def test_an_unregistered_failover_number_refuses_every_message_from_it(
    fake: FakeSens, client: httpx.Client
) -> None:
    messages = [replace(confirmation(n), sender="02-0000-0009") for n in (FIRST, SECOND)]

    results = sender_for(fake, client).send(messages)

    assert all(isinstance(r.error, SenderRefused) for r in results)
    assert fake.accepted_alimtalk == []
    assert fake.alimtalk_requests == 1


def test_250_messages_of_two_templates_go_in_four_requests_of_at_most_100(
    fake: FakeSens, client: httpx.Client
) -> None:
    numbers = [f"010-0000-{n:04d}" for n in range(1000, 1250)]
    messages = [confirmation(n) if i % 2 else guide(n) for i, n in enumerate(numbers)]

    results = sender_for(fake, client).send(messages)

    assert all(r.ok for r in results)
    assert fake.alimtalk_requests == 4
    sizes: dict[str, int] = {}
    for sent in fake.accepted_alimtalk:
        sizes[sent.request_id] = sizes.get(sent.request_id, 0) + 1
    assert sorted(sizes.values()) == [25, 25, 100, 100]
    codes = {s.request_id: s.template_code for s in fake.accepted_alimtalk}
    assert all(
        codes[r.request_id or ""] == (m.alimtalk.template_code if m.alimtalk else "")
        for m, r in zip(messages, results, strict=True)
    )
    # Each template's messages went in the order given.
    guides = [s.to for s in fake.accepted_alimtalk if s.template_code == GUIDE]
    assert guides == [n.replace("-", "") for i, n in enumerate(numbers) if not i % 2]


def test_a_message_without_an_alimtalk_form_is_a_programming_error(
    fake: FakeSens, client: httpx.Client
) -> None:
    plain = Message.build(
        to=FIRST, sender=STORE_NUMBER, text="예약 확정", kind=MessageKind.CONFIRMATION
    )

    with pytest.raises(ValueError, match="alimtalk"):
        sender_for(fake, client).send([plain])

    assert fake.requests == 0


def test_a_wrong_secret_key_is_refused_by_the_signature_check(
    fake: FakeSens, client: httpx.Client
) -> None:
    [result] = sender_for(fake, client, secret="not-the-secret").send([confirmation(FIRST)])

    assert isinstance(result.error, SendRejected)
    assert result.error.status == 401
    assert fake.accepted_alimtalk == []


def test_the_sms_services_id_is_not_the_alimtalk_services(
    fake: FakeSens, client: httpx.Client
) -> None:
    sender = AlimTalkSender(
        access_key=ACCESS,
        secret_key=SECRET,
        service_id=fake.service_id,
        base_url=fake.url,
        client=client,
    )

    [result] = sender.send([confirmation(FIRST)])

    assert isinstance(result.error, SendRejected)
    assert result.error.status == 404


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("throttled", SendFailed),
        ("gateway 502 after accepting", SendUnclear),
        ("dropped after accepting", SendUnclear),
        ("proxy page", SendUnclear),
    ],
)
def test_faults_hit_alimtalk_sends_as_they_hit_sms(
    fake: FakeSens, client: httpx.Client, fault: str, error: type[Exception]
) -> None:
    if fault == "throttled":
        fake.fail_next(1, status=429)
    elif fault == "gateway 502 after accepting":
        fake.fail_next(1, status=502, accept=True)
    elif fault == "dropped after accepting":
        fake.drop_next(1, number=FIRST)
    else:
        fake.html_next(1)

    [result] = sender_for(fake, client).send([confirmation(FIRST)])

    assert isinstance(result.error, error)
    assert type(result.error) is error


def test_a_send_that_hangs_past_the_timeout_is_unclear_not_failed(
    fake: FakeSens, client: httpx.Client
) -> None:
    fake.hang_next(1, seconds=3, accept=True, number=FIRST)

    [result] = sender_for(fake, client, timeout=0.5).send([confirmation(FIRST)])

    assert isinstance(result.error, SendUnclear)
    assert len(fake.accepted_alimtalk) == 1


def test_a_refused_connection_is_a_failure_nothing_was_sent(client: httpx.Client) -> None:
    with FakeSens() as stopped:
        url = stopped.url
    sender = AlimTalkSender(
        access_key=ACCESS, secret_key=SECRET, service_id=SERVICE, base_url=url, client=client
    )

    [result] = sender.send([confirmation(FIRST)])

    assert isinstance(result.error, SendFailed)


# --- delivery lookups ----------------------------------------------------------------


def test_lookups_tell_delivered_failover_and_failed_apart(
    fake: FakeSens, client: httpx.Client
) -> None:
    fake.no_kakao(SECOND)
    fake.no_kakao(THIRD, code="3020", message="channel blocked")
    fake.set_outcome(THIRD, "failed", code="3018", message="결번")
    fourth = "010-0000-0004"
    fake.no_kakao(fourth)
    sender = sender_for(fake, client)
    request_id = accepted_id(sender.send([confirmation(n) for n in (FIRST, SECOND, THIRD)]))
    quiet = accepted_id(sender.send([confirmation(fourth, failover=False)]))

    ids = sender.message_ids(request_id)
    delivered, by_failover, failed = (
        sender.delivery(ids[normalize_phone(n)][0]) for n in (FIRST, SECOND, THIRD)
    )
    no_failover = sender.delivery(message_id(sender, quiet, fourth))

    assert set(ids) == {"010-0000-0001", "010-0000-0002", "010-0000-0003"}
    assert delivered.status is DeliveryStatus.DELIVERED
    assert delivered.result.startswith("delivered (AlimTalk")
    assert by_failover.status is DeliveryStatus.DELIVERED
    assert by_failover.result.startswith("delivered by SMS failover (AlimTalk 3019")
    assert failed.status is DeliveryStatus.FAILED
    assert failed.result == (
        "failed: AlimTalk 3020: channel blocked; SMS failover failed: 3018 결번 (SKT)"
    )
    assert no_failover.status is DeliveryStatus.FAILED
    assert no_failover.result == "failed: AlimTalk 3019: not a KakaoTalk user; no SMS failover"
    assert fake.lookup_requests == 6


def test_an_alimtalk_on_its_way_is_accepted_until_kakao_answers(
    fake: FakeSens, client: httpx.Client
) -> None:
    fake.set_alimtalk_outcome(FIRST, "processing")
    sender = sender_for(fake, client)
    found = message_id(sender, accepted_id(sender.send([confirmation(FIRST)])), FIRST)

    before = sender.delivery(found)
    fake.set_alimtalk_outcome(FIRST, "delivered")
    after = sender.delivery(found)

    assert before.status is DeliveryStatus.ACCEPTED
    assert after.status is DeliveryStatus.DELIVERED


def test_a_refused_message_has_no_id_to_ask_about(fake: FakeSens, client: httpx.Client) -> None:
    sender = sender_for(fake, client)
    results = sender.send([confirmation(FIRST), confirmation(SECOND, content="다른 내용")])
    request_id = accepted_id(results[:1])

    assert set(sender.message_ids(request_id)) == {"010-0000-0001"}


def test_an_unknown_request_or_message_is_not_known_yet(
    fake: FakeSens, client: httpx.Client
) -> None:
    sender = sender_for(fake, client)

    with pytest.raises(SendFailed, match="no result"):
        sender.message_ids("no-such-request")
    with pytest.raises(SendFailed, match="no result"):
        sender.delivery("no-such-message")


def test_a_lookup_that_hangs_fails_quickly_without_holding_the_cycle(
    fake: FakeSens, client: httpx.Client
) -> None:
    sender = sender_for(fake, client, timeout=10.0)
    request_id = accepted_id(sender.send([confirmation(FIRST)]))
    fake.hang_next(1, seconds=8, lookup=True)

    started = time.monotonic()
    with pytest.raises(SendFailed):
        sender.message_ids(request_id)

    assert time.monotonic() - started < 5


# --- lost answers ------------------------------------------------------------------------


def test_a_lost_answer_is_found_in_the_channels_list_by_recipient_template_and_content(
    fake: FakeSens, client: httpx.Client
) -> None:
    sender = sender_for(fake, client)
    before = sender.send([confirmation(THIRD)])  # an earlier request of another customer
    fake.drop_next(1, number=FIRST)
    start = fake_now(fake) - timedelta(seconds=5)
    lost = sender.send([confirmation(FIRST), confirmation(SECOND)])
    end = fake_now(fake) + timedelta(seconds=5)
    assert all(isinstance(r.error, SendUnclear) for r in lost)
    asked = [
        confirmation(FIRST),
        confirmation(SECOND),
        confirmation(SECOND, name="이구름"),  # same customer, another content: never sent
        guide(FIRST),  # same customer, another template: never sent
    ]

    found = sender.find_accepted(asked, start, end)

    [request_id] = {m.request_id for m in fake.accepted_alimtalk if m.to == "01000000001"}
    assert found == [request_id, request_id, None, None]
    assert request_id != before[0].request_id
    assert sender.find_accepted(asked[:2], start, end, exclude={request_id}) == [None, None]


def test_a_long_list_is_read_page_by_page(fake: FakeSens, client: httpx.Client) -> None:
    sender = sender_for(fake, client)
    numbers = [f"010-0000-{n:04d}" for n in range(2000, 2150)]
    start = fake_now(fake) - timedelta(seconds=5)
    accepted_id(sender.send([confirmation(n) for n in numbers[:100]]))
    fake.drop_next(1, number=numbers[100])
    lost = sender.send([confirmation(n) for n in numbers[100:]])
    assert all(r.unclear for r in lost)

    found = sender.find_accepted(
        [confirmation(numbers[149])], start, fake_now(fake) + timedelta(seconds=5)
    )

    assert found == [fake.accepted_alimtalk[-1].request_id]
    assert fake.list_requests == 2


def test_a_list_that_cannot_be_read_fails_so_nothing_is_sent_twice(
    fake: FakeSens, client: httpx.Client
) -> None:
    fake.fail_next(1, status=503)
    now = fake_now(fake)

    with pytest.raises(SendFailed):
        sender_for(fake, client).find_accepted(
            [confirmation(FIRST)], now - timedelta(minutes=5), now
        )


# --- privacy --------------------------------------------------------------------------


def test_no_phone_number_reaches_any_result_or_error_text(
    fake: FakeSens, client: httpx.Client
) -> None:
    fake.no_kakao(CANARY)
    fake.set_outcome(CANARY, "failed", code="3018", message=f"{CANARY} 결번")
    fake.set_alimtalk_outcome(FIRST, "failed", code="3019", message=f"{CANARY} 없음")
    sender = sender_for(fake, client)
    texts: list[str] = []

    results = sender.send([confirmation(CANARY), confirmation(FIRST)])
    request_id = accepted_id(results)
    texts += [
        sender.delivery(i).result for ids in sender.message_ids(request_id).values() for i in ids
    ]
    texts += [str(r.error) for r in sender.send([confirmation(CANARY, content=CANARY)])]
    fake.refuse_number(CANARY)
    texts += [str(r.error) for r in sender.send([confirmation(CANARY)])]
    texts.append(repr(sender))

    full_forms = (CANARY, "01000001234", "0000-1234", "00001234")
    assert len(texts) == 5
    assert not [t for t in texts if any(form in t for form in full_forms)], texts
    # What the owner reads still says what happened, the number masked.
    assert "010-****-1234 결번" in texts[0]


def fake_now(fake: FakeSens) -> datetime:
    """The fake's clock, which its list compares with."""
    return datetime.fromtimestamp(fake.clock(), UTC).astimezone(KST)
