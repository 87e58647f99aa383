"""What one cycle did, typed: the items of the report and the exit codes, defined once.

The cycle fills a `CycleReport` with these items; `to_dict()` turns them into
the JSON report of `docs/interfaces.md` only at the edges (the CLI, the
Lambda result, the log line, the metrics, Telegram).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Protocol, Self

from naver_sms.domain.booking import KST, Booking, mask_phone
from naver_sms.domain.delivery import SentMessage
from naver_sms.domain.messages import Channel, MessageKind
from naver_sms.utils.scrub import scrub_data

# The process exit codes, for every command and the Lambda's report.
EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1  # something failed; the next cycle tries again
EXIT_USAGE: Final = 2  # a usage or configuration mistake: nothing ran
EXIT_CHALLENGE: Final = 3  # Naver wants a person to log in


class Reasoned(Protocol):
    """A message of the plan: its name and why it is due, held or skipped."""

    @property
    def name(self) -> str: ...

    @property
    def why(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Item:
    """One message of one booking in the report: masked phone only."""

    booking_num: str
    phone_masked: str
    kind: str
    why: str
    store: str | None = None

    @classmethod
    def of(cls, booking: Booking, message: Reasoned, **more: Any) -> Self:
        """The item for `booking`'s `message` (a due or held one); `why` defaults to its reason."""
        more.setdefault("why", message.why)
        return cls(
            booking_num=booking.booking_num,
            phone_masked=mask_phone(booking.phone),
            kind=message.name,
            **more,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "booking_num": self.booking_num,
            "phone_masked": self.phone_masked,
            "kind": self.kind,
        }
        if self.store is not None:
            data["store"] = self.store
        data.update(self._more())
        data["why"] = self.why
        return data

    def _more(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, slots=True)
class Sent(Item):
    """Accepted by the provider (recorded, or in a dry run only written to the outbox)."""

    request_id: str = ""
    channel: str = ""  # sms, lms or alimtalk
    dry_run: bool = False
    # What had to change in Naver's values for the text to go.
    adjusted: tuple[str, ...] = ()
    note: str | None = None

    def _more(self) -> dict[str, Any]:
        more: dict[str, Any] = {"request_id": self.request_id}
        if self.channel:
            more["channel"] = self.channel
        if self.dry_run:
            more["dry_run"] = True
        if self.adjusted:
            more["adjusted"] = list(self.adjusted)
        if self.note is not None:
            more["note"] = self.note
        return more


@dataclass(frozen=True, slots=True)
class Failed(Item):
    """Not sent this cycle (or sent and not recorded); `error` says which and why."""

    error: str = ""

    def _more(self) -> dict[str, Any]:
        return {"error": self.error}


@dataclass(frozen=True, slots=True)
class Held(Item):
    """Not due, or held back this cycle, with the reason."""


@dataclass(frozen=True, slots=True)
class Unclear(Item):
    """The provider's answer was lost: the claim is kept and the provider asked later."""


@dataclass(frozen=True, slots=True)
class Invalid:
    """A booking Naver showed that cannot be used (its reason; a masked phone)."""

    booking_num: str
    reason: str
    phone_masked: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Invalid:
        masked = data.get("phone_masked")
        return cls(
            booking_num=str(data.get("booking_num", "")),
            reason=str(data.get("reason", "")),
            phone_masked=str(masked) if masked else None,
        )

    def to_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {"booking_num": self.booking_num, "reason": self.reason}
        if self.phone_masked:
            item["phone_masked"] = self.phone_masked
        return item


@dataclass(frozen=True, slots=True)
class CycleError:
    """Something that cost a store (or, with `shop` None, the whole cycle) this cycle."""

    shop: str | None
    error: str

    def to_dict(self) -> dict[str, str]:
        return {"store": self.shop or "", "error": self.error}


@dataclass
class CycleReport:
    """What one cycle did. `to_dict()` is the `run --json` and Lambda result."""

    now: datetime
    stores: int = 0
    bookings: int = 0
    sent: list[Sent] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    invalid: list[Invalid] = field(default_factory=list)
    errors: list[CycleError] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    unclear: list[Unclear] = field(default_factory=list)
    # Messages of this or earlier cycles whose final result came in this cycle.
    delivered: list[SentMessage] = field(default_factory=list)
    undelivered: list[SentMessage] = field(default_factory=list)
    dry_run: bool = False
    adopted: int = 0
    rescheduled: int = 0
    created: int = 0
    login_challenge: bool = False
    duration_ms: int = 0

    @property
    def exit_code(self) -> int:
        if self.login_challenge:
            return EXIT_CHALLENGE
        # An unclear send is not a failed one (nothing is resent blind), but the
        # operator should know SENS's answers are getting lost.
        return EXIT_FAILURE if self.failed or self.errors or self.unclear else EXIT_OK

    def sent_by_channel(self) -> dict[str, int]:
        """How many went by each channel (every channel present, zeros included):
        what the cycle cost depends on it."""
        counts = {channel.value: 0 for channel in Channel}
        for item in self.sent:
            if item.channel in counts:
                counts[item.channel] += 1
        return counts

    def sent_by_kind(self) -> dict[str, int]:
        """How many of each message were sent (the seed's three always present)."""
        counts = {kind.value: 0 for kind in MessageKind}
        for item in self.sent:
            counts[item.kind] = counts.get(item.kind, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        # Everything here leaves the process (CLI, log, Lambda result, Telegram):
        # a vendor's error text may echo a cookie or a key, so it is scrubbed once here.
        return scrub_data(  # type: ignore[no-any-return]
            {
                "dry_run": self.dry_run,
                "now": self.now.astimezone(KST).isoformat(timespec="seconds"),
                "stores": self.stores,
                "bookings": self.bookings,
                "sent": [item.to_dict() for item in self.sent],
                "failed": [item.to_dict() for item in self.failed],
                "invalid": [item.to_dict() for item in self.invalid],
                "duration_ms": self.duration_ms,
                "errors": [item.to_dict() for item in self.errors],
                "held": [item.to_dict() for item in self.held],
                "unclear": [item.to_dict() for item in self.unclear],
                "delivered": [item.to_dict() for item in self.delivered],
                "undelivered": [item.to_dict() for item in self.undelivered],
                "sent_by_channel": self.sent_by_channel(),
                "created": self.created,
                "adopted": self.adopted,
                "rescheduled": self.rescheduled,
                "exit_code": self.exit_code,
            }
        )
