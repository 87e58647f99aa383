"""Small in-memory stand-ins for the ports, for unit tests (no I/O).

Keep this a plain module of small classes; add a fake next to the others.
"""

from __future__ import annotations

from naver_sms.domain.session import Session, parse_cookies


class MemorySessionStore:
    """A SessionStore in a dict, counting calls so tests can assert what happened."""

    def __init__(self, cookies: str | None = None) -> None:
        if cookies is not None:
            parse_cookies(cookies)
        self.cookies = cookies
        self.saves = 0
        self.deletes = 0

    def get_session(self) -> Session | None:
        return None if self.cookies is None else Session(cookies=self.cookies)

    def save_session(self, cookies: str) -> bool:
        parse_cookies(cookies)
        self.cookies = cookies
        self.saves += 1
        return True

    def delete_session(self) -> bool:
        existed = self.cookies is not None
        self.cookies = None
        self.deletes += 1
        return existed
