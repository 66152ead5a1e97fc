"""Commands that read the projections: the account list and the reports.

``list`` and every report are paged by keyset (``--limit N``, ``--all``,
``--after CURSOR``) and streamed: rows are fetched a batch at a time and
written as they come, in every format, so ``--all`` over a million accounts
runs in flat memory, and a person at a terminal waits for one page, not for
the whole store.

The paging rule: ``--limit N`` gives N rows; without it, a terminal gets
``TERMINAL_PAGE`` rows (someone is reading) and anything else (a pipe, a
file) every row (a script gets the whole listing, as before paging);
``--all`` gives every row on a terminal too. When rows are left, the JSON
document carries ``"next": CURSOR``; a table or CSV says ``next page:
--after CURSOR`` on stderr, so stdout stays data.

Tables are in the run's language (column names, codes, dates, counters);
JSON and CSV are data for programs and keep their field names and codes.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, TypeVar

import click

from cli.commands.common import choice, session
from cli.output import cell_width, japanese, pad, short_time, yes_no
from cli.params import VERBATIM
from cli.session import Session, storage_errors
from cli.views import REPORT_COLUMN_KINDS, term
from domain.dates_for_people import counted
from domain.i18n import NC_, _, ngettext, pgettext
from domain.rules import account_rules
from domain.timerules import utcnow
from projections.queries import (
    BATCH_SIZE,
    LIST_COLUMNS,
    REPORT_COLUMNS,
    REPORTS,
    UNDATED,
    RowStream,
    iter_accounts,
    report_rows,
)

TERMINAL_PAGE = 50
"""Rows shown when stdout is a terminal and neither --limit nor --all is given."""

T = TypeVar("T")

_format_option = click.option(
    "--format",
    "output_format",
    type=choice("table", "csv", "json"),
    default=None,
    help="Default: table (json with --json).",
)
_limit = click.option(
    "--limit",
    type=click.IntRange(min=1),
    metavar="N",
    help=f"At most N rows (default: {TERMINAL_PAGE} on a terminal, else all); "
    "the cursor of the next page is printed when more rows exist.",
)
_all = click.option(
    "--all", "all_rows", is_flag=True, help="Every row, even on a terminal."
)
_after = click.option(
    "--after",
    metavar="CURSOR",
    help="Continue after the page that printed this cursor.",
)


def _page_size(limit: int | None, all_rows: bool) -> int | None:
    """The rows to give: see the paging rule in this module's docstring."""
    if all_rows and limit is not None:
        raise click.UsageError(_("--limit and --all go separately"))
    if all_rows or limit is not None:
        return limit
    try:
        terminal = sys.stdout.isatty()
    except (AttributeError, ValueError):
        terminal = False
    return TERMINAL_PAGE if terminal else None


def _format(output_format: str | None, run: Session) -> str:
    return output_format or ("json" if run.json else "table")


@click.command(name="list")
@click.option("--status", type=choice(*account_rules().states[1:]))
@click.option("--policy", help="Policy name.")
@_format_option
@_limit
@_all
@_after
def list_command(
    status: str | None,
    policy: str | None,
    output_format: str | None,
    limit: int | None,
    all_rows: bool,
    after: str | None,
) -> None:
    """Accounts from the status projection, by registration time.

    Paged: --limit N (default 50 on a terminal, every row otherwise), --all,
    --after CURSOR (printed after a page that has a next one).
    """
    size = _page_size(limit, all_rows)
    run = session()
    accounts: RowStream = run.call(
        iter_accounts,
        run.reader(),
        status=status,
        policy=policy,
        limit=size,
        after=after,
    )
    with storage_errors(run.config):
        emit_accounts(accounts, _format(output_format, run))


@click.command(name="report")
@click.argument("name", type=choice(*REPORTS, "html"))
@click.option("--from", "start", metavar="YYYY-MM-DD", help="First day included.")
@click.option("--to", "end", metavar="YYYY-MM-DD", help="Last day included.")
@_format_option
@click.option(
    "--output",
    type=VERBATIM,
    metavar="FILE",
    help="With NAME html: write the page to FILE (default: stdout).",
)
@_limit
@_all
@_after
def report_command(
    name: str,
    start: str | None,
    end: str | None,
    output_format: str | None,
    output: str | None,
    limit: int | None,
    all_rows: bool,
    after: str | None,
) -> None:
    """A management report fed by the projections.

    Paged like ``list``: --limit N (default 50 on a terminal, every row
    otherwise), --all, --after CURSOR. NAME html writes every report as one
    self-contained HTML page (charts and tables) for managers: it opens
    offline, from a file.
    """
    if name == "html":
        if limit is not None or after is not None or all_rows:
            raise click.UsageError(
                _(
                    "--limit, --all and --after page the listings, not report html "
                    "(the page holds every aggregate row and the first 200 accounts "
                    "of retention and unreachable)"
                )
            )
        _html_report(start, end, output_format, output)
        return
    if output is not None:
        raise click.UsageError(_("--output goes with report html only"))
    if name in UNDATED and (start is not None or end is not None):
        raise click.UsageError(
            _(
                "report {name} is the accounts as they are now: --from and --to "
                "do not apply"
            ).format(name=name)
        )
    size = _page_size(limit, all_rows)
    run = session()
    rows: RowStream = run.call(
        report_rows,
        run.reader(),
        name,
        start=start,
        end=end,
        now=utcnow(),
        limit=size,
        after=after,
    )
    with storage_errors(run.config):
        emit_report(name, rows, _format(output_format, run))


def emit_accounts(accounts: RowStream, output_format: str) -> None:
    """``list``'s output, written as the rows come (the benchmark times the
    query with this, as the command runs them)."""
    if output_format == "json":
        _write_json({}, "accounts", accounts)
    elif output_format == "csv":
        _write_csv(LIST_COLUMNS, accounts)
    else:
        cells = (
            [
                a["id"],
                term("policy", a["policy"]),
                term("account state", a["status"]),
                short_time(a["status_since"]),
                a["open_applications"],
                a["advisor"] or "",
            ]
            for a in accounts
        )
        header = [pgettext("list column", column) for column in LIST_HEADER]
        _write_table(cells, header)
        click.echo(
            ngettext("{n} account(s)", "{n} account(s)", accounts.count).format(
                n=accounts.count
            )
        )
    _announce_next(accounts, output_format)


def emit_report(name: str, rows: RowStream, output_format: str) -> None:
    """A report's output, written as the rows come: JSON ``{"report": NAME,
    "rows": [...]}``, CSV with a header, or a text table."""
    header = REPORT_COLUMNS[name]
    if output_format == "json":
        _write_json({"report": name}, "rows", rows)
    elif output_format == "csv":
        _write_csv(header, rows)
    else:
        names = [pgettext("report column", column) for column in header]
        _write_table(([_cell(h, r[h]) for h in header] for r in rows), names)
    _announce_next(rows, output_format)


LIST_HEADER = (
    NC_("list column", "id"),
    NC_("list column", "policy"),
    NC_("list column", "status"),
    NC_("list column", "since"),
    NC_("list column", "open apps"),
    NC_("list column", "advisor"),
)
"""The columns of ``list``'s table."""

REPORT_HEADER = (
    NC_("report column", "month"),
    NC_("report column", "policy"),
    NC_("report column", "reason"),
    NC_("report column", "channel"),
    NC_("report column", "timing"),
    NC_("report column", "count"),
    NC_("report column", "mode"),
    NC_("report column", "avg_days_after_withdrawal"),
    NC_("report column", "id"),
    NC_("report column", "status"),
    NC_("report column", "invalid_since"),
    NC_("report column", "purge_due_at"),
    NC_("report column", "unreachable_since"),
    NC_("report column", "days"),
    NC_("report column", "attempts"),
    NC_("report column", "open_applications"),
    NC_("report column", "last_minute"),
    NC_("report column", "flagged"),
)
"""Every report column, as a report's table heads it (a test checks that
each column of ``REPORT_COLUMNS`` is here)."""


def _batches(items: Iterable[T], size: int = BATCH_SIZE) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _write_json(head: dict[str, Any], field: str, rows: RowStream) -> None:
    """One JSON document, written as the rows come: the fields of ``head``,
    then ``field`` (the rows), then ``next`` when a page follows."""
    opening = "".join(
        f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},\n"
        for key, value in head.items()
    )
    click.echo(f"{{\n{opening}  {json.dumps(field)}: [", nl=False)
    separator = "\n    "
    for batch in _batches(rows):
        parts = []
        for row in batch:
            parts.append(separator + json.dumps(row, ensure_ascii=False))
            separator = ",\n    "
        click.echo("".join(parts), nl=False)
    closing = "]" if rows.count == 0 else "\n  ]"
    if rows.next_cursor is not None:
        closing += f',\n  "next": {json.dumps(rows.next_cursor)}'
    click.echo(closing + "\n}")


def _write_csv(header: Sequence[str], rows: Iterable[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(header), lineterminator="\n")
    writer.writeheader()
    click.echo(buffer.getvalue(), nl=False)
    for batch in _batches(rows):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(batch)
        click.echo(buffer.getvalue(), nl=False)


def _write_table(rows: Iterable[Sequence[Any]], header: Sequence[str]) -> None:
    """A text table written a batch at a time. Column widths are those of
    the header and the rows so far: they only grow, so a long listing stays
    aligned within each batch of rows (a short one is one batch)."""
    widths = [cell_width(str(h)) for h in header]

    def line(cells: Sequence[str]) -> str:
        padded = (pad(c, w) for c, w in zip(cells, widths, strict=True))
        return "  ".join(padded).rstrip()

    started = False
    for batch in _batches(rows):
        cells = [["" if c is None else str(c) for c in row] for row in batch]
        widths = [
            max([w, *(cell_width(row[i]) for row in cells)])
            for i, w in enumerate(widths)
        ]
        lines = [] if started else [line(header), line(["-" * w for w in widths])]
        started = True
        lines += [line(row) for row in cells]
        click.echo("\n".join(lines))
    if not started:
        click.echo("\n".join([line(header), line(["-" * w for w in widths])]))


def _announce_next(rows: RowStream, output_format: str) -> None:
    """Where the next page starts: in the JSON document, else on stderr."""
    if rows.next_cursor is not None and output_format != "json":
        click.echo(
            _("next page: --after {cursor}").format(cursor=rows.next_cursor),
            err=True,
        )


def _html_report(
    start: str | None, end: str | None, output_format: str | None, output: str | None
) -> None:
    """``report html``: the same query functions as the other reports, drawn."""
    if output_format is not None:
        raise click.UsageError(_("--format does not apply to report html"))
    from cli.files import check_output
    from cli.pages import report_page
    from cli.pages.common import deliver
    from domain.timerules import parse_date

    # The page slices its month axis out of ISO dates: a Japanese --from or
    # --to (令和7年1月1日) is read into one here.
    start, end = (parse_date(day).isoformat() if day else None for day in (start, end))
    target = check_output(output)
    run = session()
    view = run.reader()
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


def _cell(column: str, value: Any) -> Any:
    """A report's value as its table shows it: yes or no, a time to the
    minute; in Japanese codes by their names, months and days with their
    counters (``2026年2月``, ``31日``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, str) and len(value) > 19 and value[10] == "T":
        return short_time(value)
    if not japanese():
        return value
    if column in REPORT_COLUMN_KINDS:
        return term(REPORT_COLUMN_KINDS[column], value)
    if column == "month":
        from domain.dates_for_people import era_wanted, format_month

        return format_month(value, era=era_wanted())
    if column in ("days", "avg_days_after_withdrawal"):
        return counted("days", value)
    return value


COMMANDS = [list_command, report_command]
