"""Materialised views: the library's tracking recorders, extended with our tables.

A view writes a batch's rows and its tracking position in one transaction.
Writers of one projection are serialised (SQLite ``BEGIN IMMEDIATE``,
PostgreSQL a lock on the projection's tracking table) and read their position
inside that lock, so concurrent catch-ups never process an event twice; the
library's conditional tracking upsert is the last line of defence.

A view of the live tables also keeps a rebuild's shadow (the same tables
under ``schema.SHADOW`` names, with a view of their own, ``shadow()``): it
creates it, swaps it in and drops it. The shadow's writer lock is its own
tracking table's, so on PostgreSQL a rebuild's batches never wait for the
live projections' writers, nor they for it.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from eventsourcing.persistence import PersistenceError, Tracking, TrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore, SQLiteTrackingRecorder

from domain.i18n import _
from projections.changes import ChangeSet, Cursor, Row, insert_sql, upsert_sql
from projections.schema import (
    ACCOUNTS_TABLE_NAMES,
    ACCOUNTS_TABLES,
    AUDIT_TABLE_NAMES,
    AUDIT_TABLES,
    SHADOW,
    shadow_statements,
)


class Applies(Protocol):
    def apply(self, event: Any, changes: ChangeSet, notification_id: int) -> None: ...

    def prepare(self, items: Sequence[tuple[int, Any]], changes: ChangeSet) -> None: ...

    def settle(self, changes: ChangeSet) -> None: ...


LogRow = tuple[int, Any, int, str, bytes]
"""A stored event as the projections read it: notification id, originator
id (as the database returns it), version, topic, state."""


class WriterBusy(Exception):
    """Another process holds the projections' writer lock."""


class ShadowBehind(Exception):
    """A rebuild's shadow is behind the live tables: swapping it in would
    take back events readers have seen."""


class SwapBusy(Exception):
    """Readers held the live tables longer than a swap waits for them."""


class LedgerView(TrackingRecorder):
    """What every projection view offers, whatever the database."""

    projection_name: ClassVar[str]
    tables: ClassVar[list[str]]
    table_names: ClassVar[list[str]]
    suffix: str = ""
    """The tables this view writes: ``""`` the live ones, ``SHADOW`` a
    rebuild's (``shadow()``)."""

    @property
    def tracking_table(self) -> str:
        return f"{self.projection_name}_tracking{self.suffix}"

    @abstractmethod
    def shadow(self) -> LedgerView:
        """The view of this projection's rebuild shadow, on the same store
        (whether the shadow's tables exist or not)."""

    def rebuild_position(self, application_name: str) -> int | None:
        """How far a rebuild's shadow has got, or ``None`` when there is no
        shadow (no rebuild running, none killed since the last one). A
        shadow swapped in or dropped between the two reads is none."""
        shadow = self.shadow()
        if not self.table_exists(shadow.tracking_table):
            return None
        try:
            return shadow.max_tracking_id(application_name) or 0
        except PersistenceError:
            return None

    @abstractmethod
    def table_exists(self, table: str) -> bool:
        """Whether the store has this table (one read)."""

    @abstractmethod
    def begin_rebuild(self) -> None:
        """Drop any shadow a killed rebuild left and create an empty one:
        its tables and indexes, and its tracking table (position 0)."""

    def settle_rebuild(self) -> None:
        """Ready the filled shadow for readers before the swap (PostgreSQL:
        the planner's statistics), outside any writer lock."""

    @abstractmethod
    def swap_in(self, raw: Any, application_name: str) -> int:
        """Swap the shadow in, under the live names, and drop the old tables,
        inside the caller's transaction (which holds this projection's and
        its shadow's writer locks, the shadow caught up). Returns the
        position the projection is at now, the shadow's. Raises
        ``ShadowBehind`` rather than go back behind the live tables."""

    @abstractmethod
    def abandon_rebuild(self) -> None:
        """Drop the shadow, if any: the live tables are left as they are."""

    @abstractmethod
    @contextmanager
    def writing(
        self, also: Sequence[LedgerView] = (), *, wait: bool = True
    ) -> Iterator[tuple[Cursor, Any]]:
        """A write transaction holding this projection's writer lock, and
        those of ``also`` (projections in the same database, caught up in
        the same transaction). With ``wait=False``, raise ``WriterBusy`` at
        once when another process holds one of them (PostgreSQL; SQLite
        waits as ever: its commands project inline)."""

    @contextmanager
    def after_writer(self, also: Sequence[LedgerView] = ()) -> Iterator[Any]:
        """A transaction that begins once whoever holds the writer lock (of
        this projection and ``also``) has committed, to read positions in
        (PostgreSQL waits with a lock that lets every waiter go at once;
        here, the writer lock itself)."""
        with self.writing(also) as (_, raw):
            yield raw

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
        changes = ChangeSet(cursor, self.written_tables())
        projection.prepare(items, changes)
        apply = projection.apply
        for notification_id, event in items:
            apply(event, changes, notification_id)
        projection.settle(changes)
        changes.flush()
        self.track_in(raw, tracking)

    def written_tables(self) -> dict[str, str]:
        """Each projection table's name and the table this view writes."""
        return {name: f"{name}{self.suffix}" for name in self.table_names}

    def reset_in(self, cursor: Cursor, application_name: str) -> None:
        """Empty the tables and forget the position, in place (what a
        rebuild did before it filled shadows; the tests start from it)."""
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
    def __init__(
        self, datastore: SQLiteDatastore, *, suffix: str = "", **kwargs: Any
    ) -> None:
        self.suffix = suffix
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
        if self.suffix:
            # SQLite cannot rename an index: the shadow gets only those its
            # batches need, the swap builds the rest under their live names.
            return statements + shadow_statements(self.tables, indexes=False)
        return statements + self.tables

    @contextmanager
    def writing(
        self, also: Sequence[LedgerView] = (), *, wait: bool = True
    ) -> Iterator[tuple[Cursor, Any]]:
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

    def shadow(self) -> SQLiteLedgerView:
        return type(self)(self.datastore, suffix=SHADOW)

    def table_exists(self, table: str) -> bool:
        found = self.query(
            "SELECT count(*) AS found FROM sqlite_master "
            "WHERE type = 'table' AND name = ?",
            (table,),
        )
        return bool(found[0]["found"])

    def begin_rebuild(self) -> None:
        with self.writing() as (_, raw):
            self._drop_shadow(raw)
            for statement in self.shadow().construct_create_table_statements():
                raw.execute(statement)

    def swap_in(self, raw: Any, application_name: str) -> int:
        shadow = self.shadow()
        position = shadow.position_in(raw, application_name)
        live = self.position_in(raw, application_name)
        if position < live:
            raise ShadowBehind(
                _(
                    "the rebuild of {projection} is at event {position}, the live "
                    "tables at {live}: not swapped"
                ).format(projection=self.projection_name, position=position, live=live)
            )
        for table in self.table_names:
            raw.execute(f"DROP TABLE {table}")
            raw.execute(f"ALTER TABLE {table}{SHADOW} RENAME TO {table}")
        for index in self._shadow_indexes(raw):
            raw.execute(f"DROP INDEX {index}")
        for statement in self.tables:  # the live indexes, on the new tables
            raw.execute(statement)
        self._set_position(raw, application_name, position)
        raw.execute(f"DROP TABLE {shadow.tracking_table}")
        return position

    def _shadow_indexes(self, raw: Any) -> list[str]:
        """The indexes the shadow filled with, now on the live tables."""
        marks = ", ".join("?" for _ in self.table_names)
        raw.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' "
            f"AND tbl_name IN ({marks})",
            self.table_names,
        )
        return [row[0] for row in raw.fetchall() if str(row[0]).endswith(SHADOW)]

    def _set_position(self, raw: Any, application_name: str, position: int) -> None:
        """The live position, set to the shadow's: not the library's upsert,
        which refuses to leave a position where it is."""
        raw.execute(
            f"DELETE FROM {self.tracking_table} WHERE application_name = ?",
            (application_name,),
        )
        if position:
            raw.execute(
                f"INSERT INTO {self.tracking_table} "
                "(application_name, notification_id) VALUES (?, ?)",
                (application_name, position),
            )

    def abandon_rebuild(self) -> None:
        with self.writing() as (_, raw):
            self._drop_shadow(raw)

    def _drop_shadow(self, raw: Any) -> None:
        for table in [*self.table_names, f"{self.projection_name}_tracking"]:
            raw.execute(f"DROP TABLE IF EXISTS {table}{SHADOW}")

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
