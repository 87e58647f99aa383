"""Templates: Korean date formats, per-store overrides, strict variables, and the CLI lint."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from naver_sms.config import AppConfig
from naver_sms.domain.booking import Booking
from naver_sms.domain.messages import (
    MessageError,
    MessageKind,
    MessageType,
    UnencodableCharacterError,
)
from naver_sms.entrypoints.cli import cli
from naver_sms.messaging.templates import (
    DEFAULT_TEMPLATES,
    VARIABLES,
    TemplateError,
    TemplateRenderer,
    check_templates,
    format_visit_time,
    sample_booking,
    template_variables,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "example.yaml"


def config(**overrides: Any) -> AppConfig:
    store = {
        "id": "5000001",
        "name": "샘플 스튜디오",
        "sender": "02-0000-0000",
        "opt_out": "080-000-0000",
    }
    store.update(overrides.pop("store", {}))
    return AppConfig.model_validate({"stores": [store], **overrides})


def booking(name: str = "홍길동", **extra: Any) -> Booking:
    return Booking(
        booking_num="5000001_1000000001",
        phone="010-0000-1111",
        name=name,
        booking_time="2025-11-25 14:00:00",
        extra=extra,
    )


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "naver-sms.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_visit_is_written_the_korean_way_in_kst() -> None:
    assert format_visit_time(datetime(2025, 11, 25, 5, 0, tzinfo=UTC)) == "11월 25일 (화) 오후 2:00"
    assert (
        format_visit_time(datetime(2025, 11, 24, 15, 30, tzinfo=UTC)) == "11월 25일 (화) 오전 12:30"
    )
    assert (
        format_visit_time(datetime(2025, 11, 25, 3, 5, tzinfo=UTC)) == "11월 25일 (화) 오후 12:05"
    )


def test_every_documented_variable_is_given_to_templates() -> None:
    store = config().stores[0]
    variables = template_variables(
        booking(item_name="기본 촬영", option_names=["원본 추가"]), store
    )

    assert set(variables) == set(VARIABLES)
    assert variables["visit_date"] == "11월 25일 (화)"
    assert variables["visit_clock"] == "오후 2:00"
    assert variables["visit_short"] == "11/25 14:00"
    assert variables["visit_iso"] == "2025-11-25 14:00"
    assert variables["item"] == "기본 촬영"
    assert variables["options"] == ["원본 추가"]
    assert variables["booking_id"] == "1000000001"


def test_options_given_as_one_comma_separated_string_become_a_list() -> None:
    variables = template_variables(booking(option_names="네이버 이벤트, 원본"), config().stores[0])

    assert variables["options"] == ["네이버 이벤트", "원본"]
    assert variables["item"] == ""


def test_a_store_override_wins_over_the_config_default_which_wins_over_the_built_in() -> None:
    app = config(
        store={"templates": {"guide": "{{ customer }}님 안내"}},
        templates={"confirmation": "{{ customer }}님 확정"},
    )
    renderer = TemplateRenderer(app)
    store = app.stores[0]

    assert renderer.render(store, MessageKind.REMINDER, booking()).text == "홍길동님 안내"
    assert renderer.render(store, MessageKind.CONFIRMATION, booking()).text == "홍길동님 확정"
    assert renderer.render(store, MessageKind.REMINDER, booking()).origin == "store"
    assert renderer.source(store, MessageKind.EVENT) == (
        "built-in",
        DEFAULT_TEMPLATES[MessageKind.EVENT],
    )


def test_an_undefined_variable_is_an_error_naming_the_template_and_the_store() -> None:
    app = config(store={"templates": {"confirm": "{{ custmer }}님"}})

    with pytest.raises(TemplateError, match=r"confirmation \(store\).*샘플 스튜디오.*custmer"):
        TemplateRenderer(app).render(app.stores[0], MessageKind.CONFIRMATION, booking())


def test_a_syntax_error_names_the_line() -> None:
    app = config(templates={"reminder": "안내\n{% if %}"})

    with pytest.raises(TemplateError, match="line 2"):
        TemplateRenderer(app).render(app.stores[0], MessageKind.REMINDER, booking())


def test_templates_cannot_reach_python_internals() -> None:
    app = config(templates={"reminder": "{{ ''.__class__.__mro__ }}"})

    with pytest.raises(TemplateError):
        TemplateRenderer(app).render(app.stores[0], MessageKind.REMINDER, booking())


def test_an_emoji_in_a_template_names_the_template_and_the_store() -> None:
    app = config(store={"templates": {"guide": "안내 🚗 주차"}})

    with pytest.raises(UnencodableCharacterError) as caught:
        TemplateRenderer(app).render(app.stores[0], MessageKind.REMINDER, booking())

    assert caught.value.character == "🚗"
    assert caught.value.template == "guide (store)"
    assert caught.value.store == "샘플 스튜디오"


def test_an_emoji_from_the_customers_name_is_replaced_not_a_failure() -> None:
    rendered = TemplateRenderer(config()).render(
        config().stores[0], MessageKind.CONFIRMATION, booking(name="홍길동😀")
    )

    assert rendered.text.startswith("[샘플 스튜디오] 홍길동?님,")
    assert rendered.adjusted == ("customer name: 1 character EUC-KR cannot carry was replaced",)


def test_an_emoji_the_template_makes_from_a_variable_says_it_came_from_a_variable() -> None:
    app = config(templates={"confirmation": "{{ customer }}{{ '\\U0001F600' }}"})

    with pytest.raises(UnencodableCharacterError, match="from a variable"):
        TemplateRenderer(app).render(app.stores[0], MessageKind.CONFIRMATION, booking())


def test_the_event_message_is_labelled_as_advertising_and_goes_as_ad() -> None:
    app = config()
    message = TemplateRenderer(app).message(app.stores[0], MessageKind.EVENT, booking())

    assert message.text.startswith("(광고)샘플 스튜디오\n")
    assert message.text.endswith("\n무료수신거부 080-000-0000")
    assert message.advertising
    assert message.type is MessageType.LMS
    assert message.subject.startswith("(광고)")
    assert (message.to, message.sender, message.store_id) == (
        "010-0000-1111",
        "0200000000",
        "5000001",
    )


def test_no_event_message_can_be_built_for_a_store_without_an_opt_out() -> None:
    app = config(store={"opt_out": None})

    with pytest.raises(MessageError, match="no opt_out number"):
        TemplateRenderer(app).message(app.stores[0], MessageKind.EVENT, booking())


def test_the_built_in_confirmation_of_the_sample_fits_one_sms() -> None:
    app = config()
    rendered = TemplateRenderer(app).render(
        app.stores[0], MessageKind.CONFIRMATION, sample_booking(app.stores[0])
    )

    assert rendered.type is MessageType.SMS


def test_every_built_in_template_passes_the_check() -> None:
    rows = check_templates(config())

    assert len(rows) == 3
    assert [row.problems for row in rows] == [[], [], []]


def test_check_reports_a_store_without_opt_out_as_a_warning_not_a_problem() -> None:
    [_, _, event] = check_templates(config(store={"opt_out": ""}))

    assert event.problems == []
    assert "no opt_out" in event.warnings[0]


def test_templates_check_passes_on_the_example_config() -> None:
    result = CliRunner().invoke(cli, ["templates", "check", "--config", str(EXAMPLE)])

    assert result.exit_code == 0, result.output
    assert "SMS" in result.output
    assert "LMS" in result.output
    assert "6 messages ok" in result.output


def test_templates_check_passes_on_the_built_in_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'stores:\n  - {id: "1", name: 샘플 가게, sender: "0200000000", opt_out: "080-000-0000"}\n',
    )

    result = CliRunner().invoke(cli, ["templates", "check", "--config", str(path)])

    assert result.exit_code == 0, result.output


def test_templates_check_exits_2_and_shows_the_problem(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'stores:\n  - id: "1"\n    name: 샘플 가게\n    sender: "0200000000"\n'
        "    templates: {guide: '{{ door_code }} 😀'}\n",
    )

    result = CliRunner().invoke(cli, ["templates", "check", "--config", str(path)])

    assert result.exit_code == 2
    assert "problem" in result.output
    assert "😀" in result.output


def test_templates_check_reads_the_config_named_by_naver_sms_config(tmp_path: Path) -> None:
    path = write(tmp_path, 'stores:\n  - {id: "1", name: 샘플 가게, sender: "0200000000"}\n')

    result = CliRunner().invoke(cli, ["templates", "check"], env={"NAVER_SMS_CONFIG": str(path)})

    assert result.exit_code == 0, result.output
    assert "샘플 가게" in result.output


def test_preview_prints_the_text_with_its_size_and_type() -> None:
    result = CliRunner().invoke(
        cli, ["templates", "preview", "5000001", "guide", "--config", str(EXAMPLE)]
    )

    assert result.exit_code == 0, result.output
    assert "reminder · store template · LMS" in result.output
    assert "홍길동님" in result.output


def test_preview_takes_a_store_name_and_a_customer() -> None:
    result = CliRunner().invoke(
        cli,
        [
            "templates",
            "preview",
            "샘플 공방",
            "event",
            "--config",
            str(EXAMPLE),
            "--customer",
            "김하나",
        ],
    )

    assert result.exit_code == 0, result.output
    assert "(광고)샘플 공방" in result.output
    assert "김하나님" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [(["9", "guide"], "no store '9'"), (["5000001", "promo"], "unknown message kind")],
)
def test_preview_of_an_unknown_store_or_kind_is_a_usage_error(
    args: list[str], expected: str
) -> None:
    result = CliRunner().invoke(cli, ["templates", "preview", *args, "--config", str(EXAMPLE)])

    assert result.exit_code == 2
    assert expected in result.output


def test_preview_of_a_broken_template_is_one_line_and_exit_1(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'stores:\n  - id: "1"\n    name: 샘플 가게\n    sender: "0200000000"\n'
        "    templates: {confirm: '{{ nope }}'}\n",
    )

    result = CliRunner().invoke(
        cli, ["templates", "preview", "1", "confirm", "--config", str(path)]
    )

    assert result.exit_code == 2
    assert "nope" in result.output
