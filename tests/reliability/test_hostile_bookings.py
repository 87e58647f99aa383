"""One bad booking never stops the others: thousands of hostile payloads in real cycles.

The sandbox Naver serves good bookings mixed with payloads whose fields are
missing, of the wrong type, extreme (year 1, year 9999, 100,000 characters)
or hostile (lone surrogates, emoji, characters EUC-KR cannot carry, numbers
and markup in names). Real cycles over loopback HTTP store them in SQLite and
in dynalite and send through the sandbox SENS. Every good booking gets
exactly its confirmation, once; nothing raises; no full phone number or
canary reaches the output.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from naver_sms import bootstrap
from naver_sms.config import AppConfig
from naver_sms.cycle import run_cycle
from naver_sms.domain.booking import KST
from naver_sms.sandbox.naver import NaverSandbox, booking_entry
from naver_sms.sandbox.sens import FakeSens
from tests.reliability.workload import sandbox_settings

pytestmark = pytest.mark.reliability

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=KST)
STORE, SENDER = "5000001", "0200000000"
GOOD, HOSTILE = 120, 2000
CANARY = "canary-hostile-7f3a"

# Values that have broken a parser somewhere: wrong types, extremes, hostile text.
NASTY: list[Any] = [
    None,
    0,
    -1,
    10**30,
    1.5,
    True,
    "",
    " ",
    [],
    {},
    [None],
    {"a": {"b": [1, {"c": None}]}},
    "x" * 100_000,
    "\ud83d",  # half an emoji
    "😀😀😀",
    "똠방각하",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2026-13-45T99:99:99Z",
    "not a date",
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "010-0000-9999",
    f"NID_AUT={CANARY}",
    "\x00\x01\x1b[31m",
    "١٢٣",
]
FIELDS = [
    "bookingId",
    "businessId",
    "bookingStatusCode",
    "name",
    "phone",
    "bizItemName",
    "bookingOptionJson",
    "snapshotJson",
    "snapshotJson.startDateTime",
    "snapshotJson.endDateTime",
]


def good_entry(index: int) -> dict[str, Any]:
    start = NOW.replace(hour=14) + timedelta(days=1 + index % 5)
    return booking_entry(
        STORE,
        1_400_000_000 + index,
        start,
        status="RC03",
        name="선량고객",
        phone=f"0100000{index:04d}",
        options=["기본 이용"],
    )


def hostile_entry(rng: random.Random, index: int) -> dict[str, Any]:
    entry = good_entry(5000 + index)
    entry["phone"] = f"0100000{5000 + index % 4999:04d}"
    for _ in range(rng.randint(1, 3)):
        field = rng.choice(FIELDS)
        target = entry
        if "." in field:
            parent, field = field.split(".")
            if not isinstance(entry.get(parent), dict):
                continue
            target = entry[parent]
        if rng.random() < 0.15:
            target.pop(field, None)
        else:
            target[field] = copy.deepcopy(rng.choice(NASTY))
    return entry


@pytest.fixture(params=["sqlite", "dynalite"])
def store_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "sqlite":
        return {"store": "sqlite"}
    dynalite_url = request.getfixturevalue("dynalite_url")
    suffix = uuid.uuid4().hex[:8]
    return {
        "store": "dynamodb",
        "aws_endpoint_url": dynalite_url,
        "bookings_table": f"hostile_{suffix}",
        "session_table": f"hostile_s_{suffix}",
    }


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[NaverSandbox, FakeSens]]:
    with (
        NaverSandbox(now=NOW, stores={STORE: 0}, days=1) as naver,
        FakeSens(senders=(SENDER,)) as sens,
    ):
        yield naver, sens


def test_hostile_payloads_never_stop_a_cycle_and_good_bookings_get_exactly_their_message(
    world: tuple[NaverSandbox, FakeSens],
    store_settings: dict[str, Any],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    naver, sens = world
    rng = random.Random(20261201)
    entries = [good_entry(i) for i in range(1, GOOD + 1)]
    entries += [hostile_entry(rng, i) for i in range(HOSTILE)]
    rng.shuffle(entries)
    for entry in entries:
        naver.add_booking(STORE, entry)
    settings = sandbox_settings(tmp_path / "hostile.db", naver, sens, **store_settings)
    bootstrap.create_tables(settings)
    with bootstrap.session_repository(settings) as sessions:
        sessions.save_session(json.dumps(naver.issue_session()))
    config = AppConfig.model_validate(
        {"stores": [{"id": STORE, "name": "샘플 스튜디오", "sender": SENDER}]}
    )
    with bootstrap.cycle_ports(settings, config=config) as ports:
        reports = [run_cycle(ports=ports, now=NOW + timedelta(minutes=m)) for m in (0, 5)]

    good_phones = {f"0100000{i:04d}" for i in range(1, GOOD + 1)}
    per_phone = Counter(message.to for message in sens.accepted)
    assert {phone: per_phone[phone] for phone in good_phones} == dict.fromkeys(good_phones, 1)
    assert max(per_phone.values()) == 1  # nothing, hostile or not, went twice
    assert reports[1].to_dict()["sent"] == []
    assert not any("cycle stopped" in e.error for r in reports for e in r.errors)
    assert reports[0].invalid  # the unusable ones are reported, not dropped silently
    # What Naver sends never makes a message unsendable: replaced or shortened, said so.
    assert [item.error for report in reports for item in report.failed] == []
    out, err = capfd.readouterr()
    output = out + err + json.dumps([r.to_dict() for r in reports], ensure_ascii=False)
    assert "Traceback" not in output
    assert CANARY not in output
    for phone in [*sorted(good_phones)[:20], "01000009999"]:
        assert phone not in output.replace("-", "")
