"""A CLI run on PostgreSQL holds one or two connections, not a pool of five."""

from __future__ import annotations

import time
from uuid import UUID

import psycopg

from adapters.storage import parse_storage_url
from cli.session import Session
from tests.helpers import run_cli


def _observer(db_url: str) -> psycopg.Connection[tuple[object, ...]]:
    """One connection to watch the others from for the whole test: one opened
    and closed per look would leave its own backend exiting, a moment later,
    in the next look's count."""
    env = parse_storage_url(db_url).environment
    return psycopg.connect(
        host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]),
        dbname=env["POSTGRES_DBNAME"], user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"], autocommit=True,
    )  # fmt: skip


def _connections_to(observer: psycopg.Connection[tuple[object, ...]]) -> int:
    """Client connections to the observer's database but its own (not the
    server's autovacuum workers, which visit every database now and then)."""
    row = observer.execute(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend'"
    ).fetchone()
    assert row is not None
    count = row[0]
    assert isinstance(count, int)
    return count


def _until_none_left(observer: psycopg.Connection[tuple[object, ...]]) -> int:
    """Connections left once they are gone, or after 30 s: backends exit a
    moment after their client closes, later on a busy machine."""
    deadline = time.monotonic() + 30
    left = _connections_to(observer)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = _connections_to(observer)
    return left


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
    with _observer(db_url) as observer:
        # The register's own connections are closed: gone before the count.
        assert _until_none_left(observer) == 0
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
            assert 1 <= _connections_to(observer) <= 2
        finally:
            session.close()
        assert _until_none_left(observer) == 0
