"""``audit replay`` reads the log in keyset pages over (account, version):
wherever a page boundary falls, in the middle of a stream or between two,
it lists exactly the refusals one huge page lists; and it keeps nothing per
account, so its memory does not grow with the log. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from domain.policy import PRESETS, Policies, Policy
from domain.replay import Violation
from integrity.database import AuditLog
from integrity.store import account_id
from tests.helpers import ledger_for
from tests.integrity.support import (
    account_param,
    events_table,
    raw,
    register,
    seeded_store,
)

WHEN = datetime(2025, 3, 1, tzinfo=UTC)
HUGE = 1_000_000


def _append_legacy(db_url: str, seeker: str, *moves: str) -> None:
    """Events written through the event methods, as an import does: no rule runs."""
    ledger = ledger_for(db_url)
    try:
        account: Any = ledger.get_seeker(UUID(seeker))
        for move in moves:
            method = getattr(account, move)
            if move == "_paused":
                method(occurred_at=WHEN, actor="import", personal=None)
            else:
                method(occurred_at=WHEN, actor="import")
        ledger.save(account)
    finally:
        ledger.close()


@pytest.fixture
def broken(db_url: str) -> dict[str, str]:
    """The seeded store (aya's stream of 24 events, longer than any small
    page) plus histories the rules refuse: a HelloWork account paused twice,
    aya reactivated while active at the end of her stream, and ken's second
    event deleted (a version gap)."""
    store = seeded_store(db_url)
    legacy = register(db_url, "Rin Ueda", "rin@example.jp", policy="hellowork")
    _append_legacy(db_url, legacy, "_paused", "_resumed", "_paused")
    _append_legacy(db_url, store["aya"], "_reactivated")
    raw(
        db_url,
        f"DELETE FROM {events_table(db_url)} "
        "WHERE originator_id = ? AND originator_version = 2",
        (account_param(db_url, store["ken"]),),
    )
    return {**store, "legacy": legacy}


def _replay(db_url: str, page: int) -> tuple[int, int, list[Violation]]:
    ledger = ledger_for(db_url)
    try:
        return AuditLog(ledger).replay(page=page)
    finally:
        ledger.close()


def test_every_page_size_lists_the_same_refusals(
    db_url: str, broken: dict[str, str]
) -> None:
    whole = _replay(db_url, HUGE)
    accounts, events, violations = whole
    assert accounts == 4
    assert events == (24 + 1) + (4 - 1) + 4 + (1 + 3)  # aya, ken, mio, rin
    found = {(v.account, v.version, v.message) for v in violations}
    assert (
        broken["legacy"],
        2,
        "Paused: policy hellowork does not offer pausing",
    ) in found
    assert (
        broken["legacy"],
        4,
        "Paused: policy hellowork does not offer pausing",
    ) in found
    assert (broken["ken"], 3, "version 3 where 2 was expected") in found
    assert (
        broken["aya"],
        25,
        "Reactivated: reactivate is not allowed from state 'active'",
    ) in found
    for page in (1, 2, 3, 5, 24, 25, 26):
        assert _replay(db_url, page) == whole, page


def test_a_page_size_below_one_is_refused(db_url: str) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        _replay(db_url, 0)


def test_replay_keeps_no_account_ids(db_url: str, broken: dict[str, str]) -> None:
    """Account ids are parsed once per stream and let go: nothing is cached."""
    account_id.cache_clear()
    _replay(db_url, 3)
    assert account_id.cache_info().currsize == 0


def test_verify_collects_the_purged_accounts_on_its_one_pass(
    db_url: str, broken: dict[str, str]
) -> None:
    """The accounts ``verify_erasures`` checks come from verify's own pass
    over the log, the same ones a query of the events by topic finds."""
    ledger = ledger_for(db_url)
    try:
        audit = AuditLog(ledger)
        report = audit.verify()
        assert report.watched == {broken["mio"]}
        assert audit.verify_erasures() == audit.verify_erasures(sorted(report.watched))
    finally:
        ledger.close()


# -- the policies a replay builds: a few, each once ---------------------------


def _policy_data(name: str, **changes: Any) -> dict[str, Any]:
    return {**PRESETS["workport"].to_dict(), "name": name, **changes}


def test_policies_are_built_once_and_bounded() -> None:
    policies = Policies(size=2)
    first = _policy_data("first")
    assert policies(first) is policies(dict(first))  # equal data: built once
    assert policies(first) == Policy.from_dict(first)
    policies(_policy_data("second"))
    policies(_policy_data("third"))
    assert len(policies) == 2  # the oldest went


def test_policies_tell_true_from_one() -> None:
    """``repr`` keys: data that only compares equal is built separately (and
    refused as ``from_dict`` refuses it)."""
    policies = Policies()
    data = _policy_data("flags", pausing=True)
    policies(data)
    with pytest.raises(Exception, match="pausing"):
        policies({**data, "pausing": 1})


def test_verify_names_an_unchained_event_in_the_middle_of_the_log(
    db_url: str, broken: dict[str, str]
) -> None:
    """An event whose integrity row is gone reads as written outside the
    ledger: verify counts it, names it at its own place, and the chain is
    one entry short of the tree."""
    nid = raw(
        db_url,
        "SELECT notification_id FROM integrity_events "
        "WHERE originator_id = ? AND originator_version = 3",
        (broken["aya"],),
    )[0][0]
    raw(db_url, "DELETE FROM integrity_events WHERE notification_id = ?", (nid,))
    ledger = ledger_for(db_url)
    try:
        report = AuditLog(ledger).verify()
    finally:
        ledger.close()
    stored = (24 + 1) + (4 - 1) + 4 + (1 + 3)
    assert report.events == stored
    inserted = [f for f in report.findings if f.kind == "inserted"]
    assert [(f.account, f.version, f.notification_id) for f in inserted] == [
        (broken["aya"], 3, nid)
    ]
    assert "truncated" in {f.kind for f in report.findings}
