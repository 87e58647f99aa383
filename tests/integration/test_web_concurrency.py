"""The owner's page keeps answering while a slow port call runs, and stays right.

The real app on a real uvicorn (loopback, a port the system picks), two
clients in two threads: Starlette's TestClient would serialise the requests
and hide a blocked event loop. The port is the HTTP tests' fake, but its dry
run waits on an event, as a real one waits on Naver for seconds. Since the
port's calls now run side by side, the real `Owner` (a SQLite file, the fake
SENS on loopback) is checked to keep the day's test-send limit under a rush.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import httpx
import pytest

from naver_sms import bootstrap
from naver_sms.config import load_app_config, load_settings
from naver_sms.report import CycleReport
from naver_sms.web import model
from naver_sms.web.app import create_app
from naver_sms.web.model import Rehearsal, WebUserError
from naver_sms.web.owner import TEST_SENDS_PER_DAY, Owner
from naver_sms.web.server import start_in_thread
from tests.e2e.conftest import STORE, Shop, at
from tests.web_fake import NOW, FakeOwner

PASSWORD = "가게-비밀번호-2026"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
# Long enough for a loaded CI machine, far shorter than the held dry run.
ANSWER_WITHIN = 5.0
HELD_AT_MOST = 30.0


class SlowRehearsal(FakeOwner):
    """A dry run that starts, then waits until the test lets it finish."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.release = threading.Event()

    def rehearse(self, now: datetime) -> Rehearsal:
        self.started.set()
        if not self.release.wait(HELD_AT_MOST):
            raise AssertionError("the test never released the dry run")
        return super().rehearse(now)


@dataclass
class Site:
    owner: SlowRehearsal
    base: str


@pytest.fixture
def site() -> Iterator[Site]:
    owner = SlowRehearsal()
    handle = start_in_thread(create_app(owner, password=PASSWORD, now=lambda: NOW), "127.0.0.1", 0)
    try:
        yield Site(owner, f"http://127.0.0.1:{handle.port}")
    finally:
        owner.release.set()  # a failed test must not leave the server's worker waiting
        handle.stop()


def _csrf(html: str) -> str:
    match = _CSRF.search(html)
    assert match is not None, "the page has no form token"
    return match.group(1)


@contextmanager
def _signed_in(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=ANSWER_WITHIN, follow_redirects=False) as client:
        token = _csrf(client.get("/login").text)
        response = client.post("/login", data={"password": PASSWORD, "csrf": token})
        assert response.status_code == 303, response.text
        yield client


def test_the_today_page_answers_while_a_dry_run_waits_on_naver(site: Site) -> None:
    with (
        _signed_in(site.base) as rehearsing,
        _signed_in(site.base) as browsing,  # another tab, or the owner's phone
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        token = _csrf(rehearsing.get("/rehearse").text)
        dry_run = pool.submit(
            rehearsing.post, "/rehearse", data={"csrf": token}, timeout=HELD_AT_MOST
        )
        assert site.owner.started.wait(ANSWER_WITHIN), "the dry run never started"

        try:
            today = browsing.get("/")  # httpx.ReadTimeout when the dry run blocks the server
        finally:
            still_held = not dry_run.done()
            site.owner.release.set()  # also on a timeout: leaving `pool` waits for the POST
        assert today.status_code == 200
        assert "오늘과 내일의 예약" in today.text
        assert still_held, "the dry run finished before it was released"
        rehearsed = dry_run.result(timeout=HELD_AT_MOST)
    assert rehearsed.status_code == 200
    assert "미리 실행 결과" in rehearsed.text
    assert '보낼 메시지 <strong id="would-send">1건</strong>' in rehearsed.text


def test_test_sends_posted_at_once_never_pass_the_day_s_limit(shop: Shop) -> None:
    settings = load_settings({**os.environ, **shop.env})
    rush = TEST_SENDS_PER_DAY + 3  # the owner taps "send" on the phone and the computer
    start = threading.Barrier(rush)

    with bootstrap.owner(settings, load_app_config(settings.config_path)) as owner:

        def tap(_: int) -> model.TestSend | WebUserError:
            start.wait(ANSWER_WITHIN)
            try:
                return owner.test_send(STORE, "confirm", "010-0000-4321", at(15))
            except WebUserError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=rush) as pool:
            answers = list(pool.map(tap, range(rush)))
        left = owner.test_sends_left(at(15))

    sent = [answer for answer in answers if isinstance(answer, model.TestSend)]
    refused = [answer for answer in answers if isinstance(answer, WebUserError)]
    assert len(shop.sens.accepted) == TEST_SENDS_PER_DAY
    assert sorted(answer.left_today for answer in sent) == list(range(TEST_SENDS_PER_DAY))
    assert len(refused) == rush - TEST_SENDS_PER_DAY
    assert all(str(TEST_SENDS_PER_DAY) in str(exc) for exc in refused)
    assert left == 0


def test_a_double_clicked_dry_run_waits_for_the_first_instead_of_reading_naver_twice(
    shop: Shop,
) -> None:
    settings = load_settings({**os.environ, **shop.env})
    running: list[datetime] = []
    overlapped = threading.Event()
    first_in = threading.Event()

    def slow_cycle(now: datetime) -> CycleReport:
        running.append(now)
        if len(running) > 1:
            overlapped.set()
        first_in.set()
        overlapped.wait(0.5)  # long enough for the second click to arrive
        running.remove(now)
        return CycleReport(now=now, stores=1, dry_run=True)

    with bootstrap.owner(settings, load_app_config(settings.config_path)) as owner:
        assert isinstance(owner, Owner)
        owner.rehearse_cycle = slow_cycle
        with ThreadPoolExecutor(max_workers=2) as pool:
            first = pool.submit(owner.rehearse, at(15))
            assert first_in.wait(ANSWER_WITHIN)
            second = pool.submit(owner.rehearse, at(15, 1))
            reports = [first.result(HELD_AT_MOST), second.result(HELD_AT_MOST)]

    assert not overlapped.is_set(), "two dry runs read Naver at once"
    assert [report.report["stores"] for report in reports] == [1, 1]
    assert [report.at for report in reports] == [at(15), at(15, 1)]
