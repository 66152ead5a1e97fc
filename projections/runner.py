"""Catching projections up with the event log, rebuilding them, their status.

Projections catch up by reading the notification log from their tracked
position, and every command that records events returns only once they
include its events (read-your-writes): on SQLite by projecting them in the
transaction that inserts them, on PostgreSQL right after that transaction
commits, outside the log's lock (``catch_up_after_save``). The same code
serves ``catch-up``; ``rebuild`` fills shadow tables and swaps them in
(``projections.rebuild``); on PostgreSQL ``projections run`` follows the log
live through the library's subscription. A catch-up or rebuild reads the log
a page at a time inside each batch's transaction and decodes each event once
for all the projections it runs (``projections.reading``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.projection import Projection

from adapters.recorders import ChainingSQLiteRecorder
from adapters.storage import lock_timeout
from projections.accounts import AccountsProjection
from projections.audit import AuditTrailProjection
from projections.changes import Cursor
from projections.reader import positions_sql
from projections.reading import decode_page, reading_mapper, text_to_uuid, unchanged
from projections.rebuild import BlueGreen
from projections.views import (
    LedgerView,
    SQLiteAccountsView,
    SQLiteAuditTrailView,
    WriterBusy,
)

LOG_HEAD = "seekers_log_head()"
"""PostgreSQL: the log's newest notification id (``adapters.roles``)."""
BATCH_SIZE = 5000
"""Events per transaction of a catch-up or rebuild, and per page read of the
log. Larger batches write each index page fewer times (a rebuild of 507k
events: 34 s in batches of 5,000, 39-55 s in batches of 1,000); memory holds
one batch, whatever the log's length."""
AWAIT_PAUSES = (0.001, 0.008)
"""The first and the longest pause between looks at the positions while
another process projects (``Projections._await``)."""
AWAIT_LOOKS = 3
"""Unchanged looks after which the writer lock is tried again."""
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
    rebuild: int | None = None
    """The position of a rebuild's shadow (``projections.rebuild``) while a
    rebuild runs, or after one was killed until the next; ``None``: none."""

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)

    @property
    def rebuilt_percent(self) -> float | None:
        """How far the rebuild has got, in percent of the log."""
        if self.rebuild is None:
            return None
        if not self.head:
            return 100.0
        return round(min(self.rebuild / self.head, 1.0) * 100, 1)


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
        if isinstance(ledger.recorder, ChainingSQLiteRecorder):
            ledger.recorder.inline = self._project_inline

    def _project_inline(
        self, raw: Any, stored: Sequence[StoredEvent], ids: Sequence[int]
    ) -> None:
        """Project a command's events inside the transaction inserting them
        (see ``adapters.recorders``)."""
        self._projected_inline = False
        raw.execute("SAVEPOINT inline_projections")
        try:
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

    def _positions_sql(
        self, views: Sequence[LedgerView], mark: str, *, with_head: bool = True
    ) -> str:
        """``SELECT`` of each view's position (``p0``, ``p1``, ...) and the
        log's head (``head``): one statement instead of one per view."""
        return positions_sql(
            self._events_table,
            [view.tracking_table for view in views],
            nid="notification_id" if self._on_postgres else "rowid",
            mark=mark,
            head=LOG_HEAD if self._on_postgres else None,
            with_head=with_head,
        )

    def _positions_in(
        self, raw: Any, views: Sequence[LedgerView] | None = None
    ) -> list[int]:
        """Each projection's position (default: all), in one statement of
        this transaction."""
        views = list(self.views.values()) if views is None else views
        mark = "%s" if self._on_postgres else "?"
        statement = self._positions_sql(views, mark, with_head=False)
        raw.execute(statement, [self.ledger.name] * len(views))
        row = raw.fetchone()
        return [row[f"p{index}"] or 0 for index in range(len(views))]

    def _caught_up(self, names: list[str]) -> bool:
        """Whether every named projection's position is the log's head, in
        one statement outside any transaction (a later insert is the next
        catch-up's, as if this one had run just before it)."""
        positions, head = self._positions([self.views[each] for each in names])
        return all(position >= (head or 0) for position in positions)

    def head(self) -> int:
        if self._on_postgres:  # readers of projections may not read the log
            view = next(iter(self.views.values()))
            return int(view.query(f"SELECT {LOG_HEAD} AS head")[0]["head"] or 0)
        return self.ledger.recorder.max_notification_id() or 0

    def status(self, name: str, *, rebuild: bool = False) -> ProjectionStatus:
        """Where the projection stands; with ``rebuild``, a rebuild's
        progress too (two reads more: ``projections status`` wants them, a
        read's catch-up does not)."""
        view = self.views[name]
        position = view.max_tracking_id(self.ledger.name) or 0
        return ProjectionStatus(
            name=name,
            position=position,
            head=self.head(),
            rebuild=view.rebuild_position(self.ledger.name) if rebuild else None,
        )

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
        """The catch-up a command's run makes after its save, so that it
        returns only once every projection includes its events
        (read-your-writes).

        SQLite: none at all when the save's events were projected in its own
        transaction (``_project_inline``, which runs only when every
        projection stood right before those events, so nothing earlier was
        left). PostgreSQL projects after the commit, outside the log's lock:
        when another process's catch-up (a command's, or ``projections
        run``) has already passed this process's last event, that is one
        read; otherwise this process takes the projections' writer lock and
        projects everything committed so far, its own events and those of
        the commands queued behind it in one batch. What others record later
        is the catch-up of the run that records it, as after any catch-up."""
        if self._projected_inline:
            self._projected_inline = False
            return 0
        target = getattr(self.ledger.recorder, "last_notification_id", None)
        if not self._on_postgres or target is None:
            return self.catch_up()
        return self._await(target)

    def _await(self, target: int) -> int:
        """PostgreSQL: return once every projection has passed ``target``.

        While another process holds the writer lock it is projecting what
        was committed before it began, most likely this process's events
        too. Rather than queue for the lock behind it (each waiter in turn
        taking it only to find its events done), look at the positions at
        growing intervals, and try the lock, without waiting, only when
        they moved since the last try (that writer finished: this one's
        events may be left) or after a few unchanged looks. Past the lock
        timeout the wait becomes the ordinary blocking one."""
        deadline = time.monotonic() + lock_timeout()
        pause = AWAIT_PAUSES[0]
        tried_at: int | None = None
        looks = 0
        while (position := self._lowest_position()) < target:
            if position != tried_at or looks >= AWAIT_LOOKS:
                tried_at, looks = position, 0
                try:
                    return self._catch_up(
                        self.names,
                        BATCH_SIZE,
                        None,
                        None,
                        until=target,
                        wait=time.monotonic() > deadline,
                    )
                except WriterBusy:
                    pass
            looks += 1
            time.sleep(pause)
            pause = min(pause * 2, AWAIT_PAUSES[1])
        return 0

    def _lowest_position(self) -> int:
        """The position of the projection furthest behind, in one statement
        outside any transaction."""
        positions, _head = self._positions(list(self.views.values()), head=False)
        return min(positions)

    def _positions(
        self, views: list[LedgerView], *, head: bool = True
    ) -> tuple[list[int], int | None]:
        """Each view's position (0 before its first event) and, with
        ``head``, the log's head, in one statement outside any transaction."""
        sql = self._positions_sql(views, "?", with_head=head)
        row = views[0].query(sql, [self.ledger.name] * len(views))[0]
        positions = [row[f"p{index}"] or 0 for index in range(len(views))]
        return positions, row["head"] if head else None

    def rebuild(
        self,
        name: str | None = None,
        *,
        batch_size: int = BATCH_SIZE,
        progress: Progress | None = None,
        counts: dict[str, int] | None = None,
    ) -> int:
        """Process the whole log again, in batches, into shadow tables, and
        swap them in once they have caught up (``projections.rebuild``):
        readers keep reading the live tables, complete, meanwhile.

        The swap and the catch-up of the live tables take the same writer
        lock, and the shadow is caught up to the log's end inside the swap's
        transaction, so commands recorded meanwhile are in the new tables
        once, or after them for the next catch-up: never lost, never twice.
        """
        names = self.select(name)
        rebuild = BlueGreen(
            [self.views[each] for each in names],
            self.project_page,
            application_name=self.ledger.name,
            batch_size=batch_size,
            progress=progress,
            counts={} if counts is None else counts,
        )
        return rebuild.run()

    def project_page(
        self,
        views: Sequence[LedgerView],
        cursor: Cursor,
        raw: Any,
        *,
        batch_size: int,
        progress: Progress | None,
        counts: dict[str, int],
    ) -> int:
        """Project the log's next page into ``views`` (a rebuild's shadows),
        in the caller's transaction, which holds their writer locks: each
        event read and decoded once for all of them. Returns the number of
        events read (fewer than ``batch_size``: the log's end)."""
        name = self.ledger.name
        positions = [view.position_in(raw, name) for view in views]
        page = views[0].read_log(
            raw, self._events_table, min(positions) + 1, batch_size
        )
        if not page:
            return 0
        decoded = decode_page(self.mapper, page, self._as_id)
        tracking = Tracking(name, page[-1][0])
        for view, position in zip(views, positions, strict=True):
            items = (
                decoded
                if position < page[0][0]
                else [item for item in decoded if item[0] > position]
            )
            if items:
                projection = self.projections[view.projection_name]
                view.apply_in(cursor, raw, projection, items, tracking)
                counts[view.projection_name] += len(items)
                if progress is not None:
                    progress(len(items))
        return len(page)

    def _catch_up(
        self,
        names: list[str],
        batch_size: int,
        progress: Progress | None,
        counts: dict[str, int] | None,
        *,
        until: int | None = None,
        wait: bool = True,
    ) -> int:
        """Catch the named projections up together: one transaction per batch
        for all of them, each event read and decoded once. With ``until``,
        stop once every one has passed that notification id (a waiter that
        finds, under the lock, that another writer got there first is done
        in one read)."""
        views = [self.views[each] for each in names]
        counts = {} if counts is None else counts
        counts.update(dict.fromkeys(names, 0))
        processed = 0
        while True:
            with views[0].writing(also=views[1:], wait=wait) as (cursor, raw):
                positions = self._positions_in(raw, views)
                if until is not None and min(positions) >= until:
                    return processed
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
