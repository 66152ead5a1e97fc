"""An account's history read on both time axes, and what counts as backdated.

``--as-of`` cuts a stream at business time (events that had occurred by T),
``--known-at`` at recorded time (events the store had recorded by T). Both
axes grow along a stream (``--at`` may not go back before the latest event,
and the store records in order), so each cut is a prefix. The ledger, the
``audit_trail`` projection and the pages all take these rules from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.policy import Policy
from domain.rules import ACCOUNT
from domain.timerules import parse_instant

BACKDATED_AFTER_HOURS = 24


def is_backdated(occurred_at: datetime, recorded_at: datetime) -> bool:
    """Recorded more than 24 hours after it happened (SPEC §4)."""
    return (recorded_at - occurred_at).total_seconds() > BACKDATED_AFTER_HOURS * 3600


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    from_state: str | None
    to_state: str
    details: dict[str, Any] = field(default_factory=dict)
    principal: str | None = None
    """The login that wrote the event, as the store recorded it (``None``:
    unknown, written before principals existed)."""

    @property
    def backdated(self) -> bool:
        return is_backdated(self.occurred_at, self.recorded_at)


@dataclass(frozen=True)
class History:
    """An account's audit trail, with the policy whose clock it is read on."""

    seeker_id: UUID
    policy: Policy
    entries: list[HistoryEntry]


_NOT_DETAILS = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "timestamp",
        "occurred_at",
        "actor",
        "personal",
    }
)


def event_details(event: Any) -> dict[str, Any]:
    """An event's non-personal fields, for the audit trail."""
    details: dict[str, Any] = {}
    for key, value in vars(event).items():
        if key in _NOT_DETAILS:
            continue
        if key == "policy":
            details["policy"] = value["name"]
            continue
        details[key] = value
    return details


def stream_policy(events: Sequence[Any]) -> Policy:
    """The policy a stream's ``Registered`` recorded."""
    return Policy.from_dict(events[0].policy)


def visible(
    events: Sequence[Any], as_of: str | None, known_at: str | None
) -> Iterator[Any]:
    """The prefix of the stream visible on both time axes."""
    zone = stream_policy(events).zone
    occurred_by = parse_instant(as_of, zone) if as_of else None
    recorded_by = parse_instant(known_at, zone) if known_at else None
    for event in events:
        occurred_at: datetime = event.occurred_at
        if occurred_by is not None and occurred_at > occurred_by:
            break
        if recorded_by is not None and event.timestamp > recorded_by:
            break
        yield event


def was_purged(events: Iterable[Any]) -> bool:
    """The stream reached the machine's final state (its data is erased)."""
    # Imported here: the event classes are the costliest import of the
    # domain, and reading an audit trail from its projection needs none.
    from domain.effects import EFFECTS

    return any(
        EFFECTS.state_after[type(event).__name__] in ACCOUNT.final for event in events
    )
