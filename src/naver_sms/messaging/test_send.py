"""A test message: one store's message, rendered for a made-up booking, to one number.

The one code path of `naver-sms send-test` and the owner's web page: the owner
sees on their own phone what a customer gets, through the real provider
(SMS/LMS through SENS, or AlimTalk with its SMS failover when the store sends
that message as AlimTalk). Nothing is recorded on any booking. The callers
build the senders (`bootstrap`) and turn the two errors into their own words:
`TestSendRefused` is the owner's to fix (exit 2, a line on the page),
`TestSendFailed` is the provider's answer (exit 1).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Final

from naver_sms.config import AppConfig, StoreConfig
from naver_sms.domain.booking import KST, Booking, mask_phone
from naver_sms.domain.catalog import MessageSpec, as_spec
from naver_sms.domain.messages import AD_HOURS, Message, MessageError, MessageKind
from naver_sms.messaging.base import SendError, SendUnclear, SmsSender
from naver_sms.messaging.templates import (
    SAMPLE_CUSTOMER,
    SAMPLE_ITEM,
    SAMPLE_OPTIONS,
    TemplateRenderer,
)

__all__ = [
    "TEST_BOOKING_ID",
    "TestSendFailed",
    "TestSendRefused",
    "channel_label",
    "find_message",
    "refuse_opted_out",
    "render_test",
    "send_rendered",
    "sender_for",
    "test_booking",
]

# The test booking's number: made up, never a customer's.
TEST_BOOKING_ID: Final = "1000000001"


class TestSendRefused(ValueError):
    """The test cannot go as asked, and the owner can change that (hours, number, template)."""

    __test__ = False  # not a pytest test class, whatever imports it


class TestSendFailed(Exception):
    """The provider did not take the text (or its answer was lost): its words."""

    __test__ = False


def test_booking(store: StoreConfig, to: str, now: datetime) -> Booking:
    """A made-up booking of `store` for `to`: the sample customer, tomorrow at 14:00 KST."""
    visit = (now.astimezone(KST) + timedelta(days=1)).replace(
        hour=14, minute=0, second=0, microsecond=0
    )
    return Booking(
        booking_num=f"{store.id}_{TEST_BOOKING_ID}",
        phone=to,
        name=SAMPLE_CUSTOMER,
        booking_time=f"{visit:%Y-%m-%d %H:%M:%S}",
        extra={"item_name": SAMPLE_ITEM, "option_names": list(SAMPLE_OPTIONS)},
    )


def find_message(config: AppConfig, store: StoreConfig, name: str) -> MessageSpec:
    """The message `name` of the store's catalog; the config's aliases (confirm, guide) too."""
    catalog = config.catalog(store)
    wanted = name.strip().lower()
    # A message the owner named is looked up as it is; confirm, guide are the seed's names.
    with suppress(ValueError):
        wanted = MessageKind.parse(wanted).value
    for spec in catalog:
        if spec.name == wanted:
            return spec
    names = ", ".join(spec.name for spec in catalog)
    raise TestSendRefused(f"store {store.id} has no message {name!r} (its messages: {names})")


def check_advertising_hours(message: MessageKind | MessageSpec, now: datetime) -> None:
    """An advertisement goes only in the law's hours, to a test phone too."""
    opens, closes = AD_HOURS
    if as_spec(message).advertising and not opens <= now.astimezone(KST).time() < closes:
        raise TestSendRefused(
            f"{as_spec(message).name} is advertising: the law allows it only {opens:%H:%M}-"
            f"{closes:%H:%M} KST, to a test phone too; send the test then"
        )


def render_test(
    config: AppConfig,
    store: StoreConfig,
    message: MessageKind | MessageSpec,
    to: str,
    now: datetime,
) -> Message:
    """The message as a customer would get it, for the test booking to `to` (normalised).

    TestSendRefused outside the advertising hours, or when the template cannot render.
    """
    check_advertising_hours(message, now)
    try:
        rendered = TemplateRenderer(config).message(store, message, test_booking(store, to, now))
    except MessageError as exc:
        raise TestSendRefused(f"{exc} (`naver-sms templates check` shows every text)") from None
    # Not a booking's: a test's log lines and result name no booking.
    return dataclasses.replace(rendered, booking_num="")


def refuse_opted_out(message: Message, opted_out: Collection[str]) -> None:
    """An advertisement never goes to a number on the 080 list, a test's neither."""
    if message.advertising and message.to in opted_out:
        raise TestSendRefused(
            f"{mask_phone(message.to)} opted out of advertising (SENS's 080 list): "
            "no event message may go to it; remove it from the opt-out list if its owner "
            "asked to receive them again"
        )


def channel_label(message: Message) -> str:
    """How the message goes, in a few words: `AlimTalk CODE (with its SMS failover)`, `LMS`."""
    if message.alimtalk is not None:
        failover = "with its SMS failover" if message.alimtalk.failover else "no failover"
        return f"AlimTalk {message.alimtalk.template_code} ({failover})"
    return message.type.value


def sender_for(message: Message, sms: SmsSender, alimtalk: SmsSender | None) -> SmsSender:
    """Who sends `message`: `alimtalk` for an AlimTalk message, else `sms`.

    TestSendRefused when the message goes as AlimTalk and there is no AlimTalk
    sender: asked before the test is counted or confirmed, since nothing would go.
    """
    sender = sms if message.alimtalk is None else alimtalk
    if sender is None:
        raise TestSendRefused(
            "this message goes as KakaoTalk AlimTalk: set SENS_ALIMTALK_SERVICE_ID to test it"
        )
    return sender


def send_rendered(message: Message, sender: SmsSender) -> str:
    """Send `message` through `sender` (`sender_for`): the provider's request id.

    TestSendFailed saying why when the provider did not take it, or its answer was lost.
    """
    (result,) = sender.send([message])
    if result.ok and result.request_id is not None:
        return result.request_id
    error = result.error
    if isinstance(error, SendUnclear):
        raise TestSendFailed(
            f"SENS's answer was lost ({error.reason}): the text may have gone; look at the "
            "phone before sending it again"
        )
    reason = str(error) if isinstance(error, SendError) else "no request id"
    raise TestSendFailed(f"SENS did not take the text: {reason}")
