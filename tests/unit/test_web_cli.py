"""`naver-sms web`: refuses without a password, names where it serves, serves the app."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from pydantic import SecretStr
from starlette.applications import Starlette

from naver_sms.config import ConfigError, Settings
from naver_sms.entrypoints import cli_web
from naver_sms.entrypoints.cli import example_config
from naver_sms.web import server
from naver_sms.web.app import create_app
from tests.web_fake import FakeOwner

PASSWORD = "가게-비밀번호-2026"


@pytest.fixture
def ready(tmp_path: Path) -> Settings:
    """The config `naver-sms init` writes and a database a cycle made."""
    config = tmp_path / "naver-sms.yaml"
    config.write_text(example_config(), encoding="utf-8")
    db = tmp_path / "naver-sms.db"
    db.touch()
    return Settings(config_path=config, db_path=db, web_password=SecretStr(PASSWORD))


def _run(settings: Settings, *args: str) -> Any:
    # The settings as the `naver-sms` group puts them in the context.
    return CliRunner().invoke(cli_web.web, list(args), obj=settings)


def test_without_a_password_the_page_refuses_to_start_in_one_line(ready: Settings) -> None:
    result = _run(ready.model_copy(update={"web_password": None}))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert "NAVER_SMS_WEB_PASSWORD" in lines[0]


def test_it_says_where_it_serves_and_against_which_store_then_serves(
    ready: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[tuple[Starlette, str, int]] = []

    @contextlib.contextmanager
    def owner(_settings: Settings, _config: object, _stack: object) -> Iterator[FakeOwner]:
        yield FakeOwner()

    monkeypatch.setattr(cli_web, "_owner", owner)
    monkeypatch.setattr(
        server, "serve_web", lambda app, host, port: served.append((app, host, port))
    )
    result = _run(ready, "--port", "8181")
    assert result.exit_code == 0, result.output
    assert f"serving the owner's page on http://127.0.0.1:8181 (sqlite {ready.db_path})" in (
        result.output
    )
    assert [(host, port) for _app, host, port in served] == [("127.0.0.1", 8181)]
    assert PASSWORD not in result.output


def test_served_beyond_this_machine_it_warns_that_the_login_needs_https(
    ready: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    @contextlib.contextmanager
    def owner(_settings: Settings, _config: object, _stack: object) -> Iterator[FakeOwner]:
        yield FakeOwner()

    monkeypatch.setattr(cli_web, "_owner", owner)
    monkeypatch.setattr(server, "serve_web", lambda *_: None)
    result = _run(ready, "--host", "192.0.2.10")
    assert "over HTTPS only" in result.output


def test_without_a_database_it_says_so_before_serving(ready: Settings) -> None:
    Path(ready.db_path).unlink()
    result = _run(ready)
    assert isinstance(result.exception, ConfigError)
    assert "no database at" in str(result.exception)


def test_the_help_shows_an_example(ready: Settings) -> None:
    result = _run(ready, "--help")
    assert "NAVER_SMS_WEB_PASSWORD='a long password' naver-sms web" in result.output


def test_the_page_is_served_in_a_thread_and_stops(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(FakeOwner(), password=PASSWORD)
    with caplog.at_level(logging.INFO):
        handle = server.start_in_thread(app, "127.0.0.1", 0)
        try:
            base = f"http://127.0.0.1:{handle.port}"
            response = httpx.get(f"{base}/login?phone=010-0000-4321", timeout=5)
            assert response.status_code == 200
            assert "로그인" in response.text
        finally:
            handle.stop()
    assert not handle.thread.is_alive()
    # No access log: a query string is the owner's input.
    assert not [r for r in caplog.records if "010-0000-4321" in r.getMessage()]


def test_a_port_in_use_is_one_line_naming_the_port() -> None:
    app = create_app(FakeOwner(), password=PASSWORD)
    first = server.start_in_thread(app, "127.0.0.1", 0)
    try:
        with pytest.raises(ConfigError, match=rf"--port {first.port}: cannot listen"):
            server.start_in_thread(app, "127.0.0.1", first.port)
        with pytest.raises(ConfigError, match=rf"--port {first.port}: cannot listen"):
            server.serve_web(app, "127.0.0.1", first.port)
    finally:
        first.stop()
