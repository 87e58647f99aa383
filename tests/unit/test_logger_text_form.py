"""On a terminal a person reads the log: short text lines at WARNING and above.

Everywhere else (Lambda, systemd, a pipe) the lines stay JSON in the seed's
shape, and NAVER_SMS_LOG_FORMAT overrides the guess.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from naver_sms.utils.logger import (
    FORMAT_VARIABLE,
    LEVEL_VARIABLE,
    LogFormatError,
    configure_logging,
    get_logger,
    log_format,
)
from tests.log_canaries import logging_restored


@pytest.fixture(autouse=True)
def _restored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(LEVEL_VARIABLE, raising=False)
    monkeypatch.delenv(FORMAT_VARIABLE, raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    with logging_restored():
        yield


def test_a_terminal_gets_text_and_a_pipe_gets_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("naver_sms.utils.logger._stderr_is_terminal", lambda: True)
    assert log_format() == "text"
    monkeypatch.setattr("naver_sms.utils.logger._stderr_is_terminal", lambda: False)
    assert log_format() == "json"


@pytest.mark.parametrize(("value", "expected"), [("json", "json"), ("TEXT", "text")])
def test_the_setting_overrides_the_guess(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    monkeypatch.setattr("naver_sms.utils.logger._stderr_is_terminal", lambda: expected == "json")
    assert log_format(environ={FORMAT_VARIABLE: value}) == expected


def test_a_misspelt_format_names_the_setting_and_the_two_choices() -> None:
    with pytest.raises(LogFormatError) as caught:
        log_format(environ={FORMAT_VARIABLE: "pretty"})
    message = str(caught.value)
    assert "NAVER_SMS_LOG_FORMAT='pretty'" in message
    assert "json" in message
    assert "text" in message
    assert "\n" not in message


def test_the_lambda_logs_json_whatever_the_setting_says() -> None:
    environ = {"AWS_LAMBDA_FUNCTION_NAME": "naver-sms", FORMAT_VARIABLE: "text"}
    assert log_format(environ=environ) == "json"
    # A typo there must not stop the function either.
    assert log_format(environ={**environ, FORMAT_VARIABLE: "pretty"}) == "json"


def test_a_text_warning_is_one_short_line_with_the_store_and_a_masked_phone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", form="text")
    get_logger().warning(
        "Naver refused the session, checking once more",
        operation="ensure_session",
        context={"biz_id": "5000001", "phone": "01000005678"},
        error="customer 010-0000-5678 waits",
    )

    line = capsys.readouterr().err
    assert line == (
        "warning: store 5000001: Naver refused the session, checking once more "
        "(customer 010-****-5678 waits)\n"
    )


def test_info_lines_stay_off_a_terminal_unless_asked_for(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_logging("INFO", form="text")
    get_logger().info("Cycle finished", operation="cycle")
    assert capsys.readouterr().err == ""

    monkeypatch.setenv(LEVEL_VARIABLE, "INFO")
    configure_logging("INFO", form="text")
    get_logger().info("Cycle finished", operation="cycle")
    assert capsys.readouterr().err == "info: Cycle finished\n"


def test_the_json_form_keeps_the_seed_shape(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", form="json")
    get_logger().info("Cycle finished", operation="cycle", context={"stores": 1})

    line = json.loads(capsys.readouterr().err)
    assert line["message"] == "Cycle finished"
    assert line["context"] == {"stores": 1}
    assert line["level"] == "INFO"


def test_a_library_warning_says_which_library_spoke(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", form="text")
    logging.getLogger("botocore.retries").warning("retrying for %s", "010-0000-5678")

    assert capsys.readouterr().err == "warning: botocore.retries: retrying for 010-****-5678\n"
