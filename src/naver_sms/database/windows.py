"""The result of `scan_unnotified_options`, shared by both store adapters."""

from __future__ import annotations

from datetime import datetime

from naver_sms.domain.booking import (
    BookingValidationError,
    parse_booking_time,
    split_booking_num,
)
from naver_sms.utils.clock import to_utc_z
from naver_sms.utils.logger import get_logger

log = get_logger(__name__)


class OptionWindows:
    """Per store, the earliest and latest visit among records whose option SMS is not sent.

    Records are fed one at a time from a scan; a record with a bad key or time
    is logged and skipped, never stops the scan.
    """

    def __init__(self) -> None:
        self._windows: dict[str, tuple[datetime, datetime]] = {}
        self.skipped = 0

    def __len__(self) -> int:
        return len(self._windows)

    def add(self, booking_num: str, booking_time: object) -> None:
        try:
            biz_id, _ = split_booking_num(booking_num)
            start = parse_booking_time(str(booking_time))
        except BookingValidationError as exc:
            self.skipped += 1
            log.warning(
                "Record skipped in option scan",
                operation="scan_unnotified_options",
                context={"booking_num": booking_num},
                error=str(exc),
            )
            return
        first, last = self._windows.get(biz_id, (start, start))
        self._windows[biz_id] = (min(first, start), max(last, start))

    def result(self) -> dict[str, dict[str, str]]:
        return {
            biz_id: {"start_time": to_utc_z(first), "end_time": to_utc_z(last)}
            for biz_id, (first, last) in sorted(self._windows.items())
        }
