"""Every account state × every command, and every application state × every
application command, against tables written by hand from SPEC §1 and §2.

No I/O: the ``Seeker`` aggregate is driven directly. The expected tables
(``tests/unit/spec_oracle.py``) are transcribed from the spec, not derived
from ``domain.lifecycle``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.errors import Refused
from domain.seeker import Seeker
from tests.unit.aggregates import names, register, request_withdrawal
from tests.unit.spec_oracle import (
    ACCOUNT_STATES,
    ACCOUNT_TRANSITIONS,
    APPLICATION_COMMANDS,
    APPLICATION_EVENTS,
    APPLICATION_STATES,
    APPLICATION_TABLE,
    APPLICATION_TRANSITIONS,
    COMMAND_EVENTS,
    COMMANDS,
    expected_allowed,
    expected_target,
)

# The event(s) each command records in the fixture built below (workport,
# one open agency application A1 with an interview ahead): the spec's event,
# and for `withdraw` first A1's closing, as workport declines open
# applications on withdrawal.
EXPECTED_EVENTS: dict[str, list[str]] = {
    **{command: [COMMAND_EVENTS[command]] for command in COMMANDS},
    "withdraw": ["ApplicationClosed", "Withdrawn"],
}


def test_expected_tables_cover_the_spec_rows() -> None:
    # A sanity check on the hand-written oracle tables themselves (SPEC §1).
    assert len(ACCOUNT_TRANSITIONS) == 17
    assert expected_allowed("purged", pausing=True, advisors=True) == set()
    assert expected_allowed("withdrawn", pausing=True, advisors=True) == {
        "reinstate",
        "purge",
    }
    assert expected_allowed("lapsed", pausing=True, advisors=True) == {
        "reactivate",
        "request-withdrawal",
        "purge",
    }


# ---------------------------------------------------------------------------
# Building an account in a given state.
# ---------------------------------------------------------------------------

START = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo
INTERVIEW_AT = datetime(2030, 6, 1, 1, 0, tzinfo=UTC)


class Clock:
    """Strictly increasing business times, an hour apart."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def next(self) -> datetime:
        self.now += timedelta(hours=1)
        return self.now


def account_in(state: str) -> tuple[Seeker, Clock]:
    """A workport account in ``state`` whose application A1 (agency route) has
    an interview ahead, so application-level rules pass where the account
    allows the command. Pending events are collected: nothing is pending."""
    clock = Clock()
    seeker = register("workport", clock.now, advisor="Sato")
    seeker.apply(at=clock.next(), actor="tester", job="J-1", route="agency")
    seeker.schedule_interview(
        at=clock.next(),
        actor="tester",
        application_id="A1",
        interview_at=INTERVIEW_AT,
        round_number=1,
        final=False,
    )
    if state == "paused":
        seeker.pause(at=clock.next(), actor="tester", reason="holiday")
    elif state == "unreachable":
        seeker.mark_unreachable(at=clock.next(), actor="tester")
    elif state == "lapsed":
        seeker.lapse(at=clock.next(), actor="tester")
    elif state in ("withdrawal_requested", "withdrawn", "purged"):
        request_withdrawal(seeker, clock.next())
        if state in ("withdrawn", "purged"):
            seeker.withdraw(at=clock.next(), actor="tester")
        if state == "purged":
            seeker.purge(at=clock.next(), actor="tester", reason="deletion_request")
    assert seeker.status == state
    seeker.collect_events()
    return seeker, clock


def run(seeker: Seeker, command: str, at: datetime) -> None:
    """Run ``command`` with arguments that satisfy every policy guard."""
    actions: dict[str, Callable[[], Any]] = {
        "pause": lambda: seeker.pause(at=at, actor="tester", reason="holiday"),
        "resume": lambda: seeker.resume(at=at, actor="tester"),
        "mark-unreachable": lambda: seeker.mark_unreachable(at=at, actor="tester"),
        "restore-contact": lambda: seeker.restore_contact(at=at, actor="tester"),
        "lapse": lambda: seeker.lapse(at=at, actor="tester"),
        "reactivate": lambda: seeker.reactivate(at=at, actor="tester"),
        "request-withdrawal": lambda: request_withdrawal(seeker, at),
        "cancel-withdrawal": lambda: seeker.cancel_withdrawal(at=at, actor="tester"),
        "withdraw": lambda: seeker.withdraw(at=at, actor="tester"),
        "reinstate": lambda: seeker.reinstate(at=at, actor="tester", assisted=True),
        "purge": lambda: seeker.purge(at=at, actor="tester", reason="deletion_request"),
        "apply": lambda: seeker.apply(at=at, actor="tester", job="J-2", route="self"),
        "schedule-interview": lambda: seeker.schedule_interview(
            at=at,
            actor="tester",
            application_id="A1",
            interview_at=INTERVIEW_AT + timedelta(days=1),
            round_number=2,
            final=True,
        ),
        "decline-interview": lambda: seeker.decline_interview(
            at=at, actor="tester", application_id="A1", channel="phone", note=None
        ),
        "close-application": lambda: seeker.close_application(
            at=at, actor="tester", application_id="A1", outcome="rejected"
        ),
        "contact": lambda: seeker.contact(
            at=at, actor="tester", channel="phone", outcome="no_answer"
        ),
        "change-advisor": lambda: seeker.change_advisor(
            at=at, actor="tester", advisor="Suzuki"
        ),
    }
    actions[command]()


CASES = [(state, command) for state in ACCOUNT_STATES for command in COMMANDS]


# ---------------------------------------------------------------------------
# Account state × command.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "command"),
    [c for c in CASES if expected_target(*c) is not None],
    ids=[f"{s}-{c}" for s, c in CASES if expected_target(s, c) is not None],
)
def test_command_allowed_by_the_spec_records_its_event_and_reaches_its_state(
    state: str, command: str
) -> None:
    seeker, clock = account_in(state)
    version = seeker.version

    run(seeker, command, clock.next())

    expected = EXPECTED_EVENTS[command]
    assert names(seeker) == expected
    assert seeker.status == expected_target(state, command)
    assert seeker.version == version + len(expected)


@pytest.mark.parametrize(
    ("state", "command"),
    [c for c in CASES if expected_target(*c) is None],
    ids=[f"{s}-{c}" for s, c in CASES if expected_target(s, c) is None],
)
def test_command_refused_by_the_spec_records_nothing_and_names_state_and_allowed(
    state: str, command: str
) -> None:
    seeker, clock = account_in(state)
    version = seeker.version
    before = seeker.status

    with pytest.raises(Refused) as refused:
        run(seeker, command, clock.next())

    assert seeker.pending_events == []
    assert seeker.version == version
    assert seeker.status == before
    allowed = expected_allowed(state, pausing=True, advisors=True)
    assert refused.value.state == state
    assert set(refused.value.allowed) == allowed
    message = str(refused.value)
    listed = ", ".join(refused.value.allowed) or "nothing"
    assert message == f"cannot {command} from state '{state}' (allowed: {listed})"


def test_refusal_message_names_the_state_and_the_commands_allowed_there() -> None:
    seeker, clock = account_in("paused")

    with pytest.raises(Refused) as refused:
        seeker.withdraw(at=clock.next(), actor="tester")

    message = str(refused.value)
    assert message.startswith("cannot withdraw from state 'paused' (allowed: ")
    assert message.endswith(")")
    listed = message.removeprefix("cannot withdraw from state 'paused' (allowed: ")
    listed_commands = listed.removesuffix(")").split(", ")
    # SPEC §5's example lists "resume, request-withdrawal"; the §1 tables also
    # allow lapse and the in-state activities while paused (see report).
    assert {"resume", "request-withdrawal"} <= set(listed_commands)
    assert set(listed_commands) == expected_allowed(
        "paused", pausing=True, advisors=True
    )
    assert listed_commands == refused.value.allowed


def test_refusal_in_purged_state_says_nothing_is_allowed() -> None:
    seeker, clock = account_in("purged")

    with pytest.raises(Refused) as refused:
        seeker.reinstate(at=clock.next(), actor="tester", assisted=True)

    assert (
        str(refused.value) == "cannot reinstate from state 'purged' (allowed: nothing)"
    )
    assert refused.value.allowed == []


@pytest.mark.parametrize("state", ACCOUNT_STATES)
def test_allowed_commands_match_the_spec_for_each_state(state: str) -> None:
    seeker, _ = account_in(state)

    assert set(seeker.allowed_commands()) == expected_allowed(
        state, pausing=True, advisors=True
    )


def test_contact_reached_while_unreachable_restores_contact() -> None:
    seeker, clock = account_in("unreachable")

    seeker.contact(at=clock.next(), actor="tester", channel="phone", outcome="reached")

    assert names(seeker) == ["ContactAttempted", "ContactRestored"]
    assert seeker.status == "active"


def test_contact_reached_while_active_only_records_the_attempt() -> None:
    seeker, clock = account_in("active")

    seeker.contact(at=clock.next(), actor="tester", channel="email", outcome="reached")

    assert names(seeker) == ["ContactAttempted"]
    assert seeker.status == "active"


# ---------------------------------------------------------------------------
# Application state × application command (SPEC §2).
# ---------------------------------------------------------------------------


def account_with_application_in(app_state: str) -> tuple[Seeker, Clock]:
    """An active workport account whose A1 is in ``app_state``."""
    clock = Clock()
    seeker = register("workport", clock.now, advisor="Sato")
    seeker.apply(at=clock.next(), actor="tester", job="J-1", route="agency")
    if app_state in ("interview_scheduled", "declined"):
        seeker.schedule_interview(
            at=clock.next(),
            actor="tester",
            application_id="A1",
            interview_at=INTERVIEW_AT,
            round_number=1,
            final=False,
        )
    if app_state == "declined":
        seeker.decline_interview(
            at=clock.next(),
            actor="tester",
            application_id="A1",
            channel="app",
            note=None,
        )
    if app_state == "closed":
        seeker.close_application(
            at=clock.next(), actor="tester", application_id="A1", outcome="hired"
        )
    assert seeker.application("A1").status == app_state
    assert seeker.status == "active"
    seeker.collect_events()
    return seeker, clock


def run_application_command(
    seeker: Seeker, command: str, at: datetime, application_id: str = "A1"
) -> None:
    if command == "schedule-interview":
        seeker.schedule_interview(
            at=at,
            actor="tester",
            application_id=application_id,
            interview_at=INTERVIEW_AT + timedelta(days=7),
            round_number=2,
            final=False,
        )
    elif command == "decline-interview":
        seeker.decline_interview(
            at=at,
            actor="tester",
            application_id=application_id,
            channel="email",
            note=None,
        )
    else:
        seeker.close_application(
            at=at, actor="tester", application_id=application_id, outcome="withdrawn"
        )


APP_CASES = [(s, c) for s in APPLICATION_STATES for c in APPLICATION_COMMANDS]


@pytest.mark.parametrize(
    ("app_state", "command"),
    [c for c in APP_CASES if c in APPLICATION_TRANSITIONS],
    ids=[f"{s}-{c}" for s, c in APP_CASES if (s, c) in APPLICATION_TRANSITIONS],
)
def test_application_command_allowed_by_the_spec_moves_the_application(
    app_state: str, command: str
) -> None:
    seeker, clock = account_with_application_in(app_state)

    run_application_command(seeker, command, clock.next())

    assert names(seeker) == [APPLICATION_EVENTS[command]]
    assert (
        seeker.application("A1").status == APPLICATION_TRANSITIONS[app_state, command]
    )
    assert seeker.status == "active"


@pytest.mark.parametrize(
    ("app_state", "command"),
    [c for c in APP_CASES if c not in APPLICATION_TRANSITIONS],
    ids=[f"{s}-{c}" for s, c in APP_CASES if (s, c) not in APPLICATION_TRANSITIONS],
)
def test_application_command_refused_by_the_spec_records_nothing(
    app_state: str, command: str
) -> None:
    seeker, clock = account_with_application_in(app_state)
    version = seeker.version

    with pytest.raises(Refused) as refused:
        run_application_command(seeker, command, clock.next())

    assert seeker.pending_events == []
    assert seeker.version == version
    assert seeker.application("A1").status == app_state
    message = str(refused.value)
    allowed = APPLICATION_TABLE[app_state]
    assert message.startswith("application A1: ")
    assert f"'{app_state}'" in message
    for command_allowed in allowed:
        assert command_allowed in message
    # The refusal carries the application's state and the commands it allows.
    assert refused.value.state == app_state
    assert set(refused.value.allowed) == allowed


def test_application_closed_on_withdrawal_stays_closed_after_reinstatement() -> None:
    seeker, clock = account_in("withdrawn")
    assert seeker.application("A1").status == "closed"
    assert seeker.application("A1").outcome == "declined_on_withdrawal"
    seeker.reinstate(at=clock.next(), actor="tester", assisted=True)
    seeker.collect_events()

    for command in APPLICATION_COMMANDS:
        with pytest.raises(Refused):
            run_application_command(seeker, command, clock.next())

    assert seeker.pending_events == []


def test_applications_are_numbered_in_order() -> None:
    seeker, clock = account_in("active")

    second = seeker.apply(at=clock.next(), actor="tester", job="J-2", route="self")
    third = seeker.apply(at=clock.next(), actor="tester", job="J-3", route="agency")

    assert (second, third) == ("A2", "A3")
    assert [a.id for a in seeker.applications] == ["A1", "A2", "A3"]
    assert seeker.application("A2").route == "self"
    assert seeker.application("A2").status == "applied"
