"""The CLI's context object: storage, actor and output mode of one run."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import click
from eventsourcing.persistence import IntegrityError, PersistenceError

from adapters.storage import StorageConfig, parse_storage_url
from domain.errors import SeekerNotFound, StorageError
from privacy.opening import vault_opener
from projections.runner import Projections
from services.ledger import Outcome, SeekerLedger


def _driver_errors() -> tuple[type[BaseException], ...]:
    """The failures of the drivers loaded in this run (psycopg only when a
    PostgreSQL store was opened: a SQLite run never imports it)."""
    errors: list[type[BaseException]] = [PersistenceError, sqlite3.Error, OSError]
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        errors.append(psycopg.Error)
    return tuple(errors)


@contextmanager
def storage_errors(config: StorageConfig) -> Iterator[None]:
    """Turn the drivers' failures into one ``StorageError`` naming the store."""
    try:
        yield
    except IntegrityError:
        raise
    except _driver_errors() as error:
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
        one process at a time (see ``adapters.postgres.schema_lock``)."""
        from adapters.postgres import schema_lock
        from privacy.key_table import create_key_tables

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
        self, use_case: Callable[..., Outcome], *args: Any, **kwargs: Any
    ) -> Outcome:
        """Run one of the ledger's use cases with this session's storage
        errors, then catch the projections up so reads reflect it."""
        outcome: Outcome = self.call(use_case, *args, **kwargs)
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
