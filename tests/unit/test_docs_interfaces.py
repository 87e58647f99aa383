"""docs/interfaces.md says what the code does: the names a user or a script relies on.

The outside contract is read by people who cannot read the code (the owner,
the person who deploys): a variable, a report key or a metric added in code
and missing here is one they cannot find; one documented and gone breaks
their script.
"""

from __future__ import annotations

import re
from dataclasses import astuple
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import yaml

from naver_sms.config import _ENV, _SECRET_FIELDS, SECRET_VARIABLES, AppConfig, Settings
from naver_sms.database.base import claim_attributes, sent_attributes, unclear_attribute
from naver_sms.domain.booking import CORE_FIELDS, KST
from naver_sms.domain.record import (
    DELIVERY_DUE,
    DELIVERY_QUEUE,
    delivery_attributes,
    skipped_attribute,
)
from naver_sms.domain.schedule import MOVED_FROM
from naver_sms.entrypoints.cli import cli
from naver_sms.metrics import METRIC_NAMES
from naver_sms.report import CycleReport

ROOT = Path(__file__).resolve().parents[2]
INTERFACES = ROOT / "docs" / "interfaces.md"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _section(heading: str) -> str:
    """The text under `heading` (a `## ` or `### ` line) up to the next heading of its level."""
    text = INTERFACES.read_text(encoding="utf-8")
    level = heading.split(" ", 1)[0]
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    end = text.find(f"\n{level} ", start)
    return text[start : end if end != -1 else len(text)]


def _tables(heading: str) -> list[list[list[str]]]:
    """The markdown tables of a section: rows of cells, header and rule left out."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for line in _section(heading).splitlines():
        if not line.startswith("|"):
            current = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if current is None:
            current = []
            tables.append(current)
            continue  # the header
        if set("".join(cells)) <= set("-: "):
            continue  # the rule under the header
        current.append(cells)
    return tables


def _code(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_every_environment_variable_the_settings_read_is_documented_with_its_default() -> None:
    rows = {_code(row[0])[0]: row for row in _tables("## Environment")[0]}
    assert list(rows) == list(_ENV)
    for name, field in _ENV.items():
        default = Settings.model_fields[field].default
        shown = rows[name][1]
        if default is None:
            assert shown == "-" or shown.startswith("found on"), name
        else:
            assert f"`{default}`" in shown, f"{name}: default {default!r}, documented {shown!r}"


def test_exactly_the_variables_whose_values_are_scrubbed_are_marked_secret() -> None:
    rows = {_code(row[0])[0]: row for row in _tables("## Environment")[0]}
    scrubbed = {name for name, field in _ENV.items() if field in _SECRET_FIELDS}
    marked = {name for name, row in rows.items() if "**secret**" in row[2]}
    assert marked == scrubbed


def test_the_secrets_manager_secret_keys_are_the_ones_the_settings_accept() -> None:
    paragraph = next(
        p for p in _section("## Environment").split("\n- ") if p.startswith("**The Secrets Manager")
    )
    listed = [name for name in _code(paragraph) if name.isupper()]
    assert listed == list(SECRET_VARIABLES)


def test_the_report_keys_are_documented_in_the_order_the_report_writes_them() -> None:
    documented = [_code(row[0])[0] for row in _tables("## The JSON report")[0]]
    written = list(CycleReport(now=datetime(2026, 11, 25, 9, tzinfo=KST)).to_dict())
    assert documented == written
    assert documented[0] == "dry_run"


def test_every_metric_the_cycle_writes_is_documented() -> None:
    documented = {_code(row[0])[0] for row in _tables("## Metrics")[0]}
    assert documented == set(METRIC_NAMES)


def _command_names(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            names += _command_names(command, f"{prefix}{name} ")
        else:
            names.append(f"{prefix}{name}")
    return names


def test_every_command_is_documented_with_every_option() -> None:
    rows = {_code(row[0])[0]: row for row in _tables("## Commands")[0]}
    for name in _command_names(cli):
        row = next(
            (row for usage, row in rows.items() if usage == name or usage.startswith(f"{name} ")),
            None,
        )
        assert row is not None, f"`naver-sms {name}` is not in the commands table"
        command = cli.get_command(click.Context(cli), name.split()[0])
        for part in name.split()[1:]:
            assert isinstance(command, click.Group)
            command = command.get_command(click.Context(command), part)
        assert command is not None
        for param in command.params:
            if isinstance(param, click.Option):
                assert any(opt in row[1] for opt in param.opts), f"{name}: {param.opts}"


def test_every_record_attribute_the_stores_write_is_documented() -> None:
    documented = {_code(row[0])[0] for row in _tables("### `sms` (the records)")[0]}
    written = {
        *CORE_FIELDS,
        *claim_attributes("{flag}"),
        *sent_attributes("{flag}"),
        unclear_attribute("{flag}"),
        skipped_attribute("{flag}"),
        MOVED_FROM,
        *astuple(delivery_attributes("{flag}")),
        DELIVERY_QUEUE,
        DELIVERY_DUE,
    }
    assert written <= documented


def test_the_readme_and_the_docs_point_only_to_files_in_the_repository() -> None:
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    assert INTERFACES in documents
    assert ARCHITECTURE in documents
    for document in documents:
        text = document.read_text(encoding="utf-8")
        # The first round's design lived outside the repository, where no user can read it.
        assert "design/" not in text, document.name
        for target in _LINK.findall(text):
            if "://" in target:
                continue
            assert (document.parent / target).exists(), f"{document.name}: {target}"


def _messages_example(text: str, after: str) -> dict[str, Any]:
    block = text.split(after, 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    lines = block.splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    data: dict[str, Any] = yaml.safe_load("\n".join(line[indent:] for line in lines))
    # The examples leave the stores' other fields out (`# ...`).
    data["stores"] = [
        {"id": "5000001", "name": "샘플", "sender": "0200000000", "opt_out": "0800000000"}
        | {key: value for key, value in (data.get("stores") or [{}])[0].items() if key != "id"}
    ]
    return data


def test_the_messages_examples_of_the_docs_are_valid_configs() -> None:
    interfaces = _messages_example(
        INTERFACES.read_text(encoding="utf-8"), "### The `messages:` list"
    )
    readme = _messages_example(
        (ROOT / "README.md").read_text(encoding="utf-8"), "A complete example:"
    )
    for data in (interfaces, readme):
        config = AppConfig.model_validate(data)
        names = [spec.name for spec in config.catalog(config.stores[0])]
        assert {"confirmation", "cancelled", "changed"} <= set(names)
