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
from naver_sms.database import exceptions
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
MAX_WORKERS: Final = 8  # concurrent API requests and store writes (NAVER_SMS_WORKERS)
READ_BATCH: Final = 100  # keys per get_bookings call: DynamoDB's BatchGetItem limit
# A mark is the one write whose loss repeats a text (after the lease): it is
# retried on top of the client's own retries, whose budget a long run of
# throttling can use up. About 6 s at most, far inside the 10-minute lease.
MARK_ATTEMPTS: Final = 6
MARK_BACKOFF_S: Final = 0.2

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
    # Concurrent API requests and store writes; the default unless run_cycle is given one.
    workers: int = MAX_WORKERS
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

    def each_write(
        self, work: Callable[[_T], _R], items: Iterable[_T]
    ) -> list[_R | DynamoDBException]:
        """`each` for store writes: a write that fails is its own result, not the cycle's end.

        One throttled write must cost one booking's message this cycle, never
        the whole cycle (and the marks of messages already accepted).
        """

        def guarded(item: _T) -> _R | DynamoDBException:
            try:
                return work(item)
            except DynamoDBException as exc:
                return exc

        return list(self.pool.map(guarded, items))


def run_cycle(
    *,
    ports: CyclePorts,
    now: datetime,
    adopt: bool = False,
    owner: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
    max_workers: int | None = None,
) -> CycleReport:
    """One cycle at `now` (aware). Never raises for Naver, a store fetch or a send; see the report.

    `owner` names this cycle's claims (default: a fresh uuid), so racing
    cycles never mistake each other's claims for their own. `max_workers`
    bounds the concurrent API requests and store writes (default: `ports.workers`).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime (the host's time zone is not used)")
    started = clock.perf_counter()
    report = CycleReport(now=now, stores=len(ports.config.stores))
    for warning in ports.config.warnings():
        log.warning("Config holds messages back", operation="run_cycle", error=warning)
    try:
        with ThreadPoolExecutor(
            max_workers=max(1, max_workers or ports.workers), thread_name_prefix="cycle"
        ) as pool:
            run = _Run(ports, now, owner or f"cycle-{uuid.uuid4().hex}", lease, report, pool)
            cookies = _session(run)
            if cookies is not None:
                evaluations = _prepare(run, _fetch_all(run, cookies), adopt=adopt)
                _send_all(run, evaluations)
    except Exception as exc:
        # The cycle's log line (written below) must not read as a success.
        report.errors.append({"store": "", "error": f"cycle stopped: {exc}"})
        raise
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
    keys = [(b.booking_num, b.phone) for b in everything]
    # Read in batches side by side: one after another, 500 stores' reads were
    # a third of a warm cycle.
    records: dict[BookingKey, dict[str, Any]] = {}
    for found in run.each(
        store_db.get_bookings, [keys[i : i + READ_BATCH] for i in range(0, len(keys), READ_BATCH)]
    ):
        records.update(found)
    new = [b for b in everything if (b.booking_num, b.phone) not in records]
    created = run.each_write(lambda b: store_db.create_booking(b.to_item()), new)
    report.created = sum(result is True for result in created)
    # A booking is stored before anything is sent to it: one whose record could
    # not be written waits for the next cycle.
    unstored = _write_failures(run, "could not be stored", new, created)

    rules = rules_of(ports.config.rules)
    stores = {store.id: store for store in ports.config.stores}
    evaluations = []
    moves: list[tuple[str, str, str]] = []
    adoptions: list[tuple[str, str, str]] = []
    for biz_id, rows in bookings.items():
        store = stores[biz_id]
        for booking in rows:
            if (booking.booking_num, booking.phone) in unstored:
                continue
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
    moved = run.each_write(lambda move: store_db.reschedule(*move), moves)
    report.rescheduled = sum(result is True for result in moved)
    # Not moved: its reminder flag may still be the old time's, so it waits.
    unmoved = _write_failures(run, "could not be rescheduled", moves, moved)
    if ports.dry_run:
        report.adopted = len(adoptions)
    else:
        adopted = run.each_write(lambda a: store_db.update_flag(*a, value=True), adoptions)
        report.adopted = sum(result is True for result in adopted)
        _write_failures(run, "could not be adopted (run --adopt again)", adoptions, adopted)
    if unmoved:
        evaluations = [
            (store, result)
            for store, result in evaluations
            if (result.booking.booking_num, result.booking.phone) not in unmoved
        ]
    return evaluations


def _write_failures(
    run: _Run, what: str, items: Sequence[Any], results: Sequence[Any]
) -> set[BookingKey]:
    """Report the failed writes of `each_write` (one error per store); their booking keys."""
    failed: dict[str, list[tuple[BookingKey, DynamoDBException]]] = {}
    for item, result in zip(items, results, strict=True):
        if isinstance(result, DynamoDBException):
            booking_num, phone = (
                (item.booking_num, item.phone) if isinstance(item, Booking) else item[:2]
            )
            biz_id = booking_num.partition("_")[0]
            failed.setdefault(biz_id, []).append(((booking_num, phone), result))
    for biz_id, rows in sorted(failed.items()):
        run.report.errors.append(
            {
                "store": biz_id,
                "error": f"{len(rows)} bookings {what}; the next cycle tries again: {rows[0][1]}",
            }
        )
    return {key for rows in failed.values() for key, _exc in rows}


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
    ports = run.ports
    won = _claim(run, batch)
    # Not claimed: sent already, another cycle is sending it right now, or the claim failed.
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
    not_sent |= {p.key for p in unrenderable}
    if ports.dry_run:
        _release(run, unrenderable + [pending for pending, _request_id in accepted])
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
    # Marks first (they are what stops a repeat), then the releases of what did
    # not go; marks run in the pool, the report is written here, in batch order.
    for pending, request_id, error in run.each(lambda sent: _mark(run, *sent), accepted):
        if error is None:
            run.report.sent.append(
                _item(
                    pending.booking, pending.decision, request_id=request_id, store=pending.store.id
                )
            )
        else:
            _failed(run.report, pending, error)
    _release(run, unrenderable)  # a later cycle tries again
    return not_sent


def _claim(run: _Run, batch: Sequence[_Pending]) -> list[_Pending]:
    """The pending messages this cycle won the right to send."""
    store_db = run.ports.bookings

    def claim(p: _Pending) -> bool:
        return store_db.claim(*p.key, p.flag, run.owner, run.now, run.lease)

    won = []
    for pending, result in zip(batch, run.each_write(claim, batch), strict=True):
        if isinstance(result, DynamoDBException):
            # Perhaps applied with its answer lost: then the claim expires unused.
            _failed(run.report, pending, f"not claimed, the next cycle tries again: {result}")
        elif result:
            won.append(pending)
    return won


def _release(run: _Run, pending: Sequence[_Pending]) -> None:
    store_db = run.ports.bookings

    def release(p: _Pending) -> bool:
        return store_db.release(*p.key, p.flag, run.owner)

    for item, result in zip(pending, run.each_write(release, pending), strict=True):
        if isinstance(result, DynamoDBException):
            # Harmless: the claim expires with its lease and a later cycle sends.
            log.warning(
                "Claim not released; it expires with its lease",
                operation="release",
                context={"booking_num": item.booking.booking_num, "flag": item.flag},
                error=str(result),
            )


def _mark(run: _Run, pending: _Pending, request_id: str) -> tuple[_Pending, str, str | None]:
    """(pending, request id, error or None) once the accepted message is recorded as sent."""
    booking, flag = pending.booking, pending.flag
    context = {"booking_num": booking.booking_num, "flag": flag, "request_id": request_id}
    try:
        marked = _mark_with_retries(run, pending, request_id)
    except DynamoDBException as exc:
        # Accepted but not recorded: once the claim expires it may be sent again.
        # The request id in this line is how an operator finds such a twin.
        log.error("Sent but not marked", operation="mark_sent", context=context, error=str(exc))
        return pending, request_id, f"sent (request {request_id}) but not recorded: {exc}"
    if not marked:
        log.warning("Sent after the claim was lost", operation="mark_sent", context=context)
    return pending, request_id, None


def _mark_with_retries(run: _Run, pending: _Pending, request_id: str) -> bool:
    """mark_sent, tried again on errors that pass; a repeated mark is recognised as done."""
    for attempt in range(MARK_ATTEMPTS):
        try:
            return run.ports.bookings.mark_sent(
                *pending.key, pending.flag, run.owner, request_id, run.now
            )
        except exceptions.PermissionError:
            raise  # no retry makes a denied write allowed
        except DynamoDBException:
            if attempt == MARK_ATTEMPTS - 1:
                raise
            _sleep(MARK_BACKOFF_S * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _sleep(seconds: float) -> None:
    clock.sleep(seconds)


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
