"""Fixtures of the Naver integration tests: the loopback sandbox and real Chromium.

Browser tests carry the `browser` marker. On a laptop without Chromium they
skip; in CI (`CI` set) they fail instead, so a missing browser is never a
silent green.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

import pytest

from naver_sms.domain.booking import KST
from naver_sms.naver.auth import find_browser
from naver_sms.naver.errors import BrowserUnavailable
from naver_sms.sandbox.naver import NaverSandbox
from tests.conftest import require

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=KST)


@pytest.fixture
def naver() -> Iterator[NaverSandbox]:
    with NaverSandbox(now=NOW, stores={"5000001": 12}) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def chromium_paths() -> tuple[str, str]:
    """(chromium, chromedriver), found as naver-sms finds them; skip on a laptop, fail in CI."""
    try:
        return find_browser(os.environ.get("CHROME_BIN"), os.environ.get("CHROMEDRIVER_BIN"))
    except BrowserUnavailable as missing:
        require(False, str(missing))
        raise
