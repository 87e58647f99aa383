"""The session lifecycle over loopback HTTP: the sandbox decides which cookies work.

The browser here is the scripted fake (its "login" asks the sandbox for a
session); test_login_browser.py drives real Chromium.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from naver_sms.naver.auth import Authenticator
from naver_sms.naver.booking_api import BookingApi, SessionExpired
from naver_sms.naver.errors import LoginFailed
from naver_sms.sandbox.naver import NaverSandbox
from tests.fakes import FakeBrowser, FakeBrowserFactory, MemorySessionStore, NoBrowser
from tests.integration.conftest import NOW

STORE = "5000001"


def _authenticator(
    naver: NaverSandbox, store: MemorySessionStore, factory: object
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
    )


def test_cookies_the_sandbox_accepts_cost_one_count_request_and_no_browser(
    naver: NaverSandbox,
) -> None:
    store = MemorySessionStore(json.dumps(naver.issue_session()))
    cookies = _authenticator(naver, store, NoBrowser()).ensure_session(STORE, NOW)
    assert {c["name"] for c in cookies} == {"NID_AUT", "NID_SES"}
    assert naver.requests == {"count": 1}


def test_a_401_leads_to_deleting_the_session_and_logging_in_again(naver: NaverSandbox) -> None:
    api = BookingApi(naver.base_url, timeout=2.0)
    store = MemorySessionStore(json.dumps(naver.issue_session()))
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
    store = MemorySessionStore()
    factory = FakeBrowserFactory(FakeBrowser("success", issue_cookies=lambda: made_up))
    with pytest.raises(LoginFailed, match="refused the new cookies"):
        _authenticator(naver, store, factory).ensure_session(STORE, NOW)
    assert store.cookies is None
