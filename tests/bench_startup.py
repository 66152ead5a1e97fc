"""Start-up (issue #11): what a CLI run costs as a whole process.

Every figure is a fresh interpreter started by ``subprocess``, timed from
spawn to exit; the variants run in turns, round after round, so a change in
the machine's load falls on all of them alike, and each figure is the median
of its rounds. The baselines are the same interpreter importing only
libraries:

- ``seekers --help`` against ``python -c "import click"``: the help needs
  nothing but click, so everything above 2.5x is ours;
- ``seekers show ID`` on a prepared SQLite store against ``python -c
  "import ..."`` of exactly the third-party modules a real ``show`` run
  leaves in ``sys.modules`` (derived in this run, listed in the note): the
  libraries cost what they cost, our own imports and the work of the command
  must stay within 25 % of it.

``seekers list`` and a recording command (``contact``, which an active
account takes again and again) are printed for information. Runnable alone:
``python -m tests.bench_startup [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tests.bench_support import (
    BENCH_MASTER_KEY,
    SQLITE,
    Row,
    Section,
    log,
    render,
    verdict,
)

HELP_LIMIT = 2.5
SHOW_LIMIT = 1.25
FULL_ROUNDS = 15
QUICK_ROUNDS = 7
OUR_PACKAGES = frozenset(
    {"adapters", "cli", "domain", "integrity", "privacy", "projections", "services"}
)
"""The product's own top-level packages (``pyproject.toml``)."""


def seekers_command() -> list[str]:
    """The ``seekers`` script of this interpreter's environment, as a user
    runs it; the same entry point through ``-c`` where it is not installed."""
    script = Path(sys.executable).with_name("seekers")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from cli.main import main; main()"]


def _environment(store: Path) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("SEEKERS_")
    }
    environment["SEEKERS_DB"] = f"sqlite:///{store}"
    environment["SEEKERS_ACTOR"] = "bench"
    environment["SEEKERS_MASTER_KEY"] = BENCH_MASTER_KEY
    return environment


def _run(argv: Sequence[str], environment: dict[str, str], folder: Path) -> float:
    """Seconds from spawning ``argv`` to its exit; it must succeed."""
    started = time.perf_counter()
    done = subprocess.run(
        list(argv), cwd=folder, env=environment, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr}")
    return elapsed


_PROBE = """
import atexit, json, os, sys, sysconfig

OURS = set(sys.argv.pop().split(","))
LISTING = sys.argv.pop()
LIBRARIES = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}


def third_party(name, module):
    parts = name.split(".")
    if parts[0] in OURS or any(part.startswith("_") for part in parts):
        return False
    location = getattr(module, "__file__", None) or ""
    return any(os.path.abspath(location).startswith(p) for p in LIBRARIES)


def dump():
    names = [n for n, m in list(sys.modules.items()) if third_party(n, m)]
    with open(LISTING, "w") as out:
        json.dump(sorted(names), out)


atexit.register(dump)
from cli.main import main
main()
"""
"""Runs the CLI's own entry point and, at exit, lists the third-party modules
the run left in ``sys.modules`` (the probe imports nothing else itself)."""


def modules_used(
    argv: Sequence[str], environment: dict[str, str], folder: Path
) -> list[str]:
    """The public third-party modules a real run of ``seekers ARGV`` imports."""
    listing = folder / "modules.json"
    probe_environment = dict(environment)
    root = str(Path(__file__).resolve().parents[1])
    probe_environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [root, environment.get("PYTHONPATH")])
    )
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv, str(listing), ",".join(OUR_PACKAGES)],
        cwd=folder,
        env=probe_environment,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"probe of {' '.join(argv)} failed: {done.stderr}")
    names: list[str] = json.loads(listing.read_text())
    listing.unlink()
    return names


def timings(
    variants: dict[str, Sequence[str]],
    environment: dict[str, str],
    folder: Path,
    rounds: int,
) -> dict[str, list[float]]:
    """Every variant once per round, in turns; one warm-up round first (the
    file cache, the compiled-rules cache, ``__pycache__``)."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for round_number in range(rounds + 1):
        for name, argv in variants.items():
            elapsed = _run(argv, environment, folder)
            if round_number:
                samples[name].append(elapsed)
    return samples


def bench_startup(*, quick: bool = False) -> Section:
    """The start-up figure (``python -m tests.bench --only startup``)."""
    rounds = QUICK_ROUNDS if quick else FULL_ROUNDS
    folder = Path(tempfile.mkdtemp(prefix="seekers-startup-"))
    try:
        return _bench(folder, rounds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _bench(folder: Path, rounds: int) -> Section:
    environment = _environment(folder / "startup.db")
    seekers = seekers_command()
    log("startup: a SQLite store with one account")
    registered = subprocess.run(
        [
            *seekers,
            "--json",
            "register",
            "--name",
            "Mori Aya",
            "--email",
            "aya.mori@example.jp",
            "--birth-date",
            "1990-04-01",
            "--policy",
            "workport",
        ],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    seeker_id = json.loads(registered.stdout)["id"]
    show = ["show", seeker_id]
    libraries = modules_used(show, environment, folder)
    tops = sorted({name.split(".")[0] for name in libraries})
    python = sys.executable
    variants: dict[str, Sequence[str]] = {
        "pass": [python, "-c", "pass"],
        "click": [python, "-c", "import click"],
        "help": [*seekers, "--help"],
        "libraries": [python, "-c", "import " + ", ".join(libraries)],
        "tops": [python, "-c", "import " + ", ".join(tops)],
        "show": [*seekers, *show],
        "list": [*seekers, "list"],
        "contact": [
            *seekers,
            "contact",
            seeker_id,
            "--channel",
            "phone",
            "--outcome",
            "reached",
        ],
    }
    log(f"startup: {len(variants)} programs, {rounds} rounds")
    samples = timings(variants, environment, folder, rounds)
    median = {name: statistics.median(values) for name, values in samples.items()}
    help_ratio = median["help"] / median["click"]
    show_ratio = median["show"] / median["libraries"]

    def ms(name: str) -> str:
        return f"{median[name] * 1000:.0f} ms"

    span = "*"
    section = Section(
        f"10. start-up: whole processes, fresh interpreter each, median of {rounds} "
        "rounds run in turns; SQLite store with one account"
    )
    section.rows += [
        Row(
            "seekers --help vs python -c 'import click'",
            {span: f"{help_ratio:.2f}x ({ms('help')} vs {ms('click')})"},
            f"≤ {HELP_LIMIT}x",
            {span: verdict(help_ratio <= HELP_LIMIT)},
        ),
        Row(
            "seekers show ID vs importing its libraries",
            {span: f"{show_ratio:.2f}x ({ms('show')} vs {ms('libraries')})"},
            f"≤ {SHOW_LIMIT}x",
            {span: verdict(show_ratio <= SHOW_LIMIT)},
        ),
        Row("python -c pass (info)", {span: ms("pass")}),
        Row(
            "show vs importing the top-level packages only (info)",
            {span: f"{median['show'] / median['tops']:.2f}x (vs {ms('tops')})"},
        ),
        Row("seekers list (info)", {span: ms("list")}),
        Row("seekers contact ID, records an event (info)", {span: ms("contact")}),
    ]
    section.notes += [
        f"show's third-party packages: {', '.join(tops)}; its baseline imports "
        f"the {len(libraries)} public modules of them a real show run loads",
        "contact runs as a user's run does: load, check, save, then catch "
        "the projections up",
    ]
    return section


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_startup")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROUNDS} rounds")
    arguments = parser.parse_args(argv)
    print(render([bench_startup(quick=arguments.quick)], [SQLITE]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
