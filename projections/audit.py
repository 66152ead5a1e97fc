"""The ``audit_trail`` projection: one row per event, both times, who, why.

The states before and after come from the trail itself (the previous row's
``to_state``) and the event's own effect, never from another projection.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from domain.effects import EFFECTS
from domain.history import event_details, is_backdated
from projections.changes import ChangeSet, registered_before
from projections.schema import stamp
from projections.views import BatchProjection

_details_json = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode
"""``json.dumps(..., sort_keys=True, ensure_ascii=False)``, its encoder made once."""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return stamp(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


class AuditTrailProjection(BatchProjection):
    name = "audit_trail"

    def prepare(self, items: Sequence[tuple[int, Any]], changes: ChangeSet) -> None:
        changes.load_last_states(registered_before(items, changes))

    def apply(self, event: Any, changes: ChangeSet, notification_id: int) -> None:
        account = changes.account_id(event.originator_id)
        kind = type(event).__name__
        before = changes.last_state(account) if kind != "Registered" else None
        after = EFFECTS.state_after[kind] or before
        assert after is not None, f"{kind} before any Registered for {account}"
        changes.set_last_state(account, after)
        details = {
            key: _plain(value) if isinstance(value, date) else value
            for key, value in event_details(event).items()
        }
        occurred_at: datetime = event.occurred_at
        recorded_at: datetime = event.timestamp
        changes.append(
            "audit_trail",
            {
                "notification_id": notification_id,
                "account": account,
                "version": event.originator_version,
                "type": kind,
                "occurred_at": stamp(occurred_at),
                "recorded_at": stamp(recorded_at),
                "actor": event.actor,
                "channel": details.get("channel"),
                "reason": details.get("reason"),
                "from_state": before,
                "to_state": after,
                "backdated": is_backdated(occurred_at, recorded_at),
                "details": _details_json(details),
            },
        )
