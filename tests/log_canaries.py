"""Canaries and output capture for tests that prove nothing private leaves the process.

Reusable by any leak test (one module, one library, a whole cycle):

    canaries = Canaries()
    canaries.register()
    with logging_restored():
        ... run code that logs, prints, posts ...
    assert canaries.leaks(Output(capfd, caplog).read()) == []

`Output` reads file descriptors 1 and 2 (so a child process such as
chromedriver is caught too) and every log record pytest saw, whatever
handler printed it or did not.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import structlog

from naver_sms.utils.logger import VENDOR_LOGGERS
from naver_sms.utils.scrub import register_secrets

__all__ = ["Canaries", "Output", "basic_config", "lambda_like_handler", "logging_restored"]


@dataclass(frozen=True)
class Canaries:
    """Made-up secrets and a made-up phone number, each easy to find in any text."""

    password: str = "pw-CANARY-7f3a9c1e"
    sens_secret: str = "sens-CANARY-51be2d08"
    # The Bot API's token shape (`<bot id>:<key>`), so URL-shaped scrubbing is tested too.
    bot_token: str = "7000000001:CANARY-bot-4e1d9a"
    cookies: tuple[str, ...] = ("aut-CANARY-0c4e91", "ses-CANARY-93ad27")
    phone: str = "01000001234"
    phone_forms: tuple[str, ...] = field(
        default=(
            "01000001234",
            "010-0000-1234",
            "010 0000 1234",
            "0000-1234",
            "00001234",
            "+821000001234",
            "+82 10-0000-1234",
        )
    )

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.password, self.sens_secret, self.bot_token, *self.cookies)

    def register(self) -> None:
        """What the application does when it reads config, cookies and builds the notifier."""
        register_secrets(self.secrets)

    def leaks(self, texts: Mapping[str, str]) -> list[tuple[str, str]]:
        """(where, what) for every canary, or part of one, found in `texts`."""
        found = [
            (where, canary)
            for where, text in texts.items()
            for canary in (*self.secrets, *self.phone_forms)
            if canary in text
        ]
        # Every secret holds "CANARY": a secret cut short or split still shows.
        found += [(where, "CANARY") for where, text in texts.items() if "CANARY" in text]
        return found


class Output:
    """Everything written so far: fd 1 and 2 and the log records pytest captured.

    `read()` accumulates, so a test may read between steps and check all at the end.
    """

    def __init__(self, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
        self._capfd = capfd
        self._caplog = caplog
        self._stdout: list[str] = []
        self._stderr: list[str] = []

    def read(self) -> dict[str, str]:
        captured = self._capfd.readouterr()
        self._stdout.append(captured.out)
        self._stderr.append(captured.err)
        records = self._caplog.records
        return {
            "stdout": "".join(self._stdout),
            "stderr": "".join(self._stderr),
            "log text": self._caplog.text,
            # What any other handler (Lambda's, a file) would be given.
            "log records": "\n".join(
                f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.stack_info or ''}"
                for r in records
            ),
        }


def basic_config(level: int) -> logging.Handler:
    """What `logging.basicConfig(level=...)` does in an application (a plain stderr
    handler on the root), even though pytest's own handlers already sit there and
    would make the real call a no-op."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    return handler


class _LambdaJsonFormatter(logging.Formatter):
    """Like the Lambda Python runtime's JSON log format: it prints the exception's
    own text, its stack and every `extra=` attribute, not `exc_text`."""

    _STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
        }
        if record.exc_info and record.exc_info[0] is not None:
            line["errorType"] = record.exc_info[0].__name__
            line["errorMessage"] = str(record.exc_info[1])
            line["stackTrace"] = traceback.format_tb(record.exc_info[2])
        line |= {k: v for k, v in record.__dict__.items() if k not in self._STANDARD}
        return json.dumps(line, default=str, ensure_ascii=False)


def lambda_like_handler(level: int) -> logging.Handler:
    """A root handler as the Lambda runtime installs before any of our code runs
    (here writing to stdout), with the root at `level` (AWS_LAMBDA_LOG_LEVEL)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_LambdaJsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    return handler


@contextmanager
def logging_restored() -> Iterator[None]:
    """The root logger, the vendor loggers and structlog as they were, after the block."""
    root = logging.getLogger()
    handlers = [(h, h.formatter, list(h.filters)) for h in root.handlers]
    level = root.level
    vendors = {name: logging.getLogger(name).level for name in VENDOR_LOGGERS}
    config = structlog.get_config()
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler, formatter, filters in handlers:
            handler.setFormatter(formatter)
            handler.filters[:] = filters
            root.addHandler(handler)
        root.setLevel(level)
        for name, vendor_level in vendors.items():
            logging.getLogger(name).setLevel(vendor_level)
        structlog.configure(**config)
