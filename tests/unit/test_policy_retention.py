"""SPEC §3 retention: purge due a policy's years after the account became
invalid (lapsed or withdrawn, whichever came first), 29 February to 28
February; a deletion request purges at once.

No I/O: the ``Seeker`` aggregate is driven directly with aware business times.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.unit.aggregates import (
    ACTOR,
    assert_refused_cleanly,
    names,
    register,
    request_withdrawal,
    tokyo,
    withdrawn,
)
from tests.unit.spec_oracle import (
    RULEBOOK,
)

# ---------------------------------------------------------------------------
# Retention.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "invalid_at", "due_at"),
    [
        ("hellowork", "2025-03-10T15:20+09:00", "2030-03-10T15:20+09:00"),
        ("workport", "2025-03-10T15:20+09:00", "2028-03-10T15:20+09:00"),
        ("hellowork", "2024-02-29T10:00+09:00", "2029-02-28T10:00+09:00"),
        ("workport", "2024-02-29T10:00+09:00", "2027-02-28T10:00+09:00"),
        # 29 Feb in Tokyo is still 28 Feb in UTC: the Tokyo date counts.
        ("workport", "2024-02-29T05:00+09:00", "2027-02-28T05:00+09:00"),
    ],
)
def test_purge_due_years_after_the_account_became_invalid(
    policy: str, invalid_at: str, due_at: str
) -> None:
    seeker = withdrawn(policy, datetime.fromisoformat(invalid_at))

    assert seeker.invalid_since == datetime.fromisoformat(invalid_at)
    assert seeker.purge_due_at == datetime.fromisoformat(due_at)


def test_invalid_since_is_the_first_of_lapse_and_withdrawal() -> None:
    seeker = register("hellowork", tokyo(2024, 1, 5, 10, 0))
    seeker.lapse(at=tokyo(2024, 4, 1), actor=ACTOR)
    request_withdrawal(seeker, tokyo(2024, 5, 1))
    seeker.withdraw(at=tokyo(2024, 5, 2), actor=ACTOR)

    assert seeker.invalid_since == tokyo(2024, 4, 1)
    assert seeker.purge_due_at == tokyo(2029, 4, 1)


def test_reactivation_clears_invalid_since() -> None:
    seeker = register("hellowork", tokyo(2024, 1, 5, 10, 0))
    seeker.lapse(at=tokyo(2024, 4, 1), actor=ACTOR)
    seeker.reactivate(at=tokyo(2024, 5, 1), actor=ACTOR)
    assert seeker.invalid_since is None

    seeker.lapse(at=tokyo(2024, 8, 1), actor=ACTOR)
    assert seeker.invalid_since == tokyo(2024, 8, 1)


@pytest.mark.parametrize(
    ("policy", "years"),
    [
        (policy, rules.retention_years)
        for policy, rules in RULEBOOK.items()
        if rules.retention_years is not None
    ],
)
def test_retention_purge_refused_one_second_before_due_and_allowed_at_due(
    policy: str, years: int
) -> None:
    invalid_at = tokyo(2025, 3, 10, 15, 20)
    due = tokyo(2025 + years, 3, 10, 15, 20)
    seeker = withdrawn(policy, invalid_at)

    refusal = assert_refused_cleanly(
        seeker,
        lambda: seeker.purge(
            at=due - timedelta(seconds=1), actor=ACTOR, reason="retention_expired"
        ),
    )
    assert "retention" in str(refusal)

    seeker.purge(at=due, actor=ACTOR, reason="retention_expired")
    assert names(seeker) == ["Purged"]
    assert seeker.status == "purged"
    assert seeker.personal is None
    assert seeker.purge_reason == "retention_expired"


def test_retention_purge_of_lapsed_account_counts_from_the_lapse() -> None:
    seeker = register("hellowork", tokyo(2024, 1, 5, 10, 0))
    seeker.lapse(at=tokyo(2024, 4, 1), actor=ACTOR)

    assert_refused_cleanly(
        seeker,
        lambda: seeker.purge(
            at=tokyo(2029, 4, 1) - timedelta(seconds=1),
            actor=ACTOR,
            reason="retention_expired",
        ),
    )
    seeker.purge(at=tokyo(2029, 4, 1), actor=ACTOR, reason="retention_expired")
    assert seeker.status == "purged"


def test_deletion_request_purge_is_allowed_at_once() -> None:
    seeker = withdrawn("workport", tokyo(2025, 3, 10, 15, 20))

    seeker.purge(at=tokyo(2025, 3, 11), actor=ACTOR, reason="deletion_request")

    assert names(seeker) == ["Purged"]
    assert seeker.purge_reason == "deletion_request"
    assert seeker.personal is None
