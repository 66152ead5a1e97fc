"""When an account's time rules fall due, in one place.

The aggregate (``show``, the guards, the sweep's final check) and the
``accounts`` projection (the sweep's candidate indexes and the reports) both
ask :func:`deadlines`, from the same plain facts, so they cannot disagree.
Which states each clock runs in comes from the lifecycle machine
(``ACCOUNT_STATES``): the registration clock where ``lapse`` is allowed, the
retention clock where ``purge`` is, the unreachable grace where
``restore-contact`` is, the self-reinstatement window where ``reinstate`` is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.policy import Policy
from domain.rules import ACCOUNT_STATES
from domain.timerules import add_years, end_of_day_count, registration_lapses_at


@dataclass(frozen=True)
class Clocks:
    """The policy's time rules, as a projection row or a ``Policy`` holds them."""

    zone: ZoneInfo
    validity_months: int | None
    grace_days: int
    retention_years: int | None
    self_reinstatement_days: int | None

    @classmethod
    def of_policy(cls, policy: Policy) -> Clocks:
        return cls(
            zone=policy.zone,
            validity_months=policy.registration_validity_months,
            grace_days=policy.unreachable_grace_days,
            retention_years=policy.retention_years,
            self_reinstatement_days=policy.self_reinstatement_days,
        )


@dataclass(frozen=True)
class Deadlines:
    registration_lapses_at: datetime | None = None
    unreachable_lapses_at: datetime | None = None
    purge_due_at: datetime | None = None
    self_reinstatement_deadline: datetime | None = None


def deadlines(
    clocks: Clocks,
    *,
    status: str,
    last_activity_at: datetime,
    unreachable_since: datetime | None,
    invalid_since: datetime | None,
    withdrawn_at: datetime | None,
) -> Deadlines:
    """Every deadline that runs for an account in ``status``."""
    registration = unreachable = purge = reinstatement = None
    if status in ACCOUNT_STATES.live and clocks.validity_months is not None:
        registration = registration_lapses_at(
            last_activity_at, clocks.validity_months, clocks.zone
        )
    if status in ACCOUNT_STATES.unreachable and unreachable_since is not None:
        unreachable = end_of_day_count(
            unreachable_since, clocks.grace_days, clocks.zone
        )
    invalid = status in ACCOUNT_STATES.invalid
    if invalid and invalid_since is not None and clocks.retention_years is not None:
        purge = add_years(invalid_since, clocks.retention_years, clocks.zone)
    reinstatable = status in ACCOUNT_STATES.reinstatable
    if reinstatable and withdrawn_at and clocks.self_reinstatement_days:
        reinstatement = end_of_day_count(
            withdrawn_at, clocks.self_reinstatement_days, clocks.zone
        )
    return Deadlines(registration, unreachable, purge, reinstatement)


def invalid_since_after(
    entered: str, invalid_since: datetime | None, at: datetime
) -> datetime | None:
    """*Invalid since* (SPEC §3) once the account enters ``entered`` at ``at``:
    set on first entering a state the retention clock runs in, kept through
    later states, cleared when the account is registered-active again."""
    if entered == ACCOUNT_STATES.registered:
        return None
    if entered in ACCOUNT_STATES.invalid and invalid_since is None:
        return at
    return invalid_since


TimeRule = tuple[str, str, datetime]


def time_rule_due(
    found: Deadlines, *, status: str, last_occurred_at: datetime, at: datetime
) -> TimeRule | None:
    """What the time rules require of an account at ``at``, if anything.

    Returns the command (``lapse`` or ``purge``), its reason, and the business
    time at which the rule took effect (never before the account's latest
    event, so the recorded history stays in order).
    """
    if status in ACCOUNT_STATES.live:
        dues = [
            (due, reason)
            for due, reason in (
                (found.registration_lapses_at, "registration_expired"),
                (found.unreachable_lapses_at, "unreachable_grace"),
            )
            if due is not None and due <= at
        ]
        if dues:
            due, reason = min(dues)
            return "lapse", reason, max(due, last_occurred_at)
    if status in ACCOUNT_STATES.invalid:
        purge_due = found.purge_due_at
        if purge_due is not None and purge_due <= at:
            return "purge", "retention_expired", max(purge_due, last_occurred_at)
    return None
