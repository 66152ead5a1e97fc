"""Shared by the integration tests: projection dumps, the CLI as a user runs it
(in-process and as a real subprocess), and the invariants every projection
state must satisfy."""

from __future__ import annotations

import itertools
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from projections.runner import Projections
from projections.schema import SHADOW
from services.ledger import SeekerLedger
from tests.helpers import ledger_for, run_cli, seekers_env, seekers_script

PROJECTION_NAMES = ("accounts", "audit_trail")
"""The ledger's projections (SPEC §6): the accounts, whose view also holds the
report tables, and the audit trail."""

PROJECTION_TABLES: dict[str, tuple[str, str]] = {
    # table: (the projection whose view holds it, its primary key)
    "accounts": ("accounts", "id"),
    "report_status": ("accounts", "policy, status"),
    "report_withdrawals": ("accounts", "month, policy, reason, channel, timing"),
    "report_reinstatements": ("accounts", "month, policy, mode"),
    "report_declines": ("accounts", "month, policy, channel, last_minute"),
    "audit_trail": ("audit_trail", "notification_id"),
}

Dump = dict[str, list[dict[str, Any]]]


@contextmanager
def opened(db_url: str) -> Iterator[tuple[SeekerLedger, Projections]]:
    """The application and its projections on the store, closed afterwards."""
    ledger = ledger_for(db_url)
    try:
        yield ledger, Projections(ledger)
    finally:
        ledger.close()


def dump_tables(projections: Projections) -> Dump:
    """Every projection table, all rows, sorted by primary key."""
    return {
        table: projections.views[view].query(f"SELECT * FROM {table} ORDER BY {key}")
        for table, (view, key) in PROJECTION_TABLES.items()
    }


def dump_shadow(projections: Projections) -> Dump:
    """A rebuild's shadow tables (left by a rebuild that was killed), as
    ``dump_tables`` reads the live ones."""
    return {
        table: projections.views[view].query(
            f"SELECT * FROM {table}{SHADOW} ORDER BY {key}"
        )
        for table, (view, key) in PROJECTION_TABLES.items()
    }


def dump(db_url: str) -> Dump:
    with opened(db_url) as (_, projections):
        return dump_tables(projections)


def clean_rebuild(db_url: str) -> Dump:
    """Rebuild every projection from zero in-process, then dump."""
    with opened(db_url) as (_, projections):
        projections.rebuild()
        return dump_tables(projections)


def catch_up(db_url: str) -> None:
    with opened(db_url) as (_, projections):
        projections.catch_up()


def reset(db_url: str, name: str | None = None) -> None:
    """Empty the projections and forget their positions (a rebuild's first
    step, without the catch-up)."""
    with opened(db_url) as (ledger, projections):
        for each in projections.select(name):
            view = projections.views[each]
            with view.writing() as (cursor, _):
                view.reset_in(cursor, ledger.name)


def all_notifications(ledger: SeekerLedger) -> list[Any]:
    """Every stored event of the log, as stored, in order."""
    found: list[Any] = []
    while True:
        start = found[-1].id + 1 if found else 1
        page = ledger.recorder.select_notifications(start=start, limit=5000)
        if not page:
            return found
        found.extend(page)


def notification_ids(ledger: SeekerLedger) -> list[int]:
    """The id of every event in the log, in order."""
    return [notification.id for notification in all_notifications(ledger)]


def assert_tables_equal(actual: Dump, expected: Dump) -> None:
    """Table by table, so a failure names the table and the first difference."""
    assert list(actual) == list(expected)
    for table in expected:
        got, want = actual[table], expected[table]
        assert len(got) == len(want), (
            f"{table}: {len(got)} rows, rebuild has {len(want)}"
        )
        for index, (row, rebuilt) in enumerate(zip(got, want, strict=True)):
            assert row == rebuilt, (
                f"{table} row {index} differs from the rebuild: {row} != {rebuilt}"
            )


def assert_exactly_once(db_url: str, tables: Dump) -> None:
    """No event missing, none counted twice: one audit row per event in the log,
    one accounts row per registration, status counts summing to the accounts."""
    with opened(db_url) as (ledger, projections):
        ids = notification_ids(ledger)
        head = projections.head()
        positions = {
            name: projections.status(name).position for name in projections.names
        }
    assert ids and ids[-1] == head
    assert positions == dict.fromkeys(positions, head)
    audit = tables["audit_trail"]
    assert len(audit) == len(ids)
    assert [row["notification_id"] for row in audit] == ids
    per_account = Counter(row["account"] for row in audit)
    registered = Counter(row["account"] for row in audit if row["type"] == "Registered")
    assert set(registered.values()) == {1}
    accounts = tables["accounts"]
    assert sorted(row["id"] for row in accounts) == sorted(registered)
    for row in accounts:
        # version N means the account's stream holds N events, each counted once.
        assert row["version"] == per_account[row["id"]], row["id"]
    assert sum(row["count"] for row in tables["report_status"]) == len(accounts)
    assert all(row["count"] >= 0 for row in tables["report_status"])


def popen_seekers(db_url: str, *args: str) -> subprocess.Popen[str]:
    """``seekers --db URL --json ARGS`` as a real, separate process."""
    env = seekers_env()
    env["SEEKERS_ACTOR"] = "operator:integration"
    return subprocess.Popen(
        [seekers_script(), "--db", db_url, "--json", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 120) -> str:
    """Wait for a subprocess that must succeed; its stdout."""
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"exit {process.returncode}: {err}"
    return out


def succeed_json(args: list[str], db_url: str, *, actor: str = "tester") -> Any:
    """``seekers --json ARGS`` in-process; it must exit 0."""
    result = run_cli(["--json", *args], db_url=db_url, actor=actor)
    assert result.code == 0, f"{args}: exit {result.code}: {result.stderr}"
    return result.json()


def wait_until(
    condition: Callable[[], bool], *, timeout: float, interval: float = 0.002
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


_emails = itertools.count(1)


@dataclass
class Account:
    """One account driven through the CLI (``--json``) with explicit ``--at``
    times; every registration has its own name and email."""

    db_url: str
    id: str

    @classmethod
    def register(cls, db_url: str, policy: str, at: str, *extra: str) -> Account:
        number = next(_emails)
        document = succeed_json(
            [
                "register",
                "--name",
                f"Kobayashi Aoi {number}",
                "--email",
                f"aoi.kobayashi.{number}@example.jp",
                "--birth-date",
                "1988-08-08",
                "--policy",
                policy,
                "--at",
                at,
                *extra,
            ],
            db_url,
        )
        assert document["status"] == "active"
        return cls(db_url, document["id"])

    def do(self, command: str, *options: str, at: str) -> Any:
        return succeed_json([command, self.id, *options, "--at", at], self.db_url)

    def show(self) -> Any:
        return succeed_json(["show", self.id], self.db_url)

    def withdraw(
        self,
        requested_at: str,
        withdrawn_at: str,
        *,
        channel: str = "phone",
        reason: str | None = "job_found",
    ) -> Any:
        options = ["--channel", channel, *(["--reason", reason] if reason else [])]
        self.do("request-withdrawal", *options, at=requested_at)
        return self.do("withdraw", at=withdrawn_at)
