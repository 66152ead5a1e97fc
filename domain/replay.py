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
from domain.glossary import TERMS, label
from domain.guards import policy_refusal
from domain.i18n import _
from domain.policy import Policies, Policy
from domain.rules import ACCOUNT, APPLICATION


@dataclass(frozen=True)
class Violation:
    account: str
    version: int
    message: str


def replay_violations(
    events: Iterable[Any], policies: Policies | None = None
) -> list[Violation]:
    """Every event of one stream the current rules would have refused.

    Each event's command comes from ``domain.effects`` and where it leads
    from the machines, so this replay and the aggregate cannot drift apart.
    Only policy guards are asked: the account guards read facts (arguments,
    personal data) a stored event does not keep. ``policies`` shares built
    policies across streams (``audit replay`` passes one for the whole log).
    """
    policy_of = policies if policies is not None else Policies()
    commands = EFFECTS.command
    states_after = EFFECTS.state_after
    applications_after = EFFECTS.application_state_after
    allowed = ACCOUNT.is_allowed
    state = ACCOUNT.initial
    applications: dict[str, str] = {}
    policy: Policy | None = None
    expected_version = 1
    refused: list[tuple[Any, int, str]] = []
    for event in events:
        kind = type(event).__name__
        version = event.originator_version
        if version != expected_version:
            refused.append(
                (
                    event,
                    version,
                    f"version {version} where {expected_version} was expected",
                )
            )
        expected_version = version + 1
        command = commands.get(kind)
        if command is None:
            refused.append(
                (event, version, _("unknown event type {event}").format(event=kind))
            )
            continue
        if kind == "Registered":
            policy = policy_of(event.policy)
        # Commands that record several events (contact reached while
        # unreachable also restores contact; withdraw declines open
        # applications first and may purge straight after) record each
        # event as its own command would, from the state it finds.
        if kind == "ApplicationClosed" and event.outcome == "declined_on_withdrawal":
            command = command if state in ACCOUNT.sources("withdraw") else "-"
        if not allowed(state, command):
            refused.append(
                (
                    event,
                    version,
                    _("{event}: {command} is not allowed from state '{state}'").format(
                        event=_event(kind),
                        command=command,
                        state=label("account state", state),
                    ),
                )
            )
        elif policy is not None:
            refusal = policy_refusal(policy, ACCOUNT.move(state, command).guards)
            if refusal is not None:
                refused.append((event, version, f"{_event(kind)}: {refusal}"))
        application_id = getattr(event, "application_id", None)
        if application_id is not None:
            app_state = applications.get(application_id, APPLICATION.initial)
            if not APPLICATION.is_allowed(app_state, command):
                refused.append(
                    (
                        event,
                        version,
                        _(
                            "{event}: {command} not allowed for application "
                            "{application} in state '{state}'"
                        ).format(
                            event=_event(kind),
                            command=command,
                            application=application_id,
                            state=label("application state", app_state),
                        ),
                    )
                )
            after = applications_after[kind]
            if after is not None:
                applications[application_id] = after
        state = states_after[kind] or state
    # The account's id as text only for what is refused (rare), not per event.
    return [
        Violation(str(event.originator_id), version, message)
        for event, version, message in refused
    ]


def _event(kind: str) -> str:
    """An event type as people call it; one no version of the ledger wrote
    (a damaged or foreign store) as it is stored."""
    return label("event", kind) if kind in TERMS["event"] else kind
