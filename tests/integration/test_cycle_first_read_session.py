"""The cycle's first read is the session's check: a warm cycle asks Naver only for pages.

The real Authenticator and BookingApi against the loopback sandbox, which
decides which cookies work; the store, SENS and alerts are the fakes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from naver_sms.config import AppConfig
from naver_sms.cycle import CyclePorts, run_cycle
from naver_sms.naver.auth import Authenticator
from naver_sms.naver.booking_api import BookingApi
from naver_sms.report import CycleReport
from naver_sms.sandbox.naver import NaverSandbox
from tests.fakes import (
    FakeBrowser,
    FakeBrowserFactory,
    MemoryBookingRepository,
    MemorySessionRepository,
    NoBrowser,
    RecordingNotifier,
    RecordingSender,
)
from tests.integration.conftest import NOW

STORES = ("5000001", "5000002")


@dataclass
class Shop:
    naver: NaverSandbox
    sessions: MemorySessionRepository
    sender: RecordingSender
    notifier: RecordingNotifier
    browser: object | None

    def run(self, *, username: str = "sandbox-owner") -> CycleReport:
        api = BookingApi(self.naver.base_url, timeout=2.0, sleep=lambda _s: None)
        auth = Authenticator(
            self.sessions,
            api,
            browser_factory=self.browser,  # type: ignore[arg-type]
            login_url=self.naver.login_url,
            booking_url=self.naver.base_url,
            username=username,
            password="sandbox-password",
            login_timeout=2.0,
            poll_interval=0.0,
            recheck_delay=0.0,
        )
        config = AppConfig.model_validate(
            {
                "stores": [
                    {"id": biz_id, "name": f"샘플 {n}호점", "sender": "0200000000"}
                    for n, biz_id in enumerate(STORES, start=1)
                ]
            }
        )
        ports = CyclePorts(
            config=config,
            repository=MemoryBookingRepository(),
            booking_api=api,
            authenticator=auth,
            sender=self.sender,
            notifier=self.notifier,
        )
        return run_cycle(ports=ports, now=NOW, sleep=lambda _s: None)


@pytest.fixture
def shop() -> Iterator[Shop]:
    with NaverSandbox(now=NOW, stores=dict.fromkeys(STORES, 6)) as naver:
        sessions = MemorySessionRepository(json.dumps(naver.issue_session()))
        yield Shop(naver, sessions, RecordingSender(), RecordingNotifier(), NoBrowser())


def test_a_warm_cycle_asks_naver_for_its_pages_only_and_no_session_check(shop: Shop) -> None:
    report = shop.run()
    assert report.errors == []
    assert report.sent  # both stores were read and texted
    assert {sent.store for sent in report.sent} == set(STORES)
    assert shop.naver.requests["count"] == 0
    assert shop.naver.requests["list"] >= 2 * len(STORES)


def test_one_refused_first_read_is_checked_again_and_the_cycle_goes_on(shop: Shop) -> None:
    shop.naver.fail_next(1, status=401, endpoint="list")
    report = shop.run()
    assert report.errors == []
    assert {sent.store for sent in report.sent} == set(STORES)
    assert shop.naver.requests["count"] == 1  # the second check, a moment later
    assert shop.sessions.deletes == 0
    assert shop.notifier.alerts == []


def test_a_session_refused_twice_where_no_login_is_possible_stops_as_before(shop: Shop) -> None:
    stored = shop.sessions.cookies
    shop.browser = None  # the Zip Lambda: no browser
    shop.naver.expire_sessions()
    report = shop.run()
    assert report.exit_code == 1
    assert report.sent == []
    assert len(report.errors) == 1
    assert report.errors[0].error.startswith(
        "no Naver session: the stored Naver session was refused by Naver (checked twice)"
    )
    assert shop.naver.requests["list"] == 1  # the refused first read; no other store was asked
    assert shop.naver.requests["count"] == 1
    assert shop.sessions.cookies == stored  # kept for the next cycle
    assert any(
        alert.startswith("no Naver session, nothing fetched") for alert in shop.notifier.alerts
    )


def test_a_refused_session_is_replaced_by_a_login_and_every_store_is_read(shop: Shop) -> None:
    factory = FakeBrowserFactory(FakeBrowser("success", issue_cookies=shop.naver.issue_session))
    shop.browser = factory
    shop.naver.expire_sessions()
    report = shop.run()
    assert report.errors == []
    assert {sent.store for sent in report.sent} == set(STORES)
    assert factory.started == 1
    assert shop.sessions.deletes == 1
    # The new session is stamped with the cycle's clock, as the page then shows it.
    assert shop.sessions.saved_at == NOW.isoformat(timespec="seconds")


def test_a_login_challenge_after_a_refused_first_read_exits_3_and_reads_nothing_more(
    shop: Shop,
) -> None:
    shop.browser = FakeBrowserFactory(FakeBrowser("captcha"))
    shop.naver.expire_sessions()
    report = shop.run()
    assert report.login_challenge
    assert report.exit_code == 3
    assert report.sent == []
    assert shop.naver.requests["list"] == 1
    assert any("login --headed" in alert for alert in shop.notifier.alerts)


def test_when_the_first_read_fails_otherwise_a_refused_session_still_leads_to_a_login(
    shop: Shop,
) -> None:
    # The first store's read answers 503 through all its retries, so it checks nothing;
    # the other store's read then finds the session refused.
    factory = FakeBrowserFactory(FakeBrowser("success", issue_cookies=shop.naver.issue_session))
    shop.browser = factory
    shop.naver.expire_sessions()
    shop.naver.fail_next(4, status=503, endpoint="list")
    report = shop.run()
    assert factory.started == 1  # logged in, not N "store skipped" alerts every cycle
    assert report.errors == []
    assert {sent.store for sent in report.sent} == set(STORES)
    assert shop.notifier.alerts == []
