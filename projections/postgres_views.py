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
from psycopg.sql import SQL, Identifier

from projections.changes import Cursor, Row
from projections.schema import (
    ACCOUNTS_TABLE_NAMES,
    ACCOUNTS_TABLES,
    AUDIT_TABLE_NAMES,
    AUDIT_TABLES,
)
from projections.views import LedgerView


class _PostgresCursor:
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(sql.replace("?", "%s"), rows)

    def fetchall(self) -> list[Row]:
        return [dict(row) for row in self._cursor.fetchall()]


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


class PostgresAccountsView(PostgresLedgerView):
    projection_name = "accounts"
    tables = ACCOUNTS_TABLES
    table_names = ACCOUNTS_TABLE_NAMES


class PostgresAuditTrailView(PostgresLedgerView):
    projection_name = "audit_trail"
    tables = AUDIT_TABLES
    table_names = AUDIT_TABLE_NAMES
