"""`naver-sms run` with AlimTalk first, end to end: the sandbox's Kakao, failover, history.

The example config with its commented `alimtalk:` section switched on, the
fake SENS approving exactly those templates, on SQLite and both DynamoDB
servers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from naver_sms.demo import with_alimtalk
from naver_sms.entrypoints.cli import cli
from tests.e2e.conftest import Shop, at
from tests.e2e.test_run_cli import phone

CONFIRM = "#{고객명}님, #{방문일시} 예약이 확정되었습니다."


def with_kakao(shop: Shop, **approved: str) -> None:
    """The shop's config sends confirmations and guides as AlimTalk; the fake Kakao
    approved the example's templates (or, by code, the texts given)."""
    path = Path(shop.env["NAVER_SMS_CONFIG"])
    path.write_text(with_alimtalk(path.read_text(encoding="utf-8")), encoding="utf-8")
    shop.env["SENS_ALIMTALK_SERVICE_ID"] = shop.sens.alimtalk_service_id
    templates = {
        "CONFIRM01": CONFIRM,
        "GUIDE01": "#{고객명}님, 오늘 #{방문시간} 방문 예정입니다.\n예약 상품: #{상품}",
        **approved,
    }
    for code, content in templates.items():
        shop.sens.approve_template("@sample-studio", code, content)


def history(shop: Shop) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["messages", "--json", "--date", "2026-11-25"], env=shop.env)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def test_confirmations_and_guides_go_as_alimtalk_and_the_failover_is_on_record(
    any_shop: Shop,
) -> None:
    shop = any_shop
    with_kakao(shop)
    shop.sens.no_kakao(phone(4))
    morning = shop.run(at(9))
    assert morning.exit_code == 0, morning.stderr
    assert morning.report["sent_by_channel"] == {"sms": 0, "lms": 0, "alimtalk": 10}
    assert shop.sens.accepted == []  # no text went through the SMS API
    assert len(shop.sens.accepted_alimtalk) == 10
    # One request per template: the eight confirmations, then the two guides.
    assert shop.sens.alimtalk_requests == 2
    # Phone 4 has no KakaoTalk: its confirmation and guide went as their SMS failover.
    assert sorted(f.to for f in shop.sens.failovers) == [phone(4), phone(4)]

    shop.run(at(9, 5))
    rows = {(r["phone_masked"], r["kind"]): r for r in history(shop)}
    assert {r["channel"] for r in rows.values()} == {"alimtalk"}
    routed = rows[("010-****-0004", "confirmation")]
    assert routed["status"] == "delivered"
    assert routed["result"].startswith("delivered by SMS failover")
    assert rows[("010-****-0001", "confirmation")]["result"].startswith("delivered (AlimTalk")


def test_a_template_kakao_did_not_approve_is_refused_and_retried_not_recorded(
    shop: Shop,
) -> None:
    with_kakao(shop, CONFIRM01="#{고객명}님, 예약이 확정되었습니다.")  # not the config's text
    morning = shop.run(at(9))
    refused = [f for f in morning.report["failed"] if f["kind"] == "confirmation"]
    assert len(refused) == 8
    assert all("3016" in f["error"] for f in refused)
    assert morning.exit_code == 1
    # Nothing recorded; the guides of those bookings wait for their confirmation.
    assert history(shop) == []
    assert morning.report["sent"] == []
    # Approved at last (as the owner fixes the config or Kakao approves): they go.
    shop.sens.approve_template("@sample-studio", "CONFIRM01", CONFIRM)
    later = shop.run(at(9, 5))
    kinds = sorted(s["kind"] for s in later.report["sent"])
    assert kinds == ["confirmation"] * 8 + ["reminder"] * 2


def test_a_config_that_sends_alimtalk_without_its_service_id_refuses_to_run(
    shop: Shop,
) -> None:
    with_kakao(shop)
    del shop.env["SENS_ALIMTALK_SERVICE_ID"]
    process = shop.spawn(at(9))
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 2
    [line] = err.strip().splitlines()
    assert "SENS_ALIMTALK_SERVICE_ID" in line
    assert shop.sens.accepted == []
    assert shop.sens.accepted_alimtalk == []
