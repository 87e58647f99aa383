"""One cycle, the one use case: fetch bookings, decide what is due, send each message once.

    stored cookies -> the first store's first read (it checks the session) ->
    fetch the other stores (concurrent) -> read records ->
    plan (pure, `domain.plan`) -> store new records, moves, adoptions ->
    per store and kind: claim -> render -> send request by request ->
    mark / unclear / release

The decisions are `plan_cycle`'s; `Cycle` is the I/O that carries them out.
The ports are passed in (`bootstrap.cycle_ports` builds and closes the real ones),
`now` is a parameter, and the result is a `CycleReport` whose `to_dict()` is
the JSON report of `docs/interfaces.md`.
"""

from __future__ import annotations

import math
import threading
import time as clock
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Protocol, TypeVar

from naver_sms.config import DEFAULT_WORKERS, AppConfig, ConfigError
from naver_sms.database import exceptions
from naver_sms.database.base import (
    DEFAULT_LEASE,
    READ_BATCH_KEYS,
    WRITE_BATCH,
    BookingKey,
    BookingRepositoryPort,
    ClaimRequest,
    MarkRequest,
    NewRecord,
)
from naver_sms.database.exceptions import RepositoryError
from naver_sms.deliveries import check_deliveries
from naver_sms.domain.booking import KST, Booking
from naver_sms.domain.catalog import When
from naver_sms.domain.messages import Channel, Message, MessageError
from naver_sms.domain.plan import (
    TIME_TO_SEND,
    Due,
    Plan,
    Shop,
    hold_opted_out,
    plan_cycle,
    search_window,
    send_stop_reason,
    unclear_window,
)
from naver_sms.domain.rules import COMPLETED, CONFIRMED
from naver_sms.domain.schedule import CANCELLED
from naver_sms.messaging.base import (
    Notifier,
    SenderRefused,
    SendError,
    SendFailed,
    SendResult,
    SmsSender,
)
from naver_sms.messaging.templates import TemplateRenderer
from naver_sms.naver.booking_api import Cookies, FetchResult
from naver_sms.naver.errors import LoginChallenge, NaverError, NaverThrottled, SessionExpired
from naver_sms.report import (
    CycleError,
    CycleReport,
    Failed,
    Held,
    Invalid,
    Sent,
    Unclear,
)
from naver_sms.utils.logger import get_logger

# The API refuses windows over 31 days: today 00:00 .. today+31 00:00 is one window.
CONFIRMED_DAYS: Final = 31
# A mark is the one write whose loss repeats a text (after the lease): it is
# retried on top of the client's own retries, whose budget (botocore's retry
# quota, shared by every request of the process) a long run of throttling or
# errors can use up, leaving one try per attempt. Ten attempts, waits capped at
# 5 s: about 26 s at most, far inside the 10-minute lease.
MARK_ATTEMPTS: Final = 10
MARK_BACKOFF_S: Final = 0.2
MARK_BACKOFF_CAP_S: Final = 5.0
REFUSED_ALERT_EVERY: Final = timedelta(days=1)
THROTTLED: Final = "Naver throttled the account; the next cycle tries again"

log = get_logger(__name__)
# (store id, the statuses read together, the visits' first and last day)
FetchJob = tuple[str, tuple[str, ...], tuple[date, date]]


def fetch_jobs(shop: Shop, now: datetime) -> list[FetchJob]:
    """What to ask Naver for one store: no more than its messages need.

    Confirmed visits from today for the API's 31 days, with the cancelled ones
    in the same request when a message is due on a cancellation; completed
    visits of today, and of as many days back as an after-visit message waits.
    """
    today = now.astimezone(KST).date()
    upcoming = (CONFIRMED, CANCELLED) if shop.needs(When.CANCELLED) else (CONFIRMED,)
    waits = max(
        (spec.offset for spec in shop.catalog if spec.enabled and spec.when is When.AFTER_VISIT),
        default=timedelta(0),
    )
    # A visit that ended before midnight may be due `waits` later: its day is read too.
    days_back = math.ceil(waits / timedelta(days=1))
    return [
        (shop.id, upcoming, (today, today + timedelta(days=CONFIRMED_DAYS - 1))),
        (shop.id, (COMPLETED,), (today - timedelta(days=days_back), today)),
    ]


def all_fetch_jobs(shops: Sequence[Shop], now: datetime) -> tuple[list[FetchJob], int]:
    """Every store's reads, and the index of the one that goes alone and checks
    the session: the first store's shortest (its visits of today, most often one page).

    Every other read waits for that one, so a short one starts them a round
    trip sooner than a month of visits read in two pages would.
    """
    jobs = [job for shop in shops for job in fetch_jobs(shop, now)]
    lead = min(
        (index for index, job in enumerate(jobs) if job[0] == shops[0].id),
        key=lambda index: _days(jobs[index]),
    )
    return jobs, lead


def read_order(jobs: Sequence[FetchJob], lead: int) -> list[int]:
    """The order the reads after the lead one start in: the longest windows first.

    A month of visits often takes two pages one after the other, a day's one:
    started first, the long reads end while the short ones fill the workers
    around them, and the last to end is a short one (longest processing time
    first). For workload W (8 stores, 8 workers) that is one round of pages
    fewer than the stores' own order.
    """
    others = [index for index in range(len(jobs)) if index != lead]
    return sorted(others, key=lambda index: -_days(jobs[index]))


def _days(job: FetchJob) -> int:
    first, last = job[2]
    return (last - first).days


_T = TypeVar("_T")
_R = TypeVar("_R")
NO_ALIMTALK_SENDER: Final = (
    "this message goes as KakaoTalk AlimTalk but no AlimTalk sender is set up "
    "(SENS_ALIMTALK_SERVICE_ID); it waits, unsent"
)
# What a mark returns: (due, request id, channel, error or None).
_Marked = tuple[Due, str, str, str | None]


class BookingApiPort(Protocol):
    def fetch_bookings(
        self, biz_id: str, statuses: str | Sequence[str], start: date, end: date, cookies: Cookies
    ) -> FetchResult: ...


class AuthenticatorPort(Protocol):
    """The owner's cookies for the cycle's reads (`naver.auth.Authenticator`).

    A warm cycle asks Naver for its pages only: `stored_session` gives the
    stored cookies unchecked, and the first store's first read checks them;
    when Naver refuses that read, `refused` decides (a second check, a login,
    or the error that ends the cycle's reading).
    """

    def stored_session(self, biz_id: str, now: datetime) -> list[dict[str, Any]]: ...

    def refused(self, biz_id: str, now: datetime, cookies: Cookies) -> list[dict[str, Any]]: ...


@dataclass
class CyclePorts:
    """Everything a cycle talks to; `bootstrap.cycle_ports` builds the real ones."""

    config: AppConfig
    repository: BookingRepositoryPort
    booking_api: BookingApiPort
    authenticator: AuthenticatorPort
    sender: SmsSender
    notifier: Notifier
    # The messages that go as KakaoTalk AlimTalk first (None: the config uses none).
    # In a dry run the outbox (`sender`) takes them too.
    alimtalk: SmsSender | None = None
    # A dry run writes its messages to the outbox and records none of them as
    # sent (nor adopts): the next real cycle must still send every one.
    dry_run: bool = False
    # Concurrent API requests and store writes; the default unless run_cycle is given one.
    workers: int = DEFAULT_WORKERS
    renderer: TemplateRenderer = field(init=False)

    def __post_init__(self) -> None:
        # Built once per ports, so serve's cycles reuse the compiled templates.
        self.renderer = TemplateRenderer(self.config)


def run_cycle(
    *,
    ports: CyclePorts,
    now: datetime,
    adopt: bool = False,
    owner: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
    real_clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] = clock.sleep,
    progress: Callable[[str], object] | None = None,
    deadline: datetime | None = None,
) -> CycleReport:
    """One cycle at `now` (aware). Never raises for Naver, a store fetch or a send; see the report.

    `progress`, when given, is told what the cycle is doing in a few words
    ("reading bookings: 3/8 requests"); the CLI shows it on a terminal.

    `now` is the cycle's start; its clock then advances with real time.
    `owner` names this cycle's claims (default: a fresh uuid), so racing
    cycles never mistake each other's claims for their own. `ports.workers`
    bounds the concurrent API requests and repository writes.
    `real_clock` is the real time (SENS's clock, default the system's), which
    a replay's `now` does not change.
    `deadline`, on the real clock, is when the process will be stopped from
    outside (a Lambda's timeout): no send request starts within
    `TIME_TO_SEND` of it, and the delivery checks wait for the next cycle
    within twice that, so a kill never lands between a send and its marks.
    """
    return Cycle(
        ports,
        now,
        adopt=adopt,
        owner=owner,
        lease=lease,
        workers=ports.workers,
        real_clock=real_clock or _utc_now,
        sleep=sleep,
        progress=progress,
        deadline=deadline,
    ).run()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _RecordReads:
    """The records of the bookings Naver showed, asked for while Naver is still being read.

    A store's bookings are handed over as its read comes in; every full batch
    of keys goes to the store at once, on threads of its own (the Naver reads
    keep theirs). Waiting for every store first left the record reads, a fifth
    of a warm 500-store cycle, to run after the Naver reads instead of during
    them. Only full batches go early, so the reads are as few as before.
    """

    def __init__(
        self, read: Callable[[list[BookingKey]], Mapping[BookingKey, dict[str, Any]]], workers: int
    ) -> None:
        self._read = read
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="records")
        self._lock = threading.Lock()
        self._asked: set[BookingKey] = set()
        self._waiting: list[BookingKey] = []
        self._reads: list[Future[Mapping[BookingKey, dict[str, Any]]]] = []

    def __enter__(self) -> _RecordReads:
        return self

    def __exit__(self, *_: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def add(self, keys: Iterable[BookingKey]) -> None:
        """Ask for the records of `keys` (those not asked for yet) once a batch is full."""
        with self._lock:
            for key in keys:
                if key not in self._asked:
                    self._asked.add(key)
                    self._waiting.append(key)
            while len(self._waiting) >= READ_BATCH_KEYS:
                self._submit(self._waiting[:READ_BATCH_KEYS])
                del self._waiting[:READ_BATCH_KEYS]

    def asking(self, read: FetchResult) -> FetchResult:
        """`read`, once the records of its bookings are asked for (`add`)."""
        self.add(booking.key for booking in read.bookings)
        return read

    def records(self, keys: Sequence[BookingKey]) -> dict[BookingKey, dict[str, Any]]:
        """The stored records of `keys` (absent: no record); a read's error is raised here."""
        self.add(keys)
        with self._lock:
            if self._waiting:
                self._submit(self._waiting)
                self._waiting = []
            reads = list(self._reads)
        wanted = set(keys)
        records: dict[BookingKey, dict[str, Any]] = {}
        for read in reads:
            # A store whose read failed after its first part was asked for is left out.
            records.update((k, v) for k, v in read.result().items() if k in wanted)
        return records

    def _submit(self, keys: list[BookingKey]) -> None:
        self._reads.append(self._pool.submit(self._read, list(keys)))


class Cycle:
    """The I/O of one cycle: fetch, then carry out the plan `domain.plan` decides.

    Decisions live in `plan_cycle`; this object reads and writes through the
    ports, runs store writes in one pool, and turns what fails into report
    items, one store's trouble never stopping the others.
    """

    def __init__(
        self,
        ports: CyclePorts,
        now: datetime,
        *,
        adopt: bool = False,
        owner: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        workers: int = DEFAULT_WORKERS,
        real_clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], None] = clock.sleep,
        progress: Callable[[str], object] | None = None,
        deadline: datetime | None = None,
    ) -> None:
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be an aware datetime (the host's time zone is not used)")
        if not ports.dry_run and not getattr(ports.sender, "reaches_phones", False):
            # The invariant: a message is recorded as sent only when a provider that
            # reaches phones accepted it. The outbox reaches none, so it only rehearses.
            raise ConfigError(
                f"{ports.sender!r} does not reach phones: "
                "set the SENS keys, or rehearse with --dry-run"
            )
        if (
            not ports.dry_run
            and ports.alimtalk is not None
            and not getattr(ports.alimtalk, "reaches_phones", False)
        ):
            raise ConfigError(f"{ports.alimtalk!r} does not reach phones")
        self.ports = ports
        self.now = now
        self.adopt = adopt
        self.owner = owner or f"cycle-{uuid.uuid4().hex}"
        self.lease = lease
        self.workers = max(1, workers)
        self.real_clock = real_clock
        self.deadline = deadline
        self.sleep = sleep
        self._progress = progress
        self._progress_counts: dict[str, int] = {}
        # Each store's messages, in the order they go (the config's `messages:`, or
        # what an old `rules:` section means).
        self.shops = [
            Shop(
                store.id,
                advertising_allowed=bool(store.opt_out),
                catalog=ports.config.catalog(store),
            )
            for store in ports.config.stores
        ]
        self.stores = {store.id: store for store in ports.config.stores}
        self.report = CycleReport(now=now, stores=len(ports.config.stores), dry_run=ports.dry_run)
        # Store id -> the error text, once SENS refused that store's sender number.
        self.refused: dict[str, str] = {}
        # phone -> the request ids its records already hold: never a lost answer's match.
        self.recorded: Mapping[str, frozenset[str]] = {}
        self._claims: dict[tuple[str, str, str], Due] = {}
        # Claims taken with their record's create, and when: not yet sent or released.
        self._preclaimed: dict[tuple[str, str, str], tuple[Due, datetime]] = {}
        self._lock = threading.Lock()
        self._started = real_clock()
        # Store writes are one request each (a claim cannot be batched): a pool
        # overlaps their round trips, which is what a cold cycle's time is made of.
        self.pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="cycle")
        self._record_reads = _RecordReads(ports.repository.get_bookings, self.workers)

    # -------------------------------------------------------------- running

    def run(self) -> CycleReport:
        ports, report = self.ports, self.report
        started = clock.perf_counter()
        for warning in ports.config.warnings():
            log.warning("Config holds messages back", operation="run_cycle", error=warning)
        try:
            with self.pool, self._record_reads:
                self.tell("checking the Naver session")
                cookies = self._session()
                found = self._fetch_all(cookies) if cookies is not None else None
                if found is not None:
                    plan = self._apply(self._plan(found))
                    self._send_all(self._honour_opt_outs(plan))
                # Results of earlier sends come in whatever Naver said this cycle.
                self.tell("checking deliveries")
                self._check_deliveries()
        except Exception as exc:
            # The cycle's log line (written below) must not read as a success.
            report.errors.append(CycleError(None, f"cycle stopped: {exc}"))
            self._release_open_claims()
            raise
        finally:
            report.duration_ms = round((clock.perf_counter() - started) * 1000)
            _publish(ports, report)
        return report

    def tell(self, what: str, *, total: int | None = None) -> None:
        """Tell the progress callback `what` the cycle does, with `done/total` when counted.

        Called from the pool's threads too; a callback that fails costs its
        line, never the cycle.
        """
        if self._progress is None:
            return
        with self._lock:
            if total is not None:
                done = self._progress_counts.get(what, 0) + 1
                self._progress_counts[what] = done
                what = f"{what}: {done}/{total}"
        with suppress(Exception):
            self._progress(what)

    def clock(self) -> datetime:
        """The cycle's clock: `now` advancing with real time, so leases and the
        advertising window are judged at the moment of each write and request."""
        return self.now + (self.real_clock() - self._started)

    @property
    def records_sends(self) -> bool:
        """Whether an acceptance here is a text on a phone (not a rehearsal)."""
        return not self.ports.dry_run

    def each(self, work: Callable[[_T], _R], items: Iterable[_T]) -> list[_R]:
        return list(self.pool.map(work, items))

    def each_write(
        self, work: Callable[[_T], _R], items: Iterable[_T]
    ) -> list[_R | RepositoryError]:
        """`each` for store writes: a write that fails is its own result, not the cycle's end.

        One throttled write must cost one booking's message this cycle, never
        the whole cycle (and the marks of messages already accepted).
        """

        def guarded(item: _T) -> _R | RepositoryError:
            try:
                return work(item)
            except RepositoryError as exc:
                return exc

        return list(self.pool.map(guarded, items))

    def write_all(
        self, what: str, items: Sequence[tuple[BookingKey, _T]], write: Callable[[_T], bool]
    ) -> tuple[int, set[BookingKey]]:
        """Run one kind of record write for many bookings: (writes applied, keys that failed).

        The one place where failed writes become report errors: one per store,
        naming how many bookings and what happens next.
        """
        results = self.each_write(write, [item for _key, item in items])
        return self._written(what, items, results)

    def write_batches(
        self,
        what: str,
        items: Sequence[tuple[BookingKey, _T]],
        write: Callable[[Sequence[_T]], Sequence[bool | RepositoryError]],
    ) -> tuple[int, set[BookingKey], list[bool | RepositoryError]]:
        """`write_all` for a store's batch method (`each_batch`); also each item's result."""
        results = self.each_batch(write, [item for _key, item in items])
        applied, failed = self._written(what, items, results)
        return applied, failed, results

    def each_batch(
        self,
        write: Callable[[Sequence[_T]], Sequence[bool | RepositoryError]],
        items: Sequence[_T],
    ) -> list[bool | RepositoryError]:
        """Each item's result of a store's batch method: WRITE_BATCH items a call, the
        calls side by side."""
        parts = [items[i : i + WRITE_BATCH] for i in range(0, len(items), WRITE_BATCH)]
        results: list[bool | RepositoryError] = []
        for part, answer in zip(parts, self.each_write(write, parts), strict=True):
            # A batch call that failed as a whole failed each of its items.
            results += [answer] * len(part) if isinstance(answer, RepositoryError) else answer
        return results

    def _written(
        self,
        what: str,
        items: Sequence[tuple[BookingKey, Any]],
        results: Sequence[object],
    ) -> tuple[int, set[BookingKey]]:
        failed: dict[str, list[tuple[BookingKey, RepositoryError]]] = {}
        for (key, _item), result in zip(items, results, strict=True):
            if isinstance(result, RepositoryError):
                failed.setdefault(key[0].partition("_")[0], []).append((key, result))
        for biz_id, rows in sorted(failed.items()):
            count = f"{len(rows)} booking{'s' if len(rows) != 1 else ''}"
            self.report.errors.append(
                CycleError(
                    biz_id, f"{count} of store {biz_id} {what}; retried next cycle: {rows[0][1]}"
                )
            )
        applied = sum(result is True for result in results)
        return applied, {key for rows in failed.values() for key, _exc in rows}

    # -------------------------------------------------------------- claims held

    def hold_claim(self, due: Due) -> None:
        with self._lock:
            self._claims[(*due.key, due.flag)] = due

    def forget_claim(self, due: Due) -> None:
        with self._lock:
            self._claims.pop((*due.key, due.flag), None)

    def _release_open_claims(self) -> None:
        """A cycle that ends early gives back what it claimed and did not send.

        Without this a crash after the claims leaves them held for the whole lease,
        and the next cycle silently skips those messages.
        """
        with self._lock:
            leftover = list(self._claims.values())
        if not leftover:
            return
        for due in leftover:
            with suppress(Exception):  # best effort: an unreleased claim still lapses
                self.ports.repository.release(*due.key, due.flag, self.owner)
            self.forget_claim(due)
        log.warning(
            "Cycle stopped early; its unsent claims were released",
            operation="run_cycle",
            context={"released": len(leftover)},
        )

    # -------------------------------------------------------------- deliveries

    def _check_deliveries(self) -> None:
        """What became of accepted messages: delivered, failed, or given up as unknown.

        A rehearsal writes nothing; a store that cannot list its queue costs the
        checks of this cycle only (one error), never its sends.
        """
        if not self.records_sends:
            return
        time_left = self._time_left()
        if time_left is not None and time_left < 2 * TIME_TO_SEND:
            # Due results stay due: the next cycle, with its full time, asks.
            log.warning(
                "Delivery checks left to the next cycle: the run's time limit is near",
                operation="check_deliveries",
                context={"seconds_left": round(time_left.total_seconds())},
            )
            return
        try:
            senders = {Channel.SMS.value: self.ports.sender}
            if self.ports.alimtalk is not None:
                senders[Channel.ALIMTALK.value] = self.ports.alimtalk
            check = check_deliveries(
                self.ports.repository,
                senders,
                self.clock(),
                each=self.each,
                flags=sorted({spec.flag for shop in self.shops for spec in shop.catalog}),
            )
        except RepositoryError as exc:
            self.report.errors.append(
                CycleError(None, f"delivery results not checked; the next cycle tries: {exc}")
            )
            return
        self.report.delivered += check.delivered
        self.report.undelivered += check.undelivered
        if check.records or check.lookups:
            log.info(
                "Delivery results checked",
                operation="check_deliveries",
                context={
                    "records": check.records,
                    "lookups": check.lookups,
                    "lookups_failed": check.lookups_failed,
                    "waiting": check.waiting,
                    "conflicts": check.conflicts,
                    "delivered": len(check.delivered),
                    "undelivered": len(check.undelivered),
                },
            )

    # -------------------------------------------------------------- session

    def _session(self) -> Cookies | None:
        """The cookies to read with, or None (the report says why).

        Not checked with a request of their own: the first store's first read
        checks them (`_fetch_all`).
        """
        auth, biz_id = self.ports.authenticator, self._first_store
        return self._guarded(lambda: auth.stored_session(biz_id, self.now))

    @property
    def _first_store(self) -> str:
        return self.ports.config.stores[0].id  # any store's console checks the owner's cookies

    def _guarded(self, session: Callable[[], Cookies]) -> Cookies | None:
        """`session()`, or None with the report's errors and the alert when it failed."""
        ports, report = self.ports, self.report
        try:
            return session()
        except LoginChallenge as exc:
            report.login_challenge = True
            report.errors.append(CycleError(None, str(exc)))
            ports.notifier.alert(str(exc))
        except NaverThrottled:
            report.errors += [CycleError(store.id, THROTTLED) for store in ports.config.stores]
            ports.notifier.alert(THROTTLED)
        except NaverError as exc:  # a failed login, or a check that could not be made
            report.errors.append(CycleError(None, f"no Naver session: {exc}"))
            ports.notifier.alert(f"no Naver session, nothing fetched: {exc}")
        return None

    # -------------------------------------------------------------- fetch

    def _fetch_all(self, cookies: Cookies) -> dict[str, list[Booking]] | None:
        """Each store's bookings (confirmed, cancelled when its messages need them, and
        completed), deduplicated; failed stores are left out. None: no session.

        The first store's first read goes alone and is the session's check: when
        Naver refuses it, the authenticator decides (a second check, a login, or
        the error that ends the cycle's reading) before any other store is asked.
        """
        ports = self.ports
        jobs, lead = all_fetch_jobs(self.shops, self.now)
        # Once Naver throttles the account every further request is refused too and
        # only prolongs the throttle: the rest of the cycle asks nothing more.
        throttled = threading.Event()

        def fetch(job: FetchJob, cookies: Cookies) -> FetchResult | NaverError:
            biz_id, statuses, (start, end) = job
            if throttled.is_set():
                return NaverThrottled()
            asked: str | tuple[str, ...] = statuses[0] if len(statuses) == 1 else statuses
            try:
                return self._record_reads.asking(
                    ports.booking_api.fetch_bookings(biz_id, asked, start, end, cookies)
                )
            except NaverThrottled as exc:
                throttled.set()
                return exc
            except NaverError as exc:  # one store's trouble must not stop the others
                return exc

        def read(job: FetchJob) -> FetchResult | NaverError:
            try:
                return fetch(job, cookies)
            finally:
                self.tell("reading bookings", total=len(jobs))

        first = fetch(jobs[lead], cookies)
        if isinstance(first, SessionExpired):
            renewed = self._renewed(cookies)
            if renewed is None:
                return None
            cookies = renewed
            first = fetch(jobs[lead], cookies)
        self.tell("reading bookings", total=len(jobs))
        order = read_order(jobs, lead)
        results: list[FetchResult | NaverError] = [first] * len(jobs)
        # Back in the jobs' order: a store's completed visits are merged last.
        for index, result in zip(order, self.each(read, [jobs[i] for i in order]), strict=True):
            results[index] = result
        if not any(isinstance(r, FetchResult) for r in results) and any(
            isinstance(r, SessionExpired) for r in results
        ):
            # The lead read failed otherwise (a 5xx) and checked nothing; the others
            # say the session was refused: the authenticator decides, as for the lead.
            renewed = self._renewed(cookies)
            if renewed is None:
                return None
            cookies = renewed
            results = self.each(read, jobs)
        return self._found(jobs, results)

    def _renewed(self, refused: Cookies) -> Cookies | None:
        """The cookies to read with after Naver refused `refused`; None: no session."""
        auth = self.ports.authenticator
        return self._guarded(lambda: auth.refused(self._first_store, self.now, refused))

    def _found(
        self, jobs: Sequence[FetchJob], results: Sequence[FetchResult | NaverError]
    ) -> dict[str, list[Booking]]:
        """The reads' bookings per store; a store with a failed or throttled read is left out."""
        ports, report = self.ports, self.report
        failed: set[str] = set()
        unread: set[str] = set()
        found: dict[str, dict[BookingKey, Booking]] = {s.id: {} for s in ports.config.stores}
        seen_invalid: set[tuple[str, str]] = set()
        for (biz_id, _statuses, _window), result in zip(jobs, results, strict=True):
            if isinstance(result, NaverThrottled):
                unread.add(biz_id)
                continue
            if isinstance(result, NaverError):
                failed.add(biz_id)
                report.errors.append(CycleError(biz_id, str(result)))
                continue
            for booking in result.bookings:
                # RC08 is fetched second: a visit that ended between the calls keeps that status.
                found[biz_id][booking.key] = booking
            for entry in result.unusable:
                item = entry.to_dict()
                key = (item["booking_num"], item["reason"])
                if key not in seen_invalid:
                    seen_invalid.add(key)
                    report.invalid.append(Invalid.from_dict(item))
        for biz_id in sorted(unread - failed):
            report.errors.append(CycleError(biz_id, THROTTLED))
        if unread:
            ports.notifier.alert(f"{THROTTLED} ({len(unread)} stores not read)")
        for biz_id in sorted(failed):
            ports.notifier.alert(
                f"store {biz_id} skipped this cycle: bookings could not be fetched"
            )
        failed |= unread
        return {
            biz_id: list(rows.values()) for biz_id, rows in found.items() if biz_id not in failed
        }

    # -------------------------------------------------------------- plan and records

    def _plan(self, found: Mapping[str, list[Booking]]) -> Plan:
        """Read the records of what Naver showed and decide, before any write or send."""
        everything = [booking for rows in found.values() for booking in rows]
        self.report.bookings = len(everything)
        # Most were asked for while Naver was read (`_RecordReads`); the rest now,
        # in batches side by side.
        records = self._record_reads.records([b.key for b in everything])
        return plan_cycle(found, records, self.now, self.shops, adopt=self.adopt)

    def _apply(self, plan: Plan) -> Plan:
        """Store new records, moved visits and adoptions; the plan of what may be sent."""
        report, repository = self.report, self.ports.repository
        self.recorded = plan.recorded
        # A booking is stored before anything is sent to it: one whose record could
        # not be written waits for the next cycle, and nothing else is said of it.
        # A new record is stored with the claim of its first due message (one write,
        # not two) and, unless rehearsing, with the messages whose moment passed.
        created_at = self.clock()
        firsts = self._first_dues(plan) if repository.folds_claims else {}
        skipped: dict[BookingKey, list[tuple[str, str]]] = {}
        if not self.ports.dry_run:
            for key, flag, why in plan.skip:
                skipped.setdefault(key, []).append((flag, why))
        new = [
            (
                b.key,
                NewRecord(
                    b.to_item(),
                    claim=firsts[b.key].flag if b.key in firsts else None,
                    skipped=tuple(skipped.get(b.key, ())),
                ),
            )
            for b in plan.create
        ]
        report.created, unstored, results = self.write_batches(
            "not stored",
            new,
            lambda records: repository.create_bookings(records, self.owner, created_at, self.lease),
        )
        stored = set()
        for (key, _record), result in zip(new, results, strict=True):
            if result is True:
                stored.add(key)
                if key in firsts:
                    self.hold_claim(firsts[key])
                    self._preclaimed[(*key, firsts[key].flag)] = (firsts[key], created_at)
        report.held += [Held.of(h.booking, h) for h in plan.held if h.booking.key not in unstored]
        # Not moved: its before-visit flags may still be the old time's, so it waits.
        report.rescheduled, unmoved = self.write_all(
            "not moved to their new time",
            [(key, (key, time, reset, old)) for key, time, reset, old in plan.moves],
            lambda move: repository.reschedule(
                *move[0], move[1], reset=move[2], moved_from=move[3]
            ),
        )
        if self.ports.dry_run:
            report.adopted = len(plan.adopt)
        else:
            report.adopted, _ = self.write_all(
                "not adopted (run --adopt again)",
                [(key, (key, flag)) for key, flag in plan.adopt if key not in unstored],
                lambda adoption: repository.update_flag(*adoption[0], adoption[1], value=True),
            )
            # A message whose moment passed for good is recorded so (its reason is in
            # `held`), and never judged again; one not recorded is judged next cycle.
            self.write_all(
                "not recorded as skipped",
                [
                    (key, (key, flag, why))
                    for key, flag, why in plan.skip
                    if key not in unstored and key not in stored
                ],
                lambda skip: repository.mark_skipped(*skip[0], skip[1], skip[2]),
            )
        return plan.without(unstored | unmoved)

    @staticmethod
    def _first_dues(plan: Plan) -> dict[BookingKey, Due]:
        """Each new booking's first due message, in the order they go."""
        new = {booking.key for booking in plan.create}
        firsts: dict[BookingKey, Due] = {}
        for due in plan.dues():
            if due.key in new:
                firsts.setdefault(due.key, due)
        return firsts

    def _honour_opt_outs(self, plan: Plan) -> Plan:
        """No advertising to a number that opted out through the 080 line.

        The list is read at most once a cycle, and only when advertising is due;
        when it cannot be read, advertising waits and everything else goes.
        """
        if not plan.advertising_due():
            return plan
        try:
            opted_out: dict[str, datetime | None] | None = self.ports.sender.opted_out()
        except SendError as exc:
            log.warning(
                "Opt-out list unreadable; advertising waits",
                operation="opt_outs",
                error=str(exc),
            )
            opted_out = None
        plan, held = hold_opted_out(plan, opted_out)
        self.report.held += [Held.of(h.booking, h) for h in held]
        return plan

    # -------------------------------------------------------------- send

    def _send_all(self, plan: Plan) -> None:
        """Per store, one batch per kind in kind order, so a confirmation precedes its reminder."""
        total = sum(len(batch) for _shop, batches in plan.batches for batch in batches)
        for _shop, batches in plan.batches:
            held_back: set[BookingKey] = set()
            for batch in batches:
                todo = [due for due in batch if due.key not in held_back]
                # A reminder never overtakes its confirmation: when this cycle did not
                # send that (it failed, or another cycle holds it), the reminder waits.
                held_back |= self._send_batch(todo)
                for _due in batch:
                    self.tell("messages", total=total)
        # Claims taken with a create whose message did not come up (held for an
        # opt-out, a refused sender): back at once for the next cycle.
        leftover = [due for due, _at in self._preclaimed.values()]
        self._preclaimed.clear()
        self._release(leftover)

    def _send_batch(self, batch: Sequence[Due]) -> set[BookingKey]:
        """Claim, render and send one batch; the keys of the bookings whose message did not go."""
        if not batch:
            return set()
        refused = self.refused.get(batch[0].shop)
        if refused is not None:
            for due in batch:
                self._held(due, refused)
            return {due.key for due in batch}
        claimed_at = self.clock()
        won, earliest = self._claim(batch, claimed_at)
        # The lease of a claim taken with its create runs from then.
        claimed_at = min(claimed_at, earliest)
        # Not claimed: sent already, another cycle is sending it right now, or the claim failed.
        not_sent = {p.key for p in batch} - {p.key for p in won}
        rendered: list[tuple[Due, Message]] = []
        for due in won:
            try:
                message = self.ports.renderer.message(self.stores[due.shop], due.spec, due.booking)
            except Exception as exc:  # the owner's template costs this message only
                reason = (
                    str(exc) if isinstance(exc, MessageError) else f"{type(exc).__name__}: {exc}"
                )
                self._failed(due, reason)
                self._release([due])  # at once: a later cycle (or a fixed template) tries again
                not_sent.add(due.key)
                continue
            rendered.append((due, message))
        doubtful = [(p, m) for p, m in rendered if p.unclear is not None and not self.ports.dry_run]
        fresh = [(p, m) for p, m in rendered if p.unclear is None or self.ports.dry_run]
        if doubtful:
            again, unresolved = self._reconcile(doubtful)
            fresh += again
            not_sent |= unresolved
        # A store's kind goes by one channel, so this is one group but for a config
        # changed between a lost answer and its reconciliation.
        for group in (
            [(p, m) for p, m in fresh if m.alimtalk is None],
            [(p, m) for p, m in fresh if m.alimtalk is not None],
        ):
            not_sent |= self._transmit(group, claimed_at)
        return not_sent

    def sender_for(self, message: Message) -> SmsSender | None:
        """Who sends `message`: SENS's SMS API, its AlimTalk API, or in a dry run the outbox."""
        if message.alimtalk is None or self.ports.dry_run:
            return self.ports.sender
        return self.ports.alimtalk

    def _reconcile(
        self, doubtful: Sequence[tuple[Due, Message]]
    ) -> tuple[list[tuple[Due, Message]], set[BookingKey]]:
        """Messages whose earlier send had no clear answer: record what SENS accepted then.

        Returns the messages SENS does not list (to be sent now) and the keys of
        those that wait because SENS could not be asked.
        """
        windows: dict[tuple[str, bool], list[tuple[Due, Message]]] = {}
        for due, message in doubtful:
            key = (due.unclear or "", message.alimtalk is not None)
            windows.setdefault(key, []).append((due, message))
        again: list[tuple[Due, Message]] = []
        waiting: set[BookingKey] = set()
        found: list[tuple[Due, str, Message]] = []
        for (window, _alimtalk), items in windows.items():
            start, end = search_window(window)
            sender = self.sender_for(items[0][1])
            # The same customer's other messages of the window (a confirmation a
            # minute before the reminder) look alike to SENS's list: their recorded
            # requests are left out, so a lost reminder is never taken for them.
            exclude = {rid for p, _m in items for rid in self.recorded.get(p.booking.phone, ())}
            try:
                if sender is None:
                    raise SendFailed(NO_ALIMTALK_SENDER)
                request_ids = sender.find_accepted(
                    [m for _p, m in items], start, end, exclude=exclude
                )
            except SendError as exc:
                # Sending again blind could repeat the text; waiting costs minutes.
                for due, _message in items:
                    self._failed(
                        due,
                        "an earlier send had no clear answer and SENS could not be asked "
                        f"whether it was accepted; the next cycle asks again: {exc}",
                    )
                self._release([p for p, _m in items])
                waiting |= {p.key for p, _m in items}
                continue
            for (due, message), request_id in zip(items, request_ids, strict=True):
                if request_id is None:
                    again.append((due, message))
                else:
                    found.append((due, request_id, message))
        for due, request_id, channel, error in self._mark_all(found):
            self._report_marked(due, request_id, channel, error, earlier=True)
        return again, waiting

    def _stop_reason(self, due: Due, claimed_at: datetime) -> str | None:
        """Why no further request of this batch may start now, on the cycle's advancing clock."""
        return send_stop_reason(
            self.clock(), claimed_at, self.lease, due.spec, time_left=self._time_left()
        )

    def _time_left(self) -> timedelta | None:
        """Real time until the process is stopped from outside; None: nothing stops it."""
        return None if self.deadline is None else self.deadline - self.real_clock()

    def _transmit(
        self, items: Sequence[tuple[Due, Message]], claimed_at: datetime
    ) -> set[BookingKey]:
        """Send request by request; each request's messages are marked as soon as it returns."""
        if not items:
            return set()
        sender = self.sender_for(items[0][1])
        if sender is None:
            for due, _message in items:
                self._failed(due, NO_ALIMTALK_SENDER)
            self._release([due for due, _message in items])
            return {due.key for due, _message in items}
        sending = _Sending(self, items)
        first = items[0][0]
        requests = sender.send_requests([message for _pending, message in items])
        stopped: str | None = None
        try:
            while sending.unanswered:
                stopped = self._stop_reason(first, claimed_at)
                if stopped is not None:
                    break
                started = self.real_clock()
                try:
                    results = next(requests)
                except StopIteration:
                    break
                except Exception:
                    if self.records_sends:
                        # The sender broke mid-request: those texts may have gone. As
                        # unclear, none is sent again without asking SENS first.
                        self._unclear(list(sending.unanswered.values()), started, self.real_clock())
                        sending.unanswered.clear()
                    raise  # a rehearsal's claims are released by run_cycle
                sending.answered(results, started, self.real_clock())
                # Recorded before the next request goes: a crash can then repeat at
                # most the one request in flight, never a whole batch.
                sending.report_marks()
                if items[0][0].shop in self.refused:
                    break  # the rest would be refused the same way
        finally:
            # Stopping a generator sender ends it where it stands: nothing more goes.
            stop = getattr(requests, "close", None)
            if callable(stop):
                stop()
            sending.report_marks()
        for due in sending.unanswered.values():
            # Claimed but never sent: back at once for the next cycle.
            self._held(due, stopped or self.refused.get(due.shop) or "not sent")
            sending.to_release.append(due)
            sending.not_sent.add(due.key)
        self._release(sending.to_release)
        return sending.not_sent

    def _report_marked(
        self,
        due: Due,
        request_id: str,
        channel: str,
        error: str | None,
        *,
        earlier: bool = False,
        adjusted: tuple[str, ...] = (),
    ) -> None:
        if error is not None:
            self._failed(due, error)
            return
        note = (
            "accepted by SENS in an earlier cycle whose answer was lost; recorded now, not resent"
            if earlier
            else None
        )
        self.report.sent.append(
            Sent.of(
                due.booking,
                due,
                store=due.shop,
                request_id=request_id,
                channel=channel,
                adjusted=adjusted,
                note=note,
            )
        )

    def _refused(self, due: Due, error: SenderRefused) -> None:
        """The provider refuses the store's sender number: one error and one alert a day."""
        store = self.stores[due.shop]
        if store.id in self.refused:
            return
        text = (
            f"store {store.id}: SENS refuses the sender number {error.sender or store.sender} "
            f"({error.reason}); register it in the SENS console. Its messages wait, unsent"
        )
        self.refused[store.id] = text
        self.report.errors.append(CycleError(store.id, text))
        with suppress(Exception):  # the operator channel must never fail a cycle
            self.ports.notifier.alert(text, every=REFUSED_ALERT_EVERY)

    def _unclear(self, due: Sequence[Due], start: datetime, end: datetime) -> None:
        """Keep the claims of messages SENS may have accepted and note when they went."""
        window = unclear_window(start, end)

        def note(p: Due) -> tuple[Due, str | None]:
            for attempt in range(MARK_ATTEMPTS):
                try:
                    self.ports.repository.mark_unclear(*p.key, p.flag, self.owner, window)
                    return p, None
                except exceptions.RepositoryDenied as exc:
                    return p, str(exc)
                except RepositoryError as exc:
                    if attempt == MARK_ATTEMPTS - 1:
                        return p, str(exc)
                    self.sleep(min(MARK_BACKOFF_CAP_S, MARK_BACKOFF_S * 2**attempt))
            raise AssertionError("unreachable")  # pragma: no cover

        for item, error in self.each(note, due):
            self.forget_claim(item)
            if error is not None:
                # The claim still lapses on its own; without the note the next
                # cycle cannot ask SENS first, so the request id search is by log.
                log.error(
                    "Send outcome unclear and not recorded",
                    operation="mark_unclear",
                    context={"booking_num": item.booking.booking_num, "flag": item.flag},
                    error=error,
                )
            self.report.unclear.append(
                Unclear.of(
                    item.booking,
                    item,
                    store=item.shop,
                    why="SENS's answer was lost; before sending again the next cycle asks SENS "
                    "whether it was accepted",
                )
            )

    def _claim(self, batch: Sequence[Due], now: datetime) -> tuple[list[Due], datetime]:
        """The due messages this cycle won the right to send, and the earliest claim's time."""
        held: dict[tuple[str, str, str], datetime] = {}
        for due in batch:
            taken = self._preclaimed.pop((*due.key, due.flag), None)
            if taken is not None:
                held[(*due.key, due.flag)] = taken[1]
        asked = [due for due in batch if (*due.key, due.flag) not in held]
        results = self._claim_results(asked, now) if asked else []
        answers = dict(zip([(*p.key, p.flag) for p in asked], results, strict=True))
        won = []
        for due in batch:
            name = (*due.key, due.flag)
            result = True if name in held else answers[name]
            if isinstance(result, RepositoryError):
                # Perhaps applied with its answer lost: then the claim expires unused.
                self._failed(due, f"not claimed, the next cycle tries again: {result}")
            elif result:
                if name not in held:
                    self.hold_claim(due)
                won.append(due)
        return won, min(held.values(), default=now)

    def _claim_results(self, asked: Sequence[Due], now: datetime) -> list[bool | RepositoryError]:
        def claim(part: Sequence[Due]) -> list[bool | RepositoryError]:
            return self.ports.repository.claim_many(
                [ClaimRequest(*p.key, p.flag) for p in part], self.owner, now, self.lease
            )

        return self.each_batch(claim, asked)

    def _release(self, due: Sequence[Due]) -> None:
        repository = self.ports.repository

        def release(p: Due) -> bool:
            return repository.release(*p.key, p.flag, self.owner)

        for item, result in zip(due, self.each_write(release, due), strict=True):
            self.forget_claim(item)
            if isinstance(result, RepositoryError):
                # Harmless: the claim expires with its lease and a later cycle sends.
                log.warning(
                    "Claim not released; it expires with its lease",
                    operation="release",
                    context={"booking_num": item.booking.booking_num, "flag": item.flag},
                    error=str(result),
                )

    def _mark_all(self, accepted: Sequence[tuple[Due, str, Message]]) -> list[_Marked]:
        """`_mark` of many accepted messages: marked together, each retried on its own."""
        for due, _request_id, _message in accepted:
            self.forget_claim(due)  # accepted: never released, whatever the mark does
        results = self._marks_with_retries(accepted)
        marked: list[_Marked] = []
        for (due, request_id, message), result in zip(accepted, results, strict=True):
            channel = message.channel.value
            context = {
                "booking_num": due.booking.booking_num,
                "flag": due.flag,
                "request_id": request_id,
            }
            if isinstance(result, RepositoryError):
                # Accepted but not recorded: once the claim expires it may be sent again.
                # The request id in this line is how an operator finds such a twin.
                log.error(
                    "Sent but not marked", operation="mark_sent", context=context, error=str(result)
                )
                error = f"sent (request {request_id}) but not recorded: {result}"
                marked.append((due, request_id, channel, error))
                continue
            if not result:
                log.warning("Sent after the claim was lost", operation="mark_sent", context=context)
            marked.append((due, request_id, channel, None))
        return marked

    def _marks_with_retries(
        self, accepted: Sequence[tuple[Due, str, Message]]
    ) -> list[bool | RepositoryError]:
        """mark_sent_many; each mark that met an error that passes is tried again on its own
        schedule, MARK_ATTEMPTS in all; a repeated mark is recognised as done."""
        results: list[bool | RepositoryError] = [False] * len(accepted)
        pending = list(range(len(accepted)))
        for attempt in range(MARK_ATTEMPTS):
            marks = [
                MarkRequest(
                    *accepted[i][0].key,
                    accepted[i][0].flag,
                    accepted[i][1],
                    accepted[i][2].channel.value,
                )
                for i in pending
            ]
            try:
                answers: Sequence[bool | RepositoryError] = self.ports.repository.mark_sent_many(
                    marks, self.owner, self.clock()
                )
            except RepositoryError as exc:
                answers = [exc] * len(pending)
            again = []
            for index, answer in zip(pending, answers, strict=True):
                results[index] = answer
                # No retry makes a denied write allowed.
                if isinstance(answer, RepositoryError) and not isinstance(
                    answer, exceptions.RepositoryDenied
                ):
                    again.append(index)
            if not again or attempt == MARK_ATTEMPTS - 1:
                break
            pending = again
            self.sleep(min(MARK_BACKOFF_CAP_S, MARK_BACKOFF_S * 2**attempt))
        return results

    def _failed(self, due: Due, error: str) -> None:
        self.report.failed.append(Failed.of(due.booking, due, store=due.shop, error=error))

    def _held(self, due: Due, why: str) -> None:
        self.report.held.append(Held.of(due.booking, due, store=due.shop, why=why))


class _Sending:
    """The state of one batch's requests: what is unanswered, marking, to release."""

    def __init__(self, cycle: Cycle, items: Sequence[tuple[Due, Message]]) -> None:
        self.cycle = cycle
        self.unanswered = {id(message): due for due, message in items}
        self.adjusted = {(*p.key, p.flag): m.adjusted for p, m in items if m.adjusted}
        self.not_sent: set[BookingKey] = set()
        self.marks: list[Future[list[_Marked]]] = []
        self.to_release: list[Due] = []

    def answered(self, results: Sequence[SendResult], started: datetime, end: datetime) -> None:
        cycle = self.cycle
        unclear: list[Due] = []
        accepted: list[tuple[Due, str, Message]] = []
        for result in results:
            due = self.unanswered.pop(id(result.message))
            if result.ok and result.request_id is not None:
                if cycle.ports.dry_run:
                    cycle.report.sent.append(
                        Sent.of(
                            due.booking,
                            due,
                            store=due.shop,
                            request_id=result.request_id,
                            channel=result.message.channel.value,
                            dry_run=True,
                            adjusted=result.message.adjusted,
                        )
                    )
                    self.to_release.append(due)
                else:
                    accepted.append((due, result.request_id, result.message))
                continue
            if result.unclear:
                unclear.append(due)
            elif isinstance(result.error, SenderRefused):
                cycle._refused(due, result.error)
                self.to_release.append(due)
            else:
                cycle._failed(due, str(result.error or "not accepted"))
                self.to_release.append(due)
            self.not_sent.add(due.key)
        if accepted:
            # One request's messages are marked together (one store request per batch).
            self.marks.append(cycle.pool.submit(cycle._mark_all, accepted))
        if unclear:
            cycle._unclear(unclear, started, end)

    def report_marks(self) -> None:
        for future in self.marks:
            for due, request_id, channel, error in future.result():
                notes = self.adjusted.get((*due.key, due.flag), ())
                self.cycle._report_marked(due, request_id, channel, error, adjusted=notes)
        self.marks.clear()


# -------------------------------------------------------------- report


def _publish(ports: CyclePorts, report: CycleReport) -> None:
    data = report.to_dict()
    log.info(
        "Cycle finished",
        operation="run_cycle",
        context=data,
        duration_ms=report.duration_ms,
        sent_by_kind=report.sent_by_kind(),
    )
    if report.sent or report.failed or report.undelivered:
        with suppress(Exception):  # the operator channel must never fail a cycle
            ports.notifier.summary(data)
