"""`naver-sms run` and `serve` refuse to start on what would text wrongly or lose texts.

The shop of `conftest.py` (sandbox Naver, fake SENS on loopback, SQLite). Each
test fails on the code before these rules: it sent into an outbox, moved the
clock for real texts, or started with a template that cannot render.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from naver_sms.entrypoints.cli import cli, main
from tests.e2e.conftest import Shop, at

NO_SENS = ("SENS_ACCESS_KEY", "SENS_SECRET_KEY", "SENS_SERVICE_ID")
# A SENS that is not this machine: any request to it would be a real text. The
# `.invalid` name can never resolve, so a bug here fails rather than texts.
REMOTE_SENS = "https://sens.example.invalid"


def invoke(shop: Shop, *args: str, **env: str) -> tuple[int, str, str]:
    """`main(args)` as the console runs it, in `shop`'s environment (str values; None deletes)."""
    runner = CliRunner()
    with runner.isolation(env={**shop.env, **env}) as (out, err, _):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        return code, out.getvalue().decode(), err.getvalue().decode()


def serve(shop: Shop, **env: str) -> subprocess.CompletedProcess[str]:
    """`naver-sms serve` as a process; one that starts serving is stopped by the timeout."""
    return subprocess.run(
        [sys.executable, "-m", "naver_sms", "serve", "--every", "0.1"],
        env={**os.environ, **shop.env, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def test_a_real_run_without_sens_keys_refuses_to_start_and_records_nothing(shop: Shop) -> None:
    shop.naver.now = at(9)
    code, out, err = invoke(shop, "run", **dict.fromkeys(NO_SENS, ""))

    assert code == 2
    (line,) = error_lines(err)
    assert line.startswith("error: no SENS keys")
    assert "--dry-run" in line
    assert out == ""
    assert not (shop.tmp / "outbox.jsonl").exists()
    assert shop.naver.requests["list"] == 0
    # Nothing was recorded as sent, so the run with keys texts everyone.
    assert len(shop.run(at(9)).report["sent"]) == 10


def test_serve_without_sens_keys_refuses_to_start(shop: Shop) -> None:
    result = serve(shop, **dict.fromkeys(NO_SENS, ""))

    assert result.returncode == 2
    assert error_lines(result.stderr)[-1].startswith("error: no SENS keys")
    assert shop.naver.requests["list"] == 0


def test_a_dry_run_without_sens_keys_still_rehearses_into_the_outbox(shop: Shop) -> None:
    shop.naver.now = at(9)
    code, out, _err = invoke(
        shop, "run", "--dry-run", "--now", at(9).isoformat(), **dict.fromkeys(NO_SENS, "")
    )

    assert code == 0
    assert "would send: confirmation 8, reminder 2" in out
    assert len((shop.tmp / "outbox.jsonl").read_text(encoding="utf-8").splitlines()) == 10


def test_a_moved_clock_against_the_real_sens_is_a_dry_run_and_says_so(shop: Shop) -> None:
    shop.naver.now = at(9)
    code, out, err = invoke(shop, "run", "--json", "--now", at(9).isoformat(), SENS_URL=REMOTE_SENS)

    assert code == 0, err
    assert "more than 5 minutes from the real clock" in err
    assert "dry run" in err
    report = json.loads(out)
    assert report["dry_run"] is True
    assert len(report["sent"]) == 10
    assert len((shop.tmp / "outbox.jsonl").read_text(encoding="utf-8").splitlines()) == 10
    # Recorded as nothing: the real cycle still sends every one.
    assert len(shop.run(at(9)).report["sent"]) == 10


def test_a_moved_clock_against_a_loopback_sens_sends_as_before(shop: Shop) -> None:
    moved = shop.run(at(9))

    assert moved.report["dry_run"] is False
    assert "real clock" not in moved.stderr
    assert len(shop.sens.accepted) == 10


def test_the_json_report_of_a_dry_run_says_so_first(shop: Shop) -> None:
    report = shop.run(at(9), "--dry-run").report

    assert next(iter(report)) == "dry_run"
    assert report["dry_run"] is True


def test_a_dry_run_table_says_would_send_and_names_the_outbox(shop: Shop) -> None:
    shop.naver.now = at(9)
    result = CliRunner().invoke(cli, ["run", "--dry-run", "--now", at(9).isoformat()], env=shop.env)

    assert result.exit_code == 0, result.output
    assert "would send" in result.stdout
    assert f"-> {shop.tmp / 'outbox.jsonl'}" in " ".join(result.stdout.split())
    assert "sent: confirmation" not in result.stdout


def _break_a_template(shop: Shop) -> Path:
    config = Path(shop.env["NAVER_SMS_CONFIG"])
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("{{ customer }}", "{{ custmer }}", 1), encoding="utf-8")
    return config


@pytest.mark.parametrize("command", ["run", "serve"])
def test_a_template_that_cannot_render_stops_the_start_with_its_problem(
    shop: Shop, command: str
) -> None:
    _break_a_template(shop)

    if command == "serve":
        result = serve(shop)
        code, out, err = result.returncode, result.stdout, result.stderr
    else:
        code, out, err = invoke(shop, command)

    assert code == 2
    lines = error_lines(err)
    assert all(line.startswith("error: ") for line in lines)
    assert any("custmer" in line for line in lines), err
    assert "templates check" in lines[-1]
    assert shop.naver.requests["list"] == 0
    assert shop.sens.accepted == []
    assert "Traceback" not in out + err


def test_a_store_that_could_not_be_fetched_is_named_with_its_own_error(shop: Shop) -> None:
    shop.naver.fail_next(20, status=403, endpoint="list")

    result = shop.run(at(9))

    assert result.exit_code == 1
    lines = error_lines(result.stderr)
    assert "stores skipped" not in result.stderr
    (store_error,) = result.report["errors"][:1]
    assert any(store_error["error"] in line for line in lines), result.stderr
