"""Storage URLs mapped onto the ``eventsourcing`` library's environment.

``sqlite:///relative.db``, ``sqlite:////absolute.db`` and
``postgresql://user:password@host:port/dbname`` select the library's own
SQLite or PostgreSQL persistence; nothing else knows which one is in use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from domain.errors import StorageError
from domain.i18n import _

DEFAULT_URL = "sqlite:///seekers.db"
LEDGER_NAME = "seekers"
"""The application's name, which its projections' tracking rows carry."""
SQLITE_EVENTS_TABLE = "stored_events"
"""The library's SQLite events table."""
SQLITE_PERSISTENCE = "adapters.sqlite_store:SQLiteStoreFactory"
SQLITE_RECORDER = "adapters.recorders:ChainingSQLiteRecorder"
POSTGRES_PERSISTENCE = "adapters.postgres_store:PostgresStoreFactory"
POSTGRES_RECORDER = "adapters.postgres_recorder:ChainingPostgresRecorder"


@dataclass(frozen=True)
class StorageConfig:
    url: str
    kind: str
    environment: dict[str, str]
    sqlite_path: Path | None = None

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, fit for messages."""
        return redact(self.url)


def redact(url: str) -> str:
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<malformed URL>"
    if password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


LOCK_TIMEOUT_ENV = "SEEKERS_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 10


def lock_timeout() -> int:
    """Seconds a command waits for a lock held elsewhere before it gives up
    with exit 6 (``SEEKERS_LOCK_TIMEOUT``, default 10), on both stores."""
    text = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_LOCK_TIMEOUT
    if not text.isdigit() or not 1 <= int(text) <= 3600:
        raise StorageError(
            _("{setting} must be whole seconds from 1 to 3600").format(
                setting=LOCK_TIMEOUT_ENV
            )
        )
    return int(text)


def parse_storage_url(url: str) -> StorageConfig:
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path or path.endswith("/"):
            raise StorageError(_("no database file in {url!r}").format(url=url))
        return StorageConfig(
            url=url,
            kind="sqlite",
            sqlite_path=Path(path),
            environment={
                # The library's SQLite persistence with a statement cache
                # (adapters.sqlite_store).
                "PERSISTENCE_MODULE": SQLITE_PERSISTENCE,
                # The library's SQLite recorder, extended so that the
                # integrity chain and the projections are written in the same
                # transaction as the events (adapters.recorders).
                "APPLICATION_RECORDER_TOPIC": SQLITE_RECORDER,
                "SQLITE_DBNAME": path,
                "SQLITE_LOCK_TIMEOUT": str(lock_timeout()),
            },
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:  # "Invalid IPv6 URL", "Port out of range"
        raise StorageError(
            _("malformed database URL ({error}): {url!r}").format(
                error=error, url=redact(url)
            )
        ) from None
    if parts.scheme in ("postgresql", "postgres"):
        dbname = unquote(parts.path.lstrip("/"))
        port = port or 5432
        if not dbname or not parts.hostname or not parts.username:
            raise StorageError(
                _(
                    "incomplete PostgreSQL URL {url!r} "
                    "(expected postgresql://user:password@host:port/dbname)"
                ).format(url=redact(url))
            )
        return StorageConfig(
            url=url,
            kind="postgresql",
            environment={
                # The library's PostgreSQL persistence, its connections set
                # up for the server or a pooler (adapters.postgres_store).
                "PERSISTENCE_MODULE": POSTGRES_PERSISTENCE,
                "POSTGRES_DBNAME": dbname,
                "POSTGRES_HOST": parts.hostname,
                "POSTGRES_PORT": str(port),
                "POSTGRES_USER": unquote(parts.username),
                "POSTGRES_PASSWORD": unquote(parts.password or ""),
                "POSTGRES_CONNECT_TIMEOUT": "5",
                "POSTGRES_POOL_SIZE": "2",
                "POSTGRES_MAX_OVERFLOW": "0",
                "POSTGRES_LOCK_TIMEOUT": str(lock_timeout()),
                "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "60",
                "APPLICATION_RECORDER_TOPIC": POSTGRES_RECORDER,
            },
        )
    raise StorageError(
        _(
            "unsupported database URL {url!r} "
            "(use sqlite:///path.db or postgresql://user:password@host:port/dbname)"
        ).format(url=redact(url))
    )
