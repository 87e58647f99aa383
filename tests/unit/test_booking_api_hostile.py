"""Hostile booking payloads through `fetch_bookings`: good bookings survive, nothing raises.

One booking with a value of the wrong type anywhere (null, number, list,
huge string, nested garbage, half an emoji, Naver's zero date) must cost
that booking only: reported unusable with a reason, never an exception out
of `fetch_bookings` that would stop the store (or, before, every store).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naver_sms.domain.booking import KST
from naver_sms.domain.rules import visit_end
from naver_sms.naver.booking_api import MASKED_REASON, BookingApi, FetchResult, parse_bookings
from tests.phones import legacy_010

STORE = "5000001"
DAY = date(2026, 11, 25)
COOKIES = [{"name": "NID_AUT", "value": "aut-canary"}, {"name": "NID_SES", "value": "ses-canary"}]
GOOD_IDS = 10**12  # good bookings' ids start here; hostile values never reach it


def _served(entries: list[object]) -> httpx.MockTransport:
    """The count and list endpoints answering `entries` as one page (JSON as Naver escapes it)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/count"):
            body: object = {"count": len(entries)}
        else:
            body = entries if request.url.params.get("page") == "0" else []
        # json.dumps escapes lone surrogates as \ud83d, as Naver's JSON does.
        return httpx.Response(
            200, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )

    return httpx.MockTransport(handler)


def _fetch(entries: list[object]) -> FetchResult:
    client = httpx.Client(transport=_served(entries))
    api = BookingApi("https://partner.booking.naver.com", client=client, sleep=lambda _s: None)
    try:
        return api.fetch_bookings(STORE, "RC03", DAY, DAY, COOKIES)
    finally:
        client.close()


def _good(index: int, *, hour: int = 10, phone: str | None = None) -> dict[str, Any]:
    start = datetime(2026, 11, 25, hour, 0, tzinfo=KST)
    return {
        "bookingId": GOOD_IDS + index,
        "businessId": int(STORE),
        "bookingStatusCode": "RC03",
        "name": f"고객{index}",
        "phone": phone or f"0100000{index % 10000:04d}",
        "isForcedPrivacyMasking": False,
        "bizItemName": "스튜디오 50분 이용",
        "bookingOptionJson": [{"name": "기본 이용 50분"}, {"name": "네이버 리뷰 이벤트"}],
        "snapshotJson": {
            "startDateTime": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endDateTime": (start + timedelta(hours=1))
            .astimezone(UTC)
            .strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }


# ----------------------------------------------------------------- examples the issues named


def test_naver_zero_date_as_visit_end_makes_that_booking_unusable_and_no_other() -> None:
    zero = _good(2)
    zero["snapshotJson"]["endDateTime"] = "0001-01-01T00:00:00Z"
    result = _fetch([_good(1), zero, _good(3)])
    assert [b.booking_num for b in result.bookings] == [
        f"{STORE}_{GOOD_IDS + 1}",
        f"{STORE}_{GOOD_IDS + 3}",
    ]
    (entry,) = result.unusable
    assert entry.booking_num == f"{STORE}_{GOOD_IDS + 2}"
    assert entry.reason == (
        "snapshotJson.endDateTime '0001-01-01T00:00:00+00:00' is outside the years 2000-2100"
    )


@pytest.mark.parametrize(
    ("where", "key", "value"),
    [
        ("snapshot", "startDateTime", "0001-01-01T00:00:00Z"),
        ("snapshot", "startDateTime", "1999-12-31T14:59:59Z"),
        ("snapshot", "startDateTime", "2101-01-01T00:00:00Z"),
        ("snapshot", "startDateTime", "9999-12-31T23:59:59Z"),
        ("snapshot", "endDateTime", "9999-12-31T23:59:59Z"),
        ("snapshot", "endDateTime", "not a time"),
        ("snapshot", "endDateTime", 1700000000),
        ("top", "endDateTime", "0001-01-01T00:00:00Z"),
        ("top", "startDateTime", "0001-01-01T00:00:00Z"),
    ],
)
def test_a_visit_time_outside_this_century_or_unreadable_is_that_bookings_reason(
    where: str, key: str, value: object
) -> None:
    bad = _good(2)
    if where == "snapshot":
        bad["snapshotJson"][key] = value
    else:
        del bad["snapshotJson"][key]
        bad[key] = value
    result = _fetch([_good(1), bad])
    assert [b.booking_num for b in result.bookings] == [f"{STORE}_{GOOD_IDS + 1}"]
    (entry,) = result.unusable
    assert key in entry.reason
    for booking in result.bookings:  # every stored time has a four-digit year
        assert booking.booking_time[:4].isdigit()
        assert booking.booking_time[4] == "-"


def test_half_an_emoji_in_a_name_or_an_option_becomes_a_replacement_character() -> None:
    entry = _good(1)
    # Naver's JSON carries the cut emoji as an escaped lone surrogate.
    entry["name"] = "김민지\ud83d"
    entry["bizItemName"] = "룸\udc00"
    entry["bookingOptionJson"] = [{"name": "이벤트\ud83d"}]
    (booking,) = _fetch([entry]).bookings
    assert booking.name == "김민지\ufffd"
    assert booking.extra["item_name"] == "룸\ufffd"
    assert booking.extra["option_names"] == ["이벤트\ufffd"]
    json.dumps(booking.to_item(), ensure_ascii=False).encode("utf-8")  # every store can write it


def test_a_legacy_10_digit_010_phone_is_a_usable_booking() -> None:
    ten_digits, stored = legacy_010("010-0000-1234")
    (booking,) = _fetch([_good(1, phone=ten_digits)]).bookings
    assert booking.phone == stored


HOSTILE_VALUES: list[object] = [
    None,
    True,
    -1,
    3.5,
    [],
    {},
    [[["deep"]]],
    {"name": {"name": None}},
    "x" * 100_000,
    "\ud83d",
    "",
]
# The hostile values a booking may still be read with, per field: null and ""
# mean "not given" where a field is optional, [] is a real empty option list,
# half an emoji is a (repaired) name, and the snapshot's copies of name, phone
# and options are not read when the top level has them.
_ABSENT: list[object] = [None, ""]
STILL_USABLE: dict[str, list[object]] = {
    "businessId": [None],
    "bookingStatusCode": _ABSENT,
    "name": ["\ud83d"],
    "isForcedPrivacyMasking": _ABSENT,
    "bizItemName": [*_ABSENT, "\ud83d"],
    "bookingOptionJson": [*_ABSENT, []],
    "snapshotJson.endDateTime": _ABSENT,
    "snapshotJson.bookingId": [None],
    "snapshotJson.name": HOSTILE_VALUES,
    "snapshotJson.phone": HOSTILE_VALUES,
    "snapshotJson.bookingOptionJson": HOSTILE_VALUES,
}


@pytest.mark.parametrize(
    "key",
    [
        "bookingId",
        "businessId",
        "bookingStatusCode",
        "name",
        "phone",
        "isForcedPrivacyMasking",
        "bizItemName",
        "bookingOptionJson",
        "snapshotJson",
        "snapshotJson.startDateTime",
        "snapshotJson.endDateTime",
        "snapshotJson.name",
        "snapshotJson.phone",
        "snapshotJson.bookingOptionJson",
        "snapshotJson.bookingId",
    ],
)
def test_a_wrong_value_in_any_field_makes_that_booking_unusable_and_costs_no_other(
    key: str,
) -> None:
    entries: list[object] = [_good(0)]
    for number, value in enumerate(HOSTILE_VALUES, start=1):
        entry = _good(number)
        outer, _, inner = key.partition(".")
        if inner:
            entry[outer][inner] = copy.deepcopy(value)
        else:
            entry[outer] = copy.deepcopy(value)
        entries.append(entry)
    entries.append(_good(99))
    result = _fetch(entries)
    parsed = {b.booking_num for b in result.bookings}
    expected = {f"{STORE}_{GOOD_IDS}", f"{STORE}_{GOOD_IDS + 99}"}
    expected |= {
        f"{STORE}_{GOOD_IDS + number}"
        for number, value in enumerate(HOSTILE_VALUES, start=1)
        if any(
            value == allowed and type(value) is type(allowed)
            for allowed in STILL_USABLE.get(key, [])
        )
    }
    assert parsed == expected
    assert len(result.bookings) + len(result.unusable) == len(entries)
    field_name = key.rpartition(".")[2]
    for unusable in result.unusable:
        # The reason names the field (or says Naver masked the phone), and stays short.
        assert field_name in unusable.reason or unusable.reason == MASKED_REASON, unusable.reason
        assert len(unusable.reason) < 200
        unusable.reason.encode("utf-8")


def test_a_page_nested_deeper_than_the_parser_goes_is_a_store_error_not_a_crash() -> None:
    from naver_sms.naver.errors import BookingApiError  # noqa: PLC0415

    deep = "[" * 100_000 + "]" * 100_000

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/count"):
            return httpx.Response(200, json={"count": 1})
        return httpx.Response(200, content=deep.encode())

    api = BookingApi(
        "https://partner.booking.naver.com",
        client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    with pytest.raises(BookingApiError, match="nested too deeply"):
        api.fetch_bookings(STORE, "RC03", DAY, DAY, COOKIES)


def test_a_snapshot_string_nested_deeper_than_the_parser_goes_is_that_bookings_reason() -> None:
    bad = _good(2)
    bad["snapshotJson"] = "[" * 100_000 + "]" * 100_000
    bookings, unusable = parse_bookings([_good(1), bad], biz_id=STORE, status="RC03")
    assert [b.booking_num for b in bookings] == [f"{STORE}_{GOOD_IDS + 1}"]
    assert [u.reason for u in unusable] == ["snapshotJson is not valid JSON"]


# ----------------------------------------------------------------- generated


_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=10**11),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2026-11-25T05:00:00",
            "\ud83d",
            "010****1111",
            "x" * 5000,
            '{"name": "x"}',
            "[" * 50,
        ]
    ),
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_FIELDS = [
    "bookingId",
    "businessId",
    "bookingStatusCode",
    "name",
    "phone",
    "isForcedPrivacyMasking",
    "bizItemName",
    "bookingOptionJson",
    "snapshotJson",
    "startDateTime",
    "endDateTime",
]
_SNAPSHOT_FIELDS = [
    "startDateTime",
    "endDateTime",
    "name",
    "phone",
    "bookingOptionJson",
    "bookingId",
    "businessId",
    "isForcedPrivacyMasking",
]


@st.composite
def _corrupted(draw: st.DrawFn, number: int) -> object:
    """A good booking with a few fields replaced by hostile values, or pure garbage."""
    if draw(st.integers(0, 4)) == 0:
        return draw(_json_values)  # not even an object, or an object of junk
    entry = _good(number)
    entry["bookingId"] = 2 * GOOD_IDS + number  # never the id of a good booking
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()) and isinstance(entry.get("snapshotJson"), dict):
            entry["snapshotJson"][draw(st.sampled_from(_SNAPSHOT_FIELDS))] = draw(_json_values)
        else:
            entry[draw(st.sampled_from(_FIELDS))] = draw(_json_values)
    if draw(st.booleans()) and isinstance(entry.get("snapshotJson"), dict):
        entry["snapshotJson"] = json.dumps(entry["snapshotJson"])  # the API's other form
    return entry


@st.composite
def _pages(draw: st.DrawFn) -> tuple[list[object], list[dict[str, Any]]]:
    goods = [
        _good(number, hour=draw(st.integers(0, 23))) for number in range(draw(st.integers(0, 4)))
    ]
    hostile = [draw(_corrupted(100 + number)) for number in range(draw(st.integers(1, 5)))]
    order = draw(st.permutations(range(len(goods) + len(hostile))))
    everything: list[object] = [*goods, *hostile]
    return [everything[index] for index in order], goods


# The profile's count, at most 150: 10,000 whole fetches would add three minutes to CI.
@settings(
    max_examples=min(settings().max_examples, 150),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(_pages())
def test_hostile_entries_mixed_with_good_ones_never_raise_and_every_good_one_is_parsed(
    page: tuple[list[object], list[dict[str, Any]]],
) -> None:
    entries, goods = page
    result = _fetch(entries)
    parsed = {booking.booking_num: booking for booking in result.bookings}
    for good in goods:
        booking = parsed[f"{STORE}_{good['bookingId']}"]
        assert booking.phone == f"010-0000-{good['phone'][-4:]}"
        assert booking.name == good["name"]
        assert booking.extra["option_names"] == ["기본 이용 50분", "네이버 리뷰 이벤트"]
        start = datetime.fromisoformat(good["snapshotJson"]["startDateTime"]).astimezone(KST)
        assert booking.booking_time == start.strftime("%Y-%m-%d %H:%M:%S")
    assert len(result.bookings) + len(result.unusable) <= len(entries)
    for entry in result.unusable:
        assert entry.reason
        assert entry.phone_masked is None or "*" in entry.phone_masked
    for booking in result.bookings:
        # What the stores and the rules do with every booking must work.
        json.dumps(booking.to_item(), ensure_ascii=False).encode("utf-8")
        assert booking.booking_time[:2] in ("20", "21")
        assert 2000 <= visit_end(booking).year <= 2100
