"""``list`` and the reports read a caught-up SQLite store without opening the
ledger (``projections.reader``), and open it whenever that would show less
than the log holds: projections behind, a store never chained, a schema from
an older version. Either way every recorded event is in what they show."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from uuid import UUID

import pytest

from adapters.storage import LEDGER_NAME, SQLITE_EVENTS_TABLE
from projections.reader import PROJECTION_NAMES, caught_up_reader
from projections.runner import PROJECTIONS, Projections
from projections.schema import INDEX_NAMES
from tests.helpers import (
    ledger_for,
    modules_loaded_by,
    register_directly,
    run_cli,
    seekers_env,
)

ROOT = Path(__file__).resolve().parents[2]
THE_LEDGER = {"eventsourcing", "services", "statemachine", "cryptography", "psycopg"}
"""What opening the ledger loads, and a caught-up read must not."""


def _record_without_projecting(db_url: str, email: str) -> UUID:
    """Register an account through the application alone: no projections are
    attached to it, so its events are in the log and in no projection."""
    ledger = ledger_for(db_url)
    try:
        return register_directly(ledger, email, policy="hellowork")
    finally:
        ledger.close()


def _register(db_url: str, email: str) -> str:
    result = run_cli(
        ["--json", "register", "--name", "Mori Aya", "--email", email,
         "--birth-date", "1990-04-01", "--policy", "workport"],
        db_url=db_url,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    seeker_id: str = result.json()["id"]
    return seeker_id


def _listed(db_url: str) -> set[str]:
    result = run_cli(["--json", "list"], db_url=db_url)
    assert result.code == 0, result.stderr
    return {row["id"] for row in result.json()["accounts"]}


def _status_total(db_url: str) -> int:
    result = run_cli(["--json", "report", "status"], db_url=db_url)
    assert result.code == 0, result.stderr
    return sum(row["count"] for row in result.json()["rows"])


def test_a_read_shows_events_no_projection_had_seen(db_url: str) -> None:
    first = _register(db_url, "a@example.jp")
    second = str(_record_without_projecting(db_url, "b@example.jp"))
    assert _listed(db_url) == {first, second}
    assert _status_total(db_url) == 2
    # and what was caught up stays caught up, counted once
    assert _listed(db_url) == {first, second}
    assert _status_total(db_url) == 2


def _run(folder: Path, *argv: str) -> tuple[set[str], str]:
    """``seekers ARGV`` on ``folder/seekers.db`` in a fresh interpreter: the
    top-level packages it loaded, and its stdout."""
    environment = seekers_env()
    environment.update(
        SEEKERS_DB=f"sqlite:///{folder / 'seekers.db'}",
        SEEKERS_ACTOR="t",
        PYTHONPATH=str(ROOT),
    )
    return modules_loaded_by(argv, cwd=folder, env=environment)


def _accounts(output: str) -> set[str]:
    return {row["id"] for row in json.loads(output)["accounts"]}


@pytest.mark.parametrize(
    "argv",
    [("list",), ("report", "status"), ("report", "retention"), ("history", "ID")],
)
def test_a_caught_up_store_is_read_without_opening_the_ledger(
    tmp_path: Path, argv: tuple[str, ...]
) -> None:
    db_url = f"sqlite:///{tmp_path / 'seekers.db'}"
    seeker = _register(db_url, "a@example.jp")
    argv = tuple(seeker if word == "ID" else word for word in argv)
    loaded, output = _run(tmp_path, "--json", *argv)
    assert THE_LEDGER.isdisjoint(loaded), THE_LEDGER & loaded
    if argv == ("list",):
        assert _accounts(output) == {seeker}
    if argv[0] == "history":
        assert [event["type"] for event in json.loads(output)["events"]] == [
            "Registered"
        ]


def test_projections_behind_open_the_ledger_once_then_reads_are_light(
    tmp_path: Path,
) -> None:
    db_url = f"sqlite:///{tmp_path / 'seekers.db'}"
    first = _register(db_url, "a@example.jp")
    second = str(_record_without_projecting(db_url, "b@example.jp"))
    loaded, output = _run(tmp_path, "--json", "list")
    assert "eventsourcing" in loaded  # it had to catch up
    assert _accounts(output) == {first, second}
    loaded, output = _run(tmp_path, "--json", "list")
    assert THE_LEDGER.isdisjoint(loaded), THE_LEDGER & loaded
    assert _accounts(output) == {first, second}


def test_a_schema_from_an_older_version_is_brought_up_to_date_first(
    tmp_path: Path,
) -> None:
    db_url = f"sqlite:///{tmp_path / 'seekers.db'}"
    seeker = _register(db_url, "a@example.jp")
    with sqlite3.connect(tmp_path / "seekers.db") as connection:
        connection.execute(f"DROP INDEX {INDEX_NAMES[-1]}")
        # as a store an older version set up (adapters.sqlite_store.SCHEMA_MARK)
        connection.execute("PRAGMA user_version = 0")
    loaded, output = _run(tmp_path, "--json", "list")
    assert "eventsourcing" in loaded  # opened, which recreated the index
    assert _accounts(output) == {seeker}
    with sqlite3.connect(tmp_path / "seekers.db") as connection:
        names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert set(INDEX_NAMES) <= names


def test_a_store_never_chained_is_chained_by_the_first_read(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'seekers.db'}"
    seeker = _register(db_url, "a@example.jp")
    with sqlite3.connect(tmp_path / "seekers.db") as connection:
        # as a store written before audit integrity existed
        tables = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name LIKE 'integrity%'"
        ).fetchall()
        for (table,) in tables:
            connection.execute(f"DROP TABLE {table}")
        connection.execute("PRAGMA user_version = 0")  # no version marked it
    result = run_cli(["--json", "list"], db_url=db_url)
    assert result.code == 0, result.stderr
    assert {row["id"] for row in result.json()["accounts"]} == {seeker}
    with sqlite3.connect(tmp_path / "seekers.db") as connection:
        (chained,) = connection.execute(
            "SELECT count(*) FROM integrity_state"
        ).fetchone()
    assert chained == 1


def test_a_file_that_is_not_a_database_is_a_storage_error(tmp_path: Path) -> None:
    store = tmp_path / "seekers.db"
    store.write_bytes(b"not a database, just text " * 200)
    result = run_cli(["list"], db_url=f"sqlite:///{store}")
    assert result.code == 6
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert store.read_bytes() == b"not a database, just text " * 200


def test_the_reader_names_the_tables_the_ledger_writes(tmp_path: Path) -> None:
    ledger = ledger_for(f"sqlite:///{tmp_path / 'seekers.db'}")
    try:
        projections = Projections(ledger)
        assert ledger.name == LEDGER_NAME
        assert ledger.recorder.events_table_name == SQLITE_EVENTS_TABLE  # type: ignore[attr-defined]
        assert tuple(PROJECTIONS) == PROJECTION_NAMES
        assert [view.tracking_table for view in projections.views.values()] == [
            f"{name}_tracking" for name in PROJECTION_NAMES
        ]
    finally:
        ledger.close()


def test_an_unchained_or_odd_store_is_never_read_directly(tmp_path: Path) -> None:
    store = tmp_path / "odd name #1?.db"
    db_url = f"sqlite:///{store}"
    _register(db_url, "a@example.jp")
    reader = caught_up_reader(store, timeout=1)
    assert reader is not None  # a file name that needs quoting in a URI
    assert reader.query("SELECT count(*) AS n FROM accounts") == [{"n": 1}]
    reader.close()
    with sqlite3.connect(store) as connection:
        connection.execute("DELETE FROM integrity_state")
    assert caught_up_reader(store, timeout=1) is None
    assert caught_up_reader(tmp_path / "missing.db", timeout=1) is None
    assert not (tmp_path / "missing.db").exists()
