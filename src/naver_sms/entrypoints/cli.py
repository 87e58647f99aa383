"""The `naver-sms` command (also `python -m naver_sms`).

Every user error is one line on stderr and a non-zero exit (2 for usage and
configuration, 1 for failures); `--debug` shows the traceback instead.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from importlib import resources
from pathlib import Path
from types import FrameType
from typing import Any

import click
import yaml

from naver_sms import __version__, bootstrap
from naver_sms.config import AppConfig, ConfigError, Settings, load_settings
from naver_sms.cycle import CycleReport, run_cycle
from naver_sms.database.exceptions import DynamoDBException
from naver_sms.domain.booking import KST, BookingValidationError
from naver_sms.domain.session import SessionValidationError
from naver_sms.entrypoints.cli_session import EXIT_CHALLENGE, login, session
from naver_sms.entrypoints.cli_templates import templates
from naver_sms.entrypoints.cli_view import bookings_table, console, print_report
from naver_sms.naver.errors import HEADED_LOGIN_HINT, LoginChallenge
from naver_sms.utils.logger import configure_logging, get_logger

EXIT_FAILURE = 1
EXIT_USAGE = 2
DEFAULT_CONFIG_PATH = "naver-sms.yaml"

log = get_logger(__name__)


def settings_of(ctx: click.Context) -> Settings:
    settings = ctx.find_object(Settings)
    if settings is None:  # pragma: no cover - the group always sets it
        raise click.UsageError("settings were not loaded")
    return settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    settings = load_settings()
    configure_logging(settings.log_level)
    ctx.obj = settings


@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Play one simulated day against the bundled sandbox (no account, no network).

    Starts a fake Naver and a fake SENS on 127.0.0.1 with a temporary SQLite
    file and the example config, then runs the real cycle at 09:00, 12:00,
    13:10 and 20:10 KST (and 20:10 again, to show nothing goes twice).

    \b
    Example:
      naver-sms demo
    """
    from naver_sms.demo import DEMO_STORES, run_demo  # noqa: PLC0415 - starts servers when used

    configure_logging("ERROR")  # the tables tell the story; JSON lines would drown them
    out = console()
    config = AppConfig.model_validate(yaml.safe_load(example_config()))
    out.print(
        f"[bold]naver-sms demo[/bold]: {sum(DEMO_STORES.values())} generated bookings of "
        f"{len(DEMO_STORES)} stores (yesterday, today, tomorrow), sandbox Naver and SENS on "
        "127.0.0.1, a temporary SQLite file. All names and numbers are made up."
    )

    def show(cycle: Any) -> None:
        title = f"{cycle.at:%H:%M} KST"
        print_report(out, cycle.report, title=title)

    try:
        day = run_demo(config, on_cycle=show)
    finally:
        configure_logging(settings_of(ctx).log_level)
    sent = Counter(s["kind"] for c in day.cycles for s in c.report["sent"])
    out.rule("the day")
    out.print(
        f"{day.day}: {day.accepted} texts accepted by the fake SENS in {day.sens_requests} "
        f"requests ({', '.join(f'{k} {n}' for k, n in sorted(sent.items()))}); "
        "the repeated 20:10 cycle sent nothing."
    )
    for kind, text in day.texts:
        out.print(f"[bold]{kind}[/bold] (sample):")
        out.print(text, markup=False, highlight=False)


@cli.command("create-tables")
@click.pass_context
def create_tables(ctx: click.Context) -> None:
    """Create the seed's DynamoDB tables, or the SQLite schema (idempotent).

    \b
    Examples:
      naver-sms create-tables                       # SQLite file NAVER_SMS_DB
      NAVER_SMS_STORE=dynamodb naver-sms create-tables
    """
    settings = settings_of(ctx)
    names = bootstrap.create_tables(settings)
    where = settings.db_path if settings.store == "sqlite" else settings.aws_region
    click.echo(f"ready ({settings.store}, {where}): {', '.join(names)}")


def parse_now(text: str | None) -> datetime:
    """The cycle's clock: `--now` (ISO 8601; without an offset it is KST), else the real time."""
    if text is None:
        return datetime.now(KST)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"expected ISO 8601 like 2026-11-25T13:05:00+09:00, got {text!r}", param_hint="--now"
        ) from None
    # A naive time is read as KST, never as the host's zone.
    return moment.replace(tzinfo=KST) if moment.tzinfo is None else moment


def _failure_line(report: CycleReport) -> str:
    if report.login_challenge:
        return report.errors[0]["error"]
    parts = []
    if report.failed:
        parts.append(f"{len(report.failed)} messages failed")
    stores = sorted({e["store"] for e in report.errors if e.get("store")})
    if stores:
        parts.append(f"stores skipped: {', '.join(stores)}")
    other = [e["error"] for e in report.errors if not e.get("store")]
    parts += other
    return "; ".join(parts) + " (the next cycle tries again)"


@cli.command()
@click.option("--dry-run", is_flag=True, help="Write messages to the outbox file, send nothing.")
@click.option(
    "--adopt",
    is_flag=True,
    help="First install: mark bookings already confirmed as confirmed without texting anyone.",
)
@click.option("--now", "now_text", metavar="ISO8601", help="The clock (tests, replays).")
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
    now = parse_now(now_text)
    ports = bootstrap.build_cycle_ports(settings_of(ctx), dry_run=dry_run)
    try:
        report = run_cycle(ports=ports, now=now, adopt=adopt)
    finally:
        ports.close()
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print_report(console(), report.to_dict())
    if report.exit_code:
        click.echo(f"error: {_failure_line(report)}", err=True)
        ctx.exit(report.exit_code)


@cli.command()
@click.option(
    "--every",
    type=click.FloatRange(min=0.1),
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    help="Time from the start of one cycle to the start of the next.",
)
@click.option("--dry-run", is_flag=True, help="Write messages to the outbox file, send nothing.")
@click.pass_context
def serve(ctx: click.Context, every: float, dry_run: bool) -> None:
    """Run cycles forever, one at a time, until SIGTERM or Ctrl-C.

    A failing cycle is logged and the next one tries again; a cycle under
    way when the signal comes is finished first. After a Naver login
    challenge no cycle runs (so no browser retries the login every few
    minutes) until a session is stored again: `naver-sms login --headed`
    or `naver-sms session import FILE`.

    \b
    Example:
      naver-sms serve --every 300
    """
    settings = settings_of(ctx)
    ports = bootstrap.build_cycle_ports(settings, dry_run=dry_run)
    sessions = bootstrap.build_session_store(settings)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("Stopping after the current cycle", operation="serve", signal=signum)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    cycles = 0
    waiting_for_login = False
    try:
        while not stop.is_set():
            started = time.monotonic()
            try:
                if waiting_for_login and sessions.get_session() is None:
                    log.info(
                        "Waiting for a person to log in", operation="serve", hint=HEADED_LOGIN_HINT
                    )
                else:
                    report = run_cycle(ports=ports, now=datetime.now(KST))
                    cycles += 1
                    waiting_for_login = report.login_challenge
                    if waiting_for_login:
                        click.echo(f"error: {_failure_line(report)}", err=True)
            except Exception as exc:  # one bad cycle must not end the service
                log.error(
                    "Cycle failed; the next one tries again",
                    operation="serve",
                    error=f"{type(exc).__name__}: {exc}",
                )
            stop.wait(max(0.0, every - (time.monotonic() - started)))
    finally:
        ports.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("Stopped", operation="serve", cycles=cycles)


@cli.command()
@click.option("--store", "store_id", metavar="ID", help="Only this Naver businessId.")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="Only visits on this KST day.")
@click.pass_context
def bookings(ctx: click.Context, store_id: str | None, day: str | None) -> None:
    """List the stored booking records and which messages they got (phones masked).

    \b
    Examples:
      naver-sms bookings
      naver-sms bookings --store 5000001 --date 2026-11-25
    """
    if store_id is not None and not (store_id.isascii() and store_id.isdigit()):
        raise click.BadParameter("expected the numeric Naver businessId", param_hint="--store")
    records = bootstrap.build_booking_store(settings_of(ctx)).list_bookings(store_id, day)
    if not records:
        click.echo("no stored bookings" + (" match" if store_id or day else ""))
        return
    console().print(bookings_table(records))
    click.echo(f"{len(records)} bookings")


def example_config() -> str:
    """The documented example config shipped with the package (= config/example.yaml)."""
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
    target = path or Path(DEFAULT_CONFIG_PATH)
    if target.exists() and not force:
        raise click.BadParameter(f"{target} exists: use --force to overwrite it", param_hint="PATH")
    target.write_text(example_config(), encoding="utf-8")
    click.echo(f"wrote {target}: set your stores, then run `naver-sms templates check`")


cli.add_command(templates)
cli.add_command(login)
cli.add_command(session)

_USER_ERRORS: tuple[type[Exception], ...] = (
    ConfigError,
    BookingValidationError,
    SessionValidationError,
)


def main(argv: list[str] | None = None) -> Any:
    """Console entry point: click's parsing plus one-line errors and exit codes."""
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        result = cli.main(args=argv, prog_name="naver-sms", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_FAILURE)
    except click.ClickException as exc:
        if debug:
            raise
        exc.show()
        sys.exit(EXIT_USAGE if isinstance(exc, click.UsageError) else exc.exit_code)
    except LoginChallenge as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_CHALLENGE)
    except _USER_ERRORS as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except DynamoDBException as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILURE)
    # Without standalone mode click returns ctx.exit()'s code instead of exiting.
    if isinstance(result, int) and not isinstance(result, bool) and result:
        sys.exit(result)
    return result
