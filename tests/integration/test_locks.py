"""Locks held elsewhere: reads go on, writes give up in seconds (exit 6).

An operator's command must not hang behind a lock another process holds
(a long transaction, a frozen client), and lists and reports must still show
what is projected while a writer holds the store, saying how far behind.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from adapters.storage import parse_storage_url
from tests.helpers import ledger_for, run_cli
from tests.integrity.support import register

FAST = {"SEEKERS_LOCK_TIMEOUT": "1"}


def _record_unprojected(db_url: str, seeker: str) -> None:
    """An event the projections have not seen (a ledger with no projections
    attached, as an interrupted command might leave)."""
    from uuid import UUID

    ledger = ledger_for(db_url)
    try:
        ledger.contact(UUID(seeker), actor="t", channel="phone", outcome="no_answer",
                       at="2025-01-12")  # fmt: skip
    finally:
        ledger.close()


def test_sqlite_reads_while_another_writer_holds_the_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'seekers.db'}"
    seeker = register(url, "Kei Ota", "kei@example.jp")
    _record_unprojected(url, seeker)
    path = parse_storage_url(url).sqlite_path
    assert path is not None
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        listed = run_cli(["--json", "list"], db_url=url, env=FAST)
        report = run_cli(["report", "status", "--format", "json"], db_url=url, env=FAST)
        elapsed = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
    assert listed.code == 0, listed.stderr
    assert [a["id"] for a in listed.json()["accounts"]] == [seeker]
    assert "1 event(s) behind" in listed.stderr
    assert report.code == 0, report.stderr
    assert elapsed < 8
    caught_up = run_cli(["--json", "list"], db_url=url)
    assert caught_up.stderr == ""


@pytest.mark.postgres
def test_postgres_command_behind_a_held_lock_exits_6_in_seconds(pg_url: str) -> None:
    import psycopg

    seeker = register(pg_url, "Kei Ota", "kei@example.jp")
    env = parse_storage_url(pg_url).environment
    with psycopg.connect(
        host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]),
        dbname=env["POSTGRES_DBNAME"], user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
    ) as holder:  # fmt: skip
        holder.execute("LOCK TABLE integrity_state IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        blocked = run_cli(
            ["contact", seeker, "--channel", "phone", "--outcome", "no_answer",
             "--at", "2025-01-11"], db_url=pg_url, env=FAST,
        )  # fmt: skip
        elapsed = time.monotonic() - started
        holder.rollback()
    assert blocked.code == 6, blocked.stderr
    assert "lock" in blocked.stderr
    assert len(blocked.stderr.strip().splitlines()) == 1
    assert elapsed < 10
    history = run_cli(["--json", "history", seeker], db_url=pg_url)
    assert [e["type"] for e in history.json()["events"]] == ["Registered"]
