"""Cookie exports in, masked cookie listings out: what `naver-sms session` works with.

An export is what a browser extension, Selenium or Playwright writes: a JSON
array of cookie objects (`name`, `value`, optionally `domain`, `path`,
`expiry` / `expires` / `expirationDate`, `httpOnly`, `secure`, ...), or a
Playwright storage state (`{"cookies": [...], "origins": [...]}`). Naver's
cookies are kept as exported (only their validity is checked); other sites'
cookies in the export are left out and their domains reported
(`domain/session.py` says which count). No message here ever quotes a
cookie value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from naver_sms.domain.booking import KST
from naver_sms.domain.session import (
    LOGIN_COOKIES,
    SessionValidationError,
    load_cookies_json,
    split_cookies,
)

__all__ = [
    "CookieExport",
    "CookieInfo",
    "cookie_infos",
    "read_cookie_export",
]

# RFC 6265 token characters for a name; a value may not hold ; , space, quotes or controls.
_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_VALUE = re.compile(r"^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$")


@dataclass(frozen=True, slots=True)
class CookieExport:
    """The Naver cookies of an export, and the domains of the other sites' cookies left out."""

    cookies: list[dict[str, Any]]
    ignored_domains: list[str]


def read_cookie_export(text: str) -> CookieExport:
    """The export's Naver cookies, validated, and what was left out; SessionValidationError
    (one line, naming the problem and what to do) when it holds no usable Naver login."""
    data = load_cookies_json(text)
    if isinstance(data, dict) and isinstance(data.get("cookies"), list):
        data = data["cookies"]  # Playwright's storage state
    cookies, ignored = split_cookies(data)
    if not cookies:
        if ignored:
            raise SessionValidationError(
                f"none of the cookies is for naver.com (found {', '.join(ignored[:5])}): "
                "export the cookies of a browser logged in to naver.com"
            )
        raise SessionValidationError("the cookie array is empty")
    # Errors name a cookie by its place in the file the user has open.
    exported: list[Any] = data if isinstance(data, list) else []
    places = {id(cookie): index for index, cookie in enumerate(exported)}
    for cookie in cookies:
        index = places[id(cookie)]
        name = cookie["name"]
        if not _NAME.match(name):
            raise SessionValidationError(f"cookie #{index} has an invalid name {name[:40]!r}")
        if not _VALUE.match(cookie["value"]):
            raise SessionValidationError(
                f"cookie #{index} ({name}) has a value a Cookie header cannot carry"
            )
    names = {cookie["name"] for cookie in cookies}
    missing = [name for name in LOGIN_COOKIES if name not in names]
    if missing:
        elsewhere = f" (other sites' cookies left out: {', '.join(ignored[:5])})" if ignored else ""
        raise SessionValidationError(
            f"no {' or '.join(missing)} cookie for naver.com{elsewhere}: export the cookies of "
            "a browser logged in to naver.com (NID_AUT and NID_SES are the login)"
        )
    return CookieExport(cookies=cookies, ignored_domains=ignored)


@dataclass(frozen=True, slots=True)
class CookieInfo:
    """What `session show` prints of one cookie: never its value, only its length."""

    name: str
    domain: str
    expires: datetime | None  # None: a session cookie or no expiry given
    value_length: int

    @property
    def masked_value(self) -> str:
        return f"*** ({self.value_length} chars)"

    def expires_text(self) -> str:
        return "session" if self.expires is None else self.expires.strftime("%Y-%m-%d %H:%M KST")


def _expiry(cookie: dict[str, Any]) -> datetime | None:
    for key in ("expiry", "expires", "expirationDate"):
        value = cookie.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            continue
        seconds = value / 1000 if value > 100_000_000_000 else value  # some tools write ms
        try:
            return datetime.fromtimestamp(seconds, UTC).astimezone(KST)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def cookie_infos(cookies: list[dict[str, Any]]) -> list[CookieInfo]:
    return [
        CookieInfo(
            name=str(cookie.get("name", "")),
            domain=str(cookie.get("domain") or "-"),
            expires=_expiry(cookie),
            value_length=len(str(cookie.get("value", ""))),
        )
        for cookie in cookies
    ]
