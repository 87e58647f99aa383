"""The fake SENS's delivery lookups as tests and the bench use them: outcomes per
number, lookups counted apart, faults aimed at lookups or at sends, never both."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from naver_sms.domain.booking import KST
from naver_sms.domain.delivery import DeliveryStatus
from naver_sms.domain.messages import Message, MessageKind
from naver_sms.messaging.base import SendFailed, SendUnclear
from naver_sms.messaging.sens import SensSender
from naver_sms.sandbox.sens import FakeSens, Outcome

FIRST, SECOND = "010-0000-0001", "010-0000-0002"
COMPLETED_AT = datetime(2026, 12, 1, 10, 0, 3, tzinfo=KST)


@pytest.fixture
def fake() -> Iterator[FakeSens]:
    with FakeSens() as server:
        yield server


@pytest.fixture
def sender(fake: FakeSens) -> Iterator[SensSender]:
    with SensSender(
        access_key=fake.access_key,
        secret_key=fake.secret_key,
        service_id=fake.service_id,
        base_url=fake.url,
        timeout=2.0,
    ) as adapter:
        yield adapter


def confirmation(to: str) -> Message:
    return Message.build(
        to=to, sender="02-0000-0000", text="예약 확정", kind=MessageKind.CONFIRMATION
    )


def test_lookups_are_counted_apart_from_sends_and_window_lists(
    fake: FakeSens, sender: SensSender
) -> None:
    [result] = sender.send([confirmation(FIRST)])
    assert result.request_id is not None
    [message_id] = sender.message_ids(result.request_id)["010-0000-0001"]
    sender.delivery(message_id)
    with pytest.raises(SendFailed):
        sender.delivery("sandbox-msg-unknown")  # a lookup too, answered 404
    at = fake.accepted[0].request_time
    sender.find_accepted([confirmation(SECOND)], at, at)

    assert fake.lookup_requests == 2 + 1
    assert fake.list_requests == 1
    assert fake.send_requests == 1


def test_a_lookup_fault_aimed_at_one_number_leaves_the_others_readable(
    fake: FakeSens, sender: SensSender
) -> None:
    first, _ = sender.send([confirmation(FIRST), confirmation(SECOND)])
    assert first.request_id is not None
    ids = sender.message_ids(first.request_id)
    fake.fail_next(1, status=503, number=SECOND, lookup=True)

    assert sender.delivery(ids["010-0000-0001"][0]).status is DeliveryStatus.DELIVERED
    with pytest.raises(SendFailed):
        sender.delivery(ids["010-0000-0002"][0])
    assert sender.delivery(ids["010-0000-0002"][0]).status is DeliveryStatus.DELIVERED


def test_a_send_fault_waits_for_its_send_while_lookups_pass(
    fake: FakeSens, sender: SensSender
) -> None:
    [earlier] = sender.send([confirmation(FIRST)])
    assert earlier.request_id is not None
    fake.drop_next(1)  # meant for the next send's answer

    assert sender.message_ids(earlier.request_id) != {}
    [lost] = sender.send([confirmation(SECOND)])
    assert isinstance(lost.error, SendUnclear)


def test_a_lookup_fault_leaves_sends_alone(fake: FakeSens, sender: SensSender) -> None:
    fake.fail_next(1, status=503, lookup=True)

    [result] = sender.send([confirmation(FIRST)])

    assert result.ok
    assert result.request_id is not None
    with pytest.raises(SendFailed):
        sender.message_ids(result.request_id)


def test_an_unsigned_lookup_is_refused_as_sens_refuses_it(fake: FakeSens) -> None:
    path = f"/sms/v2/services/{fake.service_id}/messages/sandbox-msg-any"

    answer = httpx.get(fake.url + path, timeout=2.0)

    assert answer.status_code == 401
    assert fake.refusals[0][0] == 401


def test_an_outcome_outside_the_vocabulary_is_refused_at_once(fake: FakeSens) -> None:
    with pytest.raises(ValueError, match="expected one of"):
        fake.set_outcome(FIRST, "bounced")
    with pytest.raises(ValueError, match="other than"):
        fake.set_outcome(FIRST, "failed", code="0")
    with pytest.raises(ValueError, match="only a failed outcome"):
        fake.set_outcome(FIRST, "delivered", code="3018")


def test_clear_forgets_the_outcomes_and_the_lookup_count(
    fake: FakeSens, sender: SensSender
) -> None:
    fake.set_outcome(FIRST, "failed")
    with pytest.raises(SendFailed):
        sender.delivery("sandbox-msg-unknown")
    fake.clear()
    [result] = sender.send([confirmation(FIRST)])
    assert result.request_id is not None

    [message_id] = sender.message_ids(result.request_id)["010-0000-0001"]

    assert sender.delivery(message_id).status is DeliveryStatus.DELIVERED
    assert fake.lookup_requests == 2


def test_an_outcome_answers_in_sens_fields_per_state() -> None:
    failed = Outcome.of("failed", message="결번", telco="KT")
    completed_at = COMPLETED_AT

    assert Outcome.of("waiting").fields(completed_at) == {"status": "READY"}
    assert Outcome.of("processing").fields(completed_at) == {"status": "PROCESSING"}
    assert failed.fields(completed_at) == {
        "status": "COMPLETED",
        "statusCode": "3018",
        "statusName": "fail",
        "statusMessage": "결번",
        "telcoCode": "KT",
        "completeTime": "2026-12-01 10:00:03",
    }
