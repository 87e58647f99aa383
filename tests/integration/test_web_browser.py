"""The owner's page in real headless Chromium, on the demo's played day.

One sandbox day (fake Naver, fake SENS, a SQLite file, the real cycles) is
played once for the module; `naver-sms web`'s app serves it on loopback
through the real `Owner`. The browser logs in and walks every page at a
desktop's 1280x800 and a phone's 390x844, saving a screenshot of each under
the test run's temporary folder. Any JavaScript console error fails the test,
and so does a full phone number in any page. Skipped on a laptop without
Chromium; failed, never skipped, in CI.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

from naver_sms import bootstrap
from naver_sms.config import AppConfig
from naver_sms.demo import DemoWorld, demo_config, played_day
from naver_sms.entrypoints.cli import example_config
from naver_sms.entrypoints.cli_web import day_page
from naver_sms.naver.auth import chrome_flags
from naver_sms.web.server import start_in_thread

pytestmark = pytest.mark.browser

DESKTOP = (1280, 800)
PHONE = (390, 844)
TEST_NUMBER = "010-0000-4321"
# A full mobile number in any form; masked ones (010-****-5678) do not match.
FULL_PHONE = re.compile(r"01[016789]-?\d{3,4}-?\d{4}")


@dataclass
class Site:
    world: DemoWorld
    base: str
    password: str


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    config = demo_config()
    password = secrets.token_urlsafe(12)
    with ExitStack() as stack:
        world = stack.enter_context(played_day(config))
        handle = start_in_thread(day_page(stack, world, config, password=password), "127.0.0.1", 0)
        stack.callback(handle.stop)  # before the day's stores and servers close
        yield Site(world, f"http://127.0.0.1:{handle.port}", password)


@pytest.fixture(scope="module")
def browser(
    chromium_paths: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebDriver]:
    chrome, driver_path = chromium_paths
    options = webdriver.ChromeOptions()
    options.binary_location = chrome
    for flag in chrome_flags(os.geteuid(), dict(os.environ)):
        options.add_argument(flag)
    options.add_argument("--headless=new")
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chrome')}")
    # The console's messages, to fail on any JavaScript error.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(15)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web-screenshots")


def _size(driver: WebDriver, width: int, height: int) -> None:
    """The page's own viewport at width x height, whatever the window's frame takes."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [innerWidth, innerHeight]")
    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])


def _open(driver: WebDriver, site: Site, path: str, shots: Path, name: str) -> str:
    """Open a page, save its picture, fail on a console error or a full phone number."""
    driver.get(site.base + path)
    return _checked(driver, shots, name)


def _checked(driver: WebDriver, shots: Path, name: str, *, answered: int | None = None) -> str:
    """The page's source once checked; `answered`: the HTTP status this page is meant to
    have when not 200 (Chromium logs any 4xx as an error, a refused login's 401 too)."""
    driver.save_screenshot(str(shots / f"{name}.png"))
    errors = [
        entry
        for entry in driver.get_log("browser")  # type: ignore[no-untyped-call]
        if entry["level"] == "SEVERE"
        and not (answered is not None and f"status of {answered} " in entry["message"])
    ]
    assert errors == [], f"{name}: console errors {errors}"
    source: str = driver.page_source
    assert FULL_PHONE.search(source) is None, f"{name}: a full phone number on the page"
    return source


def _login(driver: WebDriver, site: Site) -> None:
    driver.get(site.base + "/")
    if driver.find_elements(By.ID, "login-form"):
        driver.find_element(By.ID, "password").send_keys(site.password)
        driver.find_element(By.CSS_SELECTOR, "#login-form button").click()
        # A click returns before the page it posts to has loaded: wait for it.
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "today"))
    assert driver.find_elements(By.ID, "today"), "the login did not reach the today page"


def _left(element: WebElement) -> Callable[[WebDriver], bool]:
    """A wait's condition: the page holding `element` was replaced by the next one.

    While the new page loads, Chromium may answer "node does not belong to the
    document" rather than "stale element": either means it is gone.
    """

    def gone(_driver: WebDriver) -> bool:
        try:
            element.is_enabled()
        except WebDriverException:
            return True
        return False

    return gone


def _submit(driver: WebDriver, form_id: str, **fields: str) -> None:
    form = driver.find_element(By.ID, form_id)
    for name, value in fields.items():
        field = form.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button").click()
    WebDriverWait(driver, 10).until(_left(form))


def _flash(driver: WebDriver) -> str:
    return str(driver.find_element(By.ID, "flash").text)


def test_a_wrong_password_is_refused_and_the_right_one_opens_today(
    browser: WebDriver, site: Site, shots: Path
) -> None:
    _size(browser, *DESKTOP)
    browser.delete_all_cookies()
    _open(browser, site, "/", shots, "login")
    browser.find_element(By.ID, "password").send_keys("not-the-password")
    button = browser.find_element(By.CSS_SELECTOR, "#login-form button")
    button.click()
    WebDriverWait(browser, 10).until(_left(button))
    _checked(browser, shots, "login-refused", answered=401)
    assert browser.find_elements(By.ID, "problem"), "a wrong password must say so"
    assert not browser.find_elements(By.ID, "today")
    _login(browser, site)


@pytest.mark.parametrize(("label", "size"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_the_today_page_shows_each_store_and_message_readably(
    browser: WebDriver, site: Site, shots: Path, label: str, size: tuple[int, int]
) -> None:
    _login(browser, site)
    _size(browser, *size)
    _open(browser, site, "/", shots, f"today-{label}")
    today = browser.find_element(By.ID, "today").text
    for name in ("5000001", "5000002"):
        assert name in today or any(
            store.name in today
            for store in AppConfig.model_validate(yaml.safe_load(example_config())).stores
        )
    # The day's messages and their fates, in Korean.
    assert "전달됨" in today  # delivered
    assert "실패" in today  # the number out of service
    assert re.search(r"010-\*{4}-\d{4}", today), "masked phones are shown"
    # Nothing wider than the screen: a phone never scrolls sideways to read a booking.
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= size[0], f"the page is {width} px wide on a {size[0]} px screen"


@pytest.mark.parametrize("path", ["/history", "/templates", "/naver", "/optouts", "/rehearse"])
@pytest.mark.parametrize(("label", "size"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_every_page_opens_without_an_error_at_both_sizes(
    browser: WebDriver, site: Site, shots: Path, path: str, label: str, size: tuple[int, int]
) -> None:
    _login(browser, site)
    _size(browser, *size)
    source = _open(browser, site, path, shots, f"{path.strip('/')}-{label}")
    assert "<h1" in source
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= size[0], f"{path} is {width} px wide on a {size[0]} px screen"


def test_the_history_lists_the_days_messages_with_their_results(
    browser: WebDriver, site: Site, shots: Path
) -> None:
    _login(browser, site)
    _size(browser, *DESKTOP)
    day = site.world.day.day.isoformat()
    _open(browser, site, f"/history?first={day}&last={day}", shots, "history-day")
    text = browser.find_element(By.ID, "history").text
    assert "결번" in text  # the carrier's words for the number out of service
    assert "010-****-" in text


def test_a_test_send_reaches_the_sandbox_sens_and_no_booking(
    browser: WebDriver, site: Site, shots: Path
) -> None:
    _login(browser, site)
    _size(browser, *DESKTOP)
    sens = site.world.sens

    def recipients() -> Counter[str]:
        return Counter([m.to for m in sens.accepted] + [m.to for m in sens.accepted_alimtalk])

    before = recipients()
    _open(browser, site, "/templates", shots, "templates-before-test")
    form_id = browser.find_element(By.CSS_SELECTOR, "form.test-send").get_attribute("id")
    assert form_id is not None
    _submit(browser, form_id, to=TEST_NUMBER)
    _checked(browser, shots, "templates-test-sent")
    assert "010-****-4321" in _flash(browser)
    assert recipients() - before == Counter({"01000004321": 1})
    with bootstrap.booking_repository(site.world.settings) as store:
        assert all(record["phone"] != "01000004321" for record in store.list_bookings())


def test_pasted_cookies_become_the_stored_session(
    browser: WebDriver, site: Site, shots: Path
) -> None:
    _login(browser, site)
    _size(browser, *DESKTOP)
    cookies: list[dict[str, Any]] = site.world.naver.issue_session()
    _open(browser, site, "/naver", shots, "naver-before-paste")
    _submit(browser, "cookies-form", cookies=json.dumps(cookies))
    source = _checked(browser, shots, "naver-pasted")
    assert "session-state" in source
    for cookie in cookies:  # the page names cookies, never shows their values
        assert str(cookie["value"]) not in source
    with bootstrap.session_repository(site.world.settings) as sessions:
        stored = sessions.get_session()
    assert stored is not None
    assert json.loads(stored.cookies) == cookies


def test_an_opt_out_is_added_then_removed(browser: WebDriver, site: Site, shots: Path) -> None:
    _login(browser, site)
    _size(browser, *DESKTOP)
    _open(browser, site, "/optouts", shots, "optouts-before")
    _submit(browser, "optout-add-form", phone=TEST_NUMBER)
    listed = _checked(browser, shots, "optouts-added")
    assert "010-****-4321" in listed
    assert "01000004321" in site.world.sens.opted_out
    _submit(browser, "optout-remove-form", phone=TEST_NUMBER)
    _checked(browser, shots, "optouts-removed")
    assert "01000004321" not in site.world.sens.opted_out


def test_a_dry_run_shows_what_would_go_and_sends_nothing(
    browser: WebDriver, site: Site, shots: Path
) -> None:
    _login(browser, site)
    _size(browser, *DESKTOP)
    sens = site.world.sens
    before = sens.send_requests + sens.alimtalk_requests
    _open(browser, site, "/rehearse", shots, "rehearse-before")
    button = browser.find_element(By.CSS_SELECTOR, "#rehearse-form button")
    button.click()
    WebDriverWait(browser, 30).until(_left(button))
    _checked(browser, shots, "rehearse-done")
    assert browser.find_elements(By.ID, "would-send")
    assert sens.send_requests + sens.alimtalk_requests == before
