"""`naver-sms demo`: a believable day, every kind, nothing twice, no network, quickly."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date

import yaml
from click.testing import CliRunner

from naver_sms.config import AppConfig
from naver_sms.demo import run_demo, with_alimtalk
from naver_sms.entrypoints.cli import cli, example_config


def test_the_demo_day_sends_every_kind_once_and_the_rerun_nothing() -> None:
    config = AppConfig.model_validate(yaml.safe_load(with_alimtalk(example_config())))
    day = run_demo(config, day=date(2026, 11, 25))
    sent = Counter(s["kind"] for c in day.cycles for s in c.report["sent"])
    # One customer opted out by the 080 line: its event message is held, not sent.
    assert sent == {"confirmation": 19, "reminder": 7, "event": 2}
    assert day.accepted == 28
    assert day.cycles[-1].report["sent"] == []
    assert all(c.report["failed"] == [] and c.report["errors"] == [] for c in day.cycles)
    opted_out = {h["phone_masked"] for h in day.items("held") if "opted out" in h["why"]}
    assert opted_out == {day.opted_out}
    # One customer's number is out of service: the carrier refuses its confirmation.
    [undelivered] = day.items("undelivered")
    assert (undelivered["phone_masked"], undelivered["status"]) == (day.unreachable, "failed")
    assert "3018" in undelivered["result"]
    assert len(day.items("delivered")) >= 20
    # The example's AlimTalk section, switched on: confirmations and guides go as
    # AlimTalk; two customers without KakaoTalk get the SMS failover.
    assert day.alimtalk == 26
    assert day.failovers == 2
    channels = Counter(s["channel"] for s in day.items("sent"))
    assert channels == {"alimtalk": 26, "lms": 2}
    [failover] = [d for d in day.items("delivered") if "SMS failover" in d["result"]]
    assert (failover["phone_masked"], failover["channel"]) == (day.no_kakao, "alimtalk")
    assert failover["result"].startswith("delivered by SMS failover")
    assert {kind for kind, _text in day.texts} == {
        "confirmation (AlimTalk)",
        "reminder (AlimTalk)",
        "event",
    }


def test_naver_sms_demo_shows_the_day_in_well_under_30_seconds() -> None:
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 30
    for word in ("09:00 KST", "20:10 KST", "confirmation", "reminder", "event", "(광고)"):
        assert word in result.stdout
    assert "the repeated 20:10 cycle sent nothing" in result.stdout
    assert "not delivered" in result.stdout
    assert "opted out on" in result.stdout
    assert "sent (alimtalk)" in result.stdout
    assert "SMS failover" in result.stdout
    assert '"level"' not in result.stdout
