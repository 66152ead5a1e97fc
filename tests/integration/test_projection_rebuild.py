"""Projections rebuilt from zero equal the projections kept up to date
command by command (SPEC §6), agree with the aggregates, and hold no personal
data (SPEC §6, §7).

The store holds a simulated population (``services.simulation``), a few
accounts driven through the CLI with distinctive personal data, and a sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from cli.views import history_entry_view
from domain.seeker import Seeker
from projections.schema import stamp
from services.simulation import simulate
from tests.integration.support import (
    PROJECTION_NAMES,
    Dump,
    assert_exactly_once,
    assert_tables_equal,
    dump,
    opened,
    succeed_json,
)
from tests.unit.spec_oracle import ACCOUNT_STATES

TOKYO = ZoneInfo("Asia/Tokyo")
SIMULATED_UNTIL = datetime(2025, 6, 1, tzinfo=UTC)
SWEEP_AT = "2025-07-01T00:00+09:00"
POPULATION = 300
SEED = 20250601

# Personal data nobody else has: none of it may reach a projection table.
ZEBULON = {
    "name": "Zebulon Quillfeather",
    "email": "zebulon.quillfeather.7731@distinct-mail.example",
    "phone": "070-8642-1397",
    "birth_date": "1979-11-23",
}
OPHELIA = {
    "name": "Ophelia Brandywine",
    "email": "o.brandywine+ledger@another-distinct.example",
    "phone": "+81 3 5550 2468",
    "birth_date": "1983-02-17",
}
PRUDENCE = {
    "name": "Prudence Marlowgate",
    "email": "prudence.marlowgate@third-distinct.example",
    "phone": "080-3141-5926",
    "birth_date": "1991-07-30",
}
NOTES = (
    "decline-note: my sister Umeko is in hospital",
    "pause-reason: caring for grandmother Chiyo",
    "withdrawal-note: moving to Sapporo with Hiroshi",
)
PERSONAL_STRINGS = (
    *(value for person in (ZEBULON, OPHELIA, PRUDENCE) for value in person.values()),
    *NOTES,
    "Quillfeather",
    "Brandywine",
    "Marlowgate",
    "Umeko",
    "Chiyo",
    "Sapporo",
    "8642-1397",
    "5550 2468",
)


@dataclass(frozen=True)
class Scenario:
    db_url: str
    cli_accounts: list[str]
    swept: list[str]


def _register(
    db_url: str, person: dict[str, str], policy: str, at: str, *extra: str
) -> str:
    document = succeed_json(
        [
            "register",
            "--name",
            person["name"],
            "--email",
            person["email"],
            "--birth-date",
            person["birth_date"],
            "--phone",
            person["phone"],
            "--policy",
            policy,
            "--at",
            at,
            *extra,
        ],
        db_url,
    )
    seeker_id: str = document["id"]
    return seeker_id


def _drive(db_url: str, seeker_id: str, *steps: tuple[str, ...]) -> None:
    """Each step is ``(command, *options, at)``: the last item is ``--at``."""
    for *command, at in steps:
        succeed_json([command[0], seeker_id, *command[1:], "--at", at], db_url)


def _build(db_url: str) -> Scenario:
    with opened(db_url) as (ledger, projections):
        simulate(ledger, seekers=POPULATION, seed=SEED, now=SIMULATED_UNTIL)
        projections.catch_up()

    # Workport: declines by email at the last minute, pauses, withdraws with
    # an application still open (declined on withdrawal).
    zebulon = _register(
        db_url, ZEBULON, "workport", "2025-06-02T09:00", "--advisor", "Kato"
    )
    _drive(
        db_url,
        zebulon,
        ("apply", "--job", "Backend engineer", "--route", "agency", "2025-06-02T10:00"),
        ("schedule-interview", "A1", "--on", "2025-06-10T10:00", "2025-06-03T10:00"),
        (
            "decline-interview",
            "A1",
            "--channel",
            "email",
            "--note",
            NOTES[0],
            "2025-06-09T22:00",
        ),
        ("apply", "--job", "Data engineer", "--route", "self", "2025-06-10T11:00"),
        ("pause", "--reason", NOTES[1], "2025-06-11T09:00"),
        ("resume", "2025-06-12T09:00"),
        ("change-advisor", "--advisor", "Mori", "2025-06-12T10:00"),
        (
            "request-withdrawal",
            "--channel",
            "phone",
            "--reason",
            "job_found",
            "--note",
            NOTES[2],
            "2025-06-13T09:00",
        ),
        ("withdraw", "2025-06-14T09:00"),
    )
    # HelloWork: a self-application that must be closed first, a withdrawal
    # and a self-service reinstatement on day 10.
    ophelia = _register(
        db_url, OPHELIA, "hellowork", "2025-06-02T09:30", "--channel", "web"
    )
    _drive(
        db_url,
        ophelia,
        ("apply", "--job", "Nurse", "--route", "self", "2025-06-03T09:00"),
        ("close-application", "A1", "--outcome", "hired", "2025-06-04T09:00"),
        ("request-withdrawal", "--channel", "web", "2025-06-05T09:00"),
        ("withdraw", "2025-06-06T09:00"),
        ("reinstate", "2025-06-16T09:00"),
        ("apply", "--job", "Care worker", "2025-06-17T09:00"),
    )
    # Pasona with an advisor: withdrawal by email after an identity check,
    # then personal data erased at once.
    prudence = _register(
        db_url, PRUDENCE, "pasona", "2025-06-03T09:00", "--advisor", "Abe"
    )
    _drive(
        db_url,
        prudence,
        (
            "request-withdrawal",
            "--channel",
            "email",
            "--reason",
            "other_agency",
            "--verify-name",
            PRUDENCE["name"],
            "--verify-birth-date",
            PRUDENCE["birth_date"],
            "2025-06-20T09:00",
        ),
        ("withdraw", "2025-06-21T09:00"),
    )
    # Workport: stops answering; the sweep lapses it after the grace.
    silent = _register(
        db_url,
        ZEBULON | {"email": "second." + ZEBULON["email"]},
        "workport",
        "2025-05-01T09:00",
    )
    _drive(
        db_url,
        silent,
        ("apply", "--job", "Accountant", "2025-05-01T10:00"),
        ("contact", "--channel", "phone", "--outcome", "no_answer", "2025-05-02T09:00"),
        ("mark-unreachable", "2025-05-03T09:00"),
        ("contact", "--channel", "email", "--outcome", "no_answer", "2025-05-10T09:00"),
    )
    # Workport: unreachable since recently (within the grace at the sweep),
    # with an open application; another paused; another mid-withdrawal.
    quiet = _register(
        db_url,
        PRUDENCE | {"email": "q." + PRUDENCE["email"]},
        "workport",
        "2025-06-18T09:00",
    )
    _drive(
        db_url,
        quiet,
        ("apply", "--job", "Sales associate", "2025-06-18T10:00"),
        ("contact", "--channel", "phone", "--outcome", "no_answer", "2025-06-19T09:00"),
        ("mark-unreachable", "2025-06-20T09:00"),
        ("contact", "--channel", "email", "--outcome", "no_answer", "2025-06-22T09:00"),
    )
    resting = _register(
        db_url,
        ZEBULON | {"phone": "070-8642-1398", "email": "r." + ZEBULON["email"]},
        "workport",
        "2025-06-18T09:00",
    )
    _drive(db_url, resting, ("pause", "--reason", NOTES[1], "2025-06-25T09:00"))
    leaving = _register(
        db_url,
        OPHELIA | {"name": "Ophelia B. Brandywine", "email": "l." + OPHELIA["email"]},
        "workport",
        "2025-06-18T09:00",
    )
    _drive(
        db_url,
        leaving,
        (
            "request-withdrawal",
            "--channel",
            "form",
            "--reason",
            "other",
            "--note",
            NOTES[2],
            "2025-06-26T09:00",
        ),
    )
    # HelloWork: lapsed by hand, then withdrawn asking for erasure.
    erased = _register(
        db_url,
        OPHELIA | {"name": "Ophelia Brandywine Jr", "email": "e." + OPHELIA["email"]},
        "hellowork",
        "2025-05-20T09:00",
    )
    _drive(
        db_url,
        erased,
        ("lapse", "2025-06-05T09:00"),
        (
            "request-withdrawal",
            "--channel",
            "counter",
            "--erase-data",
            "2025-06-06T09:00",
        ),
        ("withdraw", "2025-06-07T09:00"),
    )

    swept = succeed_json(["sweep", "--at", SWEEP_AT], db_url, actor="operator:night")
    swept_ids = [action["id"] for action in swept["actions"]]
    assert silent in swept_ids
    return Scenario(
        db_url=db_url,
        cli_accounts=[
            zebulon,
            ophelia,
            prudence,
            silent,
            quiet,
            resting,
            leaving,
            erased,
        ],
        swept=swept_ids,
    )


@pytest.fixture
def scenario(db_url: str) -> Scenario:
    return _build(db_url)


def test_every_projection_table_equals_its_rebuild_after_a_realistic_sequence(
    scenario: Scenario,
) -> None:
    kept_up = dump(scenario.db_url)
    assert len(kept_up["accounts"]) == POPULATION + len(scenario.cli_accounts)
    assert scenario.swept, "the sweep should have had work to do"
    for table in ("report_withdrawals", "report_reinstatements", "report_declines"):
        assert kept_up[table], f"{table} is empty: the scenario proves nothing"

    rebuilt = succeed_json(["projections", "rebuild"], scenario.db_url)
    assert set(rebuilt["processed"]) == set(PROJECTION_NAMES)

    after = dump(scenario.db_url)
    assert_tables_equal(kept_up, after)
    assert_exactly_once(scenario.db_url, after)


def _expected_row(seeker: Seeker) -> dict[str, Any]:
    """What the accounts row must say, read off the aggregate."""
    invalid = seeker.status in ("lapsed", "withdrawn")
    return {
        "id": str(seeker.id),
        "policy": seeker.policy.name,
        "status": seeker.status,
        "status_since": stamp(seeker.status_since),
        "registered_at": stamp(seeker.registered_at),
        "last_activity_at": stamp(seeker.last_activity_at),
        "last_occurred_at": stamp(seeker.last_occurred_at),
        "version": seeker.version,
        "applications": len(seeker.applications),
        "open_applications": len(seeker.open_applications),
        "declines": sum(1 for a in seeker.applications if a.status == "declined"),
        "advisor": seeker.advisor,
        "withdrawal_reason": seeker.withdrawal_reason,
        "withdrawal_channel": seeker.withdrawal_channel,
        "withdrawal_timing": seeker.withdrawal_timing,
        "erase_requested": seeker.erase_requested,
        "withdrawn_at": stamp(seeker.withdrawn_at),
        "self_reinstatement_deadline": stamp(seeker.self_reinstatement_deadline),
        "invalid_since": stamp(seeker.invalid_since),
        "purge_due_at": stamp(seeker.purge_due_at) if invalid else None,
        "purged_at": stamp(seeker.purged_at),
        "unreachable_since": stamp(seeker.unreachable_since),
        "contact_attempts": seeker.contact_attempts,
        "registration_lapses_at": stamp(seeker.registration_lapses_at),
        "unreachable_lapses_at": stamp(seeker.unreachable_lapses_at),
        "timezone": seeker.policy.timezone,
    }


def test_each_accounts_row_agrees_with_the_aggregate_loaded_from_its_events(
    scenario: Scenario,
) -> None:
    with opened(scenario.db_url) as (ledger, projections):
        rows = projections.views["accounts"].query("SELECT * FROM accounts ORDER BY id")
        assert len(rows) == POPULATION + len(scenario.cli_accounts)
        statuses = set()
        for row in rows:
            seeker = ledger.get_seeker(UUID(row["id"]))
            expected = _expected_row(seeker)
            actual = {key: row[key] for key in expected}
            actual["erase_requested"] = bool(actual["erase_requested"])
            assert actual == expected, row["id"]
            statuses.add(seeker.status)
    # The population covers every state the sweep and the commands lead to.
    assert statuses == set(ACCOUNT_STATES)


def _history_cases(ledger: Any, seeker_id: UUID) -> list[dict[str, str]]:
    """No cut, a business-time cut, a recorded-time cut, both, a date alone."""
    events = ledger.stream(seeker_id)
    middle = events[len(events) // 2]
    early = events[len(events) // 3]
    return [
        {},
        {"as_of": middle.occurred_at.astimezone(TOKYO).isoformat()},
        {"known_at": middle.timestamp.astimezone(TOKYO).isoformat()},
        {
            "as_of": middle.occurred_at.astimezone(TOKYO).isoformat(),
            "known_at": early.timestamp.astimezone(TOKYO).isoformat(),
        },
        {"as_of": middle.occurred_at.astimezone(TOKYO).date().isoformat()},
    ]


def test_history_from_the_audit_trail_equals_a_rebuild_from_the_events(
    scenario: Scenario,
) -> None:
    with opened(scenario.db_url) as (ledger, projections):
        ids = [
            row["id"]
            for row in projections.views["accounts"].query(
                "SELECT id FROM accounts ORDER BY id"
            )
        ]
        sample = list(
            dict.fromkeys([*scenario.cli_accounts, *scenario.swept[:5], *ids[::25]])
        )
        checked = 0
        for text in sample:
            seeker_id = UUID(text)
            for case in _history_cases(ledger, seeker_id):
                history = ledger.history(seeker_id, **case)
                expected = [
                    history_entry_view(e, history.policy.zone) for e in history.entries
                ]
                options = [
                    *(["--as-of", case["as_of"]] if "as_of" in case else []),
                    *(["--known-at", case["known_at"]] if "known_at" in case else []),
                ]
                shown = succeed_json(["history", text, *options], scenario.db_url)
                # Who wrote each event is the chain's, not the events': the
                # CLI's history shows it, the ledger's rebuild has none.
                for event in shown["events"]:
                    event.pop("principal_verified")
                    assert event.pop("principal") is not None
                for event in expected:
                    assert event.pop("principal_verified") is False
                    assert event.pop("principal") is None
                assert shown == {"id": text, "events": expected}, (text, case)
                checked += len(expected)
    assert checked > 0


def _text_of(tables: Dump) -> str:
    return "\n".join(repr(row) for rows in tables.values() for row in rows)


def test_no_personal_data_reaches_any_projection_table(scenario: Scenario) -> None:
    kept_up = _text_of(dump(scenario.db_url))
    succeed_json(["projections", "rebuild"], scenario.db_url)
    rebuilt = _text_of(dump(scenario.db_url))
    for text in (kept_up, rebuilt):
        # The distinctive accounts are there (their non-personal skeleton) ...
        for seeker_id in scenario.cli_accounts:
            assert seeker_id in text
        # ... but not one of their personal strings.
        for secret in PERSONAL_STRINGS:
            assert secret not in text, f"personal data {secret!r} in a projection"
