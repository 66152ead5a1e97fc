"""A rebuild in batches gives the tables a catch-up event by event gives, and
an interrupted one leaves the live tables as they were and its shadow at a
consistent position (SPEC §6, issue #11).

The rebuild reads the log a page at a time, decodes each event once for both
projections and writes each batch with a few statements per table, the
position in the same transaction. These tests hold it to the one-event-at-a-
time result, on a simulated population with purged and erased accounts, on
both stores.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from projections.accounts import AccountsProjection
from projections.audit import AuditTrailProjection
from projections.changes import ChangeSet
from projections.rebuild import BlueGreen
from services.ledger import SeekerLedger
from services.simulation import simulate
from tests.integration.support import (
    Dump,
    all_notifications,
    assert_exactly_once,
    assert_tables_equal,
    dump_shadow,
    dump_tables,
    opened,
)

SIMULATED_UNTIL = datetime(2025, 6, 1, tzinfo=UTC)
POPULATION = 250
BATCH = 50


class Interrupted(Exception):
    """Raised by a projection on purpose, mid-way through a rebuild."""


def _populate(db_url: str) -> Dump:
    """A simulated population over six years (purges and erasures included),
    projected as it was recorded; its tables."""
    with opened(db_url) as (ledger, projections):
        simulate(ledger, seekers=POPULATION, seed=11, now=SIMULATED_UNTIL, years=6)
        projections.catch_up()
        tables = dump_tables(projections)
    trail = tables["audit_trail"]
    assert any(row["type"] == "Purged" for row in trail), "no purged account"
    assert any(
        row["type"] == "WithdrawalRequested" and '"erase_data": true' in row["details"]
        for row in trail
    ), "no erasure requested"
    assert len(tables["audit_trail"]) > 10 * BATCH
    return tables


def _event_by_event(db_url: str) -> Dump:
    """Empty the projections, then catch them up one event per transaction."""
    with opened(db_url) as (ledger, projections):
        for view in projections.views.values():
            with view.writing() as (cursor, _):
                view.reset_in(cursor, ledger.name)
        projections.catch_up(batch_size=1)
        return dump_tables(projections)


@pytest.mark.parametrize("batch_size", [1000, 7])
def test_a_rebuild_in_batches_equals_a_catch_up_event_by_event(
    db_url: str, batch_size: int
) -> None:
    recorded = _populate(db_url)
    one_by_one = _event_by_event(db_url)
    assert_tables_equal(one_by_one, recorded)

    with opened(db_url) as (ledger, projections):
        counts: dict[str, int] = {}
        processed = projections.rebuild(batch_size=batch_size, counts=counts)
        rebuilt = dump_tables(projections)
        events = len(all_notifications(ledger))
    assert counts == {"accounts": events, "audit_trail": events}
    assert processed == 2 * events
    assert_tables_equal(rebuilt, one_by_one)
    assert_exactly_once(db_url, rebuilt)


def _fail_on_batch(
    monkeypatch: pytest.MonkeyPatch, projection: type[Any], batch: int
) -> None:
    """``projection.settle`` (once per batch, after its rows are gathered and
    before they are written) raises on the ``batch``-th batch."""
    settle = projection.settle
    seen = Counter[str]()

    def failing(self: Any, changes: ChangeSet) -> None:
        seen["batches"] += 1
        if seen["batches"] == batch:
            raise Interrupted(f"batch {batch}")
        settle(self, changes)

    monkeypatch.setattr(projection, "settle", failing)


def _assert_consistent_at(tables: Dump, ledger: SeekerLedger, position: int) -> None:
    """``tables`` hold exactly the events up to ``position``: rows and
    position committed together, nothing of the failed batch."""
    seen = [n for n in all_notifications(ledger) if n.id <= position]
    trail = tables["audit_trail"]
    assert [row["notification_id"] for row in trail] == [n.id for n in seen]
    versions = {str(n.originator_id): n.originator_version for n in seen}
    assert {row["id"]: row["version"] for row in tables["accounts"]} == versions
    assert sum(row["count"] for row in tables["report_status"]) == len(versions)


@pytest.mark.parametrize("failing", [AccountsProjection, AuditTrailProjection])
def test_an_interrupted_rebuild_leaves_the_live_tables_and_a_consistent_shadow(
    db_url: str, monkeypatch: pytest.MonkeyPatch, failing: type[Any]
) -> None:
    recorded = _populate(db_url)
    with monkeypatch.context() as patch:
        _fail_on_batch(patch, failing, batch=4)
        # As if the process died there: its shadow is left as it was.
        patch.setattr(BlueGreen, "_abandon", lambda self: None)
        with opened(db_url) as (_, projections), pytest.raises(Interrupted):
            projections.rebuild(batch_size=BATCH)

    with opened(db_url) as (ledger, projections):
        # The rebuild wrote only its shadow: the live tables are untouched.
        assert_tables_equal(dump_tables(projections), recorded)
        states = [projections.status(n, rebuild=True) for n in projections.names]
        assert {state.position for state in states} == {projections.head()}
        # Three batches in the shadow, each with its position; the fourth
        # not at all, although the accounts rows of that batch were already
        # written when the audit trail failed in the same transaction.
        assert {state.rebuild for state in states} == {3 * BATCH}
        _assert_consistent_at(dump_shadow(projections), ledger, 3 * BATCH)

        counts: dict[str, int] = {}
        projections.rebuild(batch_size=BATCH, counts=counts)  # starts over
        rebuilt = dump_tables(projections)
        states = [projections.status(n, rebuild=True) for n in projections.names]
    assert {state.rebuild for state in states} == {None}
    events = len(recorded["audit_trail"])
    assert counts == dict.fromkeys(counts, events)
    assert_tables_equal(rebuilt, recorded)
    assert_exactly_once(db_url, rebuilt)
