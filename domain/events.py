"""The facts recorded about an account: one class per event, past tense.

Each event names the lifecycle command it records (``command``); where that
command leaves the account is the machine's to say (``domain.rules``), so an
event never repeats a state name. ``activity`` marks the events that count as
the seeker's activity for registration validity (SPEC §3).

The aggregate binds these classes (``Seeker.Paused = Paused``); the library
then stores them under ``domain.seeker:Seeker.<Name>``, the topics every store
written so far holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from domain.values import PersonalData


class SeekerEvent(Aggregate.Event):
    """Every change to an account: when it happened (business time) and who did it.

    The store's own recorded time is the library's ``timestamp``.
    """

    command: ClassVar[str]
    activity: ClassVar[bool] = False
    occurred_at: datetime
    actor: str


class Registered(Aggregate.Created):
    command: ClassVar[str] = "register"
    activity: ClassVar[bool] = True
    occurred_at: datetime
    actor: str
    policy: dict[str, Any]
    personal: PersonalData
    channel: str | None
    advisor: str | None


class Applied(SeekerEvent):
    command = "apply"
    activity = True
    application_id: str
    job: str
    route: str


class InterviewScheduled(SeekerEvent):
    command = "schedule-interview"
    activity = True
    application_id: str
    interview_at: datetime
    round_number: int
    final: bool


class InterviewDeclined(SeekerEvent):
    command = "decline-interview"
    application_id: str
    channel: str
    notice_hours: float
    last_minute: bool
    personal: PersonalData | None


class ApplicationClosed(SeekerEvent):
    command = "close-application"
    application_id: str
    outcome: str


class Paused(SeekerEvent):
    command = "pause"
    personal: PersonalData | None


class Resumed(SeekerEvent):
    command = "resume"
    activity = True


class ContactAttempted(SeekerEvent):
    command = "contact"
    channel: str
    outcome: str


class MarkedUnreachable(SeekerEvent):
    command = "mark-unreachable"


class ContactRestored(SeekerEvent):
    command = "restore-contact"
    activity = True


class Lapsed(SeekerEvent):
    command = "lapse"
    reason: str


class Reactivated(SeekerEvent):
    command = "reactivate"
    activity = True


class AdvisorChanged(SeekerEvent):
    command = "change-advisor"
    advisor: str


class WithdrawalRequested(SeekerEvent):
    command = "request-withdrawal"
    channel: str
    reason: str | None
    erase_data: bool
    identity_checked: bool
    personal: PersonalData | None


class WithdrawalCancelled(SeekerEvent):
    command = "cancel-withdrawal"


class Withdrawn(SeekerEvent):
    command = "withdraw"
    timing: str


class Reinstated(SeekerEvent):
    command = "reinstate"
    activity = True
    mode: str
    days_after_withdrawal: int


class Purged(SeekerEvent):
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
