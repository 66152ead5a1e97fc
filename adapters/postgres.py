"""Opening a PostgreSQL store: name the problem if it cannot be reached, and
create the schema once, one process at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from adapters.roles import ACCESS_QUERY, Access, access_of
from adapters.standby import in_recovery
from adapters.storage import StorageConfig
from domain.errors import StorageError
from domain.i18n import N_, _

PROBE_TIMEOUT_SECONDS = 3
SCHEMA_VERSION = 6  # 2: the audit integrity tables; 3: fewer account indexes;
# 4: the principal of each chain row, stamped by a trigger; 5: the functions
# of a blue-green projections rebuild; 6: the name readings' blind index
SCHEMA_MARKER = "seekers_schema"
SCHEMA_LOCK = 0x5EE4E25  # any constant: the advisory lock guarding schema setup
_PROBLEMS = (
    (
        "password authentication failed",
        N_("authentication failed (wrong user or password)"),
    ),
    ("does not exist", N_("database does not exist")),
    ("could not translate host name", N_("unknown host")),
    ("Name or service not known", N_("unknown host")),
    ("Connection refused", N_("no server is listening (is PostgreSQL running?)")),
    ("timeout expired", N_("host unreachable (no answer)")),
    ("invalid response to SSL negotiation", N_("no PostgreSQL server at that address")),
)


def connect(config: StorageConfig) -> psycopg.Connection[tuple[object, ...]]:
    """One direct connection, naming the problem when there is one."""
    return probe(config)[0]


POOLER_REFUSAL = "unsupported startup parameter"
"""How PgBouncer refuses a startup option (``options``): the sign that the
URL reaches a transaction pooler rather than the server itself."""


def probe(config: StorageConfig) -> tuple[psycopg.Connection[tuple[object, ...]], bool]:
    """A connection, and whether it goes through a pooler
    (``adapters.postgres_store``).

    The library's pool only reports that it "couldn't get a connection" after
    its timeout; operators need to know whether the server is down, the
    password wrong, the database missing or the host unreachable.
    """
    env = config.environment
    options = f"-c lock_timeout={env['POSTGRES_LOCK_TIMEOUT']}s"
    try:
        try:
            return _connect(config, options=options), False
        except psycopg.OperationalError as error:
            if POOLER_REFUSAL not in str(error):
                raise
            return _connect(config), True
    except psycopg.Error as error:
        text = " ".join(str(error).split())
        problem = next((_(label) for key, label in _PROBLEMS if key in text), text)
        raise StorageError(f"{config.safe_url}: {problem}") from None


def _connect(
    config: StorageConfig, *, options: str | None = None
) -> psycopg.Connection[tuple[object, ...]]:
    env = config.environment
    return psycopg.connect(
        host=env["POSTGRES_HOST"],
        port=int(env["POSTGRES_PORT"]),
        dbname=env["POSTGRES_DBNAME"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        connect_timeout=PROBE_TIMEOUT_SECONDS,
        autocommit=True,
        prepare_threshold=None,  # a pooler may hand each statement elsewhere
        options=options or "",  # libpq sends no empty startup option
    )


@dataclass(frozen=True)
class Opening:
    """What the first look at a store decided: whether this process creates
    the schema, and who the login is there (``adapters.roles.Access``)."""

    creating: bool
    access: Access
    pooled: bool = False
    """The URL reaches a transaction pooler (``adapters.postgres_store``)."""
    standby: bool = False
    """The server is a hot standby, in recovery: it can only be read."""


@contextmanager
def schema_lock(
    config: StorageConfig,
    *,
    migrate: bool = False,
    authorize: Callable[[Access], None] = lambda access: None,
) -> Iterator[Opening]:
    """Yields whether this process must create the schema (tables, functions,
    indexes), and the login's access; when creating, it holds an advisory
    lock until done and marks it done, in one transaction.

    Every command used to re-run the library's ``CREATE ... IF NOT EXISTS``
    and ``CREATE OR REPLACE FUNCTION``; two commands starting together then
    failed with "tuple concurrently updated". Now the first run creates the
    schema under the lock and later runs skip it. Only the store's owner
    creates or upgrades it (the first run, or ``seekers migrate``): any other
    login finds it ready or is told to ask the owner, and never runs DDL.
    ``migrate`` runs the (idempotent) set-up even when the schema is ready.
    ``authorize`` sees the login's access first and may refuse the command.
    """
    connection, pooled = probe(config)
    try:
        access = access_of(connection.execute(ACCESS_QUERY).fetchone())
        authorize(access)
        standby = in_recovery(connection)
        if _schema_ready(connection) and not (migrate and not standby):
            connection.close()  # a CLI run holds the pool's two, no more
            yield Opening(False, access, pooled, standby)
            return
        if standby:
            raise StorageError(
                _(
                    "{url}: a read-only standby without this version's schema "
                    "(schema {version}): it has not replayed it yet (--fresh waits "
                    "until it has), or the primary has none (its owner runs "
                    "'seekers migrate' there)"
                ).format(url=config.safe_url, version=SCHEMA_VERSION)
            )
        if not access.owner:
            raise StorageError(
                _(
                    "{url}: the schema is missing or older than this version "
                    "(schema {version}), and login {login!r} does not own the "
                    "store: the owner runs 'seekers migrate'"
                ).format(
                    url=config.safe_url, version=SCHEMA_VERSION, login=access.login
                )
            )
        # A transaction's advisory lock, not a session's: behind a pooler the
        # session is not this client's, the transaction is.
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            if _schema_ready(connection) and not migrate:  # made meanwhile
                yield Opening(False, access, pooled)
                return
            yield Opening(True, access, pooled)
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA_MARKER} (version INTEGER NOT NULL)"
            )
            connection.execute(f"DELETE FROM {SCHEMA_MARKER}")
            connection.execute(
                f"INSERT INTO {SCHEMA_MARKER} (version) VALUES (%s)", (SCHEMA_VERSION,)
            )
    finally:
        connection.close()


def _schema_ready(connection: psycopg.Connection[tuple[object, ...]]) -> bool:
    row = connection.execute("SELECT to_regclass(%s)", (SCHEMA_MARKER,)).fetchone()
    if row is None or row[0] is None:
        return False
    version = connection.execute(f"SELECT max(version) FROM {SCHEMA_MARKER}").fetchone()
    return version is not None and version[0] == SCHEMA_VERSION
