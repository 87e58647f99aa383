"""The start-up rules of `run`, `serve` and the Lambda, as pure functions and settings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from naver_sms import bootstrap
from naver_sms.config import (
    ConfigError,
    Settings,
    is_loopback_url,
    load_settings,
    must_rehearse,
    parse_moment,
)
from naver_sms.domain.booking import KST
from naver_sms.entrypoints.cli import _failure_lines
from naver_sms.report import CycleError, CycleReport
from naver_sms.utils.scrub import _forget_all, scrub

REAL = datetime(2026, 12, 1, 22, 30, tzinfo=KST)
SENS = "https://sens.apigw.ntruss.com"
SANDBOX = "http://127.0.0.1:8123"


@pytest.fixture(autouse=True)
def no_registered_secrets() -> Iterator[None]:
    _forget_all()
    yield
    _forget_all()


# ---------------------------------------------------------------- the clock override


def test_a_reminder_moved_fourteen_hours_early_is_only_rehearsed() -> None:
    assert must_rehearse(datetime(2026, 12, 2, 8, 30, tzinfo=KST), REAL, SENS)


def test_a_moment_in_the_past_is_rehearsed_too() -> None:
    assert must_rehearse(REAL - timedelta(hours=3), REAL, SENS)


def test_a_moment_within_five_minutes_of_the_real_clock_sends() -> None:
    assert not must_rehearse(REAL + timedelta(minutes=5), REAL, SENS)
    assert not must_rehearse(REAL - timedelta(minutes=4, seconds=59), REAL, SENS)
    assert must_rehearse(REAL + timedelta(minutes=5, seconds=1), REAL, SENS)


def test_the_same_instant_in_another_zone_is_the_real_clock() -> None:
    assert not must_rehearse(REAL.astimezone(UTC), REAL, SENS)


@pytest.mark.parametrize("url", [SANDBOX, "http://localhost:9", "http://[::1]:9"])
def test_a_provider_on_this_machine_may_be_sent_to_at_any_moment(url: str) -> None:
    assert not must_rehearse(datetime(2026, 11, 25, 9, 0, tzinfo=KST), REAL, url)


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:80", True),
        ("http://127.8.9.10", True),
        ("http://LOCALHOST:8000", True),
        ("http://[::1]:8000", True),
        ("https://sens.apigw.ntruss.com", False),
        ("http://127.0.0.1.example.com", False),
        ("http://10.0.0.1", False),
    ],
)
def test_loopback_means_this_machine_only(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


def test_a_naive_moment_is_kst_whatever_the_host_zone() -> None:
    assert parse_moment("2026-11-25T09:00") == datetime(2026, 11, 25, 9, 0, tzinfo=KST)


@pytest.mark.parametrize("text", ["9999-12-31T23:00", "0001-01-01T00:00", "1999-12-31T23:59"])
def test_a_moment_outside_the_years_of_bookings_is_refused_with_one_message(text: str) -> None:
    with pytest.raises(ValueError, match="expected a moment in the years 2000-2099"):
        parse_moment(text)


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize(
    "variable", ["SENS_URL", "NAVER_BOOKING_URL", "NAVER_LOGIN_URL", "TELEGRAM_API_URL"]
)
def test_a_clear_text_url_to_another_host_is_a_config_error(variable: str) -> None:
    with pytest.raises(ConfigError, match=rf"^environment variable {variable}: expected https://"):
        load_settings({variable: "http://sens.example.com"})


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"])
def test_a_clear_text_url_to_this_machine_is_allowed(url: str) -> None:
    assert load_settings({"SENS_URL": url}).sens_url == url


def test_an_endpoint_without_a_scheme_names_the_variable_and_the_form() -> None:
    with pytest.raises(
        ConfigError, match=r"^environment variable AWS_ENDPOINT_URL: expected a URL like https://"
    ):
        load_settings({"AWS_ENDPOINT_URL": "localhost:8000"})


def test_every_secret_is_removed_from_any_output_once_read() -> None:
    values = {
        "NAVER_PASSWORD": "pw-canary-1",
        "SENS_ACCESS_KEY": "access-canary-2",
        "SENS_SECRET_KEY": "secret-canary-3",
        "TELEGRAM_BOT_TOKEN": "123:token-canary-4",
    }
    load_settings(values)

    assert "canary" not in scrub(" ".join(values.values()))


def test_a_secret_is_removed_even_from_an_error_about_another_variable() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"SENS_SECRET_KEY": "secret-canary-5", "SENS_URL": "secret-canary-5"})

    assert "SENS_URL" in str(raised.value)
    assert "canary" not in scrub(str(raised.value))


# ---------------------------------------------------------------- the sender


def test_no_sens_keys_is_a_refusal_not_a_quiet_outbox(tmp_path: Path) -> None:
    settings = Settings(outbox_path=tmp_path / "outbox.jsonl")

    with pytest.raises(ConfigError, match=r"no SENS keys.*--dry-run"):
        bootstrap.build_sender(settings)


def test_some_sens_keys_are_an_error_in_a_dry_run_too(tmp_path: Path) -> None:
    settings = Settings(sens_access_key="only-this-one", outbox_path=tmp_path / "o.jsonl")  # type: ignore[arg-type]

    with pytest.raises(ConfigError, match="expected all three, 1 set"):
        bootstrap.build_sender(settings, dry_run=True)


def test_an_outbox_under_a_file_is_named_before_anything_is_written(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")

    with pytest.raises(
        ConfigError, match=r"NAVER_SMS_OUTBOX.*not-a-folder is not a writable folder"
    ):
        bootstrap.check_outbox(blocker / "outbox.jsonl")


def test_an_outbox_in_a_folder_yet_to_be_made_is_fine(tmp_path: Path) -> None:
    bootstrap.check_outbox(tmp_path / "new" / "outbox.jsonl")

    assert not (tmp_path / "new").exists()


# ---------------------------------------------------------------- the failure lines


def test_a_store_error_is_shown_in_its_own_words_not_as_stores_skipped() -> None:
    report = CycleReport(now=REAL)
    report.errors.append(
        CycleError("7100001", "16 bookings of store 7100001 not stored; retried next cycle")
    )
    report.errors.append(CycleError("7100002", "Naver answered HTTP 500"))

    assert _failure_lines(report) == [
        "16 bookings of store 7100001 not stored; retried next cycle",
        "store 7100002: Naver answered HTTP 500",
    ]
