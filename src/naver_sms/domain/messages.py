"""Message kinds and the Korean SMS rules a text must pass before it is sent.

Pure: sizes are counted in EUC-KR bytes as SENS counts them (a Hangul
syllable is 2 bytes, ASCII 1), the SMS/LMS choice follows from the size, and
advertising (the post-visit event) is labelled and held to 08:00-21:00 KST as
정보통신망법 제50조 requires.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Final

from naver_sms.domain.booking import KST

ENCODING: Final = "euc_kr"
SMS_MAX_BYTES: Final = 90
LMS_MAX_BYTES: Final = 2000
SUBJECT_MAX_BYTES: Final = 40
AD_PREFIX: Final = "(광고)"
# What stands in for a character of a customer's value that EUC-KR cannot
# carry, and what ends a value shortened to fit: both are in KS X 1001.
REPLACEMENT: Final = "?"
ELLIPSIS: Final = "…"
OPT_OUT_LABEL: Final = "무료수신거부"
# Advertising needs a separate consent outside these hours; we never have it.
AD_HOURS: Final = (time(8, 0), time(21, 0))


class MessageClass(StrEnum):
    INFORMATIONAL = "informational"
    ADVERTISING = "advertising"


class MessageType(StrEnum):
    SMS = "SMS"
    LMS = "LMS"


class MessageKind(StrEnum):
    CONFIRMATION = "confirmation"
    REMINDER = "reminder"
    EVENT = "event"

    @property
    def flag(self) -> str:
        """The record's flag that says this kind was sent (the seed's names)."""
        return _FLAGS[self]

    @property
    def message_class(self) -> MessageClass:
        return MessageClass.ADVERTISING if self is MessageKind.EVENT else MessageClass.INFORMATIONAL

    @property
    def is_advertising(self) -> bool:
        return self.message_class is MessageClass.ADVERTISING

    @classmethod
    def parse(cls, name: str) -> MessageKind:
        """A kind from its name or the name a store's templates use (`confirm`, `guide`)."""
        key = name.strip().lower()
        kind = KIND_ALIASES.get(key)
        if kind is None:
            names = ", ".join([*(k.value for k in cls), *KIND_ALIASES_ONLY])
            raise ValueError(f"unknown message kind {name!r}: expected one of {names}")
        return kind


_FLAGS: Final = {
    MessageKind.CONFIRMATION: "confirm_sms",
    MessageKind.REMINDER: "remind_sms",
    MessageKind.EVENT: "option_sms",
}
# Store owners call the reminder their "guide" (door code, parking, Wi-Fi).
KIND_ALIASES_ONLY: Final = {"confirm": MessageKind.CONFIRMATION, "guide": MessageKind.REMINDER}
KIND_ALIASES: Final = {**{k.value: k for k in MessageKind}, **KIND_ALIASES_ONLY}


class MessageError(ValueError):
    """A text that cannot be sent as it is. The message is safe to log (no phone numbers)."""


class UnencodableCharacterError(MessageError):
    """The text holds a character EUC-KR cannot encode (most emoji): SENS would fail the send."""

    def __init__(
        self, character: str, position: int, *, template: str = "", store: str = ""
    ) -> None:
        self.character = character
        self.position = position
        self.template = template
        self.store = store
        where = "".join(
            [
                f" in template {template!r}" if template else "",
                f" of store {store!r}" if store else "",
            ]
        )
        super().__init__(
            f"character {character!r} (U+{ord(character):04X}) at position {position}{where} "
            "cannot be sent: EUC-KR has no code for it (remove it or use a plain-text equivalent)"
        )


class MessageTooLongError(MessageError):
    pass


class AdvertisingFormatError(MessageError):
    pass


def _encode_char(character: str) -> bytes | None:
    try:
        encoded = character.encode(ENCODING)
    except UnicodeEncodeError:
        return None
    # Python writes Hangul syllables outside KS X 1001 as 8-byte "make-up"
    # sequences that SENS does not understand: treat them as unencodable.
    return encoded if len(encoded) <= 2 else None


def find_unencodable(text: str) -> list[tuple[int, str]]:
    """(position, character) of every character EUC-KR cannot encode, in order."""
    found = []
    for position, character in enumerate(text):
        if character.isascii():
            continue
        if _encode_char(character) is None:
            found.append((position, character))
    return found


def euckr_size(text: str, *, template: str = "", store: str = "") -> int:
    """The text's size in EUC-KR bytes; `template` and `store` name the source in errors."""
    bad = find_unencodable(text)
    if bad:
        position, character = bad[0]
        raise UnencodableCharacterError(character, position, template=template, store=store)
    return len(text.encode(ENCODING))


def _close_form(character: str) -> str | None:
    """An encodable stand-in that reads the same (full-width or accented Latin), or None."""
    composed = unicodedata.normalize("NFKC", character)
    if composed != character and not find_unencodable(composed):
        return composed
    # "é" has no EUC-KR code but "e" does: drop the accents NFKD splits off.
    base = "".join(
        part for part in unicodedata.normalize("NFKD", character) if not unicodedata.combining(part)
    )
    if base and base != character and not find_unencodable(base):
        return base
    return None


def _is_invisible(character: str) -> bool:
    # Joiners, variation selectors, combining marks and skin tones belong to the
    # character before them: one emoji becomes one REPLACEMENT, not three.
    return unicodedata.category(character) in {"Mn", "Me", "Cf"} or (
        0x1F3FB <= ord(character) <= 0x1F3FF
    )


def make_sendable(value: str) -> tuple[str, int]:
    """`value` with every character EUC-KR cannot carry replaced, and how many there were.

    For text that came from outside (a customer's name, an option), where a
    send that fails on one character would fail every cycle forever. A
    character becomes its close form when Unicode has one EUC-KR can carry
    (full-width or accented Latin), an invisible one (a joiner, a variation
    selector, a skin tone, a combining mark) is dropped, anything else (a
    Hangul syllable outside KS X 1001 such as 똠, an emoji, a lone surrogate)
    becomes `REPLACEMENT` ("?") so the reader sees something is missing.
    """
    if not find_unencodable(value):
        return value, 0
    parts = []
    replaced = 0
    for character in value:
        if character.isascii() or _encode_char(character) is not None:
            parts.append(character)
            continue
        replaced += 1
        if _is_invisible(character):
            continue
        parts.append(_close_form(character) or REPLACEMENT)
    return "".join(parts), replaced


def shorten_to_bytes(value: str, max_bytes: int) -> str:
    """`value` if it fits `max_bytes` EUC-KR bytes, else its longest prefix that fits with "…".

    `value` must be encodable (see `make_sendable`); `max_bytes` is at least
    the ellipsis's 2 bytes.
    """
    if len(value) <= max_bytes // 2 or len(value.encode(ENCODING)) <= max_bytes:
        return value
    budget = max_bytes - len(ELLIPSIS.encode(ENCODING))
    used = 0
    for end, character in enumerate(value):
        used += 1 if character.isascii() else 2
        if used > budget:
            return value[:end].rstrip() + ELLIPSIS
    return value


def message_type_for(size: int) -> MessageType:
    """SMS up to 90 bytes, LMS up to 2,000; longer text would be cut by the provider."""
    if size <= SMS_MAX_BYTES:
        return MessageType.SMS
    if size <= LMS_MAX_BYTES:
        return MessageType.LMS
    raise MessageTooLongError(
        f"text is {size} bytes: expected at most {LMS_MAX_BYTES} EUC-KR bytes (LMS)"
    )


def fit_subject(subject: str, max_bytes: int = SUBJECT_MAX_BYTES) -> str:
    """The longest prefix of `subject` that fits `max_bytes` EUC-KR bytes (LMS subjects)."""
    size = euckr_size(subject)
    while size > max_bytes:
        subject = subject[:-1]
        size = euckr_size(subject)
    return subject


def opt_out_line(opt_out: str) -> str:
    return f"{OPT_OUT_LABEL} {opt_out}"


def label_advertising(text: str, *, store_name: str, opt_out: str) -> str:
    """The text with what the law requires of advertising added where it is missing.

    Starts with `(광고)` followed by the store's name, ends with the free opt-out
    line; a template that already has them is left as it is.
    """
    body = text.strip()
    if not body.startswith(AD_PREFIX):
        body = (
            f"{AD_PREFIX}{store_name}\n{body}" if store_name not in body else f"{AD_PREFIX} {body}"
        )
    elif store_name not in body:
        body = f"{AD_PREFIX}{store_name} {body.removeprefix(AD_PREFIX).lstrip()}"
    line = opt_out_line(opt_out)
    if not body.endswith(line):
        body = f"{body}\n{line}"
    return body


def advertising_problems(text: str, *, store_name: str, opt_out: str | None) -> list[str]:
    """What keeps `text` from being a lawful advertising message; empty when it is one."""
    problems = []
    if not text.startswith(AD_PREFIX):
        problems.append(f"advertising text must start with {AD_PREFIX}")
    if store_name not in text:
        problems.append(f"advertising text must name the store ({store_name})")
    if not opt_out:
        problems.append("the store has no opt_out number: advertising cannot be sent")
    elif not text.endswith(opt_out_line(opt_out)):
        problems.append(f"advertising text must end with '{opt_out_line(opt_out)}'")
    return problems


@dataclass(frozen=True, slots=True)
class AdvertisingDecision:
    """May an advertising message go at `now`; if not, the earliest KST time it may."""

    may_send: bool
    not_before: datetime


def advertising_decision(now: datetime) -> AdvertisingDecision:
    """08:00 <= now < 21:00 KST, whatever the host's time zone; `now` must be aware."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime (the host's time zone is not used)")
    local = now.astimezone(KST)
    opens, closes = AD_HOURS
    if opens <= local.time() < closes:
        return AdvertisingDecision(True, local)
    day = local.date() if local.time() < opens else local.date() + timedelta(days=1)
    return AdvertisingDecision(False, datetime.combine(day, opens, tzinfo=KST))


def may_send_advertising(now: datetime) -> bool:
    return advertising_decision(now).may_send


ALIMTALK_MAX_CHARS: Final = 1000


class Channel(StrEnum):
    """How a message reaches the phone: the record's `{flag}_channel`."""

    SMS = "sms"
    LMS = "lms"
    ALIMTALK = "alimtalk"


@dataclass(frozen=True, slots=True)
class AlimTalkButton:
    """A button as approved with the template (SENS's `buttons[]`)."""

    type: str  # DS, WL, AL, BK, MD, AC
    name: str
    link_mobile: str = ""
    link_pc: str = ""
    scheme_ios: str = ""
    scheme_android: str = ""


@dataclass(frozen=True, slots=True)
class AlimTalk:
    """The KakaoTalk AlimTalk form of a message: an approved template, filled in.

    Kakao compares `content` with the approved template, so it is the template's
    text with each `#{variable}` replaced, nothing else. The message's own text
    (SMS or LMS by its size) is the failover the provider sends from the store's
    number when the customer cannot receive AlimTalk.
    """

    plus_friend_id: str  # the Kakao channel, e.g. "@sample-studio"
    template_code: str
    content: str
    buttons: tuple[AlimTalkButton, ...] = ()
    failover: bool = True


@dataclass(frozen=True, slots=True)
class Message:
    """One text to one recipient, checked: encodable, sized, typed, labelled if advertising.

    `to` and `sender` are kept as given; senders strip separators themselves.
    `booking_num` and `kind` (the message's name: `confirmation`, ..., or one the
    owner configured) let the caller map a send result back to a record;
    `advertising` holds it to the law's rules (the `(광고)` label, SENS's AD type).
    """

    to: str = field(repr=False)  # a full phone number never reaches a log via repr()
    sender: str
    text: str
    kind: str
    booking_num: str = ""
    store_id: str = ""
    subject: str = ""
    size: int = 0
    type: MessageType = MessageType.SMS
    # What had to change in values that came from Naver so the text can go
    # (a character EUC-KR cannot carry replaced, a long name shortened); the
    # cycle's report says it next to the sent message.
    adjusted: tuple[str, ...] = ()
    advertising: bool = False
    # Set when the message goes as AlimTalk first; `text` is then its SMS failover.
    alimtalk: AlimTalk | None = None

    def __post_init__(self) -> None:
        # One of the seed's kinds knows its class; the record and the report keep names.
        if isinstance(self.kind, MessageKind):
            if self.kind.is_advertising:
                object.__setattr__(self, "advertising", True)
            object.__setattr__(self, "kind", self.kind.value)

    @property
    def channel(self) -> Channel:
        """AlimTalk when it goes as one, else SMS or LMS by the text's size."""
        if self.alimtalk is not None:
            return Channel.ALIMTALK
        return Channel.LMS if self.type is MessageType.LMS else Channel.SMS

    @property
    def content_type(self) -> str:
        """SENS's contentType: advertising goes as AD, everything else as COMM."""
        return "AD" if self.advertising else "COMM"

    @classmethod
    def build(
        cls,
        *,
        to: str,
        sender: str,
        text: str,
        kind: str,
        booking_num: str = "",
        store_id: str = "",
        subject: str = "",
        store_name: str = "",
        template: str = "",
        adjusted: Sequence[str] = (),
        opt_out: str | None = None,
        size: int | None = None,
        advertising: bool | None = None,
    ) -> Message:
        """A checked message. `opt_out` (the store's number) checks advertising in full,
        the store's name and opt-out line included; `size` is the EUC-KR size when the
        caller (the renderer) measured it already, so no text is measured twice."""
        text = text.strip()
        if advertising is None:
            # The seed's kinds know their class; a configured message says it.
            advertising = isinstance(kind, MessageKind) and kind.is_advertising
        name = str(kind.value if isinstance(kind, MessageKind) else kind)
        source = f"template {template or name!r}" + (
            f" of store {store_name or store_id!r}" if store_name or store_id else ""
        )
        if not text:
            raise MessageError(f"{source}: empty text")
        if size is None:
            size = euckr_size(text, template=template or name, store=store_name or store_id)
        try:
            kind_type = message_type_for(size)
        except MessageTooLongError as exc:
            raise MessageTooLongError(f"{source}: {exc}") from None
        if advertising:
            if opt_out is not None:
                problems = advertising_problems(text, store_name=store_name, opt_out=opt_out)
                if problems:
                    raise AdvertisingFormatError(f"{source}: {'; '.join(problems)}")
            last_line = text.rsplit("\n", 1)[-1]
            if not text.startswith(AD_PREFIX) or not last_line.startswith(OPT_OUT_LABEL):
                raise AdvertisingFormatError(
                    f"{source}: advertising must start with {AD_PREFIX} and end with "
                    f"'{OPT_OUT_LABEL} <number>'"
                )
        if subject:
            euckr_size(subject, template=f"{template or name} subject", store=store_name)
            subject = fit_subject(subject)
        return cls(
            to=to,
            sender=sender,
            text=text,
            kind=name,
            advertising=advertising,
            booking_num=booking_num,
            store_id=store_id,
            subject=subject if kind_type is MessageType.LMS else "",
            size=size,
            type=kind_type,
            adjusted=tuple(adjusted),
        )
