"""The message engine against today's rules (the seed's three) and its invariants (Hypothesis)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from naver_sms.domain.booking import KST, Booking, format_booking_time
from naver_sms.domain.catalog import MessageSpec, When
from naver_sms.domain.rules import visit_end
from naver_sms.domain.schedule import Schedule, evaluate_messages

DAY = datetime(2026, 11, 25, tzinfo=KST)
EVENT_OPTIONS = ["기본 이용 50분", "네이버 리뷰 이벤트 참여"]


def booking(start: datetime, minutes: int | None, status: str, options: list[str]) -> Booking:
    extra: dict[str, Any] = {"status": status, "option_names": options}
    if minutes is not None:
        extra["end_time"] = format_booking_time(start + timedelta(minutes=minutes))
    return Booking(
        booking_num="5000001_1100000001",
        phone="010-0000-2222",
        name="이서준",
        booking_time=format_booking_time(start),
        extra=extra,
    )


NAMES = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf")
TIMES = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@st.composite
def specs(draw: st.DrawFn, name: str) -> MessageSpec:
    when = draw(st.sampled_from(When))
    timed = when in (When.BEFORE_VISIT, When.AFTER_VISIT)
    offset = timedelta(minutes=draw(st.integers(0, 3 * 24 * 60))) if timed else timedelta(0)
    advertising = when is When.AFTER_VISIT and draw(st.booleans())
    window: tuple[time, time] | None = None
    if advertising:
        opens = draw(st.integers(8 * 60, 20 * 60))
        closes = draw(st.integers(opens + 1, 21 * 60))
        window = (time(opens // 60, opens % 60), time(closes // 60, closes % 60))
    elif draw(st.booleans()):
        opens_at, closes_at = sorted((draw(TIMES), draw(TIMES)))
        window = (opens_at, closes_at) if opens_at < closes_at else None
    keywords = draw(st.sampled_from([(), ("네이버",), ("반려견",)]))
    enabled = draw(st.booleans()) or draw(st.booleans())
    return MessageSpec(
        name,
        when,
        name,
        offset=offset,
        advertising=advertising,
        window=window,
        keywords=keywords,
        enabled=enabled,
    )


@st.composite
def catalogs(draw: st.DrawFn) -> tuple[MessageSpec, ...]:
    chosen = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=len(NAMES)))
    return tuple(draw(specs(name)) for name in chosen)


MINUTES = st.integers(-4 * 24 * 60, 4 * 24 * 60)


@st.composite
def situations(draw: st.DrawFn) -> tuple[tuple[MessageSpec, ...], Booking, Any, datetime, bool]:
    catalog = draw(catalogs())
    start = DAY + timedelta(minutes=draw(MINUTES))
    minutes = draw(st.none() | st.integers(0, 240))
    status = draw(st.sampled_from(["RC02", "RC03", "RC04", "RC08"]))
    options = draw(st.sampled_from([["기본 이용"], EVENT_OPTIONS, ["반려견 동반", "인스타"]]))
    b = booking(start, minutes, status, options)
    rec: dict[str, Any] | None = None
    if draw(st.booleans()):
        rec = b.to_item() | {spec.flag: draw(st.booleans()) for spec in catalog}
        if draw(st.booleans()):
            old = DAY + timedelta(minutes=draw(MINUTES))
            rec["booking_time"] = format_booking_time(old)
    now = DAY + timedelta(minutes=draw(MINUTES), seconds=draw(st.integers(0, 59)))
    return catalog, b, rec, now, draw(st.booleans())


# Each example builds a catalog, a booking and a record: 10,000 of each (CI's
# profile) took a minute per property, five properties, of a 20-minute budget.
# 2,000 still walk every rule and status many times over; `make check` runs 100.
EXAMPLES = min(settings().max_examples, 2_000)


def run(
    case: tuple[tuple[MessageSpec, ...], Booking, Any, datetime, bool], adopt: bool
) -> Schedule:
    catalog, b, rec, now, allowed = case
    return evaluate_messages(b, rec, now, catalog, advertising_allowed=allowed, adopt=adopt)


@settings(max_examples=EXAMPLES)
@given(situations())
def test_an_after_visit_message_is_never_due_before_the_visit_ended(case: Any) -> None:
    _catalog, b, _rec, now, _allowed = case
    for due in run(case, adopt=False).due:
        if due.spec.when is When.AFTER_VISIT:
            assert now >= visit_end(b), due


@settings(max_examples=EXAMPLES)
@given(situations(), st.booleans())
def test_a_cancelled_booking_never_gets_anything_but_its_cancellation(
    case: Any, adopt: bool
) -> None:
    _catalog, b, _rec, _now, _allowed = case
    if b.extra["status"] != "RC04":
        return
    result = run(case, adopt=adopt)
    touched = [due.spec for due in result.due] + [
        spec for spec, _ in (*result.held, *result.skip, *result.adopt)
    ]
    assert all(spec.when is When.CANCELLED for spec in touched), touched
    assert result.reset == ()


@settings(max_examples=EXAMPLES)
@given(situations())
def test_due_messages_are_in_the_catalogs_order(case: Any) -> None:
    catalog = case[0]
    order = [spec.name for spec in catalog]
    due = run(case, adopt=False).names
    assert due == sorted(due, key=order.index)
    assert len(set(due)) == len(due)


@settings(max_examples=EXAMPLES)
@given(situations())
def test_nothing_is_due_on_an_adopting_run(case: Any) -> None:
    assert run(case, adopt=True).due == ()


@settings(max_examples=EXAMPLES)
@given(situations())
def test_no_message_is_both_due_and_held_or_skipped_and_none_already_sent(case: Any) -> None:
    _catalog, _b, rec, _now, _allowed = case
    result = run(case, adopt=False)
    due = {due.spec.name for due in result.due}
    kept = {spec.name for spec, _ in (*result.held, *result.skip)}
    assert not due & kept
    for due_one in result.due:
        assert due_one.spec.enabled
        sent = rec is not None and rec.get(due_one.spec.flag) is True
        assert not sent or due_one.spec.flag in result.reset
