"""Reads from a PostgreSQL hot standby (``--read-db``, ``SEEKERS_READ_DB``):
every read command answers there, a recording command never goes there, a
lagging standby says how far behind it is, and ``--fresh`` waits until it
has caught up with the primary.

The fixture streams a real standby from the test server (``pg_basebackup
-R``, tests/support/standby.py), under CI too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CliResult, run_cli

pytestmark = pytest.mark.postgres

READ_ONLY_LINE = "read-only hot standby"


def _register(url: str, email: str) -> str:
    done = run_cli(
        ["--json", "register", "--policy", "workport", "--name", "Aya Mori",
         "--email", email, "--birth-date", "1990-01-01", "--at", "2026-01-10"],
        db_url=url,
    )  # fmt: skip
    assert done.code == 0, done.stderr
    seeker: str = done.json()["id"]
    return seeker


def _read(pair: Any, *args: str, fresh: bool = False) -> CliResult:
    """A read as an agency runs it: --db the primary, --read-db the standby."""
    options = ["--read-db", pair.standby_url, *(["--fresh"] if fresh else [])]
    return run_cli([*options, *args], db_url=pair.primary_url)


@contextmanager
def replay_paused(standby: Any) -> Iterator[None]:
    """The standby receives the primary's log but replays none of it."""
    with standby.admin_connection() as admin:
        admin.execute("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        with standby.admin_connection() as admin:
            admin.execute("SELECT pg_wal_replay_resume()")


@pytest.fixture
def seeded(standby_pair: Any) -> tuple[Any, list[str]]:
    """Two accounts on the primary (one paused) and a checkpoint, replayed
    by the standby."""
    first = _register(standby_pair.primary_url, "a@example.jp")
    second = _register(standby_pair.primary_url, "b@example.jp")
    paused = run_cli(
        ["pause", first, "--at", "2026-01-11"], db_url=standby_pair.primary_url
    )
    assert paused.code == 0, paused.stderr
    checkpoint = run_cli(["audit", "checkpoint"], db_url=standby_pair.primary_url)
    assert checkpoint.code == 0, checkpoint.stderr
    caught_up = _read(standby_pair, "list", fresh=True)
    assert caught_up.code == 0, caught_up.stderr
    return standby_pair, [first, second]


READS = [
    ["list"],
    ["list", "--all", "--format", "csv"],
    *[["report", name] for name in
      ("status", "withdrawals", "reinstatements", "retention", "declines",
       "unreachable")],
    ["audit", "verify"],
    ["projections", "status"],
    ["find", "--email", "a@example.jp"],
]  # fmt: skip


@pytest.mark.parametrize("args", READS, ids=[" ".join(each) for each in READS])
def test_every_read_command_answers_from_the_standby(
    seeded: tuple[Any, list[str]], args: list[str]
) -> None:
    pair, _ = seeded
    done = _read(pair, *args)
    assert done.code == 0, done.stderr
    assert done.stdout.strip()
    # Only the standby was read: the same answer with --db the standby alone.
    alone = run_cli(args, db_url=pair.standby_url)
    assert alone.code == 0, alone.stderr
    assert alone.stdout == done.stdout


@pytest.mark.parametrize("command", ["show", "history", "export-data"])
def test_account_reads_answer_from_the_standby(
    seeded: tuple[Any, list[str]], command: str
) -> None:
    pair, (first, _) = seeded
    done = _read(pair, "--json", command, first)
    assert done.code == 0, done.stderr
    assert first in done.stdout
    if command == "show":
        assert done.json()["status"] == "paused"


def test_audit_files_are_written_from_the_standby(
    seeded: tuple[Any, list[str]], tmp_path: Path
) -> None:
    pair, (first, _) = seeded
    exported = _read(pair, "audit", "export", "--output", str(tmp_path / "export"))
    assert exported.code == 0, exported.stderr
    assert any((tmp_path / "export").iterdir())
    proved = _read(pair, "audit", "prove", first, "--output", str(tmp_path / "p.json"))
    assert proved.code == 0, proved.stderr  # the primary's checkpoint covers it
    assert (tmp_path / "p.json").stat().st_size > 0


@pytest.mark.parametrize(
    "args",
    [
        ["register", "--policy", "workport", "--name", "Ken Sato", "--email",
         "k@example.jp", "--birth-date", "1990-01-01"],
        ["pause", "{first}"],
        ["sweep"],
        ["audit", "checkpoint"],
        ["projections", "rebuild"],
    ],
    ids=["register", "pause", "sweep", "checkpoint", "rebuild"],
)  # fmt: skip
def test_a_recording_command_pointed_at_the_standby_is_refused(
    seeded: tuple[Any, list[str]], args: list[str]
) -> None:
    pair, (first, _) = seeded
    argv = [each.format(first=first) for each in args]
    done = run_cli(argv, db_url=pair.standby_url)
    assert done.code == 6
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert READ_ONLY_LINE in lines[0]
    assert "Traceback" not in done.stderr


def test_with_read_db_a_recording_command_still_goes_to_the_primary(
    seeded: tuple[Any, list[str]],
) -> None:
    pair, (_, second) = seeded
    done = _read(pair, "pause", second)
    assert done.code == 0, done.stderr
    shown = run_cli(["--json", "show", second], db_url=pair.primary_url)
    assert shown.json()["status"] == "paused"


def test_a_lagging_standby_says_how_far_behind_it_is(
    seeded: tuple[Any, list[str]], postgres_standby: Any
) -> None:
    pair, (_, second) = seeded
    with replay_paused(postgres_standby):
        time.sleep(1.1)  # the standby's last replayed commit grows old
        assert run_cli(["pause", second], db_url=pair.primary_url).code == 0
        stale = _read(pair, "--json", "show", second)
        assert stale.code == 0, stale.stderr
        assert stale.json()["status"] == "active"  # as replayed so far
        assert "standby" in stale.stderr and "s behind the primary" in stale.stderr
    fresh = _read(pair, "--json", "show", second, fresh=True)
    assert fresh.code == 0, fresh.stderr
    assert fresh.json()["status"] == "paused"
    assert "behind" not in fresh.stderr


def test_fresh_sees_a_command_that_just_returned(
    seeded: tuple[Any, list[str]], postgres_standby: Any
) -> None:
    pair, (_, second) = seeded
    with replay_paused(postgres_standby):
        assert run_cli(["pause", second], db_url=pair.primary_url).code == 0
        results: list[CliResult] = []
        reader = threading.Thread(
            target=lambda: results.append(
                _read(pair, "--json", "show", second, fresh=True)
            )
        )
        reader.start()
        time.sleep(1.0)
        assert results == []  # waiting for the standby, not answering stale
    reader.join(timeout=30)
    assert results and results[0].code == 0, results
    assert results[0].json()["status"] == "paused"


def test_fresh_gives_up_with_a_clear_line_when_the_standby_stalls(
    seeded: tuple[Any, list[str]], postgres_standby: Any
) -> None:
    pair, (_, second) = seeded
    with replay_paused(postgres_standby):
        assert run_cli(["pause", second], db_url=pair.primary_url).code == 0
        done = run_cli(
            ["--read-db", pair.standby_url, "--fresh", "show", second],
            db_url=pair.primary_url,
            env={"SEEKERS_LOCK_TIMEOUT": "1"},
        )
    assert done.code == 6
    assert "did not catch up with the primary within 1 s" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
