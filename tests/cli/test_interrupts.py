"""Ctrl-C during long work: exit 130, one line saying what was kept and
which command resumes, and nothing half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]


def _interrupt_after(
    args: list[str], url: str, seconds: float
) -> subprocess.CompletedProcess[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", "from cli.main import main; main()", "--db", url, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    time.sleep(seconds)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_ctrl_c_during_simulate_keeps_whole_batches(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'seekers.db'}"
    stopped = _interrupt_after(
        ["simulate", "--seekers", "200000", "--seed", "3"], url, 4.0
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
