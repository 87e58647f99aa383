"""KST helpers for adapters. The booking_time rules themselves live in domain/booking.py."""

from __future__ import annotations

from datetime import UTC, datetime

from naver_sms.domain.booking import KST, format_booking_time, parse_booking_time

__all__ = ["KST", "format_booking_time", "now_kst", "parse_booking_time", "to_kst", "to_utc_z"]


def now_kst() -> datetime:
    """The real time in Asia/Seoul: the default clock of whatever takes a `now`."""
    return datetime.now(KST)


def to_kst(moment: datetime) -> datetime:
    """The same instant in Asia/Seoul; naive datetimes are refused (host zones must not matter)."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: give a time zone")
    return moment.astimezone(KST)


def to_utc_z(moment: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.mmmZ`: the UTC form of Naver's booking API (the only one it
    accepts, else 422) and of the seed's option windows."""
    utc = to_kst(moment).astimezone(UTC)
    # `%Y` writes a year below 1000 with fewer digits; the API wants exactly four.
    return f"{utc.year:04d}-" + utc.strftime("%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
