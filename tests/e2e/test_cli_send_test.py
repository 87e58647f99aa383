"""`naver-sms send-test` against the sandbox shop: the store's text reaches the fake SENS
for the one number given, after the owner said yes, and no booking records it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from naver_sms.demo import with_alimtalk
from naver_sms.domain.booking import KST
from naver_sms.entrypoints import cli_send_test
from naver_sms.entrypoints.cli import cli
from naver_sms.entrypoints.cli_send_test import send_test
from tests.e2e.conftest import Shop
from tests.e2e.test_run_cli_startup import NO_SENS, error_lines, invoke

TO = "010-0000-4321"
AFTERNOON = datetime(2026, 11, 25, 15, 0, tzinfo=KST)


@pytest.fixture(autouse=True)
def _registered(monkeypatch: pytest.MonkeyPatch) -> None:
    # Until the lead registers it in cli.py; then this changes nothing.
    monkeypatch.setitem(cli.commands, "send-test", send_test)
    monkeypatch.setattr(cli_send_test, "now_kst", lambda: AFTERNOON)


def errors(stderr: str) -> list[str]:
    """The `error:` lines (the JSON log lines on stderr left out)."""
    return [line for line in error_lines(stderr) if line.startswith("error:")]


def send(shop: Shop, *args: str, **env: str) -> tuple[int, str, str]:
    return invoke(shop, "send-test", "--store", "5000001", "--to", TO, *args, **env)


def recorded_messages(shop: Shop) -> str:
    code, out, _err = invoke(shop, "messages", "--date", "2026-11-25")
    assert code == 0
    _code, today, _err = invoke(shop, "messages")
    return out + today


def test_the_store_s_confirmation_reaches_sens_for_that_number_only(shop: Shop) -> None:
    code, out, err = send(shop, "--message", "confirm", "--yes")

    assert code == 0, err
    (sent,) = shop.sens.accepted
    assert sent.to == "01000004321"
    assert sent.sender == "0200000000"
    assert (
        sent.content
        == "[샘플 스튜디오 강남점] 홍길동님, 11월 26일 (목) 오후 2:00 예약이 확정되었습니다."
    )
    assert f"request id {sent.request_id}" in out
    assert "4321" in out
    assert TO not in out + err  # masked everywhere


def test_it_asks_first_and_sends_nothing_on_no(shop: Shop) -> None:
    code, out, err = invoke_with_input(shop, "n\n", "--message", "guide")

    assert code == 1
    assert "aborted" in err
    assert "010-****-4321" in out
    assert "출입문 비밀번호" in out  # the store's own guide, shown before the question
    assert shop.sens.accepted == []


def test_yes_at_the_prompt_sends_the_text_shown(shop: Shop) -> None:
    code, out, _err = invoke_with_input(shop, "y\n", "--message", "guide")

    assert code == 0
    (sent,) = shop.sens.accepted
    assert sent.content in out
    assert sent.type == "LMS"


def test_a_test_is_recorded_on_no_booking(shop: Shop) -> None:
    send(shop, "--message", "confirm", "--yes")

    listed = recorded_messages(shop)

    assert len(shop.sens.accepted) == 1
    assert "no messages sent" in listed
    assert "4321" not in listed


def test_an_event_test_is_labelled_as_advertising(shop: Shop) -> None:
    code, out, err = send(shop, "--message", "event", "--yes")

    assert code == 0, err
    (sent,) = shop.sens.accepted
    assert sent.content.startswith("(광고)샘플 스튜디오 강남점")
    assert "무료수신거부 080-000-0000" in sent.content
    assert "advertising" in out


def test_an_event_test_outside_advertising_hours_is_refused(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_send_test, "now_kst", lambda: datetime(2026, 11, 25, 22, 0, tzinfo=KST))

    code, _out, err = send(shop, "--message", "event", "--yes")

    assert code == 2
    (line,) = error_lines(err)
    assert "08:00-21:00" in line
    assert shop.sens.accepted == []


def test_an_event_test_to_a_number_that_opted_out_is_refused(shop: Shop) -> None:
    shop.sens.opt_out(TO)

    code, _out, err = send(shop, "--message", "event", "--yes")

    assert code == 2
    (line,) = errors(err)
    assert "opted out" in line
    assert shop.sens.accepted == []


def test_without_sens_keys_it_refuses_in_one_line(shop: Shop) -> None:
    code, out, err = send(shop, "--message", "confirm", "--yes", **dict.fromkeys(NO_SENS, ""))

    assert code == 2
    (line,) = error_lines(err)
    assert line.startswith("error: send-test sends a real text")
    assert "SENS_ACCESS_KEY" in line
    assert out == ""
    assert shop.sens.requests == 0


def test_an_unknown_store_or_kind_is_one_line(shop: Shop) -> None:
    bad_store = invoke(shop, "send-test", "--store", "9", "--message", "confirm", "--to", TO)
    bad_kind = send(shop, "--message", "birthday")

    assert bad_store[0] == 2
    assert "5000001" in error_lines(bad_store[2])[0]
    assert bad_kind[0] == 2
    assert "birthday" in error_lines(bad_kind[2])[0]
    assert shop.sens.requests == 0


def test_a_sender_sens_refuses_is_said(shop: Shop) -> None:
    shop.sens.unregister_sender("0200000000")

    code, _out, err = send(shop, "--message", "confirm", "--yes")

    assert code == 1
    (line,) = errors(err)
    assert "SENS did not take the text" in line
    assert "registered sender" in line


def test_a_kind_the_store_sends_as_alimtalk_goes_as_alimtalk(shop: Shop) -> None:
    config = Path(shop.env["NAVER_SMS_CONFIG"])
    config.write_text(with_alimtalk(config.read_text(encoding="utf-8")), encoding="utf-8")
    shop.sens.approve_template(
        "@sample-studio", "CONFIRM01", "#{고객명}님, #{방문일시} 예약이 확정되었습니다."
    )

    code, out, err = send(
        shop,
        "--message",
        "confirm",
        "--yes",
        SENS_ALIMTALK_SERVICE_ID=shop.sens.alimtalk_service_id,
    )

    assert code == 0, err
    (sent,) = shop.sens.accepted_alimtalk
    assert sent.to == "01000004321"
    assert sent.content == "홍길동님, 11월 26일 (목) 오후 2:00 예약이 확정되었습니다."
    assert shop.sens.accepted == []
    assert "AlimTalk CONFIRM01" in out


def invoke_with_input(shop: Shop, text: str, *args: str) -> tuple[int, str, str]:
    from click.testing import CliRunner  # noqa: PLC0415

    from naver_sms.entrypoints.cli import main  # noqa: PLC0415

    runner = CliRunner()
    with runner.isolation(input=text, env=shop.env) as (out, err, _):
        try:
            main(["send-test", "--store", "5000001", "--to", TO, *args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        return code, out.getvalue().decode(), err.getvalue().decode()
