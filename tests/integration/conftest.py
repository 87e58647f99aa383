"""Fixtures of the integration tests: the loopback sandbox, real Chromium, a batching
store, and the e2e suite's sandbox shop on an SQLite file.

Browser tests carry the `browser` marker. On a laptop without Chromium they
skip; in CI (`CI` set) they fail instead, so a missing browser is never a
silent green.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from naver_sms.database.base import BookingRepositoryPort
from naver_sms.domain.booking import KST
from naver_sms.sandbox.naver import NaverSandbox
from tests.conftest import Backend

# The sandbox shop on an SQLite file (the owner's page suites use it as the e2e ones do).
from tests.e2e.conftest import shop  # noqa: F401
from tests.fakes import MemoryBookingRepository

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=KST)


@pytest.fixture
def naver() -> Iterator[NaverSandbox]:
    with NaverSandbox(now=NOW, stores={"5000001": 12}) as sandbox:
        yield sandbox


@pytest.fixture
def store(backend: Backend) -> BookingRepositoryPort:
    """The backend's store; the fake in its batching mode (its default writes one by one)."""
    if backend.name == "memory":
        return MemoryBookingRepository(batches=True)
    return backend.repository
