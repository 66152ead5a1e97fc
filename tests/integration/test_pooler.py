"""Every command through PgBouncer in transaction pooling mode (Debian's
package, its stock settings plus ``pool_mode = transaction``), started by the
fixture (tests/support/pgbouncer.py), under CI too.

Behind such a pooler consecutive transactions of one client may run on
different server connections: no startup options, no protocol-level prepared
statements, no session state (adapters/postgres_store.py).
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli, seekers_env, seekers_script
from tests.integration.support import clean_rebuild, dump

pytestmark = pytest.mark.postgres


def _ok(args: list[str], url: str, **kwargs: Any) -> Any:
    done = run_cli(args, db_url=url, **kwargs)
    assert done.code == 0, f"{args}: {done.stderr}"
    assert "Traceback" not in done.stderr
    return done


def _register(url: str, email: str, policy: str = "workport") -> str:
    done = _ok(
        ["--json", "register", "--policy", policy, "--name", "Aya Mori",
         "--email", email, "--birth-date", "1990-01-01", "--at", "2025-01-10"],
        url,
    )  # fmt: skip
    seeker: str = done.json()["id"]
    return seeker


def test_a_seekers_whole_life_through_the_pooler(
    pooled_url: str, tmp_path: Path
) -> None:
    url = pooled_url
    seeker = _register(url, "a@example.jp")
    other = _register(url, "b@example.jp")
    for args in (
        ["contact", seeker, "--channel", "phone", "--outcome", "reached"],
        ["apply", seeker, "--job", "Clerk", "--route", "self"],
        ["pause", other],
        ["resume", other],
        ["request-withdrawal", seeker, "--reason", "job_found", "--channel", "phone"],
        ["withdraw", seeker],
        ["sweep", "--dry-run"],
        ["audit", "checkpoint"],
        ["projections", "catch-up"],
        ["projections", "rebuild"],
    ):
        _ok(args, url)
    shown = _ok(["--json", "show", seeker], url).json()
    assert shown["status"] == "withdrawn"
    for args in (
        ["list", "--all"],
        ["report", "status"],
        ["report", "withdrawals"],
        ["history", seeker],
        ["find", "--email", "b@example.jp"],
        ["export-data", other],
        ["projections", "status"],
        ["audit", "verify"],
        ["audit", "replay"],
        ["audit", "export", "--output", str(tmp_path / "export")],
        ["audit", "prove", other, "--output", str(tmp_path / "proof.json")],
    ):
        _ok(args, url)
    assert dump(url) == clean_rebuild(url)


def test_import_and_simulate_through_the_pooler(
    pooled_url: str, tmp_path: Path
) -> None:
    lines = tmp_path / "seekers.csv"
    lines.write_text(
        "ref,policy,name,email,birth_date,phone,channel,advisor,occurred_at,actor\n"
        "C-1,hellowork,Abe Aoi,aoi.abe@example.jp,1991-03-03,,web,,2024-01-05,\n"
        "C-2,workport,Mori Riku,riku.mori@example.jp,1985-06-30,090-1111-2222,"
        "app,Kato,2024-02-01T10:30:00+09:00,legacy\n"
    )
    _ok(["import", str(lines)], pooled_url)
    _ok(["simulate", "--seekers", "40", "--seed", "7"], pooled_url)
    listed = _ok(["--json", "list", "--all"], pooled_url).json()
    assert len(listed["accounts"]) == 42
    assert dump(pooled_url) == clean_rebuild(pooled_url)


def test_many_operators_at_once_through_the_pooler(pooled_url: str) -> None:
    """Sixteen processes at once, more than the pooler's per-client sessions
    would make trivial: every command recorded once, projections whole."""
    seekers = [_register(pooled_url, f"s{n}@example.jp") for n in range(16)]
    processes = [
        subprocess.Popen(
            [
                seekers_script(),
                "--db",
                pooled_url,
                "--json",
                "contact",
                seeker,
                "--channel",
                "phone",
                "--outcome",
                "reached",
            ],
            env=seekers_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seeker in seekers
    ]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        assert json.loads(out)
    listed = _ok(["--json", "report", "status"], pooled_url)
    assert listed.stdout
    assert dump(pooled_url) == clean_rebuild(pooled_url)


def test_projections_run_behind_the_pooler_polls_and_says_why(
    pooled_url: str,
) -> None:
    seeker = _register(pooled_url, "a@example.jp")
    runner = subprocess.Popen(
        [seekers_script(), "--db", pooled_url, "projections", "run", "--poll", "0.1"],
        env=seekers_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    lines: list[str] = []
    following = threading.Event()

    def read_stderr() -> None:
        assert runner.stderr is not None
        for line in runner.stderr:
            lines.append(line)
            if "following the log" in line:
                following.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        # Once it follows the log (its SIGTERM handler is in by then), not
        # after a fixed pause: a busy machine may take longer to start it.
        deadline = time.monotonic() + 60
        while not following.wait(0.05):
            assert runner.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
        _ok(["pause", seeker], pooled_url)
        time.sleep(0.5)
    finally:
        runner.terminate()
        runner.wait(timeout=30)
        reader.join(timeout=10)
    err = "".join(lines)
    assert runner.returncode == 0, err
    assert "polling: LISTEN needs a session" in err
    status = _ok(["--json", "projections", "status"], pooled_url).json()
    assert all(each["lag"] == 0 for each in status["projections"])


def test_the_pooler_is_what_failed_before(pooled_url: str) -> None:
    """The fixture really is a transaction pooler that refuses what the
    product used to send: a startup option, and a prepared statement that
    outlives its transaction."""
    import psycopg

    with pytest.raises(psycopg.OperationalError, match="unsupported startup"):
        psycopg.connect(pooled_url, options="-c lock_timeout=10s", connect_timeout=5)
