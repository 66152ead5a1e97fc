"""A hostile operator's tools: raw SQL on a store, bypassing the ledger."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters.storage import parse_storage_url
from tests.helpers import ledger_for, run_cli

EVENTS = {"sqlite": "stored_events"}


def raw(
    db_url: str, statement: str, params: Sequence[Any] = ()
) -> list[tuple[Any, ...]]:
    """Run one statement directly on the database (``?`` placeholders)."""
    config = parse_storage_url(db_url)
    if config.kind == "sqlite":
        with sqlite3.connect(str(config.sqlite_path)) as connection:
            rows = connection.execute(statement, params).fetchall()
            connection.commit()
            return rows
    from adapters.postgres import connect

    with connect(config) as connection:
        cursor = connection.execute(statement.replace("?", "%s"), params)
        return cursor.fetchall() if cursor.description else []


def kept_checkpoints(db_url: str) -> int:
    """How many checkpoints the store keeps."""
    return int(raw(db_url, "SELECT count(*) FROM integrity_checkpoints")[0][0])


def events_table(db_url: str) -> str:
    ledger = ledger_for(db_url)
    try:
        return str(ledger.recorder.events_table_name)  # type: ignore[attr-defined]
    finally:
        ledger.close()


def snapshots_table(db_url: str) -> str:
    ledger = ledger_for(db_url)
    try:
        assert ledger.snapshots is not None
        return str(ledger.snapshots.recorder.events_table_name)  # type: ignore[attr-defined]
    finally:
        ledger.close()


def account_param(db_url: str, account: str) -> Any:
    """An account id as the events table stores it (SQLite: hex)."""
    return UUID(account).hex if db_url.startswith("sqlite") else UUID(account)


def nid_column(db_url: str) -> str:
    return "rowid" if db_url.startswith("sqlite") else "notification_id"


def register(db_url: str, name: str, email: str, policy: str = "workport") -> str:
    done = run_cli(
        ["--json", "register", "--name", name, "--email", email,
         "--birth-date", "1990-01-01", "--policy", policy, "--at", "2025-01-10"],
        db_url=db_url,
    )  # fmt: skip
    assert done.code == 0, done.stderr
    return str(done.json()["id"])


def seeded_store(db_url: str) -> dict[str, str]:
    """Three seekers: ``aya`` with 25 events (so a snapshot exists), ``ken``
    with a short history, ``mio`` withdrawn and purged on request."""
    aya = register(db_url, "Aya Mori", "aya@example.jp")
    for day in range(11, 31):
        assert run_cli(
            ["contact", aya, "--channel", "phone", "--outcome", "no_answer",
             "--at", f"2025-01-{day}"], db_url=db_url,
        ).code == 0  # fmt: skip
    assert (
        run_cli(
            ["apply", aya, "--job", "Clerk", "--route", "agency", "--at", "2025-02-01"],
            db_url=db_url,
        ).code
        == 0
    )
    assert (
        run_cli(
            ["pause", aya, "--reason", "family", "--at", "2025-02-02"], db_url=db_url
        ).code
        == 0
    )
    assert run_cli(["resume", aya, "--at", "2025-02-03"], db_url=db_url).code == 0
    ken = register(db_url, "Ken Abe", "ken@example.jp")
    assert (
        run_cli(
            ["apply", ken, "--job", "Driver", "--route", "self", "--at", "2025-01-11"],
            db_url=db_url,
        ).code
        == 0
    )
    assert (
        run_cli(["mark-unreachable", ken, "--at", "2025-01-12"], db_url=db_url).code
        == 0
    )
    assert (
        run_cli(["restore-contact", ken, "--at", "2025-01-13"], db_url=db_url).code == 0
    )
    mio = register(db_url, "Mio Sato", "mio@example.jp")
    assert run_cli(
        ["request-withdrawal", mio, "--channel", "email", "--reason", "job_found",
         "--erase-data", "--at", "2025-01-20"], db_url=db_url,
    ).code == 0  # fmt: skip
    assert run_cli(["withdraw", mio, "--at", "2025-01-21"], db_url=db_url).code == 0
    return {"aya": aya, "ken": ken, "mio": mio}


GOPATH = "/usr/share/gocode"
"""Where Debian's golang-golang-x-mod-dev puts golang.org/x/mod."""


def go_program(name: str, folder: Path) -> Path:
    """``tests/support/NAME`` (one Go file) built into FOLDER, against
    Debian's Go and golang.org/x/mod (``make notetools`` installs them)."""
    import os
    import shutil
    import subprocess

    import pytest

    note = Path(GOPATH) / "src/golang.org/x/mod/sumdb/note"
    if shutil.which("go") is None or not note.is_dir():
        pytest.fail("Go or its note package is missing: run `make notetools`")
    built = folder / name
    source = Path(__file__).resolve().parents[1] / "support" / name
    env = {
        **os.environ,
        "GOPATH": GOPATH,
        "GO111MODULE": "off",
        "GOCACHE": str(folder / "gocache"),
    }
    subprocess.run(
        ["go", "build", "-o", str(built), "."], cwd=source, env=env, check=True
    )
    return built
