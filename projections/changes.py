"""A batch's changes, gathered in memory and written in one transaction.

Handlers read and change account rows, bump report counters and append
audit rows here; the rows a batch will change are read a chunk at a time
before it starts (``load_accounts``, ``load_last_states``), and ``flush``
writes them all with one statement per table (``executemany``, or ``COPY``
on PostgreSQL), except the account rows read from the table, which get one
``UPDATE`` of their changed columns per set of columns. This is what lets a
rebuild process thousands of events per transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from operator import itemgetter
from typing import Any, Protocol

Row = dict[str, Any]


class Cursor(Protocol):
    """The little a view needs from a database cursor (SQL uses ``?``)."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def fetchall(self) -> list[Row]: ...

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert many rows at once, the fastest way the database has."""

    def upsert_rows(
        self,
        table: str,
        columns: Sequence[str],
        keys: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """Insert many rows, replacing those whose ``keys`` exist already."""


def insert_sql(table: str, columns: Sequence[str]) -> str:
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )


def upsert_sql(table: str, columns: Sequence[str], keys: Sequence[str]) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
    return (
        f"{insert_sql(table, columns)} "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )


LOAD_CHUNK = 500
"""Accounts read per query when a batch loads the rows it will change."""


LAST_STATES_CHUNK = 100
"""Accounts whose last audited state one query reads: one subquery each,
well under SQLite's limit of 500 terms in a compound ``SELECT``."""


def _chunks(items: Sequence[str], size: int = LOAD_CHUNK) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


def registered_before(
    items: Sequence[tuple[int, Any]], changes: ChangeSet
) -> list[str]:
    """The accounts these events concern that were registered before them
    (whose rows a batch reads rather than creates)."""
    earlier: dict[str, bool] = {}
    for _position, event in items:
        account = changes.account_id(event.originator_id)
        if account not in earlier:
            earlier[account] = type(event).__name__ != "Registered"
    return [account for account, before in earlier.items() if before]


CounterKey = tuple[str, tuple[tuple[str, Any], ...]]
"""A report table and the values of its key columns."""


class ChangeSet:
    def __init__(self, cursor: Cursor, tables: Mapping[str, str] | None = None) -> None:
        """``tables`` maps a projection table's name to the table written
        (a rebuild's shadow, ``projections.schema.SHADOW``); by default, the
        live tables."""
        self.cursor = cursor
        self._tables = dict(tables or {})
        self._accounts_table = self.table("accounts")
        self._audit_table = self.table("audit_trail")
        self._accounts: dict[str, Row] = {}
        self._stored: dict[str, Row] = {}
        """Each row read from the table, as it was read (what ``flush``
        compares with, to write only the columns that changed)."""
        self._dirty: set[str] = set()
        self._counters: dict[
            tuple[str, tuple[tuple[str, Any], ...]], dict[str, int]
        ] = defaultdict(lambda: defaultdict(int))
        self._appends: dict[str, list[Row]] = defaultdict(list)
        self._last_states: dict[str, str | None] = {}
        self._account_ids: dict[Hashable, str] = {}

    def table(self, name: str) -> str:
        """The table this batch writes for the projection table ``name``."""
        return self._tables.get(name, name)

    # -- accounts ----------------------------------------------------------

    def account_id(self, originator_id: Hashable) -> str:
        """The account's id as the tables store it, made once per batch
        (an account's events usually come several to a batch)."""
        text = self._account_ids.get(originator_id)
        if text is None:
            text = self._account_ids[originator_id] = str(originator_id)
        return text

    def account(self, account_id: str) -> Row:
        """The account's row as this batch has left it so far."""
        row = self._accounts.get(account_id)
        if row is None:
            self.cursor.execute(
                f"SELECT * FROM {self._accounts_table} WHERE id = ?", (account_id,)
            )
            rows = self.cursor.fetchall()
            if not rows:
                raise LookupError(f"accounts projection has no row for {account_id}")
            row = self._read(rows[0])
        self._dirty.add(account_id)
        return row

    def load_accounts(self, account_ids: Sequence[str]) -> None:
        """Read these accounts' rows a chunk at a time, rather than one query
        per account as ``account`` would."""
        wanted = [each for each in account_ids if each not in self._accounts]
        for chunk in _chunks(wanted):
            self.cursor.execute(
                f"SELECT * FROM {self._accounts_table} WHERE id IN ({_marks(chunk)})",
                chunk,
            )
            for row in self.cursor.fetchall():
                self._read(row)

    def _read(self, row: Row) -> Row:
        self._stored[row["id"]] = dict(row)
        self._accounts[row["id"]] = row
        return row

    def add_account(self, row: Row) -> None:
        self._accounts[row["id"]] = row
        self._dirty.add(row["id"])

    def changed_accounts(self) -> list[Row]:
        """The rows this batch changed, in id order."""
        return [self._accounts[account_id] for account_id in sorted(self._dirty)]

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
                f"SELECT to_state FROM {self._audit_table} WHERE account = ? "
                "ORDER BY version DESC LIMIT 1",
                (account_id,),
            )
            rows = self.cursor.fetchall()
            self._last_states[account_id] = rows[0]["to_state"] if rows else None
        return self._last_states[account_id]

    def load_last_states(self, account_ids: Sequence[str]) -> None:
        """Read these accounts' last audited states a chunk at a time, rather
        than one query per account as ``last_state`` would."""
        wanted = [each for each in account_ids if each not in self._last_states]
        for chunk in _chunks(wanted, LAST_STATES_CHUNK):
            # Each account's newest row through the (account, version) index,
            # one probe each: a long history costs no more than a short one.
            newest = (
                f"SELECT * FROM (SELECT account, to_state FROM {self._audit_table} "
                "WHERE account = ? ORDER BY version DESC LIMIT 1)"
            )
            self.cursor.execute(
                " UNION ALL ".join(
                    f"{newest} AS t{index}" for index in range(len(chunk))
                ),
                chunk,
            )
            found = {row["account"]: row["to_state"] for row in self.cursor.fetchall()}
            for each in chunk:
                self._last_states[each] = found.get(each)

    def set_last_state(self, account_id: str, state: str) -> None:
        self._last_states[account_id] = state

    # -- writing -----------------------------------------------------------

    def flush(self) -> None:
        """Write everything: one statement per table (and counter shape)."""
        if self._dirty:
            self._write_accounts()
        counters: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[Any]] = (
            defaultdict(list)
        )
        for (table, key), totals in sorted(self._counters.items()):
            columns = tuple(name for name, _ in key)
            counted = tuple(totals)
            values = [value for _, value in key]
            counters[(table, columns, counted)].append(
                [*values, *(totals[c] for c in counted)]
            )
        for (name, columns, counted), rows in counters.items():
            table = self.table(name)
            names = [*columns, *counted]
            self.cursor.executemany(
                f"INSERT INTO {table} ({', '.join(names)}) "
                f"VALUES ({', '.join('?' for _ in names)}) "
                f"ON CONFLICT ({', '.join(columns)}) DO UPDATE SET "
                + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counted),
                rows,
            )
        for name, appended in self._appends.items():
            names = list(appended[0])
            self.cursor.insert_rows(
                self.table(name), names, list(map(itemgetter(*names), appended))
            )

    def _write_accounts(self) -> None:
        """New rows are inserted whole; a row read from the table gets an
        ``UPDATE`` of only the columns that changed (one statement per set of
        columns), so an index none of them is in is not rewritten: a command
        that changes an account's counters leaves its eight indexes alone."""
        created: list[Row] = []
        updates: dict[tuple[str, ...], list[list[Any]]] = defaultdict(list)
        for row in self.changed_accounts():
            stored = self._stored.get(row["id"])
            if stored is None:
                created.append(row)
                continue
            changed = tuple(c for c, value in row.items() if stored[c] != value)
            if changed:
                updates[changed].append([*(row[c] for c in changed), row["id"]])
        if created:
            self._upsert(self._accounts_table, ["id"], created)
        for columns, rows in updates.items():
            assignments = ", ".join(f"{column} = ?" for column in columns)
            self.cursor.executemany(
                f"UPDATE {self._accounts_table} SET {assignments} WHERE id = ?", rows
            )

    def _upsert(self, table: str, keys: list[str], rows: list[Row]) -> None:
        columns = list(rows[0])
        self.cursor.upsert_rows(
            table, columns, keys, list(map(itemgetter(*columns), rows))
        )
