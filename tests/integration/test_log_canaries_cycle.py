"""The whole flow with the root logger at DEBUG: nothing private leaves the process.

A real cycle with canaries seeded everywhere a secret lives: the Naver password
(typed by a real headless Chromium login into the sandbox), the SENS secret
(signing every request), the Telegram bot token (in every chat URL), the
cookie values Naver issued at the login, and a customer's phone number. The
application registers its secrets itself (nothing here calls `register`),
libraries log at DEBUG through a `basicConfig` handler, and every byte written
to stdout, stderr and every log record is searched.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from naver_sms import bootstrap
from naver_sms.config import AppConfig, load_settings
from naver_sms.cycle import run_cycle
from naver_sms.domain.booking import KST
from naver_sms.sandbox.naver import NaverSandbox, booking_entry
from naver_sms.sandbox.sens import FakeSens, FakeTelegram
from naver_sms.utils.logger import configure_logging
from naver_sms.utils.scrub import _forget_all
from tests.log_canaries import Canaries, Output, basic_config, logging_restored

pytestmark = pytest.mark.browser

CANARIES = Canaries()
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=KST)
STORE, SENDER, USER = "5000001", "0200000000", "owner@example.invalid"


@pytest.fixture
def output(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> Iterator[Output]:
    caplog.set_level(logging.DEBUG)
    _forget_all()  # the application must register every secret on its own
    with logging_restored():
        yield Output(capfd, caplog)
    _forget_all()


@pytest.mark.parametrize(
    ("level", "form"),
    [("INFO", "json"), ("DEBUG", "json"), ("DEBUG", "text")],
    ids=["default", "debug-asked-for", "text-form-debug"],
)
def test_a_cycle_a_browser_login_and_an_alert_leak_nothing_at_debug(
    output: Output, browser_env: dict[str, str], tmp_path: Path, level: str, form: str
) -> None:
    with (
        NaverSandbox(now=NOW, stores={STORE: 0}, users={USER: CANARIES.password}) as naver,
        FakeSens(senders=(SENDER,), secret_key=CANARIES.sens_secret) as sens,
        FakeTelegram(token=CANARIES.bot_token) as telegram,
    ):
        naver.add_booking(
            STORE,
            booking_entry(
                STORE,
                1_500_000_001,
                NOW.replace(hour=15),
                status="RC03",
                name=f"김민지 {CANARIES.phone}",  # customers type their number into the name
                phone=CANARIES.phone,
            ),
        )
        env = {
            **browser_env,
            **naver.environment(),
            "NAVER_SMS_STORE": "sqlite",
            "NAVER_SMS_DB": str(tmp_path / "canary.db"),
            "NAVER_SMS_LOG_LEVEL": level,
            "NAVER_USERNAME": USER,
            "NAVER_PASSWORD": CANARIES.password,
            "SENS_ACCESS_KEY": sens.access_key,
            "SENS_SECRET_KEY": CANARIES.sens_secret,
            "SENS_SERVICE_ID": sens.service_id,
            "SENS_URL": sens.url,
            "TELEGRAM_BOT_TOKEN": CANARIES.bot_token,
            "TELEGRAM_CHAT_ID": "1000",
            "TELEGRAM_API_URL": telegram.url,
        }
        basic_config(logging.DEBUG)  # what any `logging.basicConfig(level=DEBUG)` does
        configure_logging(level, form=form)
        logging.getLogger().setLevel(logging.DEBUG)
        settings = load_settings(env)
        bootstrap.create_tables(settings)  # no session stored: the cycle logs in
        config = AppConfig.model_validate(
            {"stores": [{"id": STORE, "name": "샘플 스튜디오", "sender": SENDER}]}
        )
        with bootstrap.cycle_ports(settings, config=config) as ports:
            report = run_cycle(ports=ports, now=NOW)
            ports.notifier.alert(f"canary alert for {CANARIES.phone}")
            print(json.dumps(report.to_dict(), ensure_ascii=False))
        with bootstrap.session_repository(settings) as sessions:
            stored = sessions.get_session()

    assert naver.requests["login"] >= 1, "the cycle should have logged in with the browser"
    assert [m.to for m in sens.accepted] == [CANARIES.phone]
    assert len(telegram.messages) >= 2  # the summary and the alert went out
    assert stored is not None
    issued = [cookie["value"] for cookie in stored.get_cookies_list()]
    texts = output.read()
    everything = "\n".join(texts.values())
    assert "010-****-1234" in everything  # the lines came out, masked
    assert CANARIES.leaks(texts) == []
    assert [value for value in issued if value in everything] == []
