"""`naver-sms send-test`: one store's message, rendered for a made-up booking, to one number.

The owner sees on their own phone what a customer gets, through the real
provider (SMS/LMS through SENS, or AlimTalk with its SMS failover when the
store sends that kind as AlimTalk). Nothing is recorded on any booking, so
`naver-sms messages` does not list it. It asks first, showing the masked
number and the text; `--yes` skips the question. Exit codes: 0 accepted,
1 the provider refused or failed, 2 usage or configuration (no SENS keys).
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING

import click

from naver_sms.domain.booking import mask_phone, normalize_phone
from naver_sms.domain.messages import Message, MessageKind
from naver_sms.utils.clock import now_kst
from naver_sms.utils.scrub import scrub

# The settings' pydantic, Jinja2 and SENS's client are imported when the command
# runs: `naver-sms send-test --help` loads click only (issue 18).
if TYPE_CHECKING:
    from naver_sms.config import AppConfig, Settings, StoreConfig

__all__ = ["now_kst", "send_test"]

NO_KEYS = (
    "send-test sends a real text: set SENS_ACCESS_KEY, SENS_SECRET_KEY and SENS_SERVICE_ID "
    "(the SENS console shows the project's keys); `naver-sms templates preview` shows a "
    "text without sending it"
)


def _kind(_ctx: click.Context, _param: click.Parameter, text: str) -> MessageKind:
    try:
        return MessageKind.parse(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _mobile(_ctx: click.Context, _param: click.Parameter, text: str) -> str:
    try:
        return normalize_phone(text)
    except ValueError:
        raise click.BadParameter(f"{mask_phone(text)} is not a Korean mobile number") from None


def _store(config: AppConfig, key: str) -> StoreConfig:
    try:
        return config.store(key)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="--store") from None


def _settings(ctx: click.Context) -> Settings:
    from naver_sms import bootstrap  # noqa: PLC0415
    from naver_sms.config import Settings  # noqa: PLC0415

    settings = ctx.find_object(Settings)
    return settings if settings is not None else bootstrap.load_settings()


def _require_keys(settings: Settings) -> None:
    from naver_sms.config import ConfigError  # noqa: PLC0415

    keys = (settings.sens_access_key, settings.sens_secret_key, settings.sens_service_id)
    if not all(keys):
        raise ConfigError(NO_KEYS)


def _show(message: Message, store: StoreConfig, kind: MessageKind) -> None:
    from naver_sms.messaging.test_send import channel_label  # noqa: PLC0415

    label = (
        " (advertising: labelled (광고), with the 080 opt-out line)" if kind.is_advertising else ""
    )
    click.echo(
        f"{kind.value} of store {store.id} ({store.name}) as {channel_label(message)}{label}, "
        f"to {mask_phone(message.to)}, from the store's sender:"
    )
    if message.alimtalk is not None:
        click.echo(message.alimtalk.content)
        click.echo("-- its SMS failover:")
    click.echo(message.text)


@click.command("send-test")
@click.option("--store", "store_key", required=True, metavar="ID", help="The store's businessId.")
@click.option(
    "--message",
    "kind",
    required=True,
    metavar="KIND",
    callback=_kind,
    help="confirmation (confirm), reminder (guide) or event.",
)
@click.option(
    "--to", "to", required=True, metavar="NUMBER", callback=_mobile, help="A mobile number."
)
@click.option("--yes", is_flag=True, help="Send without asking first.")
@click.pass_context
def send_test(ctx: click.Context, store_key: str, kind: MessageKind, to: str, yes: bool) -> None:
    """Send one store's message, for a made-up booking, to NUMBER, through SENS.

    The text is the store's template filled in with a sample customer
    (홍길동, tomorrow 14:00); it goes as the store sends that kind
    (SMS/LMS, or AlimTalk with its SMS failover). It is recorded on no
    booking. An event message is advertising: labelled as the law
    requires, sent only 08:00-21:00 KST and never to a number that opted out.

    \b
    Examples (the stores of the config `naver-sms init` writes):
      naver-sms send-test --store 5000001 --message confirm --to 010-0000-1234
      naver-sms send-test --store 5000002 --message event --to 010-0000-1234 --yes
    """
    from naver_sms import bootstrap  # noqa: PLC0415
    from naver_sms.config import ConfigError, load_app_config  # noqa: PLC0415
    from naver_sms.messaging import test_send as test  # noqa: PLC0415

    settings = _settings(ctx)
    _require_keys(settings)
    config = load_app_config(settings.config_path)
    store = _store(config, store_key)
    with ExitStack() as stack:
        sms = stack.enter_context(bootstrap.sens(settings))
        try:
            message = test.render_test(config, store, kind, to, now_kst())
            alimtalk = None
            if message.alimtalk is not None:
                alimtalk = bootstrap.build_alimtalk_sender(settings, config)
                close = getattr(alimtalk, "close", None)
                if callable(close):
                    stack.callback(close)
            # Refused before the owner is asked "send it?", when nothing could go.
            sender = test.sender_for(message, sms, alimtalk)
            if kind.is_advertising:
                test.refuse_opted_out(message, sms.opted_out())
        except test.TestSendRefused as exc:
            raise ConfigError(str(exc)) from None
        _show(message, store, kind)
        if not yes:
            click.confirm(f"send it to {mask_phone(to)}?", abort=True)
        try:
            request_id = test.send_rendered(message, sender)
        except test.TestSendFailed as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(
        scrub(
            f"sent: SENS accepted it, request id {request_id} (not recorded on any booking: "
            "`naver-sms messages` does not list it)"
        )
    )
