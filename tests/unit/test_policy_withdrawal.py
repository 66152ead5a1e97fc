"""SPEC §3 withdrawal rules: open applications when withdrawing, the
withdrawal timing recorded on ``Withdrawn``, the channels each policy offers,
pasona's identity check, the reason, and personal data at withdrawal.

No I/O: the ``Seeker`` aggregate is driven directly with aware business times.
"""

from __future__ import annotations

from datetime import date

import pytest

from domain.seeker import Seeker
from tests.unit.aggregates import (
    ACTOR,
    BIRTH_DATE,
    NAME,
    assert_refused_cleanly,
    names,
    register,
    request_withdrawal,
    tokyo,
)
from tests.unit.spec_oracle import (
    RULEBOOK,
    WITHDRAWAL_TIMINGS,
    presets_where,
)

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


@pytest.mark.parametrize("timing", WITHDRAWAL_TIMINGS)
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


# Which channels to try, for each policy without and with an advisor; whether
# the policy offers them is the rulebook's answer (``offered``).
CHANNEL_CASES: list[tuple[str, str | None, str]] = [
    ("hellowork", None, "web"),
    ("hellowork", None, "counter"),
    ("hellowork", None, "phone"),
    ("hellowork", None, "email"),
    ("pasona", None, "web"),
    ("pasona", None, "email"),
    ("pasona", None, "phone"),
    ("pasona", None, "counter"),
    ("pasona", "Sato", "web"),
    ("pasona", "Sato", "email"),
    ("pasona", "Sato", "phone"),
    ("workport", None, "phone"),
    ("workport", None, "email"),
    ("workport", None, "form"),
    ("workport", None, "app"),
    ("workport", None, "web"),
    ("workport", None, "counter"),
    ("workport", "Sato", "app"),
]


def offered(policy: str, advisor: str | None, channel: str) -> bool:
    rules = RULEBOOK[policy]
    return channel in rules.withdrawal_channels(has_advisor=advisor is not None)


@pytest.mark.parametrize(
    ("policy", "advisor", "channel", "allowed"),
    [(*case, offered(*case)) for case in CHANNEL_CASES],
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
    [(policy, rules.reason_required) for policy, rules in RULEBOOK.items()],
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


@pytest.mark.parametrize(
    "policy", presets_where(lambda rules: not rules.erase_on_withdrawal)
)
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
