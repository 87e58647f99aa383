"""Small things a newcomer trips on: the serve interval, dates, an empty folder, YAML octal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from naver_sms.config import ConfigError, load_app_config
from naver_sms.domain.booking import BookingValidationError, validate_day
from naver_sms.entrypoints.cli import Interval, main


@pytest.mark.parametrize(
    ("text", "seconds"), [("300", 300.0), ("300s", 300.0), ("5m", 300.0), ("1h", 3600.0)]
)
def test_serve_takes_its_interval_in_seconds_minutes_or_hours(text: str, seconds: float) -> None:
    assert Interval().convert(text, None, None) == seconds


def test_an_interval_that_is_no_time_is_one_usage_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--every", "5 minutes"])
    assert exited.value.code == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "5m" in line


def test_a_date_not_written_in_full_is_refused_not_matched_with_nothing() -> None:
    assert validate_day("2026-12-01") == "2026-12-01"
    for text in ("2026-12-1", "26-12-01", "2026/12/01", "2026-13-01"):
        with pytest.raises(BookingValidationError, match="YYYY-MM-DD"):
            validate_day(text)


def test_reading_commands_in_an_empty_folder_create_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NAVER_SMS_STORE", "sqlite")
    monkeypatch.delenv("NAVER_SMS_DB", raising=False)
    for command in (["bookings"], ["messages"]):
        with pytest.raises(SystemExit) as exited:
            main(command)
        assert exited.value.code == 2
        [line] = capsys.readouterr().err.strip().splitlines()
        assert "no database at naver-sms.db" in line
    assert os.listdir(tmp_path) == []


def test_an_unquoted_sender_is_reported_as_written_not_as_yaml_octal(tmp_path: Path) -> None:
    path = tmp_path / "naver-sms.yaml"
    path.write_text(
        'stores:\n  - {id: "5000001", name: 가게, sender: 0200000000}\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_app_config(path)
    assert '"0200000000"' in str(caught.value)
    assert "33554432" not in str(caught.value)
