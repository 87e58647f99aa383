"""A loopback HTTP proxy in front of a DynamoDB-API server that injects faults.

Faults are what DynamoDB does to a client in real life: throttling, HTTP 500,
access denied, and the nastiest one, a request the server *applied* whose
answer never arrives (the connection drops after forwarding). Each fault is
queued for the next N requests, optionally only for one API operation
(`X-Amz-Target`, e.g. "UpdateItem").
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Literal
from urllib.parse import urlsplit

from naver_sms.sandbox.server import LoopbackServer

Fault = Literal["throttle", "error500", "access_denied", "drop"]

_ERROR_BODIES = {
    "throttle": (
        400,
        "com.amazonaws.dynamodb.v20120810#ThrottlingException",
        "Rate of requests exceeds the allowed throughput.",
    ),
    "access_denied": (
        400,
        "com.amazonaws.dynamodb.v20120810#AccessDeniedException",
        "User is not authorized to perform this action",
    ),
}


@dataclass
class _Injection:
    fault: Fault
    remaining: int
    target: str | None


class FaultProxy(LoopbackServer):
    def __init__(self, upstream: str) -> None:
        super().__init__()
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._lock = threading.Lock()
        self._injections: list[_Injection] = []
        self.requests: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()

    def inject(self, fault: Fault, times: int = 1, target: str | None = None) -> None:
        """Answer the next `times` requests (of operation `target`, if given) with `fault`."""
        with self._lock:
            self._injections.append(_Injection(fault, times, target))

    def clear(self) -> None:
        """Forget queued faults and counts (between tests)."""
        with self._lock:
            self._injections.clear()
            self.requests.clear()
            self.faults.clear()

    def _next_fault(self, target: str) -> Fault | None:
        with self._lock:
            self.requests[target] += 1
            for injection in self._injections:
                if injection.remaining > 0 and injection.target in (None, target):
                    injection.remaining -= 1
                    self.faults[injection.fault] += 1
                    return injection.fault
        return None

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self._upstream, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                target = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
                fault = proxy._next_fault(target)
                if fault in _ERROR_BODIES:
                    status, error_type, message = _ERROR_BODIES[fault]
                    self._reply(
                        status, json.dumps({"__type": error_type, "message": message}).encode()
                    )
                    return
                if fault == "error500":
                    self._reply(
                        500,
                        b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected"}',
                    )
                    return
                headers = {
                    key: value for key, value in self.headers.items() if key.lower() != "host"
                }
                status, response_headers, response_body = proxy._forward(
                    "POST", self.path, headers, body
                )
                if fault == "drop":
                    # The server applied the request; the client never hears of it.
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(status)
                for key, value in response_headers:
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(response_body)))
                self.end_headers()
                self.wfile.write(response_body)

            def _reply(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
