"""Exactly once, whatever happens to the process (SPEC §6): a projection
stores its position in the same transaction as its rows, so a crash mid-way
never loses or doubles an event, concurrent catch-ups never process an event
twice, and commands arriving during a rebuild are all counted. A rebuild
fills shadow tables (``projections.rebuild``): killed, it leaves the live
tables as they were.

The crashes are real: ``seekers projections rebuild|catch-up`` runs as a
separate process and is killed with SIGKILL in the middle of its work.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from domain.policy import PRESETS
from projections.runner import Projections
from projections.schema import SHADOW
from services.simulation import simulate
from tests.helpers import run_cli
from tests.integration.support import (
    PROJECTION_NAMES,
    Dump,
    assert_exactly_once,
    assert_tables_equal,
    catch_up,
    clean_rebuild,
    dump,
    finish,
    opened,
    popen_seekers,
    reset,
    wait_until,
)

POPULATION = 2000
SIMULATED_UNTIL = datetime(2025, 6, 1, tzinfo=UTC)
BATCH = "50"


def populate(db_url: str, seekers: int = POPULATION) -> int:
    """A simulated population, projections caught up; the log's head."""
    with opened(db_url) as (ledger, projections):
        simulate(ledger, seekers=seekers, seed=31, now=SIMULATED_UNTIL)
        projections.catch_up()
        head = projections.head()
    assert head > 20 * int(BATCH), "too few events for a rebuild in batches"
    return head


def assert_rows_match_position(db_url: str, name: str, *, shadow: bool = False) -> int:
    """The projection (or, with ``shadow``, a killed rebuild's shadow of it)
    holds exactly the events up to its tracked position: rows and position
    were committed together. Returns the position."""
    suffix = SHADOW if shadow else ""
    with opened(db_url) as (ledger, projections):
        state = projections.status(name, rebuild=shadow)
        position = state.rebuild if shadow else state.position
        assert position is not None, f"no rebuild of {name} was left"
        notifications = (
            ledger.recorder.select_notifications(start=1, limit=position)
            if position
            else []
        )
        assert [n.id for n in notifications] == list(range(1, position + 1))
        if name == "audit_trail":
            rows = projections.views[name].query(
                f"SELECT notification_id FROM audit_trail{suffix} "
                "ORDER BY notification_id"
            )
            assert [row["notification_id"] for row in rows] == list(
                range(1, position + 1)
            )
        else:
            versions: dict[str, int] = {}
            for n in notifications:
                versions[str(n.originator_id)] = n.originator_version
            rows = projections.views[name].query(
                f"SELECT id, version FROM accounts{suffix}"
            )
            assert {row["id"]: row["version"] for row in rows} == versions
            counted = projections.views[name].query(
                f"SELECT SUM(count) AS total FROM report_status{suffix}"
            )[0]["total"]
            assert (counted or 0) == len(versions)
    return position


def _midway(
    process: subprocess.Popen[str],
    projections: Projections,
    name: str,
    head: int,
    *,
    shadow: bool = False,
) -> bool:
    """The process has ended, or ``name`` (with ``shadow``: a rebuild's
    shadow of it) is strictly between 0 and ``head``."""
    return process.poll() is not None or 0 < _position(projections, name, shadow) < head


def _position(projections: Projections, name: str, shadow: bool) -> int:
    state = projections.status(name, rebuild=shadow)
    return (state.rebuild or 0) if shadow else state.position


def kill_midway(
    db_url: str,
    name: str,
    args: list[str],
    *,
    prepare: Callable[[], None] = lambda: None,
    shadow: bool = False,
) -> int:
    """Start ``seekers ARGS``; SIGKILL it once ``name``'s tracked position
    (with ``shadow``: its rebuild's) is strictly between 0 and the head.
    Returns the position it was killed at.

    If the process finishes before the poll sees it mid-way (a very fast
    machine), ``prepare`` runs and the process starts again, a few times.
    """
    with opened(db_url) as (_, projections):
        head = projections.head()
        for _attempt in range(5):
            prepare()
            process = popen_seekers(db_url, *args)
            try:
                seen = wait_until(
                    partial(_midway, process, projections, name, head, shadow=shadow),
                    timeout=120,
                )
                assert seen, "the process neither progressed nor finished"
                if process.poll() is None:
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait(timeout=30)
                    assert process.returncode == -signal.SIGKILL
                    position = _position(projections, name, shadow)
                    if 0 < position < head:
                        return position
            finally:
                if process.poll() is None:
                    process.kill()
                process.communicate(timeout=30)
    pytest.fail(f"could not catch {args} mid-way in five attempts")


def recover(db_url: str) -> Dump:
    """Catch up to the end in a fresh process; every event then counted once."""
    finish(popen_seekers(db_url, "projections", "catch-up", "--batch-size", BATCH))
    recovered = dump(db_url)
    assert_exactly_once(db_url, recovered)
    return recovered


def assert_equals_a_clean_rebuild(db_url: str, tables: Dump) -> None:
    rebuilt = clean_rebuild(db_url)
    assert_tables_equal(tables, rebuilt)
    assert_exactly_once(db_url, rebuilt)


def rebuild_again(db_url: str) -> Dump:
    """Rebuild in a fresh process, to the end; every event then counted once,
    and no shadow left."""
    finish(popen_seekers(db_url, "projections", "rebuild", "--batch-size", BATCH))
    rebuilt = dump(db_url)
    assert_exactly_once(db_url, rebuilt)
    with opened(db_url) as (_, projections):
        for name in PROJECTION_NAMES:
            assert projections.status(name, rebuild=True).rebuild is None
    return rebuilt


def test_a_rebuild_killed_mid_way_leaves_the_live_tables_and_the_next_starts_over(
    db_url: str,
) -> None:
    head = populate(db_url)
    before = dump(db_url)
    rebuild = ["projections", "rebuild", "--batch-size", BATCH]

    # Killed while rebuilding every projection: the live tables are as they
    # were, at the head; whatever the shadow had committed, its rows are
    # exactly the events up to its own position.
    position = kill_midway(db_url, "accounts", rebuild, shadow=True)
    assert assert_rows_match_position(db_url, "accounts") == head
    assert assert_rows_match_position(db_url, "audit_trail") == head
    assert_tables_equal(dump(db_url), before)
    assert 0 < assert_rows_match_position(db_url, "accounts", shadow=True) == position
    assert assert_rows_match_position(db_url, "audit_trail", shadow=True) <= head
    assert_tables_equal(rebuild_again(db_url), before)

    # Killed while rebuilding the audit trail alone.
    position = kill_midway(
        db_url, "audit_trail", [*rebuild, "audit_trail"], shadow=True
    )
    assert_tables_equal(dump(db_url), before)
    assert (
        0 < assert_rows_match_position(db_url, "audit_trail", shadow=True) == (position)
    )
    with opened(db_url) as (_, projections):
        assert projections.status("accounts", rebuild=True).rebuild is None
    rebuilt = rebuild_again(db_url)
    assert_tables_equal(rebuilt, before)

    assert_equals_a_clean_rebuild(db_url, rebuilt)


def test_a_catch_up_killed_mid_way_resumes_without_losing_or_doubling_an_event(
    db_url: str,
) -> None:
    head = populate(db_url)
    position = kill_midway(
        db_url,
        "accounts",
        ["projections", "catch-up", "--batch-size", BATCH],
        prepare=lambda: reset(db_url),
    )
    assert 0 < assert_rows_match_position(db_url, "accounts") == position < head
    assert_rows_match_position(db_url, "audit_trail")
    assert_equals_a_clean_rebuild(db_url, recover(db_url))


def test_two_catch_ups_at_once_count_every_event_exactly_once(db_url: str) -> None:
    head = populate(db_url)
    reset(db_url)

    first = popen_seekers(db_url, "projections", "catch-up", "--batch-size", BATCH)
    second = popen_seekers(db_url, "projections", "catch-up", "--batch-size", BATCH)
    processed = [json.loads(finish(p))["processed"] for p in (first, second)]

    # Between them they processed each event once per projection.
    for name in PROJECTION_NAMES:
        assert sum(done[name] for done in processed) == head, processed
    caught_up = dump(db_url)
    assert_exactly_once(db_url, caught_up)
    assert_equals_a_clean_rebuild(db_url, caught_up)


def _register_workport_seekers(db_url: str, count: int) -> list[str]:
    with opened(db_url) as (ledger, projections):
        ids = [
            str(
                ledger.register(
                    policy=PRESETS["workport"],
                    name=f"Busy Seeker {number}",
                    email=f"busy.{number}@example.jp",
                    birth_date=date(1992, 3, 3),
                    phone=None,
                    channel="app",
                    advisor=None,
                    actor="tester",
                    at="2025-06-02T09:00+09:00",
                ).seeker.id
            )
            for number in range(count)
        ]
        projections.catch_up()
    return ids


def test_commands_arriving_during_a_rebuild_are_all_projected_exactly_once(
    db_url: str,
) -> None:
    # Smaller: a command arriving mid-rebuild catches the projections up to
    # the head itself, so each one does the rest of the rebuild's work.
    populate(db_url, seekers=600)
    seekers = _register_workport_seekers(db_url, 10)
    stop = threading.Event()
    rebuilding = threading.Event()
    rebuilds: list[int] = []
    failures: list[str] = []

    def rebuild_while_commands_arrive(projections: Projections) -> None:
        while not stop.is_set():
            head = projections.head()
            process = popen_seekers(
                db_url, "projections", "rebuild", "--batch-size", BATCH
            )
            if not rebuilding.is_set():
                # The first rebuild is under way once its shadow of the
                # accounts has a batch (or it is done); commands start
                # arriving then.
                wait_until(
                    partial(
                        _midway, process, projections, "accounts", head, shadow=True
                    ),
                    timeout=60,
                )
            rebuilding.set()
            out, err = process.communicate(timeout=300)
            if process.returncode != 0:
                failures.append(err)
                return
            rebuilds.append(json.loads(out)["processed"]["accounts"])

    def keep_rebuilding() -> None:
        try:
            # Opened while the main thread waits for the first rebuild.
            with opened(db_url) as (_, projections):
                rebuild_while_commands_arrive(projections)
        except BaseException as error:
            failures.append(repr(error))
        finally:
            rebuilding.set()  # never leave the main thread waiting

    worker = threading.Thread(target=keep_rebuilding, daemon=True)
    worker.start()
    assert rebuilding.wait(timeout=60)

    recorded: list[tuple[str, int, list[str]]] = []
    start = datetime(2025, 6, 3, 9, 0, tzinfo=UTC)
    try:
        for number in range(100):
            if failures:
                break
            seeker = seekers[number % len(seekers)]
            at = (start + timedelta(minutes=number)).isoformat()
            if (number // len(seekers)) % 2:
                args = ["apply", seeker, "--job", f"Job {number}", "--at", at]
            else:
                args = [
                    "contact",
                    seeker,
                    "--channel",
                    "phone",
                    "--outcome",
                    "no_answer",
                    "--at",
                    at,
                ]
            result = run_cli(["--json", *args], db_url=db_url)
            assert result.code == 0, f"{args}: exit {result.code}: {result.stderr}"
            document: dict[str, Any] = result.json()
            recorded.append((seeker, document["version"], document["events"]))
    finally:
        stop.set()
        worker.join(timeout=300)
    assert not failures, failures
    assert len(recorded) == 100
    assert len(rebuilds) >= 2, "the commands did not keep arriving during rebuilds"

    catch_up(db_url)
    projected = dump(db_url)
    assert_exactly_once(db_url, projected)
    audit = {
        (row["account"], row["version"]): row["type"]
        for row in projected["audit_trail"]
    }
    for seeker, version, events in recorded:
        assert events in (["Applied"], ["ContactAttempted"])
        assert audit.get((seeker, version)) == events[0], (seeker, version)
    accounts = {row["id"]: row for row in projected["accounts"]}
    for seeker in seekers:
        assert accounts[seeker]["version"] == 1 + 10
        assert accounts[seeker]["applications"] == 5
        assert accounts[seeker]["contact_attempts"] == 5

    assert_equals_a_clean_rebuild(db_url, projected)


def test_commands_started_at_the_same_time_never_get_a_storage_error(
    db_url: str,
) -> None:
    """Every ``seekers`` command opens the store first; operators (and a
    rebuild) start commands at the same moment all day long. On PostgreSQL,
    re-running the schema statements on every start used to fail one of two
    simultaneous starts with "tuple concurrently updated" (exit 6)."""
    seekers = _register_workport_seekers(db_url, 6)
    for round_number in range(3):
        processes = [
            popen_seekers(db_url, "projections", "status"),
            popen_seekers(db_url, "list", "--policy", "workport"),
            *(
                popen_seekers(
                    db_url,
                    "contact",
                    seeker,
                    "--channel",
                    "email",
                    "--outcome",
                    "no_answer",
                    "--at",
                    f"2025-06-0{3 + round_number}T09:00+09:00",
                )
                for seeker in seekers
            ),
        ]
        for process in processes:
            finish(process)
    projected = dump(db_url)
    assert_exactly_once(db_url, projected)
    assert all(row["contact_attempts"] == 3 for row in projected["accounts"])
