"""A broken configuration: one clear line on stderr naming the mistake, exit 2, no traceback.

Twenty-six kinds of mistake an owner makes in the YAML file and in the
environment, each through the real console entry point (`main`), as
`naver-sms run` would meet them. Nothing is contacted: every case fails
before the first request.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from naver_sms.entrypoints.cli import main

pytestmark = pytest.mark.reliability

GOOD_STORE = (
    'stores:\n  - {id: "5000001", name: 가게, sender: "0200000000", opt_out: "0800000000"}\n'
)

# (name, YAML or None for "no file written", extra environment, words the line must hold)
CASES: list[tuple[str, str | None, dict[str, str], list[str]]] = [
    ("missing file", None, {}, ["naver-sms.yaml", "not found"]),
    ("bad YAML", "stores: [\n  - id: 1\n", {}, ["line", "valid YAML"]),
    ("a list at the top", "- 5000001\n", {}, ["expected a mapping"]),
    ("no stores", "rules: {}\n", {}, ["stores", "required"]),
    ("empty stores", "stores: []\n", {}, ["stores", "at least one store"]),
    (
        "store id not numeric",
        'stores:\n  - {id: gangnam, name: 가게, sender: "0200000000"}\n',
        {},
        ["stores[0].id", "numeric"],
    ),
    (
        "store id twice",
        GOOD_STORE + '  - {id: "5000001", name: 둘, sender: "0200000000"}\n',
        {},
        ["5000001", "twice"],
    ),
    (
        "sender unquoted",
        "stores:\n  - {id: 5000001, name: 가게, sender: 0200000000}\n",
        {},
        ["stores[0].sender", "quoted"],
    ),
    (
        "sender not a number",
        'stores:\n  - {id: "5000001", name: 가게, sender: "call me"}\n',
        {},
        ["stores[0].sender", "8-12 digits"],
    ),
    (
        "store without name",
        'stores:\n  - {id: "5000001", sender: "0200000000"}\n',
        {},
        ["stores[0].name", "required"],
    ),
    (
        "misspelt field",
        'stores:\n  - {id: "5000001", name: 가게, sendr: "0200000000"}\n',
        {},
        ["stores[0].sendr", "unknown field", "did you mean 'sender'"],
    ),
    (
        "opt-out not a number",
        'stores:\n  - {id: "5000001", name: 가게, sender: "0200000000", opt_out: "none"}\n',
        {},
        ["stores[0].opt_out"],
    ),
    (
        "unknown template name",
        GOOD_STORE + "templates: {welcome: 안녕하세요}\n",
        {},
        ["welcome", "template names"],
    ),
    (
        "reminder zero hours before",
        GOOD_STORE + "rules: {reminder: {hours_before: 0}}\n",
        {},
        ["rules.reminder.hours_before"],
    ),
    (
        "event window after 21:00",
        GOOD_STORE + 'rules: {event: {window: ["20:00", "22:00"]}}\n',
        {},
        ["rules.event.window", "08:00-21:00"],
    ),
    (
        "event window not a time",
        GOOD_STORE + 'rules: {event: {window: ["8pm", "9pm"]}}\n',
        {},
        ["rules.event.window", "HH:MM"],
    ),
    (
        "no keyword",
        GOOD_STORE + "rules: {event: {keywords: [' ']}}\n",
        {},
        ["rules.event.keywords", "keyword"],
    ),
    (
        "rule switch not true/false",
        GOOD_STORE + "rules: {confirmation: {enabled: sometimes}}\n",
        {},
        ["rules.confirmation.enabled"],
    ),
    ("unknown store kind", GOOD_STORE, {"NAVER_SMS_STORE": "postgres"}, ["NAVER_SMS_STORE"]),
    ("unknown log level", GOOD_STORE, {"NAVER_SMS_LOG_LEVEL": "LOUD"}, ["NAVER_SMS_LOG_LEVEL"]),
    (
        "half the SENS keys",
        GOOD_STORE,
        {"SENS_ACCESS_KEY": "only-this-one"},
        ["SENS_ACCESS_KEY", "SENS_SECRET_KEY", "SENS_SERVICE_ID"],
    ),
    ("too many workers", GOOD_STORE, {"NAVER_SMS_WORKERS": "500"}, ["NAVER_SMS_WORKERS", "32"]),
    ("config is a directory", "", {"NAVER_SMS_CONFIG": "."}, ["config file", "cannot be read"]),
    (
        "SENS over clear text",
        GOOD_STORE,
        {"SENS_URL": "http://sens.apigw.ntruss.com"},
        ["SENS_URL", "https://"],
    ),
    (
        "Telegram over clear text",
        GOOD_STORE,
        {"TELEGRAM_API_URL": "http://api.telegram.org"},
        ["TELEGRAM_API_URL", "https://"],
    ),
    (
        "DynamoDB endpoint without a scheme",
        GOOD_STORE,
        {"AWS_ENDPOINT_URL": "localhost:8000"},
        ["AWS_ENDPOINT_URL", "https://host"],
    ),
]


@pytest.mark.parametrize(
    ("yaml_text", "env", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_a_broken_config_is_one_clear_line_and_exit_2(
    yaml_text: str | None,
    env: dict[str, str],
    words: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("NAVER_SMS_SECRET_ID", "SENS_SECRET_KEY", "SENS_SERVICE_ID", "SENS_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "naver-sms.yaml"
    if yaml_text is not None:
        config.write_text(yaml_text, encoding="utf-8")
    monkeypatch.setenv("NAVER_SMS_CONFIG", str(config))
    monkeypatch.setenv("NAVER_SMS_DB", str(tmp_path / "n.db"))
    monkeypatch.setenv("NAVER_BOOKING_URL", "http://127.0.0.1:9")  # never reached
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        main(["run", "--now", "2026-11-25T09:00:00+09:00"])
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert exited.value.code == 2, captured.err
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    assert captured.out == ""


def test_there_are_twenty_kinds_of_mistake_or_more() -> None:
    assert len({case[0] for case in CASES}) >= 20
