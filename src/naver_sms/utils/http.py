"""The httpx client an adapter talks through: passed in, or its own and closed with it."""

from __future__ import annotations

import functools
import ssl
from types import TracebackType
from typing import Any, Self

import httpx


@functools.cache
def shared_tls_context() -> ssl.SSLContext:
    """The TLS settings of every client this process builds: httpx's defaults, built once.

    Each client would otherwise build its own context, reading and parsing the
    CA bundle again: about 20 ms and 1 MB per client, and a cycle builds three
    or four (Naver, SENS, AlimTalk, Telegram) before its first request. A
    context is safe to share between clients and threads.
    """
    return httpx.create_ssl_context()


class HttpAdapter:
    """Base of the HTTP adapters (booking API, SENS, Telegram).

    A client passed in (a MockTransport in tests, a pool shared by the caller)
    stays the caller's to close; one built here is closed by `close()` or the
    with-statement.
    """

    def __init__(
        self,
        base_url: str,
        client: httpx.Client | None,
        timeout: httpx.Timeout | float,
        **client_options: Any,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # Given per request as well, so a client passed in gets the adapter's timeout too.
        self._timeout = timeout
        self._owns_client = client is None
        if client is None:
            client_options.setdefault("verify", shared_tls_context())
            client = httpx.Client(timeout=timeout, **client_options)
        self._client = client

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
