"""The today page reads the stored bookings once per day, whatever the number of stores.

On DynamoDB a listing is a Scan of the whole table: one per store and day made
a page view read the table stores x days times.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from naver_sms.config import AppConfig
from naver_sms.domain.booking import KST, Booking
from naver_sms.report import CycleReport
from naver_sms.web.owner import Owner
from tests.fakes import MemoryBookingRepository, MemorySessionRepository

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=KST)
STORES = [("5000001", "가게 하나"), ("5000002", "가게 둘"), ("5000003", "가게 셋")]


class NoNaver:
    def check_session(self, cookies: Any, biz_id: str, today: Any) -> bool:
        raise AssertionError("the today page asks Naver nothing")


def _config() -> AppConfig:
    return AppConfig.model_validate(
        {"stores": [{"id": i, "name": n, "sender": "0200000000"} for i, n in STORES]}
    )


def _rehearse(_now: datetime) -> CycleReport:
    raise AssertionError("the today page runs no cycle")


def test_the_today_page_lists_each_day_once_and_gives_each_store_its_own() -> None:
    bookings = MemoryBookingRepository()
    for number, (store, _name) in enumerate(STORES, start=1):
        for day in ("2026-11-25", "2026-11-26"):
            bookings.create_booking(
                Booking(
                    booking_num=f"{store}_11000000{number}{day[-1]}",
                    phone=f"010-0000-00{number}{day[-1]}",
                    name="이서준",
                    booking_time=f"{day} 14:00:00",
                ).to_item()
            )
    owner = Owner(
        config=_config(),
        bookings=bookings,
        sessions=MemorySessionRepository(),
        booking_api=NoNaver(),
        rehearse_cycle=_rehearse,
    )
    bookings.calls.clear()

    days = owner.today(NOW)

    assert bookings.calls.count("list_bookings") == 2  # today and tomorrow, not 3 x 2
    assert [(d.store_id, d.day, [b.booking_num for b in d.bookings]) for d in days] == [
        (store, day, [f"{store}_11000000{n}{day[-1]}"])
        for n, (store, _name) in enumerate(STORES, start=1)
        for day in ("2026-11-25", "2026-11-26")
    ]
    assert all(b.phone.startswith("010-****-") for d in days for b in d.bookings)
