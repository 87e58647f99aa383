"""The session store remembers when a session was saved, and keeps small notes next to it.

The owner's page shows "Naver login: valid since <when>" and a banner when the last
login met a challenge. Every test runs against each backend (moto, moto_server and
dynalite over HTTP, SQLite, and the unit tests' in-memory fake).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from naver_sms.database.sqlite_repository import SqliteSessionRepository
from naver_sms.domain.booking import KST
from tests.conftest import Backend

COOKIES = json.dumps(
    [{"name": "NID_AUT", "value": "aut-canary"}, {"name": "NID_SES", "value": "ses-canary"}]
)
NOW = datetime(2026, 11, 25, 9, 30, 15, tzinfo=KST)
NINE_HOURS = timedelta(hours=9)


# -- when the session was saved --------------------------------------------------------------


def test_a_saved_session_says_when_it_was_saved_in_kst(backend: Backend) -> None:
    # Given in UTC, shown in Seoul time: the same instant.
    backend.session_repository.save_session(COOKIES, now=NOW.astimezone(UTC))

    session = backend.session_repository.get_session()

    assert session is not None
    assert session.saved_at == NOW
    assert session.saved_at.utcoffset() == NINE_HOURS
    assert session.get_cookies_list()[0]["value"] == "aut-canary"


def test_a_session_saved_without_a_time_gets_the_real_clocks(backend: Backend) -> None:
    before = datetime.now(KST).replace(microsecond=0)
    backend.session_repository.save_session(COOKIES)
    after = datetime.now(KST)

    session = backend.session_repository.get_session()

    assert session is not None
    assert session.saved_at is not None
    assert before <= session.saved_at <= after
    assert session.saved_at.utcoffset() == NINE_HOURS


def test_saving_again_moves_the_time_on(backend: Backend) -> None:
    backend.session_repository.save_session(COOKIES, now=NOW)
    backend.session_repository.save_session(COOKIES, now=NOW + timedelta(days=3))

    session = backend.session_repository.get_session()

    assert session is not None
    assert session.saved_at == NOW + timedelta(days=3)


def test_a_time_without_a_zone_is_refused_and_the_stored_session_kept(backend: Backend) -> None:
    backend.session_repository.save_session(COOKIES, now=NOW)

    naive = datetime(2026, 11, 26, 9, 0)  # noqa: DTZ001 - the mistake under test

    with pytest.raises(ValueError, match="aware"):
        backend.session_repository.save_session(
            json.dumps([{"name": "NID_AUT", "value": "other"}]), now=naive
        )

    session = backend.session_repository.get_session()
    assert session is not None
    assert session.cookies == COOKIES
    assert session.saved_at == NOW


def test_the_sessions_repr_shows_when_but_never_a_cookie_value(backend: Backend) -> None:
    backend.session_repository.save_session(COOKIES, now=NOW)

    shown = repr(backend.session_repository.get_session())

    assert "2026-11-25T09:30:15+09:00" in shown
    assert "canary" not in shown


# -- notes ---------------------------------------------------------------------------------


def test_a_note_reads_back_as_written_and_a_missing_one_is_none(backend: Backend) -> None:
    store = backend.session_repository
    assert store.get_note("test_sends") is None

    store.put_note("test_sends", {"day": "2026-11-25", "count": "2", "memo": "한글 메모"})

    assert store.get_note("test_sends") == {"day": "2026-11-25", "count": "2", "memo": "한글 메모"}


def test_a_note_with_no_values_is_still_a_note(backend: Backend) -> None:
    backend.session_repository.put_note("test_sends", {})

    assert backend.session_repository.get_note("test_sends") == {}


def test_a_note_is_replaced_whole_not_merged(backend: Backend) -> None:
    store = backend.session_repository
    store.put_note("test_sends", {"day": "2026-11-25", "count": "2"})

    store.put_note("test_sends", {"day": "2026-11-26"})

    assert store.get_note("test_sends") == {"day": "2026-11-26"}


def test_a_note_put_as_none_is_gone_and_deleting_again_is_fine(backend: Backend) -> None:
    store = backend.session_repository
    store.put_note("test_sends", {"count": "1"})
    store.put_note("other_note", {"count": "7"})

    store.put_note("test_sends", None)
    store.put_note("test_sends", None)

    assert store.get_note("test_sends") is None
    assert store.get_note("other_note") == {"count": "7"}


def test_notes_are_not_the_session_and_outlive_its_deletion(backend: Backend) -> None:
    store = backend.session_repository
    store.put_note("test_sends", {"count": "1"})
    assert store.get_session() is None

    store.save_session(COOKIES, now=NOW)
    store.delete_session()

    assert store.get_session() is None
    assert store.get_note("test_sends") == {"count": "1"}


@pytest.mark.parametrize("name", ["", "Login", "note#1", "login-needed", "1", "a" * 41, "ö"])
def test_a_note_name_that_is_not_short_lowercase_is_refused(backend: Backend, name: str) -> None:
    store = backend.session_repository

    with pytest.raises(ValueError, match="note name"):
        store.put_note(name, {"count": "1"})
    with pytest.raises(ValueError, match="note name"):
        store.get_note(name)


def test_note_values_that_are_not_strings_are_refused_and_nothing_is_stored(
    backend: Backend,
) -> None:
    store = backend.session_repository

    with pytest.raises(TypeError, match="test_sends"):
        store.put_note("test_sends", {"count": 2})  # type: ignore[dict-item]

    assert store.get_note("test_sends") is None


def test_a_note_too_big_for_a_note_is_refused(backend: Backend) -> None:
    with pytest.raises(ValueError, match="small"):
        backend.session_repository.put_note("test_sends", {"memo": "x" * 5000})

    assert backend.session_repository.get_note("test_sends") is None


# -- a person must log in -----------------------------------------------------------------


def test_a_noted_challenge_reads_back_with_its_words_and_time_in_kst(backend: Backend) -> None:
    store = backend.session_repository
    assert store.login_needed() is None

    store.note_login_needed("new-device check", NOW.astimezone(UTC))

    noted = store.login_needed()
    assert noted == ("new-device check", NOW)
    assert noted[1].utcoffset() == NINE_HOURS


def test_a_saved_session_clears_the_login_needed_note(backend: Backend) -> None:
    store = backend.session_repository
    store.note_login_needed("captcha", NOW)

    store.save_session(COOKIES, now=NOW + timedelta(minutes=5))

    assert store.login_needed() is None
    assert store.get_note("login_needed") is None


def test_a_reason_without_words_is_refused(backend: Backend) -> None:
    with pytest.raises(ValueError, match="reason"):
        backend.session_repository.note_login_needed("  ", NOW)

    assert backend.session_repository.login_needed() is None


# -- a SQLite file of the previous version --------------------------------------------------

# The session table as the version before this one made it.
_PREVIOUS_SESSION_TABLE = (
    "CREATE TABLE session (id TEXT NOT NULL PRIMARY KEY, cookies TEXT NOT NULL)"
)


def test_a_sqlite_file_of_the_previous_version_keeps_its_session_with_no_saved_time(
    tmp_path: Path,
) -> None:
    path = tmp_path / "naver-sms.db"
    with sqlite3.connect(path) as raw:
        raw.execute(_PREVIOUS_SESSION_TABLE)
        raw.execute("INSERT INTO session (id, cookies) VALUES ('1', ?)", (COOKIES,))
    raw.close()
    store = SqliteSessionRepository(path)

    session = store.get_session()

    assert session is not None
    assert session.cookies == COOKIES
    assert session.saved_at is None
    # And it takes the new things from then on.
    store.put_note("test_sends", {"count": "1"})
    store.save_session(COOKIES, now=NOW)
    assert store.get_note("test_sends") == {"count": "1"}
    reopened = SqliteSessionRepository(path).get_session()
    assert reopened is not None
    assert reopened.saved_at == NOW
