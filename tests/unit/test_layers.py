"""The folders are layers: the model imports no infrastructure, and the CLI
pays at start-up only for what the command it runs uses.

Each check runs in a fresh interpreter, because this test process has long
since imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from cli.main import COMMANDS, cli

ROOT = Path(__file__).resolve().parents[2]


def _modules_after(code: str, tmp_path: Path | None = None) -> set[str]:
    """The top-level packages loaded once ``code`` has run."""
    probe = (
        f"{code}\n"
        "import json, sys\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path or ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr
    return set(json.loads(run.stdout.splitlines()[-1]))


def test_the_domain_imports_no_storage_crypto_or_cli() -> None:
    loaded = _modules_after(
        "import domain, domain.seeker, domain.replay, domain.history, "
        "domain.deadlines, domain.effects, domain.guards, domain.policy"
    )
    assert {"psycopg", "cryptography", "click", "sqlite3"}.isdisjoint(loaded)
    assert "eventsourcing" in loaded  # the aggregate base class, and only that


def test_importing_the_cli_loads_no_database_driver() -> None:
    loaded = _modules_after("import cli.main")
    assert "psycopg" not in loaded
    assert "cryptography" not in loaded
    assert "statemachine" not in loaded


def test_help_loads_no_command_module() -> None:
    loaded = _modules_after(
        "from cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
    )
    assert {"psycopg", "cryptography", "statemachine", "eventsourcing"}.isdisjoint(
        loaded
    )


def test_a_sqlite_command_never_imports_psycopg(tmp_path: Path) -> None:
    loaded = _modules_after(
        "from cli.main import main\n"
        "try:\n"
        "    main(['--db', 'sqlite:///t.db', 'register', '--name', 'Aya Mori',"
        " '--email', 'aya@example.jp', '--birth-date', '1990-01-01',"
        " '--policy', 'workport'])\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n",
        tmp_path,
    )
    assert "psycopg" not in loaded
    assert (tmp_path / "t.db").exists()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_help_table_matches_each_commands_own_help(name: str) -> None:
    """``seekers --help`` prints the table without importing the commands;
    the table must say what the command itself says."""
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    assert command.name == name
    assert COMMANDS[name][1] == command.get_short_help_str(limit=200)
