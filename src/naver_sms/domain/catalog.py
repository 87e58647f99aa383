"""The messages a shop sends: each a name, a moment and a few rules. Pure.

A *message* (the config's `messages:` entry) says when it is due on a
booking's life: when the booking is confirmed, some time before or after the
visit, when the booking is cancelled, or when its visit moved. Each message
has its own flag on the record (the seed's three keep theirs), so each goes
exactly once per booking, with the same claim/send/mark machinery.

The seed's three messages (`confirmation`, `reminder`, `event`) are the
catalog an old `rules:` + `templates:` config means.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time, timedelta
from enum import StrEnum
from typing import Final

from naver_sms.domain.messages import AD_HOURS, MessageKind

# The record's flag of the seed's three messages: their names are the old kinds'.
BUILTIN_FLAGS: Final = {
    "confirmation": "confirm_sms",
    "reminder": "remind_sms",
    "event": "option_sms",
}
NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,39}")
# A message's flag ends so: `{name}_sms`; names that would collide with the
# attributes a record already has beside its flags are refused.
RESERVED_NAMES: Final = frozenset({"confirm", "remind", "option", "booking", "delivery"})


class When(StrEnum):
    """The moment of a booking's life a message is due at."""

    CONFIRMED = "confirmed"  # a booking confirmed (RC03), its visit in the future
    BEFORE_VISIT = "before_visit"  # `offset` before the visit starts
    AFTER_VISIT = "after_visit"  # `offset` after the visit ended
    CANCELLED = "cancelled"  # a stored booking Naver now shows cancelled (RC04)
    CHANGED = "changed"  # the visit time moved


def flag_of(name: str) -> str:
    """The record's flag that says `name` was sent: the seed's for its three, else `{name}_sms`."""
    return BUILTIN_FLAGS.get(name, f"{name}_sms")


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """One message of the catalog, as the config defines it (after store overrides)."""

    name: str
    when: When
    template: str  # the template's text key (the name, unless the config says otherwise)
    offset: timedelta = timedelta(0)  # before_visit / after_visit only
    advertising: bool = False
    # Send only between these KST times (required for advertising, inside 08:00-21:00).
    window: tuple[time, time] | None = None
    keywords: tuple[str, ...] = ()  # only bookings with an option name holding one
    enabled: bool = True

    def __post_init__(self) -> None:
        if not NAME.fullmatch(self.name) or self.name in RESERVED_NAMES:
            raise ValueError(
                f"message name {self.name!r}: expected lowercase letters, digits and _ "
                "(starting with a letter, at most 40), not confirm/remind/option/booking/delivery"
            )
        if self.offset < timedelta(0):
            raise ValueError(f"message {self.name!r}: offset must not be negative")
        if self.offset and self.when not in (When.BEFORE_VISIT, When.AFTER_VISIT):
            raise ValueError(f"message {self.name!r}: offset applies to before_visit/after_visit")
        if self.advertising:
            if self.window is None:
                raise ValueError(f"message {self.name!r}: advertising needs a window")
            opens, closes = self.window
            if opens < AD_HOURS[0] or closes > AD_HOURS[1] or opens >= closes:
                raise ValueError(
                    f"message {self.name!r}: an advertising window must lie within "
                    f"{AD_HOURS[0]:%H:%M}-{AD_HOURS[1]:%H:%M} (the law's hours)"
                )

    @property
    def flag(self) -> str:
        return flag_of(self.name)


def builtin_catalog(
    *,
    confirmation: bool = True,
    reminder: bool = True,
    hours_before: float = 2,
    event: bool = True,
    keywords: Sequence[str] = ("네이버", "인스타", "원본"),
    event_window: tuple[time, time] = (time(20, 0), time(21, 0)),
) -> tuple[MessageSpec, ...]:
    """The seed's three messages, as an old `rules:` section configures them."""
    return (
        MessageSpec("confirmation", When.CONFIRMED, "confirmation", enabled=confirmation),
        MessageSpec(
            "reminder",
            When.BEFORE_VISIT,
            "reminder",
            offset=timedelta(hours=hours_before),
            enabled=reminder,
        ),
        MessageSpec(
            "event",
            When.AFTER_VISIT,
            "event",
            advertising=True,
            window=event_window,
            keywords=tuple(keywords),
            enabled=event,
        ),
    )


_BUILTINS: Final = {spec.name: spec for spec in builtin_catalog()}


def as_spec(message: MessageKind | MessageSpec) -> MessageSpec:
    """A message as the catalog knows it: one of the seed's kinds becomes its built-in spec."""
    if isinstance(message, MessageSpec):
        return message
    return _BUILTINS[message.value]


def builtin_kind(message: MessageKind | MessageSpec) -> MessageKind | None:
    """The seed's kind of a message named like one (what `templates:` and `alimtalk:`
    are keyed by), or None for a message the owner added."""
    name = message.value if isinstance(message, MessageKind) else message.name
    try:
        return MessageKind(name)
    except ValueError:
        return None
