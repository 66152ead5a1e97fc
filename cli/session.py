"""The CLI's context object: storage, actor and output mode of one run."""

from __future__ import annotations

import getpass
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import click
import psycopg
from eventsourcing.persistence import IntegrityError, PersistenceError

from cli.postgres import schema_lock
from domain.errors import SeekerNotFound, StorageError
from domain.ledger import Outcome, SeekerLedger
from domain.seeker import Seeker
from domain.storage import StorageConfig, parse_storage_url
from privacy.key_table import create_key_tables
from privacy.opening import vault_opener
from projections.runner import Projections


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@contextmanager
def storage_errors(config: StorageConfig) -> Iterator[None]:
    """Turn the drivers' failures into one ``StorageError`` naming the store."""
    try:
        yield
    except IntegrityError:
        raise
    except (PersistenceError, sqlite3.Error, psycopg.Error, OSError) as error:
        detail = " ".join(str(error).split()) or type(error).__name__
        detail = detail.replace(config.url, config.safe_url)
        raise StorageError(f"{config.safe_url}: {detail}") from None


def _notice(message: str) -> None:
    click.echo(f"note: {message}", err=True)


@dataclass
class Session:
    db_url: str
    actor: str
    json: bool
    _ledger: SeekerLedger | None = field(default=None, repr=False)
    _projections: Projections | None = field(default=None, repr=False)

    @property
    def config(self) -> StorageConfig:
        return parse_storage_url(self.db_url)

    def ledger(self, *, create: bool = False) -> SeekerLedger:
        """The application on this run's store, opened once.

        Only commands that may start a new ledger (``register``) create a
        missing SQLite file; any other command on a missing file is a
        misconfigured ``--db`` and must not leave an empty database behind.
        """
        if self._ledger is None:
            config = self.config
            path = config.sqlite_path
            if path is not None and not create and not path.exists():
                raise StorageError(
                    f"{config.safe_url}: no database at {path} "
                    "(register a seeker to create one, or check --db)"
                )
            if config.kind == "postgresql":
                self._open_postgres(config)
            else:
                opener = vault_opener(sqlite_path=path, notice=_notice)
                with storage_errors(config):
                    self._ledger = SeekerLedger(env=config.environment, vault=opener)
        assert self._ledger is not None
        return self._ledger

    def _open_postgres(self, config: StorageConfig) -> None:
        """Open the ledger; the first run on a database creates its schema,
        one process at a time (see ``cli.postgres.schema_lock``)."""
        with schema_lock(config) as creating:
            environment = dict(config.environment)
            if not creating:
                environment["CREATE_TABLE"] = "no"
            opener = vault_opener(
                sqlite_path=None, notice=_notice, create_tables=creating
            )
            with storage_errors(config):
                self._ledger = SeekerLedger(env=environment, vault=opener)
                self._projections = Projections(self._ledger, create_tables=creating)
                if creating:
                    create_key_tables(self._ledger.factory.datastore)  # type: ignore[attr-defined]

    def projections(self) -> Projections:
        """The ledger's projections, on the same connections as the ledger."""
        if self._projections is None:
            ledger = self.ledger()
            with storage_errors(self.config):
                self._projections = Projections(ledger)
        return self._projections

    def catch_up(self) -> None:
        """Bring every projection up to the log, so reads reflect every command."""
        projections = self.projections()
        self.call(projections.catch_up)

    def call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with storage_errors(self.config):
            return function(*args, **kwargs)

    def record(
        self,
        seeker_id: UUID,
        command: Callable[[Seeker, Any], Any],
        *,
        at: str | None,
    ) -> Outcome:
        """Run one command on an account, with this session's storage errors."""
        ledger = self.ledger()
        outcome: Outcome = self.call(ledger.execute, seeker_id, command, at=at)
        self.catch_up()
        return outcome

    def close(self) -> None:
        self._projections = None
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None


def parse_seeker_id(text: str) -> UUID:
    try:
        return UUID(text.strip())
    except ValueError:
        raise SeekerNotFound(text) from None
