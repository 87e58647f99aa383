"""The dry-run outbox: JSON lines on the local disk, request ids, and no full phone number."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from naver_sms.domain.booking import KST
from naver_sms.domain.messages import Message, MessageKind
from naver_sms.messaging.base import SendFailed, SendRejected, SmsSender
from naver_sms.messaging.outbox import OutboxSender


def message(to: str = "010-0000-1234", kind: MessageKind = MessageKind.CONFIRMATION) -> Message:
    text = "예약이 확정되었습니다. 문의 010-0000-9876"
    if kind.is_advertising:
        text = f"(광고)샘플 공방\n{text}\n무료수신거부 080-000-0000"
    return Message.build(
        to=to,
        sender="0200000000",
        text=text,
        kind=kind,
        booking_num="5000001_1",
        store_id="5000001",
    )


def test_each_message_becomes_one_json_line_with_a_shared_request_id(tmp_path: Path) -> None:
    path = tmp_path / "out" / "outbox.jsonl"
    sender = OutboxSender(path, clock=lambda: datetime(2026, 11, 25, 13, 5, tzinfo=KST))
    assert isinstance(sender, SmsSender)

    results = sender.send([message(), message("010-0000-5678", MessageKind.EVENT)])

    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2
    assert all(r.ok for r in results)
    assert {line["request_id"] for line in lines} == {results[0].request_id}
    assert lines[0]["at"] == "2026-11-25T13:05:00+09:00"
    assert lines[0]["to_masked"] == "010-****-1234"
    assert (lines[1]["kind"], lines[1]["content_type"]) == ("event", "AD")
    assert lines[0]["bytes"] == results[0].message.size


def test_the_outbox_holds_no_full_phone_number(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"

    OutboxSender(path).send([message()])

    text = path.read_text(encoding="utf-8")
    assert "0000-1234" not in text
    assert "0000-9876" not in text
    assert "01000001234" not in text


def test_later_sends_append_with_new_request_ids(tmp_path: Path) -> None:
    sender = OutboxSender(tmp_path / "outbox.jsonl")

    first = sender.send([message()])
    second = sender.send([message()])

    assert len(sender.path.read_text(encoding="utf-8").splitlines()) == 2
    assert first[0].request_id != second[0].request_id
    assert sender.send([]) == []


def test_a_send_error_masks_phone_numbers_in_the_providers_reason() -> None:
    rejected = SendRejected("invalid to: 01000001234", status=400)

    assert str(rejected) == "HTTP 400: invalid to: 010-****-1234"
    assert not rejected.retryable
    assert SendFailed("timeout").retryable
