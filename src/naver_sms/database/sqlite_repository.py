"""The seed's data layer on one SQLite file: the embedded default store.

Same contract as `dynamodb_client.py` (see `base.py`), same table names. The
`sms` table keeps the seed's core attributes as columns and every other
attribute (customer extras, claims, request ids) in one JSON object column,
`extra`, so a record reads back exactly as it was written, like a DynamoDB item.

Concurrency: every connection runs in WAL mode with synchronous=FULL and a
busy timeout; each thread (and each process) gets its own connection. Every
exactly-once primitive is a single conditional UPDATE, so SQLite's writer lock
alone decides which of several racing cycles wins a claim.

Every sqlite3 error is translated here into `database.exceptions`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from naver_sms.database import exceptions
from naver_sms.database.base import (
    BookingKey,
    claim_attributes,
    sent_attributes,
    skipped_attribute,
    unclear_attribute,
)
from naver_sms.database.records import (
    BookingRepositoryBase,
    LoggedRepository,
    SessionRepositoryBase,
)
from naver_sms.domain.booking import (
    CORE_FIELDS,
    FLAGS,
    BookingValidationError,
)
from naver_sms.domain.record import DELIVERY_DUE, DELIVERY_PENDING, DELIVERY_QUEUE
from naver_sms.domain.session import SESSION_ID
from naver_sms.utils.logger import get_logger

__all__ = [
    "BOOKINGS_TABLE",
    "DEFAULT_BUSY_TIMEOUT",
    "SENT_TABLE",
    "SESSION_TABLE",
    "SqliteBookingRepository",
    "SqliteSessionRepository",
    "create_schema",
]

BOOKINGS_TABLE: Final = "sms"
SESSION_TABLE: Final = "session"
SENT_TABLE: Final = "sms_sent"
NOTES_TABLE: Final = "notes"
DELIVERY_INDEX: Final = "sms_delivery_due"
DEFAULT_BUSY_TIMEOUT: Final = 10.0  # seconds a write waits for another writer's lock
# Keys per batch query: two variables each, under the 999-variable limit of
# SQLite builds older than 3.32.
_KEYS_PER_QUERY: Final = 400

_QUEUE_EXPRESSION: Final = f"json_extract(extra, '$.{DELIVERY_QUEUE}')"
_DUE_EXPRESSION: Final = f"json_extract(extra, '$.{DELIVERY_DUE}')"

_SCHEMA: Final = (
    # Flags are 0/1 (SQLite has no boolean); extra is the JSON object of all
    # non-core attributes. WITHOUT ROWID: the table is its primary key index.
    f"""CREATE TABLE IF NOT EXISTS {BOOKINGS_TABLE} (
        booking_num  TEXT NOT NULL,
        phone        TEXT NOT NULL,
        name         TEXT NOT NULL,
        booking_time TEXT NOT NULL,
        confirm_sms  INTEGER NOT NULL DEFAULT 0 CHECK (confirm_sms IN (0, 1)),
        remind_sms   INTEGER NOT NULL DEFAULT 0 CHECK (remind_sms IN (0, 1)),
        option_sms   INTEGER NOT NULL DEFAULT 0 CHECK (option_sms IN (0, 1)),
        option_time  TEXT NOT NULL DEFAULT '',
        extra        TEXT NOT NULL DEFAULT '{{}}' CHECK (json_valid(extra)),
        PRIMARY KEY (booking_num, phone)
    ) WITHOUT ROWID""",
    f"""CREATE TABLE IF NOT EXISTS {SESSION_TABLE} (
        id       TEXT NOT NULL PRIMARY KEY,
        cookies  TEXT NOT NULL,
        saved_at TEXT
    )""",
    # Small notes next to the session (the port's get_note / put_note): a JSON object.
    f"""CREATE TABLE IF NOT EXISTS {NOTES_TABLE} (
        name TEXT NOT NULL PRIMARY KEY,
        note TEXT NOT NULL CHECK (json_valid(note))
    )""",
    # The delivery queue: only records with a message not yet final are in this
    # partial index, by when to look next, so a cycle's lookup reads just them.
    # `_due` repeats these expressions word for word: SQLite uses an expression
    # index only for the very same expression.
    f"""CREATE INDEX IF NOT EXISTS {DELIVERY_INDEX}
        ON {BOOKINGS_TABLE} ({_DUE_EXPRESSION})
        WHERE {_QUEUE_EXPRESSION} IS NOT NULL""",
    # The history's index: which records sent something on which KST day (a
    # record's messages go out on different days). Written in the same
    # transaction as the mark, so on SQLite it is never missing.
    f"""CREATE TABLE IF NOT EXISTS {SENT_TABLE} (
        day         TEXT NOT NULL,
        booking_num TEXT NOT NULL,
        phone       TEXT NOT NULL,
        PRIMARY KEY (day, booking_num, phone)
    ) WITHOUT ROWID""",
)
# The notes table is the newest: once it is there, so is the session's saved_at
# (both come in the same transaction), so the cheap look below covers both.
_SCHEMA_NAMES: Final = (BOOKINGS_TABLE, SESSION_TABLE, DELIVERY_INDEX, SENT_TABLE, NOTES_TABLE)
# A file made before the history existed: its records' sent messages (a `{flag}_at`
# next to a `{flag}_request_id`) get their entries once, as the table is created,
# so `naver-sms messages` lists the days before the upgrade too.
_FILL_HISTORY: Final = (
    f"INSERT OR IGNORE INTO {SENT_TABLE} (day, booking_num, phone) "  # noqa: S608 - constants
    "SELECT DISTINCT substr(j.value, 1, 10), s.booking_num, s.phone "
    f"FROM {BOOKINGS_TABLE} AS s, json_each(s.extra) AS j "
    "WHERE j.key GLOB '*_at' AND j.type = 'text' AND json_type(s.extra, "
    "'$.\"' || substr(j.key, 1, length(j.key) - 3) || '_request_id\"') = 'text'"
)
_COLUMNS: Final = ", ".join((*CORE_FIELDS, "extra"))
_JOINED_COLUMNS: Final = ", ".join(f"s.{name}" for name in (*CORE_FIELDS, "extra"))

# The file holds the owner's Naver login cookies and customers' names and
# phones: only its owner may read it, whatever the process umask.
_PRIVATE_MODE: Final = 0o600
_COMPANION_SUFFIXES: Final = ("", "-wal", "-shm", "-journal")

log = get_logger(__name__)

# Primary result codes (the low byte of an extended code).
_BUSY_CODES: Final = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_DENIED_CODES: Final = frozenset(
    {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH}
)


# -- errors -----------------------------------------------------------------------------------


def _translate(
    exc: sqlite3.Error, operation: str, path: Path, busy_timeout: float
) -> exceptions.RepositoryError:
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(exc)
    if code in _BUSY_CODES or "locked" in text or "busy" in text:
        return exceptions.RepositoryBusy(
            f"SQLite database {str(path)!r} still locked by another writer after "
            f"{busy_timeout:g} s ({text})",
            operation,
        )
    if code in _DENIED_CODES or "readonly" in text or "unable to open" in text:
        return exceptions.RepositoryDenied(
            f"cannot open or write SQLite database {str(path)!r} ({text}): check the "
            "permissions of the file and its directory",
            operation,
        )
    return exceptions.RepositoryError(f"SQLite error on {str(path)!r}: {text}", operation)


class _MissingDirectory(Exception):
    """Raised where the operation is unknown; `_operation` names it."""


# -- values -----------------------------------------------------------------------------------


def _dump_extra(extra: Mapping[str, Any]) -> str:
    try:
        return json.dumps(extra, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        # Find the culprit so the message names it.
        for key, value in extra.items():
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError):
                raise BookingValidationError(
                    "extra field", key, "a JSON value (string, number, bool, list or object)"
                ) from None
        raise


def _record(row: tuple[Any, ...]) -> dict[str, Any]:
    """A row in the seed's record shape: core attributes, then the extras at top level."""
    *core, extra = row
    record = dict(zip(CORE_FIELDS, core, strict=True))
    for flag in FLAGS:
        record[flag] = bool(record[flag])
    record.update(json.loads(extra))
    return record


def _path(attribute: str) -> str:
    """The JSON path of a top-level attribute of `extra`."""
    return f'$."{attribute}"'


def _flag_clear(flag: str) -> tuple[str, tuple[Any, ...]]:
    """SQL that holds while `flag` is not true: a column for the seed's three, else `extra`."""
    if flag in FLAGS:
        return f"{flag} = 0", ()  # one of three constant names: safe in the SQL
    return "coalesce(json_extract(extra, ?), 0) = 0", (_path(flag),)


def _flag_assignment(flag: str, value: bool) -> tuple[str, dict[str, Any]]:
    """(column assignment or "", extra changes) that set `flag` to `value`."""
    if flag in FLAGS:
        return f"{flag} = {int(value)}, ", {}
    return "", {flag: value}


def _extra_changes(
    changes: Mapping[str, Any], removed: Iterable[str] = ()
) -> tuple[str, tuple[Any, ...]]:
    """The SQL expression (and its arguments) of `extra` with `changes` set, None ones and
    `removed` removed."""
    sets = [(name, value) for name, value in changes.items() if value is not None]
    drops = [*(name for name, value in changes.items() if value is None), *removed]
    expression, args = "extra", []
    if sets:
        # A bool must stay a JSON true/false (sqlite3 would bind it as 1 or 0).
        slots = "".join(", ?, json(?)" if isinstance(v, bool) else ", ?, ?" for _n, v in sets)
        expression = f"json_set({expression}{slots})"
        args += [
            part
            for name, value in sets
            for part in (_path(name), json.dumps(value) if isinstance(value, bool) else value)
        ]
    if drops:
        expression = f"json_remove({expression}{', ?' * len(drops)})"
        args += [_path(name) for name in drops]
    return expression, tuple(args)


class _NotApplied(Exception):
    """A write of a batch did not apply: the batch's transaction is rolled back."""


# -- connections ------------------------------------------------------------------------------


class _SqliteFile(LoggedRepository):
    """One SQLite file: lazily opened connections, one per thread and process."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        held = getattr(self._local, "held", None)
        # A connection must not cross a fork: a child process opens its own.
        if held is not None and held[0] == os.getpid():
            connection: sqlite3.Connection = held[1]
            return connection
        connection = self._connect()
        self._local.held = (os.getpid(), connection)
        return connection

    def _connect(self) -> sqlite3.Connection:
        directory = self.path.parent
        if not directory.is_dir():
            raise _MissingDirectory(
                f"cannot open SQLite database {str(self.path)!r}: directory "
                f"{str(directory)!r} does not exist (create it, or set NAVER_SMS_DB)"
            )
        _keep_private(self.path)
        # isolation_level=None: autocommit; multi-statement writes say BEGIN IMMEDIATE.
        connection = sqlite3.connect(
            self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=True
        )
        try:
            _prepare(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def close(self) -> None:
        """Close this thread's connection (the next call opens a new one)."""
        held = getattr(self._local, "held", None)
        self._local.held = None
        if held is not None and held[0] == os.getpid():
            held[1].close()

    @contextmanager
    def _translated(self, operation: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise _translate(exc, operation, self.path, self.busy_timeout) from exc
        except _MissingDirectory as exc:
            raise exceptions.RepositoryDenied(str(exc), operation) from None


def _keep_private(path: Path) -> None:
    """Create the database file readable by its owner only, and tighten files already there.

    SQLite creates the -wal and -shm files with the mode of the database file,
    so creating that one 0600 before SQLite does covers all three. Files left
    by an older version (0644 under the usual umask) lose their group and
    other bits, with a warning. Nothing here stops the open: SQLite reports a
    file it cannot use in its own words.
    """
    if os.name != "posix":
        return
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_MODE)
    except OSError:
        pass  # already there (tightened below), or SQLite will say why it cannot be made
    else:
        try:
            os.fchmod(descriptor, _PRIVATE_MODE)  # the umask may have taken bits away
        finally:
            os.close(descriptor)
    for suffix in _COMPANION_SUFFIXES:
        companion = Path(f"{path}{suffix}")
        try:
            mode = stat.S_IMODE(companion.stat().st_mode)
        except OSError:
            continue
        if not mode & 0o077:
            continue
        private = mode & 0o700
        try:
            companion.chmod(private)
        except OSError as exc:
            log.warning(
                "SQLite file readable by other users, and its mode cannot be changed",
                operation="open_database",
                context={"path": str(companion), "mode": f"{mode:04o}"},
                error=f"{type(exc).__name__}: {exc.strerror or exc}",
            )
            continue
        log.warning(
            "Tightened the mode of a SQLite file other users could read: it holds the "
            "Naver login cookies and customers' phone numbers",
            operation="open_database",
            context={"path": str(companion), "mode": f"{mode:04o}", "new_mode": f"{private:04o}"},
        )


def _prepare(connection: sqlite3.Connection) -> None:
    # journal_mode is stored in the file; asking first spares every new
    # connection the exclusive lock that switching the mode takes.
    if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        connection.execute("PRAGMA journal_mode=WAL")
    # synchronous is per connection: FULL makes a commit durable once it returns,
    # so a "sent" mark survives a power cut.
    connection.execute("PRAGMA synchronous=FULL")
    # A file made by an earlier version lacks the later tables and indexes: one
    # cheap look at the catalogue tells, and the CREATE ... IF NOT EXISTS below
    # adds just those (indexing the records once, under the writer lock).
    present = {
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'index') "  # noqa: S608 - placeholders
            f"AND name IN ({', '.join('?' * len(_SCHEMA_NAMES))})",
            _SCHEMA_NAMES,
        )
    }
    if present == set(_SCHEMA_NAMES):
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        fill_history = BOOKINGS_TABLE in present and SENT_TABLE not in _tables(connection)
        for statement in _SCHEMA:
            connection.execute(statement)
        _add_missing_columns(connection)
        if fill_history:
            connection.execute(_FILL_HISTORY)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _add_missing_columns(connection: sqlite3.Connection) -> None:
    """Give a session table of an older version its `saved_at` (NULL: not known)."""
    columns = {row[1] for row in connection.execute(f"PRAGMA table_info({SESSION_TABLE})")}
    if "saved_at" not in columns:
        connection.execute(f"ALTER TABLE {SESSION_TABLE} ADD COLUMN saved_at TEXT")


def _tables(connection: sqlite3.Connection) -> set[str]:
    """The tables in the file now (read under the writer lock: another process may
    have just upgraded it)."""
    return {
        name
        for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }


# -- stores -----------------------------------------------------------------------------------


class SqliteBookingRepository(_SqliteFile, BookingRepositoryBase):
    """The `sms` table in a SQLite file: booking records and their sent flags."""

    def __init__(
        self, path: str | os.PathLike[str], *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
    ) -> None:
        super().__init__(path, busy_timeout=busy_timeout)

    def _get(self, booking_num: str, phone: str) -> dict[str, Any] | None:
        row = (
            self._connection()
            .execute(
                f"SELECT {_COLUMNS} FROM {BOOKINGS_TABLE} "  # noqa: S608 - constant names
                "WHERE booking_num = ? AND phone = ?",
                (booking_num, phone),
            )
            .fetchone()
        )
        return _record(row) if row is not None else None

    def _get_many(self, keys: list[BookingKey]) -> Iterator[dict[str, Any]]:
        connection = self._connection()
        for start in range(0, len(keys), _KEYS_PER_QUERY):
            chunk = keys[start : start + _KEYS_PER_QUERY]
            # Joining a VALUES list lets SQLite look each key up in the
            # primary key instead of scanning the table.
            values = ", ".join("(?, ?)" for _ in chunk)
            rows = connection.execute(
                f"SELECT {_JOINED_COLUMNS} FROM (VALUES {values}) AS k "  # noqa: S608 - only placeholders
                f"JOIN {BOOKINGS_TABLE} AS s "
                "ON s.booking_num = k.column1 AND s.phone = k.column2",
                [part for key in chunk for part in key],
            )
            yield from (_record(row) for row in rows.fetchall())

    def _insert(self, item: dict[str, Any]) -> bool:
        item = dict(item)
        core = [item.pop(name) for name in CORE_FIELDS]
        for index, name in enumerate(CORE_FIELDS):
            if name in FLAGS:
                core[index] = int(core[index])
        cursor = self._connection().execute(
            f"INSERT INTO {BOOKINGS_TABLE} ({_COLUMNS}) "  # noqa: S608 - constant names
            f"VALUES ({', '.join('?' * (len(CORE_FIELDS) + 1))}) "
            "ON CONFLICT (booking_num, phone) DO NOTHING",
            (*core, _dump_extra(item)),
        )
        return cursor.rowcount == 1

    def _set_flag(self, booking_num: str, phone: str, flag: str, value: bool) -> bool:
        column, changes = _flag_assignment(flag, value)
        extra, extra_args = _extra_changes(changes)
        return self._update(booking_num, phone, f"{column}extra = {extra}", extra_args)

    def _set_time(
        self,
        booking_num: str,
        phone: str,
        booking_time: str,
        reset: tuple[str, ...],
        moved_from: str | None,
    ) -> bool:
        columns, changes = "", {}
        if moved_from is not None:
            changes["moved_from"] = moved_from
        for flag in reset:
            column, change = _flag_assignment(flag, False)
            columns += column
            changes.update(change)
        dropped = [
            name
            for flag in reset
            for name in (*claim_attributes(flag), unclear_attribute(flag), skipped_attribute(flag))
        ]
        extra, extra_args = _extra_changes(changes, dropped)
        return self._update(
            booking_num,
            phone,
            f"booking_time = ?, {columns}extra = {extra}",
            (booking_time, *extra_args),
            condition="booking_time <> ?",
            condition_args=(booking_time,),
        )

    def _list(self, biz_id: str | None, day: str | None) -> Iterator[dict[str, Any]]:
        conditions, args = ["1"], []
        if biz_id is not None:
            conditions.append("substr(booking_num, 1, ?) = ?")
            args += [len(biz_id) + 1, f"{biz_id}_"]
        if day is not None:
            conditions.append("substr(booking_time, 1, 10) = ?")
            args.append(day)
        rows = self._connection().execute(
            f"SELECT {_COLUMNS} FROM {BOOKINGS_TABLE} "  # noqa: S608 - constant names
            f"WHERE {' AND '.join(conditions)}",
            args,
        )
        yield from (_record(row) for row in rows.fetchall())

    def _unnotified(self) -> Iterator[tuple[str, object]]:
        rows = self._connection().execute(
            f"SELECT booking_num, booking_time FROM {BOOKINGS_TABLE} "  # noqa: S608 - constant
            "WHERE option_sms = 0"
        )
        yield from rows.fetchall()

    def _take_claim(
        self, booking_num: str, phone: str, flag: str, owner: str, until: int, now: int
    ) -> bool:
        claim_attr, until_attr = claim_attributes(flag)
        clear, clear_args = _flag_clear(flag)
        # One statement: the check and the write happen under the same writer
        # lock, so of racing owners exactly one sees the claim free.
        return self._update(
            booking_num,
            phone,
            "extra = json_set(extra, ?, ?, ?, ?)",
            (_path(claim_attr), owner, _path(until_attr), until),
            # An absent expiry reads as 0: never a live claim.
            condition=f"{clear} AND coalesce(json_extract(extra, ?), 0) <= ?",
            condition_args=(*clear_args, _path(until_attr), now),
        )

    def _complete_claim(
        self,
        booking_num: str,
        phone: str,
        flag: str,
        owner: str,
        request_id: str,
        at: str,
        life: Mapping[str, str | None],
    ) -> bool:
        claim_attr, until_attr = claim_attributes(flag)
        request_attr, at_attr = sent_attributes(flag)
        column, flag_change = _flag_assignment(flag, True)
        extra, extra_args = _extra_changes(
            {**flag_change, request_attr: request_id, at_attr: at, **life},
            (claim_attr, until_attr),
        )

        def mark() -> bool:
            return self._update(
                booking_num,
                phone,
                f"{column}extra = {extra}",
                extra_args,
                condition="json_extract(extra, ?) = ?",
                condition_args=(_path(claim_attr), owner),
            )

        if not life:
            return mark()  # untracked: one statement, as before delivery checks
        with self._transaction():
            marked = mark()
            if marked:
                self._insert_history((at[:10],), booking_num, phone)
        return marked

    def _apply_delivery(
        self,
        booking_num: str,
        phone: str,
        changes: Mapping[str, str | None],
        expected: Mapping[str, str | None],
        days: frozenset[str],
    ) -> bool:
        extra, extra_args = _extra_changes(changes)
        conditions, condition_args = ["1"], []
        for name, value in expected.items():
            if value is None:
                conditions.append("json_extract(extra, ?) IS NULL")
                condition_args.append(_path(name))
            else:
                conditions.append("json_extract(extra, ?) = ?")
                condition_args += [_path(name), value]
        with self._transaction():
            applied = self._update(
                booking_num,
                phone,
                f"extra = {extra}",
                extra_args,
                condition=" AND ".join(conditions),
                condition_args=tuple(condition_args),
            )
            if applied:
                self._insert_history(sorted(days), booking_num, phone)
        return applied

    def _add_histories(self, entries: Sequence[tuple[str, str, str]]) -> None:
        """Nothing: the mark's and the check's own transactions wrote the entries."""

    def _insert_history(self, days: Iterable[str], booking_num: str, phone: str) -> None:
        self._connection().executemany(
            f"INSERT OR IGNORE INTO {SENT_TABLE} (day, booking_num, phone) "  # noqa: S608 - constant
            "VALUES (?, ?, ?)",
            [(day, booking_num, phone) for day in days],
        )

    def _due(self, due: str, limit: int) -> Iterator[dict[str, Any]]:
        # The expressions are the index's own, so SQLite reads the partial index
        # in order and stops at `limit` (no sort, no scan of the records).
        rows = self._connection().execute(
            f"SELECT {_COLUMNS} FROM {BOOKINGS_TABLE} "  # noqa: S608 - constant names
            f"WHERE {_QUEUE_EXPRESSION} = ? AND {_DUE_EXPRESSION} <= ? "
            f"ORDER BY {_DUE_EXPRESSION} LIMIT ?",
            (DELIVERY_PENDING, due, limit),
        )
        yield from (_record(row) for row in rows.fetchall())

    def _sent_on(self, day: str, biz_id: str | None) -> Iterator[dict[str, Any]]:
        condition = "h.day = ?"
        args: list[object] = [day]
        if biz_id is not None:
            condition += " AND substr(h.booking_num, 1, ?) = ?"
            args += [len(biz_id) + 1, f"{biz_id}_"]
        rows = self._connection().execute(
            f"SELECT {_JOINED_COLUMNS} FROM {SENT_TABLE} AS h "  # noqa: S608 - constant names
            f"JOIN {BOOKINGS_TABLE} AS s "
            "ON s.booking_num = h.booking_num AND s.phone = h.phone "
            f"WHERE {condition}",
            args,
        )
        yield from (_record(row) for row in rows.fetchall())

    def _atomically(self, writes: Sequence[Callable[[], bool]]) -> bool:
        # One transaction, one commit: with synchronous=FULL each commit waits for
        # the disk, so a batch costs one wait instead of one per write.
        try:
            with self._transaction():
                for write in writes:
                    if not write():
                        raise _NotApplied
        except _NotApplied:
            return False
        return True

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction: the writer lock taken first, so nothing slips in between.

        Inside a batch's transaction, a write's own is part of it (no nesting).
        """
        connection = self._connection()
        if connection.in_transaction:
            yield
            return
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def _drop_claim(self, booking_num: str, phone: str, flag: str, owner: str) -> bool:
        claim_attr, until_attr = claim_attributes(flag)
        return self._update(
            booking_num,
            phone,
            "extra = json_remove(extra, ?, ?)",
            (_path(claim_attr), _path(until_attr)),
            condition="json_extract(extra, ?) = ?",
            condition_args=(_path(claim_attr), owner),
        )

    def _set_skipped(self, booking_num: str, phone: str, flag: str, reason: str) -> bool:
        clear, clear_args = _flag_clear(flag)
        return self._update(
            booking_num,
            phone,
            "extra = json_set(extra, ?, ?)",
            (_path(skipped_attribute(flag)), reason),
            condition=clear,
            condition_args=clear_args,
        )

    def _set_unclear(
        self, booking_num: str, phone: str, flag: str, owner: str, window: str
    ) -> bool:
        return self._update(
            booking_num,
            phone,
            "extra = json_set(extra, ?, ?)",
            (_path(unclear_attribute(flag)), window),
            condition="json_extract(extra, ?) = ?",
            condition_args=(_path(claim_attributes(flag)[0]), owner),
        )

    def _update(
        self,
        booking_num: str,
        phone: str,
        assignments: str,
        args: tuple[Any, ...],
        *,
        condition: str = "1",
        condition_args: tuple[Any, ...] = (),
    ) -> bool:
        """True when the one conditional UPDATE changed the record (it exists and matched)."""
        cursor = self._connection().execute(
            f"UPDATE {BOOKINGS_TABLE} SET {assignments} "  # noqa: S608 - callers pass constants
            f"WHERE booking_num = ? AND phone = ? AND ({condition})",
            (*args, booking_num, phone, *condition_args),
        )
        return cursor.rowcount == 1


class SqliteSessionRepository(_SqliteFile, SessionRepositoryBase):
    """The `session` table in a SQLite file: the Naver login cookies, one record with id "1"."""

    def __init__(
        self, path: str | os.PathLike[str], *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
    ) -> None:
        super().__init__(path, busy_timeout=busy_timeout)

    def _read(self) -> tuple[str, str | None] | None:
        row = (
            self._connection()
            .execute(
                f"SELECT cookies, saved_at FROM {SESSION_TABLE} WHERE id = ?",  # noqa: S608 - constant
                (SESSION_ID,),
            )
            .fetchone()
        )
        if row is None:
            return None
        return str(row[0]), str(row[1]) if row[1] is not None else None

    def _write(self, cookies: str, saved_at: str) -> None:
        self._connection().execute(
            f"INSERT INTO {SESSION_TABLE} (id, cookies, saved_at) VALUES (?, ?, ?) "  # noqa: S608 - constant
            "ON CONFLICT (id) DO UPDATE SET cookies = excluded.cookies, "
            "saved_at = excluded.saved_at",
            (SESSION_ID, cookies, saved_at),
        )

    def _delete(self) -> None:
        self._connection().execute(
            f"DELETE FROM {SESSION_TABLE} WHERE id = ?",  # noqa: S608 - constant
            (SESSION_ID,),
        )

    def _read_note(self, name: str) -> dict[str, str] | None:
        row = (
            self._connection()
            .execute(
                f"SELECT note FROM {NOTES_TABLE} WHERE name = ?",  # noqa: S608 - constant
                (name,),
            )
            .fetchone()
        )
        if row is None:
            return None
        values = json.loads(row[0])
        return {str(key): str(value) for key, value in values.items()}

    def _write_note(self, name: str, values: dict[str, str]) -> None:
        self._connection().execute(
            f"INSERT INTO {NOTES_TABLE} (name, note) VALUES (?, ?) "  # noqa: S608 - constant
            "ON CONFLICT (name) DO UPDATE SET note = excluded.note",
            (name, json.dumps(values, ensure_ascii=False)),
        )

    def _delete_note(self, name: str) -> None:
        self._connection().execute(
            f"DELETE FROM {NOTES_TABLE} WHERE name = ?",  # noqa: S608 - constant
            (name,),
        )


def create_schema(
    path: str | os.PathLike[str], *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
) -> list[str]:
    """Create the `sms`, `session` and `sms_sent` tables (and the delivery queue's index,
    and `notes`, part of the session store) in the file if missing (idempotent); the
    names of the three tables the operator knows.

    The stores do this on first use anyway; this is `naver-sms create-tables`.
    """
    database = _SqliteFile(path, busy_timeout=busy_timeout)
    with database._operation("create_schema", "Schema ready", path=str(database.path)):
        database._connection()
        database.close()
    return [BOOKINGS_TABLE, SESSION_TABLE, SENT_TABLE]
