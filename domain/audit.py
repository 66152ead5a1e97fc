"""Replaying a stream through the current rules (``audit replay``).

The aggregate never re-runs rules on replay; this does, on purpose: it walks
an account's events, asks the compiled state machines whether each event's
command was allowed from the state the account was in, and reports every
history the rules would not have produced (imported legacy data, or a
concurrency bug).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from domain.guards import GUARDS, POLICY_ONLY
from domain.lifecycle import account_rules, application_rules
from domain.policy import Policy
from domain.seeker import STATE_AFTER

COMMAND_OF_EVENT = {
    "Registered": "register",
    "Applied": "apply",
    "InterviewScheduled": "schedule-interview",
    "InterviewDeclined": "decline-interview",
    "ApplicationClosed": "close-application",
    "Paused": "pause",
    "Resumed": "resume",
    "ContactAttempted": "contact",
    "MarkedUnreachable": "mark-unreachable",
    "ContactRestored": "restore-contact",
    "Lapsed": "lapse",
    "Reactivated": "reactivate",
    "AdvisorChanged": "change-advisor",
    "WithdrawalRequested": "request-withdrawal",
    "WithdrawalCancelled": "cancel-withdrawal",
    "Withdrawn": "withdraw",
    "Reinstated": "reinstate",
    "Purged": "purge",
}
APPLICATION_STATE_AFTER = {
    "Applied": "applied",
    "InterviewScheduled": "interview_scheduled",
    "InterviewDeclined": "declined",
    "ApplicationClosed": "closed",
}


@dataclass(frozen=True)
class Violation:
    account: str
    version: int
    message: str


class _PolicyView:
    """Just enough of an account for the policy-only guards."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy


def replay_violations(events: Iterable[Any]) -> list[Violation]:
    """Every event of one stream the current rules would have refused."""
    rules, app_rules = account_rules(), application_rules()
    state = rules.initial
    applications: dict[str, str] = {}
    policy: _PolicyView | None = None
    expected_version = 1
    violations: list[Violation] = []
    for event in events:
        kind = type(event).__name__
        account = str(event.originator_id)
        version = event.originator_version

        def refuse(
            message: str, version: int = version, account: str = account
        ) -> None:
            violations.append(Violation(account, version, message))

        if version != expected_version:
            refuse(f"version {version} where {expected_version} was expected")
        expected_version = version + 1
        command = COMMAND_OF_EVENT.get(kind)
        if command is None:
            refuse(f"unknown event type {kind}")
            continue
        if kind == "Registered":
            policy = _PolicyView(Policy.from_dict(event.policy))
        # Commands that record several events: contact reached while
        # unreachable also restores contact; withdraw declines open
        # applications first and may purge straight after.
        if kind == "ContactRestored" and state == "unreachable":
            command = "restore-contact"
        if kind == "ApplicationClosed" and event.outcome == "declined_on_withdrawal":
            command = "close-application" if state == "withdrawal_requested" else "-"
        if not rules.is_allowed(state, command):
            refuse(f"{kind}: {command} is not allowed from state '{state}'")
        elif policy is not None:
            for name in rules.move(state, command).guards:
                if name in POLICY_ONLY and GUARDS[name](policy, {}) is not None:  # type: ignore[arg-type]
                    refuse(f"{kind}: {GUARDS[name](policy, {})}")  # type: ignore[arg-type]
        application_id = getattr(event, "application_id", None)
        if application_id is not None:
            app_state = applications.get(application_id, app_rules.initial)
            app_command = COMMAND_OF_EVENT[kind]
            if not app_rules.is_allowed(app_state, app_command):
                refuse(
                    f"{kind}: {app_command} not allowed for application "
                    f"{application_id} in state '{app_state}'"
                )
            applications[application_id] = APPLICATION_STATE_AFTER[kind]
        state = STATE_AFTER.get(kind, state)
    return violations
