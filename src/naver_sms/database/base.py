"""The ports: what the rest of naver-sms asks of a booking store and a session store.

The names and meanings are the seed's (`docs/interfaces.md`, "Stored records"), plus what the cycle
needs for exactly-once sending (claim -> send -> mark, or release).

A *claim* is held on one flag of one record by an owner until an expiry. It
can be taken only while the flag is false and no live claim exists, so of
several cycles racing for the same message exactly one sends it. `now` is
always passed in: stores never read the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, NamedTuple, Protocol

from naver_sms.domain.booking import BookingKey
from naver_sms.domain.delivery import DeliveryUpdate
from naver_sms.domain.record import (
    claim_attributes,
    sent_attributes,
    skipped_attribute,
    unclear_attribute,
)
from naver_sms.domain.session import Session

if TYPE_CHECKING:
    from naver_sms.database.exceptions import RepositoryError

__all__ = [
    "DEFAULT_LEASE",
    "LOGIN_NEEDED_NOTE",
    "READ_BATCH_KEYS",
    "WRITE_BATCH",
    "BookingKey",
    "BookingRepositoryPort",
    "ClaimRequest",
    "MarkRequest",
    "NewRecord",
    "SessionRepositoryPort",
    "claim_attributes",
    "sent_attributes",
    "skipped_attribute",
    "unclear_attribute",
    "visit_order",
]


DEFAULT_LEASE: Final = timedelta(minutes=10)
# Keys a caller gives one get_bookings call at most: DynamoDB's BatchGetItem limit,
# so each call is one request and calls can go side by side.
READ_BATCH_KEYS: Final = 100
# Writes one batch request carries at most: DynamoDB's TransactWriteItems limit.
WRITE_BATCH: Final = 100


class NewRecord(NamedTuple):
    """A booking to store, as `create_booking` takes it, with what its cycle already knows.

    `claim`: the flag of its first due message, whose claim the record is
    stored with (one write instead of two); `skipped`: (flag, reason) of the
    messages whose moment passed for good, recorded as `mark_skipped` would.
    """

    data: Mapping[str, Any]
    claim: str | None = None
    skipped: tuple[tuple[str, str], ...] = ()


class ClaimRequest(NamedTuple):
    booking_num: str
    phone: str
    flag: str


class MarkRequest(NamedTuple):
    """One accepted message to record, as `mark_sent` takes it."""

    booking_num: str
    phone: str
    flag: str
    request_id: str
    channel: str | None = None


class BookingRepositoryPort(Protocol):
    # Whether `create_bookings` stores a record with its first claim in the same
    # write. The unit tests' fake says False by default, so they see (and can fail)
    # each create and claim on its own; then the cycle asks for no claim there.
    @property
    def folds_claims(self) -> bool: ...

    def get_booking(self, booking_num: str, phone: str) -> dict[str, Any] | None:
        """The record as a dict, or None when there is none."""
        ...

    def get_bookings(self, keys: Iterable[BookingKey]) -> dict[BookingKey, dict[str, Any]]:
        """Many records at once, keyed by (booking_num, normalised phone); absent ones left out."""
        ...

    def create_booking(self, booking_data: Mapping[str, Any]) -> bool:
        """Store a new record. False when the key exists: a record is never overwritten."""
        ...

    def update_flag(self, booking_num: str, phone: str, flag: str, value: bool) -> bool:
        """Set one flag of an existing record. False when there is no such record."""
        ...

    def reschedule(
        self,
        booking_num: str,
        phone: str,
        booking_time: str,
        *,
        reset: Iterable[str] = ("remind_sms",),
        moved_from: str | None = None,
    ) -> bool:
        """Store a new visit time and reset the flags of `reset` (default: the reminder),
        so the new time gets its own messages; with `moved_from`, the old time is kept
        as the record's `moved_from` (a change notice that waits still tells it).

        Any live claim of those flags, and any lost answer of their old messages
        (`{flag}_unclear`), is dropped too: they were for the old time, and a lost
        answer kept would let the new time's message be taken for the old.
        False when there is no such record or the time is the same.
        """
        ...

    def list_bookings(
        self, biz_id: str | None = None, day: str | None = None
    ) -> list[dict[str, Any]]:
        """Records of one store and/or one KST day (`YYYY-MM-DD`), in visit order."""
        ...

    def scan_unnotified_options(self) -> dict[str, dict[str, str]]:
        """{biz_id: {"start_time", "end_time"}} over the records whose option_sms is false.

        The window runs from the earliest to the latest booking_time of the
        store's records, as UTC instants `YYYY-MM-DDTHH:MM:SS.000Z`.
        """
        ...

    def claim(
        self,
        booking_num: str,
        phone: str,
        flag: str,
        owner: str,
        now: datetime,
        lease: timedelta = DEFAULT_LEASE,
    ) -> bool:
        """Take the right to send `flag`'s message. True for exactly one of racing owners."""
        ...

    def mark_sent(
        self,
        booking_num: str,
        phone: str,
        flag: str,
        owner: str,
        request_id: str,
        now: datetime,
        *,
        channel: str | None = None,
    ) -> bool:
        """Flag true, request id and time recorded, claim removed. False unless `owner` holds it.

        With `channel` (`sms`, `lms`) the message's delivery is tracked from here:
        `{flag}_channel`, `{flag}_status` = `accepted`, and the record joins the
        delivery queue due one minute later (`delivery.first_check`); the day's
        history entry is written too (best effort: a settled check writes it again).
        """
        ...

    def due_deliveries(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        """Records in the delivery queue whose next check is due at `now`, the earliest
        due first, at most `limit`. May lag the last writes by a moment (an index)."""
        ...

    def record_delivery(self, update: DeliveryUpdate) -> bool:
        """Apply a delivery check's update if the record still holds the statuses in
        `update.expected`; False when it does not (or there is no such record)."""
        ...

    def sent_on(self, day: str, biz_id: str | None = None) -> list[dict[str, Any]]:
        """The records (of one store, if given) with a message sent on KST `day`
        (`YYYY-MM-DD`), in no particular order: the history's input."""
        ...

    # Many at once: one request per batch where the store can (a DynamoDB transaction,
    # one SQLite transaction), each item under its own condition. Results are in the
    # items' order, each what the single method returns (True/False), or the
    # RepositoryError that item met: one item's trouble never costs the others.

    def create_bookings(
        self,
        records: Sequence[NewRecord],
        owner: str,
        now: datetime,
        lease: timedelta = DEFAULT_LEASE,
    ) -> list[bool | RepositoryError]:
        """`create_booking` of each, with its `claim` held by `owner` until `now + lease`
        and its `skipped` recorded. True: stored by this call, so the claim is `owner`'s;
        False: the key exists (nothing written, no claim taken)."""
        ...

    def claim_many(
        self,
        claims: Sequence[ClaimRequest],
        owner: str,
        now: datetime,
        lease: timedelta = DEFAULT_LEASE,
    ) -> list[bool | RepositoryError]:
        """`claim` of each."""
        ...

    def mark_sent_many(
        self, marks: Sequence[MarkRequest], owner: str, now: datetime
    ) -> list[bool | RepositoryError]:
        """`mark_sent` of each (history entries written together, best effort)."""
        ...

    def record_deliveries(self, updates: Sequence[DeliveryUpdate]) -> list[bool | RepositoryError]:
        """`record_delivery` of each: False where the record no longer holds the statuses
        in its `expected` (or is gone), the others applied all the same. The days'
        history entries of the applied ones are written together (best effort)."""
        ...

    def release(self, booking_num: str, phone: str, flag: str, owner: str) -> bool:
        """Give a claim back (the send failed). False unless `owner` held it."""
        ...

    def mark_skipped(self, booking_num: str, phone: str, flag: str, reason: str) -> bool:
        """Record that `flag`'s message will never be sent, and why (its moment passed
        for good): `{flag}_skipped`. The flag stays false. False when there is no such
        record or the flag is true (the message went after all)."""
        ...

    def mark_unclear(
        self, booking_num: str, phone: str, flag: str, owner: str, window: str
    ) -> bool:
        """Record that `flag`'s message may have been accepted (the provider's answer was
        lost) between the real instants of `window` (`"{start_ms}-{end_ms}"`, epoch ms).

        The claim is kept (it expires with its lease). Until the flag is true, any
        later cycle asks the provider about that window before sending again.
        False unless `owner` holds the claim.
        """
        ...


# The note a login that met a challenge leaves: values `reason` and `at` (KST ISO).
LOGIN_NEEDED_NOTE: Final = "login_needed"


class SessionRepositoryPort(Protocol):
    """The Naver login session, and small notes kept next to it.

    A *note* is a few named strings (say, that the last login met a
    challenge, or how many test sends went today): short lived state the
    owner's page shows, kept where the session is so both stores have it.
    """

    def get_session(self) -> Session | None:
        """The stored session with its `saved_at` (KST; None if stored by an older version)."""
        ...

    def save_session(self, cookies: str, now: datetime | None = None) -> bool:
        """Store the cookies JSON string, replacing any stored session (no merge).

        `saved_at` is `now` (None: the real clock; the one store call that reads
        it, for the callers that only paste cookies). Clears the login-needed
        note: a stored session means a login worked or a person acted.
        """
        ...

    def delete_session(self) -> bool: ...

    def get_note(self, name: str) -> dict[str, str] | None:
        """The note's values, or None when there is none. `name` is `[a-z_]+` (ValueError)."""
        ...

    def put_note(self, name: str, values: Mapping[str, str] | None) -> None:
        """Replace the note's values (None deletes it). `name` is `[a-z_]+` (ValueError).

        The caller's duty: values never hold a cookie value, a password or a
        full phone number. Notes are plain stored text, shown on the owner's page.
        """
        ...

    def note_login_needed(self, reason: str, at: datetime) -> None:
        """Note that a login met a challenge at `at` (`reason`: its words, no secret)."""
        ...

    def login_needed(self) -> tuple[str, datetime] | None:
        """(reason, when) of the challenge noted since the last saved session, or None."""
        ...


def visit_order(record: Mapping[str, Any]) -> tuple[str, str, str]:
    """Sort key of listed records: visit time, then booking number and phone."""
    return (
        str(record.get("booking_time", "")),
        str(record.get("booking_num", "")),
        str(record.get("phone", "")),
    )
