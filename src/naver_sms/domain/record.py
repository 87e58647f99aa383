"""The names of a record's attributes beyond the seed's fields.

A record is one booking's row (the seed's fields and flags). The exactly-once
steps add attributes next to each flag; their names are written once here, so
the repositories that write them and the plan that reads them cannot drift.
"""

from __future__ import annotations


def claim_attributes(flag: str) -> tuple[str, str]:
    """The attribute names of a claim on `flag`: (owner, expiry in epoch seconds)."""
    return f"{flag}_claim", f"{flag}_claim_until"


def unclear_attribute(flag: str) -> str:
    """The attribute mark_unclear sets: the real-time window of a send whose answer was lost."""
    return f"{flag}_unclear"


def sent_attributes(flag: str) -> tuple[str, str]:
    """The attribute names recorded by mark_sent: (request id, KST ISO time)."""
    return f"{flag}_request_id", f"{flag}_at"
