"""Which of the shop's messages a booking is due at `now`, pure: the engine of issue 15.

`evaluate_messages` looks at one booking as Naver shows it now and at its
stored record, and sorts every message of the catalog (`domain.catalog`) into
what to send now (in the catalog's order), what waits, what to mark as skipped
because its moment passed for good, and what to mark without sending on an
adopting run. Every decision carries a sentence saying why, for the report and
the sandbox.

The rules peers get wrong, each kept here in one place:

- A cancelled booking gets its cancellation notice (once) and nothing else,
  even when a reminder fell due in the same cycle. A cancelled booking we
  never stored gets nothing: we never told its customer anything.
- A visit that moved gets its change notice, and its before-visit messages
  again for the new time (`reset`), never a second confirmation.
- An after-visit message never goes before the visit ended, and only on the
  day it falls due: a thank-you a day late reads like a mistake.
- A message whose moment passed while nothing ran goes late only while it
  still makes sense, otherwise it is skipped with the reason, so the owner
  sees why a customer got nothing instead of wondering.

All clock arithmetic is on aware datetimes in KST, so the host's time zone
never matters (Lambda runs in UTC).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Final

from naver_sms.domain.booking import KST, Booking, BookingValidationError, parse_booking_time
from naver_sms.domain.catalog import MessageSpec, When
from naver_sms.domain.messages import advertising_decision
from naver_sms.domain.rules import matching_option, visit_end

CONFIRMED: Final = "RC03"
CANCELLED: Final = "RC04"
COMPLETED: Final = "RC08"
# The record's note of the visit's previous time, written by the caller with
# the new time when a visit moves (`Schedule.moved_from`). It keeps a change
# notice that had to wait (its window was closed, the booking was not yet
# confirmed) due in later cycles, when the record's time already matches.
MOVED_FROM: Final = "moved_from"

Verdict = tuple[MessageSpec, str]
"""A message and the sentence saying why it was held, skipped or adopted."""


@dataclass(frozen=True, slots=True)
class Due:
    """One message to send now and the sentence saying why."""

    spec: MessageSpec
    why: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def flag(self) -> str:
        return self.spec.flag


@dataclass(frozen=True, slots=True)
class Schedule:
    """What to do with one booking this cycle, applied in this order by the caller.

    `reset`: flags to set back to false first (a moved visit's before-visit
    messages and change notices). `due`: send, in catalog order. `adopt`:
    mark sent without sending (`adopt=True`). `skip`: mark so it is never
    sent, and report why. `held`: nothing to write; it waits, and why.
    `moved_from`: the stored visit time when Naver now shows another one
    (store the new time, and this one under `MOVED_FROM`), else None.
    """

    booking: Booking
    due: tuple[Due, ...] = ()
    held: tuple[Verdict, ...] = ()
    skip: tuple[Verdict, ...] = ()
    adopt: tuple[Verdict, ...] = ()
    reset: tuple[str, ...] = ()
    moved_from: str | None = None
    new: bool = False

    @property
    def names(self) -> list[str]:
        """The names of the messages due, in sending order."""
        return [due.spec.name for due in self.due]


def _hhmm(moment: datetime) -> str:
    return moment.astimezone(KST).strftime("%m-%d %H:%M")


def _window_text(window: tuple[time, time]) -> str:
    return f"{window[0]:%H:%M}-{window[1]:%H:%M}"


@dataclass(frozen=True, slots=True)
class _Facts:
    """What every rule reads, computed once."""

    booking: Booking
    now: datetime
    status: str
    starts: datetime
    ends: datetime
    stored: bool
    advertising_allowed: bool
    pending_change: str | None  # the old time while a change notice is owed
    adopt: bool

    @property
    def ahead(self) -> bool:
        return self.now < self.starts

    @property
    def ended(self) -> bool:
        # Naver's "completed" is taken at its word only once the booked end
        # passed too: a visit marked completed early still ends when booked.
        return self.status in (COMPLETED, CONFIRMED) and self.ends <= self.now


@dataclass
class _Draft:
    due: list[Due]
    held: list[Verdict]
    skip: list[Verdict]
    adopt: list[Verdict]


def evaluate_messages(
    booking: Booking,
    record: Mapping[str, Any] | None,
    now: datetime,
    catalog: Sequence[MessageSpec],
    *,
    status: str | None = None,
    advertising_allowed: bool = True,
    adopt: bool = False,
) -> Schedule:
    """The messages of `catalog` that `booking` is due at `now`, given its `record` (None: new).

    `status` is Naver's booking status (RC03 confirmed, RC04 cancelled, RC08
    completed); None reads it from `booking.extra["status"]`.
    `advertising_allowed` is False for a store without an opt-out number.
    With `adopt`, nothing is due: unsent confirmations of future visits are
    marked instead, so installing the system does not text every customer.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime (the host's time zone is not used)")
    now = now.astimezone(KST)
    if status is None:
        status = str(booking.extra.get("status", ""))
    flags = {spec.flag: record is not None and record.get(spec.flag) is True for spec in catalog}

    if status == CANCELLED:
        # Whatever else was due (a reminder, a moved visit's notice), the
        # customer hears one thing: the cancellation. The move is not stored
        # either: should the booking come back, it is seen as moved then.
        if record is None:
            return Schedule(booking=booking, new=True)
        reset: tuple[str, ...] = ()
        moved_from = None
        catalog = [spec for spec in catalog if spec.when is When.CANCELLED]
    else:
        moved_from = _moved_from(booking, record)
        reset = _reset_flags(catalog) if moved_from is not None else ()
        for flag in reset:
            flags[flag] = False

    facts = _Facts(
        booking=booking,
        now=now,
        status=status,
        starts=booking.starts_at,
        ends=visit_end(booking),
        stored=record is not None,
        advertising_allowed=advertising_allowed,
        pending_change=moved_from or _noted_move(booking, record),
        adopt=adopt,
    )
    draft = _Draft([], [], [], [])
    for spec in catalog:
        if not spec.enabled or flags.get(spec.flag, False):
            continue
        if spec.keywords and matching_option(booking, spec.keywords) is None:
            continue
        _RULES[spec.when](draft, spec, facts)
    return Schedule(
        booking=booking,
        due=() if adopt else tuple(draft.due),  # an adopting run sends nothing at all
        held=tuple(draft.held),
        skip=tuple(draft.skip),
        adopt=tuple(draft.adopt),
        reset=reset,
        moved_from=moved_from,
        new=record is None,
    )


def _moved_from(booking: Booking, record: Mapping[str, Any] | None) -> str | None:
    if record is None:
        return None
    stored = record.get("booking_time")
    # A record without a readable time cannot say where the visit moved from:
    # no notice about it is better than one with a wrong old time.
    if not isinstance(stored, str) or not stored or stored == booking.booking_time:
        return None
    return stored


def _noted_move(booking: Booking, record: Mapping[str, Any] | None) -> str | None:
    noted = None if record is None else record.get(MOVED_FROM)
    if isinstance(noted, str) and noted and noted != booking.booking_time:
        return noted
    return None


def _reset_flags(catalog: Iterable[MessageSpec]) -> tuple[str, ...]:
    """The flags a move sets back: the new time gets its own before-visit messages,
    and each move its own change notice (a booking may move twice)."""
    flags: list[str] = []
    for spec in catalog:
        if spec.when in (When.BEFORE_VISIT, When.CHANGED) and spec.flag not in flags:
            flags.append(spec.flag)
    return tuple(flags)


def _started(facts: _Facts) -> str:
    return f"skipped: the visit at {_hhmm(facts.starts)} started before it could go"


def _confirmed(draft: _Draft, spec: MessageSpec, facts: _Facts) -> None:
    if facts.status == CONFIRMED and facts.ahead:
        if facts.adopt:
            draft.adopt.append((spec, "already confirmed before installation (--adopt)"))
        else:
            why = f"confirmed booking for {_hhmm(facts.starts)}"
            _send_within_window(draft, spec, facts, why)
    elif facts.status in (CONFIRMED, COMPLETED):
        draft.skip.append((spec, _started(facts)))


def _before_visit(draft: _Draft, spec: MessageSpec, facts: _Facts) -> None:
    if facts.status == CONFIRMED and facts.ahead:
        # A booking made after the moment still gets it: the visit is ahead.
        if facts.starts - spec.offset <= facts.now:
            why = f"visit at {_hhmm(facts.starts)} starts within {_duration(spec)}"
            _send_within_window(draft, spec, facts, why)
    elif facts.status in (CONFIRMED, COMPLETED):
        draft.skip.append((spec, _started(facts)))


def _cancelled(draft: _Draft, spec: MessageSpec, facts: _Facts) -> None:
    if facts.status != CANCELLED or not facts.stored:
        return
    visit = _hhmm(facts.starts)
    if facts.ahead:
        _send_within_window(draft, spec, facts, f"the booking for {visit} was cancelled")
    else:
        # Told after the time it was for, the customer learns nothing.
        why = f"skipped: the visit at {visit} had passed before the cancellation showed"
        draft.skip.append((spec, why))


def _changed(draft: _Draft, spec: MessageSpec, facts: _Facts) -> None:
    if facts.pending_change is None:
        return
    moved = f"the visit moved from {_shown(facts.pending_change)} to {_hhmm(facts.starts)}"
    if facts.status == CONFIRMED and facts.ahead:
        _send_within_window(draft, spec, facts, moved)
    elif facts.status in (CONFIRMED, COMPLETED):
        draft.skip.append((spec, f"skipped: {moved}, which started before it could go"))


def _shown(stored: str) -> str:
    """A stored visit time as the reasons show times; as it is when it cannot be read."""
    try:
        return _hhmm(parse_booking_time(stored))
    except BookingValidationError:
        return stored


def _duration(spec: MessageSpec) -> str:
    hours = spec.offset.total_seconds() / 3600
    return f"{hours:g}h"


def _send_within_window(draft: _Draft, spec: MessageSpec, facts: _Facts, why: str) -> None:
    """Due now, unless the spec's window or the law keeps it back until later."""
    reason = _kept_back(spec, facts)
    if reason is None:
        window = f", in the {_window_text(spec.window)} window" if spec.window else ""
        draft.due.append(Due(spec, why + window))
    else:
        draft.held.append((spec, f"{why}; {reason}"))


def _kept_back(spec: MessageSpec, facts: _Facts) -> str | None:
    if spec.advertising and not facts.advertising_allowed:
        return "the store has no opt_out number"
    if spec.window is not None:
        opens, closes = spec.window
        if not opens <= facts.now.time() < closes:
            kind = " (advertising)" if spec.advertising else ""
            return f"waits for {_window_text(spec.window)}{kind}"
    if spec.advertising and not advertising_decision(facts.now).may_send:
        return "waits for the law's advertising hours, 08:00-21:00"
    return None


def _after_visit(draft: _Draft, spec: MessageSpec, facts: _Facts) -> None:
    if not facts.ended:
        return
    moment = facts.ends + spec.offset
    if facts.now < moment:
        return
    options = matching_option(facts.booking, spec.keywords) if spec.keywords else None
    matched = f", option {options[0]!r} matches {options[1]!r}" if options else ""
    why = f"visit ended {_hhmm(facts.ends)}{matched}"
    if facts.now.date() != moment.date():
        # Only the day it falls due: a day late it reads like a mistake, and
        # advertising late at night is unlawful anyway.
        draft.skip.append((spec, f"skipped: {why}; its window passed on {moment:%m-%d}"))
        return
    if spec.advertising and not facts.advertising_allowed:
        draft.held.append((spec, f"{why}; the store has no opt_out number"))
        return
    if spec.window is not None and facts.now.time() >= spec.window[1]:
        draft.skip.append((spec, f"skipped: {why}; its {spec.window[1]:%H:%M} deadline passed"))
        return
    _send_within_window(draft, spec, facts, why)


_RULES: Final[dict[When, Callable[[_Draft, MessageSpec, _Facts], None]]] = {
    When.CONFIRMED: _confirmed,
    When.BEFORE_VISIT: _before_visit,
    When.AFTER_VISIT: _after_visit,
    When.CANCELLED: _cancelled,
    When.CHANGED: _changed,
}
