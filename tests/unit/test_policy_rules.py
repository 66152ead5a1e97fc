"""Every policy rule of SPEC §3 and every time rule of §4, at its boundary.

No I/O (apart from the policy files written to ``tmp_path``): the ``Seeker``
aggregate is driven directly with aware business times.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.errors import BadValue, PolicyFileError, Refused
from domain.policy import PRESETS, Policy, load_policy
from domain.seeker import Seeker
from domain.timerules import check_business_time, parse_instant
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
    return [type(event).__name__ for event in seeker.pending_events]


def assert_refused_cleanly(seeker: Seeker, call: Any) -> Refused:
    version = seeker.version
    pending = len(seeker.pending_events)
    with pytest.raises(Refused) as refused:
        call()
    assert seeker.version == version
    assert len(seeker.pending_events) == pending
    return refused.value


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
    for policy in ("pasona", "workport"):
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


@pytest.mark.parametrize("policy", ["hellowork", "pasona", "workport"])
def test_unreachable_lapse_due_at_day_31_midnight_not_day_30(policy: str) -> None:
    advisor = "Sato" if PRESETS[policy].advisors else None
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


@pytest.mark.parametrize(("policy", "years"), [("hellowork", 5), ("workport", 3)])
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


# ---------------------------------------------------------------------------
# Open applications when withdrawing.
# ---------------------------------------------------------------------------


def test_hellowork_open_self_application_blocks_request_withdrawal() -> None:
    seeker = register("hellowork", tokyo(2025, 1, 5, 10, 0))
    seeker.apply(at=tokyo(2025, 1, 6), actor=ACTOR, job="J1", route="agency")
    seeker.apply(at=tokyo(2025, 1, 7), actor=ACTOR, job="J2", route="self")
    seeker.collect_events()

    refusal = assert_refused_cleanly(
        seeker, lambda: request_withdrawal(seeker, tokyo(2025, 1, 8))
    )

    assert str(refusal).startswith(
        "open self-application A2 blocks withdrawal (policy hellowork)"
    )
    assert refusal.state == "active"


def test_hellowork_open_self_application_blocks_withdraw() -> None:
    seeker = register("hellowork", tokyo(2025, 1, 5, 10, 0))
    request_withdrawal(seeker, tokyo(2025, 1, 6))
    # No command can open an application while withdrawal is requested; an
    # imported history can. Record the event directly, bypassing the rules.
    seeker._applied(
        occurred_at=tokyo(2025, 1, 7),
        actor=ACTOR,
        application_id="A1",
        job="legacy",
        route="self",
    )
    seeker.collect_events()

    refusal = assert_refused_cleanly(
        seeker, lambda: seeker.withdraw(at=tokyo(2025, 1, 8), actor=ACTOR)
    )

    assert "open self-application A1 blocks withdrawal (policy hellowork)" in str(
        refusal
    )


def test_hellowork_closed_self_application_does_not_block_withdrawal() -> None:
    seeker = register("hellowork", tokyo(2025, 1, 5, 10, 0))
    seeker.apply(at=tokyo(2025, 1, 6), actor=ACTOR, job="J1", route="self")
    seeker.close_application(
        at=tokyo(2025, 1, 7), actor=ACTOR, application_id="A1", outcome="rejected"
    )

    request_withdrawal(seeker, tokyo(2025, 1, 8))
    seeker.withdraw(at=tokyo(2025, 1, 9), actor=ACTOR)

    assert seeker.status == "withdrawn"


def test_hellowork_open_agency_application_is_declined_on_withdrawal() -> None:
    seeker = register("hellowork", tokyo(2025, 1, 5, 10, 0))
    seeker.apply(at=tokyo(2025, 1, 6), actor=ACTOR, job="J1", route="agency")
    request_withdrawal(seeker, tokyo(2025, 1, 8))
    seeker.collect_events()

    seeker.withdraw(at=tokyo(2025, 1, 9), actor=ACTOR)

    assert names(seeker) == ["ApplicationClosed", "Withdrawn"]
    assert seeker.pending_events[0].outcome == "declined_on_withdrawal"  # type: ignore[attr-defined]


def test_workport_open_self_application_does_not_block_and_is_declined() -> None:
    seeker = register("workport", tokyo(2025, 1, 5, 10, 0))
    seeker.apply(at=tokyo(2025, 1, 6), actor=ACTOR, job="J1", route="self")
    seeker.apply(at=tokyo(2025, 1, 6, 1), actor=ACTOR, job="J2", route="agency")
    seeker.apply(at=tokyo(2025, 1, 6, 2), actor=ACTOR, job="J3", route="agency")
    seeker.close_application(
        at=tokyo(2025, 1, 6, 3), actor=ACTOR, application_id="A3", outcome="rejected"
    )

    request_withdrawal(seeker, tokyo(2025, 1, 8))
    seeker.collect_events()
    seeker.withdraw(at=tokyo(2025, 1, 9), actor=ACTOR)

    assert names(seeker) == ["ApplicationClosed", "ApplicationClosed", "Withdrawn"]
    closed = [
        (e.application_id, e.outcome)  # type: ignore[attr-defined]
        for e in seeker.pending_events[:2]
    ]
    assert closed == [
        ("A1", "declined_on_withdrawal"),
        ("A2", "declined_on_withdrawal"),
    ]
    assert seeker.application("A3").outcome == "rejected"
    assert seeker.open_applications == []


def test_pasona_open_applications_are_declined_on_withdrawal() -> None:
    seeker = register("pasona", tokyo(2025, 1, 5, 10, 0))
    seeker.apply(at=tokyo(2025, 1, 6), actor=ACTOR, job="J1", route="self")
    request_withdrawal(seeker, tokyo(2025, 1, 8))
    seeker.collect_events()

    seeker.withdraw(at=tokyo(2025, 1, 9), actor=ACTOR)

    assert names(seeker) == ["ApplicationClosed", "Withdrawn", "Purged"]
    assert seeker.pending_events[0].outcome == "declined_on_withdrawal"  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------
# Withdrawal timing.
# ---------------------------------------------------------------------------


def _prepare_timing(seeker: Seeker, timing: str) -> None:
    at = tokyo(2025, 1, 6)
    if timing == "no_applications":
        return
    seeker.apply(at=at, actor=ACTOR, job="J1", route="agency")
    if timing == "between_selections":
        seeker.close_application(
            at=at, actor=ACTOR, application_id="A1", outcome="rejected"
        )
        return
    seeker.apply(at=at, actor=ACTOR, job="J2", route="agency")
    if timing == "during_screening":
        return
    seeker.schedule_interview(
        at=at,
        actor=ACTOR,
        application_id="A2",
        interview_at=tokyo(2025, 2, 1, 10),
        round_number=2,
        final=timing == "final_stage",
    )


@pytest.mark.parametrize(
    "timing",
    [
        "no_applications",
        "between_selections",
        "during_screening",
        "interview_scheduled",
        "final_stage",
    ],
)
def test_withdrawal_timing_recorded_on_withdrawn(timing: str) -> None:
    seeker = register("workport", tokyo(2025, 1, 5, 10, 0))
    _prepare_timing(seeker, timing)
    request_withdrawal(seeker, tokyo(2025, 1, 8))
    seeker.collect_events()

    seeker.withdraw(at=tokyo(2025, 1, 9), actor=ACTOR)

    withdrawn_event = seeker.pending_events[-1]
    assert type(withdrawn_event).__name__ == "Withdrawn"
    assert withdrawn_event.timing == timing  # type: ignore[attr-defined]
    assert seeker.withdrawal_timing == timing


def test_withdrawal_timing_after_a_declined_interview_is_between_selections() -> None:
    seeker = register("workport", tokyo(2025, 1, 5, 10, 0))
    seeker.apply(at=tokyo(2025, 1, 6), actor=ACTOR, job="J1", route="agency")
    seeker.schedule_interview(
        at=tokyo(2025, 1, 6, 1),
        actor=ACTOR,
        application_id="A1",
        interview_at=tokyo(2025, 2, 1, 10),
        round_number=1,
        final=True,
    )
    seeker.decline_interview(
        at=tokyo(2025, 1, 7), actor=ACTOR, application_id="A1", channel="app", note=None
    )
    request_withdrawal(seeker, tokyo(2025, 1, 8))
    seeker.withdraw(at=tokyo(2025, 1, 9), actor=ACTOR)

    assert seeker.withdrawal_timing == "between_selections"


# ---------------------------------------------------------------------------
# Withdrawal channels, identity check, reason.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "advisor", "channel", "allowed"),
    [
        ("hellowork", None, "web", True),
        ("hellowork", None, "counter", True),
        ("hellowork", None, "phone", False),
        ("hellowork", None, "email", False),
        ("pasona", None, "web", True),
        ("pasona", None, "email", False),
        ("pasona", None, "phone", False),
        ("pasona", None, "counter", False),
        ("pasona", "Sato", "web", False),
        ("pasona", "Sato", "email", True),
        ("pasona", "Sato", "phone", True),
        ("workport", None, "phone", True),
        ("workport", None, "email", True),
        ("workport", None, "form", True),
        ("workport", None, "app", True),
        ("workport", None, "web", False),
        ("workport", None, "counter", False),
        ("workport", "Sato", "app", True),
    ],
)
def test_withdrawal_channels_offered_by_policy(
    policy: str, advisor: str | None, channel: str, allowed: bool
) -> None:
    seeker = register(policy, tokyo(2025, 1, 5, 10, 0), advisor=advisor)
    seeker.collect_events()
    verify = {"verify_name": NAME, "verify_birth_date": BIRTH_DATE}

    def call() -> None:
        request_withdrawal(seeker, tokyo(2025, 1, 6), channel=channel, **verify)

    if allowed:
        call()
        assert names(seeker) == ["WithdrawalRequested"]
        assert seeker.withdrawal_channel == channel
    else:
        refusal = assert_refused_cleanly(seeker, call)
        assert f"withdrawal by {channel} is not offered" in str(refusal)


def test_pasona_channels_follow_the_advisor_assigned_later() -> None:
    seeker = register("pasona", tokyo(2025, 1, 5, 10, 0))
    seeker.change_advisor(at=tokyo(2025, 1, 6), actor=ACTOR, advisor="Sato")
    seeker.collect_events()

    assert_refused_cleanly(
        seeker, lambda: request_withdrawal(seeker, tokyo(2025, 1, 7), channel="web")
    )
    request_withdrawal(
        seeker,
        tokyo(2025, 1, 7),
        channel="email",
        verify_name=NAME,
        verify_birth_date=BIRTH_DATE,
    )
    assert seeker.status == "withdrawal_requested"


@pytest.mark.parametrize(
    "given_name",
    [
        NAME,
        "山田　太郎",  # full-width space
        "山田太郎",
        "  山田   太郎 ",
        "ｙａｍａｄａ taro",
    ],
    ids=["exact", "full-width-space", "no-space", "extra-spaces", "width-and-case"],
)
def test_pasona_identity_check_with_matching_name_and_birth_date_allowed(
    given_name: str,
) -> None:
    registered = "Yamada Taro" if given_name.startswith("ｙ") else NAME
    seeker = register(
        "pasona", tokyo(2025, 1, 5, 10, 0), advisor="Sato", name=registered
    )
    seeker.collect_events()

    request_withdrawal(
        seeker,
        tokyo(2025, 1, 6),
        channel="phone",
        verify_name=given_name,
        verify_birth_date=BIRTH_DATE,
    )

    assert names(seeker) == ["WithdrawalRequested"]
    assert seeker.pending_events[0].identity_checked is True  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("verify_name", "verify_birth_date", "expected"),
    [
        ("山田 次郎", BIRTH_DATE, "full name does not match"),
        (NAME, date(1990, 4, 2), "birth date does not match"),
        (None, BIRTH_DATE, "identity check required"),
        (NAME, None, "identity check required"),
        (None, None, "identity check required"),
    ],
    ids=["wrong-name", "wrong-birth-date", "no-name", "no-birth-date", "nothing"],
)
def test_pasona_identity_check_failing_refuses_withdrawal(
    verify_name: str | None, verify_birth_date: date | None, expected: str
) -> None:
    seeker = register("pasona", tokyo(2025, 1, 5, 10, 0), advisor="Sato")
    seeker.collect_events()

    refusal = assert_refused_cleanly(
        seeker,
        lambda: request_withdrawal(
            seeker,
            tokyo(2025, 1, 6),
            channel="email",
            verify_name=verify_name,
            verify_birth_date=verify_birth_date,
        ),
    )

    assert expected in str(refusal)
    assert refusal.state == "active"


def test_pasona_web_withdrawal_needs_no_identity_check() -> None:
    seeker = register("pasona", tokyo(2025, 1, 5, 10, 0))
    seeker.collect_events()

    request_withdrawal(seeker, tokyo(2025, 1, 6), channel="web")

    assert seeker.pending_events[0].identity_checked is False  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("policy", "required"),
    [("hellowork", False), ("pasona", True), ("workport", True)],
)
def test_withdrawal_reason_required_by_pasona_and_workport_only(
    policy: str, required: bool
) -> None:
    seeker = register(policy, tokyo(2025, 1, 5, 10, 0))
    seeker.collect_events()

    def call() -> None:
        request_withdrawal(seeker, tokyo(2025, 1, 6), reason=None)

    if required:
        refusal = assert_refused_cleanly(seeker, call)
        assert "reason is required" in str(refusal)
    else:
        call()
        assert seeker.status == "withdrawal_requested"
        assert seeker.withdrawal_reason is None


# ---------------------------------------------------------------------------
# Personal data at withdrawal.
# ---------------------------------------------------------------------------


def test_pasona_withdrawal_erases_personal_data_at_once() -> None:
    seeker = register("pasona", tokyo(2025, 1, 5, 10, 0))
    request_withdrawal(seeker, tokyo(2025, 1, 6))
    seeker.collect_events()

    seeker.withdraw(at=tokyo(2025, 1, 7), actor=ACTOR)

    assert names(seeker) == ["Withdrawn", "Purged"]
    assert seeker.pending_events[1].reason == "erased_on_withdrawal"  # type: ignore[attr-defined]
    assert seeker.status == "purged"
    assert seeker.personal is None
    assert seeker.purge_reason == "erased_on_withdrawal"


def test_workport_erase_data_request_purges_after_withdraw() -> None:
    seeker = register("workport", tokyo(2025, 1, 5, 10, 0))
    request_withdrawal(seeker, tokyo(2025, 1, 6), erase_data=True)
    seeker.collect_events()

    seeker.withdraw(at=tokyo(2025, 1, 7), actor=ACTOR)

    assert names(seeker) == ["Withdrawn", "Purged"]
    assert seeker.pending_events[1].reason == "deletion_request"  # type: ignore[attr-defined]
    assert seeker.personal is None


@pytest.mark.parametrize("policy", ["hellowork", "workport"])
def test_personal_data_kept_at_withdrawal_without_erasure_request(policy: str) -> None:
    seeker = register(policy, tokyo(2025, 1, 5, 10, 0))
    request_withdrawal(seeker, tokyo(2025, 1, 6))
    seeker.collect_events()

    seeker.withdraw(at=tokyo(2025, 1, 7), actor=ACTOR)

    assert names(seeker) == ["Withdrawn"]
    assert seeker.personal is not None
    assert seeker.personal.name == NAME


def test_cancelled_erasure_request_is_forgotten() -> None:
    seeker = register("workport", tokyo(2025, 1, 5, 10, 0))
    request_withdrawal(seeker, tokyo(2025, 1, 6), erase_data=True)
    seeker.cancel_withdrawal(at=tokyo(2025, 1, 7), actor=ACTOR)
    request_withdrawal(seeker, tokyo(2025, 1, 8))
    seeker.collect_events()

    seeker.withdraw(at=tokyo(2025, 1, 9), actor=ACTOR)

    assert names(seeker) == ["Withdrawn"]


# ---------------------------------------------------------------------------
# Pausing and advisors.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["hellowork", "pasona"])
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


@pytest.mark.parametrize("policy", ["pasona", "workport"])
def test_change_advisor_allowed_where_the_policy_has_advisors(policy: str) -> None:
    seeker = register(policy, tokyo(2025, 1, 5, 10, 0))
    seeker.collect_events()

    seeker.change_advisor(at=tokyo(2025, 1, 6), actor=ACTOR, advisor="Suzuki")

    assert names(seeker) == ["AdvisorChanged"]
    assert seeker.advisor == "Suzuki"


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


# ---------------------------------------------------------------------------
# Policy files.
# ---------------------------------------------------------------------------

FULL_POLICY = """\
name = "smallagency"
timezone = "Europe/London"
withdrawal_channels = ["web", "email"]
withdrawal_channels_with_advisor = ["phone"]
identity_check_channels = ["phone"]
withdrawal_reason_required = true
self_application_blocks_withdrawal = false
pausing = true
advisors = true
self_reinstatement_days = 14
assisted_reinstatement = true
erase_on_withdrawal = false
retention_years = 2
registration_validity_months = 6
unreachable_grace_days = 45
"""


def write(tmp_path: Path, text: str, name: str = "agency.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_policy_file_based_on_a_preset_overrides_only_its_keys(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        'based_on = "workport"\nname = "myagency"\nretention_years = 2\n',
    )

    policy = load_policy(path)

    assert policy.name == "myagency"
    assert policy.retention_years == 2
    expected = dataclasses.replace(
        PRESETS["workport"], name="myagency", retention_years=2
    )
    assert policy == expected


def test_policy_file_with_every_key(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, FULL_POLICY))

    assert policy == Policy(
        name="smallagency",
        timezone="Europe/London",
        withdrawal_channels=("web", "email"),
        withdrawal_channels_with_advisor=("phone",),
        identity_check_channels=("phone",),
        withdrawal_reason_required=True,
        self_application_blocks_withdrawal=False,
        pausing=True,
        advisors=True,
        self_reinstatement_days=14,
        assisted_reinstatement=True,
        erase_on_withdrawal=False,
        retention_years=2,
        registration_validity_months=6,
        unreachable_grace_days=45,
    )


def test_policy_file_policy_round_trips_through_the_registered_event(
    tmp_path: Path,
) -> None:
    policy = load_policy(write(tmp_path, FULL_POLICY))
    seeker = register(policy, tokyo(2025, 1, 5, 10, 0))

    assert seeker.policy == policy


def test_presets_load_by_name() -> None:
    for name, preset in PRESETS.items():
        assert load_policy(name) is preset


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (FULL_POLICY + "colour = 'blue'\n", "unknown key(s): colour"),
        ('based_on = "workport"\nname = "x"\nrentention_years = 2\n', "rentention"),
        (
            FULL_POLICY.replace("retention_years = 2", 'retention_years = "two"'),
            "retention_years",
        ),
        (FULL_POLICY.replace("pausing = true", 'pausing = "yes"'), "pausing"),
        (FULL_POLICY.replace("pausing = true", "pausing = 1"), "pausing"),
        (
            FULL_POLICY.replace(
                'withdrawal_channels = ["web", "email"]',
                'withdrawal_channels = ["fax"]',
            ),
            "withdrawal_channels",
        ),
        (
            FULL_POLICY.replace(
                'withdrawal_channels = ["web", "email"]', 'withdrawal_channels = "web"'
            ),
            "withdrawal_channels",
        ),
        (
            FULL_POLICY.replace(
                "unreachable_grace_days = 45", "unreachable_grace_days = 0"
            ),
            "unreachable_grace_days",
        ),
        (
            FULL_POLICY.replace(
                "self_reinstatement_days = 14", "self_reinstatement_days = 1.5"
            ),
            "self_reinstatement_days",
        ),
        (
            FULL_POLICY.replace(
                "self_reinstatement_days = 14", "self_reinstatement_days = true"
            ),
            "self_reinstatement_days",
        ),
        (FULL_POLICY.replace('name = "smallagency"', "name = 7"), "name"),
        (
            FULL_POLICY.replace(
                'timezone = "Europe/London"', 'timezone = "Mars/Olympus"'
            ),
            "timezone",
        ),
        (
            FULL_POLICY.replace('timezone = "Europe/London"', "timezone = 9"),
            "timezone",
        ),
        (FULL_POLICY.replace("pausing = true\n", ""), "missing key(s): pausing"),
        ('based_on = "indeed"\nname = "x"\n', "based_on"),
        ('based_on = "workport"\n', "taken by a preset"),
        (FULL_POLICY.replace('"smallagency"', '"hellowork"'), "taken by a preset"),
    ],
    ids=[
        "unknown-key",
        "misspelt-key-with-based-on",
        "count-as-string",
        "flag-as-string",
        "flag-as-integer",
        "unknown-channel",
        "channels-not-a-list",
        "count-zero",
        "count-as-float",
        "count-as-bool",
        "name-not-a-string",
        "bad-timezone",
        "timezone-not-a-string",
        "missing-key",
        "unknown-preset",
        "name-clash-via-based-on",
        "name-clash",
    ],
)
def test_policy_file_errors_are_clear(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, text)

    with pytest.raises(PolicyFileError) as error:
        load_policy(path)

    message = str(error.value)
    assert fragment in message
    assert "\n" not in message


def test_missing_policy_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"

    with pytest.raises(PolicyFileError, match="not found") as error:
        load_policy(str(path))

    assert str(path) in str(error.value)


def test_invalid_toml_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, "name = \n[[[")

    with pytest.raises(PolicyFileError, match="not valid TOML"):
        load_policy(path)


def test_unknown_policy_name_is_a_clear_error() -> None:
    with pytest.raises(PolicyFileError, match="unknown policy 'indeed'"):
        load_policy("indeed")


@pytest.mark.parametrize("based_on", ['["workport"]', "{ preset = 'workport' }"])
def test_based_on_that_is_not_a_preset_name_is_a_clear_error(
    tmp_path: Path, based_on: str
) -> None:
    path = write(tmp_path, f'based_on = {based_on}\nname = "x"\n')

    with pytest.raises(PolicyFileError, match="based_on"):
        load_policy(path)


@pytest.mark.parametrize(
    "key",
    [
        "retention_years",
        "self_reinstatement_days",
        "unreachable_grace_days",
        "registration_validity_months",
    ],
)
def test_counts_beyond_the_calendar_are_refused_at_load_time(
    tmp_path: Path, key: str
) -> None:
    path = write(tmp_path, f'based_on = "hellowork"\nname = "x"\n{key} = 10000000\n')

    with pytest.raises(PolicyFileError, match=key):
        load_policy(path)


@pytest.mark.parametrize(
    ("key", "limit"),
    [
        ("retention_years", 100),
        ("self_reinstatement_days", 3650),
        ("unreachable_grace_days", 3650),
        ("registration_validity_months", 120),
    ],
)
def test_counts_up_to_their_limit_load_and_one_more_is_refused(
    tmp_path: Path, key: str, limit: int
) -> None:
    at_limit = write(tmp_path, f'based_on = "hellowork"\nname = "x"\n{key} = {limit}\n')
    assert getattr(load_policy(at_limit), key) == limit
    beyond = tmp_path / "beyond.toml"
    beyond.write_text(f'based_on = "hellowork"\nname = "y"\n{key} = {limit + 1}\n')
    with pytest.raises(PolicyFileError, match=f"{key} must be a whole number from 1"):
        load_policy(str(beyond))


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
