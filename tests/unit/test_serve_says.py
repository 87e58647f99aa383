"""What `serve` says: what it runs against at start, and a failed cycle above INFO."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime

import pytest

from naver_sms.domain.booking import KST
from naver_sms.report import CycleError, CycleReport
from naver_sms.serve import describe_interval, serve_cycles, serving_line
from naver_sms.utils.logger import configure_logging
from tests.log_canaries import logging_restored

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=KST)


@pytest.fixture(autouse=True)
def _restored() -> Iterator[None]:
    with logging_restored():
        yield


def one_cycle(report: CycleReport) -> int:
    stop = threading.Event()

    def cycle(_now: datetime) -> CycleReport:
        stop.set()
        return report

    return serve_cycles(
        cycle, every=300, stop=stop, session_stored=lambda: True, sleep=lambda _s: None
    )


def test_a_cycle_that_failed_a_store_is_a_warning_naming_the_store(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("WARNING", form="json")
    report = CycleReport(now=NOW, errors=[CycleError(shop="5000001", error="Naver timed out")])

    assert one_cycle(report) == 1

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    [failed] = [line for line in lines if line["message"].startswith("Cycle failed")]
    assert failed["level"] == "WARNING"
    assert failed["error"] == "store 5000001: Naver timed out"


def test_a_cycle_that_went_well_says_nothing_above_info(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("WARNING", form="json")

    one_cycle(CycleReport(now=NOW))

    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("seconds", "shown"), [(300, "5m"), (3600, "1h"), (90, "90s"), (0.1, "0.1s"), (7200, "2h")]
)
def test_the_interval_reads_as_the_owner_wrote_it(seconds: float, shown: str) -> None:
    assert describe_interval(seconds) == shown


def test_the_start_line_names_the_store_the_stores_the_interval_and_the_sending() -> None:
    line = serving_line(
        where="SQLite /var/lib/naver-sms/naver-sms.db",
        stores=["5000001", "5000002"],
        every=300,
        dry_run=False,
        sens_host="sens.apigw.ntruss.com",
        outbox="outbox.jsonl",
    )

    assert line == (
        "serving 2 stores (5000001, 5000002) every 5m on SQLite "
        "/var/lib/naver-sms/naver-sms.db; sending through sens.apigw.ntruss.com"
    )


def test_the_start_line_of_a_dry_run_says_where_the_messages_go() -> None:
    line = serving_line(
        where="DynamoDB ap-northeast-2",
        stores=["5000001"],
        every=60,
        dry_run=True,
        sens_host="sens.apigw.ntruss.com",
        outbox="outbox.jsonl",
    )

    assert line.endswith("on DynamoDB ap-northeast-2; dry run, messages go to outbox.jsonl")
    assert "sending through" not in line
