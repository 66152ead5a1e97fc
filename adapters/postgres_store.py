"""The library's PostgreSQL factory (``PERSISTENCE_MODULE``), its connections
set up for a direct server or for one behind a transaction-pooling pooler.

Directly, each connection carries the lock timeout as a startup option, so
every statement of a run, not only the library's inserts, gives up on a lock
held elsewhere instead of hanging; and the library's settings (autocommit,
the idle-in-transaction timeout) are made once per connection.

Behind PgBouncer in transaction pooling mode (``POOLED``, which
``adapters.postgres.connect`` finds out), consecutive transactions of one
client connection may run on different server connections, so nothing may
rest on session state: PgBouncer refuses the ``options`` startup parameter,
protocol-level prepared statements would be left on (or missing from) the
server connection the next transaction gets, and a ``SET`` would leak to
other clients. There, connections prepare nothing and set nothing; the lock
timeout is set per transaction (``SET LOCAL``) by the writes that take locks:
the library's insert and the projections' writer (``projections.
postgres_views``).
"""

from __future__ import annotations

from urllib.parse import quote

from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment, EnvType, strtobool
from psycopg import Connection

POOLED = "SEEKERS_POOLED"
"""Environment key: ``yes`` when the URL reaches a transaction pooler,
``no`` when it reaches the server (the CLI sets it from its first
connection); unset, the factory looks itself."""


def _autocommit(connection: Connection[object]) -> None:
    connection.autocommit = True


class PostgresStoreFactory(PostgresFactory):
    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        pool = self.datastore.pool
        kwargs = pool.kwargs
        assert isinstance(kwargs, dict)  # the library passes a dict
        if self._pooled():
            kwargs["prepare_threshold"] = None
            # The library's own set-up runs a session-level SET.
            pool._configure = _autocommit
        else:
            timeout = self.datastore.lock_timeout
            kwargs["options"] = f"-c lock_timeout={timeout}s"

    def _pooled(self) -> bool:
        """``POOLED`` as the CLI found it on its first connection; when it
        is not set (the application opened on its own), one look now."""
        given = self.env.get(POOLED)
        if given:
            return strtobool(given)
        from adapters.postgres import probe
        from adapters.storage import parse_storage_url

        kwargs = self.datastore.pool.kwargs
        assert isinstance(kwargs, dict)
        url = (
            f"postgresql://{quote(kwargs['user'])}:{quote(kwargs['password'])}"
            f"@{kwargs['host']}:{kwargs['port']}/{quote(kwargs['dbname'])}"
        )
        connection, pooled = probe(parse_storage_url(url))
        connection.close()
        return pooled
