"""Fixtures of the Naver integration tests: the loopback sandbox and real Chromium.

Browser tests carry the `browser` marker. On a laptop without Chromium they
skip; in CI (`CI` set) they fail instead, so a missing browser is never a
silent green.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import datetime

import pytest

from naver_sms.domain.booking import KST
from naver_sms.sandbox.naver import NaverSandbox

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=KST)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives real headless Chromium + chromedriver (apt: chromium)"
    )


@pytest.fixture
def naver() -> Iterator[NaverSandbox]:
    with NaverSandbox(now=NOW, stores={"5000001": 12}) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def chromium_paths() -> tuple[str, str]:
    """(chromium, chromedriver), or skip on a laptop / fail in CI when missing."""
    chrome = os.environ.get("CHROME_BIN") or next(
        (
            path
            for name in ("chromium", "chromium-browser", "google-chrome")
            if (path := shutil.which(name))
        ),
        None,
    )
    driver = os.environ.get("CHROMEDRIVER_BIN") or shutil.which("chromedriver")
    if chrome is None or driver is None:
        why = "Chromium and chromedriver are needed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(f"{why}: CI must run the browser tests")
        pytest.skip(why)
    return chrome, driver
