"""A new store used by many processes at once: one sets it up, none fails.

Eight `register` commands started together on a SQLite file that did not
exist yet used to fail one or two of them with "Failed to record tracking
for __migration__ 1" (the library's first-open migration raced with itself).
Now one process sets the store up and marks it, and the others wait for it
or find it done (``adapters.sqlite_store.schema_lock``; on PostgreSQL the
schema's advisory lock, ``adapters.postgres.schema_lock``); a store once set
up is opened without any DDL.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from adapters.sqlite_store import SCHEMA_MARK
from projections.schema import INDEX_NAMES
from tests.helpers import run_cli, seekers_env, seekers_script

REGISTER = ["--birth-date", "1990-01-01", "--policy", "workport"]


@pytest.mark.parametrize("processes", [8, 32])
def test_many_processes_on_a_new_store_all_succeed(
    db_url: str, tmp_path: Path, processes: int
) -> None:
    start = tmp_path / "go"
    # Each process waits for the same file before it runs, so they start
    # together rather than one process-start apart.
    waiting = ["sh", "-c", 'while [ ! -e "$0" ]; do sleep 0.01; done; exec "$@"']
    running = [
        subprocess.Popen(
            [
                *waiting,
                str(start),
                seekers_script(),
                "--db",
                db_url,
                "register",
                "--name",
                "Aya Mori",
                "--email",
                f"aya{n}@example.jp",
                *REGISTER,
            ],
            env=seekers_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        for n in range(processes)
    ]
    start.touch()
    failures = []
    for process in running:
        _, err = process.communicate(timeout=120)
        if process.returncode != 0:
            failures.append((process.returncode, err.strip()))
    assert failures == []
    listed = subprocess.run(
        [seekers_script(), "--db", db_url, "--json", "list", "--all"],
        env=seekers_env(), capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)["accounts"]) == processes
    verified = subprocess.run(
        [seekers_script(), "--db", db_url, "audit", "verify"],
        env=seekers_env(), capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout
    if db_url.startswith("sqlite"):  # no lock file or other stray left behind
        left = {path.name for path in tmp_path.iterdir()}
        assert left <= {"go", "seekers.db", "seekers.db-shm", "seekers.db-wal"}
        assert _mark(tmp_path / "seekers.db") == SCHEMA_MARK


def _register(db_url: str, email: str) -> str:
    result = run_cli(
        ["--json", "register", "--name", "Aya Mori", "--email", email, *REGISTER],
        db_url=db_url,
    )
    assert result.code == 0, result.stderr
    seeker_id: str = result.json()["id"]
    return seeker_id


def _mark(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        (mark,) = connection.execute("PRAGMA user_version").fetchone()
    connection.close()
    return int(mark)


@contextmanager
def _statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every SQL statement run on a SQLite connection opened meanwhile."""
    seen: list[str] = []
    connect = sqlite3.connect

    def tracing(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = connect(*args, **kwargs)
        connection.set_trace_callback(seen.append)
        return connection

    with monkeypatch.context() as patch:
        patch.setattr(sqlite3, "connect", tracing)
        yield seen


def _ddl(statements: list[str]) -> list[str]:
    return [
        statement
        for statement in statements
        if statement.lstrip().upper().startswith(("CREATE", "DROP", "ALTER"))
    ]


def test_a_store_once_set_up_is_opened_without_ddl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_url = f"sqlite:///{tmp_path / 'seekers.db'}"
    with _statements(monkeypatch) as statements:
        seeker = _register(db_url, "a@example.jp")
    assert _ddl(statements)  # the first run set the store up
    assert _mark(tmp_path / "seekers.db") == SCHEMA_MARK
    with _statements(monkeypatch) as statements:
        _register(db_url, "b@example.jp")
        contact = ["contact", seeker, "--channel", "phone", "--outcome", "reached"]
        assert run_cli(contact, db_url=db_url).code == 0
        shown = run_cli(["--json", "show", seeker], db_url=db_url)
        assert shown.code == 0, shown.stderr
    assert _ddl(statements) == []
    assert shown.json()["contact_attempts"] == 1
    with _statements(monkeypatch) as statements:  # the owner's explicit upgrade
        migrated = run_cli(["migrate"], db_url=db_url)
    assert migrated.code == 0, migrated.stderr
    assert _ddl(statements)


def test_a_store_set_up_by_an_older_version_is_set_up_again_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "seekers.db"
    db_url = f"sqlite:///{store}"
    seeker = _register(db_url, "a@example.jp")
    with sqlite3.connect(store) as connection:  # as an older version left it
        connection.execute(f"DROP INDEX {INDEX_NAMES[0]}")
        connection.execute("DROP TABLE email_index")
        connection.execute("PRAGMA user_version = 0")
    connection.close()
    shown = run_cli(["--json", "show", seeker], db_url=db_url)
    assert shown.code == 0, shown.stderr
    assert _mark(store) == SCHEMA_MARK
    with sqlite3.connect(store) as connection:
        names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    connection.close()
    assert {INDEX_NAMES[0], "email_index"} <= names
    with _statements(monkeypatch) as statements:
        _register(db_url, "b@example.jp")
    assert _ddl(statements) == []


@contextmanager
def _setting_up(folder: Path) -> Iterator[None]:
    """Hold the set-up lock of the stores in ``folder``, as a process setting
    one up does."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def test_the_set_up_lock_is_waited_for_as_long_as_any_lock(tmp_path: Path) -> None:
    ready = tmp_path / "ready.db"
    seeker = _register(f"sqlite:///{ready}", "a@example.jp")
    new = tmp_path / "new.db"
    fast = {"SEEKERS_LOCK_TIMEOUT": "1"}
    with _setting_up(tmp_path):
        started = time.monotonic()
        waited = run_cli(
            ["register", "--name", "Aya Mori", "--email", "b@example.jp", *REGISTER],
            db_url=f"sqlite:///{new}",
            env=fast,
        )
        elapsed = time.monotonic() - started
        # A store already set up takes no lock: it is not held up.
        shown = run_cli(["--json", "show", seeker], db_url=f"sqlite:///{ready}")
    assert waited.code == 6
    assert "another process has been setting up this store" in waited.stderr
    assert 1 <= elapsed < 5
    assert not new.exists()
    assert shown.code == 0, shown.stderr


def test_a_store_in_a_missing_folder_is_named_and_nothing_is_made(
    tmp_path: Path,
) -> None:
    store = tmp_path / "no" / "such" / "seekers.db"
    result = run_cli(
        ["register", "--name", "Aya Mori", "--email", "a@example.jp", *REGISTER],
        db_url=f"sqlite:///{store}",
    )
    assert result.code == 6
    assert f"no folder {store.parent}" in result.stderr
    assert not (tmp_path / "no").exists()
