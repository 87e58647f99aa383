"""A history entry that cannot be written never undoes a message's mark.

The message is sent and its record says so; the entry only lists it under its
day, and the check that settles it writes the entry again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import pytest

from naver_sms.database.exceptions import RepositoryUnreachable
from naver_sms.domain.booking import KST
from naver_sms.domain.delivery import DeliveryUpdate
from tests.fakes import MemoryBookingRepository

NUM = "1051707_90001"
PHONE = "010-0000-4321"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=KST)


class HistoryDown(MemoryBookingRepository):
    """The history's table unreachable until `down` is cleared."""

    down = True

    def _add_histories(self, entries: Sequence[tuple[str, str, str]]) -> None:
        if self.down:
            raise RepositoryUnreachable("cannot reach the history table", "add_history")
        super()._add_histories(entries)


def test_a_mark_stands_when_its_history_entry_fails_and_the_check_writes_it_again(
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = HistoryDown()
    store.create_booking(
        {"booking_num": NUM, "phone": PHONE, "name": "Kim", "booking_time": "2026-12-20 14:30:00"}
    )
    store.claim(NUM, PHONE, "confirm_sms", "cycle", NOW)
    capsys.readouterr()

    assert store.mark_sent(NUM, PHONE, "confirm_sms", "cycle", "req-1", NOW, channel="sms")

    assert store.get_booking(NUM, PHONE)["confirm_sms_status"] == "accepted"  # type: ignore[index]
    assert store.sent_on("2026-12-01") == []
    warnings = [
        json.loads(line)
        for line in capsys.readouterr().err.splitlines()
        if line.startswith("{") and '"WARNING"' in line
    ]
    assert [w["operation"] for w in warnings] == ["mark_sent"]
    assert warnings[0]["context"]["phone_masked"] == "010-****-4321"
    assert PHONE not in json.dumps(warnings)

    store.down = False
    settled = DeliveryUpdate(
        booking_num=NUM,
        phone=PHONE,
        set={"confirm_sms_status": "delivered"},
        expected={"confirm_sms_status": "accepted"},
        due=None,
        days=frozenset({"2026-12-01"}),
    )
    assert store.record_delivery(settled)
    assert [r["booking_num"] for r in store.sent_on("2026-12-01")] == [NUM]
