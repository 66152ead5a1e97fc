"""The installed ``seekers`` console script, run as a separate process with
its settings in the environment (``SEEKERS_DB``, ``SEEKERS_ACTOR``)."""

from __future__ import annotations

import getpass
import json
import subprocess
import time
from pathlib import Path

from tests.cli.steps import BIRTH_DATE, EMAIL, NAME, register_args
from tests.helpers import seekers_env, seekers_script


def _seekers(
    *args: str,
    cwd: Path,
    db_url: str | None,
    actor: str | None = "operator:kato",
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    env = seekers_env()
    if db_url is not None:
        env["SEEKERS_DB"] = db_url
    if actor is not None:
        env["SEEKERS_ACTOR"] = actor
    return subprocess.run(
        [seekers_script(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _register(
    policy: str,
    *,
    cwd: Path,
    db_url: str | None,
    actor: str | None = "operator:kato",
) -> str:
    """``seekers --json register`` (on 2025-01-15); it must exit 0. The new
    account's id."""
    registered = _seekers(
        "--json",
        *register_args(policy, at="2025-01-15"),
        cwd=cwd,
        db_url=db_url,
        actor=actor,
    )
    assert registered.returncode == 0, registered.stderr
    seeker_id: str = json.loads(registered.stdout)["id"]
    return seeker_id


def test_register_then_show_round_trip_through_the_environment(
    db_url: str, tmp_path: Path
) -> None:
    seeker_id = _register("workport", cwd=tmp_path, db_url=db_url)

    shown = _seekers("--json", "show", seeker_id, cwd=tmp_path, db_url=db_url)
    assert shown.returncode == 0, shown.stderr
    account = json.loads(shown.stdout)
    assert (account["id"], account["status"], account["version"]) == (
        seeker_id,
        "active",
        1,
    )
    assert (account["name"], account["email"], account["birth_date"]) == (
        NAME,
        EMAIL,
        BIRTH_DATE,
    )

    trail = _seekers("--json", "history", seeker_id, cwd=tmp_path, db_url=db_url)
    assert trail.returncode == 0, trail.stderr
    [event] = json.loads(trail.stdout)["events"]
    assert event["actor"] == "operator:kato"

    text = _seekers("show", seeker_id, cwd=tmp_path, db_url=db_url)
    assert text.returncode == 0, text.stderr
    assert seeker_id in text.stdout


def test_help_exits_0_quickly(db_url: str, tmp_path: Path) -> None:
    started = time.monotonic()
    result = _seekers("--help", cwd=tmp_path, db_url=db_url)
    assert result.returncode == 0
    assert time.monotonic() - started < 10
    assert "register" in result.stdout
    assert result.stderr == ""
    assert not (tmp_path / "seekers.db").exists()


def test_a_refusal_exits_4_with_one_line_on_stderr(db_url: str, tmp_path: Path) -> None:
    seeker_id = _register("hellowork", cwd=tmp_path, db_url=db_url)

    refused = _seekers(
        "pause", seeker_id, "--at", "2025-01-16", cwd=tmp_path, db_url=db_url
    )

    assert refused.returncode == 4
    assert refused.stdout == ""
    assert "Traceback" not in refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("refused: ")
    assert "hellowork" in line

    as_json = _seekers(
        "--json", "pause", seeker_id, "--at", "2025-01-16", cwd=tmp_path, db_url=db_url
    )
    assert as_json.returncode == 4
    [line] = as_json.stderr.strip().splitlines()
    error = json.loads(line)["error"]
    assert (error["code"], error["state"]) == (4, "active")
    assert "pause" not in error["allowed"]


def test_without_settings_the_store_is_seekers_db_in_the_current_folder(
    tmp_path: Path,
) -> None:
    """SPEC §5 defaults (SQLite only by nature): ``sqlite:///seekers.db`` in
    the current folder, and the operating-system user as the actor."""
    seeker_id = _register("workport", cwd=tmp_path, db_url=None, actor=None)
    assert (tmp_path / "seekers.db").is_file()

    trail = _seekers(
        "--json", "history", seeker_id, cwd=tmp_path, db_url=None, actor=None
    )
    assert trail.returncode == 0, trail.stderr
    assert json.loads(trail.stdout)["events"][0]["actor"] == getpass.getuser()
