"""The one scrubber for everything that leaves the process.

Reports, log lines (ours and third-party libraries'), CLI error lines,
Telegram messages and the outbox all pass through `scrub` / `scrub_data`:
Korean mobile numbers are masked (`010-****-5678`) and the values of every
known secret (SENS keys, the bot token, the Naver password, cookie values)
are removed wherever they appear, whatever key they sit under, and a Telegram
bot token in a URL path is removed even when nobody registered it. A vendor's
error body is quoted only through here, since it may echo what we sent.

Secrets are registered by value when they are read (config, cookies loaded
or saved); registering is cheap and idempotent, and values too short to be
secret (under 6 characters) are ignored so that "a" never blanks a text.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any, Final

from naver_sms.domain.booking import mask_phone

__all__ = [
    "REDACTED",
    "mask_phones_in",
    "register_secret",
    "register_secrets",
    "scrub",
    "scrub_data",
]

REDACTED: Final = "***"
_MIN_SECRET_LENGTH: Final = 6

# A Korean mobile number anywhere in a text, with or without separators or +82. Not
# inside a run of ASCII letters and digits: that is an identifier (a provider's
# hexadecimal request id can hold "01012345678"), and masking it would break the
# trace from a report to the provider. Next to Hangul (a name) it is still masked.
_PHONE_IN_TEXT: Final = re.compile(
    r"(?<![0-9A-Za-z])(?:\+?82[\s\-.]?0?|0)1[016789][\s\-.]?[0-9]{3,4}[\s\-.]?[0-9]{4}"
    r"(?![0-9A-Za-z])"
)

# The Bot API puts the token in the URL path (`/bot123456:AA.../sendMessage`), so any
# logged URL would carry it, registered or not (a token typed into a test, a second bot).
_BOT_TOKEN_IN_URL: Final = re.compile(r"(?<=/bot)[0-9]+:[A-Za-z0-9_-]+")


class _Secrets:
    """The registered values and one pattern matching any of them, swapped under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: set[str] = set()
        self.pattern: re.Pattern[str] | None = None


_registry: Final = _Secrets()


def mask_phones_in(text: str) -> str:
    """`text` with every Korean mobile number masked."""
    return _PHONE_IN_TEXT.sub(lambda match: mask_phone(match.group(0)), text)


def register_secret(value: object) -> None:
    """Remember a secret value so that `scrub` removes it from any text from now on."""
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    if not isinstance(value, str) or len(value) < _MIN_SECRET_LENGTH:
        return
    with _registry.lock:
        if value in _registry.values:
            return
        _registry.values.add(value)
        # Longest first, so a secret that contains another is removed whole.
        ordered = sorted(_registry.values, key=len, reverse=True)
        _registry.pattern = re.compile("|".join(re.escape(secret) for secret in ordered))


def register_secrets(values: Iterable[object]) -> None:
    for value in values:
        register_secret(value)


def scrub(text: str) -> str:
    """`text` without any registered secret value and with phone numbers masked."""
    pattern = _registry.pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    return mask_phones_in(_BOT_TOKEN_IN_URL.sub(REDACTED, text))


def scrub_data(value: Any) -> Any:
    """`scrub` applied to every string inside dicts, lists and tuples (keys included)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub_data(k) if isinstance(k, str) else k: scrub_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub_data(v) for v in value]
    return value


def _forget_all() -> None:
    """Tests only: start from no registered secret."""
    with _registry.lock:
        _registry.values.clear()
        _registry.pattern = None
