"""`naver-sms config migrate`: an old config's rules and templates as the messages list."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from naver_sms.config import AppConfig, load_app_config
from naver_sms.entrypoints.cli import cli
from naver_sms.messaging.templates import check_templates

OLD = """stores:
  - id: "5000001"
    name: 샘플 스튜디오 강남점
    sender: "02-0000-0000"
    opt_out: "080-000-0000"
    templates:
      guide: "[{{ store }}] {{ customer }}님, {{ visit_clock }} 예약 안내입니다. 비밀번호 0000*"
  - {id: "5000002", name: 샘플 공방, sender: "031-000-0000"}
rules:
  reminder: {hours_before: 3}
  event: {keywords: [리뷰], window: ["19:00", "21:00"]}
templates:
  confirmation: "[{{ store }}] {{ customer }}님, {{ visit_time }} 예약이 확정되었습니다."
"""


def test_an_old_config_migrates_to_the_same_messages_and_texts(tmp_path: Path) -> None:
    old = tmp_path / "naver-sms.yaml"
    old.write_text(OLD, encoding="utf-8")

    result = CliRunner().invoke(cli, ["config", "migrate", str(old)])

    assert result.exit_code == 0, result.output
    assert old.read_text(encoding="utf-8") == OLD  # nothing written
    data = yaml.safe_load(result.stdout)
    assert "rules" not in data
    assert "templates" not in data
    assert [m["name"] for m in data["messages"]] == ["confirmation", "reminder", "event"]
    assert data["messages"][1]["offset"] == "3h"
    assert data["stores"][0]["messages"] == [
        {"name": "reminder", "template": data["stores"][0]["messages"][0]["template"]}
    ]
    new = AppConfig.model_validate(data)
    original = load_app_config(old)
    for store_old, store_new in zip(original.stores, new.stores, strict=True):
        assert original.catalog(store_old) == new.catalog(store_new)
    texts = [(r.store.id, r.kind, r.text) for r in check_templates(original)]
    assert [(r.store.id, r.kind, r.text) for r in check_templates(new)] == texts


def test_the_config_init_writes_is_in_the_new_form_already(tmp_path: Path) -> None:
    path = tmp_path / "naver-sms.yaml"
    assert CliRunner().invoke(cli, ["init", str(path)]).exit_code == 0
    assert load_app_config(path).messages is not None
    result = CliRunner().invoke(cli, ["config", "migrate", str(path)])
    assert "nothing to migrate" in str(result.exception)


def test_a_config_already_in_the_new_form_is_said_to_need_nothing(tmp_path: Path) -> None:
    path = tmp_path / "new.yaml"
    path.write_text(
        "stores:\n  - {id: '5000001', name: 샘플, sender: '0200000000'}\n"
        "messages:\n  - {name: confirmation, when: confirmed}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["config", "migrate", str(path)])
    assert result.exit_code != 0
    assert "nothing to migrate" in str(result.exception)
