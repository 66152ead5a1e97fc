"""Floors under three of issue #11's ratios: how good each could get at best.

A ratio against a bare baseline can only be met if the work the product
must do on top of the baseline fits in the allowance. These measurements
give that work's cheapest possible cost, so each missed target says whether
it is a matter of tuning or out of reach without dropping what SPEC asks:

- **command** (SQLite): every SQL statement of a share of the commands,
  ours and the bare twin's, is logged as run (``sqlite3``'s trace callback
  gives it with its values) and replayed on a copy of the database taken
  before the first, with no Python around it. The library opens its SQLite
  connections with ``cached_statements=True``, a cache of one statement, so
  the live run prepares nearly every statement afresh, as the replay does.
  ``bound = (bare - bare_sql + our_sql) / bare``: the ratio if our Python
  cost no more than the bare aggregate's, with only our statements (the
  chain, the tree, the request row, both inline projections and the
  catch-up read) on top.
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
        """Trace the connections the datastore's pool hands out while
        ``recording``, and only then (the pool's connections are made before
        the bench can reach them; a callback left on would slow the timed
        commands)."""
        pool = datastore.pool
        handing_out = pool.get_connection

        def get_connection(*args: Any, **kwargs: Any) -> Any:
            connection = handing_out(*args, **kwargs)
            raw: sqlite3.Connection = connection.cursor().sqlite_cursor.connection
            raw.set_trace_callback(None if self._current is None else self._trace)
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
def logged(logs: dict[str, StatementLog], name: str, record: bool) -> Iterator[None]:
    """Record one unit of work in ``logs[name]`` if ``record``."""
    if not record:
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
    connection = sqlite3.connect(database)
    try:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        connection.close()
    if busy:
        raise RuntimeError(f"{database}: the log could not be checkpointed")
    copy = database.with_name(f"{database.stem}-floor{database.suffix}")
    for leftover in (Path(f"{copy}-wal"), Path(f"{copy}-shm")):
        leftover.unlink(missing_ok=True)
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


def rebuild_without_writes(
    rebuild: Callable[..., int], events: int, repeat: int
) -> float:
    """Median seconds for ``rebuild`` to read, decode and apply the whole log
    with nothing written but its position. One batch: with nothing written,
    a later batch would not find the rows the earlier ones made, so every
    account's row stays in memory and its due times are derived once (a
    little less work than the real rebuild does). A first, untimed pass
    empties the tables; the store is left with empty projections at the
    log's head, to be dropped."""
    timings = []
    with mock.patch.object(ChangeSet, "flush", lambda self: None):
        rebuild(batch_size=events + 1)
        for _ in range(repeat):
            began = time.perf_counter()
            processed = rebuild(batch_size=events + 1)
            timings.append(time.perf_counter() - began)
            if processed != 2 * events:
                raise AssertionError(f"rebuild without writes processed {processed}")
    return statistics.median(timings)


def simulate_bound(generating: float, bare: float) -> float:
    """``simulate``'s best ratio: its commands and rules, then a save as
    cheap as the bare one."""
    return bare / (generating + bare)
