"""Driving the ``Seeker`` aggregate directly, with no I/O: shared by the
transition-table and policy-rule unit tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.errors import Refused
from domain.policy import PRESETS, Policy
from domain.seeker import Seeker
from domain.values import PersonalData

TOKYO = ZoneInfo("Asia/Tokyo")
NAME = "山田 太郎"
BIRTH_DATE = date(1990, 4, 1)
ACTOR = "tester"


def tokyo(*parts: int) -> datetime:
    """An instant given as Tokyo wall-clock time, returned in UTC."""
    return datetime(*parts, tzinfo=TOKYO).astimezone(UTC)  # type: ignore[misc]


def register(
    policy: str | Policy,
    at: datetime,
    *,
    advisor: str | None = None,
    name: str = NAME,
) -> Seeker:
    chosen = PRESETS[policy] if isinstance(policy, str) else policy
    return Seeker.register(
        occurred_at=at,
        actor=ACTOR,
        policy=chosen,
        personal=PersonalData(
            name=name, email="taro@example.jp", birth_date=BIRTH_DATE
        ),
        channel=None,
        advisor=advisor,
    )


def request_withdrawal(seeker: Seeker, at: datetime, **overrides: Any) -> None:
    """``request-withdrawal`` by a channel the seeker's preset offers, with a
    reason; ``overrides`` replace any argument."""
    arguments: dict[str, Any] = {
        "channel": {
            "hellowork": "web",
            "pasona": "web",
            "workport": "phone",
        }.get(seeker.policy.name, "web"),
        "reason": "job_found",
        "note": None,
        "verify_name": None,
        "verify_birth_date": None,
        "erase_data": False,
    }
    arguments.update(overrides)
    seeker.request_withdrawal(at=at, actor=ACTOR, **arguments)


def withdrawn(policy: str | Policy, at: datetime, **request: Any) -> Seeker:
    """An account registered a week before ``at`` and withdrawn at ``at``."""
    seeker = register(policy, at - timedelta(days=7))
    request_withdrawal(seeker, at - timedelta(hours=1), **request)
    seeker.withdraw(at=at, actor=ACTOR)
    seeker.collect_events()
    return seeker


def names(seeker: Seeker) -> list[str]:
    """The type names of the events pending on ``seeker``."""
    return [type(event).__name__ for event in seeker.pending_events]


def assert_refused_cleanly(seeker: Seeker, call: Any) -> Refused:
    """``call`` is refused and records nothing."""
    version = seeker.version
    pending = len(seeker.pending_events)
    with pytest.raises(Refused) as refused:
        call()
    assert seeker.version == version
    assert len(seeker.pending_events) == pending
    return refused.value
