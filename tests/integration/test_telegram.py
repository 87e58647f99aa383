"""The Telegram notifier against the fake Bot API over loopback HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from naver_sms import bootstrap
from naver_sms.config import Settings
from naver_sms.messaging.base import Notifier, NullNotifier
from naver_sms.messaging.telegram import TelegramNotifier, format_summary
from naver_sms.sandbox.sens import FakeTelegram
from naver_sms.utils.scrub import _forget_all, register_secret, scrub

TOKEN = "123456:CANARY-token-9d2e"
CHAT = "-100000000"

REPORT: dict[str, Any] = {
    "now": "2026-11-25T13:05:00+09:00",
    "stores": 2,
    "bookings": 37,
    "sent": [
        {"booking_num": "5000001_1", "phone_masked": "010-****-1111", "kind": "confirmation"},
        {"booking_num": "5000001_2", "phone_masked": "010-****-2222", "kind": "reminder"},
        {"booking_num": "5000001_3", "phone_masked": "010-****-3333", "kind": "confirmation"},
    ],
    "failed": [{"booking_num": "5000001_4", "kind": "event", "error": "to 010-0000-4444 refused"}],
    "invalid": [],
}


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def notifier(fake: FakeTelegram, sleeps: list[float]) -> Iterator[TelegramNotifier]:
    with httpx.Client() as client:
        yield TelegramNotifier(
            token=TOKEN,
            chat_id=CHAT,
            base_url=fake.url,
            client=client,
            sleep=sleeps.append,
            timeout=2.0,
        )


def test_a_429_waits_retry_after_and_then_succeeds(
    fake: FakeTelegram, notifier: TelegramNotifier, sleeps: list[float]
) -> None:
    fake.rate_limit_next(1, retry_after=3)

    assert notifier.alert("login challenge") is True

    assert sleeps == [3.0]
    [message] = fake.messages
    assert (message.chat_id, message.text) == (CHAT, "naver-sms alert: login challenge")


def test_a_retry_after_beyond_the_bound_is_not_waited_for(
    fake: FakeTelegram, sleeps: list[float]
) -> None:
    fake.rate_limit_next(1, retry_after=600)
    with TelegramNotifier(
        token=TOKEN, chat_id=CHAT, base_url=fake.url, sleep=sleeps.append, max_wait=30
    ) as notifier:
        assert notifier.alert("x") is False

    assert sleeps == []
    assert fake.messages == []


def test_repeated_429s_give_up_after_the_last_attempt(
    fake: FakeTelegram, notifier: TelegramNotifier, sleeps: list[float]
) -> None:
    fake.rate_limit_next(5, retry_after=1)

    assert notifier.alert("x") is False
    assert sleeps == [1.0, 1.0]


@pytest.mark.parametrize("fault", ["500", "hang", "gone"])
def test_a_failing_telegram_is_logged_and_never_raised(
    fake: FakeTelegram, sleeps: list[float], capsys: pytest.CaptureFixture[str], fault: str
) -> None:
    url = fake.url
    if fault == "500":
        fake.fail_next(1)
    elif fault == "hang":
        fake.hang_next(1, seconds=5)
    else:
        fake.stop()
    with TelegramNotifier(token=TOKEN, chat_id=CHAT, base_url=url, timeout=0.3) as notifier:
        assert notifier.summary(REPORT) is False

    [line] = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert line["level"] == "ERROR"
    assert line["operation"] == "telegram_send"
    assert TOKEN not in json.dumps(line)


def test_a_wrong_token_is_a_logged_failure(fake: FakeTelegram, sleeps: list[float]) -> None:
    with TelegramNotifier(token="0:wrong", chat_id=CHAT, base_url=fake.url) as notifier:
        assert notifier.alert("x") is False


def test_a_quiet_cycle_sends_no_chat_message(
    fake: FakeTelegram, notifier: TelegramNotifier
) -> None:
    assert notifier.summary({"now": "2026-11-25T13:05:00+09:00", "sent": [], "failed": []}) is False
    assert fake.messages == []


def test_the_summary_counts_by_kind_lists_failures_and_masks_phones(
    fake: FakeTelegram, notifier: TelegramNotifier
) -> None:
    assert notifier.summary(REPORT) is True

    [message] = fake.messages
    assert "sent 3 (confirmation 2, reminder 1)" in message.text
    assert "failed 1:" in message.text
    assert "5000001_4 event" in message.text
    assert "010-****-4444" in message.text
    assert "0000-4444" not in message.text


def test_a_long_failure_list_is_cut() -> None:
    report = {"sent": [], "failed": [{"booking_num": str(i), "kind": "event"} for i in range(25)]}

    assert "... and 15 more" in format_summary(report)


def test_alerts_mask_phone_numbers(fake: FakeTelegram, notifier: TelegramNotifier) -> None:
    notifier.alert("invalid booking for 01000005678")

    assert fake.messages[0].text.endswith("010-****-5678")


def test_settings_without_a_token_give_the_null_notifier() -> None:
    notifier: Notifier = bootstrap.build_notifier(Settings())

    assert isinstance(notifier, NullNotifier)
    assert notifier.summary(REPORT) is False
    assert notifier.alert("x") is False


def test_settings_with_a_token_post_to_the_configured_api(fake: FakeTelegram) -> None:
    settings = Settings(
        telegram_bot_token=TOKEN,  # type: ignore[arg-type]
        telegram_chat_id=CHAT,
        telegram_api_url=fake.url,
    )

    notifier = bootstrap.build_notifier(settings)

    assert isinstance(notifier, TelegramNotifier)
    assert TOKEN not in repr(notifier)
    assert notifier.alert("hello") is True
    notifier.close()


def test_neither_the_token_nor_a_full_phone_reaches_the_logs(
    fake: FakeTelegram, notifier: TelegramNotifier, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.rate_limit_next(1, retry_after=1)
    notifier.summary(REPORT)
    fake.fail_next(1)
    notifier.alert("customer 010-0000-4444")

    err = capsys.readouterr().err
    assert err
    assert TOKEN not in err
    assert "CANARY" not in err
    assert "0000-4444" not in err


def test_the_same_alert_is_posted_once_per_six_hours_not_every_cycle(fake: FakeTelegram) -> None:
    clock = [1000.0]
    captcha = "Naver asks for a captcha: run naver-sms login --headed"
    with httpx.Client() as client:

        def cycle_notifier() -> TelegramNotifier:
            # Each cycle (each Lambda invocation) builds its own notifier.
            return TelegramNotifier(
                token=TOKEN,
                chat_id=CHAT,
                base_url=fake.url,
                client=client,
                monotonic=lambda: clock[0],
            )

        assert cycle_notifier().alert(captcha)
        clock[0] += 300  # the next cycle, five minutes on
        assert not cycle_notifier().alert(captcha)
        assert cycle_notifier().alert("no Naver session, nothing fetched")
        clock[0] += 6 * 3600
        assert cycle_notifier().alert(captcha)

    assert [message.text.count("captcha") for message in fake.messages] == [1, 0, 1]


def test_a_dry_run_summary_says_dry_run_and_would_send(
    fake: FakeTelegram, notifier: TelegramNotifier
) -> None:
    assert notifier.summary({"dry_run": True, **REPORT}) is True

    [message] = fake.messages
    first, second = message.text.splitlines()[:2]
    assert first.startswith("DRY RUN")
    assert second == "would send 3 (confirmation 2, reminder 1)"
    assert "sent 3" not in message.text


def test_a_real_run_summary_does_not_say_dry_run(
    fake: FakeTelegram, notifier: TelegramNotifier
) -> None:
    notifier.summary({"dry_run": False, **REPORT})

    assert "DRY RUN" not in fake.messages[0].text
    assert "would send" not in fake.messages[0].text


def test_an_alert_with_every_is_repeated_only_after_that_long(fake: FakeTelegram) -> None:
    clock = [1000.0]
    refused = "SENS refuses sender 0200000000 of store 5000001: register it in the console"
    with TelegramNotifier(
        token=TOKEN, chat_id=CHAT, base_url=fake.url, monotonic=lambda: clock[0]
    ) as notifier:
        assert notifier.alert(refused, every=timedelta(days=1))
        clock[0] += 7 * 3600  # past the six-hour default
        assert not notifier.alert(refused, every=timedelta(days=1))
        clock[0] += 17 * 3600
        assert notifier.alert(refused, every=timedelta(days=1))

    assert len(fake.messages) == 2


def test_chat_messages_carry_no_registered_secret(
    fake: FakeTelegram, notifier: TelegramNotifier
) -> None:
    register_secret("sens-CANARY-51be2d08")
    try:
        notifier.alert("SENS answered 401 for key sens-CANARY-51be2d08")
        notifier.summary({**REPORT, "failed": [{"kind": "event", "error": "sens-CANARY-51be2d08"}]})
    finally:
        _forget_all()

    assert len(fake.messages) == 2
    assert all("CANARY" not in message.text for message in fake.messages)
    assert fake.messages[0].text == "naver-sms alert: SENS answered 401 for key ***"


def test_building_the_notifier_registers_its_token_with_the_scrubber() -> None:
    token = "7000000002:CANARY-registered-by-build"
    _forget_all()
    try:
        TelegramNotifier(token=SecretStr(token), chat_id=CHAT).close()

        assert scrub(f"a proxy error quoting {token}") == "a proxy error quoting ***"
    finally:
        _forget_all()
