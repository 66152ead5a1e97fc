"""Many operators at once, on PostgreSQL (SPEC §9, §6, §5).

Concurrent commands on one account never lose an event or break a rule: the
store's optimistic concurrency check rejects the loser, which reloads and
retries once, then reports a conflict (exit 5). Projections stay exactly
once whoever catches them up.

Every process here is real: 16, then 64 operators (``tests/integration/
stress_driver.py``) hammer fifty accounts through the CLI for ten seconds,
each checking after every command that returned that the projections hold
it already; several ``seekers projections catch-up`` race over one log.

These tests take the ``pg_url`` fixture, a fresh database on the PostgreSQL
server of the run (rather than ``db_url``, whose SQLite half would have to be
skipped, and a skip fails the run under CI).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from domain.replay import replay_violations
from integrity.database import AuditLog
from projections.runner import Projections
from services.ledger import SeekerLedger
from services.simulation import simulate
from tests.helpers import ledger_for, run_cli, seekers_env, seekers_script
from tests.integration.stress_driver import COMMANDS as STRESS_COMMANDS
from tests.integration.support import (
    PROJECTION_NAMES,
    Dump,
    all_notifications,
    assert_tables_equal,
    dump_tables,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNTS = 50
OPERATORS = (16, 64)
SECONDS = 10.0
HOT_ACCOUNTS = 3
HOT_SHARE = 0.6
"""This share of the commands goes to the first few accounts, so that
operators collide; the rest spread over all fifty."""


# -- helpers -----------------------------------------------------------------


def assert_exactly_once(ledger: SeekerLedger, projections: Projections) -> Dump:
    """Projections at the head, equal to a rebuild from zero, one audit row per
    stored event. Returns the rebuilt dump."""
    notifications = all_notifications(ledger)
    head = projections.head()
    # PostgreSQL ids may have gaps (an insert that lost a race used one up).
    assert notifications and notifications[-1].id == head
    for name in projections.names:
        assert projections.status(name).position == head, name
    live = dump_tables(projections)
    projections.rebuild()
    rebuilt = dump_tables(projections)
    assert_tables_equal(live, rebuilt)
    audit = live["audit_trail"]
    assert len(audit) == len(notifications)
    assert [row["notification_id"] for row in audit] == [n.id for n in notifications]
    return rebuilt


def child_env() -> dict[str, str]:
    env = seekers_env()  # keeps SEEKERS_MASTER_KEY
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    return env


SETUP_EVENTS = 2
"""Per account, before the operators start: registered, and one application.

The application matters: ``close-application`` needs one to close, and the
driver turns a close with nothing to close into an ``apply``. With 64
operators a run issues ~200 commands, mostly early, when fresh accounts had
no application yet; a run once drew no real close at all and failed the
"every command ran" check."""


def register_workport(db_url: str, count: int) -> list[str]:
    """``count`` Workport seekers, each with one open application."""
    ids = []
    for number in range(count):
        result = run_cli(
            [
                "--json",
                "register",
                "--name",
                f"Stress Seeker {number}",
                "--email",
                f"stress.{number}@example.jp",
                "--birth-date",
                "1990-04-01",
                "--policy",
                "workport",
                "--advisor",
                "Kato",
                "--channel",
                "app",
            ],
            db_url=db_url,
            actor="stress:setup",
        )
        assert result.code == 0, result.stderr
        account = result.json()["id"]
        applied = run_cli(
            ["--json", "apply", account, "--job", "Setup job", "--route", "agency"],
            db_url=db_url,
            actor="stress:setup",
        )
        assert applied.code == 0, applied.stderr
        ids.append(account)
    return ids


def run_operators(
    db_url: str, accounts: list[str], folder: Path, operators: int
) -> list[dict[str, Any]]:
    """Start the operators together, wait for all of them; their command logs."""
    processes = []
    logs = []
    for worker in range(operators):
        log = folder / f"operator-{worker}.jsonl"
        config = folder / f"operator-{worker}.json"
        config.write_text(
            json.dumps(
                {
                    "db_url": db_url,
                    "accounts": accounts,
                    "hot": HOT_ACCOUNTS,
                    "hot_share": HOT_SHARE,
                    "seconds": SECONDS,
                    "seed": 1000 + worker,
                    "worker": worker,
                    "log": str(log),
                }
            )
        )
        logs.append(log)
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "tests.integration.stress_driver", str(config)],
                cwd=REPO_ROOT,
                env=child_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    failures = []
    for worker, process in enumerate(processes):
        try:
            _, err = process.communicate(timeout=SECONDS + 120)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        if process.returncode != 0:
            failures.append(f"operator {worker}: exit {process.returncode}\n{err}")
    assert not failures, "\n".join(failures)
    entries: list[dict[str, Any]] = []
    for log in logs:
        entries.extend(json.loads(line) for line in log.read_text().splitlines())
    return entries


# -- the stress test ---------------------------------------------------------


def is_ddl_collision(entry: dict[str, Any]) -> bool:
    return entry["code"] == 6 and "tuple concurrently updated" in entry["stderr"]


@pytest.mark.parametrize("operators", OPERATORS)
def test_many_operators_at_once_lose_nothing_and_break_no_rule(
    pg_url: str, tmp_path: Path, operators: int
) -> None:
    accounts = register_workport(pg_url, ACCOUNTS)
    log = run_operators(pg_url, accounts, tmp_path, operators)

    codes = Counter(entry["code"] for entry in log)
    successes = [entry for entry in log if entry["code"] == 0]
    retried = [e for e in log if e["refused_saves"] == 1]
    retried_ok = [e for e in retried if e["code"] == 0]
    collisions = [e for e in log if is_ddl_collision(e)]
    figures = (
        f"stress: {len(log)} commands by {operators} operators on {ACCOUNTS} "
        f"accounts in {SECONDS:g} s: {codes[0]} succeeded, {codes[4]} refused "
        f"(exit 4), {codes[5]} conflicts (exit 5); {len(retried)} saves lost a "
        f"race and were retried ({len(retried_ok)} then succeeded, "
        f"{len(retried) - len(retried_ok)} then refused by the rules); "
        f"{len(collisions)} failed at start with exit 6 'tuple concurrently "
        f"updated'; exit codes {dict(sorted(codes.items()))}"
    )
    print("\n" + figures)
    by_command = Counter((e["command"], e["code"]) for e in log)
    print("stress: per command and exit code:", dict(sorted(by_command.items())))
    # Every operator ran (on 2 cores, 64 processes start slowly: a few
    # commands each is what the window allows).
    assert {e["worker"] for e in log} == set(range(operators)), "some never ran"
    assert {e["command"] for e in log} == set(STRESS_COMMANDS)

    # (c) a lost save is retried once, then reported with exit 5.
    for entry in log:
        assert entry["refused_saves"] <= 2, entry
        if entry["code"] == 5:
            assert entry["refused_saves"] == 2, entry
            error = json.loads(entry["stderr"])["error"]
            assert error["code"] == 5, entry
            assert "conflict" in error["message"] or "changed" in error["message"]
        elif entry["refused_saves"] == 2:
            pytest.fail(f"two lost saves but exit {entry['code']}: {entry}")
        if entry["code"] == 4:
            assert json.loads(entry["stderr"])["error"]["code"] == 4, entry
        assert "Traceback" not in entry["stderr"], entry["stderr"]
    unexpected = [e for e in log if e["code"] not in (0, 4, 5)]
    assert not unexpected, "unexpected exit codes:\n" + "\n".join(
        f"{e['args']}: exit {e['code']}: {e['stderr']}" for e in unexpected[:10]
    )
    assert successes, "no command succeeded"
    # (g) read-your-writes: every command that returned was in the
    # projections by then, whoever projected it.
    stale = [e for e in successes if (e["projected_version"] or 0) < e["version"]]
    assert not stale, stale[:5]

    ledger = ledger_for(pg_url)
    try:
        streams = {
            account: list(ledger.events.get(uuid.UUID(account))) for account in accounts
        }

        # (a) no account holds a history the rules forbid.
        violations = {
            account: replay_violations(events) for account, events in streams.items()
        }
        assert not any(violations.values()), {
            account: [v.message for v in found]
            for account, found in violations.items()
            if found
        }

        # (b) every reported success is in the log, at the versions reported,
        # and no two successes claim the same place in a stream.
        claimed: dict[tuple[str, int], dict[str, Any]] = {}
        for entry in successes:
            stream = streams[entry["account"]]
            version, names = entry["version"], entry["events"]
            assert names, entry
            first = version - len(names) + 1
            stored = [type(e).__name__ for e in stream[first - 1 : version]]
            assert stored == names, (
                f"{entry['args']} reported {names} up to version {version}; "
                f"the stream holds {stored} there"
            )
            for offset in range(len(names)):
                slot = (entry["account"], first + offset)
                assert slot not in claimed, (
                    f"two successes claim {slot}: {claimed[slot]['args']} "
                    f"and {entry['args']}"
                )
                claimed[slot] = entry
        # ...and nothing was stored that no success reported: refusals,
        # conflicts and failures write nothing.
        stored_total = sum(len(events) for events in streams.values())
        assert stored_total == SETUP_EVENTS * ACCOUNTS + len(claimed)

        # (d) the projections, caught up by the commands themselves, equal a
        # rebuild; (e) one audit row per stored event.
        projections = Projections(ledger)
        rebuilt = assert_exactly_once(ledger, projections)
        assert len(rebuilt["audit_trail"]) == stored_total
        versions = {row["id"]: row["version"] for row in rebuilt["accounts"]}
        assert versions == {a: len(events) for a, events in streams.items()}

        # (f) the audit chain and log tree never forked: every stored event is
        # one leaf, in notification order, and the whole log verifies.
        report = AuditLog(ledger).verify()
        assert report.findings == [], [f.line() for f in report.findings[:10]]
        assert report.events == stored_total
        state = AuditLog(ledger).state()
        assert state is not None and state.size == stored_total
    finally:
        ledger.close()

    # (c) exit codes only in {0, 4, 5}; in particular no command fails at
    # start because another one was creating the schema.
    assert not collisions, (
        f"{len(collisions)} of {len(log)} commands failed with exit 6 "
        f"{collisions[0]['stderr']}; {figures}"
    )


# -- the startup collision, on its own ----------------------------------------

STARTERS = 8
STARTING_FOR = 4.0
_STARTER = """
import sys, time
from tests.helpers import run_cli
url, seconds = sys.argv[1], float(sys.argv[2])
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    result = run_cli(["--json", "projections", "status"], db_url=url)
    if result.code != 0:
        print(result.code, result.stderr.strip())
"""


def test_commands_starting_together_do_not_fail(pg_url: str) -> None:
    """Read-only commands started together, on a ledger whose schema exists:
    nothing can conflict, so every one must exit 0."""
    ledger = ledger_for(pg_url)
    try:
        Projections(ledger)  # the schema exists before the starters run
    finally:
        ledger.close()
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _STARTER, pg_url, str(STARTING_FOR)],
            cwd=REPO_ROOT,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(STARTERS)
    ]
    failures: list[str] = []
    for process in processes:
        out, err = process.communicate(timeout=STARTING_FOR + 120)
        assert process.returncode == 0, err
        failures.extend(out.splitlines())
    assert not failures, "\n".join(failures[:10])


# -- concurrent catch-ups ----------------------------------------------------


CATCH_UPS = 6
SIMULATED = 1500


def start_catch_up(db_url: str) -> subprocess.Popen[str]:
    env = child_env()
    env["SEEKERS_LOCK_TIMEOUT"] = "300"  # queued behind the test's lock below
    return subprocess.Popen(
        [
            seekers_script(),
            *("--db", db_url, "--json"),
            *("projections", "catch-up", "--batch-size", "40"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_concurrent_catch_up_processes_are_exactly_once(pg_url: str) -> None:
    ledger = ledger_for(pg_url)
    try:
        simulate(
            ledger, seekers=SIMULATED, seed=7, now=datetime(2025, 6, 1, tzinfo=UTC)
        )
        head = ledger.recorder.max_notification_id() or 0
        Projections(ledger)  # the tables exist before the racers start
    finally:
        ledger.close()
    assert head > 40 * CATCH_UPS * 10, "too few events for the racers to overlap"

    # The racers start while the test holds the projections' writer lock and
    # it lets go once every one of them queues for it: the lock then goes to
    # them in turn, a batch each, so they overlap whatever the start-up of
    # each (started freely, the first could finish the log alone on a busy
    # machine before the others began).
    processes = []
    with (
        psycopg.connect(pg_url) as holder,
        psycopg.connect(pg_url, autocommit=True) as observer,
    ):
        holder.execute(
            "LOCK TABLE accounts_tracking, audit_trail_tracking IN EXCLUSIVE MODE"
        )
        for _ in range(CATCH_UPS):
            processes.append(start_catch_up(pg_url))

        def all_queued() -> bool:
            if any(process.poll() is not None for process in processes):
                return True  # its exit and error are reported below
            row = observer.execute(
                "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted "
                "AND relation = 'accounts_tracking'::regclass"
            ).fetchone()
            return row is not None and row[0] == CATCH_UPS

        queued = wait_until(all_queued, timeout=240, interval=0.05)
        holder.rollback()
    assert queued, "the catch-ups did not all queue for the lock"
    processed: list[dict[str, int]] = []
    while processes:
        process = processes.pop(0)
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, f"exit {process.returncode}: {err}"
        processed.append(json.loads(out)["processed"])
    print(
        f"\ncatch-up race: {CATCH_UPS} processes over {head} events, "
        f"processed {processed}"
    )
    # Every event went through each projection once, whichever process took it.
    totals: Counter[str] = Counter()
    for each in processed:
        totals.update(each)
    assert totals == dict.fromkeys(PROJECTION_NAMES, head)
    assert sum(1 for each in processed if each["audit_trail"]) >= 2, (
        "the catch-ups did not overlap"
    )

    ledger = ledger_for(pg_url)
    try:
        assert_exactly_once(ledger, Projections(ledger))
    finally:
        ledger.close()
