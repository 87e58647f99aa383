"""`naver-sms run` when the stored session is refused: a browser login, or a challenge (exit 3).

Real headless Chromium against the sandbox's login form; skipped on a laptop
without Chromium, failed in CI (tests/conftest.py `require`).
"""

from __future__ import annotations

import os

import pytest

from naver_sms import bootstrap
from naver_sms.config import load_settings
from tests.e2e.conftest import Shop, at

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_shop(shop: Shop, browser_env: dict[str, str]) -> Shop:
    shop.env.update(browser_env)
    shop.naver.expire_sessions()  # the stored cookies are refused from now on
    return shop


def stored_session(shop: Shop) -> object:
    with bootstrap.session_repository(load_settings({**os.environ, **shop.env})) as sessions:
        return sessions.get_session()


def test_a_refused_session_is_replaced_by_a_browser_login_and_the_cycle_goes_on(
    browser_shop: Shop,
) -> None:
    browser_shop.env.update(NAVER_USERNAME="sandbox-owner", NAVER_PASSWORD="sandbox-password")
    result = browser_shop.run(at(9))
    assert result.exit_code == 0, result.stderr[-2000:]
    assert len(result.report["sent"]) == 10
    assert browser_shop.naver.requests["login"] == 1
    assert stored_session(browser_shop) is not None
    again = browser_shop.run(at(9, 1))  # the new cookies are used: no second login
    assert again.exit_code == 0
    assert browser_shop.naver.requests["login"] == 1


def test_a_login_challenge_exits_3_alerts_the_operator_and_fetches_nothing(
    browser_shop: Shop,
) -> None:
    browser_shop.env.update(NAVER_USERNAME="captcha-user", NAVER_PASSWORD="whatever")
    browser_shop.naver.reset_counters()
    result = browser_shop.run(at(9))
    assert result.exit_code == 3, result.stderr[-2000:]
    assert "login --headed" in result.stderr.strip().splitlines()[-1]
    assert result.report["sent"] == []
    # The one refused read that checked the session; no store was read after it.
    assert browser_shop.naver.requests["list"] == 1
    assert browser_shop.sens.accepted == []
    assert stored_session(browser_shop) is None  # the refused cookies were deleted
    alerts = [m.text for m in browser_shop.telegram.messages]
    assert any("login --headed" in text for text in alerts)
