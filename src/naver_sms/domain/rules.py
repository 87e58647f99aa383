"""The facts of a booking the message rules read, pure: when its visit ends, which
option matches a keyword, and whether advertising may go at a moment.

The rules themselves are `domain.schedule.evaluate_messages`, over the shop's
messages (`domain.catalog`). All clock arithmetic is on aware datetimes in
KST, so the host's time zone never matters (Lambda runs in UTC).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Final

from naver_sms.domain.booking import KST, Booking, BookingValidationError, parse_booking_time
from naver_sms.domain.messages import AD_HOURS

CONFIRMED: Final = "RC03"
COMPLETED: Final = "RC08"
DEFAULT_KEYWORDS: Final = ("네이버", "인스타", "원본")


def visit_end(booking: Booking) -> datetime:
    """The visit's end (KST) when the API gave one, else its start."""
    end = booking.extra.get("end_time")
    if isinstance(end, str) and end:
        try:
            return parse_booking_time(end)
        except BookingValidationError:
            # A record written before end times were checked may hold one
            # that cannot be read: the visit's start is the safe stand-in.
            return booking.starts_at
    return booking.starts_at


def matching_option(booking: Booking, keywords: Sequence[str]) -> tuple[str, str] | None:
    """(option name, keyword) of the first option name that contains a keyword."""
    names = booking.extra.get("option_names") or []
    if isinstance(names, str):
        names = [names]
    for name in names:
        for keyword in keywords:
            if keyword and keyword in str(name):
                return str(name), keyword
    return None


def advertising_open(now: datetime, window: tuple[time, time], margin: timedelta) -> bool:
    """May an advertising request start at `now` and still reach the provider in time?

    Checked before each request on the cycle's advancing clock, not once at the
    cycle's start: a long cycle that began at 20:59:50 must not send at 21:00:05.
    Both the store's window and the law's 08:00-21:00 hold, and the request must
    start `margin` before either closes.
    """
    local = now.astimezone(KST)
    opens = max(window[0], AD_HOURS[0])
    closes = min(window[1], AD_HOURS[1])
    closing = datetime.combine(local.date(), closes, tzinfo=KST)
    return opens <= local.time() and local + margin < closing
