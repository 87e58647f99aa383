"""Rich tables for the CLI: a cycle's report, and the stored records. Phones arrive masked."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from naver_sms.domain.booking import FLAGS, mask_phone
from naver_sms.messaging.base import mask_phones_in

_RESULT_STYLE = {"sent": "green", "failed": "red", "held": "yellow"}
# Piped output (a log file, a test) has no terminal width: don't cut booking numbers.
PIPED_WIDTH = 160


def console() -> Console:
    probe = Console()
    return probe if probe.is_terminal else Console(width=PIPED_WIDTH)


def report_table(report: Mapping[str, Any], *, title: str | None = None) -> Table:
    """Who got what and why: one row per message sent, failed or held back."""
    rehearsal = bool(report.get("dry_run"))
    default_title = f"{'dry run' if rehearsal else 'cycle'} at {report['now']}"
    table = Table(title=title or default_title, title_justify="left")
    for column in ("booking", "phone", "message", "result", "why"):
        table.add_column(column, overflow="fold")
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


def bookings_table(records: Iterable[Mapping[str, Any]]) -> Table:
    table = Table(title_justify="left")
    for column in ("booking", "phone", "name", "visit (KST)", *FLAGS):
        table.add_column(column)
    for record in records:
        table.add_row(
            str(record.get("booking_num", "")),
            mask_phone(record.get("phone")),
            # Customers type anything into the name field, their number included.
            mask_phones_in(str(record.get("name", ""))),
            str(record.get("booking_time", "")),
            *("yes" if record.get(flag) is True else "-" for flag in FLAGS),
        )
    return table
