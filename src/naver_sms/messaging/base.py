"""The messaging ports: an SMS sender and an operator notifier, and their errors.

A new SMS provider is a new module implementing `SmsSender`; nothing above the
adapters sees a vendor's exceptions, only `SendRejected` and `SendFailed`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from naver_sms.domain.booking import mask_phone
from naver_sms.domain.messages import Message

# A Korean mobile number anywhere in a provider's text, with or without separators.
_PHONE_IN_TEXT = re.compile(
    r"(?<![0-9])(?:\+?82[\s\-.]?0?|0)1[016789][\s\-.]?[0-9]{3,4}[\s\-.]?[0-9]{4}(?![0-9])"
)


def mask_phones_in(text: str) -> str:
    """`text` with every Korean mobile number masked (errors end up in reports and chats)."""
    return _PHONE_IN_TEXT.sub(lambda match: mask_phone(match.group(0)), text)


class SendError(Exception):
    """A batch the provider did not accept. `retryable` says whether a later cycle may try again."""

    retryable = False

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        self.reason = mask_phones_in(reason)
        self.status = status
        super().__init__(self.reason if status is None else f"HTTP {status}: {self.reason}")


class SendRejected(SendError):
    """The provider refused the request (signature, unregistered sender, size): not retried."""


class SendFailed(SendError):
    """The provider was unreachable, slow or failing (5xx, timeout): a later cycle tries again.

    A timeout may hide an accepted request; the record's request id (none here)
    is what makes such a case visible.
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


@runtime_checkable
class SmsSender(Protocol):
    """Sends a batch; one result per message, in order. Never raises for a provider's answer."""

    def send(self, messages: Sequence[Message]) -> list[SendResult]: ...


@runtime_checkable
class Notifier(Protocol):
    """The operator's channel. Never raises: a notifier failure must not fail a cycle."""

    def summary(self, report: Mapping[str, Any]) -> bool:
        """Posts a cycle report (the `run --json` shape) when it sent or failed anything."""
        ...

    def alert(self, text: str) -> bool:
        """Posts an alert (a login challenge, a store that cannot be fetched)."""
        ...


class NullNotifier:
    """The notifier when no operator channel is configured."""

    def summary(self, report: Mapping[str, Any]) -> bool:
        return False

    def alert(self, text: str) -> bool:
        return False
