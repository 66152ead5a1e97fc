"""Shared test helpers: the application on a test store, the CLI as a user runs it
(in-process, or the installed ``seekers`` script as a separate process)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from click.testing import CliRunner

from adapters.storage import parse_storage_url
from cli.main import main
from domain.policy import PRESETS
from privacy.opening import vault_opener
from services.ledger import SeekerLedger


def ledger_for(db_url: str) -> SeekerLedger:
    """The application service on the store behind ``db_url``, with its vault
    opened as the CLI opens it (same master key, same key table)."""
    config = parse_storage_url(db_url)
    opener = vault_opener(sqlite_path=config.sqlite_path, notice=lambda _: None)
    return SeekerLedger(env=config.environment, vault=opener)


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def error(self) -> Any:
        """The ``{"error": {...}}`` document a ``--json`` failure writes to stderr."""
        return json.loads(self.stderr)


def run_cli(
    args: Sequence[str],
    *,
    db_url: str | None = None,
    actor: str = "tester",
    env: dict[str, str | None] | None = None,
) -> CliResult:
    """Run ``seekers`` in-process through its real entry point (``cli.main.main``),
    so exit codes and one-line errors are exactly what a user gets."""
    argv: list[str] = []
    if db_url is not None:
        argv += ["--db", db_url]
    argv += ["--actor", actor, *args]
    runner = CliRunner()
    with runner.isolation(env=env) as (out, err, _):
        try:
            main(argv)
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
        else:  # pragma: no cover - main always exits
            code = 0
        stdout = out.getvalue().decode()
        stderr = err.getvalue().decode()
    return CliResult(code=code, stdout=stdout, stderr=stderr)


def event_count(db_url: str) -> int:
    """How many events the store holds (to prove a refusal wrote nothing)."""
    ledger = ledger_for(db_url)
    try:
        return ledger.recorder.max_notification_id() or 0
    finally:
        ledger.close()


def seekers_script() -> str:
    """The installed ``seekers`` console script (beside this Python, else on
    PATH), to run as a separate process."""
    beside_python = Path(sys.executable).parent / "seekers"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("seekers")
    if found is None:
        pytest.fail("the `seekers` console script is not installed")
    return found


def seekers_env() -> dict[str, str]:
    """This process's environment for a ``seekers`` subprocess, less the
    settings a test passes itself (``SEEKERS_DB``, ``SEEKERS_ACTOR``); the
    test master key (``SEEKERS_MASTER_KEY``) is kept."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in ("SEEKERS_DB", "SEEKERS_ACTOR")
    }


def register_directly(
    ledger: SeekerLedger, email: str, *, policy: str = "workport"
) -> UUID:
    """Register an account through the application service alone (no CLI,
    and no projections unless the test attached them to ``ledger``)."""
    outcome = ledger.register(
        policy=PRESETS[policy], name="Aya Mori", email=email,
        birth_date=date(1990, 1, 1), phone=None, channel=None, advisor=None,
        actor="t", at="2025-01-10",
    )  # fmt: skip
    seeker_id: UUID = outcome.result
    return seeker_id


def modules_loaded_by(
    argv: Sequence[str], *, cwd: Path, env: dict[str, str]
) -> tuple[set[str], str]:
    """Run ``seekers ARGV`` through ``cli.main.main`` in a fresh interpreter
    (this test process has long since imported everything): the top-level
    packages the run left loaded, and its stdout. The run must succeed."""
    probe = (
        "import json, sys\n"
        "from cli.main import main\n"
        "try:\n"
        f"    main({list(argv)!r})\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stderr
    *output, modules = run.stdout.splitlines()
    return set(json.loads(modules)), "\n".join(output)
