"""`naver-sms session import` of a whole browser export keeps Naver's cookies only (10.9)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from naver_sms.entrypoints.cli import cli

WHOLE_BROWSER = [
    {"domain": ".naver.com", "name": "NID_AUT", "value": "aut-value-canary-0b1c"},
    {"domain": ".naver.com", "name": "NID_SES", "value": "ses-value-canary-9e2d"},
    {"domain": ".google.com", "name": "SID", "value": "google-canary-5f5f"},
    {"domain": "bank.example", "name": "BANKSESSION", "value": "bank-canary-7a7a"},
]


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "NAVER_SMS_STORE": "sqlite",
        "NAVER_SMS_DB": str(tmp_path / "naver-sms.db"),
        "NAVER_SMS_CONFIG": str(tmp_path / "missing.yaml"),
    }


def test_other_sites_cookies_in_an_export_are_neither_stored_nor_shown(tmp_path: Path) -> None:
    export = tmp_path / "all-cookies.json"
    export.write_text(json.dumps(WHOLE_BROWSER), encoding="utf-8")
    env = _env(tmp_path)
    runner = CliRunner()

    imported = runner.invoke(cli, ["session", "import", str(export)], env=env)
    assert imported.exit_code == 0, imported.output
    assert "imported 2 cookies (NID_AUT, NID_SES)" in imported.output
    assert "left out other sites' cookies: .google.com, bank.example" in imported.output

    shown = runner.invoke(cli, ["session", "show"], env=env)
    assert [line.split()[0] for line in shown.stdout.splitlines()[1:]] == ["NID_AUT", "NID_SES"]
    database = (tmp_path / "naver-sms.db").read_bytes()
    assert b"google-canary" not in database
    assert b"bank-canary" not in database


def test_an_export_without_naver_login_cookies_is_one_clear_line(tmp_path: Path) -> None:
    export = tmp_path / "google.json"
    export.write_text(json.dumps(WHOLE_BROWSER[2:]), encoding="utf-8")
    result = CliRunner().invoke(cli, ["session", "import", str(export)], env=_env(tmp_path))
    assert result.exit_code != 0  # `main` turns this error into one line and exit 2
    assert "none of the cookies is for naver.com (found .google.com, bank.example)" in (
        str(result.exception) + result.output
    )
    assert "Traceback" not in result.output
