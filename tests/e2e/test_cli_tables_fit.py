"""Tables fit the width they are given: a terminal's 80 columns, or COLUMNS when piped.

The why and the messages wrap; a booking number, a phone and a time never
break across lines, so a person can copy them and grep finds them. Widths
are display cells: Korean names take two each.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from rich.cells import cell_len

from tests.conftest import require
from tests.e2e.conftest import Shop, at
from tests.e2e.test_run_cli_startup import invoke

UNBREAKABLE = re.compile(r"\b\d{7}_\d+\b|\b1\d{9}\b|010-\*{4}-\d{4}|\d{2}-\d{2} \d{2}:\d{2}")


def fits(text: str, width: int) -> None:
    """No line wider than `width` cells."""
    too_wide = [line for line in text.splitlines() if cell_len(line) > width]
    assert too_wide == [], too_wide


def whole(text: str, pieces: list[str]) -> None:
    """Every piece (a booking number, a masked phone) is on one line, whole."""
    lines = text.splitlines()
    broken = [piece for piece in pieces if not any(piece in line for line in lines)]
    assert broken == [], broken


def a_day_of_messages(shop: Shop) -> dict[str, object]:
    shop.run(at(9))
    shop.naver.now = at(13, 10)
    return shop.run(at(13, 10)).report


def test_a_dry_run_report_fits_80_columns_and_keeps_numbers_whole(shop: Shop) -> None:
    shop.naver.now = at(9)

    code, out, _err = invoke(shop, "run", "--dry-run", "--now", at(9).isoformat(), COLUMNS="80")

    assert code == 0
    data = json.loads(invoke(shop, "run", "--dry-run", "--json", "--now", at(9).isoformat())[1])
    assert data["sent"], "the dry run should have had messages to show"
    fits(out, 80)
    whole(out, [item["booking_num"] for item in data["sent"]])
    whole(out, [item["phone_masked"] for item in data["sent"]])


def test_bookings_fit_80_columns_with_each_message_marked(shop: Shop) -> None:
    a_day_of_messages(shop)

    code, out, _err = invoke(shop, "bookings", "--date", "2026-11-25", COLUMNS="80")

    assert code == 0
    fits(out, 80)
    rows = json.loads(invoke(shop, "bookings", "--date", "2026-11-25", "--json")[1])
    whole(out, [row["booking"] for row in rows] + [row["phone_masked"] for row in rows])
    assert "✓ confirmation" in out
    assert "· event" in out or "✓ event" in out  # every message of the store's catalog
    assert re.search(r"✓ reminder \d{2}:\d{2}", out), out


def test_bookings_json_lists_each_message_with_its_time_and_no_full_phone(shop: Shop) -> None:
    a_day_of_messages(shop)

    code, out, _err = invoke(shop, "bookings", "--json")

    assert code == 0
    rows = json.loads(out)
    assert {row["store"] for row in rows} == {"5000001"}
    sent = [m for row in rows for m in row["messages"] if m["sent"]]
    assert sent
    assert all(m["sent_at"].startswith("2026-11-25T") for m in sent)
    assert [m["name"] for m in rows[0]["messages"]] == ["confirmation", "reminder", "event"]
    assert not re.search(r"010-?0000-?\d{4}", out)


def test_piped_output_follows_columns_and_is_wide_without_it(shop: Shop) -> None:
    a_day_of_messages(shop)

    _code, narrow, _err = invoke(shop, "bookings", COLUMNS="100")
    _code, wide, _err = invoke(shop, "bookings", COLUMNS="")

    assert max(cell_len(line) for line in narrow.splitlines()) <= 100
    # Without COLUMNS nothing needs to wrap: one line per message is the only reason to.
    assert max(cell_len(line) for line in wide.splitlines()) <= 160
    whole(wide, ["010-****-0001"])


@pytest.mark.parametrize("command", [("bookings",), ("run", "--dry-run")])
def test_a_real_80_column_terminal_in_tmux_wraps_nothing_itself(
    shop: Shop, tmp_path: Path, command: tuple[str, ...]
) -> None:
    tmux = shutil.which("tmux")
    require(tmux is not None, "tmux is not installed (apt-get install tmux)")
    assert tmux is not None
    a_day_of_messages(shop)
    shop.naver.now = at(20, 10)
    args = [*command] + (["--now", at(20, 10).isoformat()] if command[0] == "run" else [])
    script = tmp_path / "show.sh"
    exports = "".join(
        f"export {k}={shlex.quote(v)}\n"
        for k, v in {**os.environ, **shop.env}.items()
        if k.isidentifier() and k not in ("COLUMNS", "LINES", "TMUX")
    )
    script.write_text(
        f"{exports}{shlex.quote(sys.executable)} -m naver_sms "
        f"{' '.join(shlex.quote(a) for a in args)}\necho DONE-$?\nsleep 60\n",
        encoding="utf-8",
    )
    server = f"naver-sms-test-{uuid.uuid4().hex[:8]}"
    base = [tmux, "-L", server, "-f", "/dev/null"]
    subprocess.run(
        [*base, "new-session", "-d", "-x", "80", "-y", "200", f"sh {shlex.quote(str(script))}"],
        check=True,
    )
    try:
        screen = ""
        deadline = time.monotonic() + 30
        while "DONE-" not in screen and time.monotonic() < deadline:
            time.sleep(0.2)
            # -J joins lines tmux itself wrapped: a joined line wider than 80 overflowed.
            screen = subprocess.run(
                [*base, "capture-pane", "-p", "-J", "-S", "-", "-t", "0"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
    finally:
        subprocess.run([*base, "kill-server"], check=False)

    assert "DONE-0" in screen, screen
    shown = "\n".join(line.rstrip() for line in screen.splitlines())
    fits(shown, 80)
    assert UNBREAKABLE.search(shown), shown
    assert "{" not in shown  # no JSON log line on a terminal
