"""What can go wrong when talking to Naver, in our words.

The adapters (`booking_api.py`, `auth.py`) translate httpx and Selenium errors
into these at the boundary, so nothing above `naver/` catches a vendor's
exception. No message carries a cookie value, a password or a full phone.
"""

from __future__ import annotations

HEADED_LOGIN_HINT = (
    "run `naver-sms login --headed` on a machine with a screen and finish the login there"
)
CREDENTIALS_HINT = "check NAVER_USERNAME and NAVER_PASSWORD"


class NaverError(Exception):
    """Base of every Naver error."""


class SessionExpired(NaverError):
    """Naver refused the cookies (401, 403, or a redirect to the login page): log in again."""


class BookingApiError(NaverError):
    """The booking API answered something unusable for one store and status.

    The caller reports it and goes on with the other stores.
    """

    def __init__(self, message: str, *, biz_id: str = "", status: str = "") -> None:
        self.biz_id = biz_id
        self.status = status
        self.reason = message
        where = f"store {biz_id}" + (f" {status}" if status else "") if biz_id else ""
        super().__init__(f"{where}: {message}" if where else message)


class NaverThrottled(NaverError):
    """Naver throttles the account (HTTP 429, or HTTP 200 with a
    `BookingAPITooManyRequests` error body): every further request this cycle
    would be refused too, so the cycle stops asking and the next one tries again."""

    def __init__(self, message: str = "Naver throttled the account") -> None:
        super().__init__(message)


class LoginError(NaverError):
    """The browser login did not produce a working session."""


class LoginChallenge(LoginError):
    """Naver wants a person: captcha, new-device check or two-step verification (exit 3)."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"Naver login challenge ({what}): {HEADED_LOGIN_HINT}")


class LoginFailed(LoginError):
    """Naver refused the credentials, or the new cookies do not work with the booking API."""


class BrowserUnavailable(LoginError):
    """Chromium or chromedriver is missing or would not start."""
