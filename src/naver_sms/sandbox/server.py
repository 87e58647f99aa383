"""The lifecycle every loopback fake shares: an HTTP server on 127.0.0.1 in a daemon thread."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


class LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog is 5: 16 clients connecting at once had
    # their extra SYNs dropped and retried a second later (a real server's
    # backlog is in the hundreds).
    request_queue_size = 128
    owner: Any  # the LoopbackServer, for handlers: `self.server.owner`

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Silent: a client that gave up on a slow or hung answer leaves a broken pipe."""

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        # http.server writes the headers and the body separately: with Nagle's
        # algorithm on, the body waited for the client's delayed ACK, about 40 ms
        # added to every answer of every fake (real servers do not do that).
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


class LoopbackServer:
    """Start/stop/url and the with-statement for a fake service on a free loopback port.

    Subclasses give the request handler class; handlers reach the fake through
    `self.server.owner` and sleep with `owner.wait(seconds)`, which `stop()`
    cuts short so a hung request never holds up a test.
    """

    def __init__(self) -> None:
        self._server: LoopbackHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self, *, port: int = 0) -> Self:
        """Serve on `port` of 127.0.0.1; 0 (the default) takes a free one.

        A fixed port (`naver-sms sandbox --port`) keeps the URLs a person
        exported valid across restarts; OSError when something else holds it.
        """
        if self._server is None:
            self._stopping.clear()
            server = LoopbackHTTPServer(("127.0.0.1", port), self._handler())
            server.owner = self
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=type(self).__name__,
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes handlers that sleep for latency or a hang
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def wait(self, seconds: float) -> None:
        """Sleep up to `seconds`, or less if the server stops meanwhile."""
        if seconds > 0:
            self._stopping.wait(seconds)
