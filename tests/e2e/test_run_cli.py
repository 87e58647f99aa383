"""`naver-sms run --json` end to end: sandbox Naver, fake SENS, the example config, SQLite."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from click.testing import CliRunner

from naver_sms.entrypoints.cli import cli
from tests.e2e.conftest import STORE, Shop, at

# The sandbox's bookings of the day (index: name, phone digits, visit).
#   today:    1 이민지 10:00 (인스타 option), 4 정서준 11:00, 7 장하늘 12:00, 10 김유나 13:00
#   tomorrow: 2 박민지 10:00, 5 강서준 11:00, 8 임하늘 12:00, 11 이유나 13:00
TODAY = ["01000000001", "01000000004", "01000000007", "01000000010"]
TOMORROW = ["01000000002", "01000000005", "01000000008", "01000000011"]
STORE_NAME = "샘플 스튜디오 강남점"


def phone(index: int) -> str:
    return f"010000000{index:02d}"


def kinds(shop: Shop, start: int = 0) -> list[tuple[str, str]]:
    """(recipient, first words) of the messages accepted since `start`, sorted."""
    found = []
    for message in shop.sens.accepted[start:]:
        if message.content_type == "AD":
            kind = "event"
        elif "예약 안내입니다" in message.content:
            kind = "reminder"
        else:
            kind = "confirmation"
        found.append((message.to, kind))
    return sorted(found)


def test_a_day_played_cycle_by_cycle_sends_exactly_the_expected_messages(any_shop: Shop) -> None:
    shop = any_shop
    morning = shop.run(at(9))
    assert morning.exit_code == 0, morning.stderr
    expected = [(p, "confirmation") for p in TODAY + TOMORROW]
    expected += [(phone(1), "reminder"), (phone(4), "reminder")]
    assert kinds(shop) == sorted(expected)
    assert Counter(item["kind"] for item in morning.report["sent"]) == {
        "confirmation": 8,
        "reminder": 2,
    }
    assert morning.report["bookings"] == 8  # yesterday's visits are neither RC03 nor RC08 of today

    noon = shop.run(at(12))
    assert [(s["booking_num"], s["kind"]) for s in noon.report["sent"]] == [
        (f"{STORE}_1100000010", "reminder")
    ]  # 12:00's visit has started: no reminder

    assert shop.run(at(13, 10)).report["sent"] == []

    before = len(shop.sens.accepted)
    evening = shop.run(at(20, 10))
    assert kinds(shop, before) == [(phone(1), "event")]
    assert evening.report["sent"][0]["phone_masked"] == "010-****-0001"

    again = shop.run(at(20, 10))
    assert again.report["sent"] == []
    assert len(shop.sens.accepted) == 12
    # The operator hears of the three cycles that sent something, not of the quiet ones.
    assert len(shop.telegram.messages) == 3


def test_the_texts_are_the_example_configs(shop: Shop) -> None:
    shop.run(at(9))
    shop.run(at(20, 10))
    texts = {(m.to, m.content_type, m.type): m.content for m in shop.sens.accepted}
    assert texts[(phone(1), "COMM", "SMS")] == (
        f"[{STORE_NAME}] 이민지님, 11월 25일 (수) 오전 10:00 예약이 확정되었습니다."
    )
    assert texts[(phone(1), "COMM", "LMS")] == (
        f"[{STORE_NAME}] 이민지님, 오전 10:00 예약 안내입니다.\n"
        "출입문 비밀번호: 0000*\n"
        "주차: 건물 뒤편 주차장 1시간 무료\n"
        "와이파이: sample-wifi / 00000000\n"
        "즐거운 시간 되세요."
    )
    assert texts[(phone(1), "AD", "LMS")] == (
        f"(광고){STORE_NAME}\n"
        "이민지님, 오늘 방문해 주셔서 감사합니다.\n"
        "선택하신 옵션(기본 이용 50분, 인스타 리뷰 이벤트) 관련 리뷰 이벤트에 참여하시면 "
        "작은 선물을 드립니다.\n"
        "무료수신거부 080-000-0000"
    )
    assert texts[(phone(2), "COMM", "SMS")].endswith(
        "11월 26일 (목) 오전 10:00 예약이 확정되었습니다."
    )


def test_a_second_run_of_the_same_moment_sends_nothing(shop: Shop) -> None:
    assert len(shop.run(at(9)).report["sent"]) == 10
    second = shop.run(at(9))
    assert second.exit_code == 0
    assert second.report["sent"] == []
    assert len(shop.sens.accepted) == 10


def test_a_send_that_fails_is_not_flagged_and_is_sent_next_cycle(shop: Shop) -> None:
    shop.sens.fail_next(1, status=429)  # one request, refused as too early: nothing went
    failed = shop.run(at(9))
    assert failed.exit_code == 1
    assert failed.report["sent"] == []
    assert {f["kind"] for f in failed.report["failed"]} == {"confirmation"}
    assert "error:" in failed.stderr
    listing = CliRunner().invoke(cli, ["bookings", "--date", "2026-11-25"], env=shop.env)
    assert "yes" not in listing.stdout

    shop.sens.clear()
    retried = shop.run(at(9, 5))
    assert retried.exit_code == 0
    assert Counter(s["kind"] for s in retried.report["sent"]) == {
        "confirmation": 8,
        "reminder": 2,
    }


def test_adopt_sends_nothing_and_a_later_cycle_sends_only_reminders(shop: Shop) -> None:
    adopted = shop.run(at(8, 30), "--adopt")
    assert adopted.exit_code == 0
    assert adopted.report["sent"] == []
    assert adopted.report["adopted"] == 8
    assert shop.sens.accepted == []
    later = shop.run(at(9))
    assert {s["kind"] for s in later.report["sent"]} == {"reminder"}
    assert kinds(shop) == [(phone(1), "reminder"), (phone(4), "reminder")]


def test_dry_run_writes_the_outbox_and_sends_nothing(shop: Shop) -> None:
    result = shop.run(at(9), "--dry-run")
    assert len(result.report["sent"]) == 10
    assert all(item["dry_run"] for item in result.report["sent"])
    assert shop.sens.accepted == []
    lines = (shop.tmp / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 10
    assert "01000000001" not in "".join(lines)


def test_a_dry_run_records_nothing_so_the_real_run_still_sends_everything(shop: Shop) -> None:
    shop.run(at(9), "--dry-run")
    shop.run(at(9), "--dry-run", "--adopt")

    real = shop.run(at(9))

    assert len(real.report["sent"]) == 10
    assert len(shop.sens.accepted) == 10


def test_an_expired_session_without_credentials_fails_with_one_line(shop: Shop) -> None:
    shop.naver.expire_sessions()
    result = shop.run(at(9))
    assert result.exit_code == 1
    assert shop.sens.accepted == []
    assert result.stderr.strip().splitlines()[-1].startswith("error: no Naver session")


def test_the_report_and_the_logs_hold_no_full_phone_number(shop: Shop) -> None:
    result = shop.run(at(9))
    assert "01000000001" not in result.stdout
    assert "010-0000-0001" not in result.stdout + result.stderr


def test_the_table_output_shows_who_got_what_and_why(shop: Shop) -> None:
    shop.naver.now = at(9)
    result = CliRunner().invoke(cli, ["run", "--now", at(9).isoformat()], env=shop.env)
    assert result.exit_code == 0, result.output
    assert "confirmation" in result.stdout
    assert "010-****-0001" in result.stdout
    assert "sent: confirmation 8, reminder 2" in result.stdout


def test_a_bad_now_is_a_usage_error(shop: Shop) -> None:
    result = CliRunner().invoke(cli, ["run", "--now", "tomorrow"], env=shop.env)
    assert result.exit_code == 2


def test_bookings_lists_the_records_with_masked_phones(shop: Shop) -> None:
    shop.run(at(9))
    result = CliRunner().invoke(
        cli, ["bookings", "--store", STORE, "--date", "2026-11-25"], env=shop.env
    )
    assert result.exit_code == 0, result.output
    assert "010-****-0001" in result.stdout
    assert "01000000001" not in result.stdout
    assert "4 bookings" in result.stdout
    bad = CliRunner().invoke(cli, ["bookings", "--date", "25.11.2026"], env=shop.env)
    assert bad.exit_code != 0


def test_init_writes_the_example_config_that_is_config_example_yaml(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    target = tmp_path / "n.yaml"
    assert CliRunner().invoke(cli, ["init", str(target)]).exit_code == 0
    shipped = (root / "src/naver_sms/example.yaml").read_text(encoding="utf-8")
    assert target.read_text(encoding="utf-8") == shipped
    assert shipped == (root / "config/example.yaml").read_text(encoding="utf-8")
    again = CliRunner().invoke(cli, ["init", str(target)])
    assert again.exit_code == 2
    assert "--force" in again.output


def test_invalid_bookings_are_reported_once_with_a_masked_phone_and_do_not_stop_the_cycle(
    shop: Shop,
) -> None:
    snapshot = {"startDateTime": "2026-11-25T06:00:00Z", "endDateTime": "2026-11-25T07:00:00Z"}
    landline = {"bookingId": 1_190_000_001, "bookingStatusCode": "RC03", "name": "유선"}
    shop.naver.add_booking(STORE, {**landline, "phone": "02-1234-5678", "snapshotJson": snapshot})
    masked = {"bookingId": 1_190_000_002, "bookingStatusCode": "RC03", "name": "가림"}
    shop.naver.add_booking(STORE, {**masked, "phone": "010-****-9999", "snapshotJson": snapshot})
    result = shop.run(at(9))
    assert result.exit_code == 0
    assert len(result.report["sent"]) == 10
    invalid = {item["booking_num"]: item for item in result.report["invalid"]}
    assert set(invalid) == {f"{STORE}_1190000001", f"{STORE}_1190000002"}
    assert invalid[f"{STORE}_1190000001"]["reason"] == "phone is not a Korean mobile number"
    assert "1234-5678" not in result.stdout + result.stderr
