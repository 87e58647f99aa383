"""Builds the adapters from Settings: the only place that does.

The CLI and the Lambda handler both come through here, so they cannot drift
apart, and tests build the same objects with loopback settings.
"""

from __future__ import annotations

from typing import Any

from naver_sms.config import Settings
from naver_sms.database.base import BookingStore, SessionStore


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
