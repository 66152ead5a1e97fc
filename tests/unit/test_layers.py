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


LAYERS = (
    "domain",
    "integrity",
    "adapters",
    "privacy",
    "projections",
    "services",
    "cli",
)
"""The packages, lowest first: a module imports only from its own package or
from one below it (the arrows point down, as cosmicpython's do)."""


def import_graph(root: Path) -> dict[str, set[str]]:
    """Each module of the layered packages and the project modules it
    imports anywhere in its file: at the top, inside functions, and under
    ``TYPE_CHECKING`` (a type-only import still couples the layers)."""
    import ast

    modules: dict[str, Path] = {}
    for package in LAYERS:
        for path in (root / package).rglob("*.py"):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                # ``from adapters import requests`` imports adapters.requests.
                names = [f"{node.module}.{alias.name}" for alias in node.names]
                names.append(node.module)
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                while name and name not in modules:
                    name = name.rpartition(".")[0]
                if name and name != module and not module.startswith(f"{name}."):
                    imported.add(name)
        graph[module] = imported
    return graph


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    rank = {package: index for index, package in enumerate(LAYERS)}
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if rank[target.split(".")[0]] > rank[module.split(".")[0]]
    )


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def circular_imports(graph: dict[str, set[str]]) -> list[str]:
    """The imports that close a circle: each one between two modules of the
    same strongly connected component, as ``module -> imported module``."""
    return sorted(
        f"{module} -> {target}"
        for component in import_cycles(graph)
        for module in component
        for target in graph[module]
        if target in component
    )


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    upward = upward_imports(import_graph(ROOT))
    assert not upward, "imports from a layer above:\n" + "\n".join(upward)


def test_no_modules_import_each_other_in_a_circle() -> None:
    circular = circular_imports(import_graph(ROOT))
    assert not circular, "imports in a circle:\n" + "\n".join(circular)


def test_the_layer_checks_see_every_kind_of_import(tmp_path: Path) -> None:
    """The checks on a small tree that breaks both rules, each way."""
    for package in LAYERS:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "domain" / "a.py").write_text("from domain import b\n")
    (tmp_path / "domain" / "b.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from domain.a import x\n"
    )
    (tmp_path / "projections" / "p.py").write_text(
        "def f():\n    from services.s import g\n"
    )
    (tmp_path / "services" / "s.py").write_text("import cli.c\n")
    (tmp_path / "cli" / "c.py").write_text("")
    graph = import_graph(tmp_path)
    assert upward_imports(graph) == [
        "projections.p -> services.s",
        "services.s -> cli.c",
    ]
    assert import_cycles(graph) == [["domain.a", "domain.b"]]
    assert circular_imports(graph) == ["domain.a -> domain.b", "domain.b -> domain.a"]
