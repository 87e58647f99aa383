"""`naver-sms demo --web`: the demo's day, then the owner's page on it until Ctrl-C."""

from __future__ import annotations

import re
import signal

import httpx
from click.testing import CliRunner

from naver_sms.entrypoints.cli import cli
from tests.e2e.conftest import answer_of, served
from tests.servers import free_port

PASSWORD = "demo-web-canary-9c1e"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
FULL_PHONE = re.compile(r"01[016789]-?\d{3,4}-?\d{4}")


def test_the_demo_s_day_is_on_the_owner_s_page_until_ctrl_c(tmp_path: object) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["demo", "--web", "--port", str(port)]
    with served(args, {"NAVER_SMS_WEB_PASSWORD": PASSWORD}) as process:
        answer_of(f"{base}/login", process)
        with httpx.Client(base_url=base, timeout=10) as client:
            login = client.get("/login").text
            token = _CSRF.search(login)
            assert token is not None
            client.post("/login", data={"password": PASSWORD, "csrf": token.group(1)})
            today = client.get("/")
        assert today.status_code == 200
        # The example config's store, its day's messages and their fates, masked.
        assert "샘플 스튜디오 강남점" in today.text
        assert "전달됨" in today.text  # delivered
        assert re.search(r"010-\*{4}-\d{4}", today.text)
        assert FULL_PHONE.search(today.text) is None
        process.send_signal(signal.SIGINT)  # Ctrl-C
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert "the day" in out  # the tables and the summary came first
    assert f"serving the owner's page on {base}" in out
    assert PASSWORD not in out + err


def test_demo_web_without_a_password_plays_nothing_and_says_what_to_set() -> None:
    result = CliRunner().invoke(cli, ["demo", "--web"], env={"NAVER_SMS_WEB_PASSWORD": ""})

    assert result.exit_code == 2
    assert "NAVER_SMS_WEB_PASSWORD" in result.output
    assert "the day" not in result.output


def test_a_page_port_without_web_is_a_usage_error_and_plays_nothing() -> None:
    result = CliRunner().invoke(cli, ["demo", "--port", "8081"])

    assert result.exit_code == 2
    assert "--port: only with --web" in result.output
    assert "the day" not in result.output
