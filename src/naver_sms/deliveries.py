"""Delivery checks: ask the provider what became of the messages it accepted.

I/O only: `domain.delivery` decides (what is due, what a result means, when
to look again, when to give up); this asks the store for the records whose
check is due, asks the provider, and writes each record's update.

Bounded: at most `LOOKUPS_PER_CYCLE` provider requests a cycle, records taken
earliest due first, so a backlog (a provider outage, a burst of sends) costs
each cycle the same few seconds and drains over the next ones.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TypeVar

from naver_sms.database.base import BookingRepositoryPort
from naver_sms.database.exceptions import RepositoryError
from naver_sms.domain.booking import KST
from naver_sms.domain.delivery import (
    LOOKUPS_PER_CYCLE,
    DeliveryResult,
    DeliveryStatus,
    Lookup,
    SentMessage,
    Settled,
    sent_messages,
    settle,
)
from naver_sms.domain.messages import Channel
from naver_sms.messaging.base import SendError, SmsSender
from naver_sms.utils.logger import get_logger

log = get_logger(__name__)

_A = TypeVar("_A")
NOT_FOUND: Final = 404


@dataclass
class DeliveryCheck:
    """What one cycle's delivery check found."""

    delivered: list[SentMessage] = field(default_factory=list)
    undelivered: list[SentMessage] = field(default_factory=list)
    lookups: int = 0  # provider requests made
    lookups_failed: int = 0
    records: int = 0  # records whose check was due
    waiting: int = 0  # due records left for the next cycle (the lookup bound)
    conflicts: int = 0  # records another cycle changed meanwhile: looked at again next cycle


@dataclass
class _Record:
    record: Mapping[str, Any]
    messages: list[SentMessage]


def _combine(results: Sequence[DeliveryResult]) -> DeliveryResult:
    """One result for several messages to the same number in one request.

    The provider lists them by number only, so which is which cannot be told:
    said as one result when they agree, `unknown` when their final results differ.
    """
    if len(results) == 1:
        return results[0]
    statuses = {result.status for result in results}
    words = "; ".join(dict.fromkeys(result.result for result in results))
    if DeliveryStatus.ACCEPTED in statuses:
        return DeliveryResult(DeliveryStatus.ACCEPTED, words)
    if len(statuses) == 1:
        return DeliveryResult(statuses.pop(), words)
    return DeliveryResult(
        DeliveryStatus.UNKNOWN,
        f"{len(results)} messages to this number in one request, results differ: {words}",
    )


def check_deliveries(
    repository: BookingRepositoryPort,
    senders: Mapping[str, SmsSender],
    now: datetime,
    *,
    each: Callable[[Callable[[Any], Any], Iterable[Any]], list[Any]],
    flags: Iterable[str],
    budget: int = LOOKUPS_PER_CYCLE,
) -> DeliveryCheck:
    """Check the due records' messages at `now`; raises RepositoryError only when the
    queue cannot be read (a record whose update fails is left for the next cycle).

    `senders` by channel: `sms` (SMS and LMS) and `alimtalk`; a message whose
    channel has no sender is not asked about (it becomes `unknown` after 72 hours).
    `each(work, items)` runs work over items side by side (the cycle's pool).
    """
    return _Checker(repository, senders, now, each, tuple(flags), budget).run()


def _channel(message: SentMessage) -> str:
    """The API a message was sent through: SMS and LMS share one; before channels
    were recorded every message went by SMS."""
    channel = message.channel or Channel.SMS.value
    return Channel.SMS.value if channel == Channel.LMS.value else channel


class _Checker:
    def __init__(
        self,
        repository: BookingRepositoryPort,
        senders: Mapping[str, SmsSender],
        now: datetime,
        each: Callable[[Callable[[Any], Any], Iterable[Any]], list[Any]],
        flags: tuple[str, ...],
        budget: int,
    ) -> None:
        self.repository = repository
        self.senders = senders
        # Which API an id belongs to (SMS or AlimTalk): each is asked where it was sent.
        self.channel_of: dict[str, str] = {}
        self.now = now
        self.each = each
        self.flags = flags
        self.budget = budget
        self.check = DeliveryCheck()
        self.listed: dict[str, dict[str, list[str]] | None] = {}
        self.results: dict[str, DeliveryResult | None] = {}
        # A channel's API joins at its first failure that is not about one message (a
        # timeout, a 5xx): it is unwell, and 300 lookups each waiting out a timeout
        # would make this cycle slow. The rest waits for the next cycle.
        self.unwell: set[str] = set()
        # A record nothing was learned of (the provider not asked, or not answering)
        # is due again at once: it is due already, so it is not written at all.
        self._now_iso = now.astimezone(KST).isoformat(timespec="seconds")
        self._lock = threading.Lock()

    def run(self) -> DeliveryCheck:
        planned, request_ids = self._plan(self.repository.due_deliveries(self.now, self.budget))
        self.listed = dict(self.each(self._list_ids, request_ids))
        for item in planned:
            for message in item.messages:
                self.channel_of.update(dict.fromkeys(self._ids(message), _channel(message)))
        wanted = sorted(mid for mid in self.channel_of if mid not in self.listed)
        self.results = dict(self.each(self._look, wanted))
        check = self.check
        settled = [
            outcome
            for item in planned
            if (
                outcome := settle(item.record, self._lookups(item), self.now, self.flags)
            ).update.set
            or outcome.update.due is None
            or outcome.update.due > self._now_iso
        ]
        for outcome, written in zip(settled, self._write(settled), strict=True):
            if isinstance(written, RepositoryError):
                log.warning(
                    "Delivery result not recorded; the next cycle looks again",
                    operation="check_deliveries",
                    context={"booking_num": outcome.update.booking_num},
                    error=str(written),
                )
            elif not written:
                check.conflicts += 1
            else:
                for message in outcome.final:
                    delivered = message.status is DeliveryStatus.DELIVERED
                    (check.delivered if delivered else check.undelivered).append(message)
        return check

    def _plan(self, due: list[dict[str, Any]]) -> tuple[list[_Record], list[str]]:
        """The records this cycle checks, earliest due first, within the lookup budget."""
        self.check.records = len(due)
        planned: list[_Record] = []
        request_ids: dict[str, None] = {}
        spent = 0
        for record in due:
            messages = [
                m
                for m in sent_messages(record)
                if m.due_for_lookup(self.now) and _channel(m) in self.senders
            ]
            new_requests = {m.request_id for m in messages if not m.message_id} - set(request_ids)
            # A message whose id is not known yet costs its request's listing
            # (shared with the request's other messages) and its own lookup.
            cost = len(new_requests) + len(messages)
            if spent + cost > self.budget and planned:
                self.check.waiting = len(due) - len(planned)
                break
            spent += cost
            request_ids.update(dict.fromkeys(sorted(new_requests)))
            self.channel_of.update({m.request_id: _channel(m) for m in messages})
            planned.append(_Record(record, messages))
        return planned, list(request_ids)

    def _ask(
        self, key: str, ask: Callable[[SmsSender], _A], what: str, context: dict[str, str]
    ) -> _A | None:
        """One provider request about `key` (an id), counted, to the API it belongs to;
        None when it failed or that API is unwell."""
        channel = self.channel_of[key]
        with self._lock:
            if channel in self.unwell:
                return None
            self.check.lookups += 1
        try:
            return ask(self.senders[channel])
        except SendError as exc:
            with self._lock:
                self.check.lookups_failed += 1
                if exc.status != NOT_FOUND:  # a 404 is about one message, not the provider
                    self.unwell.add(channel)
            log.warning(what, operation="check_deliveries", context=context, error=str(exc))
            return None

    def _list_ids(self, request_id: str) -> tuple[str, dict[str, list[str]] | None]:
        return request_id, self._ask(
            request_id,
            lambda sender: sender.message_ids(request_id),
            "Messages of a request not listed",
            {"request_id": request_id},
        )

    def _look(self, message_id: str) -> tuple[str, DeliveryResult | None]:
        return message_id, self._ask(
            message_id,
            lambda sender: sender.delivery(message_id),
            "Delivery result not read",
            {"message_id": message_id},
        )

    def _ids(self, message: SentMessage) -> list[str]:
        if message.message_id:
            return [message.message_id]
        return list((self.listed.get(message.request_id) or {}).get(message.phone, ()))

    def _lookups(self, item: _Record) -> dict[str, Lookup]:
        found = {}
        for message in item.messages:
            ids = self._ids(message)
            known = [answer for answer in map(self.results.get, ids) if answer is not None]
            found[message.flag] = Lookup(
                # Kept only when it names this message alone: the next check asks it directly.
                message_id=ids[0] if len(ids) == 1 else None,
                result=_combine(known) if ids and len(known) == len(ids) else None,
            )
        return found

    def _write(self, settled: Sequence[Settled]) -> list[bool | RepositoryError]:
        """Each outcome's update, in one call: the store writes them a batch at a time."""
        if not settled:
            return []
        try:
            return self.repository.record_deliveries([outcome.update for outcome in settled])
        except RepositoryError as exc:
            # Which were written is unknown: those that were not stay due for the next cycle.
            return [exc] * len(settled)
