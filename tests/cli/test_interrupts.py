"""Ctrl-C during long work: exit 130, one line saying what was kept and
which command resumes, and nothing half-written."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import weakref
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.sqlite import SQLiteDatastore

from cli.commands.operations import Interrupted, resumable
from tests.helpers import run_cli
from tests.integration.support import opened

ROOT = Path(__file__).resolve().parents[2]


def saved_events(store: Path) -> int:
    """Events committed to the SQLite store so far (0 before its tables)."""
    if not store.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT count(*) FROM stored_events").fetchone()
    except sqlite3.OperationalError:  # no table yet, or locked a moment
        return 0
    return int(row[0])


def _interrupt_once_saving(
    args: list[str], store: Path
) -> subprocess.CompletedProcess[str]:
    """Ctrl-C once the command has saved its first batch: mid-way through
    its long work (a fixed pause could fall in the start-up of a slow one)."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from cli.main import main; main()",
         "--db", f"sqlite:///{store}", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not saved_events(store):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, stderr = process.communicate(timeout=60)
            raise AssertionError(f"nothing saved (exit {process.returncode}): {stderr}")
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_ctrl_c_during_simulate_keeps_whole_batches(tmp_path: Path) -> None:
    store = tmp_path / "seekers.db"
    url = f"sqlite:///{store}"
    stopped = _interrupt_once_saving(
        ["simulate", "--seekers", "200000", "--seed", "3"], store
    )
    assert stopped.returncode == 130, stopped.stderr
    lines = [line for line in stopped.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("interrupted: ")
    assert not lines[-1].startswith("interrupted: interrupted:")  # said once
    assert "Traceback" not in stopped.stderr
    assert "--seed" in lines[-1]
    verified = run_cli(["--json", "audit", "verify"], db_url=url)
    assert verified.code == 0, verified.stdout
    caught_up = run_cli(["--json", "projections", "catch-up"], db_url=url)
    assert caught_up.code == 0
    status = run_cli(["--json", "projections", "status"], db_url=url).json()
    assert all(each["lag"] == 0 for each in status["projections"])
    again = run_cli(["simulate", "--seekers", "10", "--seed", "3"], db_url=url)
    assert again.code == 2 and "already ran" in again.stderr


def _cut_short(view: Any, cut: list[weakref.ref[Any]]) -> None:
    """A transaction Ctrl-C cuts as it can: begun (writer lock held), its
    ``with`` body never started, so nothing will tell it to finish."""
    _cut_short_with(view.writing(), cut)


def _cut_short_with(transaction: Any, cut: list[weakref.ref[Any]]) -> None:
    transaction.__enter__()
    cut.append(weakref.ref(transaction.gen))
    raise KeyboardInterrupt


def test_a_transaction_cut_by_ctrl_c_ends_before_the_command_reports_it(
    tmp_path: Path,
) -> None:
    """``simulate``, ``sweep`` and the projections commands report Ctrl-C
    through ``resumable``; the transaction it cut must be rolled back (its
    lock freed, its connection back in the pool) by then, not when the
    interpreter finally drops the interrupt's frames, after the command had
    closed its pool: that printed a traceback on the way out."""
    url = f"sqlite:///{tmp_path / 'seekers.db'}"
    cut: list[weakref.ref[Any]] = []
    with opened(url) as (_, projections):
        with (
            pytest.raises(Interrupted, match="kept") as interrupted,
            resumable(lambda: "what was saved is kept"),
        ):
            _cut_short(projections.views["accounts"], cut)
        # Ended, though the report (held here, as the CLI holds it while it
        # closes the session) still refers to the interrupt.
        assert interrupted.value.__context__ is not None
        assert [ref() for ref in cut] == [None]
        # The writer lock is free: another connection writes at once.
        other = sqlite3.connect(tmp_path / "seekers.db", timeout=0)
        other.execute("BEGIN IMMEDIATE")
        other.rollback()
        other.close()


def test_ctrl_c_cutting_a_transaction_in_any_command_prints_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command without a progress report of its own (``pause``), cut in
    its first transaction: that transaction ends before the session closes
    its pool, so nothing fails, and nothing prints, on the way out."""
    url = f"sqlite:///{tmp_path / 'seekers.db'}"
    registered = run_cli(
        ["--json", "register", "--name", "Aya Mori", "--email", "aya@example.jp",
         "--birth-date", "1990-01-01", "--policy", "workport"],
        db_url=url,
    )  # fmt: skip
    assert registered.code == 0, registered.stderr
    cut: list[weakref.ref[Any]] = []
    original = SQLiteDatastore.transaction

    def transaction(datastore: SQLiteDatastore, *, commit: bool) -> Any:
        _cut_short_with(original(datastore, commit=commit), cut)

    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    monkeypatch.setattr(SQLiteDatastore, "transaction", transaction)
    stopped = run_cli(["pause", registered.json()["id"]], db_url=url)
    monkeypatch.undo()
    assert stopped.code == 130, stopped.stderr
    assert [ref() for ref in cut] == [None]
    assert [hook.exc_value for hook in unraisable] == []
    assert "Traceback" not in stopped.stderr
