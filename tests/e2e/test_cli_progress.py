"""Progress on a terminal while a cycle, a login or create-tables works; nothing when piped."""

from __future__ import annotations

import os

from naver_sms import bootstrap
from naver_sms.config import load_app_config, load_settings
from naver_sms.cycle import run_cycle
from tests.e2e.conftest import Shop, at
from tests.e2e.test_cli_terminal import on_terminal, piped


def test_a_cycle_tells_its_progress_stores_read_and_messages_sent(shop: Shop) -> None:
    shop.naver.now = at(9)
    settings = load_settings({**os.environ, **shop.env})
    config = load_app_config(settings.config_path)
    told: list[str] = []

    with bootstrap.cycle_ports(settings, dry_run=True, config=config) as ports:
        report = run_cycle(ports=ports, now=at(9), progress=told.append)

    assert told[0] == "checking the Naver session"
    reads = [line for line in told if line.startswith("reading bookings: ")]
    assert reads, told
    assert reads[-1].split(": ")[1].split("/")[0] == reads[-1].split("/")[1]  # all read
    sends = [line for line in told if line.startswith("messages: ")]
    assert sends[-1].endswith(f"/{len(report.sent)}")
    assert told[-1] == "checking deliveries"


def test_a_progress_callback_that_fails_costs_the_cycle_nothing(shop: Shop) -> None:
    shop.naver.now = at(9)
    settings = load_settings({**os.environ, **shop.env})
    config = load_app_config(settings.config_path)

    def broken(_text: str) -> None:
        raise RuntimeError("the terminal went away")

    with bootstrap.cycle_ports(settings, dry_run=True, config=config) as ports:
        report = run_cycle(ports=ports, now=at(9), progress=broken)

    assert report.exit_code == 0
    assert len(report.sent) == 10


def test_a_cycle_on_a_terminal_shows_a_spinner_that_leaves_no_trace(shop: Shop) -> None:
    shop.naver.now = at(9)

    ran = on_terminal(shop, "run", "--dry-run", "--now", at(9).isoformat())

    assert ran.code == 0
    assert "starting the cycle..." in ran.stderr or "reading bookings" in ran.stderr
    assert "would send" in ran.stdout


def test_piped_there_is_no_spinner_only_log_lines(shop: Shop) -> None:
    shop.naver.now = at(9)

    for args in (("run", "--dry-run", "--now", at(9).isoformat()), ("create-tables",)):
        ran = piped(shop, *args)
        assert ran.code == 0, ran.stderr
        assert all(line.startswith("{") for line in ran.stderr.splitlines()), ran.stderr
        assert "..." not in ran.stderr


def test_create_tables_on_a_terminal_says_it_is_working(shop: Shop) -> None:
    ran = on_terminal(shop, "create-tables")

    assert ran.code == 0
    assert "creating the tables..." in ran.stderr
    assert ran.stdout.startswith("ready (sqlite, ")
