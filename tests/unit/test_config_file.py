"""The YAML config file: stores, rules, templates, and one-line errors naming file and field."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from naver_sms.config import AppConfig, ConfigError, load_app_config
from naver_sms.domain.messages import MessageKind

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "example.yaml"
STORE = '  - {id: "5000001", name: 샘플 가게, sender: "02-0000-0000"}\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "naver-sms.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_app_config(write(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message
    assert str(tmp_path / "naver-sms.yaml") in message
    return message


def test_the_example_config_loads_with_its_stores_and_messages() -> None:
    config = load_app_config(EXAMPLE)

    assert [store.id for store in config.stores] == ["5000001", "5000002"]
    first = config.stores[0]
    assert first.sender == "0200000000"
    assert first.opt_out == "080-000-0000"
    assert [override.name for override in first.messages] == ["reminder"]  # its guide
    catalog = config.catalog(first)
    assert [spec.name for spec in catalog] == ["confirmation", "reminder", "event"]
    reminder, event = catalog[1], catalog[2]
    assert reminder.offset == timedelta(hours=2)
    assert event.keywords == ("네이버", "인스타", "원본")
    assert event.window == (time(20, 0), time(21, 0))
    assert all(message.template for message in config.messages or ())


def test_a_minimal_config_gets_the_default_rules(tmp_path: Path) -> None:
    config = load_app_config(write(tmp_path, "stores:\n" + STORE))

    assert config.rules.confirmation.enabled
    assert config.rules.reminder.enabled
    assert config.rules.event.window == (time(20, 0), time(21, 0))
    assert config.templates == {}
    assert config.stores[0].opt_out is None


def test_stores_are_found_by_id_or_name() -> None:
    config = load_app_config(EXAMPLE)

    assert config.store("5000002").name == "샘플 공방"
    assert config.store("샘플 공방").id == "5000002"
    with pytest.raises(KeyError, match="expected one of 5000001"):
        config.store("nope")


def test_an_unquoted_numeric_store_id_is_accepted(tmp_path: Path) -> None:
    config = load_app_config(
        write(tmp_path, 'stores:\n  - {id: 5000001, name: 샘플, sender: "0200000000"}\n')
    )

    assert config.stores[0].id == "5000001"


def test_a_missing_file_says_how_to_name_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not found.*NAVER_SMS_CONFIG"):
        load_app_config(tmp_path / "absent.yaml")


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    assert ": line 2: expected valid YAML" in error_of(tmp_path, "stores:\n\tbad: 1\n")


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    assert "expected a mapping" in error_of(tmp_path, "- just a list\n")


def test_an_unquoted_sender_number_is_refused_because_yaml_drops_its_leading_zero(
    tmp_path: Path,
) -> None:
    message = error_of(tmp_path, "stores:\n  - {id: '1', name: 샘플, sender: 0200000000}\n")

    assert "stores[0].sender" in message
    assert "quoted string" in message


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("stores: []\n", "stores", "expected"),
        (
            'stores:\n  - {id: "abc", name: 샘플, sender: "0200000000"}\n',
            "stores[0].id",
            "businessId",
        ),
        (
            'stores:\n  - {id: "1", name: 샘플, sender: "02-abc"}\n',
            "stores[0].sender",
            "registered",
        ),
        ('stores:\n  - {id: "1", sender: "0200000000"}\n', "stores[0].name", "required"),
        (
            'stores:\n  - {id: "1", name: 샘플, sender: "0200000000", opt_out: "call us"}\n',
            "stores[0].opt_out",
            "080-000-0000",
        ),
        (
            'stores:\n  - {id: "1", name: 샘플, sender: "0200000000", templates: {promo: hi}}\n',
            "stores[0].templates",
            "got 'promo'",
        ),
        ("stores:\n" + STORE + STORE, "stores", "given twice"),
        (
            "stores:\n" + STORE + "rules: {reminder: {hours_before: 0}}\n",
            "rules.reminder.hours_before",
            "greater than 0",
        ),
        (
            "stores:\n" + STORE + "rules: {event: {keyword: [a]}}\n",
            "rules.event.keyword",
            "unknown field",
        ),
        (
            "stores:\n" + STORE + "rules: {event: {keywords: ['', ' ']}}\n",
            "rules.event.keywords",
            "keyword",
        ),
        (
            "stores:\n" + STORE + "rules: {event: {window: ['20:00', '22:00']}}\n",
            "rules.event.window",
            "08:00-21:00",
        ),
        (
            "stores:\n" + STORE + "rules: {event: {window: ['21:00', '20:00']}}\n",
            "rules.event.window",
            "before",
        ),
        (
            "stores:\n" + STORE + "rules: {event: {window: ['8pm', '9pm']}}\n",
            "rules.event.window",
            "HH:MM",
        ),
        (
            "stores:\n" + STORE + "rules: {event: {window: [1200, 1260]}}\n",
            "rules.event.window",
            "quoted",
        ),
        (
            "stores:\n" + STORE + "templates: {confirm: a, confirmation: b}\n",
            "templates",
            "given twice",
        ),
        ("stores:\n" + STORE + "extra: 1\n", "extra", "unknown field"),
    ],
)
def test_a_mistake_is_one_line_naming_the_field_and_what_was_expected(
    tmp_path: Path, text: str, field: str, expected: str
) -> None:
    message = error_of(tmp_path, text)

    assert f": {field}: " in message
    assert expected in message


def test_store_template_aliases_map_to_message_kinds() -> None:
    config = AppConfig.model_validate(
        {
            "stores": [
                {
                    "id": "1",
                    "name": "샘플",
                    "sender": "0200000000",
                    "templates": {"confirm": "a", "guide": "b", "event": "c"},
                }
            ]
        }
    )

    assert config.stores[0].templates == {
        MessageKind.CONFIRMATION: "a",
        MessageKind.REMINDER: "b",
        MessageKind.EVENT: "c",
    }


def test_a_store_without_opt_out_is_a_warning_while_the_event_rule_is_on(tmp_path: Path) -> None:
    config = load_app_config(write(tmp_path, "stores:\n" + STORE))
    quiet = load_app_config(
        write(tmp_path, "stores:\n" + STORE + "rules: {event: {enabled: false}}\n")
    )

    assert config.warnings() == [
        "store 5000001 (샘플 가게): no opt_out, so no event (advertising) messages"
    ]
    assert quiet.warnings() == []
    assert load_app_config(EXAMPLE).warnings() == []
