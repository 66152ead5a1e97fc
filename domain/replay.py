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

from domain.effects import EFFECTS
from domain.guards import policy_refusal
from domain.policy import Policy
from domain.rules import ACCOUNT, APPLICATION


@dataclass(frozen=True)
class Violation:
    account: str
    version: int
    message: str


def replay_violations(events: Iterable[Any]) -> list[Violation]:
    """Every event of one stream the current rules would have refused.

    Each event's command comes from ``domain.effects`` and where it leads
    from the machines, so this replay and the aggregate cannot drift apart.
    Only policy guards are asked: the account guards read facts (arguments,
    personal data) a stored event does not keep.
    """
    state = ACCOUNT.initial
    applications: dict[str, str] = {}
    policy: Policy | None = None
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
        command = EFFECTS.command.get(kind)
        if command is None:
            refuse(f"unknown event type {kind}")
            continue
        if kind == "Registered":
            policy = Policy.from_dict(event.policy)
        # Commands that record several events (contact reached while
        # unreachable also restores contact; withdraw declines open
        # applications first and may purge straight after) record each
        # event as its own command would, from the state it finds.
        if kind == "ApplicationClosed" and event.outcome == "declined_on_withdrawal":
            command = command if state in ACCOUNT.sources("withdraw") else "-"
        if not ACCOUNT.is_allowed(state, command):
            refuse(f"{kind}: {command} is not allowed from state '{state}'")
        elif policy is not None:
            refusal = policy_refusal(policy, ACCOUNT.move(state, command).guards)
            if refusal is not None:
                refuse(f"{kind}: {refusal}")
        application_id = getattr(event, "application_id", None)
        if application_id is not None:
            app_state = applications.get(application_id, APPLICATION.initial)
            if not APPLICATION.is_allowed(app_state, command):
                refuse(
                    f"{kind}: {command} not allowed for application "
                    f"{application_id} in state '{app_state}'"
                )
            after = EFFECTS.application_state_after[kind]
            if after is not None:
                applications[application_id] = after
        state = EFFECTS.state_after[kind] or state
    return violations
