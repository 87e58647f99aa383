"""A fake Naver Cloud SENS and a fake Telegram Bot API on loopback, for tests and the demo.

The fake SENS checks what the real one checks before it accepts a message
(the v2 signature over the path as sent, the 5-minute timestamp window, the
access key, registered senders, EUC-KR sizes per type) and records what it
accepted, with the time on its clock, so that the list of requests by time
window (`GET .../messages?requestStartTime=&requestEndTime=`) can be asked.

Faults can be injected, for the next requests or only for requests holding a
given number, each either before anything is accepted or after the request
was accepted (the answer is what goes wrong):

    sens.fail_next(1, status=503)               # 503, nothing accepted
    sens.fail_next(1, status=502, accept=True)  # accepted, then a 502
    sens.hang_next(1, seconds=5, accept=True)   # accepted, answered after the client gave up
    sens.drop_next(1)                           # accepted, connection closed without an answer
    sens.html_next(1)                           # a proxy's HTML page with 200, nothing accepted
    sens.refuse_number("010-0000-0666")         # any request holding it is refused (400)

Every accepted message gets a message id. The delivery lookups are served
(`GET .../messages?requestId=` lists a request's ids, `GET .../messages/{id}`
gives one message's result, an empty 404 for an id never given), each
recipient's result chosen by the test, delivered by default; faults can aim
at lookups alone:

    sens.set_outcome("010-0000-0002", "failed", code="3018", message="결번")
    sens.set_outcome("010-0000-0003", "processing")   # later: "delivered"
    sens.fail_next(1, status=503, lookup=True)  # the next lookup only; sends go through
    sens.lookup_requests                        # lookups received so far

The 080 opt-out list (`GET`, `POST`, `DELETE .../unsubscribes`) is served too:

    sens.opt_out("010-0000-0001", at=datetime(2026, 5, 1, tzinfo=KST))  # as if by the 080 line
    sens.fail_optouts = True                    # reading the list answers 500

The AlimTalk API (`/alimtalk/v2/services/{alimtalk_service_id}/messages`) is
served on the same server, signed the same way: sends, the list by request id
or by channel and window, and one message's result. Kakao's side is played
per channel, template and number; the same faults hit its sends and lookups:

    sens.approve_template("@sample-studio", "CONFIRM01", "#{name}님, 예약이 확정되었습니다.")
    sens.no_kakao("010-0000-0002")              # AlimTalk fails 3019, the SMS failover goes
    sens.set_alimtalk_outcome("010-0000-0003", "processing")
    sens.accepted_alimtalk, sens.failovers      # what went as AlimTalk, and as its failover

Nothing here reaches the network: the servers bind 127.0.0.1 on a free port.
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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any, Final
from urllib.parse import parse_qs, unquote

from naver_sms.domain.booking import KST
from naver_sms.sandbox.server import LoopbackHTTPServer, LoopbackServer

TIMESTAMP_WINDOW_MS = 5 * 60 * 1000
_HANG = object()  # answer nothing: the client's timeout is the fault under test
_DROP = object()  # close the connection without an answer
_DIGITS = re.compile(r"^[0-9]+$")
_SENS_PATH = re.compile(
    r"^/sms/v2/services/(?P<service>[^/?]+)/(?P<api>messages|unsubscribes)"
    r"(?:/(?P<message_id>[^/?]+))?(?:\?(?P<query>.*))?$"
)
_ALIMTALK_PATH = re.compile(
    r"^/alimtalk/v2/services/(?P<service>[^/?]+)/messages"
    r"(?:/(?P<message_id>[^/?]+))?(?:\?(?P<query>.*))?$"
)
_MAX_OPTOUT_CHANGE: Final = 1000
_SIZE_LIMITS = {"SMS": 90, "LMS": 2000}
_LIST_TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
_LIST_WINDOW: Final = timedelta(days=30)
_PROXY_PAGE: Final = (
    b"<!DOCTYPE html><html><head><title>Gateway</title></head>"
    b"<body><h1>Please wait</h1><p>Your request is being checked.</p></body></html>"
)


@dataclass(frozen=True, slots=True)
class Raw:
    """An answer that is not JSON (a proxy's HTML page)."""

    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Late:
    """An answer given only after `seconds` (past the client's timeout); None: none at all."""

    seconds: float
    answer: Answer | None = None


Answer = tuple[int, Mapping[str, Any]] | Raw | Late | object  # object: _HANG or _DROP


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackHTTPServer

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        owner = self.server.owner
        answer: Answer | None = owner.answer(
            self.command, self.path, dict(self.headers.items()), body
        )
        if answer is _HANG:
            answer = Late(owner.hang_seconds)
        if isinstance(answer, Late):
            owner.wait(answer.seconds)
            answer = None if owner.stopping else answer.answer
        if answer is None or answer is _DROP:
            self.close_connection = True
            return
        if isinstance(answer, Raw):
            status, data, content_type = answer.status, answer.body, answer.content_type
        elif isinstance(answer, tuple):
            status, payload = answer
            data = json.dumps(payload, ensure_ascii=False).encode()
            content_type = "application/json; charset=utf-8"
        else:  # pragma: no cover - every answer is one of the above
            raise TypeError(f"unknown answer {answer!r}")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
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

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

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
    message_id: str = ""
    # The fake's clock when it accepted the request (aware, UTC); the list by
    # time window compares it in KST, as SENS does.
    request_time: datetime = field(default_factory=lambda: datetime.now(UTC))


DELIVERY_STATES: Final = ("delivered", "failed", "processing", "waiting")
_DELIVERY_DEFAULTS: Final = {
    "delivered": ("0", "성공"),
    "failed": ("3018", "전송 실패"),
    "processing": ("", ""),
    "waiting": ("", ""),
}
# How long after its request a message is delivered or fails, on the fake's clock.
_DELIVERY_SECONDS: Final = 3


@dataclass(frozen=True, slots=True)
class Outcome:
    """What SENS reports of the messages to one recipient (see `FakeSens.set_outcome`).

    `state` is one of `DELIVERY_STATES`: "delivered" (COMPLETED, code "0"),
    "failed" (COMPLETED with `code`), "processing" (PROCESSING) or "waiting"
    (READY). Build it with `Outcome.of`, which fills the defaults per state.
    """

    state: str = "delivered"
    code: str = "0"
    message: str = "성공"
    telco: str = "SKT"

    @classmethod
    def of(
        cls,
        state: str = "delivered",
        *,
        code: str | None = None,
        message: str | None = None,
        telco: str = "SKT",
    ) -> Outcome:
        if state not in DELIVERY_STATES:
            raise ValueError(f"outcome {state!r}: expected one of {', '.join(DELIVERY_STATES)}")
        default_code, default_message = _DELIVERY_DEFAULTS[state]
        code = default_code if code is None else code
        if state == "failed" and code == "0":
            raise ValueError('a failed outcome needs a code other than "0" (SENS\'s success)')
        if state != "failed" and code != default_code:
            raise ValueError(f"only a failed outcome takes a code, not {state!r}")
        return cls(state, code, default_message if message is None else message, telco)

    def fields(self, completed_at: datetime) -> dict[str, str]:
        """The result fields of one message in SENS's shape (`status`, `statusCode`, ...);
        `completed_at` is when it was delivered or failed."""
        if self.state in ("processing", "waiting"):
            fields = {"status": "PROCESSING" if self.state == "processing" else "READY"}
            if self.message:
                fields["statusMessage"] = self.message
            return fields
        return {
            "status": "COMPLETED",
            "statusCode": self.code,
            "statusName": "success" if self.state == "delivered" else "fail",
            "statusMessage": self.message,
            "telcoCode": self.telco,
            "completeTime": completed_at.astimezone(KST).strftime(_LIST_TIME_FORMAT),
        }


KAKAO_STATES: Final = ("delivered", "failed", "processing")
# Kakao's codes as SENS reports them (`messageStatusCode`, `requestStatusCode`).
KAKAO_DELIVERED: Final = "0000"
KAKAO_NOT_A_USER: Final = "3019"
KAKAO_TEMPLATE_NOT_FOUND: Final = "3015"
KAKAO_TEMPLATE_MISMATCH: Final = "3016"
_ALIMTALK_MAX_CHARS: Final = 1000
_ALIMTALK_MAX_BUTTONS: Final = 5
_BUTTON_TYPES: Final = frozenset({"DS", "WL", "AL", "BK", "MD", "AC"})
_ALIMTALK_LIST_WINDOW: Final = timedelta(days=31)
_ALIMTALK_PAGE_SIZE: Final = 20  # SENS's default when `pageSize` is not given


@dataclass(frozen=True, slots=True)
class KakaoOutcome:
    """What Kakao reports of the AlimTalk to one recipient (see `FakeSens.no_kakao`)."""

    state: str = "delivered"  # one of KAKAO_STATES
    code: str = KAKAO_DELIVERED
    message: str = "성공"

    @classmethod
    def of(
        cls, state: str = "delivered", *, code: str | None = None, message: str | None = None
    ) -> KakaoOutcome:
        """ "delivered", "failed" (`code` "3019" unless given) or "processing", checked."""
        if state not in KAKAO_STATES:
            raise ValueError(f"outcome {state!r}: expected one of {', '.join(KAKAO_STATES)}")
        if state == "failed":
            code = KAKAO_NOT_A_USER if code is None else code
            if code == KAKAO_DELIVERED:
                raise ValueError(f'a failed AlimTalk needs a code other than "{KAKAO_DELIVERED}"')
            return cls(state, code, "failed" if message is None else message)
        if code is not None:
            raise ValueError(f"only a failed AlimTalk takes a code, not {state!r}")
        if state == "delivered":
            return cls(state, KAKAO_DELIVERED, "성공" if message is None else message)
        return cls(state, "", message or "")

    def fields(
        self, requested: datetime, *, failover: FailoverConfig | None, sms: Outcome
    ) -> dict[str, Any]:
        """The result fields of one accepted AlimTalk in SENS's shape (`messageStatusCode`,
        ..., `failoverInfo`), with `sms` the failover's outcome when it went. The
        failover's fields are this fake's guess: an SMS result's (see messaging.alimtalk)."""
        if self.state == "processing":
            return {"messageStatusName": "processing"}
        completed = requested + timedelta(seconds=_DELIVERY_SECONDS)
        fields: dict[str, Any] = {
            "completeTime": completed.astimezone(KST).strftime(_LIST_TIME_FORMAT),
            "messageStatusCode": self.code,
            "messageStatusName": "success" if self.state == "delivered" else "fail",
            "messageStatusDesc": self.message,
        }
        if self.state == "failed" and failover is not None:
            fields["failoverInfo"] = {
                "type": failover.type,
                "from": failover.sender,
                **sms.fields(completed + timedelta(seconds=_DELIVERY_SECONDS)),
            }
        return fields


@dataclass(frozen=True, slots=True)
class FailoverConfig:
    """The SMS an AlimTalk asks SENS to send when Kakao cannot deliver it."""

    type: str  # SMS | LMS
    sender: str
    content: str
    subject: str = ""


@dataclass(frozen=True, slots=True)
class AcceptedAlimTalk:
    """One AlimTalk message SENS took in, accepted (`status_code` "A000") or refused alone."""

    request_id: str
    message_id: str
    plus_friend_id: str
    template_code: str
    to: str
    content: str
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()  # each button's (field, value) pairs
    use_sms_failover: bool = False
    failover: FailoverConfig | None = None
    request_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    status_code: str = "A000"
    status_desc: str = "성공"

    @property
    def accepted(self) -> bool:
        return self.status_code == "A000"


def template_pattern(content: str) -> re.Pattern[str]:
    """The approved text with each `#{variable}` standing for any non-empty text."""
    parts = re.split(r"#\{[^}]*\}", content)
    return re.compile("(?:.+?)".join(re.escape(part) for part in parts), re.DOTALL)


@dataclass(slots=True)
class _Fault:
    """What goes wrong for the next `count` send requests, or delivery lookups with
    `lookup` (holding or about `number`, if given)."""

    kind: str  # "status" | "late" | "drop" | "html"
    accept: bool
    count: int
    number: str | None = None
    status: int = 500
    seconds: float = 30.0
    lookup: bool = False


class _Refusal(Exception):
    def __init__(self, status: int, payload: Mapping[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.payload = payload


def _gateway_error(status: int, code: str, message: str, details: str) -> _Refusal:
    return _Refusal(status, {"error": {"errorCode": code, "message": message, "details": details}})


def _bad_request(message: str) -> _Refusal:
    return _Refusal(400, {"status": 400, "statusName": "fail", "errorMessage": message})


def _digits_of(number: str) -> str:
    return re.sub(r"[^0-9]", "", number)


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


def _recipients(body: bytes) -> set[str]:
    """The `to` digits of a send body, read leniently (a fault matches before any check)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return set()
    entries = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return set()
    return {_digits_of(str(e.get("to", ""))) for e in entries if isinstance(e, dict)}


def _list_time(text: str, name: str) -> datetime:
    try:
        return datetime.strptime(text, _LIST_TIME_FORMAT).replace(tzinfo=KST)
    except ValueError:
        raise _bad_request(f"{name}: expected YYYY-MM-DD HH:mm:ss, got {text!r}") from None


def _is_messages(path: str) -> bool:
    match = _SENS_PATH.match(path)
    return match is None or match.group("api") == "messages"


@dataclass(frozen=True, slots=True)
class OptOut:
    """One number of the 080 opt-out list."""

    register_time: datetime
    register_type: str  # "080" through the phone line, "API" added by a request


class FakeSens(_FaultyServer):
    """SENS v2 `POST` and `GET /sms/v2/services/{serviceId}/messages`, checked as SENS does,
    each message's result (`GET .../messages/{messageId}`), and the service's 080 opt-out
    list (`.../unsubscribes`)."""

    def __init__(
        self,
        *,
        access_key: str = "sandbox-access-key",
        secret_key: str = "sandbox-secret-key",  # noqa: S107 - made up, valid nowhere else
        service_id: str = "ncp:sms:kr:000000000000:sandbox",
        senders: Iterable[str] = ("0200000000",),
        clock: Callable[[], float] = time.time,
        check_advertising: bool = True,
        alimtalk_service_id: str = "ncp:kkobizmsg:kr:000000000000:sandbox",
    ) -> None:
        super().__init__()
        # The Biz Message (AlimTalk) service: its own id, the same keys.
        self.alimtalk_service_id = alimtalk_service_id
        self._channels: set[str] = set()
        self._templates: dict[tuple[str, str], re.Pattern[str]] = {}
        self._alimtalk: list[AcceptedAlimTalk] = []
        self._kakao: dict[str, KakaoOutcome] = {}
        self._alimtalk_requests = 0
        self.access_key = access_key
        self.secret_key = secret_key
        self.service_id = service_id
        self.senders = {_digits_of(s) for s in senders}
        self.clock = clock
        self.check_advertising = check_advertising
        self._accepted: list[AcceptedMessage] = []
        self._refusals: list[tuple[int, str]] = []
        self._requests = 0
        self._send_requests = 0
        self._list_requests = 0
        self._lookup_requests = 0
        self._outcomes: dict[str, Outcome] = {}
        self._rules: list[_Fault] = []
        self._bad_numbers: set[str] = set()
        self._optouts: dict[str, OptOut] = {}
        self._optout_requests = 0
        # Reading the opt-out list answers 500 while set (adding and removing still work),
        # for the pages from `fail_optouts_from_page` on: a list that breaks half way.
        self.fail_optouts = False
        self.fail_optouts_from_page = 0

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
        """Every request received, whatever its method or fate."""
        with self._lock:
            return self._requests

    @property
    def send_requests(self) -> int:
        """The send requests (POST) received."""
        with self._lock:
            return self._send_requests

    @property
    def list_requests(self) -> int:
        """The requests for the list of a time window (GET) received."""
        with self._lock:
            return self._list_requests

    @property
    def lookup_requests(self) -> int:
        """The delivery lookups received: a request's message ids (`GET messages?requestId=`)
        and one message's result (`GET messages/{messageId}`)."""
        with self._lock:
            return self._lookup_requests

    def set_outcome(
        self,
        number: str,
        state: str = "delivered",
        *,
        code: str | None = None,
        message: str | None = None,
        telco: str = "SKT",
    ) -> None:
        """What lookups report from now on for the messages to `number` (already sent or not).

        `state`: "delivered" (the default for every number), "failed" (`code`
        "3018" unless given), "processing" or "waiting"; `message` is SENS's
        `statusMessage`, `telco` its `telcoCode`. Set "processing" and later
        "delivered" to play a message that takes a while.
        """
        outcome = Outcome.of(state, code=code, message=message, telco=telco)
        with self._lock:
            self._outcomes[_digits_of(number)] = outcome

    @property
    def optout_requests(self) -> int:
        """The requests on the opt-out list received, whatever their method."""
        with self._lock:
            return self._optout_requests

    @property
    def opted_out(self) -> dict[str, OptOut]:
        """A copy of the opt-out list, keyed by digits."""
        with self._lock:
            return dict(self._optouts)

    def opt_out(self, number: str, *, at: datetime | None = None, via: str = "080") -> None:
        """Puts `number` on the opt-out list, as the 080 line does when a customer calls."""
        moment = at if at is not None else datetime.fromtimestamp(self.clock(), UTC)
        if moment.tzinfo is None:
            raise ValueError("opt_out needs an aware datetime")
        with self._lock:
            self._optouts[_digits_of(number)] = OptOut(moment, via)

    def clear(self) -> None:
        with self._lock:
            self._accepted.clear()
            self._refusals.clear()
            self._optouts.clear()
            self._requests = self._send_requests = self._list_requests = 0
            self._optout_requests = self._lookup_requests = 0
            self._outcomes.clear()
            self._rules.clear()
            self._faults.clear()
            self._alimtalk.clear()
            self._kakao.clear()
            self._alimtalk_requests = 0

    def register_sender(self, number: str) -> None:
        with self._lock:
            self.senders.add(_digits_of(number))

    def unregister_sender(self, number: str) -> None:
        with self._lock:
            self.senders.discard(_digits_of(number))

    def refuse_number(self, number: str) -> None:
        """Every request holding `number` as a recipient is refused with a 400, as SENS
        refuses a request with a malformed or unserviceable number (nothing of it is sent)."""
        with self._lock:
            self._bad_numbers.add(_digits_of(number))

    def fail_next(
        self,
        count: int = 1,
        status: int = 500,
        *,
        accept: bool = False,
        number: str | None = None,
        lookup: bool = False,
    ) -> None:
        """The next `count` requests are answered `status`. Without `accept`, before being
        looked at (any request, sends and lists); with it, a send is handled (and accepted,
        if valid) first, as when a gateway fails after forwarding. With `lookup`, only
        delivery lookups (about `number`, if given) fail; sends go through."""
        if lookup:
            self._add_rule(_Fault("status", accept, count, number, status=status, lookup=True))
            return
        if not accept and number is None:
            payload = {"status": status, "statusName": "fail", "errorMessage": "Internal error"}
            self._queue_fault((status, payload), count)
            return
        self._add_rule(_Fault("status", accept, count, number, status=status))

    def hang_next(
        self,
        count: int = 1,
        seconds: float = 30.0,
        *,
        accept: bool = False,
        number: str | None = None,
        lookup: bool = False,
    ) -> None:
        """The next `count` requests get no answer for `seconds` (or until stop()). With
        `accept`, a send is accepted first and its answer comes after the wait. With
        `lookup`, only delivery lookups (about `number`, if given) hang."""
        if lookup:
            self._add_rule(_Fault("late", accept, count, number, seconds=seconds, lookup=True))
            return
        if not accept and number is None:
            self.hang_seconds = seconds
            self._queue_fault(_HANG, count)
            return
        self._add_rule(_Fault("late", accept, count, number, seconds=seconds))

    def drop_next(
        self,
        count: int = 1,
        *,
        accept: bool = True,
        number: str | None = None,
        lookup: bool = False,
    ) -> None:
        """The next `count` sends close the connection without an answer (accepted first,
        unless `accept=False`); with `lookup`, the next delivery lookups instead."""
        self._add_rule(_Fault("drop", accept, count, number, lookup=lookup))

    def html_next(
        self,
        count: int = 1,
        *,
        accept: bool = False,
        status: int = 200,
        number: str | None = None,
        lookup: bool = False,
    ) -> None:
        """The next `count` sends get an HTML page with `status` (a proxy or captive portal),
        without being accepted unless `accept=True`; with `lookup`, the next delivery
        lookups instead."""
        self._add_rule(_Fault("html", accept, count, number, status=status, lookup=lookup))

    def _add_rule(self, rule: _Fault) -> None:
        if rule.number is not None:
            rule.number = _digits_of(rule.number)
        with self._lock:
            self._rules.append(rule)

    def _take_rule(self, recipients: set[str], *, lookup: bool) -> _Fault | None:
        with self._lock:
            for rule in self._rules:
                if rule.lookup is lookup and (rule.number is None or rule.number in recipients):
                    rule.count -= 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def answer(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        messages = _is_messages(path)
        alimtalk = _ALIMTALK_PATH.match(path) is not None
        looked_up = self._looked_up(path) if method == "GET" else None
        with self._lock:
            self._requests += 1
            if not messages:
                self._optout_requests += 1
            elif method == "POST" and alimtalk:
                self._alimtalk_requests += 1
            elif method == "POST":
                self._send_requests += 1
            elif looked_up is not None:
                self._lookup_requests += 1
            elif method == "GET":
                self._list_requests += 1
        self.wait(self.latency)
        fault = self._next_fault()
        if fault is not None:
            return fault
        lowered = {k.lower(): v for k, v in headers.items()}
        rule = None
        if method == "POST" and messages:
            rule = self._take_rule(_recipients(body), lookup=False)
        elif looked_up is not None:
            rule = self._take_rule(looked_up, lookup=True)
        if rule is None:
            return self.handle(method, path, lowered, body)
        handled = self.handle(method, path, lowered, body) if rule.accept else None
        if rule.kind == "late":
            return Late(rule.seconds, handled)
        if rule.kind == "drop":
            return _DROP
        if rule.kind == "html":
            return Raw(rule.status, _PROXY_PAGE)
        return rule.status, {"status": rule.status, "statusName": "fail", "errorMessage": "error"}

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        try:
            self._authenticate(method, path, headers)
            alimtalk = _ALIMTALK_PATH.match(path)
            if alimtalk is not None:
                return self._alimtalk_api(method, alimtalk, body)
            match = _SENS_PATH.match(path)
            allowed = ("POST", "GET", "DELETE") if match and match["api"] == "unsubscribes" else ()
            if match is None or method not in (allowed or ("POST", "GET")):
                raise _gateway_error(404, "300", "Not Found", f"no such API: {method} {path}")
            if match.group("service") != self.service_id:
                raise _gateway_error(404, "300", "Not Found", "unknown serviceId")
            if match["message_id"] is not None:
                if match["api"] != "messages" or method != "GET":
                    raise _gateway_error(404, "300", "Not Found", f"no such API: {method} {path}")
                return self._result(unquote(match["message_id"]))
            if match.group("api") == "unsubscribes":
                return self._unsubscribes(method, parse_qs(match.group("query") or ""), body)
            if method == "GET":
                return 200, self._list(parse_qs(match.group("query") or ""))
            accepted = self._validate(body)
        except _Refusal as refusal:
            reason = json.dumps(refusal.payload, ensure_ascii=False)
            with self._lock:
                self._refusals.append((refusal.status, reason))
            return refusal.status, refusal.payload
        request_id = accepted[0].request_id
        with self._lock:
            self._accepted.extend(accepted)
        return 202, {
            "requestId": request_id,
            "requestTime": accepted[0]
            .request_time.astimezone(KST)
            .strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
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
        # Signed over the path exactly as sent, query string included (a GET's window).
        message = f"{method} {path}\n{timestamp}\n{access_key}".encode()
        expected = base64.b64encode(
            hmac.new(self.secret_key.encode(), message, hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(signature, expected):
            raise _gateway_error(401, "200", "Authentication Failed", "signature mismatch")

    def _looked_up(self, path: str) -> set[str] | None:
        """The recipients (digits) a delivery lookup asks about, SMS or AlimTalk; None for
        any other request."""
        match = _SENS_PATH.match(path) or _ALIMTALK_PATH.match(path)
        if match is None or match.groupdict().get("api", "messages") != "messages":
            return None
        message_id = unquote(match["message_id"]) if match["message_id"] else None
        request_ids = parse_qs(match["query"] or "").get("requestId", [])
        if message_id is None and not request_ids:
            return None
        sent: list[AcceptedMessage | AcceptedAlimTalk]
        with self._lock:
            sent = [*self._accepted, *self._alimtalk]
        return {m.to for m in sent if m.message_id == message_id or m.request_id in request_ids}

    def _result(self, message_id: str) -> Answer:
        """One message's result (`GET messages/{messageId}`) per its recipient's outcome;
        an empty 404 for an id SENS never gave, as SENS answers for no record."""
        with self._lock:
            found = next((m for m in self._accepted if m.message_id == message_id), None)
            outcome = self._outcomes.get(found.to, Outcome()) if found is not None else None
        if found is None or outcome is None:
            return Raw(404, b"", "application/json; charset=utf-8")
        requested = found.request_time.astimezone(KST)
        entry = {
            "requestId": found.request_id,
            "messageId": found.message_id,
            "requestTime": requested.strftime(_LIST_TIME_FORMAT),
            "contentType": found.content_type,
            "type": found.type,
            "countryCode": "82",
            "from": found.sender,
            "to": found.to,
            **outcome.fields(requested + timedelta(seconds=_DELIVERY_SECONDS)),
        }
        return 200, {"statusCode": "202", "statusName": "success", "messages": [entry]}

    def _list(self, query: Mapping[str, list[str]]) -> dict[str, Any]:
        """The messages of a request id or of a request-time window, a page at a time.

        SENS documents the query (`requestId`, or `requestStartTime` and
        `requestEndTime` as `YYYY-MM-DD HH:mm:ss` KST at most 30 days apart;
        `type`, `contentType`, `pageIndex`, `pageSize`); the paging fields of
        the answer (`pageIndex`, `pageSize`, `itemCount`) are this fake's.
        """

        def one(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        request_id = one("requestId")
        start_text, end_text = one("requestStartTime"), one("requestEndTime")
        if request_id is None and (start_text is None or end_text is None):
            raise _bad_request("requestId or requestStartTime and requestEndTime: required")
        start = _list_time(start_text, "requestStartTime") if start_text else None
        end = _list_time(end_text, "requestEndTime") if end_text else None
        if (
            start is not None
            and end is not None
            and not timedelta(0) <= end - start <= _LIST_WINDOW
        ):
            raise _bad_request("requestEndTime: must be within 30 days after requestStartTime")
        try:
            page_index = int(one("pageIndex") or 0)
            page_size = int(one("pageSize") or 100)
        except ValueError:
            raise _bad_request("pageIndex and pageSize: expected numbers") from None
        if page_index < 0 or not 1 <= page_size <= 100:
            raise _bad_request("pageSize: expected 1 to 100; pageIndex: 0 or more")
        filters = {
            "type": one("type"),
            "contentType": one("contentType"),
            "messageId": one("messageId"),
        }
        with self._lock:
            accepted = list(self._accepted)
        selected = []
        for message in accepted:
            when = message.request_time.astimezone(KST).replace(microsecond=0)
            if request_id is not None and message.request_id != request_id:
                continue
            if start is not None and end is not None and not start <= when <= end:
                continue
            entry = {
                "requestId": message.request_id,
                "messageId": message.message_id,
                "requestTime": when.strftime(_LIST_TIME_FORMAT),
                "type": message.type,
                "contentType": message.content_type,
                "countryCode": "82",
                "from": message.sender,
                "to": message.to,
            }
            if all(value is None or entry[key] == value for key, value in filters.items()):
                selected.append(entry)
        page = selected[page_index * page_size : (page_index + 1) * page_size]
        return {
            **({"requestId": request_id} if request_id is not None else {}),
            "statusCode": "200",
            "statusName": "success",
            "messages": page,
            "pageIndex": page_index,
            "pageSize": page_size,
            "itemCount": len(page),
        }

    def _unsubscribes(
        self, method: str, query: Mapping[str, list[str]], body: bytes
    ) -> tuple[int, Any]:
        if method == "GET":
            page = query.get("pageIndex", ["0"])[0]
            if self.fail_optouts and (
                not page.isdigit() or int(page) >= self.fail_optouts_from_page
            ):
                return 500, {"status": 500, "statusName": "fail", "errorMessage": "Internal error"}
            return 200, self._optout_page(query)
        numbers = self._optout_body(body)
        now = datetime.fromtimestamp(self.clock(), UTC)
        with self._lock:
            for number in numbers:
                if method == "POST":
                    self._optouts.setdefault(number, OptOut(now, "API"))
                else:
                    self._optouts.pop(number, None)
        return 200, {"statusCode": "200", "statusName": "success"}

    @staticmethod
    def _optout_body(body: bytes) -> list[str]:
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise _bad_request("body: expected JSON") from None
        if not isinstance(data, list) or not 1 <= len(data) <= _MAX_OPTOUT_CHANGE:
            raise _bad_request(f"body: expected a list of 1 to {_MAX_OPTOUT_CHANGE} numbers")
        numbers = []
        for index, entry in enumerate(data):
            number = entry.get("clientTelNo") if isinstance(entry, dict) else None
            if not isinstance(number, str) or not _DIGITS.match(number):
                raise _bad_request(f"[{index}].clientTelNo: expected digits only")
            numbers.append(number)
        return numbers

    def _optout_page(self, query: Mapping[str, list[str]]) -> list[dict[str, Any]]:
        """A page of the opt-out list, oldest first; `registerTime` in KST `YYYY-MM-DD HH:mm:ss`.

        SENS documents the query (`clientTelNo`, `startTime`/`endTime` in epoch
        ms, `pageIndex`, `pageSize` 1-100) but not the form of `registerTime`.
        """

        def one(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        try:
            page_index = int(one("pageIndex") or 0)
            page_size = int(one("pageSize") or 100)
            start = int(one("startTime") or 0)
            end = int(one("endTime") or 0)
        except ValueError:
            raise _bad_request(
                "pageIndex, pageSize, startTime, endTime: expected numbers"
            ) from None
        if page_index < 0 or not 1 <= page_size <= 100:
            raise _bad_request("pageSize: expected 1 to 100; pageIndex: 0 or more")
        wanted = one("clientTelNo")
        with self._lock:
            entries = sorted(self._optouts.items(), key=lambda item: item[1].register_time)
        selected = []
        for number, optout in entries:
            at_ms = int(optout.register_time.timestamp() * 1000)
            if wanted is not None and number != _digits_of(wanted):
                continue
            if (start and at_ms < start) or (end and at_ms > end):
                continue
            selected.append(
                {
                    "clientTelNo": number,
                    "registerTime": optout.register_time.astimezone(KST).strftime(
                        _LIST_TIME_FORMAT
                    ),
                    "registerType": optout.register_type,
                }
            )
        return selected[page_index * page_size : (page_index + 1) * page_size]

    def _validate(self, body: bytes) -> list[AcceptedMessage]:
        data = self._envelope(body)
        request_id = f"sandbox-{uuid.uuid4().hex[:24]}"
        request_time = datetime.fromtimestamp(self.clock(), UTC)
        return [
            self._recipient(data, index, entry, request_id, request_time)
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
        self,
        data: Mapping[str, Any],
        index: int,
        entry: object,
        request_id: str,
        request_time: datetime,
    ) -> AcceptedMessage:
        kind, content_type = data["type"], data["contentType"]
        if not isinstance(entry, dict):
            raise _bad_request(f"messages[{index}]: expected an object")
        to = entry.get("to")
        if not isinstance(to, str) or not _DIGITS.match(to) or not 10 <= len(to) <= 11:
            raise _bad_request(f"messages[{index}].to: expected 10-11 digits")
        with self._lock:
            refused = to in self._bad_numbers
        if refused:
            raise _bad_request(f"messages[{index}].to: invalid recipient number")
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
        return AcceptedMessage(
            request_id,
            kind,
            content_type,
            data["from"],
            to,
            subject,
            text,
            message_id=f"sandbox-msg-{uuid.uuid4().hex[:20]}",
            request_time=request_time,
        )

    # --- AlimTalk (Biz Message) ----------------------------------------------------------

    def register_channel(self, plus_friend_id: str) -> None:
        """Makes `plus_friend_id` (e.g. "@sample-studio") a Kakao channel of the service."""
        with self._lock:
            self._channels.add(plus_friend_id)

    def approve_template(self, plus_friend_id: str, code: str, content: str) -> None:
        """Approves template `code` of the channel (registered with it): a message must be
        `content` with each `#{variable}` filled in by some non-empty text."""
        with self._lock:
            self._channels.add(plus_friend_id)
            self._templates[(plus_friend_id, code)] = template_pattern(content)

    def no_kakao(
        self, number: str, *, code: str = KAKAO_NOT_A_USER, message: str = "not a KakaoTalk user"
    ) -> None:
        """The customer at `number` cannot receive AlimTalk (no KakaoTalk; `code="3020"` for
        a blocked channel): their AlimTalk fails and, when it asked for one, the SMS
        failover goes (its result per `set_outcome`, delivered by default)."""
        self.set_alimtalk_outcome(number, "failed", code=code, message=message)

    def set_alimtalk_outcome(
        self,
        number: str,
        state: str = "delivered",
        *,
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        """What Kakao reports from now on of the AlimTalk to `number`: "delivered" (the
        default for every number), "failed" (`code` "3019" unless given) or "processing"."""
        outcome = KakaoOutcome.of(state, code=code, message=message)
        with self._lock:
            self._kakao[_digits_of(number)] = outcome

    @property
    def accepted_alimtalk(self) -> list[AcceptedAlimTalk]:
        """A copy of every AlimTalk message accepted so far ("A000"), in order."""
        with self._lock:
            return [m for m in self._alimtalk if m.accepted]

    @property
    def refused_alimtalk(self) -> list[AcceptedAlimTalk]:
        """The AlimTalk messages refused alone (a template mismatch), with Kakao's code."""
        with self._lock:
            return [m for m in self._alimtalk if not m.accepted]

    @property
    def alimtalk_requests(self) -> int:
        """The AlimTalk send requests (POST) received."""
        with self._lock:
            return self._alimtalk_requests

    @property
    def failovers(self) -> list[AcceptedMessage]:
        """The SMS/LMS failovers sent for accepted AlimTalk that Kakao could not deliver
        (as things stand now). Not in `accepted`, which holds the SMS API's texts."""
        with self._lock:
            sent = [m for m in self._alimtalk if m.accepted and m.failover is not None]
            kakao = dict(self._kakao)
        return [
            AcceptedMessage(
                m.request_id,
                m.failover.type,
                "COMM",
                m.failover.sender,
                m.to,
                m.failover.subject,
                m.failover.content,
                message_id=m.message_id,
                request_time=m.request_time,
            )
            for m in sent
            if m.failover is not None
            and m.use_sms_failover
            and kakao.get(m.to, KakaoOutcome()).state == "failed"
        ]

    def _alimtalk_api(self, method: str, match: re.Match[str], body: bytes) -> Answer:
        if match["service"] != self.alimtalk_service_id:
            raise _gateway_error(404, "300", "Not Found", "unknown serviceId")
        if match["message_id"] is not None:
            if method != "GET" or match["query"]:
                raise _gateway_error(404, "300", "Not Found", f"no such API: {method}")
            return self._alimtalk_result(unquote(match["message_id"]))
        if method == "GET":
            return self._alimtalk_list(parse_qs(match["query"] or ""))
        if method != "POST":
            raise _gateway_error(404, "300", "Not Found", f"no such API: {method}")
        sent = self._validate_alimtalk(body)
        with self._lock:
            self._alimtalk.extend(sent)
        first = sent[0]
        return 202, {
            "requestId": first.request_id,
            "requestTime": first.request_time.astimezone(KST).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
            "statusCode": "202",
            "statusName": "success",
            "messages": [
                {
                    "messageId": m.message_id,
                    "countryCode": "82",
                    "to": m.to,
                    "content": m.content,
                    "requestStatusCode": m.status_code,
                    "requestStatusName": "success" if m.accepted else "fail",
                    "requestStatusDesc": m.status_desc,
                    "useSmsFailover": m.use_sms_failover,
                }
                for m in sent
            ],
        }

    def _validate_alimtalk(self, body: bytes) -> list[AcceptedAlimTalk]:
        """The request's messages, each accepted or refused alone as Kakao decides.

        What SENS checks itself refuses the request (400): the JSON, a channel
        that is not the service's, the numbers, sizes, buttons and the failover
        (its sender must be registered). What Kakao decides per message gives
        that message a `requestStatusCode` other than "A000" in a 202: an
        unknown template (3015), a content that is not the approved template
        filled in (3016). Real SENS may instead report a mismatch later, as the
        message's delivery result; the adapter reads both.
        """
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise _bad_request("body: expected JSON") from None
        if not isinstance(data, dict):
            raise _bad_request("body: expected a JSON object")
        channel, code = data.get("plusFriendId"), data.get("templateCode")
        if not isinstance(channel, str) or not channel:
            raise _bad_request("plusFriendId: required")
        if not isinstance(code, str) or not code:
            raise _bad_request("templateCode: required")
        with self._lock:
            known = channel in self._channels
            pattern = self._templates.get((channel, code))
        if not known:
            raise _bad_request(f"plusFriendId: {channel} is not a Kakao channel of this service")
        entries = data.get("messages")
        if not isinstance(entries, list) or not 1 <= len(entries) <= 100:
            raise _bad_request("messages: expected 1 to 100 recipients")
        request_id = f"sandbox-at-{uuid.uuid4().hex[:21]}"
        request_time = datetime.fromtimestamp(self.clock(), UTC)
        sent = []
        for index, entry in enumerate(entries):
            message = self._alimtalk_message(index, entry, channel, code, request_id, request_time)
            if pattern is None:
                message = replace(
                    message, status_code=KAKAO_TEMPLATE_NOT_FOUND, status_desc="template not found"
                )
            elif pattern.fullmatch(message.content) is None:
                message = replace(
                    message,
                    status_code=KAKAO_TEMPLATE_MISMATCH,
                    status_desc="content does not match the approved template",
                )
            sent.append(message)
        return sent

    def _alimtalk_message(
        self,
        index: int,
        entry: object,
        channel: str,
        code: str,
        request_id: str,
        request_time: datetime,
    ) -> AcceptedAlimTalk:
        where = f"messages[{index}]"
        if not isinstance(entry, dict):
            raise _bad_request(f"{where}: expected an object")
        to = entry.get("to")
        if not isinstance(to, str) or not _DIGITS.match(to) or not 10 <= len(to) <= 11:
            raise _bad_request(f"{where}.to: expected 10-11 digits")
        if str(entry.get("countryCode", "82")) != "82":
            raise _bad_request(f"{where}.countryCode: only 82 is simulated")
        with self._lock:
            refused = to in self._bad_numbers
        if refused:
            raise _bad_request(f"{where}.to: invalid recipient number")
        content = entry.get("content")
        if not isinstance(content, str) or not content:
            raise _bad_request(f"{where}.content: required")
        if len(content) > _ALIMTALK_MAX_CHARS:
            raise _bad_request(f"{where}.content: over {_ALIMTALK_MAX_CHARS} characters")
        use_failover = entry.get("useSmsFailover", False)
        if not isinstance(use_failover, bool):
            raise _bad_request(f"{where}.useSmsFailover: expected true or false")
        return AcceptedAlimTalk(
            request_id,
            f"sandbox-atmsg-{uuid.uuid4().hex[:18]}",
            channel,
            code,
            to,
            content,
            buttons=self._buttons(where, entry.get("buttons")),
            use_sms_failover=use_failover,
            failover=self._failover(where, entry.get("failoverConfig")) if use_failover else None,
            request_time=request_time,
        )

    @staticmethod
    def _buttons(where: str, raw: object) -> tuple[tuple[tuple[str, str], ...], ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list) or len(raw) > _ALIMTALK_MAX_BUTTONS:
            raise _bad_request(f"{where}.buttons: expected a list of at most 5 buttons")
        buttons = []
        for index, button in enumerate(raw):
            if not isinstance(button, dict) or not all(isinstance(v, str) for v in button.values()):
                raise _bad_request(f"{where}.buttons[{index}]: expected an object of strings")
            if button.get("type") not in _BUTTON_TYPES or not button.get("name"):
                raise _bad_request(
                    f"{where}.buttons[{index}]: type one of {', '.join(sorted(_BUTTON_TYPES))} "
                    "and a name are required"
                )
            if button["type"] == "WL" and not (button.get("linkMobile") and button.get("linkPc")):
                raise _bad_request(f"{where}.buttons[{index}]: WL needs linkMobile and linkPc")
            buttons.append(tuple(sorted(button.items())))
        return tuple(buttons)

    def _failover(self, where: str, raw: object) -> FailoverConfig:
        if not isinstance(raw, dict):
            raise _bad_request(f"{where}.failoverConfig: required with useSmsFailover")
        kind, sender = raw.get("type"), raw.get("from")
        content, subject = raw.get("content"), raw.get("subject") or ""
        if kind not in _SIZE_LIMITS:
            raise _bad_request(f"{where}.failoverConfig.type: expected SMS or LMS")
        if not isinstance(sender, str) or not _DIGITS.match(sender):
            raise _bad_request(f"{where}.failoverConfig.from: expected digits only")
        with self._lock:
            registered = sender in self.senders
        if not registered:
            raise _bad_request(f"from: {sender} is not a registered sender number")
        if not isinstance(content, str) or not content or not isinstance(subject, str):
            raise _bad_request(f"{where}.failoverConfig: content required, subject a string")
        size = _euckr_size(content, f"{where}.failoverConfig.content")
        if size > _SIZE_LIMITS[kind]:
            raise _bad_request(
                f"{where}.failoverConfig.content: {size} bytes is over the {kind} limit "
                f"of {_SIZE_LIMITS[kind]}"
            )
        if kind == "LMS" and _euckr_size(subject, f"{where}.failoverConfig.subject") > 40:
            raise _bad_request(f"{where}.failoverConfig.subject: over 40 bytes")
        return FailoverConfig(kind, sender, content, subject if kind == "LMS" else "")

    def _alimtalk_entry(self, message: AcceptedAlimTalk) -> dict[str, Any]:
        """One message in SENS's AlimTalk result shape, as things stand now."""
        requested = message.request_time.astimezone(KST)
        entry: dict[str, Any] = {
            "requestId": message.request_id,
            "messageId": message.message_id,
            "requestTime": requested.strftime(_LIST_TIME_FORMAT),
            "plusFriendId": message.plus_friend_id,
            "templateCode": message.template_code,
            "countryCode": "82",
            "to": message.to,
            "content": message.content,
            "requestStatusCode": message.status_code,
            "requestStatusName": "success" if message.accepted else "fail",
            "requestStatusDesc": message.status_desc,
            "useSmsFailover": message.use_sms_failover,
        }
        if not message.accepted:
            return entry
        with self._lock:
            kakao = self._kakao.get(message.to, KakaoOutcome())
            sms = self._outcomes.get(message.to, Outcome())
        failover = message.failover if message.use_sms_failover else None
        return {**entry, **kakao.fields(requested, failover=failover, sms=sms)}

    def _alimtalk_result(self, message_id: str) -> Answer:
        """One message's result (`GET messages/{messageId}`): the message's object itself;
        an empty 404 for an id SENS never gave."""
        with self._lock:
            found = next((m for m in self._alimtalk if m.message_id == message_id), None)
        if found is None:
            return Raw(404, b"", "application/json; charset=utf-8")
        return 200, self._alimtalk_entry(found)

    def _alimtalk_list(self, query: Mapping[str, list[str]]) -> Answer:
        """The messages of a request id, or of a channel in a request-time window, a page
        at a time (`pageSize`, default 20; `nextToken`). An empty 404 when a request id
        matches nothing, as SENS answers."""

        def one(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        request_id, channel = one("requestId"), one("plusFriendId")
        start_text, end_text = one("requestStartTime"), one("requestEndTime")
        if request_id is None:
            if channel is None or start_text is None or end_text is None:
                raise _bad_request(
                    "requestId, or plusFriendId with requestStartTime and requestEndTime: required"
                )
            start = _list_time(start_text, "requestStartTime")
            end = _list_time(end_text, "requestEndTime")
            if not timedelta(0) <= end - start <= _ALIMTALK_LIST_WINDOW:
                raise _bad_request("requestEndTime: must be within 31 days after requestStartTime")
        try:
            page_size = int(one("pageSize") or _ALIMTALK_PAGE_SIZE)
            offset = int(one("nextToken") or 0)
        except ValueError:
            raise _bad_request("pageSize and nextToken: expected numbers") from None
        if not 1 <= page_size <= 100 or offset < 0:
            raise _bad_request("pageSize: expected 1 to 100")
        wanted = {
            "request_id": request_id,
            "plus_friend_id": channel,
            "template_code": one("templateCode"),
            "to": one("to"),
        }
        with self._lock:
            selected = [
                m
                for m in self._alimtalk
                if all(v is None or getattr(m, k) == v for k, v in wanted.items())
                and (
                    request_id is not None
                    or start <= m.request_time.astimezone(KST).replace(microsecond=0) <= end
                )
            ]
        if request_id is not None and not selected:
            return Raw(404, b"", "application/json; charset=utf-8")
        page = selected[offset : offset + page_size]
        answer: dict[str, Any] = {
            **({"requestId": request_id} if request_id is not None else {}),
            "statusCode": "202",
            "statusName": "success",
            "messages": [self._alimtalk_entry(m) for m in page],
            "pageSize": page_size,
            "itemCount": len(page),
        }
        if offset + page_size < len(selected):
            answer["nextToken"] = str(offset + page_size)
        return 200, answer


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
