"""SPEC §3 pausing (service stop) and advisors, offered by some policies only.

No I/O: the ``Seeker`` aggregate is driven directly with aware business times.
"""

from __future__ import annotations

import pytest

from domain.errors import Refused
from tests.unit.aggregates import (
    ACTOR,
    assert_refused_cleanly,
    names,
    register,
    tokyo,
)
from tests.unit.spec_oracle import (
    presets_where,
)

# ---------------------------------------------------------------------------
# Pausing and advisors.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("policy", presets_where(lambda rules: not rules.pausing))
def test_pause_refused_where_the_policy_offers_no_pausing(policy: str) -> None:
    seeker = register(policy, tokyo(2025, 1, 5, 10, 0))
    seeker.collect_events()

    refusal = assert_refused_cleanly(
        seeker, lambda: seeker.pause(at=tokyo(2025, 1, 6), actor=ACTOR, reason="x")
    )

    assert f"policy {policy} does not offer pausing" in str(refusal)
    assert "pause" not in refusal.allowed
    assert "pause" not in seeker.allowed_commands()


def test_workport_pause_allowed() -> None:
    seeker = register("workport", tokyo(2025, 1, 5, 10, 0))
    seeker.collect_events()

    seeker.pause(at=tokyo(2025, 1, 6), actor=ACTOR, reason="family matters")

    assert names(seeker) == ["Paused"]
    assert seeker.status == "paused"


def test_change_advisor_refused_under_hellowork() -> None:
    seeker = register("hellowork", tokyo(2025, 1, 5, 10, 0))
    seeker.collect_events()

    refusal = assert_refused_cleanly(
        seeker,
        lambda: seeker.change_advisor(at=tokyo(2025, 1, 6), actor=ACTOR, advisor="X"),
    )

    assert "policy hellowork has no advisors" in str(refusal)
    assert "change-advisor" not in refusal.allowed


def test_register_with_advisor_refused_under_hellowork() -> None:
    with pytest.raises(Refused):
        register("hellowork", tokyo(2025, 1, 5, 10, 0), advisor="Sato")


@pytest.mark.parametrize("policy", presets_where(lambda rules: rules.advisors))
def test_change_advisor_allowed_where_the_policy_has_advisors(policy: str) -> None:
    seeker = register(policy, tokyo(2025, 1, 5, 10, 0))
    seeker.collect_events()

    seeker.change_advisor(at=tokyo(2025, 1, 6), actor=ACTOR, advisor="Suzuki")

    assert names(seeker) == ["AdvisorChanged"]
    assert seeker.advisor == "Suzuki"
