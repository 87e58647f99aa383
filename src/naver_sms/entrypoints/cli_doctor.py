"""`naver-sms doctor`: every part a setup needs, checked, one line each.

Each check says `ok`, `FAIL` (with what to do) or `skip` (not used by this
setup, or not checkable until an earlier check passes). Nothing is sent and
nothing is written: the SENS keys are checked with a signed read (the 080
list; for AlimTalk the result of a message id that does not exist), the
Naver session with the one request a cycle checks it with. No secret, cookie
value or full phone number is printed. Exit codes: 0 every check passed
(skips pass), 1 a check failed, 2 the environment itself is unreadable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Final, Literal

import click

from naver_sms.domain.booking import KST
from naver_sms.domain.messages import Channel
from naver_sms.domain.session import SessionValidationError
from naver_sms.messaging.base import SendFailed
from naver_sms.naver.errors import NaverError
from naver_sms.report import EXIT_FAILURE, EXIT_USAGE
from naver_sms.utils.scrub import scrub

# The settings' pydantic, the stores, SENS, Telegram and Jinja2 are imported by
# the checks that use them: `naver-sms doctor --help` loads click only (issue 18).
if TYPE_CHECKING:
    from naver_sms.config import AppConfig, Settings, StoreConfig

__all__ = ["doctor", "sender_problem"]

Status = Literal["ok", "FAIL", "skip"]

# Korean caller numbers SENS registers: an area or mobile number (0 and 8-11
# more digits: 02, 031, 010, 070, 0505...), or a company's 8-digit number
# (15xx, 16xx, 18xx).
_CALLER_NUMBER: Final = re.compile(r"0\d{8,11}|1[5-8]\d{6}")
# An id SENS never gave: looking it up answers "no result" with good keys.
_KEYS_HINT: Final = (
    "copy SENS_ACCESS_KEY and SENS_SECRET_KEY from the Ncloud console "
    "(My Page > Authentication Key), and SENS_SERVICE_ID from the SENS project"
)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    detail: str

    def line(self) -> str:
        # A vendor's words may echo a number or a key: scrubbed like every error line.
        return f"{self.status:<4}  {self.name}: {scrub(self.detail)}"


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def fail(name: str, detail: str) -> Check:
    return Check(name, "FAIL", detail)


def skip(name: str, detail: str) -> Check:
    return Check(name, "skip", detail)


@dataclass
class _Setup:
    """What earlier checks found, for the checks that need it."""

    settings: Settings
    config: AppConfig | None = None
    records_ready: bool = False
    sens_ready: bool = False
    done: list[Check] = field(default_factory=list)


def masked_number(digits: str) -> str:
    """A store's number with its middle hidden: `02-****-0000` style, digits only."""
    if len(digits) <= 8:
        return f"{digits[:4]}-****"
    area = 2 if digits.startswith("02") else 3  # Seoul's code is the one of two digits
    return f"{digits[:area]}-{'*' * (len(digits) - area - 4)}-{digits[-4:]}"


def sender_problem(sender: str) -> str | None:
    """Why `sender` (digits) cannot be a Korean caller number SENS registers, or None."""
    if _CALLER_NUMBER.fullmatch(sender):
        return None
    return (
        "not a Korean caller number: expected an area or mobile number (02-..., 031-..., "
        "010-...) or a 15xx/16xx/18xx number, as registered in the SENS console "
        "(Calling Number)"
    )


# --- the checks, in the order a setup is done -----------------------------------------------


def _config(setup: _Setup) -> Iterator[Check]:
    from naver_sms.config import ConfigError, load_app_config  # noqa: PLC0415
    from naver_sms.messaging.templates import check_templates  # noqa: PLC0415

    path = setup.settings.config_path
    try:
        config = load_app_config(path)
    except ConfigError as exc:
        yield fail("config", str(exc))
        return
    rows = check_templates(config)
    problems = [
        problem
        if row.channel is Channel.ALIMTALK
        else f"template {row.kind} of store {row.store.id}: {problem}"
        for row in rows
        for problem in row.problems
    ]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        yield fail(
            "config",
            f"{path}: {problems[0]}{more}; `naver-sms templates check` shows every text",
        )
        return
    setup.config = config
    yield ok("config", f"{path}: {len(config.stores)} stores, {len(rows)} texts render")


def _senders(setup: _Setup) -> Iterator[Check]:
    if setup.config is None:
        yield skip("sender numbers", "needs a config that loads")
        return
    for store in setup.config.stores:
        name = f"sender of store {store.id} ({store.name})"
        problem = sender_problem(store.sender)
        shown = masked_number(store.sender)
        if problem is None:
            yield ok(name, f"{shown} (SENS says whether it is registered: `naver-sms send-test`)")
        else:
            yield fail(name, f"{shown}: {problem}")


def _records(setup: _Setup) -> Iterator[Check]:
    from naver_sms import bootstrap  # noqa: PLC0415
    from naver_sms.config import ConfigError  # noqa: PLC0415

    try:
        detail = bootstrap.check_records_store(setup.settings)
    except ConfigError as exc:
        yield fail("database", str(exc))
        return
    setup.records_ready = True
    yield ok("database", detail)


def _first_store(config: AppConfig) -> StoreConfig:
    return config.stores[0]


def _session(setup: _Setup) -> Iterator[Check]:
    from naver_sms import bootstrap  # noqa: PLC0415

    name = "Naver session"
    if not setup.records_ready or setup.config is None:
        yield skip(name, "needs the config and the database")
        return
    settings = setup.settings
    try:
        with bootstrap.session_repository(settings) as sessions:
            stored = sessions.get_session()
        cookies = stored.get_cookies_list() if stored is not None else None
    except SessionValidationError as exc:
        yield fail(name, f"the stored session cannot be read ({exc}): run `naver-sms login`")
        return
    if not cookies:
        yield fail(
            name,
            "no session stored: run `naver-sms login` "
            "(or `naver-sms session import FILE` with a logged-in browser's cookies)",
        )
        return
    store = _first_store(setup.config)
    today = datetime.now(KST).date()
    try:
        with bootstrap.build_booking_api(settings) as api:
            accepted = api.check_session(cookies, store.id, today)
    except NaverError as exc:
        yield fail(name, f"Naver could not be asked ({exc}); check NAVER_BOOKING_URL")
        return
    if not accepted:
        yield fail(
            name,
            f"Naver refused the stored cookies for store {store.id}: run "
            "`naver-sms login --headed` (or `naver-sms session import FILE`)",
        )
        return
    yield ok(name, f"Naver accepts the {len(cookies)} stored cookies (store {store.id})")


def _sens(setup: _Setup) -> Iterator[Check]:
    from naver_sms import bootstrap  # noqa: PLC0415

    name = "SENS keys"
    settings = setup.settings
    keys = (settings.sens_access_key, settings.sens_secret_key, settings.sens_service_id)
    if not any(keys):
        yield fail(name, f"not set: no text can be sent; {_KEYS_HINT}")
        return
    if not all(keys):
        yield fail(
            name,
            f"SENS_ACCESS_KEY, SENS_SECRET_KEY and SENS_SERVICE_ID: {sum(map(bool, keys))} of "
            f"3 set; {_KEYS_HINT}",
        )
        return
    try:
        with bootstrap.sens(settings) as sens:
            listed = sens.opted_out()
    except SendFailed as exc:
        yield fail(name, _sens_refusal(exc, "SENS_SERVICE_ID", settings.sens_service_id))
        return
    setup.sens_ready = True
    yield ok(
        name,
        f"SENS accepts them (service {settings.sens_service_id}; "
        f"{len(listed)} numbers on its 080 opt-out list)",
    )


def _sens_refusal(exc: SendFailed, variable: str, service_id: str | None) -> str:
    if exc.status in (401, 403):
        return f"SENS refused them (HTTP {exc.status}: {exc.reason}); {_KEYS_HINT}"
    if exc.status == 404:
        return (
            f"{variable} {service_id}: SENS knows no such service ({exc.reason}); "
            "copy the id from the SENS console (Project)"
        )
    return f"SENS could not be asked ({exc}); try again, or check SENS_URL"


def _alimtalk(setup: _Setup) -> Iterator[Check]:
    from naver_sms import bootstrap  # noqa: PLC0415
    from naver_sms.config import ConfigError, require_alimtalk_service  # noqa: PLC0415
    from naver_sms.messaging.sens import SensApi  # noqa: PLC0415

    name = "AlimTalk"
    if setup.config is None:
        yield skip(name, "needs a config that loads")
        return
    if not setup.config.uses_alimtalk():
        yield skip(name, "the config sends no AlimTalk (alimtalk: in the config)")
        return
    settings = setup.settings
    try:
        require_alimtalk_service(settings, setup.config)
    except ConfigError as exc:
        yield fail(name, str(exc))
        return
    if not setup.sens_ready:
        yield skip(name, "needs SENS keys that work (above)")
        return
    with ExitStack() as stack:
        sender = bootstrap.build_alimtalk_sender(settings, setup.config)
        close: Callable[[], object] | None = getattr(sender, "close", None)
        if close is not None:
            stack.callback(close)
        service = settings.sens_alimtalk_service_id
        try:
            if isinstance(sender, SensApi):
                sender.probe()
        except SendFailed as exc:
            yield fail(name, _sens_refusal(exc, "SENS_ALIMTALK_SERVICE_ID", service))
            return
    yield ok(name, f"SENS accepts service {service}")


def _browser(setup: _Setup) -> Iterator[Check]:
    name = "browser"
    settings = setup.settings
    if settings.naver_username is None or settings.naver_password is None:
        yield skip(
            name,
            "NAVER_USERNAME/NAVER_PASSWORD not set: an expired session waits for "
            "`naver-sms login --headed` or `naver-sms session import`",
        )
        return
    from naver_sms.naver.auth import find_browser  # noqa: PLC0415

    try:
        chromium, driver = find_browser(settings.chrome_bin, settings.chromedriver_bin)
    except NaverError as exc:
        yield fail(name, f"{exc}: an expired session cannot be renewed here")
        return
    yield ok(name, f"{chromium} and {driver} log in when the session expires")


def _telegram(setup: _Setup) -> Iterator[Check]:
    from naver_sms.messaging.telegram import TelegramNotifier, TelegramUnusable  # noqa: PLC0415

    name = "Telegram"
    settings = setup.settings
    token, chat = settings.telegram_bot_token, settings.telegram_chat_id
    if token is None and not chat:
        yield skip(name, "TELEGRAM_BOT_TOKEN not set: no alerts (optional)")
        return
    if token is None or not chat:
        missing = "TELEGRAM_CHAT_ID" if token is not None else "TELEGRAM_BOT_TOKEN"
        yield fail(name, f"{missing} not set: alerts need the bot token and the chat id")
        return
    notifier = TelegramNotifier(token=token, chat_id=chat, base_url=settings.telegram_api_url)
    try:
        yield ok(name, notifier.check())
    except TelegramUnusable as exc:
        yield fail(name, str(exc))
    finally:
        notifier.close()


CHECKS: Final[tuple[Callable[[_Setup], Iterator[Check]], ...]] = (
    _config,
    _senders,
    _records,
    _session,
    _sens,
    _alimtalk,
    _browser,
    _telegram,
)


def run_checks(settings: Settings, on_check: Callable[[Check], None]) -> list[Check]:
    """Every check in order, each given to `on_check` as soon as it is made."""
    setup = _Setup(settings)
    for check in CHECKS:
        for result in check(setup):
            setup.done.append(result)
            on_check(result)
    return setup.done


@click.command("doctor")
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Check the setup: config, database, Naver session, SENS, AlimTalk, Telegram.

    One line per check: `ok`, `FAIL` with what to do, or `skip` (not used
    here). Sends nothing and changes nothing. Exit 0 when nothing failed.

    \b
    Example (the config `naver-sms init` writes, in this folder):
      naver-sms init && naver-sms create-tables && naver-sms doctor
    """
    from naver_sms import bootstrap  # noqa: PLC0415
    from naver_sms.config import Settings  # noqa: PLC0415
    from naver_sms.utils.logger import configure_logging  # noqa: PLC0415

    settings = ctx.find_object(Settings) or bootstrap.load_settings()
    # The lines say what each check found; the adapters' JSON logs would drown them.
    if settings.log_level != "DEBUG":
        configure_logging("CRITICAL")
    try:
        results = run_checks(settings, lambda check: click.echo(check.line()))
    finally:
        configure_logging(settings.log_level)
    failed = [check for check in results if check.status == "FAIL"]
    if failed:
        click.echo(f"{len(failed)} of {len(results)} checks failed: fix the FAIL lines above")
        # A config file that does not load is the owner's mistake to fix, as in every command.
        ctx.exit(EXIT_USAGE if any(check.name == "config" for check in failed) else EXIT_FAILURE)
    click.echo(f"all {len(results)} checks passed")
