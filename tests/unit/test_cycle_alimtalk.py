"""AlimTalk first in the cycle, with fakes: routed, recorded, checked, never advertising."""

from __future__ import annotations

from typing import Any

from naver_sms.cycle import NO_ALIMTALK_SENDER
from tests.fakes import RecordingAlimTalkSender
from tests.unit.test_cycle import OTHER, STORE, World, at, make_config

CONFIRM = "#{고객명}님, #{방문일시} 예약이 확정되었습니다."
GUIDE = (
    "#{고객명}님, 오늘 #{방문시각} 방문 안내입니다. 출입문 비밀번호는 매장 안내를 확인해 주세요."
)


def alimtalk_config(**store_changes: Any) -> Any:
    return make_config(
        alimtalk={
            "plus_friend_id": "@sample-studio",
            "templates": {
                "confirmation": {
                    "code": "CONFIRM01",
                    "content": CONFIRM,
                    "variables": {"고객명": "{{ customer }}", "방문일시": "{{ visit_time }}"},
                },
                "guide": {
                    "code": "GUIDE01",
                    "content": GUIDE,
                    "variables": {"고객명": "{{ customer }}", "방문시각": "{{ visit_time }}"},
                },
            },
        },
        **store_changes,
    )


def alimtalk_world() -> tuple[World, RecordingAlimTalkSender]:
    world = World(alimtalk_config())
    sender = RecordingAlimTalkSender()
    sender.approve_template("@sample-studio", "CONFIRM01", CONFIRM)
    sender.approve_template("@sample-studio", "GUIDE01", GUIDE)
    world.ports.alimtalk = sender
    return world, sender


def test_a_kind_configured_for_alimtalk_goes_as_alimtalk_and_is_recorded_so() -> None:
    world, kakao = alimtalk_world()
    booking = world.add("2026-11-27 14:00:00", name="김민지")
    report = world.run(at(9))
    [sent] = report.sent
    assert sent.channel == "alimtalk"
    assert report.to_dict()["sent_by_channel"] == {"sms": 0, "lms": 0, "alimtalk": 1}
    assert world.sender.messages == []  # not a text as well
    [message] = kakao.messages
    assert message.alimtalk is not None
    assert message.alimtalk.content.startswith("김민지님, ")
    assert "예약이 확정되었습니다" in message.alimtalk.content
    assert "김민지" in message.text  # the SMS failover is the store's confirmation text
    assert world.record(booking)["confirm_sms_channel"] == "alimtalk"


def test_the_event_message_stays_a_text_even_when_alimtalk_is_configured() -> None:
    world, kakao = alimtalk_world()
    world.add("2026-11-25 18:00:00", status="RC08", options=("네이버 리뷰 이벤트",))
    report = world.run(at(20, 30))
    assert [(s.kind, s.channel) for s in report.sent] == [("event", "lms")]
    assert kakao.messages == []


def test_a_customer_without_kakaotalk_gets_the_failover_and_the_history_says_so() -> None:
    world, kakao = alimtalk_world()
    booking = world.add("2026-11-27 14:00:00")
    kakao.no_kakao(booking.phone)
    world.run(at(9))
    [delivered] = world.run(at(9, 5)).delivered
    assert delivered.channel == "alimtalk"
    assert "SMS failover" in delivered.result
    assert world.record(booking)["confirm_sms_status"] == "delivered"


def test_a_template_kakao_refuses_fails_that_message_only_and_is_not_recorded() -> None:
    world, kakao = alimtalk_world()
    kakao.templates.clear()
    kakao.approve_template("@sample-studio", "CONFIRM01", "다른 문구 #{고객명}")
    booking = world.add("2026-11-27 14:00:00")
    report = world.run(at(9))
    [failed] = report.failed
    assert failed.booking_num == booking.booking_num
    assert "3016" in failed.error or "template" in failed.error
    assert world.record(booking)["confirm_sms"] is False


def test_alimtalk_messages_wait_when_no_alimtalk_sender_is_set_up() -> None:
    world = World(alimtalk_config())
    booking = world.add("2026-11-27 14:00:00")
    report = world.run(at(9))
    assert [f.error for f in report.failed] == [NO_ALIMTALK_SENDER]
    assert world.sender.messages == []  # never quietly sent as a text instead
    record = world.record(booking)
    assert record["confirm_sms"] is False
    assert "confirm_sms_claim" not in record  # released: sent once it is set up


def test_messages_of_one_template_go_in_requests_of_up_to_100() -> None:
    world, kakao = alimtalk_world()
    for n in range(130):
        world.add(f"2026-11-{27 + n % 3} {10 + n % 8}:00:00")
    world.run(at(9))
    assert [len(batch) for batch in kakao.batches] == [100, 30]
    assert {m.alimtalk.template_code for m in kakao.messages if m.alimtalk} == {"CONFIRM01"}


def test_a_store_that_turned_a_kind_back_to_sms_sends_it_as_a_text() -> None:
    stores = [
        {"id": STORE, "name": "샘플 스튜디오", "sender": "0200000000", "opt_out": "080-000-0000"},
        {
            "id": OTHER,
            "name": "샘플 공방",
            "sender": "0200000001",
            "opt_out": "080-000-0001",
            "alimtalk": {"templates": {"confirmation": None}},
        },
    ]
    world = World(alimtalk_config(stores=stores))
    world.ports.alimtalk = RecordingAlimTalkSender()
    world.add("2026-11-27 14:00:00")
    world.add("2026-11-27 15:00:00", store=OTHER)
    report = world.run(at(9))
    assert sorted((s.booking_num[:7], s.channel) for s in report.sent) == [
        (STORE, "alimtalk"),
        (OTHER, "sms"),
    ]


def test_a_lost_alimtalk_answer_is_asked_of_the_alimtalk_api_and_never_resent() -> None:
    world, kakao = alimtalk_world()
    booking = world.add("2026-11-27 14:00:00")
    kakao.lose_next_answer()
    first = world.run(at(9))
    assert [u.booking_num for u in first.unclear] == [booking.booking_num]
    # The lease has passed: the next cycle asks Kakao's list, finds it, records it.
    later = world.run(at(9, 15))
    [sent] = later.sent
    assert sent.note is not None
    assert "earlier cycle" in sent.note
    assert sent.channel == "alimtalk"
    assert len(kakao.messages) == 1  # accepted once, never sent again
    assert kakao.lookups == 1
    assert world.sender.lookups == 0  # the SMS API was not the one asked
