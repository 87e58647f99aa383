"""Which messages a booking is due at `now`, pure: docs/architecture.md, "What is due".

`evaluate` looks at one booking as the API shows it now and at its stored
record, and says what to send (in order), what to mark without sending
(`--adopt`), whether the visit moved, and what is being held back. Every
decision carries a sentence saying why, for the report and the demo.

All clock arithmetic is on aware datetimes in KST, so the host's time zone
never matters (Lambda runs in UTC).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Final

from naver_sms.domain.booking import KST, Booking, BookingValidationError, parse_booking_time
from naver_sms.domain.messages import AD_HOURS, MessageKind, advertising_decision

CONFIRMED: Final = "RC03"
COMPLETED: Final = "RC08"
DEFAULT_KEYWORDS: Final = ("네이버", "인스타", "원본")


@dataclass(frozen=True, slots=True)
class Rules:
    """The rule settings of the config file, as plain values (domain imports no config)."""

    confirmation: bool = True
    reminder: bool = True
    hours_before: float = 2
    event: bool = True
    keywords: tuple[str, ...] = DEFAULT_KEYWORDS
    event_window: tuple[time, time] = (time(20, 0), time(21, 0))


@dataclass(frozen=True, slots=True)
class Decision:
    """One message kind and the reason it is due (or held back, or adopted)."""

    kind: MessageKind
    why: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What to do with one booking this cycle.

    `due` is in sending order: a confirmation always comes before a reminder.
    `reschedule_to` is the new visit time when the stored one differs; storing
    it resets the reminder, which `due` already takes into account.
    """

    booking: Booking
    due: tuple[Decision, ...] = ()
    adopt: tuple[Decision, ...] = ()
    held: tuple[Decision, ...] = ()
    reschedule_to: str | None = None
    new: bool = False

    @property
    def kinds(self) -> list[MessageKind]:
        return [decision.kind for decision in self.due]


@dataclass
class _Draft:
    due: list[Decision] = field(default_factory=list)
    adopt: list[Decision] = field(default_factory=list)
    held: list[Decision] = field(default_factory=list)


def _hhmm(moment: datetime) -> str:
    return moment.astimezone(KST).strftime("%m-%d %H:%M")


def _flags(record: Mapping[str, Any] | None) -> dict[str, bool]:
    if record is None:
        return {kind.flag: False for kind in MessageKind}
    return {kind.flag: record.get(kind.flag) is True for kind in MessageKind}


def visit_end(booking: Booking) -> datetime:
    """The visit's end (KST) when the API gave one, else its start."""
    end = booking.extra.get("end_time")
    if isinstance(end, str) and end:
        try:
            return parse_booking_time(end)
        except BookingValidationError:
            # A record written before end times were checked may hold one
            # that cannot be read: the visit's start is the safe stand-in.
            return booking.starts_at
    return booking.starts_at


def matching_option(booking: Booking, keywords: Sequence[str]) -> tuple[str, str] | None:
    """(option name, keyword) of the first option name that contains a keyword."""
    names = booking.extra.get("option_names") or []
    if isinstance(names, str):
        names = [names]
    for name in names:
        for keyword in keywords:
            if keyword and keyword in str(name):
                return str(name), keyword
    return None


def evaluate(
    booking: Booking,
    record: Mapping[str, Any] | None,
    now: datetime,
    rules: Rules,
    *,
    advertising_allowed: bool = True,
    adopt: bool = False,
) -> Evaluation:
    """The messages `booking` is due at `now`, given its stored `record` (None: new).

    `advertising_allowed` is False for a store without an opt-out number.
    With `adopt`, unsent confirmations are marked instead of sent and nothing
    else is sent, so installing the system does not text every customer.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime (the host's time zone is not used)")
    now = now.astimezone(KST)
    flags = _flags(record)
    reschedule_to = None
    if record is not None and record.get("booking_time") != booking.booking_time:
        reschedule_to = booking.booking_time
        flags[MessageKind.REMINDER.flag] = False  # the new time gets its own reminder
    status = str(booking.extra.get("status", ""))
    starts = booking.starts_at
    draft = _Draft()

    if status == CONFIRMED and now < starts:
        _before_visit(draft, starts, now, rules, flags, adopt)
    _after_visit(draft, booking, status, now, rules, flags, advertising_allowed)
    if adopt:
        draft.due = []  # the first run on an existing store sends nothing at all
    return Evaluation(
        booking=booking,
        due=tuple(draft.due),
        adopt=tuple(draft.adopt),
        held=tuple(draft.held),
        reschedule_to=reschedule_to,
        new=record is None,
    )


def _before_visit(
    draft: _Draft,
    starts: datetime,
    now: datetime,
    rules: Rules,
    flags: Mapping[str, bool],
    adopt: bool,
) -> None:
    confirmation, reminder = MessageKind.CONFIRMATION, MessageKind.REMINDER
    if rules.confirmation and not flags[confirmation.flag]:
        if adopt:
            draft.adopt.append(
                Decision(confirmation, "already confirmed before installation (--adopt)")
            )
        else:
            draft.due.append(
                Decision(confirmation, f"confirmed booking for {_hhmm(starts)}, not yet confirmed")
            )
    opens = starts - timedelta(hours=rules.hours_before)
    if rules.reminder and not flags[reminder.flag] and opens <= now:
        draft.due.append(
            Decision(
                reminder,
                f"visit at {_hhmm(starts)} starts within {rules.hours_before:g}h",
            )
        )


def _after_visit(
    draft: _Draft,
    booking: Booking,
    status: str,
    now: datetime,
    rules: Rules,
    flags: Mapping[str, bool],
    advertising_allowed: bool,
) -> None:
    event = MessageKind.EVENT
    if not rules.event or flags[event.flag]:
        return
    ended = status == COMPLETED or (status == CONFIRMED and visit_end(booking) <= now)
    if not ended or booking.starts_at.date() != now.date():
        return
    match = matching_option(booking, rules.keywords)
    if match is None:
        return
    option, keyword = match
    opens, closes = rules.event_window
    why = f"visit ended today, option {option!r} matches {keyword!r}"
    if not advertising_allowed:
        draft.held.append(Decision(event, f"{why}; the store has no opt_out number"))
    elif now.time() >= closes:
        # Advertising late at night is unlawful; a missed evening is not made up tomorrow.
        draft.held.append(Decision(event, f"{why}; its {closes:%H:%M} deadline passed, dropped"))
    elif not (opens <= now.time() and advertising_decision(now).may_send):
        draft.held.append(
            Decision(event, f"{why}; waits for {opens:%H:%M}-{closes:%H:%M} (advertising)")
        )
    else:
        draft.due.append(Decision(event, f"{why}, in the {opens:%H:%M}-{closes:%H:%M} window"))


def advertising_open(now: datetime, window: tuple[time, time], margin: timedelta) -> bool:
    """May an advertising request start at `now` and still reach the provider in time?

    Checked before each request on the cycle's advancing clock, not once at the
    cycle's start: a long cycle that began at 20:59:50 must not send at 21:00:05.
    Both the store's window and the law's 08:00-21:00 hold, and the request must
    start `margin` before either closes.
    """
    local = now.astimezone(KST)
    opens = max(window[0], AD_HOURS[0])
    closes = min(window[1], AD_HOURS[1])
    closing = datetime.combine(local.date(), closes, tzinfo=KST)
    return opens <= local.time() and local + margin < closing
