"""`naver-sms optouts` and the cycle against the sandbox SENS's 080 opt-out list."""

from __future__ import annotations

from tests.e2e.conftest import Shop, at
from tests.e2e.test_run_cli_startup import NO_SENS, error_lines, invoke


def optouts(shop: Shop, *args: str, **env: str) -> tuple[int, str, str]:
    return invoke(shop, "optouts", *args, **env)


def test_a_customer_who_asked_by_phone_gets_no_event_until_removed(shop: Shop) -> None:
    code, out, _ = optouts(shop, "add", "010-0000-0001")
    assert code == 0
    assert "010-****-0001 opted out" in out
    code, out, _ = optouts(shop)
    assert code == 0
    assert "010-****-0001" in out
    assert "01000000001" not in out.replace("-", "")

    shop.run(at(9))
    before = len(shop.sens.accepted)
    evening = shop.run(at(20, 10))
    assert [m for m in shop.sens.accepted[before:] if m.content_type == "AD"] == []
    assert any(item["why"].startswith("opted out on") for item in evening.report["held"])

    code, out, _ = optouts(shop, "remove", "010-0000-0001")
    assert code == 0
    assert "removed" in out
    later = shop.run(at(20, 15))
    assert [item["kind"] for item in later.report["sent"]] == ["event"]


def test_the_opt_out_commands_fail_in_one_line(shop: Shop) -> None:
    code, _, err = optouts(shop, **dict.fromkeys(NO_SENS, ""))
    assert code == 2
    assert err.startswith("error: no SENS keys")
    code, _, err = optouts(shop, "add", "02-000-0000")
    assert code == 2
    assert "not a Korean mobile number" in err
    shop.sens.fail_optouts = True
    code, _, err = optouts(shop)
    assert code == 1
    # One line for the owner (the JSON log line beside it is for machines).
    [line] = [text for text in error_lines(err) if not text.startswith("{")]
    assert line == "error: HTTP 500: SENS's opt-out list: Internal error"
    assert "Traceback" not in err
