"""A command's events and the projections' rows for them are one transaction,
on SQLite and PostgreSQL (adapters/recorders.py, adapters/postgres_recorder.py);
when that cannot be done the ordinary catch-up does it, and either way each
event is projected exactly once."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from projections.accounts import AccountsProjection
from projections.runner import Projections
from services.ledger import SeekerLedger
from tests.helpers import ledger_for, register_directly
from tests.integration.support import dump_tables, reset


def _pause(ledger: SeekerLedger, seeker_id: UUID) -> None:
    ledger.execute(seeker_id, lambda s, at: s.pause(at=at, actor="t", reason=None))


def _broken(self: AccountsProjection, *args: Any, **kwargs: Any) -> None:
    raise RuntimeError("a projection bug")


def _positions(projections: Projections) -> dict[str, int]:
    return {name: projections.status(name).position for name in projections.names}


def test_a_command_is_projected_in_its_own_transaction(db_url: str) -> None:
    ledger = ledger_for(db_url)
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


def test_a_projection_behind_is_left_to_the_catch_up(db_url: str) -> None:
    ledger = ledger_for(db_url)
    try:
        projections = Projections(ledger)
        first = register_directly(ledger, "a@example.jp")
    finally:
        ledger.close()
    reset(db_url, "accounts")  # as a rebuild starts
    ledger = ledger_for(db_url)
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
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = ledger_for(db_url)
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
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = ledger_for(db_url)
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
    db_url: str,
) -> None:
    ledger = ledger_for(db_url)
    try:
        Projections(ledger)
        seeker = register_directly(ledger, "a@example.jp")
    finally:
        ledger.close()
    reset(db_url, "accounts")  # as a rebuild starts: accounts is behind
    ledger = ledger_for(db_url)
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
