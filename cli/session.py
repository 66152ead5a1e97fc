"""The CLI's context object: storage, actor and output mode of one run."""

from __future__ import annotations

import sqlite3
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

import click

from adapters.storage import StorageConfig, lock_timeout, parse_storage_url
from domain.errors import Forbidden, OutcomeUnknown, SeekerNotFound, StorageError
from domain.i18n import _

if TYPE_CHECKING:
    # Imported where used: a run pays only for what its command opens.
    from adapters.roles import Access
    from projections.reader import Readable
    from projections.runner import Projections
    from services.ledger import Outcome, SeekerLedger


def _driver_errors() -> tuple[type[BaseException], ...]:
    """The failures of the drivers and the library loaded in this run
    (psycopg only when a PostgreSQL store was opened: a SQLite run never
    imports it; the library's only when the ledger was opened: a ``list``
    of a caught-up store reads without it)."""
    errors: list[type[BaseException]] = [sqlite3.Error, OSError]
    persistence = sys.modules.get("eventsourcing.persistence")
    if persistence is not None:
        errors.append(persistence.PersistenceError)
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        errors.append(psycopg.Error)
    return tuple(errors)


def _is_integrity_error(error: BaseException) -> bool:
    persistence = sys.modules.get("eventsourcing.persistence")
    return persistence is not None and isinstance(error, persistence.IntegrityError)


@contextmanager
def storage_errors(config: StorageConfig) -> Iterator[None]:
    """Turn the drivers' failures into one ``StorageError`` naming the store."""
    try:
        yield
    except Exception as error:
        if _is_integrity_error(error) or not isinstance(error, _driver_errors()):
            raise
        if _read_only(error):
            raise StorageError(
                _(
                    "{url}: a read-only hot standby, and this would write (audit "
                    "prove does when no checkpoint covers the account yet: run "
                    "'seekers audit checkpoint' on the primary first)"
                ).format(url=config.safe_url)
            ) from None
        from adapters.driver_errors import describe

        detail = describe(error).replace(config.url, config.safe_url)
        raise StorageError(f"{config.safe_url}: {detail}") from None


def _read_only(error: BaseException | None) -> bool:
    """A write refused by a hot standby (SQLSTATE 25006), however wrapped."""
    while error is not None:
        if getattr(error, "sqlstate", None) == "25006":
            return True
        error = error.__cause__
    return False


def _notice(message: str) -> None:
    click.echo(_("note: {message}").format(message=message), err=True)


READS = frozenset(
    {
        "show",
        "history",
        "list",
        "report",
        "find",
        "export-data",
        "audit verify",
        "audit export",
        "audit prove",
        "projections status",
    }
)
"""The commands that only read: with ``--read-db`` they read the standby
(``audit prove`` writes only when no checkpoint covers the account yet,
and then says that the primary must make one)."""


@dataclass
class Session:
    db_url: str
    actor: str
    json: bool
    read_url: str | None = None
    """``--read-db``: a hot standby the read commands use instead of ``--db``."""
    fresh: bool = False
    """``--fresh``: a read from the standby waits until it has replayed the
    primary's log as it stood when the command started."""
    standby: bool = False
    """PostgreSQL: this run reads a hot standby, once opened."""
    migrating: bool = False
    """``seekers migrate``: run the schema set-up even on a ready store."""
    access: Access | None = None
    """PostgreSQL: the login's roles on this store, once opened."""
    pooled: bool = False
    """PostgreSQL: the URL reaches a transaction pooler (PgBouncer), once
    opened: no session state (``adapters.postgres_store``)."""
    _ledger: SeekerLedger | None = field(default=None, repr=False)
    _projections: Projections | None = field(default=None, repr=False)

    @property
    def config(self) -> StorageConfig:
        """The store this run opens: ``--read-db`` for a read command when
        one is given, else ``--db``."""
        if self.read_url and self.command_name() in READS:
            return parse_storage_url(self.read_url)
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
                    _(
                        "{url}: no database at {path} (register a seeker to "
                        "create one, or check --db)"
                    ).format(url=config.safe_url, path=path)
                )
            if config.kind == "postgresql":
                self._open_postgres(config)
                self._chain_legacy_store()
            else:
                self._open_sqlite(config)
        assert self._ledger is not None
        return self._ledger

    def _open_sqlite(self, config: StorageConfig) -> None:
        """Open the ledger; the first run on a store sets it up (its tables,
        the key tables, the projections'), one process at a time, and marks
        it (see ``adapters.sqlite_store.schema_lock``); a marked store is
        opened without any DDL, as PostgreSQL's is."""
        from adapters.sqlite_store import schema_lock
        from privacy.key_table import create_key_tables
        from privacy.opening import vault_opener
        from projections.runner import Projections
        from services.ledger import SeekerLedger

        with (
            storage_errors(config),
            schema_lock(config, migrate=self.migrating) as creating,
        ):
            environment = dict(config.environment)
            if not creating:
                environment["CREATE_TABLE"] = "no"
            opener = vault_opener(
                sqlite_path=config.sqlite_path, notice=_notice, create_tables=creating
            )
            self._ledger = SeekerLedger(env=environment, vault=opener)
            self._projections = Projections(self._ledger, create_tables=creating)
            if creating:  # made now, not when personal data is first needed
                create_key_tables(self._ledger.factory.datastore)  # type: ignore[attr-defined]
            # A store written before chains existed is chained as part of
            # its set-up; on a marked store this is one cheap read.
            self._chain_legacy_store()

    def _chain_legacy_store(self) -> None:
        """A store written before audit integrity existed gets its stream
        chains and log tree now, in one transaction, and says so once."""
        from integrity.chaining import ChainedLog

        assert self._ledger is not None
        with storage_errors(self.config):
            chained = ChainedLog(self._ledger).ensure_chained()
        if chained is not None and chained.events:
            _notice(
                _(
                    "audit integrity: chained the {events} events this store "
                    "already held; tampering is detectable from this point on, "
                    "not before (seekers audit verify)"
                ).format(events=chained.events)
            )

    def _open_postgres(self, config: StorageConfig) -> None:
        """Open the ledger; the first run on a database creates its schema,
        one process at a time (see ``adapters.postgres.schema_lock``), and
        a login whose roles do not allow this command is refused first."""
        from adapters.postgres import schema_lock
        from adapters.postgres_store import POOLED
        from privacy.opening import vault_opener
        from projections.runner import Projections
        from services.ledger import SeekerLedger

        if self.read_url and parse_storage_url(self.read_url).url == config.url:
            self._catch_up_standby(config)

        with schema_lock(
            config, migrate=self.migrating, authorize=self._authorize
        ) as opening:
            creating = opening.creating
            environment = dict(config.environment)
            if not creating:
                environment["CREATE_TABLE"] = "no"
            self.pooled = opening.pooled
            if opening.standby:
                self._refuse_writes_to_standby(config)
            environment[POOLED] = "yes" if opening.pooled else "no"
            # A login that may not read the seekers' keys (the auditor) reads
            # every event with its personal data still sealed.
            opener = (
                vault_opener(sqlite_path=None, notice=_notice, create_tables=creating)
                if opening.access.reads_keys
                else None
            )
            with storage_errors(config):
                self._ledger = SeekerLedger(env=environment, vault=opener)
                self._projections = Projections(self._ledger, create_tables=creating)
                if creating:
                    create_postgres_extras(self._ledger)

    def _refuse_writes_to_standby(self, config: StorageConfig) -> None:
        """A hot standby serves the read commands only."""
        command = self.command_name()
        if command not in READS:
            raise StorageError(
                _(
                    "{url}: a read-only hot standby (in recovery): '{command}' "
                    "records events and must go to the primary (--db; --read-db "
                    "serves the read commands)"
                ).format(url=config.safe_url, command=command)
            )
        self.standby = True

    def _catch_up_standby(self, config: StorageConfig) -> None:
        """Before a read from ``--read-db``: when it is a hot standby, say how
        far behind the primary (``--db``) it is, if it is; with ``--fresh``,
        first wait until it has caught up with the primary's log as it
        stands now (``adapters.standby``)."""
        from adapters.postgres import connect
        from adapters.standby import (
            in_recovery,
            lag_behind,
            primary_position,
            wait_until_replayed,
        )

        with connect(config) as standby:
            if not in_recovery(standby):
                return  # a primary named as --read-db: always current
            primary = parse_storage_url(self.db_url)
            if primary.kind != "postgresql" or primary.url == config.url:
                if self.fresh:
                    raise StorageError(
                        _(
                            "{url}: --fresh needs the primary as --db to know how "
                            "far the standby must catch up"
                        ).format(url=config.safe_url)
                    )
                return
            try:
                with connect(primary) as connection:
                    position = primary_position(connection)
            except StorageError as error:
                if self.fresh:
                    raise StorageError(
                        _("--fresh needs the primary: {error}").format(error=error)
                    ) from None
                _notice(
                    _("reading the standby; its lag is unknown ({error})").format(
                        error=error
                    )
                )
                return
            if self.fresh:
                wait_until_replayed(
                    standby, position, timeout=lock_timeout(), config=config
                )
            elif (lag := lag_behind(standby, position)) is not None:
                _notice(lag.describe())

    def _authorize(self, access: Access) -> None:
        """Exit 7 before anything is read or written when the login's roles
        do not allow this command (SPEC §9)."""
        self.access = access
        command = self.command_name()
        if command is not None and not access.may(command):
            raise Forbidden(
                _("login {login!r} may not {command} (needs {roles})").format(
                    login=access.login, command=command, roles=access.needs(command)
                )
            )

    @staticmethod
    def command_name() -> str | None:
        """The command being run, as ``adapters.roles.MAY`` names it."""
        context = click.get_current_context(silent=True)
        if context is None:
            return None
        return context.command_path.partition(" ")[2] or None

    def projections(self) -> Projections:
        """The ledger's projections, on the same connections as the ledger."""
        if self._projections is None:
            from projections.runner import Projections

            ledger = self.ledger()  # PostgreSQL: opens the projections too
            if self._projections is None:
                with storage_errors(self.config):
                    self._projections = Projections(ledger)
        assert self._projections is not None
        return self._projections

    def reader(self) -> Readable:
        """The projection tables to read, with every recorded event in them
        (any view reads every projection's tables: they share the store). A
        SQLite store whose projections are caught up is read without opening
        the ledger (``projections.reader``: ``list``, a report or ``history``
        then never builds the application); anything else opens it and
        catches the projections up first (``catch_up_for_reading``)."""
        config = self.config
        if config.sqlite_path is not None and self._ledger is None:
            from projections.reader import caught_up_reader

            with storage_errors(config):
                reader = caught_up_reader(config.sqlite_path, timeout=lock_timeout())
            if reader is not None:
                return reader
        self.catch_up_for_reading()
        return self.projections().views["accounts"]

    def catch_up_for_reading(self) -> None:
        """Bring the projections up to the log before a read, if they lag
        and the store lets us; otherwise read what is projected and say how
        far behind it is (another process holds the write lock, or the store
        is read-only): a read never fails for want of a write."""
        if self.standby:
            return  # read-only: the primary's commands keep them, as replayed
        projections = self.projections()
        statuses = [self.call(projections.status, name) for name in projections.names]
        lag = max((status.lag for status in statuses), default=0)
        if lag == 0:
            return
        try:
            self.call(projections.catch_up)
        except StorageError as error:
            _notice(
                _(
                    "showing the projections as they are, {lag} event(s) behind "
                    "the log: they could not be brought up to date ({error})"
                ).format(lag=lag, error=error)
            )

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
        """Run one of the ledger's use cases under a request id (the
        command's ``--request-id``, or a new one), with this session's
        storage errors, then catch the projections up so reads reflect it.

        A storage failure may come after the events were committed (the
        connection dropped at ``COMMIT``), so its message says how to retry
        safely: the same request id is recorded at most once.
        """
        from adapters.requests import Request, requested

        context = click.get_current_context(silent=True)
        given = context.meta.get("seekers.request_id") if context else None
        request = (
            Request(given, use_case.__name__)
            if given
            else Request(str(uuid.uuid4()), use_case.__name__, fresh=True)
        )
        try:
            with requested(request):
                outcome: Outcome = self.call(use_case, *args, **kwargs)
        except OutcomeUnknown as error:
            subject = (
                _("seeker {seeker}").format(seeker=args[0])
                if args
                else _("the new account")
            )
            raise StorageError(
                _(
                    "{url}: {error}; the command may have been recorded: run it "
                    "again with --request-id {request} (it is recorded at most "
                    "once), or check 'seekers history' of {subject}"
                ).format(
                    url=self.config.safe_url,
                    error=error,
                    request=request.request_id,
                    subject=subject,
                )
            ) from None
        for warning in outcome.warnings:
            _notice(warning)
        if outcome.replayed:
            _notice(
                _(
                    "request {request} was already recorded: this is its "
                    "outcome, nothing new was recorded"
                ).format(request=request.request_id)
            )
        try:
            self.call(self.projections().catch_up_after_save)
        except StorageError as error:  # recorded all the same: say so, exit 0
            _notice(
                _(
                    "recorded, but the projections could not be brought up to "
                    "date ({error}); lists and reports lag until 'seekers "
                    "projections catch-up' or the next command"
                ).format(error=error)
            )
        return outcome

    def close(self) -> None:
        self._projections = None
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None


def create_postgres_extras(ledger: SeekerLedger) -> None:
    """What a new (or upgraded) PostgreSQL store needs beyond the library's,
    the chain's and the projections' tables: the key tables and, when roles
    are installed, their grants again (for tables added since).

    Whenever the owner sets the schema up, not only under ``migrate``: any
    command of the owner's upgrades an older schema, and a table it adds
    (schema 6's ``reading_index``) would otherwise have no grants, failing
    every other login with "permission denied" until someone thought of
    running ``migrate``."""
    from adapters.roles import MARKER, install_statements
    from privacy.key_table import create_key_tables

    datastore: Any = ledger.factory.datastore  # type: ignore[attr-defined]
    create_key_tables(datastore)
    with datastore.transaction(commit=True) as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL AS installed", (MARKER,))
        if cursor.fetchone()["installed"]:
            for statement in install_statements():
                cursor.execute(statement)


def parse_seeker_id(text: str) -> UUID:
    try:
        return UUID(text.strip())
    except ValueError:
        raise SeekerNotFound(text) from None
