"""What one cycle will do, decided before any write: pure, tested with a fixed `now`.

`plan_cycle` takes what Naver showed (bookings per store), what the records
hold, the clock and the rules, and returns a `Plan`: the records to create,
the visits that moved, the flags to adopt, what is held back and why, and per
store the messages due in the catalog's order (a confirmation before its
reminder).
The cycle (`naver_sms.cycle`) only carries the plan out: writes, claims,
sends, marks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from naver_sms.domain.booking import KST, Booking, BookingKey
from naver_sms.domain.catalog import MessageSpec, When, builtin_catalog
from naver_sms.domain.messages import AD_HOURS
from naver_sms.domain.record import skipped_attribute, unclear_attribute
from naver_sms.domain.rules import advertising_open
from naver_sms.domain.schedule import CANCELLED, MOVED_FROM, evaluate_messages

# A request starts only while its claims have at least half their lease left:
# a send is at most a few seconds, so no claim can lapse under a text in flight
# and another cycle can never take it over and send it twice.
SEND_WITHIN: Final = 0.5
# The least time left before a hard stop (a Lambda's timeout) in which a send
# request may start: the request itself (SENS answers within its 10 s timeout)
# and its marks with their retries (about 26 s at worst). A process killed after
# SENS accepted a request and before its marks were written is the one way a
# text can go twice; with less time left the messages wait for the next cycle.
TIME_TO_SEND: Final = timedelta(seconds=60)
# No advertising request starts in the last minute before the window closes
# (a request takes seconds; the provider must have it before 21:00 KST).
AD_MARGIN: Final = timedelta(seconds=60)
# The provider's clock and ours may differ by seconds, and it stamps a request
# when it takes it: the lost-answer search looks this much either side.
UNCLEAR_SLACK: Final = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Shop:
    """What the plan needs of a configured store: its id, whether it may advertise
    (it has an opt-out number: the law's condition) and its messages, in order."""

    id: str
    advertising_allowed: bool
    catalog: tuple[MessageSpec, ...] = field(default_factory=builtin_catalog)

    def needs(self, when: When) -> bool:
        """Whether an enabled message of this store is due at `when`."""
        return any(spec.enabled and spec.when is when for spec in self.catalog)


@dataclass(frozen=True, slots=True)
class Due:
    """One message due now: its store, booking, the message and why it is due."""

    shop: str
    booking: Booking
    spec: MessageSpec
    why: str
    # The real-time window of an earlier send of this message whose answer was
    # lost (the record's `{flag}_unclear`): the provider is asked before sending again.
    unclear: str | None = None

    @property
    def key(self) -> BookingKey:
        return self.booking.key

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def flag(self) -> str:
        return self.spec.flag

    @property
    def advertising(self) -> bool:
        return self.spec.advertising


@dataclass(frozen=True, slots=True)
class Held:
    """A message not sent this cycle, with the reason (held back, or skipped for good)."""

    booking: Booking
    name: str
    why: str


@dataclass(frozen=True)
class Plan:
    """The decisions of one cycle, in the order the cycle applies them."""

    create: tuple[Booking, ...] = ()
    # (key, the new booking_time, the flags the move resets, the old booking_time)
    moves: tuple[tuple[BookingKey, str, tuple[str, ...], str], ...] = ()
    adopt: tuple[tuple[BookingKey, str], ...] = ()  # (key, flag) recorded as sent, not sent
    # (key, flag, why) whose moment passed for good: recorded so, never sent; in `held` too.
    skip: tuple[tuple[BookingKey, str, str], ...] = ()
    held: tuple[Held, ...] = ()
    # Per store, in configuration order: one batch per message, in catalog order.
    batches: tuple[tuple[str, tuple[tuple[Due, ...], ...]], ...] = ()
    # phone -> the request ids its records already hold (never a lost answer's match).
    recorded: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def without(self, keys: set[BookingKey]) -> Plan:
        """The plan with no message for `keys` (bookings whose write failed: they wait)."""
        if not keys:
            return self
        batches = tuple(
            (shop, tuple(kept for batch in kinds if (kept := _keep(batch, keys))))
            for shop, kinds in self.batches
        )
        return replace(self, batches=batches)

    def advertising_due(self) -> bool:
        return any(due.advertising for due in self.dues())

    def dues(self) -> Iterator[Due]:
        for _shop, kinds in self.batches:
            for batch in kinds:
                yield from batch


def _keep(batch: tuple[Due, ...], keys: set[BookingKey]) -> tuple[Due, ...]:
    return tuple(due for due in batch if due.key not in keys)


def plan_cycle(
    found: Mapping[str, Sequence[Booking]],
    records: Mapping[BookingKey, Mapping[str, Any]],
    now: datetime,
    shops: Sequence[Shop],
    *,
    adopt: bool = False,
) -> Plan:
    """The plan for the bookings Naver showed (`found`, per store id) at `now`.

    `records` holds the stored records of those bookings (absent: new). A
    store of `found` that is not in `shops` is ignored. Each store's messages
    are its catalog's, judged by `domain.schedule.evaluate_messages`.
    """
    create: list[Booking] = []
    moves: list[tuple[BookingKey, str, tuple[str, ...], str]] = []
    adoptions: list[tuple[BookingKey, str]] = []
    skips: list[tuple[BookingKey, str, str]] = []
    held: list[Held] = []
    batches: list[tuple[str, tuple[tuple[Due, ...], ...]]] = []
    for shop in shops:
        per_message: dict[str, list[Due]] = {spec.name: [] for spec in shop.catalog}
        for booking in found.get(shop.id, ()):
            key = booking.key
            record = records.get(key)
            if record is None and booking.extra.get("status") == CANCELLED:
                # Cancelled before we ever saw it: we told its customer nothing, and a
                # record would make a later cycle send a cancellation notice.
                continue
            if record is None:
                create.append(booking)
            result = evaluate_messages(
                booking,
                handled(record, shop.catalog),
                now,
                shop.catalog,
                advertising_allowed=shop.advertising_allowed,
                adopt=adopt,
            )
            if result.moved_from is not None:
                moves.append((key, booking.booking_time, result.reset, result.moved_from))
            noted = (record or {}).get(MOVED_FROM)
            moved = result.moved_from or (noted if isinstance(noted, str) else None)
            adoptions += [(key, spec.flag) for spec, _why in result.adopt]
            skips += [(key, spec.flag, why) for spec, why in result.skip]
            held += [Held(booking, spec.name, why) for spec, why in result.held]
            held += [Held(booking, spec.name, why) for spec, why in result.skip]
            for due in result.due:
                window = (record or {}).get(unclear_attribute(due.flag))
                unclear = window if isinstance(window, str) else None
                if due.flag in result.reset:
                    # A lost answer of the old time's message says nothing of the new
                    # one: asking SENS would find the old text and skip the new.
                    unclear = None
                told = booking
                if moved is not None and due.spec.when is When.CHANGED:
                    # A change notice may tell the old time as well as the new one.
                    told = replace(booking, extra={**booking.extra, "moved_from": moved})
                per_message[due.name].append(Due(shop.id, told, due.spec, due.why, unclear))
        kinds = tuple(
            tuple(per_message[spec.name]) for spec in shop.catalog if per_message[spec.name]
        )
        if kinds:
            batches.append((shop.id, kinds))
    return Plan(
        create=tuple(create),
        moves=tuple(moves),
        adopt=tuple(adoptions),
        skip=tuple(skips),
        held=tuple(held),
        batches=tuple(batches),
        recorded=recorded_requests(records),
    )


def handled(
    record: Mapping[str, Any] | None, catalog: Sequence[MessageSpec]
) -> Mapping[str, Any] | None:
    """The record as the rules read it: a message recorded as skipped counts as done (its
    flag stays false on the record, where a true flag means a text went)."""
    if record is None:
        return None
    skipped = {spec.flag: True for spec in catalog if record.get(skipped_attribute(spec.flag))}
    return {**record, **skipped} if skipped else record


def recorded_requests(
    records: Mapping[BookingKey, Mapping[str, Any]],
) -> dict[str, frozenset[str]]:
    """phone -> the provider request ids its records hold, over every message."""
    found: dict[str, set[str]] = {}
    for (_booking_num, phone), record in records.items():
        for name, value in record.items():
            if name.endswith("_request_id") and isinstance(value, str):
                found.setdefault(phone, set()).add(value)
    return {phone: frozenset(ids) for phone, ids in found.items()}


def send_stop_reason(
    now: datetime,
    claimed_at: datetime,
    lease: timedelta,
    spec: MessageSpec,
    *,
    time_left: timedelta | None = None,
) -> str | None:
    """Why no further request of a batch claimed at `claimed_at` may start at `now`
    (the cycle's advancing clock), or None when it may. `time_left`: until the
    process is stopped from outside (a Lambda's timeout); None when nothing stops it."""
    if time_left is not None and time_left < TIME_TO_SEND:
        return "the run's time limit (the Lambda's timeout) is near; left to the next cycle"
    if now >= claimed_at + lease * SEND_WITHIN:
        return "the cycle ran long; left to the next cycle before its claim could lapse"
    window = spec.window or AD_HOURS
    if spec.advertising and not advertising_open(now, window, AD_MARGIN):
        return "the advertising window closed while the cycle ran; not sent"
    return None


def unclear_window(start: datetime, end: datetime) -> str:
    """The record's note of a send whose answer was lost: `"{start_ms}-{end_ms}"`, real time."""
    return f"{int(start.timestamp() * 1000)}-{int(end.timestamp() * 1000)}"


def search_window(window: str) -> tuple[datetime, datetime]:
    """Where to look for a lost answer's messages on the provider's clock: the noted
    window widened by the slack the provider's clock may need."""
    start_ms, _, end_ms = window.partition("-")
    start = datetime.fromtimestamp(int(start_ms) / 1000, UTC) - UNCLEAR_SLACK
    end = datetime.fromtimestamp(int(end_ms) / 1000, UTC) + UNCLEAR_SLACK
    return start, end


OPT_OUTS_UNREADABLE: Final = (
    "the 080 opt-out list could not be read; advertising waits for the next cycle"
)


def opted_out_reason(phone: str, opted_out: Mapping[str, datetime | None] | None) -> str | None:
    """Why an advertising message to `phone` waits, given the 080 list (None: unreadable),
    or None when it may go."""
    if opted_out is None:
        return OPT_OUTS_UNREADABLE
    if phone not in opted_out:
        return None
    when = opted_out[phone]
    return f"opted out on {when.astimezone(KST):%Y-%m-%d}" if when else "opted out (080 line)"


def hold_opted_out(
    plan: Plan, opted_out: Mapping[str, datetime | None] | None
) -> tuple[Plan, list[Held]]:
    """The plan without advertising to numbers that opted out, and those messages as held.

    `opted_out` is the provider's 080 list (stored phone -> when); None when it
    could not be read, and then every advertising message waits (fail closed:
    informational messages go on).
    """
    held: list[Held] = []

    def reason(due: Due) -> str | None:
        return opted_out_reason(due.booking.phone, opted_out) if due.advertising else None

    batches = []
    for shop, kinds in plan.batches:
        kept_kinds = []
        for batch in kinds:
            kept = []
            for due in batch:
                why = reason(due)
                if why is None:
                    kept.append(due)
                else:
                    held.append(Held(due.booking, due.name, why))
            if kept:
                kept_kinds.append(tuple(kept))
        batches.append((shop, tuple(kept_kinds)))
    return replace(plan, batches=tuple(batches)), held
