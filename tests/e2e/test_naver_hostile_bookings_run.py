"""`naver-sms run` with the bookings that stopped every cycle (issues 11.1, 11.2, 10.12).

A zero-date visit end made every cycle of every store exit 2; half an emoji
in a name crashed every SQLite cycle at the insert. Each must now cost that
one booking at most, and a legacy 10-digit 010 customer gets their messages.
"""

from __future__ import annotations

from datetime import timedelta

from naver_sms.database.sqlite_repository import SqliteBookingRepository
from naver_sms.sandbox.naver import booking_entry
from tests.e2e.conftest import STORE, Shop, at
from tests.phones import legacy_010

EMOJI_NUM = f"{STORE}_1190000002"

LEGACY = legacy_010("010-0000-1003")[0]  # a legacy 10-digit 010 customer


def test_a_zero_date_visit_end_is_one_invalid_booking_and_a_10_digit_010_is_served(
    any_shop: Shop,
) -> None:
    shop = any_shop
    start = at(15)
    zero = booking_entry(
        STORE, 1_190_000_001, start, status="RC03", name="영날짜", phone="01000001001"
    )
    zero["snapshotJson"]["endDateTime"] = "0001-01-01T00:00:00Z"
    legacy = booking_entry(
        STORE, 1_190_000_003, start + timedelta(hours=1), status="RC03", name="옛번호",
        phone=LEGACY,
    )  # fmt: skip
    shop.naver.add_booking(STORE, zero)
    shop.naver.add_booking(STORE, legacy)

    result = shop.run(at(9))

    assert result.exit_code == 0, result.report.get("failed") or result.stderr[-2000:]
    assert [item["booking_num"] for item in result.report["invalid"]] == [f"{STORE}_1190000001"]
    assert "endDateTime" in result.report["invalid"][0]["reason"]
    assert "0001-01-01" in result.report["invalid"][0]["reason"]
    sent = {(item["booking_num"], item["kind"]) for item in result.report["sent"]}
    assert (f"{STORE}_1190000003", "confirmation") in sent
    assert len(sent) == 10 + 1  # the day's ten messages and the legacy customer's
    assert LEGACY in {message.to for message in shop.sens.accepted}
    again = shop.run(at(9, 5))
    assert again.exit_code == 0
    assert again.report["sent"] == []


def test_half_an_emoji_in_a_name_is_stored_on_sqlite_and_stops_no_other_booking(
    shop: Shop,
) -> None:
    emoji = booking_entry(
        STORE, 1_190_000_002, at(15), status="RC03", name="김\ud83d", phone="01000001002"
    )
    shop.naver.add_booking(STORE, emoji)

    result = shop.run(at(9))

    assert "Traceback" not in result.stderr
    assert result.report["invalid"] == []
    others = {item["booking_num"] for item in result.report["sent"]} - {EMOJI_NUM}
    assert len(others) == 8  # every other booking of the day was confirmed as before
    # The customer's own message goes too, the broken character replaced and said so.
    [mine] = [item for item in result.report["sent"] if item["booking_num"] == EMOJI_NUM]
    assert any("replaced" in note for note in mine["adjusted"])
    assert result.exit_code == 0, result.stderr[-2000:]
    record = SqliteBookingRepository(shop.tmp / "naver-sms.db").get_booking(
        EMOJI_NUM, "010-0000-1002"
    )
    assert record is not None
    assert record["name"] == "김\ufffd"
