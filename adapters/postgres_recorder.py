"""The PostgreSQL application recorder, chaining each insert in its transaction
(see ``adapters.recorders``); apart so a SQLite run never imports psycopg.

The library's own ``insert_events`` runs the insert in pipeline mode and
catches any exception inside its transaction block to re-raise it after the
block: a Python-level failure in a hook there would be *committed* with the
events. This recorder runs the same statements (lock, insert, ids) in a plain
transaction with the hook inside it, so any failure rolls everything back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry

from adapters import requests
from adapters.recorders import InlineHook, after_insert
from integrity.store import Sql, schema


class ChainingPostgresRecorder(PostgresApplicationRecorder):
    inline: InlineHook | None = None
    """Set by ``projections.runner.Projections``: project these events in this
    transaction (it guards itself with a savepoint)."""

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as cursor:
            for statement in [*schema(True), *requests.schema(True)]:
                cursor.execute(statement)  # type: ignore[arg-type,unused-ignore]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return None
        with (
            self.datastore.get_connection() as connection,
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            self._insert_events(cursor, stored_events, **kwargs)  # the table lock
            self._insert_stored_events(cursor, stored_events, **kwargs)
            ids = self._fetch_ids_after_insert_events(cursor, stored_events, **kwargs)
            if ids:
                sql = Sql(cursor, postgres=True)
                after_insert(sql, self.events_table_name, stored_events, ids)
                if self.inline is not None:
                    self.inline(cursor, stored_events, ids)
        return ids
