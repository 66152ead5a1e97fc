"""The time rules: SPEC §3 registration validity (hellowork) and unreachable
grace, which lapse an account, counted in Tokyo days and months; and SPEC §4
business time (``--at``), read in the policy's time zone.

No I/O: the ``Seeker`` aggregate is driven directly with aware business times.
"""

from __future__ import annotations

import dataclasses
import secrets
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.errors import BadValue
from domain.policy import PRESETS
from domain.timerules import check_business_time, parse_instant
from privacy.key_table import MemoryKeyTable
from privacy.vault import Vault
from services.ledger import SeekerLedger
from tests.unit.aggregates import (
    ACTOR,
    TOKYO,
    names,
    register,
    request_withdrawal,
    tokyo,
)
from tests.unit.spec_oracle import (
    PRESET_NAMES,
    RULEBOOK,
    presets_where,
)

# ---------------------------------------------------------------------------
# Registration validity (hellowork).
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_activity", "lapses_at"),
    [
        ("2025-01-15T10:00+09:00", "2025-04-01T00:00+09:00"),
        ("2024-11-30T10:00+09:00", "2025-02-01T00:00+09:00"),
        ("2024-12-31T10:00+09:00", "2025-03-01T00:00+09:00"),
        ("2023-12-20T10:00+09:00", "2024-03-01T00:00+09:00"),  # valid to 29 Feb
        ("2024-02-29T10:00+09:00", "2024-05-01T00:00+09:00"),
        ("2025-01-01T00:00+09:00", "2025-04-01T00:00+09:00"),
        ("2025-01-31T23:59+09:00", "2025-04-01T00:00+09:00"),
        # 2025-02-01 05:00 in Tokyo is still January in UTC.
        ("2025-02-01T05:00+09:00", "2025-05-01T00:00+09:00"),
    ],
)
def test_hellowork_registration_lapses_at_end_of_second_month_after_activity(
    last_activity: str, lapses_at: str
) -> None:
    seeker = register("hellowork", datetime.fromisoformat(last_activity))

    assert seeker.registration_lapses_at == datetime.fromisoformat(lapses_at)


def test_registration_validity_only_applies_to_hellowork() -> None:
    for policy in presets_where(lambda r: r.registration_validity_months is None):
        seeker = register(policy, tokyo(2025, 1, 15, 10, 0))
        assert seeker.registration_lapses_at is None


def test_activity_events_move_the_registration_lapse_date() -> None:
    seeker = register("hellowork", tokyo(2025, 1, 15, 10, 0))

    seeker.apply(at=tokyo(2025, 2, 3, 10, 0), actor=ACTOR, job="J", route="agency")
    assert seeker.registration_lapses_at == tokyo(2025, 5, 1)

    seeker.schedule_interview(
        at=tokyo(2025, 3, 3, 10, 0),
        actor=ACTOR,
        application_id="A1",
        interview_at=tokyo(2025, 6, 1, 10, 0),
        round_number=1,
        final=False,
    )
    assert seeker.registration_lapses_at == tokyo(2025, 6, 1)

    seeker.mark_unreachable(at=tokyo(2025, 4, 3, 10, 0), actor=ACTOR)
    assert seeker.registration_lapses_at == tokyo(2025, 6, 1)
    seeker.restore_contact(at=tokyo(2025, 4, 4, 10, 0), actor=ACTOR)
    assert seeker.registration_lapses_at == tokyo(2025, 7, 1)

    seeker.lapse(at=tokyo(2025, 5, 4, 10, 0), actor=ACTOR)
    assert seeker.registration_lapses_at is None
    seeker.reactivate(at=tokyo(2025, 6, 4, 10, 0), actor=ACTOR)
    assert seeker.registration_lapses_at == tokyo(2025, 9, 1)

    request_withdrawal(seeker, tokyo(2025, 7, 1, 10, 0))
    seeker.withdraw(at=tokyo(2025, 7, 1, 11, 0), actor=ACTOR)
    seeker.reinstate(at=tokyo(2025, 7, 20, 10, 0), actor=ACTOR, assisted=False)
    assert seeker.registration_lapses_at == tokyo(2025, 10, 1)


def test_contact_attempts_do_not_move_the_registration_lapse_date() -> None:
    seeker = register("hellowork", tokyo(2025, 1, 15, 10, 0))

    seeker.contact(
        at=tokyo(2025, 2, 20, 10, 0), actor=ACTOR, channel="phone", outcome="reached"
    )
    seeker.mark_unreachable(at=tokyo(2025, 2, 21, 10, 0), actor=ACTOR)
    seeker.contact(
        at=tokyo(2025, 2, 22, 10, 0), actor=ACTOR, channel="email", outcome="no_answer"
    )

    assert names(seeker)[-3:] == [
        "ContactAttempted",
        "MarkedUnreachable",
        "ContactAttempted",
    ]
    assert seeker.registration_lapses_at == tokyo(2025, 4, 1)


def test_closing_and_declining_do_not_move_the_registration_lapse_date() -> None:
    seeker = register("hellowork", tokyo(2025, 1, 15, 10, 0))
    seeker.apply(at=tokyo(2025, 1, 16, 10, 0), actor=ACTOR, job="J1", route="agency")
    seeker.apply(at=tokyo(2025, 1, 16, 11, 0), actor=ACTOR, job="J2", route="agency")
    seeker.schedule_interview(
        at=tokyo(2025, 1, 17, 10, 0),
        actor=ACTOR,
        application_id="A1",
        interview_at=tokyo(2025, 3, 20, 10, 0),
        round_number=1,
        final=False,
    )

    seeker.decline_interview(
        at=tokyo(2025, 2, 20, 10, 0),
        actor=ACTOR,
        application_id="A1",
        channel="phone",
        note=None,
    )
    seeker.close_application(
        at=tokyo(2025, 2, 21, 10, 0),
        actor=ACTOR,
        application_id="A2",
        outcome="rejected",
    )

    assert seeker.registration_lapses_at == tokyo(2025, 4, 1)


def test_pausing_does_not_move_the_registration_lapse_date_but_resuming_does() -> None:
    # No preset has both pausing and registration validity: use a policy file
    # equivalent (hellowork with pausing).
    pausing = dataclasses.replace(
        PRESETS["hellowork"], name="hellowork-pausing", pausing=True
    )
    seeker = register(pausing, tokyo(2025, 1, 15, 10, 0))

    seeker.pause(at=tokyo(2025, 2, 20, 10, 0), actor=ACTOR, reason=None)
    assert names(seeker)[-1] == "Paused"
    assert seeker.registration_lapses_at == tokyo(2025, 4, 1)

    seeker.resume(at=tokyo(2025, 3, 5, 10, 0), actor=ACTOR)
    assert seeker.registration_lapses_at == tokyo(2025, 6, 1)


def test_withdrawal_cancelled_is_not_activity() -> None:
    seeker = register("hellowork", tokyo(2025, 1, 15, 10, 0))
    request_withdrawal(seeker, tokyo(2025, 2, 20, 10, 0))
    seeker.cancel_withdrawal(at=tokyo(2025, 2, 21, 10, 0), actor=ACTOR)

    assert seeker.registration_lapses_at == tokyo(2025, 4, 1)


# ---------------------------------------------------------------------------
# Unreachable grace.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("policy", PRESET_NAMES)
def test_unreachable_lapse_due_at_day_31_midnight_not_day_30(policy: str) -> None:
    advisor = "Sato" if RULEBOOK[policy].advisors else None
    seeker = register(policy, tokyo(2024, 12, 20, 10, 0), advisor=advisor)

    seeker.mark_unreachable(at=tokyo(2025, 1, 1, 10, 0), actor=ACTOR)

    assert seeker.unreachable_lapses_at == tokyo(2025, 2, 1)
    assert seeker.unreachable_lapses_at != tokyo(2025, 1, 31)


def test_unreachable_grace_counts_tokyo_days() -> None:
    seeker = register("workport", tokyo(2024, 12, 20, 10, 0))

    # 2025-01-01T23:30+09:00 is 2025-01-01T14:30Z; a day later in Tokyo only.
    seeker.mark_unreachable(
        at=datetime.fromisoformat("2025-01-02T00:30+09:00"), actor=ACTOR
    )

    assert seeker.unreachable_lapses_at == datetime.fromisoformat(
        "2025-02-02T00:00+09:00"
    )


def test_unreachable_lapse_date_cleared_when_contact_restored() -> None:
    seeker = register("workport", tokyo(2024, 12, 20, 10, 0))
    seeker.mark_unreachable(at=tokyo(2025, 1, 1, 10, 0), actor=ACTOR)

    seeker.contact(
        at=tokyo(2025, 1, 5, 10, 0), actor=ACTOR, channel="phone", outcome="reached"
    )

    assert seeker.status == "active"
    assert seeker.unreachable_lapses_at is None


# ---------------------------------------------------------------------------
# Business time (SPEC §4).
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-15", "2025-01-15T00:00+09:00"),
        ("2025-01-15T09:30", "2025-01-15T09:30+09:00"),
        ("2025-01-15T09:30+00:00", "2025-01-15T18:30+09:00"),
        ("2025-01-15T09:30Z", "2025-01-15T18:30+09:00"),
        (" 2025-01-15 ", "2025-01-15T00:00+09:00"),
    ],
)
def test_at_values_are_read_in_the_policy_time_zone(text: str, expected: str) -> None:
    assert parse_instant(text, TOKYO) == datetime.fromisoformat(expected)


@pytest.mark.parametrize("text", ["yesterday", "2025-13-01", "2025-02-30", ""])
def test_malformed_at_values_are_bad_values(text: str) -> None:
    with pytest.raises(BadValue):
        parse_instant(text, TOKYO)


def test_at_up_to_five_minutes_ahead_of_the_clock_is_accepted() -> None:
    now = datetime(2025, 1, 15, 1, 0, tzinfo=UTC)

    check_business_time(now + timedelta(minutes=5), not_before=None, now=now)

    with pytest.raises(BadValue, match="future"):
        check_business_time(
            now + timedelta(minutes=5, seconds=1), not_before=None, now=now
        )


def test_at_not_before_the_accounts_latest_event() -> None:
    now = datetime(2025, 1, 15, 1, 0, tzinfo=UTC)
    latest = now - timedelta(days=1)

    check_business_time(latest, not_before=latest, now=now)

    with pytest.raises(BadValue, match="latest event"):
        check_business_time(latest - timedelta(seconds=1), not_before=latest, now=now)


def test_without_at_an_event_after_one_a_clock_ahead_recorded_keeps_the_order() -> None:
    """Two terminals whose clocks differ by minutes: the latest event is
    four minutes 'ahead' of this one's now. An event without ``--at`` takes
    the latest event's time (the stream stays in order) instead of being
    refused for an ``--at`` nobody gave; a given ``--at`` before it is
    still refused."""
    now = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    ahead = now + timedelta(minutes=4)
    vault = Vault(MemoryKeyTable(), master_key=secrets.token_bytes(32))
    ledger = SeekerLedger(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        vault=lambda _: vault,
        clock=lambda: now,
    )
    try:
        registered = ledger.register(
            policy=PRESETS["workport"], name="Aya Mori", email="aya@example.jp",
            birth_date=date(1990, 1, 1), phone=None, channel="app", advisor=None,
            actor="terminal.a", at=ahead,
        )  # fmt: skip
        seeker = registered.seeker.id
        ledger.contact(seeker, channel="phone", outcome="reached", actor="terminal.b")
        stored = list(ledger.events.get(seeker))
        assert [event.occurred_at for event in stored] == [ahead, ahead]
        with pytest.raises(BadValue, match="before the account's latest event"):
            ledger.contact(
                seeker, channel="phone", outcome="reached", actor="terminal.b",
                at=now,
            )  # fmt: skip
    finally:
        ledger.close()
