"""The lifecycle machines compiled into lookup tables, and what derives from them.

Commands never run the machines (building an instance costs ~150 µs and
``send`` ~100 µs); they ask a :class:`Rules` table compiled once from the
class, which answers in a dictionary lookup whatever the number of
transitions. The same tables say where each command goes, so the aggregate's
mutators, the audit replay, the projections and the sweep read targets and
state sets from here instead of typing state names again.

Compiling checks the machine: every guard it names must exist in
``domain.guards`` and every state-changing command must have one target, so
a typo is an error when this module is imported, not a silent pass. The
classes are read through ``domain.compiled``, which caches what it reads so
that a command does not import python-statemachine; the checks run on every
import all the same.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from domain import refusals
from domain.compiled import Machine, Move, command_name, declared_machines
from domain.errors import Refused
from domain.guards import known_guards

if TYPE_CHECKING:
    from statemachine import StateMachine

__all__ = [
    "ACCOUNT",
    "ACCOUNT_STATES",
    "APPLICATION",
    "OPEN_APPLICATION_STATES",
    "AccountStates",
    "LifecycleDefinitionError",
    "Move",
    "Rules",
    "account_rules",
    "application_rules",
    "command_name",
]


class LifecycleDefinitionError(TypeError):
    """A machine names a guard that does not exist, or is ambiguous."""


class Rules:
    """A state machine compiled into a lookup table.

    ``machine`` is the python-statemachine class, or the same class already
    read into data (``domain.compiled``); both compile and check alike.
    """

    def __init__(
        self,
        machine: type[StateMachine] | Machine,
        subject: str,
        guards: Collection[str] | None = None,
    ) -> None:
        known = known_guards() if guards is None else frozenset(guards)
        if isinstance(machine, Machine):
            declared, self._machine = machine, None
        else:
            declared, self._machine = Machine.of(machine), machine
        self.machine_name = declared.name
        self.subject = subject
        self.states: tuple[str, ...] = declared.states
        self.initial = declared.initial
        self.final = frozenset(declared.final)
        table: dict[str, dict[str, Move]] = {state: {} for state in self.states}
        targets: dict[str, set[str]] = {}
        for move in declared.moves:
            where = f"{declared.name}.{move.command.replace('-', '_')}"
            if move.command in table[move.source]:
                raise LifecycleDefinitionError(
                    f"{where} is ambiguous from state '{move.source}'"
                )
            unknown = [name for name in move.guards if name not in known]
            if unknown:
                raise LifecycleDefinitionError(
                    f"{where} names unknown guard(s) {', '.join(unknown)}"
                )
            table[move.source][move.command] = move
            if move.changes_state:
                targets.setdefault(move.command, set()).add(move.target)
            else:
                targets.setdefault(move.command, set())
        several = {command: to for command, to in targets.items() if len(to) > 1}
        if several:
            raise LifecycleDefinitionError(
                f"{declared.name}: a command must lead to one state: {several}"
            )
        self.commands: tuple[str, ...] = tuple(targets)
        self._targets = {
            command: next(iter(to), None) for command, to in targets.items()
        }
        self._table = table

    @property
    def machine(self) -> type[StateMachine]:
        """The python-statemachine class (diagrams draw it); imported on
        first use when the rules came from the cache."""
        if self._machine is None:
            from domain import lifecycle

            self._machine = getattr(lifecycle, self.machine_name)
        assert self._machine is not None
        return self._machine

    # -- whether ---------------------------------------------------------

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
                refusals.not_in_state(
                    command, self.subject, state, allowed, name_subject=True
                ),
                state=state,
                allowed=allowed,
            ) from None

    # -- where to --------------------------------------------------------

    def target(self, command: str) -> str | None:
        """Where ``command`` leaves the subject; ``None`` when it stays put."""
        return self._targets[command]

    def sources(self, command: str) -> frozenset[str]:
        """The states ``command`` is allowed from."""
        return frozenset(
            state for state, moves in self._table.items() if command in moves
        )

    @property
    def open_states(self) -> frozenset[str]:
        """States between the initial and a final one: the subject is open."""
        return frozenset(self.states) - self.final - {self.initial}


_DECLARED = declared_machines()
ACCOUNT = Rules(_DECLARED["AccountLifecycle"], "account")
APPLICATION = Rules(_DECLARED["ApplicationLifecycle"], "application")


def account_rules() -> Rules:
    return ACCOUNT


def application_rules() -> Rules:
    return APPLICATION


@dataclass(frozen=True)
class AccountStates:
    """The state sets the time rules and reports need, read off the machine.

    ``live``: the registration clock runs (the states ``lapse`` leaves);
    ``invalid``: the retention clock runs (the states ``purge`` leaves);
    ``unreachable``: the unreachable grace runs (``restore-contact`` leaves);
    ``reinstatable``: the self-reinstatement window runs (``reinstate`` leaves);
    ``registered``: where ``register`` puts a new account, which also ends an
    invalid spell when an account comes back to it.
    """

    live: frozenset[str]
    invalid: frozenset[str]
    unreachable: frozenset[str]
    reinstatable: frozenset[str]
    registered: str

    @classmethod
    def of(cls, rules: Rules) -> AccountStates:
        registered = rules.target("register")
        assert registered is not None, "register must enter a state"
        return cls(
            live=rules.sources("lapse"),
            invalid=rules.sources("purge"),
            unreachable=rules.sources("restore-contact"),
            reinstatable=rules.sources("reinstate"),
            registered=registered,
        )


ACCOUNT_STATES = AccountStates.of(ACCOUNT)
OPEN_APPLICATION_STATES = APPLICATION.open_states
