"""The `naver-sms` command (also `python -m naver_sms`).

Every user error is one line on stderr and a non-zero exit (2 for usage and
configuration, 1 for failures); `--debug` shows the traceback instead.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from naver_sms import __version__, bootstrap
from naver_sms.config import ConfigError, Settings, load_settings
from naver_sms.database.exceptions import DynamoDBException
from naver_sms.domain.booking import BookingValidationError
from naver_sms.domain.session import SessionValidationError
from naver_sms.entrypoints.cli_session import login, session
from naver_sms.entrypoints.cli_templates import templates
from naver_sms.utils.logger import configure_logging

EXIT_FAILURE = 1
EXIT_USAGE = 2


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
def demo() -> None:
    """Play one simulated day against the bundled sandbox (no account, no network).

    \b
    Example:
      naver-sms demo
    """
    click.echo(
        "demo arrives with the cycle: naver-sms can create its tables today (create-tables)."
    )


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
        return cli.main(args=argv, prog_name="naver-sms", standalone_mode=False)
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
