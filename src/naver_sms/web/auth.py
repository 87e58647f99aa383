"""Who may use the owner's page: one password, a signed session, CSRF tokens, slowed guessing.

The session lives in a cookie signed by Starlette's `SessionMiddleware`
(itsdangerous): HttpOnly, SameSite=Strict, Secure when the page is served
beyond this machine. The signing key is made at start-up, so a restart signs
everyone out: nothing to store, nothing to leak. The session is idle-expired
by the app's own clock (`SESSION_IDLE`), so a page left open on a shop's
counter does not stay signed in for days.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

__all__ = [
    "CSRF_FIELD",
    "FIRST_WAIT",
    "FREE_FAILURES",
    "MAX_WAIT",
    "SESSION_COOKIE",
    "SESSION_IDLE",
    "LoginThrottle",
    "csrf_token",
    "csrf_valid",
    "has_signed_in",
    "is_signed_in",
    "password_matches",
    "sign_in",
    "sign_out",
]

SESSION_COOKIE: Final = "naver_sms_session"
CSRF_FIELD: Final = "csrf"
# A signed-in page unused this long asks for the password again.
SESSION_IDLE: Final = timedelta(hours=12)
# Failed logins from one address before each next attempt has to wait.
FREE_FAILURES: Final = 3
# The wait after the last free failure; it doubles with each further one.
FIRST_WAIT: Final = timedelta(seconds=5)
# The longest wait: long enough to make guessing hopeless, short enough for an owner.
MAX_WAIT: Final = timedelta(minutes=15)

_SIGNED_IN: Final = "signed_in_at"
_SEEN: Final = "seen_at"

Session = MutableMapping[str, Any]


def password_matches(given: str, expected: str) -> bool:
    """Compared in constant time: how long a wrong guess takes says nothing about the password."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def csrf_token(session: Session) -> str:
    """The session's CSRF token, made on first use; every form carries it."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def csrf_valid(session: Session, sent: object) -> bool:
    """Whether a form's token is this session's: a page of another site cannot know it."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str) or not token or not isinstance(sent, str):
        return False
    return hmac.compare_digest(token.encode("utf-8"), sent.encode("utf-8"))


def sign_in(session: Session, now: datetime) -> None:
    """A fresh session (new CSRF token): a token seen before the login is worth nothing after."""
    session.clear()
    session[_SIGNED_IN] = now.isoformat()
    session[_SEEN] = now.isoformat()
    csrf_token(session)


def sign_out(session: Session) -> None:
    session.clear()


def has_signed_in(session: Session) -> bool:
    """Whether the session was signed in (the page's menu shows); `is_signed_in` decides access."""
    return _SIGNED_IN in session


def is_signed_in(session: Session, now: datetime) -> bool:
    """Signed in and used within `SESSION_IDLE`; each use keeps it alive, expiry clears it."""
    seen = session.get(_SEEN)
    if not isinstance(seen, str) or _SIGNED_IN not in session:
        return False
    try:
        last = datetime.fromisoformat(seen)
    except ValueError:
        session.clear()
        return False
    if last.tzinfo is None or not timedelta(0) <= now - last <= SESSION_IDLE:
        # A time from the future means a wrong clock or a forged value: sign in again.
        session.clear()
        return False
    session[_SEEN] = now.isoformat()
    return True


@dataclass
class _Failures:
    count: int = 0
    last: datetime | None = None


@dataclass
class LoginThrottle:
    """Failed logins per client address: after `FREE_FAILURES`, each attempt must wait longer.

    The wait doubles with each failure (5 s, 10 s, 20 s, ... up to `MAX_WAIT`)
    and counts from the last failure; an attempt during the wait is refused
    without looking at the password, so a guesser gains nothing by hurrying.
    A success forgets the address. Kept in memory: a restart forgets too,
    and that is fine for one shop's page.
    """

    now: Callable[[], datetime]
    _failures: dict[str, _Failures] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, client: str) -> timedelta:
        """How long `client` must still wait before its next attempt counts (zero: go ahead)."""
        with self._lock:
            failures = self._failures.get(client)
            if failures is None or failures.count < FREE_FAILURES or failures.last is None:
                return timedelta(0)
            doublings = min(failures.count - FREE_FAILURES, 16)
            delay = min(FIRST_WAIT * (1 << doublings), MAX_WAIT)
            left = failures.last + delay - self.now()
            return max(left, timedelta(0))

    def failed(self, client: str) -> int:
        """Count one failure; the number of failures in a row from `client`."""
        with self._lock:
            failures = self._failures.setdefault(client, _Failures())
            failures.count += 1
            failures.last = self.now()
            if len(self._failures) > 10_000:
                # Many addresses at once is an attack, not an owner: drop the oldest.
                del self._failures[next(iter(self._failures))]
            return failures.count

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)
