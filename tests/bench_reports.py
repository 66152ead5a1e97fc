"""How long the first page of ``list`` and each report takes over 1,000,000
accounts, and whether ``list --all`` runs in flat memory
(``python -m tests.bench_reports``).

The store is SQLite. It is made by ``seekers simulate`` (a few hundred
seekers, so the schema, the projections and the report tables are real),
then the **accounts projection table is filled directly with synthetic
rows** up to N (random policies, statuses, registration times, purge dates
and unreachable spells; no events behind them) and the report tables'
counts are scaled by the same factor. ``list`` and the reports read only
these tables, so they see N accounts; nothing else about the store is
realistic. The indexes are dropped for the bulk insert and created again by
opening the projections (``CREATE INDEX IF NOT EXISTS``), as an existing
store gets them.

Timings call the functions the CLI calls (``projections.queries``), with
the CLI's terminal page size (50 rows), median of 5, against SPEC §10's
0.2 s. Peak RSS is that of a ``seekers list --all`` process writing to
/dev/null, at 10k and 100k accounts: flat means it does not grow with the
rows.

    python -m tests.bench_reports [--accounts 1000000] [--rss-sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.helpers import run_cli

TARGET_S = 0.2
RUNS = 5
SEED_SEEKERS = 300
RSS_GROWTH_MB = 10.0
"""``list --all`` is flat when its peak RSS grows less than this from the
smallest store to the largest."""

STATUSES = [
    ("active", 0.55),
    ("paused", 0.04),
    ("unreachable", 0.07),
    ("withdrawal_requested", 0.02),
    ("withdrawn", 0.15),
    ("lapsed", 0.07),
    ("purged", 0.10),
]
POLICIES = ["hellowork", "pasona", "workport"]
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


def build_store(folder: Path, accounts: int) -> str:
    """A SQLite store whose accounts projection holds ``accounts`` rows."""
    path = folder / f"accounts-{accounts}.db"
    db_url = f"sqlite:///{path}"
    result = run_cli(
        ["simulate", "--seekers", str(SEED_SEEKERS), "--seed", "1"],
        db_url=db_url,
        actor="bench",
    )
    if result.code != 0:
        raise SystemExit(f"simulate: {result.stderr}")
    started = time.perf_counter()
    rng = random.Random(accounts)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA synchronous = OFF")
        columns = [row[1] for row in db.execute("PRAGMA table_info(accounts)")]
        template = dict(
            zip(
                columns,
                db.execute(
                    f"SELECT {', '.join(columns)} FROM accounts "
                    "WHERE status = 'active' LIMIT 1"
                ).fetchone(),
                strict=True,
            )
        )
        simulated = db.execute("SELECT count(*) FROM accounts").fetchone()[0]
        indexes = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'accounts' AND sql IS NOT NULL"
            )
        ]
        for name in indexes:
            db.execute(f"DROP INDEX {name}")
        marks = ", ".join("?" for _ in columns)
        insert = f"INSERT INTO accounts ({', '.join(columns)}) VALUES ({marks})"
        statuses = [s for s, _ in STATUSES]
        weights = [w for _, w in STATUSES]
        batch: list[tuple[Any, ...]] = []
        for _ in range(accounts - simulated):
            batch.append(_synthetic(template, rng, statuses, weights, columns))
            if len(batch) == 50_000:
                db.executemany(insert, batch)
                batch.clear()
        db.executemany(insert, batch)
        factor = max(1, accounts // simulated)
        for table in ("report_status", "report_withdrawals", "report_declines"):
            db.execute(f"UPDATE {table} SET count = count * ?", (factor,))
        db.execute(
            "UPDATE report_reinstatements SET count = count * ?, "
            "total_days = total_days * ?",
            (factor, factor),
        )
    log(f"{accounts:,} account rows written in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    _open_view(db_url)[1]()  # the projection schema creates the indexes again
    log(f"indexes created in {time.perf_counter() - started:.1f} s")
    return db_url


def _synthetic(
    template: dict[str, Any],
    rng: random.Random,
    statuses: list[str],
    weights: list[float],
    columns: list[str],
) -> tuple[Any, ...]:
    row = dict(template)
    status = rng.choices(statuses, weights)[0]
    registered = EPOCH + timedelta(seconds=rng.randrange(6 * 365 * 86400))
    since = registered + timedelta(seconds=rng.randrange(365 * 86400))
    row.update(
        id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        policy=rng.choice(POLICIES),
        status=status,
        registered_at=_stamp(registered),
        status_since=_stamp(since),
        last_activity_at=_stamp(since),
        last_occurred_at=_stamp(since),
        invalid_since=None,
        purge_due_at=None,
        purged_at=None,
        unreachable_since=None,
        unreachable_lapses_at=None,
        open_applications=rng.randrange(3),
    )
    if status in ("withdrawn", "lapsed"):
        row["invalid_since"] = _stamp(since)
        row["purge_due_at"] = _stamp(since.replace(year=since.year + 3, day=1))
    elif status == "purged":
        row["purged_at"] = _stamp(since)
    elif status == "unreachable":
        row["unreachable_since"] = _stamp(since)
        row["unreachable_lapses_at"] = _stamp(since + timedelta(days=30))
    return tuple(row[column] for column in columns)


def _open_view(db_url: str) -> tuple[Any, Callable[[], None]]:
    from projections.runner import Projections
    from tests.helpers import ledger_for

    ledger = ledger_for(db_url)
    return Projections(ledger).views["accounts"], ledger.close


def median_time(action: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def timings(db_url: str) -> list[tuple[str, float]]:
    from projections.queries import encode_cursor, iter_accounts, report, report_rows

    view, close = _open_view(db_url)
    now = datetime.now(UTC)
    page = 50  # the CLI's page on a terminal
    month = view.query(
        "SELECT purge_due_at FROM accounts WHERE purge_due_at IS NOT NULL "
        "ORDER BY purge_due_at, id LIMIT 1 OFFSET "
        "(SELECT count(*) / 2 FROM accounts WHERE purge_due_at IS NOT NULL)"
    )[0]["purge_due_at"][:7]
    start, end = f"{month}-01", f"{month}-28"
    halfway = view.query(
        "SELECT registered_at, id FROM accounts ORDER BY registered_at, id "
        "LIMIT 1 OFFSET (SELECT count(*) / 2 FROM accounts)"
    )[0]
    cursor = encode_cursor("list", (halfway["registered_at"], halfway["id"]))
    total = view.query("SELECT count(*) AS n FROM accounts")[0]["n"]
    half = f"{total // 2:,}"

    cases: list[tuple[str, Callable[[], object]]] = [
        ("list, first page", lambda: list(iter_accounts(view, limit=page))),
        (
            f"list, page after {half} rows",
            lambda: list(iter_accounts(view, limit=page, after=cursor)),
        ),
        (
            "list --status unreachable --policy pasona",
            lambda: list(
                iter_accounts(view, status="unreachable", policy="pasona", limit=page)
            ),
        ),
    ]

    def aggregate(name: str) -> Callable[[], object]:
        return lambda: report(view, name, now=now)

    for name in ("status", "withdrawals", "reinstatements", "declines"):
        cases.append((f"report {name}", aggregate(name)))
    cases += [
        (
            "report retention, first page",
            lambda: list(report_rows(view, "retention", now=now, limit=page)),
        ),
        (
            f"report retention --from {start} --to {end}",
            lambda: list(
                report_rows(
                    view, "retention", start=start, end=end, now=now, limit=page
                )
            ),
        ),
        (
            "report unreachable, first page",
            lambda: list(report_rows(view, "unreachable", now=now, limit=page)),
        ),
    ]
    results = []
    for label, action in cases:
        results.append((label, median_time(action)))
        log(f"{label}: {results[-1][1] * 1000:.1f} ms")
    close()
    return results


# The child reports its own high-water mark (VmHWM) as it exits: the
# rusage of a forked child would also count the pages of this (large)
# process it was forked from, before its exec.
_MEASURED = """
import atexit, sys
def report():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                sys.__stderr__.write("peak-rss-kb " + line.split()[1] + "\\n")
atexit.register(report)
from cli.main import main
main(sys.argv[1:])
"""


def peak_rss_mb(db_url: str, output_format: str) -> float:
    """Peak RSS of one ``seekers list --all`` process writing to /dev/null."""
    arguments = ["--db", db_url, "list", "--all", "--format", output_format]
    command = [sys.executable, "-c", _MEASURED, *arguments]
    with open(os.devnull, "w") as sink:
        done = subprocess.run(command, stdout=sink, stderr=subprocess.PIPE, text=True)
    peaks = [
        line.split()[1]
        for line in done.stderr.splitlines()
        if line.startswith("peak-rss-kb ")
    ]
    if done.returncode != 0 or not peaks:
        raise SystemExit(f"seekers {' '.join(arguments)}: {done.stderr}")
    return int(peaks[0]) / 1024


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--rss-sizes", default="10000,100000")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="seekers-bench-reports-"))
    log(f"stores in {folder}")

    big = build_store(folder, args.accounts)
    timed = timings(big)

    sizes = [int(size) for size in args.rss_sizes.split(",")]
    rss: dict[str, list[float]] = {}
    for size in sizes:
        url = build_store(folder, size)
        for output_format in ("json", "csv", "table"):
            started = time.perf_counter()
            rss.setdefault(output_format, []).append(peak_rss_mb(url, output_format))
            took = time.perf_counter() - started
            log(
                f"list --all --format {output_format} at {size:,}: "
                f"{rss[output_format][-1]:.1f} MB, {took:.1f} s"
            )

    print(
        f"Reports over {args.accounts:,} accounts (SQLite; accounts projection "
        "filled directly with synthetic rows), median of 5"
    )
    width = max(len(label) for label, _ in timed)
    print(f"{'figure':<{width}}  {'time':>9}  {'target':>7}  verdict")
    for label, seconds in timed:
        verdict = "PASS" if seconds <= TARGET_S else "MISS"
        print(f"{label:<{width}}  {seconds * 1000:>6.1f} ms  ≤ 200 ms  {verdict}")
    print()
    heads = "  ".join(f"{size:>9,}" for size in sizes)
    print(f"Peak RSS of `seekers list --all` > /dev/null   {heads}  verdict")
    for output_format, values in rss.items():
        cells = "  ".join(f"{value:>6.1f} MB" for value in values)
        flat = max(values) - min(values) < RSS_GROWTH_MB
        label = f"--format {output_format}"
        print(f"{label:<45}  {cells}  {'PASS' if flat else 'MISS'} (flat)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
