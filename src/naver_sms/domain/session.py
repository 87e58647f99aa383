"""The Naver login session: the owner's cookies, kept as the seed's JSON string.

Only Naver's cookies belong here. A browser export holds every site's
cookies (a bank's, Google's); those are dropped when cookies are read, so
they are never stored and never sent anywhere. Which cookies count:

- a `domain` of `naver.com` or under it (`.naver.com`, `nid.naver.com`,
  `partner.booking.naver.com`);
- a `domain` that is a loopback host (`127.0.0.1`, `localhost`, `::1`):
  what the loopback sandbox issues and a browser login against it returns;
  such a cookie is only ever sent to a loopback host, so it cannot leave
  the machine;
- no `domain` at all (the seed's `{"name", "value"}` shape, hand-made
  exports): a host-only cookie of the host it was taken for, which is the
  booking API's, so it is sent to the configured booking host and nowhere
  else (`cookie_matches_host`). That host is the operator's setting
  (NAVER_BOOKING_URL), Naver's in production.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

SESSION_ID: Final = "1"  # the seed's single-record design
NAVER_DOMAIN: Final = "naver.com"


# Naver's login cookies: a session without both is no login at all.
LOGIN_COOKIES: Final = ("NID_AUT", "NID_SES")


class SessionValidationError(ValueError):
    """The cookies are not a JSON array of cookie objects.

    Messages never quote cookie values: they are credentials.
    """


def parse_cookies(cookies: str) -> list[dict[str, Any]]:
    """The cookie dicts of a cookies JSON string, validated."""
    return validate_cookies(load_cookies_json(cookies))


def load_cookies_json(cookies: str) -> object:
    """The decoded JSON of a cookies string; an error says where, never what."""
    if not isinstance(cookies, str):
        raise SessionValidationError(f"cookies must be a JSON string, got {type(cookies).__name__}")
    try:
        return json.loads(cookies)
    except json.JSONDecodeError as exc:
        raise SessionValidationError(
            f"cookies are not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})"
        ) from None


def validate_cookies(data: object) -> list[dict[str, Any]]:
    """The Naver cookies of `data`, a list of cookie objects with string names and values.

    Cookies of other sites are left out (see the module doc); use
    `split_cookies` to learn which.
    """
    return split_cookies(data)[0]


def split_cookies(data: object) -> tuple[list[dict[str, Any]], list[str]]:
    """(the Naver cookies of `data`, the domains of the cookies left out, each once).

    Raises SessionValidationError when `data` is not a list of cookie
    objects with string names and values.
    """
    if not isinstance(data, list):
        raise SessionValidationError(
            f"cookies must be a JSON array of cookie objects, got a JSON {_json_kind(data)}"
        )
    kept: list[dict[str, Any]] = []
    dropped: list[str] = []
    for index, cookie in enumerate(data):
        if not isinstance(cookie, dict):
            raise SessionValidationError(
                f"cookie #{index} must be an object, got a JSON {_json_kind(cookie)}"
            )
        for key in ("name", "value"):
            if not isinstance(cookie.get(key), str):
                raise SessionValidationError(f"cookie #{index} has no string {key!r}")
        if is_session_cookie(cookie):
            kept.append(cookie)
        else:
            shown = _shown_domain(cookie.get("domain"))
            if shown not in dropped:
                dropped.append(shown)
    return kept, dropped


def cookie_domain(cookie: Mapping[str, Any]) -> str | None:
    """The host or domain a cookie belongs to, lower case without the leading dot.

    None when the cookie names none (a host-only cookie of wherever it came
    from). A domain that is not a string has no usable meaning: "" (no host).
    """
    domain = cookie.get("domain")
    if domain is None or domain == "":
        return None
    if not isinstance(domain, str):
        return ""
    return domain.strip().lower().lstrip(".").rstrip(".")


def is_naver_host(host: str) -> bool:
    """True for `naver.com` and every host under it (not `evilnaver.com`)."""
    host = host.lower().rstrip(".")
    return host == NAVER_DOMAIN or host.endswith("." + NAVER_DOMAIN)


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and loopback addresses (the sandbox's hosts)."""
    host = host.lower().strip("[]").rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_session_cookie(cookie: Mapping[str, Any]) -> bool:
    """True when the cookie may be kept as part of the Naver session."""
    domain = cookie_domain(cookie)
    if domain is None:
        return True
    return bool(domain) and (is_naver_host(domain) or is_loopback_host(domain))


def cookie_matches_host(cookie: Mapping[str, Any], host: str) -> bool:
    """True when `cookie` may be sent in a request to `host`.

    `host` is the booking API's host. A cookie goes only to a host its
    domain matches (the host itself or one under it), and only if it is a
    session cookie at all: a Naver cookie never reaches the loopback
    sandbox, and a sandbox cookie never reaches Naver. A cookie without a
    domain belongs to the booking host and goes to it.
    """
    host = host.lower().strip("[]").rstrip(".")
    if not host or not is_session_cookie(cookie):
        return False
    domain = cookie_domain(cookie)
    if domain is None:
        return True
    domain = domain.strip("[]")
    return host == domain or host.endswith("." + domain)


def _shown_domain(domain: object) -> str:
    # A domain is no secret, but it is the user's data: keep the line short.
    return domain[:60] if isinstance(domain, str) and domain else "(unreadable domain)"


def _json_kind(value: object) -> str:
    kinds = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return kinds.get(type(value), "number")


@dataclass(frozen=True, slots=True)
class Session:
    """A stored Naver session. `cookies` is the JSON array string of the seed.

    `saved_at` is when it was stored (KST): a login worked or a person pasted
    cookies then. None for a session stored by a version that did not keep it.
    """

    cookies: str
    session_id: str = SESSION_ID
    saved_at: datetime | None = None

    def get_cookies_list(self) -> list[dict[str, Any]]:
        return parse_cookies(self.cookies)

    def cookie_names(self) -> list[str]:
        return [str(cookie["name"]) for cookie in self.get_cookies_list()]

    def __repr__(self) -> str:
        # The dataclass repr would print the cookie values into any log or traceback.
        saved = self.saved_at.isoformat() if self.saved_at is not None else None
        return (
            f"Session(session_id={self.session_id!r}, cookies=<{len(self.cookies)} chars>, "
            f"saved_at={saved!r})"
        )
