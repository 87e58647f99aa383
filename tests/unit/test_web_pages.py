"""The owner's pages over a fake port: Korean, with their data, masked, never a traceback."""

from __future__ import annotations

import re
from dataclasses import replace

import httpx
import pytest
from starlette.testclient import TestClient

from naver_sms.web.app import create_app
from naver_sms.web.model import WebUserError
from tests.unit.test_web_auth import PASSWORD, Clock, csrf_of, log_in
from tests.web_fake import SECOND_ID, SECOND_NAME, STORE_NAME, FakeOwner

FULL_PHONE = "010-0000-4321"
COOKIE_VALUE = "AAAAcanaryNIDsessionValue0123456789"
_FULL_PHONE_ANYWHERE = re.compile(r"01[016789]-?\d{3,4}-?\d{4}")


@pytest.fixture
def owner() -> FakeOwner:
    return FakeOwner()


@pytest.fixture
def client(owner: FakeOwner) -> TestClient:
    app = create_app(owner, password=PASSWORD, now=Clock())
    client = TestClient(app, raise_server_exceptions=False)
    assert log_in(client).status_code == 200  # followed to the today page
    return client


def post(client: TestClient, path: str, page: str, **data: str) -> str:
    """Submit a form of `page` as the owner would, following the redirect; the page shown."""
    token = csrf_of(client.get(page).text)
    response: httpx.Response = client.post(path, data={**data, "csrf": token})
    return response.text


def test_the_today_page_shows_each_booking_and_each_message_state_in_korean(
    client: TestClient,
) -> None:
    html = client.get("/").text
    assert 'id="today"' in html
    assert f"{STORE_NAME} · 오늘 2026-05-14" in html
    assert f"{STORE_NAME} · 내일 2026-05-15" in html
    assert "14:00" in html
    for text in ("김민지", "010-****-1234", "여성 커트", "확정"):
        assert text in html
    for text in (
        "예약 확인",
        "전달됨",
        "알림톡",
        "방문 안내",
        "보낼 차례",
        "방문 3시간 전에 보냅니다",
    ):
        assert text in html
    assert "이벤트" in html
    assert "대기" in html
    assert "예약이 없습니다" in html  # the second store's empty day


def test_the_history_page_filters_by_store_and_status(client: TestClient) -> None:
    html = client.get("/history").text
    assert "보낸 메시지" in html
    assert "010-****-1234" in html
    assert "010-****-5678" in html
    filtered = client.get("/history", params={"store": SECOND_ID, "status": "failed"}).text
    assert "수신 거부된 번호" in filtered
    assert "010-****-1234" not in filtered
    assert f'<option value="{SECOND_ID}" selected>{SECOND_NAME}</option>' in filtered


def test_a_bad_history_filter_is_one_korean_line(client: TestClient) -> None:
    response = client.get("/history", params={"first": "2026-05-10", "last": "2026-05-01"})
    assert response.status_code == 400
    assert "시작일이 종료일보다 늦습니다" in response.text
    assert "Traceback" not in response.text


def test_the_csv_download_is_utf8_with_a_bom_and_masked_phones(client: TestClient) -> None:
    response = client.get("/history.csv", params={"first": "2026-05-08", "last": "2026-05-14"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "naver-sms-history-2026-05-08-2026-05-14.csv" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("보낸 시각,매장")
    assert "010-****-1234" in text
    assert not _FULL_PHONE_ANYWHERE.search(text)


def test_the_history_page_links_the_csv_with_the_same_filters(client: TestClient) -> None:
    html = client.get("/history", params={"store": SECOND_ID}).text
    assert f"/history.csv?first=2026-05-08&amp;last=2026-05-14&amp;store={SECOND_ID}" in html


def test_the_templates_page_shows_each_text_its_size_and_its_problems(client: TestClient) -> None:
    html = client.get("/templates").text
    assert "김민지님, 5월 14일 14:00 예약이 확정되었습니다." in html
    assert "62바이트" in html
    assert "문제:" in html
    assert "템플릿에 없는 값입니다" in html
    assert '오늘 남은 테스트 발송: <strong id="test-sends-left">3회</strong>' in html
    assert html.count('class="test-send"') == 1  # no test send of a text that cannot render


def test_a_test_send_says_where_it_went_masked_and_how_many_are_left(
    client: TestClient, owner: FakeOwner
) -> None:
    html = post(
        client,
        "/templates/test",
        "/templates",
        store="1051707",
        message="confirmation",
        to=FULL_PHONE,
    )
    assert "010-****-4321(으)로 예약 확인 테스트 메시지를 SMS로 보냈습니다" in html
    assert "오늘 남은 테스트 발송: 2회" in html
    assert ("test_send", "1051707", "confirmation", FULL_PHONE) in owner.calls


def test_the_test_send_limit_is_shown_and_the_form_goes_away(
    client: TestClient, owner: FakeOwner
) -> None:
    owner.sends_left = 0
    html = client.get("/templates").text
    assert "오늘은 테스트 메시지를 더 보낼 수 없습니다" in html
    assert 'class="test-send"' not in html


def test_a_refused_test_send_is_one_line_on_the_page(client: TestClient, owner: FakeOwner) -> None:
    token = csrf_of(client.get("/templates").text)
    owner.sends_left = 0
    response = client.post(
        "/templates/test",
        data={"csrf": token, "store": "1051707", "message": "confirmation", "to": FULL_PHONE},
    )
    assert response.status_code == 200
    assert (
        '<p id="flash" class="flash error" role="status">오늘 테스트 발송 3회를 모두 썼습니다'
        in (response.text)
    )
    assert "Traceback" not in response.text


def test_the_naver_page_shows_the_session_state_and_no_cookie_value(
    client: TestClient, owner: FakeOwner
) -> None:
    html = client.get("/naver").text
    assert "정상 (네이버가 받아들임)" in html
    assert "NID_AUT, NID_SES" in html
    assert "2026-05-12 10:30" in html
    pasted = f'[{{"name": "NID_SES", "value": "{COOKIE_VALUE}", "domain": ".naver.com"}}]'
    html = post(client, "/naver/cookies", "/naver", cookies=pasted)
    assert "네이버 로그인 쿠키 1개를 저장했습니다" in html
    assert owner.cookies_text == pasted
    assert COOKIE_VALUE not in html


def test_unusable_cookies_are_one_line_and_the_paste_is_not_shown_again(
    client: TestClient,
) -> None:
    html = post(client, "/naver/cookies", "/naver", cookies=f"NID_SES={COOKIE_VALUE}")
    assert "쿠키를 읽지 못했습니다" in html
    assert COOKIE_VALUE not in html


def test_every_page_carries_the_banner_when_the_last_cycle_met_a_login_challenge(
    client: TestClient, owner: FakeOwner
) -> None:
    owner.session = replace(owner.session, login_needed="네이버가 보안 확인을 요구했습니다")
    owner.calls.clear()
    for path in ("/", "/history", "/templates", "/naver", "/optouts", "/rehearse"):
        html = client.get(path).text
        assert "네이버가 사람의 로그인을 요구합니다" in html, path
        assert "네이버가 보안 확인을 요구했습니다" in html, path
    # Only the Naver page asks Naver; the banner reads the stored note, the Naver
    # page's from the state it read already.
    assert owner.calls.count(("login_state", True)) == 1
    assert ("login_state", False) not in owner.calls
    assert owner.calls.count(("login_banner",)) == 5


def test_the_optouts_page_lists_masked_numbers_and_adds_and_removes(
    client: TestClient, owner: FakeOwner
) -> None:
    html = client.get("/optouts").text
    assert "010-****-7777" in html
    html = post(client, "/optouts/add", "/optouts", phone=FULL_PHONE)
    assert "010-****-4321: 이제 이벤트(광고) 메시지를 받지 않습니다" in html
    assert FULL_PHONE in owner.opted_out
    html = post(client, "/optouts/remove", "/optouts", phone="010-0000-7777")
    assert "010-****-7777: 수신 거부 목록에서 뺐습니다" in html
    assert "010-0000-7777" not in owner.opted_out


def test_a_number_that_is_not_mobile_is_one_line_on_the_page(client: TestClient) -> None:
    html = post(client, "/optouts/add", "/optouts", phone="02-0000-1234x")
    assert (
        '<p id="flash" class="flash error" role="status">02-0000-1234x: 휴대전화 번호가 아닙니다'
        in html
    )
    assert "Traceback" not in html


def test_an_error_line_that_carries_a_full_number_shows_it_masked(
    client: TestClient, owner: FakeOwner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def careless(phone: str) -> str:
        raise WebUserError(f"{phone}: SENS refused the number")

    monkeypatch.setattr(owner, "add_optout", careless)
    html = post(client, "/optouts/add", "/optouts", phone=FULL_PHONE)
    assert "010-****-4321: SENS refused the number" in html
    assert FULL_PHONE not in html


def test_the_dry_run_shows_what_would_be_sent_and_sends_nothing(
    client: TestClient, owner: FakeOwner
) -> None:
    html = client.get("/rehearse").text
    assert "아무것도 보내지 않고" in html
    html = post(client, "/rehearse", "/rehearse")
    assert '<strong id="would-send">1건</strong>' in html
    assert "방문 안내" in html
    assert "방문 다음 날 보냅니다" in html
    assert [call[0] for call in owner.calls].count("rehearse") == 1
    assert not [call for call in owner.calls if call[0] == "test_send"]


def test_an_unexpected_failure_is_one_korean_line_never_a_traceback(
    client: TestClient, owner: FakeOwner
) -> None:
    owner.fail_with = RuntimeError(f"database is locked near {FULL_PHONE} {PASSWORD}")
    response = client.get("/")
    assert response.status_code == 500
    assert "이 페이지를 만들지 못했습니다" in response.text
    assert "Traceback" not in response.text
    assert "database is locked" not in response.text


def test_no_page_carries_a_full_phone_a_cookie_value_or_the_password(
    client: TestClient, owner: FakeOwner
) -> None:
    post(client, "/optouts/add", "/optouts", phone=FULL_PHONE)
    pasted = f'[{{"name": "NID_SES", "value": "{COOKIE_VALUE}"}}]'
    post(client, "/naver/cookies", "/naver", cookies=pasted)
    post(client, "/templates/test", "/templates", store="1051707", message="event", to=FULL_PHONE)
    session_cookie = client.cookies.get("naver_sms_session")
    assert session_cookie
    for path in ("/", "/history", "/history.csv", "/templates", "/naver", "/optouts", "/rehearse"):
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.text
        assert not _FULL_PHONE_ANYWHERE.search(body), path
        assert COOKIE_VALUE not in body, path
        assert PASSWORD not in body, path
        assert session_cookie not in body, path


def test_pages_are_korean_cannot_be_framed_and_are_not_cached(client: TestClient) -> None:
    response = client.get("/")
    assert '<html lang="ko">' in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


def test_the_stylesheet_is_served_from_the_package(client: TestClient) -> None:
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert "Apple SD Gothic Neo" in response.text
    assert "@media (max-width: 640px)" in response.text
