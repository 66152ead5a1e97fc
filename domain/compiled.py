"""The lifecycle machines read into plain data, and that data cached.

``domain.lifecycle`` declares the machines with python-statemachine, whose
import alone (it loads ``asyncio``) costs a CLI run more than everything the
run does. What ``domain.rules`` needs of a machine is small and plain (its
states, its initial and final ones, and every move), so it is read off the
classes once and kept as JSON beside the package, the way Python keeps
bytecode: ``domain/__pycache__/lifecycle-rules.json``, under a key hashing
the files it was read from (``lifecycle.py``, this reader, and
python-statemachine's version). A run whose key matches loads the JSON and
never imports python-statemachine; any edit to the machines changes the key,
so the next run reads the classes again and rewrites the file. Where the
file cannot be written (a read-only install) every run reads the classes.

The classes stay the only source: nothing here is typed by hand, and the
checks of ``domain.rules`` (guard names, one target per command) run on the
data every time, cached or not. When ``domain.lifecycle`` is already
imported (diagrams, tests, a machine replaced before the rules are built),
the loaded classes are read and the cache is left alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from contextlib import suppress
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from statemachine import StateMachine

MACHINES = ("AccountLifecycle", "ApplicationLifecycle")
"""The classes of ``domain.lifecycle`` the rules are compiled from."""
HERE = Path(__file__).resolve().parent
CACHE_NAME = "lifecycle-rules.json"
FORMAT = 1


def command_name(event_id: str) -> str:
    """``request_withdrawal`` → ``request-withdrawal``, as the CLI spells it."""
    return event_id.replace("_", "-")


@dataclass(frozen=True)
class Move:
    """What one command does from one state: where it goes, which guards apply."""

    command: str
    source: str
    target: str
    guards: tuple[str, ...]
    changes_state: bool


@dataclass(frozen=True)
class Machine:
    """A state machine class as data: everything ``domain.rules`` reads of it."""

    name: str
    states: tuple[str, ...]
    initial: str
    final: tuple[str, ...]
    moves: tuple[Move, ...]
    """Every (state, command) move, in declaration order."""

    @classmethod
    def of(cls, machine: type[StateMachine]) -> Machine:
        """Read a class through python-statemachine's public ``states_map``
        and ``transitions``."""
        moves = [
            Move(
                command=command_name(str(event)),
                source=str(state.value),
                target=str(transition.target.value),
                guards=tuple(str(spec.func) for spec in transition.cond),
                changes_state=not transition.internal,
            )
            for state in machine.states_map.values()
            for transition in state.transitions
            for event in transition.events
        ]
        return cls(
            name=machine.__name__,
            states=tuple(str(value) for value in machine.states_map),
            initial=str(machine.initial_state.value),
            final=tuple(str(state.value) for state in machine.final_states),
            moves=tuple(moves),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "states": list(self.states),
            "initial": self.initial,
            "final": list(self.final),
            "moves": [
                [m.command, m.source, m.target, list(m.guards), m.changes_state]
                for m in self.moves
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Machine:
        return cls(
            name=str(data["name"]),
            states=tuple(data["states"]),
            initial=str(data["initial"]),
            final=tuple(data["final"]),
            moves=tuple(
                Move(str(command), str(source), str(target), tuple(guards), bool(moves))
                for command, source, target, guards, moves in data["moves"]
            ),
        )


def read_classes(lifecycle: ModuleType) -> dict[str, Machine]:
    """The machines of a loaded ``domain.lifecycle`` module, read now."""
    return {name: Machine.of(getattr(lifecycle, name)) for name in MACHINES}


def source_key(folder: Path = HERE) -> str:
    """What the cached data was read from: the machines' module, this reader
    and python-statemachine's version (its ``__init__`` names it)."""
    digest = hashlib.sha256(f"format {FORMAT}\n".encode())
    digest.update((folder / "lifecycle.py").read_bytes())
    digest.update(Path(__file__).read_bytes())
    library = find_spec("statemachine")
    if library is not None and library.origin:
        digest.update(Path(library.origin).read_bytes())
    return digest.hexdigest()


def cache_path(folder: Path = HERE) -> Path:
    return folder / "__pycache__" / CACHE_NAME


def read_cache(path: Path, key: str) -> dict[str, Machine] | None:
    """The cached machines, if the file is there, whole and of ``key``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("key") != key:
            return None
        return {name: Machine.from_json(data["machines"][name]) for name in MACHINES}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_cache(path: Path, key: str, machines: dict[str, Machine]) -> bool:
    """Write the cache whole or not at all (a reader never sees half a file,
    two processes writing it at once both write the same); ``False`` where
    it cannot be written."""
    data = {
        "key": key,
        "machines": {name: machine.to_json() for name, machine in machines.items()},
    }
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(exist_ok=True)
        temporary.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        with suppress(OSError):
            temporary.unlink(missing_ok=True)
        return False
    return True


def declared_machines() -> dict[str, Machine]:
    """The lifecycle machines as data: from the classes already loaded, else
    from a cache of the current sources, else read from the classes (and
    cached for the next run)."""
    loaded = sys.modules.get("domain.lifecycle")
    if loaded is not None:
        return read_classes(loaded)
    try:
        key: str | None = source_key()
    except OSError:  # sources not installed: nothing to key a cache on
        key = None
    if key is not None:
        cached = read_cache(cache_path(), key)
        if cached is not None:
            return cached
    from domain import lifecycle

    machines = read_classes(lifecycle)
    if key is not None:
        write_cache(cache_path(), key, machines)
    return machines
