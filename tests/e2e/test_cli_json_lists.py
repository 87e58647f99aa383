"""Every command that lists things prints it as JSON with --json: for scripts, not eyes."""

from __future__ import annotations

import json
import re
import sqlite3

from tests.e2e.conftest import Shop, at
from tests.e2e.test_run_cli_startup import invoke


def test_templates_check_json_has_every_text_and_its_problems(shop: Shop) -> None:
    code, out, err = invoke(shop, "templates", "check", "--json")

    assert code == 0, err
    rows = json.loads(out)
    assert {row["store"] for row in rows} == {"5000001", "5000002"}
    assert {"confirmation", "reminder", "event"} <= {row["kind"] for row in rows}
    assert all(row["problems"] == [] for row in rows)
    assert all(row["text"] and row["size"] for row in rows)


def test_templates_check_json_with_a_problem_exits_2_and_names_it(shop: Shop) -> None:
    config = shop.tmp / "naver-sms.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("{{ customer }}", "{{ custmer }}", 1), encoding="utf-8")

    code, out, _err = invoke(shop, "templates", "check", "--json")

    assert code == 2
    problems = [p for row in json.loads(out) for p in row["problems"]]
    assert any("custmer" in problem for problem in problems)


def test_session_show_json_lists_the_cookies_with_values_masked(shop: Shop) -> None:
    with sqlite3.connect(shop.env["NAVER_SMS_DB"]) as db:
        (cookies,) = db.execute("SELECT cookies FROM session").fetchone()
    values = [cookie["value"] for cookie in json.loads(cookies)]

    code, out, _err = invoke(shop, "session", "show", "--json")

    assert code == 0
    shown = json.loads(out)
    assert shown["stored"] is True
    assert {"NID_AUT", "NID_SES"} <= {cookie["name"] for cookie in shown["cookies"]}
    assert [value for value in values if value in out] == []


def test_session_show_json_without_a_session_says_so(shop: Shop) -> None:
    with sqlite3.connect(shop.env["NAVER_SMS_DB"]) as db:
        db.execute("DELETE FROM session")

    code, out, _err = invoke(shop, "session", "show", "--json")

    assert code == 0
    assert json.loads(out) == {"stored": False, "cookies": []}


def test_bookings_json_of_an_empty_day_is_an_empty_list(shop: Shop) -> None:
    shop.run(at(9))

    code, out, _err = invoke(shop, "bookings", "--date", "2030-01-01", "--json")

    assert code == 0
    assert json.loads(out) == []
    assert not re.search(r"010-?0000", out)
