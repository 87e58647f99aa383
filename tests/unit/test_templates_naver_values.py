"""Values that come from Naver never make a message unsendable.

Before, a customer called 김똠이 (똠 is not in EUC-KR), a name with an emoji
or an option name of 5,000 characters made that customer's message fail in
every cycle, forever. Now the value is adjusted, the text goes, and
`Message.adjusted` says what was done.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from naver_sms.config import AppConfig
from naver_sms.domain.booking import Booking
from naver_sms.domain.messages import (
    LMS_MAX_BYTES,
    Message,
    MessageKind,
    MessageTooLongError,
    MessageType,
    euckr_size,
    make_sendable,
    shorten_to_bytes,
)
from naver_sms.entrypoints.cli import cli
from naver_sms.messaging.templates import TemplateRenderer, check_templates

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.yaml"

GUIDE = "{{ customer }}님, {{ visit_clock }} 방문 예정입니다.\n예약 옵션: {{ options_text }}"


def app(**templates: str) -> AppConfig:
    store: dict[str, Any] = {
        "id": "5000001",
        "name": "샘플 스튜디오",
        "sender": "02-0000-0000",
        "opt_out": "080-000-0000",
        "templates": {"guide": GUIDE, **templates},
    }
    return AppConfig.model_validate({"stores": [store]})


def booking(name: str = "홍길동", **extra: Any) -> Booking:
    return Booking(
        booking_num="5000001_1000000001",
        phone="010-0000-1111",
        name=name,
        booking_time="2025-11-25 14:00:00",
        extra=extra,
    )


def message(kind: MessageKind, bk: Booking, config: AppConfig | None = None) -> Message:
    config = config or app()
    return TemplateRenderer(config).message(config.stores[0], kind, bk)


@pytest.mark.parametrize(
    ("name", "shown", "count"),
    [
        ("김똠이", "김?이", 1),  # a Hangul syllable outside KS X 1001
        ("홍길동😀", "홍길동?", 1),
        ("홍길동👍🏻", "홍길동?", 2),  # the skin tone goes with its emoji
        ("홍\ud800길동", "홍?길동", 1),  # a lone surrogate from a broken client
        ("café", "cafe", 1),  # a close form where there is one
    ],
)
def test_a_name_with_a_character_euckr_cannot_carry_is_sent_with_it_replaced(
    name: str, shown: str, count: int
) -> None:
    sent = message(MessageKind.CONFIRMATION, booking(name))

    assert sent.text.startswith(f"[샘플 스튜디오] {shown}님, 11월 25일 (화) 오후 2:00")
    assert sent.size == euckr_size(sent.text)
    words = (
        "characters EUC-KR cannot carry were" if count > 1 else "character EUC-KR cannot carry was"
    )
    assert sent.adjusted == (f"customer name: {count} {words} replaced",)


def test_an_emoji_in_an_option_name_is_replaced_and_said_so() -> None:
    sent = message(MessageKind.REMINDER, booking(option_names=["원본 추가 📸", "리뷰"]))

    assert sent.text.endswith("예약 옵션: 원본 추가 ?, 리뷰")
    assert sent.adjusted == ("option names: 1 character EUC-KR cannot carry was replaced",)


def test_a_5000_character_option_is_shortened_to_fit_one_lms() -> None:
    long_option = "가" * 5000

    sent = message(MessageKind.REMINDER, booking(option_names=[long_option, "리뷰"]))

    assert sent.type is MessageType.LMS
    assert LMS_MAX_BYTES - 2 <= sent.size <= LMS_MAX_BYTES
    assert sent.text.startswith("홍길동님, 오후 2:00 방문 예정입니다.\n예약 옵션: 가가가")
    assert sent.text.endswith("가…, 리뷰")  # the owner's text and the short option stay whole
    assert sent.adjusted == ("option names shortened to fit 2,000 bytes",)


def test_a_long_value_the_template_does_not_use_is_not_reported() -> None:
    sent = message(MessageKind.CONFIRMATION, booking(option_names=["가" * 5000]))

    assert sent.type is MessageType.SMS
    assert sent.adjusted == ()


def test_a_long_name_keeps_the_advertising_label_and_the_opt_out_line() -> None:
    sent = message(MessageKind.EVENT, booking("김" * 3000))

    assert sent.text.startswith("(광고)샘플 스튜디오\n김김김")
    assert sent.text.endswith("\n무료수신거부 080-000-0000")
    assert sent.size <= LMS_MAX_BYTES
    assert sent.adjusted == ("customer name shortened to fit 2,000 bytes",)


def test_a_shortened_text_that_fits_one_sms_still_goes_as_sms() -> None:
    sent = message(MessageKind.CONFIRMATION, booking("똠"))

    assert sent.type is MessageType.SMS
    assert sent.subject == ""


def test_an_ordinary_booking_is_sent_unadjusted() -> None:
    sent = message(MessageKind.REMINDER, booking(option_names=["원본 추가"]))

    assert sent.adjusted == ()
    assert sent.text.endswith("예약 옵션: 원본 추가")


def test_a_template_too_long_on_its_own_is_a_template_problem_not_an_adjustment() -> None:
    config = app(confirm="{{ customer }}님 " + "안내 " * 700)

    with pytest.raises(MessageTooLongError, match="shorten the template"):
        message(MessageKind.CONFIRMATION, booking("김" * 3000), config)
    [row, _, _] = check_templates(config)
    assert "shorten the template" in row.problems[0]


def test_make_sendable_keeps_encodable_text_as_it_is() -> None:
    text = "예약 확정 OK! (2명) ①"

    assert make_sendable(text) == (text, 0)


def test_shorten_to_bytes_cuts_at_a_character_and_ends_with_an_ellipsis() -> None:
    assert shorten_to_bytes("가나다라마", 10) == "가나다라마"
    assert shorten_to_bytes("가나다라마", 9) == "가나다…"
    assert shorten_to_bytes("abcdefghij", 6) == "abcd…"
    assert euckr_size(shorten_to_bytes("가a" * 100, 51)) <= 51


def test_preview_shows_a_replaced_character_and_says_so() -> None:
    args = ["preview", "5000001", "confirm", "--config", str(EXAMPLE), "--customer", "김똠이"]

    result = CliRunner().invoke(cli, ["templates", *args])

    assert result.exit_code == 0, result.output
    assert "adjusted: customer name: 1 character EUC-KR cannot carry was replaced" in result.output
    assert "김?이님" in result.output
