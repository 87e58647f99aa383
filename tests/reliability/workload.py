"""A booking workload on the sandbox and `naver-sms run` processes over it.

Shared by the reliability suite and `bench/scale_bench.py`: the bookings are
built so that every message kind is due at EVENING (20:00 KST) and stays due
for the next hour, so cycles at 20:00-20:59 all see the same due set and a
message that a fault held back is still due when the faults stop.

Per store and `per_store` = 50: 7 completed visits of today with a review
option (event), 3 without (nothing), 10 confirmed visits at 21:00-21:45 today
(confirmation and reminder) and 30 confirmed visits on the coming days
(confirmation): 57 messages per store.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import yaml

from naver_sms.config import Settings
from naver_sms.domain.booking import KST
from naver_sms.sandbox.naver import NaverSandbox, booking_entry
from naver_sms.sandbox.sens import FakeSens

EVENING = datetime(2026, 11, 25, 20, 0, tzinfo=KST)
SENDER = "0200000000"


def sandbox_settings(db_path: Path, naver: NaverSandbox, sens: FakeSens, **more: Any) -> Settings:
    """Settings of an in-process cycle against the sandbox Naver and SENS."""
    return Settings(
        db_path=db_path,
        naver_booking_url=naver.base_url,
        naver_login_url=naver.login_url,
        sens_access_key=sens.access_key,  # type: ignore[arg-type]  # pydantic wraps it
        sens_secret_key=sens.secret_key,  # type: ignore[arg-type]
        sens_service_id=sens.service_id,
        sens_url=sens.url,
        outbox_path=db_path.parent / "outbox.jsonl",
        **{"store": "sqlite", **more},
    )


def store_ids(count: int) -> list[str]:
    return [str(5_000_001 + n) for n in range(count)]


def phone_of(store_no: int, index: int) -> str:
    """A made-up number in the 010-0000-xxxx range, one per booking up to 200 stores of 50."""
    return f"0100000{(store_no * 50 + index) % 10000:04d}"


def raw_booking(
    biz_id: str, store_no: int, index: int, start: datetime, status: str, option: str
) -> dict[str, Any]:
    return booking_entry(
        biz_id,
        1_300_000_000 + store_no * 1000 + index,
        start,
        status=status,
        name="신뢰고객",
        phone=phone_of(store_no, index),
        options=[option],
        minutes=50,
    )


def store_bookings(biz_id: str, store_no: int, per_store: int = 50) -> list[dict[str, Any]]:
    today = EVENING.replace(hour=10)
    rows = []
    for index in range(per_store):
        if index < 10:  # completed today: 7 with the review keyword
            option = "네이버 리뷰 이벤트" if index < 7 else "기본 이용"
            start, status = today + timedelta(minutes=30 * index), "RC08"
        elif index < 20:  # tonight: confirmation and reminder both due from 20:00
            start = EVENING.replace(hour=21) + timedelta(minutes=5 * (index - 10))
            status, option = "RC03", "기본 이용"
        else:  # the coming days: confirmation
            start = today + timedelta(days=1 + index % 7, hours=index % 9)
            status, option = "RC03", "기본 이용"
        rows.append(raw_booking(biz_id, store_no, index, start, status, option))
    return rows


def due_per_store(per_store: int = 50) -> int:
    """Messages due at EVENING for one store of `store_bookings`."""
    return min(per_store, 7) + 2 * max(0, min(per_store, 20) - 10) + max(0, per_store - 20)


def load(naver: NaverSandbox, stores: Sequence[str], per_store: int = 50) -> None:
    for store_no, biz_id in enumerate(stores):
        for raw in store_bookings(biz_id, store_no, per_store):
            naver.add_booking(biz_id, raw)


# Five messages, all due for the workload at EVENING: the seed's three, a
# day-before reminder and a thank-you, so the exactly-once checks cover flags the
# owner configures (`day_before_sms`, `thanks_sms`) as well as the seed's.
FIVE_MESSAGES: Final[list[dict[str, Any]]] = [
    {"name": "confirmation", "when": "confirmed"},
    {
        "name": "day_before",
        "when": "before_visit",
        "offset": "1d",
        "template": "[{{ store }}] {{ customer }}님, {{ visit_short }} 방문 하루 전 안내입니다.",
    },
    {"name": "reminder", "when": "before_visit", "offset": "2h"},
    {
        "name": "thanks",
        "when": "after_visit",
        "offset": "30m",
        "window": ["09:00", "21:00"],
        "template": "[{{ store }}] {{ customer }}님, 오늘 방문해 주셔서 감사합니다.",
    },
    {
        "name": "event",
        "when": "after_visit",
        "advertising": True,
        "window": ["20:00", "21:00"],
        "keywords": ["네이버", "인스타", "원본"],
    },
]


def write_config(path: Path, stores: Sequence[str], **extra: Any) -> Path:
    data = {
        "stores": [
            {"id": biz_id, "name": f"신뢰 {n + 1}호점", "sender": SENDER, "opt_out": "0800000000"}
            for n, biz_id in enumerate(stores)
        ],
        **extra,
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def spawn(env: Mapping[str, str], now: datetime, *args: str) -> subprocess.Popen[str]:
    """`naver-sms run --json --now NOW` as its own process (stdout: report, stderr: log)."""
    return subprocess.Popen(
        [sys.executable, "-m", "naver_sms", "run", "--json", "--now", now.isoformat(), *args],
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass
class Finished:
    """A `naver-sms run` process that ended: its exit code, report and log."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict[str, Any]:
        return json.loads(self.stdout) if self.stdout.strip() else {}

    @property
    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.stderr.splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:  # the error line, or a line cut short by SIGKILL
                continue
        return lines


def finish(process: subprocess.Popen[str], timeout: float = 120.0) -> Finished:
    """Wait for `process` (killed after `timeout`, so a hung cycle fails the test, not CI)."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    return Finished(process.returncode, stdout, stderr)
