"""Property-based tests: random command sequences against a reference model.

The reference model below is written from the SPEC tables (§1 account states,
§2 applications, §3 policies, §4 time) without reading ``domain.lifecycle`` or
``domain.guards``. Hypothesis drives random sequences of every command, with
valid and invalid arguments, under all three presets, at increasing business
times (minutes to years apart), and checks that:

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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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

TOKYO = ZoneInfo("Asia/Tokyo")
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
# The reference model, from the SPEC tables.
# ---------------------------------------------------------------------------

# SPEC §1: state -> {command: target state (None: stays in its state)}.
ACCOUNT_TABLE: dict[str, dict[str, str | None]] = {
    "active": {
        "pause": "paused",
        "mark-unreachable": "unreachable",
        "lapse": "lapsed",
        "request-withdrawal": "withdrawal_requested",
        "apply": None,
        "schedule-interview": None,
        "decline-interview": None,
        "close-application": None,
        "contact": None,
        "change-advisor": None,
    },
    "paused": {
        "resume": "active",
        "lapse": "lapsed",
        "request-withdrawal": "withdrawal_requested",
        "decline-interview": None,
        "close-application": None,
        "change-advisor": None,
    },
    "unreachable": {
        "restore-contact": "active",
        "lapse": "lapsed",
        "request-withdrawal": "withdrawal_requested",
        "decline-interview": None,
        "close-application": None,
        "contact": None,
        "change-advisor": None,
    },
    "lapsed": {
        "reactivate": "active",
        "request-withdrawal": "withdrawal_requested",
        "purge": "purged",
    },
    "withdrawal_requested": {
        "cancel-withdrawal": "active",
        "withdraw": "withdrawn",
        "decline-interview": None,
        "close-application": None,
        "change-advisor": None,
    },
    "withdrawn": {"reinstate": "active", "purge": "purged"},
    "purged": {},
}

OPEN = ("applied", "interview_scheduled")
# SPEC §2: application state -> the application commands it accepts.
APPLICATION_TABLE: dict[str, set[str]] = {
    "applied": {"schedule-interview", "close-application"},
    "interview_scheduled": {
        "schedule-interview",
        "decline-interview",
        "close-application",
    },
    "declined": set(),
    "closed": set(),
}
DAY = timedelta(hours=24)
SECOND = timedelta(seconds=1)


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
    ),
}


def tokyo_date(instant: datetime) -> date:
    return instant.astimezone(TOKYO).date()


def years_later(instant: datetime, years: int) -> datetime:
    """Same Tokyo date and time ``years`` later; 29 February → 28 February."""
    local = instant.astimezone(TOKYO)
    day = local.day
    if local.month == 2 and day == 29:
        try:
            date(local.year + years, 2, 29)
        except ValueError:
            day = 28
    return local.replace(year=local.year + years, day=day)


@dataclass
class ModelApplication:
    route: str
    status: str = "applied"
    interview_at: datetime | None = None
    final: bool = False


@dataclass
class Verdict:
    kind: str  # "ok", "refused" or "not_found"
    events: list[str] = field(default_factory=list)
    last_minute: bool | None = None  # for a decline: under 24 hours' notice
    application_state: str | None = None  # set when the application refuses


@dataclass
class Model:
    policy: str
    has_advisor: bool
    state: str = "active"
    applications: list[ModelApplication] = field(default_factory=list)
    withdrawn_at: datetime | None = None
    invalid_since: datetime | None = None
    erase_requested: bool = False

    @property
    def rules(self) -> Rules:
        return RULEBOOK[self.policy]

    def allowed(self) -> set[str]:
        commands = set(ACCOUNT_TABLE[self.state])
        if not self.rules.pausing:
            commands.discard("pause")
        if not self.rules.advisors:
            commands.discard("change-advisor")
        return commands

    def _open_self_application(self) -> bool:
        return any(a.route == "self" and a.status in OPEN for a in self.applications)

    def _application(self, number: int) -> ModelApplication | None:
        if 1 <= number <= len(self.applications):
            return self.applications[number - 1]
        return None

    def _enter(self, state: str) -> None:
        self.state = state
        if state == "active":
            self.invalid_since = None

    def _invalid(self, at: datetime) -> None:
        if self.invalid_since is None:
            self.invalid_since = at

    # The guards of SPEC §3 and §2: None when the rule holds.
    def _refuses(self, command: str, args: dict[str, Any], at: datetime) -> bool:
        rules = self.rules
        if command == "request-withdrawal":
            channels = (
                rules.channels_with_advisor
                if self.has_advisor and rules.advisors
                else rules.channels
            )
            if args["channel"] not in channels:
                return True
            if rules.reason_required and args["reason"] is None:
                return True
            if args["channel"] in rules.identity_channels and (
                args["verify_name"] not in ("exact", "full_width_space", "no_space")
                or args["verify_birth_date"] != "right"
            ):
                return True
            return rules.self_application_blocks and self._open_self_application()
        if command == "withdraw":
            return rules.self_application_blocks and self._open_self_application()
        if command == "reinstate":
            if args["assisted"]:
                return not rules.assisted_reinstatement
            if rules.self_reinstatement_days is None:
                return True
            assert self.withdrawn_at is not None
            days = (tokyo_date(at) - tokyo_date(self.withdrawn_at)).days
            return days > rules.self_reinstatement_days
        if command == "purge" and args["reason"] == "retention_expired":
            if rules.retention_years is None or self.invalid_since is None:
                return True
            return at < years_later(self.invalid_since, rules.retention_years)
        return False

    def _application_verdict(
        self, command: str, args: dict[str, Any], at: datetime
    ) -> Verdict | None:
        application = self._application(args["number"])
        if application is None:
            return Verdict("not_found")
        if command == "schedule-interview":
            ok = application.status in OPEN
        elif command == "decline-interview":
            ok = (
                application.status == "interview_scheduled"
                and application.interview_at is not None
                and application.interview_at > at
            )
        else:
            ok = application.status in OPEN
        if ok:
            return None
        return Verdict("refused", application_state=application.status)

    def step(self, command: str, args: dict[str, Any], at: datetime) -> Verdict:
        """What the spec says ``command`` does now; updates the model if done."""
        if command not in self.allowed() or self._refuses(command, args, at):
            return Verdict("refused")
        if command in ("schedule-interview", "decline-interview", "close-application"):
            refusal = self._application_verdict(command, args, at)
            if refusal is not None:
                return refusal
        target = ACCOUNT_TABLE[self.state][command]
        events: list[str]
        if command == "pause":
            events = ["Paused"]
        elif command == "resume":
            events = ["Resumed"]
        elif command == "mark-unreachable":
            events = ["MarkedUnreachable"]
        elif command == "restore-contact":
            events = ["ContactRestored"]
        elif command == "lapse":
            events = ["Lapsed"]
            self._invalid(at)
        elif command == "reactivate":
            events = ["Reactivated"]
        elif command == "request-withdrawal":
            events = ["WithdrawalRequested"]
            self.erase_requested = args["erase_data"]
        elif command == "cancel-withdrawal":
            events = ["WithdrawalCancelled"]
            self.erase_requested = False
        elif command == "withdraw":
            events = []
            for application in self.applications:
                if application.status in OPEN:
                    application.status = "closed"
                    events.append("ApplicationClosed")
            events.append("Withdrawn")
            self.withdrawn_at = at
            self._invalid(at)
            if self.rules.erase_on_withdrawal or self.erase_requested:
                events.append("Purged")
                target = "purged"
        elif command == "reinstate":
            events = ["Reinstated"]
            self.withdrawn_at = None
            self.erase_requested = False
        elif command == "purge":
            events = ["Purged"]
        elif command == "apply":
            events = ["Applied"]
            self.applications.append(ModelApplication(route=args["route"]))
        elif command == "schedule-interview":
            events = ["InterviewScheduled"]
            application = self.applications[args["number"] - 1]
            application.status = "interview_scheduled"
            application.interview_at = at + timedelta(hours=args["hours_ahead"])
            application.final = args["final"]
        elif command == "decline-interview":
            events = ["InterviewDeclined"]
            application = self.applications[args["number"] - 1]
            assert application.interview_at is not None
            application.status = "declined"
            notice = application.interview_at - at
            return Verdict("ok", events, last_minute=notice < timedelta(hours=24))
        elif command == "close-application":
            events = ["ApplicationClosed"]
            self.applications[args["number"] - 1].status = "closed"
        elif command == "contact":
            events = ["ContactAttempted"]
            if self.state == "unreachable" and args["outcome"] == "reached":
                events.append("ContactRestored")
                target = "active"
        elif command == "change-advisor":
            events = ["AdvisorChanged"]
            self.has_advisor = True
        else:  # pragma: no cover
            raise AssertionError(command)
        if target is not None:
            self._enter(target)
        return Verdict("ok", events)

    def boundaries(self) -> list[datetime]:
        """Instants where a rule flips (SPEC §2-§4), to aim business times at."""
        instants: list[datetime] = []
        for application in self.applications:
            if application.status == "interview_scheduled":
                assert application.interview_at is not None
                for before in (DAY, DAY - SECOND, SECOND, timedelta(0)):
                    instants.append(application.interview_at - before)
        if self.invalid_since is not None and self.rules.retention_years:
            due = years_later(self.invalid_since, self.rules.retention_years)
            instants += [due - SECOND, due]
        days = self.rules.self_reinstatement_days
        if self.withdrawn_at is not None and days is not None:
            closed = datetime.combine(
                tokyo_date(self.withdrawn_at) + timedelta(days=days + 1),
                datetime.min.time(),
                tzinfo=TOKYO,
            )
            instants += [closed - SECOND, closed]
        return instants

    def withdrawal_timing(self) -> str:
        """SPEC §3 "Withdrawal timing", read before the withdrawal."""
        if not self.applications:
            return "no_applications"
        open_ones = [a for a in self.applications if a.status in OPEN]
        if not open_ones:
            return "between_selections"
        scheduled = [a for a in open_ones if a.status == "interview_scheduled"]
        if not scheduled:
            return "during_screening"
        if any(a.final for a in scheduled):
            return "final_stage"
        return "interview_scheduled"


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

CHANNELS = ("web", "counter", "phone", "email", "form", "app")
REASONS = (
    "job_found",
    "search_ended",
    "other_agency",
    "advisor_mismatch",
    "no_suitable_jobs",
    "other",
)
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
        if application.status in OPEN
        and (
            command != "decline-interview"
            or (application.interview_at is not None and application.interview_at > at)
        )
    ]
    anything = st.integers(min_value=1, max_value=len(model.applications) + 2)
    number = mostly(st.sampled_from(fitting), anything) if fitting else anything
    rules = model.rules
    offered = sorted(
        rules.channels_with_advisor
        if model.has_advisor and rules.advisors
        else rules.channels
    )
    if command == "pause":
        return st.fixed_dictionaries({"reason": st.none() | st.just("holiday")})
    if command == "request-withdrawal":
        return st.fixed_dictionaries(
            {
                "channel": mostly(st.sampled_from(offered), st.sampled_from(CHANNELS)),
                "reason": mostly(
                    st.sampled_from(REASONS), st.none() | st.sampled_from(REASONS)
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
                "channel": st.sampled_from(
                    ["phone", "email", "form", "app", "counter"]
                ),
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
