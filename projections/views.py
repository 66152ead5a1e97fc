"""Materialised views: the library's tracking recorders, extended with our tables.

A view writes a batch's rows and its tracking position in one transaction.
Writers of one projection are serialised (SQLite ``BEGIN IMMEDIATE``,
PostgreSQL a lock on the projection's tracking table) and read their position
inside that lock, so concurrent catch-ups never process an event twice; the
library's conditional tracking upsert is the last line of defence.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore, SQLiteTrackingRecorder

from projections.changes import ChangeSet, Cursor, Row, insert_sql, upsert_sql
from projections.schema import (
    ACCOUNTS_TABLE_NAMES,
    ACCOUNTS_TABLES,
    AUDIT_TABLE_NAMES,
    AUDIT_TABLES,
)


class Applies(Protocol):
    def apply(self, event: Any, changes: ChangeSet, notification_id: int) -> None: ...

    def prepare(self, items: Sequence[tuple[int, Any]], changes: ChangeSet) -> None: ...

    def settle(self, changes: ChangeSet) -> None: ...


LogRow = tuple[int, Any, int, str, bytes]
"""A stored event as the projections read it: notification id, originator
id (as the database returns it), version, topic, state."""


class LedgerView(TrackingRecorder):
    """What every projection view offers, whatever the database."""

    projection_name: ClassVar[str]
    tables: ClassVar[list[str]]
    table_names: ClassVar[list[str]]

    @property
    def tracking_table(self) -> str:
        return f"{self.projection_name}_tracking"

    @abstractmethod
    @contextmanager
    def writing(self, also: Sequence[LedgerView] = ()) -> Iterator[tuple[Cursor, Any]]:
        """A write transaction holding this projection's writer lock, and
        those of ``also`` (projections in the same database, caught up in
        the same transaction)."""

    @abstractmethod
    def cursor_for(self, raw: Any) -> Cursor:
        """The portable cursor over a raw one of this database."""

    @abstractmethod
    def position_in(self, raw: Any, application_name: str) -> int:
        """The tracked position, read inside the write transaction."""

    @abstractmethod
    def track_in(self, raw: Any, tracking: Tracking) -> None:
        """Record the position, inside the write transaction."""

    if TYPE_CHECKING:

        def create_table(self) -> None:
            """Create the projection's tables and its tracking table."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Read rows (SQL with ``?`` placeholders)."""

    @abstractmethod
    def read_log(
        self, raw: Any, events_table: str, start: int, limit: int
    ) -> list[LogRow]:
        """A page of the event log from notification ``start``, read as plain
        tuples inside the write transaction."""

    def apply_batch(
        self,
        projection: Applies,
        items: Sequence[tuple[int, Any]],
        tracking: Tracking,
    ) -> None:
        """Apply events and record ``tracking`` in one transaction."""
        with self.writing() as (cursor, raw):
            if self.position_in(raw, tracking.application_name) >= (
                tracking.notification_id
            ):
                return  # already processed by another writer
            self.apply_in(cursor, raw, projection, items, tracking)

    def apply_in(
        self,
        cursor: Cursor,
        raw: Any,
        projection: Applies,
        items: Sequence[tuple[int, Any]],
        tracking: Tracking,
    ) -> None:
        changes = ChangeSet(cursor)
        projection.prepare(items, changes)
        apply = projection.apply
        for notification_id, event in items:
            apply(event, changes, notification_id)
        projection.settle(changes)
        changes.flush()
        self.track_in(raw, tracking)

    def reset_in(self, cursor: Cursor, application_name: str) -> None:
        """Empty the tables and forget the position (start of a rebuild)."""
        for table in self.table_names:
            cursor.execute(f"DELETE FROM {table}")
        cursor.execute(
            f"DELETE FROM {self.tracking_table} WHERE application_name = ?",
            (application_name,),
        )


class BatchProjection(Projection[LedgerView]):
    """A projection applied a batch at a time: ``apply`` gathers each event's
    changes in a ``ChangeSet``, ``settle`` finishes what depends only on where
    the batch leaves a row, and the view writes it all with the position
    (``prepare`` first reads what the batch needs, a query per chunk).
    Every path (rebuild, catch-up, the inline hook, the live runner) goes
    through ``LedgerView.apply_in``; a single event is a batch of one."""

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """One event in its own transaction (the live runner's path)."""
        self.view.apply_batch(
            self, [(tracking.notification_id, domain_event)], tracking
        )

    @abstractmethod
    def apply(self, event: Any, changes: ChangeSet, notification_id: int) -> None:
        """Gather one event's changes."""

    def prepare(self, items: Sequence[tuple[int, Any]], changes: ChangeSet) -> None:
        """Called once per batch, before the first ``apply``: read at once
        what the batch's events will need from the tables."""

    def settle(self, changes: ChangeSet) -> None:
        """Called once per batch, after the last ``apply`` and before writing."""


class _SQLiteCursor:
    def __init__(self, cursor: SQLiteCursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(sql, rows)

    def fetchall(self) -> list[Row]:
        return [dict(row) for row in self._cursor.fetchall()]

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        self._cursor.executemany(insert_sql(table, columns), rows)

    def upsert_rows(
        self,
        table: str,
        columns: Sequence[str],
        keys: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        self._cursor.executemany(upsert_sql(table, columns, keys), rows)


class SQLiteLedgerView(LedgerView, SQLiteTrackingRecorder):
    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self._wal: bool | None = None
        table = self.tracking_table
        self.insert_tracking_statement = self.insert_tracking_statement.replace(
            "tracking", table
        )
        self.select_max_tracking_id_statement = (
            self.select_max_tracking_id_statement.replace("tracking", table)
        )

    def construct_create_table_statements(self) -> list[str]:
        statements = [
            statement.replace("tracking", self.tracking_table)
            for statement in super().construct_create_table_statements()
        ]
        return statements + self.tables

    @contextmanager
    def writing(self, also: Sequence[LedgerView] = ()) -> Iterator[tuple[Cursor, Any]]:
        # BEGIN IMMEDIATE takes the database's one writer lock: it covers
        # every projection at once.
        with self.datastore.get_connection(commit=True) as connection:
            raw = connection.cursor()
            synchronous = self._relax(raw)
            try:
                raw.execute("BEGIN IMMEDIATE")
                try:
                    yield _SQLiteCursor(raw), raw
                except BaseException:
                    connection.rollback()
                    raise
                connection.commit()
            finally:
                if synchronous is not None:
                    raw.execute(f"PRAGMA synchronous = {synchronous}")

    def _relax(self, raw: Any) -> int | None:
        """A projection batch need not wait for the disk (in WAL mode,
        ``synchronous=NORMAL``): it still commits whole or not at all, with
        its position, and one lost to a power cut is simply done again; the
        events keep the store's setting. Returns the setting to put back
        (``None``: not in WAL mode, nothing changed)."""
        if self._wal is None:
            raw.execute("PRAGMA journal_mode")
            self._wal = str(raw.fetchone()[0]).lower() == "wal"
        if not self._wal:
            return None
        raw.execute("PRAGMA synchronous")
        synchronous = int(raw.fetchone()[0])
        raw.execute(f"PRAGMA synchronous = {min(synchronous, 1)}")
        return synchronous

    def cursor_for(self, raw: Any) -> Cursor:
        return _SQLiteCursor(raw)

    def position_in(self, raw: Any, application_name: str) -> int:
        return self._max_tracking_id(application_name, raw) or 0

    def track_in(self, raw: Any, tracking: Tracking) -> None:
        self._insert_tracking(raw, tracking)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(sql, params)
            return [dict(row) for row in cursor.fetchall()]

    def read_log(
        self, raw: Any, events_table: str, start: int, limit: int
    ) -> list[LogRow]:
        reader = raw.sqlite_cursor.connection.cursor()
        reader.row_factory = None  # plain tuples, not ``sqlite3.Row``
        try:
            reader.execute(
                "SELECT rowid, originator_id, originator_version, topic, state "
                f"FROM {events_table} WHERE rowid >= ? ORDER BY rowid LIMIT ?",
                (start, limit),
            )
            rows: list[LogRow] = reader.fetchall()
        finally:
            reader.close()
        return rows


class SQLiteAccountsView(SQLiteLedgerView):
    projection_name = "accounts"
    tables = ACCOUNTS_TABLES
    table_names = ACCOUNTS_TABLE_NAMES


class SQLiteAuditTrailView(SQLiteLedgerView):
    projection_name = "audit_trail"
    tables = AUDIT_TABLES
    table_names = AUDIT_TABLE_NAMES
