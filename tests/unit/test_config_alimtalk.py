"""The `alimtalk:` config: which store sends which kind as AlimTalk, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from naver_sms.config import (
    AppConfig,
    ConfigError,
    load_app_config,
    load_settings,
    require_alimtalk_service,
)
from naver_sms.domain.messages import MessageKind

STORES = (
    "stores:\n"
    '  - {id: "5000001", name: 샘플 스튜디오, sender: "02-0000-0000"}\n'
    '  - {id: "5000002", name: 샘플 공방, sender: "031-000-0000"}\n'
)
CONFIRMATION = (
    "    confirm:\n"
    '      code: "CONFIRM01"\n'
    '      content: "#{고객명}님, #{방문일시} 예약이 확정되었습니다."\n'
    "      variables:\n"
    '        고객명: "{{ customer }}"\n'
    '        방문일시: "{{ visit_time }}"\n'
)
ALIMTALK = 'alimtalk:\n  plus_friend_id: "@sample-studio"\n  templates:\n' + CONFIRMATION


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "naver-sms.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> AppConfig:
    return load_app_config(write(tmp_path, text))


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    message = str(caught.value)
    assert "\n" not in message
    return message.removeprefix(f"config file {tmp_path / 'naver-sms.yaml'}: ")


def test_a_kind_listed_under_alimtalk_goes_as_alimtalk_for_every_store(tmp_path: Path) -> None:
    config = load(tmp_path, STORES + ALIMTALK)

    for store in config.stores:
        choice = config.alimtalk_template(store, MessageKind.CONFIRMATION)
        assert choice is not None
        assert choice.plus_friend_id == "@sample-studio"
        assert choice.template.code == "CONFIRM01"
        assert choice.template.failover is True
        assert config.alimtalk_template(store, MessageKind.REMINDER) is None
        assert config.alimtalk_template(store, MessageKind.EVENT) is None
    assert config.uses_alimtalk()


def test_a_config_without_alimtalk_sends_only_texts(tmp_path: Path) -> None:
    config = load(tmp_path, STORES)

    assert not config.uses_alimtalk()
    assert config.alimtalk_template(config.stores[0], MessageKind.CONFIRMATION) is None


def test_the_line_break_a_yaml_block_adds_is_not_part_of_the_approved_text(
    tmp_path: Path,
) -> None:
    config = load(
        tmp_path,
        STORES
        + 'alimtalk:\n  plus_friend_id: "@s"\n  templates:\n    guide:\n'
        + "      code: GUIDE01\n      content: |\n        오늘 방문 예정입니다.\n"
        + "        주차는 건물 뒤편입니다.\n",
    )

    choice = config.alimtalk_template(config.stores[0], MessageKind.REMINDER)
    assert choice is not None
    assert choice.template.content == "오늘 방문 예정입니다.\n주차는 건물 뒤편입니다."


def test_a_store_entry_replaces_the_default_and_null_sends_that_kind_as_sms(
    tmp_path: Path,
) -> None:
    config = load(
        tmp_path,
        "stores:\n"
        '  - id: "5000001"\n    name: 샘플 스튜디오\n    sender: "0200000000"\n'
        "    alimtalk:\n"
        '      plus_friend_id: "@gangnam"\n'
        "      templates:\n"
        '        confirmation: {code: "GN01", content: "#{이름}님 예약 확정", '
        'variables: {이름: "{{ customer }}"}}\n'
        '  - id: "5000002"\n    name: 샘플 공방\n    sender: "0310000000"\n'
        "    alimtalk: {templates: {confirm: null}}\n"
        '  - id: "5000003"\n    name: 샘플 카페\n    sender: "0310000001"\n' + ALIMTALK,
    )
    gangnam, workshop, cafe = config.stores

    own = config.alimtalk_template(gangnam, MessageKind.CONFIRMATION)
    assert own is not None
    assert (own.plus_friend_id, own.template.code, own.origin) == ("@gangnam", "GN01", "store")
    assert config.alimtalk_template(workshop, MessageKind.CONFIRMATION) is None
    shared = config.alimtalk_template(cafe, MessageKind.CONFIRMATION)
    assert shared is not None
    assert (shared.plus_friend_id, shared.origin) == ("@sample-studio", "config")


def test_a_store_may_bring_its_own_channel_for_the_shared_templates(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        'stores:\n  - id: "5000001"\n    name: 샘플\n    sender: "0200000000"\n'
        '    alimtalk: {plus_friend_id: "@own"}\n'
        "alimtalk:\n  templates:\n" + CONFIRMATION,
    )

    choice = config.alimtalk_template(config.stores[0], MessageKind.CONFIRMATION)
    assert choice is not None
    assert choice.plus_friend_id == "@own"


@pytest.mark.parametrize(
    ("alimtalk", "expected"),
    [
        (
            'alimtalk:\n  plus_friend_id: "@s"\n  templates:\n'
            "    event: {code: EV01, content: 리뷰 이벤트 안내}\n",
            "alimtalk.templates: event cannot go as AlimTalk: AlimTalk carries informational "
            "messages only and the event message is advertising (it goes as SMS); "
            "remove it from alimtalk.templates",
        ),
        (
            'alimtalk:\n  plus_friend_id: "@s"\n  templates:\n'
            '    confirm: {code: C1, content: "#{고객명}님 #{방문일시}", '
            'variables: {고객명: "{{ customer }}"}}\n',
            "alimtalk.templates.confirmation: template C1: #{방문일시} in the content has no "
            'variable: add 방문일시: "{{ ... }}" under variables',
        ),
        (
            'alimtalk:\n  plus_friend_id: "@s"\n  templates:\n'
            '    guide: {code: G1, content: "#{고객명}님", '
            'variables: {고객명: "{{ customer }}", 방문시간: "{{ visit_clock }}"}}\n',
            "alimtalk.templates.reminder: template G1: variable 방문시간 is not in the content "
            "as #{방문시간}: remove it or check its spelling",
        ),
        (
            "alimtalk:\n  templates:\n    confirm: {code: C1, content: 예약 확정}\n",
            "alimtalk.plus_friend_id: expected the Kakao channel's id "
            '(e.g. "@sample-studio"): store 5000001 (샘플 스튜디오) sends confirmation as '
            "AlimTalk (set it under alimtalk: or the store's alimtalk:)",
        ),
        (
            'alimtalk:\n  plus_friend_id: "@s"\n  templates:\n'
            '    confirm: {code: C1, content: "' + "가" * 1001 + '"}\n',
            "alimtalk.templates.confirmation: template C1: content is 1,001 characters: "
            "AlimTalk allows at most 1,000",
        ),
        (
            'alimtalk:\n  plus_friend_id: "@s"\n  templates:\n'
            "    confirm: {code: C1, content: 예약 확정, buttons: "
            '[{type: WL, name: 예약 보기, link_mobile: "https://m.example.com"}]}\n',
            "alimtalk.templates.confirmation: template C1: button 1 (예약 보기): "
            "a web link (WL) needs both link_mobile and link_pc",
        ),
        (
            'alimtalk:\n  plus_friend_id: "@s"\n  templates:\n'
            "    confirm: {cod: C1, content: 예약 확정}\n",
            "alimtalk.templates.confirmation.cod: unknown field; did you mean 'code'?",
        ),
        (
            "alimtalk:\n  plus_friend_id: @sample-studio\n",
            "line 5: expected valid YAML (found character '@' that cannot start any token; "
            'quote a value that starts with @, e.g. "@sample-studio")',
        ),
        (
            'alimtalk:\n  plus_friend_id: "sample studio"\n',
            "alimtalk.plus_friend_id: expected the Kakao channel's id as SENS shows it "
            "(e.g. \"@sample-studio\"), got 'sample studio'",
        ),
    ],
    ids=[
        "event",
        "placeholder-without-variable",
        "variable-not-in-text",
        "no-channel",
        "too-long",
        "web-link",
        "misspelt-field",
        "unquoted-channel",
        "channel-with-space",
    ],
)
def test_an_alimtalk_mistake_is_one_line_naming_the_field_and_what_to_do(
    tmp_path: Path, alimtalk: str, expected: str
) -> None:
    assert error_of(tmp_path, STORES + alimtalk) == expected


def test_a_store_cannot_send_its_event_as_alimtalk_either(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        'stores:\n  - id: "5000001"\n    name: 샘플\n    sender: "0200000000"\n'
        '    alimtalk: {plus_friend_id: "@s", templates: {event: {code: E1, content: 안내}}}\n',
    )

    assert message.startswith("stores[0].alimtalk.templates: event cannot go as AlimTalk")


def test_the_alimtalk_service_id_comes_from_the_environment_or_the_secret() -> None:
    from_env = load_settings({"SENS_ALIMTALK_SERVICE_ID": "ncp:kkobizmsg:kr:000:sample"})
    from_secret = load_settings(
        {"NAVER_SMS_SECRET_ID": "naver-sms/secrets"},
        read_secret=lambda *_: json.dumps({"SENS_ALIMTALK_SERVICE_ID": "ncp:kkobizmsg:kr:1:s"}),
    )

    assert from_env.sens_alimtalk_service_id == "ncp:kkobizmsg:kr:000:sample"
    assert from_secret.sens_alimtalk_service_id == "ncp:kkobizmsg:kr:1:s"


def test_a_config_that_sends_alimtalk_needs_the_alimtalk_service_id(tmp_path: Path) -> None:
    with_alimtalk = load(tmp_path, STORES + ALIMTALK)
    texts_only = load_app_config(write(tmp_path, STORES))

    with pytest.raises(ConfigError, match=r"^environment variable SENS_ALIMTALK_SERVICE_ID: "):
        require_alimtalk_service(load_settings({}), with_alimtalk)
    require_alimtalk_service(load_settings({}), texts_only)
    require_alimtalk_service(
        load_settings({"SENS_ALIMTALK_SERVICE_ID": "ncp:kkobizmsg:kr:000:sample"}), with_alimtalk
    )
