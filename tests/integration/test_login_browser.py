"""Real headless Chromium + chromedriver against the sandbox's login page.

Skipped on a laptop without Chromium; failed, never skipped, in CI.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from naver_sms.database.sqlite_repository import SqliteSessionRepository
from naver_sms.entrypoints.cli import cli
from naver_sms.naver.auth import Authenticator, chromium_factory
from naver_sms.naver.booking_api import BookingApi
from naver_sms.naver.errors import LoginChallenge, LoginFailed
from naver_sms.sandbox.naver import NaverSandbox
from tests.integration.conftest import NOW

pytestmark = pytest.mark.browser

STORE = "5000001"
PASSWORD = "sandbox-pw-canary-31d7"


class CountingFactory:
    """The real Chromium factory, counting starts and keeping the drivers it made."""

    def __init__(self, paths: tuple[str, str]) -> None:
        self._inner = chromium_factory(*paths, page_load_timeout=15)
        self.started = 0
        self.drivers: list[Any] = []

    def __call__(self, headed: bool) -> AbstractContextManager[Any]:
        return self._open(headed)

    @contextmanager
    def _open(self, headed: bool) -> Iterator[Any]:
        self.started += 1
        with self._inner(headed) as driver:
            self.drivers.append(driver)
            yield driver


@pytest.fixture
def sandbox() -> Iterator[NaverSandbox]:
    with NaverSandbox(now=NOW, users={"sandbox-owner": PASSWORD}) as naver:
        yield naver


@pytest.fixture
def factory(chromium_paths: tuple[str, str]) -> CountingFactory:
    return CountingFactory(chromium_paths)


def _authenticator(
    naver: NaverSandbox,
    store: SqliteSessionRepository,
    factory: CountingFactory,
    user: str,
    password: str,
) -> Authenticator:
    return Authenticator(
        store,
        BookingApi(naver.base_url, timeout=5.0),
        browser_factory=factory,
        login_url=naver.login_url,
        booking_url=naver.base_url,
        username=user,
        password=password,
        login_timeout=15.0,
    )


def _quit(driver: Any) -> bool:
    return not driver.service.is_connectable()


def test_a_headless_login_saves_a_session_the_api_accepts(
    sandbox: NaverSandbox, factory: CountingFactory, tmp_path: Path
) -> None:
    store = SqliteSessionRepository(tmp_path / "naver-sms.db")
    auth = _authenticator(sandbox, store, factory, "sandbox-owner", PASSWORD)
    cookies = auth.ensure_session(STORE, NOW)
    stored = store.get_session()
    assert stored is not None
    assert {"NID_AUT", "NID_SES"} <= set(stored.cookie_names())
    assert json.loads(stored.cookies) == cookies
    assert sandbox.requests["login"] == 1
    assert sandbox.requests["booking_list_view"] == 1
    assert BookingApi(sandbox.base_url).check_session(cookies, STORE, NOW.date())
    assert factory.started == 1
    assert _quit(factory.drivers[0])


def test_the_captcha_user_is_a_login_challenge(
    sandbox: NaverSandbox, factory: CountingFactory, tmp_path: Path
) -> None:
    store = SqliteSessionRepository(tmp_path / "naver-sms.db")
    auth = _authenticator(sandbox, store, factory, "captcha-user", "whatever")
    with pytest.raises(LoginChallenge, match=r"captcha.*login --headed"):
        auth.ensure_session(STORE, NOW)
    assert store.get_session() is None
    assert _quit(factory.drivers[0])


def test_a_wrong_password_is_login_failed(
    sandbox: NaverSandbox, factory: CountingFactory, tmp_path: Path
) -> None:
    store = SqliteSessionRepository(tmp_path / "naver-sms.db")
    auth = _authenticator(sandbox, store, factory, "sandbox-owner", "not-the-password")
    with pytest.raises(LoginFailed, match="NAVER_USERNAME and NAVER_PASSWORD"):
        auth.ensure_session(STORE, NOW)
    assert store.get_session() is None
    assert _quit(factory.drivers[0])


def test_valid_stored_cookies_start_no_browser(
    sandbox: NaverSandbox, factory: CountingFactory, tmp_path: Path
) -> None:
    store = SqliteSessionRepository(tmp_path / "naver-sms.db")
    store.save_session(json.dumps(sandbox.issue_session()))
    _authenticator(sandbox, store, factory, "sandbox-owner", PASSWORD).ensure_session(STORE, NOW)
    assert factory.started == 0
    assert sandbox.requests["login_form"] == 0


def test_no_password_or_cookie_value_reaches_logs_or_output(
    sandbox: NaverSandbox,
    factory: CountingFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)  # Selenium logs command bodies at DEBUG
    store = SqliteSessionRepository(tmp_path / "naver-sms.db")
    with pytest.raises(LoginFailed):
        _authenticator(sandbox, store, factory, "sandbox-owner", PASSWORD + "x").login(STORE, NOW)
    cookies = _authenticator(sandbox, store, factory, "sandbox-owner", PASSWORD).login(STORE, NOW)
    captured = capfd.readouterr()
    text = captured.out + captured.err + caplog.text
    assert PASSWORD not in text
    for cookie in cookies:
        if cookie["name"] in ("NID_AUT", "NID_SES"):
            assert cookie["value"] not in text


def test_the_login_command_logs_in_against_the_sandbox(
    sandbox: NaverSandbox, chromium_paths: tuple[str, str], tmp_path: Path
) -> None:
    env = {
        **sandbox.environment(),
        "NAVER_SMS_STORE": "sqlite",
        "NAVER_SMS_DB": str(tmp_path / "naver-sms.db"),
        "NAVER_USERNAME": "sandbox-owner",
        "NAVER_PASSWORD": PASSWORD,
        "CHROME_BIN": chromium_paths[0],
        "CHROMEDRIVER_BIN": chromium_paths[1],
    }
    result = CliRunner().invoke(cli, ["login", "--store", STORE], env=env)
    assert result.exit_code == 0, result.output
    assert "logged in: session saved" in result.output
    assert PASSWORD not in result.output

    env["NAVER_USERNAME"] = "captcha-user"
    result = CliRunner().invoke(cli, ["login", "--store", STORE], env=env)
    assert result.exit_code == 3, result.output
    assert "naver-sms login --headed" in result.output


def test_with_se_debug_set_the_password_reaches_no_output(
    sandbox: NaverSandbox,
    factory: CountingFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # SE_DEBUG makes Selenium start chromedriver with --verbose on stderr, and
    # chromedriver then prints every command it runs, the typed password included.
    monkeypatch.setenv("SE_DEBUG", "1")
    caplog.set_level(logging.DEBUG)
    store = SqliteSessionRepository(tmp_path / "naver-sms.db")
    cookies = _authenticator(sandbox, store, factory, "sandbox-owner", PASSWORD).login(STORE, NOW)
    assert store.get_session() is not None  # the login went through
    captured = capfd.readouterr()
    text = captured.out + captured.err + caplog.text
    assert PASSWORD not in text
    for cookie in cookies:
        if cookie["name"] in ("NID_AUT", "NID_SES"):
            assert cookie["value"] not in text
