"""Canaries through every logger: a password, a SENS secret, a bot token, cookie values and
a full phone number, registered as the application registers them, never come out of
the process, whatever configured the root logger and at whatever level.

Emitted: real botocore request and response bodies (moto), the lines Selenium,
urllib3 and httpx write (their own logger names and formats), an exception a
library logs with its traceback, and the project's own lines. Then a real
Telegram alert over loopback HTTP with httpx logging its request URLs.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator

import httpx
import pytest
from moto import mock_aws

from naver_sms.database.dynamodb_client import make_client
from naver_sms.messaging.telegram import TelegramNotifier
from naver_sms.sandbox.sens import FakeTelegram
from naver_sms.utils.logger import configure_logging, get_logger, logged_operation
from naver_sms.utils.scrub import _forget_all
from tests.log_canaries import (
    Canaries,
    Output,
    basic_config,
    lambda_like_handler,
    logging_restored,
)

CANARIES = Canaries()


@pytest.fixture
def output(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> Iterator[Output]:
    _forget_all()
    with logging_restored():
        yield Output(capfd, caplog)
    _forget_all()


def _debug_asked_for() -> None:
    """A developer runs with NAVER_SMS_LOG_LEVEL=DEBUG after a basicConfig at DEBUG."""
    basic_config(logging.DEBUG)
    configure_logging("DEBUG")


def _lambda_at_debug() -> None:
    """Lambda's runtime handler on the root at DEBUG (AWS_LAMBDA_LOG_LEVEL), ours at INFO."""
    lambda_like_handler(logging.DEBUG)
    configure_logging("INFO")


def _basic_config_at_info() -> None:
    basic_config(logging.INFO)
    configure_logging("INFO")


def _handler_added_after() -> None:
    """A library or a debugging session adds a plain handler after we configured."""
    configure_logging("DEBUG")
    basic_config(logging.DEBUG)


def _text_form_at_debug() -> None:
    """A person at a terminal (the human text form) asks for DEBUG after a basicConfig."""
    basic_config(logging.DEBUG)
    configure_logging("DEBUG", form="text")


SETUPS: dict[str, tuple[Callable[[], None], bool]] = {
    # name: (setup, whether botocore's DEBUG request bodies are printed at all)
    "debug asked for": (_debug_asked_for, True),
    "lambda root at debug": (_lambda_at_debug, False),
    "basicConfig at info": (_basic_config_at_info, False),
    "handler added after": (_handler_added_after, True),
    "text form at debug": (_text_form_at_debug, True),
}


def _botocore_request_and_response_bodies() -> None:
    """A real DynamoDB write and read (moto): botocore logs both bodies at DEBUG."""
    with mock_aws():
        client = make_client()
        client.create_table(
            TableName="canary",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        cookies = json.dumps([{"name": "NID_AUT", "value": CANARIES.cookies[0]}])
        item = {"id": {"S": "5000001_1"}, "phone": {"S": CANARIES.phone}, "cookies": {"S": cookies}}
        client.put_item(TableName="canary", Item=item)
        client.get_item(TableName="canary", Key={"id": {"S": "5000001_1"}})


def _vendor_lines() -> None:
    """What Selenium, urllib3 and httpx write, with their logger names and formats."""
    selenium = logging.getLogger("selenium.webdriver.remote.remote_connection")
    script = {"script": "arguments[0].value = arguments[1]", "args": [CANARIES.password]}
    selenium.debug("%s %s %s", "POST", "http://localhost:9515/session/1/execute/sync", script)
    cookie = {"name": "NID_SES", "value": CANARIES.cookies[1]}
    selenium.debug(
        "Remote response: status=%s | data=%s | headers=%s", 200, {"value": [cookie]}, {}
    )
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s',
        *("http", "localhost", 9515, "POST", f"/session/1/cookie/{CANARIES.cookies[1]}"),
        *("HTTP/1.1", 200, 14),
    )
    url = httpx.URL(f"https://api.telegram.org/bot{CANARIES.bot_token}/sendMessage")
    logging.getLogger("httpx").info(
        'HTTP Request: %s %s "%s %d %s"', "POST", url, "HTTP/1.1", 200, "OK"
    )
    try:
        raise ConnectionError(
            f"SENS 401 for signature of {CANARIES.sens_secret} to {CANARIES.phone}"
        )
    except ConnectionError:
        logging.getLogger("urllib3.connectionpool").warning(
            "Retrying after %s", "error", exc_info=True, extra={"body": CANARIES.password}
        )


def _project_lines() -> None:
    log = get_logger("naver_sms.canary")
    log.info(
        "Booking retrieved for 010-0000-1234",
        operation="get_booking",
        context={"header": f"Cookie: NID_AUT={CANARIES.cookies[0]}", "to": CANARIES.phone},
    )
    log.warning("Login typed", note=CANARIES.password, url=f"/bot{CANARIES.bot_token}/x")
    with pytest.raises(RuntimeError), logged_operation("sens_send", "Sent"):
        raise RuntimeError(f"signing with {CANARIES.sens_secret} failed for +821000001234")


@pytest.mark.parametrize("setup", list(SETUPS))
def test_no_canary_leaves_through_any_logger_however_the_root_was_configured(
    output: Output, setup: str
) -> None:
    configure, bodies_printed = SETUPS[setup]
    configure()
    CANARIES.register()

    _botocore_request_and_response_bodies()
    _vendor_lines()
    _project_lines()

    texts = output.read()
    everything = "\n".join(texts.values())
    assert "010-****-1234" in everything  # the lines came out, masked
    assert "Booking retrieved" in texts["stderr"]
    assert ("Making request for OperationModel(name=PutItem)" in everything) is bodies_printed
    assert CANARIES.leaks(texts) == []


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=CANARIES.bot_token) as server:
        yield server


def _httpx_at_info() -> None:
    basic_config(logging.INFO)
    configure_logging("INFO")
    logging.getLogger("httpx").setLevel(logging.INFO)


@pytest.mark.parametrize("configure", [_httpx_at_info, _debug_asked_for], ids=["info", "debug"])
def test_a_real_telegram_alert_never_shows_the_bot_token(
    output: Output, telegram: FakeTelegram, configure: Callable[[], None]
) -> None:
    configure()  # the token is not registered by the test: the notifier does it

    with TelegramNotifier(token=CANARIES.bot_token, chat_id="1000", base_url=telegram.url) as bot:
        assert bot.alert(f"no session for the store; customer {CANARIES.phone} waits")
        telegram.fail_next(1)
        assert not bot.alert("store 5000001 skipped this cycle")

    texts = output.read()
    assert "HTTP Request: POST" in texts["stderr"]  # httpx did log the URLs
    assert "/bot***/sendMessage" in texts["stderr"]
    assert "Operator notification failed" in texts["stderr"]
    [message] = telegram.messages
    assert message.text.endswith("customer 010-****-1234 waits")
    assert CANARIES.leaks({**texts, "chat": message.text}) == []


SE_DEBUG_PROCESS = """
import logging
from naver_sms.utils.logger import configure_logging
from naver_sms.utils.scrub import register_secret
configure_logging("INFO")
register_secret({password!r})
import selenium.webdriver  # with SE_DEBUG: selenium at DEBUG with a handler of its own
logging.getLogger("selenium.webdriver.remote.remote_connection").debug(
    "%s %s %s", "POST", "http://localhost:9515/session/1/execute/sync", {{"args": [{password!r}]}}
)
"""


def test_se_debug_s_own_selenium_handler_prints_scrubbed_command_bodies() -> None:
    """SE_DEBUG makes Selenium, when first imported (at the first login, after we
    configured), set its logger to DEBUG and give it a stderr handler of its own."""
    code = SE_DEBUG_PROCESS.format(password=CANARIES.password)
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "SE_DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert "execute/sync {'args': ['***']}" in done.stderr  # Selenium's handler did print it
    assert CANARIES.leaks({"stdout": done.stdout, "stderr": done.stderr}) == []
