"""What one cycle will do, decided before any write: pure, tested with a fixed `now`.

`plan_cycle` takes what Naver showed (bookings per store), what the records
hold, the clock and the rules, and returns a `Plan`: the records to create,
the visits that moved, the flags to adopt, what is held back and why, and per
store the messages due in kind order (a confirmation before its reminder).
The cycle (`naver_sms.cycle`) only carries the plan out: writes, claims,
sends, marks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from naver_sms.domain.booking import Booking, BookingKey
from naver_sms.domain.messages import MessageKind
from naver_sms.domain.record import sent_attributes, unclear_attribute
from naver_sms.domain.rules import Decision, Rules, evaluate


@dataclass(frozen=True, slots=True)
class Shop:
    """What the plan needs of a configured store."""

    id: str
    advertising_allowed: bool  # the store has an opt-out number (the law's condition)


@dataclass(frozen=True, slots=True)
class Due:
    """One message due now: its store, booking, the rule's decision."""

    shop: str
    booking: Booking
    decision: Decision
    # The real-time window of an earlier send of this message whose answer was
    # lost (the record's `{flag}_unclear`): the provider is asked before sending again.
    unclear: str | None = None

    @property
    def key(self) -> BookingKey:
        return self.booking.key

    @property
    def kind(self) -> MessageKind:
        return self.decision.kind

    @property
    def flag(self) -> str:
        return self.decision.kind.flag


@dataclass(frozen=True, slots=True)
class Held:
    """A message not due this cycle, with the rule's reason."""

    booking: Booking
    decision: Decision


@dataclass(frozen=True)
class Plan:
    """The decisions of one cycle, in the order the cycle applies them."""

    create: tuple[Booking, ...] = ()
    moves: tuple[tuple[BookingKey, str], ...] = ()  # (key, the new booking_time)
    adopt: tuple[tuple[BookingKey, str], ...] = ()  # (key, flag) recorded as sent, not sent
    held: tuple[Held, ...] = ()
    # Per store, in configuration order: one batch per kind, in kind order.
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
    rules: Rules,
    shops: Sequence[Shop],
    *,
    adopt: bool = False,
) -> Plan:
    """The plan for the bookings Naver showed (`found`, per store id) at `now`.

    `records` holds the stored records of those bookings (absent: new). A
    store of `found` that is not in `shops` is ignored.
    """
    create: list[Booking] = []
    moves: list[tuple[BookingKey, str]] = []
    adoptions: list[tuple[BookingKey, str]] = []
    held: list[Held] = []
    batches: list[tuple[str, tuple[tuple[Due, ...], ...]]] = []
    for shop in shops:
        per_kind: dict[MessageKind, list[Due]] = {kind: [] for kind in MessageKind}
        for booking in found.get(shop.id, ()):
            key = booking.key
            record = records.get(key)
            if record is None:
                create.append(booking)
            result = evaluate(
                booking,
                record,
                now,
                rules,
                advertising_allowed=shop.advertising_allowed,
                adopt=adopt,
            )
            if result.reschedule_to is not None:
                moves.append((key, result.reschedule_to))
            adoptions += [(key, decision.kind.flag) for decision in result.adopt]
            held += [Held(booking, decision) for decision in result.held]
            for decision in result.due:
                window = (record or {}).get(unclear_attribute(decision.kind.flag))
                unclear = window if isinstance(window, str) else None
                if result.reschedule_to is not None and decision.kind is MessageKind.REMINDER:
                    # A lost answer of the old time's reminder says nothing of the new
                    # one: asking SENS would find the old text and skip the new.
                    unclear = None
                per_kind[decision.kind].append(Due(shop.id, booking, decision, unclear))
        kinds = tuple(tuple(per_kind[kind]) for kind in MessageKind if per_kind[kind])
        if kinds:
            batches.append((shop.id, kinds))
    return Plan(
        create=tuple(create),
        moves=tuple(moves),
        adopt=tuple(adoptions),
        held=tuple(held),
        batches=tuple(batches),
        recorded=recorded_requests(records),
    )


def recorded_requests(
    records: Mapping[BookingKey, Mapping[str, Any]],
) -> dict[str, frozenset[str]]:
    """phone -> the provider request ids its records hold, over every kind."""
    found: dict[str, set[str]] = {}
    for (_booking_num, phone), record in records.items():
        for kind in MessageKind:
            request_id = record.get(sent_attributes(kind.flag)[0])
            if isinstance(request_id, str):
                found.setdefault(phone, set()).add(request_id)
    return {phone: frozenset(ids) for phone, ids in found.items()}
