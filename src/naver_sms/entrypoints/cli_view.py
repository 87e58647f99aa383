"""Rich tables for the CLI: a cycle's report, and the stored records. Phones arrive masked.

Tables fit the width they are given (a terminal's, or COLUMNS when piped):
the free-text columns (why, customer, messages) wrap or shorten first; a
booking number, a phone and a time never break, so a person can copy them
and a grep finds them. Rich measures Korean text by its display width.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.spinner import Spinner
from rich.table import Table

from naver_sms.domain.booking import mask_phone
from naver_sms.domain.catalog import BUILTIN_FLAGS, flag_of
from naver_sms.domain.record import flags_in, sent_attributes, skipped_attribute
from naver_sms.messaging.base import mask_phones_in

_RESULT_STYLE = {"sent": "green", "failed": "red", "held": "yellow"}
# Piped output without COLUMNS (a log file, cron mail) has no width to fit:
# wide enough that nothing is cut.
PIPED_WIDTH = 160
_NAME_OF_FLAG = {flag: name for name, flag in BUILTIN_FLAGS.items()}


def console() -> Console:
    """A console as wide as the terminal, or COLUMNS when piped (else PIPED_WIDTH)."""
    probe = Console()
    if probe.is_terminal:
        return probe
    columns = os.environ.get("COLUMNS", "")
    return Console(width=int(columns) if columns.isdigit() and int(columns) > 0 else PIPED_WIDTH)


@contextmanager
def progress(first: str, *, log_format: str | None) -> Iterator[Callable[[str], None] | None]:
    """A spinner on stderr saying what is under way, only for a person at a terminal.

    Yields a callback that changes its words, or None when stderr is not a
    terminal (pipes, cron mail, systemd get nothing extra) or the logs are
    JSON (a spinner would redraw over the lines, and rich would wrap them).
    The spinner leaves no trace; stdout (a --json report) is never touched.
    """
    err = Console(stderr=True)
    if not err.is_terminal or log_format != "text":
        yield None
        return
    spinner = Spinner("dots", f"{first}...", style="green")
    with Live(spinner, console=err, transient=True, redirect_stdout=False):
        yield lambda text: spinner.update(text=f"{text}...")


def report_table(report: Mapping[str, Any], *, title: str | None = None) -> Table:
    """Who got what and why: one row per message sent, failed or held back."""
    rehearsal = bool(report.get("dry_run"))
    default_title = f"{'dry run' if rehearsal else 'cycle'} at {report['now']}"
    table = Table(title=title or default_title, title_justify="left")
    table.add_column("booking", no_wrap=True)
    table.add_column("phone", no_wrap=True)
    table.add_column("message", overflow="fold")
    table.add_column("result", overflow="fold")
    # The why is read, not copied: it wraps and gives up its width first.
    table.add_column("why", overflow="fold", ratio=1)
    for result in ("sent", "failed", "held"):
        for item in report.get(result, []):
            detail = item.get("why", "")
            if result == "failed":
                detail = item.get("error", "")
            style = _RESULT_STYLE[result]
            shown = "would send" if rehearsal and result == "sent" else result
            if result == "sent" and item.get("channel"):
                shown += f" ({item['channel']})"
            table.add_row(
                item["booking_num"],
                item.get("phone_masked", ""),
                item["kind"],
                f"[{style}]{shown}[/{style}]",
                detail,
            )
    return table


def report_summary(report: Mapping[str, Any], *, outbox: Path | None = None) -> str:
    counts = Counter(item["kind"] for item in report.get("sent", []))
    by_kind = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())) or "nothing"
    if report.get("dry_run"):
        # A rehearsal must not read like texts that left: say where they went instead.
        where = ""
        if outbox is not None:
            shown = str(outbox) if outbox.is_absolute() else f"./{outbox}"
            where = f" -> {shown}"
        sent = f"dry run, nothing sent; would send: {by_kind}{where}"
    else:
        sent = f"sent: {by_kind}"
    parts = [f"{report['stores']} stores", f"{report['bookings']} bookings", sent]
    for key in ("failed", "invalid", "errors", "delivered", "undelivered"):
        if report.get(key):
            parts.append(f"{key}: {len(report[key])}")
    for key in ("created", "adopted", "rescheduled"):
        if report.get(key):
            parts.append(f"{key}: {report[key]}")
    parts.append(f"{report['duration_ms']} ms")
    return " | ".join(parts)


def print_report(
    console: Console,
    report: Mapping[str, Any],
    *,
    title: str | None = None,
    outbox: Path | None = None,
) -> None:
    if report.get("sent") or report.get("failed") or report.get("held"):
        console.print(report_table(report, title=title))
    elif title:
        console.print(f"[bold]{title}[/bold]: nothing due")
    for error in report.get("errors", []):
        where = f"store {error['store']}: " if error.get("store") else ""
        console.print(f"[red]error[/red] {where}{error['error']}")
    for item in report.get("invalid", []):
        console.print(f"[yellow]invalid[/yellow] {item['booking_num']}: {item['reason']}")
    for item in report.get("undelivered", []):
        # Sent earlier, and the carrier says it never reached the phone.
        detail = (
            f"{item['booking_num']} {item['phone_masked']} {item['kind']} "
            f"(sent {item['sent_at'][11:16]}): {item['result']}"
        )
        console.print(f"[red]not delivered[/red] {escape(detail)}", highlight=False)
    console.print(report_summary(report, outbox=outbox), markup=False, highlight=False)


def _moment(value: object) -> str:
    """`MM-DD HH:MM` of a stored KST time (`YYYY-MM-DD HH:MM:SS` or ISO 8601)."""
    text = str(value or "")
    return f"{text[5:10]} {text[11:16]}" if len(text) >= 16 else text


def message_states(
    record: Mapping[str, Any], names: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Each message of the record's store: its name, whether it went, when, or why not.

    `names` is the store's catalog (`AppConfig.catalog(store)`); without it
    (a config that does not load) the record's own flags say which messages
    there are.
    """
    if names is None:
        names = [_NAME_OF_FLAG.get(flag, flag.removesuffix("_sms")) for flag in flags_in(record)]
    states = []
    for name in names:
        flag = flag_of(name)
        _request_id, at = sent_attributes(flag)
        skipped = record.get(skipped_attribute(flag))
        states.append(
            {
                "name": name,
                "sent": record.get(flag) is True,
                "sent_at": record.get(at) if record.get(flag) is True else None,
                "skipped": str(skipped) if skipped else None,
            }
        )
    return states


def _mark(state: Mapping[str, Any], visit: str) -> str:
    if state["sent"]:
        when = _moment(state["sent_at"])
        if when[:5] == visit[5:10]:  # sent on the visit's day: its time says enough
            when = when[6:]
        return f"✓ {state['name']} {when}".rstrip()
    if state["skipped"]:
        return f"✗ {state['name']} (not sent: {state['skipped']})"
    return f"· {state['name']}"


def booking_rows(
    records: Iterable[Mapping[str, Any]],
    catalogs: Mapping[str, Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """The records as `bookings` shows them (and prints with --json); phones masked.

    `catalogs` maps a store id to its message names, in the config's order.
    """
    rows = []
    for record in records:
        booking_num = str(record.get("booking_num", ""))
        store, _, book_id = booking_num.partition("_")
        names = (catalogs or {}).get(store)
        rows.append(
            {
                "store": store,
                "booking": book_id or booking_num,
                "booking_num": booking_num,
                "visit": str(record.get("booking_time", ""))[:16],
                # Customers type anything into the name field, their number included.
                "customer": mask_phones_in(str(record.get("name", ""))),
                "phone_masked": mask_phone(record.get("phone")),
                "messages": message_states(record, names),
            }
        )
    return rows


def bookings_table(
    records: Iterable[Mapping[str, Any]],
    catalogs: Mapping[str, Sequence[str]] | None = None,
) -> Table:
    """Store, booking, visit, customer, phone, and each message as a mark with its time."""
    # No outer frame: at 80 columns every cell of width goes to the text.
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0), title_justify="left")
    for column in ("store", "booking", "visit (KST)"):
        table.add_column(column, no_wrap=True)
    table.add_column("customer", overflow="fold")
    table.add_column("phone", no_wrap=True)
    # One message a line: ✓ sent (with its time), · not yet, ✗ never (why).
    table.add_column("messages", overflow="fold", ratio=1, min_width=12)
    for row in booking_rows(records, catalogs):
        table.add_row(
            row["store"],
            row["booking"],
            row["visit"][5:],  # the year is in --json; a row is read for its day and hour
            escape(row["customer"]),
            row["phone_masked"],
            escape("\n".join(_mark(state, row["visit"]) for state in row["messages"]) or "-"),
        )
    return table
