"""The library's application recorders, extended at the moment of insert.

Right after the library inserts a batch of events, and inside the same
transaction, these happen that commit with the events or not at all:

1. the audit integrity tables are appended (``integrity.store``): the stream
   chain and the log tree cover every event written by any path (commands,
   the sweep, ``simulate``, imports), and a failure there fails the insert;
2. a ``Purged`` event's data key and email-index rows are deleted
   (``adapters.erasure``), so a purge is never recorded with its key alive,
   and the request id the events answer is stored (``adapters.requests``);
3. on SQLite, the projections are given the chance to project the same
   events (``projections.runner.Projections._project_inline``); that step
   guards itself with a savepoint and leaves the work to the ordinary
   catch-up when it cannot be done.

Both stores serialize event inserts (SQLite's write lock; the library takes
``LOCK TABLE ... IN EXCLUSIVE MODE`` on PostgreSQL), so the tree is appended
in notification order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from adapters import requests
from adapters.erasure import erase_in_transaction
from domain.effects import EFFECTS
from domain.rules import ACCOUNT
from integrity.store import Appender, Sql, StoredRecord, add_principal_column, schema

InlineHook = Callable[[Any, Sequence[StoredEvent], Sequence[int]], None]


def _records(
    stored_events: Sequence[StoredEvent], ids: Sequence[int]
) -> list[StoredRecord]:
    return [
        StoredRecord(
            notification_id=notification_id,
            originator_id=stored.originator_id,  # type: ignore[arg-type]
            originator_version=stored.originator_version,
            topic=stored.topic,
            state=stored.state,
        )
        for notification_id, stored in zip(ids, stored_events, strict=True)
    ]


def erased_accounts(stored_events: Sequence[StoredEvent]) -> list[str]:
    """The accounts these events end (``Purged``: the machine's final state)."""
    erased = []
    for stored in stored_events:
        name = stored.topic.rpartition(".")[2]
        if EFFECTS.state_after.get(name) in ACCOUNT.final:
            erased.append(str(stored.originator_id))
    return erased


def after_insert(
    sql: Sql,
    events_table: str,
    stored_events: Sequence[StoredEvent],
    ids: Sequence[int],
) -> None:
    """What must commit with the events: the chain and tree, the erasure of
    every key a ``Purged`` event destroys (``adapters.erasure``), and the
    request the events answer (``adapters.requests``)."""
    Appender(sql, events_table).append(_records(stored_events, ids))
    after_chain(sql, stored_events)


def after_chain(sql: Sql, stored_events: Sequence[StoredEvent]) -> None:
    """What commits with the events besides their chain: the erasure of every
    key a ``Purged`` event destroys, and the request the events answer."""
    erase_in_transaction(sql, erased_accounts(stored_events))
    requests.record(sql, stored_events)


class InsertHooks:
    """What both stores' recorders run in an insert's transaction, after the
    events: ``after_insert`` (chain, tree, erasure, request row), then the
    ``inline`` projections when ``projections.runner.Projections`` set them."""

    inline: InlineHook | None = None
    events_table_name: str
    last_notification_id: int | None = None
    """The newest event this process inserted: what a command's catch-up
    waits for (``projections.runner.Projections.catch_up_after_save``)."""

    def after_insert(
        self,
        sql: Sql,
        stored_events: Sequence[StoredEvent],
        ids: Sequence[int],
    ) -> None:
        after_insert(sql, self.events_table_name, stored_events, ids)


class ChainingSQLiteRecorder(InsertHooks, SQLiteApplicationRecorder):
    """SQLite: chain and tree-append each insert; then the inline projections."""

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as cursor:
            for statement in [*schema(False), *requests.schema(False)]:
                cursor.execute(statement)
            add_principal_column(cursor)

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if ids:
            self.after_insert(Sql(c, postgres=False), stored_events, ids)
            self.last_notification_id = ids[-1]
            if self.inline is not None:
                self.inline(c, stored_events, ids)
        return ids
