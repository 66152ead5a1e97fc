"""A streaming hot standby of the throwaway PostgreSQL server.

Why this exists: the ledger can read from a replica, which lags its primary;
the tests need a real one to see the lag and the read-only refusals. The
standby is a copy of a running ``ThrowawayPostgres`` (``pg_basebackup -R -X
stream`` over the primary's unix socket, as the superuser), started on its
own free loopback port and socket folder, in its own temporary folder, and
thrown away afterwards (also at interpreter exit and on SIGTERM, like the
primary). Roles and passwords are the primary's: ``seekers`` logs in to both.

It is a ``ThrowawayPostgres`` whose data folder comes from the primary rather
than ``initdb`` and which creates nothing once it runs (it cannot: it is read
only). A database created on the primary exists on the standby only once the
standby has replayed that far: ``wait_for(name)`` waits for it.

Usage::

    with ThrowawayPostgres() as primary, ThrowawayStandby(primary) as standby:
        primary.create_database("t_abc")
        url = standby.wait_for("t_abc")  # read-only, same role and password
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg

from tests.support.postgres_server import (
    SUPERUSER,
    PostgresUnavailable,
    ThrowawayPostgres,
    _tail,
)


@dataclass(frozen=True)
class StandbyPair:
    """One database on the primary and the same database on its standby."""

    primary_url: str
    standby_url: str


class ThrowawayStandby(ThrowawayPostgres):
    """A hot standby streaming from ``primary`` (which must be running).

    ``start()`` (or ``with``) copies the primary, starts the copy in recovery
    and waits until it accepts connections and its walreceiver streams.
    ``stop()`` kills it and deletes its folder.
    """

    _DIR_PREFIX = "seekers-pg-standby-"

    def __init__(
        self, primary: ThrowawayPostgres, *, startup_timeout: float = 30.0
    ) -> None:
        # A standby needs max_connections (and the like) at least the
        # primary's: the same settings, plus serving reads during recovery.
        super().__init__(
            settings={**primary.settings, "hot_standby": "on"},
            startup_timeout=startup_timeout,
        )
        self.primary = primary

    # -- databases ---------------------------------------------------------

    def create_database(self, name: str) -> str:
        raise PostgresUnavailable(
            "a standby is read-only: create the database on the primary, then "
            "wait_for() it here"
        )

    def drop_database(self, name: str) -> None:
        raise PostgresUnavailable(
            "a standby is read-only: drop the database on the primary"
        )

    def wait_for(self, database: str, timeout: float = 30.0) -> str:
        """The URL of ``database`` here, once the standby has caught up with
        the primary (so a database just created there exists here)."""
        self.wait_caught_up(timeout)
        with self.admin_connection() as conn:
            found = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [database]
            ).fetchone()
        if found is None:
            raise PostgresUnavailable(
                f"no database {database!r} on the standby, though it has "
                "caught up with the primary (is there one on the primary?)"
            )
        return self.url_for(database)

    def wait_caught_up(self, timeout: float = 30.0) -> None:
        """Wait until the standby has replayed everything the primary has
        committed so far.

        The primary runs with ``synchronous_commit = off``: its last commits
        may not even be written yet, and a standby only receives flushed WAL.
        So first commit a transaction synchronously on the primary (which
        flushes all WAL before it), then wait for the standby to replay up to
        the primary's flush position, a record boundary it will reach. The
        transaction must write WAL (here a logical message, which needs no
        ``wal_level = logical``): one that only takes a transaction id commits
        asynchronously whatever ``synchronous_commit`` says.
        """
        with self.primary.admin_connection() as primary:
            primary.execute("SET synchronous_commit = on")
            primary.execute(
                "SELECT pg_logical_emit_message(true, 'seekers-tests', 'caught up?')"
            )
            row = primary.execute("SELECT pg_current_wal_flush_lsn()::text").fetchone()
        assert row is not None
        target = str(row[0])
        deadline = time.monotonic() + timeout
        replayed: object = None
        with self.admin_connection() as standby:
            while True:
                replayed, done = standby.execute(
                    "SELECT pg_last_wal_replay_lsn()::text,"
                    " coalesce(pg_last_wal_replay_lsn() >= %s::pg_lsn, false)",
                    [target],
                ).fetchone() or (None, False)
                if done:
                    return
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.01)
        raise PostgresUnavailable(
            f"the standby replayed up to {replayed} but not to the primary's "
            f"{target} within {timeout:g} s; standby log:\n" + self._log_tail()
        )

    # -- internals ---------------------------------------------------------

    def _make_data_dir(self) -> None:
        """``pg_basebackup`` the primary into ``data_dir``, configured (``-R``)
        to stream from it over its unix socket."""
        if self.primary.port is None:
            raise PostgresUnavailable("the primary is not running")
        done = self._run(
            [
                self._bin("pg_basebackup"),
                *("-D", str(self.data_dir)),
                "-R",
                *("-X", "stream"),
                *("-c", "fast"),
                *("-h", str(self.primary.socket_dir)),
                *("-p", str(self.primary.port)),
                *("-U", SUPERUSER),
                "--no-sync",  # a throwaway copy needs no crash safety
            ],
            timeout=120,
        )
        if done.returncode != 0:
            raise PostgresUnavailable(
                f"pg_basebackup of the primary failed (exit {done.returncode}):\n"
                + _tail(done.stdout + done.stderr)
            )

    def _after_launch(self) -> None:
        """Prove it is a standby, streaming, and that ``seekers`` logs in."""
        deadline = time.monotonic() + self.startup_timeout
        with self.admin_connection() as conn:
            while True:
                in_recovery, streaming = conn.execute(
                    "SELECT pg_is_in_recovery(),"
                    " EXISTS (SELECT FROM pg_stat_wal_receiver"
                    "         WHERE status = 'streaming')"
                ).fetchone() or (False, False)
                if not in_recovery:
                    raise PostgresUnavailable(
                        "the standby is not in recovery (no standby.signal?)"
                    )
                if streaming:
                    break
                if time.monotonic() >= deadline:
                    raise PostgresUnavailable(
                        "the standby's walreceiver did not stream from the "
                        f"primary within {self.startup_timeout:g} s; standby "
                        "log:\n" + self._log_tail()
                    )
                time.sleep(0.02)
        try:
            with psycopg.connect(self.url, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as error:
            raise PostgresUnavailable(
                f"the standby started but {self.url} does not work: {error}\n"
                + self._log_tail()
            ) from error
