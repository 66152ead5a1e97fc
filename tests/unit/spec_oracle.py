"""The SPEC's tables, the oracle of the unit tests.

Transcribed by hand from SPEC §1 (account states and transitions), §2
(applications) and §3 (the policy rulebook). Nothing here is derived from, or
imports, the product (``domain.lifecycle``, ``domain.guards``,
``domain.policy``): the tests compare the product with these tables, so they
must not be computed from what they check.

Used by ``test_transition_table.py``, the ``test_policy_*.py`` modules and the
property tests' reference model (``reference_model.py``); the integration
tests take the account states from here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# ---------------------------------------------------------------------------
# SPEC §1: account states.
# ---------------------------------------------------------------------------

ACCOUNT_STATES = (
    "active",
    "paused",
    "unreachable",
    "lapsed",
    "withdrawal_requested",
    "withdrawn",
    "purged",
)

# Every account command but `register`: the §1 transitions, then the activity
# inside a state (§1) and its application commands (§2).
COMMANDS = (
    "pause",
    "resume",
    "mark-unreachable",
    "restore-contact",
    "lapse",
    "reactivate",
    "request-withdrawal",
    "cancel-withdrawal",
    "withdraw",
    "reinstate",
    "purge",
    "apply",
    "schedule-interview",
    "decline-interview",
    "close-application",
    "contact",
    "change-advisor",
)

# SPEC §1, "Account transitions": (from state, command) -> to state.
ACCOUNT_TRANSITIONS: dict[tuple[str, str], str] = {
    ("active", "pause"): "paused",
    ("paused", "resume"): "active",
    ("active", "mark-unreachable"): "unreachable",
    ("unreachable", "restore-contact"): "active",
    ("active", "lapse"): "lapsed",
    ("paused", "lapse"): "lapsed",
    ("unreachable", "lapse"): "lapsed",
    ("lapsed", "reactivate"): "active",
    ("active", "request-withdrawal"): "withdrawal_requested",
    ("paused", "request-withdrawal"): "withdrawal_requested",
    ("unreachable", "request-withdrawal"): "withdrawal_requested",
    ("lapsed", "request-withdrawal"): "withdrawal_requested",
    ("withdrawal_requested", "cancel-withdrawal"): "active",
    ("withdrawal_requested", "withdraw"): "withdrawn",
    ("withdrawn", "reinstate"): "active",
    ("withdrawn", "purge"): "purged",
    ("lapsed", "purge"): "purged",
}

# SPEC §1, "Activity inside a state": command -> states it is allowed in.
ACTIVITY_ALLOWED_IN: dict[str, frozenset[str]] = {
    "apply": frozenset({"active"}),
    "schedule-interview": frozenset({"active"}),
    "decline-interview": frozenset(
        {"active", "unreachable", "paused", "withdrawal_requested"}
    ),
    "close-application": frozenset(
        {"active", "unreachable", "paused", "withdrawal_requested"}
    ),
    "contact": frozenset({"active", "unreachable"}),
    "change-advisor": frozenset(
        {"active", "paused", "unreachable", "withdrawal_requested"}
    ),
}

# SPEC §1, the "event" columns of both tables: the event each command records
# (`withdraw` and `contact` may record more, see §1-§3).
COMMAND_EVENTS: dict[str, str] = {
    "pause": "Paused",
    "resume": "Resumed",
    "mark-unreachable": "MarkedUnreachable",
    "restore-contact": "ContactRestored",
    "lapse": "Lapsed",
    "reactivate": "Reactivated",
    "request-withdrawal": "WithdrawalRequested",
    "cancel-withdrawal": "WithdrawalCancelled",
    "withdraw": "Withdrawn",
    "reinstate": "Reinstated",
    "purge": "Purged",
    "apply": "Applied",
    "schedule-interview": "InterviewScheduled",
    "decline-interview": "InterviewDeclined",
    "close-application": "ApplicationClosed",
    "contact": "ContactAttempted",
    "change-advisor": "AdvisorChanged",
}


def expected_target(state: str, command: str) -> str | None:
    """The state the spec says ``command`` leads to from ``state`` (the same
    state for an activity), or None if the spec refuses it there."""
    if (state, command) in ACCOUNT_TRANSITIONS:
        return ACCOUNT_TRANSITIONS[state, command]
    if state in ACTIVITY_ALLOWED_IN.get(command, frozenset()):
        return state
    return None


def expected_allowed(state: str, *, pausing: bool, advisors: bool) -> set[str]:
    """The commands the spec allows in ``state`` under a policy (§1 tables,
    less `pause` and `change-advisor` where §3 offers no pausing or advisors)."""
    allowed = {c for c in COMMANDS if expected_target(state, c) is not None}
    if not pausing:
        allowed.discard("pause")
    if not advisors:
        allowed.discard("change-advisor")
    return allowed


# The same two §1 tables by state: state -> {command: target state, or None
# for an activity, which stays in its state}.
ACCOUNT_TABLE: dict[str, dict[str, str | None]] = {
    state: {
        **{c: None for c, states in ACTIVITY_ALLOWED_IN.items() if state in states},
        **{c: to for (s, c), to in ACCOUNT_TRANSITIONS.items() if s == state},
    }
    for state in ACCOUNT_STATES
}

# ---------------------------------------------------------------------------
# SPEC §2: applications.
# ---------------------------------------------------------------------------

APPLICATION_STATES = ("applied", "interview_scheduled", "declined", "closed")
OPEN_APPLICATION_STATES = ("applied", "interview_scheduled")
APPLICATION_COMMANDS = ("schedule-interview", "decline-interview", "close-application")

# (from application state, command) -> to application state.
APPLICATION_TRANSITIONS: dict[tuple[str, str], str] = {
    ("applied", "schedule-interview"): "interview_scheduled",
    ("interview_scheduled", "schedule-interview"): "interview_scheduled",
    ("interview_scheduled", "decline-interview"): "declined",
    ("applied", "close-application"): "closed",
    ("interview_scheduled", "close-application"): "closed",
}

APPLICATION_EVENTS = {
    "schedule-interview": "InterviewScheduled",
    "decline-interview": "InterviewDeclined",
    "close-application": "ApplicationClosed",
}

# Application state -> the application commands it accepts.
APPLICATION_TABLE: dict[str, set[str]] = {
    state: {c for (s, c) in APPLICATION_TRANSITIONS if s == state}
    for state in APPLICATION_STATES
}

DECLINE_CHANNELS = ("phone", "email", "form", "app", "counter")

# ---------------------------------------------------------------------------
# SPEC §3: the rulebook.
# ---------------------------------------------------------------------------

WITHDRAWAL_REASONS = (
    "job_found",
    "search_ended",
    "other_agency",
    "advisor_mismatch",
    "no_suitable_jobs",
    "other",
)

WITHDRAWAL_TIMINGS = (
    "no_applications",
    "between_selections",
    "during_screening",
    "interview_scheduled",
    "final_stage",
)


@dataclass(frozen=True)
class Rules:
    """SPEC §3, one column of the rulebook."""

    channels: frozenset[str]
    channels_with_advisor: frozenset[str]
    identity_channels: frozenset[str]
    reason_required: bool
    self_application_blocks: bool
    pausing: bool
    advisors: bool
    self_reinstatement_days: int | None
    assisted_reinstatement: bool
    erase_on_withdrawal: bool
    retention_years: int | None
    registration_validity_months: int | None
    unreachable_grace_days: int

    def withdrawal_channels(self, *, has_advisor: bool) -> frozenset[str]:
        """The channels offered for a withdrawal, with or without an advisor."""
        if has_advisor and self.advisors:
            return self.channels_with_advisor
        return self.channels


RULEBOOK: dict[str, Rules] = {
    "hellowork": Rules(
        channels=frozenset({"web", "counter"}),
        channels_with_advisor=frozenset({"web", "counter"}),
        identity_channels=frozenset(),
        reason_required=False,
        self_application_blocks=True,
        pausing=False,
        advisors=False,
        self_reinstatement_days=30,
        assisted_reinstatement=True,
        erase_on_withdrawal=False,
        retention_years=5,
        registration_validity_months=2,
        unreachable_grace_days=30,
    ),
    "pasona": Rules(
        channels=frozenset({"web"}),
        channels_with_advisor=frozenset({"email", "phone"}),
        identity_channels=frozenset({"email", "phone"}),
        reason_required=True,
        self_application_blocks=False,
        pausing=False,
        advisors=True,
        self_reinstatement_days=None,
        assisted_reinstatement=False,
        erase_on_withdrawal=True,
        retention_years=None,
        registration_validity_months=None,
        unreachable_grace_days=30,
    ),
    "workport": Rules(
        channels=frozenset({"phone", "email", "form", "app"}),
        channels_with_advisor=frozenset({"phone", "email", "form", "app"}),
        identity_channels=frozenset(),
        reason_required=True,
        self_application_blocks=False,
        pausing=True,
        advisors=True,
        self_reinstatement_days=None,
        assisted_reinstatement=True,
        erase_on_withdrawal=False,
        retention_years=3,
        registration_validity_months=None,
        unreachable_grace_days=30,
    ),
}

PRESET_NAMES = tuple(RULEBOOK)


def presets_where(rule: Callable[[Rules], object]) -> list[str]:
    """The presets whose rules satisfy ``rule``, in rulebook order."""
    return [name for name, rules in RULEBOOK.items() if rule(rules)]
