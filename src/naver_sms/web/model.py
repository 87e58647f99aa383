"""What the owner's pages show, and the one port they read it through.

The pages (`naver_sms.web.app`) only render these values; `naver_sms.web.owner`
reads them through the same ports as the command line (no SQL in a view).
Every phone number in a value here is already masked (`010-****-5678`), so no
template can show a full one by mistake; no value carries a cookie or a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from naver_sms.messaging.templates import CheckRow


class WebUserError(ValueError):
    """A request the owner can fix (a bad number, a limit reached): shown on the page as is."""


class MessageState(StrEnum):
    """A booking's message as the today page shows it."""

    DELIVERED = "delivered"  # on the customer's phone
    SENT = "sent"  # accepted by the provider, no final result yet
    FAILED = "failed"  # the provider or the carrier could not deliver it
    UNKNOWN = "unknown"  # no final result within 72 hours
    DUE = "due"  # the next cycle sends it
    HELD = "held"  # waits (its moment has not come, advertising hours, opt-out, ...)
    SKIPPED = "skipped"  # never sent, and why (its moment passed while down, ...)
    UNCLEAR = "unclear"  # the provider's answer was lost; the next cycle asks it first


@dataclass(frozen=True, slots=True)
class MessageLine:
    """One message of one booking: its state, when, by which channel, and why."""

    name: str  # the message's name in the config (confirmation, guide, event, ...)
    state: MessageState
    at: datetime | None = None  # sent (or last checked) at, KST
    channel: str | None = None  # sms, lms or alimtalk once sent
    why: str = ""  # the cycle's reason (held, skipped, due) or the provider's result


@dataclass(frozen=True, slots=True)
class BookingLine:
    """One booking of the today page; `phone` is masked, `customer` has any number masked."""

    booking_num: str
    visit: datetime  # KST
    customer: str
    phone: str
    item: str
    status: str  # confirmed, cancelled or completed (Naver's, as last read)
    messages: tuple[MessageLine, ...]


@dataclass(frozen=True, slots=True)
class StoreDay:
    """One store's bookings of one KST day, in visit order."""

    store_id: str
    store_name: str
    day: str  # YYYY-MM-DD
    bookings: tuple[BookingLine, ...]


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """The history page's filters: KST days (inclusive), a store, a delivery status."""

    first_day: str  # YYYY-MM-DD
    last_day: str  # YYYY-MM-DD, at most 31 days after first_day
    store_id: str | None = None
    status: str | None = None  # accepted, delivered, failed or unknown


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """One message sent, as the history page and its CSV show it (phone masked)."""

    sent_at: datetime  # KST
    store_id: str
    store_name: str
    booking_num: str
    phone: str
    message: str
    channel: str
    status: str  # accepted, delivered, failed or unknown
    result: str  # the provider's words
    checked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TestSend:
    """A test message that left: what it was and how many test sends are left today."""

    store_id: str
    message: str
    to: str  # masked
    channel: str
    text: str
    left_today: int


@dataclass(frozen=True, slots=True)
class LoginState:
    """The Naver login as the login page shows it. No cookie value, ever."""

    stored: bool  # a session is stored
    valid: bool | None  # Naver accepted it just now (None: not checked, see `problem`)
    problem: str = ""  # why it could not be checked, or what Naver said
    saved_at: datetime | None = None  # when it was stored (KST), when known
    cookie_names: tuple[str, ...] = ()
    login_needed: str = ""  # the last cycle met a challenge: a person must log in (its words)
    login_needed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OptOut:
    phone: str  # masked
    since: datetime | None


@dataclass(frozen=True, slots=True)
class Rehearsal:
    """A dry-run cycle: the report's dict (`CycleReport.to_dict()` plus `dry_run`)."""

    at: datetime
    report: dict[str, Any] = field(default_factory=dict)


class OwnerPort(Protocol):
    """Everything the owner's pages read and do. `now` is always a parameter.

    The pages call it from the web server's thread pool, several calls at once
    (a dry run never holds another tab): an implementation must be safe for
    that, with what it reads and then writes under a lock.
    """

    def store_names(self) -> dict[str, str]:
        """{store id: store name} in the config's order."""
        ...

    def today(self, now: datetime, days: int = 2) -> list[StoreDay]:
        """Each store's bookings of today and the next `days - 1` days, every message's state."""
        ...

    def history(self, query: HistoryFilter) -> list[HistoryLine]:
        """The messages sent on those days (newest first); WebUserError on a bad filter."""
        ...

    def history_csv(self, query: HistoryFilter) -> str:
        """The same lines as CSV (UTF-8 with a BOM so spreadsheet programs read Korean)."""
        ...

    def templates(self) -> list[CheckRow]:
        """Every store x message rendered with a sample booking (`templates check`)."""
        ...

    def test_send(self, store_id: str, message: str, to: str, now: datetime) -> TestSend:
        """Send one rendered message to `to`, recorded on no booking; a few a day at most."""
        ...

    def test_sends_left(self, now: datetime) -> int: ...

    def login_state(self, now: datetime, *, check: bool = True) -> LoginState:
        """The stored session; with `check`, one cheap booking API request tests it."""
        ...

    def login_banner(self) -> str:
        """Why the last cycle wants a person to log in to Naver ("" when it does not):
        the banner of every page, one small read."""
        ...

    def paste_cookies(self, text: str, now: datetime) -> LoginState:
        """Store cookies exported from the browser (JSON); WebUserError when unusable."""
        ...

    def optouts(self) -> list[OptOut]: ...

    def add_optout(self, phone: str) -> str:
        """Add a number to the 080 list; the masked number. WebUserError when not mobile."""
        ...

    def remove_optout(self, phone: str) -> str: ...

    def rehearse(self, now: datetime) -> Rehearsal:
        """One dry-run cycle: what would be sent now, nothing sent, nothing marked sent."""
        ...
