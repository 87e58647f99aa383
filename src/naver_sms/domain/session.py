"""The Naver login session: the owner's cookies, kept as the seed's JSON string."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

SESSION_ID: Final = "1"  # the seed's single-record design


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
    """`data` if it is a list of cookie objects with string names and values."""
    if not isinstance(data, list):
        raise SessionValidationError(
            f"cookies must be a JSON array of cookie objects, got a JSON {_json_kind(data)}"
        )
    for index, cookie in enumerate(data):
        if not isinstance(cookie, dict):
            raise SessionValidationError(
                f"cookie #{index} must be an object, got a JSON {_json_kind(cookie)}"
            )
        for key in ("name", "value"):
            if not isinstance(cookie.get(key), str):
                raise SessionValidationError(f"cookie #{index} has no string {key!r}")
    return data


def _json_kind(value: object) -> str:
    kinds = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return kinds.get(type(value), "number")


@dataclass(frozen=True, slots=True)
class Session:
    """A stored Naver session. `cookies` is the JSON array string of the seed."""

    cookies: str
    session_id: str = SESSION_ID

    def get_cookies_list(self) -> list[dict[str, Any]]:
        return parse_cookies(self.cookies)

    def cookie_names(self) -> list[str]:
        return [str(cookie["name"]) for cookie in self.get_cookies_list()]

    def __repr__(self) -> str:
        # The dataclass repr would print the cookie values into any log or traceback.
        return f"Session(session_id={self.session_id!r}, cookies=<{len(self.cookies)} chars>)"
