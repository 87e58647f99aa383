"""The owner's pages: Starlette routes that read and act only through `OwnerPort`.

Every page is rendered on the server in Korean; no JavaScript. Every form
posts with the session's CSRF token; a POST that changes something redirects
(303) back to its page with one line saying what happened. A `WebUserError`
is that line; any other failure is one Korean line and a log entry, never a
traceback. As a last guard every page goes through `scrub`, so a full phone
number or a registered secret cannot leave even if a value forgot to mask it.

Every call into the port runs in Starlette's thread pool (`run_in_threadpool`),
never on the event loop: the port reads SQLite or DynamoDB, asks SENS and
Naver, and a dry run takes seconds. On the loop one such call would hold every
other request (another tab, the owner's phone) until it ended. Sessions,
forms and templates stay on the loop: they are quick and touch no I/O.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from naver_sms.domain.booking import KST
from naver_sms.utils.clock import now_kst
from naver_sms.utils.logger import get_logger
from naver_sms.utils.scrub import scrub
from naver_sms.web import auth
from naver_sms.web.model import HistoryFilter, OwnerPort, WebUserError

__all__ = ["create_app"]

log = get_logger(__name__)

_HERE = Path(__file__).resolve().parent
HISTORY_DAYS: Final = 7  # the history page's default: the last week

# The words the owner reads for the values the port returns.
STATE_LABELS: Final = {
    "delivered": "전달됨",
    "sent": "보냄 (결과 대기)",
    "failed": "실패",
    "unknown": "결과 모름",
    "due": "보낼 차례",
    "held": "대기",
    "skipped": "건너뜀",
    "unclear": "확인 중",
    "accepted": "접수됨",
}
BOOKING_LABELS: Final = {"confirmed": "확정", "cancelled": "취소", "completed": "이용 완료"}
MESSAGE_LABELS: Final = {
    "confirmation": "예약 확인",
    "confirm": "예약 확인",
    "reminder": "방문 안내",
    "guide": "방문 안내",
    "event": "이벤트",
}
CHANNEL_LABELS: Final = {"sms": "SMS", "lms": "LMS", "alimtalk": "알림톡"}
HISTORY_STATUSES: Final = ("accepted", "delivered", "failed", "unknown")
FAILED_PAGE: Final = (
    "이 페이지를 만들지 못했습니다. 잠시 뒤 다시 시도하고, 계속되면 설치한 분께 "
    "로그를 확인해 달라고 하세요."
)


async def _last_resort(_request: Request, exc: Exception) -> Response:
    """A failure outside the pages (a middleware): still one line, no traceback."""
    log.error("Web request failed", operation="web", error=f"{type(exc).__name__}: {exc}")
    return PlainTextResponse(FAILED_PAGE, status_code=500)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["state"] = lambda value: STATE_LABELS.get(str(value), str(value))
    env.filters["booking_status"] = lambda value: BOOKING_LABELS.get(str(value), str(value))
    env.filters["message"] = lambda value: MESSAGE_LABELS.get(str(value), str(value))
    env.filters["channel"] = lambda value: CHANNEL_LABELS.get(str(value or ""), value or "-")
    env.filters["when"] = lambda value: (
        value.astimezone(KST).strftime("%Y-%m-%d %H:%M") if value else "-"
    )
    env.filters["hhmm"] = lambda value: value.astimezone(KST).strftime("%H:%M") if value else "-"
    # A message's moment beside its booking: the day only when it is not the visit's.
    env.filters["beside"] = lambda value, day: (
        value.astimezone(KST).strftime("%H:%M")
        if value.astimezone(KST).date() == day.astimezone(KST).date()
        else value.astimezone(KST).strftime("%m-%d %H:%M")
    )
    return env


class _SecurityHeaders:
    """Headers on every response: no framing, no outside resources, nothing cached."""

    HEADERS: Final = (
        (
            b"content-security-policy",
            b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
            b"frame-ancestors 'none'; base-uri 'none'",
        ),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(self.HEADERS)
                if not scope["path"].startswith("/static/"):
                    # Pages show customers' bookings: a shared computer's cache must not keep them.
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


Handler = Callable[[Request], Awaitable[Response]]


class _Pages:
    """The routes, sharing the owner port, the clock, the templates and the login throttle."""

    def __init__(self, owner: OwnerPort, password: str, now: Callable[[], datetime]) -> None:
        self.owner = owner
        self.password = password
        self.now = now
        self.env = _environment()
        self.throttle = auth.LoginThrottle(now=now)

    # -- rendering ---------------------------------------------------------------------------

    async def render(
        self,
        request: Request,
        name: str,
        status_code: int = 200,
        *,
        banner: str | None = None,
        **values: Any,
    ) -> HTMLResponse:
        """The page `name`; `banner`: the login banner when the handler read it already."""
        session = request.session
        flash = session.pop("flash", None)
        signed_in = auth.has_signed_in(session)
        if not signed_in or name == "error.html":
            banner = ""
        elif banner is None:
            # The store's note of the last cycle: a read, so off the loop like every port call.
            banner = await run_in_threadpool(self.owner.login_banner)
        html = self.env.get_template(name).render(
            request_path=request.url.path,
            csrf=auth.csrf_token(session),
            csrf_field=auth.CSRF_FIELD,
            flash=flash,
            signed_in=signed_in,
            login_banner=banner,
            **values,
        )
        return HTMLResponse(scrub(html), status_code=status_code)

    async def error(self, request: Request, status_code: int, text: str) -> HTMLResponse:
        return await self.render(request, "error.html", status_code, message=text)

    @staticmethod
    def back(request: Request, path: str, kind: str, text: str) -> RedirectResponse:
        request.session["flash"] = {"kind": kind, "text": scrub(text)}
        return RedirectResponse(path, status_code=303)

    # -- guards ------------------------------------------------------------------------------

    def guarded(self, handler: Handler) -> Handler:
        """Signed in (else to the login page); a POST with this session's CSRF token (else 403)."""

        async def endpoint(request: Request) -> Response:
            if not auth.is_signed_in(request.session, self.now()):
                return RedirectResponse("/login", status_code=303)
            if request.method == "POST":
                form = await request.form()
                if not auth.csrf_valid(request.session, form.get(auth.CSRF_FIELD)):
                    return await self.forbidden(request)
            try:
                return await handler(request)
            except WebUserError as exc:
                return await self.error(request, 400, str(exc))
            except Exception as exc:
                return await self.failure(request, exc)

        return endpoint

    async def forbidden(self, request: Request) -> HTMLResponse:
        log.warning("Web form without a valid CSRF token", operation="web", path=request.url.path)
        return await self.error(
            request,
            403,
            "요청을 확인할 수 없습니다. 페이지를 새로 고친 뒤 다시 시도하세요. "
            "(아무것도 바뀌지 않았습니다)",
        )

    # -- login -------------------------------------------------------------------------------

    async def login_page(self, request: Request) -> Response:
        if auth.is_signed_in(request.session, self.now()):
            return RedirectResponse("/", status_code=303)
        return await self.render(request, "login.html")

    async def login(self, request: Request) -> Response:
        form = await request.form()
        if not auth.csrf_valid(request.session, form.get(auth.CSRF_FIELD)):
            return await self.forbidden(request)
        client = request.client.host if request.client else "unknown"
        wait = self.throttle.wait(client)
        if wait > timedelta(0):
            seconds = int(wait.total_seconds() + 0.999)
            return await self.render(
                request,
                "login.html",
                429,
                problem=f"비밀번호가 여러 번 틀렸습니다. {seconds}초 뒤에 다시 시도하세요.",
            )
        given = form.get("password")
        if not isinstance(given, str) or not auth.password_matches(given, self.password):
            failures = self.throttle.failed(client)
            # The address and the count, never what was typed (a near miss is the password).
            log.warning("Web login failed", operation="web", client=client, failures=failures)
            return await self.render(
                request, "login.html", 401, problem="비밀번호가 맞지 않습니다."
            )
        self.throttle.succeeded(client)
        auth.sign_in(request.session, self.now())
        log.info("Web login", operation="web", client=client)
        return RedirectResponse("/", status_code=303)

    async def logout(self, request: Request) -> Response:
        auth.sign_out(request.session)
        return RedirectResponse("/login", status_code=303)

    # -- pages -------------------------------------------------------------------------------

    async def today(self, request: Request) -> Response:
        now = self.now()
        days = await run_in_threadpool(self.owner.today, now, days=2)
        today = now.astimezone(KST).date().isoformat()
        return await self.render(request, "today.html", days=days, today=today, now=now)

    def _history_filter(self, request: Request) -> HistoryFilter:
        params = request.query_params
        today = self.now().astimezone(KST).date()
        first = params.get("first") or (today - timedelta(days=HISTORY_DAYS - 1)).isoformat()
        return HistoryFilter(
            first_day=first.strip(),
            last_day=(params.get("last") or today.isoformat()).strip(),
            store_id=params.get("store") or None,
            status=params.get("status") or None,
        )

    async def history(self, request: Request) -> Response:
        query = self._history_filter(request)
        problem, lines = "", []
        try:
            lines = await run_in_threadpool(self.owner.history, query)
        except WebUserError as exc:
            problem = str(exc)
        stores = await run_in_threadpool(self.owner.store_names)
        csv_query = urlencode(
            {
                key: value
                for key, value in (
                    ("first", query.first_day),
                    ("last", query.last_day),
                    ("store", query.store_id),
                    ("status", query.status),
                )
                if value
            }
        )
        return await self.render(
            request,
            "history.html",
            400 if problem else 200,
            query=query,
            lines=lines,
            problem=problem,
            stores=stores,
            statuses=HISTORY_STATUSES,
            csv_url=f"/history.csv?{csv_query}",
        )

    def _csv_body(self, query: HistoryFilter) -> bytes:
        """The CSV file's bytes, made in the thread pool: a month's read and scrub."""
        # The port's CSV starts with the BOM spreadsheet programs need for Korean.
        return scrub(self.owner.history_csv(query)).encode("utf-8")

    async def history_csv(self, request: Request) -> Response:
        query = self._history_filter(request)
        try:
            body = await run_in_threadpool(self._csv_body, query)
        except WebUserError as exc:
            return await self.error(request, 400, str(exc))
        name = f"naver-sms-history-{query.first_day}-{query.last_day}.csv"
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    async def templates(self, request: Request) -> Response:
        rows = await run_in_threadpool(self.owner.templates)
        left = await run_in_threadpool(self.owner.test_sends_left, self.now())
        return await self.render(request, "templates.html", rows=rows, left=left)

    async def test_send(self, request: Request) -> Response:
        form = await request.form()
        try:
            sent = await run_in_threadpool(
                self.owner.test_send,
                _field(form, "store"),
                _field(form, "message"),
                _field(form, "to"),
                self.now(),
            )
        except WebUserError as exc:
            return self.back(request, "/templates", "error", str(exc))
        # Logged by the port ("Test message sent", with the request id).
        return self.back(
            request,
            "/templates",
            "ok",
            f"{sent.to}(으)로 {MESSAGE_LABELS.get(sent.message, sent.message)} 테스트 메시지를 "
            f"{CHANNEL_LABELS.get(sent.channel, sent.channel)}로 보냈습니다. "
            f"오늘 남은 테스트 발송: {sent.left_today}회",
        )

    async def naver(self, request: Request) -> Response:
        state = await run_in_threadpool(self.owner.login_state, self.now())
        return await self.render(request, "naver.html", banner=state.login_needed, state=state)

    async def paste_cookies(self, request: Request) -> Response:
        form = await request.form()
        try:
            state = await run_in_threadpool(
                self.owner.paste_cookies, _field(form, "cookies"), self.now()
            )
        except WebUserError as exc:
            # The pasted text is not shown again: it is the cookies themselves.
            return self.back(request, "/naver", "error", str(exc))
        log.info("Web cookies pasted", operation="web", cookie_names=list(state.cookie_names))
        return self.back(
            request,
            "/naver",
            "ok",
            f"네이버 로그인 쿠키 {len(state.cookie_names)}개를 저장했습니다.",
        )

    async def optouts(self, request: Request) -> Response:
        optouts = await run_in_threadpool(self.owner.optouts)
        return await self.render(request, "optouts.html", optouts=optouts)

    async def add_optout(self, request: Request) -> Response:
        form = await request.form()
        try:
            masked = await run_in_threadpool(self.owner.add_optout, _field(form, "phone"))
        except WebUserError as exc:
            return self.back(request, "/optouts", "error", str(exc))
        return self.back(
            request, "/optouts", "ok", f"{masked}: 이제 이벤트(광고) 메시지를 받지 않습니다."
        )

    async def remove_optout(self, request: Request) -> Response:
        form = await request.form()
        try:
            masked = await run_in_threadpool(self.owner.remove_optout, _field(form, "phone"))
        except WebUserError as exc:
            return self.back(request, "/optouts", "error", str(exc))
        return self.back(request, "/optouts", "ok", f"{masked}: 수신 거부 목록에서 뺐습니다.")

    async def rehearse_page(self, request: Request) -> Response:
        return await self.render(request, "rehearse.html", rehearsal=None)

    async def rehearse(self, request: Request) -> Response:
        try:
            rehearsal = await run_in_threadpool(self.owner.rehearse, self.now())
        except WebUserError as exc:
            return self.back(request, "/rehearse", "error", str(exc))
        return await self.render(request, "rehearse.html", rehearsal=rehearsal)

    async def failure(self, request: Request, exc: Exception) -> Response:
        """Anything unexpected: one Korean line on the page, the details in the log."""
        log.error(
            "Web page failed",
            operation="web",
            path=request.url.path,
            error=f"{type(exc).__name__}: {exc}",
        )
        return await self.error(request, 500, FAILED_PAGE)


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def create_app(
    owner: OwnerPort,
    *,
    password: str,
    now: Callable[[], datetime] = now_kst,
    secure_cookies: bool = False,
    session_secret: str | None = None,
) -> Starlette:
    """The owner's web page over `owner`; `password` lets one in.

    `secure_cookies`: the session cookie only over HTTPS (set it when the
    page is served beyond this machine). `session_secret` signs the session
    cookie; by default a new one per start (a restart signs everyone out).
    """
    if not password:
        raise ValueError("the web page needs a password")
    pages = _Pages(owner, password, now)
    guarded = pages.guarded
    routes = [
        Route("/login", pages.login_page, methods=["GET"]),
        Route("/login", pages.login, methods=["POST"]),
        Route("/logout", guarded(pages.logout), methods=["POST"]),
        Route("/", guarded(pages.today), methods=["GET"]),
        Route("/history", guarded(pages.history), methods=["GET"]),
        Route("/history.csv", guarded(pages.history_csv), methods=["GET"]),
        Route("/templates", guarded(pages.templates), methods=["GET"]),
        Route("/templates/test", guarded(pages.test_send), methods=["POST"]),
        Route("/naver", guarded(pages.naver), methods=["GET"]),
        Route("/naver/cookies", guarded(pages.paste_cookies), methods=["POST"]),
        Route("/optouts", guarded(pages.optouts), methods=["GET"]),
        Route("/optouts/add", guarded(pages.add_optout), methods=["POST"]),
        Route("/optouts/remove", guarded(pages.remove_optout), methods=["POST"]),
        Route("/rehearse", guarded(pages.rehearse_page), methods=["GET"]),
        Route("/rehearse", guarded(pages.rehearse), methods=["POST"]),
        Mount("/static", StaticFiles(directory=_HERE / "static"), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(_SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=session_secret or secrets.token_urlsafe(32),
                session_cookie=auth.SESSION_COOKIE,
                max_age=int(auth.SESSION_IDLE.total_seconds()),
                same_site="strict",
                https_only=secure_cookies,
            ),
        ],
        exception_handlers={Exception: _last_resort},
    )
