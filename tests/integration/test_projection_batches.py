"""A rebuild in batches gives the tables a catch-up event by event gives, and
an interrupted one leaves them at a consistent position (SPEC §6, issue #11).

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
from services.simulation import simulate
from tests.integration.support import (
    Dump,
    all_notifications,
    assert_exactly_once,
    assert_tables_equal,
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


def _assert_consistent_at(db_url: str, position: int) -> None:
    """Both projections hold exactly the events up to ``position``: rows and
    position committed together, nothing of the failed batch."""
    with opened(db_url) as (ledger, projections):
        assert {projections.status(n).position for n in projections.names} == {position}
        tables = dump_tables(projections)
        seen = [n for n in all_notifications(ledger) if n.id <= position]
    trail = tables["audit_trail"]
    assert [row["notification_id"] for row in trail] == [n.id for n in seen]
    versions = {str(n.originator_id): n.originator_version for n in seen}
    assert {row["id"]: row["version"] for row in tables["accounts"]} == versions
    assert sum(row["count"] for row in tables["report_status"]) == len(versions)


@pytest.mark.parametrize("failing", [AccountsProjection, AuditTrailProjection])
def test_an_interrupted_rebuild_stops_at_a_consistent_position_and_catch_up_ends_it(
    db_url: str, monkeypatch: pytest.MonkeyPatch, failing: type[Any]
) -> None:
    recorded = _populate(db_url)
    with monkeypatch.context() as patch:
        _fail_on_batch(patch, failing, batch=4)
        with opened(db_url) as (_, projections), pytest.raises(Interrupted):
            projections.rebuild(batch_size=BATCH)

    # Three batches committed, each with its position; the fourth not at
    # all, although the accounts rows of that batch were already written
    # when the audit trail failed in the same transaction.
    _assert_consistent_at(db_url, 3 * BATCH)

    with opened(db_url) as (_, projections):
        counts: dict[str, int] = {}
        projections.catch_up(batch_size=BATCH, counts=counts)
        caught_up = dump_tables(projections)
    events = len(recorded["audit_trail"])
    assert counts == dict.fromkeys(counts, events - 3 * BATCH)
    assert_tables_equal(caught_up, recorded)
    assert_exactly_once(db_url, caught_up)


def test_the_projections_decode_each_event_as_the_library_does(db_url: str) -> None:
    """Their faster reading of the log changes nothing in the events: the
    same fields and values as the library's mapper (personal data sealed)."""
    _populate(db_url)
    with opened(db_url) as (ledger, projections):
        library = ledger.mapper.without_unsealing()  # type: ignore[attr-defined]
        notifications = all_notifications(ledger)
        for notification in notifications:
            ours = projections.mapper.to_domain_event(notification)
            theirs = library.to_domain_event(notification)
            assert type(ours) is type(theirs)
            assert vars(ours) == vars(theirs), notification.id
