"""Opening a PostgreSQL store: name the problem if it cannot be reached, and
create the schema once, one process at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from adapters.roles import ACCESS_QUERY, Access, access_of
from adapters.storage import StorageConfig
from domain.errors import StorageError

PROBE_TIMEOUT_SECONDS = 3
SCHEMA_VERSION = 4  # 2: the audit integrity tables; 3: fewer account indexes;
# 4: the principal of each chain row, stamped by a trigger
SCHEMA_MARKER = "seekers_schema"
SCHEMA_LOCK = 0x5EE4E25  # any constant: the advisory lock guarding schema setup
_PROBLEMS = (
    (
        "password authentication failed",
        "authentication failed (wrong user or password)",
    ),
    ("does not exist", "database does not exist"),
    ("could not translate host name", "unknown host"),
    ("Name or service not known", "unknown host"),
    ("Connection refused", "no server is listening (is PostgreSQL running?)"),
    ("timeout expired", "host unreachable (no answer)"),
    ("invalid response to SSL negotiation", "no PostgreSQL server at that address"),
)


def connect(config: StorageConfig) -> psycopg.Connection[tuple[object, ...]]:
    """One direct connection, naming the problem when there is one.

    The library's pool only reports that it "couldn't get a connection" after
    its timeout; operators need to know whether the server is down, the
    password wrong, the database missing or the host unreachable.
    """
    env = config.environment
    try:
        return psycopg.connect(
            host=env["POSTGRES_HOST"],
            port=int(env["POSTGRES_PORT"]),
            dbname=env["POSTGRES_DBNAME"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"],
            connect_timeout=PROBE_TIMEOUT_SECONDS,
            autocommit=True,
        )
    except psycopg.Error as error:
        text = " ".join(str(error).split())
        problem = next((label for key, label in _PROBLEMS if key in text), text)
        raise StorageError(f"{config.safe_url}: {problem}") from None


@dataclass(frozen=True)
class Opening:
    """What the first look at a store decided: whether this process creates
    the schema, and who the login is there (``adapters.roles.Access``)."""

    creating: bool
    access: Access


@contextmanager
def schema_lock(
    config: StorageConfig,
    *,
    migrate: bool = False,
    authorize: Callable[[Access], None] = lambda access: None,
) -> Iterator[Opening]:
    """Yields whether this process must create the schema (tables, functions,
    indexes), and the login's access; when creating, it holds an advisory
    lock until done and marks it done.

    Every command used to re-run the library's ``CREATE ... IF NOT EXISTS``
    and ``CREATE OR REPLACE FUNCTION``; two commands starting together then
    failed with "tuple concurrently updated". Now the first run creates the
    schema under the lock and later runs skip it. Only the store's owner
    creates or upgrades it (the first run, or ``seekers migrate``): any other
    login finds it ready or is told to ask the owner, and never runs DDL.
    ``migrate`` runs the (idempotent) set-up even when the schema is ready.
    ``authorize`` sees the login's access first and may refuse the command.
    """
    connection = connect(config)
    try:
        access = access_of(connection.execute(ACCESS_QUERY).fetchone())
        authorize(access)
        if _schema_ready(connection) and not migrate:
            connection.close()  # a CLI run holds the pool's two, no more
            yield Opening(False, access)
            return
        if not access.owner:
            raise StorageError(
                f"{config.safe_url}: the schema is missing or older than this "
                f"version (schema {SCHEMA_VERSION}), and login {access.login!r} "
                "does not own the store: the owner runs 'seekers migrate'"
            )
        connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            if _schema_ready(connection) and not migrate:  # made meanwhile
                yield Opening(False, access)
                return
            yield Opening(True, access)
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA_MARKER} (version INTEGER NOT NULL)"
            )
            connection.execute(f"DELETE FROM {SCHEMA_MARKER}")
            connection.execute(
                f"INSERT INTO {SCHEMA_MARKER} (version) VALUES (%s)", (SCHEMA_VERSION,)
            )
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))
    finally:
        connection.close()


def _schema_ready(connection: psycopg.Connection[tuple[object, ...]]) -> bool:
    row = connection.execute("SELECT to_regclass(%s)", (SCHEMA_MARKER,)).fetchone()
    if row is None or row[0] is None:
        return False
    version = connection.execute(f"SELECT max(version) FROM {SCHEMA_MARKER}").fetchone()
    return version is not None and version[0] == SCHEMA_VERSION
