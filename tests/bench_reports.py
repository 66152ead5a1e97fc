"""Benchmark figure 8: ``list`` and the reports over many accounts (SPEC §10:
each ≤ 0.2 s over 1,000,000 accounts), on SQLite and PostgreSQL.

Run alone as ``python -m tests.bench_reports [--stores sqlite,postgresql]
[--sizes 10000,100000,1000000] [--rss-sizes 10000,100000]``, or as the
``reports`` figure of ``python -m tests.bench``.

The stores. ``seekers simulate`` makes a real store of 300 seekers (schema,
projections, report tables, a template account row); then **the projection
tables are filled directly with synthetic rows** up to N accounts: random
policies, statuses, registration times over six years, purge dates (the
invalid time plus the preset's retention), recent unreachable spells, and
report counters (withdrawals, reinstatements, declines by month and
category) drawn for those accounts, so the aggregate reports have as many
rows as such a store would. No events are behind these rows: ``list`` and
the reports read only these tables, and nothing else here is realistic. The
accounts table's indexes are dropped for the bulk load and made again by the
product's own statements (``projections.schema``); PostgreSQL then runs
ANALYZE, as autovacuum would after such a load. SQLite keeps no statistics
(the product never runs ANALYZE there), so its planner goes by the indexes.

The figures, at each size:

- the first page (50 rows: the CLI's page on a terminal) of ``list``
  (plain, deep, filtered) and of every report, retention and withdrawals
  also for one month of ``--from/--to``: the query and its table written to
  /dev/null, through the functions the command runs once the store is open
  (``projections.queries`` then ``emit_accounts``/``emit_report``); median
  of 5 after a warm-up; target 0.2 s;
- ``seekers list --limit 50`` as a whole process (interpreter start-up,
  imports, opening the store, the catch-up check, the page), median of 5:
  the start-up is the same at every size, so its growth from the smallest
  store to the largest is what the rows cost (target 0.2 s);
- the plan of every timed query (EXPLAIN QUERY PLAN / EXPLAIN, the
  planner's own choice): no full scan of a table, no sort on SQLite, no sort
  of more than 1,000 rows on PostgreSQL (it may sort the few rows of one
  month's bitmap scan rather than walk an index in order, rightly);
- the peak memory of ``list --all`` (json, csv, table) and of every
  ``report NAME --all --format json`` writing to /dev/null, at two sizes:
  the child's own high-water mark (VmHWM, read as it exits). ``getrusage``
  would not do: a child forked from this large process reports this
  process's RSS before its exec. Flat means ≤ 1.25× from the smaller store
  to the larger (ours: SPEC §10 says flat without a number);
- ``seekers list --all --format json > /dev/null`` at the largest size,
  time and peak memory: the issue measured ``list`` at 47 s and 2 GB peak
  over 1,000,000 accounts before paging.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import islice
from typing import Any

import psycopg

from adapters.storage import parse_storage_url
from cli.commands.reports import TERMINAL_PAGE, emit_accounts, emit_report
from domain.policy import CHANNELS, PRESETS, WITHDRAWAL_REASONS
from domain.seeker import DECLINE_CHANNELS
from projections.queries import LISTINGS, encode_cursor, iter_accounts, report_rows
from projections.runner import Projections
from projections.schema import ACCOUNTS_TABLES
from tests.bench_support import (
    BENCH_MASTER_KEY,
    POSTGRES,
    SQLITE,
    STORE_LABELS,
    Row,
    Section,
    Stores,
    log,
    open_ledger,
    render,
    verdict,
)
from tests.helpers import run_cli, seekers_script

TARGET_S = 0.2
MEMORY_LIMIT = 1.25
"""Flat memory: the larger store's peak at most 1.25x the smaller's (ours)."""
RUNS = 5
SEED_SEEKERS = 300
BEFORE = "before paging (issue): list 47 s, 98 MB of output, 2 GB peak"


@dataclass(frozen=True)
class Plan:
    """The store sizes: every figure at each of ``sizes``; peak memory of
    the streamed listings at the two ``rss_sizes`` (each one of ``sizes``)."""

    sizes: tuple[int, ...]
    rss_sizes: tuple[int, int]


FULL = Plan((10_000, 100_000, 1_000_000), (10_000, 100_000))
QUICK = Plan((2_000, 20_000), (2_000, 20_000))

# -- the synthetic store -----------------------------------------------------------

STATUSES = (
    ("active", 0.55),
    ("paused", 0.04),
    ("unreachable", 0.07),
    ("withdrawal_requested", 0.02),
    ("withdrawn", 0.15),
    ("lapsed", 0.07),
    ("purged", 0.10),
)
INVALID = frozenset({"withdrawn", "lapsed"})
TIMINGS = (
    "no_applications",
    "between_selections",
    "during_screening",
    "final_stage",
    "interview_scheduled",
)
FIRST_REGISTRATION = datetime(2019, 1, 1, tzinfo=UTC)
COUNTERS = (
    "report_status",
    "report_withdrawals",
    "report_reinstatements",
    "report_declines",
)
INDEX = re.compile(r"CREATE INDEX IF NOT EXISTS (\w+)\s+ON accounts\b")


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


class _Bulk:
    """A plain connection to one store for the bulk load, outside the
    product: SQLite ``executemany``, PostgreSQL ``COPY``."""

    def __init__(self, url: str) -> None:
        config = parse_storage_url(url)
        self.sqlite: sqlite3.Connection | None = None
        self.postgres: psycopg.Connection[tuple[Any, ...]] | None = None
        if config.sqlite_path is not None:
            self.sqlite = sqlite3.connect(config.sqlite_path)
            self.sqlite.execute("PRAGMA synchronous = OFF")
        else:
            self.postgres = psycopg.connect(url)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.sqlite is not None:
            return self.sqlite.execute(sql, params).fetchall()
        assert self.postgres is not None
        cursor = self.postgres.execute(sql.replace("?", "%s"), params)
        return cursor.fetchall() if cursor.description else []

    def insert(
        self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
    ) -> None:
        names = ", ".join(columns)
        if self.sqlite is not None:
            marks = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
            iterator = iter(rows)
            while chunk := list(islice(iterator, 50_000)):
                self.sqlite.executemany(sql, chunk)
            return
        assert self.postgres is not None
        with (
            self.postgres.cursor() as cursor,
            cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def commit(self) -> None:
        (self.sqlite or self.postgres).commit()  # type: ignore[union-attr]

    def close(self) -> None:
        (self.sqlite or self.postgres).close()  # type: ignore[union-attr]


@dataclass
class _Counters:
    """The report tables' counts drawn for the synthetic accounts."""

    withdrawals: Counter[tuple[str, ...]]
    reinstatements: Counter[tuple[str, ...]]
    reinstatement_days: Counter[tuple[str, ...]]
    declines: Counter[tuple[Any, ...]]


def _years_after(moment: datetime, years: int) -> datetime:
    """The same time ``years`` later (29 February becomes the 28th)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def _month(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def _accounts(
    template: dict[str, Any],
    columns: Sequence[str],
    count: int,
    rng: random.Random,
    now: datetime,
    counters: _Counters,
) -> Iterator[tuple[Any, ...]]:
    """``count`` synthetic account rows, counting their report events."""
    statuses = [status for status, _ in STATUSES]
    weights = [weight for _, weight in STATUSES]
    policies = sorted(PRESETS)
    span = int((now - FIRST_REGISTRATION).total_seconds())
    for _ in range(count):
        row = dict(template)
        status = rng.choices(statuses, weights)[0]
        policy = rng.choice(policies)
        registered = FIRST_REGISTRATION + timedelta(seconds=rng.randrange(span))
        life = int((now - registered).total_seconds())
        since = registered + timedelta(seconds=rng.randrange(max(life, 1)))
        row.update(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            policy=policy,
            status=status,
            registered_at=_stamp(registered),
            status_since=_stamp(since),
            last_activity_at=_stamp(since),
            last_occurred_at=_stamp(since),
            open_applications=rng.choice((0, 0, 0, 1, 1, 2, 3)),
            invalid_since=None,
            purge_due_at=None,
            purged_at=None,
            withdrawn_at=None,
            unreachable_since=None,
            unreachable_lapses_at=None,
            registration_lapses_at=None,
        )
        years = PRESETS[policy].retention_years
        if status in INVALID:
            row["invalid_since"] = _stamp(since)
            if years is not None:
                row["purge_due_at"] = _stamp(_years_after(since, years))
        elif status == "purged":
            row["purged_at"] = _stamp(since)
        elif status == "unreachable":
            spell = now - timedelta(seconds=rng.randrange(90 * 86400))
            spell = max(spell, registered)
            row["unreachable_since"] = _stamp(spell)
            row["status_since"] = row["unreachable_since"]
            row["unreachable_lapses_at"] = _stamp(spell + timedelta(days=30))
            row["unreachable_attempts"] = rng.randrange(1, 6)
        if status == "withdrawn" or (status == "purged" and rng.random() < 0.5):
            row["withdrawn_at"] = _stamp(since)
            key = (
                _month(since),
                policy,
                rng.choice(WITHDRAWAL_REASONS),
                rng.choice(CHANNELS),
                rng.choice(TIMINGS),
            )
            counters.withdrawals[key] += 1
            row["withdrawal_reason"], row["withdrawal_channel"] = key[2], key[3]
            row["withdrawal_timing"] = key[4]
        if status == "active" and rng.random() < 0.04:
            mode = "self_service" if rng.random() < 0.7 else "assisted"
            counters.reinstatements[(_month(since), policy, mode)] += 1
            counters.reinstatement_days[(_month(since), policy, mode)] += rng.randrange(
                1, 60
            )
        if rng.random() < 0.12:
            day = registered + timedelta(seconds=rng.randrange(max(life, 1)))
            declined = (
                _month(day),
                policy,
                rng.choice(DECLINE_CHANNELS),
                rng.random() < 0.2,
            )
            counters.declines[declined] += 1
        yield tuple(row[column] for column in columns)


def build_store(url: str, accounts: int) -> None:
    """A store on ``url`` whose projection tables hold ``accounts`` accounts."""
    started = time.perf_counter()
    result = run_cli(
        ["simulate", "--seekers", str(SEED_SEEKERS), "--seed", "1"],
        db_url=url,
        actor="bench",
        env={"SEEKERS_MASTER_KEY": BENCH_MASTER_KEY},
    )
    if result.code != 0:
        raise RuntimeError(f"simulate: {result.stderr}")
    bulk = _Bulk(url)
    try:
        if bulk.sqlite is not None:
            columns = [str(row[1]) for row in bulk.rows("PRAGMA table_info(accounts)")]
        else:
            columns = [
                str(name)
                for (name,) in bulk.rows(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'accounts' ORDER BY ordinal_position"
                )
            ]
        template = dict(
            zip(
                columns,
                bulk.rows(
                    f"SELECT {', '.join(columns)} FROM accounts "
                    "WHERE status = 'active' LIMIT 1"
                )[0],
                strict=True,
            )
        )
        simulated = int(bulk.rows("SELECT count(*) FROM accounts")[0][0])
        indexes = [
            (match.group(1), statement)
            for statement in ACCOUNTS_TABLES
            if (match := INDEX.search(statement))
        ]
        for name, _ in indexes:
            bulk.rows(f"DROP INDEX IF EXISTS {name}")
        counters = _Counters(Counter(), Counter(), Counter(), Counter())
        rng = random.Random(accounts)
        now = datetime.now(UTC)
        rows = _accounts(template, columns, accounts - simulated, rng, now, counters)
        bulk.insert("accounts", columns, rows)
        _write_counters(bulk, counters)
        bulk.commit()
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        for _, statement in indexes:  # the product's own statements
            bulk.rows(statement)
        bulk.commit()
        if bulk.postgres is not None:
            bulk.postgres.autocommit = True
            bulk.rows("ANALYZE")
        sizes = {
            table.removeprefix("report_"): bulk.rows(f"SELECT count(*) FROM {table}")
            for table in COUNTERS
        }
        counted = ", ".join(f"{name} {rows[0][0]:,}" for name, rows in sizes.items())
    finally:
        bulk.close()
    log(
        f"reports: {accounts:,} accounts on {url.split(':')[0]} "
        f"(loaded in {loaded:.0f} s, indexed in {time.perf_counter() - started:.0f} s; "
        f"report rows: {counted})"
    )


def _write_counters(bulk: _Bulk, counters: _Counters) -> None:
    """The report tables: the simulated counts plus the synthetic ones;
    report_status counted again from the accounts table."""
    bulk.rows("DELETE FROM report_status")
    bulk.rows(
        "INSERT INTO report_status (policy, status, count) "
        "SELECT policy, status, count(*) FROM accounts GROUP BY policy, status"
    )
    tables: list[tuple[str, tuple[str, ...], Counter[Any], Counter[Any] | None]] = [
        (
            "report_withdrawals",
            ("month", "policy", "reason", "channel", "timing"),
            counters.withdrawals,
            None,
        ),
        (
            "report_reinstatements",
            ("month", "policy", "mode"),
            counters.reinstatements,
            counters.reinstatement_days,
        ),
        (
            "report_declines",
            ("month", "policy", "channel", "last_minute"),
            counters.declines,
            None,
        ),
    ]
    for table, keys, counts, days in tables:
        extra = ", total_days" if days is not None else ""
        width = len(keys)
        for stored in bulk.rows(f"SELECT {', '.join(keys)}, count{extra} FROM {table}"):
            key = tuple(bool(k) if isinstance(k, int) else k for k in stored[:width])
            counts[key] += stored[width]
            if days is not None:
                days[key] += stored[width + 1]
        bulk.rows(f"DELETE FROM {table}")
        columns = (*keys, "count", *(("total_days",) if days is not None else ()))
        bulk.insert(
            table,
            columns,
            (
                (*key, count, *((days[key],) if days is not None else ()))
                for key, count in counts.items()
            ),
        )


# -- timing the pages as the CLI runs them --------------------------------------------


class _Recording:
    """The accounts view, remembering the statements run through it."""

    def __init__(self, view: Any) -> None:
        self.view = view
        self.statements: list[tuple[str, list[Any]]] = []

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        self.statements.append((sql, list(params)))
        rows: list[dict[str, Any]] = self.view.query(sql, params)
        return rows


Case = Callable[[Any], None]


def cases(view: Any, now: datetime) -> list[tuple[str, Case]]:
    """What a person waits for, each as the command runs it: the query, then
    its table (the default format on a terminal), a page of 50 rows."""
    middle = view.query(
        "SELECT registered_at, id FROM accounts ORDER BY registered_at, id "
        "LIMIT 1 OFFSET (SELECT count(*) / 2 FROM accounts)"
    )[0]
    deep = encode_cursor("list", (middle["registered_at"], middle["id"]))
    due = view.query(
        "SELECT purge_due_at FROM accounts WHERE purge_due_at IS NOT NULL "
        "ORDER BY purge_due_at, id LIMIT 1 OFFSET "
        "(SELECT count(*) / 2 FROM accounts WHERE purge_due_at IS NOT NULL)"
    )[0]["purge_due_at"]
    month = (f"{due[:7]}-01", f"{due[:7]}-28")
    latest = view.query("SELECT max(month) AS month FROM report_withdrawals")
    recent = str(latest[0]["month"])
    withdrawn = (f"{recent}-01", f"{recent}-28")

    def listing(**options: Any) -> Case:
        return lambda v: emit_accounts(
            iter_accounts(v, limit=TERMINAL_PAGE, **options), "table"
        )

    def report(name: str, period: tuple[str, str] | None = None) -> Case:
        start, end = period or (None, None)
        return lambda v: emit_report(
            name,
            report_rows(v, name, start=start, end=end, now=now, limit=TERMINAL_PAGE),
            "table",
        )

    return [
        ("list", listing()),
        ("list, the page halfway through", listing(after=deep)),
        (
            "list --status unreachable --policy pasona",
            listing(status="unreachable", policy="pasona"),
        ),
        ("list --policy workport", listing(policy="workport")),
        ("report status", report("status")),
        ("report withdrawals", report("withdrawals")),
        (
            f"report withdrawals --from/--to {recent}",
            report("withdrawals", withdrawn),
        ),
        ("report reinstatements", report("reinstatements")),
        ("report declines", report("declines")),
        ("report retention", report("retention")),
        (f"report retention --from/--to {due[:7]}", report("retention", month)),
        ("report unreachable", report("unreachable")),
    ]


@contextlib.contextmanager
def _to_devnull() -> Iterator[None]:
    with (
        open(os.devnull, "w") as sink,
        contextlib.redirect_stdout(sink),
        contextlib.redirect_stderr(sink),
    ):
        yield


def _median_time(action: Callable[[], object]) -> float:
    with _to_devnull():
        action()  # warm-up: the first run reads the pages from disk
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            action()
            times.append(time.perf_counter() - started)
    return statistics.median(times)


SORT_LIMIT = 1000
"""A plan may sort this many rows (PostgreSQL sorts the few rows of one
month's bitmap scan rather than walk an index): no more."""


def _plan_problem(
    store: str, view: Any, sql: str, params: list[Any], small: set[str]
) -> str | None:
    """Why this statement's plan reads a whole table or sorts more than
    ``SORT_LIMIT`` rows, or ``None``. Tables in ``small`` (a few hundred rows:
    the counters of a small store) may be read whole: PostgreSQL rightly
    prefers that to an index there."""
    if sql.split(" FROM ")[1].split()[0] in small:
        return None
    if store == SQLITE:
        rows = view.query(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " / ".join(str(row["detail"]) for row in rows)
        # SQLite estimates nothing in its plan: any sort step is a problem.
        whole = re.search(r"\bSCAN \w+$|\bSCAN \w+ /", plan) is not None
        bad = "TEMP B-TREE" in plan or whole
    else:
        rows = view.query(f"EXPLAIN {sql}", params)
        plan = " / ".join(str(row["QUERY PLAN"]).strip() for row in rows)
        sorted_rows = [
            int(n) for n in re.findall(r"Sort\s+\(cost=\S+ rows=(\d+)", plan)
        ]
        bad = "Seq Scan" in plan or any(n > SORT_LIMIT for n in sorted_rows)
    return plan if bad else None


def time_pages(store: str, url: str, size: int, results: dict[str, float]) -> None:
    ledger = open_ledger(url)
    try:
        view = Projections(ledger).views["accounts"]
        now = datetime.now(UTC)
        small = {
            table
            for table in ("report_status", "report_withdrawals", "report_declines")
            if view.query(f"SELECT count(*) AS n FROM {table}")[0]["n"] < 1000
        }
        for label, case in cases(view, now):
            results[f"{size}|{label}"] = _median_time(partial(case, view))
            recording = _Recording(view)
            with _to_devnull():
                case(recording)
            problems = [
                problem
                for sql, params in recording.statements
                if (problem := _plan_problem(store, view, sql, params, small))
            ]
            results[f"{size}|plan|{label}"] = 0.0 if problems else 1.0
            for problem in problems:
                log(f"reports/{store}: {label} at {size:,}: sorts or scans: {problem}")
            log(
                f"reports/{store}: {label} at {size:,}: "
                f"{results[f'{size}|{label}'] * 1000:.1f} ms"
            )
    finally:
        ledger.close()


# -- whole processes ------------------------------------------------------------------

# The child reports its own high-water mark as it exits (see the docstring).
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


def _environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment["SEEKERS_MASTER_KEY"] = BENCH_MASTER_KEY
    environment.pop("SEEKERS_DB", None)
    return environment


def process_time(url: str, arguments: Sequence[str], runs: int = RUNS) -> float:
    """Median wall time of ``seekers --db URL ARGUMENTS`` as a process,
    stdout to /dev/null."""
    command = [seekers_script(), "--db", url, *arguments]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        with open(os.devnull, "w") as sink:
            done = subprocess.run(
                command, stdout=sink, stderr=subprocess.PIPE, env=_environment()
            )
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise RuntimeError(f"seekers {' '.join(arguments)}: {done.stderr!r}")
    return statistics.median(times)


def peak_rss(url: str, arguments: Sequence[str]) -> tuple[float, float]:
    """Peak RSS (MB) and wall time of one ``seekers`` process, stdout to
    /dev/null."""
    command = [sys.executable, "-c", _MEASURED, "--db", url, *arguments]
    started = time.perf_counter()
    with open(os.devnull, "w") as sink:
        done = subprocess.run(
            command, stdout=sink, stderr=subprocess.PIPE, text=True, env=_environment()
        )
    took = time.perf_counter() - started
    peaks = [
        line.split()[1]
        for line in done.stderr.splitlines()
        if line.startswith("peak-rss-kb ")
    ]
    if done.returncode != 0 or not peaks:
        raise RuntimeError(f"seekers {' '.join(arguments)}: {done.stderr}")
    return int(peaks[0]) / 1024, took


STREAMED: list[tuple[str, list[str]]] = [
    *(
        (f"list --all --format {form}", ["list", "--all", "--format", form])
        for form in ("json", "csv", "table")
    ),
    *(
        (f"report {name} --all --format json", ["report", name, "--all"])
        for name in LISTINGS
        if name != "list"
    ),
]
"""The listings whose peak memory must not grow with the rows."""


# -- the figure -----------------------------------------------------------------------


def bench_reports(store: str, stores: Stores, sizes: object) -> dict[str, float]:
    """Every figure on ``store``; ``sizes`` is a ``Plan``, or ``tests.bench``'s
    sizes (its quick run takes ``QUICK``)."""
    if isinstance(sizes, Plan):
        plan = sizes
    else:
        plan = QUICK if getattr(sizes, "command_accounts", 75) < 75 else FULL
    results: dict[str, float] = {}
    largest = max(plan.sizes)
    for size in sorted(plan.sizes):
        url = stores.url(store, f"reports_{size}")
        try:
            build_store(url, size)
            time_pages(store, url, size, results)
            results[f"{size}|process"] = process_time(
                url, ["list", "--limit", str(TERMINAL_PAGE)]
            )
            log(
                f"reports/{store}: seekers list --limit 50 at {size:,}: "
                f"{results[f'{size}|process'] * 1000:.0f} ms"
            )
            if size in plan.rss_sizes:
                for label, arguments in STREAMED:
                    mb, took = peak_rss(url, ["--json", *arguments])
                    results[f"{size}|rss|{label}"] = mb
                    log(
                        f"reports/{store}: {label} at {size:,}: {mb:.1f} MB "
                        f"({took:.1f} s)"
                    )
            if size == largest:
                mb, took = peak_rss(url, ["list", "--all", "--format", "json"])
                results["all|seconds"], results["all|rss"] = took, mb
                log(
                    f"reports/{store}: list --all at {size:,}: {took:.1f} s, "
                    f"{mb:.0f} MB"
                )
        finally:
            stores.drop(url)
    return results


def _labels(results: dict[str, dict[str, float]], size: int) -> list[str]:
    prefix = f"{size}|"
    seen: dict[str, None] = {}
    for figures in results.values():
        for key in figures:
            label = key.removeprefix(prefix)
            if key.startswith(prefix) and "|" not in label and label != "process":
                seen[label] = None
    return list(seen)


def _timing_rows(
    results: dict[str, dict[str, float]], size: int, suffix: str = ""
) -> list[Row]:
    rows = []
    for label in _labels(results, size):
        cells, verdicts = {}, {}
        for store, figures in results.items():
            seconds = figures.get(f"{size}|{label}")
            if seconds is not None:
                cells[store] = f"{seconds * 1000:.1f} ms"
                verdicts[store] = verdict(seconds <= TARGET_S)
        rows.append(Row(f"{label}{suffix}", cells, "≤ 200 ms", verdicts))
    return rows


def _plan_row(results: dict[str, dict[str, float]], size: int) -> Row:
    cells, verdicts = {}, {}
    for store, figures in results.items():
        marks = [v for k, v in figures.items() if k.startswith(f"{size}|plan|")]
        if marks:
            cells[store] = f"{int(sum(marks))}/{len(marks)} queries"
            verdicts[store] = verdict(all(marks))
    return Row(
        f"plans at {size:,}: no full scan, no sort of > {SORT_LIMIT:,} rows",
        cells,
        "all",
        verdicts,
    )


def _process_rows(results: dict[str, dict[str, float]], plan: Plan) -> list[Row]:
    smallest, largest = min(plan.sizes), max(plan.sizes)
    times, growth, verdicts = {}, {}, {}
    for store, figures in results.items():
        if f"{largest}|process" not in figures:
            continue
        times[store] = (
            " → ".join(
                f"{figures[f'{size}|process'] * 1000:.0f}"
                for size in sorted(plan.sizes)
            )
            + " ms"
        )
        grown = figures[f"{largest}|process"] - figures[f"{smallest}|process"]
        growth[store] = f"{grown * 1000:+.0f} ms"
        verdicts[store] = verdict(grown <= TARGET_S)
    sizes = " → ".join(_short(size) for size in sorted(plan.sizes))
    return [
        Row(f"seekers list --limit 50, whole process, {sizes}", times),
        Row(
            f"  its growth, {_short(smallest)} → {_short(largest)} accounts",
            growth,
            "≤ 200 ms",
            verdicts,
        ),
    ]


def _memory_rows(results: dict[str, dict[str, float]], plan: Plan) -> list[Row]:
    small, large = plan.rss_sizes
    rows = []
    for label, _ in STREAMED:
        cells, verdicts = {}, {}
        for store, figures in results.items():
            before = figures.get(f"{small}|rss|{label}")
            after = figures.get(f"{large}|rss|{label}")
            if before is None or after is None:
                continue
            cells[store] = f"{before:.0f} → {after:.0f} MB"
            verdicts[store] = verdict(after <= before * MEMORY_LIMIT)
        rows.append(Row(label, cells, f"≤ {MEMORY_LIMIT}x (flat)", verdicts))
    return rows


def _all_row(results: dict[str, dict[str, float]], plan: Plan) -> Row:
    cells = {
        store: f"{figures['all|seconds']:.1f} s, {figures['all|rss']:.0f} MB peak"
        for store, figures in results.items()
        if "all|seconds" in figures
    }
    return Row(f"list --all --format json at {_short(max(plan.sizes))}", cells)


def _short(size: int) -> str:
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size >= 1000 and size % 1000 == 0:
        return f"{size // 1000}k"
    return f"{size:,}"


def reports_section(results: dict[str, dict[str, float]], sizes: object) -> Section:
    """Figure 8 of ``tests.bench``: the largest size's pages, the whole
    process's growth, flat memory, and ``list --all`` against before."""
    plan = (
        sizes
        if isinstance(sizes, Plan)
        else (QUICK if getattr(sizes, "command_accounts", 75) < 75 else FULL)
    )
    largest = max(plan.sizes)
    small, large = plan.rss_sizes
    section = Section(
        f"8. list and reports over {largest:,} accounts (projection tables filled "
        "with synthetic rows): first page of 50, query + table to /dev/null, "
        f"median of {RUNS}; peak RSS of --all to /dev/null, {_short(small)} → "
        f"{_short(large)} accounts"
    )
    section.rows += _timing_rows(results, largest)
    section.rows.append(_plan_row(results, largest))
    section.rows += _process_rows(results, plan)
    section.rows += _memory_rows(results, plan)
    section.rows.append(_all_row(results, plan))
    section.notes += [
        BEFORE,
        "the whole process includes interpreter start-up and imports, the same "
        "at every size; its growth is what the rows cost",
        "python -m tests.bench_reports shows every size",
    ]
    return section


def sections(results: dict[str, dict[str, float]], plan: Plan) -> list[Section]:
    """Every size's pages, then the whole process, memory and ``--all``."""
    out = []
    for size in sorted(plan.sizes):
        section = Section(
            f"first page of 50 over {size:,} accounts: query + table to /dev/null, "
            f"median of {RUNS}"
        )
        section.rows += _timing_rows(results, size)
        section.rows.append(_plan_row(results, size))
        out.append(section)
    small, large = plan.rss_sizes
    whole = Section(
        f"whole processes; peak RSS of --all to /dev/null, {small:,} → {large:,} "
        "accounts"
    )
    whole.rows += _process_rows(results, plan)
    whole.rows += _memory_rows(results, plan)
    whole.rows.append(_all_row(results, plan))
    whole.notes += [
        BEFORE,
        "the whole process includes interpreter start-up and imports, the same "
        "at every size; its growth is what the rows cost",
    ]
    out.append(whole)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench_reports",
        description=(__doc__ or "").splitlines()[0],
    )
    parser.add_argument("--stores", default=f"{SQLITE},{POSTGRES}")
    parser.add_argument("--sizes", default=",".join(str(size) for size in FULL.sizes))
    parser.add_argument(
        "--rss-sizes", default=",".join(str(size) for size in FULL.rss_sizes)
    )
    arguments = parser.parse_args(argv)
    selected = arguments.stores.split(",")
    if any(store not in STORE_LABELS for store in selected):
        parser.error(f"--stores takes {SQLITE} and/or {POSTGRES}")
    sizes = tuple(int(size) for size in arguments.sizes.split(","))
    small, large = (int(size) for size in arguments.rss_sizes.split(","))
    plan = Plan(tuple(sorted({*sizes, small, large})), (small, large))
    stores = Stores()
    results: dict[str, dict[str, float]] = {}
    notes: list[str] = []
    failed = False
    started = time.monotonic()
    try:
        for store in selected:
            reason = stores.available(store)
            if reason is not None:
                notes.append(f"{STORE_LABELS[store]} UNAVAILABLE: {reason}")
                failed = True
                continue
            results[store] = bench_reports(store, stores, plan)
    finally:
        stores.close()
    sys.stderr.flush()
    print("Seeker Ledger: list and reports over many accounts (tests/bench_reports.py)")
    print(render(sections(results, plan), selected))
    for note in notes:
        print(f"  {note}")
    print(f"  total time {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
