"""The messaging ports: an SMS sender and an operator notifier, and their errors.

A new SMS provider is a new module implementing `SmsSender`; nothing above the
adapters sees a vendor's exceptions, only `SendRejected` and `SendFailed`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from naver_sms.domain.delivery import DeliveryResult
from naver_sms.domain.messages import Message
from naver_sms.utils.scrub import mask_phones_in, scrub

__all__ = [
    "Notifier",
    "NullNotifier",
    "SendError",
    "SendFailed",
    "SendRejected",
    "SendResult",
    "SendUnclear",
    "SenderRefused",
    "SmsSender",
    "mask_phones_in",
]


class SendError(Exception):
    """A batch the provider did not accept. `retryable` says whether a later cycle may try again."""

    retryable = False

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        # A provider's words may echo what was sent (a number, a key): scrubbed.
        self.reason = scrub(reason)
        self.status = status
        super().__init__(self.reason if status is None else f"HTTP {status}: {self.reason}")


class SendRejected(SendError):
    """The provider refused the request (signature, unregistered sender, size): not retried."""


class SenderRefused(SendRejected):
    """The provider refuses the sender number itself (not registered): every message of
    that store and number fails the same way until the owner fixes it, so the cycle
    reports it once per store and number and sends none of them."""

    def __init__(self, reason: str, *, sender: str, status: int | None = None) -> None:
        self.sender = sender
        super().__init__(reason, status=status)


class SendFailed(SendError):
    """The request certainly did not reach the provider, or was refused as too early
    (connection refused, 429): nothing was accepted, a later cycle tries again."""

    retryable = True


class SendUnclear(SendError):
    """The provider may have accepted the request: its answer was lost (a read timeout,
    a dropped connection, a 5xx after sending, a 2xx that is not an acceptance).

    Not a failure: the claims are kept and marked unclear, and before any of
    these messages is sent again the provider is asked which it accepted
    (`SmsSender.find_accepted`).
    """

    retryable = True


@dataclass(frozen=True, slots=True)
class SendResult:
    """What became of one message: accepted with the provider's request id, or an error."""

    message: Message
    request_id: str | None = None
    error: SendError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.request_id is not None

    @property
    def unclear(self) -> bool:
        return isinstance(self.error, SendUnclear)


@runtime_checkable
class SmsSender(Protocol):
    """Sends messages to phones. Never raises for a provider's answer.

    `reaches_phones` is True only for a sender whose acceptance means a text
    goes to a phone (SENS, or a loopback SENS in tests); the cycle records a
    message as sent only on such a sender's acceptance (the outbox is False).
    """

    reaches_phones: bool

    def send(self, messages: Sequence[Message]) -> list[SendResult]:
        """Every request's results, one per message, in the messages' order."""
        ...

    def send_requests(self, messages: Sequence[Message]) -> Iterator[list[SendResult]]:
        """Sends lazily, one provider request per step, and yields that request's results.

        Every message's final result is yielded exactly once. The caller marks
        each request's messages as soon as they come back, and may stop
        iterating (a deadline, the advertising window): what was not yielded
        was not sent.
        """
        ...

    def find_accepted(
        self,
        messages: Sequence[Message],
        start: datetime,
        end: datetime,
        *,
        exclude: Collection[str] = (),
    ) -> list[str | None]:
        """For each message, the request id under which the provider accepted a message
        like it (same recipient, sender, type and content type) between `start` and
        `end` (the real time, the provider's clock), or None. Requests in `exclude`
        (already recorded for other messages) never match. Raises SendFailed when
        the provider cannot be asked; the caller then sends none of them."""
        ...

    def opted_out(self) -> dict[str, datetime | None]:
        """The numbers (stored form) that opted out of advertising through the provider's
        080 line, with when (None when unknown). Raises SendFailed when the list cannot be
        read whole: advertising then waits (the law's opt-out must be honoured)."""
        ...

    def message_ids(self, request_id: str) -> dict[str, list[str]]:
        """The provider's message ids of an accepted request, by recipient in the records'
        stored form (`010-0000-1234`), in the provider's order. Raises SendFailed when it
        cannot be asked."""
        ...

    def delivery(self, message_id: str) -> DeliveryResult:
        """One message's result now (`ACCEPTED` while not final). Raises SendFailed when
        the provider cannot be asked or does not know the message (yet)."""
        ...


class SenderBase:
    """`send` from `send_requests`, and `find_accepted` for a sender whose answers are
    never lost (nothing to find). Real adapters override what they know better."""

    reaches_phones: bool = False

    def send_requests(self, messages: Sequence[Message]) -> Iterator[list[SendResult]]:
        raise NotImplementedError

    def send(self, messages: Sequence[Message]) -> list[SendResult]:
        order = {id(message): index for index, message in enumerate(messages)}
        results: list[SendResult | None] = [None] * len(messages)
        for request in self.send_requests(messages):
            for result in request:
                results[order[id(result.message)]] = result
        return [result for result in results if result is not None]

    def find_accepted(
        self,
        messages: Sequence[Message],
        start: datetime,
        end: datetime,
        *,
        exclude: Collection[str] = (),
    ) -> list[str | None]:
        return [None] * len(messages)

    def opted_out(self) -> dict[str, datetime | None]:
        """A sender without an 080 line knows no opt-out (the outbox of a rehearsal)."""
        return {}

    def message_ids(self, request_id: str) -> dict[str, list[str]]:
        raise SendFailed(f"{type(self).__name__} cannot look up delivery results")

    def delivery(self, message_id: str) -> DeliveryResult:
        raise SendFailed(f"{type(self).__name__} cannot look up delivery results")


@runtime_checkable
class Notifier(Protocol):
    """The operator's channel. Never raises: a notifier failure must not fail a cycle."""

    def summary(self, report: Mapping[str, Any]) -> bool:
        """Posts a cycle report (the `run --json` shape) when it sent or failed anything."""
        ...

    def alert(self, text: str, *, every: timedelta | None = None) -> bool:
        """Posts an alert (a login challenge, a store that cannot be fetched).

        The same text goes at most once per `every` (the notifier's default,
        six hours, when None), so a fault that lasts does not flood the chat.
        """
        ...


class NullNotifier:
    """The notifier when no operator channel is configured."""

    def summary(self, report: Mapping[str, Any]) -> bool:
        return False

    def alert(self, text: str, *, every: timedelta | None = None) -> bool:
        return False
