"""A command's DynamoDB stores share one botocore client (issue 18: a warm run's memory).

Each client is its own botocore session, service model and endpoint data
(about 10 MB); the records' and the session's repositories of one cycle need
one between them, and it is closed when the command's `with` ends.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from naver_sms import bootstrap
from naver_sms.config import AppConfig, Settings
from naver_sms.database import dynamodb_client
from naver_sms.naver.auth import Authenticator

CONFIG = AppConfig.model_validate(
    {"stores": [{"id": "5000001", "name": "샘플 스튜디오", "sender": "0200000000"}]}
)


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every DynamoDB client bootstrap makes, in order."""
    clients: list[Any] = []
    real = dynamodb_client.make_client

    def counted(*args: Any, **kwargs: Any) -> Any:
        client: Any = real(*args, **kwargs)
        close = client.close

        def recorded_close() -> None:
            client.closed_by_test = True
            close()

        client.close = recorded_close
        clients.append(client)
        return client

    monkeypatch.setattr(dynamodb_client, "make_client", counted)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "m18")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "m18")
    return clients


def settings_for(tmp_path: Path) -> Settings:
    # Loopback URLs nothing listens on: building the ports makes no request.
    return Settings(
        store="dynamodb",
        aws_endpoint_url="http://127.0.0.1:9",
        outbox_path=tmp_path / "outbox.jsonl",
        naver_booking_url="http://127.0.0.1:9",
        naver_login_url="http://127.0.0.1:9/login",
        sens_access_key="m18-access-key",  # type: ignore[arg-type]
        sens_secret_key="m18-secret-key",  # type: ignore[arg-type]
        sens_service_id="ncp:sms:kr:0:m18",
        sens_url="http://127.0.0.1:9",
    )


def test_a_cycle_s_records_and_session_stores_use_one_client_closed_with_the_ports(
    tmp_path: Path, made: list[Any]
) -> None:
    with bootstrap.cycle_ports(settings_for(tmp_path), config=CONFIG) as ports:
        authenticator = ports.authenticator
        assert isinstance(authenticator, Authenticator)
        records = ports.repository._client  # type: ignore[attr-defined]
        session = authenticator.session_repository._client  # type: ignore[attr-defined]
        (client,) = made
        assert records is client
        assert session is client
        assert not getattr(client, "closed_by_test", False)

    assert client.closed_by_test


def test_two_commands_one_after_the_other_each_get_their_own_client(
    tmp_path: Path, made: list[Any]
) -> None:
    settings = settings_for(tmp_path)

    with bootstrap.booking_repository(settings), bootstrap.session_repository(settings):
        pass
    with bootstrap.booking_repository(settings):
        pass

    # Separate `with`s are separate commands: none reuses a client another closed.
    assert len(made) == 3
    assert len({id(client) for client in made}) == 3
    assert all(client.closed_by_test for client in made)


def test_serve_s_cycles_session_check_and_page_share_one_client_on_one_stack(
    tmp_path: Path, made: list[Any]
) -> None:
    settings = settings_for(tmp_path)
    with ExitStack() as stack:
        stack.enter_context(bootstrap.cycle_ports(settings, config=CONFIG, stack=stack))
        stack.enter_context(bootstrap.session_repository(settings, stack=stack))
        stack.enter_context(bootstrap.owner(settings, CONFIG, stack=stack))
        (client,) = made  # not one per part, as before for `serve --web`
        assert not getattr(client, "closed_by_test", False)
    assert client.closed_by_test
