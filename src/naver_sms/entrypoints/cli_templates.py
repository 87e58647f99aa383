"""`naver-sms templates check` and `templates preview`: see every text before a customer does."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from naver_sms import bootstrap
from naver_sms.config import AppConfig, Settings, load_app_config
from naver_sms.domain.messages import SMS_MAX_BYTES, MessageError, MessageKind
from naver_sms.messaging.templates import (
    VARIABLES,
    TemplateRenderer,
    check_templates,
    sample_booking,
)

EXIT_PROBLEMS = 1

_config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The YAML config file (default: NAVER_SMS_CONFIG, else ./naver-sms.yaml).",
)


def _load(ctx: click.Context, config_path: Path | None) -> AppConfig:
    settings = ctx.find_object(Settings)
    if settings is None:  # the group was invoked on its own (tests, embedding)
        settings = bootstrap.load_settings()
    return load_app_config(config_path or settings.config_path)


def _console() -> Console:
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


@templates.command("check")
@_config_option
@click.pass_context
def check(ctx: click.Context, config_path: Path | None) -> None:
    """Render every store x message kind with a sample booking; exit 1 on any problem.

    Shows each text's EUC-KR size and whether it goes as SMS (<= 90 bytes) or
    LMS (<= 2,000), and what is wrong: undefined variables, characters EUC-KR
    cannot encode (emoji), missing advertising labels.

    \b
    Example:
      naver-sms templates check --config config/example.yaml
    """
    config = _load(ctx, config_path)
    rows = check_templates(config)
    table = Table(title="Templates rendered with a sample booking", show_lines=True)
    for column in ("store", "kind", "template", "type", "bytes", "problems"):
        table.add_column(column, justify="right" if column == "bytes" else "left")
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
            row.kind.value,
            row.origin,
            row.type.value if row.type else "-",
            str(row.size) if row.size is not None else "-",
            notes if notes.plain else Text("ok", style="green"),
        )
    console = _console()
    console.print(table)
    if problems:
        console.print(f"{problems} problem(s) in {len(rows)} messages", style="bold red")
        ctx.exit(EXIT_PROBLEMS)
    console.print(
        f"{len(rows)} messages ok (SMS up to {SMS_MAX_BYTES} EUC-KR bytes, then LMS)",
        style="green",
    )


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
    (or guide) or event.

    \b
    Examples:
      naver-sms templates preview 5000001 guide
      naver-sms templates preview "샘플 스튜디오" event --customer 김하나
    """
    config = _load(ctx, config_path)
    try:
        store_config = config.store(store)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="STORE") from None
    try:
        message_kind = MessageKind.parse(kind)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="KIND") from None
    booking = sample_booking(store_config)
    if customer:
        booking = type(booking).from_dict({**booking.to_item(), "name": customer})
    renderer = TemplateRenderer(config)
    try:
        rendered = renderer.render(store_config, message_kind, booking)
    except MessageError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_PROBLEMS)
    header = (
        f"{store_config.name} ({store_config.id}) · {message_kind.value} · "
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
    if message_kind.is_advertising and not store_config.opt_out:
        click.echo("warning: no opt_out for this store: event messages are not sent", err=True)
