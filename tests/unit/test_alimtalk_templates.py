"""AlimTalk rendering: the approved text filled with the booking's values, the SMS as failover,
and `naver-sms templates check` / `preview` showing both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from naver_sms.config import AppConfig
from naver_sms.domain.booking import Booking
from naver_sms.domain.messages import (
    AlimTalkButton,
    Channel,
    MessageError,
    MessageKind,
    MessageType,
)
from naver_sms.entrypoints.cli import cli
from naver_sms.messaging.templates import TemplateError, TemplateRenderer, check_templates

STORE = {
    "id": "5000001",
    "name": "샘플 스튜디오",
    "sender": "02-0000-0000",
    "opt_out": "080-000-0000",
}
CONFIRMATION = {
    "code": "CONFIRM01",
    "content": "#{고객명}님, #{방문일시} 예약이 확정되었습니다.",
    "variables": {"고객명": "{{ customer }}", "방문일시": "{{ visit_time }}"},
}
REMINDER = {
    "code": "GUIDE01",
    "content": "#{고객명}님, 오늘 #{시간} 방문 예정입니다.\n예약 상품: #{상품}",
    "variables": {"고객명": "{{ customer }}", "시간": "{{ visit_clock }}", "상품": "{{ item }}"},
    "buttons": [
        {
            "type": "WL",
            "name": "오시는 길",
            "link_mobile": "https://m.example.com/map",
            "link_pc": "https://example.com/map",
        }
    ],
}


def config(store: dict[str, Any] | None = None, **templates: Any) -> AppConfig:
    return AppConfig.model_validate(
        {
            "stores": [{**STORE, **(store or {})}],
            "alimtalk": {
                "plus_friend_id": "@sample-studio",
                "templates": templates or {"confirmation": CONFIRMATION},
            },
        }
    )


def booking(name: str = "홍길동", **extra: Any) -> Booking:
    return Booking(
        booking_num="5000001_1000000001",
        phone="010-0000-1111",
        name=name,
        booking_time="2026-11-24 14:00:00",
        extra=extra,
    )


def test_the_approved_text_is_filled_with_the_customers_values() -> None:
    app = config()
    message = TemplateRenderer(app).message(
        app.stores[0], MessageKind.CONFIRMATION, booking("김하나")
    )

    assert message.channel is Channel.ALIMTALK
    assert message.alimtalk is not None
    assert message.alimtalk.plus_friend_id == "@sample-studio"
    assert message.alimtalk.template_code == "CONFIRM01"
    assert message.alimtalk.content == "김하나님, 11월 24일 (화) 오후 2:00 예약이 확정되었습니다."
    assert message.alimtalk.failover is True


def test_the_failover_is_the_kinds_sms_text_from_the_stores_sender() -> None:
    app = config(store={"templates": {"confirm": "[{{ store }}] {{ customer }}님 예약 확정"}})
    message = TemplateRenderer(app).message(app.stores[0], MessageKind.CONFIRMATION, booking())

    assert message.text == "[샘플 스튜디오] 홍길동님 예약 확정"
    assert message.type is MessageType.SMS
    assert message.sender == "0200000000"
    assert message.alimtalk is not None


def test_a_long_failover_goes_as_lms_with_its_subject() -> None:
    app = AppConfig.model_validate(
        {
            "stores": [STORE],
            "templates": {"reminder": "{{ customer }}님 안내입니다. " + "주차 안내 " * 20},
            "alimtalk": {"plus_friend_id": "@s", "templates": {"guide": REMINDER}},
        }
    )
    message = TemplateRenderer(app).message(
        app.stores[0], MessageKind.REMINDER, booking(item_name="기본 촬영")
    )

    assert message.type is MessageType.LMS
    assert message.subject == "[샘플 스튜디오]"
    assert message.alimtalk is not None
    assert message.alimtalk.content.endswith("예약 상품: 기본 촬영")
    assert message.alimtalk.buttons == (
        AlimTalkButton(
            "WL",
            "오시는 길",
            link_mobile="https://m.example.com/map",
            link_pc="https://example.com/map",
        ),
    )


def test_a_kind_not_listed_goes_as_sms_and_the_event_never_as_alimtalk() -> None:
    app = config(confirmation=CONFIRMATION)
    renderer = TemplateRenderer(app)
    [store] = app.stores

    assert renderer.message(store, MessageKind.REMINDER, booking()).alimtalk is None
    event = renderer.message(store, MessageKind.EVENT, booking())
    assert event.alimtalk is None
    assert event.channel is Channel.SMS or event.channel is Channel.LMS


def test_a_store_that_turned_the_kind_back_to_sms_gets_no_alimtalk() -> None:
    app = config(store={"alimtalk": {"templates": {"confirmation": None}}})

    message = TemplateRenderer(app).message(app.stores[0], MessageKind.CONFIRMATION, booking())

    assert message.alimtalk is None
    assert message.channel is Channel.SMS


def test_the_customer_name_is_cleaned_as_in_the_failover() -> None:
    app = config()
    message = TemplateRenderer(app).message(
        app.stores[0], MessageKind.CONFIRMATION, booking("김하나😀")
    )

    assert message.alimtalk is not None
    assert message.alimtalk.content.startswith("김하나?님,")
    assert "김하나?님" in message.text


def test_a_variable_that_renders_empty_is_a_message_error_naming_it() -> None:
    app = config(
        confirmation={
            **CONFIRMATION,
            "variables": {"고객명": "{{ customer }}", "방문일시": "{{ opt_out }}"},
        },
        store={"opt_out": ""},
    )

    with pytest.raises(MessageError) as caught:
        TemplateRenderer(app).message(app.stores[0], MessageKind.CONFIRMATION, booking())

    assert str(caught.value) == (
        "AlimTalk template CONFIRM01 (confirmation) of store '샘플 스튜디오', "
        "variable 방문일시: renders empty text"
    )


def test_an_undefined_name_in_a_variable_is_a_template_error_naming_the_variable() -> None:
    app = config(
        confirmation={
            **CONFIRMATION,
            "variables": {"고객명": "{{ custmer }}", "방문일시": "{{ visit_time }}"},
        }
    )

    with pytest.raises(TemplateError, match=r"variable 고객명: 'custmer' is undefined"):
        TemplateRenderer(app).message(app.stores[0], MessageKind.CONFIRMATION, booking())


def test_a_filled_text_over_a_thousand_characters_is_a_message_error() -> None:
    app = config(
        confirmation={
            **CONFIRMATION,
            "variables": {"고객명": "{{ customer * 400 }}", "방문일시": "{{ visit_time }}"},
        }
    )

    with pytest.raises(
        MessageError,
        match=r"of store .샘플 스튜디오.: filled in, the text is 1,2\d\d characters: "
        r"AlimTalk allows at most 1,000",
    ):
        TemplateRenderer(app).message(app.stores[0], MessageKind.CONFIRMATION, booking("김하나"))


def test_check_has_an_alimtalk_row_and_a_failover_row_for_an_alimtalk_kind() -> None:
    rows = check_templates(config())

    assert [(row.kind, row.channel, row.failover) for row in rows] == [
        (MessageKind.CONFIRMATION, Channel.ALIMTALK, False),
        (MessageKind.CONFIRMATION, Channel.SMS, True),
        (MessageKind.REMINDER, Channel.LMS, False),
        (MessageKind.EVENT, Channel.LMS, False),
    ]
    alimtalk = rows[0]
    assert alimtalk.template_code == "CONFIRM01"
    assert alimtalk.text == "홍길동님, 11월 24일 (화) 오후 2:00 예약이 확정되었습니다."
    assert alimtalk.size == len(alimtalk.text)
    assert all(row.problems == [] for row in rows)


def test_check_reports_an_alimtalk_problem_in_its_row_and_the_failover_still_renders() -> None:
    rows = check_templates(
        config(
            confirmation={
                **CONFIRMATION,
                "variables": {"고객명": "{{ customer }}", "방문일시": "{{ nope }}"},
            }
        )
    )

    assert "variable 방문일시: 'nope' is undefined" in rows[0].problems[0]
    assert rows[1].failover
    assert rows[1].problems == []


def test_check_warns_when_a_template_has_its_failover_turned_off() -> None:
    [alimtalk, *_] = check_templates(config(confirmation={**CONFIRMATION, "failover": False}))

    assert alimtalk.problems == []
    assert "failover off" in alimtalk.warnings[0]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "naver-sms.yaml"
    path.write_text(text, encoding="utf-8")
    return path


FILE = (
    "stores:\n"
    '  - {id: "5000001", name: 샘플 스튜디오, sender: "02-0000-0000", opt_out: "080-000-0000"}\n'
    "alimtalk:\n"
    '  plus_friend_id: "@sample-studio"\n'
    "  templates:\n"
    "    guide:\n"
    "      code: GUIDE01\n"
    '      content: "#{고객명}님, 오늘 #{시간} 방문 예정입니다."\n'
    '      variables: {고객명: "{{ customer }}", 시간: "{{ VISIT }}"}\n'
    "      buttons:\n"
    "        - {type: WL, name: 오시는 길, link_mobile: "
    '"https://m.example.com/map", link_pc: "https://example.com/map"}\n'
)


def test_templates_check_shows_the_alimtalk_and_its_failover_and_passes(tmp_path: Path) -> None:
    path = write(tmp_path, FILE.replace("VISIT", "visit_clock"))

    result = CliRunner().invoke(cli, ["templates", "check", "--config", str(path)])

    assert result.exit_code == 0, result.output
    assert "GUIDE01 (config)" in result.output
    assert "AlimTalk" in result.output
    assert "LMS failover" in result.output
    assert "chars" in result.output
    assert "3 messages ok" in result.output
    assert "1 as AlimTalk first" in result.output


def test_templates_check_exits_2_on_an_alimtalk_problem(tmp_path: Path) -> None:
    path = write(tmp_path, FILE.replace("VISIT", "visit_hour"))

    result = CliRunner().invoke(cli, ["templates", "check", "--config", str(path)])

    assert result.exit_code == 2
    assert "visit_hour" in result.output
    assert "1 problem(s) in 3 messages" in result.output


def test_preview_shows_the_alimtalk_with_its_code_and_buttons_then_the_failover(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, FILE.replace("VISIT", "visit_clock"))

    result = CliRunner().invoke(
        cli, ["templates", "preview", "5000001", "guide", "--config", str(path)]
    )

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "AlimTalk template GUIDE01 (config) · @sample-studio" in lines[0]
    assert lines[1] == (
        "button: [WL] 오시는 길 -> https://m.example.com/map | https://example.com/map"
    )
    assert "홍길동님, 오늘 오후 2:00 방문 예정입니다." in lines
    failover = lines.index("failover (sent as a text when the AlimTalk cannot be delivered):")
    assert "reminder · built-in template · LMS" in lines[failover + 1]
    assert any("예약 상품" in line for line in lines[failover:])


def test_preview_of_a_broken_alimtalk_variable_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, FILE.replace("VISIT", "visit_hour"))

    result = CliRunner().invoke(
        cli, ["templates", "preview", "5000001", "guide", "--config", str(path)]
    )

    assert result.exit_code == 2
    assert "error: AlimTalk template GUIDE01 (reminder)" in result.output


def test_the_commented_alimtalk_example_works_once_uncommented(tmp_path: Path) -> None:
    example = (Path(__file__).resolve().parents[2] / "config" / "example.yaml").read_text(
        encoding="utf-8"
    )
    head, commented = example.split("\n# alimtalk:\n")
    # A newcomer's `naver-sms init` needs no Kakao channel: the section is off.
    assert "\nalimtalk:" not in head
    lines = [
        "alimtalk:",
        *(line.removeprefix("#").removeprefix(" ") for line in commented.splitlines()),
    ]
    path = write(tmp_path, head + "\n" + "\n".join(lines) + "\n")

    result = CliRunner().invoke(cli, ["templates", "check", "--config", str(path)])

    assert result.exit_code == 0, result.output
    assert "4 as AlimTalk first" in result.output
