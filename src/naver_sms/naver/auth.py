"""The Naver session lifecycle: stored cookies first, a browser only when they fail.

`Authenticator.ensure_session` loads the cookies from the SessionRepositoryPort and
checks them with one cheap API call; a cycle instead takes them unchecked
(`stored_session`: its first read is the check) and calls `refused` when that
read is refused. A refusal is believed only when a second check, a moment
later, is refused too. Only then, and only once a browser has
started here, are they deleted and replaced by a login with Selenium in
headless Chromium; the new cookies are saved once both `NID_AUT`/`NID_SES` are
present *and* the booking API accepts them (success is decided only from that
positive sign, never from the absence of an error). Where no login is possible
(no browser, no credentials: the Zip Lambda) the refused cookies are kept and
tried again next cycle, and the cycle reports the session error. A captcha,
new-device check or two-step page is a `LoginChallenge`: a person must run
`naver-sms login --headed`.

The browser comes from an injectable factory (a context manager that yields a
WebDriver and always quits it), so tests can assert it was never started and
Selenium is imported only when a login really happens.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from pydantic import SecretStr

from naver_sms.database.base import SessionRepositoryPort
from naver_sms.domain.booking import KST
from naver_sms.domain.session import LOGIN_COOKIES, Session, SessionValidationError
from naver_sms.naver.booking_api import DEFAULT_USER_AGENT, BookingApi, Cookies
from naver_sms.naver.errors import (
    CREDENTIALS_HINT,
    HEADED_LOGIN_HINT,
    BrowserUnavailable,
    LoginChallenge,
    LoginError,
    LoginFailed,
    SessionExpired,
)
from naver_sms.utils.logger import get_logger, logged_operation

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

__all__ = [
    "CHROME_FLAGS",
    "Authenticator",
    "BrowserFactory",
    "chrome_flags",
    "chromium_factory",
    "driver_environment",
    "find_browser",
    "sandbox_unusable",
]

BrowserFactory = Callable[[bool], AbstractContextManager["WebDriver"]]
"""headed -> a context manager yielding a WebDriver; leaving it quits the browser."""

# For any machine, a screen or not: no GPU, /tmp instead of a small /dev/shm,
# and none of the background traffic (updates, sync, first-run pages) a
# one-shot login does not need. `--no-sandbox` is added by chrome_flags only
# where the sandbox cannot work.
CHROME_FLAGS: Final = (
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--window-size=1280,900",
    "--lang=ko-KR",
)
_BROWSER_NAMES: Final = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_DRIVER_NAMES: Final = ("chromedriver",)
# Sets the value without typing: keystrokes are slow and Naver reads fast
# typing as a bot. The value travels as an argument, never inside the script.
_SET_VALUE_JS: Final = (
    "const field = arguments[0]; field.focus(); field.value = arguments[1];"
    "field.dispatchEvent(new Event('input', {bubbles: true}));"
    "field.dispatchEvent(new Event('change', {bubbles: true}));"
)
# Selenium logs every WebDriver command body at DEBUG, the typed password included.
_CHATTY_LOGGERS: Final = ("selenium", "urllib3")
# What chromedriver and Chromium get of our environment: enough to find
# libraries, fonts, a display, a proxy and a temporary directory, and nothing
# else. Not SE_DEBUG or any other Selenium variable, and not the secrets
# (NAVER_PASSWORD, SENS keys, AWS credentials): without its sandbox a
# compromised page could read the browser's environment.
_DRIVER_ENV_NAMES: Final = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "TMPDIR",
        "TZ",
        "LANG",
        "LANGUAGE",
        "LD_LIBRARY_PATH",
        "FONTCONFIG_PATH",
        "FONTCONFIG_FILE",
        "DISPLAY",
        "WAYLAND_DISPLAY",
        "XAUTHORITY",
        "DBUS_SESSION_BUS_ADDRESS",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "all_proxy",
    }
)
_DRIVER_ENV_PREFIXES: Final = ("LC_", "XDG_")
# chromedriver options that make it log; its log holds every command it runs,
# script arguments (the password) and cookies included.
_DRIVER_LOG_ARGS: Final = ("--verbose", "--log-level", "--log-path", "--append-log")
# A refusal is believed only when a second check, this long after, agrees: one
# odd 401 must not throw away a session a person had to log in for.
RECHECK_DELAY_S: Final = 2.0
LOGIN_ELSEWHERE_HINT: Final = (
    f"{HEADED_LOGIN_HINT} (or `naver-sms session import` cookies from a logged-in browser)"
)

log = get_logger(__name__)


# ------------------------------------------------------------------ browser


def find_browser(
    chrome_bin: str | None = None, chromedriver_bin: str | None = None
) -> tuple[str, str]:
    """(chromium, chromedriver) paths: the configured ones, else the first found on PATH.

    Never downloads anything: a missing browser is a BrowserUnavailable that
    says how to install one.
    """

    def resolve(configured: str | None, names: tuple[str, ...], variable: str) -> str:
        if configured:
            found = shutil.which(configured)
            if found is None:
                raise BrowserUnavailable(f"{variable}={configured} is not an executable file")
            return found
        for name in names:
            found = shutil.which(name)
            if found is not None:
                return found
        raise BrowserUnavailable(
            f"{names[0]} not found on PATH: install Chromium and its driver "
            "(Debian/Ubuntu: apt-get install chromium chromium-driver) "
            "or set CHROME_BIN and CHROMEDRIVER_BIN"
        )

    return (
        resolve(chrome_bin, _BROWSER_NAMES, "CHROME_BIN"),
        resolve(chromedriver_bin, _DRIVER_NAMES, "CHROMEDRIVER_BIN"),
    )


@contextmanager
def _quiet_vendor_logs() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in _CHATTY_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def sandbox_unusable(uid: int | None, environ: Mapping[str, str]) -> bool:
    """True where Chromium's sandbox cannot work, so `--no-sandbox` is needed.

    As root Chromium refuses to start with its sandbox; Lambda runs as an
    unprivileged user but without the user namespaces the sandbox needs. On an
    owner's laptop neither holds, and the sandbox stays on.
    """
    return uid == 0 or bool(environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def chrome_flags(uid: int | None, environ: Mapping[str, str]) -> tuple[str, ...]:
    """The Chromium flags for a process of this user id in this environment."""
    if sandbox_unusable(uid, environ):
        return ("--no-sandbox", *CHROME_FLAGS)
    return CHROME_FLAGS


def driver_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The part of `environ` chromedriver (and so Chromium) is started with."""
    return {
        name: value
        for name, value in environ.items()
        if name in _DRIVER_ENV_NAMES or name.startswith(_DRIVER_ENV_PREFIXES)
    }


def _this_process() -> tuple[int | None, Mapping[str, str]]:
    """(effective user id or None where there is none, a copy of the environment)."""
    geteuid = getattr(os, "geteuid", None)
    return (geteuid() if geteuid is not None else None), dict(os.environ)


def _first_line(exc: BaseException) -> str:
    text = getattr(exc, "msg", None) or str(exc)
    return (str(text).strip().splitlines() or [type(exc).__name__])[0][:200]


def chromium_factory(
    chrome_bin: str | None = None,
    chromedriver_bin: str | None = None,
    *,
    page_load_timeout: float = 30.0,
) -> BrowserFactory:
    """A BrowserFactory for Chromium + chromedriver (Selenium 4), resolved when first used."""

    @contextmanager
    def open_browser(headed: bool) -> Iterator[WebDriver]:
        browser, driver_path = find_browser(chrome_bin, chromedriver_bin)
        from selenium import webdriver  # noqa: PLC0415 - slow; only a real login needs it
        from selenium.common.exceptions import WebDriverException  # noqa: PLC0415
        from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

        uid, environ = _this_process()
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in chrome_flags(uid, environ):
            options.add_argument(flag)
        if not headed:
            options.add_argument("--headless=new")
            # Headless Chromium says "HeadlessChrome" in its user agent.
            options.add_argument(f"--user-agent={DEFAULT_USER_AGENT}")
        with (
            _quiet_vendor_logs(),
            tempfile.TemporaryDirectory(
                prefix="naver-sms-chrome-", ignore_cleanup_errors=True
            ) as profile,
        ):
            # A fresh profile each time: no stale cookies, no lock left by a crashed run.
            options.add_argument(f"--user-data-dir={Path(profile) / 'profile'}")
            # An explicit driver path means Selenium Manager is never run (no download).
            service = Service(
                executable_path=driver_path,
                log_output=subprocess.DEVNULL,
                env=driver_environment(environ),
            )
            # Selenium reads SE_DEBUG from os.environ itself, whatever `env` says, and
            # then starts chromedriver --verbose on our stderr; and SE_CHROMEDRIVER
            # would replace the driver found above. Undo both.
            service.service_args = [
                arg for arg in service.service_args if not arg.startswith(_DRIVER_LOG_ARGS)
            ]
            service.log_output = subprocess.DEVNULL
            service.path = driver_path
            try:
                driver = webdriver.Chrome(service=service, options=options)
            except (WebDriverException, OSError, ValueError) as exc:
                raise BrowserUnavailable(
                    f"Chromium would not start ({browser}, {driver_path}): {_first_line(exc)}"
                ) from None
            try:
                driver.set_page_load_timeout(page_load_timeout)
                yield driver
            finally:
                try:
                    driver.quit()
                except Exception as exc:  # quitting must not hide the real error
                    log.warning(
                        "Browser did not quit cleanly",
                        operation="naver_login",
                        error=_first_line(exc),
                    )

    return open_browser


# ------------------------------------------------------------------ pages


def challenge_of(url: str, title: str, captcha_shown: bool) -> str | None:
    """The kind of login challenge a page is, or None. Heuristics from Naver's pages."""
    where = url.lower()
    if captcha_shown or "captcha" in where:
        return "captcha"
    if "deviceconfirm" in where or "새로운 기기" in title or "새로운 환경" in title:
        return "new-device check"
    if "otp" in where or "2step" in where or "2단계" in title:
        return "two-step verification"
    if "/login/ext/" in where:
        return "extra verification"
    return None


class Authenticator:
    """Keeps a working Naver session in the SessionRepositoryPort."""

    def __init__(
        self,
        session_repository: SessionRepositoryPort,
        api: BookingApi,
        *,
        browser_factory: BrowserFactory | None,
        login_url: str,
        booking_url: str,
        username: str | None = None,
        password: SecretStr | str | None = None,
        login_timeout: float = 30.0,
        headed_timeout: float = 300.0,
        poll_interval: float = 0.2,
        recheck_delay: float = RECHECK_DELAY_S,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session_repository = session_repository
        self.api = api
        self._browser_factory = browser_factory
        self.login_url = login_url
        self.booking_url = booking_url.rstrip("/")
        self._username = username or None
        secret = (
            password if isinstance(password, SecretStr) or password is None else SecretStr(password)
        )
        self._password = secret if secret is not None and secret.get_secret_value() else None
        self.login_timeout = login_timeout
        self.headed_timeout = headed_timeout
        self.poll_interval = poll_interval
        self.recheck_delay = recheck_delay
        self._sleep = sleep
        self._monotonic = monotonic

    def __repr__(self) -> str:
        user = "set" if self._username else "unset"
        return f"Authenticator(login_url={self.login_url!r}, username=<{user}>)"

    # -- the lifecycle

    def ensure_session(self, biz_id: str, now: datetime) -> list[dict[str, Any]]:
        """Cookies the booking API accepts: the stored ones, or a new login's.

        Raises LoginChallenge / LoginFailed / BrowserUnavailable when a login
        was needed and did not work; SessionExpired when Naver refused the
        stored cookies twice and no login is possible here (they are kept);
        BookingApiError when a check itself could not be made. Stored cookies
        are deleted only once a browser has started to replace them.
        """
        stored = self.session_repository.get_session()
        return self._checked(stored, self._readable(stored), biz_id, now)

    def stored_session(self, biz_id: str, now: datetime) -> list[dict[str, Any]]:
        """The stored cookies, not checked: the caller's first read is the check.

        A cycle reads with them at once and calls `refused` when that read is
        refused, so a warm cycle asks Naver nothing but its pages. Where no
        read could work (nothing stored, unreadable, no login cookie for the
        API's host) this is `ensure_session`: a login, or its error.
        """
        stored = self.session_repository.get_session()
        cookies = self._readable(stored)
        if cookies and self.api.has_login_cookies(cookies):
            log.info(
                "Stored session used; the first read checks it",
                operation="ensure_session",
                context={"biz_id": biz_id, "cookie_count": len(cookies)},
            )
            return cookies
        return self._checked(stored, cookies, biz_id, now)

    def refused(self, biz_id: str, now: datetime, cookies: Cookies) -> list[dict[str, Any]]:
        """A read with the stored `cookies` was refused: what `ensure_session` does then.

        The refusal is believed only when a check a moment later is refused
        too (then the cookies are returned unchanged); then a login replaces
        them, or, where none is possible, SessionExpired keeps them.
        """
        return self._after_refusal(biz_id, now, [dict(cookie) for cookie in cookies])

    @staticmethod
    def _readable(stored: Session | None) -> list[dict[str, Any]] | None:
        if stored is None:
            return None
        try:
            return stored.get_cookies_list()
        except SessionValidationError as exc:
            log.warning("Stored session is unreadable", operation="ensure_session", error=str(exc))
            return None

    def _checked(
        self,
        stored: Session | None,
        cookies: list[dict[str, Any]] | None,
        biz_id: str,
        now: datetime,
    ) -> list[dict[str, Any]]:
        if cookies and self.api.check_session(cookies, biz_id, now.astimezone(KST).date()):
            log.info(
                "Stored session is valid",
                operation="ensure_session",
                context={"biz_id": biz_id, "cookie_count": len(cookies)},
            )
            return cookies
        if stored is None:
            return self.login(biz_id, now)
        return self._after_refusal(biz_id, now, cookies)

    def _after_refusal(
        self, biz_id: str, now: datetime, cookies: list[dict[str, Any]] | None
    ) -> list[dict[str, Any]]:
        """Stored cookies were refused once (or are unreadable): recheck, then log in or keep."""
        if cookies and self._accepted_again(cookies, biz_id, now.astimezone(KST).date()):
            return cookies
        what = "refused by Naver (checked twice)" if cookies else "unreadable"
        blocked = self._why_no_login()
        if blocked is not None:
            raise self._kept(biz_id, what, blocked)
        try:
            return self._login(biz_id, now, headed=False, replacing=True)
        except BrowserUnavailable as exc:
            raise self._kept(biz_id, what, str(exc)) from None

    def _accepted_again(self, cookies: list[dict[str, Any]], biz_id: str, today: date) -> bool:
        """After one refusal: True when a second check, a moment later, is accepted."""
        if not self.api.has_login_cookies(cookies):
            return False  # nothing was asked: there is nothing to ask again
        log.warning(
            "Stored session was refused; checking once more",
            operation="ensure_session",
            context={"biz_id": biz_id, "recheck_delay_s": self.recheck_delay},
        )
        self._sleep(self.recheck_delay)
        if self.api.check_session(cookies, biz_id, today):
            log.warning(
                "Stored session was accepted on the second check",
                operation="ensure_session",
                context={"biz_id": biz_id},
            )
            return True
        return False

    def _why_no_login(self) -> str | None:
        """Why this environment cannot log in without a person, or None when it can."""
        if self._browser_factory is None:
            return "no browser is available here"
        if self._username is None or self._password is None:
            return "NAVER_USERNAME and NAVER_PASSWORD are not set"
        return None

    @staticmethod
    def _kept(biz_id: str, what: str, why: str) -> SessionExpired:
        # Deleting would gain nothing here (no login can replace them) and would
        # turn one refusal that was not meant into an outage until a person acts.
        log.warning(
            "Stored session kept: no login is possible here",
            operation="ensure_session",
            context={"biz_id": biz_id},
            error=why,
        )
        return SessionExpired(
            f"the stored Naver session was {what}, and no login is possible here ({why}); "
            f"the cookies are kept and checked again next cycle. To log in: "
            f"{LOGIN_ELSEWHERE_HINT}"
        )

    def login(self, biz_id: str, now: datetime, *, headed: bool = False) -> list[dict[str, Any]]:
        """Log in with the browser, check the new cookies with the API, save them.

        Headed, a person at the screen may solve a captcha or type the
        credentials themselves; the login waits up to `headed_timeout`.
        """
        return self._login(biz_id, now, headed=headed, replacing=False)

    def _login(
        self, biz_id: str, now: datetime, *, headed: bool, replacing: bool
    ) -> list[dict[str, Any]]:
        if self._browser_factory is None:
            raise BrowserUnavailable(f"no browser is available here: {LOGIN_ELSEWHERE_HINT}")
        if not headed and (self._username is None or self._password is None):
            raise LoginFailed(
                "NAVER_USERNAME and NAVER_PASSWORD are not set: set them for the automatic "
                f"login, or {HEADED_LOGIN_HINT}"
            )
        today = now.astimezone(KST).date()
        with logged_operation(
            "naver_login", "Logged in to Naver", logger=log, biz_id=biz_id, headed=headed
        ) as ctx:
            with self._browser_factory(headed) as driver:
                if replacing:
                    # Refused twice, and a browser is up to replace them: from here on
                    # a login that stops at a challenge leaves no session, which is
                    # what `serve` waits on before it tries again.
                    self.session_repository.delete_session()
                    log.warning(
                        "Stored session was refused; deleted for a new login",
                        operation="ensure_session",
                        context={"biz_id": biz_id},
                    )
                try:
                    cookies = self._browser_login(driver, biz_id, headed)
                except LoginChallenge as exc:
                    self._note_challenge(exc, now)
                    raise
            if not self.api.check_session(cookies, biz_id, today):
                raise LoginFailed(
                    "Naver logged in, but the booking API refused the new cookies: is this "
                    f"account an owner or manager of store {biz_id}? {CREDENTIALS_HINT}"
                )
            # Saved at the cycle's clock, as every other time the cycle stores.
            self.session_repository.save_session(json.dumps(cookies, ensure_ascii=False), now)
            ctx["cookie_names"] = sorted(str(cookie.get("name")) for cookie in cookies)
        return cookies

    def _note_challenge(self, challenge: LoginChallenge, now: datetime) -> None:
        """Note for the owner's page that a person must log in; never hides the challenge."""
        try:
            self.session_repository.note_login_needed(challenge.what, now)
        except Exception as exc:  # any failure: the challenge is what the caller must see
            log.warning(
                "Login challenge not noted; the owner's page will not ask for a login",
                operation="naver_login",
                error=f"{type(exc).__name__}: {exc}",
            )

    # -- the browser part

    def _browser_login(self, driver: WebDriver, biz_id: str, headed: bool) -> list[dict[str, Any]]:
        from selenium.common.exceptions import TimeoutException, WebDriverException  # noqa: PLC0415
        from selenium.webdriver.common.by import By  # noqa: PLC0415
        from selenium.webdriver.support import expected_conditions  # noqa: PLC0415
        from selenium.webdriver.support.wait import WebDriverWait  # noqa: PLC0415
        from urllib3.exceptions import HTTPError as DriverConnectionError  # noqa: PLC0415

        try:
            driver.get(self.login_url)
            WebDriverWait(driver, self.login_timeout).until(
                expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "#id"))
            )
            if self._username is not None and self._password is not None:
                driver.execute_script(
                    _SET_VALUE_JS, driver.find_element(By.CSS_SELECTOR, "#id"), self._username
                )
                driver.execute_script(
                    _SET_VALUE_JS,
                    driver.find_element(By.CSS_SELECTOR, "#pw"),
                    self._password.get_secret_value(),
                )
                driver.find_element(By.CSS_SELECTOR, '[id="log.login"]').click()
            self._await_login(driver, headed)
            # The console page sets service cookies the booking API wants too.
            driver.get(f"{self.booking_url}/bizes/{biz_id}/booking-list-view")
            cookies = [dict(cookie) for cookie in driver.get_cookies()]
        except TimeoutException:
            raise LoginError(
                f"the login page showed no form within {self.login_timeout:g} s "
                "(is NAVER_LOGIN_URL right and Naver reachable?)"
            ) from None
        except (WebDriverException, DriverConnectionError, OSError) as exc:
            # OSError / urllib3: chromedriver died or stopped answering mid-login.
            raise LoginError(f"the browser failed during login: {_first_line(exc)}") from None
        names = {cookie.get("name") for cookie in cookies}
        if not set(LOGIN_COOKIES) <= names:
            raise LoginFailed(
                "the login left no NID_AUT/NID_SES cookies after opening the booking console"
            )
        return cookies

    def _await_login(self, driver: WebDriver, headed: bool) -> None:
        """Wait for the positive sign (both auth cookies); stop early on a known refusal."""
        deadline = self._monotonic() + (self.headed_timeout if headed else self.login_timeout)
        while True:
            names = {cookie.get("name") for cookie in driver.get_cookies()}
            if set(LOGIN_COOKIES) <= names:
                return
            if not headed:  # headed, the person at the screen deals with these
                refusal = self._refusal(driver)
                if refusal is not None:
                    raise refusal
            if self._monotonic() >= deadline:
                break
            self._sleep(self.poll_interval)
        if headed:
            raise LoginFailed(
                f"no login completed within {self.headed_timeout:g} s in the browser window"
            )
        # No success and no known refusal: an unknown page needs a person.
        raise LoginChallenge(f"an unrecognised page titled {driver.title[:60]!r}")

    @staticmethod
    def _refusal(driver: WebDriver) -> LoginError | None:
        """The challenge or wrong-password error the current page shows, or None."""
        from selenium.common.exceptions import StaleElementReferenceException  # noqa: PLC0415
        from selenium.webdriver.common.by import By  # noqa: PLC0415

        try:
            # The error box is read first: once it shows, the submit's page load is
            # over, so the challenge checks below read that same page. (The other
            # order can read the captcha check off the old page and the error box
            # off a captcha page that has both: a challenge taken for a bad password.)
            wrong_password = any(
                element.is_displayed() and element.text.strip()
                for element in driver.find_elements(By.CSS_SELECTOR, "#err_common")
            )
            captcha = any(
                element.is_displayed()
                for element in driver.find_elements(By.CSS_SELECTOR, "#captcha, #captchaimg")
            )
            challenge = challenge_of(driver.current_url, driver.title, captcha)
            if challenge is not None:
                log.warning(
                    "Naver login challenge",
                    operation="naver_login",
                    context={"challenge": challenge},
                )
                return LoginChallenge(challenge)
            if wrong_password:
                return LoginFailed(f"Naver refused the user name or password: {CREDENTIALS_HINT}")
        except StaleElementReferenceException:
            # The submit's page load replaced the page between finding and reading an
            # element: nothing is known yet, look again on the next poll.
            return None
        return None
