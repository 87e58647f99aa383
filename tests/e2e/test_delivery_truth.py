"""Each message's fate from claim to handset, end to end on SQLite and both DynamoDB servers.

`naver-sms run` against the sandbox Naver and the fake SENS, whose result
lookups answer per number as the test chooses; `naver-sms messages` reads
what the cycles recorded.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from click.testing import CliRunner

from naver_sms.entrypoints.cli import cli
from tests.e2e.conftest import STORE, Shop, at
from tests.e2e.test_run_cli import TODAY, TOMORROW, phone

DAY = "2026-11-25"


def history(shop: Shop, *args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["messages", "--json", *args], env=shop.env)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_results_are_recorded_and_the_history_lists_exactly_what_was_sent(
    any_shop: Shop,
) -> None:
    shop = any_shop
    shop.sens.set_outcome(phone(4), "failed", code="3018", message="전화번호 오류")
    morning = shop.run(at(9))
    assert len(morning.report["sent"]) == 10
    assert morning.report["delivered"] == morning.report["undelivered"] == []  # too early

    later = shop.run(at(9, 5))
    assert later.exit_code == 0, later.stderr
    undelivered = later.report["undelivered"]
    # Phone 4 got a confirmation and a reminder at 09:00: both failed at the carrier.
    assert sorted(u["kind"] for u in undelivered) == ["confirmation", "reminder"]
    assert {u["phone_masked"] for u in undelivered} == {"010-****-0004"}
    assert all("3018" in u["result"] for u in undelivered)
    assert len(later.report["delivered"]) == 8
    assert later.report["sent"] == []  # a failed delivery never makes a message due again

    rows = history(shop, "--date", DAY)
    sent = {(s["booking_num"], s["kind"], s["request_id"]) for s in morning.report["sent"]}
    assert {(r["booking_num"], r["kind"], r["request_id"]) for r in rows} == sent
    assert [r["sent_at"] for r in rows] == sorted((r["sent_at"] for r in rows), reverse=True)
    assert all(r["sent_at"].startswith(f"{DAY}T09:00") for r in rows)
    assert {r["status"] for r in rows} == {"delivered", "failed"}
    assert {r["channel"] for r in rows} == {"sms", "lms"}
    failed = history(shop, "--date", DAY, "--status", "failed", "--store", STORE)
    assert {r["phone_masked"] for r in failed} == {"010-****-0004"}
    table = CliRunner().invoke(cli, ["messages", "--date", DAY], env=shop.env)
    for number in TODAY + TOMORROW:
        assert number not in table.stdout
        assert number not in json.dumps(rows)
    assert "failed 2" in table.stdout
    assert "by channel: sms 8, lms 2" in table.stdout

    # Telegram hears of the two texts that did not reach the phone.
    assert "not delivered 2" in shop.telegram.messages[-1].text


def test_a_message_stuck_in_processing_becomes_unknown_after_72_hours(any_shop: Shop) -> None:
    shop = any_shop
    shop.sens.set_outcome(phone(2), "processing")
    shop.run(at(9))
    assert shop.run(at(9, 5)).report["undelivered"] == []
    day_later = shop.run(at(9) + timedelta(hours=24))
    assert all(u["phone_masked"] != "010-****-0002" for u in day_later.report["undelivered"])
    late = shop.run(at(9) + timedelta(hours=72, minutes=1))
    stuck = [u for u in late.report["undelivered"] if u["phone_masked"] == "010-****-0002"]
    assert [(u["kind"], u["status"]) for u in stuck] == [("confirmation", "unknown")]
    [row] = [r for r in history(shop, "--date", DAY) if r["phone_masked"] == "010-****-0002"]
    assert row["status"] == "unknown"
    assert "72 hours" in row["result"]


def test_an_opted_out_customer_gets_the_confirmation_and_guide_but_no_event(
    any_shop: Shop,
) -> None:
    shop = any_shop
    shop.sens.opt_out(phone(1))  # today's 10:00 visit with the Instagram option
    shop.run(at(9))
    evening = shop.run(at(20, 10))
    assert evening.report["sent"] == []
    [held] = [h for h in evening.report["held"] if h["kind"] == "event"]
    assert held["phone_masked"] == "010-****-0001"
    assert "opted out" in held["why"]
    rows = history(shop, "--date", DAY)
    kinds = sorted(r["kind"] for r in rows if r["phone_masked"] == "010-****-0001")
    assert kinds == ["confirmation", "reminder"]


def test_an_unreadable_opt_out_list_holds_advertising_only(any_shop: Shop) -> None:
    shop = any_shop
    shop.sens.fail_optouts = True
    morning = shop.run(at(9))
    assert len(morning.report["sent"]) == 10  # informational messages go on
    evening = shop.run(at(20, 10))
    assert evening.report["sent"] == []
    [held] = [h for h in evening.report["held"] if h["kind"] == "event"]
    assert "opt-out list" in held["why"]
    shop.sens.fail_optouts = False
    assert [s["kind"] for s in shop.run(at(20, 15)).report["sent"]] == ["event"]


def test_a_rehearsal_honours_the_opt_out_list_like_the_real_cycle(shop: Shop) -> None:
    shop.sens.opt_out(phone(1))
    shop.run(at(9))
    rehearsal = shop.run(at(20, 10), "--dry-run")
    assert rehearsal.report["dry_run"] is True
    assert [s["kind"] for s in rehearsal.report["sent"]] == []
    [held] = [h for h in rehearsal.report["held"] if h["kind"] == "event"]
    assert "opted out" in held["why"]
    assert shop.sens.send_requests == 2  # the morning's two requests; nothing since
