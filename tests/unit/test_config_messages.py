"""The `messages:` list of the config file: each message, its moment, store overrides."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

from naver_sms.config import load_app_config
from naver_sms.domain.catalog import When, builtin_catalog
from tests.unit.test_config_file import EXAMPLE, STORE, error_of, write

MESSAGES = """messages:
  - name: confirm
    when: confirmed
  - name: day_before
    when: before_visit
    offset: 1d
    template: "내일 {{ visit_clock }} 방문 예정입니다."
  - name: thanks
    when: after_visit
    offset: 90m
    window: ["10:00", "20:00"]
    template: "{{ customer }}님, 감사합니다."
  - name: event
    when: after_visit
    advertising: true
    window: ["20:00", "21:00"]
    keywords: [리뷰]
  - name: cancelled
    when: cancelled
    template: "{{ visit_time }} 예약이 취소되었습니다."
"""


def test_an_old_config_means_the_seeds_three_messages(tmp_path: Path) -> None:
    old = "stores:\n" + STORE + "rules:\n  reminder: {hours_before: 3}\n"
    config = load_app_config(write(tmp_path, old))
    assert config.messages is None
    assert config.catalog(config.stores[0]) == builtin_catalog(hours_before=3)


def test_the_example_config_is_in_the_new_form_and_means_the_same_three() -> None:
    config = load_app_config(EXAMPLE)
    catalog = config.catalog(config.stores[0])
    assert catalog == builtin_catalog(keywords=catalog[2].keywords)


def test_a_messages_list_is_the_stores_catalog_in_order(tmp_path: Path) -> None:
    config = load_app_config(write(tmp_path, "stores:\n" + STORE + MESSAGES))
    catalog = config.catalog(config.stores[0])
    assert [spec.name for spec in catalog] == [
        "confirmation",  # `confirm` is the seed's confirmation
        "day_before",
        "thanks",
        "event",
        "cancelled",
    ]
    day_before, thanks = catalog[1], catalog[2]
    assert (day_before.when, day_before.offset, day_before.flag) == (
        When.BEFORE_VISIT,
        timedelta(days=1),
        "day_before_sms",
    )
    assert thanks.offset == timedelta(minutes=90)
    assert thanks.window == (time(10, 0), time(20, 0))
    assert not thanks.advertising
    assert catalog[3].flag == "option_sms"  # the seed's flags keep their names


def test_a_store_overrides_a_message_by_name_or_turns_it_off(tmp_path: Path) -> None:
    stores = (
        "stores:\n"
        + STORE
        + '  - id: "5000002"\n    name: 둘째\n    sender: "02-0000-0001"\n'
        + "    messages:\n      - {name: day_before, offset: 3h}\n"
        + "      - {name: thanks, enabled: false}\n"
    )
    config = load_app_config(write(tmp_path, stores + MESSAGES))
    first, second = (config.catalog(store) for store in config.stores)
    assert first[1].offset == timedelta(days=1)
    assert second[1].offset == timedelta(hours=3)
    assert (first[2].enabled, second[2].enabled) == (True, False)


def test_rules_and_messages_together_are_refused_in_one_line(tmp_path: Path) -> None:
    message = error_of(
        tmp_path, "stores:\n" + STORE + "rules:\n  reminder: {hours_before: 3}\n" + MESSAGES
    )
    assert "rules: and messages: cannot both be given" in message
    assert "config migrate" in message


def test_a_message_without_a_template_is_refused_unless_it_has_a_default(
    tmp_path: Path,
) -> None:
    message = error_of(
        tmp_path, "stores:\n" + STORE + "messages:\n  - {name: thanks, when: after_visit}\n"
    )
    assert "message thanks: expected a template" in message


def test_an_advertising_message_needs_a_window_inside_the_laws_hours(tmp_path: Path) -> None:
    text = (
        "stores:\n" + STORE + "messages:\n"
        '  - {name: promo, when: after_visit, advertising: true, template: "(광고)x"}\n'
    )
    assert "advertising needs a window" in error_of(tmp_path, text)
    late = text.replace("advertising: true,", 'advertising: true, window: ["20:00", "22:00"],')
    assert "08:00-21:00" in error_of(tmp_path, late)


def test_names_offsets_and_overrides_are_checked(tmp_path: Path) -> None:
    entry = "  - {name: confirmation, when: confirmed}\n"
    twice = "stores:\n" + STORE + "messages:\n" + entry * 2
    assert "message confirmation is given twice" in error_of(tmp_path, twice)
    bad_offset = MESSAGES.replace("offset: 1d", "offset: tomorrow")
    assert 'like "1d", "2h" or "30m"' in error_of(tmp_path, "stores:\n" + STORE + bad_offset)
    bad_when = MESSAGES.replace("when: cancelled", "when: someday")
    assert "someday" in error_of(tmp_path, "stores:\n" + STORE + bad_when)
    unknown = (
        "stores:\n"
        '  - {id: "5000001", name: 가게, sender: "02-0000-0000", '
        "messages: [{name: nope, enabled: false}]}\n" + MESSAGES
    )
    assert "nope is not in the top-level messages" in error_of(tmp_path, unknown)
    bad_name = (
        "stores:\n" + STORE + 'messages:\n  - {name: "Day Before", when: confirmed, template: x}\n'
    )
    assert "message name" in error_of(tmp_path, bad_name)
