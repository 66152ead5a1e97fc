"""The sweep's time rules at their boundaries (SPEC §3, §4), through
``seekers --json sweep --at T``, and the sweep finding due accounts through
the status projection rather than by loading every account."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import Repository

from domain.policy import PRESETS
from domain.seeker import Seeker
from services.ledger import SeekerLedger
from tests.helpers import event_count, run_cli
from tests.integration.support import Account, opened, succeed_json

SWEEP_ACTOR = "system:sweep"


def sweep(db_url: str, at: str, *options: str) -> dict[str, Any]:
    document: dict[str, Any] = succeed_json(
        ["sweep", "--at", at, *options], db_url, actor="operator:night"
    )
    assert set(document) >= {"at", "dry_run", "actions"}
    for action in document["actions"]:
        assert set(action) >= {"id", "command", "reason"}
        assert action["command"] in ("lapse", "purge")
    return document


def actions_for(document: dict[str, Any], seeker: Account) -> list[tuple[str, str]]:
    return [
        (a["command"], a["reason"]) for a in document["actions"] if a["id"] == seeker.id
    ]


def test_hellowork_lapses_when_the_second_month_after_the_last_activity_is_over(
    db_url: str,
) -> None:
    seeker = Account.register(db_url, "hellowork", "2025-01-15T14:30+09:00")

    before = sweep(db_url, "2025-03-31T23:59+09:00")
    assert before["dry_run"] is False
    assert actions_for(before, seeker) == []
    assert seeker.show()["status"] == "active"

    at = sweep(db_url, "2025-04-01T00:00+09:00")
    assert actions_for(at, seeker) == [("lapse", "registration_expired")]
    shown = seeker.show()
    assert shown["status"] == "lapsed"
    assert shown["status_since"] == "2025-04-01T00:00:00+09:00"
    assert shown["invalid_since"] == "2025-04-01T00:00:00+09:00"


def test_activity_moves_the_hellowork_lapse_to_the_end_of_the_second_month_after_it(
    db_url: str,
) -> None:
    seeker = Account.register(db_url, "hellowork", "2025-01-15T10:00+09:00")
    # A contact attempt is not activity; an application is.
    seeker.do(
        "contact", "--channel", "phone", "--outcome", "no_answer", at="2025-02-20"
    )
    seeker.do("apply", "--job", "Nurse", at="2025-03-31T23:00+09:00")

    assert actions_for(sweep(db_url, "2025-05-31T23:59+09:00"), seeker) == []
    assert actions_for(sweep(db_url, "2025-06-01T00:00+09:00"), seeker) == [
        ("lapse", "registration_expired")
    ]


def test_an_unreachable_seeker_lapses_on_day_31_not_day_30(db_url: str) -> None:
    seeker = Account.register(db_url, "workport", "2024-12-20T10:00+09:00")
    seeker.do("mark-unreachable", at="2025-01-01T18:00+09:00")

    day_30_end = sweep(db_url, "2025-01-31T23:59+09:00")
    assert actions_for(day_30_end, seeker) == []
    assert seeker.show()["status"] == "unreachable"

    day_31 = sweep(db_url, "2025-02-01T00:00+09:00")
    assert actions_for(day_31, seeker) == [("lapse", "unreachable_grace")]
    shown = seeker.show()
    assert shown["status"] == "lapsed"
    assert shown["status_since"] == "2025-02-01T00:00:00+09:00"


def test_a_hellowork_account_is_purged_exactly_five_years_after_it_became_invalid(
    db_url: str,
) -> None:
    seeker = Account.register(db_url, "hellowork", "2020-03-01T09:00+09:00")
    seeker.do("lapse", at="2020-03-10T09:15+09:00")
    # Withdrawing later does not restart the clock: invalid since the lapse.
    seeker.do("request-withdrawal", "--channel", "counter", at="2020-05-01T10:00+09:00")
    seeker.do("withdraw", at="2020-05-02T10:00+09:00")
    shown = seeker.show()
    assert shown["invalid_since"] == "2020-03-10T09:15:00+09:00"
    assert shown["purge_due_at"] == "2025-03-10T09:15:00+09:00"

    assert actions_for(sweep(db_url, "2025-03-10T09:14+09:00"), seeker) == []
    assert seeker.show()["status"] == "withdrawn"

    due = sweep(db_url, "2025-03-10T09:15+09:00")
    assert actions_for(due, seeker) == [("purge", "retention_expired")]
    shown = seeker.show()
    assert shown["status"] == "purged"
    assert shown["purged_at"] == "2025-03-10T09:15:00+09:00"
    assert shown["name"] is None


def test_a_workport_account_is_purged_three_years_after_its_withdrawal(
    db_url: str,
) -> None:
    seeker = Account.register(db_url, "workport", "2021-05-01T09:00+09:00")
    seeker.withdraw("2021-06-09T11:00+09:00", "2021-06-10T15:00+09:00")
    assert seeker.show()["purge_due_at"] == "2024-06-10T15:00:00+09:00"

    assert actions_for(sweep(db_url, "2024-06-10T14:59+09:00"), seeker) == []
    assert actions_for(sweep(db_url, "2024-06-10T15:00+09:00"), seeker) == [
        ("purge", "retention_expired")
    ]
    assert seeker.show()["status"] == "purged"


def test_an_account_invalid_since_29_february_is_purged_on_28_february(
    db_url: str,
) -> None:
    workport = Account.register(db_url, "workport", "2019-12-01T09:00+09:00")
    workport.withdraw("2020-02-28T10:00+09:00", "2020-02-29T11:00+09:00")
    hellowork = Account.register(db_url, "hellowork", "2020-01-10T09:00+09:00")
    hellowork.do("lapse", at="2020-02-29T08:00+09:00")
    assert workport.show()["purge_due_at"] == "2023-02-28T11:00:00+09:00"
    assert hellowork.show()["purge_due_at"] == "2025-02-28T08:00:00+09:00"

    assert actions_for(sweep(db_url, "2023-02-28T10:59+09:00"), workport) == []
    assert actions_for(sweep(db_url, "2023-02-28T11:00+09:00"), workport) == [
        ("purge", "retention_expired")
    ]
    assert actions_for(sweep(db_url, "2025-02-28T07:59+09:00"), hellowork) == []
    assert actions_for(sweep(db_url, "2025-02-28T08:00+09:00"), hellowork) == [
        ("purge", "retention_expired")
    ]


def _due_population(db_url: str) -> tuple[Account, Account, Account]:
    lapsing = Account.register(db_url, "hellowork", "2025-01-15T10:00+09:00")
    unreachable = Account.register(db_url, "pasona", "2024-12-01T10:00+09:00")
    unreachable.do("mark-unreachable", at="2025-01-01T10:00+09:00")
    purging = Account.register(db_url, "workport", "2021-01-05T10:00+09:00")
    purging.withdraw("2021-01-06T10:00+09:00", "2021-01-07T10:00+09:00")
    return lapsing, unreachable, purging


def test_a_second_sweep_at_the_same_time_does_nothing(db_url: str) -> None:
    due = _due_population(db_url)
    first = sweep(db_url, "2025-05-01T00:00+09:00")
    assert sorted(a["id"] for a in first["actions"]) == sorted(s.id for s in due)
    count = event_count(db_url)

    second = sweep(db_url, "2025-05-01T00:00+09:00")
    assert second["actions"] == []
    assert event_count(db_url) == count


def test_a_sweep_applies_every_rule_due_at_its_time_so_a_second_one_finds_nothing(
    db_url: str,
) -> None:
    # Last activity 2019-01-15: the registration lapsed at 2019-04-01, so by
    # 2025-01-01 its five years of retention have also run out.
    seeker = Account.register(db_url, "hellowork", "2019-01-15T10:00+09:00")
    first = sweep(db_url, "2025-01-01T00:00+09:00")
    assert actions_for(first, seeker) == [
        ("lapse", "registration_expired"),
        ("purge", "retention_expired"),
    ]
    assert sweep(db_url, "2025-01-01T00:00+09:00")["actions"] == []


def test_a_dry_run_lists_the_actions_and_records_nothing(db_url: str) -> None:
    due = _due_population(db_url)
    count = event_count(db_url)

    dry = sweep(db_url, "2025-05-01T00:00+09:00", "--dry-run")
    assert dry["dry_run"] is True
    assert sorted(
        (a["id"], a["command"], a["reason"]) for a in dry["actions"]
    ) == sorted(
        [
            (due[0].id, "lapse", "registration_expired"),
            (due[1].id, "lapse", "unreachable_grace"),
            (due[2].id, "purge", "retention_expired"),
        ]
    )
    assert event_count(db_url) == count
    assert [s.show()["status"] for s in due] == ["active", "unreachable", "withdrawn"]

    real = sweep(db_url, "2025-05-01T00:00+09:00")
    assert real["dry_run"] is False
    assert [(a["id"], a["command"], a["reason"]) for a in real["actions"]] == [
        (a["id"], a["command"], a["reason"]) for a in dry["actions"]
    ]
    assert event_count(db_url) == count + 3


def test_sweep_actions_are_recorded_as_system_sweep_in_the_history(db_url: str) -> None:
    lapsing, unreachable, purging = _due_population(db_url)
    sweep(db_url, "2025-05-01T00:00+09:00")

    for seeker, event_type, reason in (
        (lapsing, "Lapsed", "registration_expired"),
        (unreachable, "Lapsed", "unreachable_grace"),
        (purging, "Purged", "retention_expired"),
    ):
        history = succeed_json(["history", seeker.id], db_url)["events"]
        last = history[-1]
        assert last["type"] == event_type
        assert last["actor"] == SWEEP_ACTOR
        assert last["reason"] == reason
        assert all(e["actor"] == "tester" for e in history[:-1])
        shown = succeed_json(["show", seeker.id], db_url)
        assert shown["version"] == last["version"]


def test_a_sweep_in_the_future_is_refused_unless_it_is_a_dry_run(db_url: str) -> None:
    lapsing, unreachable, purging = _due_population(db_url)
    count = event_count(db_url)

    refused = run_cli(
        ["--json", "sweep", "--at", "2099-01-01T00:00+09:00"], db_url=db_url
    )
    assert refused.code == 2
    assert refused.stdout == ""
    assert "Traceback" not in refused.stderr
    assert event_count(db_url) == count

    looking_ahead = sweep(db_url, "2099-01-01T00:00+09:00", "--dry-run")
    # By 2099 the lapsed HelloWork account is past its retention too.
    assert sorted((a["id"], a["command"]) for a in looking_ahead["actions"]) == sorted(
        [
            (lapsing.id, "lapse"),
            (lapsing.id, "purge"),
            (unreachable.id, "lapse"),
            (purging.id, "purge"),
        ]
    )
    assert event_count(db_url) == count


@dataclass
class Loads:
    """Accounts loaded from the store: through ``SeekerLedger.get_seeker``,
    and through the library's repository (which every load goes through)."""

    seekers: list[UUID] = field(default_factory=list)
    aggregates: list[UUID] = field(default_factory=list)

    def clear(self) -> None:
        self.seekers.clear()
        self.aggregates.clear()


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> Loads:
    loaded = Loads()
    get_seeker = SeekerLedger.get_seeker
    get_aggregate = Repository.get

    def counting_get_seeker(self: SeekerLedger, seeker_id: UUID) -> Seeker:
        loaded.seekers.append(seeker_id)
        return get_seeker(self, seeker_id)

    def counting_get(
        self: Repository[Any], aggregate_id: Any, *args: Any, **kwargs: Any
    ) -> Any:
        loaded.aggregates.append(aggregate_id)
        return get_aggregate(self, aggregate_id, *args, **kwargs)

    monkeypatch.setattr(SeekerLedger, "get_seeker", counting_get_seeker)
    monkeypatch.setattr(Repository, "get", counting_get)
    return loaded


def test_the_sweep_loads_only_the_due_accounts_it_finds_through_the_projection(
    db_url: str, loads: Loads
) -> None:
    due = _due_population(db_url)
    # Many accounts that are never due at the sweep's time: no registration
    # validity (workport, pasona), or recent activity (hellowork).
    with opened(db_url) as (ledger, projections):
        for number in range(60):
            policy = ("workport", "pasona", "hellowork")[number % 3]
            ledger.register(
                policy=PRESETS[policy],
                name=f"Not Due {number}",
                email=f"not.due.{number}@example.jp",
                birth_date=date(1990, 1, 1),
                phone=None,
                channel=None,
                advisor=None,
                actor="tester",
                at="2025-04-15T10:00+09:00",
            )
        projections.catch_up()
        stored = len(projections.views["accounts"].query("SELECT id FROM accounts"))
    assert stored == 63
    due_ids = {UUID(s.id) for s in due}

    loads.clear()
    dry = sweep(db_url, "2025-05-01T00:00+09:00", "--dry-run")
    assert len(dry["actions"]) == 3
    assert sorted(loads.seekers) == sorted(due_ids)
    assert sorted(loads.aggregates) == sorted(due_ids)

    loads.clear()
    real = sweep(db_url, "2025-05-01T00:00+09:00")
    assert len(real["actions"]) == 3
    assert sorted(loads.seekers) == sorted(due_ids)
    # Loaded once each to ask the rules and record the action (a save that
    # lost a race would reload once more; nothing races here).
    assert sorted(loads.aggregates) == sorted(due_ids)

    loads.clear()
    assert sweep(db_url, "2025-05-01T00:00+09:00")["actions"] == []
    assert loads.seekers == loads.aggregates == []
