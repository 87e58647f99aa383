"""What `bootstrap` builds for a command is closed when the command's `with` ends.

An SQLite file still open keeps its `-wal` journal beside it, so a copy of
the database file alone (a backup, a move to another machine) misses the
latest records; an HTTP client still open keeps its sockets.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from naver_sms import bootstrap
from naver_sms.config import AppConfig, ConfigError, Settings
from naver_sms.cycle import CyclePorts
from naver_sms.messaging.sens import SensSender
from naver_sms.messaging.telegram import TelegramNotifier
from naver_sms.naver.auth import Authenticator
from naver_sms.naver.booking_api import BookingApi

CONFIG = AppConfig.model_validate(
    {"stores": [{"id": "5000001", "name": "샘플 스튜디오", "sender": "0200000000"}]}
)
COOKIES = [{"name": "NID_AUT", "value": "a" * 12, "domain": ".naver.com"}]


def settings_for(tmp_path: Path) -> Settings:
    # Loopback URLs nothing listens on: nothing here makes a request.
    return Settings(
        db_path=tmp_path / "naver-sms.db",
        outbox_path=tmp_path / "outbox.jsonl",
        naver_booking_url="http://127.0.0.1:9",
        naver_login_url="http://127.0.0.1:9/login",
        sens_access_key="closing-access-key",  # type: ignore[arg-type]
        sens_secret_key="closing-secret-key",  # type: ignore[arg-type]
        sens_service_id="ncp:sms:kr:0:closing",
        sens_url="http://127.0.0.1:9",
        telegram_bot_token="123456:closing-token",  # type: ignore[arg-type]
        telegram_chat_id="1000",
        telegram_api_url="http://127.0.0.1:9",
    )


def journal(settings: Settings) -> Path:
    return settings.db_path.with_name(settings.db_path.name + "-wal")


def is_closed(adapter: object) -> bool:
    client = adapter._client  # type: ignore[attr-defined]
    assert isinstance(client, httpx.Client)
    return client.is_closed


def test_leaving_cycle_ports_closes_both_store_connections_and_every_http_client(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)

    with bootstrap.cycle_ports(settings, config=CONFIG) as ports:
        assert ports.repository.list_bookings() == []
        authenticator = ports.authenticator
        assert isinstance(authenticator, Authenticator)
        authenticator.session_repository.save_session(json.dumps(COOKIES))
        assert journal(settings).exists()
        adapters = (ports.sender, ports.booking_api, ports.notifier)
        assert [is_closed(adapter) for adapter in adapters] == [False, False, False]

    # The session store inside the authenticator too: `ports.close()` never reached it.
    assert not journal(settings).exists()
    assert [is_closed(adapter) for adapter in adapters] == [True, True, True]
    assert isinstance(ports.sender, SensSender)
    assert isinstance(ports.notifier, TelegramNotifier)


def test_cycle_ports_are_closed_when_the_command_fails_inside_the_with(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)

    opened: list[CyclePorts] = []

    def command() -> None:
        with bootstrap.cycle_ports(settings, config=CONFIG) as ports:
            opened.append(ports)
            ports.repository.list_bookings()
            raise RuntimeError("the cycle stopped")

    with pytest.raises(RuntimeError, match="the cycle stopped"):
        command()

    assert not journal(settings).exists()
    assert is_closed(opened[0].sender)


def test_a_refused_sender_builds_nothing_else(tmp_path: Path) -> None:
    settings = settings_for(tmp_path).model_copy(update={"sens_service_id": None})

    with (
        pytest.raises(ConfigError, match="expected all three"),
        bootstrap.cycle_ports(settings, config=CONFIG),
    ):
        pass  # pragma: no cover - never entered

    assert not settings.db_path.exists()


def test_a_dry_run_writes_to_the_outbox_and_reaches_no_phone(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)

    with bootstrap.cycle_ports(settings, dry_run=True, config=CONFIG) as ports:
        assert ports.dry_run is True
        assert ports.sender.reaches_phones is False


def test_leaving_a_store_block_closes_its_file(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)

    with bootstrap.session_repository(settings) as sessions:
        sessions.save_session(json.dumps(COOKIES))
        assert journal(settings).exists()
    assert not journal(settings).exists()

    with bootstrap.booking_repository(settings) as bookings:
        assert bookings.list_bookings() == []
        assert journal(settings).exists()
    assert not journal(settings).exists()


def test_leaving_an_authenticator_block_closes_its_store_and_its_api_client(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)

    with bootstrap.authenticator(settings) as authenticator:
        authenticator.session_repository.save_session(json.dumps(COOKIES))
        api = authenticator.api
        assert isinstance(api, BookingApi)
        assert not is_closed(api)

    assert is_closed(api)
    assert not journal(settings).exists()
