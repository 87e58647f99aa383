"""`naver-sms demo`: a believable day, every kind, nothing twice, no network, quickly."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date

from click.testing import CliRunner

from naver_sms.demo import demo_config, run_demo
from naver_sms.entrypoints.cli import cli


def test_the_demo_day_sends_every_kind_once_and_the_rerun_nothing() -> None:
    config = demo_config()
    day = run_demo(config, day=date(2026, 11, 25))
    sent = Counter(s["kind"] for c in day.cycles for s in c.report["sent"])
    # One customer opted out by the 080 line: its event message is held, not sent.
    # One cancels tomorrow's booking (its notice, never its day-before reminder); one
    # moves theirs (its notice, and the day-before reminder again for the new time).
    assert sent == {
        "confirmation": 19,
        "reminder": 7,
        "event": 2,
        "day_before": 18,
        "cancelled": 1,
        "changed": 1,
    }
    assert day.accepted == 48
    cancelled = next(s for s in day.items("sent") if s["kind"] == "cancelled")
    assert all(
        s["kind"] != "day_before"
        for s in day.items("sent")
        if s["booking_num"] == cancelled["booking_num"]
    )
    changed = next(s for s in day.items("sent") if s["kind"] == "changed")
    again = [s["kind"] for s in day.items("sent") if s["booking_num"] == changed["booking_num"]]
    # Moved before its day-before reminder fell due: the notice, then the reminder.
    assert again == ["confirmation", "changed", "day_before"]
    assert day.cycles[-1].report["sent"] == []
    assert all(c.report["failed"] == [] and c.report["errors"] == [] for c in day.cycles)
    opted_out = {h["phone_masked"] for h in day.items("held") if "opted out" in h["why"]}
    assert opted_out == {day.opted_out}
    # One customer's number is out of service: the carrier refuses its confirmation.
    undelivered = day.items("undelivered")
    assert sorted(u["kind"] for u in undelivered) == ["confirmation", "day_before"]
    for item in undelivered:
        assert (item["phone_masked"], item["status"]) == (day.unreachable, "failed")
        assert "3018" in item["result"]
    assert len(day.items("delivered")) >= 20
    # The example's AlimTalk section, switched on: confirmations and guides go as
    # AlimTalk; two customers without KakaoTalk get the SMS failover.
    assert day.alimtalk == 26
    assert day.failovers == 2
    channels = Counter(s["channel"] for s in day.items("sent"))
    assert channels == {"alimtalk": 26, "lms": 3, "sms": 19}
    [failover] = [d for d in day.items("delivered") if "SMS failover" in d["result"]]
    assert (failover["phone_masked"], failover["channel"]) == (day.no_kakao, "alimtalk")
    assert failover["result"].startswith("delivered by SMS failover")
    assert {kind for kind, _text in day.texts} == {
        "confirmation (AlimTalk)",
        "reminder (AlimTalk)",
        "event",
        "day_before",
        "cancelled",
        "changed",
    }


def test_naver_sms_demo_shows_the_day_in_well_under_30_seconds() -> None:
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 30
    for word in ("09:00 KST", "20:10 KST", "confirmation", "reminder", "event", "(광고)"):
        assert word in result.stdout
    words = " ".join(result.stdout.split())  # the terminal wraps long lines
    assert "the repeated 20:10 cycle sent nothing" in words
    assert "not delivered" in result.stdout
    assert "opted out on" in result.stdout
    assert "sent (alimtalk)" in result.stdout
    assert "SMS failover" in result.stdout
    for kind in ("day_before", "cancelled", "changed"):
        assert kind in result.stdout
    assert '"level"' not in result.stdout
