"""Support for ``tests/bench.py``: stores, timers, baselines and the report table.

Nothing here is product code. The baselines are deliberately plain: the
python-statemachine instance a naive rules check would build, a bare library
aggregate saved through a plain ``eventsourcing`` application, and the
library's own read-and-decode loop over the notification log.
"""

from __future__ import annotations

import base64
import gc
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import JSONTranscoder
from eventsourcing.postgres import PostgresDatastore
from statemachine import State, StateMachine

from adapters import transcodings
from adapters.storage import parse_storage_url
from domain.guards import account_refusal, known_guards
from domain.lifecycle import AccountLifecycle
from services.ledger import SeekerLedger
from tests.support.postgres_server import PostgresUnavailable, ThrowawayPostgres

SQLITE = "sqlite"
POSTGRES = "postgresql"
STORE_LABELS = {SQLITE: "SQLite", POSTGRES: "PostgreSQL"}


def log(message: str) -> None:
    """Progress goes to stderr, so stdout holds only the report."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- stores ------------------------------------------------------------------


class Stores:
    """Fresh databases on demand: SQLite files in a temporary folder, and
    databases on one throwaway PostgreSQL server started on first use."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="seekers-bench-")
        self._server: ThrowawayPostgres | None = None
        self._postgres_error: str | None = None
        self._databases: list[str] = []

    def url(self, store: str, name: str) -> str:
        """The URL of a new, empty database called ``name`` on ``store``."""
        if store == SQLITE:
            path = os.path.join(self.folder, f"{name}.db")
            if os.path.exists(path):
                raise ValueError(f"database {name} exists already")
            return f"sqlite:///{path}"
        server = self.postgres()
        database = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        url = server.create_database(database)
        self._databases.append(database)
        return url

    def postgres(self) -> ThrowawayPostgres:
        if self._postgres_error is not None:
            raise PostgresUnavailable(self._postgres_error)
        if self._server is None:
            log("starting a throwaway PostgreSQL server")
            server = ThrowawayPostgres()
            try:
                server.start()
            except PostgresUnavailable as error:
                self._postgres_error = str(error)
                raise
            self._server = server
        return self._server

    def available(self, store: str) -> str | None:
        """``None`` if ``store`` can be used, else why not."""
        if store == SQLITE:
            return None
        try:
            self.postgres()
        except PostgresUnavailable as error:
            return str(error).splitlines()[0]
        return None

    def drop(self, url: str) -> None:
        """Throw a database away once a figure is done with it."""
        config = parse_storage_url(url)
        if config.sqlite_path is not None:
            for suffix in ("", "-wal", "-shm", ".key"):
                with suppress(FileNotFoundError):
                    os.remove(f"{config.sqlite_path}{suffix}")
            return
        if self._server is not None:
            name = config.environment["POSTGRES_DBNAME"]
            self._server.drop_database(name)
            self._databases.remove(name)

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        shutil.rmtree(self.folder, ignore_errors=True)


BENCH_MASTER_KEY = base64.b64encode(b"seeker-ledger-bench-master-key!!").decode()
"""A fixed master key (32 bytes): every store of the run is opened with it."""


def open_ledger(url: str) -> SeekerLedger:
    """The application on ``url``, opened as the CLI opens it: with the vault
    that seals personal data, when the product has one."""
    config = parse_storage_url(url)
    try:
        from privacy.opening import vault_opener
    except ImportError:  # a product without sealing
        return SeekerLedger(env=config.environment)
    opener = vault_opener(
        sqlite_path=config.sqlite_path,
        notice=log,
        environ={"SEEKERS_MASTER_KEY": BENCH_MASTER_KEY},
    )
    return SeekerLedger(env=config.environment, vault=opener)


def save_new(ledger: SeekerLedger, seekers: Sequence[Any]) -> None:
    """Save freshly registered accounts in one go, their data keys included
    (``save_new_accounts``) when the product seals personal data."""
    save_new_accounts = getattr(ledger, "save_new_accounts", None)
    if save_new_accounts is None:
        ledger.save(*seekers)
    else:
        save_new_accounts(seekers)


def decoding_mapper(projections: Any, ledger: SeekerLedger) -> Any:
    """The mapper the projections decode with (it leaves personal data
    sealed), or the ledger's own."""
    return getattr(projections, "mapper", ledger.mapper)


def is_postgres(application: Application[Any]) -> bool:
    datastore = application.factory.datastore  # type: ignore[attr-defined]
    return isinstance(datastore, PostgresDatastore)


# -- the environment -----------------------------------------------------------


def sqlite_settings(ledger: SeekerLedger) -> str:
    """journal_mode and synchronous as the library's connections have them."""
    datastore = ledger.factory.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous")
        synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(
            cursor.fetchone()[0], "?"
        )
    return f"journal_mode={journal}, synchronous={synchronous}"


def postgres_settings(server: ThrowawayPostgres) -> tuple[str, str]:
    """The server's version, and the durability settings it runs with."""
    with server.admin_connection() as connection:
        row = connection.execute("SHOW server_version").fetchone()
        assert row is not None
        server_version = str(row[0])
        settings = []
        for name in ("fsync", "synchronous_commit", "full_page_writes"):
            value = connection.execute(f"SHOW {name}").fetchone()
            assert value is not None
            settings.append(f"{name}={value[0]}")
    return server_version, ", ".join(settings)


def fsync_cost(folder: str, rounds: int = 30) -> float:
    """Median seconds of a 4 KiB write + fsync in ``folder`` (the disk's price
    of one durable commit, roughly)."""
    path = os.path.join(folder, "fsync-probe")
    samples: list[float] = []
    with open(path, "wb") as probe:
        for _ in range(rounds):
            probe.write(os.urandom(4096))
            began = time.perf_counter()
            probe.flush()
            os.fsync(probe.fileno())
            samples.append(time.perf_counter() - began)
    os.remove(path)
    return statistics.median(samples)


def sealing_line() -> str:
    try:
        import privacy.vault  # noqa: F401
    except ImportError:
        return "personal data: stored as is (no vault in this product)"
    return (
        "personal data: sealed through privacy.vault (AES-GCM, a data key per "
        "seeker, cached by the ledger's vault once opened)"
    )


def environment_lines() -> list[str]:
    return [
        f"Python {platform.python_version()} ({platform.python_implementation()}) "
        f"on {platform.platform()}, {os.cpu_count()} CPU(s)",
        f"eventsourcing {version('eventsourcing')}, "
        f"python-statemachine {version('python-statemachine')}, "
        f"psycopg {version('psycopg')}",
        f"SQLite library {sqlite3.sqlite_version}",
        sealing_line(),
        load_average("at the start"),
    ]


def load_average(when: str) -> str:
    """The machine's load: other processes share its CPUs and disk."""
    one, five, fifteen = os.getloadavg()
    return f"load average {when}: {one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min)"


# -- timing ----------------------------------------------------------------------


@contextmanager
def no_gc() -> Iterator[None]:
    """As ``timeit`` does: no collector pauses inside micro-benchmarks."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


Calls = Sequence[Callable[[], object]]


@dataclass(frozen=True)
class Variant:
    """Calls to time, and what to set up before timing them (and undo after)."""

    calls: Calls
    setup: Callable[[], None] | None = None


def compare(
    variants: dict[str, Variant], *, budget: float, repeat: int
) -> dict[str, list[float]]:
    """Seconds per call of each variant's calls run in a loop, one sample per
    repeat, the variants taking turns in every repeat so that the machine's
    drifts (frequency, neighbours) fall on all of them alike. The loop's own
    overhead is included, identically for every variant."""

    def run(variant: Variant, loops: int) -> float:
        if variant.setup is not None:
            variant.setup()
        began = time.perf_counter()
        for _ in range(loops):
            for call in variant.calls:
                call()
        return time.perf_counter() - began

    loops: dict[str, int] = {}
    for name, variant in variants.items():
        run(variant, 1)  # warm-up
        once = max(run(variant, 1), 1e-7)
        loops[name] = max(1, int(budget / once))
    samples: dict[str, list[float]] = {name: [] for name in variants}
    with no_gc():
        for _ in range(repeat):
            for name, variant in variants.items():
                calls = loops[name] * len(variant.calls)
                samples[name].append(run(variant, loops[name]) / calls)
    return samples


def paired_ratio(tops: Sequence[float], bottoms: Sequence[float]) -> float:
    """The median of the ratios of samples taken side by side."""
    return statistics.median(t / b for t, b in zip(tops, bottoms, strict=True))


# -- baseline 1: the naive rules check ---------------------------------------------


class NaiveGuards:
    """The model a naive check hands python-statemachine: each guard the
    machine names is a method asking the same policy guard."""

    def __init__(self, seeker: Any) -> None:
        self.seeker = seeker


def _naive_guard(name: str) -> Callable[..., bool]:
    def guard(self: NaiveGuards, *args: Any, **kwargs: Any) -> bool:
        return account_refusal(self.seeker, (name,), kwargs) is None

    guard.__name__ = name
    return guard


for _name in known_guards():
    setattr(NaiveGuards, _name, _naive_guard(_name))


def naive_check(
    machine: type[StateMachine], seeker: Any, command: str, arguments: dict[str, Any]
) -> None:
    """What ``Seeker.check`` would cost without the compiled table: build the
    machine in the account's state and send it the command."""
    instance = machine(NaiveGuards(seeker), start_value=seeker.status)
    instance.send(command.replace("-", "_"), **arguments)


# -- the 10x machine -----------------------------------------------------------------


@dataclass(frozen=True)
class MachineSize:
    states: int
    events: int
    transitions: int


def machine_size(machine: type[StateMachine]) -> MachineSize:
    transitions = sum(len(state.transitions) for state in machine.states_map.values())
    return MachineSize(len(machine.states_map), len(machine._events), transitions)


def synthetic_machine(factor: int = 10) -> type[StateMachine]:
    """``AccountLifecycle`` with ``factor`` times its states, events and
    transitions: the real machine (same names, guards and internal moves, so
    the same checks run on it), plus extra states ``x*`` and commands ``e*``
    wired among themselves and into the real states."""
    real = machine_size(AccountLifecycle)
    states: dict[str, State] = {}
    for state in AccountLifecycle.states_map.values():
        states[state.id] = State(initial=state.initial, final=state.final)
    real_names = list(states)
    live = [
        name
        for name in real_names
        if not AccountLifecycle.states_map[name].final and name != "unregistered"
    ]
    extra_states = real.states * (factor - 1)
    for number in range(extra_states):
        states[f"x{number}"] = State()
    transitions: dict[str, Any] = {}

    def add(name: str, moves: Any) -> None:
        transitions[name] = transitions[name] | moves if name in transitions else moves

    for state in AccountLifecycle.states_map.values():
        for transition in state.transitions:
            guards = [str(spec.func) for spec in transition.cond]
            source = states[transition.source.id]
            target = states[transition.target.id]
            for each in transition.events:
                add(
                    str(each),
                    source.to(
                        target, cond=guards or None, internal=transition.internal
                    ),
                )
    extra_events = real.events * (factor - 1)
    extra_transitions = real.transitions * (factor - 1)
    doubled = extra_transitions - extra_events
    into_real = len(live) * (factor - 2)
    for number in range(extra_events):
        name = f"e{number}"
        # Every command leads to one state (the rules refuse any other
        # machine): its transitions all go on to the next x state.
        target = states[f"x{(number + 1) % extra_states}"]
        cond = "policy_has_advisors" if number % 3 == 0 else None
        add(name, states[f"x{number % extra_states}"].to(target, cond=cond))
        if number < into_real:
            add(name, states[live[number % len(live)]].to(target, cond=cond))
        elif number < doubled:
            other = states[f"x{(number + 37) % extra_states}"]
            add(name, other.to(target, cond=cond))
    # One way back into the real states, so every state can reach `purged`.
    add("e_back", states["x0"].to(states[live[0]]))
    namespace: dict[str, Any] = {**states, **transitions}
    return type(f"AccountLifecycleX{factor}", (StateMachine,), namespace)


# -- baseline 2: a bare library aggregate ----------------------------------------------


class BareRecord(Aggregate):
    """No rules, no projections: it records what it is given."""

    @event("Created")
    def __init__(self, kind: str, fields: dict[str, Any]) -> None:
        self.kind = kind
        self.recorded = 1

    @event("Recorded")
    def record(self, kind: str, fields: dict[str, Any]) -> None:
        self.recorded += 1


class BareApplication(Application[UUID]):
    """A plain library application, with the domain's value-object codecs so
    that it stores byte-for-byte the same payloads."""

    name = "bare"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {}

    @classmethod
    def on(cls, url: str) -> BareApplication:
        """The bare application on the store at ``url``, with the library's
        own persistence, as shipped: not the product's recorder, which also
        writes the integrity chain and tree, nor its SQLite connections with
        a statement cache (``adapters.sqlite_store``), which are part of
        what the product does better."""
        config = parse_storage_url(url)
        environment = dict(config.environment)
        del environment["APPLICATION_RECORDER_TOPIC"]
        if config.kind == "sqlite":
            environment["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
        return cls(env=environment)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in transcodings.ALL:
            transcoder.register(transcoding())


LIBRARY_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic"}
)


def event_fields(domain_event: Any) -> tuple[str, dict[str, Any]]:
    """An event's kind and its own fields, for the bare aggregate to carry."""
    fields = {k: v for k, v in vars(domain_event).items() if k not in LIBRARY_FIELDS}
    return type(domain_event).__name__, fields


# -- baseline 3: the library's read-and-decode -----------------------------------------


def read_and_decode(application: Application[Any], mapper: Any, page: int) -> int:
    """Read the whole notification log in pages and decode every event."""
    recorder = application.recorder
    start = 1
    decoded = 0
    while True:
        notifications = recorder.select_notifications(start=start, limit=page)
        if not notifications:
            return decoded
        for notification in notifications:
            mapper.to_domain_event(notification)
        decoded += len(notifications)
        start = notifications[-1].id + 1


# -- peak memory of a fresh process --------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def max_rss() -> int:
    """This process's peak resident set size so far, in bytes.

    Linux's ``VmHWM`` (of this program's own memory), not ``getrusage``:
    after a ``vfork`` + ``exec`` (how ``subprocess`` starts a child) the
    child's ``ru_maxrss`` starts from its parent's peak, the bench's own.
    """
    with suppress(OSError), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child_rss(function: str, url: str, *, timeout: float) -> tuple[float, float]:
    """Run ``function`` ("module:name") on ``url`` in a fresh interpreter and
    return the peak RSS it printed and its RSS at its start mark (bytes).

    The child opens the store, marks ``max_rss()``, does its work and prints
    ``{"start": ..., "peak": ...}`` (see ``print_rss``).
    """
    module, name = function.split(":")
    child = subprocess.run(
        [sys.executable, "-c", f"from {module} import {name}; {name}({url!r})"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
        timeout=timeout,
    )
    measured = json.loads(child.stdout)
    return float(measured["peak"]), float(measured["start"])


def print_rss(start: int) -> None:
    """A ``child_rss`` child's last word: its start mark and its peak."""
    print(json.dumps({"start": start, "peak": max_rss()}))


# -- the report ------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the report. ``cells`` maps a store to its text, or ``"*"``
    to a text for a figure that involves no store (one spanning column)."""

    label: str
    cells: dict[str, str]
    target: str = ""
    verdicts: dict[str, str] = field(default_factory=dict)


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def render(sections: Sequence[Section], stores: Sequence[str]) -> str:
    label_width = max(
        [len(row.label) + 2 for section in sections for row in section.rows] + [6]
    )
    widths = {
        store: max(
            [len(STORE_LABELS[store])]
            + [len(row.cells.get(store, "")) for s in sections for row in s.rows]
        )
        for store in stores
    }
    target_width = max([len(r.target) for s in sections for r in s.rows] + [6])
    spanned = sum(widths.values()) + 3 * (len(stores) - 1)
    spans = [len(r.cells["*"]) for s in sections for r in s.rows if "*" in r.cells]
    if spans and max(spans) > spanned:
        widths[stores[-1]] += max(spans) - spanned
        spanned = max(spans)

    def line(label: str, cells: list[str], target: str, result: str) -> str:
        parts = [label.ljust(label_width), *cells, target.ljust(target_width), result]
        return " | ".join(parts).rstrip()

    header = line(
        "figure",
        [STORE_LABELS[s].ljust(widths[s]) for s in stores],
        "target",
        "result (" + " / ".join(STORE_LABELS[s] for s in stores) + ")",
    )
    rule = "-" * len(header)
    out = [rule, header, rule]
    for section in sections:
        out.append(section.title)
        for row in section.rows:
            if "*" in row.cells:
                cells = [row.cells["*"].ljust(spanned)]
                result = row.verdicts.get("*", "")
            else:
                cells = [row.cells.get(s, "n/a").ljust(widths[s]) for s in stores]
                results = [row.verdicts.get(s, "") for s in stores]
                result = " / ".join(r or "-" for r in results) if any(results) else ""
            out.append(line("  " + row.label, cells, row.target, result))
        for note in section.notes:
            out.append(f"    note: {note}")
        out.append(rule)
    return "\n".join(out)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.2f} µs"
