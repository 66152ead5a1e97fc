"""SPEC §2 declined interviews: a decline with under 24 hours' notice is
last-minute; an interview that already took place cannot be declined.

No I/O: the ``Seeker`` aggregate is driven directly with aware business times.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.seeker import Seeker
from tests.unit.aggregates import (
    ACTOR,
    assert_refused_cleanly,
    register,
    tokyo,
)

# ---------------------------------------------------------------------------
# Declined interviews.
# ---------------------------------------------------------------------------

INTERVIEW = tokyo(2025, 2, 10, 14, 0)


def with_interview() -> Seeker:
    seeker = register("workport", tokyo(2025, 1, 5, 10, 0))
    seeker.apply(at=tokyo(2025, 1, 6), actor=ACTOR, job="J1", route="agency")
    seeker.schedule_interview(
        at=tokyo(2025, 1, 7),
        actor=ACTOR,
        application_id="A1",
        interview_at=INTERVIEW,
        round_number=1,
        final=False,
    )
    seeker.collect_events()
    return seeker


@pytest.mark.parametrize(
    ("before", "notice_hours", "last_minute"),
    [
        (timedelta(hours=23, minutes=59), 23.98, True),
        (timedelta(hours=24), 24.0, False),
        (timedelta(hours=24, minutes=1), 24.02, False),
        (timedelta(minutes=30), 0.5, True),
    ],
    ids=["23h59", "exactly-24h", "24h01", "30min"],
)
def test_decline_with_less_than_24_hours_notice_is_last_minute(
    before: timedelta, notice_hours: float, last_minute: bool
) -> None:
    seeker = with_interview()

    seeker.decline_interview(
        at=INTERVIEW - before,
        actor=ACTOR,
        application_id="A1",
        channel="email",
        note=None,
    )

    event = seeker.pending_events[0]
    assert type(event).__name__ == "InterviewDeclined"
    assert event.last_minute is last_minute  # type: ignore[attr-defined]
    assert event.notice_hours == pytest.approx(notice_hours, abs=0.01)  # type: ignore[attr-defined]
    assert event.channel == "email"  # type: ignore[attr-defined]
    assert seeker.application("A1").status == "declined"


@pytest.mark.parametrize(
    "after", [timedelta(0), timedelta(seconds=1), timedelta(days=3)]
)
def test_declining_an_interview_that_already_took_place_is_refused(
    after: timedelta,
) -> None:
    seeker = with_interview()

    refusal = assert_refused_cleanly(
        seeker,
        lambda: seeker.decline_interview(
            at=INTERVIEW + after,
            actor=ACTOR,
            application_id="A1",
            channel="phone",
            note=None,
        ),
    )

    assert "already taken place" in str(refusal)
    assert seeker.application("A1").status == "interview_scheduled"
