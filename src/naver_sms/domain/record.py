"""The names of a record's attributes beyond the seed's fields.

A record is one booking's row (the seed's fields and flags). The exactly-once
steps add attributes next to each flag; their names are written once here, so
the repositories that write them and the plan that reads them cannot drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

# A message's flag: the seed's three, or `{name}_sms` of a message the owner
# configured (domain.catalog.flag_of). Kept to a safe alphabet: it names an
# attribute in DynamoDB expressions and a JSON path in SQLite.
FLAG_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,39}_sms")


def is_flag_name(name: str) -> bool:
    """Whether `name` can be a message's flag on a record."""
    return FLAG_NAME.fullmatch(name) is not None


def flags_in(record: object) -> list[str]:
    """The message flags a record holds (true or false), in name order."""
    if not isinstance(record, dict):
        return []
    return sorted(name for name in record if isinstance(name, str) and is_flag_name(name))


def claim_attributes(flag: str) -> tuple[str, str]:
    """The attribute names of a claim on `flag`: (owner, expiry in epoch seconds)."""
    return f"{flag}_claim", f"{flag}_claim_until"


def unclear_attribute(flag: str) -> str:
    """The attribute mark_unclear sets: the real-time window of a send whose answer was lost."""
    return f"{flag}_unclear"


def skipped_attribute(flag: str) -> str:
    """The attribute mark_skipped sets: why `flag`'s message will never go (its flag
    stays false: the seed's flags mean "sent")."""
    return f"{flag}_skipped"


def sent_attributes(flag: str) -> tuple[str, str]:
    """The attribute names recorded by mark_sent: (request id, KST ISO time)."""
    return f"{flag}_request_id", f"{flag}_at"


@dataclass(frozen=True, slots=True)
class DeliveryAttributes:
    """The attribute names of one message's life after it was accepted."""

    message_id: str  # the provider's id of the message (found on the first check)
    channel: str  # sms | lms (alimtalk next)
    status: str  # accepted -> delivered | failed | unknown
    result: str  # the provider's result in words
    checked_at: str  # KST ISO time of the last look at the provider


def delivery_attributes(flag: str) -> DeliveryAttributes:
    """The attribute names of `flag`'s message life (next to its request id and time)."""
    return DeliveryAttributes(
        message_id=f"{flag}_message_id",
        channel=f"{flag}_channel",
        status=f"{flag}_status",
        result=f"{flag}_result",
        checked_at=f"{flag}_checked_at",
    )


# A record with a message whose delivery is not final carries these two, and only
# such a record does: on DynamoDB they key the sparse index `delivery` (hash: the
# constant below, range: when to look next), so a cycle finds what to check with
# one Query, whatever the booking's date, and a record leaves the index by losing them.
DELIVERY_QUEUE: Final = "delivery_queue"
DELIVERY_DUE: Final = "delivery_due"
DELIVERY_PENDING: Final = "pending"
