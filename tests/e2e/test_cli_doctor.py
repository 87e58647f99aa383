"""`naver-sms doctor` against the sandbox shop: a whole setup passes; each broken part
is named on its own FAIL line, with what to do, and the exit code says it failed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from naver_sms.entrypoints.cli import cli
from naver_sms.entrypoints.cli_doctor import doctor
from naver_sms.sandbox.sens import Answer, FakeTelegram
from tests.e2e.conftest import Shop

CHAT_ID = "1000"


class TelegramWithGetMe(FakeTelegram):
    """FakeTelegram with the two reads the doctor makes (`getMe`, `getChat`), which the
    sandbox's fake does not serve yet."""

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        route = path.split("?", 1)[0]
        if not route.endswith(("/getMe", "/getChat")):
            return super().handle(method, path, headers, body)
        if not route.startswith(f"/bot{self.token}/"):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if route.endswith("/getMe"):
            return 200, {"ok": True, "result": {"id": 1, "is_bot": True, "username": "shop_bot"}}
        if f"chat_id={CHAT_ID}" not in path:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: chat not found",
            }
        return 200, {"ok": True, "result": {"id": int(CHAT_ID), "type": "private"}}


@pytest.fixture
def telegram() -> Iterator[TelegramWithGetMe]:
    with TelegramWithGetMe() as server:
        yield server


@pytest.fixture(autouse=True)
def _doctor_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    # Until the lead registers it in cli.py; then this changes nothing.
    monkeypatch.setitem(cli.commands, "doctor", doctor)


def run_doctor(shop: Shop, telegram: FakeTelegram, **env: str) -> tuple[int, dict[str, str]]:
    """The exit code and each check's line by its name (`FAIL  SENS keys: ...`)."""
    environment = {**shop.env, "TELEGRAM_API_URL": telegram.url, **env}
    result = CliRunner().invoke(cli, ["doctor"], env=environment)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    lines = {}
    for line in result.stdout.splitlines():
        if ":" in line and line[:4].strip() in ("ok", "FAIL", "skip"):
            lines[line[6:].split(":", 1)[0]] = line
    return result.exit_code, {
        **lines,
        "_last": result.stdout.splitlines()[-1],
        "_all": result.stdout,
    }


def test_a_complete_sandbox_setup_passes_every_check(shop: Shop, telegram: FakeTelegram) -> None:
    code, lines = run_doctor(shop, telegram)

    assert code == 0, lines["_all"]
    assert lines["config"].startswith("ok")
    assert lines["database"].startswith("ok")
    assert lines["Naver session"].startswith("ok")
    assert lines["SENS keys"].startswith("ok")
    assert lines["Telegram"].startswith("ok")
    assert "shop_bot" in lines["Telegram"]
    assert lines["AlimTalk"].startswith("skip")  # the example config sends no AlimTalk
    assert lines["_last"].startswith("all ")
    assert not [line for line in lines["_all"].splitlines() if line.startswith("FAIL")]


def test_it_sends_nothing_and_records_nothing(shop: Shop, telegram: FakeTelegram) -> None:
    run_doctor(shop, telegram)

    assert shop.sens.send_requests == 0
    assert telegram.messages == []
    assert shop.naver.requests["list"] == 0


def test_a_wrong_sens_secret_fails_the_sens_line_only(shop: Shop, telegram: FakeTelegram) -> None:
    code, lines = run_doctor(shop, telegram, SENS_SECRET_KEY="not-the-secret-key")

    assert code == 1
    assert lines["SENS keys"].startswith("FAIL")
    assert "SENS refused them (HTTP 401" in lines["SENS keys"]
    assert "SENS_SECRET_KEY" in lines["SENS keys"]
    assert "not-the-secret-key" not in lines["_all"]
    assert shop.sens.secret_key not in lines["_all"]
    assert lines["Naver session"].startswith("ok")
    assert lines["_last"].startswith("1 of ")


def test_no_stored_session_says_how_to_log_in(shop: Shop, telegram: FakeTelegram) -> None:
    with sqlite3.connect(shop.env["NAVER_SMS_DB"]) as db:
        db.execute("DELETE FROM session")

    code, lines = run_doctor(shop, telegram)

    assert code == 1
    assert lines["Naver session"].startswith("FAIL")
    assert "naver-sms login" in lines["Naver session"]


def test_a_session_naver_refuses_is_named(shop: Shop, telegram: FakeTelegram) -> None:
    stale = [{"name": n, "value": "expired", "domain": "127.0.0.1"} for n in ("NID_AUT", "NID_SES")]
    with sqlite3.connect(shop.env["NAVER_SMS_DB"]) as db:
        db.execute("UPDATE session SET cookies = ?", (json.dumps(stale),))

    code, lines = run_doctor(shop, telegram)

    assert code == 1
    assert "Naver refused the stored cookies" in lines["Naver session"]
    assert "expired" not in lines["Naver session"]  # no cookie value is printed


def test_missing_tables_say_to_create_them(
    shop: Shop, telegram: FakeTelegram, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    empty.chmod(0o600)

    code, lines = run_doctor(shop, telegram, NAVER_SMS_DB=str(empty))

    assert code == 1
    assert lines["database"].startswith("FAIL")
    assert "no table sms, session, sms_sent" in lines["database"]
    assert "naver-sms create-tables" in lines["database"]
    # The doctor creates nothing: the file is as empty as it was.
    with sqlite3.connect(empty) as db:
        assert db.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
    assert lines["Naver session"].startswith("skip")


def test_a_missing_database_file_is_not_created(
    shop: Shop, telegram: FakeTelegram, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.db"

    code, lines = run_doctor(shop, telegram, NAVER_SMS_DB=str(missing))

    assert code == 1
    assert "not found" in lines["database"]
    assert "naver-sms create-tables" in lines["database"]
    assert not missing.exists()


def test_a_database_others_can_read_fails(shop: Shop, telegram: FakeTelegram) -> None:
    Path(shop.env["NAVER_SMS_DB"]).chmod(0o644)

    code, lines = run_doctor(shop, telegram)

    assert code == 1
    assert "mode 0644" in lines["database"]
    assert "chmod 600" in lines["database"]


def test_a_sender_that_is_no_korean_number_is_named_with_its_store(
    shop: Shop, telegram: FakeTelegram
) -> None:
    config = Path(shop.env["NAVER_SMS_CONFIG"])
    config.write_text(
        config.read_text(encoding="utf-8").replace('"031-000-0000"', '"99990000"'),
        encoding="utf-8",
    )

    code, lines = run_doctor(shop, telegram)

    assert code == 1
    bad = lines["sender of store 5000002 (샘플 공방)"]
    assert bad.startswith("FAIL")
    assert "not a Korean caller number" in bad
    assert "99990000" not in bad  # masked like every number
    assert lines["sender of store 5000001 (샘플 스튜디오 강남점)"].startswith("ok")


def test_a_broken_config_fails_and_skips_what_needs_it(shop: Shop, telegram: FakeTelegram) -> None:
    Path(shop.env["NAVER_SMS_CONFIG"]).write_text("stores: []\n", encoding="utf-8")

    code, lines = run_doctor(shop, telegram)

    assert code == 2  # a setup mistake, as in every command
    assert lines["config"].startswith("FAIL")
    assert "stores" in lines["config"]
    assert lines["Naver session"].startswith("skip")
    assert lines["SENS keys"].startswith("ok")


def test_a_wrong_telegram_token_or_chat_is_named(shop: Shop, telegram: FakeTelegram) -> None:
    _code, wrong_token = run_doctor(shop, telegram, TELEGRAM_BOT_TOKEN="000000:not-the-token")
    code, wrong_chat = run_doctor(shop, telegram, TELEGRAM_CHAT_ID="2000")

    assert "refused the bot token" in wrong_token["Telegram"]
    assert "not-the-token" not in wrong_token["_all"]
    assert code == 1
    assert "cannot reach chat 2000" in wrong_chat["Telegram"]
    assert telegram.messages == []


def test_without_telegram_the_check_is_skipped_and_passes(
    shop: Shop, telegram: FakeTelegram
) -> None:
    code, lines = run_doctor(shop, telegram, TELEGRAM_BOT_TOKEN="", TELEGRAM_CHAT_ID="")

    assert code == 0, lines["_all"]
    assert lines["Telegram"].startswith("skip")


def _with_alimtalk(shop: Shop) -> dict[str, Any]:
    from naver_sms.demo import with_alimtalk  # noqa: PLC0415

    config = Path(shop.env["NAVER_SMS_CONFIG"])
    config.write_text(with_alimtalk(config.read_text(encoding="utf-8")), encoding="utf-8")
    return {"SENS_ALIMTALK_SERVICE_ID": shop.sens.alimtalk_service_id}


def test_alimtalk_is_checked_when_the_config_uses_it(shop: Shop, telegram: FakeTelegram) -> None:
    env = _with_alimtalk(shop)

    code, good = run_doctor(shop, telegram, **env)
    _code, unknown = run_doctor(shop, telegram, SENS_ALIMTALK_SERVICE_ID="ncp:kkobizmsg:kr:0:x")
    _code, unset = run_doctor(shop, telegram)

    assert code == 0, good["_all"]
    assert good["AlimTalk"].startswith("ok")
    assert "SENS knows no such service" in unknown["AlimTalk"]
    assert unset["AlimTalk"].startswith("FAIL")
    assert "SENS_ALIMTALK_SERVICE_ID" in unset["AlimTalk"]
