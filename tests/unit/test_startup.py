"""Start-up: a command imports only what it uses, and the compiled lifecycle
is cached without becoming a second source.

The import checks run the real entry point in a fresh interpreter (this
test process has long since imported everything) on a SQLite store. The
cache checks read ``domain.compiled`` directly, and run a copy of the
``domain`` package in a subprocess to see the cache written, used, and
thrown away when the machine changes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from domain import compiled, lifecycle
from domain.compiled import Machine, cache_path, read_cache, source_key, write_cache
from domain.rules import ACCOUNT, APPLICATION, LifecycleDefinitionError, Rules
from tests.helpers import modules_loaded_by

ROOT = Path(__file__).resolve().parents[2]
NEVER_ON_SQLITE = {"statemachine", "psycopg", "jinja2", "matplotlib", "asyncio"}


def _environment(**extra: str) -> dict[str, str]:
    return {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", **extra}


def _run_cli(folder: Path, *argv: str) -> tuple[set[str], str]:
    """Run ``seekers ARGV`` on ``folder/t.db``; the top-level packages it
    left loaded, and its stdout."""
    environment = _environment(SEEKERS_DB="sqlite:///t.db", SEEKERS_ACTOR="test")
    return modules_loaded_by(argv, cwd=folder, env=environment)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A SQLite store with one active account (and its key file)."""
    folder = tmp_path_factory.mktemp("startup")
    _, output = _run_cli(
        folder,
        "--json",
        "register",
        "--name",
        "Mori Aya",
        "--email",
        "aya@example.jp",
        "--birth-date",
        "1990-04-01",
        "--policy",
        "workport",
    )
    return folder, json.loads(output)["id"]


def test_show_loads_neither_statemachine_nor_any_other_unused_library(
    store: tuple[Path, str],
) -> None:
    folder, seeker = store
    loaded, output = _run_cli(folder, "show", seeker)
    assert "Mori Aya" in output  # the personal data was opened: cryptography
    assert NEVER_ON_SQLITE.isdisjoint(loaded), NEVER_ON_SQLITE & loaded


def test_a_recording_command_loads_no_unused_library(
    store: tuple[Path, str],
) -> None:
    folder, seeker = store
    argv = ("contact", seeker, "--channel", "phone", "--outcome", "reached")
    loaded, _ = _run_cli(folder, *argv)
    assert NEVER_ON_SQLITE.isdisjoint(loaded), NEVER_ON_SQLITE & loaded


@pytest.mark.parametrize(
    "argv",
    [("list",), ("report", "status"), ("report", "withdrawals")],
    ids=["list", "report status", "report withdrawals"],
)
def test_lists_and_reports_load_no_cryptography(
    store: tuple[Path, str], argv: tuple[str, ...]
) -> None:
    folder, _ = store
    loaded, _ = _run_cli(folder, *argv)
    assert "cryptography" not in loaded
    assert NEVER_ON_SQLITE.isdisjoint(loaded), NEVER_ON_SQLITE & loaded


def test_a_diagram_loads_no_page_templates(store: tuple[Path, str]) -> None:
    folder, _ = store
    loaded, _ = _run_cli(
        folder, "policies", "--diagram", "mermaid", "--output", "rulebook.mmd"
    )
    assert (folder / "rulebook.mmd").read_text().startswith("stateDiagram")
    assert {"jinja2", "matplotlib"}.isdisjoint(loaded), loaded


# -- the compiled-rules cache ------------------------------------------------------


def test_the_cache_holds_exactly_what_reading_the_classes_gives(tmp_path: Path) -> None:
    fresh = compiled.read_classes(lifecycle)
    path = tmp_path / "__pycache__" / "rules.json"
    assert write_cache(path, "k", fresh)
    cached = read_cache(path, "k")
    assert cached == fresh
    assert cached["AccountLifecycle"] == Machine.of(lifecycle.AccountLifecycle)
    # and the rules built from it are the rules built from the class
    for rules, name in (
        (ACCOUNT, "AccountLifecycle"),
        (APPLICATION, "ApplicationLifecycle"),
    ):
        from_class = Rules(getattr(lifecycle, name), rules.subject)
        from_cache = Rules(cached[name], rules.subject)
        for built in (from_class, from_cache):
            assert built.states == rules.states
            assert built.initial == rules.initial and built.final == rules.final
            assert built.commands == rules.commands
            assert [built.allowed(s) for s in built.states] == [
                rules.allowed(s) for s in rules.states
            ]
            assert {
                (s, c): built.move(s, c) for s in built.states for c in built.allowed(s)
            } == {
                (s, c): rules.move(s, c) for s in rules.states for c in rules.allowed(s)
            }


def test_the_package_cache_is_current_and_equals_a_fresh_read() -> None:
    """The file a real run writes beside the package (rewritten here if a
    read-only tree kept it from being written)."""
    key = source_key()
    cached = read_cache(cache_path(), key)
    if cached is None:  # not written yet in this tree
        write_cache(cache_path(), key, compiled.read_classes(lifecycle))
        cached = read_cache(cache_path(), key)
    if cached is None:
        pytest.skip("the package folder is read-only here")
    assert cached == compiled.read_classes(lifecycle)


def test_a_stale_or_damaged_cache_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    assert write_cache(path, "old", compiled.read_classes(lifecycle))
    assert read_cache(path, "new") is None
    path.write_text('{"key": "old", "machines": {')
    assert read_cache(path, "old") is None
    assert read_cache(tmp_path / "missing.json", "old") is None


def test_any_change_to_the_machines_changes_the_key(tmp_path: Path) -> None:
    copy = tmp_path / "domain"
    shutil.copytree(ROOT / "domain", copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = source_key(copy)
    assert before == source_key(ROOT / "domain")
    machines = copy / "lifecycle.py"
    machines.write_text(
        machines.read_text().replace("lapsed = State()", "lapsed = State() ")
    )
    assert source_key(copy) != before


def test_a_cache_that_cannot_be_written_costs_only_time(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    assert not write_cache(tmp_path / "a-file" / "rules.json", "k", {})


PROBE = """
import json, sys
from domain.rules import ACCOUNT
print(json.dumps({
    "statemachine": "statemachine" in sys.modules,
    "states": list(ACCOUNT.states),
    "pause": ACCOUNT.target("pause"),
}))
"""


def _probe(package: Path) -> dict[str, object]:
    run = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=package,
        capture_output=True,
        text=True,
        env={
            "PYTHONPATH": str(package),
            "PATH": "/usr/bin:/bin",
            "PYTHONDONTWRITEBYTECODE": "1",
        },
    )
    if run.returncode != 0:
        raise AssertionError(run.stderr)
    found: dict[str, object] = json.loads(run.stdout)
    return found


@pytest.fixture()
def package(tmp_path: Path) -> Path:
    """A copy of the ``domain`` package with no cache yet."""
    shutil.copytree(
        ROOT / "domain",
        tmp_path / "domain",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return tmp_path


def test_the_first_run_reads_the_classes_and_later_runs_the_cache(
    package: Path,
) -> None:
    first = _probe(package)
    assert first["statemachine"] is True
    assert (package / "domain" / "__pycache__" / compiled.CACHE_NAME).exists()
    second = _probe(package)
    assert second["statemachine"] is False
    assert second["states"] == first["states"] == list(ACCOUNT.states)


def test_editing_the_machine_invalidates_the_cache(package: Path) -> None:
    _probe(package)
    machines = package / "domain" / "lifecycle.py"
    source = machines.read_text()
    edited = source.replace(
        "    paused = State()\n",
        "    paused = State()\n    on_hold = State()\n",
    ).replace(
        'pause = active.to(paused, cond="policy_offers_pausing")',
        'pause = active.to(on_hold, cond="policy_offers_pausing")\n'
        "    hold_over = on_hold.to(paused)",
    )
    assert edited != source
    machines.write_text(edited)
    after = _probe(package)
    assert after["statemachine"] is True  # read again, not the stale cache
    assert "on_hold" in after["states"] and after["pause"] == "on_hold"
    again = _probe(package)
    assert again["statemachine"] is False
    assert again["states"] == after["states"]


def test_the_checks_run_on_cached_rules_too(package: Path) -> None:
    """A guard the machine names disappearing from ``domain.guards`` is an
    error at import even when the machine itself is cached."""
    _probe(package)
    assert _probe(package)["statemachine"] is False
    guards = package / "domain" / "guards.py"
    source = guards.read_text()
    assert "def policy_offers_pausing(" in source
    guards.write_text(source.replace("policy_offers_pausing", "policy_offers_pauses"))
    with pytest.raises(AssertionError, match="LifecycleDefinitionError"):
        _probe(package)


def test_a_read_only_package_compiles_every_time(package: Path) -> None:
    (package / "domain" / "__pycache__").write_text("not a folder")
    for _ in range(2):
        found = _probe(package)
        assert found["statemachine"] is True
        assert found["states"] == list(ACCOUNT.states)


def test_lifecycle_definition_errors_still_come_from_compiling() -> None:
    broken = Machine(
        name="Broken",
        states=("a", "b"),
        initial="a",
        final=("b",),
        moves=(compiled.Move("go", "a", "b", ("no_such_guard",), True),),
    )
    with pytest.raises(LifecycleDefinitionError, match="no_such_guard"):
        Rules(broken, "broken")


def test_the_machine_class_is_still_there_for_diagrams() -> None:
    assert ACCOUNT.machine is lifecycle.AccountLifecycle
    assert APPLICATION.machine is lifecycle.ApplicationLifecycle
    assert os.path.basename(compiled.cache_path().parent) == "__pycache__"
