"""Canaries: a password, a SENS secret, cookie values and a full phone number, seeded into
every input, never come out in a log line, report, outbox, chat message or error text.

Seeded: the password (NAVER_PASSWORD, typed by a real Chromium login into the
sandbox), the SENS secret key (signing every request), cookie values (a stale
stored session that Naver refuses, and the fresh cookies of the login), and
the phone 010-0000-7777: a booking's phone, its customer name and option, an
unusable booking, the store's name and its guide template. Collected: stdout
and stderr of `run --json`, `run --dry-run`, `run` (table), `session show`,
`bookings`, a `--debug` run that fails with a traceback; the outbox file; and
every chat message.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from naver_sms.database.sqlite_repository import SqliteSessionRepository
from naver_sms.sandbox.naver import NaverSandbox, booking_entry
from naver_sms.sandbox.sens import FakeSens, FakeTelegram
from tests.reliability.workload import Finished, finish, spawn

pytestmark = pytest.mark.reliability

PASSWORD = "pw-CANARY-7f3a9c1e"
SENS_SECRET = "sens-CANARY-51be2d08"
STALE_COOKIES = ("aut-CANARY-0c4e91", "ses-CANARY-93ad27")
PHONE = "01000007777"
PHONE_FORMS = (PHONE, "010-0000-7777", "0000-7777", "00007777", "+821000007777")
STORE = "5000001"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC) + timedelta(hours=0)  # 18:00 KST


def canary_booking(booking_id: int, start: datetime, phone: str = PHONE) -> dict[str, object]:
    return booking_entry(
        STORE,
        booking_id,
        start,
        status="RC03",
        name=f"카나리 {PHONE}",
        phone=phone,
        options=[f"연락처 {PHONE} 네이버"],
    )


@pytest.fixture
def sandbox() -> Iterator[tuple[NaverSandbox, FakeSens, FakeTelegram]]:
    with (
        NaverSandbox(now=NOW, stores={STORE: 0}, users={"canary-owner": PASSWORD}) as naver,
        FakeSens(secret_key=SENS_SECRET, senders=("0200000000",)) as sens,
        FakeTelegram() as telegram,
    ):
        # In two hours: confirmation and guide both due at 18:00 KST.
        naver.add_booking(STORE, canary_booking(1_400_000_001, NOW + timedelta(hours=1)))
        # Unusable (the phone has a suffix): reported, with the phone masked.
        naver.add_booking(
            STORE, canary_booking(1_400_000_002, NOW + timedelta(hours=1), phone=f"{PHONE}#2")
        )
        yield naver, sens, telegram


def test_no_canary_reaches_a_log_report_outbox_chat_or_error(
    sandbox: tuple[NaverSandbox, FakeSens, FakeTelegram],
    browser_env: dict[str, str],
    tmp_path: Path,
) -> None:
    naver, sens, telegram = sandbox
    db, outbox = tmp_path / "n.db", tmp_path / "outbox.jsonl"
    config = tmp_path / "naver-sms.yaml"
    store = {
        "id": STORE,
        "name": f"카나리 스튜디오 {PHONE}",
        "sender": "0200000000",
        "opt_out": "0800000000",
        "templates": {"guide": "{{ customer }}님, 문의는 010-0000-7777 로 주세요."},
    }
    config.write_text(yaml.safe_dump({"stores": [store]}, allow_unicode=True), encoding="utf-8")
    stale = [
        {"name": "NID_AUT", "value": STALE_COOKIES[0]},
        {"name": "NID_SES", "value": STALE_COOKIES[1]},
    ]
    SqliteSessionRepository(db).save_session(json.dumps(stale))
    env = {
        **os.environ,
        **browser_env,
        **naver.environment(),
        "NAVER_SMS_CONFIG": str(config),
        "NAVER_SMS_STORE": "sqlite",
        "NAVER_SMS_DB": str(db),
        "NAVER_SMS_OUTBOX": str(outbox),
        "NAVER_USERNAME": "canary-owner",
        "NAVER_PASSWORD": PASSWORD,
        "SENS_ACCESS_KEY": sens.access_key,
        "SENS_SECRET_KEY": SENS_SECRET,
        "SENS_SERVICE_ID": sens.service_id,
        "SENS_URL": sens.url,
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_CHAT_ID": "1000",
        "TELEGRAM_API_URL": telegram.url,
    }
    outputs: list[Finished] = []

    def cli(*args: str, extra: dict[str, str] | None = None) -> Finished:
        process = spawn({**env, **(extra or {})}, NOW, *args)
        done = finish(process)
        outputs.append(done)
        return done

    # A dry run first (the stale cookies are refused: a browser login types the password).
    dry = cli("--dry-run")
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert len(dry.report["invalid"]) == 1
    assert naver.requests["login"] == 1
    assert len(dry.report["sent"]) == 2
    # The real run: the first SENS request fails (its error text is collected), the next goes.
    sens.fail_next(1, status=429)
    first = cli()
    assert first.report["failed"], first.stderr[-2000:]
    second = cli()
    assert second.report["sent"], second.stderr[-2000:]
    assert len(sens.accepted) == 2  # the texts did reach SENS, signed with the secret
    for command in (["session", "show"], ["bookings"]):
        outputs.append(_command(env, *command))
    # A failing run with --debug prints its traceback: the store cannot be reached.
    broken = {"NAVER_SMS_STORE": "dynamodb", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    debug = _command({**env, **broken}, "--debug", "run", "--now", NOW.isoformat())
    assert "Traceback" in debug.stderr
    outputs.append(debug)

    cookies = json.loads(SqliteSessionRepository(db).get_session().cookies)  # type: ignore[union-attr]
    fresh = [str(c["value"]) for c in cookies if len(str(c.get("value", ""))) >= 8]
    assert fresh, "the login stored no cookies"
    texts = {f"process {n} stdout": d.stdout for n, d in enumerate(outputs)}
    texts |= {f"process {n} stderr": d.stderr for n, d in enumerate(outputs)}
    texts["outbox"] = outbox.read_text(encoding="utf-8")
    texts |= {f"chat {n}": m.text for n, m in enumerate(telegram.messages)}
    assert telegram.messages, "no chat message was collected"
    assert "010-****-7777" in texts["outbox"]  # the outbox was written, masked
    canaries = [PASSWORD, SENS_SECRET, *STALE_COOKIES, *fresh, *PHONE_FORMS]
    leaks = [(where, c) for where, text in texts.items() for c in canaries if c in text]
    assert leaks == []


def _command(env: dict[str, str], *args: str) -> Finished:
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    process = subprocess.Popen(
        [sys.executable, "-m", "naver_sms", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return finish(process)
