"""The domain's exception family; the CLI maps each kind to one exit code."""

from __future__ import annotations

from collections.abc import Sequence

from domain.i18n import _


class SeekerLedgerError(Exception):
    """Base class of every expected failure of Seeker Ledger."""


class BadValue(SeekerLedgerError):
    """A value given to a command is malformed or out of range."""


class NotFound(SeekerLedgerError):
    """No such seeker or application."""


class SeekerNotFound(NotFound):
    """The seeker id names no account."""

    def __init__(self, seeker_id: object) -> None:
        super().__init__(_("no such seeker: {seeker}").format(seeker=seeker_id))


class ApplicationNotFound(NotFound):
    """The account has no application with that number."""

    def __init__(self, seeker_id: object, application_id: str) -> None:
        super().__init__(
            _("seeker {seeker} has no application {application}").format(
                seeker=seeker_id, application=application_id
            )
        )


class Refused(SeekerLedgerError):
    """The state machine or the policy does not allow the command."""

    def __init__(
        self, message: str, *, state: str | None = None, allowed: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.state = state
        self.allowed = list(allowed)


class Conflict(SeekerLedgerError):
    """The account changed concurrently and the retry failed too."""


class PolicyFileError(BadValue):
    """A policy file is missing, malformed, or has unknown keys or bad values."""


class StorageError(SeekerLedgerError):
    """The event store is unavailable or misconfigured."""


class OutcomeUnknown(StorageError):
    """The store failed while saving: the command may have been recorded."""


class Forbidden(SeekerLedgerError):
    """The database login may not run this command (its roles lack the grant)."""
