"""Each message's fate after the provider accepted it: pure, tested with a fixed `now`.

A message accepted by SENS is not yet a text on a phone: a wrong number, a
carrier's refusal or a spam block all fail later. The record keeps, per
message (see `domain.record.delivery_attributes`), the channel, a status
(`accepted` -> `delivered` | `failed`, or `unknown` when no final result came
within `GIVE_UP_AFTER`), the provider's result in words and when it was last
checked. `settle` turns what the provider said into the record's update; the
cycle only asks and writes (`naver_sms.cycle`).

The exactly-once flags keep their meaning: a delivery that failed never makes
a message due again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from naver_sms.domain.booking import KST, mask_phone
from naver_sms.domain.messages import MessageKind
from naver_sms.domain.record import (
    DELIVERY_DUE,
    delivery_attributes,
    sent_attributes,
)

# The provider needs a moment to hand a message to the carrier: asking sooner
# only spends a lookup on "processing".
CHECK_AFTER: Final = timedelta(minutes=1)
# A message with no final result after this long is given up as `unknown`
# (carriers report within hours; SENS keeps results 90 days).
GIVE_UP_AFTER: Final = timedelta(hours=72)
# Provider lookups per cycle at most, so a backlog never makes a cycle slow:
# what is left waits for the next cycle, oldest first.
LOOKUPS_PER_CYCLE: Final = 300
UNTRACKED_RESULT: Final = "not tracked: sent before delivery checks began"
GAVE_UP_RESULT: Final = "no final result from the provider within 72 hours"

_FLAG_OF_REQUEST_ID: Final = re.compile(r"(?P<flag>[a-z][a-z0-9_]*)_request_id")


class DeliveryStatus(StrEnum):
    ACCEPTED = "accepted"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @property
    def final(self) -> bool:
        return self is not DeliveryStatus.ACCEPTED


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What the provider says of one message now: a status and its words.

    `ACCEPTED` means not final yet (SENS's READY or PROCESSING).
    """

    status: DeliveryStatus
    result: str


@dataclass(frozen=True, slots=True)
class Lookup:
    """One message's lookup this cycle: the provider's message id (when known) and
    its result (None when the provider could not be asked or does not know it yet)."""

    message_id: str | None = None
    result: DeliveryResult | None = None


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One message a record says was sent: the row of the history and of the checks."""

    booking_num: str
    phone: str
    flag: str
    request_id: str
    sent_at: datetime
    status: DeliveryStatus
    result: str = ""
    channel: str | None = None
    message_id: str | None = None
    checked_at: datetime | None = None

    @property
    def store(self) -> str:
        return self.booking_num.partition("_")[0]

    @property
    def kind(self) -> str:
        """The message's name: the seed's kinds (`confirmation`, ...) by their flags,
        a configured message's from its `{name}_sms` flag."""
        for kind in MessageKind:
            if kind.flag == self.flag:
                return kind.value
        return self.flag.removesuffix("_sms")

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    def due_for_lookup(self, now: datetime) -> bool:
        """Accepted, old enough to have a result, young enough to be worth asking."""
        age = now - self.sent_at
        return self.status is DeliveryStatus.ACCEPTED and CHECK_AFTER <= age < GIVE_UP_AFTER

    def to_dict(self) -> dict[str, Any]:
        """The history's JSON shape: no full phone number."""
        return {
            "sent_at": self.sent_at.isoformat(timespec="seconds"),
            "store": self.store,
            "booking_num": self.booking_num,
            "phone_masked": self.phone_masked,
            "kind": self.kind,
            "channel": self.channel,
            "status": self.status.value,
            "result": self.result,
            "request_id": self.request_id,
            "message_id": self.message_id,
            "checked_at": (
                self.checked_at.isoformat(timespec="seconds") if self.checked_at else None
            ),
        }


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=KST)
    return moment.astimezone(KST)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def sent_messages(record: Mapping[str, Any]) -> list[SentMessage]:
    """Every message `record` says was sent (a request id and a time), by flag.

    A message adopted (`run --adopt`) has no request id: nothing was sent, so
    it is not listed. A reminder sent for a visit that then moved is listed
    although its flag is false again (the new time gets its own): it was sent.
    One sent before delivery checks began has no status: it is listed as
    `unknown`, said so in words.
    """
    found = []
    for attribute in sorted(record):
        match = _FLAG_OF_REQUEST_ID.fullmatch(attribute)
        if match is None:
            continue
        flag = match["flag"]
        request_attr, at_attr = sent_attributes(flag)
        request_id = _text(record.get(request_attr))
        sent_at = _moment(record.get(at_attr))
        if request_id is None or sent_at is None:
            continue
        names = delivery_attributes(flag)
        raw_status = record.get(names.status)
        try:
            status = DeliveryStatus(str(raw_status))
        except ValueError:
            status = DeliveryStatus.UNKNOWN
        result = _text(record.get(names.result)) or (UNTRACKED_RESULT if raw_status is None else "")
        found.append(
            SentMessage(
                booking_num=str(record.get("booking_num", "")),
                phone=str(record.get("phone", "")),
                flag=flag,
                request_id=request_id,
                sent_at=sent_at,
                status=status,
                result=result,
                channel=_text(record.get(names.channel)),
                message_id=_text(record.get(names.message_id)),
                checked_at=_moment(record.get(names.checked_at)),
            )
        )
    return found


def history(
    records: Iterable[Mapping[str, Any]],
    day: str,
    *,
    store: str | None = None,
    status: DeliveryStatus | None = None,
) -> list[SentMessage]:
    """The messages sent on KST `day` (`YYYY-MM-DD`), newest first, optionally of one
    store and one status."""
    rows = [
        message
        for record in records
        for message in sent_messages(record)
        if message.sent_at.date().isoformat() == day
        and (store is None or message.store == store)
        and (status is None or message.status is status)
    ]
    rows.sort(key=lambda m: (m.sent_at, m.booking_num, m.flag), reverse=True)
    return rows


def check_interval(age: timedelta) -> timedelta:
    """How long to wait before asking again about a message this old that is not final.

    Most results come within minutes; a phone that is off reports when it is
    back on. Asking less often as a message ages keeps a backlog cheap.
    """
    if age < timedelta(minutes=10):
        return timedelta(minutes=1)
    if age < timedelta(hours=1):
        return timedelta(minutes=5)
    if age < timedelta(hours=6):
        return timedelta(minutes=30)
    return timedelta(hours=2)


def _iso(moment: datetime) -> str:
    return moment.astimezone(KST).isoformat(timespec="seconds")


def first_check(sent_at: datetime) -> str:
    """The `delivery_due` a newly accepted message sets: when its first lookup is due."""
    return _iso(sent_at + CHECK_AFTER)


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    """What a delivery check writes to one record, applied only if the record still
    holds the statuses it was read with (another cycle may have marked or settled
    a message meanwhile: then nothing is written, and the next cycle looks again)."""

    booking_num: str
    phone: str
    # Attributes to set, all delivery attributes of sent messages (strings).
    set: Mapping[str, str]
    # Each `{flag}_status` as read, None where it was absent: the write's condition.
    expected: Mapping[str, str | None]
    # The next check (KST ISO), or None: nothing left to check, the record leaves
    # the queue (`delivery_queue` and `delivery_due` removed).
    due: str | None
    # The KST days (`YYYY-MM-DD`) of the messages it settles: their history
    # entries are written again, in case the one written with the mark was lost.
    days: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Settled:
    """The outcome of one record's check: its update and the messages that became final."""

    update: DeliveryUpdate
    final: tuple[SentMessage, ...]


def settle(
    record: Mapping[str, Any],
    lookups: Mapping[str, Lookup],
    now: datetime,
    flags: Iterable[str] = (),
) -> Settled:
    """The record's update after this cycle's lookups (by flag) at `now`.

    A message becomes final when the provider says so, or `unknown` once
    `GIVE_UP_AFTER` has passed; otherwise it stays `accepted` with its latest
    words, and the next check is set by its age (`check_interval`). A message
    the provider could not be asked about this cycle is due again at once.
    `flags` are the flags the configuration knows: their statuses are part of
    the write's condition even when the record has none yet, so a message
    marked meanwhile by another cycle is never dropped from the queue.
    """
    messages = sent_messages(record)
    expected: dict[str, str | None] = {
        delivery_attributes(flag).status: None for flag in (*flags, *(m.flag for m in messages))
    }
    for name in expected:
        value = record.get(name)
        expected[name] = value if isinstance(value, str) else None
    updates: dict[str, str] = {}
    final: list[SentMessage] = []
    next_checks: list[datetime] = []
    checked = _iso(now)
    for message in messages:
        if message.status is not DeliveryStatus.ACCEPTED:
            continue
        names = delivery_attributes(message.flag)
        lookup = lookups.get(message.flag)
        age = now - message.sent_at
        if lookup is not None and lookup.message_id and not message.message_id:
            updates[names.message_id] = lookup.message_id
        result = lookup.result if lookup is not None else None
        if result is not None:
            updates[names.result] = result.result
            updates[names.checked_at] = checked
        if result is not None and result.status.final:
            outcome = result
        elif age >= GIVE_UP_AFTER:
            last = f"; last seen: {result.result}" if result is not None else ""
            outcome = DeliveryResult(DeliveryStatus.UNKNOWN, GAVE_UP_RESULT + last)
            updates[names.result] = outcome.result
            updates[names.checked_at] = checked
        else:
            if result is not None:
                after = now + check_interval(age)
            elif lookup is not None or age >= CHECK_AFTER:
                after = now  # asked and not answered: again next cycle
            else:
                after = message.sent_at + CHECK_AFTER
            # Never later than the moment it is given up, so `unknown` comes on time.
            next_checks.append(min(after, message.sent_at + GIVE_UP_AFTER))
            continue
        updates[names.status] = outcome.status.value
        final.append(
            SentMessage(
                booking_num=message.booking_num,
                phone=message.phone,
                flag=message.flag,
                request_id=message.request_id,
                sent_at=message.sent_at,
                status=outcome.status,
                result=outcome.result,
                channel=message.channel,
                message_id=lookup.message_id
                if lookup and lookup.message_id
                else message.message_id,
                checked_at=now,
            )
        )
    due = _iso(min(next_checks)) if next_checks else None
    update = DeliveryUpdate(
        booking_num=str(record.get("booking_num", "")),
        phone=str(record.get("phone", "")),
        set=updates,
        expected=expected,
        due=due,
        days=frozenset(m.sent_at.date().isoformat() for m in final),
    )
    return Settled(update=update, final=tuple(final))


def due_at(record: Mapping[str, Any]) -> datetime | None:
    """When the record's next delivery check is due (its `delivery_due`), if queued."""
    return _moment(record.get(DELIVERY_DUE))
