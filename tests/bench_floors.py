"""Floors under three of issue #11's ratios: how good each could get at best.

A ratio against a bare baseline can only be met if the work the product
must do on top of the baseline fits in the allowance. These measurements
give that work's cheapest possible cost, so each missed target says whether
it is a matter of tuning or out of reach without dropping what SPEC asks:

- **command** (SQLite): for a share of the commands, ours and the bare
  twin's, the time spent inside ``sqlite3``'s C methods is measured live
  (``sys.setprofile`` sees each call to ``execute``, ``executemany``, the
  fetches, ``commit``; the hook's own entry adds well under a microsecond
  a call). ``bound = (bare - bare_sql + our_sql) / bare``: the ratio if our
  Python cost no more than the bare aggregate's, with only our SQL (the
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

import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from unittest import mock

from projections.changes import ChangeSet

SQLITE_METHODS = frozenset(
    {"execute", "executemany", "executescript", "fetchone", "fetchmany"}
    | {"fetchall", "commit", "rollback"}
)


class SqlClock:
    """The time a unit of work spends inside ``sqlite3``'s C methods (the
    database's own work: preparing where nothing is cached, running,
    committing), measured live with ``sys.setprofile``, and the number of
    those calls. Only while ``measuring``: the hook slows the Python around
    the calls, so the units measured are not the ones timed."""

    def __init__(self) -> None:
        self.units: list[tuple[float, int]] = []
        self._started: float | None = None
        self._spent = 0.0
        self._calls = 0

    def _hook(self, frame: Any, event: str, function: Any) -> None:
        if event == "c_call":
            if getattr(function, "__name__", "") in SQLITE_METHODS and isinstance(
                getattr(function, "__self__", None),
                sqlite3.Cursor | sqlite3.Connection,
            ):
                self._started = time.perf_counter()
        elif event in ("c_return", "c_exception") and self._started is not None:
            self._spent += time.perf_counter() - self._started
            self._calls += 1
            self._started = None

    @contextmanager
    def measuring(self) -> Iterator[None]:
        self._spent, self._calls = 0.0, 0
        sys.setprofile(self._hook)
        try:
            yield
        finally:
            sys.setprofile(None)
            self.units.append((self._spent, self._calls))


@contextmanager
def measured(clocks: dict[str, SqlClock], name: str, measure: bool) -> Iterator[None]:
    """Measure one unit of work with ``clocks[name]`` if ``measure``."""
    if not measure:
        yield
        return
    with clocks[name].measuring():
        yield


def command_bound(
    ours: SqlClock, bare: SqlClock, bare_times: Sequence[float]
) -> dict[str, float]:
    """The best ratio a command could reach with its SQL as it is: the bare
    command's time (``bare_times``, timed without the hook) with its SQL
    replaced by ours."""
    ours_sql = statistics.median(spent for spent, _ in ours.units)
    bare_sql = statistics.median(spent for spent, _ in bare.units)
    bare_median = statistics.median(bare_times)
    return {
        "ours_sql": ours_sql,
        "bare_sql": bare_sql,
        "statements": statistics.fmean(calls for _, calls in ours.units),
        "bare_statements": statistics.fmean(calls for _, calls in bare.units),
        "bound": (bare_median - bare_sql + ours_sql) / bare_median,
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
