"""`naver-sms session import/show/clear` and `login` errors, end to end on a SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from naver_sms.entrypoints.cli import cli

AUT_VALUE = "aut-value-canary-0b1c"
SES_VALUE = "ses-value-canary-9e2d"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "NAVER_SMS_STORE": "sqlite",
        "NAVER_SMS_DB": str(tmp_path / "naver-sms.db"),
        "NAVER_SMS_CONFIG": str(tmp_path / "missing.yaml"),
        "NAVER_USERNAME": "",
        "NAVER_PASSWORD": "",
    }


def _export(tmp_path: Path, cookies: object, name: str = "cookies.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(cookies), encoding="utf-8")
    return str(path)


EDITOR_EXPORT = [  # the shape of a browser cookie-editor extension's export
    {
        "domain": ".naver.com",
        "expirationDate": 1798761600.25,
        "hostOnly": False,
        "httpOnly": True,
        "name": "NID_AUT",
        "path": "/",
        "sameSite": "no_restriction",
        "secure": True,
        "session": False,
        "storeId": "0",
        "value": AUT_VALUE,
    },
    {"domain": ".naver.com", "httpOnly": True, "name": "NID_SES", "path": "/", "value": SES_VALUE},
    {
        "domain": "partner.booking.naver.com",
        "name": "BOOKING_X",
        "value": "v",
        "expiry": 1700000000,
    },
]


def test_imported_cookies_are_shown_masked_and_cleared(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["session", "import", _export(tmp_path, EDITOR_EXPORT)], env=env)
    assert result.exit_code == 0, result.output
    assert "imported 3 cookies (NID_AUT, NID_SES, BOOKING_X)" in result.output

    result = runner.invoke(cli, ["session", "show"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "DOMAIN", "EXPIRES", "VALUE"]
    assert lines[1].split()[:2] == ["NID_AUT", ".naver.com"]
    assert "2027-01-01 09:00 KST" in lines[1]
    assert "session" in lines[2]
    assert "(expired)" in lines[3]
    assert "*** (21 chars)" in lines[1]
    assert AUT_VALUE not in result.output
    assert SES_VALUE not in result.output

    assert runner.invoke(cli, ["session", "clear"], env=env).stdout == "session deleted\n"
    assert runner.invoke(cli, ["session", "show"], env=env).stdout.startswith("no session stored")
    assert runner.invoke(cli, ["session", "clear"], env=env).stdout == "no session stored\n"


def test_a_playwright_storage_state_is_accepted(env: dict[str, str], tmp_path: Path) -> None:
    state = {"cookies": EDITOR_EXPORT[:2], "origins": []}
    result = CliRunner().invoke(cli, ["session", "import", _export(tmp_path, state)], env=env)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cookies are not valid JSON (line 1 column 2"),
        (
            '{"name": "NID_AUT"}',
            "cookies must be a JSON array of cookie objects, got a JSON object",
        ),
        ("[]", "the cookie array is empty"),
        ('[{"name": "NID_AUT"}]', "cookie #0 has no string 'value'"),
        ('[{"name": "NID_AUT", "value": "a"}]', "no NID_SES cookie"),
        ('[{"name": "NID AUT", "value": "a"}]', "cookie #0 has an invalid name"),
        (
            '[{"name": "NID_AUT", "value": "a;b"}]',
            "cookie #0 (NID_AUT) has a value a Cookie header",
        ),
    ],
)
def test_a_bad_cookie_file_is_one_clear_error_line(
    env: dict[str, str], tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(cli, ["session", "import", str(path)], env=env)
    assert result.exit_code != 0
    assert message in str(result.exception) + result.output
    assert "Traceback" not in result.output


def test_the_main_entry_point_prints_one_line_and_exits_2_for_a_bad_file(
    env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from naver_sms.entrypoints.cli import main  # noqa: PLC0415

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "bad.json"
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["session", "import", str(path)])
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == "error: the cookie array is empty"


def test_login_without_a_store_or_config_says_how_to_name_one(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["login"], env=env)
    assert result.exit_code != 0
    assert "naver-sms login --store ID" in str(result.exception)


def test_login_refuses_a_store_id_that_is_not_a_number(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["login", "--store", "gangnam"], env=env)
    assert result.exit_code == 2
    assert "numeric Naver businessId" in result.output


def test_login_without_credentials_fails_before_any_browser(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["login", "--store", "5000001"], env=env)
    assert result.exit_code == 1
    assert "NAVER_USERNAME and NAVER_PASSWORD are not set" in result.output


def test_every_session_command_has_help_with_an_example() -> None:
    for args in (
        ["login"],
        ["session"],
        ["session", "import"],
        ["session", "show"],
        ["session", "clear"],
    ):
        result = CliRunner().invoke(cli, [*args, "--help"])
        assert result.exit_code == 0
        assert "naver-sms " in result.output
