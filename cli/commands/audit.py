"""Auditing the log itself: replaying every stream through the current rules."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import click

from cli.commands.common import session
from cli.output import emit_json, table
from domain.replay import replay_violations

PAGE = 5000


@click.group()
def audit() -> None:
    """Checks auditors run over the whole event log."""


@audit.command()
def replay() -> None:
    """Run every stream through the current rules; list what they would refuse.

    Exits 1 when any history breaks the rules (imported legacy data, say).
    """
    run = session()
    ledger = run.ledger()
    mapper = run.projections().mapper  # reads without opening personal data
    streams: dict[Any, list[Any]] = defaultdict(list)
    position = 0
    while True:
        page = run.call(
            ledger.recorder.select_notifications, start=position + 1, limit=PAGE
        )
        if not page:
            break
        for notification in page:
            event = mapper.to_domain_event(notification)
            streams[event.originator_id].append(event)
        position = page[-1].id
    violations = [v for events in streams.values() for v in replay_violations(events)]
    if run.json:
        emit_json(
            {
                "accounts": len(streams),
                "events": sum(len(events) for events in streams.values()),
                "violations": [
                    {"id": v.account, "version": v.version, "message": v.message}
                    for v in violations
                ],
            }
        )
    else:
        click.echo(
            f"replayed {len(streams)} account(s): "
            f"{len(violations)} event(s) the rules would refuse"
        )
        if violations:
            rows = [[v.account, v.version, v.message] for v in violations]
            click.echo(table(rows, ["id", "version", "refused"]))
    if violations:
        raise click.exceptions.Exit(1)


COMMANDS = [audit]
