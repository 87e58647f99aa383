"""A login that meets a challenge leaves a note, so the owner's page can ask for a person."""

from __future__ import annotations

import json
from datetime import datetime

import httpx
import pytest

from naver_sms.database.exceptions import RepositoryUnreachable
from naver_sms.domain.booking import KST
from naver_sms.naver.auth import Authenticator
from naver_sms.naver.booking_api import BookingApi
from naver_sms.naver.errors import LoginChallenge, LoginFailed
from tests.fakes import FakeBrowser, FakeBrowserFactory, MemorySessionRepository

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=KST)
STORE = "5000001"
STALE = [{"name": "NID_AUT", "value": "stale-aut"}, {"name": "NID_SES", "value": "stale-ses"}]
NEW = [{"name": "NID_AUT", "value": "new-aut"}, {"name": "NID_SES", "value": "new-ses"}]


def _api() -> BookingApi:
    """A count endpoint that accepts only the new login's cookies."""

    def handler(request: httpx.Request) -> httpx.Response:
        if "NID_AUT=new-aut" in request.headers.get("cookie", ""):
            return httpx.Response(200, json={"count": 0})
        return httpx.Response(401, json={"message": "login required"})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    return BookingApi("https://partner.example", client=client, sleep=lambda _s: None)


def _auth(store: MemorySessionRepository, outcome: str) -> Authenticator:
    factory = FakeBrowserFactory(FakeBrowser(outcome, issue_cookies=lambda: NEW))
    return Authenticator(
        store,
        _api(),
        browser_factory=factory,  # type: ignore[arg-type]
        login_url="https://nid.example/nidlogin.login?mode=form",
        booking_url="https://partner.example",
        username="owner-id",
        password="pw-canary-7f3a",
        login_timeout=1.0,
        poll_interval=0.0,
        sleep=lambda _s: None,
    )


def test_a_captcha_is_noted_with_its_words_and_the_cycles_time() -> None:
    store = MemorySessionRepository(json.dumps(STALE))

    with pytest.raises(LoginChallenge):
        _auth(store, "captcha").ensure_session(STORE, NOW)

    assert store.login_needed() == ("captcha", NOW)


def test_a_login_that_works_after_a_challenge_takes_the_note_away() -> None:
    store = MemorySessionRepository()
    with pytest.raises(LoginChallenge):
        _auth(store, "captcha").login(STORE, NOW)

    _auth(store, "success").login(STORE, NOW)

    assert store.login_needed() is None
    assert json.loads(store.cookies or "") == NEW


def test_a_wrong_password_is_no_challenge_and_leaves_no_note() -> None:
    store = MemorySessionRepository()

    with pytest.raises(LoginFailed):
        _auth(store, "wrong_password").login(STORE, NOW)

    assert store.login_needed() is None


class _NoteFails(MemorySessionRepository):
    def _write_note(self, name: str, values: dict[str, str]) -> None:
        raise RepositoryUnreachable("the store cannot be reached", "put_note")


def test_a_note_that_cannot_be_written_is_logged_and_the_challenge_still_raised(
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = _NoteFails()

    with pytest.raises(LoginChallenge, match="captcha"):
        _auth(store, "captcha").login(STORE, NOW)

    warnings = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert any(
        line["level"] == "WARNING" and line["message"].startswith("Login challenge not noted")
        for line in warnings
    )
    assert store.cookies is None
