"""Exactly once under faults: 8 racing `naver-sms run` processes, random faults, kills.

The workload (`workload.py`): 8 stores x 50 bookings and a config of five
messages (`FIVE_MESSAGES`: the seed's three, a day-before reminder and a
thank-you), all due at 20:00 KST and still due at 20:59. Two faulty rounds (20:00, 20:02) each run
8 processes at once against:

- dynalite behind `ChaosProxy`: 30 % of requests throttled (a third) or
  HTTP 500, and 3 % of writes applied with their answer dropped;
- `ChaosNaver`: 20 % of API requests answer 503 or late (504), and in round 2
  every session expires in the middle of the cycle (401 from then on: the
  next cycle logs in again with a real headless Chromium);
- `ChaosSens`: 20 % of requests answer 500 or not at all.

Round 1 also runs three victims, each SIGKILLed by its own `KillProxy`: after
its 3rd claim, after its first accepted send (before the mark), after its
3rd mark; each starts once the one before holds a claim, then the 8 race.
Then the faults stop and three cycles run, one lease (10 min) apart.

Counted at the fake SENS and in the store: every message a clean run sends is
sent; the only repeats are messages a victim's SENS accepted and the victim
never marked (the documented post-accept window), each in its log with its
request id; every record is there with the clean run's flags, a request id
SENS really gave, and no claim left behind.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from naver_sms.database.base import claim_attributes, sent_attributes
from naver_sms.database.dynamodb_client import (
    BookingRepository,
    SessionRepository,
    create_tables,
    make_client,
)
from naver_sms.database.sqlite_repository import SqliteBookingRepository, SqliteSessionRepository
from naver_sms.domain.catalog import flag_of
from naver_sms.sandbox.naver import DEFAULT_USERS
from naver_sms.sandbox.sens import FakeSens, FakeTelegram
from tests.conftest import FAST_CONFIG
from tests.reliability.chaos import ChaosNaver, ChaosProxy, ChaosSens, KillPoint, KillProxy
from tests.reliability.workload import (
    EVENING,
    FIVE_MESSAGES,
    SENDER,
    Finished,
    due_per_store,
    finish,
    load,
    spawn,
    store_ids,
    write_config,
)

pytestmark = pytest.mark.reliability

STORES = store_ids(8)
PROCESSES = 8
ROUNDS = (EVENING, EVENING + timedelta(minutes=2))
# One lease (10 min) and a minute apart: a claim left by a killed process has expired.
RECOVERY = tuple(EVENING + timedelta(minutes=15 + 11 * n) for n in range(3))
FLAGS = [flag_of(str(message["name"])) for message in FIVE_MESSAGES]
USER, PASSWORD = next(iter(DEFAULT_USERS.items()))


@dataclass
class World:
    naver: ChaosNaver
    sens: ChaosSens
    chaos: ChaosProxy
    telegram: FakeTelegram
    dynalite: str
    env: dict[str, str]
    stack: ExitStack
    victims: dict[KillPoint, tuple[KillProxy, FakeSens]] = field(default_factory=dict)

    def chaos_env(self) -> dict[str, str]:
        return {**self.env, "AWS_ENDPOINT_URL": self.chaos.url, "SENS_URL": self.sens.url}

    def victim_env(self, point: KillPoint) -> dict[str, str]:
        proxy, sens = self.victims[point]
        return {**self.env, "AWS_ENDPOINT_URL": proxy.url, "SENS_URL": sens.url}

    def repository(self) -> BookingRepository:
        client = make_client(endpoint_url=self.dynalite, config=FAST_CONFIG)
        return BookingRepository(self.env["NAVER_SMS_BOOKINGS_TABLE"], client=client)

    def faults(self, on: bool) -> None:
        self.chaos.enabled = on
        self.naver.fault_rate = 0.2 if on else 0.0
        self.sens.rate = 0.2 if on else 0.0


@pytest.fixture
def world(
    dynalite_url: str,
    tmp_path: Path,
    chromium_paths: tuple[str, str],  # the cycle after the mid-cycle 401 logs in with the browser
) -> Iterator[World]:
    with ExitStack() as stack:
        naver = stack.enter_context(
            ChaosNaver(now=EVENING, stores=dict.fromkeys(STORES, 0), fault_status=503, seed=3)
        )
        load(naver, STORES)
        sens = stack.enter_context(ChaosSens(senders=(SENDER,)))
        telegram = stack.enter_context(FakeTelegram())
        chaos = stack.enter_context(ChaosProxy(dynalite_url))
        suffix = uuid.uuid4().hex[:8]
        tables = {
            "NAVER_SMS_BOOKINGS_TABLE": f"sms_{suffix}",
            "NAVER_SMS_SESSION_TABLE": f"s_{suffix}",
        }
        client = make_client(endpoint_url=dynalite_url, config=FAST_CONFIG)
        create_tables(client, tables["NAVER_SMS_BOOKINGS_TABLE"], tables["NAVER_SMS_SESSION_TABLE"])
        SessionRepository(tables["NAVER_SMS_SESSION_TABLE"], client=client).save_session(
            json.dumps(naver.issue_session())
        )
        env = {
            **os.environ,
            **tables,
            **naver.environment(),
            "NAVER_SMS_CONFIG": str(
                write_config(tmp_path / "naver-sms.yaml", STORES, messages=FIVE_MESSAGES)
            ),
            "NAVER_SMS_STORE": "dynamodb",
            "NAVER_SMS_OUTBOX": str(tmp_path / "outbox.jsonl"),
            "NAVER_USERNAME": USER,
            "NAVER_PASSWORD": PASSWORD,
            "SENS_ACCESS_KEY": sens.access_key,
            "SENS_SECRET_KEY": sens.secret_key,
            "SENS_SERVICE_ID": sens.service_id,
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "TELEGRAM_CHAT_ID": "1000",
            "TELEGRAM_API_URL": telegram.url,
        }
        world = World(naver, sens, chaos, telegram, dynalite_url, env, stack)
        for point in ("claim", "send", "mark"):
            world.victims[point] = (
                stack.enter_context(KillProxy(dynalite_url, point)),
                stack.enter_context(FakeSens(senders=(SENDER,))),
            )
        world.faults(on=False)
        yield world


def clean_run(world: World, tmp_path: Path) -> tuple[set[tuple[str, str]], dict[Any, Any]]:
    """What one fault-free cycle sends at 20:00, on its own SQLite file: the oracle."""
    with FakeSens(senders=(SENDER,)) as sens:
        db = tmp_path / "clean.db"
        env = {**world.env, "NAVER_SMS_STORE": "sqlite", "NAVER_SMS_DB": str(db)}
        env.update(SENS_URL=sens.url, TELEGRAM_BOT_TOKEN="", NAVER_USERNAME="")

        SqliteSessionRepository(db).save_session(json.dumps(world.naver.issue_session()))
        done = finish(spawn(env, EVENING))
        assert done.returncode == 0, done.stderr[-2000:]
        keys = {(m.to, m.content) for m in sens.accepted}
        records = {
            (r["booking_num"], r["phone"]): r for r in SqliteBookingRepository(db).list_bookings()
        }
    return keys, records


def run_round(
    world: World, now: datetime, *, victims: bool = False, expire_after: int = 0
) -> list[Finished]:
    world.naver.now = now
    started = dict(world.naver.requests)
    processes = []
    if victims:
        # One after another, each once it holds a claim (or died): a new record is
        # stored with its first message's claim, so the first process to store the
        # records holds most first claims, and a victim started among the others
        # could win nothing to be killed after.
        for point, (proxy, _sens) in world.victims.items():
            process = spawn(world.victim_env(point), now)
            proxy.pid = process.pid
            processes.append(process)
            deadline = time.monotonic() + 60
            while not (proxy.claimed.is_set() or proxy.killed.is_set()):
                if process.poll() is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.02)
    processes += [spawn(world.chaos_env(), now) for _ in range(PROCESSES)]
    expirer = None
    if expire_after:
        # A 401 in the middle of the cycle: Naver ends every session once the
        # processes have read `expire_after` pages.
        def expire() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if world.naver.requests["list"] - started.get("list", 0) >= expire_after:
                    world.naver.expire_sessions()
                    return
                time.sleep(0.01)

        expirer = threading.Thread(target=expire, daemon=True)
        expirer.start()
    # Read every process's pipes at once: one waiting on a full stderr pipe
    # while another is read would stall on the harness, not on naver-sms.
    with ThreadPoolExecutor(len(processes)) as readers:
        results = list(readers.map(lambda p: finish(p, timeout=150), processes))
    if expirer is not None:
        expirer.join(timeout=1)
    return results


def assert_no_crash(results: list[Finished]) -> None:
    for done in results:
        if done.returncode < 0:  # a victim
            continue
        assert done.returncode in (0, 1), done.stderr[-3000:]
        assert "Traceback" not in done.stderr, done.stderr[-3000:]
        if done.returncode == 1:
            assert done.stderr.rstrip().splitlines()[-1].startswith("error: "), done.stderr[-800:]


def post_accept_window(
    world: World, first_round: list[Finished], by_phone: dict[str, dict[str, Any]]
) -> dict[tuple[str, str], str]:
    """(to, content) -> request id of what a victim's SENS accepted and its log never marked.

    Asserts on the way that every request id a victim's SENS gave is in that
    victim's log: a repeat can always be traced.
    """
    window: dict[tuple[str, str], str] = {}
    for number, (point, (_proxy, sens)) in enumerate(world.victims.items()):
        lines = first_round[number].log_lines  # victims are spawned first
        logged = {
            (line["context"]["request_id"], num)
            for line in lines
            if line["message"] == "SMS request accepted"
            for num in line["context"]["booking_nums"]
        }
        marked = {
            (line["context"]["request_id"], line["context"]["booking_num"])
            for line in lines
            if line["message"] == "Marked as sent"
        }
        for message in sens.accepted:
            sent = (message.request_id, by_phone[message.to]["booking_num"])
            assert sent in logged, f"the {point} victim's request id is not in its log"
            if sent not in marked:
                window[(message.to, message.content)] = message.request_id
    return window


def test_racing_processes_under_faults_and_kills_send_each_due_message_once(
    world: World, tmp_path: Path
) -> None:
    expected, clean_records = clean_run(world, tmp_path)
    # The seed's three messages of the workload, and the two configured ones on top.
    assert len(expected) > due_per_store() * len(STORES)
    for flag in FLAGS:
        assert any(record.get(flag) for record in clean_records.values()), flag

    world.faults(on=True)
    timings = []
    rounds: list[list[Finished]] = []
    for number, now in enumerate(ROUNDS, start=1):
        started = time.perf_counter()
        results = run_round(world, now, victims=number == 1, expire_after=10 if number == 2 else 0)
        timings.append(time.perf_counter() - started)
        for index, done in enumerate(results):  # kept for a post-mortem of a failed run
            (tmp_path / f"round{number}-{index}.log").write_text(done.stderr, encoding="utf-8")
        assert_no_crash(results)
        rounds.append(results)
    world.faults(on=False)
    injected = {
        "dynamodb": dict(world.chaos.faults),
        "dynamodb_requests": sum(world.chaos.requests.values()),
        "naver": dict(world.naver.injected),
        "sens": dict(world.sens.injected),
    }
    for point, (proxy, _sens) in world.victims.items():
        assert proxy.killed.is_set(), f"the {point} victim was never killed"

    recovery = []
    for now in RECOVERY:
        world.naver.now = now
        done = finish(spawn(world.chaos_env(), now))
        (tmp_path / f"recovery-{now:%H%M}.log").write_text(done.stderr, encoding="utf-8")
        assert done.returncode == 0, done.stderr[-3000:]
        recovery.append(done)
    quiet = finish(spawn(world.chaos_env(), RECOVERY[-1] + timedelta(minutes=11)))
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    assert quiet.report["sent"] == []
    assert quiet.report["failed"] == []

    # -- counted at SENS
    accepted = world.sens.accepted + [m for _p, s in world.victims.values() for m in s.accepted]
    counts = Counter((m.to, m.content) for m in accepted)
    lost, extra = expected - set(counts), set(counts) - expected
    assert not lost, f"{len(lost)} due messages never sent, e.g. {sorted(lost)[:3]}"
    assert not extra, f"{len(extra)} messages a clean run does not send, e.g. {sorted(extra)[:3]}"
    repeats = {key for key, n in counts.items() if n > 1}
    assert max(counts.values()) <= 2
    assert repeats, "the post-accept window was not exercised"
    # The only repeats: messages a victim's SENS accepted and the victim never
    # marked (killed in between), each in the victim's log with its request id.
    records = {(r["booking_num"], r["phone"]): r for r in world.repository().list_bookings()}
    by_phone = {phone.replace("-", ""): record for (_num, phone), record in records.items()}
    window = post_accept_window(world, rounds[0], by_phone)
    outside = repeats - set(window)
    assert not outside, f"{len(outside)} repeats outside the window, e.g. {sorted(outside)[:2]}"
    # A message of the window that did not go again was recorded after all: its
    # mark reached the store, the victim died before logging it.
    for (to, content), request_id in window.items():
        if (to, content) not in repeats:
            record = by_phone[to]
            stored = {record.get(sent_attributes(flag)[0]) for flag in FLAGS}
            assert request_id in stored, f"{record['booking_num']}: accepted, unmarked, not resent"

    # -- in the store
    assert set(records) == set(clean_records)
    request_ids = {m.request_id for m in accepted}
    for key, record in records.items():
        clean = clean_records[key]
        assert record["booking_time"] == clean["booking_time"], key
        for flag in FLAGS:
            assert bool(record.get(flag)) == bool(clean.get(flag)), (key, flag)
            if record.get(flag):
                assert record[sent_attributes(flag)[0]] in request_ids, (key, flag)
            assert claim_attributes(flag)[0] not in record, (key, flag, "claim left behind")

    total = sum(counts.values())
    summary = {
        "injected": injected,
        "kills": {p: proxy.killed.is_set() for p, (proxy, _s) in world.victims.items()},
        "round_seconds": [round(t, 1) for t in timings],
        "exit_codes": [[d.returncode for d in r] for r in rounds],
        "due": len(expected),
        "accepted": total,
        "distinct": len(counts),
        "repeats": len(repeats),
        "window": len(window),
        "recovery_sent": [len(d.report["sent"]) for d in recovery],
        "records": len(records),
        "telegram_messages": len(world.telegram.messages),
    }
    print("RELIABILITY", json.dumps(summary, ensure_ascii=False))
    out = os.environ.get("NAVER_SMS_RELIABILITY_OUT")
    if out:
        Path(out).write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
