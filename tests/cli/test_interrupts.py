"""Ctrl-C during long work: exit 130, one line saying what was kept and
which command resumes, and nothing half-written."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from tests.helpers import run_cli

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
