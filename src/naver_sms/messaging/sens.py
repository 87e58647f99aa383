"""Naver Cloud SENS, SMS API v2: the default `SmsSender`.

One request carries one `type`, `contentType` and `from`, and 1-100 recipients
each with their own content, so a batch is grouped by those three and cut
into requests of 100. Facts: `reference/messaging-kr.md`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

import httpx
from pydantic import SecretStr

from naver_sms.config import ConfigError, Settings
from naver_sms.domain.booking import mask_phone
from naver_sms.domain.messages import Message, MessageType
from naver_sms.messaging.base import SendError, SendFailed, SendRejected, SendResult
from naver_sms.utils.http import HttpAdapter
from naver_sms.utils.logger import get_logger, logged_operation

DEFAULT_BASE_URL: Final = "https://sens.apigw.ntruss.com"
MAX_RECIPIENTS: Final = 100
_NON_DIGITS = re.compile(r"[^0-9]")

log = get_logger(__name__)


def sens_signature(
    *, method: str, path: str, timestamp: str, access_key: str, secret_key: str
) -> str:
    """`x-ncp-apigw-signature-v2`: Base64(HMAC-SHA256(secret, "METHOD path\\ntimestamp\\naccess")).

    `path` is the request path exactly as sent, with its query string if any.
    """
    message = f"{method} {path}\n{timestamp}\n{access_key}".encode()
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def content_type_of(message: Message) -> str:
    return "AD" if message.kind.is_advertising else "COMM"


def _digits(number: str) -> str:
    return _NON_DIGITS.sub("", number)


def _reason(response: httpx.Response) -> str:
    """The provider's own words for a refusal: API gateway errors and SENS errors differ."""
    try:
        data: Any = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            parts = [str(error[k]) for k in ("errorCode", "message", "details") if error.get(k)]
            if parts:
                return " ".join(parts)
        for key in ("errorMessage", "message", "statusName"):
            if data.get(key):
                return str(data[key])
    text = response.text.strip()
    return text[:200] if text else response.reason_phrase or "no reason given"


class SensSender(HttpAdapter):
    """Sends batches through SENS v2. `client=None` builds an httpx client it owns."""

    def __init__(
        self,
        *,
        access_key: str | SecretStr,
        secret_key: str | SecretStr,
        service_id: str,
        base_url: str = DEFAULT_BASE_URL,
        client: httpx.Client | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._access_key = SecretStr(access_key) if isinstance(access_key, str) else access_key
        self._secret_key = SecretStr(secret_key) if isinstance(secret_key, str) else secret_key
        self.service_id = service_id
        super().__init__(base_url, client, timeout)
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, *, client: httpx.Client | None = None) -> SensSender:
        if not (settings.sens_access_key and settings.sens_secret_key and settings.sens_service_id):
            raise ConfigError(
                "SENS_ACCESS_KEY, SENS_SECRET_KEY and SENS_SERVICE_ID: expected all three "
                "(or none, to use the outbox)"
            )
        return cls(
            access_key=settings.sens_access_key,
            secret_key=settings.sens_secret_key,
            service_id=settings.sens_service_id,
            base_url=settings.sens_url,
            client=client,
        )

    def __repr__(self) -> str:
        return f"SensSender(service_id={self.service_id!r}, base_url={self.base_url!r})"

    @property
    def url(self) -> str:
        return f"{self.base_url}/sms/v2/services/{self.service_id}/messages"

    def send(self, messages: Sequence[Message]) -> list[SendResult]:
        """One result per message, in order; a refused request fails only its own messages."""
        results: dict[int, SendResult] = {}
        for indexes in self._requests(messages):
            batch = [messages[i] for i in indexes]
            try:
                request_id = self.send_request(batch)
            except SendError as exc:
                results.update({i: SendResult(messages[i], error=exc) for i in indexes})
            else:
                results.update({i: SendResult(messages[i], request_id=request_id) for i in indexes})
        return [results[i] for i in range(len(messages))]

    @staticmethod
    def _requests(messages: Sequence[Message]) -> Iterator[list[int]]:
        groups: dict[tuple[str, MessageType, str], list[int]] = {}
        for index, message in enumerate(messages):
            key = (_digits(message.sender), message.type, content_type_of(message))
            groups.setdefault(key, []).append(index)
        for indexes in groups.values():
            for start in range(0, len(indexes), MAX_RECIPIENTS):
                yield indexes[start : start + MAX_RECIPIENTS]

    def body(self, messages: Sequence[Message]) -> dict[str, Any]:
        """The JSON body of one request; all messages share sender, type and content type."""
        first = messages[0]
        lms = first.type is MessageType.LMS
        entries = []
        for message in messages:
            entry = {"to": _digits(message.to), "content": message.text}
            if lms and message.subject:
                entry["subject"] = message.subject
            entries.append(entry)
        body: dict[str, Any] = {
            "type": first.type.value,
            "contentType": content_type_of(first),
            "countryCode": "82",
            "from": _digits(first.sender),
            # SENS requires a top-level content; each recipient's own overrides it.
            "content": first.text,
            "messages": entries,
        }
        if lms and first.subject:
            body["subject"] = first.subject
        return body

    def send_request(self, messages: Sequence[Message]) -> str:
        """Sends one request (<= 100 messages of one sender/type/content type); its request id."""
        if not 1 <= len(messages) <= MAX_RECIPIENTS:
            raise ValueError(f"a SENS request holds 1 to {MAX_RECIPIENTS} messages")
        keys = {(_digits(m.sender), m.type, content_type_of(m)) for m in messages}
        if len(keys) != 1:
            raise ValueError("messages of one request must share sender, type and content type")
        body = self.body(messages)
        request = self._client.build_request("POST", self.url, json=body, timeout=self._timeout)
        timestamp = str(int(self._clock() * 1000))
        access_key = self._access_key.get_secret_value()
        request.headers["x-ncp-apigw-timestamp"] = timestamp
        request.headers["x-ncp-iam-access-key"] = access_key
        request.headers["x-ncp-apigw-signature-v2"] = sens_signature(
            method="POST",
            path=request.url.raw_path.decode("ascii"),
            timestamp=timestamp,
            access_key=access_key,
            secret_key=self._secret_key.get_secret_value(),
        )
        request.headers["Content-Type"] = "application/json; charset=utf-8"
        with logged_operation(
            "sens_send",
            "SMS request accepted",
            logger=log,
            count=len(messages),
            type=body["type"],
            content_type=body["contentType"],
            recipients_masked=[mask_phone(m.to) for m in messages],
            booking_nums=[m.booking_num for m in messages if m.booking_num],
        ) as ctx:
            response = self._post(request)
            ctx["status"] = response.status_code
            request_id = self._accepted(response)
            ctx["request_id"] = request_id
        return request_id

    def _post(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._client.send(request)
        except httpx.TimeoutException:
            raise SendFailed(f"no answer from SENS within {self._timeout:g} s") from None
        except httpx.TransportError as exc:
            raise SendFailed(f"SENS unreachable ({type(exc).__name__})") from None

    @staticmethod
    def _accepted(response: httpx.Response) -> str:
        status = response.status_code
        if 200 <= status < 300:
            try:
                data: Any = response.json()
            except ValueError:
                data = None
            request_id = data.get("requestId") if isinstance(data, dict) else None
            if isinstance(request_id, str) and request_id:
                return request_id
            # Accepted, so the messages are on their way: failing here would
            # release the claims and send them twice. Keep a traceable id.
            fallback = f"unknown-{uuid.uuid4().hex}"
            log.warning(
                "SENS accepted a request without a requestId",
                operation="sens_send",
                context={"status": status, "request_id": fallback},
            )
            return fallback
        reason = _reason(response)
        # 429 is the API gateway's throttle: the request was fine, only too early.
        if status == 429 or status >= 500 or status < 400:
            raise SendFailed(reason, status=status)
        raise SendRejected(reason, status=status)
