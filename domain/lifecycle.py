"""The account and application lifecycles, declared once as state machines.

These classes are the single source of the transition rules: checks, refusal
messages, ``seekers policies`` and diagrams all read them. Commands never run
the machines (building an instance costs ~150 µs and ``send`` ~100 µs); they
ask a :class:`Rules` table compiled once from the class, which answers in a
dictionary lookup whatever the number of transitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from statemachine import State, StateMachine

from domain.errors import Refused

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


OPEN_APPLICATION_STATES = frozenset({"applied", "interview_scheduled"})


def command_name(event_id: str) -> str:
    """``request_withdrawal`` → ``request-withdrawal``, as the CLI spells it."""
    return event_id.replace("_", "-")


@dataclass(frozen=True)
class Move:
    """What one command does from one state: where it goes, which guards apply."""

    command: str
    target: str
    guards: tuple[str, ...]
    changes_state: bool


class Rules:
    """A state machine class compiled into a lookup table."""

    def __init__(self, machine: type[StateMachine], subject: str) -> None:
        self.subject = subject
        self.states: tuple[str, ...] = tuple(str(value) for value in machine.states_map)
        self.commands: tuple[str, ...] = tuple(
            command_name(str(event)) for event in machine._events
        )
        self.initial = str(machine.initial_state.value)
        self.final = frozenset(str(state.value) for state in machine.final_states)
        table: dict[str, dict[str, Move]] = {state: {} for state in self.states}
        for state in machine.states_map.values():
            for transition in state.transitions:
                for event in transition.events:
                    name = command_name(str(event))
                    if name in table[state.value]:
                        raise TypeError(f"{machine.__name__}: {name} is ambiguous")
                    table[state.value][name] = Move(
                        command=name,
                        target=str(transition.target.value),
                        guards=tuple(str(spec.func) for spec in transition.cond),
                        changes_state=not transition.internal,
                    )
        self._table = table

    def allowed(self, state: str) -> list[str]:
        """The commands the machine accepts in ``state``, in declaration order."""
        return list(self._table[state])

    def is_allowed(self, state: str, command: str) -> bool:
        return command in self._table[state]

    def move(self, state: str, command: str) -> Move:
        """The move for ``command`` in ``state``, or a refusal naming the state."""
        try:
            return self._table[state][command]
        except KeyError:
            allowed = self.allowed(state)
            raise Refused(
                f"cannot {command} from {self.subject} state '{state}' "
                f"(allowed: {', '.join(allowed) or 'nothing'})",
                state=state,
                allowed=allowed,
            ) from None


@cache
def account_rules() -> Rules:
    return Rules(AccountLifecycle, "account")


@cache
def application_rules() -> Rules:
    return Rules(ApplicationLifecycle, "application")
