"""Commands about personal data: finding an account by email or by the
reading of its name, subject access."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli.commands.common import seeker_argument, session
from cli.output import emit_json, short_time, table
from cli.session import parse_seeker_id
from cli.views import account_view, history_entry_view, iso, term
from domain import kana
from domain.errors import BadValue, SeekerNotFound
from domain.i18n import NC_, _, language, pgettext
from domain.timerules import utcnow


@click.command()
@click.option("--email", help="The email to look for.")
@click.option(
    "--name-kana",
    help="The name's reading to look for: the whole, or the family or given name.",
)
def find(email: str | None, name_kana: str | None) -> None:
    """Accounts by email or name reading (keyed hashes: neither is stored)."""
    if (email is None) == (name_kana is None):
        raise click.UsageError(_("give --email or --name-kana (one of them)"))
    # A reading that is not kana is refused before a store is opened.
    reading = kana.reading(name_kana) if name_kana is not None else None
    run = session()
    ledger = run.ledger()
    if reading is not None:
        matches = run.call(ledger.find_by_reading, reading)
    else:
        assert email is not None
        matches = run.call(ledger.find_by_email, email)
    accounts = []
    for policy, seeker_id in matches:
        try:
            seeker = run.call(ledger.get_seeker, seeker_id)
        except SeekerNotFound:
            # Index rows of a registration that never completed (the process
            # died between indexing and saving): no account to list.
            continue
        accounts.append(
            {"id": str(seeker_id), "policy": policy, "status": seeker.status}
        )
    if run.json:
        emit_json({"accounts": accounts})
        return
    if not accounts:
        if email is not None:
            click.echo(_("no account with that email"))
        else:
            click.echo(_("no account whose name reads so"))
        return
    rows = [
        [a["id"], term("policy", a["policy"]), term("account state", a["status"])]
        for a in accounts
    ]
    click.echo(table(rows, [pgettext("list column", c) for c in FIND_HEADER]))


FIND_HEADER = (
    NC_("list column", "id"),
    NC_("list column", "policy"),
    NC_("list column", "status"),
)


@click.command(name="export-data")
@seeker_argument
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the document to this file (default: stdout).",
)
def export_data(seeker: str, output: Path | None) -> None:
    """Everything held about one seeker, as JSON (subject access request)."""
    run = session()
    seeker_id = parse_seeker_id(seeker)
    ledger = run.ledger()
    account = run.call(ledger.get_seeker, seeker_id)
    trail = run.call(ledger.history, seeker_id)
    zone = account.policy.zone
    view = account_view(account)
    erased = account.status == "purged"
    personal_keys = ("name", "name_kana", "email", "phone", "birth_date")
    document = {
        "id": str(seeker_id),
        "policy": account.policy.name,
        "exported_at": iso(utcnow(), zone),
        "erased": erased,
        "personal": None if erased else {key: view[key] for key in personal_keys},
        "notes": [
            {"version": version, "event": kind, "text": text}
            for version, kind, text in run.call(ledger.personal_notes, seeker_id)
        ],
        "account": {k: v for k, v in view.items() if k not in personal_keys},
        "history": [history_entry_view(entry, zone) for entry in trail.entries],
    }
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if output is not None:
        try:
            output.write_text(text + "\n", encoding="utf-8")
        except OSError as error:
            raise BadValue(
                _("cannot write {path}: {reason}").format(
                    path=output, reason=error.strerror
                )
            ) from None
    else:
        click.echo(text)
    if erased:
        when = iso(account.purged_at, zone)
        if when is not None and language() == "ja":
            when = short_time(when)
        click.echo(
            _(
                "personal data erased on {when} ({reason}); "
                "the export holds only the history's non-personal skeleton"
            ).format(
                when=when, reason=term("recorded purge reason", account.purge_reason)
            ),
            err=True,
        )
    elif output is not None:
        click.echo(_("wrote {path}").format(path=output), err=True)


COMMANDS = [find, export_data]
