"""Commands that read: an account, its audit trail, the rulebook."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import click

from cli.commands.common import seeker_argument, session
from cli.output import (
    cell_width,
    commands_text,
    emit_account,
    emit_json,
    joined,
    pad,
    short_time,
    table,
    yes_no,
)
from cli.params import VERBATIM
from cli.session import parse_seeker_id
from cli.views import (
    actor_text,
    details_text,
    history_entry_view,
    policy_view,
    term,
)
from domain.dates_for_people import counted
from domain.errors import SeekerNotFound
from domain.i18n import NC_, _, pgettext
from domain.policy import PRESETS
from domain.rules import account_rules, application_rules

as_of_option = click.option(
    "--as-of",
    metavar="T",
    help="As it stood at business time T (events occurred by T).",
)
known_at_option = click.option(
    "--known-at", metavar="T", help="As the system knew it at T (events recorded by T)."
)


@click.command()
@seeker_argument
@as_of_option
@known_at_option
def show(seeker: str, as_of: str | None, known_at: str | None) -> None:
    """The account, rebuilt from its events."""
    run = session()
    seeker_id = parse_seeker_id(seeker)
    ledger = run.ledger()
    account = run.call(ledger.seeker_as_of, seeker_id, as_of=as_of, known_at=known_at)
    if account is None:
        raise SeekerNotFound(_not_by_then(seeker_id))
    emit_account(account, as_json=run.json)


def _not_by_then(seeker_id: UUID) -> str:
    return _("{id} (nothing recorded by then)").format(id=seeker_id)


@click.command()
@seeker_argument
@as_of_option
@known_at_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("text", "json", "html"), case_sensitive=False),
    default=None,
    help="Default: text (json with --json). html: a timeline page for auditors.",
)
@click.option(
    "--output",
    type=VERBATIM,
    metavar="FILE",
    help="With --format html: write the page to FILE (default: stdout).",
)
def history(
    seeker: str,
    as_of: str | None,
    known_at: str | None,
    output_format: str | None,
    output: str | None,
) -> None:
    """The account's audit trail: every event, who, when, from which state."""
    run = session()
    output_format = (output_format or ("json" if run.json else "text")).lower()
    if output is not None and output_format != "html":
        raise click.UsageError(_("--output goes with --format html only"))
    target = _html_target(output) if output_format == "html" else None
    from projections.queries import account_timezone, audit_history

    seeker_id = parse_seeker_id(seeker)
    tables = run.reader()
    timezone = run.call(account_timezone, tables, seeker_id)
    entries = run.call(
        audit_history,
        tables,
        seeker_id,
        timezone=timezone,
        as_of=as_of,
        known_at=known_at,
    )
    if not entries:
        raise SeekerNotFound(_not_by_then(seeker_id))
    tz = ZoneInfo(timezone)
    logins = run.config.kind == "postgresql"
    views = [history_entry_view(entry, tz, database_logins=logins) for entry in entries]
    if output_format == "html":
        _timeline(seeker_id, views, timezone, as_of, known_at, target)
        return
    if output_format == "json":
        emit_json({"id": str(seeker_id), "events": views})
        return
    rows = [
        [
            v["version"],
            short_time(v["occurred_at"]) + (" *" if v["backdated"] else ""),
            short_time(v["recorded_at"]),
            actor_text(v),
            term("event", v["type"]),
            f"{term('account state', v['from_state'])} → "
            f"{term('account state', v['to_state'])}",
            details_text(v),
        ]
        for v in views
    ]
    click.echo(
        _("History of seeker {id} (times in {timezone}; * backdated)").format(
            id=seeker_id, timezone=timezone
        )
    )
    click.echo(table(rows, [pgettext("history column", c) for c in HISTORY_HEADER]))


HISTORY_HEADER = (
    NC_("history column", "v"),
    NC_("history column", "occurred"),
    NC_("history column", "recorded"),
    NC_("history column", "actor"),
    NC_("history column", "event"),
    NC_("history column", "state"),
    NC_("history column", "details"),
)


def _html_target(output: str | None) -> Path | None:
    from cli.files import check_output

    return check_output(output)


def _timeline(
    seeker_id: UUID,
    views: list[dict[str, Any]],
    timezone: str,
    as_of: str | None,
    known_at: str | None,
    target: Path | None,
) -> None:
    """``history --format html``: the audit trail and the account as ``show``
    rebuilds it (its deadlines, its personal fields or their erasure)."""
    from cli.pages import timeline_page
    from cli.pages.common import deliver
    from cli.views import account_view
    from domain.timerules import parse_instant, utcnow

    run = session()
    account = run.call(
        run.ledger().seeker_as_of, seeker_id, as_of=as_of, known_at=known_at
    )
    if account is None:
        raise SeekerNotFound(_not_by_then(seeker_id))
    zone = ZoneInfo(timezone)
    cuts = [parse_instant(t, zone) for t in (as_of, known_at) if t is not None]
    page = timeline_page.build(
        views,
        account_view(account),
        timezone=timezone,
        cut=min(cuts) if cuts else utcnow(),
        as_of=as_of,
        known_at=known_at,
        integrity=None,
    )
    deliver(page, target, as_json=run.json)


@click.command()
@click.option(
    "--diagram",
    "diagram_format",
    type=click.Choice(("mermaid", "dot", "svg", "png"), case_sensitive=False),
    default=None,
    help=(
        "Draw the account and application lifecycles instead: mermaid or dot "
        "source, or an svg/png picture (dot, svg and png need graphviz). "
        "Arrows are commands, [conditions] their guards."
    ),
)
@click.option(
    "--policy",
    type=VERBATIM,
    metavar="NAME|PATH.toml",
    help=(
        "With --diagram: draw the rulebook under this policy, leaving out the "
        "moves its policy guards refuse (HelloWork: no pause, no change-advisor)."
    ),
)
@click.option(
    "--output",
    type=VERBATIM,
    metavar="FILE",
    help="With --diagram: write it to FILE (default: stdout; png needs a FILE).",
)
def policies(
    diagram_format: str | None, policy: str | None, output: str | None
) -> None:
    """The presets and their rules, and the lifecycle they apply to.

    With --diagram, the lifecycles drawn from the compiled rules (with
    --policy, minus the transitions that policy forbids; the output's header
    comment says which)."""
    if diagram_format is not None:
        _diagram(diagram_format.lower(), policy, output)
        return
    if policy is not None or output is not None:
        raise click.UsageError(_("--policy and --output go with --diagram only"))
    run = session()
    rules = account_rules()
    lifecycle = {state: rules.allowed(state) for state in rules.states}
    app_rules = application_rules()
    app_lifecycle = {state: app_rules.allowed(state) for state in app_rules.states}
    if run.json:
        emit_json(
            {
                "policies": [policy_view(p) for p in PRESETS.values()],
                "account_lifecycle": lifecycle,
                "application_lifecycle": app_lifecycle,
            }
        )
        return
    keys = list(policy_view(next(iter(PRESETS.values()))))
    rows = [
        [
            term("rule", key),
            *(_rule_text(key, policy_view(p)[key]) for p in PRESETS.values()),
        ]
        for key in keys
        if key != "name"
    ]
    header = [
        pgettext("policies column", "rule"),
        *(term("policy", name) for name in PRESETS),
    ]
    click.echo(table(rows, header))
    click.echo(
        "\n" + _("Account lifecycle (state: commands allowed, before policy guards)")
    )
    _lifecycle_lines("account state", lifecycle)
    click.echo("\n" + _("Application lifecycle"))
    _lifecycle_lines("application state", app_lifecycle)


def _lifecycle_lines(kind: str, lifecycle: dict[str, list[str]]) -> None:
    """Each state and the commands allowed in it (as typed; in Japanese with
    their names), states in one column."""
    names = {state: term(kind, state) for state in lifecycle}
    width = max(21, *(cell_width(name) for name in names.values()))
    for state, commands in lifecycle.items():
        allowed = commands_text(commands, indent=2 + width + 1) or _("(final)")
        click.echo(f"  {pad(names[state], width)} {allowed}")


def _diagram(diagram_format: str, policy_name: str | None, output: str | None) -> None:
    """``policies --diagram``: the drawing libraries load only here."""
    from cli import diagrams
    from domain.errors import BadValue
    from domain.policy import load_policy

    run = session()
    target = _html_target(output)
    if target is None and diagram_format == "png":
        raise BadValue(_("--diagram png writes a picture: give --output FILE.png"))
    policy = None if policy_name is None else load_policy(policy_name)
    data = diagrams.render(diagram_format, policy)
    if target is None:
        click.echo(data.decode("utf-8"), nl=False)
        return
    diagrams.write(data, target, as_json=run.json)


def _rule_text(key: str, value: Any) -> str:
    """A rule's value under one policy: channels by their names, yes or no,
    a number with its counter (``30日``, ``5年``, ``2か月`` in Japanese)."""
    if isinstance(value, list):
        return joined(term("channel", channel) for channel in value) or "-"
    if value is None:
        return "-"
    if isinstance(value, bool):
        return yes_no(value)
    counter = RULE_COUNTERS.get(key.rpartition("_")[2])
    if isinstance(value, int) and counter is not None:
        return counted(counter, value)
    return str(value)


RULE_COUNTERS = {"days": "days", "months": "months", "years": "years"}
"""The counter of a rule's number, by the last word of the rule's key."""


COMMANDS = [show, history, policies]
