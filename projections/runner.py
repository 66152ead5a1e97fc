"""Catching projections up with the event log, rebuilding them, their status.

SQLite has no live subscription, so projections catch up by reading the
notification log from their tracked position; every command that records
events does so before it returns. On PostgreSQL the same code serves
``catch-up`` and ``rebuild``, and ``projections run`` follows the log live
through the library's subscription.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.projection import Projection

from domain.ledger import SeekerLedger
from projections.accounts import AccountsProjection
from projections.audit import AuditTrailProjection
from projections.views import (
    LedgerView,
    PostgresAccountsView,
    PostgresAuditTrailView,
    SQLiteAccountsView,
    SQLiteAuditTrailView,
)

BATCH_SIZE = 1000
Progress = Callable[[int], None]
"""Called with the number of events just processed."""

PROJECTIONS: dict[
    str, tuple[type[Projection[Any]], type[LedgerView], type[LedgerView]]
] = {
    "accounts": (AccountsProjection, SQLiteAccountsView, PostgresAccountsView),
    "audit_trail": (AuditTrailProjection, SQLiteAuditTrailView, PostgresAuditTrailView),
}


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    position: int
    head: int

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)


class Projections:
    """The ledger's projections, their views sharing the ledger's connections."""

    def __init__(self, ledger: SeekerLedger, *, create_tables: bool = True) -> None:
        self.ledger = ledger
        # Projections hold no personal data: they read events without
        # opening the sealed values, so they never need the master key.
        self.mapper = ledger.mapper.without_unsealing()  # type: ignore[attr-defined]
        datastore = ledger.factory.datastore  # type: ignore[attr-defined]
        on_postgres = isinstance(datastore, PostgresDatastore)
        self.views: dict[str, LedgerView] = {}
        self.projections: dict[str, Any] = {}
        for name, (projection_class, sqlite_view, postgres_view) in PROJECTIONS.items():
            view_class: Any = postgres_view if on_postgres else sqlite_view
            view: LedgerView = view_class(datastore=datastore)
            if create_tables:
                view.create_table()
            self.views[name] = view
            self.projections[name] = projection_class(view=view)

    @property
    def names(self) -> list[str]:
        return list(self.views)

    def select(self, name: str | None) -> list[str]:
        if name is None:
            return self.names
        if name not in self.views:
            raise KeyError(name)
        return [name]

    def head(self) -> int:
        return self.ledger.recorder.max_notification_id() or 0

    def status(self, name: str) -> ProjectionStatus:
        position = self.views[name].max_tracking_id(self.ledger.name) or 0
        return ProjectionStatus(name=name, position=position, head=self.head())

    def catch_up(
        self,
        name: str | None = None,
        *,
        batch_size: int = BATCH_SIZE,
        progress: Progress | None = None,
    ) -> int:
        """Process every event not yet seen; returns how many were processed."""
        return sum(
            self._catch_up_one(each, batch_size=batch_size, progress=progress)
            for each in self.select(name)
        )

    def rebuild(
        self,
        name: str | None = None,
        *,
        batch_size: int = BATCH_SIZE,
        progress: Progress | None = None,
    ) -> int:
        """Empty the projection and process the whole log again, in batches.

        Emptying and forgetting the position is one transaction under the
        writer lock, so commands arriving meanwhile are either counted
        before the reset and again after it, or only after it: never lost,
        never twice.
        """
        total = 0
        for each in self.select(name):
            view = self.views[each]
            with view.writing() as (cursor, _):
                view.reset_in(cursor, self.ledger.name)
            total += self._catch_up_one(each, batch_size=batch_size, progress=progress)
        return total

    def _catch_up_one(
        self, name: str, *, batch_size: int, progress: Progress | None
    ) -> int:
        view = self.views[name]
        projection = self.projections[name]
        recorder = self.ledger.recorder
        mapper = self.mapper
        processed = 0
        while True:
            with view.writing() as (cursor, raw):
                position = view.position_in(raw, self.ledger.name)
                notifications = recorder.select_notifications(
                    start=position + 1, limit=batch_size
                )
                if not notifications:
                    return processed
                items = [(n.id, mapper.to_domain_event(n)) for n in notifications]
                tracking = Tracking(self.ledger.name, notifications[-1].id)
                view.apply_in(cursor, raw, projection, items, tracking)
            processed += len(items)
            if progress is not None:
                progress(len(items))


def postgres_view_class(name: str) -> type[LedgerView]:
    return PROJECTIONS[name][2]
