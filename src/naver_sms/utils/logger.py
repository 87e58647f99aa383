"""JSON log lines in the seed's "Monitoring and Logging" shape, built on structlog.

Every line is one JSON object::

    {"timestamp": "...Z", "level": "INFO", "message": "...", "operation": "get_booking",
     "context": {"booking_num": "...", "phone_masked": "010-****-5678"},
     "duration_ms": 45.23, "error": "..."}

Keyword arguments other than `operation`, `context`, `duration_ms` and `error`
are folded into `context`, so a careless call cannot break the shape. As a
last line of defence every string is scrubbed: Korean mobile numbers are
masked and values under secret-sounding keys are replaced.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog

from naver_sms.domain.booking import mask_phone

__all__ = ["configure_logging", "get_logger", "logged_operation", "mask_phone"]

_TOP_LEVEL = ("timestamp", "level", "message", "operation", "context", "duration_ms", "error")
# Digits that look like a Korean mobile number anywhere in a string, with or
# without separators or the +82 prefix.
_PHONE_IN_TEXT = re.compile(
    r"(?<![0-9])(?:\+?82[\s\-.]?0?|0)1[016789][\s\-.]?[0-9]{3,4}[\s\-.]?[0-9]{4}(?![0-9])"
)
_SECRET_KEY = re.compile(r"pass(word)?|secret|token|cookie|authorization|credential|api_?key", re.I)
_SAFE_KEY_SUFFIXES = ("_masked", "_count", "_names")


def _scrub_text(text: str) -> str:
    return _PHONE_IN_TEXT.sub(lambda match: mask_phone(match.group(0)), text)


def _scrub(value: Any, key: str = "") -> Any:
    if key and _SECRET_KEY.search(key) and not key.endswith(_SAFE_KEY_SUFFIXES):
        return "***"
    if isinstance(value, str):
        return _scrub_text(value)
    if isinstance(value, dict):
        return {k: _scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v) for v in value]
    return value


def _shape(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Put the event in the seed's shape and order; fold everything else into context."""
    context = dict(event.pop("context", None) or {})
    exc_info = event.pop("exc_info", None)
    shaped: dict[str, Any] = {}
    for key in _TOP_LEVEL:
        if key in event and key != "context":
            shaped[key] = event.pop(key)
    context.update(event)
    if exc_info and "error" not in shaped:
        error = sys.exc_info()[1] if exc_info is True else exc_info
        if isinstance(error, tuple):
            error = error[1]
        if isinstance(error, BaseException):
            shaped["error"] = f"{type(error).__name__}: {error}"
    if shaped.get("duration_ms") is not None:
        shaped["duration_ms"] = round(float(shaped["duration_ms"]), 2)
    ordered = {key: shaped[key] for key in _TOP_LEVEL if key in shaped and key != "context"}
    ordered["context"] = context
    ordered = {key: ordered[key] for key in _TOP_LEVEL if key in ordered}
    return _scrub(ordered)  # type: ignore[no-any-return]


def _upper_level(
    _logger: Any, method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    event["level"] = "WARNING" if method == "warn" else method.upper()
    if event["level"] == "EXCEPTION":
        event["level"] = "ERROR"
    return event


class _StderrLogger:
    """Writes each rendered line to the *current* sys.stderr.

    Looking the stream up per call (rather than once) keeps the CLI's stdout
    clean for `--json` and lets tests capture the lines.
    """

    def msg(self, message: str) -> None:
        stream = sys.stderr
        stream.write(message + "\n")
        stream.flush()

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def _stderr_logger_factory(*_args: Any) -> _StderrLogger:
    return _StderrLogger()


def configure_logging(level: str | int = "INFO") -> None:
    """(Re)configure the JSON logs; `level` is a logging level name or number."""
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}: expected DEBUG, INFO, WARNING or ERROR")
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            _upper_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
            structlog.processors.EventRenamer("message"),
            _shape,
            structlog.processors.JSONRenderer(ensure_ascii=False, default=str),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_stderr_logger_factory,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str | None = None) -> Any:
    """A structlog logger: `log.info("message", operation=..., context={...})`."""
    return structlog.get_logger(name)


@contextmanager
def logged_operation(
    operation: str, message: str, *, logger: Any = None, **context: Any
) -> Iterator[dict[str, Any]]:
    """Times a block and logs one line for it in the seed's shape.

    On success `message` is logged at INFO; on an exception, `"{operation}
    failed"` at ERROR with the error, and the exception goes on. The block may
    add to the yielded dict to put results (a count, found or not) in the
    line's context::

        with logged_operation("get_booking", "Booking retrieved", booking_num=num) as ctx:
            ctx["found"] = item is not None
    """
    log = logger if logger is not None else get_logger()
    results: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        yield results
    except Exception as exc:
        log.error(
            f"{operation} failed",
            operation=operation,
            context={**context, **results},
            duration_ms=(time.perf_counter() - started) * 1000,
            error=f"{type(exc).__name__}: {exc}",
        )
        raise
    log.info(
        message,
        operation=operation,
        context={**context, **results},
        duration_ms=(time.perf_counter() - started) * 1000,
    )


configure_logging()
