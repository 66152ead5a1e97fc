"""A CLI run on PostgreSQL holds one or two connections, not a pool of five."""

from __future__ import annotations

import time
from uuid import UUID

import psycopg

from adapters.storage import parse_storage_url
from cli.session import Session
from tests.helpers import run_cli


def _connections_to(db_url: str) -> int:
    env = parse_storage_url(db_url).environment
    with psycopg.connect(
        host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]),
        dbname=env["POSTGRES_DBNAME"], user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"], autocommit=True,
    ) as observer:  # fmt: skip
        row = observer.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert row is not None
    count: int = row[0]
    return count


def test_a_command_holds_at_most_two_connections(db_url: str) -> None:
    registered = run_cli(
        ["--json", "register", "--name", "Aya Mori", "--email", "aya@example.jp",
         "--birth-date", "1990-01-01", "--policy", "workport", "--at", "2025-01-10"],
        db_url=db_url,
    )  # fmt: skip
    assert registered.code == 0
    if not db_url.startswith("postgresql"):
        return  # SQLite has no server connections to count
    seeker_id = UUID(registered.json()["id"])
    session = Session(db_url=db_url, actor="t", json=True)
    try:
        session.record(
            session.ledger().pause,
            seeker_id,
            actor="t",
            reason=None,
            at="2025-01-11",
        )
        session.call(session.ledger().get_seeker, seeker_id)
        assert 1 <= _connections_to(db_url) <= 2
    finally:
        session.close()
    deadline = time.monotonic() + 5  # backends exit a moment after the close
    while _connections_to(db_url) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _connections_to(db_url) == 0
