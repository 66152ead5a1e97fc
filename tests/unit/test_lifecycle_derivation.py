"""The lifecycle machines are the one source: every derived table follows them.

These tests read the machine classes directly (python-statemachine's public
``states_map`` and ``transitions``) and check each table the product derives
from them (``domain.rules``, ``domain.effects``, ``domain.deadlines``), so a
table that is typed by hand again, or drifts, fails here. A synthetic machine
with one more state and one more command shows the aggregate, the replay and
the projections follow it with no edit anywhere else.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from statemachine import State, StateMachine

from domain import events
from domain.effects import EFFECTS, EventEffects
from domain.lifecycle import AccountLifecycle, ApplicationLifecycle
from domain.rules import (
    ACCOUNT,
    ACCOUNT_STATES,
    APPLICATION,
    OPEN_APPLICATION_STATES,
    LifecycleDefinitionError,
    Rules,
)

ROOT = Path(__file__).resolve().parents[2]


def _transitions(machine: type[StateMachine]) -> list[tuple[str, str, str, bool]]:
    """(source, command, target, internal) for every transition of the class."""
    found = []
    for state in machine.states_map.values():
        for transition in state.transitions:
            for event in transition.events:
                found.append(
                    (
                        str(state.value),
                        str(event).replace("_", "-"),
                        str(transition.target.value),
                        bool(transition.internal),
                    )
                )
    return found


@pytest.mark.parametrize(
    ("machine", "rules"),
    [(AccountLifecycle, ACCOUNT), (ApplicationLifecycle, APPLICATION)],
    ids=["account", "application"],
)
def test_compiled_rules_hold_exactly_the_machines_transitions(
    machine: type[StateMachine], rules: Rules
) -> None:
    declared = _transitions(machine)
    compiled = [
        (state, command, move.target, not move.changes_state)
        for state in rules.states
        for command in rules.allowed(state)
        for move in [rules.move(state, command)]
    ]
    assert sorted(compiled) == sorted(declared)
    assert rules.initial == machine.initial_state.value
    assert rules.final == {state.value for state in machine.final_states}
    for command in rules.commands:
        targets = {t for _, c, t, internal in declared if c == command and not internal}
        assert rules.target(command) == (targets.pop() if targets else None)
        assert rules.sources(command) == {s for s, c, _, _ in declared if c == command}


def test_every_event_moves_the_account_where_its_command_leads() -> None:
    declared = _transitions(AccountLifecycle)
    application = _transitions(ApplicationLifecycle)
    for event_class in events.EVENT_CLASSES:
        name, command = event_class.__name__, event_class.command
        targets = {t for _, c, t, internal in declared if c == command and not internal}
        assert EFFECTS.command[name] == command
        assert EFFECTS.state_after[name] == (targets.pop() if targets else None), name
        app_targets = {t for _, c, t, _ in application if c == command}
        expected = app_targets.pop() if app_targets else None
        assert EFFECTS.application_state_after[name] == expected, name
    assert set(EFFECTS.command) == {e.__name__ for e in events.EVENT_CLASSES}
    machine_commands = {c for _, c, _, _ in declared}
    assert {e.command for e in events.EVENT_CLASSES} == machine_commands


def test_state_sets_are_read_off_the_machine() -> None:
    declared = _transitions(AccountLifecycle)

    def sources(command: str) -> set[str]:
        return {s for s, c, _, _ in declared if c == command}

    assert ACCOUNT_STATES.live == sources("lapse")
    assert ACCOUNT_STATES.invalid == sources("purge")
    assert ACCOUNT_STATES.unreachable == sources("restore-contact")
    assert ACCOUNT_STATES.reinstatable == sources("reinstate")
    assert ACCOUNT_STATES.registered == next(
        t for s, c, t, _ in declared if c == "register"
    )
    assert {
        state.value
        for state in ApplicationLifecycle.states_map.values()
        if not state.initial and not state.final
    } == OPEN_APPLICATION_STATES
    # and, read against the SPEC (§1-§3) once, so the derivation means what
    # the rulebook says:
    assert ACCOUNT_STATES.live == {"active", "paused", "unreachable"}
    assert ACCOUNT_STATES.invalid == {"lapsed", "withdrawn"}
    assert {"applied", "interview_scheduled"} == OPEN_APPLICATION_STATES


def test_an_unknown_guard_name_is_an_error_when_the_rules_are_compiled() -> None:
    class Typo(StateMachine):
        start = State(initial=True)
        done = State(final=True)
        finish = start.to(done, cond="policy_offers_pausng")

    with pytest.raises(LifecycleDefinitionError, match="policy_offers_pausng"):
        Rules(Typo, "typo")


def test_a_typo_in_the_account_machine_fails_at_import() -> None:
    script = textwrap.dedent(
        """
        from statemachine import State, StateMachine
        import domain.lifecycle as lifecycle

        class Broken(StateMachine):
            unregistered = State(initial=True)
            active = State()
            purged = State(final=True)
            register = unregistered.to(active)
            purge = active.to(purged, cond="purge_dew")

        lifecycle.AccountLifecycle = Broken
        import domain.rules
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode != 0
    assert "LifecycleDefinitionError" in run.stderr
    assert "purge_dew" in run.stderr


def test_a_command_leading_to_two_states_is_refused() -> None:
    class Forked(StateMachine):
        start = State(initial=True)
        left = State(final=True)
        right = State(final=True)
        go = start.to(left) | start.to(right)

    with pytest.raises(LifecycleDefinitionError):
        Rules(Forked, "forked")


def test_an_event_naming_a_command_the_machine_lacks_is_refused() -> None:
    class Stray(events.SeekerEvent):
        command = "teleport"

    with pytest.raises(LifecycleDefinitionError, match="teleport"):
        EventEffects.of((*events.EVENT_CLASSES, Stray))


SYNTHETIC = textwrap.dedent(
    '''
    """The real lifecycle plus a ``suspended`` state and a ``suspend`` command,
    declared only in the machine and one event class, before the product is
    imported: nothing else is edited."""
    import json
    from datetime import datetime, timedelta, timezone

    from statemachine import State

    from statemachine import StateMachine

    import domain.lifecycle as lifecycle

    class Extended(StateMachine):
        unregistered = State(initial=True)
        active = State()
        paused = State()
        unreachable = State()
        suspended = State()
        lapsed = State()
        withdrawal_requested = State()
        withdrawn = State()
        purged = State(final=True)

        register = unregistered.to(active)
        suspend = active.to(suspended)
        resume = paused.to(active) | suspended.to(active)
        pause = active.to(paused, cond="policy_offers_pausing")
        mark_unreachable = active.to(unreachable)
        restore_contact = unreachable.to(active)
        lapse = (
            active.to(lapsed)
            | paused.to(lapsed)
            | unreachable.to(lapsed)
            | suspended.to(lapsed)
        )
        reactivate = lapsed.to(active)
        request_withdrawal = active.to(withdrawal_requested) | lapsed.to(
            withdrawal_requested
        )
        cancel_withdrawal = withdrawal_requested.to(active)
        withdraw = withdrawal_requested.to(withdrawn)
        reinstate = withdrawn.to(active, cond="reinstatement_allowed")
        purge = (
            withdrawn.to(purged, cond="purge_due")
            | lapsed.to(purged, cond="purge_due")
            | suspended.to(purged, cond="purge_due")
        )
        apply = active.to.itself(internal=True)
        schedule_interview = active.to.itself(internal=True)
        decline_interview = active.to.itself(internal=True)
        close_application = active.to.itself(
            internal=True
        ) | withdrawal_requested.to.itself(internal=True)
        contact = active.to.itself(internal=True) | unreachable.to.itself(internal=True)
        change_advisor = active.to.itself(internal=True, cond="policy_has_advisors")

    lifecycle.AccountLifecycle = Extended

    import domain.events as events

    class Suspended(events.SeekerEvent):
        command = "suspend"

    events.EVENT_CLASSES = (*events.EVENT_CLASSES, Suspended)

    from eventsourcing.domain import event

    from domain.effects import EFFECTS
    from domain.policy import PRESETS
    from domain.replay import replay_violations
    from domain.rules import ACCOUNT, ACCOUNT_STATES
    from domain.seeker import Seeker
    from domain.values import PersonalData

    class SuspendableSeeker(Seeker):
        Suspended = Suspended

        def suspend(self, *, at, actor):
            self.check("suspend")
            self._suspended(occurred_at=at, actor=actor)

        @event(Suspended)
        def _suspended(self, *, occurred_at, actor):
            self._recorded(self.Suspended, occurred_at)

    at = datetime(2025, 1, 15, tzinfo=timezone.utc)
    seeker = SuspendableSeeker._create(
        SuspendableSeeker.Registered,
        occurred_at=at,
        actor="t",
        policy=PRESETS["hellowork"].to_dict(),
        personal=PersonalData(name="A", email="a@example.jp"),
        channel=None,
        advisor=None,
    )
    seeker.suspend(at=at + timedelta(days=1), actor="t")
    recorded = seeker.collect_events()

    from projections.accounts import AccountsProjection
    from projections.audit import AuditTrailProjection
    from projections.changes import ChangeSet

    class NoDatabase:
        def execute(self, sql, params=()):
            raise AssertionError("everything is in this batch")

    changes = ChangeSet(NoDatabase())
    accounts = object.__new__(AccountsProjection)
    trail = object.__new__(AuditTrailProjection)
    for position, recorded_event in enumerate(recorded, start=1):
        accounts.apply(recorded_event, changes, position)
        trail.apply(recorded_event, changes, position)
    accounts.settle(changes)
    row = changes.account(str(seeker.id))
    trail_rows = changes._appends["audit_trail"]

    print(json.dumps({
        "status": seeker.status,
        "allowed": seeker.allowed_commands(),
        "target": ACCOUNT.target("suspend"),
        "state_after": EFFECTS.state_after["Suspended"],
        "live": sorted(ACCOUNT_STATES.live),
        "invalid": sorted(ACCOUNT_STATES.invalid),
        "registration_lapses_at": str(seeker.registration_lapses_at),
        "purge_due_at": str(seeker.purge_due_at),
        "invalid_since": str(seeker.invalid_since),
        "violations": [v.message for v in replay_violations(recorded)],
        "row": {
            key: row[key]
            for key in ("status", "registration_lapses_at", "invalid_since",
                        "purge_due_at")
        },
        "trail": [(r["type"], r["from_state"], r["to_state"]) for r in trail_rows],
    }))
    '''
)


def test_a_new_state_and_command_flow_through_every_derived_table(
    tmp_path: Path,
) -> None:
    script = tmp_path / "synthetic.py"
    script.write_text(SYNTHETIC)
    run = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    # the aggregate's mutator took its target from the machine
    assert found["status"] == "suspended"
    assert found["target"] == found["state_after"] == "suspended"
    assert found["allowed"] == ["resume", "lapse", "purge"]
    # the registration clock runs where ``lapse`` is declared, the
    # retention clock where ``purge`` is: the projection's sets follow
    assert "suspended" in found["live"]
    assert "suspended" in found["invalid"]
    assert found["registration_lapses_at"] != "None"
    # entering a state the retention clock runs in starts the invalid spell
    assert found["invalid_since"] == "2025-01-16 00:00:00+00:00"
    assert found["purge_due_at"] == "2030-01-16 00:00:00+00:00"
    # the audit replay accepts the new history as the machine allows it
    assert found["violations"] == []
    # both projections follow: the accounts row, its clocks, the trail
    assert found["row"] == {
        "status": "suspended",
        "registration_lapses_at": "2025-03-31T15:00:00.000000Z",
        "invalid_since": "2025-01-16T00:00:00.000000Z",
        "purge_due_at": "2030-01-16T00:00:00.000000Z",
    }
    assert found["trail"] == [
        ["Registered", None, "active"],
        ["Suspended", "active", "suspended"],
    ]
