"""`naver-sms serve --web`: the cycles and the owner's page in one process, for self-hosting."""

from __future__ import annotations

import signal
import time

import httpx
import pytest
from click.testing import CliRunner

from naver_sms.entrypoints.cli import cli
from tests.e2e.conftest import Shop, answer_of, at, served
from tests.servers import free_port

PASSWORD = "web-canary-pw-7f3a"


def test_serve_with_web_runs_cycles_and_the_page_until_sigterm(shop: Shop) -> None:
    port = free_port()
    args = ["serve", "--every", "1h", "--web", "--port", str(port)]
    with served(args, {**shop.env, "NAVER_SMS_WEB_PASSWORD": PASSWORD}) as process:
        assert answer_of(f"http://127.0.0.1:{port}/login", process) == 200
        deadline = time.monotonic() + 30
        while shop.naver.requests["list"] == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert shop.naver.requests["list"] > 0, "the first cycle ran beside the page"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert f"serving the owner's page on http://127.0.0.1:{port}" in out
    assert PASSWORD not in out + err
    with pytest.raises(httpx.TransportError):  # the page stopped with the cycles
        httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)


def test_serve_with_web_and_no_password_refuses_before_any_cycle(shop: Shop) -> None:
    env = {key: value for key, value in shop.env.items() if key != "NAVER_SMS_WEB_PASSWORD"}
    result = CliRunner().invoke(cli, ["serve", "--web"], env={**env, "NAVER_SMS_WEB_PASSWORD": ""})

    assert result.exit_code == 2
    assert "NAVER_SMS_WEB_PASSWORD" in result.output
    assert shop.naver.requests["list"] == 0


def test_a_page_address_without_web_is_a_usage_error(shop: Shop) -> None:
    result = CliRunner().invoke(cli, ["serve", "--port", "8081"], env=shop.env)

    assert result.exit_code == 2
    assert "--port: only with --web" in result.output


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_the_web_command_stops_cleanly_on_sigterm_and_ctrl_c(shop: Shop, stop: int) -> None:
    assert shop.run(at(9)).exit_code == 0  # the page reads a store a cycle made
    port = free_port()
    args = ["web", "--port", str(port)]
    with served(args, {**shop.env, "NAVER_SMS_WEB_PASSWORD": PASSWORD}) as process:
        assert answer_of(f"http://127.0.0.1:{port}/login", process) == 200
        process.send_signal(stop)
        _out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-500:]
    assert "aborted" not in err
