"""Naver Cloud SENS, SMS API v2: the default `SmsSender`.

One request carries one `type`, `contentType` and `from`, and 1-100 recipients
each with their own content, so a batch is grouped by those three and cut
into requests of 100. The API's shape is summarised in `docs/architecture.md`.

Only a well-formed acceptance counts as sent. Every other outcome is sorted by
what it says about the request: certainly not accepted (`SendFailed`, retried
next cycle), refused (`SendRejected`), or maybe accepted (`SendUnclear`: the
answer was lost, so before sending again the cycle asks `find_accepted`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import operator
import re
import time
import urllib.parse
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import httpx
from pydantic import SecretStr

from naver_sms.domain.booking import KST, BookingValidationError, mask_phone, normalize_phone
from naver_sms.domain.delivery import DeliveryResult, DeliveryStatus
from naver_sms.domain.messages import Message, MessageType
from naver_sms.messaging.base import (
    SenderBase,
    SenderRefused,
    SendError,
    SendFailed,
    SendRejected,
    SendResult,
    SendUnclear,
)
from naver_sms.utils.http import HttpAdapter
from naver_sms.utils.logger import get_logger, logged_operation
from naver_sms.utils.scrub import register_secrets, scrub

DEFAULT_BASE_URL: Final = "https://sens.apigw.ntruss.com"
MAX_RECIPIENTS: Final = 100
# A refused connection should fail fast (nothing was sent, the next cycle
# retries), while an answer is worth waiting for: a read timeout leaves the
# outcome unclear and costs a look-up in SENS's list before anything is resent.
DEFAULT_TIMEOUT: Final = httpx.Timeout(10.0, connect=3.0)
# SENS lists by request time in windows of at most 30 days, 100 per page.
LIST_WINDOW: Final = timedelta(days=30)
LIST_PAGE_SIZE: Final = 100
# A shop sends tens of messages a day: more pages than this in a look-up
# window means the listing is not what we think it is, not a busy shop.
MAX_LIST_PAGES: Final = 100
_LIST_TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
# The 080 opt-out list: a shop's few hundred numbers at most, so a list longer
# than this is a paging loop, not a real list. SENS takes up to 1,000 numbers
# in one add or remove.
MAX_OPTOUT_PAGES: Final = 200
MAX_OPTOUT_CHANGE: Final = 1000
_OPTOUTS_UNREACHABLE: Final = "SENS's opt-out list not reached"
# A delivery lookup is a small read, and a cycle may make hundreds: one that
# does not answer quickly fails (the message is asked about next cycle) rather
# than hold the cycle up. Never longer than the adapter's own timeout.
LOOKUP_TIMEOUT: Final = httpx.Timeout(3.0, connect=2.0)
# SENS's words for one message's state (`status`), and its carriers (`telcoCode`).
_PENDING_WORDS: Final = {"READY": "waiting", "PROCESSING": "processing"}
_COMPLETED: Final = "COMPLETED"
_DELIVERED_CODE: Final = "0"
_TELCOS: Final = {"SKT": "SKT", "KT": "KT", "KTF": "KT", "LGT": "LG U+", "LGU": "LG U+"}
# A status name that says no more than the status code does.
_EMPTY_WORDS: Final = frozenset({"success", "fail", "failed", "failure", "completed"})
_MAX_WORDS: Final = 80
_NO_RESULT_YET: Final = "SENS has no result for this message yet"
_PROBE_ID: Final = "naver-sms-probe"
_NOT_FOUND: Final = 404
# Epoch values below this are seconds, not milliseconds (2001 in ms, 5138 in s).
_EPOCH_MS_FLOOR: Final = 10**11
_NON_DIGITS = re.compile(r"[^0-9]")
# How a provider says the `from` number is not registered. SENS's own wording
# is not documented, so both languages and both word orders are accepted.
_SENDER_WORDS = (
    r"(?:발신\s*번호|발신자\s*번호|calling\s*number|caller\s*(?:id|number)"
    r"|sender(?:\s*(?:id|number))?|\bfrom\b)"
)
_UNREGISTERED_WORDS = (
    r"(?:미등록|등록\s*되지|등록되어\s*있지|not\s+(?:a\s+|been\s+|yet\s+)?registered|unregistered"
    r"|not\s+(?:been\s+)?approved|미승인)"
)
_UNREGISTERED_SENDER = re.compile(
    rf"{_SENDER_WORDS}.{{0,80}}?{_UNREGISTERED_WORDS}|{_UNREGISTERED_WORDS}.{{0,40}}?{_SENDER_WORDS}"
    r"|invalid\s+(?:sender|calling|caller|from)",
    re.IGNORECASE | re.DOTALL,
)

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


def _digits(number: str) -> str:
    return _NON_DIGITS.sub("", number)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _reason(response: httpx.Response) -> str:
    """The provider's own words for a refusal: API gateway errors and SENS errors differ."""
    data = _json(response)
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            parts = [str(error[k]) for k in ("errorCode", "message", "details") if error.get(k)]
            if parts:
                return " ".join(parts)
        for key in ("errorMessage", "message", "statusName"):
            if data.get(key):
                return str(data[key])
    if _looks_like_html(response):
        return f"an HTML page ({response.reason_phrase or 'no reason given'})"
    text = response.text.strip()
    return text[:200] if text else response.reason_phrase or "no reason given"


def _looks_like_html(response: httpx.Response) -> bool:
    if "html" in response.headers.get("content-type", "").lower():
        return True
    return response.text.lstrip()[:15].lower().startswith(("<!doctype", "<html"))


def refuses_sender(reason: str) -> bool:
    """Whether a provider's refusal says the `from` number is not registered."""
    return _UNREGISTERED_SENDER.search(reason) is not None


def accepted_request_id(response: httpx.Response) -> str | None:
    """The request id of a well-formed SENS acceptance, or None for anything else.

    A 2xx alone proves nothing: a captive portal or a proxy's error page also
    answers 200. SENS accepts with a JSON object holding a non-empty string
    `requestId` (and `statusCode` "202" / `statusName` "success" when present).
    """
    if not 200 <= response.status_code < 300:
        return None
    data = _json(response)
    if not isinstance(data, dict):
        return None
    request_id = data.get("requestId")
    if not isinstance(request_id, str) or not request_id.strip():
        return None
    if "statusCode" in data and str(data["statusCode"]) != "202":
        return None
    if "statusName" in data and str(data["statusName"]).lower() != "success":
        return None
    return request_id


def _body_kind(response: httpx.Response, json_object: str) -> str:
    """What an answer that is not the expected one holds, in words (never its text)."""
    if _looks_like_html(response):
        return "an HTML page"
    if not response.content.strip():
        return "an empty body"
    data = _json(response)
    if isinstance(data, dict):
        return json_object
    return "JSON that is not an object" if data is not None else "a body that is not JSON"


def _not_an_acceptance(response: httpx.Response) -> str:
    what = _body_kind(response, "JSON without a requestId or with a failed status")
    return (
        f"SENS answered HTTP {response.status_code} with {what}, not an acceptance: "
        "it may or may not have taken the request"
    )


def _may_split(error: SendError) -> bool:
    """A refusal that may be caused by one message of the request (a bad number, a bad text).

    Not a refusal of the request as such: the sender number, the signature or
    the keys (401/403), and nothing that is not a refusal (throttling, 5xx,
    lost answers) would change for a smaller request.
    """
    return (
        type(error) is SendRejected
        and error.status is not None
        and 400 <= error.status < 500
        and error.status not in (401, 403, 408, 429)
    )


def _list_time(moment: datetime, *, round_up: bool) -> str:
    """`YYYY-MM-DD HH:mm:ss` in KST, widened to whole seconds so the window is never narrower."""
    if moment.tzinfo is None:
        raise ValueError("find_accepted needs aware datetimes")
    local = moment.astimezone(KST)
    if round_up and local.microsecond:
        local += timedelta(seconds=1)
    return local.replace(microsecond=0).strftime(_LIST_TIME_FORMAT)


@dataclass(frozen=True, slots=True)
class _Listed:
    """One message of SENS's list, reduced to what identifies a message like ours."""

    request_id: str
    message_id: str
    request_time: str
    # SMS: to, from, type, contentType; AlimTalk: to, template code, content
    key: tuple[str, ...]


def _key(message: Message) -> tuple[str, str, str, str]:
    return (
        _digits(message.to),
        _digits(message.sender),
        message.type.value,
        message.content_type,
    )


def match_accepted(
    keys: Sequence[tuple[str, ...]],
    listed: Sequence[_Listed],
    same: Callable[[tuple[str, ...], tuple[str, ...]], bool] = operator.eq,
) -> list[str | None]:
    """For each key, the request id of a listed message with that key (`same(ours,
    listed)`, equality by default), or None.

    Each listed message answers for at most one of ours. Requests are taken
    whole, the one that holds most of ours first: a lost answer hid one
    request carrying a batch of ours, while other requests in the window that
    share a key (the same customer texted the day before) hold fewer of them.
    Ties go to the later request.
    """
    by_request: dict[str, list[_Listed]] = {}
    seen: set[tuple[str, str]] = set()
    for entry in listed:
        if entry.message_id and (entry.request_id, entry.message_id) in seen:
            continue  # listed twice across pages or windows
        seen.add((entry.request_id, entry.message_id))
        by_request.setdefault(entry.request_id, []).append(entry)
    results: list[str | None] = [None] * len(keys)
    open_requests = dict(by_request)

    def assignment(entries: list[_Listed]) -> list[int]:
        taken: list[int] = []
        for entry in entries:
            for index, key in enumerate(keys):
                if results[index] is None and index not in taken and same(key, entry.key):
                    taken.append(index)
                    break
        return taken

    while open_requests:
        best_id, best = max(
            ((rid, assignment(entries)) for rid, entries in open_requests.items()),
            key=lambda item: (len(item[1]), max(e.request_time for e in open_requests[item[0]])),
        )
        if not best:
            break
        for index in best:
            results[index] = best_id
        del open_requests[best_id]
    return results


class SensApi(SenderBase, HttpAdapter):
    """What every SENS API adapter shares: the keys and the v2 signature, a send whose
    outcome is sorted (accepted, refused, failed, unclear) and bisected on a refusal
    one message can cause, and lookups that fail as `SendFailed`.

    Subclasses give `_send_part` (one request's results) and their API's URLs.
    """

    reaches_phones = True

    def __init__(
        self,
        *,
        access_key: str | SecretStr,
        secret_key: str | SecretStr,
        service_id: str,
        base_url: str = DEFAULT_BASE_URL,
        client: httpx.Client | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._access_key = SecretStr(access_key) if isinstance(access_key, str) else access_key
        self._secret_key = SecretStr(secret_key) if isinstance(secret_key, str) else secret_key
        # The access key travels in a header and may come back in a gateway's
        # error text: from now on no log line, report or alert can carry either key.
        register_secrets([self._access_key, self._secret_key])
        self.service_id = service_id
        super().__init__(base_url, client, timeout)
        self._timeouts = httpx.Timeout(timeout)
        self._lookup_timeout = _at_most(self._timeouts, LOOKUP_TIMEOUT)
        self._clock = clock

    def _send_splitting(
        self, batch: list[Message], refused_senders: dict[str, SenderRefused]
    ) -> Iterator[list[SendResult]]:
        """Sends `batch`; on a refusal that one message can cause, bisects.

        Without this, one bad number refuses its 99 neighbours every cycle.
        Halving finds one bad message in about 2*log2(n) requests; the budget
        caps a batch full of bad ones, and what it leaves unresolved fails
        retryably, so a later cycle (without the messages already refused)
        goes on.
        """
        sender = _digits(batch[0].sender)
        budget = 2 * math.ceil(math.log2(len(batch))) + 2 if len(batch) > 1 else 0
        pending = [batch]
        while pending:
            part = pending.pop()
            if sender in refused_senders:
                yield [SendResult(m, error=refused_senders[sender]) for m in part]
                continue
            try:
                results = self._send_part(part)
            except SendError as exc:
                error = exc
                if isinstance(exc, SenderRefused):
                    refused_senders[sender] = exc
                elif len(part) > 1 and self._may_split(exc):
                    if budget >= 2:
                        budget -= 2
                        half = len(part) // 2
                        pending += [part[half:], part[:half]]  # the first half goes first
                        yield []
                        continue
                    error = SendFailed(
                        f"not sent: SENS refused a request with this message and others "
                        f"({exc.reason}); sent again next cycle without the refused ones",
                        status=exc.status,
                    )
                yield [SendResult(m, error=error) for m in part]
            else:
                yield results

    def _send_part(self, messages: Sequence[Message]) -> list[SendResult]:
        """One request's results, one per message; raises `SendError` for the request."""
        raise NotImplementedError

    def _may_split(self, error: SendError) -> bool:
        return _may_split(error)

    def _sign(self, request: httpx.Request) -> None:
        timestamp = str(int(self._clock() * 1000))
        access_key = self._access_key.get_secret_value()
        request.headers["x-ncp-apigw-timestamp"] = timestamp
        request.headers["x-ncp-iam-access-key"] = access_key
        request.headers["x-ncp-apigw-signature-v2"] = sens_signature(
            method=request.method,
            path=request.url.raw_path.decode("ascii"),
            timestamp=timestamp,
            access_key=access_key,
            secret_key=self._secret_key.get_secret_value(),
        )

    @property
    def url(self) -> str:
        """The API's messages endpoint (sends, lists and lookups)."""
        raise NotImplementedError

    def probe(self) -> None:
        """Whether the keys and the service id work, with one harmless signed read: the
        result of a message id SENS never gave. Its "no result" answer means both are
        good; raises `SendFailed` (with SENS's status) otherwise. Sends nothing."""
        try:
            self.delivery(_PROBE_ID)
        except SendFailed as exc:
            if exc.status == _NOT_FOUND and exc.reason == _NO_RESULT_YET:
                return
            raise

    def _signed_post(self, body: Mapping[str, Any]) -> httpx.Request:
        """A send request to this API, its JSON body in UTF-8, signed."""
        request = self._client.build_request("POST", self.url, json=body, timeout=self._timeout)
        request.headers["Content-Type"] = "application/json; charset=utf-8"
        self._sign(request)
        return request

    def _post(self, request: httpx.Request) -> httpx.Response:
        """The answer, or why there is none: sorted by whether the request can have left."""
        try:
            return self._client.send(request)
        except (httpx.ConnectTimeout, httpx.PoolTimeout):
            raise SendFailed(
                f"no connection to SENS within {self._timeouts.connect or 0:g} s: nothing was sent"
            ) from None
        except httpx.TimeoutException:  # read or write: the request may be in SENS already
            raise SendUnclear(
                f"no answer from SENS within {self._timeouts.read or 0:g} s: "
                "it may have accepted the request"
            ) from None
        except httpx.ConnectError as exc:
            raise SendFailed(f"SENS unreachable ({type(exc).__name__}): nothing was sent") from None
        except (
            httpx.RemoteProtocolError,
            httpx.ReadError,
            httpx.WriteError,
            httpx.DecodingError,
        ) as exc:
            raise SendUnclear(
                f"the connection to SENS broke before its answer ({type(exc).__name__}): "
                "it may have accepted the request"
            ) from None
        except httpx.TransportError as exc:  # proxy, protocol: refused before sending
            raise SendFailed(f"SENS not reached ({type(exc).__name__}): nothing was sent") from None

    def _ask(self, request: httpx.Request, *, unreachable: str) -> httpx.Response:
        """Signs and sends a request that is safe to repeat (every read, and the opt-out
        list's changes): without an answer nothing is in doubt, the call simply failed.

        Sends are not made here: a send without an answer may have been accepted
        (`_post` sorts that out).
        """
        self._sign(request)
        try:
            return self._client.send(request)
        except httpx.HTTPError as exc:
            raise SendFailed(f"{unreachable} ({type(exc).__name__})") from None

    def _get(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        *,
        unreachable: str,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """A signed GET: the signature covers the query string exactly as sent."""
        request = self._client.build_request(
            "GET", url, params=params, timeout=self._timeout if timeout is None else timeout
        )
        return self._ask(request, unreachable=unreachable)

    @staticmethod
    def _refusal(response: httpx.Response, *, sender: str) -> SendError:
        """What a send's answer that is not an acceptance says about the request."""
        status = response.status_code
        if 200 <= status < 300:
            # The old "accepted without a requestId" guess marked such messages
            # sent; an HTML page from a proxy is no proof of that.
            return SendUnclear(_not_an_acceptance(response), status=status)
        reason = _reason(response)
        # The gateway's throttle (429) and a 408 mean the request was not
        # processed: only too early or too slow.
        if status in (408, 429):
            return SendFailed(reason, status=status)
        if 400 <= status < 500:
            if status not in (401, 403) and refuses_sender(reason):
                return SenderRefused(reason, sender=sender, status=status)
            return SendRejected(reason, status=status)
        # 5xx (the gateway may have forwarded it before failing), and the odd 1xx/3xx.
        return SendUnclear(f"{reason}: SENS may have accepted the request", status=status)

    def _lookup_object(
        self, url: str, params: Mapping[str, str] | None, *, what: str
    ) -> tuple[dict[str, Any], httpx.Response]:
        """A lookup's JSON object, or `SendFailed` saying what was wrong.

        Every failure is `SendFailed`, a 4xx too: a lookup changes nothing, so
        nothing is in doubt and nothing is refused for good; the message is
        asked about again next cycle, until it is given up as unknown.
        """
        response = self._get(
            url, params, unreachable=f"{what}: SENS not reached", timeout=self._lookup_timeout
        )
        status = response.status_code
        if status == 404 and not response.content.strip():
            raise SendFailed(_NO_RESULT_YET, status=status)
        if not 200 <= status < 300:
            raise SendFailed(f"{what}: {_reason(response)}", status=status)
        data = _json(response)
        if not isinstance(data, dict):
            kind = _body_kind(response, "a JSON object")
            raise SendFailed(f"{what} could not be read: {kind}", status=status)
        return data, response

    def _lookup(self, url: str, params: Mapping[str, str] | None, *, what: str) -> dict[str, Any]:
        """A lookup's JSON object with its `messages` list, or `SendFailed` (`_lookup_object`)."""
        data, response = self._lookup_object(url, params, what=what)
        if not isinstance(data.get("messages"), list):
            kind = _body_kind(response, "JSON without a messages list")
            raise SendFailed(f"{what} could not be read: {kind}", status=response.status_code)
        return data

    def _list_page_of(
        self,
        params: Mapping[str, str],
        *,
        what: str,
        unreachable: str,
        empty_404_is_none: bool = False,
    ) -> dict[str, Any]:
        """One page of this API's message list (`what` names it in errors): a JSON object
        with a `messages` list. With `empty_404_is_none`, SENS's empty 404 is an empty page."""
        response = self._get(self.url, params, unreachable=unreachable)
        if empty_404_is_none and response.status_code == 404 and not response.content.strip():
            return {"messages": []}
        if not 200 <= response.status_code < 300:
            raise SendFailed(f"{what}: {_reason(response)}", status=response.status_code)
        data = _json(response)
        if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
            raise SendFailed(
                f"{what} could not be read (expected JSON with a messages list)",
                status=response.status_code,
            )
        return data

    def _ids_by_recipient(
        self,
        request_id: str,
        params: Mapping[str, str],
        *,
        what: str,
        keep: Callable[[Mapping[str, Any]], bool] = lambda _entry: True,
    ) -> dict[str, list[str]]:
        """The message ids of an accepted request (one lookup), by recipient in the stored
        form (`010-0000-1234`), in SENS's order. Entries of another request, and those
        `keep` refuses, are left out. Raises `SendFailed` for anything but the documented
        list."""
        if not request_id.strip():
            raise ValueError("message_ids needs a request id")
        data = self._lookup(self.url, params, what=what)
        found: dict[str, list[str]] = {}
        for index, entry in enumerate(data["messages"]):
            if not isinstance(entry, dict):
                raise SendFailed(f"{what}: messages[{index}] is not an object")
            message_id, to = entry.get("messageId"), entry.get("to")
            if not isinstance(message_id, str) or not message_id.strip():
                raise SendFailed(f"{what}: messages[{index}] has no messageId")
            if not isinstance(to, str) or not _digits(to):
                raise SendFailed(f"{what}: messages[{index}] has no `to` number")
            if entry.get("requestId") not in (None, request_id) or not keep(entry):
                continue
            found.setdefault(_stored(to), []).append(message_id)
        return found


class SensSender(SensApi):
    """Sends batches through SENS v2. `client=None` builds an httpx client it owns."""

    def __repr__(self) -> str:
        return f"SensSender(service_id={self.service_id!r}, base_url={self.base_url!r})"

    @property
    def url(self) -> str:
        return f"{self.base_url}/sms/v2/services/{self.service_id}/messages"

    @property
    def optouts_url(self) -> str:
        return f"{self.base_url}/sms/v2/services/{self.service_id}/unsubscribes"

    # --- sending ----------------------------------------------------------------------

    def send_requests(self, messages: Sequence[Message]) -> Iterator[list[SendResult]]:
        """One SENS request per step; a request refused for one of its messages is split.

        A step whose request was refused and split yields `[]` (nothing final
        yet), so a caller that stops between steps never leaves a request half
        done. Once SENS refuses a sender number, the rest of that number's
        messages get the same refusal without another request.
        """
        refused_senders: dict[str, SenderRefused] = {}
        for indexes in self._requests(messages):
            yield from self._send_splitting([messages[i] for i in indexes], refused_senders)

    @staticmethod
    def _requests(messages: Sequence[Message]) -> Iterator[list[int]]:
        groups: dict[tuple[str, MessageType, str], list[int]] = {}
        for index, message in enumerate(messages):
            key = (_digits(message.sender), message.type, message.content_type)
            groups.setdefault(key, []).append(index)
        for indexes in groups.values():
            for start in range(0, len(indexes), MAX_RECIPIENTS):
                yield indexes[start : start + MAX_RECIPIENTS]

    def _send_part(self, messages: Sequence[Message]) -> list[SendResult]:
        request_id = self.send_request(messages)
        return [SendResult(m, request_id=request_id) for m in messages]

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
            "contentType": first.content_type,
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
        """Sends one request (<= 100 messages of one sender/type/content type); its request id.

        Raises `SendFailed`, `SendRejected` (`SenderRefused`) or `SendUnclear`.
        """
        if not 1 <= len(messages) <= MAX_RECIPIENTS:
            raise ValueError(f"a SENS request holds 1 to {MAX_RECIPIENTS} messages")
        keys = {(_digits(m.sender), m.type, m.content_type) for m in messages}
        if len(keys) != 1:
            raise ValueError("messages of one request must share sender, type and content type")
        body = self.body(messages)
        request = self._signed_post(body)
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
            request_id = self._verdict(response, sender=messages[0].sender)
            ctx["request_id"] = request_id
        return request_id

    @classmethod
    def _verdict(cls, response: httpx.Response, *, sender: str) -> str:
        request_id = accepted_request_id(response)
        if request_id is not None:
            return request_id
        raise cls._refusal(response, sender=sender)

    # --- asking what was accepted -----------------------------------------------------

    def find_accepted(
        self,
        messages: Sequence[Message],
        start: datetime,
        end: datetime,
        *,
        exclude: Collection[str] = (),
    ) -> list[str | None]:
        """Lists SENS's requests between `start` and `end` and matches ours against them.

        A message matches a listed one with the same recipient, sender, type and
        content type (SENS's list carries no text). A request in `exclude` is
        already recorded for another message (the same customer's confirmation
        sent a minute earlier) and never matches. Raises `SendFailed` when the
        list cannot be read whole: half a list could hide an accepted message.
        """
        if not messages:
            return []
        keys = [_key(m) for m in messages]
        listed: list[_Listed] = []
        with logged_operation(
            "sens_find_accepted",
            "SENS list read",
            logger=log,
            count=len(messages),
            start=start.isoformat(),
            end=end.isoformat(),
        ) as ctx:
            for type_, content_type in sorted({(k[2], k[3]) for k in keys}):
                listed += self._list_window(start, end, type_, content_type)
            results = match_accepted(keys, [m for m in listed if m.request_id not in exclude])
            ctx["listed"] = len(listed)
            ctx["found"] = sum(r is not None for r in results)
        return results

    def _list_window(
        self, start: datetime, end: datetime, type_: str, content_type: str
    ) -> list[_Listed]:
        listed: list[_Listed] = []
        slice_start = start
        while True:
            slice_end = min(end, slice_start + LIST_WINDOW - timedelta(seconds=1))
            params = {
                "requestStartTime": _list_time(slice_start, round_up=False),
                "requestEndTime": _list_time(slice_end, round_up=True),
                "type": type_,
                "contentType": content_type,
            }
            listed += self._list_pages(params, type_, content_type)
            if slice_end >= end:
                return listed
            slice_start = slice_end

    def _list_pages(
        self, params: Mapping[str, str], type_: str, content_type: str
    ) -> list[_Listed]:
        listed: list[_Listed] = []
        previous: list[str] | None = None
        for page_index in range(MAX_LIST_PAGES):
            data = self._list_page(
                {**params, "pageIndex": str(page_index), "pageSize": str(LIST_PAGE_SIZE)}
            )
            entries = data["messages"]
            ids = [str(e.get("messageId", "")) for e in entries if isinstance(e, dict)]
            if previous is not None and ids and ids == previous:
                raise SendFailed("SENS's message list repeats the same page: cannot read it whole")
            previous = ids
            listed += [
                listed_entry
                for entry in entries
                if (listed_entry := _listed(entry, type_, content_type)) is not None
            ]
            if _last_page(data, page_index, len(entries)):
                return listed
        raise SendFailed(
            f"SENS lists over {MAX_LIST_PAGES * LIST_PAGE_SIZE} messages in the window: "
            "cannot tell which of ours it accepted"
        )

    def _list_page(self, params: Mapping[str, str]) -> dict[str, Any]:
        return self._list_page_of(
            params,
            what="SENS's message list",
            unreachable="SENS could not be asked which messages it accepted",
        )

    # --- delivery results ---------------------------------------------------------------

    def message_ids(self, request_id: str) -> dict[str, list[str]]:
        """The message ids of an accepted request, by recipient in the stored form
        (`010-0000-1234`), in SENS's order.

        One GET (`messages?requestId=`). A recipient listed twice in one request
        (never done by this adapter, possible by hand) has both ids. Entries of
        another request are not ours and are left out. Raises `SendFailed` when
        SENS cannot be asked, or answers with anything but the documented list.
        """
        return self._ids_by_recipient(
            request_id, {"requestId": request_id}, what="SENS's list of a request"
        )

    def delivery(self, message_id: str) -> DeliveryResult:
        """What SENS says of one message now (`ACCEPTED` while READY or PROCESSING).

        Raises `SendFailed` when SENS cannot be asked, has no result for the
        message (an empty 404: not known yet, or older than its 90 days), or
        answers with anything but the documented result.
        """
        if not message_id.strip():
            raise ValueError("delivery needs a message id")
        # An id is SENS's opaque text: quoted, so that it is one path segment whatever it holds.
        url = f"{self.url}/{urllib.parse.quote(message_id, safe='')}"
        data = self._lookup(url, None, what="SENS's result of a message")
        entries = [e for e in data["messages"] if isinstance(e, dict)]
        entry = next((e for e in entries if e.get("messageId") == message_id), None)
        if entry is None and len(entries) == 1 and "messageId" not in entries[0]:
            entry = entries[0]  # the message asked for, when SENS leaves its id out
        if entry is None:
            what = "no message" if not data["messages"] else "no entry for the message asked"
            raise SendFailed(f"SENS's result of a message holds {what}")
        try:
            result = read_delivery(entry)
        except ValueError as exc:
            raise SendFailed(f"SENS's result of a message could not be read: {exc}") from None
        log.debug(
            "SENS delivery result read",
            operation="sens_delivery",
            context={"message_id": message_id, "status": result.status.value},
        )
        return result

    # --- the 080 opt-out list -----------------------------------------------------------

    def opted_out(self) -> dict[str, datetime | None]:
        """Every number that opted out through the service's 080 line, with when.

        Keyed by the stored form (`010-0000-1234`); entries that are not a
        Korean mobile number are skipped. Raises `SendFailed` when the list
        cannot be read whole: a missing page could let an advertisement reach
        someone who asked for none.
        """
        found: dict[str, datetime | None] = {}
        with logged_operation("sens_opted_out", "SENS opt-out list read", logger=log) as ctx:
            previous: list[object] | None = None
            for page_index in range(MAX_OPTOUT_PAGES):
                entries = self._optout_page(page_index)
                if previous is not None and entries and entries == previous:
                    raise SendFailed("SENS's opt-out list repeats the same page: cannot read it")
                previous = entries
                for entry in entries:
                    listed = _opted_out_entry(entry)
                    if listed is not None:
                        found[listed[0]] = listed[1]
                if len(entries) < LIST_PAGE_SIZE:
                    ctx["pages"] = page_index + 1
                    ctx["count"] = len(found)
                    return found
            raise SendFailed(
                f"SENS lists over {MAX_OPTOUT_PAGES * LIST_PAGE_SIZE} opted-out numbers: "
                "cannot read the list whole"
            )

    def add_opt_outs(self, numbers: Sequence[str]) -> None:
        """Adds `numbers` to the 080 opt-out list. Raises `SendRejected` (4xx) or `SendFailed`.

        A number that is not a Korean mobile number raises `ValueError` (the
        masked number in its message) before any request.
        """
        self._change_opt_outs("POST", numbers)

    def remove_opt_outs(self, numbers: Sequence[str]) -> None:
        """Removes `numbers` from the 080 opt-out list; errors as `add_opt_outs`."""
        self._change_opt_outs("DELETE", numbers)

    def _change_opt_outs(self, method: str, numbers: Sequence[str]) -> None:
        digits = [_digits(normalize_phone(number, "opt-out number")) for number in numbers]
        if not digits:
            return
        operation = "sens_add_opt_outs" if method == "POST" else "sens_remove_opt_outs"
        done = "SENS opt-outs added" if method == "POST" else "SENS opt-outs removed"
        with logged_operation(
            operation,
            done,
            logger=log,
            count=len(digits),
            numbers_masked=[mask_phone(d) for d in digits],
        ) as ctx:
            for start in range(0, len(digits), MAX_OPTOUT_CHANGE):
                body = [{"clientTelNo": d} for d in digits[start : start + MAX_OPTOUT_CHANGE]]
                request = self._client.build_request(
                    method, self.optouts_url, json=body, timeout=self._timeout
                )
                request.headers["Content-Type"] = "application/json; charset=utf-8"
                # Adding or removing a number twice is harmless: a lost answer is a failure.
                response = self._ask(request, unreachable=_OPTOUTS_UNREACHABLE)
                ctx["status"] = response.status_code
                if 200 <= response.status_code < 300:
                    continue
                reason = f"SENS's opt-out list: {_reason(response)}"
                if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                    raise SendRejected(reason, status=response.status_code)
                raise SendFailed(reason, status=response.status_code)

    def _optout_page(self, page_index: int) -> list[object]:
        params = {"pageIndex": str(page_index), "pageSize": str(LIST_PAGE_SIZE)}
        response = self._get(self.optouts_url, params, unreachable=_OPTOUTS_UNREACHABLE)
        if not 200 <= response.status_code < 300:
            raise SendFailed(
                f"SENS's opt-out list: {_reason(response)}", status=response.status_code
            )
        data = _json(response)
        if not isinstance(data, list):
            raise SendFailed(
                "SENS's opt-out list could not be read (expected a JSON list)",
                status=response.status_code,
            )
        return data


def _at_most(timeout: httpx.Timeout, cap: httpx.Timeout) -> httpx.Timeout:
    """Each of `timeout`'s limits, no longer than `cap`'s (None: no limit)."""

    def least(a: float | None, b: float | None) -> float | None:
        return b if a is None else a if b is None else min(a, b)

    return httpx.Timeout(
        connect=least(timeout.connect, cap.connect),
        read=least(timeout.read, cap.read),
        write=least(timeout.write, cap.write),
        pool=least(timeout.pool, cap.pool),
    )


def _stored(number: str) -> str:
    """A recipient as the records keep it: `01000001234` and `+82 10-...` become
    `010-0000-1234`; a number that is not a mobile keeps its digits (it matches no record)."""
    try:
        return normalize_phone(number)
    except BookingValidationError:
        return _digits(number)


def _words(value: object) -> str:
    """A provider's text made fit for a record and a shop owner: one short line, no
    phone number, no secret."""
    if value is None or isinstance(value, bool | dict | list):
        return ""
    # Scrubbed whole before it is cut: half a number would no longer look like one.
    text = scrub(" ".join(str(value).split()))
    if len(text) > _MAX_WORDS:
        text = text[: _MAX_WORDS - 1].rstrip() + "…"
    return text


def _clock_time(value: object) -> str:
    """`HH:MM:SS` of SENS's `completeTime` (`YYYY-MM-DD HH:mm:ss` KST), or "" when unreadable."""
    if not isinstance(value, str):
        return ""
    text = value.strip().replace("T", " ")
    try:
        moment = datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=KST)
    except ValueError:
        return ""
    return moment.strftime("%H:%M:%S")


def read_delivery(entry: Mapping[str, Any]) -> DeliveryResult:
    """One message's state in SENS's result, in words for the shop owner.

    `status` READY or PROCESSING is not final (`ACCEPTED`: "waiting",
    "processing"); COMPLETED with `statusCode` "0" is `DELIVERED` ("delivered
    (SKT, 10:00:03)"), with any other code `FAILED` ("failed: 3018 <why> (KT)",
    the code kept: it is what SENS's support asks for). Raises `ValueError`
    naming what does not fit the documented result.
    """
    raw_status = entry.get("status")
    if not isinstance(raw_status, str) or not raw_status.strip():
        raise ValueError("no status")
    status = raw_status.strip().upper()
    name = _words(entry.get("statusName"))
    why = _words(entry.get("statusMessage")) or (name if name.lower() not in _EMPTY_WORDS else "")
    if status in _PENDING_WORDS:
        word = _PENDING_WORDS[status]
        said = why if why and why.lower() != word else ""
        return DeliveryResult(DeliveryStatus.ACCEPTED, f"{word} ({said})" if said else word)
    if status != _COMPLETED:
        raise ValueError(f"status {_words(raw_status)!r} is none of READY, PROCESSING, COMPLETED")
    code = entry.get("statusCode")
    if isinstance(code, bool) or not isinstance(code, str | int) or not str(code).strip():
        raise ValueError("COMPLETED without a statusCode")
    code_text = _words(code)
    telco_code = _words(entry.get("telcoCode"))
    telco = _TELCOS.get(telco_code.upper(), telco_code)
    if code_text == _DELIVERED_CODE:
        details = ", ".join(
            part for part in (telco, _clock_time(entry.get("completeTime"))) if part
        )
        return DeliveryResult(
            DeliveryStatus.DELIVERED, f"delivered ({details})" if details else "delivered"
        )
    text = f"failed: {code_text}" + (f" {why}" if why else "") + (f" ({telco})" if telco else "")
    return DeliveryResult(DeliveryStatus.FAILED, text)


def _opted_out_entry(entry: object) -> tuple[str, datetime | None] | None:
    if not isinstance(entry, dict):
        return None
    number = entry.get("clientTelNo")
    if not isinstance(number, str):
        return None
    try:
        stored = normalize_phone(number)
    except BookingValidationError:
        return None  # a landline or a foreign number: no booking of ours can have it
    return stored, register_time(entry.get("registerTime"))


def register_time(value: object) -> datetime | None:
    """An opt-out's `registerTime` as an aware datetime, or None when absent or unreadable.

    Its form is not documented: epoch milliseconds (or seconds) as a number or
    digits, or an ISO / `YYYY-MM-DD HH:mm:ss` string, taken as KST without a zone.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", text):
            value = float(text)
        else:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
            return moment if moment.tzinfo is not None else moment.replace(tzinfo=KST)
    if isinstance(value, int | float):
        seconds = value / 1000 if value >= _EPOCH_MS_FLOOR else value
        try:
            return datetime.fromtimestamp(seconds, KST)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _listed(entry: object, type_: str, content_type: str) -> _Listed | None:
    if not isinstance(entry, dict):
        return None
    request_id, to, sender = entry.get("requestId"), entry.get("to"), entry.get("from")
    if not (isinstance(request_id, str) and request_id and isinstance(to, str) and sender):
        return None
    if str(entry.get("countryCode") or "82") != "82":
        return None
    return _Listed(
        request_id=request_id,
        message_id=str(entry.get("messageId") or ""),
        request_time=str(entry.get("requestTime") or ""),
        key=(
            _digits(to),
            _digits(str(sender)),
            str(entry.get("type") or type_).upper(),
            str(entry.get("contentType") or content_type).upper(),
        ),
    )


def _last_page(data: Mapping[str, Any], page_index: int, on_page: int) -> bool:
    """Whether the list ends here: a short page, or the page count when SENS gives one.

    A count of items is not trusted to end the list: whether it counts the
    page or the whole list is not documented, and stopping early could hide an
    accepted message. A full last page costs one more (empty) request.
    """
    if on_page < LIST_PAGE_SIZE:
        return True
    for key in ("pageCount", "totalPages", "totalPageCount"):
        if isinstance(data.get(key), int):
            return page_index + 1 >= int(data[key])
    return False
