"""Message templates: Jinja2 text with Korean date formats, per-store overrides, and a lint.

A template is looked up store override -> config default -> built-in default.
Undefined variables are errors (StrictUndefined), so a typo is found by
`naver-sms templates check` rather than texted to a customer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from naver_sms.config import AppConfig, StoreConfig
from naver_sms.domain.booking import KST, Booking
from naver_sms.domain.messages import (
    AD_PREFIX,
    Message,
    MessageError,
    MessageKind,
    MessageType,
    UnencodableCharacterError,
    advertising_problems,
    euckr_size,
    find_unencodable,
    fit_subject,
    label_advertising,
    message_type_for,
)

Origin = Literal["store", "config", "built-in"]

# Generic texts: a store's own guide (door code, parking) belongs in its config.
DEFAULT_TEMPLATES: Final[Mapping[MessageKind, str]] = {
    MessageKind.CONFIRMATION: (
        "[{{ store }}] {{ customer }}님, {{ visit_time }} 예약이 확정되었습니다."
    ),
    MessageKind.REMINDER: (
        "[{{ store }}] {{ customer }}님, 오늘 {{ visit_clock }} 방문 예정입니다.\n"
        "예약 상품: {{ item }}\n"
        "오시는 길과 주차 안내는 네이버 지도의 매장 정보를 확인해 주세요. 곧 뵙겠습니다."
    ),
    MessageKind.EVENT: (
        "{{ customer }}님, 오늘 방문해 주셔서 감사합니다.\n"
        "네이버 예약 리뷰를 남겨 주시면 다음 방문 때 작은 선물을 드립니다."
    ),
}

# name -> (what it is, sample value shown in docs)
VARIABLES: Final[Mapping[str, tuple[str, str]]] = {
    "customer": ("the customer's name", "홍길동"),
    "store": ("the store's name", "샘플 스튜디오"),
    "visit_time": ("visit date and time, KST", "11월 24일 (화) 오후 2:00"),
    "visit_date": ("visit date, KST", "11월 24일 (화)"),
    "visit_clock": ("visit time of day, KST", "오후 2:00"),
    "visit_short": ("visit date and time, short", "11/24 14:00"),
    "visit_iso": ("visit date and time, ISO-like", "2026-11-24 14:00"),
    "item": ("the booked item (Naver bizItemName)", "기본 촬영"),
    "options": ("the option names, a list", "['네이버 리뷰 이벤트']"),
    "options_text": ("the option names joined with ', '", "네이버 리뷰 이벤트, 원본 추가"),
    "booking_num": ("the booking number {businessId}_{bookingId}", "5000001_1000000001"),
    "booking_id": ("Naver's bookingId", "1000000001"),
    "sender": ("the store's sender number", "0200000000"),
    "opt_out": ("the store's opt-out number (may be empty)", "080-000-0000"),
}

_WEEKDAYS: Final = "월화수목금토일"
# Keys the booking client stores the item and option names under in Booking.extra.
ITEM_KEYS: Final = ("item_name", "biz_item_name", "bizItemName")
OPTION_KEYS: Final = ("option_names", "options")

SAMPLE_CUSTOMER: Final = "홍길동"
SAMPLE_PHONE: Final = "010-0000-0000"
SAMPLE_VISIT: Final = "2026-11-24 14:00:00"
SAMPLE_ITEM: Final = "기본 촬영 (1시간)"
SAMPLE_OPTIONS: Final = ("네이버 리뷰 이벤트", "원본 사진 추가")


class TemplateError(MessageError):
    """A template that cannot be rendered: syntax, an undefined variable, a forbidden call."""


def format_visit_date(moment: datetime) -> str:
    local = moment.astimezone(KST)
    return f"{local.month}월 {local.day}일 ({_WEEKDAYS[local.weekday()]})"


def format_visit_clock(moment: datetime) -> str:
    local = moment.astimezone(KST)
    half = "오전" if local.hour < 12 else "오후"
    hour = local.hour % 12 or 12
    return f"{half} {hour}:{local.minute:02d}"


def format_visit_time(moment: datetime) -> str:
    """`11월 25일 (화) 오후 2:00`, in KST whatever the moment's zone."""
    return f"{format_visit_date(moment)} {format_visit_clock(moment)}"


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, Sequence):
        return [str(part) for part in value if str(part).strip()]
    return []


def template_variables(
    booking: Booking,
    store: StoreConfig,
    *,
    item: str | None = None,
    options: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The variables of every template. `item`/`options` default to the booking's extras."""
    starts = booking.starts_at
    if item is None:
        item = next((str(booking.extra[k]) for k in ITEM_KEYS if booking.extra.get(k)), "")
    if options is None:
        options = next((_names(booking.extra[k]) for k in OPTION_KEYS if booking.extra.get(k)), [])
    option_list = list(options)
    return {
        "customer": booking.name,
        "store": store.name,
        "visit_time": format_visit_time(starts),
        "visit_date": format_visit_date(starts),
        "visit_clock": format_visit_clock(starts),
        "visit_short": f"{starts.month}/{starts.day} {starts:%H:%M}",
        "visit_iso": f"{starts:%Y-%m-%d %H:%M}",
        "item": item,
        "options": option_list,
        "options_text": ", ".join(option_list),
        "booking_num": booking.booking_num,
        "booking_id": booking.book_id,
        "sender": store.sender,
        "opt_out": store.opt_out or "",
    }


def sample_booking(store: StoreConfig) -> Booking:
    """A made-up booking of `store` for checks and previews (no real customer)."""
    return Booking(
        booking_num=f"{store.id}_1000000001",
        phone=SAMPLE_PHONE,
        name=SAMPLE_CUSTOMER,
        booking_time=SAMPLE_VISIT,
        extra={"item_name": SAMPLE_ITEM, "option_names": list(SAMPLE_OPTIONS)},
    )


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered text, labelled if advertising, with its size and SMS/LMS type."""

    store: StoreConfig
    kind: MessageKind
    origin: Origin
    text: str
    size: int
    type: MessageType
    subject: str


class TemplateRenderer:
    """Renders the configured templates; compiled templates are cached per store and kind."""

    def __init__(self, config: AppConfig) -> None:
        self.config = config
        # Templates come from the operator's file; the sandbox still keeps a
        # careless `{{ ''.__class__ }}` from reaching Python internals.
        self._env = SandboxedEnvironment(
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # plain-text SMS: HTML escaping would corrupt "&" and quotes
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._compiled: dict[tuple[str, MessageKind], jinja2.Template] = {}

    def source(self, store: StoreConfig, kind: MessageKind) -> tuple[Origin, str]:
        if kind in store.templates:
            return "store", store.templates[kind]
        if kind in self.config.templates:
            return "config", self.config.templates[kind]
        return "built-in", DEFAULT_TEMPLATES[kind]

    @staticmethod
    def label(kind: MessageKind, origin: Origin) -> str:
        name = "guide" if kind is MessageKind.REMINDER and origin == "store" else kind.value
        return f"{name} ({origin})"

    def _template(self, store: StoreConfig, kind: MessageKind) -> jinja2.Template:
        key = (store.id, kind)
        if key not in self._compiled:
            origin, text = self.source(store, kind)
            label = self.label(kind, origin)
            bad = find_unencodable(text)
            if bad:
                position, character = bad[0]
                raise UnencodableCharacterError(
                    character, position, template=label, store=store.name
                )
            try:
                self._compiled[key] = self._env.from_string(text)
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(
                    f"template {label} of store {store.name!r}, line {exc.lineno}: {exc.message}"
                ) from None
        return self._compiled[key]

    def render_text(
        self, store: StoreConfig, kind: MessageKind, variables: Mapping[str, Any]
    ) -> str:
        """The template's text, stripped; advertising is labelled when the store has an opt-out."""
        template = self._template(store, kind)
        origin, _ = self.source(store, kind)
        label = self.label(kind, origin)
        try:
            text = template.render(**variables).strip()
        except jinja2.TemplateError as exc:
            raise TemplateError(
                f"template {label} of store {store.name!r}: {exc.message or type(exc).__name__}"
            ) from None
        if not text:
            raise TemplateError(f"template {label} of store {store.name!r}: renders empty text")
        if kind.is_advertising and store.opt_out:
            text = label_advertising(text, store_name=store.name, opt_out=store.opt_out)
        bad = find_unencodable(text)
        if bad:
            position, character = bad[0]
            raise UnencodableCharacterError(
                character,
                position,
                template=f"{label}, from a variable (customer, item or options)",
                store=store.name,
            )
        return text

    def render(
        self,
        store: StoreConfig,
        kind: MessageKind,
        booking: Booking,
        *,
        item: str | None = None,
        options: Sequence[str] | None = None,
    ) -> Rendered:
        origin, _ = self.source(store, kind)
        variables = template_variables(booking, store, item=item, options=options)
        text = self.render_text(store, kind, variables)
        size = euckr_size(text, template=self.label(kind, origin), store=store.name)
        prefix = AD_PREFIX if kind.is_advertising else ""
        subject = fit_subject(f"{prefix}[{store.name}]")
        return Rendered(store, kind, origin, text, size, message_type_for(size), subject)

    def message(
        self,
        store: StoreConfig,
        kind: MessageKind,
        booking: Booking,
        *,
        item: str | None = None,
        options: Sequence[str] | None = None,
    ) -> Message:
        """The message to send for `booking`: rendered, checked, addressed from the store's sender.

        Raises `MessageError` (a `TemplateError`, an unencodable character, too
        long, advertising without an opt-out) instead of returning a bad text.
        """
        if kind.is_advertising and not store.opt_out:
            raise MessageError(
                f"{kind.value} of store {store.name!r}: the store has no opt_out number, "
                "so it gets no advertising messages"
            )
        rendered = self.render(store, kind, booking, item=item, options=options)
        if kind.is_advertising:
            problems = advertising_problems(
                rendered.text, store_name=store.name, opt_out=store.opt_out
            )
            if problems:
                raise MessageError(f"{kind.value} of store {store.name!r}: {'; '.join(problems)}")
        return Message.build(
            to=booking.phone,
            sender=store.sender,
            text=rendered.text,
            kind=kind,
            booking_num=booking.booking_num,
            store_id=store.id,
            subject=rendered.subject,
            store_name=store.name,
            template=self.label(kind, rendered.origin),
        )


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One store x kind of `templates check`: what it renders to and what is wrong with it."""

    store: StoreConfig
    kind: MessageKind
    origin: Origin
    text: str = ""
    size: int | None = None
    type: MessageType | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check_templates(config: AppConfig) -> list[CheckRow]:
    """Every store x kind rendered with a sample booking; problems block sending, warnings don't."""
    renderer = TemplateRenderer(config)
    rows = []
    for store in config.stores:
        booking = sample_booking(store)
        for kind in MessageKind:
            origin, _ = renderer.source(store, kind)
            problems: list[str] = []
            warnings: list[str] = []
            try:
                rendered = renderer.render(store, kind, booking)
            except MessageError as exc:
                rows.append(CheckRow(store, kind, origin, problems=[str(exc)]))
                continue
            if kind.is_advertising:
                if store.opt_out:
                    problems += advertising_problems(
                        rendered.text, store_name=store.name, opt_out=store.opt_out
                    )
                elif config.rules.event.enabled:
                    warnings.append("no opt_out: this store gets no event (advertising) messages")
            rows.append(
                CheckRow(
                    store,
                    kind,
                    origin,
                    rendered.text,
                    rendered.size,
                    rendered.type,
                    problems,
                    warnings,
                )
            )
    return rows
