"""Figure 12 of ``make bench``: many operators at once on PostgreSQL (SPEC §9, §10).

Why: PostgreSQL is the store for "many operators at once". N client
processes each record ``contact`` commands on accounts of their own, through
the application service as the CLI runs them (a request id, the command,
then the projections brought up to date: read-your-writes), against N
processes of the bare library saving one event per command (get, trigger,
save) on the same server, in the same run. The server is a throwaway one
with the durability a real one has (fsync, synchronous commit and full page
writes on): each commit waits for its WAL flush, as in production.

Each run starts N fresh worker processes (``python -m tests.bench_contention
worker CONFIG``), which open their application, warm up, then wait for a
common start instant and run commands for a fixed window, logging each
command's latency. Product and bare runs alternate, each client count
several times; the figure takes the median run of each. Throughput is
commands completed in the window per second; p50 and p99 are over every
command of the chosen runs. The machine's core count is printed beside the
figures: on 2 cores, 16 clients are mostly waiting for the CPU.

Targets (the issue that asked for this figure): at 16 clients the product
runs at least 0.7x the bare library's throughput and at least as many
commands per second as at 4 clients, its p99 is at most 2x the bare p99, and
one client's command takes at most 2x the bare save.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from tests.bench_support import Section

CLIENTS = (1, 4, 16)
WINDOW_SECONDS = 6.0
QUICK_WINDOW_SECONDS = 3.0
ROUNDS = 3
QUICK_ROUNDS = 1
ACCOUNTS_PER_CLIENT = 4
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
PRODUCT = "product"
BARE = "bare"
THROUGHPUT_FLOOR = 0.7
P99_LIMIT = 2.0
SINGLE_LIMIT = 2.0


@dataclass(frozen=True)
class Run:
    """One run: N clients of one kind for the window."""

    kind: str
    clients: int
    commands: int
    seconds: float
    latencies: list[float]
    cpu: float
    """Seconds of CPU the clients used in the window (the server's not
    counted)."""
    machine: float
    """Seconds of CPU the whole machine used in the window: clients and
    server. With every core busy, commands per second is bounded by the
    cores over this per command."""

    @property
    def machine_per_command(self) -> float:
        return self.machine / max(self.commands, 1)

    @property
    def cpu_per_command(self) -> float:
        return self.cpu / max(self.commands, 1)

    @property
    def per_second(self) -> float:
        return self.commands / self.seconds


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


# -- the workers ---------------------------------------------------------------


def _product_command(url: str, accounts: list[UUID]) -> Any:
    """One operator's command as the CLI runs it: under a fresh request id,
    then the projections brought up to date before it returns."""
    from adapters.requests import Request, requested
    from projections.runner import Projections
    from tests.bench_support import open_ledger

    ledger = open_ledger(url)
    projections = Projections(ledger, create_tables=False)
    turn = [0]

    def command() -> None:
        account = accounts[turn[0] % len(accounts)]
        turn[0] += 1
        with requested(Request(str(uuid.uuid4()), "contact", fresh=True)):
            ledger.contact(account, actor="bench", channel="phone", outcome="reached")
        projections.catch_up_after_save()

    return command


def _bare_command(url: str, accounts: list[UUID]) -> Any:
    """The bare library's: get the aggregate, trigger one event, save."""
    from tests.bench_support import BareApplication

    bare = BareApplication.on(url)
    turn = [0]

    def command() -> None:
        account = accounts[turn[0] % len(accounts)]
        turn[0] += 1
        record = bare.repository.get(account)
        record.record(kind="Contacted", fields={"channel": "phone"})
        bare.save(record)

    return command


def worker(config_path: str) -> None:
    """A client process: warm up, wait for the start instant, run commands
    until the window closes, write the latencies."""
    config = json.loads(Path(config_path).read_text())
    accounts = [UUID(each) for each in config["accounts"]]
    os.environ["SEEKERS_MASTER_KEY"] = config["master_key"]
    os.environ["CREATE_TABLE"] = "no"  # seeded by the parent: no DDL races
    make = _product_command if config["kind"] == PRODUCT else _bare_command
    command = make(config["url"], accounts)
    for _ in range(3):
        command()
    Path(config["ready"]).touch()
    start = _start_instant(Path(config["start_file"]))
    while time.time() < start:
        time.sleep(0.001)
    end = start + config["window"]
    latencies: list[float] = []
    clock = time.perf_counter
    cpu = time.process_time()
    while time.time() < end:
        began = clock()
        command()
        latencies.append(clock() - began)
    cpu = time.process_time() - cpu
    Path(config["output"]).write_text(json.dumps({"latencies": latencies, "cpu": cpu}))


# -- the parent ------------------------------------------------------------------


def _seed(url: str, bare_url: str, count: int) -> tuple[list[UUID], list[UUID]]:
    """``count`` accounts in each store, registered untimed."""
    from domain.timerules import utcnow
    from projections.runner import Projections
    from tests.bench import new_seeker
    from tests.bench_support import (
        BareApplication,
        BareRecord,
        event_fields,
        open_ledger,
        save_new,
    )

    ledger = open_ledger(url)
    bare = BareApplication.on(bare_url)
    try:
        start = utcnow() - timedelta(days=2)
        seekers = [new_seeker("hellowork", start, number) for number in range(count)]
        records = [BareRecord(*event_fields(s.pending_events[0])) for s in seekers]
        save_new(ledger, seekers)
        bare.save(*records)
        Projections(ledger).catch_up()
        return [s.id for s in seekers], [r.id for r in records]
    finally:
        ledger.close()
        bare.close()


def _run(
    kind: str, url: str, accounts: list[UUID], clients: int, window: float, key: str
) -> Run:
    folder = Path(tempfile.mkdtemp(prefix="seekers-contention-"))
    configs = []
    go = folder / "start"
    for number in range(clients):
        mine = accounts[
            number * ACCOUNTS_PER_CLIENT : (number + 1) * ACCOUNTS_PER_CLIENT
        ]
        configs.append(
            {
                "kind": kind,
                "url": url,
                "accounts": [str(each) for each in mine],
                "master_key": key,
                "ready": str(folder / f"ready-{number}"),
                "output": str(folder / f"out-{number}.json"),
                "window": window,
                "start_file": str(go),
            }
        )
    paths = []
    for number, config in enumerate(configs):
        path = folder / f"config-{number}.json"
        path.write_text(json.dumps(config))
        paths.append(path)
    # The start instant is known only once every worker is ready (imports
    # and warm-up take seconds on 2 cores): they poll a file for it.
    launched = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.bench_contention", "worker", str(path)]
        )
        for path in paths
    ]
    deadline = time.time() + 120
    while not all((folder / f"ready-{n}").exists() for n in range(clients)):
        if time.time() > deadline or any(p.poll() not in (None, 0) for p in launched):
            for each in launched:
                each.kill()
            raise RuntimeError(f"{kind} workers did not get ready")
        time.sleep(0.05)
    start = time.time() + 0.5
    go.write_text(str(start))
    time.sleep(max(start - time.time(), 0))
    busy = machine_busy_seconds()
    time.sleep(window)
    busy = machine_busy_seconds() - busy
    for each in launched:
        if each.wait(timeout=window + 120) != 0:
            raise RuntimeError(f"a {kind} worker failed")
    latencies: list[float] = []
    cpu = 0.0
    for number in range(clients):
        output = json.loads((folder / f"out-{number}.json").read_text())
        latencies.extend(output["latencies"])
        cpu += output["cpu"]
    return Run(kind, clients, len(latencies), window, latencies, cpu, busy)


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent busy since boot
    (``/proc/stat``): clients, server processes and all."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    ticks = user + nice + system + irq + softirq + steal
    return ticks / os.sysconf("SC_CLK_TCK")


def _start_instant(go: Path) -> float:
    while not go.exists() or not go.read_text().strip():
        time.sleep(0.005)
    return float(go.read_text())


def bench_contention(quick: bool = False) -> Section:
    """Figure 12, measured on a durable throwaway server of its own."""
    from tests.bench_support import BENCH_MASTER_KEY, log
    from tests.support.postgres_server import ThrowawayPostgres

    window = QUICK_WINDOW_SECONDS if quick else WINDOW_SECONDS
    rounds = QUICK_ROUNDS if quick else ROUNDS
    # Every run gets accounts of its own: the bare aggregate replays its
    # whole history at each get (no snapshots), so accounts reused run after
    # run would make the baseline slower and slower.
    needed = sum(CLIENTS) * ACCOUNTS_PER_CLIENT * rounds
    log("contention: starting a durable throwaway PostgreSQL server")
    with ThrowawayPostgres(settings=DURABLE) as server:
        url = server.create_database(f"contention_{uuid.uuid4().hex[:8]}")
        bare_url = server.create_database(f"contention_bare_{uuid.uuid4().hex[:8]}")
        os.environ["SEEKERS_MASTER_KEY"] = BENCH_MASTER_KEY
        ours, theirs = _seed(url, bare_url, needed)
        unused = {PRODUCT: iter(ours), BARE: iter(theirs)}
        urls = {PRODUCT: url, BARE: bare_url}
        key = BENCH_MASTER_KEY
        runs: dict[tuple[str, int], list[Run]] = {}
        for clients in CLIENTS:
            for round_number in range(rounds):
                order = (BARE, PRODUCT) if round_number % 2 == 0 else (PRODUCT, BARE)
                for kind in order:
                    log(f"contention: {clients} {kind} clients, #{round_number + 1}")
                    accounts = [
                        next(unused[kind]) for _ in range(clients * ACCOUNTS_PER_CLIENT)
                    ]
                    run = _run(kind, urls[kind], accounts, clients, window, key)
                    runs.setdefault((kind, clients), []).append(run)
    return report(runs)


def _median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda run: run.per_second)[len(runs) // 2]


def report(runs: dict[tuple[str, int], list[Run]]) -> Section:
    """The figure: one row per target, the table of every client count in
    the notes."""
    from tests.bench_support import Row, Section, verdict

    cores = os.cpu_count()
    notes = [
        f"N client processes recording `contact` on one PostgreSQL server "
        f"(fsync on), the product and the bare library in turns; {cores} cores",
        "clients | bare cmd/s | product cmd/s | ratio | bare p50/p99 | "
        "product p50/p99 | client CPU/cmd bare/product | machine CPU/cmd "
        "bare/product | machine busy bare/product",
    ]
    chosen: dict[tuple[str, int], Run] = {}
    for clients in CLIENTS:
        bare = _median_run(runs[(BARE, clients)])
        ours = _median_run(runs[(PRODUCT, clients)])
        chosen[(BARE, clients)] = bare
        chosen[(PRODUCT, clients)] = ours
        bare_all = _latencies(runs[(BARE, clients)])
        ours_all = _latencies(runs[(PRODUCT, clients)])
        notes.append(
            f"{clients:>7} | {bare.per_second:10.0f} | {ours.per_second:13.0f} | "
            f"{ours.per_second / bare.per_second:5.2f} | "
            f"{_ms(percentile(bare_all, 0.5))}/{_ms(percentile(bare_all, 0.99))} | "
            f"{_ms(percentile(ours_all, 0.5))}/{_ms(percentile(ours_all, 0.99))} | "
            f"{_ms(bare.cpu_per_command)}/{_ms(ours.cpu_per_command)} | "
            f"{_ms(bare.machine_per_command)}/{_ms(ours.machine_per_command)} | "
            f"{_busy(bare):.0%}/{_busy(ours):.0%}"
        )
    top, middle, one = max(CLIENTS), CLIENTS[-2], min(CLIENTS)
    ours_top, bare_top = chosen[(PRODUCT, top)], chosen[(BARE, top)]
    ratio = ours_top.per_second / bare_top.per_second
    ceiling = bare_top.machine_per_command / ours_top.machine_per_command
    p99 = percentile(_latencies(runs[(PRODUCT, top)]), 0.99) / percentile(
        _latencies(runs[(BARE, top)]), 0.99
    )
    single = statistics.median(_latencies(runs[(PRODUCT, one)])) / statistics.median(
        _latencies(runs[(BARE, one)])
    )
    middle_rate = chosen[(PRODUCT, middle)].per_second
    notes.append(
        f"the floor at {top} clients: with every core busy, commands per second "
        f"are bounded by the machine's CPU per command, so the ratio cannot pass "
        f"bare over product = {ceiling:.2f}x"
    )
    rows = [
        Row(
            f"{top} clients: cmd/s vs bare",
            {"*": f"{ratio:.2f}x ({ours_top.per_second:.0f} vs "
                  f"{bare_top.per_second:.0f}; CPU floor {ceiling:.2f}x)"},
            f">= {THROUGHPUT_FLOOR}x",
            {"*": verdict(ratio >= THROUGHPUT_FLOOR)},
        ),
        Row(
            f"{top} vs {middle} clients: cmd/s",
            {"*": f"{ours_top.per_second:.0f} vs {middle_rate:.0f}"},
            "no collapse",
            {"*": verdict(ours_top.per_second >= middle_rate)},
        ),
        Row(
            f"{top} clients: p99 vs bare p99",
            {"*": f"{p99:.2f}x"},
            f"<= {P99_LIMIT}x",
            {"*": verdict(p99 <= P99_LIMIT)},
        ),
        Row(
            "1 client: command vs bare save",
            {"*": f"{single:.2f}x (medians)"},
            f"<= {SINGLE_LIMIT}x",
            {"*": verdict(single <= SINGLE_LIMIT)},
        ),
    ]  # fmt: skip
    return Section("12. contention (PostgreSQL, many clients)", rows, notes)


def _latencies(runs: list[Run]) -> list[float]:
    return [latency for run in runs for latency in run.latencies]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _busy(run: Run) -> float:
    """The share of the machine's cores busy during the run's window."""
    return run.machine / (run.seconds * (os.cpu_count() or 1))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "worker":
        worker(sys.argv[2])
    else:
        from tests.bench_support import render

        section = bench_contention(quick="--quick" in sys.argv)
        print(render([section], ["postgresql"]))
