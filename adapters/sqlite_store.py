"""The library's SQLite persistence, with a statement cache that holds more
than one statement; and a store's set-up, done once (``schema_lock``).

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
the library stops passing ``True``, so the caching pool can go then.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
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

from adapters.storage import StorageConfig
from domain.errors import StorageError
from domain.i18n import _

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


SCHEMA_MARK = 0x5EE4_0003
"""``PRAGMA user_version`` of a SQLite store whose set-up is complete: the
library's tables and their tracking migration, the chain's and the requests'
tables, the key tables, the projections' tables and indexes (the SQLite
counterpart of ``adapters.postgres.SCHEMA_VERSION``). A store carrying it is
opened without any of that DDL (``CREATE_TABLE=no``), so bump the low digits
whenever the set-up changes: a store with any other mark, or none (written
before marks existed), is set up again once and marked. 1: the first mark;
2: the key tables are made with the rest, not when first needed; 3: the name
readings' blind index."""
LOCK_POLL_SECONDS = (0.005, 0.05)
"""First and longest pause between tries of the set-up lock."""


def schema_ready(path: Path, *, timeout: float) -> bool:
    """Whether the store at ``path`` carries this version's mark: one short
    read-only look, which never creates the file."""
    if not path.is_file():
        return False
    uri = f"{path.resolve().as_uri()}?mode=ro"  # quoted: '?', '#', '%' in names
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=timeout)
        try:
            (version,) = connection.execute("PRAGMA user_version").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return False  # not a database: the set-up says what is wrong
    return bool(version == SCHEMA_MARK)


@contextmanager
def schema_lock(config: StorageConfig, *, migrate: bool = False) -> Iterator[bool]:
    """Yields whether this process must set the SQLite store up (create its
    tables and indexes); when it must, it holds a lock until done and marks
    the store done (``SCHEMA_MARK``). The same shape as PostgreSQL's
    ``adapters.postgres.schema_lock``.

    The library's first open checks whether its tracking table exists, then
    creates it and inserts its migration row; two processes opening a new
    file together both thought they were first, and one failed ("Failed to
    record tracking for __migration__ 1"). Now a marked store (every open but
    the first) is opened after one read-only look, without the lock or any
    DDL; otherwise one process at a time takes the lock, looks again (another
    may have set the store up meanwhile) and, if it is still not marked, does
    the set-up, whose statements are all idempotent (a store written before
    marks existed is brought up to date), and marks it. ``migrate`` (``seekers
    migrate``) does the set-up even on a marked store.

    The lock is an ``flock`` on the store's folder, not on the database file:
    closing any other descriptor of the database file would drop this
    process's SQLite locks on it, and a lock file would be left lying beside
    the store. A process waits for it as long as for any lock
    (``SQLITE_LOCK_TIMEOUT``), then gives up with a ``StorageError``.
    """
    path = config.sqlite_path
    assert path is not None
    timeout = float(config.environment["SQLITE_LOCK_TIMEOUT"])
    if not migrate and schema_ready(path, timeout=timeout):
        yield False
        return
    try:
        folder = os.open(path.parent, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):
        raise StorageError(
            _("{url}: unable to open database file (no folder {folder})").format(
                url=config.safe_url, folder=path.parent
            )
        ) from None
    try:
        _lock(folder, config, timeout)
        creating = migrate or not schema_ready(path, timeout=timeout)
        if creating:
            yield True
            _mark(path, timeout)
    finally:
        os.close(folder)  # releases the lock
    if not creating:  # set up meanwhile by another process
        yield False


def _lock(folder: int, config: StorageConfig, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pause, longest = LOCK_POLL_SECONDS
    while True:
        try:
            fcntl.flock(folder, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise StorageError(
                    _(
                        "{url}: another process has been setting up this store "
                        "for more than {seconds} s (SEEKERS_LOCK_TIMEOUT); try "
                        "again when it is done"
                    ).format(url=config.safe_url, seconds=f"{timeout:g}")
                ) from None
            time.sleep(pause)
            pause = min(pause * 2, longest)


def _mark(path: Path, timeout: float) -> None:
    """Mark the store set up. A store that cannot be written (a read-only
    file) stays unmarked: its next open does the idempotent set-up again."""
    try:
        connection = sqlite3.connect(path, timeout=timeout)
        try:
            connection.execute(f"PRAGMA user_version = {SCHEMA_MARK}")
        finally:
            connection.close()
    except sqlite3.Error:
        pass
