"""The store contract written once: validation, logging and exactly-once rules.

Both adapters (DynamoDB and SQLite) subclass these and supply only storage
primitives (the underscore methods) plus `_translated`, which turns their
vendor's errors into the seed's exceptions. So a rule such as "a claim that is
already yours counts as won" lives in one place, and the two stores cannot
drift apart in what they validate, log or decide.
"""

from __future__ import annotations

import functools
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import astuple, dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Final

from naver_sms.database.base import (
    DEFAULT_LEASE,
    LOGIN_NEEDED_NOTE,
    WRITE_BATCH,
    BookingKey,
    ClaimRequest,
    MarkRequest,
    NewRecord,
    claim_attributes,
    sent_attributes,
    skipped_attribute,
    unclear_attribute,
    visit_order,
)
from naver_sms.database.exceptions import RepositoryError
from naver_sms.domain import delivery
from naver_sms.domain.booking import (
    KST,
    Booking,
    BookingValidationError,
    normalize_phone,
    parse_booking_time,
    split_booking_num,
    validate_booking_num,
    validate_booking_time,
    validate_day,
    validate_flag_name,
)
from naver_sms.domain.delivery import DeliveryStatus, DeliveryUpdate
from naver_sms.domain.record import (
    DELIVERY_DUE,
    DELIVERY_PENDING,
    DELIVERY_QUEUE,
    delivery_attributes,
    is_flag_name,
)
from naver_sms.domain.session import (
    Session,
    SessionValidationError,
    load_cookies_json,
    parse_cookies,
    split_cookies,
)
from naver_sms.utils.clock import to_utc_z
from naver_sms.utils.logger import get_logger, logged_operation, mask_phone
from naver_sms.utils.scrub import register_secrets

log = get_logger(__name__)
# What a moved visit resets when the caller does not say: the seed's reminder.
REMINDER_FLAG: Final = "remind_sms"
_UNCLEAR_WINDOW = re.compile(r"[0-9]{1,15}-[0-9]{1,15}")
# Notes next to the session: short names, and small (each store's item limits are far off).
_NOTE_NAME_MAX: Final = 40
_NOTE_NAME: Final = re.compile(rf"[a-z_]{{1,{_NOTE_NAME_MAX}}}")
_NOTE_MAX_CHARS: Final = 4096
# The channels a sender may report for an accepted message.
CHANNELS: Final = frozenset({"sms", "lms", "alimtalk"})
# The delivery attributes of a flag, by the part after `{flag}_`.
_DELIVERY_SUFFIXES: Final = tuple(
    name.removeprefix("x_sms_") for name in astuple(delivery_attributes("x_sms"))
)


def _is_delivery_attribute(name: str, *, status_only: bool = False) -> bool:
    """Whether a check may write `name`: a delivery attribute of some message's flag."""
    suffixes = ("status",) if status_only else _DELIVERY_SUFFIXES
    return any(
        name.endswith(f"_{suffix}") and is_flag_name(name.removesuffix(f"_{suffix}"))
        for suffix in suffixes
    )


def kst_seconds(moment: datetime) -> str:
    """An aware instant as the stores keep times: KST ISO to the second (lexical = time order)."""
    if moment.tzinfo is None:
        raise ValueError("now must be an aware datetime (Asia/Seoul or UTC)")
    return moment.astimezone(KST).isoformat(timespec="seconds")


def _validated_due(due: object) -> str:
    """A `delivery_due` as the queue compares them: KST ISO seconds, or it would sort wrong."""
    try:
        moment = datetime.fromisoformat(str(due))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or kst_seconds(moment) != due:
        raise ValueError(f"record_delivery: due must be KST ISO seconds, got {due!r}")
    return str(due)


def _validated_update(update: DeliveryUpdate) -> dict[str, str | None]:
    """The attribute changes of a check's update (None: removed), every name and value checked."""
    changes: dict[str, str | None] = {}
    for name, value in update.set.items():
        if not _is_delivery_attribute(name):
            raise ValueError(f"record_delivery: {name!r} is not a delivery attribute")
        if not isinstance(value, str):
            raise TypeError(f"record_delivery: {name} must be a string")
        changes[name] = value
    for name, expected in update.expected.items():
        if not _is_delivery_attribute(name, status_only=True):
            raise ValueError(f"record_delivery: {name!r} is not a delivery status attribute")
        if expected is not None and not isinstance(expected, str):
            raise TypeError(f"record_delivery: the expected {name} must be a string or None")
    for day in update.days:
        validate_day(day)
    if update.due is None:
        changes.update({DELIVERY_QUEUE: None, DELIVERY_DUE: None})
    else:
        # The queue too: a due without it would never be looked at again.
        changes.update({DELIVERY_QUEUE: DELIVERY_PENDING, DELIVERY_DUE: _validated_due(update.due)})
    return changes


def _check_channel(channel: str | None) -> None:
    if channel is not None and channel not in CHANNELS:
        raise ValueError(f"mark_sent: channel must be one of {', '.join(sorted(CHANNELS))}")


def epoch(moment: datetime) -> int:
    """Whole seconds since 1970 of an aware datetime: how claim expiries are stored."""
    if moment.tzinfo is None:
        raise ValueError("now must be an aware datetime (Asia/Seoul or UTC)")
    return int(moment.timestamp())


def _sent_that_day(record: Mapping[str, Any], day: str) -> bool:
    """Whether a message of `record` (a flag with a request id) was sent on KST `day`."""
    for name in record:
        if not (isinstance(name, str) and name.endswith("_request_id")):
            continue
        request_attr, at_attr = sent_attributes(name.removesuffix("_request_id"))
        if record.get(request_attr) and str(record.get(at_attr, "")).startswith(day):
            return True
    return False


def _checked_key(booking_num: str, phone: str, flag: str) -> tuple[str, str, str]:
    """(booking_num, normalised phone, flag) of one write of a batch, each checked."""
    return validate_booking_num(booking_num), normalize_phone(phone), validate_flag_name(flag)


def _mark_life(flag: str, channel: str | None, now: datetime) -> dict[str, str | None]:
    """What a mark sets besides the flag: with a channel, the message's delivery tracking."""
    if channel is None:
        return {}
    names = delivery_attributes(flag)
    return {
        names.channel: channel,
        names.status: DeliveryStatus.ACCEPTED.value,
        # A flag sent again (a rescheduled visit's reminder) is a new
        # message: the old one's id would be looked up in its place.
        names.message_id: None,
        names.result: None,
        names.checked_at: None,
        DELIVERY_QUEUE: DELIVERY_PENDING,
        # A plain SET, though the record may be queued for an older
        # message already: that one's next check is due no later than
        # a minute after it was sent, this one's a minute after now, so
        # the record is looked at no later than it should for either
        # (the check then sets the due of what is left).
        DELIVERY_DUE: delivery.first_check(now),
    }


class OptionWindows:
    """Per store, the earliest and latest visit among records whose option SMS is not sent.

    Records are fed one at a time from a scan; a record with a bad key or time
    is logged and skipped, never stops the scan.
    """

    def __init__(self) -> None:
        self._windows: dict[str, tuple[datetime, datetime]] = {}
        self.skipped = 0

    def __len__(self) -> int:
        return len(self._windows)

    def add(self, booking_num: str, booking_time: object) -> None:
        try:
            biz_id, _ = split_booking_num(booking_num)
            start = parse_booking_time(str(booking_time))
        except BookingValidationError as exc:
            self.skipped += 1
            log.warning(
                "Record skipped in option scan",
                operation="scan_unnotified_options",
                context={"booking_num": booking_num},
                error=str(exc),
            )
            return
        first, last = self._windows.get(biz_id, (start, start))
        self._windows[biz_id] = (min(first, start), max(last, start))

    def result(self) -> dict[str, dict[str, str]]:
        return {
            biz_id: {"start_time": to_utc_z(first), "end_time": to_utc_z(last)}
            for biz_id, (first, last) in sorted(self._windows.items())
        }


class LoggedRepository(ABC):
    """A store whose operations each log one line, vendor errors translated."""

    @abstractmethod
    def _translated(self, operation: str) -> AbstractContextManager[None]:
        """Vendor errors raised inside become the seed's exceptions, naming `operation`."""

    @contextmanager
    def _operation(self, operation: str, message: str, **context: Any) -> Iterator[dict[str, Any]]:
        """One log line for the operation; an error is logged already translated."""
        with logged_operation(operation, message, **context) as ctx, self._translated(operation):
            yield ctx


class BookingRepositoryBase(LoggedRepository):
    """The BookingRepositoryPort contract (see `base.py`) over a subclass's storage primitives."""

    # -- storage primitives: phone normalised and booking_num validated already

    @abstractmethod
    def _get(self, booking_num: str, phone: str) -> dict[str, Any] | None:
        """The record, read consistently."""

    @abstractmethod
    def _get_many(self, keys: list[BookingKey]) -> Iterator[dict[str, Any]]:
        """The records that exist among distinct keys."""

    @abstractmethod
    def _insert(self, item: dict[str, Any]) -> bool:
        """Write a validated record unless its key exists."""

    @abstractmethod
    def _set_flag(self, booking_num: str, phone: str, flag: str, value: bool) -> bool:
        """Set a flag of an existing record."""

    @abstractmethod
    def _set_time(
        self,
        booking_num: str,
        phone: str,
        booking_time: str,
        reset: tuple[str, ...],
        moved_from: str | None,
    ) -> bool:
        """Set a different booking_time; each flag of `reset` false, its claim and its
        unclear window dropped; `moved_from` (when given) as the attribute of that name."""

    @abstractmethod
    def _list(self, biz_id: str | None, day: str | None) -> Iterator[dict[str, Any]]:
        """Records whose booking_num starts with `{biz_id}_` and booking_time with `day`."""

    @abstractmethod
    def _unnotified(self) -> Iterator[tuple[str, object]]:
        """(booking_num, booking_time) of every record whose option_sms is not true."""

    @abstractmethod
    def _take_claim(
        self, booking_num: str, phone: str, flag: str, owner: str, until: int, now: int
    ) -> bool:
        """Set the claim if the record exists, the flag is false and no claim lives at `now`."""

    @abstractmethod
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
        """If `owner` holds the claim: flag true, request id and time set, claim removed,
        and each of `life` set (None: removed), all in one conditional write."""

    @abstractmethod
    def _apply_delivery(
        self,
        booking_num: str,
        phone: str,
        changes: Mapping[str, str | None],
        expected: Mapping[str, str | None],
        days: frozenset[str],
    ) -> bool:
        """If the record exists and each `expected` attribute holds its value (absent for
        None): each of `changes` set (None: removed), in one conditional write."""

    @abstractmethod
    def _add_histories(self, entries: Sequence[tuple[str, str, str]]) -> None:
        """Write the (idempotent) (day, booking_num, phone) history entries of records
        with a message sent on `day`, unless the store writes them in the same
        transaction as the mark or the check; one failure raises."""

    @abstractmethod
    def _due(self, due: str, limit: int) -> Iterator[dict[str, Any]]:
        """Queued records whose `delivery_due` <= `due`, ascending by it, at most `limit`."""

    @abstractmethod
    def _sent_on(self, day: str, biz_id: str | None) -> Iterator[dict[str, Any]]:
        """The records whose history has an entry on `day` (of `{biz_id}_` bookings if given)."""

    @abstractmethod
    def _drop_claim(self, booking_num: str, phone: str, flag: str, owner: str) -> bool:
        """If `owner` holds the claim: claim removed."""

    @abstractmethod
    def _set_skipped(self, booking_num: str, phone: str, flag: str, reason: str) -> bool:
        """If the record exists and `flag` is not true: `{flag}_skipped` set to `reason`."""

    @abstractmethod
    def _set_unclear(
        self, booking_num: str, phone: str, flag: str, owner: str, window: str
    ) -> bool:
        """If `owner` holds the claim: the unclear window set, the claim kept."""

    # -- batch primitives: a store that writes many in one request overrides these

    folds_claims: bool = True
    # Single writes a batch that could not go as one runs side by side: a store
    # over the network overlaps their round trips.
    _single_writes_at_once: ClassVar[int] = 1

    def _atomically(self, writes: Sequence[Callable[[], bool]]) -> bool:
        """Apply `writes` (calls of the primitives above) as one all-or-nothing request.

        True: each was applied. False: none was (a condition did not hold, or this
        store cannot batch). A vendor error: whether it was applied is unknown.
        The default cannot batch: each write then goes on its own.
        """
        return False

    # -- the seed's operations

    @contextmanager
    def _on_record(
        self,
        operation: str,
        message: str,
        booking_num: str,
        phone: str,
        *,
        flag: str | None = None,
        **context: Any,
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """One logged operation on one record: (normalised phone, the line's context).

        The flag and phone are checked before anything is logged; a bad
        booking_num is logged as the operation's failure.
        """
        if flag is not None:
            context = {"flag": validate_flag_name(flag), **context}
        phone = normalize_phone(phone)
        with self._operation(
            operation, message, booking_num=booking_num, phone_masked=mask_phone(phone), **context
        ) as ctx:
            validate_booking_num(booking_num)
            yield phone, ctx

    def get_booking(self, booking_num: str, phone: str) -> dict[str, Any] | None:
        with self._on_record(
            "get_booking", "Booking retrieved successfully", booking_num, phone
        ) as (stored_phone, ctx):
            record = self._get(booking_num, stored_phone)
            ctx["found"] = record is not None
        return record

    def get_bookings(self, keys: Iterable[BookingKey]) -> dict[BookingKey, dict[str, Any]]:
        wanted = list(
            dict.fromkeys(
                (validate_booking_num(num), normalize_phone(phone)) for num, phone in keys
            )
        )
        with self._operation("get_bookings", "Bookings retrieved", requested=len(wanted)) as ctx:
            found = {
                (record["booking_num"], record["phone"]): record
                for record in self._get_many(wanted)
            }
            ctx["found"] = len(found)
        return found

    def create_booking(self, booking_data: Mapping[str, Any]) -> bool:
        return self._create_one(Booking.from_dict(booking_data).to_item(), None, "")

    def _create_one(self, item: dict[str, Any], claim: str | None, owner: str) -> bool:
        """Insert a validated item (holding `owner`'s claim on `claim`, if given)."""
        context = {} if claim is None else {"claim": claim, "owner": owner}
        with self._on_record(
            "create_booking", "Booking created", item["booking_num"], item["phone"], **context
        ) as (_, ctx):
            created = self._insert(item)
            if not created and claim is not None:
                # A retried write can fail on its own success: a record that holds
                # this owner's claim is the one this write stored (no other write
                # puts that owner there before the record exists).
                record = self._get(item["booking_num"], item["phone"]) or {}
                created = record.get(claim_attributes(claim)[0]) == owner
                ctx["recovered"] = created
            ctx["created"] = created
        return created

    # -- many at once (see the port): one request per batch where the store can

    def create_bookings(
        self,
        records: Sequence[NewRecord],
        owner: str,
        now: datetime,
        lease: timedelta = DEFAULT_LEASE,
    ) -> list[bool | RepositoryError]:
        until = epoch(now + lease)
        items = [self._new_item(record, owner, until) for record in records]
        return self._in_batches(
            [(item["booking_num"], item["phone"]) for item in items],
            [functools.partial(self._insert, item) for item in items],
            [
                functools.partial(self._create_one, item, record.claim, owner)
                for item, record in zip(items, records, strict=True)
            ],
            _BatchLog(
                "create_booking",
                "Booking created",
                "created",
                [{"claim": record.claim} for record in records],
            ),
        )

    def _new_item(self, record: NewRecord, owner: str, until: int) -> dict[str, Any]:
        """The validated item of a new record, with its claim and its skipped messages."""
        item = Booking.from_dict(record.data).to_item()
        if record.claim is not None:
            claim_attr, until_attr = claim_attributes(validate_flag_name(record.claim))
            item.update({claim_attr: owner, until_attr: until})
        for flag, reason in record.skipped:
            item[skipped_attribute(validate_flag_name(flag))] = _reason("create_bookings", reason)
        return item

    def claim_many(
        self,
        claims: Sequence[ClaimRequest],
        owner: str,
        now: datetime,
        lease: timedelta = DEFAULT_LEASE,
    ) -> list[bool | RepositoryError]:
        until, at = epoch(now + lease), epoch(now)
        keys = [_checked_key(claim.booking_num, claim.phone, claim.flag) for claim in claims]
        return self._in_batches(
            [(num, phone) for num, phone, _flag in keys],
            [
                functools.partial(self._take_claim, num, phone, flag, owner, until, at)
                for num, phone, flag in keys
            ],
            [
                functools.partial(self.claim, num, phone, flag, owner, now, lease)
                for num, phone, flag in keys
            ],
            _BatchLog(
                "claim",
                "Claim attempted",
                "won",
                [{"flag": flag, "owner": owner} for _num, _phone, flag in keys],
            ),
        )

    def mark_sent_many(
        self, marks: Sequence[MarkRequest], owner: str, now: datetime
    ) -> list[bool | RepositoryError]:
        at = kst_seconds(now)
        for mark in marks:
            _check_channel(mark.channel)
        keys = [_checked_key(mark.booking_num, mark.phone, mark.flag) for mark in marks]
        results = self._in_batches(
            [(num, phone) for num, phone, _flag in keys],
            [
                functools.partial(
                    self._complete_claim,
                    num,
                    phone,
                    flag,
                    owner,
                    mark.request_id,
                    at,
                    _mark_life(flag, mark.channel, now),
                )
                for (num, phone, flag), mark in zip(keys, marks, strict=True)
            ],
            [
                functools.partial(
                    self._mark_one, num, phone, flag, owner, mark.request_id, now, mark.channel
                )
                for (num, phone, flag), mark in zip(keys, marks, strict=True)
            ],
            _BatchLog(
                "mark_sent",
                "Marked as sent",
                "marked",
                [
                    {
                        "flag": flag,
                        "owner": owner,
                        "request_id": mark.request_id,
                        **({} if mark.channel is None else {"channel": mark.channel}),
                    }
                    for (_num, _phone, flag), mark in zip(keys, marks, strict=True)
                ],
            ),
        )
        # The day's history entries of the tracked marks, together (best effort).
        self._write_histories(
            "mark_sent",
            [
                (at[:10], num, phone)
                for (num, phone, _flag), mark, result in zip(keys, marks, results, strict=True)
                if result is True and mark.channel is not None
            ],
        )
        return results

    def _in_batches(
        self,
        keys: Sequence[BookingKey],
        writes: Sequence[Callable[[], bool]],
        singles: Sequence[Callable[[], bool]],
        logged: _BatchLog,
    ) -> list[bool | RepositoryError]:
        """Each write, WRITE_BATCH at a time as one all-or-nothing request.

        A batch not applied as one (a condition failed: a message already claimed
        or sent; or its answer was lost; or the store cannot batch) is written
        again one by one through `singles`, the single operations: each then
        gets its own answer and runs its own recovery ("a retried write can fail
        on its own success"), as it would have without batching.
        """
        results: list[bool | RepositoryError] = []
        for start in range(0, len(writes), WRITE_BATCH):
            part = range(start, min(len(writes), start + WRITE_BATCH))
            # One request may not write an item twice; such a batch goes one by one.
            distinct = len({keys[index] for index in part}) == len(part)
            if len(part) > 1 and distinct and self._batch_applied([writes[i] for i in part]):
                for index in part:
                    self._logged_batch_item(logged, index, keys[index], len(part))
                results += [True] * len(part)
            else:
                # Writes to one item must land in the batch's order: side by side only
                # when each writes its own.
                singles_of_part = [singles[index] for index in part]
                results += self._one_by_one(singles_of_part, side_by_side=distinct)
        return results

    def _batch_applied(self, writes: Sequence[Callable[[], bool]]) -> bool:
        try:
            with self._translated("write_batch"):
                return self._atomically(writes)
        except RepositoryError as exc:
            # Applied or not, nobody knows: the writes one by one tell, each by its recovery.
            log.warning(
                "Batch not written as one; its writes go one by one",
                operation="write_batch",
                context={"writes": len(writes)},
                error=str(exc),
            )
            return False

    def _one_by_one(
        self, singles: Sequence[Callable[[], bool]], *, side_by_side: bool = True
    ) -> list[bool | RepositoryError]:
        def guarded(write: Callable[[], bool]) -> bool | RepositoryError:
            try:
                return write()
            except RepositoryError as exc:
                return exc

        if not side_by_side or self._single_writes_at_once <= 1 or len(singles) <= 1:
            return [guarded(write) for write in singles]
        workers = min(self._single_writes_at_once, len(singles))
        with ThreadPoolExecutor(workers, thread_name_prefix="store-write") as pool:
            return list(pool.map(guarded, singles))

    def _logged_batch_item(self, logged: _BatchLog, index: int, key: BookingKey, size: int) -> None:
        """The line the single operation would have logged, for write `index` of a batch."""
        booking_num, phone = key
        with self._on_record(
            logged.operation,
            logged.message,
            booking_num,
            phone,
            batch=size,
            **logged.contexts[index],
        ) as (_, ctx):
            ctx[logged.outcome] = True

    def update_flag(self, booking_num: str, phone: str, flag: str, value: bool) -> bool:
        if not isinstance(value, bool):
            raise TypeError(f"update_flag: value of {flag} must be true or false")
        with self._on_record(
            "update_flag", "Flag updated", booking_num, phone, flag=flag, value=value
        ) as (stored_phone, ctx):
            ctx["updated"] = self._set_flag(booking_num, stored_phone, flag, value)
        return bool(ctx["updated"])

    def reschedule(
        self,
        booking_num: str,
        phone: str,
        booking_time: str,
        *,
        reset: Iterable[str] = (REMINDER_FLAG,),
        moved_from: str | None = None,
    ) -> bool:
        booking_time = validate_booking_time(booking_time)
        if moved_from is not None:
            moved_from = validate_booking_time(moved_from)
        flags = tuple(dict.fromkeys(validate_flag_name(flag) for flag in reset))
        with self._on_record(
            "reschedule",
            "Booking rescheduled",
            booking_num,
            phone,
            booking_time=booking_time,
            reset=list(flags),
        ) as (stored_phone, ctx):
            ctx["changed"] = self._set_time(
                booking_num, stored_phone, booking_time, flags, moved_from
            )
        return bool(ctx["changed"])

    def list_bookings(
        self, biz_id: str | None = None, day: str | None = None
    ) -> list[dict[str, Any]]:
        if day is not None:
            validate_day(day)
        with self._operation("list_bookings", "Bookings listed", store=biz_id, day=day) as ctx:
            records = sorted(self._list(biz_id, day), key=visit_order)
            ctx["found"] = len(records)
        return records

    def scan_unnotified_options(self) -> dict[str, dict[str, str]]:
        windows = OptionWindows()
        with self._operation("scan_unnotified_options", "Unnotified options scanned") as ctx:
            for booking_num, booking_time in self._unnotified():
                windows.add(booking_num, booking_time)
            ctx["stores"] = len(windows)
            ctx["skipped"] = windows.skipped
        return windows.result()

    # -- exactly-once primitives

    def claim(
        self,
        booking_num: str,
        phone: str,
        flag: str,
        owner: str,
        now: datetime,
        lease: timedelta = DEFAULT_LEASE,
    ) -> bool:
        with self._on_record(
            "claim", "Claim attempted", booking_num, phone, flag=flag, owner=owner
        ) as (stored_phone, ctx):
            won = self._take_claim(
                booking_num, stored_phone, flag, owner, epoch(now + lease), epoch(now)
            )
            if not won:
                # A retried write can fail on its own success (applied by the
                # server, answer lost): a consistent read tells.
                record = self._get(booking_num, stored_phone) or {}
                won = (
                    record.get(claim_attributes(flag)[0]) == owner and record.get(flag) is not True
                )
                ctx["recovered"] = won
            ctx["won"] = won
        return won

    def mark_sent(
        self,
        booking_num: str,
        phone: str,
        flag: str,
        owner: str,
        request_id: str,
        now: datetime,
        *,
        channel: str | None = None,
    ) -> bool:
        _check_channel(channel)
        marked = self._mark_one(booking_num, phone, flag, owner, request_id, now, channel)
        if marked and channel is not None:
            at = kst_seconds(now)
            self._write_histories("mark_sent", [(at[:10], booking_num, normalize_phone(phone))])
        return marked

    def _mark_one(
        self,
        booking_num: str,
        phone: str,
        flag: str,
        owner: str,
        request_id: str,
        now: datetime,
        channel: str | None,
    ) -> bool:
        """The mark without its history entry (the caller writes those, together)."""
        with self._on_record(
            "mark_sent",
            "Marked as sent",
            booking_num,
            phone,
            flag=flag,
            owner=owner,
            request_id=request_id,
            **({} if channel is None else {"channel": channel}),
        ) as (stored_phone, ctx):
            at = kst_seconds(now)
            marked = self._complete_claim(
                booking_num,
                stored_phone,
                flag,
                owner,
                request_id,
                at,
                _mark_life(flag, channel, now),
            )
            if not marked:
                # The same mark applied before (its answer lost) counts as done.
                record = self._get(booking_num, stored_phone) or {}
                request_attr = sent_attributes(flag)[0]
                marked = record.get(flag) is True and record.get(request_attr) == request_id
                ctx["recovered"] = marked
            ctx["marked"] = marked
        return marked

    def due_deliveries(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError("due_deliveries: limit must be a whole number of at least 1")
        due = kst_seconds(now)
        with self._operation(
            "due_deliveries", "Due deliveries listed", due=due, limit=limit
        ) as ctx:
            records = list(self._due(due, limit))[:limit]
            ctx["found"] = len(records)
        return records

    def record_delivery(self, update: DeliveryUpdate) -> bool:
        changes = _validated_update(update)
        stored_phone = normalize_phone(update.phone)
        applied = self._record_one(update, changes)
        if applied:
            self._write_histories(
                "record_delivery",
                [(day, update.booking_num, stored_phone) for day in sorted(update.days)],
            )
        return applied

    def _record_one(self, update: DeliveryUpdate, changes: Mapping[str, str | None]) -> bool:
        """The check's write without its history entries (the caller writes those)."""
        with self._on_record(
            "record_delivery",
            "Delivery recorded",
            update.booking_num,
            update.phone,
            attributes=sorted(update.set),
            due=update.due,
        ) as (stored_phone, ctx):
            applied = self._apply_delivery(
                update.booking_num, stored_phone, changes, update.expected, update.days
            )
            if not applied:
                # A retried write can fail on its own success (applied, answer
                # lost). Applied, it left every value asked for; refused (a status
                # changed meanwhile), it left at least one of them unwritten: a
                # statused attribute it set differs, or the queue it would drop is
                # still there, or its due is not the one another write set. Values
                # equal by coincidence are the state asked for, so True is right.
                record = self._get(booking_num=update.booking_num, phone=stored_phone)
                applied = record is not None and all(
                    record.get(name) == value for name, value in changes.items()
                )
                ctx["recovered"] = applied
            ctx["applied"] = applied
        return applied

    def record_deliveries(self, updates: Sequence[DeliveryUpdate]) -> list[bool | RepositoryError]:
        # Everything checked before anything is written: a bad update is the
        # caller's bug, not one record's trouble.
        changes = [_validated_update(update) for update in updates]
        keys = [
            (validate_booking_num(update.booking_num), normalize_phone(update.phone))
            for update in updates
        ]
        results = self._in_batches(
            keys,
            [
                functools.partial(
                    self._apply_delivery, num, phone, change, update.expected, update.days
                )
                for (num, phone), change, update in zip(keys, changes, updates, strict=True)
            ],
            [
                functools.partial(self._record_one, update, change)
                for update, change in zip(updates, changes, strict=True)
            ],
            _BatchLog(
                "record_delivery",
                "Delivery recorded",
                "applied",
                [{"attributes": sorted(update.set), "due": update.due} for update in updates],
            ),
        )
        # The days' history entries of the applied checks, together (best effort):
        # written again here in case the one written with the mark was lost.
        self._write_histories(
            "record_delivery",
            [
                (day, num, phone)
                for (num, phone), update, result in zip(keys, updates, results, strict=True)
                if result is True
                for day in sorted(update.days)
            ],
        )
        return results

    def sent_on(self, day: str, biz_id: str | None = None) -> list[dict[str, Any]]:
        validate_day(day)
        with self._operation(
            "sent_on", "Sent messages' records listed", day=day, store=biz_id
        ) as ctx:
            records = [
                record
                for record in self._sent_on(day, biz_id)
                if (biz_id is None or str(record.get("booking_num", "")).startswith(f"{biz_id}_"))
                and _sent_that_day(record, day)
            ]
            records.sort(key=visit_order)
            ctx["found"] = len(records)
        return records

    def _write_histories(self, operation: str, entries: Sequence[tuple[str, str, str]]) -> None:
        """The history entries of writes that succeeded: best effort.

        The message is sent and its record says so; an entry missing only keeps
        it out of `naver-sms messages` until its check settles and writes the
        entry again. Failing the mark for it would make the cycle release a
        claim on a message already sent.
        """
        if not entries:
            return
        try:
            with self._translated(operation):
                self._add_histories(entries)
        except RepositoryError as exc:
            for day, booking_num, phone in entries:
                log.warning(
                    "History entry not written; the delivery check writes it again",
                    operation=operation,
                    context={
                        "booking_num": booking_num,
                        "phone_masked": mask_phone(phone),
                        "day": day,
                    },
                    error=str(exc),
                )

    def release(self, booking_num: str, phone: str, flag: str, owner: str) -> bool:
        with self._on_record(
            "release", "Claim released", booking_num, phone, flag=flag, owner=owner
        ) as (stored_phone, ctx):
            ctx["released"] = self._drop_claim(booking_num, stored_phone, flag, owner)
        return bool(ctx["released"])

    def mark_skipped(self, booking_num: str, phone: str, flag: str, reason: str) -> bool:
        reason = _reason("mark_skipped", reason)
        with self._on_record(
            "mark_skipped", "Marked as skipped", booking_num, phone, flag=flag, reason=reason
        ) as (stored_phone, ctx):
            ctx["marked"] = self._set_skipped(booking_num, stored_phone, flag, reason)
        return bool(ctx["marked"])

    def mark_unclear(
        self, booking_num: str, phone: str, flag: str, owner: str, window: str
    ) -> bool:
        if not _UNCLEAR_WINDOW.fullmatch(window):
            raise ValueError("mark_unclear: window must be '{start_ms}-{end_ms}'")
        with self._on_record(
            "mark_unclear",
            "Send outcome unclear; the claim is kept",
            booking_num,
            phone,
            flag=flag,
            owner=owner,
            window=window,
        ) as (stored_phone, ctx):
            marked = self._set_unclear(booking_num, stored_phone, flag, owner, window)
            if not marked:
                # A retried write can fail on its own success, as with marks.
                record = self._get(booking_num, stored_phone) or {}
                marked = record.get(unclear_attribute(flag)) == window
                ctx["recovered"] = marked
            ctx["marked"] = marked
        return marked


class SessionRepositoryBase(LoggedRepository):
    """The SessionRepositoryPort contract (the seed's single session record and the notes
    next to it) over six primitives."""

    @abstractmethod
    def _read(self) -> tuple[str, str | None] | None:
        """The stored (cookies JSON, saved_at text or None), or None."""

    @abstractmethod
    def _write(self, cookies: str, saved_at: str) -> None:
        """Replace the stored cookies and when they were saved (KST ISO seconds)."""

    @abstractmethod
    def _delete(self) -> None:
        """Remove the stored session if any."""

    @abstractmethod
    def _read_note(self, name: str) -> dict[str, str] | None:
        """The note's values (name validated), or None."""

    @abstractmethod
    def _write_note(self, name: str, values: dict[str, str]) -> None:
        """Replace the note's values (name and values validated)."""

    @abstractmethod
    def _delete_note(self, name: str) -> None:
        """Remove the note if any."""

    def get_session(self) -> Session | None:
        with self._operation("get_session", "Session retrieved") as ctx:
            stored = self._read()
            ctx["found"] = stored is not None
        if stored is None:
            return None
        cookies, saved_at = stored
        # From here on their values may reach an error text: the scrubber removes them.
        with suppress(ValueError):
            register_secrets(cookie.get("value") for cookie in parse_cookies(cookies))
        return Session(cookies=cookies, saved_at=_stored_moment(saved_at))

    def save_session(self, cookies: str, now: datetime | None = None) -> bool:
        kept, left_out = split_cookies(load_cookies_json(cookies))
        if left_out and not kept:
            raise SessionValidationError(
                f"none of the cookies is for naver.com (found {', '.join(left_out)})"
            )
        # Checked before anything is stored: a naive time would be a lie about when.
        saved_at = kst_seconds(now if now is not None else datetime.now(KST))
        register_secrets(cookie.get("value") for cookie in kept)
        names = [cookie["name"] for cookie in kept]
        with self._operation(
            "save_session",
            "Session saved",
            cookie_names=names,
            domains_left_out=left_out,
            saved_at=saved_at,
        ):
            # Other sites' cookies are never stored: they would be sent nowhere
            # useful and are someone's credentials all the same.
            self._write(json.dumps(kept, ensure_ascii=False) if left_out else cookies, saved_at)
        # A stored session means a login worked or a person acted: the banner goes.
        # The session is saved either way; a stale banner is only worth a warning.
        try:
            with self._translated("save_session"):  # part of this operation: no line of its own
                self._delete_note(LOGIN_NEEDED_NOTE)
        except RepositoryError as exc:
            log.warning(
                "Login-needed note not cleared; the owner's page may still ask for a login",
                operation="save_session",
                error=str(exc),
            )
        return True

    def delete_session(self) -> bool:
        with self._operation("delete_session", "Session deleted"):
            self._delete()
        return True

    def get_note(self, name: str) -> dict[str, str] | None:
        _validate_note_name(name)
        with self._operation("get_note", "Note read", note=name) as ctx:
            values = self._read_note(name)
            ctx["found"] = values is not None
        return values

    def put_note(self, name: str, values: Mapping[str, str] | None) -> None:
        """Replace the note's values (None deletes it).

        The caller's duty: values never hold a cookie value, a password or a
        full phone number (notes are plain stored text the owner's page shows).
        """
        _validate_note_name(name)
        if values is None:
            with self._operation("put_note", "Note deleted", note=name):
                self._delete_note(name)
            return
        checked = _validated_note_values(name, values)
        # The keys only: the values are the caller's words, not for every log line.
        with self._operation("put_note", "Note written", note=name, keys=sorted(checked)):
            self._write_note(name, checked)

    def note_login_needed(self, reason: str, at: datetime) -> None:
        """Note that a login met a challenge at `at`: the owner's page asks for a person.

        `reason` is the challenge's words (no secret); `save_session` clears it.
        """
        self.put_note(
            LOGIN_NEEDED_NOTE,
            {"reason": _reason("note_login_needed", reason), "at": kst_seconds(at)},
        )

    def login_needed(self) -> tuple[str, datetime] | None:
        """(reason, when in KST) of the challenge noted since the last saved session, or None."""
        values = self.get_note(LOGIN_NEEDED_NOTE)
        if values is None:
            return None
        at = _stored_moment(values.get("at"))
        if at is None:
            # Only a hand-edited note gets here; asking for a login is the safe reading.
            log.warning("Login-needed note has no readable time", operation="login_needed")
            at = datetime.fromtimestamp(0, KST)
        return values.get("reason") or "a login challenge", at


@dataclass(frozen=True, slots=True)
class _BatchLog:
    """What a batch method logs for each write applied in one request: the line its
    single operation would have logged (`operation`, `message`, `outcome: true`),
    with the write's own context."""

    operation: str
    message: str
    outcome: str
    contexts: Sequence[Mapping[str, Any]]


# A stored reason is a sentence for a person: cut, not refused, past this.
REASON_MAX: Final = 200


def _reason(operation: str, reason: object) -> str:
    """`reason` as stored: words (ValueError naming `operation` when there are none), cut."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(f"{operation}: expected the reason, in words")
    return reason[:REASON_MAX]


def _stored_moment(text: str | None) -> datetime | None:
    """A stored KST ISO time as an aware datetime in KST; None when absent or unreadable."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone(KST) if moment.tzinfo is not None else None


def _validate_note_name(name: object) -> None:
    if not isinstance(name, str) or not _NOTE_NAME.fullmatch(name):
        raise ValueError(
            f"note name must be 1 to {_NOTE_NAME_MAX} of a-z and _, got {str(name)[:60]!r}"
        )


def _validated_note_values(name: str, values: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(values, Mapping):
        raise TypeError(f"note {name}: values must be a mapping of strings, or None")
    checked: dict[str, str] = {}
    for key, value in values.items():
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise TypeError(f"note {name}: keys must be non-empty strings, values strings")
        checked[key] = value
    size = sum(len(key) + len(value) for key, value in checked.items())
    if size > _NOTE_MAX_CHARS:
        raise ValueError(
            f"note {name}: a note is small (at most {_NOTE_MAX_CHARS} characters), got {size}"
        )
    return checked
