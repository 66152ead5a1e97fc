"""Commands that read the projections: the account list and the reports."""

from __future__ import annotations

import csv
import io
from typing import Any

import click

from cli.commands.common import choice, session
from cli.output import emit_json, short_time, table
from domain.rules import account_rules
from domain.timerules import utcnow
from projections.queries import REPORTS, list_accounts, report


@click.command(name="list")
@click.option("--status", type=choice(*account_rules().states[1:]))
@click.option("--policy", help="Policy name.")
def list_command(status: str | None, policy: str | None) -> None:
    """Accounts from the status projection."""
    run = session()
    run.catch_up_for_reading()
    accounts = run.call(
        list_accounts, run.projections().views["accounts"], status=status, policy=policy
    )
    if run.json:
        emit_json({"accounts": accounts})
        return
    rows = [
        [
            a["id"],
            a["policy"],
            a["status"],
            short_time(a["status_since"]),
            a["open_applications"],
            a["advisor"] or "",
        ]
        for a in accounts
    ]
    click.echo(table(rows, ["id", "policy", "status", "since", "open apps", "advisor"]))
    click.echo(f"{len(accounts)} account(s)")


@click.command(name="report")
@click.argument("name", type=choice(*REPORTS, "html"))
@click.option("--from", "start", metavar="YYYY-MM-DD", help="First day included.")
@click.option("--to", "end", metavar="YYYY-MM-DD", help="Last day included.")
@click.option(
    "--format",
    "output_format",
    type=choice("table", "csv", "json"),
    default=None,
    help="Default: table (json with --json).",
)
@click.option(
    "--output",
    metavar="FILE",
    help="With NAME html: write the page to FILE (default: stdout).",
)
def report_command(
    name: str,
    start: str | None,
    end: str | None,
    output_format: str | None,
    output: str | None,
) -> None:
    """A management report fed by the projections.

    NAME html writes every report as one self-contained HTML page (charts
    and tables) for managers: it opens offline, from a file.
    """
    if name == "html":
        _html_report(start, end, output_format, output)
        return
    if output is not None:
        raise click.UsageError("--output goes with report html only")
    run = session()
    run.catch_up_for_reading()
    rows = run.call(
        report,
        run.projections().views["accounts"],
        name,
        start=start,
        end=end,
        now=utcnow(),
    )
    output_format = output_format or ("json" if run.json else "table")
    if output_format == "json":
        emit_json({"report": name, "rows": rows})
    elif output_format == "csv":
        click.echo(_csv(rows, name), nl=False)
    else:
        header = list(rows[0]) if rows else list(_EMPTY_HEADERS[name])
        click.echo(table([[_cell(r[h]) for h in header] for r in rows], header))


def _html_report(
    start: str | None, end: str | None, output_format: str | None, output: str | None
) -> None:
    """``report html``: the same query functions as the other reports, drawn."""
    if output_format is not None:
        raise click.UsageError("--format does not apply to report html")
    from cli.pages import report_page
    from cli.pages.common import check_output, deliver

    target = check_output(output)
    run = session()
    run.catch_up_for_reading()
    view = run.projections().views["accounts"]
    now = utcnow()
    rows = run.call(report_page.collect, view, start=start, end=end, now=now)
    zones = run.call(report_page.zones, view)
    page = report_page.build(
        rows,
        start=start,
        end=end,
        now=now,
        zone_names=zones,
        store=run.config.safe_url,
    )
    deliver(page, target, as_json=run.json)


_EMPTY_HEADERS = {
    "status": ("policy", "status", "count"),
    "withdrawals": ("month", "policy", "reason", "channel", "timing", "count"),
    "reinstatements": ("month", "policy", "mode", "count", "avg_days_after_withdrawal"),
    "retention": ("id", "policy", "status", "invalid_since", "purge_due_at"),
    "declines": ("month", "policy", "channel", "last_minute", "count", "flagged"),
    "unreachable": (
        "id",
        "policy",
        "unreachable_since",
        "days",
        "attempts",
        "open_applications",
    ),
}


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and len(value) > 19 and value[10] == "T":
        return short_time(value)
    return value


def _csv(rows: list[dict[str, Any]], name: str) -> str:
    buffer = io.StringIO()
    header = list(rows[0]) if rows else list(_EMPTY_HEADERS[name])
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


COMMANDS = [list_command, report_command]
