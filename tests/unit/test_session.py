"""The stored Naver session: the seed's cookies JSON string."""

from __future__ import annotations

import json

import pytest

from naver_sms.domain.session import Session, SessionValidationError, parse_cookies

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
