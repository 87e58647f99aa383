"""Builds the adapters from Settings: the only place that does.

The CLI and the Lambda handler both come through here, so they cannot drift
apart, and tests build the same objects with loopback settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from naver_sms.config import Settings
from naver_sms.database.base import BookingStore, SessionStore

if TYPE_CHECKING:
    import httpx

    from naver_sms.naver.auth import Authenticator, BrowserFactory
    from naver_sms.naver.booking_api import BookingApi


def _dynamodb_client(settings: Settings) -> Any:
    from naver_sms.database.dynamodb_client import make_client  # noqa: PLC0415 - boto3 is slow to import

    return make_client(region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url)


def build_booking_store(settings: Settings) -> BookingStore:
    if settings.store == "dynamodb":
        from naver_sms.database.dynamodb_client import BookingRepository  # noqa: PLC0415

        return BookingRepository(
            table_name=settings.bookings_table, client=_dynamodb_client(settings)
        )
    from naver_sms.database.sqlite_store import SqliteBookingStore  # noqa: PLC0415

    return SqliteBookingStore(settings.db_path)


def build_session_store(settings: Settings) -> SessionStore:
    if settings.store == "dynamodb":
        from naver_sms.database.dynamodb_client import SessionRepository  # noqa: PLC0415

        return SessionRepository(
            table_name=settings.session_table, client=_dynamodb_client(settings)
        )
    from naver_sms.database.sqlite_store import SqliteSessionStore  # noqa: PLC0415

    return SqliteSessionStore(settings.db_path)


def create_tables(settings: Settings) -> list[str]:
    """Create the store's tables (idempotent); the names of those it created or found."""
    if settings.store == "dynamodb":
        from naver_sms.database.dynamodb_client import create_tables as create  # noqa: PLC0415

        return create(
            _dynamodb_client(settings),
            bookings_table=settings.bookings_table,
            session_table=settings.session_table,
        )
    from naver_sms.database.sqlite_store import create_schema  # noqa: PLC0415

    return create_schema(settings.db_path)


def build_booking_api(settings: Settings, client: httpx.Client | None = None) -> BookingApi:
    """The partner booking API client at NAVER_BOOKING_URL (a sandbox's base URL in tests)."""
    from naver_sms.naver.booking_api import BookingApi  # noqa: PLC0415 - httpx only when used

    return BookingApi(settings.naver_booking_url, client=client)


def build_browser_factory(settings: Settings) -> BrowserFactory:
    """Chromium + chromedriver from CHROME_BIN / CHROMEDRIVER_BIN or PATH; never downloaded."""
    from naver_sms.naver.auth import chromium_factory  # noqa: PLC0415

    return chromium_factory(settings.chrome_bin, settings.chromedriver_bin)


def build_authenticator(
    settings: Settings,
    *,
    sessions: SessionStore | None = None,
    booking_api: BookingApi | None = None,
    browser_factory: BrowserFactory | None = None,
) -> Authenticator:
    """The session lifecycle: stored cookies, checked; a browser login only when they fail."""
    from naver_sms.naver.auth import Authenticator  # noqa: PLC0415 - Selenium stays unimported

    return Authenticator(
        sessions if sessions is not None else build_session_store(settings),
        booking_api if booking_api is not None else build_booking_api(settings),
        browser_factory=browser_factory or build_browser_factory(settings),
        login_url=settings.naver_login_url,
        booking_url=settings.naver_booking_url,
        username=settings.naver_username,
        password=settings.naver_password,
    )
