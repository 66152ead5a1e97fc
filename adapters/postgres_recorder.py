"""The PostgreSQL application recorder, chaining each insert in its transaction
(see ``adapters.recorders``); apart so a SQLite run never imports psycopg.

The library's own ``insert_events`` runs the insert in pipeline mode and
catches any exception inside its transaction block to re-raise it after the
block: a Python-level failure in a hook there would be *committed* with the
events. This recorder runs the same statements (lock, insert, ids) in a plain
transaction with the hook inside it, so any failure rolls everything back.

It keeps the library's pipeline, though, inside that transaction: statements
whose results are not needed are sent without waiting, so the insert, chain,
tree and request row cost four round trips to the server instead of one per
statement. The pipeline ends (and syncs: any failure raises) before the inline
projections run, so their savepoint never sees an earlier statement's error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry

from adapters import requests
from adapters.recorders import InsertHooks
from integrity.store import Sql, schema


class ChainingPostgresRecorder(InsertHooks, PostgresApplicationRecorder):
    def create_table(self) -> None:
        from adapters.roles import functions
        from domain.seeker import final_event_topics

        super().create_table()
        with self.datastore.transaction(commit=True) as cursor:
            for statement in [*schema(True), *requests.schema(True)]:
                cursor.execute(statement)  # type: ignore[arg-type,unused-ignore]
            for function in functions(sorted(final_event_topics())):
                cursor.execute(function)

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
            with connection.pipeline() as pipeline:
                self._insert_events(cursor, stored_events, **kwargs)
                self._insert_stored_events(cursor, stored_events, **kwargs)
                pipeline.sync()
                ids = self._fetch_ids_after_insert_events(
                    cursor, stored_events, **kwargs
                )
                if ids:
                    self.after_insert(Sql(cursor, postgres=True), stored_events, ids)
            # The pipeline's end synced: a failure of those writes raised above.
            if ids and self.inline is not None:
                self.inline(cursor, stored_events, ids)
        return ids
