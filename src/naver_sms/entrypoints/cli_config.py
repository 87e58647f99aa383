"""`naver-sms config migrate FILE`: an old config's `rules:` + `templates:` as `messages:`.

An old file keeps working unchanged; this prints the same configuration in
the form that can hold more messages, to review and save over the old one.
Nothing is written.
"""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from naver_sms.domain.catalog import When

# YAML and the config's pydantic are imported when the command runs: its --help
# loads click only (issue 18).
if TYPE_CHECKING:
    from naver_sms.config import AppConfig

__all__ = ["config_group", "migrated"]


def _hhmm(moment: time) -> str:
    return f"{moment:%H:%M}"


def _offset(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def migrated(config: AppConfig, raw: dict[str, Any]) -> dict[str, Any]:
    """`raw` (the file as read) with `rules:` and `templates:` turned into `messages:`,
    store templates into the stores' message overrides; everything else kept."""
    from naver_sms.config import ConfigError  # noqa: PLC0415

    if config.messages is not None:
        raise ConfigError("the config already has messages: (nothing to migrate)")
    out = {key: value for key, value in raw.items() if key not in ("rules", "templates")}
    messages = []
    for spec in config.catalog(config.stores[0]):
        entry: dict[str, Any] = {"name": spec.name, "when": spec.when.value}
        if spec.when in (When.BEFORE_VISIT, When.AFTER_VISIT) and spec.offset:
            entry["offset"] = _offset(spec.offset)
        if spec.advertising:
            entry["advertising"] = True
        if spec.window is not None:
            entry["window"] = [_hhmm(spec.window[0]), _hhmm(spec.window[1])]
        if spec.keywords:
            entry["keywords"] = list(spec.keywords)
        if not spec.enabled:
            entry["enabled"] = False
        template = next(
            (text for kind, text in config.templates.items() if kind.value == spec.name), None
        )
        if template is not None:
            entry["template"] = template
        messages.append(entry)
    stores = []
    for store_raw, store in zip(raw.get("stores") or [], config.stores, strict=False):
        kept = {key: value for key, value in dict(store_raw).items() if key != "templates"}
        overrides = [
            {"name": kind.value, "template": text} for kind, text in store.templates.items()
        ]
        if overrides:
            kept["messages"] = overrides
        stores.append(kept)
    out["stores"] = stores
    out["messages"] = messages
    return out


@click.group("config")
def config_group() -> None:
    """Work with the config file.

    \b
    Example:
      naver-sms config migrate naver-sms.yaml
    """


@config_group.command("migrate")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def migrate(path: Path) -> None:
    """Print PATH with its rules: and templates: as a messages: list (nothing is written).

    The old form keeps working; the new one can hold more messages (a day-before
    reminder, a thank-you, cancellation and change notices). Comments are not
    carried over.

    \b
    Example:
      naver-sms config migrate naver-sms.yaml > naver-sms.new.yaml
    """
    import yaml  # noqa: PLC0415

    from naver_sms.config import load_app_config  # noqa: PLC0415

    config = load_app_config(path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    click.echo(yaml.safe_dump(migrated(config, raw), allow_unicode=True, sort_keys=False), nl=False)
