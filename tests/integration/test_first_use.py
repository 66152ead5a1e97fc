"""A new store used by many processes at once: one sets it up, none fails.

Eight `register` commands started together on a SQLite file that did not
exist yet used to fail one or two of them with "Failed to record tracking
for __migration__ 1" (the library's first-open migration raced with itself).
Now one process sets the store up and the others wait for it or find it
done (``adapters.sqlite_store.first_use``; on PostgreSQL the schema's
advisory lock, ``adapters.postgres.schema_lock``).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import seekers_env, seekers_script


@pytest.mark.parametrize("processes", [8, 32])
def test_many_processes_on_a_new_store_all_succeed(
    db_url: str, tmp_path: Path, processes: int
) -> None:
    start = tmp_path / "go"
    # Each process waits for the same file before it runs, so they start
    # together rather than one process-start apart.
    script = 'while [ ! -e "$0" ]; do sleep 0.01; done; exec "$@"'
    running = [
        subprocess.Popen(
            [
                "sh",
                "-c",
                script,
                str(start),
                seekers_script(),
                "--db",
                db_url,
                "register",
                "--name",
                "Aya Mori",
                "--email",
                f"aya{n}@example.jp",
                "--birth-date",
                "1990-01-01",
                "--policy",
                "workport",
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
