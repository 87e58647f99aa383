"""The outbox is the owner's alone, passes the scrubber, and fails like a sender."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from naver_sms.domain.messages import Message, MessageKind
from naver_sms.messaging.base import SendFailed, SmsSender
from naver_sms.messaging.outbox import OutboxSender
from naver_sms.utils import scrub

SECRET = "made-up-sens-secret-key-0001"


@pytest.fixture(autouse=True)
def no_secrets() -> Iterator[None]:
    scrub._forget_all()
    yield
    scrub._forget_all()


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def message(text: str = "예약이 확정되었습니다.", **extra: Any) -> Message:
    return Message.build(
        to="010-0000-1234",
        sender="0200000000",
        text=text,
        kind=MessageKind.CONFIRMATION,
        booking_num="5000001_1",
        store_id="5000001",
        **extra,
    )


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("umask_022")
def test_a_new_outbox_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"

    OutboxSender(path).send([message()])

    assert file_mode(path) == 0o600


@pytest.mark.usefixtures("umask_022")
def test_an_outbox_left_readable_by_others_is_tightened_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "outbox.jsonl"
    path.write_text("", encoding="utf-8")
    path.chmod(0o644)

    OutboxSender(path).send([message()])

    assert file_mode(path) == 0o600
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    [warning] = [line for line in lines if line["level"] == "WARNING"]
    assert warning["context"] == {"path": str(path), "mode": "0644"}


def test_an_unwritable_outbox_is_a_send_failed_naming_the_path(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    path = blocker / "outbox.jsonl"

    with pytest.raises(SendFailed) as caught:
        OutboxSender(path).send([message()])

    assert f"cannot write the outbox file '{path}'" in str(caught.value)
    assert "NAVER_SMS_OUTBOX" in str(caught.value)
    assert caught.value.retryable


def test_a_registered_secret_in_a_text_never_reaches_the_outbox(tmp_path: Path) -> None:
    scrub.register_secret(SECRET)
    path = tmp_path / "outbox.jsonl"

    OutboxSender(path).send([message(f"키 {SECRET} 문의 010-0000-9876")])

    written = path.read_text(encoding="utf-8")
    assert SECRET not in written
    assert json.loads(written)["content"] == "키 *** 문의 010-****-9876"


def test_the_outbox_is_a_sender_that_reaches_no_phone_and_writes_in_one_request(
    tmp_path: Path,
) -> None:
    sender = OutboxSender(tmp_path / "outbox.jsonl")
    assert isinstance(sender, SmsSender)

    requests = list(sender.send_requests([message(), message("두 번째")]))

    assert sender.reaches_phones is False
    assert len(requests) == 1
    assert [result.ok for result in requests[0]] == [True, True]
    assert list(sender.send_requests([])) == []


def test_the_outbox_line_says_what_was_adjusted(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    note = "customer name: 1 character EUC-KR cannot carry was replaced"

    OutboxSender(path).send([message("김?이님, 예약이 확정되었습니다.", adjusted=[note])])

    assert json.loads(path.read_text(encoding="utf-8"))["adjusted"] == [note]
