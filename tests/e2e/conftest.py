"""The whole product over loopback: sandbox Naver, fake SENS and Telegram, a real store.

`Shop` starts the servers, writes the example config (`naver-sms init`),
stores a valid Naver session and gives the environment the CLI reads. Its
store has 12 generated bookings over three days (yesterday, today,
tomorrow), so one day has every message kind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from naver_sms import bootstrap
from naver_sms.config import load_settings
from naver_sms.database.sqlite_repository import SqliteSessionRepository
from naver_sms.domain.booking import KST
from naver_sms.entrypoints.cli import cli
from naver_sms.sandbox.naver import NaverSandbox
from naver_sms.sandbox.sens import FakeSens, FakeTelegram

STORE = "5000001"
DAY = (2026, 11, 25)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(*DAY, hour, minute, tzinfo=KST)


@dataclass
class Run:
    exit_code: int
    report: dict[str, Any]
    stdout: str
    stderr: str


@dataclass
class Shop:
    naver: NaverSandbox
    sens: FakeSens
    telegram: FakeTelegram
    tmp: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(self, now: datetime, *args: str) -> Run:
        """`naver-sms run --json --now ...` in this process (the sandbox clock follows)."""
        self.naver.now = now
        result = CliRunner().invoke(
            cli, ["run", "--json", "--now", now.isoformat(), *args], env=self.env
        )
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        report = json.loads(result.stdout) if result.stdout.strip() else {}
        return Run(result.exit_code, report, result.stdout, result.stderr)

    def spawn(self, now: datetime, *args: str) -> subprocess.Popen[str]:
        """The same as a separate `naver-sms` process (the caller sets the sandbox clock)."""
        return subprocess.Popen(
            [sys.executable, "-m", "naver_sms", "run", "--json", "--now", now.isoformat(), *args],
            env={**os.environ, **self.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def texts(self) -> list[tuple[str, str]]:
        """(recipient, text) of every message the fake SENS accepted, in order."""
        return [(m.to, m.content) for m in self.sens.accepted]


def _shop(tmp_path: Path, store_env: dict[str, str]) -> Iterator[Shop]:
    with (
        NaverSandbox(now=at(9), stores={STORE: 12}, days=3) as naver,
        FakeSens(senders=("0200000000", "0310000000")) as sens,
        FakeTelegram() as telegram,
    ):
        config = tmp_path / "naver-sms.yaml"
        result = CliRunner().invoke(cli, ["init", str(config)], env={"NAVER_SMS_STORE": "sqlite"})
        assert result.exit_code == 0, result.output
        env = {
            "NAVER_SMS_CONFIG": str(config),
            "NAVER_SMS_OUTBOX": str(tmp_path / "outbox.jsonl"),
            **naver.environment(),
            "SENS_ACCESS_KEY": sens.access_key,
            "SENS_SECRET_KEY": sens.secret_key,
            "SENS_SERVICE_ID": sens.service_id,
            "SENS_URL": sens.url,
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "TELEGRAM_CHAT_ID": "1000",
            "TELEGRAM_API_URL": telegram.url,
            **store_env,
        }
        shop = Shop(naver, sens, telegram, tmp_path, env)
        yield shop


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    """The shop on SQLite, with a valid Naver session stored."""
    db = tmp_path / "naver-sms.db"
    for shop in _shop(tmp_path, {"NAVER_SMS_STORE": "sqlite", "NAVER_SMS_DB": str(db)}):
        SqliteSessionRepository(db).save_session(json.dumps(shop.naver.issue_session()))
        yield shop


@pytest.fixture(params=["sqlite", "moto_server", "dynalite"])
def any_shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shop]:
    """The shop on SQLite and on each DynamoDB-API server over HTTP, via the CLI's own setup."""
    if request.param == "sqlite":
        store_env = {"NAVER_SMS_STORE": "sqlite", "NAVER_SMS_DB": str(tmp_path / "n.db")}
    else:
        url = request.getfixturevalue(f"{request.param}_url")
        suffix = uuid.uuid4().hex[:8]
        store_env = {
            "NAVER_SMS_STORE": "dynamodb",
            "AWS_ENDPOINT_URL": url,
            "NAVER_SMS_BOOKINGS_TABLE": f"sms_{suffix}",
            "NAVER_SMS_SESSION_TABLE": f"session_{suffix}",
            "NAVER_SMS_SENT_TABLE": f"sms_sent_{suffix}",
        }
    for shop in _shop(tmp_path, store_env):
        created = CliRunner().invoke(cli, ["create-tables"], env=shop.env)
        assert created.exit_code == 0, created.output
        settings = load_settings({**os.environ, **shop.env})
        with bootstrap.session_repository(settings) as sessions:
            sessions.save_session(json.dumps(shop.naver.issue_session()))
        yield shop


def answer_of(url: str, process: subprocess.Popen[str], timeout: float = 60.0) -> int:
    """The HTTP status `url` answers once `process` serves it; fails if it ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args!r} ended early with {process.returncode}")
        try:
            return httpx.get(url, timeout=2).status_code
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"{url} never answered")


@contextmanager
def served(args: list[str], env: Mapping[str, str]) -> Iterator[subprocess.Popen[str]]:
    """`naver-sms *args` in a process of its own (stdout and stderr piped); killed and
    waited for at the end if the test did not stop it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "naver_sms", *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
