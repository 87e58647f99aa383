"""Small in-memory stand-ins for the ports, for unit tests (no I/O).

Keep this a plain module of small classes; add a fake next to the others.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, date, datetime, timedelta
from typing import Any

from naver_sms.database.base import (
    DEFAULT_LEASE,
    BookingKey,
    MarkRequest,
    NewRecord,
    claim_attributes,
    sent_attributes,
    skipped_attribute,
    unclear_attribute,
)
from naver_sms.database.exceptions import RepositoryError
from naver_sms.database.records import BookingRepositoryBase, SessionRepositoryBase
from naver_sms.domain.booking import Booking, normalize_phone
from naver_sms.domain.delivery import DeliveryResult
from naver_sms.domain.messages import Message
from naver_sms.domain.record import DELIVERY_DUE, DELIVERY_PENDING, DELIVERY_QUEUE
from naver_sms.domain.session import parse_cookies
from naver_sms.messaging.alimtalk import read_alimtalk_delivery
from naver_sms.messaging.base import (
    SenderBase,
    SendError,
    SendFailed,
    SendRejected,
    SendResult,
    SendUnclear,
)
from naver_sms.messaging.sens import read_delivery
from naver_sms.naver.booking_api import FetchResult, UnusableEntry
from naver_sms.sandbox.sens import (
    KAKAO_NOT_A_USER,
    KAKAO_TEMPLATE_MISMATCH,
    KAKAO_TEMPLATE_NOT_FOUND,
    FailoverConfig,
    KakaoOutcome,
    Outcome,
    template_pattern,
)


class MemorySessionRepository(SessionRepositoryBase):
    """A SessionRepositoryPort in attributes: the contract base's rules, counting writes.

    `cookies` is the stored JSON text (tests may set it, even to garbage),
    `saved_at` its stored time text, `notes` the notes by name; `saves` and
    `deletes` count what the authenticator did.
    """

    def __init__(self, cookies: str | None = None) -> None:
        if cookies is not None:
            parse_cookies(cookies)
        self.cookies = cookies
        self.saved_at: str | None = None
        self.notes: dict[str, dict[str, str]] = {}
        self.saves = 0
        self.deletes = 0

    def _translated(self, operation: str) -> AbstractContextManager[None]:
        return nullcontext()  # nothing here raises a vendor error

    def _read(self) -> tuple[str, str | None] | None:
        return (self.cookies, self.saved_at) if self.cookies is not None else None

    def _write(self, cookies: str, saved_at: str) -> None:
        self.cookies = cookies
        self.saved_at = saved_at
        self.saves += 1

    def _delete(self) -> None:
        self.cookies = None
        self.saved_at = None
        self.deletes += 1

    def _read_note(self, name: str) -> dict[str, str] | None:
        values = self.notes.get(name)
        return dict(values) if values is not None else None

    def _write_note(self, name: str, values: dict[str, str]) -> None:
        self.notes[name] = dict(values)

    def _delete_note(self, name: str) -> None:
        self.notes.pop(name, None)


class FakeElement:
    def __init__(self, browser: FakeBrowser, selector: str, text: str = "") -> None:
        self.browser = browser
        self.selector = selector
        self.text = text

    def is_displayed(self) -> bool:
        return True

    def click(self) -> None:
        self.browser.clicks.append(self.selector)
        self.browser.submit()


class FakeBrowser:
    """A scripted stand-in for a Selenium WebDriver on the Naver login form.

    `outcome` is what Naver does after the submit: "success" (the cookies of
    `issue_cookies()`), "captcha", "wrong_password", "device", or "nothing".
    It records what the Authenticator did: visited URLs, the values it set
    (as script arguments) and the clicks.
    """

    def __init__(self, outcome: str = "success", issue_cookies: Any = None) -> None:
        self.outcome = outcome
        self.issue_cookies: Callable[[], Any] = issue_cookies or (lambda: [])
        self.visited: list[str] = []
        self.scripts: list[tuple[str, tuple[Any, ...]]] = []
        self.clicks: list[str] = []
        self.cookies: list[dict[str, Any]] = []
        self.current_url = "about:blank"
        self.title = ""
        self.page = "blank"
        self.quit_called = False

    # WebDriver surface used by naver.auth
    def get(self, url: str) -> None:
        self.visited.append(url)
        self.current_url = url
        self.page = "form" if "nidlogin" in url else "other"

    def find_element(self, _by: str, selector: str) -> FakeElement:
        return FakeElement(self, selector)

    def find_elements(self, _by: str, selector: str) -> list[FakeElement]:
        if selector == "#id" and self.page == "form":
            return [FakeElement(self, selector)]
        if "#captcha" in selector and self.page == "captcha":
            return [FakeElement(self, selector)]
        if selector == "#err_common" and self.page in ("wrong_password", "captcha"):
            return [FakeElement(self, selector, text="아이디 또는 비밀번호를 잘못 입력했습니다.")]
        return []

    def execute_script(self, script: str, *args: Any) -> Any:
        self.scripts.append((script, args))
        return None

    def get_cookies(self) -> list[dict[str, Any]]:
        return [dict(cookie) for cookie in self.cookies]

    def quit(self) -> None:
        self.quit_called = True

    # what the submit button does
    def submit(self) -> None:
        if self.outcome == "success":
            self.cookies = list(self.issue_cookies())
            self.page = "home"
        elif self.outcome == "device":
            self.current_url = "https://nid.naver.com/login/ext/deviceConfirm"
            self.page = "device"
        elif self.outcome in ("captcha", "wrong_password"):
            self.page = self.outcome

    def typed_values(self) -> list[Any]:
        return [args[1] for _script, args in self.scripts if len(args) > 1]


class FakeBrowserFactory:
    """A BrowserFactory handing out one FakeBrowser; counts starts so tests can assert none."""

    def __init__(self, browser: FakeBrowser | None = None) -> None:
        self.browser = browser or FakeBrowser()
        self.started = 0
        self.headed: list[bool] = []

    @contextmanager
    def __call__(self, headed: bool) -> Iterator[FakeBrowser]:
        self.started += 1
        self.headed.append(headed)
        try:
            yield self.browser
        finally:
            self.browser.quit()


class NoBrowser:
    """A BrowserFactory that fails the test if anything tries to start a browser."""

    def __call__(self, headed: bool) -> Any:
        raise AssertionError("a browser was started, but none was needed")


# ---------------------------------------------------------------- the cycle's ports


class MemoryBookingRepository(BookingRepositoryBase):
    """A BookingRepositoryPort repository in a dict: the contract base's rules over dict primitives.

    Validation, logging, claim recovery and the mark's time format come from
    `BookingRepositoryBase`, as for the real repositories, so the fake cannot drift from them;
    the contract suite runs on it too. One lock makes each primitive a
    conditional write, so racing threads see what DynamoDB or SQLite would.

    `records` is keyed by (booking_num, phone); `sent` is the history index, the
    (day, booking_num, phone) of each record with a message sent that day;
    `calls` names each operation in call order (what unit tests assert on).
    """

    def __init__(self, *, batches: bool = False) -> None:
        self.records: dict[BookingKey, dict[str, Any]] = {}
        self.sent: set[tuple[str, str, str]] = set()
        self.calls: list[str] = []
        self._lock = threading.RLock()
        # Without `batches` (unit tests' default) every write is its own call, as
        # the seed's methods: a test sees, and can fail, each create and claim.
        # With it, the fake batches as the real stores do (all or nothing, under
        # the lock) and folds a new record's first claim into its create.
        self.batches = batches
        self.folds_claims = batches

    def reopened(self) -> MemoryBookingRepository:
        """Another repository object on the same records, as a second process would have."""
        other = MemoryBookingRepository(batches=self.batches)
        other.records, other.sent, other._lock = self.records, self.sent, self._lock
        return other

    def _atomically(self, writes: Sequence[Callable[[], bool]]) -> bool:
        if not self.batches:
            return False
        with self._lock:
            before = copy.deepcopy(self.records)
            if all(write() for write in writes):
                return True
            self.records.clear()
            self.records.update(before)
            return False

    def mark_sent_many(
        self, marks: Sequence[MarkRequest], owner: str, now: datetime
    ) -> list[bool | RepositoryError]:
        if self.batches:
            return super().mark_sent_many(marks, owner, now)
        results: list[bool | RepositoryError] = []
        for mark in marks:  # the seed's mark, call by call
            try:
                results.append(
                    self.mark_sent(
                        mark.booking_num,
                        mark.phone,
                        mark.flag,
                        owner,
                        mark.request_id,
                        now,
                        channel=mark.channel,
                    )
                )
            except RepositoryError as exc:
                results.append(exc)
        return results

    def create_bookings(
        self,
        records: Sequence[NewRecord],
        owner: str,
        now: datetime,
        lease: timedelta = DEFAULT_LEASE,
    ) -> list[bool | RepositoryError]:
        if self.batches:
            return super().create_bookings(records, owner, now, lease)
        # The seed's create, call by call (a claim is asked for only where one folds).
        results: list[bool | RepositoryError] = []
        for record in records:
            if record.claim is not None:
                raise ValueError("create_bookings: this store takes no claim with a create")
            try:
                created = self.create_booking(record.data)
                if created:
                    for flag, reason in record.skipped:
                        self.mark_skipped(
                            record.data["booking_num"], record.data["phone"], flag, reason
                        )
                results.append(created)
            except RepositoryError as exc:
                results.append(exc)
        return results

    @contextmanager
    def _operation(self, operation: str, message: str, **context: Any) -> Iterator[dict[str, Any]]:
        self.calls.append(operation)
        with super()._operation(operation, message, **context) as ctx:
            yield ctx

    def _translated(self, operation: str) -> AbstractContextManager[None]:
        return nullcontext()  # a dict raises no vendor errors

    # Copies in and out: a caller's dict never aliases a stored record, as with a database.

    def _get(self, booking_num: str, phone: str) -> dict[str, Any] | None:
        with self._lock:
            record = self.records.get((booking_num, phone))
            return None if record is None else copy.deepcopy(record)

    def _get_many(self, keys: list[BookingKey]) -> Iterator[dict[str, Any]]:
        with self._lock:
            found = [copy.deepcopy(self.records[key]) for key in keys if key in self.records]
        yield from found

    def _insert(self, item: dict[str, Any]) -> bool:
        key = (item["booking_num"], item["phone"])
        with self._lock:
            if key in self.records:
                return False
            self.records[key] = copy.deepcopy(item)
            return True

    def _set_flag(self, booking_num: str, phone: str, flag: str, value: bool) -> bool:
        with self._lock:
            record = self.records.get((booking_num, phone))
            if record is None:
                return False
            record[flag] = value
            return True

    def _set_time(
        self,
        booking_num: str,
        phone: str,
        booking_time: str,
        reset: tuple[str, ...],
        moved_from: str | None,
    ) -> bool:
        with self._lock:
            record = self.records.get((booking_num, phone))
            if record is None or record["booking_time"] == booking_time:
                return False
            record["booking_time"] = booking_time
            if moved_from is not None:
                record["moved_from"] = moved_from
            for flag in reset:
                record[flag] = False
                for name in (
                    *claim_attributes(flag),
                    unclear_attribute(flag),
                    skipped_attribute(flag),
                ):
                    record.pop(name, None)
            return True

    def _list(self, biz_id: str | None, day: str | None) -> Iterator[dict[str, Any]]:
        with self._lock:
            found = [
                copy.deepcopy(record)
                for record in self.records.values()
                if (biz_id is None or record["booking_num"].startswith(f"{biz_id}_"))
                and (day is None or record["booking_time"].startswith(day))
            ]
        yield from found

    def _unnotified(self) -> Iterator[tuple[str, object]]:
        with self._lock:
            found = [
                (record["booking_num"], record["booking_time"])
                for record in self.records.values()
                if record.get("option_sms") is not True
            ]
        yield from found

    def _held(self, booking_num: str, phone: str, flag: str, owner: str) -> dict[str, Any] | None:
        """The record if `owner` holds its claim on `flag` (call with the lock held)."""
        record = self.records.get((booking_num, phone))
        if record is None or record.get(claim_attributes(flag)[0]) != owner:
            return None
        return record

    def _take_claim(
        self, booking_num: str, phone: str, flag: str, owner: str, until: int, now: int
    ) -> bool:
        claim_attr, until_attr = claim_attributes(flag)
        with self._lock:
            record = self.records.get((booking_num, phone))
            # An absent expiry reads as 0: never a live claim.
            if record is None or record.get(flag) or record.get(until_attr, 0) > now:
                return False
            record.update({claim_attr: owner, until_attr: until})
            return True

    def _complete_claim(
        self,
        booking_num: str,
        phone: str,
        flag: str,
        owner: str,
        request_id: str,
        at: str,
        life: Mapping[str, str | None],
    ) -> bool:
        request_attr, at_attr = sent_attributes(flag)
        with self._lock:
            record = self._held(booking_num, phone, flag, owner)
            if record is None:
                return False
            record.update({flag: True, request_attr: request_id, at_attr: at})
            for name in claim_attributes(flag):
                record.pop(name, None)
            _change(record, life)
            return True

    def _apply_delivery(
        self,
        booking_num: str,
        phone: str,
        changes: Mapping[str, str | None],
        expected: Mapping[str, str | None],
        days: frozenset[str],
    ) -> bool:
        with self._lock:
            record = self.records.get((booking_num, phone))
            if record is None or any(record.get(name) != value for name, value in expected.items()):
                return False
            _change(record, changes)
            return True

    def _add_histories(self, entries: Sequence[tuple[str, str, str]]) -> None:
        with self._lock:
            self.sent.update(entries)

    def _due(self, due: str, limit: int) -> Iterator[dict[str, Any]]:
        with self._lock:
            queued = sorted(
                (
                    record
                    for record in self.records.values()
                    if record.get(DELIVERY_QUEUE) == DELIVERY_PENDING
                    and str(record.get(DELIVERY_DUE)) <= due
                ),
                key=lambda record: str(record[DELIVERY_DUE]),
            )
            found = [copy.deepcopy(record) for record in queued[:limit]]
        yield from found

    def _sent_on(self, day: str, biz_id: str | None) -> Iterator[dict[str, Any]]:
        with self._lock:
            found = [
                copy.deepcopy(self.records[(num, phone)])
                for entry_day, num, phone in sorted(self.sent)
                if entry_day == day
                and (biz_id is None or num.startswith(f"{biz_id}_"))
                and (num, phone) in self.records
            ]
        yield from found

    def _drop_claim(self, booking_num: str, phone: str, flag: str, owner: str) -> bool:
        with self._lock:
            record = self._held(booking_num, phone, flag, owner)
            if record is None:
                return False
            for name in claim_attributes(flag):
                record.pop(name, None)
            return True

    def _set_skipped(self, booking_num: str, phone: str, flag: str, reason: str) -> bool:
        with self._lock:
            record = self.records.get((booking_num, phone))
            if record is None or record.get(flag) is True:
                return False
            record[skipped_attribute(flag)] = reason
            return True

    def _set_unclear(
        self, booking_num: str, phone: str, flag: str, owner: str, window: str
    ) -> bool:
        with self._lock:
            record = self._held(booking_num, phone, flag, owner)
            if record is None:
                return False
            record[unclear_attribute(flag)] = window
            return True


def _change(record: dict[str, Any], changes: Mapping[str, str | None]) -> None:
    """Set each of `changes` on `record`, removing those that are None."""
    for name, value in changes.items():
        if value is None:
            record.pop(name, None)
        else:
            record[name] = value


class FakeBookingSource:
    """The booking API: bookings per (store, status), fetch calls recorded, failures on demand."""

    def __init__(self) -> None:
        self.bookings: dict[tuple[str, str], list[Booking]] = {}
        self.unusable: dict[tuple[str, str], list[UnusableEntry]] = {}
        self.failing: dict[str, Exception] = {}
        self.calls: list[tuple[str, str, date, date]] = []

    def add(self, booking: Booking) -> Booking:
        key = (booking.biz_id, str(booking.extra.get("status", "RC03")))
        self.bookings.setdefault(key, []).append(booking)
        return booking

    def remove(self, booking_num: str) -> None:
        for rows in self.bookings.values():
            rows[:] = [b for b in rows if b.booking_num != booking_num]

    def fetch_bookings(
        self, biz_id: str, statuses: str | Sequence[str], start: date, end: date, cookies: Any
    ) -> FetchResult:
        asked = (statuses,) if isinstance(statuses, str) else tuple(statuses)
        status = ",".join(asked)
        self.calls.append((biz_id, status, start, end))
        if biz_id in self.failing:
            raise self.failing[biz_id]
        rows = [
            b
            for one in asked
            for b in self.bookings.get((biz_id, one), [])
            if start <= b.starts_at.date() <= end
        ]
        return FetchResult(
            biz_id=biz_id,
            status=status,
            bookings=rows,
            unusable=[u for one in asked for u in self.unusable.get((biz_id, one), [])],
        )


class FakeAuthenticator:
    """The stored session: cookies, or the exception given; a refusal answers the same."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls = 0

    def stored_session(self, biz_id: str, now: datetime) -> list[dict[str, Any]]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return [{"name": "NID_AUT", "value": "a"}, {"name": "NID_SES", "value": "b"}]

    def refused(
        self, biz_id: str, now: datetime, cookies: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        return self.stored_session(biz_id, now)


class RecordingSender(SenderBase):
    """An SmsSender that keeps every message it accepts, one request per batch.

    `fail_next` fails the next request; `lose_next_answer` accepts the next
    request but answers SendUnclear, as when SENS's answer is lost. Accepted
    messages are kept with the real time, which `find_accepted` searches.

    Delivery lookups answer as the sandbox SENS does, in the adapter's words:
    every accepted message gets the id `{request_id}-m{n}`; `set_outcome(number,
    "delivered" | "failed" | "processing" | "waiting", code=, message=, telco=)`
    chooses what a recipient's messages report (delivered by default), read at
    lookup time. `delivery_lookups` counts `message_ids` and `delivery` calls;
    `lookups_fail = True` makes every lookup raise SendFailed (SENS cannot be
    asked) and `fail_next_lookups(n)` only the next n. An id never given raises
    SendFailed with status 404 (no result yet).
    """

    reaches_phones = True

    def __init__(self, *, max_per_request: int = 100) -> None:
        self.batches: list[list[Message]] = []
        self.failures: list[SendError] = []
        self.lost_answers = 0
        self.requests = 0
        self.lookups = 0
        self.max_per_request = max_per_request
        self.accepted_log: list[tuple[datetime, str, Message]] = []
        self.before_request: Callable[[Sequence[Message]], None] | None = None
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # the provider's clock
        # The 080 opt-out list: stored phone -> when; reads counted, failure on demand.
        self.opt_outs: dict[str, datetime | None] = {}
        self.opt_out_reads = 0
        self.opt_outs_fail = False
        # Delivery lookups: outcomes by recipient digits, ids of every accepted message.
        self.outcomes: dict[str, Outcome] = {}
        self.delivery_lookups = 0
        self.lookups_fail = False
        self._lookup_failures = 0
        self._message_ids: dict[str, list[tuple[str, Message, datetime]]] = {}

    @property
    def messages(self) -> list[Message]:
        return [m for batch in self.batches for m in batch]

    def fail_next(self, error: SendError | None = None) -> None:
        self.failures.append(error or SendFailed("provider unavailable", status=503))

    def lose_next_answer(self) -> None:
        self.lost_answers += 1

    def send_requests(self, messages: Sequence[Message]) -> Iterator[list[SendResult]]:
        for start in range(0, len(messages), self.max_per_request):
            chunk = list(messages[start : start + self.max_per_request])
            if self.before_request is not None:
                self.before_request(chunk)
            self.requests += 1
            if self.failures:
                error = self.failures.pop(0)
                yield [SendResult(m, error=error) for m in chunk]
                continue
            self.batches.append(chunk)
            request_id = f"req-{len(self.batches)}"
            at = self.clock()
            self.accepted_log += [(at, request_id, m) for m in chunk]
            self._message_ids[request_id] = [
                (f"{request_id}-m{index}", m, at) for index, m in enumerate(chunk, 1)
            ]
            if self.lost_answers:
                self.lost_answers -= 1
                lost = SendUnclear("no answer from the provider within 10 s")
                yield [SendResult(m, error=lost) for m in chunk]
                continue
            yield [SendResult(m, request_id=request_id) for m in chunk]

    def set_outcome(
        self,
        number: str,
        state: str = "delivered",
        *,
        code: str | None = None,
        message: str | None = None,
        telco: str = "SKT",
    ) -> None:
        """What lookups report from now on for the messages to `number` (as `FakeSens`)."""
        self.outcomes[_digits(number)] = Outcome.of(state, code=code, message=message, telco=telco)

    def fail_next_lookups(self, count: int = 1) -> None:
        self._lookup_failures += count

    def _lookup(self) -> None:
        self.delivery_lookups += 1
        if self.lookups_fail or self._lookup_failures:
            self._lookup_failures = max(0, self._lookup_failures - 1)
            raise SendFailed("SENS could not be asked for delivery results", status=503)

    def message_ids(self, request_id: str) -> dict[str, list[str]]:
        self._lookup()
        found: dict[str, list[str]] = {}
        for message_id, message, _at in self._message_ids.get(request_id, []):
            found.setdefault(normalize_phone(message.to), []).append(message_id)
        return found

    def delivery(self, message_id: str) -> DeliveryResult:
        self._lookup()
        for entries in self._message_ids.values():
            for given, message, at in entries:
                if given == message_id:
                    outcome = self.outcomes.get(_digits(message.to), Outcome())
                    # SENS's own fields, read by the adapter's reader: the same words.
                    return read_delivery(outcome.fields(at + timedelta(seconds=3)))
        raise SendFailed("SENS has no result for this message yet", status=404)

    def opted_out(self) -> dict[str, datetime | None]:
        self.opt_out_reads += 1
        if self.opt_outs_fail:
            raise SendFailed("SENS's opt-out list unreachable", status=503)
        return dict(self.opt_outs)

    def find_accepted(
        self,
        messages: Sequence[Message],
        start: datetime,
        end: datetime,
        *,
        exclude: Collection[str] = (),
    ) -> list[str | None]:
        self.lookups += 1
        pool = [
            (rid, m)
            for at, rid, m in self.accepted_log
            if start <= at <= end and rid not in exclude
        ]
        found: list[str | None] = []
        for message in messages:
            match = next(
                ((rid, m) for rid, m in pool if self._same(m, message)),
                None,
            )
            if match is not None:
                pool.remove(match)
            found.append(match[0] if match else None)
        return found

    @staticmethod
    def _same(listed: Message, message: Message) -> bool:
        """What SENS's list can tell apart: not the text, nor the kind."""
        return (listed.to, listed.sender, listed.type, listed.content_type) == (
            message.to,
            message.sender,
            message.type,
            message.content_type,
        )


class RecordingAlimTalkSender(RecordingSender):
    """A RecordingSender for messages sent as AlimTalk, in the vocabulary of `FakeSens`.

    Requests go per channel and template (up to `max_per_request` each), in
    the order given; a message without `alimtalk` raises ValueError. Once a
    template is approved (`approve_template`), a message must fill in an
    approved one or it is refused alone (SendRejected, Kakao's code 3015 or
    3016, as the adapter says it); before any approval every template passes.
    `no_kakao(number)` makes that customer's AlimTalk fail (3019) so its SMS
    failover goes (`failovers`; its result per `set_outcome`); lookups answer
    in the adapter's words ("delivered by SMS failover (AlimTalk 3019: ...)").
    `find_accepted` matches recipient, template and content, as the adapter.
    `fail_next`, `lose_next_answer`, the lookup failures and `before_request`
    work as for SMS. `opted_out()` is empty: AlimTalk never carries advertising.
    """

    def __init__(self, *, max_per_request: int = 100) -> None:
        super().__init__(max_per_request=max_per_request)
        self.kakao: dict[str, KakaoOutcome] = {}
        self.templates: dict[tuple[str, str], re.Pattern[str]] = {}
        self.refused: list[Message] = []

    def approve_template(self, plus_friend_id: str, code: str, content: str) -> None:
        self.templates[(plus_friend_id, code)] = template_pattern(content)

    def no_kakao(
        self, number: str, *, code: str = KAKAO_NOT_A_USER, message: str = "not a KakaoTalk user"
    ) -> None:
        self.set_alimtalk_outcome(number, "failed", code=code, message=message)

    def set_alimtalk_outcome(
        self,
        number: str,
        state: str = "delivered",
        *,
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        self.kakao[_digits(number)] = KakaoOutcome.of(state, code=code, message=message)

    @property
    def failovers(self) -> list[Message]:
        """The accepted messages whose SMS failover went (their customer has no KakaoTalk)."""
        return [
            m
            for m in self.messages
            if m.alimtalk is not None
            and m.alimtalk.failover
            and self.kakao.get(_digits(m.to), KakaoOutcome()).state == "failed"
        ]

    def _refusal(self, message: Message) -> SendRejected | None:
        alimtalk = message.alimtalk
        if alimtalk is None or not self.templates:
            return None
        pattern = self.templates.get((alimtalk.plus_friend_id, alimtalk.template_code))
        if pattern is None:
            return SendRejected(f"AlimTalk refused: {KAKAO_TEMPLATE_NOT_FOUND} template not found")
        if pattern.fullmatch(alimtalk.content) is None:
            return SendRejected(
                f"AlimTalk refused: {KAKAO_TEMPLATE_MISMATCH} "
                "content does not match the approved template"
            )
        return None

    def send_requests(self, messages: Sequence[Message]) -> Iterator[list[SendResult]]:
        groups: dict[tuple[str, str], list[Message]] = {}
        for message in messages:
            if message.alimtalk is None:
                raise ValueError("AlimTalkSender sends only messages whose `alimtalk` is set")
            key = (message.alimtalk.plus_friend_id, message.alimtalk.template_code)
            groups.setdefault(key, []).append(message)
        for group in groups.values():
            for start in range(0, len(group), self.max_per_request):
                chunk = group[start : start + self.max_per_request]
                refusals = {id(m): error for m in chunk if (error := self._refusal(m))}
                self.refused += [m for m in chunk if id(m) in refusals]
                going = [m for m in chunk if id(m) not in refusals]
                if not going:
                    self.requests += 1  # a request went; Kakao refused all of it
                answers = {
                    id(result.message): result
                    for request in (super().send_requests(going) if going else [])
                    for result in request
                }
                yield [
                    SendResult(m, error=refusals[id(m)]) if id(m) in refusals else answers[id(m)]
                    for m in chunk
                ]

    def delivery(self, message_id: str) -> DeliveryResult:
        self._lookup()
        for entries in self._message_ids.values():
            for given, message, at in entries:
                if given == message_id and message.alimtalk is not None:
                    kakao = self.kakao.get(_digits(message.to), KakaoOutcome())
                    failover = (
                        FailoverConfig(message.type.value, _digits(message.sender), message.text)
                        if message.alimtalk.failover
                        else None
                    )
                    sms = self.outcomes.get(_digits(message.to), Outcome())
                    # SENS's own fields, read by the adapter's reader: the same words.
                    entry = {
                        "requestStatusCode": "A000",
                        "useSmsFailover": message.alimtalk.failover,
                        **kakao.fields(at, failover=failover, sms=sms),
                    }
                    return read_alimtalk_delivery(entry)
        raise SendFailed("SENS has no result for this message yet", status=404)

    def opted_out(self) -> dict[str, datetime | None]:
        return {}

    @staticmethod
    def _same(listed: Message, message: Message) -> bool:
        """What SENS's AlimTalk list tells apart: recipient, template, content."""
        return (
            listed.to == message.to
            and listed.alimtalk is not None
            and listed.alimtalk == message.alimtalk
        )


def _digits(number: str) -> str:
    return "".join(character for character in number if character.isdigit())


class RecordingNotifier:
    def __init__(self) -> None:
        self.summaries: list[Mapping[str, Any]] = []
        self.alerts: list[str] = []

    def summary(self, report: Mapping[str, Any]) -> bool:
        self.summaries.append(report)
        return True

    def alert(self, text: str, *, every: timedelta | None = None) -> bool:
        if every is not None and text in self.alerts:
            return False
        self.alerts.append(text)
        return True
