"""Rendering: one JSON document with ``--json``, readable text otherwise."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import click

from cli.views import account_view

if TYPE_CHECKING:
    from domain.seeker import Seeker
    from services.ledger import Outcome


def emit_json(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    cells = [[str(h) for h in header]] + [
        ["" if c is None else str(c) for c in row] for row in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def short_time(value: str | None) -> str:
    """``2025-01-15T09:30:00+09:00`` → ``2025-01-15 09:30``."""
    if value is None:
        return "-"
    return value[:16].replace("T", " ")


def account_text(view: dict[str, Any]) -> str:
    lines = [
        f"Seeker {view['id']}  (policy {view['policy']}, version {view['version']})",
        f"  status        {view['status']} since {short_time(view['status_since'])}",
    ]
    if view.get("personal_sealed"):
        lines.append("  personal data sealed (this login may not read it)")
    elif view["name"] is None:
        lines.append("  personal data erased")
    else:
        lines.append(f"  name          {view['name']}")
        lines.append(f"  email         {view['email']}")
        if view["phone"]:
            lines.append(f"  phone         {view['phone']}")
        lines.append(f"  birth date    {view['birth_date']}")
    optional = [
        ("advisor", view["advisor"]),
        ("last activity", short_time(view["last_activity_at"])),
        ("lapses at", view["registration_lapses_at"]),
        ("unreachable", view["unreachable_since"]),
        ("unreachable lapses at", view["unreachable_lapses_at"]),
        ("contact attempts", view["contact_attempts"] or None),
        ("withdrawal reason", view["withdrawal"]["reason"]),
        ("withdrawal channel", view["withdrawal"]["channel"]),
        ("erasure requested", "yes" if view["withdrawal"]["erase_requested"] else None),
        ("withdrawal timing", view["withdrawal"]["timing"]),
        ("withdrawn at", view["withdrawal"]["withdrawn_at"]),
        ("self-reinstate by", view["withdrawal"]["self_reinstatement_deadline"]),
        ("invalid since", view["invalid_since"]),
        ("purge due at", view["purge_due_at"]),
        ("purged at", view["purged_at"]),
        ("purge reason", view["purge_reason"]),
    ]
    for label, value in optional:
        if value not in (None, "-"):
            shown = (
                short_time(value) if isinstance(value, str) and "T" in value else value
            )
            lines.append(f"  {label:<13} {shown}")
    if view["applications"]:
        lines.append("  applications")
        for a in view["applications"]:
            interview = ""
            if a["interview_at"]:
                final = ", final" if a["final_round"] else ""
                interview = (
                    f"  interview {short_time(a['interview_at'])} "
                    f"(round {a['interview_round']}{final})"
                )
            outcome = f"  [{a['outcome']}]" if a["outcome"] else ""
            lines.append(
                f"    {a['id']:<4} {a['route']:<7} {a['status']:<20} "
                f"{a['job']}{interview}{outcome}"
            )
    allowed = ", ".join(view["allowed"]) or "nothing (final)"
    lines.append(f"  allowed       {allowed}")
    return "\n".join(lines)


def emit_outcome(
    outcome: Outcome,
    *,
    as_json: bool,
    extra: dict[str, Any] | None = None,
    notes: Iterable[str] = (),
) -> None:
    """What every recording command prints: the account and its new events."""
    view = account_view(outcome.seeker)
    request = {"request_id": outcome.request_id} if outcome.request_id else {}
    if as_json:
        emit_json({**(extra or {}), **view, "events": outcome.events, **request})
        return
    verb = "already recorded" if outcome.replayed else "recorded"
    click.echo(f"{verb}: {', '.join(outcome.events)}")
    click.echo(account_text(view))
    for note in notes:
        click.echo(note)
    if outcome.request_id:
        click.echo(f"  request       {outcome.request_id}")


def emit_account(seeker: Seeker, *, as_json: bool) -> None:
    view = account_view(seeker)
    if as_json:
        emit_json(view)
    else:
        click.echo(account_text(view))
