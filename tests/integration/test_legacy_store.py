"""A store written by an earlier version keeps opening, unchanged.

``tests/fixtures/legacy_store`` was written by the version before the
lifecycle moved into ``domain.events``/``domain.rules`` and the application
into ``services``; its events and snapshots carry the topics of that time
(``domain.seeker:Seeker.Registered``). Every reading command must print what
that version printed, and rebuilding the projections must give the same rows.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CliResult
from tests.helpers import run_cli as run_any_cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "legacy_store"
SEEKERS = (FIXTURE / "ids.txt").read_text().split()


@pytest.fixture
def legacy_url(tmp_path: Path) -> str:
    for name in ("legacy.db", "legacy.db.key"):
        shutil.copy(FIXTURE / name, tmp_path / name)
    (tmp_path / "legacy.db.key").chmod(0o600)
    return f"sqlite:///{tmp_path / 'legacy.db'}"


def run_cli(args: list[str], *, db_url: str) -> CliResult:
    """The CLI on the fixture, opening it with its own key file (not the
    master key the test session sets for every other store)."""
    return run_any_cli(args, db_url=db_url, env={"SEEKERS_MASTER_KEY": None})


def expected(name: str) -> Any:
    return json.loads((FIXTURE / "expected" / name).read_text())


def test_the_fixture_holds_old_topics_and_a_snapshot() -> None:
    import sqlite3

    with sqlite3.connect(FIXTURE / "legacy.db") as db:
        topics = {row[0] for row in db.execute("SELECT topic FROM stored_events")}
        snapshots = db.execute("SELECT state FROM stored_snapshots").fetchall()
    assert "domain.seeker:Seeker.Registered" in topics
    assert "domain.seeker:Seeker.Withdrawn" in topics
    assert len(snapshots) == 1
    assert b"domain.seeker:Seeker" in snapshots[0][0]


@pytest.mark.parametrize("seeker", SEEKERS)
def test_show_and_history_print_what_the_old_version_printed(
    legacy_url: str, seeker: str
) -> None:
    shown = run_cli(["--json", "show", seeker], db_url=legacy_url)
    assert shown.code == 0, shown.stderr
    account = shown.json()
    assert account.pop("personal_sealed") is False  # this login opens the keys
    assert account.pop("name_kana") is None  # written before readings existed
    assert account == expected(f"show-{seeker}.json")
    history = run_cli(["--json", "history", seeker], db_url=legacy_url)
    assert history.code == 0, history.stderr
    document = history.json()
    for entry in document["events"]:
        # Written before principals existed: who wrote them is unknown.
        assert entry.pop("principal") is None
        assert entry.pop("principal_verified") is False
    assert document == expected(f"history-{seeker}.json")
    printed = run_cli(["history", seeker], db_url=legacy_url).stdout
    assert printed.count("(login unknown)") == len(document["events"])


def test_replay_list_and_reports_are_unchanged(legacy_url: str) -> None:
    replay = run_cli(["--json", "audit", "replay"], db_url=legacy_url)
    assert replay.code == 0, replay.stderr
    assert replay.json() == expected("replay.json")
    listed = run_cli(["--json", "list"], db_url=legacy_url)
    assert listed.json() == expected("list.json")
    for report in ("status", "withdrawals"):
        out = run_cli(["report", report, "--format", "json"], db_url=legacy_url)
        assert out.json() == expected(f"report-{report}.json")


def test_a_rebuild_gives_the_same_rows(legacy_url: str) -> None:
    rebuilt = run_cli(["projections", "rebuild"], db_url=legacy_url)
    assert rebuilt.code == 0, rebuilt.stderr
    listed = run_cli(["--json", "list"], db_url=legacy_url)
    assert listed.json() == expected("list.json")
    for report in ("status", "withdrawals"):
        out = run_cli(["report", report, "--format", "json"], db_url=legacy_url)
        assert out.json() == expected(f"report-{report}.json")


def test_new_commands_continue_an_old_stream(legacy_url: str) -> None:
    hellowork = SEEKERS[2]  # lapsed by the sweep the fixture ran
    reactivated = run_cli(["reactivate", hellowork], db_url=legacy_url)
    assert reactivated.code == 0, reactivated.stderr
    applied = run_cli(
        ["--json", "apply", hellowork, "--job", "Clerk II", "--route", "agency"],
        db_url=legacy_url,
    )
    assert applied.code == 0, applied.stderr
    assert applied.json()["application"] == "A2"
    replay = run_cli(["--json", "audit", "replay"], db_url=legacy_url)
    assert replay.json()["violations"] == []


def test_the_first_open_chains_the_old_log_once_and_says_so(legacy_url: str) -> None:
    first = run_cli(["--json", "show", SEEKERS[0]], db_url=legacy_url)
    assert first.code == 0
    note = re.search(r"chained the (\d+) events this store already held", first.stderr)
    assert note is not None, first.stderr
    again = run_cli(["--json", "show", SEEKERS[0]], db_url=legacy_url)
    assert "audit integrity" not in again.stderr  # one time only
    verified = run_cli(["--json", "audit", "verify"], db_url=legacy_url)
    assert verified.code == 0, verified.stdout
    document = verified.json()
    assert document["chained_from"] == document["events"] == int(note.group(1))
    assert document["findings"] == []
