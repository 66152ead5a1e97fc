"""A batch's changes, gathered in memory and written in one transaction.

Handlers read and change account rows, bump report counters and append
audit rows here; ``flush`` writes them all with a few ``executemany`` calls.
This is what lets a rebuild process thousands of events per transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol

Row = dict[str, Any]


class Cursor(Protocol):
    """The little a view needs from a database cursor (SQL uses ``?``)."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def fetchall(self) -> list[Row]: ...


CounterKey = tuple[str, tuple[tuple[str, Any], ...]]
"""A report table and the values of its key columns."""


class ChangeSet:
    def __init__(self, cursor: Cursor) -> None:
        self.cursor = cursor
        self._accounts: dict[str, Row] = {}
        self._dirty: set[str] = set()
        self._counters: dict[
            tuple[str, tuple[tuple[str, Any], ...]], dict[str, int]
        ] = defaultdict(lambda: defaultdict(int))
        self._appends: dict[str, list[Row]] = defaultdict(list)
        self._last_states: dict[str, str | None] = {}

    # -- accounts ----------------------------------------------------------

    def account(self, account_id: str) -> Row:
        """The account's row as this batch has left it so far."""
        row = self._accounts.get(account_id)
        if row is None:
            self.cursor.execute("SELECT * FROM accounts WHERE id = ?", (account_id,))
            rows = self.cursor.fetchall()
            if not rows:
                raise LookupError(f"accounts projection has no row for {account_id}")
            row = rows[0]
            self._accounts[account_id] = row
        self._dirty.add(account_id)
        return row

    def add_account(self, row: Row) -> None:
        self._accounts[row["id"]] = row
        self._dirty.add(row["id"])

    # -- report counters ---------------------------------------------------

    def count(self, table: str, key: dict[str, Any], **increments: int) -> None:
        totals = self._counters[(table, tuple(key.items()))]
        for column, amount in increments.items():
            totals[column] += amount

    # -- audit rows --------------------------------------------------------

    def append(self, table: str, row: Row) -> None:
        self._appends[table].append(row)

    def last_state(self, account_id: str) -> str | None:
        if account_id not in self._last_states:
            self.cursor.execute(
                "SELECT to_state FROM audit_trail WHERE account = ? "
                "ORDER BY version DESC LIMIT 1",
                (account_id,),
            )
            rows = self.cursor.fetchall()
            self._last_states[account_id] = rows[0]["to_state"] if rows else None
        return self._last_states[account_id]

    def set_last_state(self, account_id: str, state: str) -> None:
        self._last_states[account_id] = state

    # -- writing -----------------------------------------------------------

    def flush(self) -> None:
        if self._dirty:
            rows = [self._accounts[account_id] for account_id in sorted(self._dirty)]
            self._upsert("accounts", ["id"], rows)
        for (table, key), totals in sorted(self._counters.items()):
            columns = [name for name, _ in key]
            values = [value for _, value in key]
            counted = list(totals)
            sql = (
                f"INSERT INTO {table} ({', '.join(columns + counted)}) "
                f"VALUES ({', '.join('?' for _ in columns + counted)}) "
                f"ON CONFLICT ({', '.join(columns)}) DO UPDATE SET "
                + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counted)
            )
            self.cursor.execute(sql, [*values, *(totals[c] for c in counted)])
        for table, rows in self._appends.items():
            columns = list(rows[0])
            self.cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})",
                [[row[c] for c in columns] for row in rows],
            )

    def _upsert(self, table: str, keys: list[str], rows: list[Row]) -> None:
        columns = list(rows[0])
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
        self.cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)}) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}",
            [[row[c] for c in columns] for row in rows],
        )
