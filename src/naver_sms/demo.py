"""`naver-sms demo`: one simulated day against the bundled sandbox, nothing leaves 127.0.0.1.

The sandbox Naver serves generated bookings of yesterday, today and
tomorrow for the two stores of the example config; the fake SENS checks and
accepts the texts; the records live in a temporary SQLite file. The cycles
are the real `run_cycle` built by `bootstrap`, at chosen KST times.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Final

from naver_sms import bootstrap
from naver_sms.config import AppConfig, Settings
from naver_sms.cycle import run_cycle
from naver_sms.domain.booking import KST, mask_phone
from naver_sms.sandbox.naver import NaverSandbox, visit_start
from naver_sms.sandbox.sens import FakeSens

# Enough for every kind: confirmations at 09:00, reminders before each visit,
# the post-visit event in the 20:00 window, and a second 20:10 run that sends
# nothing. Visits run 10:00-15:00, so these cycles reach every reminder.
DEMO_TIMES: Final = (time(9, 0), time(12, 0), time(13, 10), time(20, 10), time(20, 10))
DEMO_STORES: Final = {"5000001": 18, "5000002": 12}
DEMO_SENDERS: Final = ("0200000000", "0310000000")


@dataclass(frozen=True, slots=True)
class DemoCycle:
    at: datetime
    report: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DemoDay:
    day: date
    cycles: list[DemoCycle]
    accepted: int  # messages the fake SENS accepted (texts and AlimTalk)
    sens_requests: int  # send requests (SMS and AlimTalk APIs)
    texts: list[tuple[str, str]]  # (kind, text) of the first message of each kind sent
    unreachable: str  # the customer whose texts the carrier refuses (masked)
    opted_out: str  # the customer who opted out of advertising by the 080 line (masked)
    no_kakao: str  # the customer without KakaoTalk: AlimTalk's SMS failover reaches them
    alimtalk: int  # AlimTalk messages the fake SENS accepted
    failovers: int  # of those, how many went as their SMS failover

    def items(self, key: str) -> list[dict[str, Any]]:
        """Every cycle's report items under `key` (`sent`, `delivered`, ...), in order."""
        return [item for cycle in self.cycles for item in cycle.report[key]]


@dataclass(frozen=True, slots=True)
class DemoWorld:
    """A played day and what it ran against, still up: settings point at all of it."""

    day: DemoDay
    settings: Settings
    naver: NaverSandbox
    sens: FakeSens


def example_text() -> str:
    """The documented example config shipped with the package (what `naver-sms init` writes)."""
    return resources.files("naver_sms").joinpath("example.yaml").read_text(encoding="utf-8")


def demo_config(*, more_messages: bool = True) -> AppConfig:
    """The example config as the demo plays it: its AlimTalk section switched on and,
    unless told otherwise, its commented extra messages too."""
    import yaml  # noqa: PLC0415

    text = with_alimtalk(example_text())
    return AppConfig.model_validate(
        yaml.safe_load(with_more_messages(text) if more_messages else text)
    )


def with_alimtalk(example: str) -> str:
    """The example config with its commented `alimtalk:` section switched on: the demo
    sends the confirmation and the guide as AlimTalk, as most Korean shops do."""
    head, marker, commented = example.partition("\n# alimtalk:\n")
    if not marker:
        return example
    lines = [line.removeprefix("#").removeprefix(" ") for line in commented.splitlines()]
    return "\n".join([head, "alimtalk:", *lines]) + "\n"


def with_more_messages(example: str) -> str:
    """The example config with its commented extra messages switched on: a day-before
    reminder, a cancellation notice and a change notice, as the demo's day shows them."""
    head, marker, rest = example.partition("  # More, for example (remove the # to use them):\n")
    if not marker:
        return example
    block, blank, tail = rest.partition("\n\n")
    lines = [line.replace("  # ", "  ", 1) for line in block.splitlines()]
    return head + "\n".join(lines) + "\n" + blank + tail


def _approve_templates(sens: FakeSens, config: AppConfig) -> None:
    """The fake Kakao approves exactly the templates the config names, as the real one
    would have before a shop could send them."""
    for store in config.stores:
        for spec in config.catalog(store):
            choice = config.alimtalk_template(store, spec)
            if choice is not None:
                sens.approve_template(
                    choice.plus_friend_id, choice.template.code, choice.template.content
                )


def _customers(naver: NaverSandbox, day: date, keywords: Sequence[str]) -> tuple[str, str, str]:
    """(a customer visiting tomorrow, one visiting today with an event option, another
    visiting today): the demo makes the first unreachable, has the second opt out of
    advertising, and gives the third no KakaoTalk."""
    today, tomorrow = [], []
    for biz_id in DEMO_STORES:
        for raw in naver.bookings(biz_id):
            if raw.get("bookingStatusCode") == "RC04":
                continue
            options = " ".join(str(o.get("name", "")) for o in raw.get("bookingOptionJson", []))
            visit = str(raw.get("startDate", ""))
            if visit == day.isoformat() and any(k in options for k in keywords):
                today.append(str(raw["phone"]))
            elif visit > day.isoformat():
                tomorrow.append(str(raw["phone"]))
    others = [phone for phone in tomorrow[1:] if phone not in today]
    return tomorrow[0], today[0], others[0]


# What customers do during the demo's day, seen by the cycle at that time: one
# cancels tomorrow's booking, another moves theirs three hours later.
CANCEL_BEFORE: Final = time(12, 0)
MOVE_BEFORE: Final = time(13, 10)


def _changes(
    naver: NaverSandbox, day: date, spared: set[str]
) -> dict[time, list[Callable[[], None]]]:
    """The cancellation and the move, on two of tomorrow's bookings of the first store
    that the other examples of the day leave alone."""
    biz_id = next(iter(DEMO_STORES))
    tomorrow = [
        raw
        for raw in naver.bookings(biz_id, "RC03")
        if str(raw.get("startDate", "")) > day.isoformat() and str(raw["phone"]) not in spared
    ]
    cancelled, moved = tomorrow[0], tomorrow[1]
    start = visit_start(moved)
    if start is None:  # the sandbox's own bookings always say; a guard for mypy's sake
        raise ValueError("a sandbox booking without a start")
    return {
        CANCEL_BEFORE: [lambda: naver.cancel(biz_id, int(cancelled["bookingId"]))],
        MOVE_BEFORE: [
            lambda: naver.move(biz_id, int(moved["bookingId"]), start + timedelta(hours=3))
        ],
    }


@contextmanager
def _world(day: date, workdir: Path) -> Iterator[tuple[NaverSandbox, FakeSens, Settings]]:
    start = datetime.combine(day, time(9, 0), tzinfo=KST)
    with (
        NaverSandbox(now=start, stores=DEMO_STORES, days=3) as naver,
        FakeSens(senders=DEMO_SENDERS) as sens,
    ):
        settings = Settings(
            store="sqlite",
            db_path=workdir / "demo.db",
            naver_booking_url=naver.base_url,
            naver_login_url=naver.login_url,
            sens_access_key=sens.access_key,  # type: ignore[arg-type]  # pydantic wraps it
            sens_secret_key=sens.secret_key,  # type: ignore[arg-type]
            sens_service_id=sens.service_id,
            sens_alimtalk_service_id=sens.alimtalk_service_id,
            sens_url=sens.url,
            outbox_path=workdir / "outbox.jsonl",
        )
        yield naver, sens, settings


def run_demo(
    config: AppConfig,
    *,
    day: date | None = None,
    times: Sequence[time] = DEMO_TIMES,
    on_cycle: Callable[[DemoCycle], None] | None = None,
) -> DemoDay:
    """Play the day (default: today, KST); `on_cycle` sees each cycle as it ends."""
    with played_day(config, day=day, times=times, on_cycle=on_cycle) as world:
        return world.day


@contextmanager
def played_day(
    config: AppConfig,
    *,
    day: date | None = None,
    times: Sequence[time] = DEMO_TIMES,
    on_cycle: Callable[[DemoCycle], None] | None = None,
) -> Iterator[DemoWorld]:
    """Play the day, then yield it with its world, still running.

    The sandbox Naver, the fake SENS and the SQLite file stay up until the
    block ends: the owner's page can be served on the day just played (the
    README's screenshot, the browser tests).
    """
    day = day or datetime.now(KST).date()
    cycles: list[DemoCycle] = []
    with (
        tempfile.TemporaryDirectory(prefix="naver-sms-demo-") as tmp,
        _world(day, Path(tmp)) as (
            naver,
            sens,
            settings,
        ),
    ):
        # One customer's number is no longer in service (every text to it fails at the
        # carrier), and one called the store's 080 line: the day shows both.
        keywords = next(
            (spec.keywords for spec in config.catalog(config.stores[0]) if spec.advertising), ()
        )
        unreachable, opted_out, no_kakao = _customers(naver, day, keywords)
        changes = _changes(naver, day, {unreachable, opted_out, no_kakao})
        # Out of service: no KakaoTalk there, and the carrier refuses the failover text.
        sens.no_kakao(unreachable)
        sens.set_outcome(unreachable, "failed", code="3018", message="결번")
        sens.opt_out(opted_out, at=datetime.combine(day, time(8, 0), tzinfo=KST))
        sens.no_kakao(no_kakao)  # AlimTalk cannot reach them: the SMS failover does
        _approve_templates(sens, config)
        bootstrap.create_tables(settings)
        with bootstrap.session_repository(settings) as sessions:
            sessions.save_session(json.dumps(naver.issue_session()))
        with bootstrap.cycle_ports(settings, config=config) as ports:
            for at in times:
                now = datetime.combine(day, at, tzinfo=KST)
                naver.now = now  # the sandbox's bookings complete as the clock passes
                for change in changes.pop(at, ()):
                    change()  # a customer cancels or moves a booking before this cycle
                cycle = DemoCycle(now, run_cycle(ports=ports, now=now).to_dict())
                cycles.append(cycle)
                if on_cycle is not None:
                    on_cycle(cycle)
        # A SENS request carries one kind (the cycle batches per kind).
        kind_of = {s["request_id"]: s["kind"] for c in cycles for s in c.report["sent"]}
        texts: dict[str, str] = {}
        for alimtalk in sens.accepted_alimtalk:
            kind = kind_of.get(alimtalk.request_id, "?")
            texts.setdefault(f"{kind} (AlimTalk)", alimtalk.content)
        for message in sens.accepted:
            texts.setdefault(kind_of.get(message.request_id, "?"), message.content)
        played = DemoDay(
            day,
            cycles,
            len(sens.accepted) + len(sens.accepted_alimtalk),
            sens.send_requests + sens.alimtalk_requests,
            list(texts.items()),
            unreachable=mask_phone(unreachable),
            opted_out=mask_phone(opted_out),
            no_kakao=mask_phone(no_kakao),
            alimtalk=len(sens.accepted_alimtalk),
            failovers=len(sens.failovers),
        )
        yield DemoWorld(played, settings, naver, sens)
