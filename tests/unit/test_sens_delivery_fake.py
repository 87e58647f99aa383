"""`RecordingSender`'s delivery lookups answer as the sandbox SENS and the real adapter
do, so a cycle test on the fake reads the words a shop owner would see."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from naver_sms.domain.delivery import DeliveryResult, DeliveryStatus
from naver_sms.domain.messages import Message, MessageKind
from naver_sms.messaging.base import SendFailed
from tests.fakes import RecordingSender

FIRST, SECOND = "010-0000-0001", "010-0000-0002"


def confirmation(to: str) -> Message:
    return Message.build(
        to=to, sender="02-0000-0000", text="예약 확정", kind=MessageKind.CONFIRMATION
    )


def sent(sender: RecordingSender, *numbers: str) -> str:
    results = sender.send([confirmation(n) for n in numbers])
    assert results[0].request_id is not None
    return results[0].request_id


def fixed_sender() -> RecordingSender:
    sender = RecordingSender()
    sender.clock = lambda: datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 10:00 KST
    return sender


def test_each_accepted_message_has_an_id_listed_under_its_recipients_stored_form() -> None:
    sender = fixed_sender()
    request_id = sent(sender, FIRST, SECOND)

    assert sender.message_ids(request_id) == {
        "010-0000-0001": [f"{request_id}-m1"],
        "010-0000-0002": [f"{request_id}-m2"],
    }
    assert sender.message_ids("req-unknown") == {}


def test_outcomes_chosen_per_number_read_in_the_adapters_words() -> None:
    sender = fixed_sender()
    sender.set_outcome(SECOND, "failed", code="3018", message="결번", telco="KT")
    request_id = sent(sender, FIRST, SECOND)
    ids = sender.message_ids(request_id)

    assert sender.delivery(ids["010-0000-0001"][0]) == DeliveryResult(
        DeliveryStatus.DELIVERED, "delivered (SKT, 10:00:03)"
    )
    assert sender.delivery(ids["010-0000-0002"][0]) == DeliveryResult(
        DeliveryStatus.FAILED, "failed: 3018 결번 (KT)"
    )


def test_an_outcome_changed_later_is_what_the_next_lookup_reads() -> None:
    sender = fixed_sender()
    sender.set_outcome(FIRST, "processing")
    [message_id] = sender.message_ids(sent(sender, FIRST))["010-0000-0001"]

    before = sender.delivery(message_id)
    sender.set_outcome(FIRST, "delivered")

    assert before.status is DeliveryStatus.ACCEPTED
    assert sender.delivery(message_id).status is DeliveryStatus.DELIVERED
    assert sender.delivery_lookups == 3


def test_lookups_can_be_made_to_fail_all_or_only_the_next_few() -> None:
    sender = fixed_sender()
    request_id = sent(sender, FIRST)
    sender.fail_next_lookups(1)

    with pytest.raises(SendFailed):
        sender.message_ids(request_id)
    [message_id] = sender.message_ids(request_id)["010-0000-0001"]
    sender.lookups_fail = True
    with pytest.raises(SendFailed):
        sender.delivery(message_id)

    assert sender.delivery_lookups == 3


def test_an_id_never_given_has_no_result_yet() -> None:
    with pytest.raises(SendFailed) as raised:
        fixed_sender().delivery("req-9-m1")

    assert raised.value.status == 404
