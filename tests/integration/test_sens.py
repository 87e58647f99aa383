"""The SENS v2 sender against the fake SENS over loopback HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from naver_sms import bootstrap
from naver_sms.config import ConfigError, Settings, load_app_config
from naver_sms.domain.messages import Message, MessageKind, MessageType
from naver_sms.messaging.base import (
    SenderRefused,
    SendFailed,
    SendRejected,
    SendUnclear,
    SmsSender,
)
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

    assert isinstance(result.error, SenderRefused)
    assert result.error.sender == "02-9999-0000"
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


@pytest.mark.parametrize("accept", [False, True])
def test_a_5xx_is_unclear_because_the_gateway_may_have_forwarded_it(
    fake: FakeSens, client: httpx.Client, accept: bool
) -> None:
    fake.fail_next(1, status=503, accept=accept)
    sender = sender_for(fake, client)

    [unclear] = sender.send([message()])
    [retried] = sender.send([message()])

    assert isinstance(unclear.error, SendUnclear)
    assert unclear.request_id is None
    assert unclear.error.status == 503
    assert len(fake.accepted) == (2 if accept else 1)
    assert retried.ok


def test_a_429_from_the_gateway_is_retryable(fake: FakeSens, client: httpx.Client) -> None:
    fake.fail_next(1, status=429)

    [result] = sender_for(fake, client).send([message()])

    assert isinstance(result.error, SendFailed)


def test_no_answer_within_the_read_timeout_is_unclear_not_failed(
    fake: FakeSens, client: httpx.Client
) -> None:
    fake.hang_next(1, seconds=5, accept=True)
    started = time.perf_counter()

    [result] = sender_for(fake, client, timeout=0.3).send([message()])

    assert isinstance(result.error, SendUnclear)
    assert "no answer" in result.error.reason
    assert len(fake.accepted) == 1  # the text went: marking it failed would send it twice
    assert time.perf_counter() - started < 2


def test_a_connection_dropped_after_acceptance_is_unclear(
    fake: FakeSens, client: httpx.Client
) -> None:
    fake.drop_next(1)

    [result] = sender_for(fake, client).send([message()])

    assert isinstance(result.error, SendUnclear)
    assert result.request_id is None
    assert len(fake.accepted) == 1


@pytest.mark.parametrize("accept", [False, True])
def test_a_200_html_page_from_a_proxy_is_not_counted_as_sent(
    fake: FakeSens, client: httpx.Client, accept: bool
) -> None:
    fake.html_next(1, accept=accept)

    [result] = sender_for(fake, client).send([message()])

    assert not result.ok
    assert result.request_id is None
    assert isinstance(result.error, SendUnclear)
    assert "HTML page" in result.error.reason
    assert len(fake.accepted) == (1 if accept else 0)


def test_a_2xx_json_without_a_request_id_is_unclear(fake: FakeSens, client: httpx.Client) -> None:
    fake.fail_next(1, status=200)  # {"status": 200, "statusName": "fail", ...}

    [result] = sender_for(fake, client).send([message()])

    assert result.request_id is None
    assert isinstance(result.error, SendUnclear)


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

    sender = bootstrap.build_sender(settings)
    assert isinstance(sender, SensSender)
    with sender:
        [result] = sender.send([message()])

    assert result.ok
    assert SECRET not in repr(sender)


def test_settings_without_all_three_keys_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="SENS_SECRET_KEY"):
        bootstrap.build_sender(Settings(sens_access_key=ACCESS))  # type: ignore[arg-type]


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


# --- one bad number in a batch -----------------------------------------------------------


def test_one_refused_number_in_100_fails_only_itself_within_the_request_budget(
    fake: FakeSens, client: httpx.Client
) -> None:
    messages = [message(to=f"010-0000-{i:04d}") for i in range(100)]
    fake.refuse_number("010-0000-0037")

    results = sender_for(fake, client).send(messages)

    failed = [r for r in results if not r.ok]
    assert [r.message.to for r in failed] == ["010-0000-0037"]
    assert isinstance(failed[0].error, SendRejected)
    assert failed[0].error.status == 400
    assert "invalid recipient" in failed[0].error.reason
    assert len(fake.accepted) == 99
    assert len({a.to for a in fake.accepted}) == 99  # none of the 99 went twice
    # The refused request, then two halves per level of 100 -> 50 -> ... -> 1.
    assert fake.send_requests <= 1 + 2 * 7 + 2


def test_a_refused_sender_is_not_split_and_its_other_requests_are_not_sent(
    fake: FakeSens, client: httpx.Client
) -> None:
    unregistered = "02-9999-0000"
    sms = [message(to=f"010-0000-{i:04d}", sender=unregistered) for i in range(150)]
    lms = message("가" * 60, sender=unregistered, kind=MessageKind.REMINDER)

    results = sender_for(fake, client).send([*sms, lms])

    assert all(isinstance(r.error, SenderRefused) for r in results)
    # The first request says the number is not registered; SMS request 2 and the
    # LMS request share the sender and are not sent to be refused again.
    assert fake.send_requests == 1


def test_a_signature_refusal_is_not_split(fake: FakeSens, client: httpx.Client) -> None:
    messages = [message(to=f"010-0000-{i:04d}") for i in range(8)]

    results = sender_for(fake, client, secret_key="another-secret").send(messages)

    assert all(isinstance(r.error, SendRejected) and r.error.status == 401 for r in results)
    assert fake.send_requests == 1


def test_a_lost_answer_is_not_split_or_retried_within_the_call(
    fake: FakeSens, client: httpx.Client
) -> None:
    fake.fail_next(1, status=502, accept=True)
    messages = [message(to=f"010-0000-{i:04d}") for i in range(8)]

    results = sender_for(fake, client).send(messages)

    assert all(isinstance(r.error, SendUnclear) for r in results)
    assert fake.send_requests == 1
    assert len(fake.accepted) == 8  # each went once


def test_send_requests_sends_one_request_per_step(fake: FakeSens, client: httpx.Client) -> None:
    event = message(
        "(광고)샘플 스튜디오\n리뷰 이벤트 안내\n무료수신거부 080-000-0000", kind=MessageKind.EVENT
    )
    steps = sender_for(fake, client).send_requests([message(), message("가" * 60), event])

    first = next(steps)

    assert [r.ok for r in first] == [True]
    assert fake.send_requests == 1  # the LMS and the advertising wait for the caller
    assert sum(len(step) for step in steps) == 2
    assert fake.send_requests == 3


# --- asking SENS what it accepted -----------------------------------------------------


def _window(seconds: float = 60) -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(seconds=seconds), now + timedelta(seconds=1)


def test_find_accepted_finds_the_messages_of_a_lost_answer_and_nothing_else(
    fake: FakeSens, client: httpx.Client
) -> None:
    sender = sender_for(fake, client)
    # Other traffic in the window: the same customer's confirmation earlier,
    # and an advertising text to the other customer.
    earlier = sender.send([message(to="010-0000-0001")])
    sender.send(
        [
            message(
                "(광고)샘플 스튜디오\n이벤트\n무료수신거부 080-000-0000",
                to="010-0000-0002",
                kind=MessageKind.EVENT,
            )
        ]
    )
    lost = [message("내일 방문 안내", to="010-0000-0001"), message(to="010-0000-0002")]
    fake.drop_next(1)
    assert all(r.unclear for r in sender.send(lost))
    never_sent = message(to="010-0000-0003")

    found = sender.find_accepted([*lost, never_sent], *_window())

    lost_request = fake.accepted[-1].request_id
    assert found == [lost_request, lost_request, None]
    assert lost_request != earlier[0].request_id
    assert fake.list_requests >= 1


def test_find_accepted_never_matches_a_request_already_recorded_for_another_message(
    fake: FakeSens, client: httpx.Client
) -> None:
    sender = sender_for(fake, client)
    [confirmation] = sender.send([message(to="010-0000-0001")])
    assert confirmation.request_id is not None  # SENS took it
    guide = message(to="010-0000-0001")  # alike to SENS's list: same number, type, sender
    fake.drop_next(1, accept=False)  # the guide's answer is lost and SENS never took it
    assert all(r.unclear for r in sender.send([guide]))

    assert sender.find_accepted([guide], *_window()) == [confirmation.request_id]  # the trap
    assert sender.find_accepted([guide], *_window(), exclude={confirmation.request_id}) == [None]


def test_find_accepted_reads_every_page_of_the_window(fake: FakeSens, client: httpx.Client) -> None:
    sender = sender_for(fake, client)
    assert all(r.ok for r in sender.send([message(to=f"010-0000-{i:04d}") for i in range(230)]))
    last = message(to="010-0000-0229")

    [found] = sender.find_accepted([last], *_window())

    assert found == fake.accepted[-1].request_id
    assert fake.list_requests == 3  # 100 + 100 + 30


def test_find_accepted_does_not_look_outside_the_window(
    fake: FakeSens, client: httpx.Client
) -> None:
    sender = sender_for(fake, client)
    sender.send([message()])
    later = datetime.now(UTC) + timedelta(seconds=2)

    assert sender.find_accepted([message()], later, later + timedelta(minutes=5)) == [None]


def test_find_accepted_raises_send_failed_when_the_list_cannot_be_read(
    fake: FakeSens, client: httpx.Client
) -> None:
    fake.fail_next(1, status=500)

    with pytest.raises(SendFailed):
        sender_for(fake, client).find_accepted([message()], *_window())


def test_the_list_request_is_signed_over_its_query_string(
    fake: FakeSens, client: httpx.Client
) -> None:
    with pytest.raises(SendFailed, match="signature mismatch"):
        sender_for(fake, client, secret_key="another-secret").find_accepted([message()], *_window())
    assert fake.refusals[-1][0] == 401
