"""The account and application lifecycles, declared once as state machines.

These classes are the single source of the lifecycle: which command is allowed
from which state, where it goes, which named guards it needs, which states
are initial and final. Everything else (the aggregate's mutators, the audit
replay, both projections, the sweep, refusal messages, diagrams) reads the
tables ``domain.rules`` compiles from them; nothing types a state name again.
To add a state or a command, declare it here (and its event in
``domain.events``).
"""

from __future__ import annotations

from statemachine import State, StateMachine

_WITHDRAWAL_GUARDS = [
    "channel_offered",
    "reason_given",
    "identity_verified",
    "no_open_self_application",
]


class AccountLifecycle(StateMachine):
    """A seeker's account (SPEC section 1). Guards are named policy rules."""

    unregistered = State(initial=True)
    active = State()
    paused = State()
    unreachable = State()
    lapsed = State()
    withdrawal_requested = State()
    withdrawn = State()
    purged = State(final=True)

    register = unregistered.to(active)
    pause = active.to(paused, cond="policy_offers_pausing")
    resume = paused.to(active)
    mark_unreachable = active.to(unreachable)
    restore_contact = unreachable.to(active)
    lapse = active.to(lapsed) | paused.to(lapsed) | unreachable.to(lapsed)
    reactivate = lapsed.to(active)
    request_withdrawal = (
        active.to(withdrawal_requested, cond=_WITHDRAWAL_GUARDS)
        | paused.to(withdrawal_requested, cond=_WITHDRAWAL_GUARDS)
        | unreachable.to(withdrawal_requested, cond=_WITHDRAWAL_GUARDS)
        | lapsed.to(withdrawal_requested, cond=_WITHDRAWAL_GUARDS)
    )
    cancel_withdrawal = withdrawal_requested.to(active)
    withdraw = withdrawal_requested.to(withdrawn, cond="no_open_self_application")
    reinstate = withdrawn.to(active, cond="reinstatement_allowed")
    purge = withdrawn.to(purged, cond="purge_due") | lapsed.to(purged, cond="purge_due")

    # Activity inside a state: the account state does not change.
    apply = active.to.itself(internal=True)
    schedule_interview = active.to.itself(internal=True)
    decline_interview = (
        active.to.itself(internal=True)
        | unreachable.to.itself(internal=True)
        | paused.to.itself(internal=True)
        | withdrawal_requested.to.itself(internal=True)
    )
    close_application = (
        active.to.itself(internal=True)
        | unreachable.to.itself(internal=True)
        | paused.to.itself(internal=True)
        | withdrawal_requested.to.itself(internal=True)
    )
    contact = active.to.itself(internal=True) | unreachable.to.itself(internal=True)
    change_advisor = (
        active.to.itself(internal=True, cond="policy_has_advisors")
        | paused.to.itself(internal=True, cond="policy_has_advisors")
        | unreachable.to.itself(internal=True, cond="policy_has_advisors")
        | withdrawal_requested.to.itself(internal=True, cond="policy_has_advisors")
    )


class ApplicationLifecycle(StateMachine):
    """One job application inside an account (SPEC section 2)."""

    unsubmitted = State(initial=True)
    applied = State()
    interview_scheduled = State()
    declined = State(final=True)
    closed = State(final=True)

    apply = unsubmitted.to(applied)
    schedule_interview = applied.to(interview_scheduled) | interview_scheduled.to(
        interview_scheduled
    )
    decline_interview = interview_scheduled.to(declined, cond="interview_ahead")
    close_application = applied.to(closed) | interview_scheduled.to(closed)
