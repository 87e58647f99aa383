"""`naver-sms web`: the owner's page in a browser, over the same store the cycles use.

Exit codes: 0 stopped (Ctrl-C, SIGTERM), 2 usage or configuration (no
NAVER_SMS_WEB_PASSWORD, a config that cannot send, no database yet, a port
in use).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, ExitStack
from typing import TYPE_CHECKING

import click

from naver_sms.domain.session import is_loopback_host
from naver_sms.report import EXIT_USAGE

# The settings, the stores and Starlette are imported when the page starts:
# `naver-sms web --help` loads click only (issue 18).
if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from starlette.applications import Starlette

    from naver_sms.config import AppConfig, Settings
    from naver_sms.demo import DemoWorld
    from naver_sms.web.model import OwnerPort

__all__ = [
    "day_page",
    "owner_page",
    "page_password",
    "password_or_exit",
    "say_serving",
    "web",
    "web_password",
]

_REFUSAL = (
    "the web page needs a password: set NAVER_SMS_WEB_PASSWORD (8 characters or more; "
    "or put it in the NAVER_SMS_SECRET_ID secret), then start again"
)


def web_password(settings: Settings) -> str | None:
    """The page's password, or None: the page must not start without one."""
    secret = settings.web_password
    return secret.get_secret_value() if secret is not None else None


def _owner(
    settings: Settings, config: AppConfig, stack: ExitStack
) -> AbstractContextManager[OwnerPort]:
    """The port the pages read through, over the cycles' store (`bootstrap.owner`),
    built into `stack`: with `serve --web`, the cycles' DynamoDB client is the page's."""
    from naver_sms import bootstrap  # noqa: PLC0415

    return bootstrap.owner(settings, config, stack=stack)


def where(settings: Settings) -> str:
    """The store the page reads, as the start-up line names it."""
    if settings.store == "sqlite":
        return f"sqlite {settings.db_path}"
    return f"dynamodb {settings.aws_region}"


def _checked(ctx: click.Context) -> AppConfig:
    # cli.py imports this module: its config check is reached at run time.
    from naver_sms.entrypoints.cli import _checked_config  # noqa: PLC0415

    return _checked_config(ctx)


@click.command("web")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 for other devices (then behind HTTPS, see below).",
)
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="Port."
)
@click.pass_context
def web(ctx: click.Context, host: str, port: int) -> None:
    """Serve the owner's page (Korean): today's bookings, history, texts, login, opt-outs.

    It reads the same store as the cycles (NAVER_SMS_STORE) and asks for the
    password NAVER_SMS_WEB_PASSWORD. Served beyond this machine (--host not
    127.0.0.1) its session cookie travels over HTTPS only: put it behind an
    HTTPS proxy. Ctrl-C stops it.

    \b
    Example (the config `naver-sms init` writes, after a first cycle):
      NAVER_SMS_WEB_PASSWORD='a long password' naver-sms web
      then open http://127.0.0.1:8080 in a browser
    """
    from naver_sms import bootstrap  # noqa: PLC0415
    from naver_sms.config import Settings  # noqa: PLC0415

    settings = ctx.find_object(Settings) or bootstrap.load_settings()
    password = password_or_exit(ctx, settings)
    config = _checked(ctx)
    bootstrap.require_stored_data(settings)

    from naver_sms.web import server  # noqa: PLC0415 - only this command needs uvicorn

    with ExitStack() as stack:
        app = owner_page(stack, settings, config, password=password, host=host)
        say_serving(settings, host, port)
        server.serve_web(app, host, port)


def password_or_exit(ctx: click.Context, settings: Settings) -> str:
    """The page's password; without one, one line and exit 2 before anything starts."""
    password = web_password(settings)
    if password is None:
        click.echo(f"error: {_REFUSAL}", err=True)
        ctx.exit(EXIT_USAGE)
        raise AssertionError("unreachable")  # pragma: no cover - ctx.exit raises
    return password


def page_password(
    ctx: click.Context, settings: Settings, with_web: bool, page_options: tuple[str, ...]
) -> str | None:
    """With --web, the page's password (or exit 2); without it, None, and a usage
    error for the page's own options given anyway rather than ignored."""
    if with_web:
        return password_or_exit(ctx, settings)
    given = [
        f"--{name}"
        for name in page_options
        if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
    ]
    if given:
        raise click.UsageError(f"{' and '.join(given)}: only with --web (the owner's page)")
    return None


def owner_page(
    stack: ExitStack,
    settings: Settings,
    config: AppConfig,
    *,
    password: str,
    host: str,
    now: Callable[[], datetime] | None = None,
) -> Starlette:
    """The page's app over the cycles' store; its adapters close with `stack`.

    `now`: the page's clock (the demo's played day); None, the real time in KST.
    """
    # Starlette loads only for the page: every other command starts faster.
    from naver_sms.utils.clock import now_kst  # noqa: PLC0415
    from naver_sms.web.app import create_app  # noqa: PLC0415

    owner = stack.enter_context(_owner(settings, config, stack))
    return create_app(
        owner,
        password=password,
        now=now or now_kst,
        secure_cookies=not is_loopback_host(host),
    )


def day_page(stack: ExitStack, world: DemoWorld, config: AppConfig, *, password: str) -> Starlette:
    """The owner's page over the demo's played day, on loopback: its clock is the day's
    last cycle's, so the page shows the day just played (`demo --web`, the screenshot,
    the browser tests)."""
    at = world.day.cycles[-1].at
    return owner_page(
        stack, world.settings, config, password=password, host="127.0.0.1", now=lambda: at
    )


def say_serving(settings: Settings, host: str, port: int) -> None:
    """Where the page is, what it reads, and what a non-loopback address needs."""
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"serving the owner's page on http://{shown}:{port} ({where(settings)}); Ctrl-C stops it"
    )
    if not is_loopback_host(host):
        click.echo(
            "the login cookie is sent over HTTPS only: open the page through an HTTPS "
            "proxy in front of this address",
            err=True,
        )
