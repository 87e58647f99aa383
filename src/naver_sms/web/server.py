"""Serve the owner's page with uvicorn: blocking (`naver-sms web`) or beside the cycles.

uvicorn's own loggers go through the project's logging (no `log_config` of
its own: its records reach the root handler `configure_logging` installed,
scrubbed, as JSON). There is no access log: a URL's query string is the
owner's input, and nothing the page needs to keep.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

import uvicorn
from starlette.applications import Starlette

from naver_sms.config import ConfigError

__all__ = ["WebHandle", "serve_web", "start_in_thread"]

# How long start_in_thread waits for the socket before giving up.
START_TIMEOUT: Final = 10.0


class _Server(uvicorn.Server):
    """uvicorn's server, stopped by Ctrl-C or SIGTERM as a clean end (exit 0).

    uvicorn raises the signal again once it has shut down, so the process would
    end as interrupted (Ctrl-C: "aborted", exit 1; SIGTERM: killed by the
    signal) although stopping is the only way this command ends.
    """

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # only the main thread may handle signals (`serve --web` stops it)
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _server(app: Starlette, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,  # the project's logging, not uvicorn's own handlers
        access_log=False,  # query strings are the owner's input
        server_header=False,
        # One shop, one owner: no reason to hold many idle connections.
        limit_concurrency=64,
        timeout_graceful_shutdown=5,
    )
    return _Server(config)


def _not_listening(host: str, port: int) -> ConfigError:
    return ConfigError(
        f"--port {port}: cannot listen on {host}:{port} (another program uses it?); "
        "choose another with --port"
    )


def serve_web(app: Starlette, host: str, port: int) -> None:
    """Serve until Ctrl-C or SIGTERM; ConfigError when the address cannot be listened on."""
    server = _server(app, host, port)
    try:
        server.run()
    except SystemExit:
        # uvicorn exits the process when it cannot bind; the CLI says it in one line instead.
        raise _not_listening(host, port) from None
    if not server.started and not server.should_exit:
        raise _not_listening(host, port)  # pragma: no cover - uvicorn exits first


@dataclass
class WebHandle:
    """The page served by a thread (`serve --web`); `stop()` ends it and waits."""

    server: uvicorn.Server
    thread: threading.Thread
    host: str
    port: int  # the bound port (the one asked for, or the one the system chose for 0)

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def start_in_thread(app: Starlette, host: str, port: int) -> WebHandle:
    """Serve in a daemon thread; returns once it listens. ConfigError when it cannot."""
    server = _server(app, host, port)
    failed: list[BaseException] = []

    def run() -> None:
        try:
            server.run()  # outside the main thread uvicorn installs no signal handlers
        except SystemExit as exc:
            failed.append(exc)

    thread = threading.Thread(target=run, name="naver-sms-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if failed or not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(1.0)
            raise _not_listening(host, port)
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
    return WebHandle(server=server, thread=thread, host=host, port=int(bound))
