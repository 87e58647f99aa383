"""`naver-sms sandbox`: a fake Naver, SENS and Telegram on 127.0.0.1 to try naver-sms on.

An owner tries every step of the real setup (config, session import, dry
run, run, messages) before giving it their Naver login or SENS keys. The
sandbox keeps everything in memory; it writes one file, the cookie export
`naver-sms session import` reads, and prints the `export` lines (on stdout,
everything else on stderr) that point naver-sms at it.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Final

import click

from naver_sms.domain.booking import KST
from naver_sms.domain.messages import MessageKind

# The fakes, YAML and the config's pydantic are imported when a sandbox starts:
# `naver-sms sandbox --help` loads click only (issue 18).
if TYPE_CHECKING:
    from naver_sms.config import AppConfig
    from naver_sms.sandbox.naver import NaverSandbox
    from naver_sms.sandbox.sens import FakeSens, FakeTelegram

__all__ = ["SandboxWorld", "export_lines", "sandbox", "start_world", "write_cookie_file"]

# The example config's first store; more stores follow (5000002, ...), as in `naver-sms init`.
FIRST_STORE: Final = 5_000_001
BOOKINGS_PER_STORE: Final = 12  # six today, six tomorrow, every 7th cancelled
TELEGRAM_CHAT: Final = "1000"
DEFAULT_COOKIES: Final = Path("naver-sandbox-cookies.json")
DEFAULT_DB: Final = Path("naver-sandbox.db")
DEFAULT_OUTBOX: Final = Path("naver-sandbox-outbox.jsonl")
SERVICES: Final = 3  # Naver, SENS, Telegram: --port N takes N, N+1 and N+2


def _live_sandbox_class() -> type[NaverSandbox]:
    """`NaverSandbox` on the real clock; made when a sandbox starts, so that
    `naver-sms sandbox --help` does not import the sandbox (issue 18)."""
    from naver_sms.sandbox.naver import NaverSandbox  # noqa: PLC0415

    class LiveNaverSandbox(NaverSandbox):
        """The sandbox on the real clock: a booking turns completed when its visit ends,
        as on Naver, while a person tries `naver-sms run` now and then."""

        @property
        def now(self) -> datetime:
            return datetime.now(KST)

        @now.setter
        def now(self, value: datetime) -> None:
            raise AttributeError("the sandbox follows the real clock")

    return LiveNaverSandbox


@dataclass(frozen=True, slots=True)
class SandboxWorld:
    """The running fakes and what a person needs to point naver-sms at them."""

    naver: NaverSandbox
    sens: FakeSens
    telegram: FakeTelegram
    stores: tuple[str, ...]
    senders: tuple[str, ...]
    today: date
    user: str
    password: str

    def environment(self, *, db: Path, outbox: Path) -> dict[str, str]:
        """The variables naver-sms reads, as tests/e2e/conftest.py sets them for the CLI."""
        return {
            **self.naver.environment(),
            # Used only when the imported session stops working (after a restart):
            # naver-sms then logs in to the sandbox's form with Chromium.
            "NAVER_USERNAME": self.user,
            "NAVER_PASSWORD": self.password,
            "SENS_ACCESS_KEY": self.sens.access_key,
            "SENS_SECRET_KEY": self.sens.secret_key,
            "SENS_SERVICE_ID": self.sens.service_id,
            "SENS_ALIMTALK_SERVICE_ID": self.sens.alimtalk_service_id,
            "SENS_URL": self.sens.url,
            "TELEGRAM_BOT_TOKEN": self.telegram.token,
            "TELEGRAM_CHAT_ID": TELEGRAM_CHAT,
            "TELEGRAM_API_URL": self.telegram.url,
            # Its own records: fake bookings never mix with the shop's real ones.
            "NAVER_SMS_STORE": "sqlite",
            "NAVER_SMS_DB": str(db),
            "NAVER_SMS_OUTBOX": str(outbox),
        }


def example_config() -> AppConfig:
    """The config `naver-sms init` writes, its AlimTalk section switched on (as the demo)."""
    from naver_sms.demo import demo_config  # noqa: PLC0415

    return demo_config(more_messages=False)


def store_ids(count: int) -> tuple[str, ...]:
    return tuple(str(FIRST_STORE + index) for index in range(count))


@contextmanager
def start_world(*, stores: int, port: int = 0) -> Iterator[SandboxWorld]:
    """Start the three fakes (on `port`, `port + 1`, `port + 2`; 0: free ports)."""
    from naver_sms.config import ConfigError  # noqa: PLC0415
    from naver_sms.sandbox.naver import DEFAULT_USERS  # noqa: PLC0415
    from naver_sms.sandbox.sens import FakeSens, FakeTelegram  # noqa: PLC0415

    config = example_config()
    today = datetime.now(KST).date()
    user, password = next(iter(DEFAULT_USERS.items()))
    senders = tuple(dict.fromkeys(store.sender for store in config.stores))
    # Booking i of a store falls on anchor + (i % days) - 1: today and tomorrow.
    naver = _live_sandbox_class()(
        now=datetime.now(KST),
        stores=dict.fromkeys(store_ids(stores), BOOKINGS_PER_STORE),
        days=2,
        anchor=today + timedelta(days=1),
    )
    sens = FakeSens(senders=senders)
    # Switching on the example config's alimtalk: section works as with a real,
    # approved channel: its templates are approved for every sandbox store.
    for store in config.stores:
        for kind in MessageKind:
            choice = config.alimtalk_template(store, kind)
            if choice is not None:
                sens.approve_template(
                    choice.plus_friend_id, choice.template.code, choice.template.content
                )
    telegram = FakeTelegram()
    with ExitStack() as stack:
        for offset, server in enumerate((naver, sens, telegram)):
            wanted = port + offset if port else 0
            try:
                server.start(port=wanted)
            except OSError as exc:
                raise ConfigError(
                    f"--port {port}: cannot listen on 127.0.0.1:{wanted} ({exc.strerror or exc}); "
                    f"another program (an earlier sandbox?) uses it: stop it, or choose "
                    f"another --port (the sandbox takes {SERVICES} ports from it)"
                ) from None
            stack.callback(server.stop)
        yield SandboxWorld(naver, sens, telegram, store_ids(stores), senders, today, user, password)


def export_lines(environment: Mapping[str, str]) -> list[str]:
    """`export NAME=value` lines a POSIX shell reads back exactly (`eval`, or pasted)."""
    return [f"export {name}={shlex.quote(value)}" for name, value in environment.items()]


def write_cookie_file(path: Path, cookies: Sequence[Mapping[str, Any]]) -> None:
    """The cookies as a browser export, readable by the owner alone (0600): they log in."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # An older file keeps its mode on O_TRUNC: tighten it too.
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(list(cookies), file, indent=2)
        file.write("\n")


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """SIGTERM and Ctrl-C set the event, from before the first line is printed: whoever
    read the exports and stopped the sandbox at once still gets a clean stop."""
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, request_stop) for sig in signals}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _say(text: str = "") -> None:
    click.echo(text, err=True)


@click.command("sandbox")
@click.option(
    "--port",
    type=click.IntRange(0, 65535 - SERVICES + 1),
    default=0,
    show_default="free ports",
    help="The fake Naver's port; the fake SENS and Telegram take the next two. "
    "Fixed ports keep the exports valid when the sandbox restarts.",
)
@click.option(
    "--stores",
    type=click.IntRange(1, 50),
    default=2,
    show_default=True,
    help="How many fake stores (ids 5000001, 5000002, ...: the example config's).",
)
@click.option(
    "--cookies",
    "cookie_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_COOKIES,
    show_default=True,
    help="Where to write the sandbox login's cookies, for `naver-sms session import`.",
)
def sandbox(port: int, stores: int, cookie_path: Path) -> None:
    """Start a fake Naver, SENS (SMS and AlimTalk) and Telegram here, to try naver-sms on.

    Everything is fake and local (127.0.0.1): made-up bookings for today and
    tomorrow, no real customer is ever texted. Prints the `export` lines that
    point naver-sms at the sandbox and writes a cookie file for `naver-sms
    session import`; runs until Ctrl-C or SIGTERM.

    \b
    Example:
      naver-sms sandbox --port 8700
    """
    from naver_sms.config import ConfigError  # noqa: PLC0415

    cookie_path = cookie_path.absolute()
    workdir = Path.cwd()
    with _stop_on_signals() as stop, start_world(stores=stores, port=port) as world:
        try:
            write_cookie_file(cookie_path, world.naver.issue_session())
        except OSError as exc:
            raise ConfigError(
                f"--cookies {cookie_path}: cannot write it ({exc.strerror or exc}); "
                "choose a folder you can write to"
            ) from None
        environment = world.environment(db=workdir / DEFAULT_DB, outbox=workdir / DEFAULT_OUTBOX)
        tomorrow = world.today + timedelta(days=1)
        ids = ", ".join(world.stores)
        _say(
            "naver-sms sandbox: a fake Naver (login and booking API), a fake SENS (SMS and "
            "AlimTalk) and a fake Telegram on 127.0.0.1."
        )
        _say(
            "EVERYTHING HERE IS FAKE AND LOCAL: made-up bookings and numbers, no real customer "
            "is texted, nothing leaves this machine, nothing is kept after it stops."
        )
        _say()
        _say(
            f"stores:   {ids} ({BOOKINGS_PER_STORE} bookings each, "
            f"{world.today:%Y-%m-%d} and {tomorrow:%Y-%m-%d}, from 10:00 KST)"
        )
        _say(
            f"senders:  {', '.join(world.senders)} (registered at the fake SENS: the "
            "example config's, as `naver-sms init` writes them)"
        )
        _say(f"login:    user {world.user}, password {world.password} (the sandbox's Naver)")
        _say(f"cookies:  {cookie_path} (for `naver-sms session import`)")
        _say()
        _say("In another terminal, in this folder, paste these lines:")
        for line in export_lines(environment):
            click.echo(line)
        _say()
        _say("then:")
        if world.stores == tuple(store.id for store in example_config().stores):
            _say("  naver-sms init                  # its stores are the sandbox's")
        else:
            _say(f"  naver-sms init                  # then set its stores' ids: {ids}")
        _say(f"  naver-sms session import {shlex.quote(str(cookie_path))}")
        _say("  naver-sms run --dry-run         # what would go, into the outbox file")
        _say("  naver-sms run                   # sends to the fake SENS")
        _say("  naver-sms messages              # what went, and whether it was delivered")
        _say()
        _say("Running; Ctrl-C stops the sandbox.")
        while not stop.wait(1.0):  # a timeout, so Ctrl-C is seen on every platform
            pass
        texts, alimtalk = len(world.sens.accepted), len(world.sens.accepted_alimtalk)
    _say(f"sandbox stopped: the fake SENS accepted {texts} texts and {alimtalk} AlimTalk.")
