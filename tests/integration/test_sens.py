"""The SENS v2 sender against the fake SENS over loopback HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from naver_sms.config import ConfigError, Settings, load_app_config
from naver_sms.domain.messages import Message, MessageKind, MessageType
from naver_sms.messaging.base import SendFailed, SendRejected, SmsSender
from naver_sms.messaging.sens import SensSender, sens_signature
from naver_sms.messaging.templates import TemplateRenderer, sample_booking
from naver_sms.sandbox.sens import FakeSens

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.yaml"
ACCESS = "test-access-key"
SECRET = "test-secret-CANARY-7f3a"
SERVICE = "ncp:sms:kr:000000000000:test"
SENDER = "02-0000-0000"
PHONE = "010-0000-1234"


@pytest.fixture
def fake() -> Iterator[FakeSens]:
    with FakeSens(
        access_key=ACCESS, secret_key=SECRET, service_id=SERVICE, senders=[SENDER]
    ) as server:
        yield server


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as http:
        yield http


def sender_for(fake: FakeSens, client: httpx.Client, **kwargs: object) -> SensSender:
    options: dict[str, object] = {
        "access_key": ACCESS,
        "secret_key": SECRET,
        "service_id": SERVICE,
        "base_url": fake.url,
        "client": client,
        "timeout": 2.0,
    }
    options.update(kwargs)
    return SensSender(**options)  # type: ignore[arg-type]


def message(
    text: str = "[샘플] 홍길동님, 예약이 확정되었습니다.",
    *,
    to: str = PHONE,
    kind: MessageKind = MessageKind.CONFIRMATION,
    sender: str = SENDER,
    booking_num: str = "5000001_1000000001",
) -> Message:
    return Message.build(
        to=to, sender=sender, text=text, kind=kind, booking_num=booking_num, subject="[샘플]"
    )


def test_the_signature_matches_an_independent_hmac_sha256() -> None:
    path = f"/sms/v2/services/{SERVICE}/messages"
    expected = base64.b64encode(
        hmac.new(
            SECRET.encode(), f"POST {path}\n1764051900000\n{ACCESS}".encode(), hashlib.sha256
        ).digest()
    ).decode()

    assert (
        sens_signature(
            method="POST",
            path=path,
            timestamp="1764051900000",
            access_key=ACCESS,
            secret_key=SECRET,
        )
        == expected
    )


def test_the_signature_matches_a_vector_computed_with_openssl() -> None:
    # printf 'POST /sms/v2/services/ncp:sms:kr:000000000000:sandbox/messages\n1764051900000\n
    # sandbox-access-key' | openssl dgst -sha256 -hmac sandbox-secret-key -binary | base64
    assert (
        sens_signature(
            method="POST",
            path="/sms/v2/services/ncp:sms:kr:000000000000:sandbox/messages",
            timestamp="1764051900000",
            access_key="sandbox-access-key",
            secret_key="sandbox-secret-key",
        )
        == "pzwWCQN7Fx/oUjs/gf4zFfbBaBNnIbrU+wRVXg2d1Sg="
    )


def test_an_accepted_message_returns_the_request_id_and_reaches_the_fake(
    fake: FakeSens, client: httpx.Client
) -> None:
    sender = sender_for(fake, client)
    assert isinstance(sender, SmsSender)

    [result] = sender.send([message()])

    assert result.ok
    [accepted] = fake.accepted
    assert result.request_id == accepted.request_id
    assert (accepted.type, accepted.content_type, accepted.sender, accepted.to) == (
        "SMS",
        "COMM",
        "0200000000",
        "01000001234",
    )
    assert accepted.content == "[샘플] 홍길동님, 예약이 확정되었습니다."


def test_each_recipient_gets_its_own_content_in_one_request(
    fake: FakeSens, client: httpx.Client
) -> None:
    messages = [
        message(f"{name}님, 예약이 확정되었습니다.") for name in ("김하나", "이두리", "박세나")
    ]

    results = sender_for(fake, client).send(messages)

    assert fake.requests == 1
    assert len({r.request_id for r in results}) == 1
    assert [a.content for a in fake.accepted] == [m.text for m in messages]


def test_more_than_100_recipients_are_split_into_requests_of_100(
    fake: FakeSens, client: httpx.Client
) -> None:
    messages = [message(to=f"010-0000-{i:04d}") for i in range(101)]

    results = sender_for(fake, client).send(messages)

    assert all(r.ok for r in results)
    assert fake.requests == 2
    assert len({r.request_id for r in results}) == 2
    assert len(fake.accepted) == 101


def test_sms_lms_and_advertising_go_in_separate_requests_with_their_type_and_content_type(
    fake: FakeSens, client: httpx.Client
) -> None:
    event = message(
        "(광고)샘플 스튜디오\n리뷰 이벤트 안내\n무료수신거부 080-000-0000", kind=MessageKind.EVENT
    )
    long = message("가" * 60, kind=MessageKind.REMINDER)
    assert long.type is MessageType.LMS

    results = sender_for(fake, client).send([message(), long, event])

    assert all(r.ok for r in results)
    assert fake.requests == 3
    kinds = {(a.type, a.content_type, a.subject) for a in fake.accepted}
    assert kinds == {("SMS", "COMM", ""), ("LMS", "COMM", "[샘플]"), ("SMS", "AD", "")}


def test_an_unregistered_sender_is_rejected_with_the_reason_from_the_body(
    fake: FakeSens, client: httpx.Client
) -> None:
    [result] = sender_for(fake, client).send([message(sender="02-9999-0000")])

    assert isinstance(result.error, SendRejected)
    assert not result.error.retryable
    assert result.error.status == 400
    assert "not a registered sender number" in result.error.reason
    assert fake.accepted == []


def test_a_refused_request_fails_only_its_own_messages(
    fake: FakeSens, client: httpx.Client
) -> None:
    results = sender_for(fake, client).send([message(sender="02-9999-0000"), message()])

    assert [r.ok for r in results] == [False, True]


def test_a_wrong_secret_is_rejected_by_the_signature_check(
    fake: FakeSens, client: httpx.Client
) -> None:
    [result] = sender_for(fake, client, secret_key="another-secret").send([message()])

    assert isinstance(result.error, SendRejected)
    assert result.error.status == 401
    assert "signature mismatch" in result.error.reason


@pytest.mark.parametrize(
    ("offset_s", "accepted"), [(-240, True), (240, True), (-360, False), (360, False)]
)
def test_the_timestamp_must_be_within_5_minutes_of_the_servers_clock(
    fake: FakeSens, client: httpx.Client, offset_s: int, accepted: bool
) -> None:
    sender = sender_for(fake, client, clock=lambda: time.time() + offset_s)

    [result] = sender.send([message()])

    assert result.ok is accepted
    if not accepted:
        assert isinstance(result.error, SendRejected)
        assert "5 minutes" in result.error.reason


def test_the_fake_enforces_the_sms_size_even_when_the_client_does_not(
    fake: FakeSens, client: httpx.Client
) -> None:
    # Built by hand to skip Message.build's own check: the fake must catch it too.
    oversized = Message(
        to=PHONE, sender=SENDER, text="가" * 45 + "a", kind=MessageKind.CONFIRMATION, size=91
    )

    [result] = sender_for(fake, client).send([oversized])

    assert isinstance(result.error, SendRejected)
    assert "91 bytes is over the SMS limit of 90" in result.error.reason


def test_the_fake_refuses_an_emoji_and_unlabelled_advertising(
    fake: FakeSens, client: httpx.Client
) -> None:
    emoji = Message(to=PHONE, sender=SENDER, text="확정 😀", kind=MessageKind.CONFIRMATION)
    unlabelled = Message(to=PHONE, sender=SENDER, text="이벤트", kind=MessageKind.EVENT)

    results = sender_for(fake, client).send([emoji, unlabelled])

    assert "not EUC-KR" in str(results[0].error)
    assert "(광고)" in str(results[1].error)


def test_a_5xx_is_a_retryable_send_failed(fake: FakeSens, client: httpx.Client) -> None:
    fake.fail_next(1, status=503)
    sender = sender_for(fake, client)

    [failed] = sender.send([message()])
    [retried] = sender.send([message()])

    assert isinstance(failed.error, SendFailed)
    assert failed.error.retryable
    assert failed.error.status == 503
    assert retried.ok


def test_a_429_from_the_gateway_is_retryable(fake: FakeSens, client: httpx.Client) -> None:
    fake.fail_next(1, status=429)

    [result] = sender_for(fake, client).send([message()])

    assert isinstance(result.error, SendFailed)


def test_a_timeout_is_a_retryable_send_failed(fake: FakeSens, client: httpx.Client) -> None:
    fake.hang_next(1, seconds=5)
    started = time.perf_counter()

    [result] = sender_for(fake, client, timeout=0.3).send([message()])

    assert isinstance(result.error, SendFailed)
    assert "no answer" in result.error.reason
    assert time.perf_counter() - started < 2


def test_an_unreachable_sens_is_a_send_failed(client: httpx.Client) -> None:
    with FakeSens() as gone:
        url = gone.url
    sender = SensSender(
        access_key=ACCESS, secret_key=SECRET, service_id=SERVICE, base_url=url, client=client
    )

    [result] = sender.send([message()])

    assert isinstance(result.error, SendFailed)


def test_injected_latency_delays_but_does_not_fail(fake: FakeSens, client: httpx.Client) -> None:
    fake.latency = 0.2
    started = time.perf_counter()

    [result] = sender_for(fake, client).send([message()])

    assert result.ok
    assert time.perf_counter() - started >= 0.2


def test_the_sender_builds_its_own_client_and_reads_settings(fake: FakeSens) -> None:
    settings = Settings(
        sens_access_key=ACCESS,  # type: ignore[arg-type]
        sens_secret_key=SECRET,  # type: ignore[arg-type]
        sens_service_id=SERVICE,
        sens_url=fake.url,
    )

    with SensSender.from_settings(settings) as sender:
        [result] = sender.send([message()])

    assert result.ok
    assert SECRET not in repr(sender)


def test_settings_without_all_three_keys_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="SENS_SECRET_KEY"):
        SensSender.from_settings(Settings(sens_access_key=ACCESS))  # type: ignore[arg-type]


def test_neither_the_secret_key_nor_a_full_phone_reaches_the_logs(
    fake: FakeSens, client: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    sender = sender_for(fake, client)
    fake.fail_next(1, status=500)
    sender.send([message()])
    sender.send([message(sender="02-9999-0000")])
    sender.send([message()])

    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines()]
    assert {line["operation"] for line in lines} == {"sens_send"}
    assert any(line["level"] == "ERROR" for line in lines)
    assert SECRET not in err
    assert ACCESS not in err
    assert "0000-1234" not in err
    assert "00001234" not in err
    assert "010-****-1234" in err


def test_every_message_of_the_example_config_is_accepted_by_the_fake_sens(
    client: httpx.Client,
) -> None:
    config = load_app_config(EXAMPLE)
    renderer = TemplateRenderer(config)
    messages = [
        renderer.message(store, kind, sample_booking(store))
        for store in config.stores
        for kind in MessageKind
    ]
    senders = [store.sender for store in config.stores]

    with FakeSens(
        access_key=ACCESS, secret_key=SECRET, service_id=SERVICE, senders=senders
    ) as fake:
        results = sender_for(fake, client).send(messages)

    assert [r.error for r in results] == [None] * len(messages)
    assert len(fake.accepted) == len(messages)
    assert {a.sender for a in fake.accepted} == set(senders)
    assert all(a.content.startswith("(광고)") for a in fake.accepted if a.content_type == "AD")
