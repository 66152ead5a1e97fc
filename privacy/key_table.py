"""The key table and the blind indexes (email, name reading), on SQLite or
PostgreSQL.

They live in the store's own database, beside the events, but in tables of
their own: destroying a key is one row, overwritten where the database lets
us (SQLite ``secure_delete`` and a WAL checkpoint; PostgreSQL a rewrite of
the table).
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import IntegrityError
from eventsourcing.sqlite import SQLiteDatastore

if TYPE_CHECKING:  # a SQLite run never imports psycopg
    from eventsourcing.postgres import PostgresDatastore


def _is_postgres(datastore: object) -> bool:
    return type(datastore).__name__ == "PostgresDatastore"


def _unique_violations() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [IntegrityError, sqlite3.IntegrityError]
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        errors.append(psycopg.IntegrityError)
    return tuple(errors)


SCHEMA = [
    """CREATE TABLE IF NOT EXISTS seeker_keys (
        seeker_id TEXT PRIMARY KEY,
        wrapped_key {blob} NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS email_index (
        policy TEXT NOT NULL,
        digest TEXT NOT NULL,
        seeker_id TEXT NOT NULL,
        PRIMARY KEY (policy, digest)
    )""",
    "CREATE INDEX IF NOT EXISTS email_index_seeker ON email_index (seeker_id)",
    "CREATE INDEX IF NOT EXISTS email_index_digest ON email_index (digest)",
    # A reading is indexed whole and by each part (``domain.kana``); names
    # are not unique, so neither is a digest.
    """CREATE TABLE IF NOT EXISTS reading_index (
        policy TEXT NOT NULL,
        digest TEXT NOT NULL,
        seeker_id TEXT NOT NULL,
        PRIMARY KEY (digest, seeker_id)
    )""",
    "CREATE INDEX IF NOT EXISTS reading_index_seeker ON reading_index (seeker_id)",
]

INDEXES = ("email_index", "reading_index")
"""The blind indexes: rows of a seeker's go with their key."""


KEY_CHECK_ROW = "~master-key-check"
"""The ``seeker_keys`` row holding the store's master key check value (see
``privacy.key_check``); no seeker id (a UUID) can take this name."""


class KeyTable:
    """SQL for keys and the blind index; ``?`` placeholders on both stores."""

    def __init__(
        self, datastore: SQLiteDatastore | PostgresDatastore, *, create: bool = True
    ) -> None:
        self.datastore = datastore
        self.on_postgres = _is_postgres(datastore)
        if create:
            self.create_tables()

    def create_tables(self) -> None:
        blob = "BYTEA" if self.on_postgres else "BLOB"
        for statement in SCHEMA:
            self._run(statement.format(blob=blob))

    def _run(self, sql: str, params: Sequence[Any] = ()) -> None:
        if self.on_postgres:
            sql = sql.replace("?", "%s")
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(sql, params)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        if self.on_postgres:
            # One autocommitted statement: no BEGIN/ROLLBACK round trips.
            postgres: Any = self.datastore
            with postgres.get_connection() as connection:
                rows = connection.execute(sql.replace("?", "%s"), params).fetchall()
                return [dict(row) for row in rows]
        with self.datastore.transaction(commit=False) as sqlite_cursor:
            sqlite_cursor.execute(sql, params)
            return [dict(row) for row in sqlite_cursor.fetchall()]

    def insert_keys(self, keys: Sequence[tuple[str, bytes]]) -> None:
        sql = "INSERT INTO seeker_keys (seeker_id, wrapped_key) VALUES (?, ?)"
        if self.on_postgres:
            sql = sql.replace("?", "%s")
        with self.datastore.transaction(commit=True) as cursor:
            cursor.executemany(sql, keys)

    def insert_emails(self, entries: Sequence[tuple[str, str, str]]) -> None:
        """Index many (policy, digest, seeker) at once; any clash fails them all."""
        sql = "INSERT INTO email_index (policy, digest, seeker_id) VALUES (?, ?, ?)"
        if self.on_postgres:
            sql = sql.replace("?", "%s")
        with self.datastore.transaction(commit=True) as cursor:
            cursor.executemany(sql, entries)

    def insert_readings(self, entries: Sequence[tuple[str, str, str]]) -> None:
        """Index many (policy, digest, seeker); a part repeated in one reading
        (ヤマダ ヤマダ) is one row."""
        if not entries:
            return
        sql = (
            "INSERT INTO reading_index (policy, digest, seeker_id) VALUES (?, ?, ?) "
            "ON CONFLICT (digest, seeker_id) DO NOTHING"
        )
        if self.on_postgres:
            sql = sql.replace("?", "%s")
        with self.datastore.transaction(commit=True) as cursor:
            cursor.executemany(sql, entries)

    def find_reading(self, digest: str) -> list[tuple[str, str]]:
        rows = self._query(
            "SELECT policy, seeker_id FROM reading_index WHERE digest = ? "
            "ORDER BY policy, seeker_id",
            (digest,),
        )
        return [(str(row["policy"]), str(row["seeker_id"])) for row in rows]

    def wrapped_key(self, seeker_id: str) -> bytes | None:
        rows = self._query(
            "SELECT wrapped_key FROM seeker_keys WHERE seeker_id = ?", (seeker_id,)
        )
        return bytes(rows[0]["wrapped_key"]) if rows else None

    def key_check(self) -> bytes | None:
        """The check value of the master key this store was created with."""
        return self.wrapped_key(KEY_CHECK_ROW)

    def record_key_check(self, value: bytes) -> bytes:
        """Record the check value unless one is there; the one that stays."""
        self._run(
            "INSERT INTO seeker_keys (seeker_id, wrapped_key) VALUES (?, ?) "
            "ON CONFLICT (seeker_id) DO NOTHING",
            (KEY_CHECK_ROW, value),
        )
        stored = self.key_check()
        assert stored is not None  # just inserted, or there before
        return stored

    def some_wrapped_key(self) -> tuple[str, bytes] | None:
        """Any one seeker's wrapped key (to try a master key on a store
        written before check values), or None if no seeker has a key."""
        rows = self._query(
            "SELECT seeker_id, wrapped_key FROM seeker_keys WHERE seeker_id <> ? "
            "ORDER BY seeker_id LIMIT 1",
            (KEY_CHECK_ROW,),
        )
        if not rows:
            return None
        return str(rows[0]["seeker_id"]), bytes(rows[0]["wrapped_key"])

    def claim_email(self, policy: str, digest: str, seeker_id: str) -> str | None:
        """Record the digest for the seeker; the holder's id if already taken."""
        holder = self.email_holder(policy, digest)
        if holder is not None:
            return holder
        try:
            self._run(
                "INSERT INTO email_index (policy, digest, seeker_id) VALUES (?, ?, ?)",
                (policy, digest, seeker_id),
            )
        except _unique_violations():
            holder = self.email_holder(policy, digest)
            if holder is None:
                raise
            return holder
        return None

    def email_holder(self, policy: str, digest: str) -> str | None:
        rows = self._query(
            "SELECT seeker_id FROM email_index WHERE policy = ? AND digest = ?",
            (policy, digest),
        )
        return str(rows[0]["seeker_id"]) if rows else None

    def find_email(self, digest: str) -> list[tuple[str, str]]:
        rows = self._query(
            "SELECT policy, seeker_id FROM email_index WHERE digest = ? "
            "ORDER BY policy, seeker_id",
            (digest,),
        )
        return [(str(row["policy"]), str(row["seeker_id"])) for row in rows]

    def release_indexes(self, seeker_id: str) -> None:
        for table in INDEXES:
            self._run(f"DELETE FROM {table} WHERE seeker_id = ?", (seeker_id,))

    def destroy_keys(self, seeker_ids: Sequence[str]) -> None:
        """Delete the wrapped keys and overwrite where they were stored."""
        rows = [(seeker_id,) for seeker_id in seeker_ids]
        if self.on_postgres:
            with self.datastore.transaction(commit=True) as cursor:
                # Only keys of accounts the log has ended (``adapters.roles``).
                cursor.execute(
                    "SELECT seekers_erase_keys(%s::text[])", (list(seeker_ids),)
                )
            postgres: Any = self.datastore
            with postgres.get_connection() as connection:
                # Outside a transaction: rewrites the table, dropping the
                # dead row versions that still held the key.
                for table in ("seeker_keys", *INDEXES):
                    connection.execute(f"VACUUM FULL {table}")
            return
        assert isinstance(self.datastore, SQLiteDatastore)
        with self.datastore.get_connection(commit=True) as connection:
            cursor = connection.cursor()
            cursor.execute("PRAGMA secure_delete = ON")
            cursor.execute("BEGIN IMMEDIATE")
            try:
                for table in ("seeker_keys", *INDEXES):
                    cursor.executemany(f"DELETE FROM {table} WHERE seeker_id = ?", rows)
            except BaseException:
                connection.rollback()
                raise
            connection.commit()
            # Copy the zeroed pages into the database file and empty the WAL,
            # which still held the page images with the key.
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def create_key_tables(datastore: SQLiteDatastore | PostgresDatastore) -> None:
    KeyTable(datastore, create=True)


class MemoryKeyTable:
    """The same table in memory, for in-memory ledgers (tests, simulations
    that never touch disk)."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes] = {}
        self.emails: dict[tuple[str, str], str] = {}
        self.readings: set[tuple[str, str, str]] = set()

    def insert_keys(self, keys: Sequence[tuple[str, bytes]]) -> None:
        self.keys.update(keys)

    def wrapped_key(self, seeker_id: str) -> bytes | None:
        return self.keys.get(seeker_id)

    def insert_emails(self, entries: Sequence[tuple[str, str, str]]) -> None:
        for policy, digest, seeker_id in entries:
            if (policy, digest) in self.emails:
                raise IntegrityError(f"email already indexed under {policy}")
            self.emails[(policy, digest)] = seeker_id

    def claim_email(self, policy: str, digest: str, seeker_id: str) -> str | None:
        holder = self.emails.get((policy, digest))
        if holder is None:
            self.emails[(policy, digest)] = seeker_id
        return holder

    def email_holder(self, policy: str, digest: str) -> str | None:
        return self.emails.get((policy, digest))

    def find_email(self, digest: str) -> list[tuple[str, str]]:
        return sorted((p, s) for (p, d), s in self.emails.items() if d == digest)

    def insert_readings(self, entries: Sequence[tuple[str, str, str]]) -> None:
        self.readings.update(entries)

    def find_reading(self, digest: str) -> list[tuple[str, str]]:
        return sorted({(p, s) for p, d, s in self.readings if d == digest})

    def release_indexes(self, seeker_id: str) -> None:
        for key in [k for k, s in self.emails.items() if s == seeker_id]:
            del self.emails[key]
        self.readings = {entry for entry in self.readings if entry[2] != seeker_id}

    def destroy_keys(self, seeker_ids: Sequence[str]) -> None:
        for seeker_id in seeker_ids:
            self.keys.pop(seeker_id, None)
            self.release_indexes(seeker_id)
