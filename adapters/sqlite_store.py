"""The library's SQLite persistence, with a statement cache that holds more
than one statement.

``eventsourcing`` (9.5) opens each pooled SQLite connection with
``sqlite3.connect(..., cached_statements=True)``. ``sqlite3`` reads that
number as an ``int``: a cache of *one* prepared statement. A command runs
about 28 statements in turn (the library's reads and insert, the chain and
tree, the request row, both inline projections, the catch-up read), so
every one of them was compiled again each time: a command end to end took
1.33-1.65 ms with the library's connections and 0.96-0.99 ms with a real
cache, in the same run. This factory is the library's own, except that its
pool opens connections with ``STATEMENT_CACHE`` statements cached;
everything else (WAL, ``sqlite3.Row``, autocommit, the lock timeout) is
done as the library does it. ``tests/unit/test_sqlite_store.py`` fails when
the library stops passing ``True``, so this module can go then.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eventsourcing.persistence import InterfaceError
from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteFactory,
)
from eventsourcing.utils import Environment, EnvType

STATEMENT_CACHE = 256
"""Prepared statements kept per connection (sqlite3's default is 128; the
product's distinct statements, with the projections' and the chain's, are
more than that in a long-running process)."""


class StatementCachingPool(SQLiteConnectionPool):
    """``SQLiteConnectionPool`` whose connections cache their statements."""

    def _create_connection(self) -> SQLiteConnection:
        # The library's _create_connection, with cached_statements changed.
        try:
            connection = sqlite3.connect(
                database=self.db_name,
                uri=True,
                check_same_thread=False,
                isolation_level=None,  # autocommit: the library begins itself
                cached_statements=STATEMENT_CACHE,
                timeout=self.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT,
            )
        except (sqlite3.Error, TypeError) as error:
            raise InterfaceError(error) from error
        if not self.is_sqlite_memory_mode and not self.is_journal_mode_wal:
            (mode,) = connection.execute("PRAGMA journal_mode;").fetchone()
            if mode.lower() != "wal":
                connection.execute("PRAGMA journal_mode=WAL;")
                self.journal_mode_was_changed_to_wal = True
            self.is_journal_mode_wal = True
        connection.row_factory = sqlite3.Row
        return SQLiteConnection(sqlite_conn=connection, max_age=self.max_age)


class SQLiteStoreFactory(SQLiteFactory):
    """The library's SQLite factory (``PERSISTENCE_MODULE``), its datastore
    given a ``StatementCachingPool`` before any connection is opened."""

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        library_pool = self.datastore.pool
        self.datastore.pool = StatementCachingPool(
            db_name=library_pool.db_name, lock_timeout=library_pool.lock_timeout
        )
        library_pool.close()


SCHEMA_MARK = 0x5EE4_0001
"""``PRAGMA user_version`` of a SQLite store whose first-use set-up (the
library's tables and their tracking migration, the chain's, the keys', the
projections') has completed. Bump the low digits when that set-up changes."""


def _marked(path: Path) -> bool:
    """Whether the store's set-up is complete: one short read-only look."""
    if not path.exists():
        return False
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            (version,) = connection.execute("PRAGMA user_version").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return False
    return bool(version == SCHEMA_MARK)


@contextmanager
def first_use(path: Path) -> Iterator[None]:
    """Around the opening of a SQLite store: when its set-up is not known to
    be complete, one process at a time does it and marks it done.

    The library's first open checks whether its tracking table exists, then
    creates it and inserts its migration row; two processes opening a new
    file together both thought they were first, and one failed ("Failed to
    record tracking for __migration__ 1"). The lock is an ``flock`` on the
    store's folder, not on the database file: closing any other descriptor
    of the database file would drop this process's SQLite locks on it, and a
    lock file would be left lying beside the store. A store that is marked
    (every later open) pays one read-only look and no lock.
    """
    if _marked(path):
        yield
        return
    folder = os.open(path.parent if str(path.parent) else ".", os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        yield  # the set-up is idempotent: a second process finds it done
        connection = sqlite3.connect(path, timeout=30)
        try:
            connection.execute(f"PRAGMA user_version = {SCHEMA_MARK}")
        finally:
            connection.close()
    finally:
        os.close(folder)  # releases the lock
