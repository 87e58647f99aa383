"""The sandbox Naver itself: what tests, the demo and the benchmarks rely on."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import httpx

from naver_sms.sandbox.naver import NaverSandbox
from tests.integration.conftest import NOW

STORE = "5000001"


def _cookie(naver: NaverSandbox) -> dict[str, str]:
    return {"cookie": "; ".join(f"{c['name']}={c['value']}" for c in naver.issue_session())}


def _window(days: int = 14) -> dict[str, str]:
    return {
        "startDateTime": "2026-11-23T15:00:00.000Z",
        "endDateTime": (NOW + timedelta(days=days - 2)).strftime("%Y-%m-%dT15:00:00.000Z"),
    }


def test_the_login_form_has_the_real_element_ids(naver: NaverSandbox) -> None:
    page = httpx.get(naver.login_url).text
    for marker in ('id="id"', 'id="pw"', 'id="log.login"', 'action="/nidlogin.login"'):
        assert marker in page


def test_the_right_password_sets_both_login_cookies_and_redirects(naver: NaverSandbox) -> None:
    response = httpx.post(
        f"{naver.base_url}/nidlogin.login",
        data={"id": "sandbox-owner", "pw": "sandbox-password", "url": f"{naver.base_url}/"},
    )
    assert response.status_code == 302
    assert {"NID_AUT", "NID_SES"} <= set(response.cookies.keys())


def test_a_wrong_password_shows_the_error_box_and_the_captcha_user_a_captcha(
    naver: NaverSandbox,
) -> None:
    wrong = httpx.post(f"{naver.base_url}/nidlogin.login", data={"id": "sandbox-owner", "pw": "x"})
    assert 'id="err_common"' in wrong.text
    assert not wrong.cookies
    captcha = httpx.post(f"{naver.base_url}/nidlogin.login", data={"id": "captcha-user", "pw": "x"})
    assert 'id="captcha"' in captcha.text
    device = httpx.post(
        f"{naver.base_url}/nidlogin.login", data={"id": "new-device-user", "pw": "x"}
    )
    assert device.headers["location"] == "/login/ext/deviceConfirm"


def test_bookings_are_the_same_in_every_sandbox_with_the_same_clock() -> None:
    with (
        NaverSandbox(now=NOW, stores={STORE: 40}) as one,
        NaverSandbox(now=NOW, stores={STORE: 40}) as two,
    ):
        assert one.bookings(STORE) == two.bookings(STORE)
    phones = {raw["phone"] for raw in one.bookings(STORE)}
    assert len(phones) == 40
    assert all(phone.startswith("0100000") for phone in phones)


def test_moving_the_clock_completes_visits_without_moving_them(naver: NaverSandbox) -> None:
    before = {raw["bookingId"]: raw for raw in naver.bookings(STORE)}
    naver.now = NOW + timedelta(days=30)
    after = {raw["bookingId"]: raw for raw in naver.bookings(STORE)}
    assert before.keys() == after.keys()
    assert {raw["bookingStatusCode"] for raw in after.values()} <= {"RC08", "RC04"}
    assert [raw["startDate"] for raw in before.values()] == [
        raw["startDate"] for raw in after.values()
    ]


def test_pages_status_filters_and_counts_agree(naver: NaverSandbox) -> None:
    headers = _cookie(naver)
    count_url = f"{naver.base_url}/v3.1/businesses/{STORE}/bookings/count"
    list_url = f"{naver.base_url}/api/businesses/{STORE}/bookings"
    for status in ("RC03", "RC04", "RC08"):
        params = {**_window(), "bookingStatusCodes": status}
        count = httpx.get(count_url, params=params, headers=headers).json()["count"]
        seen = []
        for page in range(3):
            chunk = httpx.get(
                list_url, params={**params, "page": page, "size": 5}, headers=headers
            ).json()
            seen.extend(chunk)
        assert len(seen) == count
        assert {raw["bookingStatusCode"] for raw in seen} <= {status}
    assert naver.requests["count"] == 3
    assert naver.requests["list"] == 9


def test_injected_faults_latency_and_counters(naver: NaverSandbox) -> None:
    headers = _cookie(naver)
    url = f"{naver.base_url}/v3.1/businesses/{STORE}/bookings/count"
    naver.fail_next(2, status=500)
    codes = [httpx.get(url, params=_window(), headers=headers).status_code for _ in range(3)]
    assert codes == [500, 500, 200]
    naver.latency = 0.2
    started = time.monotonic()
    httpx.get(url, params=_window(), headers=headers)
    assert time.monotonic() - started >= 0.2
    naver.latency = 0.0
    naver.fault_rate = 1.0
    assert httpx.get(url, params=_window(), headers=headers).status_code == 503
    naver.clear_faults()
    assert httpx.get(url, params=_window(), headers=headers).status_code == 200
    assert naver.requests["count"] == 6
    naver.reset_counters()
    assert naver.requests == {}


def test_stopping_wakes_a_hung_request() -> None:
    naver = NaverSandbox(now=NOW).start()
    headers = _cookie(naver)
    naver.hang_next(1, seconds=60)
    url = f"{naver.base_url}/v3.1/businesses/{STORE}/bookings/count"
    thread = threading.Thread(
        target=lambda: httpx.get(url, params=_window(), headers=headers, timeout=30), daemon=True
    )
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    naver.stop()
    assert time.monotonic() - started < 5


def test_a_throttle_fault_answers_like_naver_in_both_forms(naver: NaverSandbox) -> None:
    headers = _cookie(naver)
    url = f"{naver.base_url}/api/businesses/{STORE}/bookings"
    naver.throttle_next(1)
    naver.throttle_next(1, form="429")
    body = httpx.get(url, params=_window(), headers=headers)
    assert body.status_code == 200
    assert body.json()["errors"][0]["message"] == "BookingAPITooManyRequests"
    plain = httpx.get(url, params=_window(), headers=headers)
    assert plain.status_code == 429
    assert isinstance(httpx.get(url, params=_window(), headers=headers).json(), list)


def test_the_sandbox_records_which_cookies_arrived_but_never_their_values(
    naver: NaverSandbox,
) -> None:
    cookies = naver.issue_session()
    header = "; ".join(f"{c['name']}={c['value']}" for c in cookies)
    httpx.get(
        f"{naver.base_url}/v3.1/businesses/{STORE}/bookings/count",
        params=_window(),
        headers={"cookie": header},
    )
    (request,) = naver.request_log
    assert request.cookie_names == ("NID_AUT", "NID_SES")
    assert cookies[0]["value"] not in repr(request)


def test_a_session_can_be_issued_for_naver_s_domain(naver: NaverSandbox) -> None:
    assert {c["domain"] for c in naver.issue_session(domain=".naver.com")} == {".naver.com"}
    assert {c["domain"] for c in naver.issue_session()} == {"127.0.0.1"}
