"""Storage URLs mapped onto the ``eventsourcing`` library's environment.

``sqlite:///relative.db``, ``sqlite:////absolute.db`` and
``postgresql://user:password@host:port/dbname`` select the library's own
SQLite or PostgreSQL persistence; nothing else knows which one is in use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from domain.errors import StorageError

DEFAULT_URL = "sqlite:///seekers.db"
INLINE_SQLITE_RECORDER = "projections.inline:InlineProjectingSQLiteRecorder"


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
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def parse_storage_url(url: str) -> StorageConfig:
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path or path.endswith("/"):
            raise StorageError(f"no database file in {url!r}")
        return StorageConfig(
            url=url,
            kind="sqlite",
            sqlite_path=Path(path),
            environment={
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                # The library's SQLite recorder, extended so that projections
                # can be written in the same transaction as the events.
                "APPLICATION_RECORDER_TOPIC": INLINE_SQLITE_RECORDER,
                "SQLITE_DBNAME": path,
                "SQLITE_LOCK_TIMEOUT": "10",
            },
        )
    parts = urlsplit(url)
    if parts.scheme in ("postgresql", "postgres"):
        dbname = unquote(parts.path.lstrip("/"))
        try:
            port = parts.port or 5432
        except ValueError:
            raise StorageError(f"bad port in {redact(url)!r}") from None
        if not dbname or not parts.hostname or not parts.username:
            raise StorageError(
                f"incomplete PostgreSQL URL {redact(url)!r} "
                "(expected postgresql://user:password@host:port/dbname)"
            )
        return StorageConfig(
            url=url,
            kind="postgresql",
            environment={
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": dbname,
                "POSTGRES_HOST": parts.hostname,
                "POSTGRES_PORT": str(port),
                "POSTGRES_USER": unquote(parts.username),
                "POSTGRES_PASSWORD": unquote(parts.password or ""),
                "POSTGRES_CONNECT_TIMEOUT": "5",
                "POSTGRES_POOL_SIZE": "2",
                "POSTGRES_MAX_OVERFLOW": "0",
                "POSTGRES_LOCK_TIMEOUT": "10",
            },
        )
    raise StorageError(
        f"unsupported database URL {redact(url)!r} "
        "(use sqlite:///path.db or postgresql://user:password@host:port/dbname)"
    )
