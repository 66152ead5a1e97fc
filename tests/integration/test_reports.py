"""Report figures against hand-computed scenarios (SPEC §6), through
``seekers --json report NAME`` and ``seekers --json list``.

Every scenario is small enough to count on one's fingers; the expected rows
are written out in full, in the order the report gives them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.helpers import run_cli
from tests.integration.support import Account, succeed_json

TOKYO = ZoneInfo("Asia/Tokyo")


def report(db_url: str, name: str, *options: str) -> list[dict[str, Any]]:
    document = succeed_json(["report", name, *options], db_url)
    assert set(document) == {"report", "rows"}
    assert document["report"] == name
    rows: list[dict[str, Any]] = document["rows"]
    return rows


def schedule(account: Account, app: str, on: str, at: str, *extra: str) -> None:
    account.do("schedule-interview", app, "--on", on, *extra, at=at)


# -- withdrawals --------------------------------------------------------------


def _withdrawals_scenario(db_url: str) -> None:
    # March 2025 (Asia/Tokyo): job_found by phone twice, nothing ever applied.
    for requested, withdrawn in (
        ("2025-03-03T10:00", "2025-03-04T10:00"),
        ("2025-03-10T10:00", "2025-03-11T10:00"),
    ):
        account = Account.register(db_url, "workport", "2025-02-20T09:00")
        account.withdraw(requested, withdrawn, channel="phone", reason="job_found")
    # March: other_agency by email with an interview scheduled; withdrawn at
    # 23:30 on 31 March in Tokyo (still March there, 14:30 UTC).
    account = Account.register(db_url, "workport", "2025-02-20T09:00")
    account.do("apply", "--job", "Nurse", at="2025-02-21T09:00")
    schedule(account, "A1", "2025-04-10T10:00", "2025-02-22T09:00")
    withdrawn = account.withdraw(
        "2025-03-12T10:00", "2025-03-31T23:30", channel="email", reason="other_agency"
    )
    assert withdrawn["withdrawal"]["timing"] == "interview_scheduled"
    # April in Tokyo, though still 31 March in UTC.
    account = Account.register(db_url, "workport", "2025-02-20T09:00")
    account.withdraw("2025-03-25T10:00", "2025-04-01T00:30", reason="job_found")
    # April: a final-round interview scheduled, by app.
    account = Account.register(db_url, "workport", "2025-02-20T09:00")
    account.do("apply", "--job", "Accountant", at="2025-03-01T09:00")
    schedule(account, "A1", "2025-04-20T10:00", "2025-03-02T09:00", "--final")
    account.withdraw(
        "2025-04-02T10:00", "2025-04-03T10:00", channel="app", reason="other_agency"
    )
    # February: between selections (applied, then closed), by form.
    account = Account.register(db_url, "workport", "2025-01-20T09:00")
    account.do("apply", "--job", "Care worker", at="2025-01-21T09:00")
    account.do("close-application", "A1", "--outcome", "rejected", at="2025-02-01")
    account.withdraw(
        "2025-02-27T10:00", "2025-02-28T23:30", channel="form", reason="other"
    )


WITHDRAWAL_ROWS = [
    {
        "month": "2025-02",
        "policy": "workport",
        "reason": "other",
        "channel": "form",
        "timing": "between_selections",
        "count": 1,
    },
    {
        "month": "2025-03",
        "policy": "workport",
        "reason": "job_found",
        "channel": "phone",
        "timing": "no_applications",
        "count": 2,
    },
    {
        "month": "2025-03",
        "policy": "workport",
        "reason": "other_agency",
        "channel": "email",
        "timing": "interview_scheduled",
        "count": 1,
    },
    {
        "month": "2025-04",
        "policy": "workport",
        "reason": "job_found",
        "channel": "phone",
        "timing": "no_applications",
        "count": 1,
    },
    {
        "month": "2025-04",
        "policy": "workport",
        "reason": "other_agency",
        "channel": "app",
        "timing": "final_stage",
        "count": 1,
    },
]


def test_withdrawals_are_counted_by_month_reason_channel_and_timing(
    db_url: str,
) -> None:
    _withdrawals_scenario(db_url)

    assert report(db_url, "withdrawals") == WITHDRAWAL_ROWS
    march = WITHDRAWAL_ROWS[1:3]
    assert (
        report(db_url, "withdrawals", "--from", "2025-03-01", "--to", "2025-03-31")
        == march
    )
    assert report(db_url, "withdrawals", "--from", "2025-04-01") == WITHDRAWAL_ROWS[3:]
    assert report(db_url, "withdrawals", "--to", "2025-02-28") == WITHDRAWAL_ROWS[:1]
    assert report(db_url, "withdrawals", "--from", "2025-05-01") == []


def test_the_withdrawals_report_as_csv_and_as_a_table(db_url: str) -> None:
    _withdrawals_scenario(db_url)
    window = ["--from", "2025-03-01", "--to", "2025-03-31"]

    csv = run_cli(["report", "withdrawals", *window, "--format", "csv"], db_url=db_url)
    assert csv.code == 0, csv.stderr
    assert csv.stdout.splitlines() == [
        "month,policy,reason,channel,timing,count",
        "2025-03,workport,job_found,phone,no_applications,2",
        "2025-03,workport,other_agency,email,interview_scheduled,1",
    ]

    shown = run_cli(
        ["report", "withdrawals", *window, "--format", "table"], db_url=db_url
    )
    assert shown.code == 0, shown.stderr
    lines = [line.split() for line in shown.stdout.splitlines() if line.strip()]
    assert lines[0] == ["month", "policy", "reason", "channel", "timing", "count"]
    body = [line for line in lines[1:] if not set("".join(line)) <= {"-"}]
    assert body == [
        ["2025-03", "workport", "job_found", "phone", "no_applications", "2"],
        ["2025-03", "workport", "other_agency", "email", "interview_scheduled", "1"],
    ]


# -- reinstatements -----------------------------------------------------------


def test_reinstatements_by_mode_with_the_average_days_after_withdrawal(
    db_url: str,
) -> None:
    # HelloWork, self-service on day 10 (March).
    day10 = Account.register(db_url, "hellowork", "2025-02-01T09:00")
    day10.withdraw("2025-03-01T10:00", "2025-03-05T10:00", channel="web", reason=None)
    assert day10.do("reinstate", at="2025-03-15T09:00")["status"] == "active"
    # HelloWork, assisted on day 40 (March): 1 February → 13 March.
    day40 = Account.register(db_url, "hellowork", "2025-01-10T09:00")
    day40.withdraw(
        "2025-01-31T10:00", "2025-02-01T10:00", channel="counter", reason=None
    )
    day40.do("reinstate", "--assisted", at="2025-03-13T10:00")
    # HelloWork, self-service on day 30, the last day allowed (April).
    day30 = Account.register(db_url, "hellowork", "2025-03-01T09:00")
    day30.withdraw("2025-03-19T10:00", "2025-03-20T18:00", channel="web", reason=None)
    day30.do("reinstate", at="2025-04-19T09:00")
    # HelloWork, day 31: self-service refused, staff reinstate (April).
    day31 = Account.register(db_url, "hellowork", "2025-02-01T09:00")
    day31.withdraw("2025-02-28T10:00", "2025-03-01T10:00", channel="web", reason=None)
    refused = run_cli(
        ["reinstate", day31.id, "--at", "2025-04-01T09:00"], db_url=db_url
    )
    assert refused.code == 4, refused.stderr
    day31.do("reinstate", "--assisted", at="2025-04-01T09:00")
    # Workport, assisted on days 2 and 7 (April): average 4.5.
    for withdrawn, reinstated in (
        ("2025-04-01T10:00", "2025-04-03T09:00"),
        ("2025-03-30T23:00", "2025-04-06T01:00"),
    ):
        account = Account.register(db_url, "workport", "2025-03-01T09:00")
        account.withdraw("2025-03-29T10:00", withdrawn)
        account.do("reinstate", "--assisted", at=reinstated)

    rows = [
        ("2025-03", "hellowork", "assisted", 1, 40.0),
        ("2025-03", "hellowork", "self_service", 1, 10.0),
        ("2025-04", "hellowork", "assisted", 1, 31.0),
        ("2025-04", "hellowork", "self_service", 1, 30.0),
        ("2025-04", "workport", "assisted", 2, 4.5),
    ]
    keys = ("month", "policy", "mode", "count", "avg_days_after_withdrawal")
    expected = [dict(zip(keys, row, strict=True)) for row in rows]
    assert report(db_url, "reinstatements") == expected
    assert report(db_url, "reinstatements", "--to", "2025-03-31") == expected[:2]


# -- declines -----------------------------------------------------------------


def test_a_last_minute_email_decline_is_flagged_and_a_48_hour_phone_decline_is_not(
    db_url: str,
) -> None:
    first = Account.register(db_url, "workport", "2025-03-01T08:00")
    first.do("apply", "--job", "Nurse", at="2025-03-01T09:00")
    schedule(first, "A1", "2025-03-10T10:00", "2025-03-02T09:00")
    first.do("decline-interview", "A1", "--channel", "email", at="2025-03-09T20:00")
    first.do("apply", "--job", "Care worker", at="2025-03-10T09:00")
    schedule(first, "A2", "2025-03-20T10:00", "2025-03-11T09:00")
    first.do("decline-interview", "A2", "--channel", "phone", at="2025-03-18T10:00")

    second = Account.register(db_url, "workport", "2025-03-01T08:00")
    second.do("apply", "--job", "Accountant", at="2025-03-01T09:00")
    second.do("apply", "--job", "Sales associate", at="2025-03-01T09:05")
    schedule(second, "A1", "2025-03-21T10:00", "2025-03-02T09:00")
    schedule(second, "A2", "2025-03-25T10:00", "2025-03-02T09:05")
    # Exactly 24 hours' notice: not last-minute; 23 h 59 min: last-minute.
    second.do("decline-interview", "A1", "--channel", "phone", at="2025-03-20T10:00")
    second.do("decline-interview", "A2", "--channel", "phone", at="2025-03-24T10:01")

    # 08:00 on 1 April in Tokyo is still 31 March in UTC: an April decline.
    third = Account.register(db_url, "hellowork", "2025-03-01T08:00")
    third.do("apply", "--job", "Backend engineer", at="2025-03-01T09:00")
    schedule(third, "A1", "2025-04-03T08:00", "2025-03-02T09:00")
    third.do("decline-interview", "A1", "--channel", "email", at="2025-04-01T08:00")

    rows = [
        ("2025-03", "workport", "email", True, 1, True),
        ("2025-03", "workport", "phone", False, 2, False),
        ("2025-03", "workport", "phone", True, 1, False),
        ("2025-04", "hellowork", "email", False, 1, False),
    ]
    keys = ("month", "policy", "channel", "last_minute", "count", "flagged")
    expected = [dict(zip(keys, row, strict=True)) for row in rows]
    assert report(db_url, "declines") == expected
    assert (
        report(db_url, "declines", "--from", "2025-04-01", "--to", "2025-04-30")
        == (expected[3:])
    )


# -- status and list ------------------------------------------------------------


def test_status_counts_by_policy_and_the_list_of_accounts_in_a_status(
    db_url: str,
) -> None:
    active = [
        Account.register(db_url, "hellowork", f"2025-03-0{n}T09:00") for n in (1, 2)
    ]
    lapsed = Account.register(db_url, "hellowork", "2025-03-01T09:00")
    lapsed.do("lapse", at="2025-03-05T09:00")
    paused = Account.register(db_url, "workport", "2025-03-01T09:00")
    paused.do("pause", at="2025-03-06T09:00")
    unreachable = Account.register(db_url, "workport", "2025-03-01T09:00")
    unreachable.do("mark-unreachable", at="2025-03-07T09:00")
    leaving = Account.register(db_url, "workport", "2025-03-01T09:00")
    leaving.do(
        "request-withdrawal", "--channel", "form", "--reason", "other", at="2025-03-08"
    )
    erased = Account.register(db_url, "pasona", "2025-03-01T09:00")
    erased.withdraw("2025-03-09T09:00", "2025-03-10T09:00", channel="web")
    Account.register(db_url, "pasona", "2025-03-01T09:00")

    assert report(db_url, "status") == [
        {"policy": "hellowork", "status": "active", "count": 2},
        {"policy": "hellowork", "status": "lapsed", "count": 1},
        {"policy": "pasona", "status": "active", "count": 1},
        {"policy": "pasona", "status": "purged", "count": 1},
        {"policy": "workport", "status": "paused", "count": 1},
        {"policy": "workport", "status": "unreachable", "count": 1},
        {"policy": "workport", "status": "withdrawal_requested", "count": 1},
    ]

    listed = succeed_json(
        ["list", "--status", "active", "--policy", "hellowork"], db_url
    )
    assert set(listed) == {"accounts"}
    assert [row["id"] for row in listed["accounts"]] == [a.id for a in active]
    for row, since in zip(listed["accounts"], ("01", "02"), strict=True):
        assert {"id", "policy", "status", "status_since"} <= set(row)
        assert (row["policy"], row["status"]) == ("hellowork", "active")
        assert row["status_since"] == f"2025-03-{since}T09:00:00+09:00"
    purged = succeed_json(["list", "--status", "purged"], db_url)["accounts"]
    assert [(row["id"], row["policy"]) for row in purged] == [(erased.id, "pasona")]
    everyone = succeed_json(["list"], db_url)["accounts"]
    assert len(everyone) == 8


# -- retention ------------------------------------------------------------------


def test_the_retention_queue_lists_when_each_invalid_account_will_be_purged(
    db_url: str,
) -> None:
    hellowork = Account.register(db_url, "hellowork", "2024-04-01T09:00")
    hellowork.do("lapse", at="2024-05-10T09:00")
    workport = Account.register(db_url, "workport", "2024-06-01T09:00")
    workport.withdraw("2024-06-30T09:00", "2024-07-01T12:00")
    Account.register(db_url, "workport", "2024-06-01T09:00")  # active: not queued
    pasona = Account.register(db_url, "pasona", "2024-06-01T09:00")
    pasona.withdraw("2024-06-30T09:00", "2024-07-01T12:00", channel="web")  # erased

    queued_workport = {
        "id": workport.id,
        "policy": "workport",
        "status": "withdrawn",
        "invalid_since": "2024-07-01T12:00:00+09:00",
        "purge_due_at": "2027-07-01T12:00:00+09:00",
    }
    queued_hellowork = {
        "id": hellowork.id,
        "policy": "hellowork",
        "status": "lapsed",
        "invalid_since": "2024-05-10T09:00:00+09:00",
        "purge_due_at": "2029-05-10T09:00:00+09:00",
    }
    assert report(db_url, "retention") == [queued_workport, queued_hellowork]
    assert report(db_url, "retention", "--from", "2028-01-01") == [queued_hellowork]
    assert report(db_url, "retention", "--to", "2027-12-31") == [queued_workport]


# -- unreachable ------------------------------------------------------------------


def _today() -> date:
    return datetime.now(TOKYO).date()


def test_unreachable_seekers_with_days_attempts_and_open_applications(
    db_url: str,
) -> None:
    waiting = Account.register(db_url, "workport", "2025-02-01T09:00")
    waiting.do("apply", "--job", "Nurse", at="2025-02-02T09:00")
    waiting.do("apply", "--job", "Accountant", at="2025-02-03T09:00")
    waiting.do(
        "close-application", "A2", "--outcome", "rejected", at="2025-02-04T09:00"
    )
    waiting.do("mark-unreachable", at="2025-03-01T10:00")
    waiting.do(
        "contact", "--channel", "phone", "--outcome", "no_answer", at="2025-03-02T10:00"
    )
    waiting.do(
        "contact", "--channel", "email", "--outcome", "no_answer", at="2025-03-05T10:00"
    )
    silent = Account.register(db_url, "pasona", "2025-02-01T09:00")
    silent.do("mark-unreachable", at="2025-03-10T23:30")
    back = Account.register(db_url, "workport", "2025-02-01T09:00")
    back.do("mark-unreachable", at="2025-03-01T09:00")
    back.do(
        "contact", "--channel", "phone", "--outcome", "reached", at="2025-03-03T09:00"
    )

    before = _today()
    rows = report(db_url, "unreachable")
    after = _today()

    assert [
        {key: value for key, value in row.items() if key != "days"} for row in rows
    ] == [
        {
            "id": waiting.id,
            "policy": "workport",
            "unreachable_since": "2025-03-01T10:00:00+09:00",
            "attempts": 2,
            "open_applications": 1,
        },
        {
            "id": silent.id,
            "policy": "pasona",
            "unreachable_since": "2025-03-10T23:30:00+09:00",
            "attempts": 0,
            "open_applications": 0,
        },
    ]
    # Calendar days in Tokyo from the day it became unreachable to today.
    for row, since in zip(rows, (date(2025, 3, 1), date(2025, 3, 10)), strict=True):
        assert row["days"] in {(before - since).days, (after - since).days}
