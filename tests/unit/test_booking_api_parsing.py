"""Parsing the booking API's entries into domain bookings, or reasons they are unusable."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naver_sms.naver.booking_api import MASKED_REASON, parse_booking, parse_bookings
from tests.phones import legacy_010

DATA = Path(__file__).resolve().parent.parent / "data"
STORE = "5000001"


def _sample(name: str) -> list[dict[str, Any]]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_the_confirmed_sample_becomes_bookings_in_kst_including_a_10_digit_010_phone() -> None:
    bookings, unusable = parse_bookings(
        _sample("bookings_rc03_page0.json"), biz_id=STORE, status="RC03"
    )
    assert [b.booking_num for b in bookings] == [
        "5000001_1100000001",
        "5000001_1100000002",
        "5000001_1100000003",
    ]
    first, second, third = bookings
    assert first.booking_time == "2026-11-25 14:00:00"  # 05:00Z is 14:00 in Seoul
    assert first.phone == "010-0000-1111"
    assert first.name == "김민지"
    assert first.extra["status"] == "RC03"
    assert first.extra["item_name"] == "스튜디오 50분 이용"
    assert first.extra["option_names"] == ["기본 이용 50분", "원본 파일 전체 받기"]
    assert first.extra["end_time"] == "2026-11-25 15:00:00"
    assert second.booking_time == "2026-11-26 10:30:00"
    # The sample's third phone is a legacy 10-digit 010 number: still a customer's
    # phone (issue 10.12), stored 3-3-4.
    assert third.phone == legacy_010("010-0000-3333")[1]
    assert unusable == []


def test_the_completed_sample_keeps_its_status_and_event_option() -> None:
    bookings, unusable = parse_bookings(
        _sample("bookings_rc08_page0.json"), biz_id=STORE, status="RC08"
    )
    assert unusable == []
    (booking,) = bookings
    assert booking.extra["status"] == "RC08"
    assert booking.booking_time == "2026-11-25 11:00:00"
    assert "네이버 리뷰 이벤트 참여" in booking.extra["option_names"]


def test_a_snapshot_sent_as_a_json_string_is_read_like_an_object() -> None:
    raw = _sample("bookings_rc03_page0.json")[0]
    as_text = copy.deepcopy(raw)
    as_text["snapshotJson"] = json.dumps(raw["snapshotJson"], ensure_ascii=False)
    assert parse_booking(as_text, biz_id=STORE, status="RC03") == parse_booking(
        raw, biz_id=STORE, status="RC03"
    )


def test_options_come_from_the_snapshot_when_the_top_level_has_none() -> None:
    raw = _sample("bookings_rc03_page0.json")[0]
    del raw["bookingOptionJson"]
    booking = parse_booking(raw, biz_id=STORE, status="RC03")
    assert booking.extra["option_names"] == ["기본 이용 50분", "원본 파일 전체 받기"]


def test_a_phone_masked_by_naver_is_unusable_with_its_reason() -> None:
    flagged, starred = _sample("bookings_rc03_page0.json")[:2]
    flagged["isForcedPrivacyMasking"] = True
    starred["phone"] = "010****2222"
    starred["snapshotJson"]["phone"] = "010****2222"
    bookings, unusable = parse_bookings([flagged, starred], biz_id=STORE, status="RC03")
    assert bookings == []
    assert [(u.booking_num, u.reason) for u in unusable] == [
        ("5000001_1100000001", MASKED_REASON),
        ("5000001_1100000002", MASKED_REASON),
    ]
    assert [u.phone_masked for u in unusable] == ["010-****-1111", "***"]


def test_a_landline_is_reported_with_a_masked_phone() -> None:
    raw = _sample("bookings_rc03_page0.json")[0]
    raw["phone"] = "0212345678"
    _, (entry,) = parse_bookings([raw], biz_id=STORE, status="RC03")
    assert entry.reason == "phone is not a Korean mobile number"
    assert entry.booking_num == "5000001_1100000001"
    assert "12345678" not in (entry.phone_masked or "")
    assert entry.to_dict() == {
        "booking_num": "5000001_1100000001",
        "reason": "phone is not a Korean mobile number",
        "phone_masked": "***",
    }


def test_a_start_time_without_a_zone_is_not_guessed() -> None:
    raw = _sample("bookings_rc03_page0.json")[0]
    raw["snapshotJson"]["startDateTime"] = "2026-11-25T05:00:00"
    _, (entry,) = parse_bookings([raw], biz_id=STORE, status="RC03")
    assert "startDateTime" in entry.reason


def test_entries_without_ids_names_or_objects_are_reported_one_each() -> None:
    base = _sample("bookings_rc03_page0.json")[0]
    no_id = {k: v for k, v in base.items() if k != "bookingId"}
    no_id["snapshotJson"] = {k: v for k, v in base["snapshotJson"].items() if k != "bookingId"}
    no_name = copy.deepcopy(base)
    no_name["name"] = " "
    no_name["snapshotJson"]["name"] = None
    bookings, unusable = parse_bookings([no_id, no_name, "junk", None], biz_id=STORE, status="RC03")
    assert bookings == []
    assert [u.reason for u in unusable] == [
        "no bookingId",
        "no customer name",
        "entry is not a JSON object",
        "entry is not a JSON object",
    ]


# ----------------------------------------------------------------- generated payloads
#
# Hypothesis spends about a millisecond per example drawing nested dicts, so
# 10,000 payloads are built from one cheap draw each: a byte string whose bytes
# pick every field's value from a table of the shapes the API sends and the
# ones it might (missing, null, wrong type, masked, JSON text, out-of-range
# times), plus one free text and one free integer that any field may take.
# Shrinking still works: a byte of 0 means "field missing".

MISSING = object()
FREE_TEXT = object()
FREE_INT = object()


def _table(odd: list[Any], usual: list[Any], weight: int = 4) -> list[Any]:
    """Odd values once (MISSING first: a 0 byte shrinks to "missing"), usual ones `weight` times."""
    return [MISSING, *odd, *(usual * weight)]


IDS = _table(
    [None, True, -1, "abc", 1.5, 2**70, [], FREE_INT, FREE_TEXT], [1100000001, "1100000002", 0]
)
NAMES = _table([None, "", "  ", 0, [], FREE_TEXT], ["김민지", "A"])
PHONES = _table(
    [None, "", "0100003333", "010****1111", "0212345678", "01X00001111", 1000001111,
     "０１０００００１１１１", FREE_TEXT, FREE_INT],
    ["01000001111", "010-0000-2222", "+82 10-0000-3333", "82-10-0000-4444", "0110001111",
     "010 0000 5555\n"],
)  # fmt: skip
STATUSES = _table([None, "", 3, FREE_TEXT], ["RC03", "RC08", "RC04"])
FLAGS = _table([None, True, "true", 1, "Y", FREE_TEXT], [False, "false", 0], weight=6)
ITEMS = _table([None, "", 5, FREE_TEXT], ["스튜디오 50분 이용"])
OPTIONS = _table(
    [None, [{"name": None}], [{"name": 5}, "x", None, {"name": " 인스타 "}], "not json",
     {"name": "x"}, [{"nome": "x"}], FREE_TEXT, 7],
    [[], [{"name": "네이버 리뷰 이벤트"}], '[{"name": "원본"}]'],
)  # fmt: skip
TIMES = _table(
    [None, "2026-11-25T05:00:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
     "2026-13-01T00:00:00Z", "", "Z", 1700000000, "2026-11-25", FREE_TEXT],
    ["2026-11-25T05:00:00Z", "2026-11-25T05:00:00.000Z", "2026-11-25T05:00:00+09:00"],
)  # fmt: skip
FORMS = [
    "object",
    "json",
    "broken-json",
    MISSING,
    None,
    [],
    5,
    FREE_TEXT,
    *(["object", "json"] * 4),
]
ENTRY_FORMS = ["object", None, "junk", 5, [], FREE_INT, *(["object"] * 12)]
_ENTRY_FIELDS = (
    ("bookingId", IDS), ("businessId", IDS), ("name", NAMES), ("phone", PHONES),
    ("bookingStatusCode", STATUSES), ("isForcedPrivacyMasking", FLAGS),
    ("bizItemName", ITEMS), ("bookingOptionJson", OPTIONS),
)  # fmt: skip
_SNAPSHOT_FIELDS = (
    ("startDateTime", TIMES), ("endDateTime", TIMES), ("phone", PHONES), ("name", NAMES),
    ("bookingOptionJson", OPTIONS), ("bookingId", IDS), ("isForcedPrivacyMasking", FLAGS),
)  # fmt: skip
_BYTES_PER_ENTRY = 2 + len(_ENTRY_FIELDS) + len(_SNAPSHOT_FIELDS)
_MAX_ENTRIES = 4


def _pick(table: list[Any], byte: int, text: str, number: int) -> Any:
    value = table[byte % len(table)]
    if value is FREE_TEXT:
        return text
    if value is FREE_INT:
        return number
    return value if value is MISSING else copy.deepcopy(value)


def _fields(
    spec: tuple[tuple[str, list[Any]], ...], data: bytes, text: str, number: int
) -> dict[str, Any]:
    built = {}
    for (key, table), byte in zip(spec, data, strict=True):
        value = _pick(table, byte, text, number)
        if value is not MISSING:
            built[key] = value
    return built


def _payload(data: bytes, text: str, number: int) -> list[object]:
    entries: list[object] = []
    for index in range(data[0] % (_MAX_ENTRIES + 1)):
        chunk = data[1 + index * _BYTES_PER_ENTRY : 1 + (index + 1) * _BYTES_PER_ENTRY]
        form = _pick(ENTRY_FORMS, chunk[0], text, number)
        if form != "object":
            entries.append(form)
            continue
        entry = _fields(_ENTRY_FIELDS, chunk[2 : 2 + len(_ENTRY_FIELDS)], text, number)
        snapshot = _fields(_SNAPSHOT_FIELDS, chunk[2 + len(_ENTRY_FIELDS) :], text, number)
        shape = _pick(FORMS, chunk[1], text, number)
        if shape == "object":
            entry["snapshotJson"] = snapshot
        elif shape == "json":
            entry["snapshotJson"] = json.dumps(snapshot, ensure_ascii=False)
        elif shape == "broken-json":
            entry["snapshotJson"] = json.dumps(snapshot)[:-1]
        elif shape is not MISSING:
            entry["snapshotJson"] = shape
        entries.append(entry)
    return entries


def _check_page(entries: list[object]) -> None:
    bookings, unusable = parse_bookings(entries, biz_id=STORE, status="RC03")
    assert len(bookings) + len(unusable) == len(entries)  # every entry accounted for, once
    for booking in bookings:
        assert booking.phone.startswith("01")
        assert booking.extra["status"]
        assert all(isinstance(name, str) for name in booking.extra["option_names"])
    for entry in unusable:
        assert entry.reason
        # Never a full number: nothing, "***", or 010-****-1234.
        assert entry.phone_masked is None or "*" in entry.phone_masked


@settings(deadline=None, suppress_health_check=list(HealthCheck))  # CI: 10,000 examples
@given(
    st.binary(
        min_size=1 + _MAX_ENTRIES * _BYTES_PER_ENTRY, max_size=1 + _MAX_ENTRIES * _BYTES_PER_ENTRY
    ),
    st.text(max_size=12),
    st.integers(),
)
def test_ten_thousand_generated_pages_parse_without_a_crash_and_report_every_unusable_entry(
    data: bytes, text: str, number: int
) -> None:
    _check_page(_payload(data, text, number))


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12))
_free_snapshot = st.dictionaries(
    st.sampled_from(["startDateTime", "phone", "name", "bookingOptionJson", "bookingId"]),
    st.one_of(_scalars, st.lists(_scalars, max_size=2)),
    max_size=5,
)
_free_entry = st.one_of(
    _scalars,
    st.dictionaries(
        st.sampled_from(["bookingId", "businessId", "name", "phone", "bookingOptionJson"]),
        _scalars,
        max_size=5,
    ).flatmap(
        lambda entry: st.one_of(_free_snapshot, _free_snapshot.map(json.dumps)).map(
            lambda snapshot: {**entry, "snapshotJson": snapshot}
        )
    ),
)


# The profile's count, at most 500: 10,000 of these would add a minute to CI.
@settings(
    max_examples=min(settings().max_examples, 500),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(st.lists(_free_entry, max_size=3))
def test_free_form_payloads_parse_without_a_crash(entries: list[object]) -> None:
    _check_page(entries)
