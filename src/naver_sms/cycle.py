"""One cycle, the one use case: fetch bookings, decide what is due, send each message once.

    session check -> fetch every store (concurrent) -> store new records ->
    rules -> per store and kind: claim -> render -> send (batched) -> mark / release

The ports are passed in (`bootstrap.build_cycle_ports` makes the real ones),
`now` is a parameter, and the result is a `CycleReport` whose `to_dict()` is
the JSON of `design/interfaces.md`.
"""

from __future__ import annotations

import time as clock
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final, Protocol, TypeVar

from naver_sms.config import AppConfig, RulesConfig, StoreConfig
from naver_sms.database.base import DEFAULT_LEASE, BookingKey, BookingStore
from naver_sms.database.exceptions import DynamoDBException
from naver_sms.domain.booking import KST, Booking, mask_phone
from naver_sms.domain.messages import Message, MessageError, MessageKind
from naver_sms.domain.rules import COMPLETED, CONFIRMED, Decision, Evaluation, Rules, evaluate
from naver_sms.messaging.base import Notifier, SmsSender
from naver_sms.messaging.templates import TemplateRenderer
from naver_sms.naver.booking_api import Cookies, FetchResult
from naver_sms.naver.errors import LoginChallenge, NaverError
from naver_sms.utils.logger import get_logger

EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_CHALLENGE: Final = 3
# The API refuses windows over 31 days: today 00:00 .. today+31 00:00 is one window.
CONFIRMED_DAYS: Final = 31
MAX_WORKERS: Final = 8  # concurrent API requests and store writes

log = get_logger(__name__)
_T = TypeVar("_T")
_R = TypeVar("_R")


class BookingSource(Protocol):
    def fetch_bookings(
        self, biz_id: str, status: str, start: date, end: date, cookies: Cookies
    ) -> FetchResult: ...


class SessionKeeper(Protocol):
    def ensure_session(self, biz_id: str, now: datetime) -> list[dict[str, Any]]: ...


@dataclass
class CyclePorts:
    """Everything a cycle talks to; `bootstrap.build_cycle_ports` builds the real ones."""

    config: AppConfig
    bookings: BookingStore
    booking_api: BookingSource
    sessions: SessionKeeper
    sender: SmsSender
    notifier: Notifier
    # A dry run writes its messages to the outbox and records none of them as
    # sent (nor adopts): the next real cycle must still send every one.
    dry_run: bool = False
    renderer: TemplateRenderer = field(init=False)

    def __post_init__(self) -> None:
        # Built once per ports, so serve's cycles reuse the compiled templates.
        self.renderer = TemplateRenderer(self.config)

    def close(self) -> None:
        """Close the clients and connections the adapters own (a no-op for fakes)."""
        for port in (self.booking_api, self.sender, self.notifier, self.bookings):
            close = getattr(port, "close", None)
            if callable(close):
                close()


@dataclass
class CycleReport:
    """What one cycle did. `to_dict()` is the `run --json` and Lambda result."""

    now: datetime
    stores: int = 0
    bookings: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    invalid: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    adopted: int = 0
    rescheduled: int = 0
    created: int = 0
    login_challenge: bool = False
    duration_ms: int = 0

    @property
    def exit_code(self) -> int:
        if self.login_challenge:
            return EXIT_CHALLENGE
        return EXIT_FAILURE if self.failed or self.errors else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.astimezone(KST).isoformat(timespec="seconds"),
            "stores": self.stores,
            "bookings": self.bookings,
            "sent": self.sent,
            "failed": self.failed,
            "invalid": self.invalid,
            "duration_ms": self.duration_ms,
            # Additions to interfaces.md: what else an operator needs to read a cycle.
            "errors": self.errors,
            "held": self.held,
            "created": self.created,
            "adopted": self.adopted,
            "rescheduled": self.rescheduled,
            "exit_code": self.exit_code,
        }


def rules_of(config: RulesConfig) -> Rules:
    return Rules(
        confirmation=config.confirmation.enabled,
        reminder=config.reminder.enabled,
        hours_before=config.reminder.hours_before,
        event=config.event.enabled,
        keywords=tuple(config.event.keywords),
        event_window=config.event.window,
    )


@dataclass(frozen=True, slots=True)
class _Pending:
    store: StoreConfig
    booking: Booking
    decision: Decision

    @property
    def key(self) -> BookingKey:
        return self.booking.booking_num, self.booking.phone

    @property
    def flag(self) -> str:
        return self.decision.kind.flag


@dataclass(frozen=True, slots=True)
class _Run:
    """One cycle's fixed inputs, so the steps below take one argument instead of six."""

    ports: CyclePorts
    now: datetime
    owner: str
    lease: timedelta
    report: CycleReport
    # Store writes are one request each (a claim cannot be batched): a pool
    # overlaps their round trips, which is what a cold cycle's time is made of.
    pool: ThreadPoolExecutor

    def each(self, work: Callable[[_T], _R], items: Iterable[_T]) -> list[_R]:
        return list(self.pool.map(work, items))


def run_cycle(
    *,
    ports: CyclePorts,
    now: datetime,
    adopt: bool = False,
    owner: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
    max_workers: int = MAX_WORKERS,
) -> CycleReport:
    """One cycle at `now` (aware). Never raises for Naver, a store fetch or a send; see the report.

    `owner` names this cycle's claims (default: a fresh uuid), so racing
    cycles never mistake each other's claims for their own. `max_workers`
    bounds the concurrent API requests and store writes.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime (the host's time zone is not used)")
    started = clock.perf_counter()
    report = CycleReport(now=now, stores=len(ports.config.stores))
    for warning in ports.config.warnings():
        log.warning("Config holds messages back", operation="run_cycle", error=warning)
    try:
        with ThreadPoolExecutor(
            max_workers=max(1, max_workers), thread_name_prefix="cycle"
        ) as pool:
            run = _Run(ports, now, owner or f"cycle-{uuid.uuid4().hex}", lease, report, pool)
            cookies = _session(run)
            if cookies is not None:
                evaluations = _prepare(run, _fetch_all(run, cookies), adopt=adopt)
                _send_all(run, evaluations)
    finally:
        report.duration_ms = round((clock.perf_counter() - started) * 1000)
        _publish(ports, report)
    return report


# -------------------------------------------------------------- session


def _session(run: _Run) -> Cookies | None:
    ports, report = run.ports, run.report
    biz_id = ports.config.stores[0].id  # any store's console checks the owner's cookies
    try:
        return ports.sessions.ensure_session(biz_id, run.now)
    except LoginChallenge as exc:
        report.login_challenge = True
        report.errors.append({"store": "", "error": str(exc)})
        ports.notifier.alert(str(exc))
    except NaverError as exc:  # a failed login, or a check that could not be made
        report.errors.append({"store": "", "error": f"no Naver session: {exc}"})
        ports.notifier.alert(f"no Naver session, nothing fetched: {exc}")
    return None


# -------------------------------------------------------------- fetch


def _fetch_all(run: _Run, cookies: Cookies) -> dict[str, list[Booking]]:
    """Each store's bookings, RC03 and RC08 deduplicated; failed stores are left out."""
    ports, report = run.ports, run.report
    today = run.now.astimezone(KST).date()
    windows = {
        CONFIRMED: (today, today + timedelta(days=CONFIRMED_DAYS - 1)),
        COMPLETED: (today, today),  # the post-visit window: today
    }
    jobs = [(store.id, status) for store in ports.config.stores for status in windows]

    def fetch(job: tuple[str, str]) -> FetchResult | NaverError:
        biz_id, status = job
        start, end = windows[status]
        try:
            return ports.booking_api.fetch_bookings(biz_id, status, start, end, cookies)
        except NaverError as exc:  # one store's trouble must not stop the others
            return exc

    results = run.each(fetch, jobs)
    failed: set[str] = set()
    found: dict[str, dict[BookingKey, Booking]] = {store.id: {} for store in ports.config.stores}
    seen_invalid: set[tuple[str, str]] = set()
    for (biz_id, _status), result in zip(jobs, results, strict=True):
        if isinstance(result, NaverError):
            failed.add(biz_id)
            report.errors.append({"store": biz_id, "error": str(result)})
            continue
        for booking in result.bookings:
            # RC08 is fetched second: a visit that ended between the calls keeps that status.
            found[biz_id][(booking.booking_num, booking.phone)] = booking
        for entry in result.unusable:
            item = entry.to_dict()
            key = (item["booking_num"], item["reason"])
            if key not in seen_invalid:
                seen_invalid.add(key)
                report.invalid.append(item)
    for biz_id in sorted(failed):
        ports.notifier.alert(f"store {biz_id} skipped this cycle: bookings could not be fetched")
    return {biz_id: list(rows.values()) for biz_id, rows in found.items() if biz_id not in failed}


# -------------------------------------------------------------- records and rules


def _prepare(
    run: _Run, bookings: dict[str, list[Booking]], *, adopt: bool
) -> list[tuple[StoreConfig, Evaluation]]:
    """Store new records and moved visits, adopt, and evaluate the rules; all before any send."""
    ports, report, store_db = run.ports, run.report, run.ports.bookings
    everything = [booking for rows in bookings.values() for booking in rows]
    report.bookings = len(everything)
    records = store_db.get_bookings((b.booking_num, b.phone) for b in everything)
    new = [b for b in everything if (b.booking_num, b.phone) not in records]
    report.created = sum(run.each(lambda b: store_db.create_booking(b.to_item()), new))

    rules = rules_of(ports.config.rules)
    stores = {store.id: store for store in ports.config.stores}
    evaluations = []
    moves: list[tuple[str, str, str]] = []
    adoptions: list[tuple[str, str, str]] = []
    for biz_id, rows in bookings.items():
        store = stores[biz_id]
        for booking in rows:
            result = evaluate(
                booking,
                records.get((booking.booking_num, booking.phone)),
                run.now,
                rules,
                advertising_allowed=bool(store.opt_out),
                adopt=adopt,
            )
            key = (booking.booking_num, booking.phone)
            if result.reschedule_to is not None:
                moves.append((*key, result.reschedule_to))
            adoptions += [(*key, decision.kind.flag) for decision in result.adopt]
            report.held += [_item(booking, decision) for decision in result.held]
            evaluations.append((store, result))
    report.rescheduled = sum(run.each(lambda move: store_db.reschedule(*move), moves))
    if ports.dry_run:
        report.adopted = len(adoptions)
    else:
        report.adopted = sum(run.each(lambda a: store_db.update_flag(*a, value=True), adoptions))
    return evaluations


def _item(booking: Booking, decision: Decision, **more: Any) -> dict[str, Any]:
    return {
        "booking_num": booking.booking_num,
        "phone_masked": mask_phone(booking.phone),
        "kind": decision.kind.value,
        **more,
        "why": decision.why,
    }


# -------------------------------------------------------------- send


def _send_all(run: _Run, evaluations: Sequence[tuple[StoreConfig, Evaluation]]) -> None:
    """Per store, one batch per kind in kind order, so a confirmation precedes its reminder."""
    for batches in _batches(evaluations):
        held_back: set[BookingKey] = set()
        for batch in batches:
            todo = [pending for pending in batch if pending.key not in held_back]
            # A reminder never overtakes its confirmation: when this cycle did not
            # send that (it failed, or another cycle holds it), the reminder waits.
            held_back |= _send_batch(run, todo)


def _batches(
    evaluations: Sequence[tuple[StoreConfig, Evaluation]],
) -> Iterator[list[list[_Pending]]]:
    by_store: dict[str, dict[MessageKind, list[_Pending]]] = {}
    for store, result in evaluations:
        kinds = by_store.setdefault(store.id, {kind: [] for kind in MessageKind})
        for decision in result.due:
            kinds[decision.kind].append(_Pending(store, result.booking, decision))
    for kinds in by_store.values():
        yield [kinds[kind] for kind in MessageKind if kinds[kind]]


def _send_batch(run: _Run, batch: Sequence[_Pending]) -> set[BookingKey]:
    """Claim, render and send one batch; the keys of the bookings whose message did not go."""
    ports, store_db, owner = run.ports, run.ports.bookings, run.owner

    def claim(p: _Pending) -> bool:
        return store_db.claim(*p.key, p.flag, owner, run.now, run.lease)

    def release(p: _Pending) -> bool:
        return store_db.release(*p.key, p.flag, owner)

    won = [p for p, ok in zip(batch, run.each(claim, batch), strict=True) if ok]
    # Not claimed: sent already, or another cycle is sending it right now.
    not_sent = {p.key for p in batch} - {p.key for p in won}
    claimed: list[tuple[_Pending, Message]] = []
    unrenderable: list[_Pending] = []
    for pending in won:
        try:
            message = ports.renderer.message(pending.store, pending.decision.kind, pending.booking)
        except MessageError as exc:
            _failed(run.report, pending, str(exc))
            unrenderable.append(pending)
            continue
        claimed.append((pending, message))
    results = ports.sender.send([message for _pending, message in claimed]) if claimed else []
    accepted: list[tuple[_Pending, str]] = []
    for (pending, _message), result in zip(claimed, results, strict=True):
        if result.ok and result.request_id is not None:
            accepted.append((pending, result.request_id))
        else:
            _failed(run.report, pending, str(result.error or "not accepted"))
            unrenderable.append(pending)
    run.each(release, unrenderable)  # a later cycle tries again
    not_sent |= {p.key for p in unrenderable}
    if ports.dry_run:
        run.each(release, [pending for pending, _request_id in accepted])
        for pending, request_id in accepted:
            run.report.sent.append(
                _item(
                    pending.booking,
                    pending.decision,
                    request_id=request_id,
                    store=pending.store.id,
                    dry_run=True,
                )
            )
        return not_sent
    # Marks run in the pool, the report is written here: in batch order, one thread.
    for pending, request_id, error in run.each(lambda sent: _mark(run, *sent), accepted):
        if error is None:
            run.report.sent.append(
                _item(
                    pending.booking, pending.decision, request_id=request_id, store=pending.store.id
                )
            )
        else:
            _failed(run.report, pending, error)
    return not_sent


def _mark(run: _Run, pending: _Pending, request_id: str) -> tuple[_Pending, str, str | None]:
    """(pending, request id, error or None) once the accepted message is recorded as sent."""
    booking, flag = pending.booking, pending.flag
    context = {"booking_num": booking.booking_num, "flag": flag, "request_id": request_id}
    try:
        marked = run.ports.bookings.mark_sent(*pending.key, flag, run.owner, request_id, run.now)
    except DynamoDBException as exc:
        # Accepted but not recorded: once the claim expires it may be sent again.
        # The request id in this line is how an operator finds such a twin.
        log.error("Sent but not marked", operation="mark_sent", context=context, error=str(exc))
        return pending, request_id, f"sent (request {request_id}) but not recorded: {exc}"
    if not marked:
        log.warning("Sent after the claim was lost", operation="mark_sent", context=context)
    return pending, request_id, None


def _failed(report: CycleReport, pending: _Pending, error: str) -> None:
    report.failed.append(_item(pending.booking, pending.decision, error=error))


# -------------------------------------------------------------- report


def _publish(ports: CyclePorts, report: CycleReport) -> None:
    data = report.to_dict()
    counts = {kind.value: 0 for kind in MessageKind}
    for item in report.sent:
        counts[item["kind"]] += 1
    log.info(
        "Cycle finished",
        operation="run_cycle",
        context=data,
        duration_ms=report.duration_ms,
        sent_by_kind=counts,
    )
    if report.sent or report.failed:
        with suppress(Exception):  # the operator channel must never fail a cycle
            ports.notifier.summary(data)
