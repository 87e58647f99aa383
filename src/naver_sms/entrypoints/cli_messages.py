"""`naver-sms messages`: what was sent on a day and what became of each message.

It reads what the cycles wrote (the records' message life), never the
provider: a message's status is the one the last cycle's check recorded.
Phones are masked. Exit codes: 0 listed (also when nothing was sent), 1 the
store failed, 2 usage.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

import click

from naver_sms.domain.booking import KST, BookingValidationError, validate_day
from naver_sms.domain.delivery import DeliveryStatus, SentMessage, history
from naver_sms.domain.messages import Channel

# Rich and the store are imported when the command runs: its --help loads click only.
if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["messages"]

_STATUS_STYLE = {
    DeliveryStatus.ACCEPTED: "cyan",
    DeliveryStatus.DELIVERED: "green",
    DeliveryStatus.FAILED: "red",
    DeliveryStatus.UNKNOWN: "yellow",
}


def _day(_ctx: click.Context, _param: click.Parameter, text: str | None) -> str:
    if text is None:
        return datetime.now(KST).date().isoformat()
    try:
        return validate_day(text)
    except BookingValidationError:
        raise click.BadParameter(
            f"{text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-12-01"
        ) from None


def _store(_ctx: click.Context, _param: click.Parameter, text: str | None) -> str | None:
    if text is not None and not (text.isascii() and text.isdigit()):
        raise click.BadParameter("expected the numeric Naver businessId")
    return text


def messages_table(rows: list[SentMessage]) -> Table:
    from rich.table import Table  # noqa: PLC0415

    table = Table(title_justify="left")
    for column in ("time", "store", "booking", "phone", "kind", "channel", "status", "result"):
        table.add_column(column, overflow="fold")
    table.add_column("request id", overflow="fold")
    for row in rows:
        style = _STATUS_STYLE[row.status]
        table.add_row(
            f"{row.sent_at:%H:%M:%S}",
            row.store,
            row.booking_num,
            row.phone_masked,
            row.kind,
            row.channel or "-",
            f"[{style}]{row.status.value}[/{style}]",
            row.result,
            row.request_id,
        )
    return table


@click.command("messages")
@click.option(
    "--date",
    "day",
    metavar="YYYY-MM-DD",
    callback=_day,
    help="The KST day the messages were sent (default: today).",
)
@click.option("--store", "store_id", metavar="ID", callback=_store, help="Only this businessId.")
@click.option(
    "--status",
    type=click.Choice([status.value for status in DeliveryStatus]),
    help="Only messages with this delivery status.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array on stdout.")
@click.pass_context
def messages(
    ctx: click.Context, day: str, store_id: str | None, status: str | None, as_json: bool
) -> None:
    """List the messages sent on a day, newest first, with their delivery status.

    A status is what the last cycle's check recorded: `accepted` (no final
    result yet), `delivered`, `failed` (the provider's words say why) or
    `unknown` (no final result within 72 hours).

    \b
    Examples:
      naver-sms messages
      naver-sms messages --date 2026-12-01 --status failed
      naver-sms messages --store 5000001 --json
    """
    from naver_sms import bootstrap  # noqa: PLC0415
    from naver_sms.config import Settings  # noqa: PLC0415
    from naver_sms.entrypoints.cli_view import console  # noqa: PLC0415

    settings = ctx.find_object(Settings) or bootstrap.load_settings()
    bootstrap.require_stored_data(settings)
    with bootstrap.booking_repository(settings) as store:
        records = store.sent_on(day, store_id)
    rows = history(
        records,
        day,
        store=store_id,
        status=DeliveryStatus(status) if status is not None else None,
    )
    if as_json:
        click.echo(json.dumps([row.to_dict() for row in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(f"no messages sent on {day}" + (" match" if store_id or status else ""))
        return
    console().print(messages_table(rows))
    counts = Counter(row.status.value for row in rows)
    by_status = ", ".join(f"{s.value} {counts[s.value]}" for s in DeliveryStatus if counts[s.value])
    # What the day cost depends on the channel (an AlimTalk is cheaper than a text).
    channels = Counter(row.channel or "sms" for row in rows)
    by_channel = ", ".join(f"{c.value} {channels[c.value]}" for c in Channel if channels[c.value])
    click.echo(f"{len(rows)} messages on {day}: {by_status}; by channel: {by_channel}")
