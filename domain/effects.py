"""What each recorded event does to an account, read off the lifecycle machines.

An event names its command (``domain.events``); the compiled machines
(``domain.rules``) say where that command goes. Joining the two gives every
table the aggregate, the audit replay and the projections need, so none of
them types a state name. Built once at import, and checked: an event whose
command the account machine does not know is an error here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.events import EVENT_CLASSES
from domain.rules import ACCOUNT, APPLICATION, LifecycleDefinitionError, Rules


@dataclass(frozen=True)
class EventEffects:
    """Per event name: its command, the account state after it (``None``: the
    state does not change), the application state after it (``None``: it does
    not concern an application), and whether it is the seeker's activity."""

    command: dict[str, str]
    state_after: dict[str, str | None]
    application_state_after: dict[str, str | None]
    activity: frozenset[str]

    @classmethod
    def of(
        cls,
        events: tuple[type[Any], ...],
        account: Rules = ACCOUNT,
        application: Rules = APPLICATION,
    ) -> EventEffects:
        command: dict[str, str] = {}
        for event_class in events:
            if event_class.command not in account.commands:
                raise LifecycleDefinitionError(
                    f"{event_class.__name__} records {event_class.command!r}, "
                    f"which {account.machine.__name__} does not declare"
                )
            command[event_class.__name__] = event_class.command
        return cls(
            command=command,
            state_after={name: account.target(c) for name, c in command.items()},
            application_state_after={
                name: application.target(c) if c in application.commands else None
                for name, c in command.items()
            },
            activity=frozenset(e.__name__ for e in events if e.activity),
        )


EFFECTS = EventEffects.of(EVENT_CLASSES)
