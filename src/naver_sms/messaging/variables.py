"""The template variables, by name: what each is, and a sample value for the docs and help.

Kept apart from `messaging.templates` (Jinja2, the config's pydantic) so that
`naver-sms templates --help`, which lists them, loads click only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# name -> (what it is, sample value shown in docs)
VARIABLES: Final[Mapping[str, tuple[str, str]]] = {
    "customer": ("the customer's name", "홍길동"),
    "store": ("the store's name", "샘플 스튜디오"),
    "visit_time": ("visit date and time, KST", "11월 24일 (화) 오후 2:00"),
    "visit_date": ("visit date, KST", "11월 24일 (화)"),
    "visit_clock": ("visit time of day, KST", "오후 2:00"),
    "visit_short": ("visit date and time, short", "11/24 14:00"),
    "visit_iso": ("visit date and time, ISO-like", "2026-11-24 14:00"),
    "previous_visit_time": (
        "a change notice's old visit date and time (else the visit's)",
        "11월 23일 (월) 오전 11:00",
    ),
    "previous_visit_date": ("a change notice's old visit date", "11월 23일 (월)"),
    "previous_visit_clock": ("a change notice's old time of day", "오전 11:00"),
    "item": ("the booked item (Naver bizItemName)", "기본 촬영"),
    "options": ("the option names, a list", "['네이버 리뷰 이벤트']"),
    "options_text": ("the option names joined with ', '", "네이버 리뷰 이벤트, 원본 추가"),
    "booking_num": ("the booking number {businessId}_{bookingId}", "5000001_1000000001"),
    "booking_id": ("Naver's bookingId", "1000000001"),
    "sender": ("the store's sender number", "0200000000"),
    "opt_out": ("the store's opt-out number (may be empty)", "080-000-0000"),
}
