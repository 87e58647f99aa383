"""What only the SQLite store has to prove: pragmas, schema on first use, races
between processes, lock and permission errors, the JSON extras, the log lines.

The shared contract (create, flags, claims, leases, thread races) is in
test_store_contract.py and runs against this store too.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import sqlite3
import stat
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from naver_sms.database import exceptions
from naver_sms.database.sqlite_repository import (
    SqliteBookingRepository,
    SqliteSessionRepository,
    create_schema,
)
from naver_sms.domain.booking import BookingValidationError
from naver_sms.domain.session import SessionValidationError
from tests.conftest import require

NOW = datetime(2025, 10, 20, 9, 0, tzinfo=UTC)


def booking(number: int = 1, phone: str = "010-1234-5678", **extra: Any) -> dict[str, Any]:
    return {
        "booking_num": f"1051707_{number}",
        "phone": phone,
        "name": "Kim Soo",
        "booking_time": "2025-10-20 14:30:00",
        "confirm_sms": False,
        "remind_sms": False,
        "option_sms": False,
        "option_time": "",
        **extra,
    }


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "naver-sms.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[SqliteBookingRepository]:
    opened = SqliteBookingRepository(db_path)
    yield opened
    opened.close()


def log_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# -- connections and schema


def test_every_connection_runs_in_wal_mode_with_full_synchronous(
    store: SqliteBookingRepository,
) -> None:
    store.get_booking("1051707_1", "010-1234-5678")
    connection = store._connection()

    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000


def test_constructing_a_store_touches_no_file(db_path: Path) -> None:
    SqliteBookingRepository(db_path)
    SqliteSessionRepository(db_path)

    assert not db_path.exists()


def test_the_schema_appears_on_first_use_without_create_tables(db_path: Path) -> None:
    assert SqliteSessionRepository(db_path).get_session() is None

    with sqlite3.connect(db_path) as raw:
        tables = {name for (name,) in raw.execute("SELECT name FROM sqlite_master")}
    raw.close()
    assert {"sms", "session"} <= tables


def test_create_schema_is_idempotent_and_names_the_tables(db_path: Path) -> None:
    assert create_schema(db_path) == ["sms", "session", "sms_sent"]
    assert SqliteBookingRepository(db_path).create_booking(booking())
    assert create_schema(db_path) == ["sms", "session", "sms_sent"]
    assert SqliteBookingRepository(db_path).get_booking("1051707_1", "01012345678") is not None


def test_a_missing_directory_is_a_permission_error_that_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "no-such-dir" / "naver-sms.db"

    with pytest.raises(exceptions.RepositoryDenied, match=r"create_schema: .*no-such-dir"):
        create_schema(path)
    with pytest.raises(exceptions.RepositoryDenied, match=r"get_booking: .*no-such-dir"):
        SqliteBookingRepository(path).get_booking("1051707_1", "010-1234-5678")


# The schema of the version before delivery checks: the file an upgrade opens.
_PREVIOUS_SCHEMA = (
    """CREATE TABLE sms (
        booking_num TEXT NOT NULL, phone TEXT NOT NULL, name TEXT NOT NULL,
        booking_time TEXT NOT NULL,
        confirm_sms INTEGER NOT NULL DEFAULT 0, remind_sms INTEGER NOT NULL DEFAULT 0,
        option_sms INTEGER NOT NULL DEFAULT 0, option_time TEXT NOT NULL DEFAULT '',
        extra TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (booking_num, phone)
    ) WITHOUT ROWID""",
    "CREATE TABLE session (id TEXT NOT NULL PRIMARY KEY, cookies TEXT NOT NULL)",
    "INSERT INTO sms (booking_num, phone, name, booking_time, confirm_sms, extra) VALUES "
    "('1051707_1', '010-1234-5678', 'Kim Soo', '2025-10-20 14:30:00', 1, "
    '\'{"confirm_sms_request_id":"req-old","confirm_sms_at":"2025-10-19T09:00:00+09:00"}\')',
)


def test_a_file_of_the_previous_version_gets_the_queue_and_the_history_on_open(
    db_path: Path,
) -> None:
    with sqlite3.connect(db_path) as raw:
        for statement in _PREVIOUS_SCHEMA:
            raw.execute(statement)
    raw.close()

    store = SqliteBookingRepository(db_path)
    old = store.get_booking("1051707_1", "010-1234-5678")
    store.create_booking(booking(2))
    store.claim("1051707_2", "010-1234-5678", "confirm_sms", "cycle", NOW)
    marked = store.mark_sent(
        "1051707_2", "010-1234-5678", "confirm_sms", "cycle", "req-new", NOW, channel="sms"
    )

    assert old is not None
    assert old["confirm_sms_request_id"] == "req-old"
    assert marked
    assert [r["booking_num"] for r in store.sent_on("2025-10-20")] == ["1051707_2"]
    # The messages sent before the upgrade are in the history too.
    assert [r["booking_num"] for r in store.sent_on("2025-10-19")] == ["1051707_1"]
    assert [r["booking_num"] for r in store.due_deliveries(NOW + timedelta(minutes=1), 10)] == [
        "1051707_2"
    ]


def test_the_due_checks_are_read_from_the_partial_index_in_order(
    store: SqliteBookingRepository,
) -> None:
    store.get_booking("1051707_1", "010-1234-5678")  # the schema
    captured: list[str] = []
    connection = store._connection()
    connection.set_trace_callback(captured.append)
    store.due_deliveries(NOW, 300)
    connection.set_trace_callback(None)
    query = next(sql for sql in captured if "LIMIT" in sql)

    plan = " | ".join(row[-1] for row in connection.execute("EXPLAIN QUERY PLAN " + query))

    # The whole table is never read, and no sort is needed: a long history stays cheap.
    assert "sms_delivery_due" in plan
    assert "TEMP B-TREE" not in plan


def test_a_tracked_mark_and_its_history_entry_are_one_transaction(
    store: SqliteBookingRepository, db_path: Path
) -> None:
    store.create_booking(booking())
    store.claim("1051707_1", "010-1234-5678", "confirm_sms", "cycle", NOW)
    with sqlite3.connect(db_path) as raw:
        raw.execute(
            "CREATE TRIGGER history_down BEFORE INSERT ON sms_sent "
            "BEGIN SELECT RAISE(ABORT, 'history unwritable'); END"
        )
    raw.close()

    with pytest.raises(exceptions.RepositoryError, match="history unwritable"):
        store.mark_sent(
            "1051707_1", "010-1234-5678", "confirm_sms", "cycle", "req-1", NOW, channel="sms"
        )

    # Rolled back whole: the claim is still held, so the cycle's recovery applies.
    stored = store.get_booking("1051707_1", "010-1234-5678")
    assert stored is not None
    assert stored["confirm_sms"] is False
    assert stored["confirm_sms_claim"] == "cycle"
    assert "delivery_queue" not in stored


# -- races between processes


def _claim_in_child(path: str, barrier: Any, results: Any, owner: str) -> None:
    store = SqliteBookingRepository(path)
    store.get_booking("1051707_1", "010-1234-5678")  # connect before the start line
    barrier.wait()
    try:
        results.put((owner, store.claim("1051707_1", "01012345678", "confirm_sms", owner, NOW)))
    except Exception as exc:  # the parent reports it
        results.put((owner, repr(exc)))


def test_exactly_one_of_eight_processes_racing_for_a_claim_wins(db_path: Path) -> None:
    SqliteBookingRepository(db_path).create_booking(booking())
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(8)
    results = context.Queue()
    processes = [
        context.Process(target=_claim_in_child, args=(str(db_path), barrier, results, f"p{n}"))
        for n in range(8)
    ]
    for process in processes:
        process.start()
    outcomes = dict(results.get(timeout=30) for _ in processes)
    for process in processes:
        process.join(timeout=30)

    winners = [owner for owner, won in outcomes.items() if won is True]
    assert sorted(outcomes.values(), key=str) == [False] * 7 + [True], outcomes
    record = SqliteBookingRepository(db_path).get_booking("1051707_1", "010-1234-5678")
    assert record is not None
    assert record["confirm_sms_claim"] == winners[0]


# -- errors at the boundary


def test_a_database_locked_past_the_busy_timeout_raises_throttling_error(db_path: Path) -> None:
    store = SqliteBookingRepository(db_path, busy_timeout=0.1)
    store.create_booking(booking())
    other_writer = sqlite3.connect(db_path, isolation_level=None)
    other_writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.perf_counter()
        with pytest.raises(exceptions.RepositoryBusy, match=r"claim: .*still locked"):
            store.claim("1051707_1", "010-1234-5678", "confirm_sms", "me", NOW)
        assert time.perf_counter() - started < 2
        with pytest.raises(exceptions.RepositoryBusy, match="create_booking: "):
            store.create_booking(booking(2))
        # WAL: readers are not blocked by a writer.
        assert store.get_booking("1051707_1", "010-1234-5678") is not None
    finally:
        other_writer.execute("ROLLBACK")
        other_writer.close()
    assert store.claim("1051707_1", "010-1234-5678", "confirm_sms", "me", NOW)


@pytest.fixture
def read_only_db(db_path: Path) -> Iterator[Path]:
    writer = SqliteBookingRepository(db_path)
    writer.create_booking(booking())
    writer.close()  # the last connection checkpoints and removes the WAL
    db_path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    immutable = False
    if os.geteuid() == 0:
        # root writes through file modes: the immutable attribute stops it.
        chattr = shutil.which("chattr")
        made_immutable = (
            chattr is not None
            and subprocess.run([chattr, "+i", db_path], check=False).returncode == 0
        )
        require(made_immutable, "running as root without a working chattr: no read-only file")
        immutable = True
    try:
        yield db_path
    finally:
        if immutable:
            subprocess.run([str(shutil.which("chattr")), "-i", db_path], check=True)
        db_path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_writing_a_read_only_file_raises_permission_error_naming_the_path(
    read_only_db: Path,
) -> None:
    store = SqliteBookingRepository(read_only_db)

    with pytest.raises(exceptions.RepositoryDenied) as raised:
        store.update_flag("1051707_1", "010-1234-5678", "confirm_sms", True)
    assert str(raised.value).startswith("update_flag: ")
    assert str(read_only_db) in str(raised.value)


def test_other_sqlite_errors_become_the_generic_store_error(store: SqliteBookingRepository) -> None:
    store.create_booking(booking())
    store._connection().execute("DROP TABLE sms")

    with pytest.raises(exceptions.RepositoryError, match=r"get_booking: .*no such table") as raised:
        store.get_booking("1051707_1", "010-1234-5678")
    assert type(raised.value) is exceptions.RepositoryError
    # SQLite speaks of repositories, never of DynamoDB.
    assert not isinstance(raised.value, exceptions.DynamoDBException)


# -- values


def test_extra_attributes_round_trip_through_json_and_survive_claim_and_mark(
    store: SqliteBookingRepository,
) -> None:
    extras: dict[str, Any] = {
        "visit_count": 3,
        "booking_amount": 45000.5,
        "ratio": 0.1,
        "returning": True,
        "options": ["네이버 리뷰", "원본 사진"],
        "customer": {"id": "c-9", "tags": [1, 2.25, False, {"deep": "값"}], "note": ""},
    }
    store.create_booking(booking(**extras))

    assert store.get_booking("1051707_1", "01012345678") == booking(**extras)
    assert store.claim("1051707_1", "010-1234-5678", "option_sms", "me", NOW)
    assert store.mark_sent("1051707_1", "010-1234-5678", "option_sms", "me", "req-1", NOW)
    record = store.get_booking("1051707_1", "010-1234-5678")
    assert record == {
        **booking(**extras),
        "option_sms": True,
        "option_sms_request_id": "req-1",
        "option_sms_at": "2025-10-20T18:00:00+09:00",
    }
    assert type(record["visit_count"]) is int
    assert type(record["returning"]) is bool


@pytest.mark.parametrize("value", [datetime(2025, 1, 1, tzinfo=UTC), float("nan"), {1, 2}])
def test_an_extra_that_json_cannot_hold_is_refused_with_its_name(
    store: SqliteBookingRepository, value: object
) -> None:
    with pytest.raises(BookingValidationError, match="odd"):
        store.create_booking(booking(odd=value))
    assert store.get_booking("1051707_1", "010-1234-5678") is None


def test_a_thousand_keys_with_duplicates_and_legacy_phones_load_in_one_call(
    store: SqliteBookingRepository,
) -> None:
    connection = store._connection()
    connection.execute("BEGIN")
    for number in range(1500):
        store.create_booking(booking(number))
    connection.execute("COMMIT")
    keys = [(f"1051707_{n}", "01012345678") for n in range(0, 3000, 2)]

    started = time.perf_counter()
    found = store.get_bookings(keys + keys[:100])
    assert time.perf_counter() - started < 1

    assert len(found) == 750
    assert found[("1051707_0", "010-1234-5678")]["name"] == "Kim Soo"


# -- logs


def test_every_operation_logs_one_json_line_with_the_phone_masked(
    store: SqliteBookingRepository, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    store.create_booking(booking(phone="01000005432"))
    store.get_booking("1051707_1", "010-0000-5432")
    store.claim("1051707_1", "01000005432", "confirm_sms", "me", NOW)
    SqliteSessionRepository(db_path).save_session('[{"name": "NID_AUT", "value": "s3cr3t-cookie"}]')
    output = capsys.readouterr().err

    lines = log_lines(output)
    assert [line["operation"] for line in lines] == [
        "create_booking",
        "get_booking",
        "claim",
        "save_session",
    ]
    assert {line["level"] for line in lines} == {"INFO"}
    assert [line["context"].get("phone_masked") for line in lines[:3]] == ["010-****-5432"] * 3
    for secret in ("01000005432", "0000-5432", "s3cr3t-cookie"):
        assert secret not in output


def test_a_record_with_an_unparsable_time_is_skipped_with_one_warning(
    store: SqliteBookingRepository, capsys: pytest.CaptureFixture[str]
) -> None:
    store.create_booking(booking(1))
    store.create_booking(booking(2) | {"booking_time": "2025-10-21 09:00:00"})
    store.create_booking({**booking(3), "booking_num": "2000_3"})
    # Only a hand edit or an old tool can put such a row here: writes validate.
    store._connection().execute(
        "UPDATE sms SET booking_time = '20/10 14:30' WHERE booking_num = '2000_3'"
    )
    capsys.readouterr()

    windows = store.scan_unnotified_options()

    assert windows == {
        "1051707": {
            "start_time": "2025-10-20T05:30:00.000Z",
            "end_time": "2025-10-21T00:00:00.000Z",
        }
    }
    lines = log_lines(capsys.readouterr().err)
    assert [(line["level"], line["operation"]) for line in lines] == [
        ("WARNING", "scan_unnotified_options"),
        ("INFO", "scan_unnotified_options"),
    ]
    assert lines[0]["context"]["booking_num"] == "2000_3"


# -- session


def test_the_session_is_one_row_replaced_whole_and_deleted_idempotently(db_path: Path) -> None:
    sessions = SqliteSessionRepository(db_path)
    sessions.save_session('[{"name": "NID_AUT", "value": "a"}, {"name": "NID_SES", "value": "b"}]')
    sessions.save_session('[{"name": "NID_AUT", "value": "c"}]')

    session = sessions.get_session()
    assert session is not None
    assert session.get_cookies_list() == [{"name": "NID_AUT", "value": "c"}]
    with pytest.raises(SessionValidationError):
        sessions.save_session('{"name": "NID_AUT"}')
    assert sessions.delete_session()
    assert sessions.delete_session()
    assert sessions.get_session() is None


# -- file modes: the file holds the Naver cookies and customers' phones


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)  # the usual default, which made every file 0644
    try:
        yield
    finally:
        os.umask(previous)


def file_mode(path: Path) -> str:
    return f"{stat.S_IMODE(path.stat().st_mode):04o}"


@pytest.mark.usefixtures("umask_022")
def test_the_database_its_wal_and_shm_are_readable_by_the_owner_only(db_path: Path) -> None:
    bookings, sessions = SqliteBookingRepository(db_path), SqliteSessionRepository(db_path)
    try:
        bookings.create_booking(booking())
        sessions.save_session('[{"name": "NID_AUT", "value": "made-up-cookie-value"}]')

        files = [db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")]
        assert {path.name: file_mode(path) for path in files} == {
            path.name: "0600" for path in files
        }
    finally:
        bookings.close()
        sessions.close()


@pytest.mark.usefixtures("umask_022")
def test_create_tables_makes_a_private_file_too(db_path: Path) -> None:
    create_schema(db_path)

    assert file_mode(db_path) == "0600"


@pytest.mark.usefixtures("umask_022")
def test_files_left_readable_by_others_are_tightened_with_a_warning(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An older version's database, open in another process: all three files 0644.
    older = sqlite3.connect(db_path, isolation_level=None)
    older.execute("PRAGMA journal_mode=WAL")
    older.execute("CREATE TABLE t (x)")
    older.execute("INSERT INTO t VALUES (1)")
    files = [db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")]
    assert [file_mode(path) for path in files] == ["0644"] * 3
    store = SqliteBookingRepository(db_path)
    try:
        store.create_booking(booking())

        assert [file_mode(path) for path in files] == ["0600"] * 3
        warnings = [
            line for line in log_lines(capsys.readouterr().err) if line["level"] == "WARNING"
        ]
        assert sorted(line["context"]["path"] for line in warnings) == sorted(map(str, files))
        assert all("Tightened" in line["message"] for line in warnings)
        assert {line["context"]["new_mode"] for line in warnings} == {"0600"}
    finally:
        store.close()
        older.close()
