"""The `db_url` fixture gives each test its own fresh, empty database."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest


@pytest.mark.parametrize("turn", [1, 2])
def test_each_test_gets_its_own_empty_database(
    db_url: str, tmp_path: Path, turn: int
) -> None:
    # Both turns leave a table behind: were the database shared, the second
    # turn would not find it empty.
    if db_url.startswith("sqlite:"):
        path = Path(db_url.removeprefix("sqlite:///"))
        assert db_url.startswith("sqlite:////")
        assert path == tmp_path / "seekers.db"
        assert not path.exists()
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE left_behind (turn INTEGER)")
        return

    assert db_url.startswith("postgresql://")
    with psycopg.connect(db_url, autocommit=True) as conn:
        database, user = conn.execute(
            "SELECT current_database(), current_user"
        ).fetchone() or ("", "")
        assert database == urlsplit(db_url).path.removeprefix("/")
        assert database.startswith("t_")
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
        assert tables == (0,)
        conn.execute("CREATE TABLE left_behind (turn integer)")
        owner = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
            [database],
        ).fetchone()
        assert owner == (user,)
