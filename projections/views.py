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
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore, SQLiteTrackingRecorder

from projections.changes import ChangeSet, Cursor, Row
from projections.schema import (
    ACCOUNTS_TABLE_NAMES,
    ACCOUNTS_TABLES,
    AUDIT_TABLE_NAMES,
    AUDIT_TABLES,
)


class Applies(Protocol):
    def apply(self, event: Any, changes: ChangeSet, notification_id: int) -> None: ...


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
        for notification_id, event in items:
            projection.apply(event, changes, notification_id)
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


class _SQLiteCursor:
    def __init__(self, cursor: SQLiteCursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(sql, rows)

    def fetchall(self) -> list[Row]:
        return [dict(row) for row in self._cursor.fetchall()]


class SQLiteLedgerView(LedgerView, SQLiteTrackingRecorder):
    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
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
            raw.execute("BEGIN IMMEDIATE")
            try:
                yield _SQLiteCursor(raw), raw
            except BaseException:
                connection.rollback()
                raise
            connection.commit()

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


class SQLiteAccountsView(SQLiteLedgerView):
    projection_name = "accounts"
    tables = ACCOUNTS_TABLES
    table_names = ACCOUNTS_TABLE_NAMES


class SQLiteAuditTrailView(SQLiteLedgerView):
    projection_name = "audit_trail"
    tables = AUDIT_TABLES
    table_names = AUDIT_TABLE_NAMES
