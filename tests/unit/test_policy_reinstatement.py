"""SPEC §3 reinstatement rules, at their boundaries: self-service within 30
Tokyo days of the withdrawal (hellowork), assisted by staff until purged
(hellowork, workport), none at all (pasona: the seeker registers again).

No I/O: the ``Seeker`` aggregate is driven directly with aware business times.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from domain.policy import PRESETS
from tests.unit.aggregates import (
    ACTOR,
    assert_refused_cleanly,
    names,
    tokyo,
    withdrawn,
)

# ---------------------------------------------------------------------------
# Reinstatement.
# ---------------------------------------------------------------------------


def test_hellowork_self_service_reinstatement_allowed_on_day_30() -> None:
    seeker = withdrawn("hellowork", tokyo(2025, 1, 10, 15, 0))

    seeker.reinstate(at=tokyo(2025, 2, 9, 23, 59), actor=ACTOR, assisted=False)

    assert names(seeker) == ["Reinstated"]
    event = seeker.pending_events[0]
    assert event.mode == "self_service"  # type: ignore[attr-defined]
    assert event.days_after_withdrawal == 30  # type: ignore[attr-defined]
    assert seeker.status == "active"


def test_hellowork_self_service_reinstatement_refused_on_day_31() -> None:
    seeker = withdrawn("hellowork", tokyo(2025, 1, 10, 15, 0))

    refusal = assert_refused_cleanly(
        seeker,
        lambda: seeker.reinstate(
            at=tokyo(2025, 2, 10, 0, 0), actor=ACTOR, assisted=False
        ),
    )

    assert "day 31" in str(refusal)
    assert "--assisted" in str(refusal)
    assert refusal.state == "withdrawn"


def test_hellowork_assisted_reinstatement_allowed_on_day_31() -> None:
    seeker = withdrawn("hellowork", tokyo(2025, 1, 10, 15, 0))

    seeker.reinstate(at=tokyo(2025, 2, 10, 0, 0), actor=ACTOR, assisted=True)

    assert names(seeker) == ["Reinstated"]
    assert seeker.pending_events[0].mode == "assisted"  # type: ignore[attr-defined]
    assert seeker.status == "active"


def test_hellowork_assisted_reinstatement_allowed_years_later_until_purged() -> None:
    seeker = withdrawn("hellowork", tokyo(2025, 1, 10, 15, 0))

    seeker.reinstate(at=tokyo(2029, 12, 31, 12, 0), actor=ACTOR, assisted=True)

    assert seeker.status == "active"


def test_hellowork_reinstatement_days_are_tokyo_days_not_utc_days() -> None:
    # Withdrawn 2025-01-01T23:30+09:00 = 2025-01-01T14:30Z. Tokyo 2025-02-01 00:30
    # is day 31 in Tokyo, but still 2025-01-31 (day 30) in UTC.
    seeker = withdrawn("hellowork", datetime.fromisoformat("2025-01-01T23:30+09:00"))
    late = datetime.fromisoformat("2025-02-01T00:30+09:00")
    assert late.astimezone(UTC).date() == date(2025, 1, 31)

    assert_refused_cleanly(
        seeker, lambda: seeker.reinstate(at=late, actor=ACTOR, assisted=False)
    )
    seeker.reinstate(
        at=datetime.fromisoformat("2025-01-31T23:59+09:00"),
        actor=ACTOR,
        assisted=False,
    )
    assert seeker.status == "active"


def test_hellowork_reinstatement_day_30_in_tokyo_allowed_when_utc_says_31() -> None:
    # Withdrawn 2025-01-02T08:00+09:00 = 2025-01-01T23:00Z; reinstating at
    # 2025-02-01T10:00+09:00 is day 30 in Tokyo but day 31 in UTC.
    seeker = withdrawn("hellowork", datetime.fromisoformat("2025-01-02T08:00+09:00"))

    seeker.reinstate(
        at=datetime.fromisoformat("2025-02-01T10:00+09:00"),
        actor=ACTOR,
        assisted=False,
    )

    assert seeker.pending_events[0].days_after_withdrawal == 30  # type: ignore[attr-defined]


def test_hellowork_self_reinstatement_deadline_is_day_31_at_midnight_tokyo() -> None:
    seeker = withdrawn("hellowork", datetime.fromisoformat("2025-01-01T23:30+09:00"))

    assert seeker.self_reinstatement_deadline == datetime.fromisoformat(
        "2025-02-01T00:00+09:00"
    )


def test_workport_has_no_self_service_reinstatement() -> None:
    seeker = withdrawn("workport", tokyo(2025, 1, 10, 15, 0))

    refusal = assert_refused_cleanly(
        seeker,
        lambda: seeker.reinstate(
            at=tokyo(2025, 1, 10, 16, 0), actor=ACTOR, assisted=False
        ),
    )

    assert "workport" in str(refusal)
    assert seeker.self_reinstatement_deadline is None


def test_workport_assisted_reinstatement_allowed() -> None:
    seeker = withdrawn("workport", tokyo(2025, 1, 10, 15, 0))

    seeker.reinstate(at=tokyo(2026, 6, 1, 9, 0), actor=ACTOR, assisted=True)

    assert names(seeker) == ["Reinstated"]
    assert seeker.status == "active"
    assert seeker.invalid_since is None


def test_pasona_account_cannot_be_reinstated_because_it_is_purged() -> None:
    seeker = withdrawn("pasona", tokyo(2025, 1, 10, 15, 0))
    assert seeker.status == "purged"

    for assisted in (False, True):
        assert_refused_cleanly(
            seeker,
            lambda assisted=assisted: seeker.reinstate(
                at=tokyo(2025, 1, 11), actor=ACTOR, assisted=assisted
            ),
        )


@pytest.mark.parametrize("assisted", [False, True])
def test_pasona_rules_refuse_reinstatement_even_when_data_is_kept(
    assisted: bool,
) -> None:
    # A policy with Pasona's reinstatement rules that keeps data, so that the
    # account is still `withdrawn` and the reinstatement rule itself decides.
    keeping = dataclasses.replace(
        PRESETS["pasona"], name="pasona-keeping", erase_on_withdrawal=False
    )
    seeker = withdrawn(keeping, tokyo(2025, 1, 10, 15, 0))
    assert seeker.status == "withdrawn"

    refusal = assert_refused_cleanly(
        seeker,
        lambda: seeker.reinstate(at=tokyo(2025, 1, 11), actor=ACTOR, assisted=assisted),
    )

    assert "registers again" in str(refusal)
