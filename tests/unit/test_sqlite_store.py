"""The SQLite connections the product opens: the library's, with a statement
cache (``adapters/sqlite_store.py``)."""

from __future__ import annotations

import inspect
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.sqlite import SQLiteConnectionPool

from adapters import sqlite_store
from adapters.sqlite_store import STATEMENT_CACHE, StatementCachingPool
from tests.helpers import ledger_for


def test_the_library_still_opens_connections_with_a_one_statement_cache() -> None:
    """When this fails, the library caches statements itself: drop
    adapters/sqlite_store.py and point PERSISTENCE_MODULE back at it."""
    source = inspect.getsource(SQLiteConnectionPool._create_connection)
    assert "cached_statements=True" in source


def test_a_store_opens_its_connections_through_the_caching_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[dict[str, Any]] = []
    connect = sqlite3.connect

    def recording_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        opened.append(kwargs)
        return connect(*args, **kwargs)

    monkeypatch.setattr(sqlite_store.sqlite3, "connect", recording_connect)
    ledger = ledger_for(f"sqlite:///{tmp_path / 'seekers.db'}")
    try:
        datastore = ledger.factory.datastore  # type: ignore[attr-defined]
        assert isinstance(datastore.pool, StatementCachingPool)
        with datastore.transaction(commit=False) as cursor:
            cursor.execute("PRAGMA journal_mode")
            (mode,) = cursor.fetchone()
            raw = cursor.sqlite_cursor.connection
            assert raw.row_factory is sqlite3.Row
            assert raw.isolation_level is None
    finally:
        ledger.close()
    assert mode == "wal"
    assert opened
    assert all(kwargs["cached_statements"] == STATEMENT_CACHE for kwargs in opened)
    assert all(kwargs["isolation_level"] is None for kwargs in opened)


def test_an_unopenable_database_is_the_library_s_interface_error(
    tmp_path: Path,
) -> None:
    from eventsourcing.persistence import InterfaceError

    pool = StatementCachingPool(db_name=str(tmp_path / "no" / "such" / "folder.db"))
    with pytest.raises(InterfaceError):
        pool._create_connection()
