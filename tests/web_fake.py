"""A fake `OwnerPort` for the web page's HTTP tests: realistic Korean values, masked phones.

It keeps what the pages asked it to do (`calls`) so a test can tell that a
refused form did nothing. The full numbers it receives stay inside it: a
page that echoed one would fail the tests' leak checks.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from naver_sms.config import StoreConfig
from naver_sms.domain.booking import KST, mask_phone, normalize_phone
from naver_sms.domain.messages import Channel, MessageType
from naver_sms.messaging.templates import CheckRow
from naver_sms.web.model import (
    BookingLine,
    HistoryFilter,
    HistoryLine,
    LoginState,
    MessageLine,
    MessageState,
    OptOut,
    Rehearsal,
    StoreDay,
    TestSend,
    WebUserError,
)

NOW = datetime(2026, 5, 14, 10, 30, tzinfo=KST)
STORE_ID = "1051707"
STORE_NAME = "강남 헤어살롱"
SECOND_ID = "2093311"
SECOND_NAME = "홍대 네일아트"
TEST_SENDS_PER_DAY = 3


class FakeOwner:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.sends_left = TEST_SENDS_PER_DAY
        self.opted_out: dict[str, datetime | None] = {"010-0000-7777": NOW - timedelta(days=3)}
        self.session = LoginState(
            stored=True,
            valid=True,
            saved_at=NOW - timedelta(days=2),
            cookie_names=("NID_AUT", "NID_SES"),
        )
        self.cookies_text = ""
        self.fail_with: Exception | None = None  # raised by today()

    # -- reading -----------------------------------------------------------------------------

    def store_names(self) -> dict[str, str]:
        return {STORE_ID: STORE_NAME, SECOND_ID: SECOND_NAME}

    def today(self, now: datetime, days: int = 2) -> list[StoreDay]:
        self.calls.append(("today", now, days))
        if self.fail_with is not None:
            raise self.fail_with
        day = now.astimezone(KST).date()
        booking = BookingLine(
            booking_num="1198765432",
            visit=datetime.combine(day, datetime.min.time(), KST).replace(hour=14),
            customer="김민지",
            phone="010-****-1234",
            item="여성 커트",
            status="confirmed",
            messages=(
                MessageLine(
                    "confirmation",
                    MessageState.DELIVERED,
                    at=now - timedelta(hours=20),
                    channel="alimtalk",
                    why="성공",
                ),
                MessageLine("guide", MessageState.DUE, why="방문 3시간 전에 보냅니다"),
                MessageLine("event", MessageState.HELD, why="방문 다음 날 보냅니다"),
            ),
        )
        return [
            StoreDay(STORE_ID, STORE_NAME, day.isoformat(), (booking,)),
            StoreDay(SECOND_ID, SECOND_NAME, day.isoformat(), ()),
            StoreDay(STORE_ID, STORE_NAME, (day + timedelta(days=1)).isoformat(), ()),
        ]

    def history(self, query: HistoryFilter) -> list[HistoryLine]:
        self.calls.append(("history", query))
        if query.first_day > query.last_day:
            raise WebUserError("시작일이 종료일보다 늦습니다: 날짜를 바꿔 주세요")
        lines = [
            HistoryLine(
                sent_at=NOW - timedelta(hours=1),
                store_id=STORE_ID,
                store_name=STORE_NAME,
                booking_num="1198765432",
                phone="010-****-1234",
                message="confirmation",
                channel="sms",
                status="delivered",
                result="성공",
                checked_at=NOW - timedelta(minutes=50),
            ),
            HistoryLine(
                sent_at=NOW - timedelta(hours=2),
                store_id=SECOND_ID,
                store_name=SECOND_NAME,
                booking_num="1198765999",
                phone="010-****-5678",
                message="event",
                channel="lms",
                status="failed",
                result="수신 거부된 번호",
            ),
        ]
        return [
            line
            for line in lines
            if (query.store_id is None or line.store_id == query.store_id)
            and (query.status is None or line.status == query.status)
        ]

    def history_csv(self, query: HistoryFilter) -> str:
        rows = ["보낸 시각,매장,예약 번호,전화,메시지,방식,결과,통신사 응답"]
        rows += [
            f"{line.sent_at:%Y-%m-%d %H:%M},{line.store_name},{line.booking_num},"
            f"{line.phone},{line.message},{line.channel},{line.status},{line.result}"
            for line in self.history(query)
        ]
        return "\ufeff" + "\r\n".join(rows) + "\r\n"

    def templates(self) -> list[CheckRow]:
        store = StoreConfig(id=STORE_ID, name=STORE_NAME, sender="010-0000-0001")
        return [
            CheckRow(
                store=store,
                kind="confirmation",
                origin="built-in",
                text=f"[{STORE_NAME}] 김민지님, 5월 14일 14:00 예약이 확정되었습니다.",
                size=62,
                type=MessageType.SMS,
                channel=Channel.SMS,
            ),
            CheckRow(
                store=store,
                kind="event",
                origin="store",
                text="",
                problems=["{{ coupon }}: 템플릿에 없는 값입니다"],
            ),
        ]

    def test_sends_left(self, now: datetime) -> int:
        return self.sends_left

    def login_state(self, now: datetime, *, check: bool = True) -> LoginState:
        self.calls.append(("login_state", check))
        return self.session

    def login_banner(self) -> str:
        self.calls.append(("login_banner",))
        return self.session.login_needed

    def optouts(self) -> list[OptOut]:
        return [OptOut(mask_phone(phone), since) for phone, since in self.opted_out.items()]

    # -- doing -------------------------------------------------------------------------------

    def test_send(self, store_id: str, message: str, to: str, now: datetime) -> TestSend:
        self.calls.append(("test_send", store_id, message, to))
        if self.sends_left <= 0:
            raise WebUserError("오늘 테스트 발송 3회를 모두 썼습니다. 내일 다시 보낼 수 있습니다")
        phone = self._mobile(to)
        self.sends_left -= 1
        return TestSend(store_id, message, mask_phone(phone), "sms", "테스트", self.sends_left)

    def paste_cookies(self, text: str, now: datetime) -> LoginState:
        self.calls.append(("paste_cookies",))
        try:
            cookies = json.loads(text)
        except json.JSONDecodeError:
            raise WebUserError(
                "쿠키를 읽지 못했습니다: 브라우저에서 JSON으로 내보내 주세요"
            ) from None
        self.cookies_text = text
        self.session = LoginState(
            stored=True, valid=True, saved_at=now, cookie_names=tuple(c["name"] for c in cookies)
        )
        return self.session

    def add_optout(self, phone: str) -> str:
        self.calls.append(("add_optout", phone))
        stored = self._mobile(phone)
        self.opted_out[stored] = NOW
        return mask_phone(stored)

    def remove_optout(self, phone: str) -> str:
        self.calls.append(("remove_optout", phone))
        stored = self._mobile(phone)
        self.opted_out.pop(stored, None)
        return mask_phone(stored)

    def rehearse(self, now: datetime) -> Rehearsal:
        self.calls.append(("rehearse", now))
        return Rehearsal(
            at=now,
            report={
                "dry_run": True,
                "stores": 2,
                "bookings": 1,
                "sent": [
                    {
                        "booking_num": "1198765432",
                        "phone_masked": "010-****-1234",
                        "kind": "guide",
                        "store": STORE_ID,
                        "channel": "sms",
                        "dry_run": True,
                    }
                ],
                "held": [
                    {
                        "booking_num": "1198765432",
                        "phone_masked": "010-****-1234",
                        "kind": "event",
                        "why": "방문 다음 날 보냅니다",
                    }
                ],
                "errors": [],
            },
        )

    @staticmethod
    def _mobile(text: str) -> str:
        try:
            return normalize_phone(text)
        except ValueError:
            # A careless port could put the number in its error: the page must mask it.
            raise WebUserError(f"{text}: 휴대전화 번호가 아닙니다") from None
