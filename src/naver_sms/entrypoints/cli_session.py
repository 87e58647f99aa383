"""`naver-sms login` and `naver-sms session import/show/clear`: the Naver cookies by hand.

Exit codes (`docs/interfaces.md`): 0 done, 1 failure, 2 usage or configuration,
3 a login challenge a person must finish with `login --headed`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

import click

from naver_sms.domain.booking import KST
from naver_sms.naver.cookies import cookie_infos, read_cookie_export
from naver_sms.naver.errors import BookingApiError, LoginChallenge, LoginError, NaverThrottled
from naver_sms.report import EXIT_CHALLENGE

# The settings' pydantic, the stores and rich are imported by the command that
# runs: `naver-sms session --help` loads click only (issue 18).
if TYPE_CHECKING:
    from naver_sms.config import Settings

__all__ = ["login", "session"]


class LoginChallengeExit(click.ClickException):
    """A challenge Naver wants a person for: exit 3, so schedulers can tell it apart."""

    exit_code = EXIT_CHALLENGE


def _settings(ctx: click.Context) -> Settings:
    from naver_sms import bootstrap  # noqa: PLC0415
    from naver_sms.config import Settings  # noqa: PLC0415

    settings = ctx.find_object(Settings)
    return settings if settings is not None else bootstrap.load_settings()


def _store_id(settings: Settings, store_id: str | None) -> str:
    from naver_sms.config import ConfigError, load_app_config  # noqa: PLC0415

    if store_id is not None:
        if not store_id.isascii() or not store_id.isdigit():
            raise click.BadParameter("expected the numeric Naver businessId", param_hint="--store")
        return store_id
    # The first configured store's console checks the new cookies.
    try:
        return load_app_config(settings.config_path).stores[0].id
    except ConfigError as exc:
        raise ConfigError(f"{exc}; or name the store: naver-sms login --store ID") from None


@click.command("login")
@click.option(
    "--headed",
    is_flag=True,
    help="Show the browser window (needs a screen): finish a captcha, new-device "
    "check or two-step verification yourself.",
)
@click.option(
    "--store",
    "store_id",
    metavar="ID",
    default=None,
    help="The Naver businessId whose booking console checks the new cookies "
    "(default: the first store of the config file).",
)
@click.pass_context
def login(ctx: click.Context, headed: bool, store_id: str | None) -> None:
    """Log in to Naver with Chromium and save the session cookies.

    Uses NAVER_USERNAME and NAVER_PASSWORD; with --headed you may also type
    them yourself. Chromium and chromedriver come from CHROME_BIN and
    CHROMEDRIVER_BIN, else from PATH.

    \b
    Examples:
      naver-sms login
      naver-sms login --headed --store 5000001
    """
    from naver_sms import bootstrap  # noqa: PLC0415
    from naver_sms.entrypoints.cli_view import progress  # noqa: PLC0415

    settings = _settings(ctx)
    biz_id = _store_id(settings, store_id)
    try:
        with (
            progress(
                "logging in to Naver" + (": finish in the browser window" if headed else ""),
                log_format=ctx.find_root().meta.get("log_format"),
            ),
            bootstrap.authenticator(settings) as authenticator,
        ):
            cookies = authenticator.login(biz_id, datetime.now(KST), headed=headed)
    except LoginChallenge as exc:
        raise LoginChallengeExit(str(exc)) from None
    except (LoginError, BookingApiError, NaverThrottled) as exc:
        raise click.ClickException(str(exc)) from None
    names = ", ".join(sorted({str(cookie.get("name")) for cookie in cookies}))
    click.echo(f"logged in: session saved ({len(cookies)} cookies: {names})")


@click.group("session")
def session() -> None:
    """The stored Naver session (login cookies): import, show masked, clear.

    \b
    Examples:
      naver-sms session import cookies.json
      naver-sms session show
      naver-sms session clear
    """


@session.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.pass_context
def import_session(ctx: click.Context, file: TextIO) -> None:
    """Store the cookies of FILE ('-' for stdin) as the Naver session.

    FILE is a JSON array of cookie objects as browsers export them (a cookie
    editor extension, Selenium's get_cookies(), Playwright's storage state);
    it must hold NID_AUT and NID_SES of a browser logged in to naver.com.

    \b
    Example:
      naver-sms session import ~/Downloads/naver-cookies.json
    """
    from naver_sms import bootstrap  # noqa: PLC0415

    try:
        text = file.read()
    except UnicodeDecodeError:
        raise click.ClickException(f"{file.name}: not UTF-8 text") from None
    export = read_cookie_export(text)
    cookies = export.cookies
    with bootstrap.session_repository(_settings(ctx)) as store:
        store.save_session(json.dumps(cookies, ensure_ascii=False))
    names = ", ".join(info.name for info in cookie_infos(cookies))
    click.echo(f"imported {len(cookies)} cookies ({names}); they are checked on the next run")
    if export.ignored_domains:
        # Said, so the owner knows the bank and mail cookies went nowhere.
        click.echo(f"left out other sites' cookies: {', '.join(export.ignored_domains)}")


@session.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print the cookies as JSON on stdout.")
@click.pass_context
def show_session(ctx: click.Context, as_json: bool) -> None:
    """List the stored cookies: name, domain, expiry; values masked.

    \b
    Examples:
      naver-sms session show
      naver-sms session show --json
    """
    from naver_sms import bootstrap  # noqa: PLC0415

    with bootstrap.session_repository(_settings(ctx)) as store:
        stored = store.get_session()
    now = datetime.now(KST)
    if as_json:
        infos = cookie_infos(stored.get_cookies_list()) if stored is not None else []
        cookies = [
            {
                "name": info.name,
                "domain": info.domain,
                "expires": info.expires.isoformat() if info.expires is not None else None,
                "expired": info.expires is not None and info.expires <= now,
                "value_masked": info.masked_value,
            }
            for info in infos
        ]
        click.echo(json.dumps({"stored": stored is not None, "cookies": cookies}))
        return
    if stored is None:
        click.echo("no session stored (naver-sms login, or naver-sms session import FILE)")
        return
    infos = cookie_infos(stored.get_cookies_list())
    rows = [("NAME", "DOMAIN", "EXPIRES", "VALUE")]
    for info in infos:
        expires = info.expires_text()
        if info.expires is not None and info.expires <= now:
            expires += " (expired)"
        rows.append((info.name, info.domain, expires, info.masked_value))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows:
        padded = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
        click.echo("  ".join([*padded, row[3]]))


@session.command("clear")
@click.pass_context
def clear_session(ctx: click.Context) -> None:
    """Delete the stored session; the next run logs in again.

    \b
    Example:
      naver-sms session clear
    """
    from naver_sms import bootstrap  # noqa: PLC0415

    with bootstrap.session_repository(_settings(ctx)) as store:
        if store.get_session() is None:
            click.echo("no session stored")
            return
        store.delete_session()
    click.echo("session deleted")
