"""AlimTalk for messages the owner configures, by name, as for the seed's two."""

from __future__ import annotations

from pathlib import Path

from naver_sms.config import load_app_config
from naver_sms.messaging.templates import TemplateRenderer, sample_booking
from tests.unit.test_config_file import STORE, error_of, write

MESSAGES = """messages:
  - {name: confirmation, when: confirmed}
  - name: day_before
    when: before_visit
    offset: 1d
    template: "[{{ store }}] 내일 {{ visit_clock }} 방문 예정입니다."
  - name: promo
    when: after_visit
    advertising: true
    window: ["10:00", "20:00"]
    template: "(광고) 다음 방문 할인"
"""
DAY_BEFORE = """alimtalk:
  plus_friend_id: "@sample-studio"
  templates:
    day_before:
      code: "DAYBEFORE01"
      content: "#{고객명}님, 내일 #{시각} 방문 예정입니다."
      variables:
        고객명: "{{ customer }}"
        시각: "{{ visit_clock }}"
"""


def test_a_configured_message_goes_as_alimtalk_with_its_text_as_the_failover(
    tmp_path: Path,
) -> None:
    config = load_app_config(write(tmp_path, "stores:\n" + STORE + MESSAGES + DAY_BEFORE))
    store = config.stores[0]
    [day_before] = [spec for spec in config.catalog(store) if spec.name == "day_before"]
    assert config.uses_alimtalk()
    message = TemplateRenderer(config).message(store, day_before, sample_booking(store))
    assert message.alimtalk is not None
    assert message.alimtalk.template_code == "DAYBEFORE01"
    assert message.alimtalk.content.startswith("홍길동님, 내일 ")
    assert message.text.startswith("[샘플 가게] 내일 ")  # the failover: its own template
    assert message.kind == "day_before"


def test_an_advertising_message_or_an_unknown_name_under_alimtalk_is_refused(
    tmp_path: Path,
) -> None:
    promo = DAY_BEFORE.replace("day_before:", "promo:")
    assert "promo cannot go as AlimTalk" in error_of(
        tmp_path, "stores:\n" + STORE + MESSAGES + promo
    )
    unknown = DAY_BEFORE.replace("day_before:", "thanks:")
    assert "sends no message thanks" in error_of(tmp_path, "stores:\n" + STORE + MESSAGES + unknown)
