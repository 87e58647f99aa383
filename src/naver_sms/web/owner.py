"""The owner's pages' data: `Owner` reads and acts through the same ports as the command line.

No SQL and no vendor call here: the records come from `BookingRepositoryPort`,
the session and its notes from `SessionRepositoryPort`, Naver's answer from
the booking API's `check_session`, the 080 list and test sends from SENS, all
built (and closed) by `bootstrap.owner`. Every value handed to a page has its
phone numbers masked and no cookie value (see `naver_sms.web.model`).

Choices an owner notices:

- Today shows, per booking, every message of the store's catalog that has
  happened or may still happen: sent ones with the provider's result, skipped
  and unclear ones with their reason, the ones the schedule sends now (due) or
  holds, and the ones whose moment has not come yet as held with when they go.
  A message that will never apply to the booking (a cancellation notice of a
  booking that stands, an event whose option keywords do not match, a
  disabled one) is not shown: it would only be noise.
- A test send counts against the day's limit as soon as it reaches the
  provider, also when the provider refuses it or its answer is lost.

The pages call an `Owner` from several threads at once (the web server's
thread pool): the ports it holds are safe for that (SQLite opens a connection
per thread, DynamoDB and httpx clients are shared safely). What `Owner` reads
and then writes itself, the day's test-send count, and the dry run, which
reads Naver for seconds, are done one at a time under a lock.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any, Final, Protocol

from naver_sms.config import AppConfig, ConfigError, StoreConfig
from naver_sms.database.base import BookingRepositoryPort, SessionRepositoryPort
from naver_sms.domain.booking import (
    KST,
    Booking,
    BookingValidationError,
    mask_phone,
    normalize_phone,
    parse_booking_time,
    validate_day,
)
from naver_sms.domain.catalog import MessageSpec, When
from naver_sms.domain.delivery import DeliveryStatus, SentMessage, history, sent_messages
from naver_sms.domain.plan import opted_out_reason
from naver_sms.domain.record import skipped_attribute, unclear_attribute
from naver_sms.domain.rules import matching_option, visit_end
from naver_sms.domain.schedule import CANCELLED, COMPLETED, CONFIRMED, evaluate_messages
from naver_sms.domain.session import SessionValidationError
from naver_sms.messaging.base import SendError, SmsSender
from naver_sms.messaging.templates import CheckRow, check_templates
from naver_sms.messaging.test_send import (
    TestSendFailed,
    TestSendRefused,
    find_message,
    refuse_opted_out,
    render_test,
    send_rendered,
    sender_for,
)
from naver_sms.naver.cookies import cookie_infos, read_cookie_export
from naver_sms.naver.errors import NaverError
from naver_sms.report import CycleReport
from naver_sms.utils.clock import to_kst
from naver_sms.utils.logger import get_logger
from naver_sms.utils.scrub import mask_phones_in
from naver_sms.web.model import (
    BookingLine,
    HistoryFilter,
    HistoryLine,
    LoginState,
    MessageLine,
    MessageState,
    OptOut,
    Rehearsal,
    StoreDay,
    TestSend,
    WebUserError,
)

__all__ = ["HISTORY_MAX_DAYS", "TEST_SENDS_PER_DAY", "Owner", "message_lines"]

TEST_SENDS_PER_DAY: Final = 5
HISTORY_MAX_DAYS: Final = 31
# The session store's note that counts the day's test sends: {"day", "count"}.
TEST_SENDS_NOTE: Final = "test_sends"
NO_SENS: Final = (
    "SENS 키가 없습니다: SENS_ACCESS_KEY, SENS_SECRET_KEY, SENS_SERVICE_ID를 설정하세요 "
    "(no SENS keys: set SENS_ACCESS_KEY, SENS_SECRET_KEY and SENS_SERVICE_ID)"
)
STATUS_WORDS: Final = {CONFIRMED: "confirmed", CANCELLED: "cancelled", COMPLETED: "completed"}
CSV_HEADER: Final = (
    "sent_at",
    "store_id",
    "store_name",
    "booking_num",
    "phone",
    "message",
    "channel",
    "status",
    "result",
    "checked_at",
)

log = get_logger(__name__)
# No number on the 080 list (a page without SENS keys, or a test's record).
EMPTY_LIST: Mapping[str, datetime | None] = MappingProxyType({})


class SessionCheckPort(Protocol):
    """The booking API's one cheap request that says whether Naver takes the cookies."""

    def check_session(self, cookies: list[dict[str, Any]], biz_id: str, today: date) -> bool: ...


class OptOutListPort(SmsSender, Protocol):
    """SENS's SMS sender with its 080 opt-out list."""

    def add_opt_outs(self, numbers: Sequence[str]) -> None: ...

    def remove_opt_outs(self, numbers: Sequence[str]) -> None: ...


# --- today: pure ---------------------------------------------------------------------------


def _hhmm(moment: datetime) -> str:
    return to_kst(moment).strftime("%m-%d %H:%M")


def _sent_line(name: str, sent: SentMessage) -> MessageLine:
    state = {
        DeliveryStatus.ACCEPTED: MessageState.SENT,
        DeliveryStatus.DELIVERED: MessageState.DELIVERED,
        DeliveryStatus.FAILED: MessageState.FAILED,
        DeliveryStatus.UNKNOWN: MessageState.UNKNOWN,
    }[sent.status]
    return MessageLine(
        name=name,
        state=state,
        at=to_kst(sent.sent_at),
        channel=sent.channel or "sms",
        why=mask_phones_in(sent.result),
    )


def _not_yet(spec: MessageSpec, booking: Booking, status: str) -> MessageLine | None:
    """A message the schedule does not mention now, when it may still go: held, and when."""
    if not spec.enabled or status == CANCELLED:
        return None
    if spec.keywords and matching_option(booking, spec.keywords) is None:
        return None
    if spec.when is When.CONFIRMED:
        why = "not yet: goes once Naver shows the booking confirmed"
    elif spec.when is When.BEFORE_VISIT:
        why = f"not yet: goes from {_hhmm(booking.starts_at - spec.offset)}"
    elif spec.when is When.AFTER_VISIT:
        why = f"not yet: goes after the visit, from {_hhmm(visit_end(booking) + spec.offset)}"
    else:  # cancellation and change notices: only when that happens
        return None
    return MessageLine(name=spec.name, state=MessageState.HELD, why=why)


def _recorded_line(
    spec: MessageSpec, record: Mapping[str, Any], sent: Mapping[str, SentMessage]
) -> MessageLine | None:
    """What the record itself says of the message: sent, adopted, skipped or unclear."""
    flag = spec.flag
    if record.get(flag) is True:
        if flag in sent:
            return _sent_line(spec.name, sent[flag])
        return MessageLine(
            spec.name,
            MessageState.SKIPPED,
            why="marked as sent when naver-sms was installed (--adopt): never sent",
        )
    reason = record.get(skipped_attribute(flag))
    if isinstance(reason, str) and reason:
        return MessageLine(spec.name, MessageState.SKIPPED, why=mask_phones_in(reason))
    if record.get(unclear_attribute(flag)):
        return MessageLine(
            spec.name,
            MessageState.UNCLEAR,
            why="the provider's answer was lost; the next cycle asks it before sending again",
        )
    return None


def message_lines(
    booking: Booking,
    record: Mapping[str, Any],
    status: str,
    catalog: Sequence[MessageSpec],
    now: datetime,
    *,
    advertising_allowed: bool,
    opted_out: Mapping[str, datetime | None] | None = EMPTY_LIST,
) -> tuple[MessageLine, ...]:
    """Each message of `catalog` on the stored `record` (read as `booking`, with its
    `status`) at `now`, in catalog order.

    `opted_out` is the 080 list (None: it could not be read, and advertising
    waits as in the cycle).
    """
    schedule = evaluate_messages(
        booking, record, now, catalog, status=status, advertising_allowed=advertising_allowed
    )
    planned: dict[str, MessageLine] = {}
    for due in schedule.due:
        # As the cycle does: advertising to a number on the 080 list waits.
        held = opted_out_reason(booking.phone, opted_out) if due.spec.advertising else None
        planned[due.name] = (
            MessageLine(due.name, MessageState.DUE, why=due.why)
            if held is None
            else MessageLine(due.name, MessageState.HELD, why=held)
        )
    for spec, why in schedule.held:
        planned[spec.name] = MessageLine(spec.name, MessageState.HELD, why=why)
    for spec, why in schedule.skip:
        planned[spec.name] = MessageLine(spec.name, MessageState.SKIPPED, why=why)
    sent = {message.flag: message for message in sent_messages(record)}
    lines = []
    for spec in catalog:
        line = _recorded_line(spec, record, sent)
        if line is None:
            line = planned.get(spec.name)
        if line is None and spec.flag in sent:
            # Sent for a visit that then moved: the new time's message is not due yet.
            line = _sent_line(spec.name, sent[spec.flag])
        if line is None:
            line = _not_yet(spec, booking, status)
        if line is not None:
            lines.append(line)
    return tuple(lines)


def record_status(record: Mapping[str, Any], catalog: Sequence[MessageSpec]) -> str:
    """Naver's status code of the booking as far as the record tells it.

    A record keeps the status Naver showed when it was first stored; a booking
    cancelled later is known by its cancellation notice (sent or skipped) or
    Naver's `cancelled_at`, so the page never offers it a reminder.
    """
    code = record.get("status")
    code = code if isinstance(code, str) else ""
    notices = [spec.flag for spec in catalog if spec.when is When.CANCELLED]
    if record.get("cancelled_at") or any(
        record.get(flag) is True or record.get(skipped_attribute(flag)) for flag in notices
    ):
        return CANCELLED
    return code


def _status_words(code: str) -> str:
    return STATUS_WORDS.get(code, code)


def _text(value: object) -> str:
    return mask_phones_in(value) if isinstance(value, str) else ""


def _unreadable_line(record: Mapping[str, Any], day: str, error: Exception) -> BookingLine:
    """A stored record that is not a valid booking: one line saying so, nothing else of it."""
    try:
        visit = parse_booking_time(str(record.get("booking_time", "")))
    except BookingValidationError:
        visit = datetime.combine(date.fromisoformat(day), time(0), tzinfo=KST)
    return BookingLine(
        booking_num=_text(record.get("booking_num"))[:40] or "?",
        visit=visit,
        customer="",
        phone=mask_phone(record.get("phone")),
        item="",
        status="unreadable",
        messages=(
            MessageLine(
                "-",
                MessageState.HELD,
                why=f"this stored record cannot be read: {mask_phones_in(str(error))[:200]}",
            ),
        ),
    )


def booking_line(
    record: Mapping[str, Any],
    catalog: Sequence[MessageSpec],
    now: datetime,
    *,
    day: str,
    advertising_allowed: bool,
    opted_out: Mapping[str, datetime | None] | None = EMPTY_LIST,
) -> BookingLine:
    """The today page's line of one stored record; never raises for the record's content."""
    try:
        booking = Booking.from_dict(record)
        status = record_status(record, catalog)
        messages = message_lines(
            booking,
            record,
            status,
            catalog,
            now,
            advertising_allowed=advertising_allowed,
            opted_out=opted_out,
        )
    except (BookingValidationError, ValueError, TypeError) as exc:
        return _unreadable_line(record, day, exc)
    return BookingLine(
        booking_num=booking.booking_num,
        visit=booking.starts_at,
        customer=mask_phones_in(booking.name),
        phone=mask_phone(booking.phone),
        item=_text(booking.extra.get("item_name")),
        status=_status_words(status),
        messages=messages,
    )


# --- history: pure ---------------------------------------------------------------------------


def history_days(query: HistoryFilter) -> list[str]:
    """The KST days of the filter, first to last; WebUserError on a bad date or range."""
    try:
        first = date.fromisoformat(validate_day(query.first_day))
        last = date.fromisoformat(validate_day(query.last_day))
    except BookingValidationError:
        raise WebUserError(
            "날짜는 YYYY-MM-DD 형식으로 쓰세요 (write dates as YYYY-MM-DD, e.g. 2026-12-01)"
        ) from None
    if last < first:
        raise WebUserError("끝 날짜가 시작 날짜보다 앞입니다 (the last day is before the first)")
    if (last - first).days + 1 > HISTORY_MAX_DAYS:
        raise WebUserError(
            f"한 번에 {HISTORY_MAX_DAYS}일까지 볼 수 있습니다 "
            f"(at most {HISTORY_MAX_DAYS} days at a time)"
        )
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def history_status(query: HistoryFilter) -> DeliveryStatus | None:
    if not query.status:
        return None
    try:
        return DeliveryStatus(query.status)
    except ValueError:
        known = ", ".join(status.value for status in DeliveryStatus)
        raise WebUserError(f"알 수 없는 상태입니다 (status must be one of {known})") from None


def history_csv_text(lines: Sequence[HistoryLine]) -> str:
    """The lines as CSV: a header row, KST times, masked phones, a BOM for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for line in lines:
        writer.writerow(
            (
                line.sent_at.astimezone(KST).isoformat(timespec="seconds"),
                line.store_id,
                line.store_name,
                line.booking_num,
                line.phone,
                line.message,
                line.channel,
                line.status,
                line.result,
                line.checked_at.astimezone(KST).isoformat(timespec="seconds")
                if line.checked_at
                else "",
            )
        )
    return "\ufeff" + out.getvalue()


# --- the port --------------------------------------------------------------------------------


class Owner:
    """`OwnerPort` over the project's ports; `bootstrap.owner` builds it and closes its parts.

    `sens` is None without SENS keys (`sens_problem` says what to set); then
    test sends and the opt-out list are refused in one line, every other page
    works. `alimtalk` is the AlimTalk sender when the config uses AlimTalk.
    `rehearse_cycle(now)` runs one dry-run cycle (`run_cycle` on ports built with
    dry_run=True) and returns its report.
    """

    def __init__(
        self,
        *,
        config: AppConfig,
        bookings: BookingRepositoryPort,
        sessions: SessionRepositoryPort,
        booking_api: SessionCheckPort,
        rehearse_cycle: Callable[[datetime], CycleReport],
        sens: OptOutListPort | None = None,
        alimtalk: SmsSender | None = None,
        sens_problem: str = NO_SENS,
    ) -> None:
        self.config = config
        self.bookings = bookings
        self.sessions = sessions
        self.booking_api = booking_api
        self.rehearse_cycle = rehearse_cycle
        self.sens = sens
        self.alimtalk = alimtalk
        self.sens_problem = sens_problem
        # Two forms posted at once must not both read "one left" and both send.
        self._test_sends = threading.Lock()
        # A double-clicked dry run waits for the first, as it did when the page ran one
        # request at a time: two would read every store's bookings from Naver at once.
        self._rehearsing = threading.Lock()

    # -- stores

    def store_names(self) -> dict[str, str]:
        return {store.id: store.name for store in self.config.stores}

    def _store(self, store_id: str) -> StoreConfig:
        try:
            return self.config.store(store_id)
        except KeyError:
            known = ", ".join(self.store_names())
            raise WebUserError(
                f"설정에 없는 매장입니다: {store_id[:20]!r} (stores: {known})"
            ) from None

    # -- today

    def today(self, now: datetime, days: int = 2) -> list[StoreDay]:
        first = to_kst(now).date()
        opted_out = self._today_opt_outs()
        day_names = [(first + timedelta(days=offset)).isoformat() for offset in range(max(1, days))]
        # One read per day for every store: on DynamoDB a listing is a Scan of the
        # whole table, so one per store and day would read it stores x days times.
        by_store: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for day in day_names:
            for record in self.bookings.list_bookings(None, day):
                store_id = str(record.get("booking_num", "")).partition("_")[0]
                by_store.setdefault((store_id, day), []).append(record)
        result = []
        for store in self.config.stores:
            catalog = self.config.catalog(store)
            for day in day_names:
                lines = [
                    booking_line(
                        record,
                        catalog,
                        now,
                        day=day,
                        advertising_allowed=bool(store.opt_out),
                        opted_out=opted_out,
                    )
                    for record in by_store.get((store.id, day), [])
                ]
                lines.sort(key=lambda line: (line.visit, line.booking_num))
                result.append(StoreDay(store.id, store.name, day, tuple(lines)))
        return result

    # -- history

    def history(self, query: HistoryFilter) -> list[HistoryLine]:
        days = history_days(query)
        status = history_status(query)
        names = self.store_names()
        if query.store_id is not None and query.store_id not in names:
            self._store(query.store_id)
        rows: list[SentMessage] = []
        for day in days:
            records = self.bookings.sent_on(day, query.store_id)
            rows += history(records, day, store=query.store_id, status=status)
        rows.sort(key=lambda m: (m.sent_at, m.booking_num, m.flag), reverse=True)
        return [
            HistoryLine(
                sent_at=to_kst(row.sent_at),
                store_id=row.store,
                store_name=names.get(row.store, ""),
                booking_num=row.booking_num,
                phone=row.phone_masked,
                message=row.kind,
                channel=row.channel or "sms",
                status=row.status.value,
                result=mask_phones_in(row.result),
                checked_at=to_kst(row.checked_at) if row.checked_at else None,
            )
            for row in rows
        ]

    def history_csv(self, query: HistoryFilter) -> str:
        return history_csv_text(self.history(query))

    # -- templates and test sends

    def templates(self) -> list[CheckRow]:
        return check_templates(self.config)

    def test_sends_left(self, now: datetime) -> int:
        note = self.sessions.get_note(TEST_SENDS_NOTE) or {}
        if note.get("day") != to_kst(now).date().isoformat():
            return TEST_SENDS_PER_DAY
        try:
            used = int(note.get("count", "0"))
        except ValueError:
            used = TEST_SENDS_PER_DAY  # a note that cannot be read allows nothing more today
        return max(0, TEST_SENDS_PER_DAY - used)

    def _count_test_send(self, now: datetime, left: int) -> int:
        """Record one more test send today, `left` having been left before it; what is left."""
        left -= 1
        used = TEST_SENDS_PER_DAY - left
        self.sessions.put_note(
            TEST_SENDS_NOTE, {"day": to_kst(now).date().isoformat(), "count": str(used)}
        )
        return left

    def _require_sens(self) -> OptOutListPort:
        if self.sens is None:
            raise WebUserError(self.sens_problem)
        return self.sens

    def _today_opt_outs(self) -> Mapping[str, datetime | None] | None:
        """The 080 list for the today page: what the cycle would hold (None: unreadable)."""
        if self.sens is None:
            return EMPTY_LIST  # no SENS keys: no cycle sends anything to hold
        if not any(store.opt_out for store in self.config.stores):
            return EMPTY_LIST  # no store advertises: the list holds nothing back
        try:
            return self.sens.opted_out()
        except SendError:
            return None

    def _opted_out(self, sens: OptOutListPort) -> dict[str, datetime | None]:
        try:
            return sens.opted_out()
        except SendError as exc:
            raise WebUserError(f"SENS의 수신거부 목록을 읽지 못했습니다 ({exc})") from None

    def test_send(self, store_id: str, message: str, to: str, now: datetime) -> TestSend:
        store = self._store(store_id)
        number = _mobile(to)
        sens = self._require_sens()
        with self._test_sends:
            left = self.test_sends_left(now)
            if left <= 0:
                raise WebUserError(
                    f"오늘 테스트 발송은 {TEST_SENDS_PER_DAY}번까지입니다; 내일 다시 하세요 "
                    f"(at most {TEST_SENDS_PER_DAY} test sends a day)"
                )
            try:
                spec = find_message(self.config, store, message)
                rendered = render_test(self.config, store, spec, number, now)
                sender = sender_for(rendered, sens, self.alimtalk)
                if rendered.advertising:
                    refuse_opted_out(rendered, self._opted_out(sens))
            except TestSendRefused as exc:
                raise WebUserError(str(exc)) from None
            # Counted before it leaves: a refused send or a lost answer used the provider too.
            left = self._count_test_send(now, left)
        try:
            request_id = send_rendered(rendered, sender)
        except (TestSendRefused, TestSendFailed) as exc:
            log.warning(
                "Test message not sent",
                operation="test_send",
                context={"store": store.id, "message": spec.name, "to": mask_phone(number)},
                error=str(exc),
            )
            raise WebUserError(str(exc)) from None
        channel = rendered.channel.value
        log.info(
            "Test message sent",
            operation="test_send",
            context={
                "store": store.id,
                "message": spec.name,
                "to": mask_phone(number),
                "channel": channel,
                "request_id": request_id,
            },
        )
        text = rendered.alimtalk.content if rendered.alimtalk is not None else rendered.text
        return TestSend(
            store_id=store.id,
            message=spec.name,
            to=mask_phone(number),
            channel=channel,
            text=mask_phones_in(text),
            left_today=left,
        )

    # -- the Naver login

    def login_banner(self) -> str:
        needed = self.sessions.login_needed()
        return needed[0] if needed else ""

    def login_state(self, now: datetime, *, check: bool = True) -> LoginState:
        needed = self.sessions.login_needed()
        needed_text, needed_at = (needed[0], to_kst(needed[1])) if needed else ("", None)
        stored = self.sessions.get_session()
        if stored is None:
            return LoginState(
                stored=False,
                valid=None,
                problem="no Naver session stored: paste the cookies of a logged-in browser",
                login_needed=needed_text,
                login_needed_at=needed_at,
            )
        when = stored.saved_at  # None for a session saved before saved_at was kept
        saved_at = to_kst(when) if when is not None else None
        try:
            cookies = stored.get_cookies_list()
        except SessionValidationError as exc:
            return LoginState(
                stored=True,
                valid=False,
                problem=f"the stored session cannot be read ({exc}): paste new cookies",
                saved_at=saved_at,
                login_needed=needed_text,
                login_needed_at=needed_at,
            )
        names = tuple(info.name for info in cookie_infos(cookies))
        valid: bool | None = None
        problem = ""
        if check:
            valid, problem = self._check(cookies, now)
        return LoginState(
            stored=True,
            valid=valid,
            problem=problem,
            saved_at=saved_at,
            cookie_names=names,
            login_needed=needed_text,
            login_needed_at=needed_at,
        )

    def _check(self, cookies: list[dict[str, Any]], now: datetime) -> tuple[bool | None, str]:
        biz_id = self.config.stores[0].id  # any store's console checks the owner's cookies
        try:
            accepted = self.booking_api.check_session(cookies, biz_id, to_kst(now).date())
        except NaverError as exc:
            return None, f"Naver could not be asked just now ({exc}); try again in a minute"
        if not accepted:
            return False, "Naver refused the stored cookies: log in again or paste new cookies"
        return True, ""

    def paste_cookies(self, text: str, now: datetime) -> LoginState:
        try:
            export = read_cookie_export(text)
        except SessionValidationError as exc:
            # The validator's words name a cookie by its place and name, never its value.
            raise WebUserError(str(exc)) from None
        self.sessions.save_session(json.dumps(export.cookies, ensure_ascii=False), now=now)
        return self.login_state(now)

    # -- opt-outs

    def optouts(self) -> list[OptOut]:
        listed = self._opted_out(self._require_sens())
        rows = [
            OptOut(mask_phone(phone), to_kst(when) if when else None)
            for phone, when in listed.items()
        ]
        rows.sort(
            key=lambda row: (row.since is None, row.since or datetime.min.replace(tzinfo=KST))
        )
        return rows

    def add_optout(self, phone: str) -> str:
        number = _mobile(phone)
        try:
            self._require_sens().add_opt_outs([number])
        except SendError as exc:
            raise WebUserError(f"SENS가 수신거부 번호를 추가하지 못했습니다 ({exc})") from None
        log.info("Opt-out added", operation="add_optout", context={"phone": mask_phone(number)})
        return mask_phone(number)

    def remove_optout(self, phone: str) -> str:
        number = _mobile(phone)
        try:
            self._require_sens().remove_opt_outs([number])
        except SendError as exc:
            raise WebUserError(f"SENS가 수신거부 번호를 지우지 못했습니다 ({exc})") from None
        log.info(
            "Opt-out removed", operation="remove_optout", context={"phone": mask_phone(number)}
        )
        return mask_phone(number)

    # -- rehearsal

    def rehearse(self, now: datetime) -> Rehearsal:
        try:
            with self._rehearsing:
                report = self.rehearse_cycle(now)
        except ConfigError as exc:
            raise WebUserError(str(exc)) from None
        return Rehearsal(at=to_kst(now), report={"dry_run": True, **report.to_dict()})


def _mobile(text: str) -> str:
    try:
        return normalize_phone(text)
    except ValueError:
        raise WebUserError(
            f"휴대폰 번호가 아닙니다: {mask_phone(text)} ({mask_phone(text)} is not a Korean "
            "mobile number)"
        ) from None
