"""Catching projections up with the event log, rebuilding them, their status.

SQLite has no live subscription, so projections catch up by reading the
notification log from their tracked position; every command that records
events does so before it returns. On PostgreSQL the same code serves
``catch-up`` and ``rebuild``, and ``projections run`` follows the log live
through the library's subscription. A catch-up or rebuild reads the log a
page at a time inside each batch's transaction and decodes each event once
for all the projections it runs (``projections.reading``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.projection import Projection

from adapters.recorders import ChainingSQLiteRecorder
from projections.accounts import AccountsProjection
from projections.audit import AuditTrailProjection
from projections.reader import positions_sql
from projections.reading import decode_page, reading_mapper, text_to_uuid, unchanged
from projections.views import LedgerView, SQLiteAccountsView, SQLiteAuditTrailView

LOG_HEAD = "seekers_log_head()"
"""PostgreSQL: the log's newest notification id (``adapters.roles``)."""
BATCH_SIZE = 5000
"""Events per transaction of a catch-up or rebuild, and per page read of the
log. Larger batches write each index page fewer times (a rebuild of 507k
events: 34 s in batches of 5,000, 39-55 s in batches of 1,000); memory holds
one batch, whatever the log's length."""
Progress = Callable[[int], None]
"""Called with the number of events just processed."""

PROJECTIONS: dict[str, tuple[type[Projection[Any]], type[LedgerView], str]] = {
    "accounts": (AccountsProjection, SQLiteAccountsView, "PostgresAccountsView"),
    "audit_trail": (
        AuditTrailProjection,
        SQLiteAuditTrailView,
        "PostgresAuditTrailView",
    ),
}
"""Each projection: its class, its SQLite view, and the name of its PostgreSQL
view in ``projections.postgres_views`` (imported only on PostgreSQL)."""


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

    def __init__(
        self, ledger: Application[UUID], *, create_tables: bool = True
    ) -> None:
        self.ledger = ledger
        # Projections hold no personal data: they read events without
        # opening the sealed values, so they never need the master key.
        self.mapper = reading_mapper(
            ledger.mapper.without_unsealing()  # type: ignore[attr-defined]
        )
        datastore = ledger.factory.datastore  # type: ignore[attr-defined]
        on_postgres = type(datastore).__name__ == "PostgresDatastore"
        self.views: dict[str, LedgerView] = {}
        self.projections: dict[str, Any] = {}
        for name, (projection_class, sqlite_view, _) in PROJECTIONS.items():
            view_class: Any = postgres_view_class(name) if on_postgres else sqlite_view
            view: LedgerView = view_class(datastore=datastore)
            if create_tables:
                view.create_table()
            self.views[name] = view
            self.projections[name] = projection_class(view=view)
        self._on_postgres = on_postgres
        self._projected_inline = False
        self._events_table: str = ledger.recorder.events_table_name  # type: ignore[attr-defined]
        # SQLite stores ids as text; PostgreSQL returns ``UUID`` already.
        by_uuid = getattr(datastore, "originator_id_type", "uuid") == "uuid"
        self._as_id: Callable[[Any], UUID | str] = (
            text_to_uuid if by_uuid and not on_postgres else unchanged
        )
        if isinstance(ledger.recorder, ChainingSQLiteRecorder) or hasattr(
            ledger.recorder, "inline"
        ):
            ledger.recorder.inline = self._project_inline

    def _project_inline(
        self, raw: Any, stored: Sequence[StoredEvent], ids: Sequence[int]
    ) -> None:
        """Project a command's events inside the transaction inserting them
        (see ``adapters.recorders``)."""
        self._projected_inline = False
        raw.execute("SAVEPOINT inline_projections")
        try:
            if self._on_postgres:
                # Never interleave with a catch-up or rebuild that holds the
                # projections' writer locks: leave the work to it instead.
                tables = ", ".join(
                    sorted(view.tracking_table for view in self.views.values())
                )
                raw.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE NOWAIT")
            decode = self.mapper.to_domain_event
            items = [
                (notification_id, decode(event))
                for notification_id, event in zip(ids, stored, strict=True)
            ]
            tracking = Tracking(self.ledger.name, ids[-1])
            positions = self._positions_in(raw)
            applied = 0
            for (name, view), position in zip(
                self.views.items(), positions, strict=True
            ):
                if position != ids[0] - 1:
                    continue  # behind (or rebuilding): the catch-up does it
                view.apply_in(
                    view.cursor_for(raw), raw, self.projections[name], items, tracking
                )
                applied += 1
        except Exception:
            raw.execute("ROLLBACK TO inline_projections")
        else:
            self._projected_inline = applied == len(self.views)
        raw.execute("RELEASE inline_projections")

    @property
    def names(self) -> list[str]:
        return list(self.views)

    def select(self, name: str | None) -> list[str]:
        if name is None:
            return self.names
        if name not in self.views:
            raise KeyError(name)
        return [name]

    def _positions_sql(self, views: Sequence[LedgerView], mark: str) -> str:
        """``SELECT`` of each view's position (``p0``, ``p1``, ...) and the
        log's head (``head``): one statement instead of one per view."""
        return positions_sql(
            self._events_table,
            [view.tracking_table for view in views],
            nid="notification_id" if self._on_postgres else "rowid",
            mark=mark,
            head=LOG_HEAD if self._on_postgres else None,
        )

    def _positions_in(self, raw: Any) -> list[int]:
        """Every projection's position, in one statement of this transaction."""
        views = list(self.views.values())
        mark = "%s" if self._on_postgres else "?"
        raw.execute(self._positions_sql(views, mark), [self.ledger.name] * len(views))
        row = raw.fetchone()
        return [row[f"p{index}"] or 0 for index in range(len(views))]

    def _caught_up(self, names: list[str]) -> bool:
        """Whether every named projection's position is the log's head, in
        one statement outside any transaction (a later insert is the next
        catch-up's, as if this one had run just before it)."""
        views = [self.views[each] for each in names]
        sql = self._positions_sql(views, "?")
        row = views[0].query(sql, [self.ledger.name] * len(views))[0]
        head = row["head"] or 0
        return all((row[f"p{index}"] or 0) >= head for index in range(len(views)))

    def head(self) -> int:
        if self._on_postgres:  # readers of projections may not read the log
            view = next(iter(self.views.values()))
            return int(view.query(f"SELECT {LOG_HEAD} AS head")[0]["head"] or 0)
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
        counts: dict[str, int] | None = None,
    ) -> int:
        """Process every event not yet seen; returns how many were processed
        (summed over projections; ``counts`` gets them per projection).

        When every projection has already seen the log's last event (after a
        command, whose events were projected in its own transaction), this is
        one read and no writer lock.
        """
        names = self.select(name)
        if self._caught_up(names):
            if counts is not None:
                counts.update(dict.fromkeys(names, 0))
            return 0
        return self._catch_up(names, batch_size, progress, counts)

    def catch_up_after_save(self) -> int:
        """The catch-up a command's run makes after its save: none at all
        when the save's events were projected in its own transaction. The
        inline projection runs only when every projection stood right before
        those events, so nothing earlier was left; what others record later
        is the catch-up of the run that records it, as after any catch-up."""
        if self._projected_inline:
            self._projected_inline = False
            return 0
        return self.catch_up()

    def rebuild(
        self,
        name: str | None = None,
        *,
        batch_size: int = BATCH_SIZE,
        progress: Progress | None = None,
        counts: dict[str, int] | None = None,
    ) -> int:
        """Empty the projections and process the whole log again, in batches.

        Emptying and forgetting the position is one transaction under the
        writer lock, so commands arriving meanwhile are either counted
        before the reset and again after it, or only after it: never lost,
        never twice.
        """
        names = self.select(name)
        views = [self.views[each] for each in names]
        with views[0].writing(also=views[1:]) as (cursor, _):
            for view in views:
                view.reset_in(cursor, self.ledger.name)
        return self._catch_up(names, batch_size, progress, counts)

    def _catch_up(
        self,
        names: list[str],
        batch_size: int,
        progress: Progress | None,
        counts: dict[str, int] | None,
    ) -> int:
        """Catch the named projections up together: one transaction per batch
        for all of them, each event read and decoded once."""
        views = [self.views[each] for each in names]
        counts = {} if counts is None else counts
        counts.update(dict.fromkeys(names, 0))
        processed = 0
        while True:
            with views[0].writing(also=views[1:]) as (cursor, raw):
                positions = [view.position_in(raw, self.ledger.name) for view in views]
                page = views[0].read_log(
                    raw, self._events_table, min(positions) + 1, batch_size
                )
                if not page:
                    return processed
                decoded = decode_page(self.mapper, page, self._as_id)
                tracking = Tracking(self.ledger.name, page[-1][0])
                for each, view, position in zip(names, views, positions, strict=True):
                    items = (
                        decoded
                        if position < page[0][0]
                        else [item for item in decoded if item[0] > position]
                    )
                    if items:
                        projection = self.projections[each]
                        view.apply_in(cursor, raw, projection, items, tracking)
                        processed += len(items)
                        counts[each] += len(items)
                        if progress is not None:
                            progress(len(items))
            if len(page) < batch_size:
                return processed  # the log's end: no need for an empty pass


def postgres_view_class(name: str) -> type[LedgerView]:
    from projections import postgres_views

    view_class: type[LedgerView] = getattr(postgres_views, PROJECTIONS[name][2])
    return view_class
