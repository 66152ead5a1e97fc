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

from domain.ledger import SeekerLedger
from domain.seeker import Seeker, time_rule_due
from projections.schema import stamp
from projections.views import LedgerView

SWEEP_ACTOR = "system:sweep"


@dataclass(frozen=True)
class SweepAction:
    id: str
    command: str
    reason: str
    effective_at: datetime


def due_candidates(view: LedgerView, at: datetime) -> list[str]:
    moment = stamp(at)
    rows = view.query(
        "SELECT id FROM accounts WHERE registration_lapses_at <= ? "
        "UNION SELECT id FROM accounts WHERE unreachable_lapses_at <= ? "
        "UNION SELECT id FROM accounts WHERE purge_due_at <= ? "
        "ORDER BY id",
        (moment, moment, moment),
    )
    return [row["id"] for row in rows]


def sweep(
    ledger: SeekerLedger, view: LedgerView, at: datetime, *, dry_run: bool
) -> list[SweepAction]:
    actions: list[SweepAction] = []
    for candidate in due_candidates(view, at):
        seeker_id = UUID(candidate)
        due = time_rule_due(ledger.get_seeker(seeker_id), at)
        if due is None:
            continue
        command, reason, effective_at = due
        actions.append(SweepAction(candidate, command, reason, effective_at))
        if dry_run:
            continue

        def act(
            seeker: Seeker, when: datetime, command: str = command, reason: str = reason
        ) -> None:
            # Re-checked on the freshly loaded account (and again on a retry).
            if time_rule_due(seeker, at) is None:
                return
            if command == "lapse":
                seeker.lapse(at=when, actor=SWEEP_ACTOR, reason=reason)
            else:
                seeker.purge(at=when, actor=SWEEP_ACTOR, reason=reason)

        ledger.execute(seeker_id, act, at=effective_at)
    return actions
