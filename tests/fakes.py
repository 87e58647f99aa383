"""Small in-memory stand-ins for the ports, for unit tests (no I/O).

Keep this a plain module of small classes; add a fake next to the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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


class FakeElement:
    def __init__(self, browser: FakeBrowser, selector: str, text: str = "") -> None:
        self.browser = browser
        self.selector = selector
        self.text = text

    def is_displayed(self) -> bool:
        return True

    def click(self) -> None:
        self.browser.clicks.append(self.selector)
        self.browser.submit()


class FakeBrowser:
    """A scripted stand-in for a Selenium WebDriver on the Naver login form.

    `outcome` is what Naver does after the submit: "success" (the cookies of
    `issue_cookies()`), "captcha", "wrong_password", "device", or "nothing".
    It records what the Authenticator did: visited URLs, the values it set
    (as script arguments) and the clicks.
    """

    def __init__(self, outcome: str = "success", issue_cookies: Any = None) -> None:
        self.outcome = outcome
        self.issue_cookies = issue_cookies or (lambda: [])
        self.visited: list[str] = []
        self.scripts: list[tuple[str, tuple[Any, ...]]] = []
        self.clicks: list[str] = []
        self.cookies: list[dict[str, Any]] = []
        self.current_url = "about:blank"
        self.title = ""
        self.page = "blank"
        self.quit_called = False

    # WebDriver surface used by naver.auth
    def get(self, url: str) -> None:
        self.visited.append(url)
        self.current_url = url
        self.page = "form" if "nidlogin" in url else "other"

    def find_element(self, _by: str, selector: str) -> FakeElement:
        return FakeElement(self, selector)

    def find_elements(self, _by: str, selector: str) -> list[FakeElement]:
        if selector == "#id" and self.page == "form":
            return [FakeElement(self, selector)]
        if "#captcha" in selector and self.page == "captcha":
            return [FakeElement(self, selector)]
        if selector == "#err_common" and self.page in ("wrong_password", "captcha"):
            return [FakeElement(self, selector, text="아이디 또는 비밀번호를 잘못 입력했습니다.")]
        return []

    def execute_script(self, script: str, *args: Any) -> Any:
        self.scripts.append((script, args))
        return None

    def get_cookies(self) -> list[dict[str, Any]]:
        return [dict(cookie) for cookie in self.cookies]

    def quit(self) -> None:
        self.quit_called = True

    # what the submit button does
    def submit(self) -> None:
        if self.outcome == "success":
            self.cookies = list(self.issue_cookies())
            self.page = "home"
        elif self.outcome == "device":
            self.current_url = "https://nid.naver.com/login/ext/deviceConfirm"
            self.page = "device"
        elif self.outcome in ("captcha", "wrong_password"):
            self.page = self.outcome

    def typed_values(self) -> list[Any]:
        return [args[1] for _script, args in self.scripts if len(args) > 1]


class FakeBrowserFactory:
    """A BrowserFactory handing out one FakeBrowser; counts starts so tests can assert none."""

    def __init__(self, browser: FakeBrowser | None = None) -> None:
        self.browser = browser or FakeBrowser()
        self.started = 0
        self.headed: list[bool] = []

    @contextmanager
    def __call__(self, headed: bool) -> Iterator[FakeBrowser]:
        self.started += 1
        self.headed.append(headed)
        try:
            yield self.browser
        finally:
            self.browser.quit()


class NoBrowser:
    """A BrowserFactory that fails the test if anything tries to start a browser."""

    def __call__(self, headed: bool) -> Any:
        raise AssertionError("a browser was started, but none was needed")
