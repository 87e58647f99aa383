"""Shared fixtures: the five store backends of the contract suite and their servers.

Backends: moto's in-process `mock_aws`, moto_server over HTTP, dynalite over
HTTP (npm, pinned in package-lock.json), SQLite files, and the unit tests'
in-memory fake (`tests/fakes.py`). The HTTP servers
are started once per test session on 127.0.0.1; every test gets tables of its
own, so tests never see each other's records.

On a laptop a missing dynalite skips its tests; in CI (`CI` set) it fails
them, so nothing is silently left out there.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from hypothesis import settings

from naver_sms.database.base import BookingRepositoryPort, SessionRepositoryPort
from naver_sms.database.dynamodb_client import (
    BookingRepository,
    SessionRepository,
    create_tables,
    make_client,
)
from naver_sms.naver.auth import find_browser
from naver_sms.naver.errors import BrowserUnavailable
from tests.fakes import MemoryBookingRepository, MemorySessionRepository
from tests.servers import DYNALITE, start_dynalite, start_moto_server

__all__ = ["FAST_CONFIG", "Backend", "require"]

IN_CI = bool(os.environ.get("CI"))

# Hypothesis's count of examples comes from a profile, so `make check` stays
# quick on a laptop and CI still runs the full counts. A test whose examples are
# costly caps the count in its own @settings. HYPOTHESIS_PROFILE=ci runs CI's
# counts on a laptop (without CI's rule that nothing may skip).
settings.register_profile("dev", max_examples=100)
settings.register_profile("ci", max_examples=10_000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if IN_CI else "dev"))

# Short retries keep fault tests fast; production uses DEFAULT_CONFIG.
FAST_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 2},
    connect_timeout=1,
    read_timeout=5,
    max_pool_connections=32,
)


def require(condition: bool, why: str) -> None:
    """Skip on a laptop that lacks a test dependency; fail in CI, where nothing may skip."""
    if not condition:
        if IN_CI:
            pytest.fail(f"{why} (CI must run every test)")
        pytest.skip(why)


@pytest.fixture(scope="session", autouse=True)
def _aws_test_environment() -> Iterator[None]:
    """Fake credentials, and no way for a test to reach a real AWS account."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", "ap-northeast-2")
        yield


_MOTO_LOCK = threading.RLock()


@pytest.fixture(scope="session", autouse=True)
def _atomic_moto_writes() -> Iterator[None]:
    """Make moto's writes atomic per request, as DynamoDB's are.

    moto checks a condition and applies the update as two Python steps with no
    lock, so two threads can both pass the check; DynamoDB (and dynalite)
    never allow that. Serialising moto's write methods keeps the race tests
    about naver-sms's claims rather than about the mock.
    """
    from moto.dynamodb.models import DynamoDBBackend  # noqa: PLC0415

    def locked(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _MOTO_LOCK:
                return method(*args, **kwargs)

        return wrapper

    with pytest.MonkeyPatch.context() as patch:
        for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
            patch.setattr(DynamoDBBackend, name, locked(getattr(DynamoDBBackend, name)))
        yield


@pytest.fixture(scope="session")
def chromium_paths() -> tuple[str, str]:
    """(chromium, chromedriver), found as naver-sms finds them; skip on a laptop, fail in CI."""
    try:
        return find_browser(os.environ.get("CHROME_BIN"), os.environ.get("CHROMEDRIVER_BIN"))
    except BrowserUnavailable as missing:
        require(False, str(missing))
        raise


@pytest.fixture
def browser_env(chromium_paths: tuple[str, str]) -> dict[str, str]:
    """The environment that points a `naver-sms` process at that browser."""
    chrome, driver = chromium_paths
    return {"CHROME_BIN": chrome, "CHROMEDRIVER_BIN": driver}


@pytest.fixture(scope="session")
def moto_server_url() -> Iterator[str]:
    server, url = start_moto_server()
    yield url
    server.stop()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def dynalite_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require(
        DYNALITE.exists() and shutil.which("node") is not None,
        "dynalite is not installed: run `npm ci` (needs Node.js)",
    )
    process, url = start_dynalite(tmp_path_factory.mktemp("dynalite"))
    yield url
    process.terminate()
    process.wait(timeout=10)


@dataclass
class Backend:
    """One repository backend with fresh tables, as the contract suite sees it."""

    name: str
    repository: BookingRepositoryPort
    session_repository: SessionRepositoryPort
    # Another repository on the same tables, as a second process would have.
    reopen: Callable[[], BookingRepositoryPort]
    # The raw DynamoDB client (None for SQLite and memory), for bulk setup and call counting.
    client: Any = None


def _dynamodb_backend(name: str, client: Any) -> Backend:
    suffix = uuid.uuid4().hex[:8]
    bookings_table, session_table = f"sms_{suffix}", f"session_{suffix}"
    sent_table = f"sms_sent_{suffix}"
    create_tables(client, bookings_table, session_table, sent_table)
    return Backend(
        name=name,
        repository=BookingRepository(bookings_table, client=client, sent_table_name=sent_table),
        session_repository=SessionRepository(session_table, client=client),
        reopen=lambda: BookingRepository(bookings_table, client=client, sent_table_name=sent_table),
        client=client,
    )


def _sqlite_backend(path: Path) -> Backend:
    from naver_sms.database.sqlite_repository import (  # noqa: PLC0415
        SqliteBookingRepository,
        SqliteSessionRepository,
    )

    return Backend(
        name="sqlite",
        repository=SqliteBookingRepository(path),
        session_repository=SqliteSessionRepository(path),
        reopen=lambda: SqliteBookingRepository(path),
    )


def _memory_backend() -> Backend:
    # The unit tests' fake is held to the same contract, so what they prove holds for the
    # real repositories.
    bookings = MemoryBookingRepository()
    return Backend(
        name="memory",
        repository=bookings,
        session_repository=MemorySessionRepository(),
        reopen=bookings.reopened,
    )


@pytest.fixture(params=["moto", "moto_server", "dynalite", "sqlite", "memory"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """The contract suite runs once per backend."""
    kind = request.param
    if kind == "memory":
        yield _memory_backend()
    elif kind == "moto":
        from moto import mock_aws  # noqa: PLC0415

        with mock_aws():
            yield _dynamodb_backend(kind, make_client(config=FAST_CONFIG))
    elif kind == "sqlite":
        yield _sqlite_backend(tmp_path / "naver-sms.db")
    else:
        url = request.getfixturevalue(f"{kind}_url")
        yield _dynamodb_backend(kind, make_client(endpoint_url=url, config=FAST_CONFIG))
