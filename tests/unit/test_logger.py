"""Log lines: one JSON object each, the seed's keys, nothing private."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from naver_sms.utils.logger import VENDOR_LOGGERS, configure_logging, get_logger, logged_operation
from naver_sms.utils.scrub import _forget_all, register_secret
from tests.log_canaries import basic_config, logging_restored

PHONE = "010-0000-1234"
SEED_KEYS = {"timestamp", "level", "message", "operation", "context", "duration_ms", "error"}


def lines(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines()]


def test_a_log_line_has_the_seed_shape_in_the_seed_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    get_logger().info(
        "Booking retrieved successfully",
        operation="get_booking",
        context={"booking_num": "1051707_12345", "phone_masked": "010-****-5678"},
        duration_ms=45.2345,
    )

    [line] = lines(capsys.readouterr().err)

    assert list(line) == ["timestamp", "level", "message", "operation", "context", "duration_ms"]
    assert line["level"] == "INFO"
    assert line["timestamp"].endswith("Z")
    assert line["duration_ms"] == 45.23
    assert line["context"]["phone_masked"] == "010-****-5678"


def test_other_keyword_arguments_are_folded_into_context(
    capsys: pytest.CaptureFixture[str],
) -> None:
    get_logger().warning("Store skipped", store="5000001", operation="fetch")

    [line] = lines(capsys.readouterr().err)

    assert set(line) <= SEED_KEYS
    assert line["context"] == {"store": "5000001"}
    assert line["level"] == "WARNING"


def test_a_full_phone_number_anywhere_in_a_line_is_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    get_logger().error(
        "Send to 010-0000-5432 failed",
        context={"raw": "+82 10 0000 5432", "nested": [{"tel": "01000005432"}]},
        error="rejected 01000005432",
    )

    output = capsys.readouterr().err

    for full in ("010-0000-5432", "10 0000 5432", "01000005432"):
        assert full not in output
    assert output.count("010-****-5432") == 4


def test_a_number_inside_an_identifier_is_left_whole_and_one_next_to_a_name_is_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    request_id = "sandbox-a01000005432f2b6c9d0e1f2"  # hex that happens to hold a number
    get_logger().info("Sent", context={"request_id": request_id, "name": "김민지01000005432"})

    output = capsys.readouterr().err

    assert request_id in output
    assert "김민지010-****-5432" in output


def test_values_under_secret_names_are_replaced(capsys: pytest.CaptureFixture[str]) -> None:
    get_logger().info("login", password="hunter2", context={"NID_SES_cookie": "abc", "token": "t"})

    output = capsys.readouterr().err

    for secret in ("hunter2", '"abc"', '"t"'):
        assert secret not in output


def test_logged_operation_times_the_block_and_logs_its_results(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with logged_operation("get_booking", "Booking retrieved", booking_num="1_2") as ctx:
        ctx["found"] = True

    [line] = lines(capsys.readouterr().err)

    assert line["operation"] == "get_booking"
    assert line["context"] == {"booking_num": "1_2", "found": True}
    assert line["duration_ms"] >= 0


def test_logged_operation_logs_a_failure_once_and_lets_it_through(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(KeyError), logged_operation("claim", "Claim attempted"):
        raise KeyError("missing")

    [line] = lines(capsys.readouterr().err)

    assert (line["level"], line["message"]) == ("ERROR", "claim failed")
    assert line["error"] == "KeyError: 'missing'"


def test_an_exception_logged_with_exc_info_becomes_the_error_field(
    capsys: pytest.CaptureFixture[str],
) -> None:
    try:
        raise ValueError("bad value")
    except ValueError:
        get_logger().exception("Unexpected", operation="run")

    [line] = lines(capsys.readouterr().err)

    assert line["level"] == "ERROR"
    assert line["error"] == "ValueError: bad value"


def test_the_level_filters_lower_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("WARNING")
    try:
        get_logger().info("hidden")
        get_logger().warning("shown")
    finally:
        configure_logging("INFO")

    assert [line["message"] for line in lines(capsys.readouterr().err)] == ["shown"]


def test_an_unknown_level_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown log level 'LOUD'"):
        configure_logging("LOUD")


# --- one scrubber, and the standard library's records in the same shape -------------


@pytest.fixture(autouse=True)
def _restored_logging() -> Iterator[None]:
    with logging_restored():
        yield
    _forget_all()


def test_a_registered_secret_is_removed_whatever_key_it_sits_under(
    capsys: pytest.CaptureFixture[str],
) -> None:
    register_secret("sens-CANARY-51be2d08")

    get_logger().error(
        "SENS refused sens-CANARY-51be2d08",
        context={"header": "x-ncp-apigw-signature-v2 sens-CANARY-51be2d08"},
        error="echo: sens-CANARY-51be2d08",
    )

    [line] = lines(capsys.readouterr().err)
    assert "CANARY" not in json.dumps(line)
    assert line["message"] == "SENS refused ***"


def test_an_object_in_the_context_is_scrubbed_as_its_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = httpx.URL("https://api.telegram.org/bot7000000001:AAE-secret_part/sendMessage")

    get_logger().info("Posting", context={"url": url})

    [line] = lines(capsys.readouterr().err)
    assert line["context"]["url"] == "https://api.telegram.org/bot***/sendMessage"


def test_a_library_record_is_a_json_line_in_the_seed_shape(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO")

    logging.getLogger("naver_sms_test.library").warning("retrying %s for %s", "PutItem", PHONE)

    [line] = lines(capsys.readouterr().err)
    assert set(line) <= SEED_KEYS
    assert line["level"] == "WARNING"
    assert line["message"] == "retrying PutItem for 010-****-1234"
    assert line["context"] == {"logger": "naver_sms_test.library"}


def test_a_library_exception_becomes_the_error_field_scrubbed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO")
    register_secret("aut-CANARY-0c4e91")

    try:
        raise RuntimeError(f"cookie aut-CANARY-0c4e91 refused for {PHONE}")
    except RuntimeError:
        logging.getLogger("naver_sms_test.library").exception("request failed")

    [line] = lines(capsys.readouterr().err)
    assert line["level"] == "ERROR"
    assert line["error"] == "RuntimeError: cookie *** refused for 010-****-1234"


@pytest.mark.parametrize("vendor", VENDOR_LOGGERS)
def test_vendor_debug_lines_stay_out_even_under_a_debug_root(
    capsys: pytest.CaptureFixture[str], vendor: str
) -> None:
    basic_config(logging.DEBUG)  # as a developer, or AWS_LAMBDA_LOG_LEVEL=DEBUG, would
    configure_logging("INFO")

    logging.getLogger(f"{vendor}.inner").debug("request body %s", PHONE)
    logging.getLogger(f"{vendor}.inner").info("request to %s", "/bot1:x/sendMessage")

    assert capsys.readouterr().err == ""


def test_debug_level_lets_vendor_lines_through_scrubbed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("DEBUG")

    logging.getLogger("botocore.endpoint").debug("Making request with params: %r", {"p": PHONE})

    [line] = lines(capsys.readouterr().err)
    assert line["message"] == "Making request with params: {'p': '010-****-1234'}"


def test_the_level_is_read_from_the_environment_when_not_given(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAVER_SMS_LOG_LEVEL", "WARNING")

    configure_logging()
    get_logger().info("hidden")
    logging.getLogger("naver_sms_test.library").info("hidden too")
    get_logger().warning("shown")

    assert [line["message"] for line in lines(capsys.readouterr().err)] == ["shown"]


def test_configuring_twice_prints_each_library_line_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO")
    configure_logging("DEBUG")

    logging.getLogger("naver_sms_test.library").warning("once")

    assert [line["message"] for line in lines(capsys.readouterr().err)] == ["once"]


def test_a_handler_someone_else_put_on_the_root_prints_scrubbed_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Lambda's JSON formatter prints str(exception) and extra attributes itself.
    class LambdaLikeFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            error = record.exc_info[1] if record.exc_info else None
            body = getattr(record, "body", "")
            return f"LAMBDA {record.getMessage()} | {error} | {body}"

    theirs = logging.StreamHandler(sys.stdout)
    theirs.setFormatter(LambdaLikeFormatter())
    logging.getLogger().addHandler(theirs)
    register_secret("pw-CANARY-7f3a9c1e")
    configure_logging("INFO")

    try:
        raise ValueError("typed pw-CANARY-7f3a9c1e")
    except ValueError:
        logging.getLogger("naver_sms_test.library").error(
            "login for %s", PHONE, exc_info=True, extra={"body": "pw-CANARY-7f3a9c1e"}
        )

    out = capsys.readouterr().out
    assert out == "LAMBDA login for 010-****-1234 | typed *** | ***\n"


def test_a_record_that_cannot_be_scrubbed_is_withheld_and_the_caller_goes_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no text")

    configure_logging("INFO")

    logging.getLogger("naver_sms_test.library").error(Unprintable())

    [line] = lines(capsys.readouterr().err)
    assert line["message"] == "log record withheld (RuntimeError)"


def test_an_exception_without_text_still_gives_its_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no text")

    configure_logging("INFO")
    try:
        raise Unprintable
    except Unprintable:
        logging.getLogger("naver_sms_test.library").error("failed for %s", PHONE, exc_info=True)

    [line] = lines(capsys.readouterr().err)
    assert line["message"] == "failed for 010-****-1234"
    assert line["error"] == "Unprintable: <exception str() failed>"
