"""Validate first, open second: a command refused for its input creates
nothing, and a duration option is bounded when it is parsed.

A rejected ``register`` on a path with no store used to leave an empty
database file (and on PostgreSQL, a whole schema) behind; ``projections run
--poll inf`` ended in a traceback and ``--poll nan`` spun.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cli.demo import announce
from tests.helpers import run_cli, seekers_env
from tests.integrity.support import raw

REGISTRATION = ["register", "--name", "Aya Mori", "--policy", "workport"]
BAD_REGISTRATIONS = {
    "email": ["--email", "bad", "--birth-date", "1990-01-01"],
    "birth date in the future": [
        "--email", "a@example.jp", "--birth-date", "2990-01-01",
    ],
    "birth date not a date": [
        "--email", "a@example.jp", "--birth-date", "1990-02-30",
    ],
    "--at in the future": [
        "--email", "a@example.jp", "--birth-date", "1990-01-01", "--at", "2999-01-01",
    ],
    "--at not a time": [
        "--email", "a@example.jp", "--birth-date", "1990-01-01", "--at", "soon",
    ],
    "phone": [
        "--email", "a@example.jp", "--birth-date", "1990-01-01", "--phone", "call me",
    ],
}  # fmt: skip


def _tables(db_url: str) -> int:
    """Tables in the store (0 for a fresh PostgreSQL database)."""
    return int(
        raw(
            db_url,
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'public'",
        )[0][0]
    )


@pytest.mark.parametrize("why", sorted(BAD_REGISTRATIONS))
def test_a_rejected_registration_creates_no_store(
    db_url: str, tmp_path: Path, why: str
) -> None:
    result = run_cli([*REGISTRATION, *BAD_REGISTRATIONS[why]], db_url=db_url)
    assert result.code == 2, (result.stdout, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    if db_url.startswith("sqlite"):
        assert list(tmp_path.iterdir()) == []  # no database, no key file
    else:
        assert _tables(db_url) == 0


def test_an_import_with_nothing_to_write_creates_no_store(tmp_path: Path) -> None:
    records = tmp_path / "old.csv"
    records.write_text(
        "ref,policy,name,email,birth_date,phone,channel,advisor,occurred_at,actor\n"
        "r1,workport,Aya Mori,not-an-email,1990-01-01,,,,2025-01-10,clerk\n"
    )
    db = tmp_path / "new.db"
    result = run_cli(["import", str(records)], db_url=f"sqlite:///{db}")
    assert result.code == 1
    assert "line 2: not an email address" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["old.csv"]


def test_an_import_with_something_to_write_creates_the_store(tmp_path: Path) -> None:
    records = tmp_path / "old.csv"
    records.write_text(
        "ref,policy,name,email,birth_date,phone,channel,advisor,occurred_at,actor\n"
        "r1,workport,Aya Mori,not-an-email,1990-01-01,,,,2025-01-10,clerk\n"
        "r2,workport,Ken Abe,ken@example.jp,1990-01-01,,,,2025-01-10,clerk\n"
    )
    db = tmp_path / "new.db"
    result = run_cli(["--json", "import", str(records)], db_url=f"sqlite:///{db}")
    assert result.code == 1
    assert result.json()["events"] == 1
    assert db.exists()


@pytest.mark.parametrize("poll", ["inf", "1e400", "-1", "-inf", "nan", "0", "x"])
def test_an_out_of_range_poll_interval_is_one_line_exit_2(
    tmp_path: Path, poll: str
) -> None:
    result = run_cli(
        ["projections", "run", "--poll", poll],
        db_url=f"sqlite:///{tmp_path / 'seekers.db'}",
    )
    assert result.code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "--poll" in line and "from 0.05 to 3600" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("key_source", ["key file", "SEEKERS_MASTER_KEY"])
def test_the_demo_makes_every_file_it_announces(
    tmp_path: Path, key_source: str
) -> None:
    db = tmp_path / "demo" / "seekers.db"
    env = seekers_env()
    if key_source == "key file":  # as `make demo` runs on a fresh machine
        del env["SEEKERS_MASTER_KEY"]
    run = subprocess.run(
        [sys.executable, "-m", "cli.demo", str(db)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env=env,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    listed = run.stdout.split("\nWritten:\n", 1)[1].split("\n\n", 1)[0]
    announced = [Path(line.strip()) for line in listed.splitlines()]
    assert db in announced
    assert {path.suffix for path in announced} >= {".svg", ".mmd", ".html", ".db"}
    for path in announced:
        assert path.is_file() and path.stat().st_size > 0, path


def test_the_demo_fails_when_a_file_it_announces_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = tmp_path / "made.txt"
    made.write_text("x")
    empty = tmp_path / "empty.svg"
    empty.touch()
    with pytest.raises(SystemExit) as stopped:
        announce([made, empty, tmp_path / "missing.svg"])
    assert stopped.value.code == 1
    err = capsys.readouterr().err
    assert "empty.svg was not written" in err and "missing.svg" in err
