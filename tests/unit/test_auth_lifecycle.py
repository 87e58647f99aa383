"""The session lifecycle with a fake session store, a fake browser and a mock API."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from naver_sms.domain.booking import KST
from naver_sms.naver.auth import (
    Authenticator,
    challenge_of,
    chrome_flags,
    driver_environment,
    find_browser,
)
from naver_sms.naver.booking_api import BookingApi
from naver_sms.naver.errors import (
    BrowserUnavailable,
    LoginChallenge,
    LoginFailed,
    SessionExpired,
)
from tests.fakes import (
    FakeBrowser,
    FakeBrowserFactory,
    FakeElement,
    MemorySessionRepository,
    NoBrowser,
)

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=KST)
STORE = "5000001"
PASSWORD = "pw-canary-7f3a"
GOOD = [{"name": "NID_AUT", "value": "good-aut"}, {"name": "NID_SES", "value": "good-ses"}]
STALE = [{"name": "NID_AUT", "value": "stale-aut"}, {"name": "NID_SES", "value": "stale-ses"}]
NEW = [{"name": "NID_AUT", "value": "new-aut"}, {"name": "NID_SES", "value": "new-ses"}]


def _api(
    accepted: tuple[str, ...] = ("good-aut", "new-aut"), *, refuse_first: int = 0
) -> tuple[BookingApi, list[str]]:
    """A count endpoint that accepts the listed NID_AUT values and refuses the rest.

    `refuse_first`: that many requests are refused whatever they carry (Naver
    having a bad minute).
    """
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        cookie = request.headers.get("cookie", "")
        calls.append(request.url.path)
        if len(calls) > refuse_first and any(f"NID_AUT={value}" in cookie for value in accepted):
            return httpx.Response(200, json={"count": 0})
        return httpx.Response(401, json={"message": "login required"})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    return BookingApi("https://partner.example", client=client, sleep=lambda _s: None), calls


def _auth(
    store: MemorySessionRepository, factory: object, api: BookingApi, **kwargs: object
) -> Authenticator:
    options: dict[str, object] = {
        "username": "owner-id",
        "password": PASSWORD,
        "login_timeout": 1.0,
        "poll_interval": 0.0,
        "sleep": lambda _s: None,
    }
    options.update(kwargs)
    return Authenticator(
        store,
        api,
        browser_factory=factory,  # type: ignore[arg-type]
        login_url="https://nid.example/nidlogin.login?mode=form",
        booking_url="https://partner.example",
        **options,  # type: ignore[arg-type]
    )


def test_valid_stored_cookies_are_used_without_starting_a_browser() -> None:
    store = MemorySessionRepository(json.dumps(GOOD))
    api, calls = _api()
    cookies = _auth(store, NoBrowser(), api).ensure_session(STORE, NOW)
    assert cookies == GOOD
    assert len(calls) == 1  # one cheap check
    assert store.deletes == 0
    assert store.saves == 0


def test_refused_cookies_are_deleted_and_a_login_saves_new_ones() -> None:
    store = MemorySessionRepository(json.dumps(STALE))
    api, _ = _api()
    factory = FakeBrowserFactory(FakeBrowser("success", issue_cookies=lambda: NEW))
    cookies = _auth(store, factory, api).ensure_session(STORE, NOW)
    assert cookies == NEW
    assert store.deletes == 1
    assert json.loads(store.cookies or "") == NEW
    assert factory.started == 1
    assert factory.headed == [False]
    browser = factory.browser
    assert browser.quit_called
    assert browser.visited == [
        "https://nid.example/nidlogin.login?mode=form",
        "https://partner.example/bizes/5000001/booking-list-view",
    ]
    assert browser.clicks == ['[id="log.login"]']


def test_credentials_travel_as_script_arguments_never_inside_the_script() -> None:
    store = MemorySessionRepository()
    api, _ = _api()
    factory = FakeBrowserFactory(FakeBrowser("success", issue_cookies=lambda: NEW))
    _auth(store, factory, api).ensure_session(STORE, NOW)
    assert factory.browser.typed_values() == ["owner-id", PASSWORD]
    assert all(
        PASSWORD not in script and "owner-id" not in script for script, _ in factory.browser.scripts
    )


def test_a_captcha_is_a_login_challenge_and_saves_nothing() -> None:
    store = MemorySessionRepository()
    api, _ = _api()
    factory = FakeBrowserFactory(FakeBrowser("captcha"))
    with pytest.raises(LoginChallenge, match=r"captcha.*naver-sms login --headed"):
        _auth(store, factory, api).ensure_session(STORE, NOW)
    assert store.cookies is None
    assert factory.browser.quit_called


def test_a_new_device_check_is_a_login_challenge() -> None:
    api, _ = _api()
    with pytest.raises(LoginChallenge, match="new-device"):
        _auth(MemorySessionRepository(), FakeBrowserFactory(FakeBrowser("device")), api).login(
            STORE, NOW
        )


def test_a_wrong_password_is_login_failed_with_what_to_check() -> None:
    api, _ = _api()
    factory = FakeBrowserFactory(FakeBrowser("wrong_password"))
    with pytest.raises(LoginFailed, match="NAVER_USERNAME and NAVER_PASSWORD"):
        _auth(MemorySessionRepository(), factory, api).login(STORE, NOW)
    assert factory.browser.quit_called


def test_a_page_with_no_sign_of_success_is_never_taken_for_a_login() -> None:
    api, _ = _api()
    factory = FakeBrowserFactory(FakeBrowser("nothing"))
    with pytest.raises(LoginChallenge, match="unrecognised page"):
        _auth(MemorySessionRepository(), factory, api, login_timeout=0.05).login(STORE, NOW)


def test_new_cookies_the_api_refuses_are_not_saved() -> None:
    store = MemorySessionRepository()
    api, _ = _api(accepted=())
    factory = FakeBrowserFactory(FakeBrowser("success", issue_cookies=lambda: NEW))
    with pytest.raises(LoginFailed, match="booking API refused the new cookies"):
        _auth(store, factory, api).login(STORE, NOW)
    assert store.saves == 0


def test_without_credentials_a_headless_login_is_not_attempted() -> None:
    api, _ = _api()
    auth = _auth(MemorySessionRepository(), NoBrowser(), api, username=None, password=None)
    with pytest.raises(LoginFailed, match="NAVER_USERNAME and NAVER_PASSWORD are not set"):
        auth.ensure_session(STORE, NOW)


class Unstartable:
    """A BrowserFactory on a machine without Chromium (the Zip Lambda): it cannot start."""

    def __init__(self) -> None:
        self.started = 0

    def __call__(self, headed: bool) -> contextlib.AbstractContextManager[FakeBrowser]:
        self.started += 1
        raise BrowserUnavailable("chromium not found on PATH")


def test_one_refused_check_is_asked_again_and_a_session_naver_then_accepts_is_kept() -> None:
    store = MemorySessionRepository(json.dumps(GOOD))
    api, calls = _api(refuse_first=1)
    pauses: list[float] = []
    cookies = _auth(store, NoBrowser(), api, sleep=pauses.append).ensure_session(STORE, NOW)
    assert cookies == GOOD
    assert len(calls) == 2
    assert pauses == [2.0]  # a moment between the two checks, not a hammering
    assert store.deletes == 0
    assert store.saves == 0


@pytest.mark.parametrize(
    ("factory", "credentials", "why"),
    [
        (Unstartable(), True, "chromium not found on PATH"),
        (None, True, "no browser is available here"),
        (NoBrowser(), False, "NAVER_USERNAME and NAVER_PASSWORD are not set"),
    ],
    ids=["browser cannot start", "no browser factory", "no credentials"],
)
def test_refused_cookies_are_kept_where_no_login_is_possible_and_tried_next_cycle(
    factory: object, credentials: bool, why: str
) -> None:
    store = MemorySessionRepository(json.dumps(GOOD))
    api, calls = _api(refuse_first=2)  # Naver refuses for a while, then recovers
    options: dict[str, object] = {} if credentials else {"username": None, "password": None}
    auth = _auth(store, factory, api, **options)
    with pytest.raises(SessionExpired) as refused:
        auth.ensure_session(STORE, NOW)
    message = str(refused.value)
    assert why in message
    assert "kept" in message
    assert "naver-sms login --headed" in message
    assert len(calls) == 2  # refused twice before anything was decided
    assert store.deletes == 0
    assert json.loads(store.cookies or "") == GOOD
    # The next cycle: Naver accepts the same cookies again, no person needed.
    assert auth.ensure_session(STORE, NOW) == GOOD
    assert store.saves == 0


def test_a_refusal_deletes_the_cookies_only_once_a_browser_has_started() -> None:
    store = MemorySessionRepository(json.dumps(STALE))
    api, _ = _api()
    seen: list[str | None] = []

    class Watching(FakeBrowserFactory):
        @contextlib.contextmanager
        def __call__(self, headed: bool) -> Iterator[FakeBrowser]:
            seen.append(store.cookies)  # what the store held when the browser started
            with super().__call__(headed) as browser:
                yield browser

    factory = Watching(FakeBrowser("captcha"))
    with pytest.raises(LoginChallenge):
        _auth(store, factory, api).ensure_session(STORE, NOW)
    assert seen == [json.dumps(STALE)]
    # A challenge leaves no session: `serve` waits for a person instead of retrying.
    assert store.cookies is None


def test_an_unreadable_stored_session_leads_to_a_login() -> None:
    store = MemorySessionRepository()
    store.cookies = '{"not": "a list"}'
    api, _ = _api()
    factory = FakeBrowserFactory(FakeBrowser("success", issue_cookies=lambda: NEW))
    assert _auth(store, factory, api).ensure_session(STORE, NOW) == NEW
    assert json.loads(store.cookies or "") == NEW


@pytest.mark.parametrize(
    ("url", "title", "captcha", "expected"),
    [
        ("https://nid.naver.com/nidlogin.login", "네이버 : 로그인", True, "captcha"),
        ("https://nid.naver.com/login/ext/deviceConfirm", "", False, "new-device check"),
        ("https://nid.naver.com/login/ext/otp", "", False, "two-step verification"),
        ("https://nid.naver.com/x", "2단계 인증", False, "two-step verification"),
        ("https://nid.naver.com/login/ext/help", "", False, "extra verification"),
        ("https://nid.naver.com/nidlogin.login", "네이버 : 로그인", False, None),
    ],
)
def test_challenge_pages_are_recognised(
    url: str, title: str, captcha: bool, expected: str | None
) -> None:
    assert challenge_of(url, title, captcha) == expected


def test_a_missing_browser_says_how_to_install_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(BrowserUnavailable, match="apt-get install chromium chromium-driver"):
        find_browser()
    with pytest.raises(BrowserUnavailable, match="CHROME_BIN=/no/such/chromium"):
        find_browser("/no/such/chromium", "/no/such/chromedriver")


def test_the_authenticator_repr_shows_no_credential() -> None:
    api, _ = _api()
    text = repr(_auth(MemorySessionRepository(), NoBrowser(), api))
    assert PASSWORD not in text
    assert "owner-id" not in text


def test_no_password_or_cookie_value_reaches_the_log_lines(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    api, _ = _api()
    for outcome in ("success", "wrong_password", "captcha"):
        store = MemorySessionRepository(json.dumps(STALE))
        factory = FakeBrowserFactory(FakeBrowser(outcome, issue_cookies=lambda: NEW))
        with contextlib.suppress(LoginFailed, LoginChallenge):
            _auth(store, factory, api).ensure_session(STORE, NOW)
    captured = capsys.readouterr()
    text = captured.out + captured.err + caplog.text
    assert "Logged in to Naver" in text  # the lines were captured
    for secret in (PASSWORD, "stale-aut", "stale-ses", "new-aut", "new-ses"):
        assert secret not in text


def test_an_element_gone_stale_during_the_submit_is_looked_at_again() -> None:
    from selenium.common.exceptions import StaleElementReferenceException  # noqa: PLC0415

    class StaleOnce(FakeBrowser):
        stale = True

        def find_elements(self, by: str, selector: str) -> list[FakeElement]:
            if self.stale and self.page == "captcha":
                self.stale = False
                raise StaleElementReferenceException("the page was replaced")
            return super().find_elements(by, selector)

    api, _ = _api()
    with pytest.raises(LoginChallenge, match="captcha"):
        _auth(MemorySessionRepository(), FakeBrowserFactory(StaleOnce("captcha")), api).login(
            STORE, NOW
        )


# ------------------------------------------------------------------ the browser process


@pytest.mark.parametrize(
    ("uid", "environ", "sandboxed"),
    [
        (1000, {"HOME": "/home/owner"}, True),  # an owner's laptop
        (None, {}, True),  # a system without user ids
        (0, {}, False),  # root: a server, a container, CI
        (993, {"AWS_LAMBDA_FUNCTION_NAME": "naver-sms"}, False),  # Lambda's own user
    ],
    ids=["laptop", "no uid", "root", "lambda"],
)
def test_chromium_runs_without_its_sandbox_only_as_root_or_in_lambda(
    uid: int | None, environ: dict[str, str], sandboxed: bool
) -> None:
    flags = chrome_flags(uid, environ)
    assert ("--no-sandbox" not in flags) is sandboxed
    assert "--disable-dev-shm-usage" in flags


def test_chromedriver_gets_no_selenium_debug_switch_and_no_secret() -> None:
    environ = {
        "PATH": "/usr/bin",
        "HOME": "/home/owner",
        "DISPLAY": ":0",
        "LC_ALL": "ko_KR.UTF-8",
        "XDG_RUNTIME_DIR": "/run/user/1000",
        "https_proxy": "http://proxy.example:3128",
        "SE_DEBUG": "1",
        "SE_CHROMEDRIVER": "/opt/other/chromedriver",
        "CHROME_LOG_FILE": "/var/log/chrome.log",
        "NAVER_PASSWORD": PASSWORD,
        "SENS_SECRET_KEY": "sens-secret-canary",
        "AWS_SECRET_ACCESS_KEY": "aws-secret-canary",
        "AWS_SESSION_TOKEN": "aws-token-canary",
    }
    assert driver_environment(environ) == {
        "PATH": "/usr/bin",
        "HOME": "/home/owner",
        "DISPLAY": ":0",
        "LC_ALL": "ko_KR.UTF-8",
        "XDG_RUNTIME_DIR": "/run/user/1000",
        "https_proxy": "http://proxy.example:3128",
    }
