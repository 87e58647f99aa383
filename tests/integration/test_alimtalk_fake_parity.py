"""The recording fake unit tests use says what the real adapter says of the sandbox: the
same words for every route a message can take, so a unit test cannot pass on words the
real cycle would never see."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace

import httpx
import pytest

from naver_sms.domain.booking import normalize_phone
from naver_sms.domain.delivery import DeliveryResult
from naver_sms.domain.messages import AlimTalk, Message, MessageKind
from naver_sms.messaging.alimtalk import AlimTalkSender
from naver_sms.messaging.base import SmsSender
from naver_sms.sandbox.sens import FakeSens
from tests.fakes import RecordingAlimTalkSender

NUMBER = "010-0000-0007"
CHANNEL = "@sample-studio"
TEXT = "김하늘님, 예약이 확정되었습니다."

Side = FakeSens | RecordingAlimTalkSender


def delivered(side: Side) -> None:
    """Every number's AlimTalk is delivered unless told otherwise."""


def on_its_way(side: Side) -> None:
    side.set_alimtalk_outcome(NUMBER, "processing")


def by_failover(side: Side) -> None:
    side.no_kakao(NUMBER)


def blocked_and_failover_failed(side: Side) -> None:
    side.no_kakao(NUMBER, code="3020", message="channel blocked")
    side.set_outcome(NUMBER, "failed", code="3018", message="결번")


def failover_still_processing(side: Side) -> None:
    side.no_kakao(NUMBER)
    side.set_outcome(NUMBER, "processing")


SCENES: dict[str, Callable[[Side], None]] = {
    scene.__name__: scene
    for scene in (
        delivered,
        on_its_way,
        by_failover,
        blocked_and_failover_failed,
        failover_still_processing,
    )
}


@pytest.fixture
def sandbox() -> Iterator[tuple[FakeSens, AlimTalkSender]]:
    with FakeSens() as fake, httpx.Client() as client:
        fake.approve_template(CHANNEL, "CONFIRM01", "#{name}님, 예약이 확정되었습니다.")
        yield (
            fake,
            AlimTalkSender(
                access_key=fake.access_key,
                secret_key=fake.secret_key,
                service_id=fake.alimtalk_service_id,
                base_url=fake.url,
                client=client,
            ),
        )


def message(*, failover: bool = True) -> Message:
    sms = Message.build(to=NUMBER, sender="02-0000-0000", text=TEXT, kind=MessageKind.CONFIRMATION)
    return replace(sms, alimtalk=AlimTalk(CHANNEL, "CONFIRM01", TEXT, failover=failover))


def outcome(sender: SmsSender, *, failover: bool) -> DeliveryResult:
    [result] = sender.send([message(failover=failover)])
    assert result.request_id is not None
    [message_id] = sender.message_ids(result.request_id)[normalize_phone(NUMBER)]
    return sender.delivery(message_id)


@pytest.mark.parametrize("failover", [True, False], ids=["with failover", "without"])
@pytest.mark.parametrize("scene", list(SCENES))
def test_the_fake_reports_every_route_in_the_adapters_words(
    sandbox: tuple[FakeSens, AlimTalkSender], scene: str, failover: bool
) -> None:
    fake_sens, adapter = sandbox
    recording = RecordingAlimTalkSender()
    SCENES[scene](fake_sens)
    SCENES[scene](recording)

    real = outcome(adapter, failover=failover)
    faked = outcome(recording, failover=failover)

    # Only the clock of a delivery differs: each side has its own.
    assert faked.status is real.status
    assert untimed(faked.result) == untimed(real.result)


def untimed(words: str) -> str:
    return re.sub(r"\d\d:\d\d:\d\d", "HH:MM:SS", words)
