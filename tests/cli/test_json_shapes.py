"""The ``--json`` documents of SPEC §5: register, apply, the recording
commands, show (also ``--as-of`` / ``--known-at``), history and policies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.cli.steps import (
    BIRTH_DATE,
    EMAIL,
    NAME,
    PERSONAL_FIELDS,
    PHONE,
    Account,
    fail,
    register_args,
    succeed_json,
)

SHOW_KEYS = {"id", "policy", "status", "status_since", "version", "applications"}
APPLICATION_KEYS = {"id", "job", "route", "status"}
HISTORY_EVENT_KEYS = {
    "version",
    "type",
    "occurred_at",
    "recorded_at",
    "actor",
    "from_state",
    "to_state",
    "backdated",
}


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None, f"{text} has no UTC offset"
    return value


def _personal(document: dict[str, Any]) -> dict[str, Any]:
    return {key: document[key] for key in PERSONAL_FIELDS}


# ---------------------------------------------------------------------------
# register and apply
# ---------------------------------------------------------------------------


def test_register_prints_the_new_id_and_status_active(db_url: str) -> None:
    account = Account(db_url, "workport", "--phone", PHONE, "--advisor", "Sato")
    document = account.registered

    assert uuid.UUID(document["id"])
    assert document["status"] == "active"
    assert document["policy"] == "workport"
    assert document["version"] == 1
    # A date alone means 00:00 in the policy's time zone (Asia/Tokyo).
    assert _instant(document["status_since"]) == datetime.fromisoformat(
        "2025-01-15T00:00:00+09:00"
    )
    assert _personal(document) == {
        "name": NAME,
        "email": EMAIL,
        "birth_date": BIRTH_DATE,
        "phone": PHONE,
    }
    assert document["events"] == ["Registered"]


def test_register_twice_gives_two_accounts(db_url: str) -> None:
    first = Account(db_url)
    second = Account(db_url, "workport", "--email", "second.seeker@example.com")
    assert first.id != second.id


def test_apply_prints_the_application_number(db_url: str) -> None:
    account = Account(db_url, "hellowork")
    first = account.do("apply", "--job", "Line cook", "--route", "self")
    second = account.do("apply", "--job", "Baker")

    assert first["application"] == "A1"
    assert second["application"] == "A2"
    assert second["events"] == ["Applied"]
    assert [
        {key: a[key] for key in APPLICATION_KEYS} for a in second["applications"]
    ] == [
        {"id": "A1", "job": "Line cook", "route": "self", "status": "applied"},
        {"id": "A2", "job": "Baker", "route": "agency", "status": "applied"},
    ]


# ---------------------------------------------------------------------------
# every other recording command: the show document plus "events"
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Recording:
    command: tuple[str, ...]
    events: list[str]
    status: str
    policy: str = "workport"
    before: list[tuple[str, ...]] = field(default_factory=list)
    register: tuple[str, ...] = ()


_APPLY = ("apply", "--job", "Line cook")
_SCHEDULE = ("schedule-interview", "A1", "--on", "2025-06-02T10:00", "--final")
_REQUEST = ("request-withdrawal", "--channel", "phone", "--reason", "job_found")

RECORDINGS: dict[str, Recording] = {
    "schedule-interview": Recording(
        _SCHEDULE, ["InterviewScheduled"], "active", before=[_APPLY]
    ),
    "decline-interview": Recording(
        ("decline-interview", "A1", "--channel", "email", "--note", "flu"),
        ["InterviewDeclined"],
        "active",
        before=[_APPLY, _SCHEDULE],
    ),
    "close-application": Recording(
        ("close-application", "A1", "--outcome", "hired"),
        ["ApplicationClosed"],
        "active",
        before=[_APPLY],
    ),
    "pause": Recording(
        ("pause", "--reason", "caring for a parent"), ["Paused"], "paused"
    ),
    "resume": Recording(("resume",), ["Resumed"], "active", before=[("pause",)]),
    "contact-no-answer": Recording(
        ("contact", "--channel", "phone", "--outcome", "no_answer"),
        ["ContactAttempted"],
        "active",
    ),
    "mark-unreachable": Recording(
        ("mark-unreachable",), ["MarkedUnreachable"], "unreachable"
    ),
    "restore-contact": Recording(
        ("restore-contact",),
        ["ContactRestored"],
        "active",
        before=[("mark-unreachable",)],
    ),
    "contact-reached-while-unreachable": Recording(
        ("contact", "--channel", "email", "--outcome", "reached"),
        ["ContactAttempted", "ContactRestored"],
        "active",
        before=[("mark-unreachable",)],
    ),
    "contact-unanswered-while-unreachable": Recording(
        ("contact", "--channel", "phone", "--outcome", "no_answer"),
        ["ContactAttempted"],
        "unreachable",
        before=[("mark-unreachable",)],
    ),
    "lapse": Recording(("lapse",), ["Lapsed"], "lapsed"),
    "reactivate": Recording(
        ("reactivate",), ["Reactivated"], "active", before=[("lapse",)]
    ),
    "change-advisor": Recording(
        ("change-advisor", "--advisor", "Suzuki"), ["AdvisorChanged"], "active"
    ),
    "request-withdrawal": Recording(
        _REQUEST, ["WithdrawalRequested"], "withdrawal_requested"
    ),
    "cancel-withdrawal": Recording(
        ("cancel-withdrawal",), ["WithdrawalCancelled"], "active", before=[_REQUEST]
    ),
    "withdraw-declining-open-applications": Recording(
        ("withdraw",),
        ["ApplicationClosed", "ApplicationClosed", "Withdrawn"],
        "withdrawn",
        before=[_APPLY, ("apply", "--job", "Baker"), _SCHEDULE, _REQUEST],
    ),
    "withdraw-with-erasure-requested": Recording(
        ("withdraw",),
        ["Withdrawn", "Purged"],
        "purged",
        before=[(*_REQUEST, "--erase-data")],
    ),
    "pasona-withdraw": Recording(
        ("withdraw",),
        ["ApplicationClosed", "Withdrawn", "Purged"],
        "purged",
        policy="pasona",
        before=[
            _APPLY,
            ("request-withdrawal", "--channel", "web", "--reason", "other"),
        ],
    ),
    "pasona-withdraw-by-email-with-identity-check": Recording(
        ("withdraw",),
        ["Withdrawn", "Purged"],
        "purged",
        policy="pasona",
        register=("--advisor", "Sato"),
        before=[
            (
                "request-withdrawal",
                "--channel",
                "email",
                "--reason",
                "job_found",
                "--verify-name",
                "YAMADA  taro",
                "--verify-birth-date",
                BIRTH_DATE,
            )
        ],
    ),
    "reinstate-assisted": Recording(
        ("reinstate", "--assisted"),
        ["Reinstated"],
        "active",
        before=[_REQUEST, ("withdraw",)],
    ),
    "reinstate-self-service": Recording(
        ("reinstate",),
        ["Reinstated"],
        "active",
        policy="hellowork",
        before=[("request-withdrawal", "--channel", "counter"), ("withdraw",)],
    ),
    "purge": Recording(
        ("purge", "--reason", "deletion_request"),
        ["Purged"],
        "purged",
        before=[_REQUEST, ("withdraw",)],
    ),
}


@pytest.mark.parametrize("name", list(RECORDINGS))
def test_recording_command_prints_the_account_and_its_events(
    db_url: str, name: str
) -> None:
    case = RECORDINGS[name]
    account = Account(db_url, case.policy, *case.register)
    for step in case.before:
        account.do(*step)
    version_before = account.show()["version"]

    document = account.do(*case.command)

    assert document["events"] == case.events
    assert document["status"] == case.status
    assert document["version"] == version_before + len(case.events)
    shown = account.show()
    assert set(shown) >= SHOW_KEYS
    assert {key: document[key] for key in shown} == shown


def test_pasona_withdrawal_declines_applications_and_erases_personal_data(
    db_url: str,
) -> None:
    account = Account(db_url, "pasona", "--phone", PHONE)
    account.do("apply", "--job", "Analyst", "--route", "self")
    account.do("request-withdrawal", "--channel", "web", "--reason", "job_found")

    document = account.do("withdraw")

    assert document["events"] == ["ApplicationClosed", "Withdrawn", "Purged"]
    assert document["status"] == "purged"
    assert _personal(document) == dict.fromkeys(PERSONAL_FIELDS)
    assert document["applications"][0]["status"] == "closed"
    assert document["applications"][0]["outcome"] == "declined_on_withdrawal"
    assert document["purge_reason"] == "erased_on_withdrawal"


# ---------------------------------------------------------------------------
# show
# ---------------------------------------------------------------------------


def test_show_has_the_account_and_its_applications(db_url: str) -> None:
    account = Account(db_url, "workport", "--phone", PHONE)
    account.do("apply", "--job", "Line cook", "--route", "self")
    account.do("schedule-interview", "A1", "--on", "2025-06-02T10:00", "--round", "2")

    shown = account.show()

    assert set(shown) >= SHOW_KEYS
    assert shown["id"] == account.id
    assert shown["policy"] == "workport"
    assert shown["status"] == "active"
    assert shown["version"] == 3
    assert _instant(shown["status_since"]) == datetime.fromisoformat(
        "2025-01-15T00:00:00+09:00"
    )
    [application] = shown["applications"]
    assert set(application) >= APPLICATION_KEYS
    assert {key: application[key] for key in APPLICATION_KEYS} == {
        "id": "A1",
        "job": "Line cook",
        "route": "self",
        "status": "interview_scheduled",
    }
    assert _personal(shown) == {
        "name": NAME,
        "email": EMAIL,
        "birth_date": BIRTH_DATE,
        "phone": PHONE,
    }
    assert "events" not in shown


def test_show_keeps_personal_fields_until_purge_then_null(db_url: str) -> None:
    account = Account(db_url, "workport", "--phone", PHONE)
    account.do(*_REQUEST)
    account.do("withdraw")
    assert account.show()["name"] == NAME
    assert account.show()["phone"] == PHONE

    account.do("purge", "--reason", "deletion_request")

    shown = account.show()
    assert shown["status"] == "purged"
    assert _personal(shown) == dict.fromkeys(PERSONAL_FIELDS)


def test_show_as_of_a_date_between_events_shows_the_earlier_state(
    db_url: str,
) -> None:
    account = Account(db_url, "workport")
    account.do("pause", at="2025-02-01")
    account.do("resume", at="2025-03-01")

    between = account.show("--as-of", "2025-02-15")
    assert between["status"] == "paused"
    assert between["version"] == 2
    assert _instant(between["status_since"]) == datetime.fromisoformat(
        "2025-02-01T00:00:00+09:00"
    )
    before_pause = account.show("--as-of", "2025-01-31")
    assert (before_pause["status"], before_pause["version"]) == ("active", 1)
    assert account.show()["version"] == 3


def test_show_as_of_reads_business_time_in_the_policys_time_zone(
    db_url: str,
) -> None:
    account = Account(db_url, "workport")
    account.do("pause", at="2025-02-01")  # 2025-01-31T15:00Z
    assert account.show("--as-of", "2025-01-31T14:59:59Z")["status"] == "active"
    assert account.show("--as-of", "2025-01-31T15:00:00Z")["status"] == "paused"


def test_show_known_at_reads_what_had_been_recorded(db_url: str) -> None:
    account = Account(db_url, "workport")
    account.do("apply", "--job", "Line cook")
    first_recorded = account.history()["events"][0]["recorded_at"]

    then = account.show("--known-at", first_recorded)
    assert then["version"] == 1
    assert then["applications"] == []
    now = datetime.now(UTC).isoformat()
    assert account.show("--known-at", now)["version"] == 2
    both = account.show("--known-at", now, "--as-of", "2025-01-15T12:00")
    assert both["version"] == 1


def test_show_known_at_before_the_first_event_is_not_found(db_url: str) -> None:
    account = Account(db_url, "workport")
    result = fail(
        ["show", account.id, "--known-at", "2025-01-01"], db_url, 3, as_json=True
    )
    assert result.error()["error"]["code"] == 3


def test_show_as_of_before_a_purge_has_no_personal_data(db_url: str) -> None:
    account = Account(db_url, "workport", "--phone", PHONE)
    account.do(*_REQUEST, at="2025-01-16")
    account.do("withdraw", at="2025-01-17")
    withdrawn_recorded = account.history()["events"][-1]["recorded_at"]
    account.do("purge", "--reason", "deletion_request", at="2025-01-18")

    requested = account.show("--as-of", "2025-01-16T12:00")
    assert requested["status"] == "withdrawal_requested"
    assert _personal(requested) == dict.fromkeys(PERSONAL_FIELDS)
    withdrawn = account.show("--known-at", withdrawn_recorded)
    assert withdrawn["status"] == "withdrawn"
    assert _personal(withdrawn) == dict.fromkeys(PERSONAL_FIELDS)


# ---------------------------------------------------------------------------
# history
# ---------------------------------------------------------------------------


def test_history_lists_every_event_with_times_actor_and_states(db_url: str) -> None:
    account = Account(db_url, "workport", actor="clerk:ito")
    account.do("mark-unreachable", actor="advisor:sato")
    account.do("contact", "--channel", "phone", "--outcome", "reached")

    trail = account.history()

    assert set(trail) >= {"id", "events"}
    assert trail["id"] == account.id
    events = trail["events"]
    for event in events:
        assert set(event) >= HISTORY_EVENT_KEYS
        _instant(event["occurred_at"])
        _instant(event["recorded_at"])
    assert [
        (e["version"], e["type"], e["actor"], e["from_state"], e["to_state"])
        for e in events
    ] == [
        (1, "Registered", "clerk:ito", None, "active"),
        (2, "MarkedUnreachable", "advisor:sato", "active", "unreachable"),
        (3, "ContactAttempted", "tester", "unreachable", "unreachable"),
        (4, "ContactRestored", "tester", "unreachable", "active"),
    ]
    assert _instant(events[1]["occurred_at"]) == datetime.fromisoformat(
        "2025-01-16T00:00:00+09:00"
    )


def test_history_marks_events_recorded_over_24_hours_late_as_backdated(
    db_url: str,
) -> None:
    now = datetime.now(UTC)
    registered_at = (now - timedelta(days=3)).isoformat()
    account_id = succeed_json(register_args("workport", at=registered_at), db_url)["id"]

    def record(*args: str, at: datetime | None = None) -> None:
        when = [] if at is None else ["--at", at.isoformat()]
        succeed_json([args[0], account_id, *args[1:], *when], db_url)

    record(
        "contact",
        "--channel",
        "phone",
        "--outcome",
        "no_answer",
        at=now - timedelta(hours=25),
    )
    record("apply", "--job", "Line cook", at=now - timedelta(hours=23))
    record("schedule-interview", "A1", "--on", (now + timedelta(days=7)).isoformat())

    events = succeed_json(["history", account_id], db_url)["events"]
    assert [(e["type"], e["backdated"]) for e in events] == [
        ("Registered", True),
        ("ContactAttempted", True),
        ("Applied", False),
        ("InterviewScheduled", False),
    ]
    last = events[-1]
    lag = _instant(last["recorded_at"]) - _instant(last["occurred_at"])
    assert abs(lag) < timedelta(minutes=1)


def test_history_leaves_out_personal_notes(db_url: str) -> None:
    account = Account(db_url, "workport")
    account.do("pause", "--reason", "caring for a parent")
    trail = succeed_json(["history", account.id], db_url)
    assert "caring for a parent" not in str(trail)
    assert NAME not in str(trail)


def test_history_as_of_stops_at_the_business_time(db_url: str) -> None:
    account = Account(db_url, "workport")
    account.do("pause", at="2025-02-01")
    account.do("resume", at="2025-03-01")
    types = [e["type"] for e in account.history("--as-of", "2025-02-15")["events"]]
    assert types == ["Registered", "Paused"]


# ---------------------------------------------------------------------------
# policies
# ---------------------------------------------------------------------------


def test_policies_lists_the_three_presets(db_url: str) -> None:
    document = succeed_json(["policies"], db_url)
    names = [policy["name"] for policy in document["policies"]]
    assert sorted(names) == ["hellowork", "pasona", "workport"]
