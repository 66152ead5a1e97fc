"""``seekers import``: an agency's existing records, as they happened.

Thin on purpose: read the file, call ``services.importing``, render its
report and pick the exit code (0 all in, 1 some lines rejected, 2 the file
cannot be read), so the rules of an import live in one testable place.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from cli.commands.common import choice, session
from cli.output import emit_json
from cli.params import VERBATIM
from cli.progress import ProgressLine
from domain.errors import BadValue
from domain.i18n import _
from services.importing import (
    ImportReport,
    import_records,
    jsonl_lines,
    read_csv,
    read_jsonl,
)

MAX_IMPORT_FILE = 4 * 1024**3
"""Larger than any agency's export; the file is read into memory whole."""


class LineProgress(ProgressLine):
    """The shared progress line, counting lines of the file, not events."""

    def _sentence(self) -> str:
        return _("{label} [{bar}] {done}/{total} lines {rate} lines/s ETA {left}")


def _read(path: Path) -> str:
    """The file's text, or a one-line usage error (exit 2)."""
    try:
        if path.stat().st_size > MAX_IMPORT_FILE:
            raise BadValue(
                _("cannot read {path}: larger than {limit} bytes").format(
                    path=path, limit=MAX_IMPORT_FILE
                )
            )
        # utf-8-sig: a byte order mark (Excel's "CSV UTF-8" writes one) is
        # not part of the first field; without one it reads as UTF-8.
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BadValue(
            _("cannot read {path}: no such file").format(path=path)
        ) from None
    except IsADirectoryError:
        raise BadValue(
            _("cannot read {path}: a directory, not a file").format(path=path)
        ) from None
    except UnicodeDecodeError as error:
        raise BadValue(
            _("cannot read {path}: not UTF-8 text (byte {byte})").format(
                path=path, byte=error.start
            )
        ) from None
    except OSError as error:
        raise BadValue(
            _("cannot read {path}: {reason}").format(
                path=path, reason=error.strerror or error
            )
        ) from None


@click.command(name="import")
@click.argument("file", type=VERBATIM, metavar="FILE")
@click.option(
    "--format",
    "file_format",
    type=choice("jsonl", "csv"),
    help="JSON Lines of events, or a CSV of registrations (default: by the "
    "file's extension, .csv or else jsonl).",
)
@click.option("--dry-run", is_flag=True, help="Check and count; write nothing.")
def import_command(file: str, file_format: str | None, dry_run: bool) -> None:
    """Import an agency's existing records (JSON Lines events or CSV registrations).

    Histories go in as they happened, even where today's rules would refuse
    them ('seekers audit replay' lists those). Accounts are found again by
    their ref, so a rerun skips what is already in. A bad line is reported
    as 'line N: why' and nothing of its account is written. Exits 0 when
    every line went in or was already in, 1 when some were rejected.
    """
    run = session()
    path = Path(file)
    text = _read(path)
    kind = (
        file_format or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    ).lower()
    lines = read_csv(text) if kind == "csv" else read_jsonl(jsonl_lines(text))
    config = run.config
    missing = config.sqlite_path is not None and not config.sqlite_path.exists()
    actor_default = run.actor if kind == "csv" else None
    report = None
    if missing and not dry_run:
        # No store yet: a file with nothing to write (every line rejected)
        # creates none.
        preview = run.call(
            import_records, None, lines, actor_default=actor_default, dry_run=True
        )
        if not preview.events:
            report = replace(preview, dry_run=False)
    if report is None:
        ledger = None if dry_run and missing else run.ledger(create=True)
        with LineProgress("import", len(lines), enabled=not run.json) as bar:
            report = run.call(
                import_records,
                ledger,
                lines,
                actor_default=actor_default,
                dry_run=dry_run,
                progress=bar,
            )
    if report.events and not dry_run:
        run.catch_up()
    for rejection in report.rejections:
        click.echo(
            _("line {line}: {why}").format(line=rejection.line, why=rejection.why),
            err=True,
        )
    for duplicate in report.duplicates:
        click.echo(
            _(
                "note: line {line} repeats line {same_as} (ref {ref}): "
                "skipped as already in"
            ).format(
                line=duplicate.line, same_as=duplicate.same_as, ref=repr(duplicate.ref)
            ),
            err=True,
        )
    if run.json:
        emit_json(
            {
                "dry_run": dry_run,
                "lines": report.lines,
                "accounts": report.accounts,
                "new_accounts": report.new_accounts,
                "continued_accounts": report.continued_accounts,
                "events": report.events,
                "already": report.already,
                "rejected": report.rejected,
                "rejections": [
                    {"line": r.line, "ref": r.ref, "why": r.why}
                    for r in report.rejections
                ],
                "duplicates": [
                    {"line": d.line, "same_as": d.same_as, "ref": d.ref}
                    for d in report.duplicates
                ],
                "ids": {ref: str(seeker_id) for ref, seeker_id in report.ids.items()},
            }
        )
    else:
        click.echo(_summary(report, dry_run=dry_run))
    if not report.ok:
        raise click.exceptions.Exit(1)


def _summary(report: ImportReport, *, dry_run: bool) -> str:
    """The one line that says what went in (or would), counted."""
    sentence = (
        _(
            "would import {events} event(s) into {accounts} account(s) ({new} new, "
            "{continued} continued); {already} line(s) already in; {rejected} "
            "line(s) rejected"
        )
        if dry_run
        else _(
            "imported {events} event(s) into {accounts} account(s) ({new} new, "
            "{continued} continued); {already} line(s) already in; {rejected} "
            "line(s) rejected"
        )
    )
    line = sentence.format(
        events=report.events,
        accounts=report.accounts,
        new=report.new_accounts,
        continued=report.continued_accounts,
        already=report.already,
        rejected=report.rejected,
    )
    if report.rejected:
        line += _(" ({bad} bad, the rest of their accounts)").format(
            bad=len(report.rejections)
        )
    return line


COMMANDS = [import_command]
