"""Reading from a PostgreSQL hot standby: how far behind its primary it is,
and waiting until it has caught up with a moment of the primary.

A standby replays the primary's write-ahead log. Its answer is as of the
last transaction it replayed: a read there says how far that is behind the
primary's log when it is, and ``--fresh`` waits until the standby has
replayed the primary's current log position (taken when the read starts), so
it sees every command that had returned by then.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg

from adapters.storage import StorageConfig
from domain.errors import StorageError
from domain.i18n import _

FRESH_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class Lag:
    """A standby's distance from its primary, when it is behind."""

    bytes: int
    seconds: float | None
    """Since the last transaction the standby replayed (``None``: none yet)."""

    def describe(self) -> str:
        if self.seconds is None:
            return _("standby {bytes} bytes of log behind the primary").format(
                bytes=self.bytes
            )
        return _("standby {seconds} s behind the primary").format(
            seconds=f"{self.seconds:.1f}"
        )


def in_recovery(connection: psycopg.Connection[tuple[object, ...]]) -> bool:
    row = connection.execute("SELECT pg_is_in_recovery()").fetchone()
    return bool(row and row[0])


def primary_position(primary: psycopg.Connection[tuple[object, ...]]) -> str:
    """The primary's current write-ahead log position: where it has inserted
    up to, which covers every commit it has acknowledged, whether or not
    that was flushed yet (``synchronous_commit = off``)."""
    row = primary.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
    assert row is not None
    return str(row[0])


def lag_behind(
    standby: psycopg.Connection[tuple[object, ...]], position: str
) -> Lag | None:
    """How far the standby is behind ``position`` of its primary's log;
    ``None`` once it has replayed that far."""
    row = standby.execute(
        "SELECT pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn())::bigint, "
        "extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8",
        (position,),
    ).fetchone()
    assert row is not None
    behind, seconds = row
    if behind is None or int(str(behind)) <= 0:
        return None
    return Lag(int(str(behind)), None if seconds is None else float(str(seconds)))


def wait_until_replayed(
    standby: psycopg.Connection[tuple[object, ...]],
    position: str,
    *,
    timeout: float,
    config: StorageConfig,
) -> None:
    """Return once the standby has replayed the primary's log up to
    ``position``; a clear storage error after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (lag := lag_behind(standby, position)) is not None:
        if time.monotonic() > deadline:
            raise StorageError(
                _(
                    "{url}: --fresh: the standby did not catch up with the "
                    "primary within {seconds} s ({lag}); is it replicating?"
                ).format(
                    url=config.safe_url, seconds=f"{timeout:g}", lag=lag.describe()
                )
            )
        time.sleep(FRESH_POLL_SECONDS)
