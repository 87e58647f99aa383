"""Who gets into the owner's page: the password, the session cookie, CSRF, slowed guessing."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import httpx
import pytest
from starlette.testclient import TestClient

from naver_sms.config import ConfigError, load_settings
from naver_sms.web import auth
from naver_sms.web.app import create_app
from tests.web_fake import NOW, FakeOwner

PASSWORD = "가게-비밀번호-2026"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> datetime:
        return self.at


def _client(owner: FakeOwner | None = None, clock: Clock | None = None) -> TestClient:
    app = create_app(owner or FakeOwner(), password=PASSWORD, now=clock or Clock())
    return TestClient(app, raise_server_exceptions=False, follow_redirects=False)


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match is not None, "the page has no form token"
    return match.group(1)


def log_in(client: TestClient, password: str = PASSWORD) -> httpx.Response:
    token = csrf_of(client.get("/login").text)
    response: httpx.Response = client.post("/login", data={"password": password, "csrf": token})
    return response


def test_the_right_password_opens_the_today_page() -> None:
    client = _client()
    response = log_in(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "오늘과 내일의 예약" in client.get("/").text


def test_a_wrong_password_says_so_in_korean_and_lets_nobody_in() -> None:
    client = _client()
    response = log_in(client, "틀린-비밀번호")
    assert response.status_code == 401
    assert "비밀번호가 맞지 않습니다" in response.text
    assert client.get("/").headers["location"] == "/login"


def test_every_page_sends_a_stranger_to_the_login_page() -> None:
    client = _client()
    for path in ("/", "/history", "/history.csv", "/templates", "/naver", "/optouts", "/rehearse"):
        response = client.get(path)
        assert (response.status_code, response.headers["location"]) == (303, "/login"), path


def test_a_failed_login_is_logged_without_what_was_typed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log_in(_client(), "almost-the-password")
    logged = capsys.readouterr().err
    assert "Web login failed" in logged
    assert "almost-the-password" not in logged


def test_a_form_without_the_session_token_is_refused_and_changes_nothing() -> None:
    owner = FakeOwner()
    client = _client(owner)
    log_in(client)
    for data in ({"phone": "010-0000-1234"}, {"phone": "010-0000-1234", "csrf": "forged"}):
        response = client.post("/optouts/add", data=data)
        assert response.status_code == 403
        assert "아무것도 바뀌지 않았습니다" in response.text
    assert not [call for call in owner.calls if call[0] == "add_optout"]
    assert "010-0000-1234" not in owner.opted_out


def test_a_login_without_the_token_is_refused_even_with_the_right_password() -> None:
    client = _client()
    client.get("/login")
    response = client.post("/login", data={"password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/").status_code == 303


def test_the_token_seen_before_logging_in_is_worthless_after() -> None:
    owner = FakeOwner()
    client = _client(owner)
    before = csrf_of(client.get("/login").text)
    client.post("/login", data={"password": PASSWORD, "csrf": before})
    response = client.post("/rehearse", data={"csrf": before})
    assert response.status_code == 403
    assert not [call for call in owner.calls if call[0] == "rehearse"]


def test_a_session_unused_for_twelve_hours_goes_back_to_the_login_page() -> None:
    clock = Clock()
    client = _client(clock=clock)
    log_in(client)
    clock.at += timedelta(hours=11)
    assert client.get("/").status_code == 200  # in use: kept alive
    clock.at += auth.SESSION_IDLE + timedelta(minutes=1)
    response = client.get("/")
    assert (response.status_code, response.headers["location"]) == (303, "/login")


def test_logging_out_ends_the_session() -> None:
    client = _client()
    log_in(client)
    client.post("/logout", data={"csrf": csrf_of(client.get("/").text)})
    assert client.get("/").headers["location"] == "/login"


def test_after_three_failures_the_next_attempt_must_wait_even_with_the_right_password() -> None:
    clock = Clock()
    client = _client(clock=clock)
    for _ in range(auth.FREE_FAILURES):
        assert log_in(client, "wrong-guess").status_code == 401
    response = log_in(client)
    assert response.status_code == 429
    assert "5초 뒤에 다시 시도하세요" in response.text
    assert client.get("/").status_code == 303
    clock.at += auth.FIRST_WAIT
    assert log_in(client).status_code == 303


def test_each_further_failure_doubles_the_wait_up_to_a_limit() -> None:
    clock = Clock()
    throttle = auth.LoginThrottle(now=clock)
    for _ in range(auth.FREE_FAILURES):
        assert throttle.wait("10.0.0.9") == timedelta(0)
        throttle.failed("10.0.0.9")
    assert throttle.wait("10.0.0.9") == auth.FIRST_WAIT
    throttle.failed("10.0.0.9")
    assert throttle.wait("10.0.0.9") == 2 * auth.FIRST_WAIT
    for _ in range(40):
        throttle.failed("10.0.0.9")
    assert throttle.wait("10.0.0.9") == auth.MAX_WAIT
    assert throttle.wait("10.0.0.10") == timedelta(0)  # another address is not slowed
    throttle.succeeded("10.0.0.9")
    assert throttle.wait("10.0.0.9") == timedelta(0)


def test_the_session_cookie_is_httponly_and_same_site_strict_and_not_secure_on_loopback() -> None:
    client = _client()
    cookie = log_in(client).headers["set-cookie"].lower()
    assert cookie.startswith(f"{auth.SESSION_COOKIE}=")
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "secure" not in cookie.replace("samesite", "")


def test_the_session_cookie_is_secure_when_served_beyond_this_machine() -> None:
    app = create_app(FakeOwner(), password=PASSWORD, now=Clock(), secure_cookies=True)
    client = TestClient(app, base_url="https://shop.example", follow_redirects=False)
    cookie = log_in(client).headers["set-cookie"].lower()
    assert "; secure" in cookie
    assert client.get("/").status_code == 200


def test_the_password_is_compared_whole() -> None:
    assert auth.password_matches(PASSWORD, PASSWORD)
    assert not auth.password_matches(PASSWORD[:-1], PASSWORD)
    assert not auth.password_matches("", PASSWORD)


def test_the_app_refuses_to_exist_without_a_password() -> None:
    with pytest.raises(ValueError, match="password"):
        create_app(FakeOwner(), password="")


def test_the_web_password_comes_from_the_environment_and_is_never_shown() -> None:
    settings = load_settings({"NAVER_SMS_WEB_PASSWORD": PASSWORD})
    assert settings.web_password is not None
    assert settings.web_password.get_secret_value() == PASSWORD
    assert PASSWORD not in repr(settings)


def test_a_short_web_password_is_one_line_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"NAVER_SMS_WEB_PASSWORD: at least 8 characters"):
        load_settings({"NAVER_SMS_WEB_PASSWORD": "1234"})


def test_the_web_password_may_come_from_the_secrets_manager_secret() -> None:
    settings = load_settings(
        {"NAVER_SMS_SECRET_ID": "naver-sms/secrets"},
        read_secret=lambda *_: '{"NAVER_SMS_WEB_PASSWORD": "from-the-secret"}',
    )
    assert settings.web_password is not None
    assert settings.web_password.get_secret_value() == "from-the-secret"
