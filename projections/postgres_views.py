"""The projection views on PostgreSQL, apart so a SQLite run never imports psycopg.

Same tables and the same writer-lock protocol as the SQLite views
(``projections.views``): a batch's rows and its tracking position in one
transaction, under an exclusive lock on the tracking tables.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from projections.changes import Cursor, Row, insert_sql, upsert_sql
from projections.schema import (
    ACCOUNTS_TABLE_NAMES,
    ACCOUNTS_TABLES,
    AUDIT_TABLE_NAMES,
    AUDIT_TABLES,
)
from projections.views import LedgerView, LogRow

COPY_FROM = 50
"""Rows from which a batch is written with COPY rather than ``executemany``."""


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
    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        kwargs["tracking_table_name"] = f"{self.projection_name}_tracking"
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.extend(
            SQL(statement).format() for statement in self.tables
        )

    @contextmanager
    def writing(self, also: Sequence[LedgerView] = ()) -> Iterator[tuple[Cursor, Any]]:
        tables = sorted(
            {self.tracking_table_name}
            | {view.tracking_table for view in also}  # always in one order
        )
        with self.datastore.transaction(commit=True) as raw:
            for table in tables:
                raw.execute(
                    SQL("LOCK TABLE {0}.{1} IN EXCLUSIVE MODE").format(
                        Identifier(self.datastore.schema), Identifier(table)
                    )
                )
            yield _PostgresCursor(raw), raw

    def cursor_for(self, raw: Any) -> Cursor:
        return _PostgresCursor(raw)

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
