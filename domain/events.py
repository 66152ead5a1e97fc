"""The facts recorded about an account: one class per event, past tense.

Each event names the lifecycle command it records (``command``); where that
command leaves the account is the machine's to say (``domain.rules``), so an
event never repeats a state name. ``activity`` marks the events that count as
the seeker's activity for registration validity (SPEC §3).

The aggregate binds these classes (``Seeker.Paused = Paused``); the library
then stores them under ``domain.seeker:Seeker.<Name>``, the topics every store
written so far holds.

Start-up cost: the library makes every event class a frozen dataclass, which
generates and compiles six methods per class. Each ``@event`` method of the
aggregate derives one more class from its event that adds no field at all;
:class:`EventType` lets such a class inherit those methods instead of
compiling the same ones again (about half the aggregate's import time).
"""

from __future__ import annotations

import dataclasses
import inspect
from datetime import datetime
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate, MetaDomainEvent

from domain.values import PersonalData


class EventType(MetaDomainEvent):
    """The library's event metaclass, minus the dataclass work a subclass
    that declares no field would redo for nothing.

    A class whose body annotates nothing, and whose inherited dataclass
    fields are exactly those the dataclass machinery would collect from its
    bases, gets the inherited ``__init__``, ``__repr__``, ``__eq__`` and
    ``__hash__`` (they read the instance's class at run time) and its own
    frozen ``__setattr__``/``__delattr__``, the same ones
    ``dataclass(frozen=True)`` writes. Any other class is processed as usual.
    """

    def __new__(
        mcs, name: str, bases: tuple[type[Any], ...], namespace: dict[str, Any]
    ) -> Any:
        if namespace.get("__annotations__"):
            return super().__new__(mcs, name, bases, namespace)
        cls: Any = type.__new__(mcs, name, bases, namespace)
        inherited = getattr(cls, "__dataclass_fields__", None)
        collected: dict[str, Any] = {}
        for base in reversed(cls.__mro__[1:]):
            collected.update(getattr(base, "__dataclass_fields__", None) or {})
        if inherited is None or list(inherited.items()) != list(collected.items()):
            cls = dataclasses.dataclass(frozen=True)(cls)
        else:
            _freeze(cls, frozenset(field.name for field in dataclasses.fields(cls)))
        cls.__signature__ = inspect.signature(cls.__init__)
        return cls


def _freeze(cls: type[Any], fields: frozenset[str]) -> None:
    """``dataclass(frozen=True)``'s ``__setattr__`` and ``__delattr__``."""

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in fields:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in fields:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    cls.__setattr__ = __setattr__  # type: ignore[assignment]
    cls.__delattr__ = __delattr__  # type: ignore[assignment]


class SeekerEvent(Aggregate.Event, metaclass=EventType):
    """Every change to an account: when it happened (business time) and who did it.

    The store's own recorded time is the library's ``timestamp``.
    """

    command: ClassVar[str]
    activity: ClassVar[bool] = False
    occurred_at: datetime
    actor: str


class Registered(Aggregate.Created):
    """An account was opened under a policy."""

    command: ClassVar[str] = "register"
    activity: ClassVar[bool] = True
    occurred_at: datetime
    actor: str
    policy: dict[str, Any]
    personal: PersonalData
    channel: str | None
    advisor: str | None


class Applied(SeekerEvent):
    """The seeker applied for a job, or was introduced to one."""

    command = "apply"
    activity = True
    application_id: str
    job: str
    route: str


class InterviewScheduled(SeekerEvent):
    """An interview was scheduled (or rescheduled) for an application."""

    command = "schedule-interview"
    activity = True
    application_id: str
    interview_at: datetime
    round_number: int
    final: bool


class InterviewDeclined(SeekerEvent):
    """The seeker declined a scheduled interview."""

    command = "decline-interview"
    application_id: str
    channel: str
    notice_hours: float
    last_minute: bool
    personal: PersonalData | None


class ApplicationClosed(SeekerEvent):
    """An application ended: hired, rejected, withdrawn or declined."""

    command = "close-application"
    application_id: str
    outcome: str


class Paused(SeekerEvent):
    """The service was paused at the seeker's request."""

    command = "pause"
    personal: PersonalData | None


class Resumed(SeekerEvent):
    """A paused service resumed."""

    command = "resume"
    activity = True


class ContactAttempted(SeekerEvent):
    """An advisor tried to reach the seeker."""

    command = "contact"
    channel: str
    outcome: str


class MarkedUnreachable(SeekerEvent):
    """The advisor lost contact with the seeker."""

    command = "mark-unreachable"


class ContactRestored(SeekerEvent):
    """Contact with an unreachable seeker is back."""

    command = "restore-contact"
    activity = True


class Lapsed(SeekerEvent):
    """The registration's validity ended."""

    command = "lapse"
    reason: str


class Reactivated(SeekerEvent):
    """A lapsed registration became valid again."""

    command = "reactivate"
    activity = True


class AdvisorChanged(SeekerEvent):
    """Another advisor was assigned."""

    command = "change-advisor"
    advisor: str


class WithdrawalRequested(SeekerEvent):
    """The seeker asked to leave."""

    command = "request-withdrawal"
    channel: str
    reason: str | None
    erase_data: bool
    identity_checked: bool
    personal: PersonalData | None


class WithdrawalCancelled(SeekerEvent):
    """The seeker stayed after all."""

    command = "cancel-withdrawal"


class Withdrawn(SeekerEvent):
    """A requested withdrawal was completed."""

    command = "withdraw"
    timing: str


class Reinstated(SeekerEvent):
    """A withdrawn account was brought back."""

    command = "reinstate"
    activity = True
    mode: str
    days_after_withdrawal: int


class Purged(SeekerEvent):
    """The account's personal data was erased for good."""

    command = "purge"
    reason: str


EVENT_CLASSES: tuple[type[Any], ...] = (
    Registered,
    Applied,
    InterviewScheduled,
    InterviewDeclined,
    ApplicationClosed,
    Paused,
    Resumed,
    ContactAttempted,
    MarkedUnreachable,
    ContactRestored,
    Lapsed,
    Reactivated,
    AdvisorChanged,
    WithdrawalRequested,
    WithdrawalCancelled,
    Withdrawn,
    Reinstated,
    Purged,
)
