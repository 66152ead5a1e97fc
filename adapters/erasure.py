"""Erasing a seeker's key in the same transaction as their ``Purged`` event.

A purge is only real when the data key is gone: the key row and the
blind-index rows (email, reading) are deleted by the recorder right after it inserts the
event that ends the account (``adapters.recorders``), inside the insert's
transaction, so the event and the erasure commit together or not at all. On
SQLite ``secure_delete`` zeroes the freed cells in that same transaction;
overwriting the traces elsewhere (the WAL's page images, PostgreSQL's dead
row versions) follows the commit (``KeyTable.destroy_keys``), and a failure
there leaves a complete purge whose traces ``seekers sweep`` scrubs later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

TABLES = ("seeker_keys", "email_index", "reading_index")


class Statements(Protocol):
    postgres: bool

    def run(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...


def key_tables_exist(sql: Statements) -> bool:
    if sql.postgres:
        found = sql.rows("SELECT to_regclass('seeker_keys') IS NOT NULL AS present")
        return bool(found and found[0]["present"])
    found = sql.rows(
        "SELECT count(*) AS present FROM sqlite_master "
        "WHERE type = 'table' AND name = 'seeker_keys'"
    )
    return bool(found and found[0]["present"])


def erase_in_transaction(sql: Statements, seeker_ids: Sequence[str]) -> None:
    """Delete the seekers' wrapped keys and blind-index entries, now.

    On PostgreSQL through ``seekers_erase_keys`` (``adapters.roles``), which
    deletes only the keys of accounts the log has ended: a login whose role
    may record a purge but not delete keys directly destroys that key and no
    other."""
    if not seeker_ids or not key_tables_exist(sql):
        return
    if sql.postgres:
        sql.run("SELECT seekers_erase_keys(?::text[])", (list(seeker_ids),))
        return
    sql.run("PRAGMA secure_delete = ON")
    rows = [(seeker_id,) for seeker_id in seeker_ids]
    for table in TABLES:
        sql.many(f"DELETE FROM {table} WHERE seeker_id = ?", rows)


def surviving_keys(sql: Statements, seeker_ids: Sequence[str]) -> dict[str, list[str]]:
    """For each erased seeker whose key or index row survives, which tables."""
    if not seeker_ids or not key_tables_exist(sql):
        return {}
    survivors: dict[str, list[str]] = {}
    wanted = sorted(set(seeker_ids))
    for table in TABLES:
        for start in range(0, len(wanted), _LOOKUP_CHUNK):
            chunk = wanted[start : start + _LOOKUP_CHUNK]
            marks = ", ".join("?" * len(chunk))
            found = sql.rows(
                f"SELECT DISTINCT seeker_id FROM {table} "
                f"WHERE seeker_id IN ({marks}) ORDER BY seeker_id",
                chunk,
            )
            for row in found:
                survivors.setdefault(str(row["seeker_id"]), []).append(table)
    return survivors


_LOOKUP_CHUNK = 500
"""Erased ids looked up per statement (an index lookup each, never a scan of
the key tables, which hold a row for every live account)."""
