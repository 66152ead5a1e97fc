"""The PostgreSQL application recorder, chaining each insert in its transaction
(see ``adapters.recorders``); apart so a SQLite run never imports psycopg.

The library's own ``insert_events`` catches any exception inside its
transaction block to re-raise it after the block: a Python-level failure in
a hook there would be *committed* with the events. This recorder runs the
same statements (lock, notify, insert) in a transaction of its own, which
commits only when every statement of it succeeded.

Every insert holds the log's lock (``LOCK TABLE ... EXCLUSIVE``) from its
first statement to its commit, so concurrent commands queue behind it: the
locked section is one round trip to the server, with no work in the client
while the lock is held. One pipeline sends the lock, the insert, the chain
and tree rows (``integrity.store.append_function``, a server-side
function), the request row and the ``COMMIT``. The projections follow
after the commit (``projections.runner.Projections.catch_up_after_save``).
A store without a tree yet (its first insert, when nothing opened it the
CLI's way) is chained by ``integrity.store.Appender`` instead, once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry

from adapters import requests
from adapters.recorders import InsertHooks, after_chain
from integrity.store import APPEND_FUNCTION, Sql, append_function, schema


def has_tree(connection: Any) -> bool:
    """Whether the store's log tree was started (``integrity_state``)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) AS n FROM integrity_state WHERE id = 1")
        row = cursor.fetchone()
    return bool(row and row["n"])


class ChainingPostgresRecorder(InsertHooks, PostgresApplicationRecorder):
    append_call = f"SELECT {APPEND_FUNCTION.partition('(')[0]}(%s)"
    """The server-side chain and tree of an insert's events."""
    tree_started = False
    """Known to have a log tree: ``integrity.chaining.ChainedLog`` says so
    when it opens the store, else the first insert of the process looks."""

    def create_table(self) -> None:
        from adapters.roles import functions
        from domain.seeker import final_event_topics

        super().create_table()
        with self.datastore.transaction(commit=True) as cursor:
            for statement in [*schema(True), *requests.schema(True)]:
                cursor.execute(statement)  # type: ignore[arg-type,unused-ignore]
            for function in functions(sorted(final_event_topics())):
                cursor.execute(function)
            cursor.execute(append_function(self.events_table_name))  # type: ignore[arg-type,unused-ignore]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return None
        with self.datastore.get_connection() as connection:
            if not self.tree_started:
                self.tree_started = has_tree(connection)
            if self.tree_started:
                ids = self._insert_chained(connection, stored_events, **kwargs)
            else:
                ids = self._insert_then_append(connection, stored_events, **kwargs)
                self.tree_started = True
        if ids:
            self.last_notification_id = ids[-1]
        return ids

    def _insert_chained(
        self, connection: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The whole insert in one pipeline: its ``BEGIN`` and ``COMMIT`` are
        statements of it, so nothing waits for the client in between, and an
        error anywhere in it leaves the transaction aborted, never
        committed."""
        with (
            connection.pipeline() as pipeline,
            connection.cursor() as cursor,
            connection.cursor() as others,
        ):
            others.execute("BEGIN")
            try:
                self._insert_events(cursor, stored_events, **kwargs)
                self._insert_stored_events(cursor, stored_events, **kwargs)
                others.execute(self.append_call, (len(stored_events),))
                after_chain(Sql(others, postgres=True), stored_events)
                others.execute("COMMIT")
                pipeline.sync()
            except BaseException:
                # Out of the aborted pipeline, ROLLBACK, and forget the
                # statements it would have prepared, as a transaction
                # block's rollback does. When the error surfaced while
                # statements were still being queued, the first rollback's
                # sync meets their aborted results ("pipeline aborted"): it
                # has cleared them, so the second one ends the transaction.
                # Either way the error that aborted it is what is raised (an
                # IntegrityError is a lost race, which the ledger retries).
                try:
                    connection.rollback()
                except psycopg.Error:
                    with contextlib.suppress(psycopg.Error):
                        connection.rollback()
                raise
            return self._fetch_ids_after_insert_events(cursor, stored_events, **kwargs)

    def _insert_then_append(
        self, connection: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The insert, then the chain computed here (``Appender``), which
        starts the tree of a store that has none, in one transaction."""
        with (
            connection.pipeline() as pipeline,
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            self._insert_events(cursor, stored_events, **kwargs)
            self._insert_stored_events(cursor, stored_events, **kwargs)
            pipeline.sync()
            ids = self._fetch_ids_after_insert_events(cursor, stored_events, **kwargs)
            if ids:
                self.after_insert(Sql(cursor, postgres=True), stored_events, ids)
        return ids
