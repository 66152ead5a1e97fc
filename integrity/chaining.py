"""Opening a store's log for integrity work, and chaining a legacy store.

Apart from ``integrity.database`` because every CLI run opens the store this
way (``ensure_chained``: one cheap read once a store is chained), while only
the ``audit`` commands need checkpoints, proofs, verification and replay.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from integrity.store import Appender, Sql, TreeState, read_state


@dataclass(frozen=True)
class Chained:
    """What the first open of a store written before chains existed did."""

    events: int
    at: str


class ChainedLog:
    """One ledger's event log and its integrity tables, in transactions of
    the application's own datastore."""

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger
        self.recorder: Any = ledger.recorder
        self.datastore: Any = self.recorder.datastore
        self.postgres = type(self.datastore).__name__ == "PostgresDatastore"
        self.events_table: str = self.recorder.events_table_name

    @contextmanager
    def _reading(self) -> Iterator[Sql]:
        """One read transaction: a consistent snapshot of log and chain."""
        with self.datastore.transaction(commit=False) as cursor:
            if self.postgres:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield Sql(cursor, postgres=self.postgres)

    @contextmanager
    def _writing(self) -> Iterator[Sql]:
        """A write transaction serialized with event inserts."""
        with self.datastore.transaction(commit=True) as cursor:
            sql = Sql(cursor, postgres=self.postgres)
            if self.postgres:
                sql.run(f"LOCK TABLE {self.events_table} IN EXCLUSIVE MODE")
            else:  # take SQLite's write lock now, not at the first write
                sql.run("DELETE FROM integrity_state WHERE id = 0")
            yield sql

    def state(self) -> TreeState | None:
        with self._reading() as sql:
            return read_state(sql)

    def ensure_chained(self) -> Chained | None:
        """Chain a store written before chains existed, in one transaction.

        Returns what was done the first time, ``None`` when the store was
        already chained (one cheap read on every later open).
        """
        if self.state() is not None:
            self._tree_started()
            return None
        with self._writing() as sql:
            if read_state(sql) is not None:
                return None  # another process did it meanwhile
            Appender(sql, self.events_table).append([])
            state = read_state(sql)
            assert state is not None
        self._tree_started()
        return Chained(events=state.chained_from, at=state.created_at)

    def _tree_started(self) -> None:
        """Tell the recorder the tree exists: it then appends to it on the
        server, with no look first (``adapters.postgres_recorder``)."""
        if hasattr(self.recorder, "tree_started"):
            self.recorder.tree_started = True
