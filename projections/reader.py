"""Reading the projection tables without opening the ledger.

``list`` and the reports read only projection tables, but must show every
recorded event: a run first checks that the projections have seen the log's
last event. When they have (the usual case: every command projects its own
events in its transaction), a SQLite store is read through a plain
connection, and the run never builds the application, its event classes or
its projections, which would cost it more than everything else it does.
When they have not, the caller opens the ledger and catches them up as
before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from adapters.storage import LEDGER_NAME, SQLITE_EVENTS_TABLE
from projections.schema import INDEX_NAMES

Row = dict[str, Any]

PROJECTION_NAMES = ("accounts", "audit_trail")
"""Every projection; each tracks its position in ``<name>_tracking``."""


class Readable(Protocol):
    """Projection tables to read: a projection's view, or a plain reader."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Rows of a ``SELECT`` (``?`` placeholders)."""
        ...


def positions_sql(
    events_table: str,
    tracking_tables: Sequence[str],
    *,
    nid: str,
    mark: str,
    head: str | None = None,
    with_head: bool = True,
) -> str:
    """``SELECT`` of the log's head (``head``) and each tracking table's
    position (``p0``, ``p1``, ...), one statement for all. ``head`` replaces
    the read of the events table (PostgreSQL: ``seekers_log_head()``, which
    a reader that may not read the log may call); without ``with_head``, the
    positions alone."""
    columns = (
        [f"({head or f'SELECT max({nid}) FROM {events_table}'}) AS head"]
        if with_head
        else []
    )
    columns += [
        f"(SELECT max(notification_id) FROM {table} "
        f"WHERE application_name = {mark}) AS p{index}"
        for index, table in enumerate(tracking_tables)
    ]
    return f"SELECT {', '.join(columns)}"


class SQLiteReader:
    """A plain read connection to a SQLite store's projection tables."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [dict(row) for row in self._connection.execute(sql, params)]

    def close(self) -> None:
        self._connection.close()


def caught_up_reader(path: Path, *, timeout: float) -> SQLiteReader | None:
    """A reader of the store at ``path`` if every projection has seen the
    log's last event, the log is chained and the schema is this version's;
    ``None`` when the ledger must be opened instead (no file, tables or
    indexes missing, projections behind, a store never chained: opening it
    does what is missing). Raises ``sqlite3.Error`` for a file that is not a
    readable database."""
    if not path.is_file():
        return None
    # mode=rw: never create a file (one removed since the check above).
    uri = f"{path.resolve().as_uri()}?mode=rw"
    connection = sqlite3.connect(uri, uri=True, timeout=timeout)
    connection.row_factory = sqlite3.Row
    tracking = [f"{name}_tracking" for name in PROJECTION_NAMES]
    sql = positions_sql(SQLITE_EVENTS_TABLE, tracking, nid="rowid", mark="?")
    indexes = ", ".join("?" for _ in INDEX_NAMES)
    sql += (
        ", (SELECT count(*) FROM integrity_state WHERE id = 1) AS chained, "
        "(SELECT count(*) FROM sqlite_master WHERE type = 'index' "
        f"AND name IN ({indexes})) AS indexes"
    )
    try:
        # One statement, one read: the log may grow after it, as it may
        # after any catch-up; a run reads the store as of this check.
        row = connection.execute(
            sql, [*[LEDGER_NAME] * len(tracking), *INDEX_NAMES]
        ).fetchone()
    except sqlite3.OperationalError as error:
        connection.close()
        if "no such table" in str(error):
            return None
        raise
    except BaseException:
        connection.close()
        raise
    head = row["head"] or 0
    positions = [row[f"p{index}"] or 0 for index in range(len(tracking))]
    current = row["chained"] and row["indexes"] == len(INDEX_NAMES)
    if not current or any(position < head for position in positions):
        connection.close()
        return None
    return SQLiteReader(connection)
