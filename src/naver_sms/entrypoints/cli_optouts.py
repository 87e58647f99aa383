"""`naver-sms optouts`: the numbers that opted out of advertising through the 080 line.

SENS keeps the list (the store's 080 line adds to it); the cycle holds every
event message to those numbers. A customer who asks by phone is added or
removed here. Numbers are shown masked. Exit codes: 0 done, 1 SENS failed,
2 usage or configuration (no SENS keys, not a mobile number).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import click

from naver_sms.domain.booking import KST, mask_phone, normalize_phone

# SENS's client and the settings' pydantic are imported when a command runs:
# `naver-sms optouts --help` loads click only (issue 18).
if TYPE_CHECKING:
    from naver_sms.messaging.sens import SensSender

__all__ = ["optouts"]


def _sens(ctx: click.Context) -> AbstractContextManager[SensSender]:
    from naver_sms import bootstrap  # noqa: PLC0415
    from naver_sms.config import Settings  # noqa: PLC0415

    settings = ctx.find_object(Settings)
    return bootstrap.sens(settings if settings is not None else bootstrap.load_settings())


def _mobile(_ctx: click.Context, _param: click.Parameter, text: str) -> str:
    """NUMBER in its stored form; a usage error (masked) when it is not a mobile number."""
    try:
        return normalize_phone(text)
    except ValueError:
        raise click.BadParameter(f"{mask_phone(text)} is not a Korean mobile number") from None


@click.group("optouts", invoke_without_command=True)
@click.pass_context
def optouts(ctx: click.Context) -> None:
    """List the numbers that opted out of advertising (SENS's 080 list), masked.

    \b
    Examples:
      naver-sms optouts
      naver-sms optouts add 010-0000-1234
      naver-sms optouts remove 010-0000-1234
    """
    if ctx.invoked_subcommand is not None:
        return
    with _sens(ctx) as sens:
        listed = sens.opted_out()
    if not listed:
        click.echo("no number has opted out")
        return
    for phone, when in sorted(listed.items(), key=lambda item: str(item[1] or "")):
        since = f"{when.astimezone(KST):%Y-%m-%d %H:%M}" if when else "-"
        click.echo(f"{mask_phone(phone)}  {since}")
    click.echo(f"{len(listed)} numbers get no advertising")


@optouts.command("add")
@click.argument("phone", metavar="NUMBER", callback=_mobile)
@click.pass_context
def add(ctx: click.Context, phone: str) -> None:
    """Add NUMBER (a customer who asked by phone): it gets no more advertising.

    \b
    Example:
      naver-sms optouts add 010-0000-1234
    """
    with _sens(ctx) as sens:
        sens.add_opt_outs([phone])
    click.echo(f"{mask_phone(phone)} opted out: it gets no advertising from now on")


@optouts.command("remove")
@click.argument("phone", metavar="NUMBER", callback=_mobile)
@click.pass_context
def remove(ctx: click.Context, phone: str) -> None:
    """Remove NUMBER (the customer asked to receive events again).

    \b
    Example:
      naver-sms optouts remove 010-0000-1234
    """
    with _sens(ctx) as sens:
        sens.remove_opt_outs([phone])
    click.echo(f"{mask_phone(phone)} removed from the opt-out list")
