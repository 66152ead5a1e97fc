"""The projection views on PostgreSQL, apart so a SQLite run never imports psycopg.

Same tables and the same writer-lock protocol as the SQLite views
(``projections.views``): a batch's rows and its tracking position in one
transaction, under an exclusive lock on the tracking tables.

A rebuild's shadow is created, swapped in and dropped by functions the
store's owner defines with the schema (``projections.postgres_rebuild``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.errors import LockNotAvailable
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier, Literal

from projections.changes import Cursor, Row, insert_sql, upsert_sql
from projections.postgres_rebuild import ProjectionTables, rebuild_functions
from projections.schema import (
    ACCOUNTS_TABLE_NAMES,
    ACCOUNTS_TABLES,
    AUDIT_TABLE_NAMES,
    AUDIT_TABLES,
    SHADOW,
)
from projections.views import LedgerView, LogRow, SwapBusy, WriterBusy

COPY_FROM = 50
"""Rows from which a batch is written with COPY rather than ``executemany``."""
SWAP_LOCK_TIMEOUT = "1s"
"""How long a swap waits for the readers of the live tables to finish: past
it, the swap gives way (readers queued behind it wait no longer) and the
rebuild tries again."""


class _PostgresCursor:
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(sql.replace("?", "%s"), rows)

    def fetchall(self) -> list[Row]:
        return [dict(row) for row in self._cursor.fetchall()]

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        if not self._copying(rows):
            self.executemany(insert_sql(table, columns), rows)
            return
        statement = SQL("COPY {0} ({1}) FROM STDIN").format(
            Identifier(table), SQL(", ").join(map(Identifier, columns))
        )
        with self._cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def upsert_rows(
        self,
        table: str,
        columns: Sequence[str],
        keys: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        if not self._copying(rows):
            self.executemany(upsert_sql(table, columns, keys), rows)
            return
        # Copied into a scratch table, then one statement upserts them all.
        scratch = f"{table}_batch"
        self._cursor.execute(
            SQL(
                "CREATE TEMPORARY TABLE IF NOT EXISTS {0} (LIKE {1}) "
                "ON COMMIT DELETE ROWS"
            ).format(Identifier(scratch), Identifier(table))
        )
        self.insert_rows(scratch, columns, rows)
        names = ", ".join(columns)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
        self._cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {scratch} "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
        )
        self._cursor.execute(SQL("TRUNCATE {0}").format(Identifier(scratch)))

    def _copying(self, rows: Sequence[Sequence[Any]]) -> bool:
        """COPY pays off from a few dozen rows; it is not allowed in the
        pipeline a command's insert runs in (the inline projections)."""
        in_pipeline = self._cursor.connection.pgconn.pipeline_status
        return len(rows) >= COPY_FROM and not in_pipeline


class PostgresLedgerView(LedgerView, PostgresTrackingRecorder):
    def __init__(
        self, datastore: PostgresDatastore, *, suffix: str = "", **kwargs: Any
    ) -> None:
        self.suffix = suffix
        kwargs["tracking_table_name"] = self.tracking_table
        super().__init__(datastore, **kwargs)
        if suffix:
            return  # a shadow's tables are made by seekers_rebuild_begin
        self.sql_create_statements.extend(
            SQL(statement).format() for statement in self.tables
        )
        self.sql_create_statements.extend(
            rebuild_functions(datastore.schema, _projections())
        )

    @contextmanager
    def writing(
        self, also: Sequence[LedgerView] = (), *, wait: bool = True
    ) -> Iterator[tuple[Cursor, Any]]:
        with self.datastore.transaction(commit=True) as raw:
            # Projections are derived from the log and their position commits
            # with their rows: a crash may lose the last commits' rows and
            # position together, and the next catch-up redoes them. So their
            # commit need not wait for the disk (the log's commit does).
            try:  # one trip; the locks are taken in the list's order
                raw.execute(
                    SQL("SET LOCAL synchronous_commit = off; {0}").format(
                        self._lock(also, "EXCLUSIVE", wait=wait)
                    )
                )
            except LockNotAvailable:
                raise WriterBusy(self.tracking_table_name) from None
            yield _PostgresCursor(raw), raw

    @contextmanager
    def after_writer(self, also: Sequence[LedgerView] = ()) -> Iterator[Any]:
        """A read-only transaction that begins once whoever holds the writer
        lock (of this projection and ``also``) has committed: a ``SHARE``
        lock, which waits for the writer without using the processor and,
        taken by many waiters at once, lets them all go together."""
        with self.datastore.transaction(commit=False) as raw:
            raw.execute(self._lock(also, "SHARE", wait=True))
            yield raw

    def _lock(self, also: Sequence[LedgerView], mode: str, *, wait: bool) -> Composed:
        """The tracking tables locked in one order (no deadlock between
        writers), after the lock timeout is set: behind a pooler connections
        carry no settings (``adapters.postgres_store``)."""
        tables = sorted(
            {self.tracking_table_name} | {view.tracking_table for view in also}
        )
        schema = Identifier(self.datastore.schema)
        return SQL(
            "SET LOCAL lock_timeout = '{0}s'; LOCK TABLE {1} IN {2} MODE{3}"
        ).format(
            self.datastore.lock_timeout,
            SQL(", ").join(
                SQL("{0}.{1}").format(schema, Identifier(table)) for table in tables
            ),
            SQL(mode),
            SQL("" if wait else " NOWAIT"),
        )

    def cursor_for(self, raw: Any) -> Cursor:
        return _PostgresCursor(raw)

    def shadow(self) -> PostgresLedgerView:
        return type(self)(self.datastore, suffix=SHADOW)

    def table_exists(self, table: str) -> bool:
        found = self.query(
            "SELECT to_regclass(?) IS NOT NULL AS found",
            (f"{self.datastore.schema}.{table}",),
        )
        return bool(found[0]["found"])

    def begin_rebuild(self) -> None:
        self._call("seekers_rebuild_begin")

    def settle_rebuild(self) -> None:
        self._call("seekers_rebuild_analyze")

    def swap_in(self, raw: Any, application_name: str) -> int:
        # Dropping the live tables waits for their readers, and readers
        # arriving meanwhile queue behind: wait briefly, else give way.
        raw.execute(
            SQL("SET LOCAL lock_timeout = {0}").format(Literal(SWAP_LOCK_TIMEOUT))
        )
        try:
            raw.execute(
                SQL("SELECT {0}.seekers_rebuild_swap(%s, %s) AS position").format(
                    Identifier(self.datastore.schema)
                ),
                (self.projection_name, application_name),
            )
        except LockNotAvailable:
            raise SwapBusy(self.projection_name) from None
        return int(raw.fetchone()["position"])

    def abandon_rebuild(self) -> None:
        self._call("seekers_rebuild_abandon")

    def _call(self, function: str) -> None:
        """One of the rebuild's functions, on this projection, committed."""
        with self.datastore.transaction(commit=True) as raw:
            raw.execute(
                SQL("SELECT {0}.{1}(%s)").format(
                    Identifier(self.datastore.schema), Identifier(function)
                ),
                (self.projection_name,),
            )

    def position_in(self, raw: Any, application_name: str) -> int:
        return self._max_tracking_id(application_name, raw) or 0

    def track_in(self, raw: Any, tracking: Tracking) -> None:
        self._insert_tracking(raw, tracking)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        # One autocommitted statement: a read-only transaction block would
        # cost a BEGIN and a ROLLBACK round trip more.
        with self.datastore.get_connection() as connection:
            rows = connection.execute(sql.replace("?", "%s"), params).fetchall()
            return [dict(row) for row in rows]

    def read_log(
        self, raw: Any, events_table: str, start: int, limit: int
    ) -> list[LogRow]:
        with raw.connection.cursor(row_factory=tuple_row) as reader:
            reader.execute(
                SQL(
                    "SELECT notification_id, originator_id, originator_version, "
                    "topic, state FROM {0}.{1} WHERE notification_id >= %s "
                    "ORDER BY notification_id LIMIT %s"
                ).format(Identifier(self.datastore.schema), Identifier(events_table)),
                (start, limit),
                prepare=True,
            )
            rows: list[LogRow] = reader.fetchall()
        return rows


class PostgresAccountsView(PostgresLedgerView):
    projection_name = "accounts"
    tables = ACCOUNTS_TABLES
    table_names = ACCOUNTS_TABLE_NAMES


class PostgresAuditTrailView(PostgresLedgerView):
    projection_name = "audit_trail"
    tables = AUDIT_TABLES
    table_names = AUDIT_TABLE_NAMES


def _projections() -> tuple[ProjectionTables, ...]:
    """Each projection's name, tables' DDL and tables' names, for the
    rebuild's functions."""
    return tuple(
        (view.projection_name, tuple(view.tables), tuple(view.table_names))
        for view in (PostgresAccountsView, PostgresAuditTrailView)
    )
