"""A fake Naver Cloud SENS and a fake Telegram Bot API on loopback, for tests and the demo.

The fake SENS checks what the real one checks before it accepts a message
(the v2 signature over the path as sent, the 5-minute timestamp window, the
access key, registered senders, EUC-KR sizes per type) and records what it
accepted. Faults can be injected: latency, 5xx answers, and requests left
unanswered until the client times out. Nothing here reaches the network:
the servers bind 127.0.0.1 on a free port.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from naver_sms.sandbox.server import LoopbackHTTPServer, LoopbackServer

TIMESTAMP_WINDOW_MS = 5 * 60 * 1000
_HANG = object()  # answer nothing: the client's timeout is the fault under test
_DIGITS = re.compile(r"^[0-9]+$")
_SENS_PATH = re.compile(r"^/sms/v2/services/(?P<service>[^/?]+)/messages(?:\?.*)?$")
_SIZE_LIMITS = {"SMS": 90, "LMS": 2000}

Answer = tuple[int, Mapping[str, Any]] | object  # object: _HANG


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackHTTPServer

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        owner = self.server.owner
        answer = owner.answer(self.command, self.path, dict(self.headers.items()), body)
        if not isinstance(answer, tuple):  # _HANG
            owner.wait(owner.hang_seconds)
            self.close_connection = True
            return
        status, payload = answer
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's signature
        """Silent: request lines hold paths with a bot token; tests read stderr for leaks."""


class _FaultyServer(LoopbackServer):
    """A loopback fake with injectable latency, errors and hangs."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.latency = 0.0
        self.hang_seconds = 30.0
        self._faults: list[Answer] = []

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def _queue_fault(self, answer: Answer, count: int) -> None:
        with self._lock:
            self._faults.extend([answer] * count)

    def _next_fault(self) -> Answer | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    def answer(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        self.wait(self.latency)
        fault = self._next_fault()
        if fault is not None:
            return fault
        return self.handle(method, path, {k.lower(): v for k, v in headers.items()}, body)

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> Answer:  # pragma: no cover - every server overrides it
        raise NotImplementedError


# --- SENS ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AcceptedMessage:
    request_id: str
    type: str
    content_type: str
    sender: str
    to: str
    subject: str
    content: str


class _Refusal(Exception):
    def __init__(self, status: int, payload: Mapping[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.payload = payload


def _gateway_error(status: int, code: str, message: str, details: str) -> _Refusal:
    return _Refusal(status, {"error": {"errorCode": code, "message": message, "details": details}})


def _bad_request(message: str) -> _Refusal:
    return _Refusal(400, {"status": 400, "statusName": "fail", "errorMessage": message})


def _euckr_size(text: str, what: str) -> int:
    for position, character in enumerate(text):
        if character.isascii():
            continue
        try:
            encoded = character.encode("euc_kr")
        except UnicodeEncodeError:
            encoded = b""
        # Python's 8-byte "make-up" sequences are not KS X 1001: SENS cannot take them.
        if not 1 <= len(encoded) <= 2:
            raise _bad_request(
                f"{what}: character U+{ord(character):04X} at {position} is not EUC-KR"
            )
    return len(text.encode("euc_kr"))


class FakeSens(_FaultyServer):
    """SENS v2 `POST /sms/v2/services/{serviceId}/messages`, checked as SENS checks it."""

    def __init__(
        self,
        *,
        access_key: str = "sandbox-access-key",
        secret_key: str = "sandbox-secret-key",  # noqa: S107 - made up, valid nowhere else
        service_id: str = "ncp:sms:kr:000000000000:sandbox",
        senders: Iterable[str] = ("0200000000",),
        clock: Callable[[], float] = time.time,
        check_advertising: bool = True,
    ) -> None:
        super().__init__()
        self.access_key = access_key
        self.secret_key = secret_key
        self.service_id = service_id
        self.senders = {re.sub(r"[^0-9]", "", s) for s in senders}
        self.clock = clock
        self.check_advertising = check_advertising
        self._accepted: list[AcceptedMessage] = []
        self._refusals: list[tuple[int, str]] = []
        self._requests = 0

    @property
    def accepted(self) -> list[AcceptedMessage]:
        """A copy of every message accepted so far, in order."""
        with self._lock:
            return list(self._accepted)

    @property
    def refusals(self) -> list[tuple[int, str]]:
        """(status, reason) of every request refused by a check (not injected faults)."""
        with self._lock:
            return list(self._refusals)

    @property
    def requests(self) -> int:
        with self._lock:
            return self._requests

    def clear(self) -> None:
        with self._lock:
            self._accepted.clear()
            self._refusals.clear()
            self._requests = 0

    def register_sender(self, number: str) -> None:
        with self._lock:
            self.senders.add(re.sub(r"[^0-9]", "", number))

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """The next `count` requests are answered `status` without being looked at."""
        self._queue_fault(
            (status, {"status": status, "statusName": "fail", "errorMessage": "Internal error"}),
            count,
        )

    def hang_next(self, count: int = 1, seconds: float = 30.0) -> None:
        """The next `count` requests get no answer for `seconds` (or until stop())."""
        self.hang_seconds = seconds
        self._queue_fault(_HANG, count)

    def answer(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        with self._lock:
            self._requests += 1
        return super().answer(method, path, headers, body)

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        try:
            self._authenticate(method, path, headers)
            match = _SENS_PATH.match(path)
            if method != "POST" or match is None:
                raise _gateway_error(404, "300", "Not Found", f"no such API: {method} {path}")
            if match.group("service") != self.service_id:
                raise _gateway_error(404, "300", "Not Found", "unknown serviceId")
            accepted = self._validate(body)
        except _Refusal as refusal:
            reason = json.dumps(refusal.payload, ensure_ascii=False)
            with self._lock:
                self._refusals.append((refusal.status, reason))
            return refusal.status, refusal.payload
        request_id = accepted[0].request_id
        with self._lock:
            self._accepted.extend(accepted)
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        return 202, {
            "requestId": request_id,
            "requestTime": now,
            "statusCode": "202",
            "statusName": "success",
        }

    def _authenticate(self, method: str, path: str, headers: Mapping[str, str]) -> None:
        timestamp = headers.get("x-ncp-apigw-timestamp", "")
        access_key = headers.get("x-ncp-iam-access-key", "")
        signature = headers.get("x-ncp-apigw-signature-v2", "")
        if not (timestamp and access_key and signature):
            raise _gateway_error(
                401, "200", "Authentication Failed", "missing authentication headers"
            )
        if not _DIGITS.match(timestamp):
            raise _gateway_error(401, "200", "Authentication Failed", "invalid timestamp")
        if abs(int(self.clock() * 1000) - int(timestamp)) > TIMESTAMP_WINDOW_MS:
            raise _gateway_error(
                401, "200", "Authentication Failed", "timestamp is more than 5 minutes off"
            )
        if not hmac.compare_digest(access_key, self.access_key):
            raise _gateway_error(401, "200", "Authentication Failed", "unknown access key")
        message = f"{method} {path}\n{timestamp}\n{access_key}".encode()
        expected = base64.b64encode(
            hmac.new(self.secret_key.encode(), message, hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(signature, expected):
            raise _gateway_error(401, "200", "Authentication Failed", "signature mismatch")

    def _validate(self, body: bytes) -> list[AcceptedMessage]:
        data = self._envelope(body)
        request_id = f"sandbox-{uuid.uuid4().hex[:24]}"
        return [
            self._recipient(data, index, entry, request_id)
            for index, entry in enumerate(data["messages"])
        ]

    def _envelope(self, body: bytes) -> dict[str, Any]:
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise _bad_request("body: expected JSON") from None
        if not isinstance(data, dict):
            raise _bad_request("body: expected a JSON object")
        kind = data.get("type")
        if kind not in _SIZE_LIMITS:
            raise _bad_request(f"type: expected SMS or LMS (MMS is not simulated), got {kind!r}")
        content_type = data.setdefault("contentType", "COMM")
        if content_type not in ("COMM", "AD"):
            raise _bad_request(f"contentType: expected COMM or AD, got {content_type!r}")
        if str(data.get("countryCode", "82")) != "82":
            raise _bad_request("countryCode: only 82 is simulated")
        sender = data.get("from")
        if not isinstance(sender, str) or not _DIGITS.match(sender):
            raise _bad_request("from: expected digits only")
        with self._lock:
            registered = sender in self.senders
        if not registered:
            raise _bad_request(f"from: {sender} is not a registered sender number")
        content = data.get("content")
        if not isinstance(content, str) or not content:
            raise _bad_request("content: required")
        messages = data.get("messages")
        if not isinstance(messages, list) or not 1 <= len(messages) <= 100:
            raise _bad_request("messages: expected 1 to 100 recipients")
        return data

    def _recipient(
        self, data: Mapping[str, Any], index: int, entry: object, request_id: str
    ) -> AcceptedMessage:
        kind, content_type = data["type"], data["contentType"]
        if not isinstance(entry, dict):
            raise _bad_request(f"messages[{index}]: expected an object")
        to = entry.get("to")
        if not isinstance(to, str) or not _DIGITS.match(to) or not 10 <= len(to) <= 11:
            raise _bad_request(f"messages[{index}].to: expected 10-11 digits")
        text = entry.get("content") or data["content"]
        subject = entry.get("subject") or data.get("subject") or ""
        if not isinstance(text, str) or not isinstance(subject, str):
            raise _bad_request(f"messages[{index}]: content and subject must be strings")
        size = _euckr_size(text, f"messages[{index}].content")
        if size > _SIZE_LIMITS[kind]:
            raise _bad_request(
                f"messages[{index}].content: {size} bytes is over the {kind} limit "
                f"of {_SIZE_LIMITS[kind]}"
            )
        if kind == "LMS" and _euckr_size(subject, f"messages[{index}].subject") > 40:
            raise _bad_request(f"messages[{index}].subject: over 40 bytes")
        if (
            self.check_advertising
            and content_type == "AD"
            and (not text.startswith("(광고)") or "무료수신거부" not in text)
        ):
            raise _bad_request(
                f"messages[{index}].content: advertising must start with (광고) "
                "and carry a 무료수신거부 line"
            )
        return AcceptedMessage(request_id, kind, content_type, data["from"], to, subject, text)


# --- Telegram Bot API -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TelegramMessage:
    chat_id: str
    text: str


class FakeTelegram(_FaultyServer):
    """Bot API `POST /bot{token}/sendMessage`; can answer 429 with `retry_after`."""

    def __init__(self, *, token: str = "000000:sandbox-token") -> None:  # noqa: S107 - made up
        super().__init__()
        self.token = token
        self._messages: list[TelegramMessage] = []

    @property
    def messages(self) -> list[TelegramMessage]:
        with self._lock:
            return list(self._messages)

    def rate_limit_next(self, count: int = 1, retry_after: int = 1) -> None:
        payload = {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {retry_after}",
            "parameters": {"retry_after": retry_after},
        }
        self._queue_fault((429, payload), count)

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        payload = {"ok": False, "error_code": status, "description": "Internal Server Error"}
        self._queue_fault((status, payload), count)

    def hang_next(self, count: int = 1, seconds: float = 30.0) -> None:
        self.hang_seconds = seconds
        self._queue_fault(_HANG, count)

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        if method != "POST" or not path.endswith("/sendMessage"):
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        if path != f"/bot{self.token}/sendMessage":
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            data = None
        if not isinstance(data, dict) or not data.get("chat_id"):
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: chat not found",
            }
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message text is empty",
            }
        with self._lock:
            self._messages.append(TelegramMessage(str(data["chat_id"]), text))
            message_id = len(self._messages)
        return 200, {
            "ok": True,
            "result": {"message_id": message_id, "chat": {"id": data["chat_id"]}, "text": text},
        }
