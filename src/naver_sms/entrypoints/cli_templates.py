"""`naver-sms templates check` and `templates preview`: see every text before a customer does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from naver_sms.domain.catalog import MessageSpec
from naver_sms.domain.messages import (
    ALIMTALK_MAX_CHARS,
    SMS_MAX_BYTES,
    AlimTalk,
    AlimTalkButton,
    Channel,
    MessageError,
    MessageKind,
)
from naver_sms.messaging.variables import VARIABLES

# Rich, Jinja2 and the config's pydantic are imported by the command that runs:
# `naver-sms templates --help` loads click only (issue 18).
# A template that cannot become a message is a configuration mistake: `run` refuses
# the same config with 2 (EXIT_USAGE), so the check says it with 2 too.
from naver_sms.report import EXIT_USAGE

if TYPE_CHECKING:
    from rich.console import Console

    from naver_sms.config import AppConfig
    from naver_sms.messaging.templates import CheckRow

_config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The YAML config file (default: NAVER_SMS_CONFIG, else ./naver-sms.yaml).",
)


def _load(ctx: click.Context, config_path: Path | None) -> AppConfig:
    from naver_sms import bootstrap  # noqa: PLC0415
    from naver_sms.config import Settings, load_app_config  # noqa: PLC0415

    settings = ctx.find_object(Settings)
    if settings is None:  # the group was invoked on its own (tests, embedding)
        settings = bootstrap.load_settings()
    return load_app_config(config_path or settings.config_path)


def _console() -> Console:
    from rich.console import Console  # noqa: PLC0415

    # Looked up per call so click's test runner (and pipes) get the output.
    return Console(soft_wrap=False, width=max(Console().width, 120))


def _variables_help() -> str:
    return "\n".join(
        f"  {name:<13} {what} (e.g. {sample})" for name, (what, sample) in VARIABLES.items()
    )


_HELP = (
    "Check and preview the message templates of the config file.\n\n"
    "\b\nExamples:\n"
    "  naver-sms templates check\n"
    "  naver-sms templates preview 5000001 guide\n\n"
    "\b\nTemplate variables:\n" + _variables_help()
)


@click.group("templates", help=_HELP)
def templates() -> None:
    pass


def _row_dict(row: CheckRow) -> dict[str, Any]:
    """A `templates check` row as JSON: what a script needs to gate a deploy on it."""
    return {
        "store": row.store.id,
        "store_name": row.store.name,
        "kind": row.kind,
        "origin": row.origin,
        "channel": str(row.channel) if row.channel is not None else None,
        "failover": row.failover,
        "template_code": row.template_code or None,
        "size": row.size,
        "text": row.text,
        "problems": list(row.problems),
        "warnings": list(row.warnings),
    }


@templates.command("check")
@_config_option
@click.option("--json", "as_json", is_flag=True, help="Print every row as JSON on stdout.")
@click.pass_context
def check(ctx: click.Context, config_path: Path | None, as_json: bool) -> None:
    """Render every store x message kind with a sample booking; exit 2 on any problem.

    Shows each text's EUC-KR size and whether it goes as SMS (<= 90 bytes) or
    LMS (<= 2,000), and what is wrong: undefined variables, characters EUC-KR
    cannot encode (emoji), missing advertising labels. A kind that goes as
    KakaoTalk AlimTalk has two rows: the AlimTalk (its template code and
    characters, <= 1,000) and the SMS failover.

    \b
    Examples:
      naver-sms templates check --config config/example.yaml
      naver-sms templates check --json
    """
    from rich.table import Table  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    from naver_sms.messaging.templates import check_templates  # noqa: PLC0415

    config = _load(ctx, config_path)
    rows = check_templates(config)
    if as_json:
        click.echo(json.dumps([_row_dict(row) for row in rows], ensure_ascii=False))
        if any(row.problems for row in rows):
            ctx.exit(EXIT_USAGE)
        return
    table = Table(title="Templates rendered with a sample booking", show_lines=True)
    for column in ("store", "kind", "template", "channel", "size", "problems"):
        table.add_column(column, justify="right" if column == "size" else "left")
    problems = 0
    for row in rows:
        notes = Text()
        for problem in row.problems:
            notes.append(f"error: {problem}\n", style="bold red")
        for warning in row.warnings:
            notes.append(f"warning: {warning}\n", style="yellow")
        problems += len(row.problems)
        notes.rstrip()
        table.add_row(
            f"{row.store.id}\n{row.store.name}",
            row.kind,
            _template_cell(row),
            _channel_cell(row),
            _size_cell(row),
            notes if notes.plain else Text("ok", style="green"),
        )
    console = _console()
    console.print(table)
    if config.messages is not None:
        # The record keeps each message under its name: the one thing an edit can undo.
        console.print(
            "A message's name is its record flag: renaming one makes it a new message, "
            "sent again to bookings that got the old one (edit the text, keep the name).",
            markup=False,
            highlight=False,
        )
    # An AlimTalk and its failover are one message to the customer.
    messages = sum(1 for row in rows if row.channel is not Channel.ALIMTALK)
    if problems:
        console.print(f"{problems} problem(s) in {messages} messages", style="bold red")
        ctx.exit(EXIT_USAGE)
    alimtalks = len(rows) - messages
    console.print(
        f"{messages} messages ok (SMS up to {SMS_MAX_BYTES} EUC-KR bytes, then LMS"
        + (
            f"; {alimtalks} as AlimTalk first, up to {ALIMTALK_MAX_CHARS:,} characters"
            if alimtalks
            else ""
        )
        + ")",
        style="green",
    )


def _template_cell(row: CheckRow) -> str:
    if row.channel is Channel.ALIMTALK:
        return f"{row.template_code} ({row.origin})"
    return row.origin


def _channel_cell(row: CheckRow) -> str:
    if row.channel is Channel.ALIMTALK:
        return "AlimTalk"
    shown = row.type.value if row.type else "-"
    return f"{shown} failover" if row.failover else shown


def _size_cell(row: CheckRow) -> str:
    if row.size is None:
        return "-"
    return f"{row.size} chars" if row.channel is Channel.ALIMTALK else f"{row.size} bytes"


def _button_line(button: AlimTalkButton) -> str:
    links = [
        link
        for link in (button.link_mobile, button.link_pc, button.scheme_ios, button.scheme_android)
        if link
    ]
    return f"button: [{button.type}] {button.name}" + (f" -> {' | '.join(links)}" if links else "")


@templates.command("preview")
@click.argument("store")
@click.argument("kind")
@_config_option
@click.option("--customer", default=None, help="A customer name for the sample booking.")
@click.pass_context
def preview(
    ctx: click.Context, store: str, kind: str, config_path: Path | None, customer: str | None
) -> None:
    """Print one store's message of KIND as a customer would get it.

    STORE is a store id or name; KIND is confirmation (or confirm), reminder
    (or guide) or event. A kind that goes as AlimTalk shows the AlimTalk
    (template code, channel, buttons), then the SMS failover.

    \b
    Examples:
      naver-sms templates preview 5000001 guide
      naver-sms templates preview "샘플 공방" event --customer 김하나
    """
    from naver_sms.messaging.templates import TemplateRenderer, sample_booking  # noqa: PLC0415

    config = _load(ctx, config_path)
    try:
        store_config = config.store(store)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="STORE") from None
    catalog = {spec.name: spec for spec in config.catalog(store_config)}
    try:
        name = MessageKind.parse(kind).value
    except ValueError:
        name = kind.strip()
    message_kind = catalog.get(name)
    if message_kind is None:
        raise click.BadParameter(
            f"unknown message kind {kind!r}: expected one of {', '.join(catalog)} "
            "(confirm and guide name the confirmation and the reminder)",
            param_hint="KIND",
        )
    booking = sample_booking(store_config)
    if customer:
        booking = type(booking).from_dict({**booking.to_item(), "name": customer})
    renderer = TemplateRenderer(config)
    choice = config.alimtalk_template(store_config, message_kind)
    try:
        alimtalk = renderer.alimtalk(store_config, message_kind, booking)
        rendered = renderer.render(store_config, message_kind, booking)
    except MessageError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_USAGE)
    if alimtalk is not None and choice is not None:
        _echo_alimtalk(store_config.name, store_config.id, message_kind, choice.origin, alimtalk)
        if not alimtalk.failover:
            click.echo("failover: off (a customer who cannot receive AlimTalk gets no message)")
            return
        click.echo("")
        click.echo("failover (sent as a text when the AlimTalk cannot be delivered):")
    header = (
        f"{store_config.name} ({store_config.id}) · {message_kind.name} · "
        f"{rendered.origin} template · {rendered.type.value} · {rendered.size} bytes"
    )
    click.echo(header)
    # What a real booking's values would have changed too (an emoji in --customer).
    for note in rendered.adjusted:
        click.echo(f"adjusted: {note}")
    if rendered.type.value == "LMS":
        click.echo(f"subject: {rendered.subject}")
    click.echo("-" * 40)
    click.echo(rendered.text)
    if message_kind.advertising and not store_config.opt_out:
        click.echo("warning: no opt_out for this store: event messages are not sent", err=True)


def _echo_alimtalk(
    store_name: str, store_id: str, kind: MessageSpec, origin: str, alimtalk: AlimTalk
) -> None:
    click.echo(
        f"{store_name} ({store_id}) · {kind.name} · AlimTalk template {alimtalk.template_code} "
        f"({origin}) · {alimtalk.plus_friend_id} · {len(alimtalk.content)} characters"
    )
    for button in alimtalk.buttons:
        click.echo(_button_line(button))
    click.echo("-" * 40)
    click.echo(alimtalk.content)
