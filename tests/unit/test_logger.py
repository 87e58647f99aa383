"""Log lines: one JSON object each, the seed's keys, nothing private."""

from __future__ import annotations

import json
from typing import Any

import pytest

from naver_sms.utils.logger import configure_logging, get_logger, logged_operation

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
