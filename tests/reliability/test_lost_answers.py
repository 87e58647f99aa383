"""Exactly once when SENS's answer is lost after SENS accepted the request.

SENS has no idempotency key: a request it accepted whose answer never
arrives (a 5xx from the gateway after forwarding, a dropped connection, an
answer after the client's timeout, an HTML page from a proxy) looks, to the
sender, like a request that may or may not have gone. Each profile below
loses the answers of accepted requests in the first cycle of real
`naver-sms run` processes over SQLite; later cycles, one lease apart, must
ask SENS which messages it took and send only the rest. Counted at the
sandbox SENS: every due message accepted exactly once.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from naver_sms.database.sqlite_repository import SqliteBookingRepository, SqliteSessionRepository
from naver_sms.sandbox.naver import NaverSandbox
from naver_sms.sandbox.sens import FakeSens
from tests.reliability.workload import (
    EVENING,
    SENDER,
    due_per_store,
    finish,
    load,
    spawn,
    store_ids,
    write_config,
)

pytestmark = pytest.mark.reliability

STORES = store_ids(4)
LOST = 3  # requests whose answers are lost in the first cycle


@dataclass(frozen=True)
class Profile:
    name: str
    lose: Callable[[FakeSens], None]


PROFILES = [
    Profile("5xx after accepting", lambda s: s.fail_next(LOST, status=502, accept=True)),
    Profile("connection dropped after accepting", lambda s: s.drop_next(LOST)),
    Profile("HTML page after accepting", lambda s: s.html_next(LOST, accept=True)),
    # Not lost but not an acceptance either: nothing went, so everything must go later.
    Profile("HTML page, nothing accepted", lambda s: s.html_next(LOST, accept=False)),
    # The client waits 10 s for each: one request is enough to show it.
    Profile("answer after the timeout", lambda s: s.hang_next(1, seconds=12, accept=True)),
]


@dataclass
class World:
    naver: NaverSandbox
    sens: FakeSens
    env: dict[str, str]
    db: Path


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with (
        NaverSandbox(now=EVENING, stores=dict.fromkeys(STORES, 0)) as naver,
        FakeSens(senders=(SENDER,)) as sens,
    ):
        load(naver, STORES)
        db = tmp_path / "lost.db"
        SqliteSessionRepository(db).save_session(json.dumps(naver.issue_session()))
        env = {
            **os.environ,
            **naver.environment(),
            "NAVER_SMS_CONFIG": str(write_config(tmp_path / "naver-sms.yaml", STORES)),
            "NAVER_SMS_STORE": "sqlite",
            "NAVER_SMS_DB": str(db),
            "NAVER_SMS_OUTBOX": str(tmp_path / "outbox.jsonl"),
            "SENS_ACCESS_KEY": sens.access_key,
            "SENS_SECRET_KEY": sens.secret_key,
            "SENS_SERVICE_ID": sens.service_id,
            "SENS_URL": sens.url,
            "NAVER_USERNAME": "",
            "TELEGRAM_BOT_TOKEN": "",
        }
        yield World(naver, sens, env, db)


@pytest.mark.parametrize("profile", PROFILES, ids=[p.name for p in PROFILES])
def test_a_lost_answer_after_acceptance_repeats_no_text(world: World, profile: Profile) -> None:
    profile.lose(world.sens)
    first = finish(spawn(world.env, EVENING))
    assert first.returncode in (0, 1), first.stderr[-2000:]
    assert first.report["unclear"], "the profile lost no answer"
    # One lease (10 min) later the kept claims have lapsed; the next cycle asks SENS.
    for minutes in (11, 22):
        later = finish(spawn(world.env, EVENING + timedelta(minutes=minutes)))
        assert later.returncode == 0, later.stderr[-2000:]

    accepted = Counter((m.to, m.content) for m in world.sens.accepted)
    repeats = sum(count - 1 for count in accepted.values())
    print(f"\nLOST-ANSWER {profile.name}: {len(accepted)} messages, {repeats} repeats")
    assert repeats == 0
    assert len(accepted) == due_per_store() * len(STORES)
    records = SqliteBookingRepository(world.db).list_bookings()
    for record in records:
        for flag in ("confirm_sms", "remind_sms", "option_sms"):
            assert f"{flag}_claim" not in record  # nothing left held
    sent_ids = {m.request_id for m in world.sens.accepted}
    recorded = {
        r[f"{f}_request_id"]
        for r in records
        for f in ("confirm_sms", "remind_sms", "option_sms")
        if r.get(f)
    }
    assert recorded <= sent_ids  # every mark holds an id SENS really gave
