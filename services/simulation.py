"""A realistic population of accounts, generated through the real commands.

Every change goes through the ``Seeker`` commands, so every rule and guard
is checked exactly as for an operator; accounts are saved through the
application in batches (one transaction per batch) so that populations of
100,000 accounts stay practical. The same seed gives the same population,
ids included.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

from domain.errors import BadValue, Refused
from domain.i18n import _
from domain.policy import PRESETS, WITHDRAWAL_REASONS
from domain.seeker import DECLINE_CHANNELS, Seeker
from domain.values import PersonalData
from services.ledger import SeekerLedger

FAMILY_NAMES = ("Sato", "Suzuki", "Takahashi", "Tanaka", "Ito", "Watanabe", "Yamamoto")
GIVEN_NAMES = ("Haruto", "Yui", "Sota", "Hina", "Riku", "Mei", "Ren", "Aoi", "Yuto")
JOBS = (
    "Backend engineer",
    "Sales associate",
    "Warehouse logistics",
    "Nurse",
    "Accountant",
    "Care worker",
    "Marketing planner",
)
ADVISORS = ("Kato", "Mori", "Abe", "Ishikawa")
POLICY_WEIGHTS = {"hellowork": 0.5, "workport": 0.3, "pasona": 0.2}
CHANNELS_BY_POLICY = {
    "hellowork": ("web", "counter"),
    "pasona": ("web",),
    "workport": ("phone", "email", "form", "app"),
}
SAVE_BATCH = 200


@dataclass
class SimulationReport:
    seekers: int = 0
    events: int = 0
    refused: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


class _Life:
    """One seeker's simulated life: a clock that only moves forward."""

    def __init__(self, rng: random.Random, seeker: Seeker, now: datetime) -> None:
        self.rng = rng
        self.seeker = seeker
        self.now = now
        self.at = seeker.last_occurred_at
        self.refused = 0

    def later(self, low_days: float, high_days: float) -> bool:
        """Move the clock on; ``False`` once it would pass today."""
        step = timedelta(days=self.rng.uniform(low_days, high_days))
        if self.at + step >= self.now:
            return False
        self.at += step
        return True

    def act(self, command: Callable[[], object]) -> None:
        try:
            command()
        except Refused:
            self.refused += 1


def simulate(
    ledger: SeekerLedger,
    *,
    seekers: int,
    seed: int = 0,
    now: datetime,
    years: int = 6,
    progress: Callable[[int], None] | None = None,
) -> SimulationReport:
    rng = random.Random(seed)
    report = SimulationReport()
    pending: list[Seeker] = []
    for number in range(seekers):
        life = _born(rng, number, now, years, seed)
        if number == 0 and ledger.recorder.select_events(life.seeker.id, limit=1):
            raise BadValue(
                _(
                    "simulate --seed {seed} already ran on this store (its first "
                    "seeker {seeker} exists); use another --seed"
                ).format(seed=seed, seeker=life.seeker.id)
            )
        _live(life)
        pending.append(life.seeker)
        report.seekers += 1
        report.events += life.seeker.version
        report.refused += life.refused
        status = life.seeker.status
        report.statuses[status] = report.statuses.get(status, 0) + 1
        if len(pending) >= SAVE_BATCH:
            ledger.save_new_accounts(pending)
            if progress:
                progress(len(pending))
            pending = []
    if pending:
        ledger.save_new_accounts(pending)
        if progress:
            progress(len(pending))
    return report


def _born(
    rng: random.Random, number: int, now: datetime, years: int, seed: int
) -> _Life:
    policy_name = rng.choices(
        list(POLICY_WEIGHTS), weights=list(POLICY_WEIGHTS.values())
    )[0]
    policy = PRESETS[policy_name]
    registered_at = now - timedelta(days=rng.uniform(1, 365 * years))
    family, given = rng.choice(FAMILY_NAMES), rng.choice(GIVEN_NAMES)
    seeker = Seeker.register(
        seeker_id=UUID(int=rng.getrandbits(128), version=4),
        occurred_at=registered_at,
        actor="simulator",
        policy=policy,
        personal=PersonalData(
            name=f"{family} {given}",
            email=f"{given.lower()}.{family.lower()}.{seed}.{number}@example.jp",
            phone=f"090-{rng.randrange(10000):04d}-{rng.randrange(10000):04d}",
            birth_date=date(
                rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28)
            ),
        ),
        channel=rng.choice(CHANNELS_BY_POLICY[policy_name]),
        advisor=rng.choice(ADVISORS) if policy.advisors else None,
    )
    return _Life(rng, seeker, now)


def _live(life: _Life) -> None:
    """Random steps, each a command the account's state allows, until the
    seeker goes quiet or today is reached."""
    rng, seeker = life.rng, life.seeker
    for _step in range(rng.randint(1, 14)):
        if seeker.status == "purged" or not life.later(0.5, 45):
            return
        step = STEPS.get(seeker.status)
        if step is None or not step(life):
            return


def _active(life: _Life) -> bool:
    rng, seeker, at = life.rng, life.seeker, life.at
    roll = rng.random()
    open_apps = seeker.open_applications
    if roll < 0.30 or not seeker.applications:
        route = "self" if rng.random() < 0.3 else "agency"
        life.act(
            lambda: seeker.apply(
                at=at, actor="advisor", job=rng.choice(JOBS), route=route
            )
        )
    elif roll < 0.50 and open_apps:
        application = rng.choice(open_apps)
        interview = at + timedelta(days=rng.uniform(2, 10))
        life.act(
            lambda: seeker.schedule_interview(
                at=at,
                actor="advisor",
                application_id=application.id,
                interview_at=interview,
                round_number=(application.interview_round or 0) + 1,
                final=rng.random() < 0.3,
            )
        )
        if rng.random() < 0.25:
            _decline_before(life, application.id, interview)
    elif roll < 0.62 and open_apps:
        application = rng.choice(open_apps)
        outcome = rng.choice(("hired", "rejected", "rejected", "withdrawn"))
        life.act(
            lambda: seeker.close_application(
                at=at, actor="advisor", application_id=application.id, outcome=outcome
            )
        )
    elif roll < 0.67 and seeker.policy.pausing:
        life.act(lambda: seeker.pause(at=at, actor="advisor", reason=None))
    elif roll < 0.73:
        life.act(
            lambda: seeker.contact(
                at=at, actor="advisor", channel="phone", outcome="no_answer"
            )
        )
        if rng.random() < 0.5:
            life.act(lambda: seeker.mark_unreachable(at=at, actor="advisor"))
    elif roll < 0.83:
        _request_withdrawal(life)
    elif roll < 0.85 and seeker.policy.advisors:
        life.act(
            lambda: seeker.change_advisor(
                at=at, actor="advisor", advisor=rng.choice(ADVISORS)
            )
        )
    else:
        return False  # the seeker goes quiet
    return True


def _decline_before(life: _Life, application_id: str, interview: datetime) -> None:
    notice = timedelta(hours=life.rng.uniform(1, 96))
    at = max(interview - notice, life.at)
    if at >= interview or at >= life.now:
        return
    life.at = at
    channel = life.rng.choice(DECLINE_CHANNELS)
    life.act(
        lambda: life.seeker.decline_interview(
            at=at,
            actor="advisor",
            application_id=application_id,
            channel=channel,
            note=None,
        )
    )


def _request_withdrawal(life: _Life) -> None:
    rng, seeker = life.rng, life.seeker
    policy = seeker.policy
    channels = policy.channels_for_withdrawal(has_advisor=seeker.advisor is not None)
    channel = rng.choice(channels)
    personal = seeker.personal
    checked = channel in policy.identity_check_channels and personal is not None
    life.act(
        lambda: seeker.request_withdrawal(
            at=life.at,
            actor="advisor",
            channel=channel,
            reason=rng.choice(WITHDRAWAL_REASONS),
            note=None,
            verify_name=personal.name if checked and personal else None,
            verify_birth_date=personal.birth_date if checked and personal else None,
            erase_data=rng.random() < 0.1,
        )
    )


def _paused(life: _Life) -> bool:
    if life.rng.random() < 0.7:
        life.act(lambda: life.seeker.resume(at=life.at, actor="advisor"))
    else:
        _request_withdrawal(life)
    return True


def _unreachable(life: _Life) -> bool:
    roll = life.rng.random()
    if roll < 0.5:
        outcome = "reached" if life.rng.random() < 0.5 else "no_answer"
        life.act(
            lambda: life.seeker.contact(
                at=life.at, actor="advisor", channel="email", outcome=outcome
            )
        )
        return True
    return False  # left for the sweep


def _lapsed(life: _Life) -> bool:
    roll = life.rng.random()
    if roll < 0.3:
        life.act(lambda: life.seeker.reactivate(at=life.at, actor="advisor"))
    elif roll < 0.4:
        _request_withdrawal(life)
    else:
        return False
    return True


def _withdrawal_requested(life: _Life) -> bool:
    if life.rng.random() < 0.85:
        life.act(lambda: life.seeker.withdraw(at=life.at, actor="advisor"))
    else:
        life.act(lambda: life.seeker.cancel_withdrawal(at=life.at, actor="advisor"))
    return True


def _withdrawn(life: _Life) -> bool:
    seeker = life.seeker
    roll = life.rng.random()
    if roll < 0.15 and seeker.policy.self_reinstatement_days:
        life.act(lambda: seeker.reinstate(at=life.at, actor="seeker", assisted=False))
    elif roll < 0.25 and seeker.policy.assisted_reinstatement:
        life.act(lambda: seeker.reinstate(at=life.at, actor="advisor", assisted=True))
    elif roll < 0.3:
        life.act(
            lambda: seeker.purge(at=life.at, actor="advisor", reason="deletion_request")
        )
    else:
        return False
    return True


STEPS: dict[str, Callable[[_Life], bool]] = {
    "active": _active,
    "paused": _paused,
    "unreachable": _unreachable,
    "lapsed": _lapsed,
    "withdrawal_requested": _withdrawal_requested,
    "withdrawn": _withdrawn,
}
