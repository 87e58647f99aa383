"""Message kinds, EUC-KR sizes, SMS/LMS, advertising labels and hours: pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from naver_sms.domain.booking import FLAGS, KST
from naver_sms.domain.messages import (
    AdvertisingFormatError,
    Message,
    MessageClass,
    MessageError,
    MessageKind,
    MessageTooLongError,
    MessageType,
    UnencodableCharacterError,
    advertising_decision,
    advertising_problems,
    euckr_size,
    find_unencodable,
    fit_subject,
    label_advertising,
    may_send_advertising,
    message_type_for,
)


def kst(hour: int, minute: int = 0, day: int = 25) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=KST)


def test_each_kind_has_the_seeds_flag_and_only_the_event_is_advertising() -> None:
    assert [kind.flag for kind in MessageKind] == list(FLAGS)
    assert MessageKind.CONFIRMATION.message_class is MessageClass.INFORMATIONAL
    assert MessageKind.REMINDER.message_class is MessageClass.INFORMATIONAL
    assert MessageKind.EVENT.message_class is MessageClass.ADVERTISING
    assert MessageKind.EVENT.is_advertising


def test_kinds_parse_from_their_names_and_the_names_stores_use() -> None:
    assert MessageKind.parse("guide") is MessageKind.REMINDER
    assert MessageKind.parse("confirm") is MessageKind.CONFIRMATION
    assert MessageKind.parse(" Event ") is MessageKind.EVENT
    with pytest.raises(ValueError, match="expected one of confirmation, reminder, event"):
        MessageKind.parse("promo")


def test_hangul_counts_two_bytes_and_ascii_one() -> None:
    assert euckr_size("가") == 2
    assert euckr_size("a") == 1
    assert euckr_size("예약 확정 OK") == 2 * 4 + 1 + 1 + 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("가" * 45, MessageType.SMS),  # 90 bytes
        ("가" * 45 + "a", MessageType.LMS),  # 91
        ("a" * 90, MessageType.SMS),
        ("a" * 91, MessageType.LMS),
        ("가" * 1000, MessageType.LMS),  # 2,000
        ("a" * 2000, MessageType.LMS),
    ],
)
def test_sms_holds_up_to_90_bytes_and_lms_up_to_2000(text: str, expected: MessageType) -> None:
    assert message_type_for(euckr_size(text)) is expected


@pytest.mark.parametrize("text", ["가" * 1000 + "a", "a" * 2001])
def test_a_text_over_2000_bytes_is_an_error(text: str) -> None:
    with pytest.raises(MessageTooLongError, match="2001 bytes"):
        message_type_for(euckr_size(text))


def test_an_emoji_is_an_error_naming_the_character_the_template_and_the_store() -> None:
    with pytest.raises(UnencodableCharacterError) as caught:
        euckr_size("예약 확정 😀", template="confirmation (store)", store="샘플 스튜디오")

    error = caught.value
    assert error.character == "😀"
    assert error.position == 6
    assert "'😀'" in str(error)
    assert "U+1F600" in str(error)
    assert "confirmation (store)" in str(error)
    assert "샘플 스튜디오" in str(error)


def test_hangul_outside_ks_x_1001_cannot_be_sent_even_though_python_can_spell_it() -> None:
    # Python's euc_kr writes 똠 as an 8-byte make-up sequence that SENS does not take.
    assert find_unencodable("똠얌꿍 가") == [(0, "똠")]
    assert find_unencodable("가나다 abc ·") == []


def test_an_lms_subject_is_cut_to_40_bytes_without_splitting_a_syllable() -> None:
    assert fit_subject("가" * 30) == "가" * 20
    assert fit_subject("a" * 41) == "a" * 40
    assert fit_subject("short") == "short"


def test_advertising_is_labelled_with_the_prefix_the_store_and_the_opt_out_line() -> None:
    text = label_advertising("리뷰 이벤트 안내", store_name="샘플 공방", opt_out="080-000-0000")

    assert text == "(광고)샘플 공방\n리뷰 이벤트 안내\n무료수신거부 080-000-0000"
    assert advertising_problems(text, store_name="샘플 공방", opt_out="080-000-0000") == []


def test_labelling_leaves_a_text_that_already_complies_as_it_is() -> None:
    text = "(광고)샘플 공방 이벤트\n무료수신거부 080-000-0000"

    assert label_advertising(text, store_name="샘플 공방", opt_out="080-000-0000") == text


def test_labelling_adds_only_what_is_missing() -> None:
    assert (
        label_advertising("(광고) 이벤트", store_name="샘플 공방", opt_out="080-000-0000")
        == "(광고)샘플 공방 이벤트\n무료수신거부 080-000-0000"
    )
    assert (
        label_advertising("샘플 공방 이벤트", store_name="샘플 공방", opt_out="080-000-0000")
        == "(광고) 샘플 공방 이벤트\n무료수신거부 080-000-0000"
    )


def test_advertising_problems_name_each_missing_part() -> None:
    problems = advertising_problems("이벤트", store_name="샘플 공방", opt_out="080-000-0000")

    assert len(problems) == 3
    assert any("(광고)" in p for p in problems)
    assert any("샘플 공방" in p for p in problems)
    assert any("무료수신거부 080-000-0000" in p for p in problems)
    assert any(
        "no opt_out" in p
        for p in advertising_problems("(광고)샘플 공방", store_name="샘플 공방", opt_out=None)
    )


@pytest.mark.parametrize(
    ("now", "may_send", "not_before"),
    [
        (kst(7, 59), False, kst(8)),
        (kst(8, 0), True, kst(8)),
        (kst(20, 59), True, kst(20, 59)),
        (kst(21, 0), False, kst(8, day=26)),
        (kst(23, 30), False, kst(8, day=26)),
        (kst(0, 0), False, kst(8)),
    ],
)
def test_advertising_may_go_from_08_00_until_21_00_kst_and_otherwise_says_when(
    now: datetime, may_send: bool, not_before: datetime
) -> None:
    decision = advertising_decision(now)

    assert decision.may_send is may_send
    assert decision.not_before == not_before
    assert may_send_advertising(now) is may_send


def test_the_advertising_hours_are_kst_whatever_zone_now_is_given_in() -> None:
    # 11:59 UTC is 20:59 KST; 12:00 UTC is 21:00 KST.
    assert may_send_advertising(datetime(2026, 11, 25, 11, 59, tzinfo=UTC))
    assert not may_send_advertising(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    new_york = timezone(timedelta(hours=-5))
    assert may_send_advertising(datetime(2026, 11, 24, 18, 0, tzinfo=new_york))  # 08:00 KST


def test_a_naive_now_is_refused_rather_than_read_in_the_hosts_zone() -> None:
    with pytest.raises(ValueError, match="aware"):
        advertising_decision(datetime(2026, 11, 25, 12, 0))  # noqa: DTZ001 - the point of the test


def test_a_message_knows_its_size_and_type_and_keeps_the_subject_only_for_lms() -> None:
    short = Message.build(
        to="010-0000-1111",
        sender="0200000000",
        text=" 확정 ",
        kind=MessageKind.CONFIRMATION,
        subject="[샘플]",
    )
    long = Message.build(
        to="010-0000-1111",
        sender="0200000000",
        text="가" * 46,
        kind=MessageKind.REMINDER,
        subject="[샘플]",
    )

    assert (short.text, short.size, short.type, short.subject) == ("확정", 4, MessageType.SMS, "")
    assert (long.size, long.type, long.subject) == (92, MessageType.LMS, "[샘플]")


def test_a_message_repr_shows_no_phone_number() -> None:
    message = Message.build(
        to="010-0000-1234", sender="0200000000", text="확정", kind=MessageKind.CONFIRMATION
    )

    assert "1234" not in repr(message)


def test_an_advertising_message_without_its_labels_is_refused() -> None:
    with pytest.raises(AdvertisingFormatError):
        Message.build(
            to="010-0000-1111", sender="0200000000", text="이벤트", kind=MessageKind.EVENT
        )


def test_with_the_store_s_number_an_advertising_message_is_checked_in_full() -> None:
    labelled = label_advertising("이벤트 안내", store_name="샘플 스튜디오", opt_out="080-000-0000")
    sent = Message.build(
        to="010-0000-1111",
        sender="0200000000",
        text=labelled,
        kind=MessageKind.EVENT,
        store_name="샘플 스튜디오",
        opt_out="080-000-0000",
    )
    assert sent.text == labelled
    # Labelled, but for another store's opt-out line: the law's check refuses it.
    with pytest.raises(AdvertisingFormatError, match="must end with"):
        Message.build(
            to="010-0000-1111",
            sender="0200000000",
            text=labelled,
            kind=MessageKind.EVENT,
            store_name="샘플 스튜디오",
            opt_out="080-000-0009",
        )


def test_an_empty_or_unencodable_message_is_refused() -> None:
    with pytest.raises(MessageError, match="empty"):
        Message.build(to="010-0000-1111", sender="0200000000", text="  ", kind=MessageKind.EVENT)
    with pytest.raises(UnencodableCharacterError, match="샘플 공방"):
        Message.build(
            to="010-0000-1111",
            sender="0200000000",
            text="확정 ✨",
            kind=MessageKind.CONFIRMATION,
            store_name="샘플 공방",
        )


def test_a_message_over_2000_bytes_names_its_template_and_store() -> None:
    with pytest.raises(MessageTooLongError, match="'guide \\(store\\)' of store '샘플 공방'"):
        Message.build(
            to="010-0000-1111",
            sender="0200000000",
            text="가" * 1001,
            kind=MessageKind.REMINDER,
            store_name="샘플 공방",
            template="guide (store)",
        )
