"""JSON log lines in the seed's "Monitoring and Logging" shape, built on structlog.

Every line is one JSON object::

    {"timestamp": "...Z", "level": "INFO", "message": "...", "operation": "get_booking",
     "context": {"booking_num": "...", "phone_masked": "010-****-5678"},
     "duration_ms": 45.23, "error": "..."}

Keyword arguments other than `operation`, `context`, `duration_ms` and `error`
are folded into `context`, so a careless call cannot break the shape. As a
last line of defence every string goes through `utils.scrub`: phone numbers
are masked, registered secret values removed, and values under
secret-sounding keys replaced.

The standard library's logging (botocore, urllib3, httpx, httpcore,
Selenium) is the other way out of the process: at DEBUG botocore writes
request bodies with phone numbers, at INFO httpx writes URLs with the bot
token. `configure_logging` puts one handler of ours on the root logger that
writes those records in the same JSON shape through the same scrubber, keeps
those libraries at WARNING unless the level is DEBUG, and makes handlers
that others put on the root (a `basicConfig`, Lambda's runtime) scrub too.

On a terminal a person reads the lines, not a log collector: there they are
short text at WARNING and above (`warning: store 5000001: stored session was
refused; checking once more`), built from the same scrubbed event, so the
text form hides exactly what the JSON form hides. NAVER_SMS_LOG_FORMAT=json
or text overrides the guess; the Lambda always logs JSON.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any, Final

import structlog
from structlog.stdlib import ProcessorFormatter

from naver_sms.domain.booking import mask_phone
from naver_sms.utils.scrub import REDACTED, scrub, scrub_data

__all__ = [
    "FORMAT_VARIABLE",
    "LEVEL_VARIABLE",
    "VENDOR_LOGGERS",
    "LogFormatError",
    "configure_logging",
    "get_logger",
    "log_format",
    "logged_operation",
    "mask_phone",
]

LEVEL_VARIABLE: Final = "NAVER_SMS_LOG_LEVEL"
FORMAT_VARIABLE: Final = "NAVER_SMS_LOG_FORMAT"
_FORMATS: Final = ("json", "text")
# Set by the Lambda runtime: its logs go to CloudWatch, read by queries, never by eye.
_LAMBDA_VARIABLE: Final = "AWS_LAMBDA_FUNCTION_NAME"
# Chatty below WARNING, and what they say there is request bodies and URLs.
VENDOR_LOGGERS: Final = ("botocore", "urllib3", "httpx", "httpcore", "selenium")

_TOP_LEVEL = ("timestamp", "level", "message", "operation", "context", "duration_ms", "error")
_SECRET_KEY = re.compile(r"pass(word)?|secret|token|cookie|authorization|credential|api_?key", re.I)
_SAFE_KEY_SUFFIXES = ("_masked", "_count", "_names")


def _plain(value: Any, key: str = "") -> Any:
    """JSON-ready data with values under secret-sounding keys replaced.

    Anything that is not JSON already (a URL object, an exception) becomes its
    text here, before scrubbing, so no secret rides through in an object's str().
    """
    if key and _SECRET_KEY.search(key) and not key.endswith(_SAFE_KEY_SUFFIXES):
        return REDACTED
    if isinstance(value, dict):
        return {str(k): _plain(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _text_of(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # an exception whose text itself fails must not lose the line
        return "<exception str() failed>"


def _shape(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Put the event in the seed's shape and order; fold everything else into context."""
    context = dict(event.pop("context", None) or {})
    exc_info = event.pop("exc_info", None)
    event.pop("stack_info", None)
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
            shaped["error"] = f"{type(error).__name__}: {_text_of(error)}"
    if shaped.get("duration_ms") is not None:
        shaped["duration_ms"] = round(float(shaped["duration_ms"]), 2)
    ordered = {key: shaped[key] for key in _TOP_LEVEL if key in shaped and key != "context"}
    ordered["context"] = context
    ordered = {key: ordered[key] for key in _TOP_LEVEL if key in ordered}
    return scrub_data(_plain(ordered))  # type: ignore[no-any-return]


def _upper_level(
    _logger: Any, method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    event["level"] = "WARNING" if method == "warn" else method.upper()
    if event["level"] == "EXCEPTION":
        event["level"] = "ERROR"
    return event


def _from_library(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A standard-library record: which library said it goes into context."""
    record = event.get("_record")
    if isinstance(record, logging.LogRecord):
        event["context"] = {"logger": record.name}
    return event


class LogFormatError(ValueError):
    """NAVER_SMS_LOG_FORMAT holds neither `json` nor `text`."""


def _human_text(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> str:
    """One short line for a person: `warning: store 5000001: what happened (error)`.

    Reads the event `_shape` already scrubbed, so nothing the JSON form hides
    shows here. Only the store and the booking are kept from the context: the
    rest is for log queries, and the JSON form (NAVER_SMS_LOG_FORMAT=json) has it.
    """
    context = event.get("context") or {}
    message = str(event.get("message", ""))
    # A library's record (botocore, Selenium) says which library spoke.
    where = f"{context['logger']}: " if context.get("logger") else ""
    store = context.get("biz_id") or context.get("store") or context.get("shop")
    if store:
        where += f"store {store}: "
    if context.get("booking_num"):
        where += f"booking {context['booking_num']}: "
    line = f"{str(event.get('level', '')).lower()}: {where}{message}"
    if event.get("error"):
        line += f" ({event['error']})"
    return " ".join(line.split())  # one line, whatever a vendor's text held


def _processors(form: str = "json") -> list[Any]:
    renderer = (
        _human_text
        if form == "text"
        else structlog.processors.JSONRenderer(ensure_ascii=False, default=str)
    )
    return [
        _upper_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        structlog.processors.EventRenamer("message"),
        _shape,
        renderer,
    ]


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


def _scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    """The record's text scrubbed in place, whatever formatter or handler later reads it.

    The message is rendered here (msg % args), so a secret or a phone split
    between the format and its arguments is still seen whole; the exception
    text is rendered too, because formatters print `exc_text` when it is set.
    Idempotent, so a record may pass here more than once.
    """
    if record.args or not isinstance(record.msg, str):
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the text, not the arguments
            message = f"{record.msg} (unformattable log arguments left out)"
        record.msg, record.args = message, ()
    record.msg = scrub(record.msg)
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)
    return record


class _ScrubFilter(logging.Filter):
    """Scrubs every record a foreign handler is given (one added before our factory was)."""

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub_record(record)
        return True


class _ScrubbingFormatter(logging.Formatter):
    """Another handler's formatter, with its finished text scrubbed.

    Some formatters read the exception itself rather than `exc_text` (Lambda's
    JSON formatter prints `str(exc)`) or print `extra=` attributes; scrubbing
    the final text catches what they add.
    """

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return scrub(self.inner.format(record))


class _JsonStderrHandler(logging.Handler):
    """The root handler of ours: the project's JSON lines on the current sys.stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            stream = sys.stderr
            stream.write(line + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


_factory_lock = threading.Lock()
_factory_installed: list[bool] = []  # one entry once installed: a process-wide fact


def _install_record_scrubber() -> None:
    """Every LogRecord is scrubbed when it is made, before any handler sees it.

    A handler added after `configure_logging` (a later `basicConfig(force=True)`,
    a handler on a library's own logger) gets scrubbed records too. The
    factory that was there is kept and called first.
    """
    with _factory_lock:
        if _factory_installed:
            return
        previous = logging.getLogRecordFactory()

        def scrubbing_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            try:
                return _scrub_record(record)
            except Exception as exc:  # a log call must never raise; nor print unscrubbed
                record.msg, record.args = f"log record withheld ({type(exc).__name__})", ()
                record.exc_info = record.exc_text = record.stack_info = None
                return record

        logging.setLogRecordFactory(scrubbing_factory)
        _factory_installed.append(True)


def _level_number(level: str | int | None) -> int:
    if level is None:
        level = os.environ.get(LEVEL_VARIABLE) or "INFO"
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}: expected DEBUG, INFO, WARNING or ERROR")
    return numeric


def log_format(value: str | None = None, *, environ: Mapping[str, str] | None = None) -> str:
    """`json` or `text`: `value`, else NAVER_SMS_LOG_FORMAT, else text only on a terminal.

    Lambda, systemd and pipes are not terminals, so they get JSON without a
    setting; in a Lambda the answer is JSON whatever the setting says.
    """
    env = os.environ if environ is None else environ
    if env.get(_LAMBDA_VARIABLE):
        return "json"  # checked first: a typo in the setting must not stop the function
    chosen = (value if value is not None else env.get(FORMAT_VARIABLE, "")).strip().lower()
    if chosen and chosen not in _FORMATS:
        raise LogFormatError(
            f"{FORMAT_VARIABLE}={chosen!r} is not a log format: "
            "write json (log collectors) or text (a person), or leave it unset"
        )
    if chosen:
        return chosen
    return "text" if _stderr_is_terminal() else "json"


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def _configure_structlog(numeric: int, form: str = "json") -> None:
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, *_processors(form)],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_stderr_logger_factory,
        cache_logger_on_first_use=False,
    )


def _configure_root(numeric: int, form: str = "json") -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _JsonStderrHandler):
            root.removeHandler(handler)  # reconfigured: replaced, never doubled
            continue
        if not any(isinstance(f, _ScrubFilter) for f in handler.filters):
            handler.addFilter(_ScrubFilter())
        if not isinstance(handler.formatter, _ScrubbingFormatter):
            handler.setFormatter(_ScrubbingFormatter(handler.formatter or logging.Formatter()))
    ours = _JsonStderrHandler(numeric)
    ours.setFormatter(
        ProcessorFormatter(
            foreign_pre_chain=[_from_library],
            processors=[ProcessorFormatter.remove_processors_meta, *_processors(form)],
        )
    )
    ours.addFilter(_ScrubFilter())
    root.addHandler(ours)
    root.setLevel(numeric)
    # A library logger's own level decides for its records wherever they
    # propagate, so these stay quiet even under a root someone set to DEBUG.
    vendor_level = numeric if numeric <= logging.DEBUG else max(numeric, logging.WARNING)
    for name in VENDOR_LOGGERS:
        logging.getLogger(name).setLevel(vendor_level)


def configure_logging(level: str | int | None = None, *, form: str | None = None) -> str:
    """(Re)configure the logs, ours and the standard library's; the format chosen.

    `level` is a logging level name or number; None reads NAVER_SMS_LOG_LEVEL
    (default INFO). Only DEBUG lets botocore, urllib3, httpx, httpcore and
    Selenium below WARNING, and even then every line is scrubbed. `form` is
    `json` or `text`; None decides as `log_format` does. In text form a
    person is reading: INFO stays hidden unless NAVER_SMS_LOG_LEVEL asks for
    it by name or `level` is DEBUG. Raises LogFormatError for a bad
    NAVER_SMS_LOG_FORMAT.
    """
    numeric = _level_number(level)
    chosen = log_format(form)
    if chosen == "text" and numeric > logging.DEBUG and not os.environ.get(LEVEL_VARIABLE):
        numeric = max(numeric, logging.WARNING)
    _install_record_scrubber()
    _configure_structlog(numeric, chosen)
    _configure_root(numeric, chosen)
    return chosen


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


# Lines logged before an entry point configures (module imports) keep the
# shape and the scrubbing; the root logger is left to configure_logging.
_install_record_scrubber()
_configure_structlog(logging.INFO)
