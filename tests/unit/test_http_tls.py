"""The HTTP adapters of one process share one TLS context (issue 18: start-up).

Building a context reads and parses the CA bundle: about 20 ms and 1 MB for
every client, paid by every cycle before its first request.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import pytest

from naver_sms.messaging.sens import SensApi
from naver_sms.messaging.telegram import TelegramNotifier
from naver_sms.naver.booking_api import BookingApi
from naver_sms.utils.http import shared_tls_context


@pytest.fixture
def bundle_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The CA bundle loads from now on (a fresh shared context included)."""
    reads: list[Any] = []
    load = ssl.SSLContext.load_verify_locations

    def counted(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        reads.append(args or kwargs)
        load(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    shared_tls_context.cache_clear()
    yield reads
    shared_tls_context.cache_clear()


def test_the_cycle_s_http_clients_read_the_ca_bundle_once(bundle_reads: list[Any]) -> None:
    adapters = [
        BookingApi(),
        SensApi(access_key="a", secret_key="b", service_id="ncp:sms:kr:0:test"),
        TelegramNotifier(token="0:canary", chat_id="1"),
    ]
    try:
        assert len(bundle_reads) == 1
    finally:
        for adapter in adapters:
            adapter.close()


def test_a_shared_context_still_checks_certificates_and_host_names() -> None:
    context = shared_tls_context()

    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
