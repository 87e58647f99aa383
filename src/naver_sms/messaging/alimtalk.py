"""KakaoTalk AlimTalk through SENS's Biz Message API (v2): an `SmsSender` for messages
whose `alimtalk` is set.

One request carries one channel (`plusFriendId`) and one approved template
(`templateCode`), and 1-100 recipients each with the template filled in
(`content`), so a batch is grouped by those and cut into requests of 100.
Each message carries its own SMS failover (`failoverConfig`): the message's
own text, type and sender, sent by SENS when the customer cannot receive
AlimTalk (no KakaoTalk, the channel blocked).

SENS answers a send with a `requestId` and a status per message
(`requestStatusCode` "A000" = accepted): a message it did not accept (its
content does not match the template, a bad number) is refused alone, its
neighbours go. Every other outcome is sorted as the SMS adapter sorts it
(`naver_sms.messaging.sens.SensApi`).

Vendor facts this module relies on, and what could not be confirmed:
- the list (`GET .../messages`) takes `plusFriendId` with `requestStartTime`
  and `requestEndTime` (`YYYY-MM-DD HH:mm:ss`, at most 31 days apart, the
  last 30 days kept), or `requestId`; `pageSize` (1-100, 20 when not given)
  and the answer's `nextToken` page through it. The paging was not found in
  Naver's own page and comes from a third-party client; a page that says
  nothing of more (no `nextToken`) ends the list.
- one message's result (`GET .../messages/{messageId}`) is the message's
  object itself (not wrapped in `messages`), with `messageStatusCode` "0000"
  when delivered. The failover's own outcome is read from `failoverInfo`; its
  fields are not documented where we could read them: it is read like an
  SMS result (`status`, `statusCode` "0", `statusMessage`, `telcoCode`),
  with `resultCode`/`resultMessage` also understood.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import httpx
from pydantic import SecretStr

from naver_sms.domain.booking import mask_phone
from naver_sms.domain.delivery import DeliveryResult, DeliveryStatus
from naver_sms.domain.messages import AlimTalk, Message, MessageType
from naver_sms.messaging.base import (
    SenderRefused,
    SendError,
    SendFailed,
    SendRejected,
    SendResult,
    SendUnclear,
)
from naver_sms.messaging.sens import (
    _EMPTY_WORDS,
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    LIST_PAGE_SIZE,
    MAX_LIST_PAGES,
    MAX_RECIPIENTS,
    SensApi,
    _clock_time,
    _digits,
    _json,
    _list_time,
    _Listed,
    _may_split,
    _words,
    match_accepted,
    read_delivery,
)
from naver_sms.utils.logger import get_logger, logged_operation

ACCEPTED_CODE: Final = "A000"
DELIVERED_CODE: Final = "0000"
# SENS lists AlimTalk by request time in windows of at most 31 days: 30 keeps a margin.
LIST_WINDOW: Final = timedelta(days=30)
_FAILOVER_TYPES: Final = {MessageType.SMS: "SMS", MessageType.LMS: "LMS"}
# A 400 naming these refuses the request as such (every message of a request
# shares channel and template): halving it would only repeat the refusal.
_REQUEST_WIDE_WORDS: Final = ("plusfriendid", "templatecode")

log = get_logger(__name__)


def _alimtalk(message: Message) -> AlimTalk:
    if message.alimtalk is None:
        raise ValueError("AlimTalkSender sends only messages whose `alimtalk` is set")
    return message.alimtalk


def _group(message: Message) -> tuple[str, str, str]:
    """What one request's messages share: channel, template and the failover's sender.

    The failover sender is in the key so that SENS refusing one store's number
    (`SenderRefused`) never refuses another store's messages.
    """
    alimtalk = _alimtalk(message)
    return alimtalk.plus_friend_id, alimtalk.template_code, _digits(message.sender)


def _key(message: Message) -> tuple[str, str, str]:
    alimtalk = _alimtalk(message)
    return _digits(message.to), alimtalk.template_code, alimtalk.content


def _same(ours: tuple[str, ...], listed: tuple[str, ...]) -> bool:
    """Same recipient and template, and the same content when the list shows it."""
    return ours[:2] == listed[:2] and (not listed[2] or ours[2] == listed[2])


class AlimTalkSender(SensApi):
    """Sends AlimTalk through SENS. `service_id` is the Biz Message service's id
    (`SENS_ALIMTALK_SERVICE_ID`), not the SMS service's; the keys are the same.
    `client=None` builds an httpx client it owns."""

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
        super().__init__(
            access_key=access_key,
            secret_key=secret_key,
            service_id=service_id,
            base_url=base_url,
            client=client,
            timeout=timeout,
            clock=clock,
        )

    def __repr__(self) -> str:
        return f"AlimTalkSender(service_id={self.service_id!r}, base_url={self.base_url!r})"

    @property
    def url(self) -> str:
        return f"{self.base_url}/alimtalk/v2/services/{self.service_id}/messages"

    # --- sending ----------------------------------------------------------------------

    def send_requests(self, messages: Sequence[Message]) -> Iterator[list[SendResult]]:
        """One SENS request per step, per channel and template, in the messages' order.

        A message without `alimtalk` raises `ValueError` before anything is sent.
        As with SMS, a request refused for one of its messages is split (a step
        yields `[]` then), and a refused failover sender refuses the rest of
        its messages without another request.
        """
        groups: dict[tuple[str, str, str], list[Message]] = {}
        for message in messages:
            groups.setdefault(_group(message), []).append(message)
        refused_senders: dict[str, SenderRefused] = {}
        for group in groups.values():
            for start in range(0, len(group), MAX_RECIPIENTS):
                yield from self._send_splitting(
                    group[start : start + MAX_RECIPIENTS], refused_senders
                )

    def _send_part(self, messages: Sequence[Message]) -> list[SendResult]:
        return self.send_request(messages)

    def _may_split(self, error: SendError) -> bool:
        words = error.reason.lower().replace(" ", "")
        return _may_split(error) and not any(word in words for word in _REQUEST_WIDE_WORDS)

    def body(self, messages: Sequence[Message]) -> dict[str, Any]:
        """The JSON body of one request; all messages share channel and template."""
        first = _alimtalk(messages[0])
        return {
            "plusFriendId": first.plus_friend_id,
            "templateCode": first.template_code,
            "messages": [self._entry(message) for message in messages],
        }

    @staticmethod
    def _entry(message: Message) -> dict[str, Any]:
        alimtalk = _alimtalk(message)
        entry: dict[str, Any] = {
            "countryCode": "82",
            "to": _digits(message.to),
            "content": alimtalk.content,
        }
        if alimtalk.buttons:
            entry["buttons"] = [
                {
                    key: value
                    for key, value in (
                        ("type", button.type),
                        ("name", button.name),
                        ("linkMobile", button.link_mobile),
                        ("linkPc", button.link_pc),
                        ("schemeIos", button.scheme_ios),
                        ("schemeAndroid", button.scheme_android),
                    )
                    if value
                }
                for button in alimtalk.buttons
            ]
        entry["useSmsFailover"] = alimtalk.failover
        if alimtalk.failover:
            failover: dict[str, str] = {
                "type": _FAILOVER_TYPES[message.type],
                "from": _digits(message.sender),
                "content": message.text,
            }
            if message.type is MessageType.LMS and message.subject:
                failover["subject"] = message.subject
            entry["failoverConfig"] = failover
        return entry

    def send_request(self, messages: Sequence[Message]) -> list[SendResult]:
        """Sends one request (<= 100 messages of one channel and template); a result per
        message: accepted (the request id) or refused alone (`SendRejected` in words).

        Raises `SendFailed`, `SendRejected` (`SenderRefused`) or `SendUnclear` for
        the request as a whole.
        """
        if not 1 <= len(messages) <= MAX_RECIPIENTS:
            raise ValueError(f"a SENS request holds 1 to {MAX_RECIPIENTS} messages")
        if len({_group(m)[:2] for m in messages}) != 1:
            raise ValueError("messages of one AlimTalk request must share channel and template")
        body = self.body(messages)
        request = self._signed_post(body)
        with logged_operation(
            "alimtalk_send",
            "AlimTalk request answered",
            logger=log,
            count=len(messages),
            template_code=body["templateCode"],
            recipients_masked=[mask_phone(m.to) for m in messages],
            booking_nums=[m.booking_num for m in messages if m.booking_num],
        ) as ctx:
            response = self._post(request)
            ctx["status"] = response.status_code
            results = self._verdict(response, messages)
            ctx["request_id"] = next((r.request_id for r in results if r.request_id), None)
            ctx["refused"] = sum(r.error is not None for r in results)
        return results

    @classmethod
    def _verdict(cls, response: httpx.Response, messages: Sequence[Message]) -> list[SendResult]:
        """Each message's fate in SENS's answer; raises for an answer about the request."""
        data = _json(response)
        request_id = data.get("requestId") if isinstance(data, dict) else None
        if (
            not 200 <= response.status_code < 300
            or not isinstance(data, dict)
            or not isinstance(request_id, str)
            or not request_id.strip()
            or str(data.get("statusCode", "202")) != "202"
            or str(data.get("statusName", "")).lower() == "fail"
        ):
            raise cls._refusal(response, sender=messages[0].sender)
        entries = _entries_for(messages, data.get("messages"))
        results = []
        for message, entry in zip(messages, entries, strict=True):
            if entry is None:
                error: SendError = SendUnclear(
                    "SENS took the request but said nothing of this message: "
                    "it may or may not have accepted it",
                    status=response.status_code,
                )
                results.append(SendResult(message, error=error))
                continue
            code = _words(entry.get("requestStatusCode"))
            if code == ACCEPTED_CODE:
                results.append(SendResult(message, request_id=request_id))
                continue
            why = _words(entry.get("requestStatusDesc")) or _words(entry.get("requestStatusName"))
            # Kakao's refusal of this one message (a template mismatch, a bad
            # number): sending it again unchanged would be refused again.
            reason = f"AlimTalk refused: {code or 'no status'}" + (f" {why}" if why else "")
            results.append(SendResult(message, error=SendRejected(reason)))
        return results

    # --- asking what was accepted -----------------------------------------------------

    def find_accepted(
        self,
        messages: Sequence[Message],
        start: datetime,
        end: datetime,
        *,
        exclude: Collection[str] = (),
    ) -> list[str | None]:
        """Lists each channel's AlimTalk between `start` and `end` and matches ours.

        A message matches a listed one SENS accepted with the same recipient,
        template and content (the content only when the list carries it). A
        request in `exclude` never matches. Raises `SendFailed` when the list
        cannot be read whole.
        """
        if not messages:
            return []
        keys = [_key(m) for m in messages]
        listed: list[_Listed] = []
        with logged_operation(
            "alimtalk_find_accepted",
            "AlimTalk list read",
            logger=log,
            count=len(messages),
            start=start.isoformat(),
            end=end.isoformat(),
        ) as ctx:
            for channel in sorted({_alimtalk(m).plus_friend_id for m in messages}):
                listed += self._list_window(channel, start, end)
            candidates = [entry for entry in listed if entry.request_id not in exclude]
            results = match_accepted(keys, candidates, same=_same)
            ctx["listed"] = len(listed)
            ctx["found"] = sum(r is not None for r in results)
        return results

    def _list_window(self, channel: str, start: datetime, end: datetime) -> list[_Listed]:
        listed: list[_Listed] = []
        slice_start = start
        while True:
            slice_end = min(end, slice_start + LIST_WINDOW - timedelta(seconds=1))
            params = {
                "plusFriendId": channel,
                "requestStartTime": _list_time(slice_start, round_up=False),
                "requestEndTime": _list_time(slice_end, round_up=True),
                "pageSize": str(LIST_PAGE_SIZE),
            }
            listed += self._list_pages(params)
            if slice_end >= end:
                return listed
            slice_start = slice_end

    def _list_pages(self, params: Mapping[str, str]) -> list[_Listed]:
        listed: list[_Listed] = []
        tokens: set[str] = set()
        token = ""
        for _page in range(MAX_LIST_PAGES):
            data = self._list_page({**params, **({"nextToken": token} if token else {})})
            listed += [entry for raw in data["messages"] if (entry := _listed(raw)) is not None]
            token = str(data.get("nextToken") or "")
            if not token:
                return listed
            if token in tokens:
                raise SendFailed("SENS's AlimTalk list repeats a page: cannot read it whole")
            tokens.add(token)
        raise SendFailed(
            f"SENS lists over {MAX_LIST_PAGES * LIST_PAGE_SIZE} AlimTalk messages in the "
            "window: cannot tell which of ours it accepted"
        )

    def _list_page(self, params: Mapping[str, str]) -> dict[str, Any]:
        # SENS answers an empty 404 when nothing matches.
        return self._list_page_of(
            params,
            what="SENS's AlimTalk list",
            unreachable="SENS could not be asked which AlimTalk it accepted",
            empty_404_is_none=True,
        )

    # --- delivery results ---------------------------------------------------------------

    def message_ids(self, request_id: str) -> dict[str, list[str]]:
        """The message ids of an accepted request, by recipient in the stored form
        (`010-0000-1234`), in SENS's order. Messages SENS did not accept are left out
        (they never went). Raises `SendFailed` when SENS cannot be asked or answers
        with anything but the documented list."""
        # A request holds up to 100 messages; SENS pages by 20 unless told.
        return self._ids_by_recipient(
            request_id,
            {"requestId": request_id, "pageSize": str(LIST_PAGE_SIZE)},
            what="SENS's AlimTalk list of a request",
            keep=lambda entry: (
                str(entry.get("requestStatusCode") or ACCEPTED_CODE) == ACCEPTED_CODE
            ),
        )

    def delivery(self, message_id: str) -> DeliveryResult:
        """What SENS says of one AlimTalk now, its SMS failover included.

        Raises `SendFailed` when SENS cannot be asked, has no result for the
        message (an empty 404), or answers with anything but the documented result.
        """
        if not message_id.strip():
            raise ValueError("delivery needs a message id")
        url = f"{self.url}/{urllib.parse.quote(message_id, safe='')}"
        what = "SENS's result of an AlimTalk"
        data, _response = self._lookup_object(url, None, what=what)
        entry: Mapping[str, Any] = data
        listed = data.get("messages")
        if "messageId" not in data and isinstance(listed, list):
            # The SMS API's shape, in case SENS wraps it the same way.
            entries = [e for e in listed if isinstance(e, dict)]
            found = next((e for e in entries if e.get("messageId") == message_id), None)
            if found is None:
                raise SendFailed(f"{what} holds no entry for the message asked")
            entry = found
        elif data.get("messageId") not in (None, message_id):
            raise SendFailed(f"{what} is about another message")
        try:
            result = read_alimtalk_delivery(entry)
        except ValueError as exc:
            raise SendFailed(f"{what} could not be read: {exc}") from None
        log.debug(
            "AlimTalk delivery result read",
            operation="alimtalk_delivery",
            context={"message_id": message_id, "status": result.status.value},
        )
        return result

    def opted_out(self) -> dict[str, datetime | None]:
        """None: AlimTalk never carries advertising, so no 080 opt-out applies to it
        (the SMS service's list is read through `SensSender`)."""
        return {}


def _entries_for(messages: Sequence[Message], raw: object) -> list[Mapping[str, Any] | None]:
    """SENS's entry for each of our messages, or None where it gives none.

    SENS answers in the order sent; when the entries do not line up with ours
    one by one they are matched by recipient, in order.
    """
    entries = [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []
    numbers = [_digits(m.to) for m in messages]
    if len(entries) == len(messages) and all(
        _digits(str(e.get("to", ""))) in ("", number)
        for e, number in zip(entries, numbers, strict=True)
    ):
        return list(entries)
    by_number: dict[str, list[Mapping[str, Any]]] = {}
    for entry in entries:
        by_number.setdefault(_digits(str(entry.get("to", ""))), []).append(entry)
    return [by_number[n].pop(0) if by_number.get(n) else None for n in numbers]


def _listed(entry: object) -> _Listed | None:
    """A message SENS accepted, from its list; None for anything else."""
    if not isinstance(entry, dict):
        return None
    request_id, to, template = entry.get("requestId"), entry.get("to"), entry.get("templateCode")
    if not (isinstance(request_id, str) and request_id and isinstance(to, str) and template):
        return None
    if str(entry.get("requestStatusCode") or ACCEPTED_CODE) != ACCEPTED_CODE:
        return None  # refused: it never went
    if str(entry.get("countryCode") or "82") != "82":
        return None
    content = entry.get("content")
    return _Listed(
        request_id=request_id,
        message_id=str(entry.get("messageId") or ""),
        request_time=str(entry.get("requestTime") or ""),
        key=(_digits(to), str(template), content if isinstance(content, str) else ""),
    )


def _why(entry: Mapping[str, Any], *names: str) -> str:
    for name in names:
        words = _words(entry.get(name))
        if words and words.lower() not in _EMPTY_WORDS:
            return words
    return ""


def read_alimtalk_delivery(entry: Mapping[str, Any]) -> DeliveryResult:
    """One AlimTalk's state in SENS's result, its SMS failover's included, in words.

    "0000" is `DELIVERED` ("delivered (AlimTalk, 10:00:03)"); no code yet is
    `ACCEPTED`; any other code is the AlimTalk's failure, and then the
    failover decides: delivered ("delivered by SMS failover (AlimTalk 3019:
    <why>)"), failed or absent (`FAILED` with both reasons), still on its way
    (`ACCEPTED`). A message SENS did not accept (`requestStatusCode` other
    than "A000") is `FAILED`. Raises `ValueError` for an entry that is none
    of these.
    """
    request_code = _words(entry.get("requestStatusCode"))
    if request_code and request_code != ACCEPTED_CODE:
        why = _why(entry, "requestStatusDesc", "requestStatusName")
        return DeliveryResult(
            DeliveryStatus.FAILED,
            f"failed: AlimTalk refused {request_code}" + (f" {why}" if why else ""),
        )
    code = _words(entry.get("messageStatusCode"))
    name = _words(entry.get("messageStatusName")).lower()
    if not code or name == "processing":
        return DeliveryResult(DeliveryStatus.ACCEPTED, "processing (AlimTalk)")
    if code == DELIVERED_CODE:
        at = _clock_time(entry.get("completeTime"))
        return DeliveryResult(
            DeliveryStatus.DELIVERED,
            f"delivered (AlimTalk, {at})" if at else "delivered (AlimTalk)",
        )
    why = _why(entry, "messageStatusDesc", "messageStatusName")
    return _after_failure(entry, f"AlimTalk {code}" + (f": {why}" if why else ""))


def _after_failure(entry: Mapping[str, Any], alimtalk: str) -> DeliveryResult:
    """A failed AlimTalk's fate: what its SMS failover became, if it had one."""
    info = entry.get("failoverInfo")
    if not isinstance(info, dict) or not info:
        if entry.get("useSmsFailover") is True:
            # Asked for, not reported yet: SENS sends it after Kakao's answer.
            return DeliveryResult(DeliveryStatus.ACCEPTED, f"SMS failover awaited ({alimtalk})")
        return DeliveryResult(DeliveryStatus.FAILED, f"failed: {alimtalk}; no SMS failover")
    kind = _words(info.get("type")).upper() or "SMS"
    failover = _failover_result(info)
    if failover.status is DeliveryStatus.DELIVERED:
        return DeliveryResult(
            DeliveryStatus.DELIVERED, f"delivered by {kind} failover ({alimtalk})"
        )
    if failover.status is DeliveryStatus.FAILED:
        return DeliveryResult(
            DeliveryStatus.FAILED,
            f"failed: {alimtalk}; {kind} failover {failover.result}",
        )
    return DeliveryResult(
        DeliveryStatus.ACCEPTED, f"{kind} failover {failover.result} ({alimtalk})"
    )


def _failover_result(info: Mapping[str, Any]) -> DeliveryResult:
    """The failover SMS's state: read as an SMS result when it has one's shape."""
    if info.get("status"):
        return read_delivery(info)
    code = _words(info.get("statusCode") or info.get("resultCode"))
    if not code:
        return DeliveryResult(DeliveryStatus.ACCEPTED, "processing")
    if code in ("0", DELIVERED_CODE):
        return DeliveryResult(DeliveryStatus.DELIVERED, "delivered")
    why = _why(info, "statusMessage", "resultMessage", "statusName")
    return DeliveryResult(DeliveryStatus.FAILED, f"failed: {code}" + (f" {why}" if why else ""))


__all__ = ["AlimTalkSender", "read_alimtalk_delivery"]
