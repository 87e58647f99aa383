"""The README's environment table names every setting the code reads, and only those."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A setting is a quoted upper-case name with one of these prefixes.
READ = re.compile(r"""["'](?P<name>(?:NAVER|SENS|TELEGRAM|AWS|CHROME|CHROMEDRIVER)_[A-Z_]+)["']""")
# Names in quotes that are not environment settings (a tuple of browser flags).
NOT_SETTINGS = {"CHROME_FLAGS"}


def read_by_the_code() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "src" / "naver_sms").rglob("*.py"):
        names |= {m["name"] for m in READ.finditer(path.read_text(encoding="utf-8"))}
    return names - NOT_SETTINGS


def in_the_readme_table() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Configuration") :]
    section = section[: section.index("\n## ", 1)]
    return set(re.findall(r"^\| `([A-Z][A-Z_]+)`", section, re.MULTILINE))


def test_every_setting_the_code_reads_is_in_the_readme_table() -> None:
    missing = read_by_the_code() - in_the_readme_table()
    assert missing == set(), f"add to README.md's environment table: {sorted(missing)}"


def test_the_table_names_no_setting_the_code_does_not_read() -> None:
    stale = in_the_readme_table() - read_by_the_code() - {"COLUMNS"}
    assert stale == set(), f"README.md's environment table names unread settings: {stale}"


def test_the_check_finds_the_settings_config_reads() -> None:
    # The pattern must see config.py's table, or the tests above prove nothing.
    assert {"NAVER_SMS_CONFIG", "SENS_SECRET_KEY", "TELEGRAM_CHAT_ID"} <= read_by_the_code()
