"""A command returns only once the projections include its events
(read-your-writes), and each event is projected exactly once.

SQLite projects a command's events in the transaction inserting them
(adapters/recorders.py); when that cannot be done the ordinary catch-up does
it. PostgreSQL keeps the projections out of the command's transaction, so the
log's lock is held only for the insert and its chain
(adapters/postgres_recorder.py): the command projects right after its commit,
unless another process's catch-up already did (projections/runner.py,
``catch_up_after_save``).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from adapters import requests
from integrity.database import AuditLog
from projections.accounts import AccountsProjection
from projections.runner import Projections
from services.ledger import SeekerLedger
from tests.helpers import ledger_for, register_directly
from tests.integration.support import dump_tables, reset


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """Inline projection is SQLite's alone (see the module's docstring)."""
    return f"sqlite:///{tmp_path / 'seekers.db'}"


def _contact_now(seeker: Any, at: Any) -> None:
    seeker.contact(at=at, actor="t", channel="phone", outcome="reached")


def _pause_now(seeker: Any, at: Any) -> None:
    seeker.pause(at=at, actor="t", reason=None)


def _pause(ledger: SeekerLedger, seeker_id: UUID) -> None:
    ledger.execute(seeker_id, lambda s, at: s.pause(at=at, actor="t", reason=None))


def _broken(self: AccountsProjection, *args: Any, **kwargs: Any) -> None:
    raise RuntimeError("a projection bug")


def _positions(projections: Projections) -> dict[str, int]:
    return {name: projections.status(name).position for name in projections.names}


def test_a_command_is_projected_in_its_own_transaction(sqlite_url: str) -> None:
    ledger = ledger_for(sqlite_url)
    try:
        projections = Projections(ledger)
        seeker = register_directly(ledger, "a@example.jp")
        _pause(ledger, seeker)
        # No catch-up was called: the rows came with the events.
        assert _positions(projections) == {"accounts": 2, "audit_trail": 2}
        rows = projections.views["accounts"].query("SELECT status FROM accounts")
        assert rows == [{"status": "paused"}]
    finally:
        ledger.close()


def test_a_projection_behind_is_left_to_the_catch_up(sqlite_url: str) -> None:
    ledger = ledger_for(sqlite_url)
    try:
        projections = Projections(ledger)
        first = register_directly(ledger, "a@example.jp")
    finally:
        ledger.close()
    reset(sqlite_url, "accounts")  # as a rebuild starts
    ledger = ledger_for(sqlite_url)
    try:
        projections = Projections(ledger)
        register_directly(ledger, "b@example.jp")
        _pause(ledger, first)
        # accounts was behind: not written inline, so never out of order.
        assert _positions(projections) == {"accounts": 0, "audit_trail": 3}
        projections.catch_up()
        caught_up = dump_tables(projections)
        projections.rebuild()
        assert dump_tables(projections) == caught_up
    finally:
        ledger.close()


def test_a_failure_inline_keeps_the_events_and_leaves_no_half_rows(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = ledger_for(sqlite_url)
    try:
        projections = Projections(ledger)
        seeker = register_directly(ledger, "a@example.jp")
        failing = AccountsProjection.apply

        monkeypatch.setattr(AccountsProjection, "apply", _broken)
        _pause(ledger, seeker)  # the command itself succeeds
        assert ledger.get_seeker(seeker).status == "paused"
        # Neither projection wrote anything for it: one savepoint for both.
        assert _positions(projections) == {"accounts": 1, "audit_trail": 1}
        monkeypatch.setattr(AccountsProjection, "apply", failing)
        # the save was left to the catch-up: the command's run makes it
        assert projections.catch_up_after_save() == 2  # one event, two projections
        assert _positions(projections) == {"accounts": 2, "audit_trail": 2}
        caught_up = dump_tables(projections)
        projections.rebuild()
        assert dump_tables(projections) == caught_up
    finally:
        ledger.close()


def test_after_a_save_projected_inline_the_command_needs_no_catch_up(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = ledger_for(sqlite_url)
    try:
        projections = Projections(ledger)
        seeker = register_directly(ledger, "a@example.jp")
        _pause(ledger, seeker)
        looked: list[str] = []
        monkeypatch.setattr(
            Projections, "_caught_up", lambda self, names: looked.append("read")
        )
        assert projections.catch_up_after_save() == 0
        assert looked == []  # not even the one read of an idle catch-up
        assert _positions(projections) == {"accounts": 2, "audit_trail": 2}
    finally:
        ledger.close()


def test_after_a_save_a_projection_behind_left_the_command_catches_up(
    sqlite_url: str,
) -> None:
    ledger = ledger_for(sqlite_url)
    try:
        Projections(ledger)
        seeker = register_directly(ledger, "a@example.jp")
    finally:
        ledger.close()
    reset(sqlite_url, "accounts")  # as a rebuild starts: accounts is behind
    ledger = ledger_for(sqlite_url)
    try:
        projections = Projections(ledger)
        _pause(ledger, seeker)
        # audit_trail took it inline, accounts could not: the save was not
        # wholly projected, so the command's run catches up.
        assert _positions(projections) == {"accounts": 0, "audit_trail": 2}
        assert projections.catch_up_after_save() == 2
        assert _positions(projections) == {"accounts": 2, "audit_trail": 2}
    finally:
        ledger.close()


# -- PostgreSQL: after the commit, outside the log's lock -----------------------


def _holding_writer_lock(pg_url: str) -> psycopg.Connection[Any]:
    """Another process's catch-up: both projections' writer locks, held."""
    connection = psycopg.connect(pg_url)
    connection.execute(
        "LOCK TABLE accounts_tracking, audit_trail_tracking IN EXCLUSIVE MODE"
    )
    return connection


@pytest.mark.postgres
def test_postgres_projects_a_command_after_its_commit(pg_url: str) -> None:
    ledger = ledger_for(pg_url)
    try:
        projections = Projections(ledger)
        seeker = register_directly(ledger, "a@example.jp")
        _pause(ledger, seeker)
        # The insert's transaction held the log's lock for the events and
        # their chain only: nothing was projected in it.
        assert _positions(projections) == {"accounts": 0, "audit_trail": 0}
        # The command's run projects before returning: both events, twice.
        assert projections.catch_up_after_save() == 4
        assert _positions(projections) == {"accounts": 2, "audit_trail": 2}
        rows = projections.views["accounts"].query("SELECT status FROM accounts")
        assert rows == [{"status": "paused"}]
        caught_up = dump_tables(projections)
        projections.rebuild()
        assert dump_tables(projections) == caught_up
    finally:
        ledger.close()


@pytest.mark.postgres
def test_postgres_events_another_catch_up_projected_cost_one_read(
    pg_url: str,
) -> None:
    ledger = ledger_for(pg_url)
    other = ledger_for(pg_url)
    try:
        projections = Projections(ledger)
        seeker = register_directly(ledger, "a@example.jp")
        _pause(ledger, seeker)
        Projections(other).catch_up()  # another process got there first
        locker = _holding_writer_lock(pg_url)  # and is busy again
        try:
            began = time.monotonic()
            assert projections.catch_up_after_save() == 0
            # It did not queue for the lock: its events were in. (Queued, it
            # would wait out the lock timeout, 10 s; 5 s leaves a busy machine
            # room for the one read.)
            assert time.monotonic() - began < 5.0
        finally:
            locker.close()
        assert _positions(projections) == {"accounts": 2, "audit_trail": 2}
    finally:
        ledger.close()
        other.close()


@pytest.mark.postgres
def test_postgres_a_command_waits_for_a_busy_writer_then_projects_itself(
    pg_url: str,
) -> None:
    ledger = ledger_for(pg_url)
    try:
        projections = Projections(ledger)
        seeker = register_directly(ledger, "a@example.jp")
        _pause(ledger, seeker)
        locker = _holding_writer_lock(pg_url)
        done: list[int] = []
        waiter = threading.Thread(
            target=lambda: done.append(projections.catch_up_after_save())
        )
        waiter.start()
        time.sleep(0.5)
        assert done == []  # still waiting: the command has not returned
        locker.rollback()  # the other writer ends without projecting them
        locker.close()
        waiter.join(timeout=10)
        assert done == [4]  # so the command projected its own events
        assert _positions(projections) == {"accounts": 2, "audit_trail": 2}
    finally:
        ledger.close()


def test_a_failure_in_the_insert_records_nothing(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chain's rows, the request row and the COMMIT travel together: a
    failure writing any of them leaves no event, on either store."""
    ledger = ledger_for(db_url)
    try:
        projections = Projections(ledger)
        seeker = register_directly(ledger, "a@example.jp")
        projections.catch_up_after_save()

        def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("a bug writing the request row")

        monkeypatch.setattr(requests, "record", broken)
        with pytest.raises(RuntimeError, match="a bug writing the request row"):
            _pause(ledger, seeker)
        monkeypatch.undo()
        assert ledger.get_seeker(seeker).status == "active"
        assert len(ledger.stream(seeker)) == 1
        _pause(ledger, seeker)  # and the store takes the next command
        assert [e.originator_version for e in ledger.stream(seeker)] == [1, 2]
        report = AuditLog(ledger).verify()
        assert report.ok and report.events == 2, report.findings
    finally:
        ledger.close()


@pytest.mark.postgres
def test_a_lost_race_seen_while_the_insert_is_still_being_sent_is_retried(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two operators save the same version: the loser's INSERT fails. When
    that failure comes back while the rest of its pipeline is still being
    sent, the rollback meets the aborted results ("pipeline aborted"); the
    lost race must still reach the ledger as a lost race, which reloads and
    runs the command again, not as a storage failure (seen at 64 operators)."""
    from adapters import postgres_recorder

    first, second = ledger_for(pg_url), ledger_for(pg_url)
    try:
        seeker = register_directly(first, "a@example.jp")
        stale = second.get_seeker(seeker)  # loaded before the first one saves
        first.execute(
            seeker,
            lambda s, at: s.contact(
                at=at, actor="t", channel="phone", outcome="reached"
            ),
        )
        sent = postgres_recorder.after_chain

        def slow(sql: Any, stored: Any) -> None:
            time.sleep(0.3)  # the INSERT's error is back by now
            sql.run("SELECT 1")  # queued after it: psycopg reports the error here
            sent(sql, stored)

        monkeypatch.setattr(postgres_recorder, "after_chain", slow)
        loaded: list[Any] = []
        original = SeekerLedger.get_seeker

        def first_stale(self: SeekerLedger, seeker_id: UUID) -> Any:
            if not loaded:
                loaded.append(seeker_id)
                return stale
            return original(self, seeker_id)

        monkeypatch.setattr(SeekerLedger, "get_seeker", first_stale)
        outcome = second.execute(seeker, lambda s, at: _pause_now(s, at))
        assert outcome.events == ["Paused"]
        assert [type(e).__name__ for e in second.stream(seeker)][-2:] == [
            "ContactAttempted",
            "Paused",
        ]
    finally:
        first.close()
        second.close()
