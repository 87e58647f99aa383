"""The cycle of docs/architecture.md with fakes for every port and a fixed `now` (KST)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from naver_sms.config import AppConfig
from naver_sms.cycle import CyclePorts, run_cycle
from naver_sms.database.base import claim_attributes
from naver_sms.domain.booking import KST, Booking
from naver_sms.domain.messages import AD_PREFIX, MessageType
from naver_sms.messaging.base import SendRejected
from naver_sms.naver.booking_api import UnusableEntry
from naver_sms.naver.errors import BookingApiError, LoginChallenge, LoginFailed
from naver_sms.report import CycleReport
from tests.fakes import (
    FakeAuthenticator,
    FakeBookingSource,
    MemoryBookingRepository,
    RecordingNotifier,
    RecordingSender,
)

STORE, OTHER = "5000001", "5000002"


def at(hour: int, minute: int = 0, day: int = 25) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=KST)


def make_config(**changes: Any) -> AppConfig:
    data: dict[str, Any] = {
        "stores": [
            {
                "id": STORE,
                "name": "샘플 스튜디오",
                "sender": "0200000000",
                "opt_out": "080-000-0000",
            },
            {"id": OTHER, "name": "샘플 공방", "sender": "0200000001", "opt_out": "080-000-0001"},
        ],
    }
    data.update(changes)
    return AppConfig.model_validate(data)


class World:
    """The fakes of one test, and a cycle runner."""

    def __init__(self, config: AppConfig | None = None) -> None:
        self.repository = MemoryBookingRepository()
        self.api = FakeBookingSource()
        self.authenticator = FakeAuthenticator()
        self.sender = RecordingSender()
        self.notifier = RecordingNotifier()
        self.sleeps: list[float] = []  # pauses between retries, recorded, never slept
        self.ports = CyclePorts(
            config=config or make_config(),
            repository=self.repository,
            booking_api=self.api,
            authenticator=self.authenticator,
            sender=self.sender,
            notifier=self.notifier,
        )
        self.serial = 0

    def add(
        self,
        start: str = "2026-11-25 14:00:00",
        *,
        store: str = STORE,
        status: str = "RC03",
        options: tuple[str, ...] = ("기본 이용",),
        name: str = "김민지",
    ) -> Booking:
        self.serial += 1
        return self.api.add(
            Booking(
                booking_num=f"{store}_{1100000000 + self.serial}",
                phone=f"010-0000-{self.serial:04d}",
                name=name,
                booking_time=start,
                extra={"status": status, "option_names": list(options), "item_name": "촬영"},
            )
        )

    def run(self, now: datetime, **kw: Any) -> CycleReport:
        kw.setdefault("sleep", self.sleeps.append)
        return run_cycle(ports=self.ports, now=now, **kw)

    def record(self, booking: Booking) -> dict[str, Any]:
        found = self.repository.get_booking(booking.booking_num, booking.phone)
        assert found is not None
        return found


def sent_kinds(report: CycleReport) -> list[tuple[str, str]]:
    return [(item.booking_num, item.kind) for item in report.sent]


# ---------------------------------------------------------------- session


def test_a_login_challenge_skips_fetching_alerts_the_operator_and_exits_3() -> None:
    world = World()
    world.authenticator.error = LoginChallenge("captcha")
    world.add()
    report = world.run(at(9))
    assert report.exit_code == 3
    assert world.api.calls == []
    assert world.sender.messages == []
    assert len(world.notifier.alerts) == 1
    assert "login --headed" in world.notifier.alerts[0]
    assert report.to_dict()["errors"][0]["error"].startswith("Naver login challenge")


def test_a_failed_login_fetches_nothing_and_fails_the_cycle() -> None:
    world = World()
    world.authenticator.error = LoginFailed("wrong password")
    report = world.run(at(9))
    assert report.exit_code == 1
    assert world.api.calls == []


def test_the_session_is_checked_once_per_cycle() -> None:
    world = World()
    world.run(at(9))
    assert world.authenticator.calls == 1


# ---------------------------------------------------------------- fetching


def test_each_store_is_fetched_for_confirmed_and_completed_bookings() -> None:
    world = World()
    world.run(at(9))
    today = at(9).date()
    assert sorted(world.api.calls) == sorted(
        [
            (STORE, "RC03", today, today + timedelta(days=30)),
            (STORE, "RC08", today, today),
            (OTHER, "RC03", today, today + timedelta(days=30)),
            (OTHER, "RC08", today, today),
        ]
    )


def test_a_store_whose_fetch_fails_is_reported_and_the_others_go_on() -> None:
    world = World()
    world.add(store=STORE)
    other = world.add(store=OTHER)
    world.api.failing[STORE] = BookingApiError("HTTP 500", biz_id=STORE, status="RC03")
    report = world.run(at(9))
    assert sent_kinds(report) == [(other.booking_num, "confirmation")]
    assert {error.shop for error in report.errors} == {STORE}
    assert "HTTP 500" in report.errors[0].error
    assert report.exit_code == 1
    assert any(STORE in alert for alert in world.notifier.alerts)


def test_an_invalid_booking_is_reported_once_with_a_masked_phone_and_the_cycle_goes_on() -> None:
    world = World()
    good = world.add()
    entry = UnusableEntry("phone is not a Korean mobile number", f"{STORE}_1", "***")
    world.api.unusable[(STORE, "RC03")] = [entry, entry]
    report = world.run(at(9))
    assert [item.to_dict() for item in report.invalid] == [
        {"booking_num": f"{STORE}_1", "reason": entry.reason, "phone_masked": "***"}
    ]
    assert sent_kinds(report) == [(good.booking_num, "confirmation")]
    assert report.exit_code == 0


# ---------------------------------------------------------------- records


def test_a_new_booking_is_stored_with_all_flags_false_before_any_send() -> None:
    world = World()
    booking = world.add()
    seen: list[dict[str, Any] | None] = []
    world.sender.before_request = lambda _messages: seen.append(
        world.repository.get_booking(booking.booking_num, booking.phone)
    )
    world.run(at(9))
    assert seen[0] is not None
    assert (seen[0]["confirm_sms"], seen[0]["remind_sms"], seen[0]["option_sms"]) == (
        False,
        False,
        False,
    )
    assert world.repository.calls.index("create_booking") < world.repository.calls.index("claim")


def test_a_booking_without_a_due_message_is_still_stored_and_its_skips_said_once() -> None:
    world = World()
    booking = world.add("2026-11-25 08:00:00")  # already started
    report = world.run(at(9))
    assert report.sent == []
    assert report.created == 1
    # Too late for a confirmation and a guide: skipped, with the reason, once. The
    # flags stay false (they mean "sent"); the skip and its reason are recorded.
    assert sorted(h.kind for h in report.held if h.why.startswith("skipped:")) == [
        "confirmation",
        "reminder",
    ]
    record = world.record(booking)
    assert record["confirm_sms"] is False
    assert record["confirm_sms_skipped"].startswith("skipped: the visit at 11-25 08:00")
    assert world.run(at(9, 5)).held == []


def test_records_are_loaded_in_one_batch() -> None:
    world = World()
    for _ in range(5):
        world.add()
    world.run(at(9))
    assert world.repository.calls.count("get_bookings") == 1
    assert "get_booking" not in world.repository.calls


# ---------------------------------------------------------------- the rules, through a cycle


def test_a_confirmation_is_sent_marked_and_not_sent_again() -> None:
    world = World()
    booking = world.add()
    first = world.run(at(9))
    assert sent_kinds(first) == [(booking.booking_num, "confirmation")]
    record = world.record(booking)
    assert record["confirm_sms"] is True
    assert record["confirm_sms_request_id"] == "req-1"
    assert "confirm_sms_at" in record
    assert world.run(at(9)).sent == []
    assert len(world.sender.messages) == 1


def test_the_confirmation_goes_before_the_reminder_in_the_same_cycle() -> None:
    world = World()
    booking = world.add()
    report = world.run(at(13))
    assert sent_kinds(report) == [
        (booking.booking_num, "confirmation"),
        (booking.booking_num, "reminder"),
    ]
    assert [b[0].kind for b in world.sender.batches] == ["confirmation", "reminder"]


def test_a_reminder_waits_when_its_confirmation_failed_this_cycle() -> None:
    world = World()
    booking = world.add()
    world.sender.fail_next()
    report = world.run(at(13))
    assert report.sent == []
    assert [f.kind for f in report.failed] == ["confirmation"]
    assert world.record(booking)["remind_sms"] is False
    again = world.run(at(13, 5))
    assert [k for _, k in sent_kinds(again)] == ["confirmation", "reminder"]


def test_reminder_is_not_sent_after_the_visit_started() -> None:
    world = World()
    booking = world.add()
    world.run(at(9))
    report = world.run(at(14, 0))
    assert report.sent == []
    [skipped] = [h for h in report.held if h.kind == "reminder"]
    assert skipped.why.startswith("skipped: the visit at 11-25 14:00 started")
    record = world.record(booking)
    assert record["remind_sms"] is False  # never sent
    assert "remind_sms_skipped" in record  # and never judged again


def test_a_booking_that_disappears_from_the_confirmed_list_gets_nothing_more() -> None:
    world = World()
    booking = world.add()
    world.run(at(9))
    world.api.remove(booking.booking_num)  # cancelled: RC04 is never fetched
    assert world.run(at(13)).sent == []


def test_a_rescheduled_booking_is_updated_and_gets_a_reminder_for_its_new_time() -> None:
    world = World()
    booking = world.add()
    world.run(at(13))  # confirmation and reminder for 14:00
    world.api.remove(booking.booking_num)
    moved = world.api.add(
        Booking(
            booking_num=booking.booking_num,
            phone=booking.phone,
            name=booking.name,
            booking_time="2026-11-25 18:00:00",
            extra=dict(booking.extra),
        )
    )
    report = world.run(at(13, 30))
    assert report.rescheduled == 1
    assert report.sent == []
    record = world.record(moved)
    assert record["booking_time"] == "2026-11-25 18:00:00"
    assert record["remind_sms"] is False
    assert sent_kinds(world.run(at(16, 10))) == [(booking.booking_num, "reminder")]


EVENT_OPTIONS = ("기본 이용 50분", "네이버 리뷰 이벤트 참여")


def test_the_post_visit_event_is_labelled_advertising_and_sent_in_its_window() -> None:
    world = World()
    booking = world.add(status="RC08", options=EVENT_OPTIONS)
    assert world.run(at(19, 50)).sent == []
    report = world.run(at(20, 10))
    assert sent_kinds(report) == [(booking.booking_num, "event")]
    text = world.sender.messages[0].text
    assert text.startswith(AD_PREFIX)
    assert text.endswith("무료수신거부 080-000-0000")
    assert world.record(booking)["option_sms"] is True


def test_an_event_is_not_sent_after_21_and_is_dropped() -> None:
    world = World()
    world.add(status="RC08", options=EVENT_OPTIONS)
    report = world.run(at(21, 5))
    assert report.sent == []
    [event] = [h for h in report.held if h.kind == "event"]
    assert event.why.startswith("skipped:")
    assert "21:00 deadline passed" in event.why


def test_a_store_without_opt_out_gets_no_event_and_a_config_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = make_config(
        stores=[{"id": STORE, "name": "샘플 스튜디오", "sender": "0200000000"}],
    )
    world = World(config)
    world.add(status="RC08", options=EVENT_OPTIONS)
    report = world.run(at(20, 10))
    assert report.sent == []
    assert "opt_out" in report.held[0].why
    warnings = [
        json.loads(line)
        for line in capsys.readouterr().err.splitlines()
        if '"WARNING"' in line and "opt_out" in line
    ]
    assert warnings


def test_sms_or_lms_follows_the_text_size() -> None:
    world = World()
    world.add(status="RC08", options=EVENT_OPTIONS)
    world.add()
    world.run(at(9, 0))
    world.run(at(20, 10))
    types = {m.kind: m.type for m in world.sender.messages}
    assert types["confirmation"] is MessageType.SMS
    assert types["event"] is MessageType.LMS


def test_adopt_marks_confirmed_bookings_without_sending_and_later_only_reminders_go() -> None:
    world = World()
    near, later = world.add(), world.add("2026-11-27 10:00:00")
    report = world.run(at(9), adopt=True)
    assert report.sent == []
    assert world.sender.messages == []
    assert report.adopted == 2
    assert world.record(near)["confirm_sms"] is True
    assert world.record(later)["confirm_sms"] is True
    assert sent_kinds(world.run(at(12, 30))) == [(near.booking_num, "reminder")]


# ---------------------------------------------------------------- exactly once


def test_a_message_claimed_by_another_cycle_is_not_sent() -> None:
    world = World()
    booking = world.add()
    world.run(at(8), adopt=False)  # nothing else; records now exist with the confirmation sent
    other = world.add()
    world.repository.create_booking(other.to_item())
    assert world.repository.claim(other.booking_num, other.phone, "confirm_sms", "someone", at(9))
    report = world.run(at(9))
    assert report.sent == []
    assert world.record(booking)["confirm_sms"] is True


def test_a_claim_left_by_a_dead_process_is_sent_after_it_expires() -> None:
    world = World()
    booking = world.add()
    world.repository.create_booking(booking.to_item())
    world.repository.claim(booking.booking_num, booking.phone, "confirm_sms", "dead", at(9))
    assert world.run(at(9, 5)).sent == []
    assert sent_kinds(world.run(at(9, 11))) == [(booking.booking_num, "confirmation")]
    assert world.run(at(9, 30)).sent == []


def test_a_failed_send_is_not_flagged_its_claim_is_released_and_it_goes_next_cycle() -> None:
    world = World()
    booking = world.add()
    world.sender.fail_next()
    report = world.run(at(9))
    assert report.failed[0].kind == "confirmation"
    assert "503" in report.failed[0].error
    record = world.record(booking)
    assert record["confirm_sms"] is False
    assert claim_attributes("confirm_sms")[0] not in record
    assert sent_kinds(world.run(at(9, 1))) == [(booking.booking_num, "confirmation")]


def test_a_refused_send_fails_only_its_batch() -> None:
    world = World()
    world.add(store=STORE)
    other = world.add(store=OTHER)
    world.sender.fail_next(SendRejected("unregistered sender", status=400))
    report = world.run(at(9))
    assert len(report.failed) == 1
    assert sent_kinds(report) == [(other.booking_num, "confirmation")]


def test_a_template_error_fails_the_message_and_releases_its_claim() -> None:
    config = make_config(templates={"confirmation": "{{ nobody }}님"})
    world = World(config)
    booking = world.add()
    report = world.run(at(9))
    assert report.sent == []
    assert "nobody" in report.failed[0].error
    assert claim_attributes("confirm_sms")[0] not in world.record(booking)
    assert report.exit_code == 1


def test_sends_are_batched_per_store_and_kind() -> None:
    world = World()
    for _ in range(3):
        world.add(store=STORE)
        world.add(store=OTHER)
    world.run(at(9))
    assert sorted(len(batch) for batch in world.sender.batches) == [3, 3]


# ---------------------------------------------------------------- report


def test_the_report_has_the_documented_shape_and_no_full_phone() -> None:
    world = World()
    world.add()
    data = world.run(at(9)).to_dict()
    assert list(data)[:8] == [
        "dry_run",
        "now",
        "stores",
        "bookings",
        "sent",
        "failed",
        "invalid",
        "duration_ms",
    ]
    assert data["now"] == "2026-11-25T09:00:00+09:00"
    assert (data["stores"], data["bookings"]) == (2, 1)
    assert set(data["sent"][0]) >= {"booking_num", "phone_masked", "kind", "request_id"}
    assert data["sent"][0]["phone_masked"] == "010-****-0001"
    assert "0000-0001" not in json.dumps(data)


def test_a_quiet_cycle_sends_no_chat_message_and_a_busy_one_does() -> None:
    world = World()
    world.run(at(9))
    assert world.notifier.summaries == []
    world.add()
    world.run(at(9))
    assert len(world.notifier.summaries) == 1


def test_the_cycle_logs_one_report_line(capsys: pytest.CaptureFixture[str]) -> None:
    world = World()
    world.add()
    world.run(at(9))
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finished = [line for line in lines if line["operation"] == "run_cycle"]
    assert len(finished) == 1
    assert finished[0]["context"]["sent"][0]["kind"] == "confirmation"


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        World().run(datetime(2026, 11, 25, 9))  # noqa: DTZ001


def test_a_reminder_waits_while_another_cycle_holds_its_confirmation() -> None:
    world = World()
    booking = world.add()
    world.repository.create_booking(booking.to_item())
    world.repository.claim(booking.booking_num, booking.phone, "confirm_sms", "other", at(13))
    assert world.run(at(13)).sent == []
    world.repository.mark_sent(
        booking.booking_num, booking.phone, "confirm_sms", "other", "r", at(13)
    )
    assert sent_kinds(world.run(at(13, 1))) == [(booking.booking_num, "reminder")]


def test_a_text_euc_kr_cannot_encode_is_never_sent() -> None:
    world = World(make_config(templates={"confirmation": "{{ customer }}님 예약 확정 \U0001f600"}))
    booking = world.add()
    report = world.run(at(9))
    assert world.sender.messages == []
    assert "EUC-KR" in report.failed[0].error
    assert world.record(booking)["confirm_sms"] is False
