"""The session lifecycle over loopback HTTP: the sandbox decides which cookies work.

The browser here is the scripted fake (its "login" asks the sandbox for a
session); test_login_browser.py drives real Chromium.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from naver_sms.naver.auth import Authenticator, chromium_factory
from naver_sms.naver.booking_api import BookingApi, SessionExpired
from naver_sms.naver.errors import LoginFailed
from naver_sms.sandbox.naver import NaverSandbox
from tests.fakes import FakeBrowser, FakeBrowserFactory, MemorySessionRepository, NoBrowser
from tests.integration.conftest import NOW

STORE = "5000001"


def _authenticator(
    naver: NaverSandbox, store: MemorySessionRepository, factory: object
) -> Authenticator:
    return Authenticator(
        store,
        BookingApi(naver.base_url, timeout=2.0, sleep=lambda _s: None),
        browser_factory=factory,  # type: ignore[arg-type]
        login_url=naver.login_url,
        booking_url=naver.base_url,
        username="sandbox-owner",
        password="sandbox-password",
        login_timeout=2.0,
        poll_interval=0.0,
        recheck_delay=0.0,
    )


def test_cookies_the_sandbox_accepts_cost_one_count_request_and_no_browser(
    naver: NaverSandbox,
) -> None:
    store = MemorySessionRepository(json.dumps(naver.issue_session()))
    cookies = _authenticator(naver, store, NoBrowser()).ensure_session(STORE, NOW)
    assert {c["name"] for c in cookies} == {"NID_AUT", "NID_SES"}
    assert naver.requests == {"count": 1}


def test_a_401_leads_to_deleting_the_session_and_logging_in_again(naver: NaverSandbox) -> None:
    api = BookingApi(naver.base_url, timeout=2.0)
    store = MemorySessionRepository(json.dumps(naver.issue_session()))
    factory = FakeBrowserFactory(FakeBrowser("success", issue_cookies=naver.issue_session))
    auth = _authenticator(naver, store, factory)
    first = auth.ensure_session(STORE, NOW)
    assert factory.started == 0

    naver.expire_sessions()  # Naver ends the session between two cycles
    with pytest.raises(SessionExpired):
        api.fetch_bookings(STORE, "RC03", NOW.date(), NOW.date() + timedelta(days=7), first)

    second = auth.ensure_session(STORE, NOW)
    assert factory.started == 1
    assert store.deletes == 1
    assert second != first
    assert json.loads(store.cookies or "") == second
    result = api.fetch_bookings(STORE, "RC03", NOW.date(), NOW.date() + timedelta(days=7), second)
    assert result.bookings


def test_a_login_whose_cookies_the_api_refuses_is_not_saved(naver: NaverSandbox) -> None:
    made_up = [{"name": "NID_AUT", "value": "x"}, {"name": "NID_SES", "value": "y"}]
    store = MemorySessionRepository()
    factory = FakeBrowserFactory(FakeBrowser("success", issue_cookies=lambda: made_up))
    with pytest.raises(LoginFailed, match="refused the new cookies"):
        _authenticator(naver, store, factory).ensure_session(STORE, NOW)
    assert store.cookies is None


def test_one_401_on_the_check_is_asked_again_and_the_session_survives(naver: NaverSandbox) -> None:
    cookies = naver.issue_session()
    store = MemorySessionRepository(json.dumps(cookies))
    naver.fail_next(1, status=401, endpoint="count")
    assert _authenticator(naver, store, NoBrowser()).ensure_session(STORE, NOW) == cookies
    assert naver.requests == {"count": 2}
    assert store.deletes == 0


def test_where_no_browser_exists_refused_cookies_are_kept_for_the_next_cycle(
    naver: NaverSandbox,
) -> None:
    # The Zip Lambda: the real browser factory, with no Chromium to find.
    cookies = naver.issue_session()
    store = MemorySessionRepository(json.dumps(cookies))
    no_chromium = chromium_factory("/nonexistent/chromium", "/nonexistent/chromedriver")
    auth = _authenticator(naver, store, no_chromium)
    naver.fail_next(2, status=401, endpoint="count")  # Naver has a bad minute

    with pytest.raises(SessionExpired, match=r"kept and checked again next cycle"):
        auth.ensure_session(STORE, NOW)
    assert store.deletes == 0
    assert json.loads(store.cookies or "") == cookies

    assert auth.ensure_session(STORE, NOW) == cookies  # the next cycle: working again
    assert naver.requests["count"] == 3
    assert naver.requests["login"] == 0
