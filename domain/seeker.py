"""The ``Seeker`` aggregate: one job seeker's account and its events.

Each public command asks the rules first (the compiled state machine, then
the policy guards it names) and only then triggers its event. The private
``@event`` methods only change state, always the same way, because they run
again on every replay; replay never re-runs a rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from domain.errors import ApplicationNotFound, BadValue, Refused
from domain.guards import GUARDS, POLICY_ONLY, withdrawal_timing
from domain.lifecycle import Move, account_rules, application_rules
from domain.policy import Policy
from domain.timerules import (
    add_years,
    days_between,
    end_of_day_count,
    registration_lapses_at,
)
from domain.values import JobApplication, PersonalData

ROUTES = ("self", "agency")
OUTCOMES = ("hired", "rejected", "withdrawn")
CONTACT_CHANNELS = ("phone", "email")
CONTACT_OUTCOMES = ("reached", "no_answer")
DECLINE_CHANNELS = ("phone", "email", "form", "app", "counter")
PURGE_REASONS = ("deletion_request", "retention_expired")
LAST_MINUTE_HOURS = 24


class SeekerEvent(Aggregate.Event):
    """Every change to an account: when it happened (business time) and who did it.

    The store's own recorded time is the library's ``timestamp``.
    """

    occurred_at: datetime
    actor: str


class Seeker(Aggregate):
    """A job seeker's account under one policy."""

    # -- events: the facts recorded about an account ---------------------

    class Registered(Aggregate.Created):
        occurred_at: datetime
        actor: str
        policy: dict[str, Any]
        personal: PersonalData
        channel: str | None
        advisor: str | None

    class Applied(SeekerEvent):
        application_id: str
        job: str
        route: str

    class InterviewScheduled(SeekerEvent):
        application_id: str
        interview_at: datetime
        round_number: int
        final: bool

    class InterviewDeclined(SeekerEvent):
        application_id: str
        channel: str
        notice_hours: float
        last_minute: bool
        personal: PersonalData | None

    class ApplicationClosed(SeekerEvent):
        application_id: str
        outcome: str

    class Paused(SeekerEvent):
        personal: PersonalData | None

    class Resumed(SeekerEvent):
        pass

    class ContactAttempted(SeekerEvent):
        channel: str
        outcome: str

    class MarkedUnreachable(SeekerEvent):
        pass

    class ContactRestored(SeekerEvent):
        pass

    class Lapsed(SeekerEvent):
        reason: str

    class Reactivated(SeekerEvent):
        pass

    class AdvisorChanged(SeekerEvent):
        advisor: str

    class WithdrawalRequested(SeekerEvent):
        channel: str
        reason: str | None
        erase_data: bool
        identity_checked: bool
        personal: PersonalData | None

    class WithdrawalCancelled(SeekerEvent):
        pass

    class Withdrawn(SeekerEvent):
        timing: str

    class Reinstated(SeekerEvent):
        mode: str
        days_after_withdrawal: int

    class Purged(SeekerEvent):
        reason: str

    @event(Registered)
    def __init__(
        self,
        *,
        occurred_at: datetime,
        actor: str,
        policy: dict[str, Any],
        personal: PersonalData,
        channel: str | None,
        advisor: str | None,
    ) -> None:
        self.policy = Policy.from_dict(policy)
        self.personal: PersonalData | None = personal
        self.status = "active"
        self.status_since = occurred_at
        self.registered_at = occurred_at
        self.last_occurred_at = occurred_at
        self.last_activity_at = occurred_at
        self.registration_channel = channel
        self.advisor = advisor
        self.applications: list[JobApplication] = []
        self.unreachable_since: datetime | None = None
        self.contact_attempts = 0
        self.withdrawal_channel: str | None = None
        self.withdrawal_reason: str | None = None
        self.erase_requested = False
        self.withdrawal_timing: str | None = None
        self.withdrawn_at: datetime | None = None
        self.invalid_since: datetime | None = None
        self.purged_at: datetime | None = None
        self.purge_reason: str | None = None

    @classmethod
    def register(
        cls,
        *,
        occurred_at: datetime,
        actor: str,
        policy: Policy,
        personal: PersonalData,
        channel: str | None,
        advisor: str | None,
        seeker_id: UUID | None = None,
    ) -> Seeker:
        """Open an account; ``seeker_id`` is for imports and reproducible
        simulations (a new random id otherwise)."""
        account_rules().move(account_rules().initial, "register")
        if advisor is not None and not policy.advisors:
            raise Refused(
                f"policy {policy.name} has no advisors; register without --advisor",
                state=account_rules().initial,
                allowed=["register"],
            )
        return cls._create(
            cls.Registered,
            id=seeker_id or uuid4(),
            occurred_at=occurred_at,
            actor=actor,
            policy=policy.to_dict(),
            personal=personal,
            channel=channel,
            advisor=advisor.strip() if advisor else None,
        )

    # -- reading ---------------------------------------------------------

    @property
    def open_applications(self) -> list[JobApplication]:
        return [a for a in self.applications if a.is_open]

    def application(self, application_id: str) -> JobApplication:
        for candidate in self.applications:
            if candidate.id == application_id.upper():
                return candidate
        raise ApplicationNotFound(self.id, application_id)

    @property
    def registration_lapses_at(self) -> datetime | None:
        months = self.policy.registration_validity_months
        if months is None or self.status not in ("active", "paused", "unreachable"):
            return None
        return registration_lapses_at(self.last_activity_at, months, self.policy.zone)

    @property
    def unreachable_lapses_at(self) -> datetime | None:
        if self.status != "unreachable" or self.unreachable_since is None:
            return None
        return end_of_day_count(
            self.unreachable_since,
            self.policy.unreachable_grace_days,
            self.policy.zone,
        )

    @property
    def self_reinstatement_deadline(self) -> datetime | None:
        days = self.policy.self_reinstatement_days
        if days is None or self.withdrawn_at is None or self.status != "withdrawn":
            return None
        return end_of_day_count(self.withdrawn_at, days, self.policy.zone)

    @property
    def purge_due_at(self) -> datetime | None:
        years = self.policy.retention_years
        if years is None or self.invalid_since is None or self.status == "purged":
            return None
        return add_years(self.invalid_since, years, self.policy.zone)

    def allowed_commands(self) -> list[str]:
        """The commands this account's state and policy accept at all."""
        rules = account_rules()
        return [
            command
            for command in rules.allowed(self.status)
            if not any(
                GUARDS[name](self, {}) is not None
                for name in rules.move(self.status, command).guards
                if name in POLICY_ONLY
            )
        ]

    # -- the rules -------------------------------------------------------

    def check(self, command: str, **arguments: Any) -> Move:
        """The move ``command`` makes now, or ``Refused`` naming the rule."""
        rules = account_rules()
        if not rules.is_allowed(self.status, command):
            allowed = self.allowed_commands()
            raise Refused(
                f"cannot {command} from state '{self.status}' "
                f"(allowed: {', '.join(allowed) or 'nothing'})",
                state=self.status,
                allowed=allowed,
            )
        move = rules.move(self.status, command)
        for guard in move.guards:
            refusal = GUARDS[guard](self, arguments)
            if refusal is not None:
                allowed = self.allowed_commands()
                raise Refused(
                    f"{refusal} (state '{self.status}', "
                    f"allowed: {', '.join(allowed) or 'nothing'})",
                    state=self.status,
                    allowed=allowed,
                )
        return move

    def _check_application(
        self, command: str, application_id: str, **arguments: Any
    ) -> JobApplication:
        """Both machines must agree: the account's, then the application's.

        An application refusal names the application's state and the
        commands its state allows.
        """
        self.check(command, **arguments)
        application = self.application(application_id)
        rules = application_rules()
        allowed = rules.allowed(application.status)
        where = (
            f"application state '{application.status}', "
            f"allowed: {', '.join(allowed) or 'nothing'}"
        )
        if not rules.is_allowed(application.status, command):
            raise Refused(
                f"application {application.id}: cannot {command} ({where})",
                state=application.status,
                allowed=allowed,
            )
        for guard in rules.move(application.status, command).guards:
            refusal = GUARDS[guard](self, {**arguments, "application": application})
            if refusal is not None:
                raise Refused(
                    f"application {application.id}: {refusal} ({where})",
                    state=application.status,
                    allowed=allowed,
                )
        return application

    # -- commands: check, then trigger -------------------------------------

    def apply(self, *, at: datetime, actor: str, job: str, route: str) -> str:
        if route not in ROUTES:
            raise BadValue(f"route must be one of {', '.join(ROUTES)}: {route!r}")
        if not job.strip():
            raise BadValue("job must not be empty")
        self.check("apply")
        application_id = f"A{len(self.applications) + 1}"
        self._applied(
            occurred_at=at,
            actor=actor,
            application_id=application_id,
            job=job.strip(),
            route=route,
        )
        return application_id

    def schedule_interview(
        self,
        *,
        at: datetime,
        actor: str,
        application_id: str,
        interview_at: datetime,
        round_number: int,
        final: bool,
    ) -> None:
        if round_number < 1:
            raise BadValue(f"--round must be at least 1, not {round_number}")
        application = self._check_application("schedule-interview", application_id)
        self._interview_scheduled(
            occurred_at=at,
            actor=actor,
            application_id=application.id,
            interview_at=interview_at,
            round_number=round_number,
            final=final,
        )

    def decline_interview(
        self,
        *,
        at: datetime,
        actor: str,
        application_id: str,
        channel: str,
        note: str | None,
    ) -> None:
        if channel not in DECLINE_CHANNELS:
            raise BadValue(
                f"channel must be one of {', '.join(DECLINE_CHANNELS)}: {channel!r}"
            )
        application = self._check_application(
            "decline-interview", application_id, at=at
        )
        assert application.interview_at is not None
        notice = (application.interview_at - at).total_seconds() / 3600
        self._interview_declined(
            occurred_at=at,
            actor=actor,
            application_id=application.id,
            channel=channel,
            notice_hours=round(notice, 2),
            last_minute=notice < LAST_MINUTE_HOURS,
            personal=PersonalData(notes=note) if note else None,
        )

    def close_application(
        self, *, at: datetime, actor: str, application_id: str, outcome: str
    ) -> None:
        if outcome not in OUTCOMES:
            raise BadValue(f"outcome must be one of {', '.join(OUTCOMES)}: {outcome!r}")
        application = self._check_application("close-application", application_id)
        self._application_closed(
            occurred_at=at, actor=actor, application_id=application.id, outcome=outcome
        )

    def pause(self, *, at: datetime, actor: str, reason: str | None) -> None:
        self.check("pause")
        self._paused(
            occurred_at=at,
            actor=actor,
            personal=PersonalData(notes=reason) if reason else None,
        )

    def resume(self, *, at: datetime, actor: str) -> None:
        self.check("resume")
        self._resumed(occurred_at=at, actor=actor)

    def contact(self, *, at: datetime, actor: str, channel: str, outcome: str) -> None:
        if channel not in CONTACT_CHANNELS:
            raise BadValue(f"channel must be one of {', '.join(CONTACT_CHANNELS)}")
        if outcome not in CONTACT_OUTCOMES:
            raise BadValue(f"outcome must be one of {', '.join(CONTACT_OUTCOMES)}")
        self.check("contact")
        was_unreachable = self.status == "unreachable"
        self._contact_attempted(
            occurred_at=at, actor=actor, channel=channel, outcome=outcome
        )
        if was_unreachable and outcome == "reached":
            self._contact_restored(occurred_at=at, actor=actor)

    def mark_unreachable(self, *, at: datetime, actor: str) -> None:
        self.check("mark-unreachable")
        self._marked_unreachable(occurred_at=at, actor=actor)

    def restore_contact(self, *, at: datetime, actor: str) -> None:
        self.check("restore-contact")
        self._contact_restored(occurred_at=at, actor=actor)

    def lapse(self, *, at: datetime, actor: str, reason: str = "manual") -> None:
        self.check("lapse")
        self._lapsed(occurred_at=at, actor=actor, reason=reason)

    def reactivate(self, *, at: datetime, actor: str) -> None:
        self.check("reactivate")
        self._reactivated(occurred_at=at, actor=actor)

    def change_advisor(self, *, at: datetime, actor: str, advisor: str) -> None:
        if not advisor.strip():
            raise BadValue("advisor must not be empty")
        self.check("change-advisor")
        self._advisor_changed(occurred_at=at, actor=actor, advisor=advisor.strip())

    def request_withdrawal(
        self,
        *,
        at: datetime,
        actor: str,
        channel: str,
        reason: str | None,
        note: str | None,
        verify_name: str | None,
        verify_birth_date: Any,
        erase_data: bool,
    ) -> None:
        self.check(
            "request-withdrawal",
            channel=channel,
            reason=reason,
            verify_name=verify_name,
            verify_birth_date=verify_birth_date,
        )
        self._withdrawal_requested(
            occurred_at=at,
            actor=actor,
            channel=channel,
            reason=reason,
            erase_data=erase_data,
            identity_checked=channel in self.policy.identity_check_channels,
            personal=PersonalData(notes=note) if note else None,
        )

    def cancel_withdrawal(self, *, at: datetime, actor: str) -> None:
        self.check("cancel-withdrawal")
        self._withdrawal_cancelled(occurred_at=at, actor=actor)

    def withdraw(self, *, at: datetime, actor: str) -> None:
        self.check("withdraw")
        timing = withdrawal_timing(self)
        declined = [application.id for application in self.open_applications]
        for application_id in declined:
            self._application_closed(
                occurred_at=at,
                actor=actor,
                application_id=application_id,
                outcome="declined_on_withdrawal",
            )
        self._withdrawn(occurred_at=at, actor=actor, timing=timing)
        if self.policy.erase_on_withdrawal:
            self._purged(occurred_at=at, actor=actor, reason="erased_on_withdrawal")
        elif self.erase_requested:
            self._purged(occurred_at=at, actor=actor, reason="deletion_request")

    def reinstate(self, *, at: datetime, actor: str, assisted: bool) -> None:
        self.check("reinstate", at=at, assisted=assisted)
        assert self.withdrawn_at is not None
        self._reinstated(
            occurred_at=at,
            actor=actor,
            mode="assisted" if assisted else "self_service",
            days_after_withdrawal=days_between(self.withdrawn_at, at, self.policy.zone),
        )

    def purge(self, *, at: datetime, actor: str, reason: str) -> None:
        if reason not in PURGE_REASONS:
            raise BadValue(f"reason must be one of {', '.join(PURGE_REASONS)}")
        self.check("purge", at=at, reason=reason)
        self._purged(occurred_at=at, actor=actor, reason=reason)

    # -- events: state changes only --------------------------------------

    def _enter(self, status: str, at: datetime) -> None:
        self.status = status
        self.status_since = at

    def _touch(self, at: datetime, *, activity: bool = False) -> None:
        self.last_occurred_at = at
        if activity:
            self.last_activity_at = at

    def _replace_application(self, application: JobApplication) -> None:
        index = int(application.id[1:]) - 1
        self.applications[index] = application

    @event(Applied)
    def _applied(
        self,
        *,
        occurred_at: datetime,
        actor: str,
        application_id: str,
        job: str,
        route: str,
    ) -> None:
        self.applications.append(
            JobApplication(
                id=application_id,
                job=job,
                route=route,
                status="applied",
                applied_at=occurred_at,
            )
        )
        self._touch(occurred_at, activity=True)

    @event(InterviewScheduled)
    def _interview_scheduled(
        self,
        *,
        occurred_at: datetime,
        actor: str,
        application_id: str,
        interview_at: datetime,
        round_number: int,
        final: bool,
    ) -> None:
        application = self.application(application_id)
        self._replace_application(
            application.moved(
                "interview_scheduled",
                interview_at=interview_at,
                interview_round=round_number,
                final_round=final,
            )
        )
        self._touch(occurred_at, activity=True)

    @event(InterviewDeclined)
    def _interview_declined(
        self,
        *,
        occurred_at: datetime,
        actor: str,
        application_id: str,
        channel: str,
        notice_hours: float,
        last_minute: bool,
        personal: PersonalData | None,
    ) -> None:
        application = self.application(application_id)
        self._replace_application(application.moved("declined", outcome="declined"))
        self._touch(occurred_at)

    @event(ApplicationClosed)
    def _application_closed(
        self, *, occurred_at: datetime, actor: str, application_id: str, outcome: str
    ) -> None:
        application = self.application(application_id)
        self._replace_application(application.moved("closed", outcome=outcome))
        self._touch(occurred_at)

    @event(Paused)
    def _paused(
        self, *, occurred_at: datetime, actor: str, personal: PersonalData | None
    ) -> None:
        self._enter("paused", occurred_at)
        self._touch(occurred_at)

    @event(Resumed)
    def _resumed(self, *, occurred_at: datetime, actor: str) -> None:
        self._enter("active", occurred_at)
        self._touch(occurred_at, activity=True)

    @event(ContactAttempted)
    def _contact_attempted(
        self, *, occurred_at: datetime, actor: str, channel: str, outcome: str
    ) -> None:
        self.contact_attempts += 1
        self._touch(occurred_at)

    @event(MarkedUnreachable)
    def _marked_unreachable(self, *, occurred_at: datetime, actor: str) -> None:
        self._enter("unreachable", occurred_at)
        self.unreachable_since = occurred_at
        self._touch(occurred_at)

    @event(ContactRestored)
    def _contact_restored(self, *, occurred_at: datetime, actor: str) -> None:
        self._enter("active", occurred_at)
        self.unreachable_since = None
        self._touch(occurred_at, activity=True)

    @event(Lapsed)
    def _lapsed(self, *, occurred_at: datetime, actor: str, reason: str) -> None:
        self._enter("lapsed", occurred_at)
        self.unreachable_since = None
        if self.invalid_since is None:
            self.invalid_since = occurred_at
        self._touch(occurred_at)

    @event(Reactivated)
    def _reactivated(self, *, occurred_at: datetime, actor: str) -> None:
        self._enter("active", occurred_at)
        self.invalid_since = None
        self._touch(occurred_at, activity=True)

    @event(AdvisorChanged)
    def _advisor_changed(
        self, *, occurred_at: datetime, actor: str, advisor: str
    ) -> None:
        self.advisor = advisor
        self._touch(occurred_at)

    @event(WithdrawalRequested)
    def _withdrawal_requested(
        self,
        *,
        occurred_at: datetime,
        actor: str,
        channel: str,
        reason: str | None,
        erase_data: bool,
        identity_checked: bool,
        personal: PersonalData | None,
    ) -> None:
        self._enter("withdrawal_requested", occurred_at)
        self.unreachable_since = None
        self.withdrawal_channel = channel
        self.withdrawal_reason = reason
        self.erase_requested = erase_data
        self._touch(occurred_at)

    @event(WithdrawalCancelled)
    def _withdrawal_cancelled(self, *, occurred_at: datetime, actor: str) -> None:
        self._enter("active", occurred_at)
        self.withdrawal_channel = None
        self.withdrawal_reason = None
        self.erase_requested = False
        self.invalid_since = None
        self._touch(occurred_at)

    @event(Withdrawn)
    def _withdrawn(self, *, occurred_at: datetime, actor: str, timing: str) -> None:
        self._enter("withdrawn", occurred_at)
        self.withdrawal_timing = timing
        self.withdrawn_at = occurred_at
        if self.invalid_since is None:
            self.invalid_since = occurred_at
        self._touch(occurred_at)

    @event(Reinstated)
    def _reinstated(
        self,
        *,
        occurred_at: datetime,
        actor: str,
        mode: str,
        days_after_withdrawal: int,
    ) -> None:
        self._enter("active", occurred_at)
        self.invalid_since = None
        self.withdrawn_at = None
        self.withdrawal_channel = None
        self.withdrawal_reason = None
        self.withdrawal_timing = None
        self.erase_requested = False
        self._touch(occurred_at, activity=True)

    @event(Purged)
    def _purged(self, *, occurred_at: datetime, actor: str, reason: str) -> None:
        self._enter("purged", occurred_at)
        self.personal = None
        self.purged_at = occurred_at
        self.purge_reason = reason
        self._touch(occurred_at)


ACTIVITY_EVENTS = frozenset(
    {
        "Registered",
        "Applied",
        "InterviewScheduled",
        "Resumed",
        "ContactRestored",
        "Reactivated",
        "Reinstated",
    }
)

STATE_AFTER = {
    "Registered": "active",
    "Paused": "paused",
    "Resumed": "active",
    "MarkedUnreachable": "unreachable",
    "ContactRestored": "active",
    "Lapsed": "lapsed",
    "Reactivated": "active",
    "WithdrawalRequested": "withdrawal_requested",
    "WithdrawalCancelled": "active",
    "Withdrawn": "withdrawn",
    "Reinstated": "active",
    "Purged": "purged",
}
"""Events that move the account, and where to. Any other event leaves the
account in its state."""


def time_rule_due(seeker: Seeker, at: datetime) -> tuple[str, str, datetime] | None:
    """What the time rules require of this account at ``at``, if anything.

    Returns the command (``lapse`` or ``purge``), its reason, and the business
    time at which the rule took effect. The sweep asks this of every
    candidate the projection finds, so a stale projection never acts alone.
    """
    if seeker.status in ("active", "paused", "unreachable"):
        dues = [
            (due, reason)
            for due, reason in (
                (seeker.registration_lapses_at, "registration_expired"),
                (seeker.unreachable_lapses_at, "unreachable_grace"),
            )
            if due is not None and due <= at
        ]
        if dues:
            due, reason = min(dues)
            return "lapse", reason, max(due, seeker.last_occurred_at)
    if seeker.status in ("lapsed", "withdrawn"):
        purge_due = seeker.purge_due_at
        if purge_due is not None and purge_due <= at:
            return "purge", "retention_expired", max(purge_due, seeker.last_occurred_at)
    return None
