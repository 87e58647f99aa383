"""The stored Naver session: the seed's cookies JSON string."""

from __future__ import annotations

import json

import pytest

from naver_sms.domain.session import (
    Session,
    SessionValidationError,
    cookie_matches_host,
    parse_cookies,
    split_cookies,
)

SECRET = "s3cr3t-cookie-value"


def test_get_cookies_list_gives_the_cookie_dicts_of_the_seed_example() -> None:
    cookies = json.dumps(
        [{"name": "NID_AUT", "value": "token123"}, {"name": "NID_SES", "value": "session456"}]
    )

    session = Session(cookies=cookies)

    assert session.session_id == "1"
    assert [cookie["name"] for cookie in session.get_cookies_list()] == ["NID_AUT", "NID_SES"]
    assert session.cookie_names() == ["NID_AUT", "NID_SES"]


@pytest.mark.parametrize(
    ("cookies", "message"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"name": "NID_AUT", "value": SECRET}), "JSON array.*got a JSON object"),
        (json.dumps("NID_AUT"), "got a JSON string"),
        (json.dumps([SECRET]), "cookie #0 must be an object"),
        (json.dumps([{"name": "NID_AUT"}]), "cookie #0 has no string 'value'"),
        (json.dumps([{"value": SECRET}]), "cookie #0 has no string 'name'"),
    ],
)
def test_cookies_that_are_not_an_array_of_cookie_objects_are_a_clear_error(
    cookies: str, message: str
) -> None:
    with pytest.raises(SessionValidationError, match=message) as raised:
        Session(cookies=cookies).get_cookies_list()
    assert SECRET not in str(raised.value)


def test_cookies_must_be_a_string() -> None:
    with pytest.raises(SessionValidationError, match="JSON string"):
        parse_cookies(["NID_AUT"])  # type: ignore[arg-type]


def test_a_session_never_shows_its_cookie_values_in_repr() -> None:
    session = Session(cookies=json.dumps([{"name": "NID_AUT", "value": SECRET}]))

    assert SECRET not in repr(session)
    assert SECRET not in str(session)


# ----------------------------------------------------------------- other sites' cookies (10.9)

EXPORT = [
    {"name": "NID_AUT", "value": "aut-canary", "domain": ".naver.com"},
    {"name": "NID_SES", "value": "ses-canary", "domain": "naver.com"},
    {"name": "BOOKING_X", "value": "v", "domain": "partner.booking.naver.com"},
    {"name": "SID", "value": "google-canary", "domain": ".google.com"},
    {"name": "BANK", "value": "bank-canary", "domain": "bank.example"},
    {"name": "LOOK", "value": "look-alike", "domain": "evilnaver.com"},
    {"name": "ODD", "value": "odd-canary", "domain": 7},
    {"name": "SANDBOX", "value": "s", "domain": "127.0.0.1"},
    {"name": "PLAIN", "value": "p"},
]


def test_a_stored_session_keeps_only_naver_loopback_and_domainless_cookies() -> None:
    session = Session(cookies=json.dumps(EXPORT))
    assert session.cookie_names() == ["NID_AUT", "NID_SES", "BOOKING_X", "SANDBOX", "PLAIN"]
    kept = json.dumps(session.get_cookies_list())
    for canary in ("google-canary", "bank-canary", "look-alike", "odd-canary"):
        assert canary not in kept


def test_the_left_out_cookies_are_named_by_domain_once_each() -> None:
    kept, dropped = split_cookies(
        [*EXPORT, {"name": "SID2", "value": "x", "domain": ".google.com"}]
    )
    assert len(kept) == 5
    assert dropped == [".google.com", "bank.example", "evilnaver.com", "(unreadable domain)"]


@pytest.mark.parametrize(
    ("domain", "host", "sent"),
    [
        (".naver.com", "partner.booking.naver.com", True),
        ("naver.com", "partner.booking.naver.com", True),
        ("partner.booking.naver.com", "partner.booking.naver.com", True),
        ("PARTNER.Booking.Naver.com.", "partner.booking.naver.com", True),
        ("nid.naver.com", "partner.booking.naver.com", False),
        (".booking.naver.com", "nid.naver.com", False),
        (".google.com", "www.google.com", False),  # never a session cookie at all
        ("evilnaver.com", "evilnaver.com", False),
        (".naver.com", "127.0.0.1", False),
        ("127.0.0.1", "127.0.0.1", True),
        ("localhost", "localhost", True),
        ("127.0.0.1", "partner.booking.naver.com", False),
        (None, "partner.booking.naver.com", True),
        (None, "127.0.0.1", True),
    ],
)
def test_a_cookie_goes_only_to_a_host_its_domain_matches(
    domain: str | None, host: str, sent: bool
) -> None:
    cookie = (
        {"name": "NID_AUT", "value": "x"}
        if domain is None
        else {
            "name": "NID_AUT",
            "value": "x",
            "domain": domain,
        }
    )
    assert cookie_matches_host(cookie, host) is sent
