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
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final, Protocol

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
MAX_FETCHES: Final = 8  # concurrent API requests; the console itself never makes more

log = get_logger(__name__)


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
    renderer: TemplateRenderer = field(init=False)

    def __post_init__(self) -> None:
        # Built once per ports, so serve's cycles reuse the compiled templates.
        self.renderer = TemplateRenderer(self.config)

    def close(self) -> None:
        """Close the HTTP clients the adapters own (a no-op for fakes)."""
        for port in (self.booking_api, self.sender, self.notifier):
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


def run_cycle(
    *,
    ports: CyclePorts,
    now: datetime,
    adopt: bool = False,
    owner: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
    max_workers: int = MAX_FETCHES,
) -> CycleReport:
    """One cycle at `now` (aware). Never raises for Naver, a store fetch or a send; see the report.

    `owner` names this cycle's claims (default: a fresh uuid), so racing
    cycles never mistake each other's claims for their own.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime (the host's time zone is not used)")
    started = clock.perf_counter()
    report = CycleReport(now=now, stores=len(ports.config.stores))
    owner = owner or f"cycle-{uuid.uuid4().hex}"
    for warning in ports.config.warnings():
        log.warning("Config holds messages back", operation="run_cycle", error=warning)
    try:
        cookies = _session(ports, now, report)
        if cookies is not None:
            bookings = _fetch_all(ports, cookies, now, report, max_workers)
            evaluations = _prepare(ports, bookings, now, report, adopt=adopt)
            _send_all(ports, evaluations, now, owner, lease, report)
    finally:
        report.duration_ms = round((clock.perf_counter() - started) * 1000)
        _publish(ports, report)
    return report


# -------------------------------------------------------------- session


def _session(ports: CyclePorts, now: datetime, report: CycleReport) -> Cookies | None:
    biz_id = ports.config.stores[0].id  # any store's console checks the owner's cookies
    try:
        return ports.sessions.ensure_session(biz_id, now)
    except LoginChallenge as exc:
        report.login_challenge = True
        report.errors.append({"store": "", "error": str(exc)})
        ports.notifier.alert(str(exc))
    except NaverError as exc:  # a failed login, or a check that could not be made
        report.errors.append({"store": "", "error": f"no Naver session: {exc}"})
        ports.notifier.alert(f"no Naver session, nothing fetched: {exc}")
    return None


# -------------------------------------------------------------- fetch


def _fetch_all(
    ports: CyclePorts, cookies: Cookies, now: datetime, report: CycleReport, max_workers: int
) -> dict[str, list[Booking]]:
    """Each store's bookings, RC03 and RC08 deduplicated; failed stores are left out."""
    today = now.astimezone(KST).date()
    windows = {
        CONFIRMED: (today, today + timedelta(days=CONFIRMED_DAYS - 1)),
        COMPLETED: (today, today),  # the post-visit window: today
    }
    jobs = [(store.id, status) for store in ports.config.stores for status in windows]
    workers = max(1, min(max_workers, len(jobs)))

    def fetch(job: tuple[str, str]) -> FetchResult | NaverError:
        biz_id, status = job
        start, end = windows[status]
        try:
            return ports.booking_api.fetch_bookings(biz_id, status, start, end, cookies)
        except NaverError as exc:  # one store's trouble must not stop the others
            return exc

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        results = list(pool.map(fetch, jobs))

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
    for biz_id in failed:
        ports.notifier.alert(f"store {biz_id} skipped this cycle: bookings could not be fetched")
    return {biz_id: list(rows.values()) for biz_id, rows in found.items() if biz_id not in failed}


# -------------------------------------------------------------- records and rules


def _prepare(
    ports: CyclePorts,
    bookings: dict[str, list[Booking]],
    now: datetime,
    report: CycleReport,
    *,
    adopt: bool,
) -> list[tuple[StoreConfig, Evaluation]]:
    """Store new records and moved visits, adopt, and evaluate the rules; before any send."""
    everything = [booking for rows in bookings.values() for booking in rows]
    report.bookings = len(everything)
    records = ports.bookings.get_bookings((b.booking_num, b.phone) for b in everything)
    rules = rules_of(ports.config.rules)
    stores = {store.id: store for store in ports.config.stores}
    evaluations = []
    for biz_id, rows in bookings.items():
        store = stores[biz_id]
        for booking in rows:
            record = records.get((booking.booking_num, booking.phone))
            if record is None and ports.bookings.create_booking(booking.to_item()):
                report.created += 1
            result = evaluate(
                booking,
                record,
                now,
                rules,
                advertising_allowed=bool(store.opt_out),
                adopt=adopt,
            )
            if result.reschedule_to is not None and ports.bookings.reschedule(
                booking.booking_num, booking.phone, result.reschedule_to
            ):
                report.rescheduled += 1
            for decision in result.adopt:
                ports.bookings.update_flag(
                    booking.booking_num, booking.phone, decision.kind.flag, True
                )
                report.adopted += 1
            report.held += [_item(booking, decision) for decision in result.held]
            evaluations.append((store, result))
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


def _send_all(
    ports: CyclePorts,
    evaluations: Sequence[tuple[StoreConfig, Evaluation]],
    now: datetime,
    owner: str,
    lease: timedelta,
    report: CycleReport,
) -> None:
    """Per store, one batch per kind in kind order, so a confirmation precedes its reminder."""
    for store, batch_by_kind in _batches(evaluations):
        held_back: set[BookingKey] = set()
        for batch in batch_by_kind:
            todo = [p for p in batch if (p.booking.booking_num, p.booking.phone) not in held_back]
            # A reminder never overtakes its confirmation: when this cycle did not
            # send that (it failed, or another cycle holds it), the reminder waits.
            held_back |= _send_batch(ports, store, todo, now, owner, lease, report)


def _batches(
    evaluations: Sequence[tuple[StoreConfig, Evaluation]],
) -> Iterator[tuple[StoreConfig, list[list[_Pending]]]]:
    by_store: dict[str, tuple[StoreConfig, dict[MessageKind, list[_Pending]]]] = {}
    for store, result in evaluations:
        kinds = by_store.setdefault(store.id, (store, {kind: [] for kind in MessageKind}))[1]
        for decision in result.due:
            kinds[decision.kind].append(_Pending(store, result.booking, decision))
    for store, kinds in by_store.values():
        yield store, [kinds[kind] for kind in MessageKind if kinds[kind]]


def _send_batch(
    ports: CyclePorts,
    store: StoreConfig,
    batch: Sequence[_Pending],
    now: datetime,
    owner: str,
    lease: timedelta,
    report: CycleReport,
) -> set[BookingKey]:
    """Claim, render and send one batch; the keys of the bookings whose message did not go."""
    store_db = ports.bookings
    failed: set[BookingKey] = set()
    claimed: list[tuple[_Pending, Message]] = []
    for pending in batch:
        booking, flag = pending.booking, pending.decision.kind.flag
        if not store_db.claim(booking.booking_num, booking.phone, flag, owner, now, lease):
            # Sent already, or another cycle is sending it right now.
            failed.add((booking.booking_num, booking.phone))
            continue
        try:
            message = ports.renderer.message(store, pending.decision.kind, booking)
        except MessageError as exc:
            store_db.release(booking.booking_num, booking.phone, flag, owner)
            _failed(report, pending, str(exc))
            failed.add((booking.booking_num, booking.phone))
            continue
        claimed.append((pending, message))
    if not claimed:
        return failed
    results = ports.sender.send([message for _pending, message in claimed])
    for (pending, _message), result in zip(claimed, results, strict=True):
        booking, flag = pending.booking, pending.decision.kind.flag
        if not result.ok or result.request_id is None:
            store_db.release(booking.booking_num, booking.phone, flag, owner)
            _failed(report, pending, str(result.error or "not accepted"))
            failed.add((booking.booking_num, booking.phone))
            continue
        _mark(ports, pending, owner, result.request_id, now, report)
    return failed


def _mark(
    ports: CyclePorts,
    pending: _Pending,
    owner: str,
    request_id: str,
    now: datetime,
    report: CycleReport,
) -> None:
    booking, flag = pending.booking, pending.decision.kind.flag
    try:
        marked = ports.bookings.mark_sent(
            booking.booking_num, booking.phone, flag, owner, request_id, now
        )
    except DynamoDBException as exc:
        # Accepted but not recorded: once the claim expires it may be sent again.
        # The request id in this line is how an operator finds such a twin.
        log.error(
            "Sent but not marked",
            operation="mark_sent",
            context={"booking_num": booking.booking_num, "flag": flag, "request_id": request_id},
            error=str(exc),
        )
        _failed(report, pending, f"sent (request {request_id}) but not recorded: {exc}")
        return
    if not marked:
        log.warning(
            "Sent after the claim was lost",
            operation="mark_sent",
            context={"booking_num": booking.booking_num, "flag": flag, "request_id": request_id},
        )
    report.sent.append(
        _item(booking, pending.decision, request_id=request_id, store=pending.store.id)
    )


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
