"""Floors under three of issue #11's ratios: how good each could get at best.

A ratio against a bare baseline can only be met if the work the product
must do on top of the baseline fits in the allowance. These measurements
give that work's cheapest possible cost, so each missed target says whether
it is a matter of tuning or out of reach without dropping what SPEC asks:

- **command** (SQLite): every SQL statement of one round of commands, ours
  and the bare twin's, is logged as run (``sqlite3``'s trace callback gives
  it with its values) and replayed on a copy of the database taken just
  before, with no Python around it. ``bound = (bare - bare_sql + our_sql) /
  bare``: the ratio if our Python cost no more than the bare aggregate's,
  with only our statements (the chain, the tree, the request row, both
  inline projections and the catch-up read) on top.
- **rebuild**: the rebuild's own decode and both projections' handlers over
  the whole log in one batch, writing nothing (``ChangeSet.flush`` is a
  no-op): ``bound = read+decode / that``, the ratio if the tables and their
  indexes cost nothing to write.
- **simulate**: ``bound = bare / (commands and rules + bare)``, the ratio if
  sealing, chaining and projecting cost nothing and the save cost what the
  bare save does (both already measured by figure 9).
"""

from __future__ import annotations

import shutil
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from adapters.storage import parse_storage_url
from projections.changes import ChangeSet


class StatementLog:
    """The SQL statements a ledger's SQLite connections run, one list per
    unit of work (a command), while ``recording`` is on."""

    def __init__(self) -> None:
        self.units: list[list[str]] = []
        self._current: list[str] | None = None

    def watch(self, datastore: Any) -> None:
        """Trace every connection the datastore's pool hands out from now on
        (the pool's connections are made before the bench can reach them)."""
        pool = datastore.pool
        handing_out = pool.get_connection

        def get_connection(*args: Any, **kwargs: Any) -> Any:
            connection = handing_out(*args, **kwargs)
            raw: sqlite3.Connection = connection.cursor().sqlite_cursor.connection
            raw.set_trace_callback(self._trace)
            return connection

        pool.get_connection = get_connection

    def _trace(self, statement: str) -> None:
        if self._current is not None:
            self._current.append(statement)

    @contextmanager
    def recording(self) -> Iterator[None]:
        """Log the statements of one unit of work."""
        self._current = []
        try:
            yield
        finally:
            self.units.append(self._current)
            self._current = None


@contextmanager
def logged(logs: dict[str, StatementLog], name: str) -> Iterator[None]:
    """Record one unit of work in ``logs[name]``, if there is such a log."""
    if name not in logs:
        yield
        return
    with logs[name].recording():
        yield


def sqlite_file(url: str) -> Path:
    path = parse_storage_url(url).sqlite_path
    assert path is not None, f"{url} is not a SQLite store"
    return Path(path)


def snapshot(database: Path) -> Path:
    """A copy of a SQLite database as it is now (its log checkpointed first);
    every connection must be idle."""
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    copy = database.with_name(f"{database.stem}-floor{database.suffix}")
    shutil.copyfile(database, copy)
    return copy


def replay(database: Path, units: Sequence[Sequence[str]]) -> list[float]:
    """Run each unit's logged statements on ``database`` (a snapshot taken
    before they ran), in WAL mode as the ledger runs; seconds per unit."""
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        timings = []
        for statements in units:
            began = time.perf_counter()
            for statement in statements:
                connection.execute(statement).fetchall()
            timings.append(time.perf_counter() - began)
        return timings
    finally:
        connection.close()


def command_bound(
    ours_sql: Sequence[float], bare_sql: Sequence[float], bare: Sequence[float]
) -> dict[str, float]:
    """The best ratio a command could reach with its statements as they are."""
    ours_sql_median = statistics.median(ours_sql)
    bare_sql_median = statistics.median(bare_sql)
    bare_median = statistics.median(bare)
    return {
        "ours_sql": ours_sql_median,
        "bare_sql": bare_sql_median,
        "bound": (bare_median - bare_sql_median + ours_sql_median) / bare_median,
    }


def rebuild_without_writes(rebuild: Callable[..., int], events: int) -> float:
    """Seconds for ``rebuild`` to read, decode and apply the whole log as one
    batch with nothing written but its position (run twice: the first pass
    empties the tables, the second, timed, starts from empty ones)."""
    with mock.patch.object(ChangeSet, "flush", lambda self: None):
        rebuild(batch_size=events + 1)
        began = time.perf_counter()
        processed = rebuild(batch_size=events + 1)
        elapsed = time.perf_counter() - began
    if processed != 2 * events:
        raise AssertionError(f"rebuild without writes processed {processed}")
    return elapsed


def simulate_bound(generating: float, bare: float) -> float:
    """``simulate``'s best ratio: its commands and rules, then a save as
    cheap as the bare one."""
    return bare / (generating + bare)
