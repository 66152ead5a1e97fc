"""The sweep: apply the time rules to every account that is due.

Candidates come from the ``accounts`` projection's partial indexes, so the
work grows with the accounts due, not with the accounts stored. Each
candidate is loaded and asked (``time_rule_due``) before anything is
recorded, so a stale projection row can never lapse or purge an account
that is not due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.seeker import Seeker
from projections.schema import stamp
from projections.views import LedgerView
from services.ledger import SeekerLedger

SWEEP_ACTOR = "system:sweep"


@dataclass(frozen=True)
class SweepAction:
    id: str
    command: str
    reason: str
    effective_at: datetime


def due_candidates(view: LedgerView, at: datetime) -> list[str]:
    moment = stamp(at)
    # The UNION sits in a subquery: with ORDER BY on the UNION itself,
    # SQLite scans the whole table by primary key instead of using the
    # three partial indexes (130 ms vs 0.3 ms at 100k accounts).
    rows = view.query(
        "SELECT id FROM ("
        "SELECT id FROM accounts WHERE registration_lapses_at <= ? "
        "UNION SELECT id FROM accounts WHERE unreachable_lapses_at <= ? "
        "UNION SELECT id FROM accounts WHERE purge_due_at <= ?"
        ") AS due ORDER BY id",
        (moment, moment, moment),
    )
    return [row["id"] for row in rows]


def sweep(
    ledger: SeekerLedger, view: LedgerView, at: datetime, *, dry_run: bool
) -> list[SweepAction]:
    """Apply (or with ``dry_run`` only list) every time rule due at ``at``.

    An account can owe more than one step: a registration that lapsed years
    ago may already be past its retention, so it is lapsed and purged in the
    same sweep, and a second sweep at the same time has nothing left to do.
    """
    actions: list[SweepAction] = []
    for candidate in due_candidates(view, at):
        seeker_id = UUID(candidate)
        if dry_run:
            actions.extend(apply_due_rules(ledger.get_seeker(seeker_id), at))
            continue
        outcome = ledger.execute(
            seeker_id, lambda seeker, _: apply_due_rules(seeker, at)
        )
        actions.extend(outcome.result)
    return actions


def apply_due_rules(seeker: Seeker, at: datetime) -> list[SweepAction]:
    """Run on the account every command the time rules owe at ``at``.

    Rules are asked afresh on the loaded account (and again on a retry), so
    a stale projection row can never lapse or purge an account that is not due.
    """
    actions = []
    while (due := seeker.time_rule_due(at)) is not None:
        command, reason, effective_at = due
        if command == "lapse":
            seeker.lapse(at=effective_at, actor=SWEEP_ACTOR, reason=reason)
        else:
            seeker.purge(at=effective_at, actor=SWEEP_ACTOR, reason=reason)
        actions.append(SweepAction(str(seeker.id), command, reason, effective_at))
    return actions


def unfinished_erasures(view: LedgerView) -> list[str]:
    """Purged accounts whose data key or email-index row still exists: a
    purge recorded before erasure joined the event's transaction, or one
    whose key table could not be written (a full disk)."""
    from adapters.erasure import TABLES
    from domain.rules import ACCOUNT

    final = sorted(ACCOUNT.final)
    marks = ", ".join("?" for _ in final)
    survives = " OR ".join(
        f"EXISTS (SELECT 1 FROM {table} t WHERE t.seeker_id = a.id)" for table in TABLES
    )
    try:
        rows = view.query(
            f"SELECT a.id FROM accounts a WHERE a.status IN ({marks}) AND ({survives}) "
            "ORDER BY a.id",
            final,
        )
    except Exception:  # no key tables: a store that never sealed anything
        return []
    return [row["id"] for row in rows]


def finish_erasures(
    ledger: SeekerLedger, view: LedgerView, *, dry_run: bool
) -> list[str]:
    """Destroy every key a recorded purge left behind, and its traces."""
    unfinished = unfinished_erasures(view)
    vault = ledger.vault
    if unfinished and not dry_run and vault is not None:
        vault.destroy_keys([UUID(seeker) for seeker in unfinished])
    return unfinished
