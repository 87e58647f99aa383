"""Message templates: Jinja2 text with Korean date formats, per-store overrides, and a lint.

A template is looked up store override -> config default -> built-in default.
Undefined variables are errors (StrictUndefined), so a typo is found by
`naver-sms templates check` rather than texted to a customer.

Rendering never raises anything but `MessageError`: a template runs in a
sandbox without a loader (no include/import/extends), with a bounded `range`,
a budget of loop steps and calls, a time limit and a size limit on every text
it builds, so one bad template fails its own messages and nothing else.
Values that come from Naver (the customer's name, the item, the options) are
made sendable instead: characters EUC-KR cannot carry are replaced and long
values shortened to fit an LMS, and `Message.adjusted` says what was done.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import re
import string
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Final, Literal

import jinja2
from jinja2 import meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg

from naver_sms.config import AlimTalkChoice, AppConfig, StoreConfig
from naver_sms.domain import alimtalk as alimtalk_rules
from naver_sms.domain.booking import KST, Booking, BookingValidationError, parse_booking_time
from naver_sms.domain.catalog import MessageSpec, as_spec, builtin_kind
from naver_sms.domain.messages import (
    AD_PREFIX,
    ELLIPSIS,
    ENCODING,
    LMS_MAX_BYTES,
    AlimTalk,
    AlimTalkButton,
    Channel,
    Message,
    MessageError,
    MessageKind,
    MessageTooLongError,
    MessageType,
    UnencodableCharacterError,
    advertising_problems,
    euckr_size,
    find_unencodable,
    fit_subject,
    label_advertising,
    make_sendable,
    message_type_for,
    shorten_to_bytes,
)

# Re-exported (the explicit alias): callers have always read the variables here.
from naver_sms.messaging.variables import VARIABLES as VARIABLES  # noqa: PLC0414
from naver_sms.utils.scrub import scrub

Origin = Literal["store", "config", "built-in"]

# Generic texts: a store's own reminder (door code, parking) belongs in its config.
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


_WEEKDAYS: Final = "월화수목금토일"
# Keys the booking client stores the item and option names under in Booking.extra.

SAMPLE_CUSTOMER: Final = "홍길동"
SAMPLE_PHONE: Final = "010-0000-0000"
SAMPLE_VISIT: Final = "2026-11-24 14:00:00"
SAMPLE_MOVED_FROM: Final = "2026-11-23 11:00:00"  # a change notice's old time
SAMPLE_ITEM: Final = "기본 촬영 (1시간)"
SAMPLE_OPTIONS: Final = ("네이버 리뷰 이벤트", "원본 사진 추가")


# Limits of the sandbox. An SMS template needs none of them: a whole LMS is
# 2,000 bytes, so nothing a template builds has a reason to be much longer.
MAX_RANGE: Final = 2_000  # items of range()
MAX_NUMBER: Final = 2_000  # a number given to a call or filter (a width, a count)
MAX_TEXT: Final = 20_000  # characters of any text or list a template builds, and of its output
MAX_STEPS: Final = 100_000  # loop iterations, calls and operators of one render
MAX_SECONDS: Final = 1.0  # of one render
# Format widths such as {:>999999} or %999999d.
_PERCENT_WIDTHS: Final = re.compile(r"%[#0\- +]*(\d*|\*)(?:\.(\d*|\*))?")
_DIGITS: Final = re.compile(r"\d+")
_COUNTED: Final = "naver_sms_counted"  # the filter every for loop's iterable goes through
_FORBIDDEN_TAGS: Final = {
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "import",
    nodes.Extends: "extends",
}


class TemplateError(MessageError):
    """A template that cannot be rendered: syntax, an undefined variable, a forbidden call."""


class TemplateTooLargeError(TemplateError):
    """The rendered text (or a text built on the way) is over `MAX_TEXT` characters."""


class _LimitExceeded(SecurityError):
    """A template went over one of the sandbox's limits."""


class _TooLarge(_LimitExceeded):
    pass


class _Budget:
    """What one render may still spend; checked at every loop step, call and operator."""

    __slots__ = ("deadline", "steps")

    def __init__(self) -> None:
        self.steps = MAX_STEPS
        self.deadline = time.monotonic() + MAX_SECONDS

    def spend(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise _LimitExceeded(f"more than {MAX_STEPS:,} loop steps and calls")
        if time.monotonic() > self.deadline:
            raise _LimitExceeded(f"rendering took longer than {MAX_SECONDS:g} s")


# The budget of the render running in this thread (None while compiling, when
# Jinja folds constants and calls filters ahead of time).
_budget: ContextVar[_Budget | None] = ContextVar("naver_sms_template_budget", default=None)


def _spend() -> None:
    budget = _budget.get()
    if budget is not None:
        budget.spend()


def _check_length(length: int) -> None:
    if length > MAX_TEXT:
        raise _TooLarge(f"a text or list of more than {MAX_TEXT:,} characters or items")


def _checked(value: Any) -> Any:
    if isinstance(value, str | list | tuple | dict):
        _check_length(len(value))
    return value


def _check_arguments(args: Iterable[Any], kwargs: Mapping[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        # bool is an int: True is a fine argument.
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
            raise _LimitExceeded(f"the number {value} is over {MAX_NUMBER:,} (a width or count)")
        _checked(value)


def _check_width(width: str | None) -> None:
    if width and width != "*" and int(width) > MAX_NUMBER:
        raise _LimitExceeded(f"a format width of {width} is over {MAX_NUMBER:,}")


def _check_percent_format(text: str) -> None:
    for match in _PERCENT_WIDTHS.finditer(text):
        _check_width(match.group(1))
        _check_width(match.group(2))


def _check_brace_format(text: str) -> None:
    for _literal, _field, spec, _conversion in string.Formatter().parse(text):
        for width in _DIGITS.findall(spec or ""):
            _check_width(width)


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise _LimitExceeded(f"range() of {len(numbers):,} items: at most {MAX_RANGE:,}")
    return numbers


def _counted(iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        _spend()
        yield item


def _guarded_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` (a filter) with its arguments and result held to the sandbox's limits."""
    # A filter that takes the context or environment gets it first, then the value.
    first = 1 if _PassArg.from_obj(function) is not None else 0

    @functools.wraps(function)  # keeps the pass_context marker Jinja looks for
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _spend()
        value, options = args[first] if len(args) > first else None, args[first + 1 :]
        _check_arguments(options, kwargs)
        if function is jinja2.filters.do_format and isinstance(value, str):
            _check_percent_format(value)
        if function is jinja2.filters.do_join:
            items = list(value) if value is not None else []
            separator = options[0] if options else kwargs.get("d", "")
            if isinstance(separator, str):
                _check_length(len(items) * (len(separator) + 1))
            args = (*args[:first], items, *options)
        if function is jinja2.filters.do_replace and isinstance(value, str) and len(options) > 1:
            _check_replace(value, options[0], options[1])
        return _checked(function(*args, **kwargs))

    return guarded


def _check_replace(text: str, old: Any, new: Any) -> None:
    if isinstance(old, str) and isinstance(new, str):
        count = text.count(old) if old else len(text) + 1
        if len(text) + count * len(new) > MAX_TEXT:
            raise _TooLarge(f"a replace() that makes more than {MAX_TEXT:,} characters")


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox (no Python internals, no changing lists or dicts) with limits on
    what a template may spend: range, numbers, sizes, steps and time."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # lipsum makes text of any length; namespace() lets a loop grow a value
        # from one step to the next.
        for name in ("lipsum", "namespace"):
            self.globals.pop(name, None)
        self.globals["range"] = _bounded_range
        self.filters = {name: _guarded_filter(f) for name, f in self.filters.items()}
        self.filters[_COUNTED] = _counted

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _spend()
        if (
            operator == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and abs(right) * max(abs(left).bit_length(), 1) > MAX_TEXT * 4
        ):
            raise _LimitExceeded(f"{left} ** {right} is too large a number")
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if isinstance(sequence, str | list | tuple) and isinstance(times, int):
                    _check_length(len(sequence) * times)
        if operator == "%" and isinstance(left, str):
            _check_percent_format(left)
            _check_arguments(right if isinstance(right, tuple) else (), {})
        return _checked(self.binop_table[operator](left, right))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_brace_format(value.__self__)
        return wrapped

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        # Positional-only: a template's own keyword arguments may be called anything.
        _spend()
        _check_arguments(args, kwargs)
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, str):  # a str method: the two that can multiply a text
            name = getattr(obj, "__name__", "")
            if name == "replace" and len(args) >= 2:
                _check_replace(owner, args[0], args[1])
            elif name == "join" and args:
                items = list(args[0])
                _check_length(len(items) * (len(owner) + 1))
                args = (items, *args[1:])
        return _checked(super().call(context, obj, *args, **kwargs))


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
    # The booking API's parser writes these two extras (naver/booking_api.py).
    if item is None:
        item = str(booking.extra.get("item_name") or "")
    if options is None:
        options = _names(booking.extra.get("option_names") or [])
    option_list = list(options)
    # A change notice tells the old time too (the plan passes it when the visit moved).
    moved_from = booking.extra.get("moved_from")
    before = starts
    if isinstance(moved_from, str) and moved_from:
        with contextlib.suppress(BookingValidationError):
            before = parse_booking_time(moved_from)
    return {
        "previous_visit_time": format_visit_time(before),
        "previous_visit_date": format_visit_date(before),
        "previous_visit_clock": format_visit_clock(before),
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
        extra={
            "item_name": SAMPLE_ITEM,
            "option_names": list(SAMPLE_OPTIONS),
            "moved_from": SAMPLE_MOVED_FROM,
        },
    )


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered text, labelled if advertising, with its size and SMS/LMS type.

    `adjusted` says what was changed in the booking's values (from Naver) so
    that the text can be sent: characters replaced, values shortened.
    """

    store: StoreConfig
    kind: str
    origin: Origin
    text: str
    size: int
    type: MessageType
    subject: str
    adjusted: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _NaverValues:
    """The template variables whose values come from Naver, not from the owner's config."""

    customer: str
    item: str
    options: tuple[str, ...]

    # (field, what the owner calls it in the report, the template variables it is in)
    NAMES: ClassVar[tuple[tuple[str, str, frozenset[str]], ...]] = (
        ("customer", "customer name", frozenset({"customer"})),
        ("item", "item name", frozenset({"item"})),
        ("options", "option names", frozenset({"options", "options_text"})),
    )

    @classmethod
    def of(cls, variables: Mapping[str, Any]) -> _NaverValues:
        return cls(
            str(variables["customer"]),
            str(variables["item"]),
            tuple(str(option) for option in variables["options"]),
        )

    def variables(self) -> dict[str, Any]:
        options = list(self.options)
        return {
            "customer": self.customer,
            "item": self.item,
            "options": options,
            "options_text": ", ".join(options),
        }

    def sendable(self, uses: frozenset[str]) -> tuple[_NaverValues, list[str]]:
        """These values with what EUC-KR cannot carry replaced, and a note per value
        the template `uses`."""
        customer, in_customer = make_sendable(self.customer)
        item, in_item = make_sendable(self.item)
        options = [make_sendable(option) for option in self.options]
        in_options = sum(count for _, count in options)
        notes = [
            f"{what}: {count} character{'s' if count > 1 else ''} EUC-KR cannot carry "
            f"{'were' if count > 1 else 'was'} replaced"
            for (_, what, variables), count in zip(
                self.NAMES, (in_customer, in_item, in_options), strict=True
            )
            if count and variables & uses
        ]
        return _NaverValues(customer, item, tuple(option for option, _ in options)), notes

    def longest(self) -> int:
        values = (self.customer, self.item, *self.options)
        return max(len(value.encode(ENCODING)) for value in values)

    def capped(self, max_bytes: int) -> _NaverValues:
        """Every value shortened to at most `max_bytes` EUC-KR bytes."""
        return _NaverValues(
            shorten_to_bytes(self.customer, max_bytes),
            shorten_to_bytes(self.item, max_bytes),
            tuple(shorten_to_bytes(option, max_bytes) for option in self.options),
        )

    def shortened_notes(self, original: _NaverValues, uses: frozenset[str]) -> list[str]:
        return [
            f"{what} shortened to fit {LMS_MAX_BYTES:,} bytes"
            for name, what, variables in self.NAMES
            if getattr(self, name) != getattr(original, name) and variables & uses
        ]


class TemplateRenderer:
    """Renders the configured templates; compiled templates are cached per store and kind."""

    def __init__(self, config: AppConfig) -> None:
        self.config = config
        # Templates come from the operator's file; the sandbox still keeps a
        # careless `{{ ''.__class__ }}` from reaching Python internals, and a
        # slip like `range(10**9)` from stopping every other message.
        self._env = _BoundedSandbox(
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # plain-text SMS: HTML escaping would corrupt "&" and quotes
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._compiled: dict[tuple[str, str], jinja2.Template] = {}
        # Each AlimTalk variable's expression, per store, kind and name.
        self._alimtalk_compiled: dict[tuple[str, str, str], jinja2.Template] = {}
        # The variables each template uses: only what reaches the text is reported adjusted.
        self._uses: dict[tuple[str, str], frozenset[str]] = {}

    def source(self, store: StoreConfig, kind: MessageKind | MessageSpec) -> tuple[Origin, str]:
        """Where a message's text comes from: its `messages:` entry (the store's override
        first), then the old `templates:` (the store's, the config's), then the built-in."""
        name = as_spec(kind).template
        given = self.config.message_template(store, name)
        if given is not None:
            origin: Origin = "store" if given[0] == "store" else "config"
            return origin, given[1]
        builtin = builtin_kind(as_spec(kind))
        if builtin is not None:
            if builtin in store.templates:
                return "store", store.templates[builtin]
            if builtin in self.config.templates:
                return "config", self.config.templates[builtin]
            return "built-in", DEFAULT_TEMPLATES[builtin]
        # The config refuses a message without a template: reached only by a bug.
        raise TemplateError(f"message {name}: no template")

    @staticmethod
    def label(kind: MessageKind | MessageSpec, origin: Origin) -> str:
        name = as_spec(kind).name
        if name == MessageKind.REMINDER.value and origin == "store":
            name = "guide"  # what owners call it in their stores' templates
        return f"{name} ({origin})"

    def _template(self, store: StoreConfig, kind: MessageKind | MessageSpec) -> jinja2.Template:
        key = (store.id, as_spec(kind).name)
        if key not in self._compiled:
            origin, text = self.source(store, kind)
            label = self.label(kind, origin)
            bad = find_unencodable(text)
            if bad:
                position, character = bad[0]
                raise UnencodableCharacterError(
                    character, position, template=label, store=store.name
                )
            where = f"template {label} of store {store.name!r}"
            try:
                self._compiled[key], self._uses[key] = self._compile(text, where)
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(f"{where}, line {exc.lineno}: {exc.message}") from None
            except MessageError:
                raise
            except Exception as exc:  # a template must not stop the cycle, whatever it holds
                raise TemplateError(f"{where}: {_describe(exc)}") from None
        return self._compiled[key]

    def _compile(self, text: str, where: str) -> tuple[jinja2.Template, frozenset[str]]:
        tree = self._env.parse(text)
        uses = frozenset(meta.find_undeclared_variables(tree))
        for node_type, tag in _FORBIDDEN_TAGS.items():
            for node in tree.find_all(node_type):
                raise TemplateError(
                    f"{where}, line {node.lineno}: {{% {tag} %}} is not allowed in a message "
                    "template (write the text into the template itself)"
                )
        # Every loop counts its steps against the render's budget.
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _COUNTED, [], [], None, None, lineno=loop.lineno)
        return self._env.from_string(tree), uses

    def render_text(
        self, store: StoreConfig, kind: MessageKind | MessageSpec, variables: Mapping[str, Any]
    ) -> str:
        """The template's text, stripped; advertising is labelled when the store has an opt-out.

        Raises only `MessageError`: `TemplateError` for anything that goes wrong
        in the template (`TemplateTooLargeError` when it builds too much text).
        """
        template = self._template(store, kind)
        origin, _ = self.source(store, kind)
        where = f"template {self.label(kind, origin)} of store {store.name!r}"
        text = _generate(template, variables, where)
        if not text:
            raise TemplateError(f"{where}: renders empty text")
        if as_spec(kind).advertising and store.opt_out:
            text = label_advertising(text, store_name=store.name, opt_out=store.opt_out)
        bad = find_unencodable(text)
        if bad:
            position, character = bad[0]
            raise UnencodableCharacterError(
                character,
                position,
                template=f"{self.label(kind, origin)}, from a variable",
                store=store.name,
            )
        return text

    def render(
        self,
        store: StoreConfig,
        kind: MessageKind | MessageSpec,
        booking: Booking,
        *,
        item: str | None = None,
        options: Sequence[str] | None = None,
    ) -> Rendered:
        """The booking's text of `kind`; raises `MessageError` and nothing else."""
        origin, _ = self.source(store, kind)
        label = self.label(kind, origin)
        try:
            variables = template_variables(booking, store, item=item, options=options)
            text, adjusted = self._fitted_text(store, kind, variables)
            size = euckr_size(text, template=label, store=store.name)
            prefix = AD_PREFIX if as_spec(kind).advertising else ""
            subject = fit_subject(f"{prefix}[{store.name}]")
            return Rendered(
                store,
                as_spec(kind).name,
                origin,
                text,
                size,
                message_type_for(size),
                subject,
                adjusted,
            )
        except MessageError:
            raise
        except Exception as exc:  # nothing about one booking may stop the cycle
            raise TemplateError(
                f"template {label} of store {store.name!r}: {_describe(exc)}"
            ) from None

    def _fitted_text(
        self, store: StoreConfig, kind: MessageKind | MessageSpec, variables: Mapping[str, Any]
    ) -> tuple[str, tuple[str, ...]]:
        """The text with Naver's values made sendable; what was adjusted, in words.

        A value that EUC-KR cannot carry, or one so long that the text passes
        an LMS, would fail this customer's message in every cycle: the
        characters are replaced, and the longest values cut (all to the same
        largest length that fits), never the owner's own text.
        """
        self._template(store, kind)
        uses = self._uses[(store.id, as_spec(kind).name)]
        sendable, notes = _NaverValues.of(variables).sendable(uses)
        # No single value longer than a whole LMS can be sent whole anyway.
        values = sendable.capped(LMS_MAX_BYTES)

        def attempt(candidate: _NaverValues) -> str | None:
            try:
                text = self.render_text(store, kind, {**variables, **candidate.variables()})
            except TemplateTooLargeError:
                return None
            return text if len(text.encode(ENCODING)) <= LMS_MAX_BYTES else None

        text = attempt(values)
        fitted = values
        if text is None:
            shortest = len(ELLIPSIS.encode(ENCODING))
            if attempt(values.capped(shortest)) is None:
                # The owner's own text is too long: say why, once, and spare
                # the search (each render of such a template may be slow).
                self.render_text(store, kind, {**variables, **values.capped(shortest).variables()})
                origin, _ = self.source(store, kind)
                raise MessageTooLongError(
                    f"template {self.label(kind, origin)} of store {store.name!r}: over "
                    f"{LMS_MAX_BYTES:,} EUC-KR bytes even with the booking's values shortened "
                    "(shorten the template)"
                )
            # The largest length every value may keep: binary search, as the
            # text grows with it.
            low, high = shortest, values.longest() - 1
            while low <= high:
                middle = (low + high) // 2
                candidate = values.capped(middle)
                found = attempt(candidate)
                if found is None:
                    high = middle - 1
                else:
                    low, text, fitted = middle + 1, found, candidate
            if text is None:  # only a template whose length jumps about gets here
                fitted = values.capped(shortest)
                text = self.render_text(store, kind, {**variables, **fitted.variables()})
        return text, tuple(notes + fitted.shortened_notes(sendable, uses))

    def message(
        self,
        store: StoreConfig,
        kind: MessageKind | MessageSpec,
        booking: Booking,
        *,
        item: str | None = None,
        options: Sequence[str] | None = None,
    ) -> Message:
        """The message to send for `booking`: rendered, checked, addressed from the store's sender.

        Raises `MessageError` (a `TemplateError`, an unencodable character in
        the template, too long, advertising without an opt-out) instead of
        returning a bad text, and nothing else.
        """
        if as_spec(kind).advertising and not store.opt_out:
            raise MessageError(
                f"{as_spec(kind).name} of store {store.name!r}: the store has no opt_out number, "
                "so it gets no advertising messages"
            )
        # Rendered first: a kind that goes as AlimTalk fails on its own
        # template's mistake before its failover is looked at.
        alimtalk = self.alimtalk(store, kind, booking, item=item, options=options)
        rendered = self.render(store, kind, booking, item=item, options=options)
        # One check of the message: its size was measured by render, and
        # Message.build checks advertising in full with the store's number.
        message = Message.build(
            to=booking.phone,
            sender=store.sender,
            text=rendered.text,
            kind=as_spec(kind).name,
            advertising=as_spec(kind).advertising,
            booking_num=booking.booking_num,
            store_id=store.id,
            subject=rendered.subject,
            store_name=store.name,
            template=self.label(kind, rendered.origin),
            adjusted=rendered.adjusted,
            opt_out=store.opt_out,
            size=rendered.size,
        )
        # The SMS just built is the failover the provider sends when the
        # customer cannot receive the AlimTalk.
        return message if alimtalk is None else dataclasses.replace(message, alimtalk=alimtalk)

    def alimtalk(
        self,
        store: StoreConfig,
        kind: MessageKind | MessageSpec,
        booking: Booking,
        *,
        item: str | None = None,
        options: Sequence[str] | None = None,
    ) -> AlimTalk | None:
        """The AlimTalk of `booking` when `store` sends `kind` as one, else None.

        Each `#{name}` of the approved text gets its variable, a Jinja2
        expression rendered with the SMS templates' variables and the same
        cleaned values from Naver (the failover shows the same name). Raises
        `MessageError` (a `TemplateError` naming the variable, a value that
        renders empty, a text over 1,000 characters) and nothing else.
        """
        choice = self.config.alimtalk_template(store, as_spec(kind))
        if choice is None:
            return None
        return self.filled_alimtalk(choice, store, kind, booking, item=item, options=options)

    def filled_alimtalk(
        self,
        choice: AlimTalkChoice,
        store: StoreConfig,
        kind: MessageKind | MessageSpec,
        booking: Booking,
        *,
        item: str | None = None,
        options: Sequence[str] | None = None,
    ) -> AlimTalk:
        """`choice`'s approved text filled in for `booking` (see `alimtalk`)."""
        where = alimtalk_label(choice, kind, store)
        try:
            variables = template_variables(booking, store, item=item, options=options)
            values = {
                name: self._alimtalk_value(store, kind, choice, name, variables)
                for name in choice.template.variables
            }
            content = alimtalk_rules.fill(choice.template.content, values)
        except MessageError:
            raise
        except Exception as exc:  # nothing about one booking may stop the cycle
            raise TemplateError(f"{where}: {_describe(exc)}") from None
        problems = alimtalk_rules.filled_problems(content)
        if problems:
            raise MessageTooLongError(f"{where}: {problems[0]}")
        return AlimTalk(
            plus_friend_id=choice.plus_friend_id,
            template_code=choice.template.code,
            content=content,
            buttons=choice.template.button_list(),
            failover=choice.template.failover,
        )

    def _alimtalk_value(
        self,
        store: StoreConfig,
        kind: MessageKind | MessageSpec,
        choice: AlimTalkChoice,
        name: str,
        variables: Mapping[str, Any],
    ) -> str:
        where = f"{alimtalk_label(choice, kind, store)}, variable {name}"
        key = (store.id, as_spec(kind).name, name)
        if key not in self._alimtalk_compiled:
            expression = choice.template.variables[name]
            try:
                self._alimtalk_compiled[key], _ = self._compile(expression, where)
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(f"{where}: {exc.message}") from None
        # The values the SMS would carry: characters EUC-KR cannot carry
        # replaced, none longer than a whole LMS.
        cleaned, _ = _NaverValues.of(variables).sendable(frozenset())
        value = _generate(
            self._alimtalk_compiled[key],
            {**variables, **cleaned.capped(LMS_MAX_BYTES).variables()},
            where,
        )
        if not value:
            # Kakao would refuse (or show) a hole in the approved text.
            raise TemplateError(f"{where}: renders empty text")
        return value


def alimtalk_label(
    choice: AlimTalkChoice, kind: MessageKind | MessageSpec, store: StoreConfig
) -> str:
    """`AlimTalk template CONFIRM01 (confirmation) of store '...'`: where a problem is."""
    return (
        f"AlimTalk template {choice.template.code} ({as_spec(kind).name}) of store {store.name!r}"
    )


def _generate(template: jinja2.Template, variables: Mapping[str, Any], where: str) -> str:
    """The template's text, stripped, within the sandbox's budget; only `TemplateError`s."""
    token = _budget.set(_Budget())
    try:
        return _collect(template.generate(**variables)).strip()
    except _TooLarge as exc:
        raise TemplateTooLargeError(f"{where}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{where}: {exc.message or type(exc).__name__}") from None
    except Exception as exc:  # 1/0, a TypeError, a RecursionError: this message only
        raise TemplateError(f"{where}: {_describe(exc)}") from None
    finally:
        _budget.reset(token)


def _collect(chunks: Iterable[str]) -> str:
    """The chunks joined, stopping as soon as they pass `MAX_TEXT` characters."""
    parts = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        _check_length(size)
        parts.append(chunk)
    return "".join(parts)


def _describe(exc: BaseException) -> str:
    """One line on an unexpected error in a template, safe for a log or a report."""
    text = " ".join(str(exc).split())
    if len(text) > 200:
        text = text[:200] + "…"
    # The error may quote a value (a customer's name, a number).
    return scrub(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One text of `templates check`: what it renders to and what is wrong with it.

    A store x kind is one row, or two when it goes as AlimTalk: the AlimTalk
    (`channel` alimtalk, `size` in characters, `template_code`), then its SMS
    failover (`failover`, `size` in EUC-KR bytes).
    """

    store: StoreConfig
    kind: str
    origin: Origin
    text: str = ""
    size: int | None = None
    type: MessageType | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # alimtalk, or sms/lms by the text's size; None when the SMS text cannot render.
    channel: Channel | None = None
    failover: bool = False
    template_code: str = ""
    buttons: tuple[AlimTalkButton, ...] = ()


def check_templates(config: AppConfig) -> list[CheckRow]:
    """Every store x kind rendered with a sample booking; problems block sending, warnings don't.

    Never raises for a template: whatever is wrong with one is a problem in its row.
    """
    renderer = TemplateRenderer(config)
    rows = []
    for store in config.stores:
        for spec in config.catalog(store):
            choice = config.alimtalk_template(store, spec)
            if choice is not None:
                rows.append(_alimtalk_row(renderer, store, spec, choice))
            origin, _ = renderer.source(store, spec)
            try:
                row = _check_row(renderer, store, spec)
            except Exception as exc:  # a check must report every row, whatever happens
                problem = str(exc) if isinstance(exc, MessageError) else _describe(exc)
                row = CheckRow(store, spec.name, origin, problems=[problem])
            rows.append(dataclasses.replace(row, failover=choice is not None))
    return rows


def _alimtalk_row(
    renderer: TemplateRenderer,
    store: StoreConfig,
    kind: MessageKind | MessageSpec,
    choice: AlimTalkChoice,
) -> CheckRow:
    template = choice.template
    row = CheckRow(
        store,
        as_spec(kind).name,
        choice.origin,
        channel=Channel.ALIMTALK,
        template_code=template.code,
        buttons=template.button_list(),
        warnings=[]
        if template.failover
        else ["failover off: a customer who cannot receive AlimTalk gets no message"],
    )
    try:
        # The config refused what Kakao would; these are the shared rules again
        # for a config built without loading it.
        problems = alimtalk_rules.template_problems(
            template.content, template.variables, template.button_list()
        )
        if problems:
            return dataclasses.replace(
                row, problems=[f"{alimtalk_label(choice, kind, store)}: {p}" for p in problems]
            )
        sent = renderer.filled_alimtalk(choice, store, kind, sample_booking(store))
    except Exception as exc:  # a check must report every row, whatever happens
        problem = str(exc) if isinstance(exc, MessageError) else _describe(exc)
        return dataclasses.replace(row, problems=[problem])
    return dataclasses.replace(row, text=sent.content, size=len(sent.content))


def _check_row(renderer: TemplateRenderer, store: StoreConfig, spec: MessageSpec) -> CheckRow:
    rendered = renderer.render(store, spec, sample_booking(store))
    problems: list[str] = []
    warnings: list[str] = []
    if spec.advertising:
        if store.opt_out:
            problems += advertising_problems(
                rendered.text, store_name=store.name, opt_out=store.opt_out
            )
        elif spec.enabled:
            warnings.append(f"no opt_out: this store gets no {spec.name} (advertising) messages")
    return CheckRow(
        store,
        spec.name,
        rendered.origin,
        rendered.text,
        rendered.size,
        rendered.type,
        problems,
        warnings,
        channel=Channel.LMS if rendered.type is MessageType.LMS else Channel.SMS,
    )
