"""Delivery results read by the real `SensSender` from the fake SENS over loopback HTTP,
with real signatures: which message ids a request got, and what became of each."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from naver_sms.domain.booking import KST, normalize_phone
from naver_sms.domain.delivery import DeliveryStatus
from naver_sms.domain.messages import Message, MessageKind
from naver_sms.messaging.base import SendFailed
from naver_sms.messaging.sens import SensSender
from naver_sms.sandbox.sens import FakeSens
from tests.log_canaries import Canaries

ACCESS = "delivery-access-key"
SECRET = "delivery-secret-key-0c41"
SERVICE = "ncp:sms:kr:000000000000:delivery"
FIRST, SECOND, THIRD = "010-0000-0001", "010-0000-0002", "010-0000-0003"


@pytest.fixture
def fake() -> Iterator[FakeSens]:
    with FakeSens(access_key=ACCESS, secret_key=SECRET, service_id=SERVICE) as server:
        yield server


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as http:
        yield http


def sender_for(
    fake: FakeSens, client: httpx.Client, *, secret: str = SECRET, timeout: float = 2.0
) -> SensSender:
    return SensSender(
        access_key=ACCESS,
        secret_key=secret,
        service_id=SERVICE,
        base_url=fake.url,
        client=client,
        timeout=timeout,
    )


def sent(sender: SensSender, *numbers: str) -> str:
    """Sends one confirmation to each number in one request; its request id."""
    messages = [
        Message.build(to=n, sender="02-0000-0000", text="예약 확정", kind=MessageKind.CONFIRMATION)
        for n in numbers
    ]
    results = sender.send(messages)
    assert all(r.ok for r in results)
    request_id = results[0].request_id
    assert request_id is not None
    return request_id


def message_id(sender: SensSender, request_id: str, number: str) -> str:
    [found] = sender.message_ids(request_id)[normalize_phone(number)]
    return found


def test_each_recipient_of_a_request_is_listed_with_its_message_id_in_one_lookup(
    fake: FakeSens, client: httpx.Client
) -> None:
    sender = sender_for(fake, client)
    request_id = sent(sender, FIRST, SECOND, THIRD)

    ids = sender.message_ids(request_id)

    given = {normalize_phone(m.to): [m.message_id] for m in fake.accepted}
    assert ids == given
    assert set(ids) == {"010-0000-0001", "010-0000-0002", "010-0000-0003"}
    assert fake.lookup_requests == 1


def test_a_request_sens_does_not_know_lists_no_message(
    fake: FakeSens, client: httpx.Client
) -> None:
    assert sender_for(fake, client).message_ids("sandbox-no-such-request") == {}


def test_a_delivered_message_reads_delivered_with_its_carrier_and_time(
    fake: FakeSens, client: httpx.Client
) -> None:
    sender = sender_for(fake, client)
    fake.set_outcome(SECOND, "delivered", telco="LGT")
    request_id = sent(sender, FIRST, SECOND)
    first = fake.accepted[0]
    delivered_at = (first.request_time + timedelta(seconds=3)).astimezone(KST)

    by_default = sender.delivery(message_id(sender, request_id, FIRST))
    on_lg = sender.delivery(message_id(sender, request_id, SECOND))

    assert by_default.status is DeliveryStatus.DELIVERED
    assert by_default.result == f"delivered (SKT, {delivered_at:%H:%M:%S})"
    assert on_lg.status is DeliveryStatus.DELIVERED
    assert on_lg.result.startswith("delivered (LG U+, ")


def test_a_failed_message_reads_failed_with_sens_code_its_words_and_the_carrier(
    fake: FakeSens, client: httpx.Client
) -> None:
    sender = sender_for(fake, client)
    fake.set_outcome(FIRST, "failed", code="3018", message="결번", telco="KTF")
    request_id = sent(sender, FIRST)

    result = sender.delivery(message_id(sender, request_id, FIRST))

    assert result.status is DeliveryStatus.FAILED
    assert result.result == "failed: 3018 결번 (KT)"


def test_a_message_still_on_its_way_is_accepted_until_sens_says_more(
    fake: FakeSens, client: httpx.Client
) -> None:
    sender = sender_for(fake, client)
    fake.set_outcome(FIRST, "waiting")
    fake.set_outcome(SECOND, "processing")
    request_id = sent(sender, FIRST, SECOND)
    first, second = message_id(sender, request_id, FIRST), message_id(sender, request_id, SECOND)

    waiting, processing = sender.delivery(first), sender.delivery(second)
    fake.set_outcome(SECOND, "delivered")
    later = sender.delivery(second)

    assert (waiting.status, waiting.result) == (DeliveryStatus.ACCEPTED, "waiting")
    assert (processing.status, processing.result) == (DeliveryStatus.ACCEPTED, "processing")
    assert later.status is DeliveryStatus.DELIVERED


def test_an_id_sens_never_gave_has_no_result_yet(fake: FakeSens, client: httpx.Client) -> None:
    with pytest.raises(SendFailed) as raised:
        sender_for(fake, client).delivery("sandbox-msg-never-given")

    assert raised.value.status == 404
    assert "no result" in raised.value.reason
    assert raised.value.retryable


def test_a_server_error_on_a_lookup_fails_it_and_the_next_send_still_goes(
    fake: FakeSens, client: httpx.Client
) -> None:
    sender = sender_for(fake, client)
    request_id = sent(sender, FIRST)
    fake.fail_next(2, status=503, lookup=True)

    with pytest.raises(SendFailed) as on_ids:
        sender.message_ids(request_id)
    with pytest.raises(SendFailed) as on_result:
        sender.delivery(fake.accepted[0].message_id)
    sent(sender, SECOND)

    assert on_ids.value.status == on_result.value.status == 503
    assert sender.delivery(fake.accepted[0].message_id).status is DeliveryStatus.DELIVERED


def test_a_lookup_without_an_answer_fails_within_the_short_lookup_timeout(
    fake: FakeSens, client: httpx.Client
) -> None:
    # The adapter waits 10 s for a send's answer; a lookup must not hold a cycle that long.
    sender = sender_for(fake, client, timeout=10.0)
    request_id = sent(sender, FIRST)
    fake.hang_next(1, seconds=30, lookup=True)

    started = time.monotonic()
    with pytest.raises(SendFailed) as raised:
        sender.message_ids(request_id)

    assert time.monotonic() - started < 5
    assert "Timeout" in raised.value.reason


def test_a_lookup_whose_connection_is_dropped_fails(fake: FakeSens, client: httpx.Client) -> None:
    sender = sender_for(fake, client)
    request_id = sent(sender, FIRST)
    fake.drop_next(1, lookup=True)

    with pytest.raises(SendFailed):
        sender.message_ids(request_id)
    assert sender.message_ids(request_id) != {}


def test_a_proxy_page_instead_of_a_result_fails_naming_what_came(
    fake: FakeSens, client: httpx.Client
) -> None:
    sender = sender_for(fake, client)
    request_id = sent(sender, FIRST)
    fake.html_next(1, lookup=True)

    with pytest.raises(SendFailed) as raised:
        sender.delivery(message_id(sender, request_id, FIRST))

    assert "an HTML page" in raised.value.reason


def test_a_lookup_signed_with_the_wrong_secret_is_refused_and_reads_nothing(
    fake: FakeSens, client: httpx.Client
) -> None:
    request_id = sent(sender_for(fake, client), FIRST)
    wrong = sender_for(fake, client, secret="not-the-delivery-secret-9d0e")

    with pytest.raises(SendFailed) as on_ids:
        wrong.message_ids(request_id)
    with pytest.raises(SendFailed) as on_result:
        wrong.delivery(fake.accepted[0].message_id)

    assert on_ids.value.status == on_result.value.status == 401
    assert [status for status, _ in fake.refusals] == [401, 401]
    assert all("signature mismatch" in reason for _, reason in fake.refusals)


def test_no_phone_number_reaches_a_result_or_an_error_even_when_sens_echoes_one(
    fake: FakeSens, client: httpx.Client
) -> None:
    canaries = Canaries()
    number = canaries.phone
    sender = sender_for(fake, client)
    request_id = sent(sender, number)
    [found] = sender.message_ids(request_id)[normalize_phone(number)]
    texts: dict[str, str] = {}
    for state in ("failed", "processing"):
        fake.set_outcome(number, state, message=f"수신번호 {number} 확인 필요 (+82 10-0000-1234)")
        texts[state] = sender.delivery(found).result
    fake.fail_next(1, status=500, lookup=True)
    for name, asked in (("5xx", found), ("404", "sandbox-msg-never-given")):
        with pytest.raises(SendFailed) as raised:
            sender.delivery(asked)
        texts[name] = str(raised.value)

    assert texts["failed"].startswith("failed: 3018 수신번호 010-****-1234")
    assert canaries.leaks(texts) == []
