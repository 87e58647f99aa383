"""A phone number typed into free text (a customer name, a store name) is masked where shown.

Found by the canaries of tests/reliability: `naver-sms bookings` printed the
customer name as stored, and the outbox kept the LMS subject (the store's
name) unmasked.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from naver_sms.domain.messages import Message, MessageKind
from naver_sms.entrypoints.cli_view import bookings_table
from naver_sms.messaging.outbox import OutboxSender


def test_the_bookings_table_masks_a_phone_in_the_customer_name() -> None:
    record = {
        "booking_num": "5000001_1",
        "phone": "01000001234",
        "name": "김민지 010-0000-1234",
        "booking_time": "2026-11-25 14:00:00",
    }
    out = Console(width=200, record=True)
    out.print(bookings_table([record]))
    shown = out.export_text()
    assert "김민지 010-****-1234" in shown
    assert "0000-1234" not in shown


def test_the_outbox_masks_a_phone_in_the_subject(tmp_path: Path) -> None:
    message = Message.build(
        to="010-0000-1234",
        sender="0200000000",
        text="예약이 확정되었습니다. " * 8,  # LMS: it has a subject
        kind=MessageKind.CONFIRMATION,
        subject="[스튜디오 010-0000-9876]",
        booking_num="5000001_1",
        store_id="5000001",
    )
    OutboxSender(tmp_path / "outbox.jsonl").send([message])
    line = json.loads((tmp_path / "outbox.jsonl").read_text(encoding="utf-8"))
    assert line["subject"] == "[스튜디오 010-****-9876]"
