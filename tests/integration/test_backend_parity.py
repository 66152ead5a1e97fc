"""SQLite and PostgreSQL give the same answers for the same ledger (SPEC §9:
"both pass the same test suite"; §6: list and reports come from projections).

The very same stored events go into both stores: a population is simulated
into SQLite, then every stored event is copied into PostgreSQL through the
library (``select_notifications`` from one recorder, ``insert_events`` into
the other), ids, versions, topics and state bytes unchanged, so business and
recorded times are identical. The seekers' data keys are copied too (same
master key on both), so personal data opens on both. Projections are caught
up on each store by its own code, then the CLI's ``list``, every ``report``,
``history`` and ``show`` must print the same documents; and again after the
same ``sweep --at`` a fixed past date has run on both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from privacy.key_table import KeyTable
from projections.queries import REPORTS
from projections.runner import Projections
from services.ledger import SeekerLedger
from services.simulation import simulate
from tests.helpers import ledger_for, run_cli
from tests.integration.support import all_notifications

pytestmark = [pytest.mark.postgres]

SEEKERS = 300
SEED = 20250601
SIMULATED_UNTIL = datetime(2025, 6, 1, tzinfo=UTC)
SWEEP_AT = "2025-06-02"
"""A fixed date in the past, after the simulated population's last event."""
SWEEP_ACTOR = "system:sweep"
HISTORY_SAMPLE = 40


@pytest.fixture
def stores(tmp_path: Path, pg_url: str) -> tuple[str, str]:
    """(SQLite URL, PostgreSQL URL), holding the same stored events."""
    sqlite_url = f"sqlite:///{tmp_path / 'seekers.db'}"
    source = ledger_for(sqlite_url)
    try:
        report = simulate(source, seekers=SEEKERS, seed=SEED, now=SIMULATED_UNTIL)
        assert report.seekers == SEEKERS
        copy_store(source, pg_url)
    finally:
        source.close()
    for url in (sqlite_url, pg_url):
        ledger = ledger_for(url)
        try:
            projections = Projections(ledger)
            projections.catch_up()
            head = projections.head()
            assert all(
                projections.status(n).position == head for n in projections.names
            )
        finally:
            ledger.close()
    return sqlite_url, pg_url


def copy_store(source: SeekerLedger, target_url: str) -> None:
    """Every stored event, as stored, and every seeker's wrapped data key."""
    notifications = all_notifications(source)
    assert notifications
    target = ledger_for(target_url)
    try:
        target.recorder.insert_events(
            [
                StoredEvent(
                    originator_id=n.originator_id,
                    originator_version=n.originator_version,
                    topic=n.topic,
                    state=n.state,
                )
                for n in notifications
            ]
        )
        copied = all_notifications(target)
        assert [
            (n.id, n.originator_id, n.originator_version, n.topic, n.state)
            for n in copied
        ] == [
            (n.id, n.originator_id, n.originator_version, n.topic, n.state)
            for n in notifications
        ]
        source_keys = KeyTable(source.factory.datastore)  # type: ignore[attr-defined]
        target_keys = KeyTable(target.factory.datastore)  # type: ignore[attr-defined]
        keys = [
            (seeker_id, wrapped)
            for seeker_id in sorted({str(n.originator_id) for n in notifications})
            if (wrapped := source_keys.wrapped_key(seeker_id)) is not None
        ]  # a purged seeker has no key left
        assert keys
        target_keys.insert_keys(keys)
    finally:
        target.close()


def cli_json(url: str, *args: str) -> Any:
    result = run_cli(["--json", *args], db_url=url, actor="parity")
    assert result.code == 0, (
        f"{url.split(':')[0]} {args}: exit {result.code}: {result.stderr}"
    )
    return result.json()


def assert_same(sqlite: Any, postgres: Any, what: str) -> None:
    """Equal documents; on a difference, name the first differing place."""
    if sqlite == postgres:
        return
    if isinstance(sqlite, dict) and isinstance(postgres, dict):
        assert sqlite.keys() == postgres.keys(), f"{what}: keys differ"
        for key in sqlite:
            assert_same(sqlite[key], postgres[key], f"{what}.{key}")
    if isinstance(sqlite, list) and isinstance(postgres, list):
        assert len(sqlite) == len(postgres), (
            f"{what}: {len(sqlite)} items on SQLite, {len(postgres)} on PostgreSQL"
        )
        for index, (a, b) in enumerate(zip(sqlite, postgres, strict=True)):
            assert_same(a, b, f"{what}[{index}]")
    assert sqlite == postgres, f"{what}: SQLite {sqlite!r} != PostgreSQL {postgres!r}"


def history_sample(accounts: list[dict[str, Any]]) -> list[str]:
    """Every status represented, then an even spread over the list."""
    chosen: dict[str, None] = {}
    for status in sorted({a["status"] for a in accounts}):
        first = next(a["id"] for a in accounts if a["status"] == status)
        chosen[first] = None
    step = max(len(accounts) // HISTORY_SAMPLE, 1)
    chosen.update(dict.fromkeys(a["id"] for a in accounts[::step]))
    return list(chosen)


def assert_same_answers(
    sqlite_url: str,
    pg_url: str,
    *,
    history_ids: list[str] | None = None,
    recorded_now: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """``list`` (whole and filtered), every report, and ``history`` and ``show``
    of a sample of accounts print the same on both stores. Returns the list.

    ``recorded_now`` names accounts whose events by ``system:sweep`` were
    recorded separately on each store: their ``recorded_at`` differs, and
    nothing else may.
    """
    listed = cli_json(sqlite_url, "list")
    assert_same(listed, cli_json(pg_url, "list"), "list")
    accounts = listed["accounts"]
    assert len(accounts) == SEEKERS
    for status in sorted({a["status"] for a in accounts}):
        args = ("list", "--status", status)
        assert_same(cli_json(sqlite_url, *args), cli_json(pg_url, *args), str(args))
    args = ("list", "--policy", "workport")
    assert_same(cli_json(sqlite_url, *args), cli_json(pg_url, *args), str(args))

    for name in REPORTS:
        on_sqlite = cli_json(sqlite_url, "report", name)
        assert_same(on_sqlite, cli_json(pg_url, "report", name), f"report {name}")
        assert on_sqlite["report"] == name
    for name in ("withdrawals", "reinstatements", "retention"):
        window = ("report", name, "--from", "2022-01-01", "--to", "2024-12-31")
        assert_same(
            cli_json(sqlite_url, *window), cli_json(pg_url, *window), str(window)
        )

    ids = history_ids if history_ids is not None else history_sample(accounts)
    for seeker in ids:
        on_sqlite = cli_json(sqlite_url, "history", seeker)
        on_postgres = cli_json(pg_url, "history", seeker)
        if seeker in recorded_now:
            for document in (on_sqlite, on_postgres):
                for event in document["events"]:
                    if event["actor"] == SWEEP_ACTOR:
                        event.pop("recorded_at")
        # Who wrote each event is each store's own: SQLite's operating-system
        # user (not verified), PostgreSQL's login (verified).
        for document, verified in ((on_sqlite, False), (on_postgres, True)):
            for event in document["events"]:
                assert event.pop("principal") is not None
                assert event.pop("principal_verified") is verified
        assert_same(on_sqlite, on_postgres, f"history {seeker}")
        assert_same(
            cli_json(sqlite_url, "show", seeker),
            cli_json(pg_url, "show", seeker),
            f"show {seeker}",
        )
    return dict(listed)


@pytest.mark.slow
def test_same_events_give_the_same_list_reports_and_history(
    stores: tuple[str, str],
) -> None:
    sqlite_url, pg_url = stores
    listed = assert_same_answers(sqlite_url, pg_url)
    statuses = {a["status"] for a in listed["accounts"]}
    assert {"active", "withdrawn"} <= statuses, statuses
    for name in ("status", "withdrawals", "declines"):
        assert cli_json(sqlite_url, "report", name)["rows"], f"report {name} is empty"


@pytest.mark.slow
def test_the_same_sweep_gives_the_same_results(stores: tuple[str, str]) -> None:
    sqlite_url, pg_url = stores
    sweep = ("sweep", "--at", SWEEP_AT)

    dry = cli_json(sqlite_url, *sweep, "--dry-run")
    assert_same(dry, cli_json(pg_url, *sweep, "--dry-run"), "sweep --dry-run")
    assert dry["actions"], "nothing due: the sweep would prove nothing"

    done = cli_json(sqlite_url, *sweep)
    assert_same(done, cli_json(pg_url, *sweep), "sweep")
    assert done["actions"] == dry["actions"]
    assert {a["command"] for a in done["actions"]} >= {"lapse"}

    swept = frozenset(a["id"] for a in done["actions"])
    print(
        f"\nparity: sweep at {SWEEP_AT}: {len(done['actions'])} actions on "
        f"{len(swept)} accounts, the same on both stores"
    )
    listed = cli_json(sqlite_url, "list")
    sample = history_sample(listed["accounts"])
    assert_same_answers(
        sqlite_url,
        pg_url,
        history_ids=sorted(swept) + [s for s in sample if s not in swept],
        recorded_now=swept,
    )

    # Idempotent on both: a second sweep at the same time has nothing to do.
    assert cli_json(sqlite_url, *sweep)["actions"] == []
    assert cli_json(pg_url, *sweep)["actions"] == []
