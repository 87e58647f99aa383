"""The operator's Telegram chat (Bot API `sendMessage`): cycle summaries and alerts.

A notifier failure is logged and swallowed: the chat is a convenience, the
cycle's result must not depend on it. The bot token is part of the URL, so it
is registered with `utils.scrub` when the notifier is built, and every text
that leaves here (the chat message, a logged error) goes through `scrub`.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Final

import httpx
from pydantic import SecretStr

from naver_sms.utils.http import HttpAdapter
from naver_sms.utils.logger import get_logger
from naver_sms.utils.scrub import REDACTED, register_secret, scrub

DEFAULT_API_URL: Final = "https://api.telegram.org"
MAX_TEXT: Final = 4096  # Bot API limit for one message
MAX_LISTED: Final = 10

log = get_logger(__name__)

REPEAT_ALERTS_AFTER: Final = 6 * 3600.0  # seconds before the same alert is posted again
# (API URL, chat, alert text) -> when this process last posted it
_LAST_ALERTS: dict[tuple[str, str, str], float] = {}
_ALERTS_LOCK = threading.Lock()


def format_summary(report: Mapping[str, Any]) -> str:
    """A short chat text of a cycle report (the `run --json` shape), scrubbed.

    A dry run says so on its first line and counts what it *would* send: the
    owner reading "sent 4" would believe four customers got a text.
    """
    sent = list(report.get("sent") or [])
    failed = list(report.get("failed") or [])
    invalid = list(report.get("invalid") or [])
    dry_run = bool(report.get("dry_run")) or any(item.get("dry_run") for item in sent)
    title = "DRY RUN (nothing was sent): naver-sms cycle" if dry_run else "naver-sms cycle"
    lines = [f"{title} {report.get('now', '')}".rstrip()]
    counts = Counter(str(item.get("kind", "?")) for item in sent)
    by_kind = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
    verb = "would send" if dry_run else "sent"
    lines.append(f"{verb} {len(sent)}" + (f" ({by_kind})" if by_kind else ""))
    if failed:
        lines.append(f"failed {len(failed)}:")
        lines += [
            f"- {f.get('booking_num', '?')} {f.get('kind', '?')}: {f.get('error', '')}"
            for f in failed[:MAX_LISTED]
        ]
        if len(failed) > MAX_LISTED:
            lines.append(f"- ... and {len(failed) - MAX_LISTED} more")
    undelivered = list(report.get("undelivered") or [])
    delivered = list(report.get("delivered") or [])
    if undelivered:
        # A text that never reached the phone: the owner may want to call the customer.
        lines.append(f"not delivered {len(undelivered)}:")
        lines += [
            f"- {u.get('booking_num', '?')} {u.get('phone_masked', '')} "
            f"{u.get('kind', '?')}: {u.get('result', '')}"
            for u in undelivered[:MAX_LISTED]
        ]
        if len(undelivered) > MAX_LISTED:
            lines.append(f"- ... and {len(undelivered) - MAX_LISTED} more")
    if delivered:
        lines.append(f"delivered {len(delivered)}")
    if invalid:
        lines.append(f"invalid bookings {len(invalid)}")
    if "stores" in report or "bookings" in report:
        lines.append(f"stores {report.get('stores', '?')}, bookings {report.get('bookings', '?')}")
    return scrub("\n".join(lines))


class TelegramUnusable(Exception):
    """The bot token or the chat does not work: one line saying which and what to do."""


def _result(response: httpx.Response) -> dict[str, object] | None:
    """The Bot API's `result` object of a successful answer, else None."""
    try:
        data = response.json()
    except ValueError:
        return None
    if response.status_code != 200 or not isinstance(data, dict) or data.get("ok") is not True:
        return None
    result = data.get("result")
    return result if isinstance(result, dict) else None


def _description(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    text = data.get("description") if isinstance(data, dict) else None
    return scrub(str(text)[:120]) if text else f"HTTP {response.status_code}"


class TelegramNotifier(HttpAdapter):
    """Posts to one chat. A 429 waits the `retry_after` Telegram asks for, within bounds."""

    def __init__(
        self,
        *,
        token: str | SecretStr,
        chat_id: str,
        base_url: str = DEFAULT_API_URL,
        client: httpx.Client | None = None,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 3,
        max_wait: float = 30.0,
        repeat_alerts_after: float = REPEAT_ALERTS_AFTER,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._token = SecretStr(token) if isinstance(token, str) else token
        register_secret(self._token)
        self.chat_id = chat_id
        super().__init__(base_url, client, timeout)
        self._sleep = sleep
        self._max_attempts = max_attempts
        self._max_wait = max_wait
        self._repeat_alerts_after = repeat_alerts_after
        self._monotonic = monotonic

    def __repr__(self) -> str:
        return f"TelegramNotifier(chat_id={self.chat_id!r}, base_url={self.base_url!r})"

    def summary(self, report: Mapping[str, Any]) -> bool:
        """Posts the report when the cycle sent or failed anything, or a message was not
        delivered; a quiet cycle stays quiet (deliveries alone do not post)."""
        if not any(report.get(key) for key in ("sent", "failed", "undelivered")):
            return False
        return self.post(format_summary(report))

    def alert(self, text: str, *, every: timedelta | None = None) -> bool:
        """Posts an alert, but the same alert at most once per `every`
        (`repeat_alerts_after` seconds when None).

        A condition that needs a person (a login challenge, no session, a
        sender number SENS refuses) stays true cycle after cycle; every five
        minutes the owner would get the same message. The memory is per
        process: `serve` remembers for its life, a warm Lambda for its
        container's.
        """
        now = self._monotonic()
        quiet = self._repeat_alerts_after if every is None else every.total_seconds()
        key = (self.base_url, self.chat_id, text)
        with _ALERTS_LOCK:
            last = _LAST_ALERTS.get(key)
            if last is not None and now - last < quiet:
                log.info(
                    "Alert not repeated",
                    operation="telegram_alert",
                    context={"since_s": round(now - last)},
                )
                return False
        posted = self.post(f"naver-sms alert: {text}")
        if posted:
            with _ALERTS_LOCK:
                _LAST_ALERTS[key] = now
        return posted

    def check(self) -> str:
        """The bot's name and its chat, read only (`getMe`, `getChat`): nothing is posted.

        Raises `TelegramUnusable` when the token or the chat do not work. The
        token is in the URL, so no error here names the URL.
        """
        base = f"{self.base_url}/bot{self._token.get_secret_value()}"
        try:
            me = self._client.get(f"{base}/getMe", timeout=self._timeout)
            if me.status_code in (401, 404):
                raise TelegramUnusable(
                    f"Telegram refused the bot token (HTTP {me.status_code}); copy "
                    "TELEGRAM_BOT_TOKEN from @BotFather"
                )
            bot = _result(me)
            if bot is None:
                raise TelegramUnusable(f"getMe answered HTTP {me.status_code}: {_description(me)}")
            chat = self._client.get(
                f"{base}/getChat", params={"chat_id": self.chat_id}, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise TelegramUnusable(
                f"Telegram not reached ({type(exc).__name__}); check TELEGRAM_API_URL"
            ) from None
        name = f"bot @{bot.get('username', '?')}"
        if _result(chat) is None:
            raise TelegramUnusable(
                f"{name} cannot reach chat {self.chat_id} ({_description(chat)}): send the "
                "bot /start or add it to the group, and check TELEGRAM_CHAT_ID"
            )
        return f"{name} reaches chat {self.chat_id}"

    def post(self, text: str) -> bool:
        """True when Telegram took the message; False (logged) otherwise. Never raises."""
        text = scrub(text)
        if len(text) > MAX_TEXT:
            text = text[: MAX_TEXT - 1] + "…"
        try:
            return self._post(text)
        except Exception as exc:  # a notifier must never fail the caller
            self._failed(f"{type(exc).__name__}: {self._scrub(str(exc))}")
            return False

    def _post(self, text: str) -> bool:
        url = f"{self.base_url}/bot{self._token.get_secret_value()}/sendMessage"
        payload = {"chat_id": self.chat_id, "text": text, "disable_web_page_preview": True}
        for attempt in range(1, self._max_attempts + 1):
            try:
                response = self._client.post(url, json=payload, timeout=self._timeout)
            except httpx.TimeoutException:
                self._failed(f"no answer within {self._timeout:g} s")
                return False
            except httpx.TransportError as exc:
                self._failed(f"unreachable ({type(exc).__name__})")
                return False
            if response.status_code == 200:
                log.info(
                    "Operator notified",
                    operation="telegram_send",
                    context={"chars": len(text), "attempts": attempt},
                )
                return True
            data = self._json(response)
            description = self._scrub(str(data.get("description") or response.reason_phrase))
            if response.status_code == 429 and attempt < self._max_attempts:
                wait = self._retry_after(data)
                if wait is not None and wait <= self._max_wait:
                    log.warning(
                        "Telegram rate limit: waiting",
                        operation="telegram_send",
                        context={"retry_after": wait, "attempt": attempt},
                    )
                    self._sleep(wait)
                    continue
            self._failed(f"HTTP {response.status_code}: {description}")
            return False
        return False  # pragma: no cover - the loop returns on its last attempt

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _retry_after(data: Mapping[str, Any]) -> float | None:
        parameters = data.get("parameters")
        value = parameters.get("retry_after") if isinstance(parameters, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value)
        return None

    def _scrub(self, text: str) -> str:
        token = self._token.get_secret_value()
        if token:  # also by hand: a token under 6 characters is too short to register
            text = text.replace(token, REDACTED)
        return scrub(text)

    def _failed(self, error: str) -> None:
        log.error(
            "Operator notification failed",
            operation="telegram_send",
            context={"chat_id": self.chat_id},
            error=error,
        )
