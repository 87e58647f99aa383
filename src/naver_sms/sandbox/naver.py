"""A fake Naver on loopback: the login form and the two booking endpoints.

For tests, `naver-sms demo` and the benchmarks. Everything is made up (names,
010-00SS-NNNN phones, ids); nothing leaves 127.0.0.1.

    from naver_sms.sandbox.naver import NaverSandbox

    with NaverSandbox(now=datetime(2026, 11, 25, 9, 0, tzinfo=KST),
                      stores={"5000001": 120}) as naver:
        naver.base_url      # NAVER_BOOKING_URL
        naver.login_url     # NAVER_LOGIN_URL
        cookies = naver.issue_session()          # valid cookies without a browser
        naver.fail_next(2, status=503)           # the next two API calls fail
        naver.requests["list"]                   # calls per endpoint

What it serves (the real paths and element ids, as observed of Naver):

- `GET /nidlogin.login`: the form, inputs `#id`, `#pw`, button `[id="log.login"]`.
  `POST /nidlogin.login`: a user of `users` with the right password gets
  `NID_AUT`/`NID_SES` and a redirect; a user of `challenge_users` gets the
  challenge page of its kind (`captcha` on the form, `device` or `twostep` on
  `/login/ext/...`); anything else gets the form again with Naver's error
  box (`#err_common`).
- `GET /bizes/{biz_id}/booking-list-view`: the console page (logged in only).
- `GET /v3.1/businesses/{biz_id}/bookings/count` -> `{"count": N}` and
  `GET /api/businesses/{biz_id}/bookings` -> one page (`page`, `size`) of
  bookings, sorted by visit start, filtered by `bookingStatusCodes` and by
  visit start within `startDateTime`..`endDateTime` (both inclusive). Those
  must be UTC with `Z` and at most 31 days apart, else 422. Without valid
  cookies: 401 (or 403, or a redirect to the login page: `expired_answer`).

Bookings: `stores` maps a businessId to how many bookings it has. Booking `i`
of a store starts on day `(i % days) - 1` after the anchor date (the KST date
of `now` at construction), at 10:00 plus `(i // days)` hours, for an hour.
Its status follows the clock: every 7th is cancelled (RC04), one whose visit
ended before `now` is completed (RC08), the rest are confirmed (RC03). Set
`now` to move the clock; the bookings stay where they are. Every third has a
"네이버" option, every fifth an "인스타" one; odd ones carry `snapshotJson` as
a JSON string, as the API sometimes does. `masked_every=k` makes every k-th
phone masked by Naver.

Several statuses: `bookingStatusCodes=RC03,RC04` is honoured as a list, as
public clients of the console use it. `several_statuses` makes the sandbox
answer a list as an API that does not support it might: `"reject"` (HTTP
400), `"ignore"` (no status filter at all) or `"first"` (only the first code,
silently).

The day as it plays: `cancel(biz_id, booking_id, at=None)` shows the booking
as cancelled (RC04, with `cancelledDateTime`) once the clock reaches `at`
(default: now); `move(biz_id, booking_id, new_start)` moves its visit (the end
moves with it). Both apply to generated and added bookings alike, from the
next API answer on.

Faults, for the API endpoints: `latency` seconds per request; `fail_next(n,
status)`; `hang_next(n, seconds)` (answers late, so a client times out);
`throttle_next(n, form)` (Naver's throttle answer: HTTP 200 with a
`BookingAPITooManyRequests` error body, or a plain 429); `fault_rate` (that
share of requests answers `fault_status`, seeded); `expire_sessions()`.
`requests` counts calls per endpoint name: `login_form`, `login`,
`challenge`, `booking_list_view`, `count`, `list`, `home`; `request_log`
keeps each request's names of the cookies sent (never their values).

Cookies: `issue_session()` issues them for the sandbox's own host, as a
browser login against it does; `issue_session(domain=".naver.com")` issues
them for Naver's domain instead (a client must not send those to loopback).
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import secrets
import threading
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from naver_sms.sandbox.server import LoopbackServer

__all__ = ["DEFAULT_USERS", "THROTTLE_BODY", "NaverSandbox", "RecordedRequest"]

KST = ZoneInfo("Asia/Seoul")
DEFAULT_USERS: Mapping[str, str] = {"sandbox-owner": "sandbox-password"}
DEFAULT_CHALLENGES: Mapping[str, str] = {
    "captcha-user": "captcha",
    "new-device-user": "device",
    "two-step-user": "twostep",
}
_UTC_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
_COUNT_PATH = re.compile(r"^/v3\.1/businesses/([0-9]+)/bookings/count$")
_LIST_PATH = re.compile(r"^/api/businesses/([0-9]+)/bookings$")
_VIEW_PATH = re.compile(r"^/bizes/([0-9]+)/booking-list-view$")
_SURNAMES = ("김", "이", "박", "최", "정", "강", "조", "윤", "장", "임")
_GIVEN = ("민지", "서준", "하늘", "유나", "도윤", "지우", "서연", "하준", "수아", "지호", "예린")
_MAX_WINDOW = timedelta(days=31)

ExpiredAnswer = Literal["401", "403", "redirect"]
SeveralStatuses = Literal["honour", "reject", "ignore", "first"]
ThrottleForm = Literal["body", "429"]
# What Naver answers a throttled client with HTTP 200, as public clients show.
THROTTLE_BODY: Mapping[str, Any] = {
    "errors": [{"message": "BookingAPITooManyRequests", "code": "TOO_MANY_REQUESTS"}]
}


@dataclass(frozen=True)
class RecordedRequest:
    endpoint: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    cookie_names: tuple[str, ...] = ()


@dataclass
class _Change:
    """What the day did to one booking: a cancellation from `cancelled_at`, a new start."""

    cancelled_at: datetime | None = None
    start: datetime | None = None


@dataclass
class _Fault:
    kind: Literal["status", "hang", "throttle"]
    endpoint: str | None
    status: int = 503
    seconds: float = 30.0


_PAGE = """<!doctype html><html lang="ko"><head><meta charset="utf-8">
<title>{title}</title></head><body>{body}</body></html>"""

_LOGIN_FORM = """<h1>NAVER (sandbox)</h1>
<form id="frmNIDLogin" name="frmNIDLogin" method="post" action="/nidlogin.login">
  <input type="hidden" name="url" value="{url}">
  <input type="text" id="id" name="id" placeholder="아이디">
  <input type="password" id="pw" name="pw" placeholder="비밀번호">
  {extra}
  <button type="submit" id="log.login" class="btn_login">로그인</button>
</form>"""

_ERROR_BOX = """<div id="err_common" class="error_message" role="alert">
  아이디(로그인 전용 아이디) 또는 비밀번호를 잘못 입력했습니다.
  입력하신 내용을 다시 확인해주세요.</div>"""

_CAPTCHA_BOX = """<div id="captcha" class="captcha_wrap">
  <p>자동입력 방지 문자를 입력해주세요.</p>
  <img id="captchaimg" alt="captcha" src="data:,">
  <input type="text" id="chptcha" name="chptcha"></div>"""

_CHALLENGE_PAGES = {
    "device": ("/login/ext/deviceConfirm", "새로운 기기(브라우저) 로그인 확인"),
    "twostep": ("/login/ext/otp", "2단계 인증"),
}


class NaverSandbox(LoopbackServer):
    """A fake Naver (login + booking API) on 127.0.0.1, in a thread. See the module doc."""

    def __init__(
        self,
        *,
        now: datetime,
        stores: Mapping[str, int] | None = None,
        users: Mapping[str, str] | None = None,
        challenge_users: Mapping[str, str] | None = None,
        days: int = 14,
        masked_every: int = 0,
        latency: float = 0.0,
        fault_rate: float = 0.0,
        fault_status: int = 503,
        expired_answer: ExpiredAnswer = "401",
        seed: int = 0,
        anchor: date | None = None,
        several_statuses: SeveralStatuses = "honour",
    ) -> None:
        super().__init__()
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self._lock = threading.Lock()
        self._now = now
        self.anchor = anchor or now.astimezone(KST).date()
        self.stores = dict(stores if stores is not None else {"5000001": 12})
        self.users = dict(users if users is not None else DEFAULT_USERS)
        self.challenge_users = dict(
            challenge_users if challenge_users is not None else DEFAULT_CHALLENGES
        )
        self.days = max(1, days)
        self.masked_every = masked_every
        self.latency = latency
        self.fault_rate = fault_rate
        self.fault_status = fault_status
        self.expired_answer: ExpiredAnswer = expired_answer
        self._random = random.Random(seed)  # noqa: S311 - fault injection, not security
        self._faults: deque[_Fault] = deque()
        self._sessions: dict[str, str] = {}  # NID_AUT -> NID_SES
        self._extra: dict[str, list[dict[str, Any]]] = {}
        self._changes: dict[tuple[str, str], _Change] = {}
        self.several_statuses: SeveralStatuses = several_statuses
        self._counts: Counter[str] = Counter()
        self.request_log: deque[RecordedRequest] = deque(maxlen=2000)

    # ------------------------------------------------------------ lifecycle

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    @property
    def base_url(self) -> str:
        """NAVER_BOOKING_URL for this sandbox."""
        return self.url

    @property
    def login_url(self) -> str:
        """NAVER_LOGIN_URL for this sandbox (the real form's query, pointing back here)."""
        return f"{self.base_url}/nidlogin.login?mode=form&url={self.base_url}/"

    def environment(self) -> dict[str, str]:
        """The environment variables that point naver-sms at this sandbox."""
        return {"NAVER_BOOKING_URL": self.base_url, "NAVER_LOGIN_URL": self.login_url}

    # ------------------------------------------------------------ clock and data

    @property
    def now(self) -> datetime:
        with self._lock:
            return self._now

    @now.setter
    def now(self, value: datetime) -> None:
        if value.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        with self._lock:
            self._now = value

    def add_booking(self, biz_id: str, raw: Mapping[str, Any]) -> None:
        """Serve `raw` as it is (any shape) among the store's bookings, sorted last."""
        with self._lock:
            self._extra.setdefault(str(biz_id), []).append(dict(raw))

    def cancel(self, biz_id: str, booking_id: int | str, at: datetime | None = None) -> None:
        """The booking shows cancelled (RC04) from `at` on (default: now), as when a
        customer cancels in the Naver app."""
        if at is not None and at.tzinfo is None:
            raise ValueError("at must be timezone-aware")
        key = self._change_key(biz_id, booking_id)
        with self._lock:
            self._changes.setdefault(key, _Change()).cancelled_at = at or self._now

    def move(self, biz_id: str, booking_id: int | str, new_start: datetime) -> None:
        """The booking's visit starts at `new_start` from now on; its end moves with it."""
        if new_start.tzinfo is None:
            raise ValueError("new_start must be timezone-aware")
        key = self._change_key(biz_id, booking_id)
        with self._lock:
            self._changes.setdefault(key, _Change()).start = new_start

    def _change_key(self, biz_id: str, booking_id: int | str) -> tuple[str, str]:
        key = (str(biz_id), str(booking_id))
        if not any(str(raw.get("bookingId")) == key[1] for raw in self.bookings(key[0])):
            raise KeyError(f"store {biz_id} has no booking {booking_id}")
        return key

    def bookings(self, biz_id: str, status: str | None = None) -> list[dict[str, Any]]:
        """The store's bookings as the API would serve them now (generated and added)."""
        now = self.now
        with self._lock:
            changes = {
                booking: change
                for (store, booking), change in self._changes.items()
                if store == biz_id
            }
            added = [dict(raw) for raw in self._extra.get(biz_id, [])]
        generated = [
            self._generated(biz_id, index, now, changes)
            for index in range(self.stores.get(biz_id, 0))
        ]
        added = [_changed(raw, changes.get(str(raw.get("bookingId"))), now) for raw in added]
        everything = generated + added
        if status is not None:
            everything = [raw for raw in everything if raw.get("bookingStatusCode") == status]
        return everything

    def _generated(
        self, biz_id: str, index: int, now: datetime, changes: Mapping[str, _Change]
    ) -> dict[str, Any]:
        store_no = list(self.stores).index(biz_id) if biz_id in self.stores else 0
        booking_id = 1_100_000_000 + store_no * 1_000_000 + index
        change = changes.get(str(booking_id)) or _Change()
        day = self.anchor + timedelta(days=(index % self.days) - 1)
        slot = index // self.days
        hour, minute = 10 + slot % 10, 30 * (slot // 10 % 2)
        start = change.start or datetime(day.year, day.month, day.day, hour, minute, tzinfo=KST)
        end = start + timedelta(hours=1)
        registered = datetime.combine(self.anchor, datetime.min.time(), KST) - timedelta(days=5)
        cancelled_at: datetime | None = None
        if change.cancelled_at is not None and change.cancelled_at <= now:
            cancelled_at = change.cancelled_at
        elif index % 7 == 6:
            cancelled_at = registered + timedelta(days=1)
        if cancelled_at is not None:
            status = "RC04"
        elif end <= now:
            status = "RC08"
        else:
            status = "RC03"
        name = _SURNAMES[index % len(_SURNAMES)] + _GIVEN[(index // 3) % len(_GIVEN)]
        phone = f"01000{store_no % 100:02d}{index % 10000:04d}"
        masked = bool(self.masked_every) and index % self.masked_every == self.masked_every - 1
        if masked:
            phone = phone[:3] + "****" + phone[-4:]
        options = [_option(9000, "기본 이용 50분", 35000, "REQUIRED")]
        if index % 3 == 0:
            options.append(_option(9001, "네이버 리뷰 이벤트 참여", 0, "CUSTOM"))
        if index % 5 == 1:
            options.append(_option(9002, "인스타 리뷰 이벤트", 0, "CUSTOM"))
        snapshot: dict[str, Any] = {
            "bookingId": booking_id,
            "businessId": int(biz_id),
            "bizItemName": "스튜디오 50분 이용",
            "globalTimezone": "Asia/Seoul",
            "startDateTime": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endDateTime": end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "name": name,
            "phone": phone,
            "bookingOptionJson": options,
            "couponJson": [],
            "customFormInputJson": [],
            "businessAddressJson": {"roadAddr": "서울특별시 어딘가로 1", "detail": "3층"},
        }
        entry = {
            "bookingId": booking_id,
            "businessId": int(biz_id),
            "businessName": f"샌드박스 스튜디오 {store_no + 1}호점",
            "bizItemId": 700001,
            "bizItemName": "스튜디오 50분 이용",
            "bizItemType": "STANDARD",
            "bookingStatusCode": status,
            "name": name,
            "phone": phone,
            "email": None,
            "isForcedPrivacyMasking": masked,
            "startDate": start.date().isoformat(),
            "endDate": end.date().isoformat(),
            "regDateTime": registered.isoformat(),
            "confirmedDateTime": (registered + timedelta(minutes=1)).isoformat(),
            "isCompleted": status == "RC08",
            "bookingCount": 1,
            "price": 45000,
            "totalPrice": 45000,
            "bookingOptionJson": options,
            # The API has been seen sending nested JSON both ways.
            "snapshotJson": json.dumps(snapshot, ensure_ascii=False) if index % 2 else snapshot,
        }
        if cancelled_at is not None:
            entry["cancelledDateTime"] = cancelled_at.astimezone(KST).isoformat()
        return entry

    # ------------------------------------------------------------ sessions

    def issue_session(self, domain: str | None = None) -> list[dict[str, Any]]:
        """Fresh valid cookies (as Selenium returns them), as if someone had logged in.

        They belong to the sandbox's host unless `domain` names another one.
        """
        aut, ses = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[aut] = ses
        host = domain or urlsplit(self.base_url).hostname or "127.0.0.1"
        return [
            {"name": "NID_AUT", "value": aut, "domain": host, "path": "/", "httpOnly": True},
            {"name": "NID_SES", "value": ses, "domain": host, "path": "/", "httpOnly": True},
        ]

    def expire_sessions(self) -> None:
        """Every cookie issued so far stops working, as when Naver ends a session."""
        with self._lock:
            self._sessions.clear()

    def _valid(self, cookies: Mapping[str, str]) -> bool:
        aut, ses = cookies.get("NID_AUT"), cookies.get("NID_SES")
        with self._lock:
            return aut is not None and self._sessions.get(aut) == ses

    # ------------------------------------------------------------ faults and counters

    def fail_next(self, n: int = 1, status: int = 503, endpoint: str | None = None) -> None:
        """The next `n` API requests (of `endpoint`: `count` or `list`) answer `status`."""
        with self._lock:
            self._faults.extend(_Fault("status", endpoint, status=status) for _ in range(n))

    def hang_next(self, n: int = 1, seconds: float = 30.0, endpoint: str | None = None) -> None:
        """The next `n` API requests answer only after `seconds` (a client should time out)."""
        with self._lock:
            self._faults.extend(_Fault("hang", endpoint, seconds=seconds) for _ in range(n))

    def throttle_next(
        self, n: int = 1, form: ThrottleForm = "body", endpoint: str | None = None
    ) -> None:
        """The next `n` API requests are throttled: HTTP 200 with Naver's
        `BookingAPITooManyRequests` error body (`form="body"`) or HTTP 429."""
        if form not in ("body", "429"):
            raise ValueError(f"form must be 'body' or '429', got {form!r}")
        status = 200 if form == "body" else 429
        with self._lock:
            self._faults.extend(_Fault("throttle", endpoint, status=status) for _ in range(n))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
        self.fault_rate = 0.0

    @property
    def requests(self) -> Counter[str]:
        """Requests per endpoint name so far (a copy)."""
        with self._lock:
            return Counter(self._counts)

    def reset_counters(self) -> None:
        with self._lock:
            self._counts.clear()
            self.request_log.clear()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._counts[request.endpoint] += 1
            self.request_log.append(request)

    def _take_fault(self, endpoint: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.endpoint in (None, endpoint):
                    self._faults.remove(fault)
                    return fault
            if self.fault_rate and self._random.random() < self.fault_rate:
                return _Fault("status", endpoint, status=self.fault_status)
        return None


def booking_entry(
    biz_id: str,
    booking_id: int,
    start: datetime,
    *,
    status: str,
    name: str,
    phone: str,
    options: Sequence[str] = (),
    minutes: int = 60,
) -> dict[str, Any]:
    """A booking as the list endpoint returns it, with only the fields naver-sms reads.

    For `NaverSandbox.add_booking`: benchmarks and tests build their own
    workloads with it instead of the generated ones.
    """
    return {
        "bookingId": booking_id,
        "businessId": int(biz_id),
        "bookingStatusCode": status,
        "name": name,
        "phone": phone,
        "bizItemName": "스튜디오 50분 이용",
        "bookingOptionJson": [{"name": option} for option in options],
        "snapshotJson": {
            "startDateTime": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endDateTime": (start + timedelta(minutes=minutes))
            .astimezone(UTC)
            .strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }


def _option(option_id: int, name: str, price: int, category: str) -> dict[str, Any]:
    return {
        "optionId": option_id,
        "name": name,
        "bookingCount": 1,
        "price": price,
        "categoryTypeCode": category,
    }


def _utc_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _changed(raw: dict[str, Any], change: _Change | None, now: datetime) -> dict[str, Any]:
    """An added booking as the day changed it (any shape: only what is there is touched)."""
    if change is None:
        return raw
    if change.cancelled_at is not None and change.cancelled_at <= now:
        raw["bookingStatusCode"] = "RC04"
        raw["cancelledDateTime"] = change.cancelled_at.astimezone(KST).isoformat()
        if "isCompleted" in raw:
            raw["isCompleted"] = False
    if change.start is not None:
        stored = raw.get("snapshotJson")
        was_text = isinstance(stored, str)
        if isinstance(stored, str):
            try:
                stored = json.loads(stored)
            except ValueError:
                stored = None
        snapshot: dict[str, Any] = dict(stored) if isinstance(stored, dict) else {}
        old_start, old_end = _start_of(raw), _end_of(snapshot)
        length = old_end - old_start if old_start and old_end else timedelta(hours=1)
        new_end = change.start + length
        snapshot["startDateTime"] = _utc_z(change.start)
        snapshot["endDateTime"] = _utc_z(new_end)
        raw["snapshotJson"] = json.dumps(snapshot, ensure_ascii=False) if was_text else snapshot
        for key, moment in (("startDate", change.start), ("endDate", new_end)):
            if key in raw:
                raw[key] = moment.astimezone(KST).date().isoformat()
        for key, moment in (("startDateTime", change.start), ("endDateTime", new_end)):
            if key in raw:
                raw[key] = _utc_z(moment)
    return raw


def _end_of(snapshot: Mapping[str, Any]) -> datetime | None:
    value = snapshot.get("endDateTime")
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _parse_utc(value: str | None) -> datetime | None:
    if value is None or not _UTC_Z.match(value):
        return None
    return datetime.fromisoformat(value)


def visit_start(raw: Mapping[str, Any]) -> datetime | None:
    """When a raw booking's visit starts, as its snapshot says (None when it cannot say)."""
    return _start_of(raw)


def _start_of(raw: Mapping[str, Any]) -> datetime | None:
    snapshot = raw.get("snapshotJson")
    if isinstance(snapshot, str):
        try:
            snapshot = json.loads(snapshot)
        except ValueError:
            return None
    value = snapshot.get("startDateTime") if isinstance(snapshot, dict) else None
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _handler_for(sandbox: NaverSandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        pass

    Handler.sandbox = sandbox
    return Handler


class _Handler(BaseHTTPRequestHandler):
    sandbox: NaverSandbox
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        """Silence: the sandbox's access log would drown the test output."""

    # ------------------------------------------------------------ plumbing

    def _cookies(self) -> dict[str, str]:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(self.headers.get("Cookie", ""))
        except CookieError:  # a malformed header is just "no cookies"
            return {}
        return {name: morsel.value for name, morsel in jar.items()}

    def _send(
        self,
        status: int,
        body: str | bytes,
        content_type: str = "application/json; charset=utf-8",
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        for name, value in (cookies or {}).items():
            self.send_header("Set-Cookie", f"{name}={value}; Path=/; HttpOnly; SameSite=Lax")
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up (timeout test)
            self.wfile.write(data)

    def _json(self, status: int, payload: object) -> None:
        text = json.dumps(payload, ensure_ascii=False)
        try:
            body = text.encode()
        except UnicodeEncodeError:
            # Half an emoji (a lone surrogate) cannot be UTF-8: escape it as Naver does.
            body = json.dumps(payload).encode()
        self._send(status, body)

    def _html(self, status: int, title: str, body: str, **kwargs: Any) -> None:
        page = _PAGE.format(title=escape(title), body=body)
        self._send(status, page, "text/html; charset=utf-8", **kwargs)

    def _record(self, endpoint: str, query: dict[str, str]) -> None:
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() != "cookie"}
        names = tuple(self._cookies())  # names only: the values are credentials
        self.sandbox._record(
            RecordedRequest(endpoint, self.command, urlsplit(self.path).path, query, headers, names)
        )

    # ------------------------------------------------------------ routes

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        path = parts.path
        if path == "/nidlogin.login":
            self._record("login_form", query)
            self._login_form(query.get("url", "/"), extra="")
        elif match := _COUNT_PATH.match(path):
            self._api("count", match.group(1), query)
        elif match := _LIST_PATH.match(path):
            self._api("list", match.group(1), query)
        elif match := _VIEW_PATH.match(path):
            self._record("booking_list_view", query)
            if not self.sandbox._valid(self._cookies()):
                self._send(302, b"", headers={"Location": self.sandbox.login_url})
                return
            self._html(200, "예약자 관리", f"<h1>예약자 관리 {escape(match.group(1))}</h1>")
        elif path in _CHALLENGE_VIEWS:
            self._record("challenge", query)
            self._html(200, _CHALLENGE_VIEWS[path], f"<h1>{_CHALLENGE_VIEWS[path]}</h1>")
        elif path == "/":
            self._record("home", query)
            self._html(200, "NAVER", "<h1>NAVER sandbox home</h1>")
        else:
            self._json(404, {"message": "not found"})

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != "/nidlogin.login":
            self._json(404, {"message": "not found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        form = {
            key: values[-1]
            for key, values in parse_qs(self.rfile.read(length).decode("utf-8", "replace")).items()
        }
        # The form is never recorded: it holds the password.
        self._record("login", {})
        user, password = form.get("id", ""), form.get("pw", "")
        back = form.get("url", "/")
        challenge = self.sandbox.challenge_users.get(user)
        if challenge == "captcha":
            self._login_form(back, extra=_ERROR_BOX + _CAPTCHA_BOX)
        elif challenge in _CHALLENGE_PAGES:
            self._send(302, b"", headers={"Location": _CHALLENGE_PAGES[challenge][0]})
        elif user in self.sandbox.users and secrets.compare_digest(
            self.sandbox.users[user].encode(), password.encode()
        ):
            cookies = self.sandbox.issue_session()
            target = back if back.startswith(self.sandbox.base_url) or back == "/" else "/"
            self._send(
                302,
                b"",
                headers={"Location": target},
                cookies={c["name"]: c["value"] for c in cookies},
            )
        else:
            self._login_form(back, extra=_ERROR_BOX)

    def _login_form(self, back: str, extra: str) -> None:
        body = _LOGIN_FORM.format(url=escape(back, quote=True), extra=extra)
        self._html(200, "네이버 : 로그인", body)

    def _api(self, endpoint: str, biz_id: str, query: dict[str, str]) -> None:
        sandbox = self.sandbox
        self._record(endpoint, query)
        sandbox.wait(sandbox.latency)
        fault = sandbox._take_fault(endpoint)
        if fault is not None and fault.kind == "hang":
            sandbox.wait(fault.seconds)
            self._json(504, {"message": "sandbox: hung request"})
            return
        if fault is not None and fault.kind == "throttle":
            self._json(fault.status, THROTTLE_BODY)
            return
        if fault is not None:
            self._json(fault.status, {"message": f"sandbox: injected {fault.status}"})
            return
        if not sandbox._valid(self._cookies()):
            self._expired()
            return
        problem = _window_problem(query)
        codes = _status_filter(query, sandbox.several_statuses)
        if problem or codes is None:
            answer, message = (422, problem) if problem else (400, "bookingStatusCodes")
            self._json(answer, {"code": "INVALID_PARAMETER", "message": message})
            return
        opens = _parse_utc(query.get("startDateTime"))
        closes = _parse_utc(query.get("endDateTime"))
        selected = []
        for raw in sandbox.bookings(biz_id):
            start = _start_of(raw)
            status = raw.get("bookingStatusCode")
            # A hostile entry's status may be any JSON value; it matches no filter.
            if codes and not (isinstance(status, str) and status in codes):
                continue
            if start is None or opens is None or closes is None or not opens <= start <= closes:
                continue
            selected.append((start, str(raw.get("bookingId")), raw))
        selected.sort(key=lambda item: (item[0], item[1]))
        if endpoint == "count":
            self._json(200, {"count": len(selected)})
            return
        page, size = int(query.get("page", "0")), int(query.get("size", "50"))
        self._json(200, [raw for _, _, raw in selected[page * size : (page + 1) * size]])

    def _expired(self) -> None:
        answer = self.sandbox.expired_answer
        if answer == "redirect":
            self._send(302, b"", headers={"Location": self.sandbox.login_url})
        else:
            status = int(answer)
            self._json(status, {"code": "UNAUTHORIZED", "message": "login required"})


_CHALLENGE_VIEWS = {path: title for path, title in _CHALLENGE_PAGES.values()}


def _status_filter(query: Mapping[str, str], mode: SeveralStatuses) -> set[str] | None:
    """The codes a list query filters on (empty: no filter); None when it is refused."""
    listed = [code for code in query.get("bookingStatusCodes", "").split(",") if code]
    if len(listed) > 1 and mode == "reject":
        return None
    if len(listed) > 1 and mode != "honour":
        listed = listed[:1] if mode == "first" else []
    return set(listed)


def _window_problem(query: Mapping[str, str]) -> str | None:
    """Why the API would answer 422 to this query, or None."""
    opens = _parse_utc(query.get("startDateTime"))
    closes = _parse_utc(query.get("endDateTime"))
    if opens is None or closes is None:
        return "startDateTime and endDateTime must be UTC times like 2026-11-25T00:00:00.000Z"
    if closes < opens:
        return "endDateTime is before startDateTime"
    if closes - opens > _MAX_WINDOW:
        return "the date range may not exceed 31 days (maxDays)"
    for name, low, high in (("page", 0, 10_000), ("size", 1, 100)):
        value = query.get(name, "0" if name == "page" else "50")
        if not value.isdigit() or not low <= int(value) <= high:
            return f"{name} must be an integer from {low} to {high}"
    return None
