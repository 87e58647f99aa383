"""The owner's pages' data (`bootstrap.owner`) over real parts: a SQLite file written by
real cycles, the sandbox Naver and the fake SENS on loopback, at a fixed `now`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from naver_sms import bootstrap
from naver_sms.config import Settings, load_app_config, load_settings
from naver_sms.database.sqlite_repository import SqliteSessionRepository
from naver_sms.web import model
from naver_sms.web.model import HistoryFilter, MessageState, OwnerPort, WebUserError
from naver_sms.web.owner import TEST_SENDS_PER_DAY
from tests.e2e.conftest import STORE, Shop, at

DAY = "2026-11-25"
TO = "010-0000-4321"
# Every customer number of the sandbox store, in the forms a page could show.
FULL_NUMBER = re.compile(r"01[016789]-?[0-9]{3,4}-?[0-9]{4}")


def settings_of(shop: Shop, **env: str) -> Settings:
    return load_settings({**os.environ, **shop.env, **env})


def owner_of(shop: Shop, **env: str) -> Iterator[OwnerPort]:
    settings = settings_of(shop, **env)
    with bootstrap.owner(settings, load_app_config(settings.config_path)) as owner:
        yield owner


@pytest.fixture
def owner(shop: Shop) -> Iterator[OwnerPort]:
    yield from owner_of(shop)


def bookings_of(owner: OwnerPort, now: datetime) -> dict[str, model.BookingLine]:
    return {
        line.booking_num: line
        for day in owner.today(now)
        if day.store_id == STORE
        for line in day.bookings
    }


def states(line: model.BookingLine) -> dict[str, tuple[MessageState, str]]:
    return {message.name: (message.state, message.why) for message in line.messages}


# --- today ----------------------------------------------------------------------------------


def test_today_shows_each_message_s_state_and_reason(shop: Shop, owner: OwnerPort) -> None:
    assert shop.run(at(9)).exit_code == 0

    lines = bookings_of(owner, at(9, 1))

    first = lines[f"{STORE}_1100000001"]  # 10:00, an 인스타 option
    assert first.phone == "010-****-0001"
    assert first.status == "confirmed"
    assert [m.name for m in first.messages] == ["confirmation", "reminder", "event"]
    assert first.messages[0].state is MessageState.SENT
    assert first.messages[0].channel == "sms"
    assert first.messages[0].at is not None
    assert first.messages[0].at.hour == 9
    assert states(first)["event"] == (
        MessageState.HELD,
        "not yet: goes after the visit, from 11-25 11:00",
    )
    noon = lines[f"{STORE}_1100000007"]  # 12:00: its reminder goes from 10:00
    assert states(noon)["reminder"] == (MessageState.HELD, "not yet: goes from 11-25 10:00")
    assert "event" not in states(noon)  # no option matches: it never gets one
    # Tomorrow's bookings are on the page too, their confirmation sent.
    tomorrow = lines[f"{STORE}_1100000002"]
    assert tomorrow.visit.date().isoformat() == "2026-11-26"
    assert states(tomorrow)["confirmation"][0] is MessageState.SENT


def test_a_message_falling_due_shows_as_due_with_the_schedule_s_reason(
    shop: Shop, owner: OwnerPort
) -> None:
    shop.run(at(9))

    noon = bookings_of(owner, at(10, 30))[f"{STORE}_1100000007"]

    state, why = states(noon)["reminder"]
    assert state is MessageState.DUE
    assert why == "visit at 11-25 12:00 starts within 2h"


def test_an_event_to_an_opted_out_number_shows_as_held_as_the_cycle_holds_it(
    shop: Shop, owner: OwnerPort
) -> None:
    shop.run(at(9))
    shop.sens.opt_out("01000000001", at=at(8))

    first = bookings_of(owner, at(20, 10))[f"{STORE}_1100000001"]  # 10:00, an 인스타 option

    assert states(first)["event"] == (MessageState.HELD, "opted out on 2026-11-25")


def test_delivered_and_failed_show_after_a_delivery_check(shop: Shop, owner: OwnerPort) -> None:
    shop.sens.set_outcome("01000000004", "failed", code="3018", message="전화번호 오류")
    shop.run(at(9))
    shop.run(at(9, 5))

    lines = bookings_of(owner, at(9, 6))

    assert states(lines[f"{STORE}_1100000001"])["confirmation"][0] is MessageState.DELIVERED
    failed = lines[f"{STORE}_1100000004"].messages[0]
    assert failed.state is MessageState.FAILED
    assert "3018" in failed.why


def test_a_cancelled_booking_says_so_and_is_offered_nothing_more(shop: Shop) -> None:
    config = Path(shop.env["NAVER_SMS_CONFIG"])
    text = config.read_text(encoding="utf-8")
    commented = "  # - name: cancelled\n  #   when: cancelled\n  #   template:"
    assert commented in text
    config.write_text(text.replace(commented, commented.replace("# ", "")), encoding="utf-8")
    shop.run(at(9))
    shop.naver.cancel(STORE, "1100000007", at=at(9, 30))
    shop.run(at(9, 40))

    for owner in owner_of(shop):
        line = bookings_of(owner, at(9, 41))[f"{STORE}_1100000007"]
        other = bookings_of(owner, at(9, 41))[f"{STORE}_1100000010"]

    assert line.status == "cancelled"
    assert states(line)["cancelled"][0] is MessageState.SENT
    assert states(line)["confirmation"][0] in (MessageState.SENT, MessageState.DELIVERED)
    assert "reminder" not in states(line)  # never offered to a booking that is off
    assert other.status == "confirmed"
    assert "cancelled" not in states(other)  # a notice that does not apply is not shown


def test_a_hostile_record_is_one_line_and_the_others_still_show(
    shop: Shop, owner: OwnerPort
) -> None:
    shop.run(at(9))
    with sqlite3.connect(shop.env["NAVER_SMS_DB"]) as db:
        db.execute(
            "INSERT INTO sms (booking_num, phone, name, booking_time, extra) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                f"{STORE}_1999999999",
                "not a phone",
                "call 010-0000-7777",
                f"{DAY} 15:00:00",
                json.dumps({"status": "RC03"}),
            ),
        )

    lines = bookings_of(owner, at(9, 1))

    hostile = lines[f"{STORE}_1999999999"]
    assert hostile.status == "unreadable"
    (message,) = hostile.messages
    assert "cannot be read" in message.why
    assert "010-0000-7777" not in repr(hostile)
    assert len(lines) == 9  # the 8 of today and tomorrow as well


# --- history ---------------------------------------------------------------------------------


def test_history_lists_what_was_sent_newest_first_and_filters_by_status(
    shop: Shop, owner: OwnerPort
) -> None:
    shop.sens.set_outcome("01000000004", "failed", code="3018", message="전화번호 오류")
    shop.run(at(9))
    shop.run(at(9, 5))
    shop.run(at(10, 30))

    every = owner.history(HistoryFilter("2026-11-24", DAY))
    failed = owner.history(HistoryFilter(DAY, DAY, store_id=STORE, status="failed"))

    assert len(every) == 11
    assert [line.sent_at for line in every] == sorted((m.sent_at for m in every), reverse=True)
    assert every[0].message == "reminder"
    assert every[0].sent_at.hour == 10
    assert {line.store_name for line in every} == {"샘플 스튜디오 강남점"}
    assert {(line.phone, line.status) for line in failed} == {("010-****-0004", "failed")}
    assert all("3018" in line.result for line in failed)


@pytest.mark.parametrize(
    ("first", "last"),
    [("2026-11-1", DAY), ("2026-10-01", DAY), (DAY, "2026-11-24"), ("yesterday", DAY)],
)
def test_a_bad_history_filter_is_one_line(owner: OwnerPort, first: str, last: str) -> None:
    with pytest.raises(WebUserError) as refused:
        owner.history(HistoryFilter(first, last))

    assert "\n" not in str(refused.value)


def test_history_csv_has_a_bom_a_header_masked_phones_and_kst_times(
    shop: Shop, owner: OwnerPort
) -> None:
    shop.run(at(9))

    text = owner.history_csv(HistoryFilter(DAY, DAY))

    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][:4] == ["sent_at", "store_id", "store_name", "booking_num"]
    assert len(rows) == 11
    assert all(row[0].startswith(f"{DAY}T09:00") and row[0].endswith("+09:00") for row in rows[1:])
    assert {row[4] for row in rows[1:]} >= {"010-****-0001", "010-****-0011"}
    assert not FULL_NUMBER.search(text)


# --- templates, test sends -------------------------------------------------------------------


def test_templates_are_the_check_of_every_store_and_message(owner: OwnerPort) -> None:
    rows = owner.templates()

    assert {(row.store.id, row.kind) for row in rows} >= {(STORE, "confirmation")}
    assert all(not row.problems for row in rows)


def test_a_test_send_reaches_sens_and_no_booking(shop: Shop, owner: OwnerPort) -> None:
    sent = owner.test_send(STORE, "confirm", TO, at(15))

    (accepted,) = shop.sens.accepted
    assert accepted.to == "01000004321"
    assert accepted.content == sent.text
    assert sent.to == "010-****-4321"
    assert sent.left_today == TEST_SENDS_PER_DAY - 1
    assert owner.history(HistoryFilter(DAY, DAY)) == []


def test_the_sixth_test_send_of_the_day_is_refused(shop: Shop, owner: OwnerPort) -> None:
    for _ in range(TEST_SENDS_PER_DAY):
        owner.test_send(STORE, "reminder", TO, at(15))

    with pytest.raises(WebUserError, match=str(TEST_SENDS_PER_DAY)):
        owner.test_send(STORE, "reminder", TO, at(16))

    assert len(shop.sens.accepted) == TEST_SENDS_PER_DAY
    assert owner.test_sends_left(at(16)) == 0
    assert owner.test_sends_left(at(15).replace(day=26)) == TEST_SENDS_PER_DAY


def test_an_event_test_to_an_opted_out_number_or_at_night_is_refused(
    shop: Shop, owner: OwnerPort
) -> None:
    with pytest.raises(WebUserError, match="08:00-21:00"):
        owner.test_send(STORE, "event", TO, at(22))
    shop.sens.opt_out(TO)
    with pytest.raises(WebUserError, match="opted out"):
        owner.test_send(STORE, "event", TO, at(15))

    assert shop.sens.accepted == []
    assert owner.test_sends_left(at(15)) == TEST_SENDS_PER_DAY


def test_an_alimtalk_test_without_the_alimtalk_service_is_refused_and_not_counted(
    shop: Shop,
) -> None:
    config = Path(shop.env["NAVER_SMS_CONFIG"])
    config.write_text(
        config.read_text(encoding="utf-8")
        + "alimtalk:\n"
        + "  plus_friend_id: '@sample-studio'\n"
        + "  templates:\n"
        + "    confirm:\n"
        + "      code: CONFIRM01\n"
        + "      content: '#{고객명}님, 예약이 확정되었습니다.'\n"
        + "      variables: {고객명: '{{ customer }}'}\n",
        encoding="utf-8",
    )
    for owner in owner_of(shop, SENS_ALIMTALK_SERVICE_ID=""):
        for _ in range(TEST_SENDS_PER_DAY + 1):
            with pytest.raises(WebUserError, match="SENS_ALIMTALK_SERVICE_ID"):
                owner.test_send(STORE, "confirm", TO, at(15))
        # Nothing went, so nothing was used: the owner can test again once it is set.
        assert owner.test_sends_left(at(15)) == TEST_SENDS_PER_DAY
    assert shop.sens.accepted == []


def test_the_today_page_asks_sens_for_the_080_list_only_when_a_store_advertises(
    shop: Shop,
) -> None:
    for owner in owner_of(shop):
        owner.today(at(15))
    assert shop.sens.optout_requests == 1
    config = Path(shop.env["NAVER_SMS_CONFIG"])
    config.write_text(
        re.sub(r"\n\s*opt_out: .*", "", config.read_text(encoding="utf-8")), encoding="utf-8"
    )
    for owner in owner_of(shop):
        owner.today(at(15))
    assert shop.sens.optout_requests == 1  # no store advertises: nothing to ask


def test_without_sens_keys_a_test_send_names_the_setting(shop: Shop) -> None:
    for owner in owner_of(shop, SENS_ACCESS_KEY="", SENS_SECRET_KEY="", SENS_SERVICE_ID=""):
        with pytest.raises(WebUserError, match="SENS_ACCESS_KEY"):
            owner.test_send(STORE, "confirm", TO, at(15))
        with pytest.raises(WebUserError, match="SENS_ACCESS_KEY"):
            owner.optouts()
    assert shop.sens.requests == 0


def test_a_test_send_to_a_number_that_is_not_mobile_is_refused_masked(owner: OwnerPort) -> None:
    with pytest.raises(WebUserError) as refused:
        owner.test_send(STORE, "confirm", "02-0000-1234", at(15))

    assert "mobile number" in str(refused.value)
    assert "0000-1234" not in str(refused.value)


# --- the Naver login --------------------------------------------------------------------------


def test_login_state_checks_the_stored_cookies_and_shows_no_value(
    shop: Shop, owner: OwnerPort
) -> None:
    state = owner.login_state(at(9))

    assert state.stored
    assert state.valid is True
    assert {"NID_AUT", "NID_SES"} <= set(state.cookie_names)
    stored = SqliteSessionRepository(Path(shop.env["NAVER_SMS_DB"])).get_session()
    assert stored is not None
    for cookie in stored.get_cookies_list():
        assert str(cookie["value"]) not in repr(state)


def test_expired_cookies_are_invalid_never_an_exception(shop: Shop, owner: OwnerPort) -> None:
    shop.naver.expire_sessions()

    state = owner.login_state(at(9))

    assert state.stored
    assert state.valid is False
    assert "refused" in state.problem


def test_pasting_cookies_stores_them_and_clears_login_needed(shop: Shop, owner: OwnerPort) -> None:
    sessions = SqliteSessionRepository(Path(shop.env["NAVER_SMS_DB"]))
    sessions.note_login_needed("Naver asks for a captcha", at(8))
    shop.naver.expire_sessions()
    assert owner.login_state(at(9), check=False).login_needed

    state = owner.paste_cookies(json.dumps(shop.naver.issue_session()), at(9))

    assert state.valid is True
    assert state.login_needed == ""
    assert state.saved_at == at(9)


def test_unusable_cookies_are_refused_with_the_validator_s_words_and_no_value(
    owner: OwnerPort,
) -> None:
    secret = "canary-cookie-value-1234567890"
    with pytest.raises(WebUserError) as refused:
        owner.paste_cookies(
            json.dumps([{"name": "NID_AUT", "value": secret, "domain": ".naver.com"}]), at(9)
        )

    assert "NID_SES" in str(refused.value)
    assert secret not in str(refused.value)


def test_cookies_of_another_site_are_refused_in_one_line_and_keep_the_session(
    shop: Shop, owner: OwnerPort
) -> None:
    secret = "canary-cookie-value-0987654321"
    other = [
        {"name": name, "value": secret, "domain": ".example.com"} for name in ("NID_AUT", "NID_SES")
    ]
    before = SqliteSessionRepository(Path(shop.env["NAVER_SMS_DB"])).get_session()

    with pytest.raises(WebUserError) as refused:
        owner.paste_cookies(json.dumps(other), at(9))

    assert "naver.com" in str(refused.value)
    assert secret not in str(refused.value)
    after = SqliteSessionRepository(Path(shop.env["NAVER_SMS_DB"])).get_session()
    assert after is not None
    assert before is not None
    assert after.cookies == before.cookies


# --- opt-outs, rehearsal ----------------------------------------------------------------------


def test_an_opt_out_is_added_listed_masked_and_removed(shop: Shop, owner: OwnerPort) -> None:
    assert owner.add_optout("01000004321") == "010-****-4321"
    listed = owner.optouts()
    assert [row.phone for row in listed] == ["010-****-4321"]
    assert "01000004321" in shop.sens.opted_out

    assert owner.remove_optout(TO) == "010-****-4321"
    assert owner.optouts() == []
    with pytest.raises(WebUserError):
        owner.add_optout("02-0000-4321")


def test_a_rehearsal_sends_nothing_and_marks_nothing(shop: Shop, owner: OwnerPort) -> None:
    rehearsal = owner.rehearse(at(9))

    assert rehearsal.report["dry_run"] is True
    assert len(rehearsal.report["sent"]) == 10
    assert shop.sens.accepted == []
    assert all(
        message.state not in (MessageState.SENT, MessageState.DELIVERED)
        for line in bookings_of(owner, at(9)).values()
        for message in line.messages
    )
    assert len(shop.run(at(9)).report["sent"]) == 10  # the real cycle still sends every one


# --- no full phone number anywhere ------------------------------------------------------------


def _strings(value: Any) -> Iterator[str]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            yield from _strings(getattr(value, item.name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def test_no_value_the_pages_get_holds_a_full_customer_number(shop: Shop, owner: OwnerPort) -> None:
    shop.sens.set_outcome("01000000004", "failed", code="3018", message="010-0000-0004 오류")
    shop.run(at(9))
    shop.run(at(9, 5))
    owner.add_optout(TO)
    values: list[Any] = [
        owner.today(at(9, 6)),
        owner.history(HistoryFilter(DAY, DAY)),
        owner.history_csv(HistoryFilter(DAY, DAY)),
        owner.optouts(),
        owner.rehearse(at(12)),
    ]
    if hasattr(SqliteSessionRepository, "get_note"):
        values += [owner.test_send(STORE, "confirm", TO, at(15)), owner.login_state(at(9))]

    for text in (s for value in values for s in _strings(value)):
        assert not FULL_NUMBER.search(text), text
