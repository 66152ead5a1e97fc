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

from domain import events, refusals
from domain.deadlines import (
    Clocks,
    Deadlines,
    TimeRule,
    deadlines,
    invalid_since_after,
    time_rule_due,
)
from domain.effects import EFFECTS
from domain.errors import ApplicationNotFound, BadValue, Refused
from domain.glossary import policy_name
from domain.guards import account_refusal, policy_refusal, withdrawal_timing
from domain.i18n import _
from domain.policy import RECORDED, Policy
from domain.rules import ACCOUNT, ACCOUNT_STATES, APPLICATION, Move
from domain.timerules import days_between
from domain.values import JobApplication, PersonalData

ROUTES = ("self", "agency")
OUTCOMES = ("hired", "rejected", "withdrawn")
CONTACT_CHANNELS = ("phone", "email")
CONTACT_OUTCOMES = ("reached", "no_answer")
DECLINE_CHANNELS = ("phone", "email", "form", "app", "counter")
PURGE_REASONS = ("deletion_request", "retention_expired")
LAST_MINUTE_HOURS = 24


class Seeker(Aggregate):
    """A job seeker's account under one policy."""

    # The events (``domain.events``), bound here so the library stores them
    # as ``domain.seeker:Seeker.<Name>``, the topics every store holds. Their
    # base is the aggregate's base event, so the library takes them as they
    # are instead of deriving a copy of each (a dataclass built at import).
    Event = events.SeekerEvent
    Registered = events.Registered
    Applied = events.Applied
    InterviewScheduled = events.InterviewScheduled
    InterviewDeclined = events.InterviewDeclined
    ApplicationClosed = events.ApplicationClosed
    Paused = events.Paused
    Resumed = events.Resumed
    ContactAttempted = events.ContactAttempted
    MarkedUnreachable = events.MarkedUnreachable
    ContactRestored = events.ContactRestored
    Lapsed = events.Lapsed
    Reactivated = events.Reactivated
    AdvisorChanged = events.AdvisorChanged
    WithdrawalRequested = events.WithdrawalRequested
    WithdrawalCancelled = events.WithdrawalCancelled
    Withdrawn = events.Withdrawn
    Reinstated = events.Reinstated
    Purged = events.Purged

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
        self.policy = RECORDED(policy)
        self.personal: PersonalData | None = personal
        self.status = ACCOUNT.target("register") or ACCOUNT.initial
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
        ACCOUNT.move(ACCOUNT.initial, "register")
        if advisor is not None and not policy.advisors:
            raise Refused(
                _("policy {policy} has no advisors; register without --advisor").format(
                    policy=policy_name(policy.name)
                ),
                state=ACCOUNT.initial,
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

    @staticmethod
    def record_imported(
        seeker: Seeker | None, event_name: str, fields: dict[str, Any]
    ) -> Seeker:
        """Record one event of an imported legacy history, as it happened.

        No rule is asked, on purpose: an agency's existing records are facts
        that already took place under its old system, sometimes in ways
        today's rules refuse (a HelloWork account paused, a reinstatement
        after the window). Refusing them would falsify the history; they go
        in as recorded and ``seekers audit replay`` lists what today's rules
        would refuse. ``seeker`` is ``None`` for the first event, which must
        be ``Registered`` (``fields`` then holds the account's ``id``); every
        other event goes through its private ``@event`` method, the same
        state change a replay makes. Checking the fields themselves (types,
        known applications, time order) is the importer's job.
        """
        if seeker is None:
            if event_name != "Registered":
                raise BadValue(
                    _("an account starts with Registered, not {event}").format(
                        event=event_name
                    )
                )
            return Seeker._create(Seeker.Registered, **fields)
        if event_name == "Registered":
            raise BadValue(
                _("seeker {seeker} is already registered").format(seeker=seeker.id)
            )
        method_name = "_" + "".join(
            f"_{c.lower()}" if c.isupper() else c for c in event_name
        ).lstrip("_")
        if not hasattr(events, event_name) or not hasattr(seeker, method_name):
            raise BadValue(_("unknown event type {event!r}").format(event=event_name))
        getattr(seeker, method_name)(**fields)
        return seeker

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
    def is_erased(self) -> bool:
        """In the machine's final state: personal data erased for good."""
        return self.status in ACCOUNT.final

    @property
    def clocks(self) -> Clocks:
        return Clocks.of_policy(self.policy)

    @property
    def deadlines(self) -> Deadlines:
        """Every deadline running now (``domain.deadlines``, shared with the
        ``accounts`` projection)."""
        return deadlines(
            self.clocks,
            status=self.status,
            last_activity_at=self.last_activity_at,
            unreachable_since=self.unreachable_since,
            invalid_since=self.invalid_since,
            withdrawn_at=self.withdrawn_at,
        )

    @property
    def registration_lapses_at(self) -> datetime | None:
        return self.deadlines.registration_lapses_at

    @property
    def unreachable_lapses_at(self) -> datetime | None:
        return self.deadlines.unreachable_lapses_at

    @property
    def self_reinstatement_deadline(self) -> datetime | None:
        return self.deadlines.self_reinstatement_deadline

    @property
    def purge_due_at(self) -> datetime | None:
        return self.deadlines.purge_due_at

    def time_rule_due(self, at: datetime) -> TimeRule | None:
        """What the time rules require of this account at ``at`` (the sweep
        asks every candidate the projection finds, so a stale row never acts)."""
        return time_rule_due(
            self.deadlines,
            status=self.status,
            last_occurred_at=self.last_occurred_at,
            at=at,
        )

    def allowed_commands(self) -> list[str]:
        """The commands this account's state and policy accept at all."""
        return [
            command
            for command in ACCOUNT.allowed(self.status)
            if policy_refusal(self.policy, ACCOUNT.move(self.status, command).guards)
            is None
        ]

    # -- the rules -------------------------------------------------------

    def check(self, command: str, **arguments: Any) -> Move:
        """The move ``command`` makes now, or ``Refused`` naming the rule."""
        if not ACCOUNT.is_allowed(self.status, command):
            allowed = self.allowed_commands()
            raise Refused(
                refusals.not_in_state(command, "account", self.status, allowed),
                state=self.status,
                allowed=allowed,
            )
        move = ACCOUNT.move(self.status, command)
        refusal = account_refusal(self, move.guards, arguments)
        if refusal is not None:
            allowed = self.allowed_commands()
            raise Refused(
                refusals.rule_in_state(refusal, self.status, allowed),
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
        allowed = APPLICATION.allowed(application.status)
        if not APPLICATION.is_allowed(application.status, command):
            raise Refused(
                refusals.for_application(
                    application.id, command, None, application.status, allowed
                ),
                state=application.status,
                allowed=allowed,
            )
        move = APPLICATION.move(application.status, command)
        refusal = account_refusal(
            self, move.guards, {**arguments, "application": application}
        )
        if refusal is not None:
            raise Refused(
                refusals.for_application(
                    application.id, command, refusal, application.status, allowed
                ),
                state=application.status,
                allowed=allowed,
            )
        return application

    # -- commands: check, then trigger -------------------------------------

    def apply(self, *, at: datetime, actor: str, job: str, route: str) -> str:
        if route not in ROUTES:
            raise BadValue(
                _("route must be one of {choices}: {given!r}").format(
                    choices=", ".join(ROUTES), given=route
                )
            )
        if not job.strip():
            raise BadValue(_("job must not be empty"))
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
            raise BadValue(
                _("--round must be at least 1, not {given}").format(given=round_number)
            )
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
                _("channel must be one of {choices}: {given!r}").format(
                    choices=", ".join(DECLINE_CHANNELS), given=channel
                )
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
            raise BadValue(
                _("outcome must be one of {choices}: {given!r}").format(
                    choices=", ".join(OUTCOMES), given=outcome
                )
            )
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
            raise BadValue(
                _("channel must be one of {choices}").format(
                    choices=", ".join(CONTACT_CHANNELS)
                )
            )
        if outcome not in CONTACT_OUTCOMES:
            raise BadValue(
                _("outcome must be one of {choices}").format(
                    choices=", ".join(CONTACT_OUTCOMES)
                )
            )
        self.check("contact")
        was_unreachable = self.status in ACCOUNT_STATES.unreachable
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
            raise BadValue(_("advisor must not be empty"))
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
            raise BadValue(
                _("reason must be one of {choices}").format(
                    choices=", ".join(PURGE_REASONS)
                )
            )
        self.check("purge", at=at, reason=reason)
        self._purged(occurred_at=at, actor=actor, reason=reason)

    # -- events: state changes only --------------------------------------

    def _recorded(
        self, event_class: type[events.SeekerEvent] | Any, at: datetime
    ) -> None:
        """What every event does: the account moves where the machine says the
        event's command goes (``domain.effects``), its clocks follow."""
        name = event_class.__name__
        self.last_occurred_at = at
        if name in EFFECTS.activity:
            self.last_activity_at = at
        entered = EFFECTS.state_after[name]
        if entered is None:
            return
        self.status = entered
        self.status_since = at
        self.invalid_since = invalid_since_after(entered, self.invalid_since, at)
        if entered in ACCOUNT_STATES.unreachable:
            self.unreachable_since = at
        else:
            self.unreachable_since = None

    def _moved_application(
        self, event_class: Any, application_id: str, **changes: Any
    ) -> None:
        """The application moves where the application machine says."""
        status = EFFECTS.application_state_after[event_class.__name__]
        assert status is not None
        index = int(application_id[1:]) - 1
        self.applications[index] = self.applications[index].moved(status, **changes)

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
        status = EFFECTS.application_state_after["Applied"]
        assert status is not None
        self.applications.append(
            JobApplication(
                id=application_id,
                job=job,
                route=route,
                status=status,
                applied_at=occurred_at,
            )
        )
        self._recorded(self.Applied, occurred_at)

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
        self._moved_application(
            self.InterviewScheduled,
            application_id,
            interview_at=interview_at,
            interview_round=round_number,
            final_round=final,
        )
        self._recorded(self.InterviewScheduled, occurred_at)

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
        self._moved_application(
            self.InterviewDeclined, application_id, outcome="declined"
        )
        self._recorded(self.InterviewDeclined, occurred_at)

    @event(ApplicationClosed)
    def _application_closed(
        self, *, occurred_at: datetime, actor: str, application_id: str, outcome: str
    ) -> None:
        self._moved_application(self.ApplicationClosed, application_id, outcome=outcome)
        self._recorded(self.ApplicationClosed, occurred_at)

    @event(Paused)
    def _paused(
        self, *, occurred_at: datetime, actor: str, personal: PersonalData | None
    ) -> None:
        self._recorded(self.Paused, occurred_at)

    @event(Resumed)
    def _resumed(self, *, occurred_at: datetime, actor: str) -> None:
        self._recorded(self.Resumed, occurred_at)

    @event(ContactAttempted)
    def _contact_attempted(
        self, *, occurred_at: datetime, actor: str, channel: str, outcome: str
    ) -> None:
        self.contact_attempts += 1
        self._recorded(self.ContactAttempted, occurred_at)

    @event(MarkedUnreachable)
    def _marked_unreachable(self, *, occurred_at: datetime, actor: str) -> None:
        self._recorded(self.MarkedUnreachable, occurred_at)

    @event(ContactRestored)
    def _contact_restored(self, *, occurred_at: datetime, actor: str) -> None:
        self._recorded(self.ContactRestored, occurred_at)

    @event(Lapsed)
    def _lapsed(self, *, occurred_at: datetime, actor: str, reason: str) -> None:
        self._recorded(self.Lapsed, occurred_at)

    @event(Reactivated)
    def _reactivated(self, *, occurred_at: datetime, actor: str) -> None:
        self._recorded(self.Reactivated, occurred_at)

    @event(AdvisorChanged)
    def _advisor_changed(
        self, *, occurred_at: datetime, actor: str, advisor: str
    ) -> None:
        self.advisor = advisor
        self._recorded(self.AdvisorChanged, occurred_at)

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
        self.withdrawal_channel = channel
        self.withdrawal_reason = reason
        self.erase_requested = erase_data
        self._recorded(self.WithdrawalRequested, occurred_at)

    @event(WithdrawalCancelled)
    def _withdrawal_cancelled(self, *, occurred_at: datetime, actor: str) -> None:
        self._clear_withdrawal()
        self._recorded(self.WithdrawalCancelled, occurred_at)

    @event(Withdrawn)
    def _withdrawn(self, *, occurred_at: datetime, actor: str, timing: str) -> None:
        self.withdrawal_timing = timing
        self.withdrawn_at = occurred_at
        self._recorded(self.Withdrawn, occurred_at)

    @event(Reinstated)
    def _reinstated(
        self,
        *,
        occurred_at: datetime,
        actor: str,
        mode: str,
        days_after_withdrawal: int,
    ) -> None:
        self._clear_withdrawal()
        self.withdrawn_at = None
        self.withdrawal_timing = None
        self._recorded(self.Reinstated, occurred_at)

    @event(Purged)
    def _purged(self, *, occurred_at: datetime, actor: str, reason: str) -> None:
        self.personal = None
        self.purged_at = occurred_at
        self.purge_reason = reason
        self._recorded(self.Purged, occurred_at)

    def _clear_withdrawal(self) -> None:
        self.withdrawal_channel = None
        self.withdrawal_reason = None
        self.erase_requested = False


def final_event_topics() -> frozenset[str]:
    """The stored topics of the events that leave an account in a final state
    (``Purged``): the ones after which its key may, and must, be destroyed."""
    from eventsourcing.utils import get_topic

    return frozenset(
        get_topic(getattr(Seeker, name))
        for name, state in EFFECTS.state_after.items()
        if state in ACCOUNT.final
    )
