"""The `naver-sms` command (also `python -m naver_sms`).

Every user error is one line on stderr and a non-zero exit (2 for usage and
configuration, 1 for failures); `--debug` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import ExitStack
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import click

from naver_sms import __version__

# Only click and the command tree are imported here, so `naver-sms --help` and
# `naver-sms <command> --help` start fast (issue 18): the config's pydantic,
# httpx, boto3, rich, jinja2 and the sandbox are imported by the code that
# uses them, when a command runs.
if TYPE_CHECKING:
    from rich.console import Console

    from naver_sms.config import AppConfig, Settings
    from naver_sms.demo import DemoDay, DemoWorld
    from naver_sms.report import CycleReport

DEFAULT_CONFIG_PATH = "naver-sms.yaml"


def settings_of(ctx: click.Context) -> Settings:
    from naver_sms.config import Settings  # noqa: PLC0415 - loaded by the group already

    settings = ctx.find_object(Settings)
    if settings is None:  # pragma: no cover - the group always sets it
        raise click.UsageError("settings were not loaded")
    return settings


# The subcommands kept in modules of their own: imported when invoked or when
# their own help is shown. The group's help lists them by these texts (each
# command's first help paragraph; tests/e2e/test_startup_imports.py keeps them
# equal), so listing them imports none.
LAZY_COMMANDS: Final[Mapping[str, tuple[str, str]]] = {
    "templates": (
        "naver_sms.entrypoints.cli_templates:templates",
        "Check and preview the message templates of the config file.",
    ),
    "login": (
        "naver_sms.entrypoints.cli_session:login",
        "Log in to Naver with Chromium and save the session cookies.",
    ),
    "session": (
        "naver_sms.entrypoints.cli_session:session",
        "The stored Naver session (login cookies): import, show masked, clear.",
    ),
    "optouts": (
        "naver_sms.entrypoints.cli_optouts:optouts",
        "List the numbers that opted out of advertising (SENS's 080 list), masked.",
    ),
    "messages": (
        "naver_sms.entrypoints.cli_messages:messages",
        "List the messages sent on a day, newest first, with their delivery status.",
    ),
    "doctor": (
        "naver_sms.entrypoints.cli_doctor:doctor",
        "Check the setup: config, database, Naver session, SENS, AlimTalk, Telegram.",
    ),
    "send-test": (
        "naver_sms.entrypoints.cli_send_test:send_test",
        "Send one store's message, for a made-up booking, to NUMBER, through SENS.",
    ),
    "sandbox": (
        "naver_sms.entrypoints.cli_sandbox:sandbox",
        "Start a fake Naver, SENS (SMS and AlimTalk) and Telegram here, to try naver-sms on.",
    ),
    "config": ("naver_sms.entrypoints.cli_config:config_group", "Work with the config file."),
    "web": (
        "naver_sms.entrypoints.cli_web:web",
        "Serve the owner's page (Korean): today's bookings, history, texts, login, opt-outs.",
    ),
}


class LazyCommands(MutableMapping[str, click.Command]):
    """A group's commands by name; one named by "module:attr" is imported when looked up.

    A mapping, not click's documented LazyGroup alone, so code that walks
    `cli.commands` (the docs' and the help's tests) still sees every command.
    """

    def __init__(self, lazy: Mapping[str, tuple[str, str]]) -> None:
        self._lazy = dict(lazy)
        self._loaded: dict[str, click.Command] = {}

    def short_help(self, name: str) -> str | None:
        """The listed help of a command not imported yet, else None."""
        return self._lazy[name][1] if name in self._lazy and name not in self._loaded else None

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            module, _, attr = self._lazy[name][0].partition(":")
            command = getattr(importlib.import_module(module), attr)
            if not isinstance(command, click.Command):  # pragma: no cover - a typo in the table
                raise TypeError(f"{module}:{attr} is not a click command")
            self._loaded[name] = command
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if self._loaded.pop(name, None) is None and self._lazy.pop(name, None) is None:
            raise KeyError(name)
        self._lazy.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._loaded, *self._lazy]))

    def __len__(self) -> int:
        return len(self._loaded.keys() | self._lazy.keys())


class LazyGroup(click.Group):
    """A group whose help lists its lazy commands without importing them."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        # `naver-sms <command> --help` only shows a text: the group's callback then
        # skips loading the settings and the logging (pydantic, structlog).
        end = rest.index("--") if "--" in rest else len(rest)
        ctx.meta["help_only"] = any(arg in ctx.help_option_names for arg in rest[:end])
        return name, command, rest

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            commands = self.commands
            listed = commands.short_help(name) if isinstance(commands, LazyCommands) else None
            # A stand-in carrying the listed text: click shortens it as it would the real help.
            command = click.Command(name, help=listed) if listed else self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command))
        if not rows:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in rows)
        with formatter.section("Commands"):
            formatter.write_dl(
                [(name, command.get_short_help_str(limit)) for name, command in rows]
            )


@click.group(
    cls=LazyGroup,
    commands=LazyCommands(LAZY_COMMANDS),
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="naver-sms")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Texts every Naver Smart Place booking: confirmation, guide, event; each once.

    \b
    Example:
      naver-sms create-tables
    """
    ctx.meta["debug"] = debug
    if ctx.meta.get("help_only"):
        return
    from naver_sms import bootstrap  # noqa: PLC0415 - the settings' pydantic: only to run
    from naver_sms.config import ConfigError  # noqa: PLC0415
    from naver_sms.utils.logger import LogFormatError, configure_logging  # noqa: PLC0415

    settings = bootstrap.load_settings()
    try:
        ctx.meta["log_format"] = configure_logging(settings.log_level)
    except LogFormatError as exc:
        raise ConfigError(str(exc)) from None
    ctx.obj = settings


@cli.command()
@click.option(
    "--web",
    "with_web",
    is_flag=True,
    help="Then serve the owner's page on the day just played, until Ctrl-C "
    "(needs NAVER_SMS_WEB_PASSWORD).",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8080,
    show_default=True,
    help="With --web: the page's port on 127.0.0.1.",
)
@click.pass_context
def demo(ctx: click.Context, with_web: bool, port: int) -> None:
    """Play one simulated day against the bundled sandbox (no account, no network).

    Starts a fake Naver and a fake SENS on 127.0.0.1 with a temporary SQLite
    file and the example config, then runs the real cycle at 09:00, 12:00,
    13:10 and 20:10 KST (and 20:10 again, to show nothing goes twice).
    With --web the owner's page then shows that day until Ctrl-C.

    \b
    Examples:
      naver-sms demo
      NAVER_SMS_WEB_PASSWORD='a long password' naver-sms demo --web
    """
    from naver_sms.entrypoints.cli_web import page_password  # noqa: PLC0415

    password = page_password(ctx, settings_of(ctx), with_web, ("port",))

    from naver_sms.demo import DEMO_STORES, played_day  # noqa: PLC0415 - starts servers when used
    from naver_sms.entrypoints.cli_view import console, print_report  # noqa: PLC0415
    from naver_sms.utils.logger import configure_logging  # noqa: PLC0415

    configure_logging("ERROR")  # the tables tell the story; JSON lines would drown them
    out = console()
    from naver_sms.demo import demo_config  # noqa: PLC0415

    config = demo_config()
    out.print(
        f"[bold]naver-sms demo[/bold]: {sum(DEMO_STORES.values())} generated bookings of "
        f"{len(DEMO_STORES)} stores (yesterday, today, tomorrow), sandbox Naver and SENS on "
        "127.0.0.1, a temporary SQLite file. All names and numbers are made up."
    )

    def show(cycle: Any) -> None:
        title = f"{cycle.at:%H:%M} KST"
        print_report(out, cycle.report, title=title)

    with ExitStack() as stack:
        try:
            world = stack.enter_context(played_day(config, on_cycle=show))
        finally:
            configure_logging(settings_of(ctx).log_level)
        _tell_the_day(out, world.day)
        if password is not None:
            _serve_the_day(stack, world, config, password=password, port=port)


def _tell_the_day(out: Console, day: DemoDay) -> None:
    """The demo's summary under its tables: what went, how, and what reached phones."""
    from rich.markup import escape  # noqa: PLC0415

    sent = Counter(s["kind"] for c in day.cycles for s in c.report["sent"])
    out.rule("the day")
    out.print(
        f"{day.day}: {day.accepted} messages accepted by the fake SENS in {day.sens_requests} "
        f"requests ({', '.join(f'{k} {n}' for k, n in sorted(sent.items()))}); "
        "the repeated 20:10 cycle sent nothing."
    )
    out.print(
        f"AlimTalk: {day.alimtalk} confirmations and guides went as KakaoTalk AlimTalk "
        f"(the example config's alimtalk: section, switched on); {day.failovers} went as "
        f"their SMS failover instead, to customers without KakaoTalk ({day.no_kakao}, and "
        f"{day.unreachable} below).",
        markup=False,
        highlight=False,
    )
    delivered, undelivered = day.items("delivered"), day.items("undelivered")
    opted_out = [h for h in day.items("held") if "opted out" in h["why"]]
    out.print(
        f"delivery: {len(delivered)} delivered, {len(undelivered)} not delivered "
        f"({day.unreachable}'s number is out of service: the carrier refused its texts, "
        "which are never sent again for that), "
        f"{day.accepted - len(delivered) - len(undelivered)} sent too recently to check.",
        markup=False,
        highlight=False,
    )
    out.print(
        f"opt-out: {day.opted_out} called the store's 080 line, so its event message was "
        f"held {len(opted_out)} times; its confirmation and guide went as usual.",
        markup=False,
        highlight=False,
    )
    for kind, text in day.texts:
        out.print(f"[bold]{escape(kind)}[/bold], a sample:")
        out.print(text, markup=False, highlight=False)


def _serve_the_day(
    stack: ExitStack, world: DemoWorld, config: AppConfig, *, password: str, port: int
) -> None:
    """The owner's page on the played day (its clock: the last cycle's), until Ctrl-C."""
    from naver_sms.entrypoints.cli_web import day_page, say_serving  # noqa: PLC0415
    from naver_sms.web import server  # noqa: PLC0415 - only with --web

    app = day_page(stack, world, config, password=password)
    say_serving(world.settings, "127.0.0.1", port)
    server.serve_web(app, "127.0.0.1", port)


@cli.command("create-tables")
@click.pass_context
def create_tables(ctx: click.Context) -> None:
    """Create the seed's DynamoDB tables, or the SQLite schema (idempotent).

    \b
    Examples:
      naver-sms create-tables                       # SQLite file NAVER_SMS_DB
      NAVER_SMS_STORE=dynamodb naver-sms create-tables
    """
    from naver_sms import bootstrap  # noqa: PLC0415
    from naver_sms.entrypoints.cli_view import progress  # noqa: PLC0415

    settings = settings_of(ctx)
    with progress("creating the tables", log_format=ctx.meta.get("log_format")):
        names = bootstrap.create_tables(settings)
    where = settings.db_path if settings.store == "sqlite" else settings.aws_region
    click.echo(f"ready ({settings.store}, {where}): {', '.join(names)}")


def parse_now(text: str | None) -> datetime:
    """The cycle's clock: `--now` (ISO 8601; without an offset it is KST), else the real time."""
    from naver_sms.config import ConfigError, now_from  # noqa: PLC0415

    try:
        return now_from(text, "--now")
    except ConfigError as exc:
        raise click.BadParameter(str(exc).removeprefix("--now: "), param_hint="--now") from None


def echo_error(text: str) -> None:
    """One `error:` line on stderr; a vendor's words may echo a number or a key: scrubbed."""
    from naver_sms.utils.scrub import scrub  # noqa: PLC0415

    click.echo(f"error: {scrub(text)}", err=True)


def _failure_lines(report: CycleReport) -> list[str]:
    """What went wrong, in the report's own words: one line per error, then the failed sends."""
    if report.login_challenge:
        return [report.errors[0].error]
    lines = []
    for error in report.errors:
        store, text = error.shop or "", error.error
        lines.append(text if not store or store in text else f"store {store}: {text}")
    if report.failed:
        first = report.failed[0]
        lines.append(
            # Not "not sent": a message accepted but not recorded is a failure too.
            f"{len(report.failed)} messages failed "
            f"(first: {first.booking_num} {first.kind}: {first.error})"
        )
    if report.unclear:
        lines.append(
            f"{len(report.unclear)} messages: SENS's answer was lost; the next cycle asks "
            "SENS whether they were accepted before sending any again"
        )
    return lines


def _check_templates_or_exit(ctx: click.Context, config: AppConfig) -> None:
    """Refuse to start when a template cannot become a message: every cycle would fail on it."""
    from naver_sms.domain.messages import Channel  # noqa: PLC0415
    from naver_sms.messaging.templates import check_templates  # noqa: PLC0415
    from naver_sms.report import EXIT_USAGE  # noqa: PLC0415

    problems = [
        # An AlimTalk row's problems name their template and store already.
        problem
        if row.channel is Channel.ALIMTALK
        else f"template {row.kind} of store {row.store.id} ({row.store.name}): {problem}"
        for row in check_templates(config)
        for problem in row.problems
    ]
    if problems:
        for problem in problems:
            echo_error(problem)
        echo_error(
            f"{len(problems)} template problem(s): fix them in {settings_of(ctx).config_path} "
            "(`naver-sms templates check` shows every text), then start again"
        )
        ctx.exit(EXIT_USAGE)


def _checked_config(ctx: click.Context) -> AppConfig:
    """The config file, its templates rendered once: one line and exit 2 before anything runs."""
    from naver_sms.config import load_app_config  # noqa: PLC0415

    config = load_app_config(settings_of(ctx).config_path)
    _check_templates_or_exit(ctx, config)
    return config


def _report_dict(report: CycleReport, *, dry_run: bool) -> dict[str, Any]:
    # First, so nobody reads a rehearsal's "sent" as texts that left.
    return {"dry_run": dry_run, **report.to_dict()}


@cli.command()
@click.option("--dry-run", is_flag=True, help="Write messages to the outbox file, send nothing.")
@click.option(
    "--adopt",
    is_flag=True,
    help="First install: mark bookings already confirmed as confirmed without texting anyone.",
)
@click.option(
    "--now",
    "now_text",
    metavar="ISO8601",
    help="The clock (replays, tests). More than 5 minutes from the real time, the run "
    "is a dry run: a moved clock never texts a customer.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report on stdout.")
@click.pass_context
def run(
    ctx: click.Context, dry_run: bool, adopt: bool, now_text: str | None, as_json: bool
) -> None:
    """Run one cycle: fetch bookings, send what is due, each message once.

    Exit codes: 0 done, 1 a send or a store failed, 2 configuration,
    3 Naver wants a person to log in (`naver-sms login --headed`).

    \b
    Examples:
      naver-sms run --adopt                 # first install: nobody is texted
      naver-sms run
      naver-sms run --dry-run --now 2026-11-25T20:10:00+09:00 --json
    """
    from naver_sms import bootstrap  # noqa: PLC0415
    from naver_sms.config import must_rehearse  # noqa: PLC0415
    from naver_sms.cycle import run_cycle  # noqa: PLC0415
    from naver_sms.domain.booking import KST  # noqa: PLC0415
    from naver_sms.entrypoints.cli_view import console, print_report, progress  # noqa: PLC0415

    now = parse_now(now_text)
    settings = settings_of(ctx)
    config = _checked_config(ctx)
    rehearsal = (
        now_text is not None
        and not dry_run
        and must_rehearse(now, datetime.now(KST), settings.sens_url)
    )
    dry_run = dry_run or rehearsal
    with bootstrap.cycle_ports(settings, dry_run=dry_run, config=config) as ports:
        if rehearsal:  # said once the configuration is known to be good
            click.echo(
                f"note: --now {now_text} is more than 5 minutes from the real clock, so this "
                f"is a dry run: nothing is sent to SENS, the messages go to {settings.outbox_path}",
                err=True,
            )
        with progress("starting the cycle", log_format=ctx.meta.get("log_format")) as tell:
            report = run_cycle(ports=ports, now=now, adopt=adopt, progress=tell)
    data = _report_dict(report, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        print_report(console(), data, outbox=settings.outbox_path if dry_run else None)
    if report.exit_code:
        for line in _failure_lines(report):
            echo_error(line)
        ctx.exit(report.exit_code)


class Interval(click.ParamType[float]):
    """Seconds, as a number or with a unit: `300`, `300s`, `5m`, `1h`; at least 0.1 s."""

    name = "interval"
    _UNITS: Final = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = float(value)
        else:
            text = str(value).strip().lower()
            unit = text[-1:] if text[-1:] in ("s", "m", "h") else ""
            try:
                seconds = float(text[: len(text) - len(unit)]) * self._UNITS[unit]
            except ValueError:
                self.fail(f"{value!r} is not a time: write e.g. 300, 300s, 5m or 1h", param, ctx)
        if not seconds >= 0.1:  # also refuses NaN
            self.fail(f"{value!r} is too short: at least 0.1 seconds", param, ctx)
        return seconds


@cli.command()
@click.option(
    "--every",
    type=Interval(),
    default=300.0,
    show_default=True,
    metavar="TIME",
    help="Time from the start of one cycle to the start of the next: 300, 300s, 5m, 1h.",
)
@click.option("--dry-run", is_flag=True, help="Write messages to the outbox file, send nothing.")
@click.option(
    "--web",
    "with_web",
    is_flag=True,
    help="Also serve the owner's page (see `naver-sms web`); needs NAVER_SMS_WEB_PASSWORD.",
)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="With --web: the address to listen on."
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8080,
    show_default=True,
    help="With --web: the port.",
)
@click.pass_context
def serve(
    ctx: click.Context, every: float, dry_run: bool, with_web: bool, host: str, port: int
) -> None:
    """Run cycles forever, one at a time, until SIGTERM or Ctrl-C.

    A failing cycle is logged and the next one tries again; a cycle under
    way when the signal comes is finished first. After a Naver login
    challenge no cycle runs (so no browser retries the login every few
    minutes) until a session is stored again: `naver-sms login --headed`
    or `naver-sms session import FILE`. With --web the owner's page
    (`naver-sms web`) is served by the same process.

    \b
    Examples:
      naver-sms serve --every 5m
      NAVER_SMS_WEB_PASSWORD='a long password' naver-sms serve --every 5m --web
    """
    from naver_sms import bootstrap  # noqa: PLC0415
    from naver_sms.cycle import run_cycle  # noqa: PLC0415
    from naver_sms.entrypoints.cli_web import (  # noqa: PLC0415
        owner_page,
        page_password,
        say_serving,
    )
    from naver_sms.serve import serve_cycles, stop_on_signals  # noqa: PLC0415

    settings = settings_of(ctx)
    password = page_password(ctx, settings, with_web, ("host", "port"))
    config = _checked_config(ctx)

    def on_challenge(report: CycleReport) -> None:
        for line in _failure_lines(report):
            echo_error(line)

    # One stack for the cycles' ports, the session check and the page: one DynamoDB
    # client (about 10 MB) for the whole long-running process.
    with (
        ExitStack() as stack,
        bootstrap.cycle_ports(settings, dry_run=dry_run, config=config, stack=stack) as ports,
        bootstrap.session_repository(settings, stack=stack) as sessions,
        stop_on_signals(threading.Event()) as stop,
    ):
        _say_what_serve_runs(ctx, settings, config, every=every, dry_run=dry_run)
        if password is not None:
            from naver_sms.web.server import start_in_thread  # noqa: PLC0415 - only with --web

            app = owner_page(stack, settings, config, password=password, host=host)
            page = start_in_thread(app, host, port)
            stack.callback(page.stop)  # after the last cycle, before the stores close
            say_serving(settings, host, page.port)
        serve_cycles(
            lambda now: run_cycle(ports=ports, now=now),
            every=every,
            stop=stop,
            session_stored=lambda: sessions.get_session() is not None,
            on_challenge=on_challenge,
        )


def _catalogs(ctx: click.Context) -> dict[str, list[str]] | None:
    """Each store's message names, or None when the config does not load.

    Listing what is stored must work while the config is being fixed: the
    records' own flags then say which messages there are.
    """
    from naver_sms.config import ConfigError, load_app_config  # noqa: PLC0415

    try:
        config = load_app_config(settings_of(ctx).config_path)
    except ConfigError:
        return None
    return {
        store.id: [message.name for message in config.catalog(store)] for store in config.stores
    }


def _say_what_serve_runs(
    ctx: click.Context, settings: Settings, config: AppConfig, *, every: float, dry_run: bool
) -> None:
    from naver_sms.serve import serving_line  # noqa: PLC0415
    from naver_sms.utils.logger import get_logger  # noqa: PLC0415

    where = (
        f"SQLite {settings.db_path}"
        if settings.store == "sqlite"
        else f"DynamoDB {settings.aws_region}"
        + (f" at {settings.aws_endpoint_url}" if settings.aws_endpoint_url else "")
    )
    stores = [store.id for store in config.stores]
    sens_host = urlsplit(settings.sens_url).hostname or settings.sens_url
    line = serving_line(
        where=where,
        stores=stores,
        every=every,
        dry_run=dry_run,
        sens_host=sens_host,
        outbox=str(settings.outbox_path),
    )
    if ctx.meta.get("log_format") == "text":
        click.echo(line, err=True)
    else:  # among JSON lines a plain one would break the collector's parsing
        get_logger(__name__).info(
            line,
            operation="serve",
            store_kind=settings.store,
            stores=stores,
            every_s=every,
            dry_run=dry_run,
            sens_host=sens_host,
        )


@cli.command()
@click.option("--store", "store_id", metavar="ID", help="Only this Naver businessId.")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="Only visits on this KST day.")
@click.option("--json", "as_json", is_flag=True, help="Print the records as JSON on stdout.")
@click.pass_context
def bookings(ctx: click.Context, store_id: str | None, day: str | None, as_json: bool) -> None:
    """List the stored bookings and each of their messages (phones masked).

    A message is `✓` with the time it was sent, `·` not yet, or `✗` with
    why it will never be sent.

    \b
    Examples:
      naver-sms bookings
      naver-sms bookings --store 5000001 --date 2026-11-25
      naver-sms bookings --json
    """
    from naver_sms import bootstrap  # noqa: PLC0415
    from naver_sms.entrypoints.cli_view import booking_rows, bookings_table, console  # noqa: PLC0415

    if store_id is not None and not (store_id.isascii() and store_id.isdigit()):
        raise click.BadParameter("expected the numeric Naver businessId", param_hint="--store")
    bootstrap.require_stored_data(settings_of(ctx))
    with bootstrap.booking_repository(settings_of(ctx)) as store:
        records = store.list_bookings(store_id, day)
    catalogs = _catalogs(ctx)
    if as_json:
        rows = booking_rows(records, catalogs)
        click.echo(json.dumps(rows, ensure_ascii=False, default=str))
        return
    if not records:
        click.echo("no stored bookings" + (" match" if store_id or day else ""))
        return
    console().print(bookings_table(records, catalogs))
    click.echo(f"{len(records)} bookings")


def example_config() -> str:
    """The documented example config shipped with the package (= config/example.yaml)."""
    # Not demo.example_text: the demo module loads the sandboxes, `init` needs a file.
    return resources.files("naver_sms").joinpath("example.yaml").read_text(encoding="utf-8")


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: Path | None, force: bool) -> None:
    """Write a documented example config (default ./naver-sms.yaml).

    \b
    Examples:
      naver-sms init
      naver-sms init /etc/naver-sms.yaml && export NAVER_SMS_CONFIG=/etc/naver-sms.yaml
    """
    from naver_sms.config import ConfigError  # noqa: PLC0415

    target = path or Path(DEFAULT_CONFIG_PATH)
    if target.exists() and not force:
        raise click.BadParameter(f"{target} exists: use --force to overwrite it", param_hint="PATH")
    folder = target.parent
    if not folder.is_dir():
        raise ConfigError(
            f"cannot write {target}: the folder {folder} does not exist "
            f"(create it with `mkdir -p {folder}`, or name another path)"
        )
    try:
        target.write_text(example_config(), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot write {target}: {exc.strerror or exc} "
            "(choose a folder you can write to, e.g. your home folder)"
        ) from None
    click.echo(f"wrote {target}: set your stores, then run `naver-sms templates check`")


def _arguments(argv: list[str]) -> tuple[list[str], bool]:
    """`argv` with `--debug` moved to the front (it may come anywhere), and whether it was there.

    Owners add `--debug` where they read the error, after the subcommand;
    click knows it only on the group. Arguments after `--` are left alone.
    """
    end = argv.index("--") if "--" in argv else len(argv)
    debug = "--debug" in argv[:end]
    if not debug:
        return argv, False
    rest = [arg for arg in argv[:end] if arg != "--debug"] + argv[end:]
    return ["--debug", *rest], True


def _one_line(exc: click.ClickException) -> str:
    message = exc.format_message()
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        message += f" (see `{exc.ctx.command_path} --help`)"
    return " ".join(message.split())


def _error_of(exc: Exception) -> tuple[str, int]:
    """The one line and the exit code an exception ends the command with."""
    from naver_sms.report import EXIT_CHALLENGE, EXIT_FAILURE, EXIT_USAGE  # noqa: PLC0415

    if isinstance(exc, click.ClickException):
        code = EXIT_USAGE if isinstance(exc, click.UsageError) else exc.exit_code
        return _one_line(exc), code
    # Imported here, not at the top: only an error needs them (the start-up stays fast).
    from naver_sms.config import ConfigError  # noqa: PLC0415
    from naver_sms.database.exceptions import RepositoryError  # noqa: PLC0415
    from naver_sms.domain.booking import BookingValidationError  # noqa: PLC0415
    from naver_sms.domain.session import SessionValidationError  # noqa: PLC0415
    from naver_sms.messaging.base import SendError  # noqa: PLC0415
    from naver_sms.naver.errors import LoginChallenge  # noqa: PLC0415

    if isinstance(exc, LoginChallenge):
        return str(exc), EXIT_CHALLENGE
    if isinstance(exc, ConfigError | BookingValidationError | SessionValidationError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, RepositoryError | SendError):
        return str(exc), EXIT_FAILURE
    if isinstance(exc, OSError):
        # A file or folder the machine refused (disk full, permissions): name it.
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc} (--debug shows the details)", EXIT_FAILURE
    # A bug, not the owner's mistake: one line still, and the way to the traceback.
    return (
        f"unexpected {type(exc).__name__}: {exc} (run again with --debug for details)",
        EXIT_FAILURE,
    )


def main(argv: list[str] | None = None) -> Any:
    """Console entry point: click's parsing plus one-line errors and exit codes."""
    args, debug = _arguments(list(sys.argv[1:] if argv is None else argv))
    try:
        result = cli.main(args=args, prog_name="naver-sms", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        from naver_sms.report import EXIT_FAILURE  # noqa: PLC0415

        click.echo("aborted", err=True)
        sys.exit(EXIT_FAILURE)
    except Exception as exc:
        if debug:
            raise
        line, code = _error_of(exc)
        echo_error(line)
        sys.exit(code)
    # Without standalone mode click returns ctx.exit()'s code instead of exiting.
    if isinstance(result, int) and not isinstance(result, bool) and result:
        sys.exit(result)
    return result
