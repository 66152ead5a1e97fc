"""How long ``seekers report html`` takes, and how big the page is, as the
agency grows (``make bench-pages``; ``python -m tests.bench_pages``).

Two ways to fill a SQLite store, named in each row:

- ``simulate``: ``seekers simulate --seekers N`` through the real commands
  (slow to build: every account is a stream of events);
- ``rows``: ``seekers simulate`` of 1,000 seekers, then the accounts
  projection's rows cloned under new ids up to N and the report tables'
  counts scaled to match, written straight into the projection tables (fast
  to build; the reports read only these tables, so the page sees N accounts).

Each row gives the wall time of a fresh ``seekers report html --output``
process (start-up, matplotlib import, queries, charts, template, write)
and its CPU time (the machine may be shared: CPU is the steadier figure),
the same steps timed in-process (queries, then drawing and templating),
and the page's size.

    python -m tests.bench_pages [--sizes 10000,100000] [--simulate 10000]
"""

from __future__ import annotations

import argparse
import base64
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import run_cli

SEED_ACCOUNTS = 1_000


@dataclass(frozen=True)
class Figure:
    name: str
    accounts: int
    build_s: float
    wall_s: float
    cpu_s: float
    query_s: float
    render_s: float
    size: int


def _seekers(args: list[str], db_url: str) -> None:
    result = run_cli(args, db_url=db_url, actor="bench")
    if result.code != 0:
        raise SystemExit(f"seekers {' '.join(args)}: {result.stderr}")


def simulated(folder: Path, accounts: int) -> str:
    db_url = f"sqlite:///{folder / f'simulate-{accounts}.db'}"
    _seekers(["simulate", "--seekers", str(accounts), "--seed", "1"], db_url)
    return db_url


def cloned(folder: Path, accounts: int) -> str:
    """``SEED_ACCOUNTS`` simulated, their projection rows cloned up to N."""
    path = folder / f"rows-{accounts}.db"
    db_url = f"sqlite:///{path}"
    _seekers(["simulate", "--seekers", str(SEED_ACCOUNTS), "--seed", "1"], db_url)
    copies = max(1, accounts // SEED_ACCOUNTS)
    with sqlite3.connect(path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(accounts)")]
        rows = db.execute(f"SELECT {', '.join(columns)} FROM accounts").fetchall()
        at = columns.index("id")
        marks = ", ".join("?" for _ in columns)
        for copy in range(1, copies):
            db.executemany(
                f"INSERT INTO accounts ({', '.join(columns)}) VALUES ({marks})",
                [
                    (*row[:at], f"{copy:08x}{row[at][8:]}", *row[at + 1 :])
                    for row in rows
                ],
            )
        for table in ("report_status", "report_withdrawals", "report_declines"):
            db.execute(f"UPDATE {table} SET count = count * ?", (copies,))
        db.execute(
            "UPDATE report_reinstatements SET count = count * ?, "
            "total_days = total_days * ?",
            (copies, copies),
        )
    return db_url


def measure(name: str, accounts: int, db_url: str, build_s: float) -> Figure:
    from datetime import UTC, datetime

    from cli.pages import report_page
    from tests.helpers import ledger_for

    output = Path(tempfile.mkdtemp(prefix="bench-page-")) / "report.html"
    command = [
        str(Path(sys.executable).parent / "seekers"),
        "--db",
        db_url,
        "report",
        "html",
        "--output",
        str(output),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    size = output.stat().st_size

    from projections.runner import Projections

    ledger = ledger_for(db_url)
    try:
        view = Projections(ledger).views["accounts"]
        now = datetime.now(UTC)
        started = time.perf_counter()
        rows = report_page.collect(view, start=None, end=None, now=now)
        zones = report_page.zones(view)
        query = time.perf_counter() - started
        started = time.perf_counter()
        report_page.build(
            rows, start=None, end=None, now=now, zone_names=zones, store=db_url
        )
        render = time.perf_counter() - started
    finally:
        ledger.close()
    return Figure(name, accounts, build_s, wall, cpu, query, render, size)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument(
        "--simulate",
        default="10000",
        help="sizes also built through `seekers simulate` ('' for none)",
    )
    options = parser.parse_args(argv)
    os.environ.setdefault(
        "SEEKERS_MASTER_KEY", base64.b64encode(os.urandom(32)).decode()
    )
    plans: list[tuple[str, int]] = [
        ("simulate", int(n)) for n in options.simulate.split(",") if n
    ] + [("rows", int(n)) for n in options.sizes.split(",") if n]
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as work:
        for kind, accounts in plans:
            started = time.perf_counter()
            build = simulated if kind == "simulate" else cloned
            db_url = build(Path(work), accounts)
            built = time.perf_counter() - started
            name = (
                f"simulate {accounts:,}"
                if kind == "simulate"
                else f"projection rows {accounts:,} (cloned from simulate "
                f"{SEED_ACCOUNTS:,})"
            )
            figure = measure(name, accounts, db_url, built)
            figures.append(figure)
            print(
                f"{figure.name:<52} page {figure.wall_s:5.2f} s wall, "
                f"{figure.cpu_s:5.2f} s CPU, {figure.size / 1024:7.1f} KiB "
                f"(in-process: queries {figure.query_s:.2f} s, charts and "
                f"template {figure.render_s:.2f} s; store built in "
                f"{figure.build_s:.1f} s)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
