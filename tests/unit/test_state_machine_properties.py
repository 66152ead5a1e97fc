"""Property-based tests: random command sequences against a reference model.

The reference model (``reference_model.py``) is written from the SPEC tables
(§1 account states, §2 applications, §3 policies, §4 time; ``spec_oracle.py``)
without reading ``domain.lifecycle`` or ``domain.guards``. Hypothesis drives
random sequences of every command, with valid and invalid arguments, under all
three presets, at increasing business times (minutes to years apart), and
checks that:

- the aggregate accepts a command exactly when the model says so, recording
  the events the model expects;
- a refused command records nothing (no pending events, version unchanged);
- replaying the recorded events (in memory, and through the application on
  an in-memory store) gives an equal account;
- once ``purged``, every command is refused.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from eventsourcing.domain import DomainEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from cli.views import account_view
from domain.errors import NotFound, Refused
from domain.policy import PRESETS
from domain.seeker import Seeker
from domain.values import PersonalData
from privacy.key_table import MemoryKeyTable
from privacy.vault import Vault
from services.ledger import SeekerLedger
from tests.unit.reference_model import (
    DAY,
    SECOND,
    TOKYO,
    Model,
    tokyo_date,
    years_later,
)
from tests.unit.spec_oracle import (
    APPLICATION_TABLE,
    COMMANDS,
    DECLINE_CHANNELS,
    OPEN_APPLICATION_STATES,
    RULEBOOK,
    WITHDRAWAL_REASONS,
)

ACTOR = "property"
NAME = "山田 太郎"
NAME_VARIANTS = {
    "exact": NAME,
    "full_width_space": "山田　太郎",
    "no_space": "山田太郎",
    "wrong": "山田 花子",
}
BIRTH_DATE = date(1988, 2, 29)

# ---------------------------------------------------------------------------
# Driving the aggregate.
# ---------------------------------------------------------------------------


def run(seeker: Seeker, command: str, args: dict[str, Any], at: datetime) -> None:
    actions: dict[str, Callable[[], Any]] = {
        "pause": lambda: seeker.pause(at=at, actor=ACTOR, reason=args["reason"]),
        "resume": lambda: seeker.resume(at=at, actor=ACTOR),
        "mark-unreachable": lambda: seeker.mark_unreachable(at=at, actor=ACTOR),
        "restore-contact": lambda: seeker.restore_contact(at=at, actor=ACTOR),
        "lapse": lambda: seeker.lapse(at=at, actor=ACTOR),
        "reactivate": lambda: seeker.reactivate(at=at, actor=ACTOR),
        "request-withdrawal": lambda: seeker.request_withdrawal(
            at=at,
            actor=ACTOR,
            channel=args["channel"],
            reason=args["reason"],
            note=None,
            verify_name=NAME_VARIANTS.get(args["verify_name"]),
            verify_birth_date={
                "right": BIRTH_DATE,
                "wrong": date(1988, 2, 28),
            }.get(args["verify_birth_date"]),
            erase_data=args["erase_data"],
        ),
        "cancel-withdrawal": lambda: seeker.cancel_withdrawal(at=at, actor=ACTOR),
        "withdraw": lambda: seeker.withdraw(at=at, actor=ACTOR),
        "reinstate": lambda: seeker.reinstate(
            at=at, actor=ACTOR, assisted=args["assisted"]
        ),
        "purge": lambda: seeker.purge(at=at, actor=ACTOR, reason=args["reason"]),
        "apply": lambda: seeker.apply(at=at, actor=ACTOR, job="J", route=args["route"]),
        "schedule-interview": lambda: seeker.schedule_interview(
            at=at,
            actor=ACTOR,
            application_id=f"A{args['number']}",
            interview_at=at + timedelta(hours=args["hours_ahead"]),
            round_number=args["round"],
            final=args["final"],
        ),
        "decline-interview": lambda: seeker.decline_interview(
            at=at,
            actor=ACTOR,
            application_id=f"A{args['number']}",
            channel=args["channel"],
            note=None,
        ),
        "close-application": lambda: seeker.close_application(
            at=at,
            actor=ACTOR,
            application_id=f"A{args['number']}",
            outcome=args["outcome"],
        ),
        "contact": lambda: seeker.contact(
            at=at, actor=ACTOR, channel=args["channel"], outcome=args["outcome"]
        ),
        "change-advisor": lambda: seeker.change_advisor(
            at=at, actor=ACTOR, advisor=args["advisor"]
        ),
    }
    actions[command]()


# ---------------------------------------------------------------------------
# Strategies: mostly commands the model allows, with mostly valid arguments,
# so that long sequences reach every state; sometimes anything at all.
# ---------------------------------------------------------------------------

CHANNELS = ("web", "counter", "phone", "email", "form", "app")  # any preset offers


def mostly(likely: st.SearchStrategy[Any], anything: st.SearchStrategy[Any]) -> Any:
    """``likely`` four times in five, else ``anything``."""
    return st.integers(min_value=0, max_value=4).flatmap(
        lambda n: likely if n else anything
    )


def arguments(
    command: str, model: Model, at: datetime
) -> st.SearchStrategy[dict[str, Any]]:
    """Arguments for ``command``: usually ones the model's guards accept."""
    fitting = [
        index
        for index, application in enumerate(model.applications, start=1)
        if application.status in OPEN_APPLICATION_STATES
        and (
            command != "decline-interview"
            or (application.interview_at is not None and application.interview_at > at)
        )
    ]
    anything = st.integers(min_value=1, max_value=len(model.applications) + 2)
    number = mostly(st.sampled_from(fitting), anything) if fitting else anything
    rules = model.rules
    offered = sorted(rules.withdrawal_channels(has_advisor=model.has_advisor))
    if command == "pause":
        return st.fixed_dictionaries({"reason": st.none() | st.just("holiday")})
    if command == "request-withdrawal":
        return st.fixed_dictionaries(
            {
                "channel": mostly(st.sampled_from(offered), st.sampled_from(CHANNELS)),
                "reason": mostly(
                    st.sampled_from(WITHDRAWAL_REASONS),
                    st.none() | st.sampled_from(WITHDRAWAL_REASONS),
                ),
                "verify_name": mostly(
                    st.sampled_from(["exact", "full_width_space", "no_space"]),
                    st.sampled_from([None, *NAME_VARIANTS]),
                ),
                "verify_birth_date": mostly(
                    st.just("right"), st.sampled_from([None, "right", "wrong"])
                ),
                "erase_data": mostly(st.just(False), st.booleans()),
            }
        )
    if command == "reinstate":
        return st.fixed_dictionaries({"assisted": st.booleans()})
    if command == "purge":
        return st.fixed_dictionaries(
            {"reason": st.sampled_from(["deletion_request", "retention_expired"])}
        )
    if command == "apply":
        return st.fixed_dictionaries({"route": st.sampled_from(["self", "agency"])})
    if command == "schedule-interview":
        return st.fixed_dictionaries(
            {
                "number": number,
                "hours_ahead": mostly(
                    st.integers(min_value=1, max_value=24 * 120),
                    st.integers(min_value=-48, max_value=48),
                ),
                "round": st.integers(min_value=1, max_value=3),
                "final": st.booleans(),
            }
        )
    if command == "decline-interview":
        return st.fixed_dictionaries(
            {
                "number": number,
                "channel": st.sampled_from(DECLINE_CHANNELS),
            }
        )
    if command == "close-application":
        return st.fixed_dictionaries(
            {
                "number": number,
                "outcome": st.sampled_from(["hired", "rejected", "withdrawn"]),
            }
        )
    if command == "contact":
        return st.fixed_dictionaries(
            {
                "channel": st.sampled_from(["phone", "email"]),
                "outcome": st.sampled_from(["reached", "no_answer"]),
            }
        )
    if command == "change-advisor":
        return st.fixed_dictionaries({"advisor": st.sampled_from(["Sato", "Suzuki"])})
    return st.just({})


small_jumps = st.one_of(
    st.just(timedelta(0)),
    st.integers(min_value=1, max_value=600).map(lambda m: timedelta(minutes=m)),
    st.integers(min_value=1, max_value=72).map(lambda h: timedelta(hours=h)),
    st.integers(min_value=1, max_value=45).map(lambda d: timedelta(days=d)),
)
big_jumps = st.one_of(
    st.integers(min_value=28, max_value=400).map(lambda d: timedelta(days=d)),
    st.integers(min_value=2 * 365, max_value=6 * 366).map(lambda d: timedelta(days=d)),
    # Whole years, so that retention boundaries are hit to the second.
    st.sampled_from([3, 5]).map(lambda y: timedelta(days=365 * y)),
)
jumps = mostly(small_jumps, big_jumps)


@st.composite
def registrations(draw: st.DrawFn) -> tuple[str, datetime, bool]:
    policy = draw(st.sampled_from(sorted(RULEBOOK)))
    start = draw(
        st.datetimes(
            min_value=datetime(2023, 1, 1),
            max_value=datetime(2025, 12, 31),
            timezones=st.just(UTC),
        )
    )
    has_advisor = RULEBOOK[policy].advisors and draw(st.booleans())
    return policy, start, has_advisor


def register(policy: str, start: datetime, has_advisor: bool) -> Seeker:
    return Seeker.register(
        occurred_at=start,
        actor=ACTOR,
        policy=PRESETS[policy],
        personal=PersonalData(
            name=NAME,
            email="taro@example.jp",
            phone="03-1234-5678",
            birth_date=BIRTH_DATE,
        ),
        channel="web",
        advisor="Sato" if has_advisor else None,
    )


def replayed(events: list[DomainEvent]) -> Seeker:
    seeker: Seeker | None = None
    for event in events:
        seeker = event.mutate(seeker)  # type: ignore[attr-defined]
    assert seeker is not None
    return seeker


def check_step(
    seeker: Seeker,
    model: Model,
    command: str,
    args: dict[str, Any],
    at: datetime,
) -> list[DomainEvent]:
    """Run one command on both; compare; return the events it recorded."""
    was_purged = model.state == "purged"
    timing = model.withdrawal_timing()
    version = seeker.version
    expected = model.step(command, args, at)
    try:
        run(seeker, command, args, at)
    except Refused as refused:
        outcome = "refused"
        if expected.application_state is not None:
            # The application's machine refused: its state and its commands.
            state = expected.application_state
            assert refused.state == state, (command, args, str(refused))
            assert set(refused.allowed) == APPLICATION_TABLE[state], str(refused)
            assert f"'{state}'" in str(refused)
        else:
            assert refused.state == model.state, (command, args, str(refused))
            assert set(refused.allowed) == model.allowed(), str(refused)
            assert f"'{model.state}'" in str(refused)
    except NotFound:
        outcome = "not_found"
    else:
        outcome = "ok"
    assert outcome == expected.kind, (command, args, outcome, expected.kind)
    new: list[DomainEvent] = []
    if outcome == "ok":
        new = list(seeker.collect_events())
        assert [type(e).__name__ for e in new] == expected.events, (command, args)
        if command == "decline-interview":
            assert new[0].last_minute is expected.last_minute  # type: ignore[attr-defined]
        assert seeker.version == version + len(new)
        if command == "withdraw":
            withdrawn = next(e for e in new if type(e).__name__ == "Withdrawn")
            assert withdrawn.timing == timing  # type: ignore[attr-defined]
    else:
        assert seeker.pending_events == []
        assert seeker.version == version
    if was_purged:
        assert outcome == "refused"
    assert seeker.status == model.state
    assert set(seeker.allowed_commands()) == model.allowed()
    assert [a.status for a in seeker.applications] == [
        a.status for a in model.applications
    ]
    assert seeker.invalid_since == model.invalid_since
    if model.state == "purged":
        assert seeker.personal is None
    return new


def check_replay(seeker: Seeker, recorded: list[DomainEvent]) -> None:
    """Replaying the recorded events, in memory and through the application's
    store (transcoding included), gives the same account."""
    view = account_view(seeker)
    assert account_view(replayed(recorded)) == view

    # Through the application on an in-memory store, personal data sealed by
    # an in-memory vault, and its key destroyed on purge as the ledger does.
    vault = Vault(MemoryKeyTable(), master_key=secrets.token_bytes(32))
    vault.create_key(seeker.id)
    ledger = SeekerLedger(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, vault=lambda _: vault
    )
    try:
        ledger.save(*recorded)
        if seeker.status == "purged":
            vault.destroy_key(seeker.id)
        stored = ledger.repository.get(seeker.id)
        assert account_view(stored) == view
    finally:
        ledger.close()


def drive(
    data: st.DataObject,
    registration: tuple[str, datetime, bool],
    length: int,
    *,
    pool: tuple[str, ...] = COMMANDS,
    jump: st.SearchStrategy[timedelta] = jumps,
) -> None:
    """Run ``length`` random commands (mostly from ``pool`` and allowed by the
    model, sometimes any command) on the aggregate and the model side by side,
    then check that replaying what was recorded gives the same account."""
    policy, at, has_advisor = registration
    seeker = register(policy, at, has_advisor)
    model = Model(policy=policy, has_advisor=has_advisor)
    recorded: list[DomainEvent] = list(seeker.collect_events())

    for _ in range(length):
        ahead = sorted(t - at for t in model.boundaries() if t >= at)
        aimed = st.one_of(jump, jump, st.sampled_from(ahead)) if ahead else jump
        at += data.draw(aimed, label="jump")
        likely = sorted(model.allowed() & set(pool))
        command = data.draw(
            mostly(st.sampled_from(likely), st.sampled_from(COMMANDS))
            if likely
            else st.sampled_from(COMMANDS),
            label="command",
        )
        args = data.draw(arguments(command, model, at), label="arguments")
        recorded += check_step(seeker, model, command, args, at)

    check_replay(seeker, recorded)


@settings(max_examples=200, deadline=None)
@given(
    registration=registrations(),
    length=st.integers(min_value=0, max_value=40),
    data=st.data(),
)
def test_aggregate_accepts_exactly_what_the_spec_model_accepts(
    registration: tuple[str, datetime, bool], length: int, data: st.DataObject
) -> None:
    drive(data, registration, length)


APPLICATION_POOL = (
    "apply",
    "schedule-interview",
    "decline-interview",
    "close-application",
    "pause",
    "resume",
    "mark-unreachable",
    "restore-contact",
    "contact",
    "request-withdrawal",
    "cancel-withdrawal",
    "withdraw",
    "reinstate",
)


@settings(max_examples=100, deadline=None)
@given(
    registration=registrations(),
    length=st.integers(min_value=5, max_value=40),
    data=st.data(),
)
def test_applications_and_interviews_follow_the_spec_model(
    registration: tuple[str, datetime, bool], length: int, data: st.DataObject
) -> None:
    # Small steps in time, so that interviews are still ahead when declined
    # and self-service reinstatement windows are still open.
    drive(data, registration, length, pool=APPLICATION_POOL, jump=small_jumps)


def run_script(
    registration: tuple[str, datetime, bool],
    script: list[tuple[datetime, str, dict[str, Any]]],
) -> None:
    """Run a fixed script of commands on the aggregate and the model."""
    policy, at, has_advisor = registration
    seeker = register(policy, at, has_advisor)
    model = Model(policy=policy, has_advisor=has_advisor)
    recorded: list[DomainEvent] = list(seeker.collect_events())
    for when, command, args in script:
        recorded += check_step(seeker, model, command, args, when)
    check_replay(seeker, recorded)


near_boundary = st.one_of(
    st.integers(min_value=-3 * 3600, max_value=3 * 3600),
    st.integers(min_value=-5, max_value=5),
).map(lambda seconds: timedelta(seconds=seconds))
instants = st.datetimes(
    min_value=datetime(2023, 1, 1),
    max_value=datetime(2026, 12, 31),
    timezones=st.just(UTC),
)
WITHDRAW = {
    "channel": "web",
    "reason": None,
    "verify_name": None,
    "verify_birth_date": None,
    "erase_data": False,
}


@settings(max_examples=150, deadline=None)
@given(
    withdrawn_at=instants,
    days=st.one_of(st.sampled_from([30, 31]), st.integers(min_value=0, max_value=40)),
    shift=near_boundary,
    assisted=st.booleans(),
)
def test_hellowork_self_reinstatement_window_follows_the_spec_model(
    withdrawn_at: datetime, days: int, shift: timedelta, assisted: bool
) -> None:
    # Aim at Tokyo midnights around the withdrawal's day + ``days``.
    midnight = datetime.combine(
        tokyo_date(withdrawn_at) + timedelta(days=days),
        datetime.min.time(),
        tzinfo=TOKYO,
    )
    reinstate_at = max(withdrawn_at, midnight + shift)
    start = withdrawn_at - timedelta(days=3)
    run_script(
        ("hellowork", start, False),
        [
            (withdrawn_at - timedelta(hours=1), "request-withdrawal", WITHDRAW),
            (withdrawn_at, "withdraw", {}),
            (reinstate_at, "reinstate", {"assisted": assisted}),
        ],
    )


@settings(max_examples=150, deadline=None)
@given(
    policy=st.sampled_from(sorted(RULEBOOK)),
    invalid_at=st.one_of(
        instants,
        # 29 February in Tokyo, at any time of day.
        st.integers(min_value=0, max_value=24 * 3600 - 1).map(
            lambda s: datetime(2024, 2, 29, tzinfo=TOKYO) + timedelta(seconds=s)
        ),
    ),
    years=st.integers(min_value=2, max_value=6),
    shift=near_boundary,
    withdraw=st.booleans(),
)
def test_retention_purge_follows_the_spec_model(
    policy: str,
    invalid_at: datetime,
    years: int,
    shift: timedelta,
    withdraw: bool,
) -> None:
    start = invalid_at - timedelta(days=3)
    if withdraw:
        request = {
            **WITHDRAW,
            "channel": sorted(RULEBOOK[policy].channels)[0],
            "reason": "other",
        }
        script = [
            (invalid_at - timedelta(hours=1), "request-withdrawal", request),
            (invalid_at, "withdraw", {}),
        ]
    else:
        script = [(invalid_at, "lapse", {})]
    target = years_later(invalid_at, RULEBOOK[policy].retention_years or years)
    purge_at = max(invalid_at, target + shift)
    script.append((purge_at, "purge", {"reason": "retention_expired"}))
    run_script((policy, start, False), script)


@settings(max_examples=150, deadline=None)
@given(
    scheduled_at=instants,
    hours_ahead=st.integers(min_value=1, max_value=24 * 10),
    before=st.one_of(
        st.sampled_from([DAY, DAY - SECOND, DAY + SECOND, SECOND, timedelta(0)]),
        st.integers(min_value=-3600, max_value=3 * 86400).map(
            lambda s: timedelta(seconds=s)
        ),
    ),
    state=st.sampled_from(["active", "unreachable", "paused", "withdrawal_requested"]),
)
def test_interview_declines_follow_the_spec_model(
    scheduled_at: datetime,
    hours_ahead: int,
    before: timedelta,
    state: str,
) -> None:
    interview_at = scheduled_at + timedelta(hours=hours_ahead)
    decline_at = max(scheduled_at + SECOND, interview_at - before)
    script: list[tuple[datetime, str, dict[str, Any]]] = [
        (scheduled_at - SECOND, "apply", {"route": "agency"}),
        (
            scheduled_at,
            "schedule-interview",
            {"number": 1, "hours_ahead": hours_ahead, "round": 1, "final": False},
        ),
    ]
    moves = {
        "active": [],
        "unreachable": [("mark-unreachable", {})],
        "paused": [("pause", {"reason": None})],
        "withdrawal_requested": [
            ("request-withdrawal", {**WITHDRAW, "channel": "phone", "reason": "other"})
        ],
    }
    script += [(scheduled_at, command, args) for command, args in moves[state]]
    script.append((decline_at, "decline-interview", {"number": 1, "channel": "email"}))
    run_script(("workport", scheduled_at - timedelta(days=1), False), script)


@settings(max_examples=60, deadline=None)
@given(
    policy=st.sampled_from(sorted(RULEBOOK)),
    data=st.data(),
    length=st.integers(min_value=1, max_value=10),
)
def test_once_purged_every_command_is_refused(
    policy: str, data: st.DataObject, length: int
) -> None:
    at = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)
    seeker = register(policy, at, has_advisor=False)
    seeker.lapse(at=at, actor=ACTOR)
    seeker.purge(at=at, actor=ACTOR, reason="deletion_request")
    seeker.collect_events()
    model = Model(policy=policy, has_advisor=False, state="purged")
    version = seeker.version

    for _ in range(length):
        at += data.draw(jumps)
        command = data.draw(st.sampled_from(COMMANDS))
        args = data.draw(arguments(command, model, at))
        try:
            run(seeker, command, args, at)
        except Refused as refused:
            assert refused.state == "purged"
            assert refused.allowed == []
        else:  # pragma: no cover - the assertion below reports it
            raise AssertionError(f"{command} accepted on a purged account")
        assert seeker.pending_events == []
        assert seeker.version == version
        assert seeker.status == "purged"


def test_reference_model_name_variants_really_are_the_same_name() -> None:
    # The model treats these variants as matching the registered name (same
    # name up to width and spacing); check that it is not a coincidence.
    def normal(name: str) -> str:
        return "".join(unicodedata.normalize("NFKC", name).split())

    for kind, variant in NAME_VARIANTS.items():
        assert (normal(variant) == normal(NAME)) is (kind != "wrong")
