"""One cycle, the one use case: fetch bookings, decide what is due, send each message once.

    session check -> fetch every store (concurrent) -> store new records ->
    rules -> per store and kind: claim -> render -> send (batched) -> mark / release

The ports are passed in (`bootstrap.build_cycle_ports` makes the real ones),
`now` is a parameter, and the result is a `CycleReport` whose `to_dict()` is
the JSON of `design/interfaces.md`.
"""

from __future__ import annotations

import threading
import time as clock
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Protocol, TypeVar

from naver_sms.config import AppConfig, ConfigError, RulesConfig, StoreConfig
from naver_sms.database import exceptions
from naver_sms.database.base import (
    DEFAULT_LEASE,
    BookingKey,
    BookingStore,
    sent_attributes,
    unclear_attribute,
)
from naver_sms.database.exceptions import DynamoDBException
from naver_sms.domain.booking import KST, Booking, mask_phone
from naver_sms.domain.messages import Message, MessageError, MessageKind
from naver_sms.domain.rules import (
    COMPLETED,
    CONFIRMED,
    Decision,
    Evaluation,
    Rules,
    advertising_open,
    evaluate,
)
from naver_sms.messaging.base import (
    Notifier,
    SenderRefused,
    SendError,
    SendResult,
    SmsSender,
)
from naver_sms.messaging.templates import TemplateRenderer
from naver_sms.naver.booking_api import Cookies, FetchResult
from naver_sms.naver.errors import LoginChallenge, NaverError, NaverThrottled
from naver_sms.utils.logger import get_logger
from naver_sms.utils.scrub import scrub_data

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
# A request starts only while its claims have at least half their lease left:
# a send is at most a few seconds, so no claim can lapse under a text in flight
# and another cycle can never take it over and send it twice.
SEND_WITHIN: Final = 0.5
# No advertising request starts in the last minute before the window closes
# (a request takes seconds; SENS must have it before 21:00 KST).
AD_MARGIN: Final = timedelta(seconds=60)
# SENS's clock and ours may differ by seconds, and SENS stamps a request when
# it takes it: the lost-answer search looks this much either side.
UNCLEAR_SLACK: Final = timedelta(minutes=2)
REFUSED_ALERT_EVERY: Final = timedelta(days=1)
THROTTLED: Final = "Naver throttled the account; the next cycle tries again"

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
    unclear: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False
    adopted: int = 0
    rescheduled: int = 0
    created: int = 0
    login_challenge: bool = False
    duration_ms: int = 0

    @property
    def exit_code(self) -> int:
        if self.login_challenge:
            return EXIT_CHALLENGE
        # An unclear send is not a failed one (nothing is resent blind), but the
        # operator should know SENS's answers are getting lost.
        return EXIT_FAILURE if self.failed or self.errors or self.unclear else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        # Everything here leaves the process (CLI, log, Lambda result, Telegram):
        # a vendor's error text may echo a cookie or a key, so it is scrubbed once here.
        return scrub_data(  # type: ignore[no-any-return]
            {
                "dry_run": self.dry_run,
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
                "unclear": self.unclear,
                "created": self.created,
                "adopted": self.adopted,
                "rescheduled": self.rescheduled,
                "exit_code": self.exit_code,
            }
        )


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
    # The real-time window of an earlier send of this message whose answer was
    # lost (the record's `{flag}_unclear`): SENS is asked before sending again.
    unclear: str | None = None

    @property
    def key(self) -> BookingKey:
        return self.booking.booking_num, self.booking.phone

    @property
    def flag(self) -> str:
        return self.decision.kind.flag


@dataclass(frozen=True)
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
    rules: Rules
    # The real time (SENS's clock) and a pause, both injectable for tests.
    real_clock: Callable[[], datetime]
    sleep: Callable[[float], None]
    started: datetime = field(init=False)
    # Store id -> the error text, once SENS refused that store's sender number.
    refused: dict[str, str] = field(default_factory=dict)
    # (booking_num, phone, flag) -> the unclear window stored on the record.
    unclear: dict[tuple[str, str, str], str] = field(default_factory=dict)
    # phone -> the request ids its records already hold: never a lost answer's match.
    recorded: dict[str, set[str]] = field(default_factory=dict)
    _claims: dict[tuple[str, str, str], _Pending] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        object.__setattr__(self, "started", self.real_clock())

    def clock(self) -> datetime:
        """The cycle's clock: `now` advancing with real time, so leases and the
        advertising window are judged at the moment of each write and request."""
        return self.now + (self.real_clock() - self.started)

    @property
    def records_sends(self) -> bool:
        """Whether an acceptance here is a text on a phone (not a rehearsal)."""
        return not self.ports.dry_run

    def hold_claim(self, pending: _Pending) -> None:
        with self._lock:
            self._claims[(*pending.key, pending.flag)] = pending

    def forget_claim(self, pending: _Pending) -> None:
        with self._lock:
            self._claims.pop((*pending.key, pending.flag), None)

    def open_claims(self) -> list[_Pending]:
        """Claims taken and neither sent, marked unclear nor released."""
        with self._lock:
            return list(self._claims.values())

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
    real_clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] = clock.sleep,
) -> CycleReport:
    """One cycle at `now` (aware). Never raises for Naver, a store fetch or a send; see the report.

    `now` is the cycle's start; its clock then advances with real time.
    `owner` names this cycle's claims (default: a fresh uuid), so racing
    cycles never mistake each other's claims for their own. `max_workers`
    bounds the concurrent API requests and store writes (default: `ports.workers`).
    `real_clock` is the real time (SENS's clock, default the system's), which
    a replay's `now` does not change.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime (the host's time zone is not used)")
    if not ports.dry_run and not getattr(ports.sender, "reaches_phones", False):
        # The invariant: a message is recorded as sent only when a provider that
        # reaches phones accepted it. The outbox reaches none, so it only rehearses.
        raise ConfigError(
            f"{ports.sender!r} does not reach phones: set the SENS keys, or rehearse with --dry-run"
        )
    started = clock.perf_counter()
    report = CycleReport(now=now, stores=len(ports.config.stores), dry_run=ports.dry_run)
    for warning in ports.config.warnings():
        log.warning("Config holds messages back", operation="run_cycle", error=warning)
    run: _Run | None = None
    try:
        with ThreadPoolExecutor(
            max_workers=max(1, max_workers or ports.workers), thread_name_prefix="cycle"
        ) as pool:
            run = _Run(
                ports,
                now,
                owner or f"cycle-{uuid.uuid4().hex}",
                lease,
                report,
                pool,
                rules_of(ports.config.rules),
                real_clock or _utc_now,
                sleep,
            )
            cookies = _session(run)
            if cookies is not None:
                evaluations = _prepare(run, _fetch_all(run, cookies), adopt=adopt)
                _send_all(run, evaluations)
    except Exception as exc:
        # The cycle's log line (written below) must not read as a success.
        report.errors.append({"store": "", "error": f"cycle stopped: {exc}"})
        if run is not None:
            _release_open_claims(run)
        raise
    finally:
        report.duration_ms = round((clock.perf_counter() - started) * 1000)
        _publish(ports, report)
    return report


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _release_open_claims(run: _Run) -> None:
    """A cycle that ends early gives back what it claimed and did not send.

    Without this a crash after the claims leaves them held for the whole lease,
    and the next cycle silently skips those messages.
    """
    leftover = run.open_claims()
    if not leftover:
        return
    for pending in leftover:
        with suppress(Exception):  # best effort: an unreleased claim still lapses
            run.ports.bookings.release(*pending.key, pending.flag, run.owner)
        run.forget_claim(pending)
    log.warning(
        "Cycle stopped early; its unsent claims were released",
        operation="run_cycle",
        context={"released": len(leftover)},
    )


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
    except NaverThrottled:
        report.errors += [{"store": store.id, "error": THROTTLED} for store in ports.config.stores]
        ports.notifier.alert(THROTTLED)
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
    # Once Naver throttles the account every further request is refused too and
    # only prolongs the throttle: the rest of the cycle asks nothing more.
    throttled = threading.Event()

    def fetch(job: tuple[str, str]) -> FetchResult | NaverError:
        biz_id, status = job
        start, end = windows[status]
        if throttled.is_set():
            return NaverThrottled()
        try:
            return ports.booking_api.fetch_bookings(biz_id, status, start, end, cookies)
        except NaverThrottled as exc:
            throttled.set()
            return exc
        except NaverError as exc:  # one store's trouble must not stop the others
            return exc

    results = run.each(fetch, jobs)
    failed: set[str] = set()
    unread: set[str] = set()
    found: dict[str, dict[BookingKey, Booking]] = {store.id: {} for store in ports.config.stores}
    seen_invalid: set[tuple[str, str]] = set()
    for (biz_id, _status), result in zip(jobs, results, strict=True):
        if isinstance(result, NaverThrottled):
            unread.add(biz_id)
            continue
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
    for biz_id in sorted(unread - failed):
        report.errors.append({"store": biz_id, "error": THROTTLED})
    if unread:
        ports.notifier.alert(f"{THROTTLED} ({len(unread)} stores not read)")
    failed |= unread
    for biz_id in sorted(failed - unread):
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
    for (booking_num, phone), record in records.items():
        for kind in MessageKind:
            window = record.get(unclear_attribute(kind.flag))
            if isinstance(window, str) and record.get(kind.flag) is not True:
                run.unclear[(booking_num, phone, kind.flag)] = window
            request_id = record.get(sent_attributes(kind.flag)[0])
            if isinstance(request_id, str):
                run.recorded.setdefault(phone, set()).add(request_id)
    new = [b for b in everything if (b.booking_num, b.phone) not in records]
    created = run.each_write(lambda b: store_db.create_booking(b.to_item()), new)
    report.created = sum(result is True for result in created)
    # A booking is stored before anything is sent to it: one whose record could
    # not be written waits for the next cycle.
    unstored = _write_failures(run, "not stored", new, created)

    rules = run.rules
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
            report.held += [_decision_item(booking, decision) for decision in result.held]
            evaluations.append((store, result))
    moved = run.each_write(lambda move: store_db.reschedule(*move), moves)
    report.rescheduled = sum(result is True for result in moved)
    # Not moved: its reminder flag may still be the old time's, so it waits.
    unmoved = _write_failures(run, "not moved to their new time", moves, moved)
    if ports.dry_run:
        report.adopted = len(adoptions)
    else:
        adopted = run.each_write(lambda a: store_db.update_flag(*a, value=True), adoptions)
        report.adopted = sum(result is True for result in adopted)
        _write_failures(run, "not adopted (run --adopt again)", adoptions, adopted)
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
        count = f"{len(rows)} booking{'s' if len(rows) != 1 else ''}"
        run.report.errors.append(
            {
                "store": biz_id,
                "error": f"{count} of store {biz_id} {what}; retried next cycle: {rows[0][1]}",
            }
        )
    return {key for rows in failed.values() for key, _exc in rows}


def _decision_item(booking: Booking, decision: Decision, **more: Any) -> dict[str, Any]:
    """A report item: masked phone only; `why` defaults to the rule's reason."""
    why = more.pop("why", decision.why)
    return {
        "booking_num": booking.booking_num,
        "phone_masked": mask_phone(booking.phone),
        "kind": decision.kind.value,
        **more,
        "why": why,
    }


def _item(pending: _Pending, **more: Any) -> dict[str, Any]:
    return _decision_item(pending.booking, pending.decision, store=pending.store.id, **more)


# -------------------------------------------------------------- send


def _send_all(run: _Run, evaluations: Sequence[tuple[StoreConfig, Evaluation]]) -> None:
    """Per store, one batch per kind in kind order, so a confirmation precedes its reminder."""
    for batches in _batches(run, evaluations):
        held_back: set[BookingKey] = set()
        for batch in batches:
            todo = [pending for pending in batch if pending.key not in held_back]
            # A reminder never overtakes its confirmation: when this cycle did not
            # send that (it failed, or another cycle holds it), the reminder waits.
            held_back |= _send_batch(run, todo)


def _batches(
    run: _Run, evaluations: Sequence[tuple[StoreConfig, Evaluation]]
) -> Iterator[list[list[_Pending]]]:
    by_store: dict[str, dict[MessageKind, list[_Pending]]] = {}
    for store, result in evaluations:
        kinds = by_store.setdefault(store.id, {kind: [] for kind in MessageKind})
        for decision in result.due:
            key = (result.booking.booking_num, result.booking.phone)
            unclear = run.unclear.get((*key, decision.kind.flag))
            kinds[decision.kind].append(_Pending(store, result.booking, decision, unclear))
    for kinds in by_store.values():
        yield [kinds[kind] for kind in MessageKind if kinds[kind]]


def _send_batch(run: _Run, batch: Sequence[_Pending]) -> set[BookingKey]:
    """Claim, render and send one batch; the keys of the bookings whose message did not go."""
    if not batch:
        return set()
    refused = run.refused.get(batch[0].store.id)
    if refused is not None:
        for pending in batch:
            _held(run, pending, refused)
        return {pending.key for pending in batch}
    claimed_at = run.clock()
    won = _claim(run, batch, claimed_at)
    # Not claimed: sent already, another cycle is sending it right now, or the claim failed.
    not_sent = {p.key for p in batch} - {p.key for p in won}
    rendered: list[tuple[_Pending, Message]] = []
    for pending in won:
        try:
            message = run.ports.renderer.message(
                pending.store, pending.decision.kind, pending.booking
            )
        except Exception as exc:  # the owner's template costs this message only
            reason = str(exc) if isinstance(exc, MessageError) else f"{type(exc).__name__}: {exc}"
            _failed(run, pending, reason)
            _release(run, [pending])  # at once: a later cycle (or a fixed template) tries again
            not_sent.add(pending.key)
            continue
        rendered.append((pending, message))
    doubtful = [(p, m) for p, m in rendered if p.unclear is not None and not run.ports.dry_run]
    fresh = [(p, m) for p, m in rendered if p.unclear is None or run.ports.dry_run]
    if doubtful:
        again, unresolved = _reconcile(run, doubtful)
        fresh += again
        not_sent |= unresolved
    return not_sent | _transmit(run, fresh, claimed_at)


def _reconcile(
    run: _Run, doubtful: Sequence[tuple[_Pending, Message]]
) -> tuple[list[tuple[_Pending, Message]], set[BookingKey]]:
    """Messages whose earlier send had no clear answer: record what SENS accepted then.

    Returns the messages SENS does not list (to be sent now) and the keys of
    those that wait because SENS could not be asked.
    """
    windows: dict[str, list[tuple[_Pending, Message]]] = {}
    for pending, message in doubtful:
        windows.setdefault(pending.unclear or "", []).append((pending, message))
    again: list[tuple[_Pending, Message]] = []
    waiting: set[BookingKey] = set()
    found: list[tuple[_Pending, str, Message]] = []
    for window, items in windows.items():
        start, end = _window_bounds(window)
        # The same customer's other messages of the window (a confirmation a
        # minute before the guide) look alike to SENS's list: their recorded
        # requests are left out, so a lost guide is never taken for them.
        exclude = {rid for p, _m in items for rid in run.recorded.get(p.booking.phone, ())}
        try:
            request_ids = run.ports.sender.find_accepted(
                [m for _p, m in items], start, end, exclude=exclude
            )
        except SendError as exc:
            # Sending again blind could repeat the text; waiting costs minutes.
            for pending, _message in items:
                _failed(
                    run,
                    pending,
                    "an earlier send had no clear answer and SENS could not be asked "
                    f"whether it was accepted; the next cycle asks again: {exc}",
                )
            _release(run, [p for p, _m in items])
            waiting |= {p.key for p, _m in items}
            continue
        for (pending, message), request_id in zip(items, request_ids, strict=True):
            if request_id is None:
                again.append((pending, message))
            else:
                found.append((pending, request_id, message))
    for pending, request_id, error in run.each(lambda item: _mark(run, item[0], item[1]), found):
        _report_marked(run, pending, request_id, error, earlier=True)
    return again, waiting


def _window_bounds(window: str) -> tuple[datetime, datetime]:
    """The real-time window of an unclear send, widened by the slack SENS's clock may need."""
    start_ms, _, end_ms = window.partition("-")
    start = datetime.fromtimestamp(int(start_ms) / 1000, UTC) - UNCLEAR_SLACK
    end = datetime.fromtimestamp(int(end_ms) / 1000, UTC) + UNCLEAR_SLACK
    return start, end


def _stop_reason(run: _Run, kind: MessageKind, claimed_at: datetime) -> str | None:
    """Why no further request of this batch may start now, on the cycle's advancing clock."""
    now = run.clock()
    if now >= claimed_at + run.lease * SEND_WITHIN:
        return "the cycle ran long; left to the next cycle before its claim could lapse"
    if kind.is_advertising and not advertising_open(now, run.rules.event_window, AD_MARGIN):
        return "the advertising window closed while the cycle ran; not sent"
    return None


def _transmit(
    run: _Run, items: Sequence[tuple[_Pending, Message]], claimed_at: datetime
) -> set[BookingKey]:
    """Send request by request; each request's messages are marked as soon as it returns."""
    if not items:
        return set()
    sending = _Sending(run, items)
    kind = items[0][0].decision.kind
    requests = run.ports.sender.send_requests([message for _pending, message in items])
    stopped: str | None = None
    try:
        while sending.unanswered:
            stopped = _stop_reason(run, kind, claimed_at)
            if stopped is not None:
                break
            started = run.real_clock()
            try:
                results = next(requests)
            except StopIteration:
                break
            except Exception:
                if run.records_sends:
                    # The sender broke mid-request: those texts may have gone. As
                    # unclear, none is sent again without asking SENS first.
                    _unclear(run, list(sending.unanswered.values()), started, run.real_clock())
                    sending.unanswered.clear()
                raise  # a rehearsal's claims are released by run_cycle
            sending.answered(results, started, run.real_clock())
            # Recorded before the next request goes: a crash can then repeat at
            # most the one request in flight, never a whole batch.
            sending.report_marks()
            if items[0][0].store.id in run.refused:
                break  # the rest would be refused the same way
    finally:
        # Stopping a generator sender ends it where it stands: nothing more goes.
        stop = getattr(requests, "close", None)
        if callable(stop):
            stop()
        sending.report_marks()
    for pending in sending.unanswered.values():
        # Claimed but never sent: back at once for the next cycle.
        _held(run, pending, stopped or run.refused.get(pending.store.id) or "not sent")
        sending.to_release.append(pending)
        sending.not_sent.add(pending.key)
    _release(run, sending.to_release)
    return sending.not_sent


class _Sending:
    """The state of one batch's requests: what is unanswered, marking, to release."""

    def __init__(self, run: _Run, items: Sequence[tuple[_Pending, Message]]) -> None:
        self.run = run
        self.unanswered = {id(message): pending for pending, message in items}
        self.adjusted = {(*p.key, p.flag): m.adjusted for p, m in items if m.adjusted}
        self.not_sent: set[BookingKey] = set()
        self.marks: list[Future[tuple[_Pending, str, str | None]]] = []
        self.to_release: list[_Pending] = []

    def answered(self, results: Sequence[SendResult], started: datetime, end: datetime) -> None:
        run = self.run
        unclear: list[_Pending] = []
        for result in results:
            pending = self.unanswered.pop(id(result.message))
            if result.ok and result.request_id is not None:
                if run.ports.dry_run:
                    more = _adjusted(result.message)
                    run.report.sent.append(
                        _item(pending, request_id=result.request_id, dry_run=True, **more)
                    )
                    self.to_release.append(pending)
                else:
                    self.marks.append(run.pool.submit(_mark, run, pending, result.request_id))
                continue
            if result.unclear:
                unclear.append(pending)
            elif isinstance(result.error, SenderRefused):
                _refused(run, pending, result.error)
                self.to_release.append(pending)
            else:
                _failed(run, pending, str(result.error or "not accepted"))
                self.to_release.append(pending)
            self.not_sent.add(pending.key)
        if unclear:
            _unclear(run, unclear, started, end)

    def report_marks(self) -> None:
        for future in self.marks:
            pending, request_id, error = future.result()
            notes = self.adjusted.get((*pending.key, pending.flag), ())
            _report_marked(self.run, pending, request_id, error, adjusted=notes)
        self.marks.clear()


def _adjusted(message: Message) -> dict[str, Any]:
    """What had to change in Naver's values so the text could go, for the report."""
    return {"adjusted": list(message.adjusted)} if message.adjusted else {}


def _report_marked(
    run: _Run,
    pending: _Pending,
    request_id: str,
    error: str | None,
    *,
    earlier: bool = False,
    adjusted: tuple[str, ...] = (),
) -> None:
    if error is not None:
        _failed(run, pending, error)
        return
    more: dict[str, Any] = {"request_id": request_id}
    if adjusted:
        more["adjusted"] = list(adjusted)
    if earlier:
        more["note"] = (
            "accepted by SENS in an earlier cycle whose answer was lost; recorded now, not resent"
        )
    run.report.sent.append(_item(pending, **more))


def _refused(run: _Run, pending: _Pending, error: SenderRefused) -> None:
    """The provider refuses the store's sender number: one error and one alert a day."""
    store = pending.store
    if store.id in run.refused:
        return
    text = (
        f"store {store.id}: SENS refuses the sender number {error.sender or store.sender} "
        f"({error.reason}); register it in the SENS console. Its messages wait, unsent"
    )
    run.refused[store.id] = text
    run.report.errors.append({"store": store.id, "error": text})
    with suppress(Exception):  # the operator channel must never fail a cycle
        run.ports.notifier.alert(text, every=REFUSED_ALERT_EVERY)


def _unclear(run: _Run, pending: Sequence[_Pending], start: datetime, end: datetime) -> None:
    """Keep the claims of messages SENS may have accepted and note when they went."""
    window = f"{_epoch_ms(start)}-{_epoch_ms(end)}"

    def note(p: _Pending) -> tuple[_Pending, str | None]:
        for attempt in range(MARK_ATTEMPTS):
            try:
                run.ports.bookings.mark_unclear(*p.key, p.flag, run.owner, window)
                return p, None
            except exceptions.PermissionError as exc:
                return p, str(exc)
            except DynamoDBException as exc:
                if attempt == MARK_ATTEMPTS - 1:
                    return p, str(exc)
                run.sleep(MARK_BACKOFF_S * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    for item, error in run.each(note, pending):
        run.forget_claim(item)
        if error is not None:
            # The claim still lapses on its own; without the note the next
            # cycle cannot ask SENS first, so the request id search is by log.
            log.error(
                "Send outcome unclear and not recorded",
                operation="mark_unclear",
                context={"booking_num": item.booking.booking_num, "flag": item.flag},
                error=error,
            )
        run.report.unclear.append(
            _item(
                item,
                why="SENS's answer was lost; before sending again the next cycle asks SENS "
                "whether it was accepted",
            )
        )


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _claim(run: _Run, batch: Sequence[_Pending], now: datetime) -> list[_Pending]:
    """The pending messages this cycle won the right to send."""
    store_db = run.ports.bookings

    def claim(p: _Pending) -> bool:
        return store_db.claim(*p.key, p.flag, run.owner, now, run.lease)

    won = []
    for pending, result in zip(batch, run.each_write(claim, batch), strict=True):
        if isinstance(result, DynamoDBException):
            # Perhaps applied with its answer lost: then the claim expires unused.
            _failed(run, pending, f"not claimed, the next cycle tries again: {result}")
        elif result:
            run.hold_claim(pending)
            won.append(pending)
    return won


def _release(run: _Run, pending: Sequence[_Pending]) -> None:
    store_db = run.ports.bookings

    def release(p: _Pending) -> bool:
        return store_db.release(*p.key, p.flag, run.owner)

    for item, result in zip(pending, run.each_write(release, pending), strict=True):
        run.forget_claim(item)
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
    run.forget_claim(pending)  # accepted: never released, whatever the mark does
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
                *pending.key, pending.flag, run.owner, request_id, run.clock()
            )
        except exceptions.PermissionError:
            raise  # no retry makes a denied write allowed
        except DynamoDBException:
            if attempt == MARK_ATTEMPTS - 1:
                raise
            run.sleep(MARK_BACKOFF_S * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _failed(run: _Run, pending: _Pending, error: str) -> None:
    run.report.failed.append(_item(pending, error=error))


def _held(run: _Run, pending: _Pending, why: str) -> None:
    run.report.held.append(_item(pending, why=why))


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
