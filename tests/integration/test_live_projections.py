"""``seekers projections run`` follows the log live on PostgreSQL (SPEC §6).

The runner is a real process. Events are recorded with the application
service directly (``SeekerLedger.register`` / ``execute``), never through
the CLI, so nothing but the live runner can project them. The runner must
project them exactly once, stop cleanly on SIGTERM (exit 0, "stopped" on
stderr), and, restarted, resume from its tracked position: the events
recorded while it was down appear, none is counted twice.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from domain.policy import PRESETS
from domain.seeker import Seeker
from projections.runner import Projections
from services.ledger import SeekerLedger
from tests.helpers import ledger_for, seekers_env, seekers_script
from tests.integration.support import dump_tables, notification_ids

pytestmark = [pytest.mark.postgres]

CATCH_UP_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
START_TIMEOUT = 30.0


class LiveRunner:
    """``seekers --db URL projections run`` as a separate process."""

    def __init__(self, db_url: str) -> None:
        self.process = subprocess.Popen(
            [seekers_script(), "--db", db_url, "projections", "run"],
            env=seekers_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.following = threading.Event()
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            if "following the log" in line:
                self.following.set()

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def wait_following(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.following.wait(0.05):
                return
            if self.process.poll() is not None:
                self._reader.join(5)
                pytest.fail(
                    f"projections run exited {self.process.returncode} at start:\n"
                    + self.stderr
                )
        pytest.fail(f"projections run did not start following the log:\n{self.stderr}")

    def terminate(self, signum: int = signal.SIGTERM) -> tuple[int, float]:
        """SIGTERM (or Ctrl-C's SIGINT); the exit code and how long it took."""
        sent = time.monotonic()
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(
                f"projections run still running {STOP_TIMEOUT:g} s after "
                f"{signal.Signals(signum).name}:\n" + self.stderr
            )
        self._reader.join(5)
        return code, time.monotonic() - sent

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._reader.join(5)


@contextlib.contextmanager
def running(db_url: str) -> Iterator[LiveRunner]:
    runner = LiveRunner(db_url)
    try:
        runner.wait_following()
        yield runner
    finally:
        runner.kill()


def register(ledger: SeekerLedger, number: int) -> UUID:
    outcome = ledger.register(
        policy=PRESETS["workport"],
        name=f"Live Seeker {number}",
        email=f"live.{number}@example.jp",
        birth_date=date(1991, 5, 17),
        phone=None,
        channel="app",
        advisor="Kato",
        actor="live:test",
    )
    seeker_id: UUID = outcome.result
    return seeker_id


def act(
    ledger: SeekerLedger, seeker_id: UUID, command: Callable[[Seeker, Any], Any]
) -> None:
    """One command through the application service: no projection catch-up."""
    ledger.execute(seeker_id, command)


def applying(job: str) -> Callable[[Seeker, Any], Any]:
    def command(seeker: Seeker, at: Any) -> Any:
        return seeker.apply(at=at, actor="a", job=job, route="self")

    return command


def at_head(projections: Projections) -> bool:
    head = projections.head()
    return all(projections.status(name).position == head for name in projections.names)


def wait_for_head(projections: Projections, runner: LiveRunner) -> float:
    """Poll until every projection's position is the log's head; seconds taken."""
    started = time.monotonic()
    while time.monotonic() - started < CATCH_UP_TIMEOUT:
        if at_head(projections):
            return time.monotonic() - started
        if runner.process.poll() is not None:
            pytest.fail(
                f"projections run died (exit {runner.process.returncode}):\n"
                + runner.stderr
            )
        time.sleep(0.05)
    statuses = [projections.status(name) for name in projections.names]
    pytest.fail(
        f"the live runner did not reach the head in {CATCH_UP_TIMEOUT:g} s: "
        f"{statuses}\n{runner.stderr}"
    )


def accounts_rows(projections: Projections) -> dict[str, dict[str, Any]]:
    rows = projections.views["accounts"].query("SELECT * FROM accounts")
    return {row["id"]: row for row in rows}


def assert_rows_match_accounts(
    ledger: SeekerLedger, projections: Projections, ids: list[UUID]
) -> None:
    rows = accounts_rows(projections)
    assert set(rows) == {str(i) for i in ids}
    for seeker_id in ids:
        seeker = ledger.get_seeker(seeker_id)
        row = rows[str(seeker_id)]
        assert (row["status"], row["version"]) == (seeker.status, seeker.version)
        assert row["open_applications"] == len(seeker.open_applications)
        assert row["advisor"] == seeker.advisor


def assert_audit_exactly_once(ledger: SeekerLedger, projections: Projections) -> None:
    rows = projections.views["audit_trail"].query(
        "SELECT notification_id FROM audit_trail ORDER BY notification_id"
    )
    assert [row["notification_id"] for row in rows] == notification_ids(ledger)


def test_projections_run_follows_the_log_stops_on_sigterm_and_resumes(
    pg_url: str,
) -> None:
    # The test's own ledger exists before any runner starts, so the two never
    # build the schema at the same moment.
    ledger = ledger_for(pg_url)
    try:
        first = register(ledger, 1)  # before the runner: it must start from 0
        with running(pg_url) as runner:
            projections = Projections(ledger)

            # Recorded while the runner follows the log.
            second = register(ledger, 2)
            act(
                ledger,
                first,
                lambda s, at: s.apply(at=at, actor="a", job="Nurse", route="agency"),
            )
            act(ledger, second, lambda s, at: s.pause(at=at, actor="a", reason=None))
            act(
                ledger,
                first,
                lambda s, at: s.change_advisor(at=at, actor="a", advisor="Mori"),
            )
            for round_number in range(20):
                act(ledger, first, applying(f"Job {round_number}"))
            took = wait_for_head(projections, runner)
            events = projections.head()
            print(f"\nlive: {events} events projected, head reached in {took:.2f} s")

            assert_rows_match_accounts(ledger, projections, [first, second])
            rows = accounts_rows(projections)
            assert rows[str(second)]["status"] == "paused"
            assert rows[str(first)]["open_applications"] == 21
            assert rows[str(first)]["advisor"] == "Mori"
            assert_audit_exactly_once(ledger, projections)

            code, seconds = runner.terminate()
            assert code == 0, runner.stderr
            assert "stopped" in runner.stderr
            assert "Traceback" not in runner.stderr
            print(f"live: SIGTERM → exit {code} in {seconds:.2f} s")

        # Recorded while no runner is up, by a writer that does not project
        # inline (this test's Projections attached the inline hook to its
        # ledger's recorder): nothing projects them.
        ledger.recorder.inline = None  # type: ignore[attr-defined]
        stopped_at = projections.head()
        third = register(ledger, 3)
        act(ledger, second, lambda s, at: s.resume(at=at, actor="a"))
        act(
            ledger,
            first,
            lambda s, at: s.close_application(
                at=at, actor="a", application_id="A1", outcome="hired"
            ),
        )
        act(
            ledger,
            first,
            lambda s, at: s.request_withdrawal(
                at=at,
                actor="a",
                channel="phone",
                reason="job_found",
                note=None,
                verify_name=None,
                verify_birth_date=None,
                erase_data=False,
            ),
        )
        time.sleep(0.5)
        assert {projections.status(n).position for n in projections.names} == {
            stopped_at
        }
        assert projections.head() > stopped_at

        with running(pg_url) as runner:
            wait_for_head(projections, runner)
            assert_rows_match_accounts(ledger, projections, [first, second, third])
            rows = accounts_rows(projections)
            assert rows[str(first)]["status"] == "withdrawal_requested"
            assert rows[str(second)]["status"] == "active"
            assert rows[str(third)]["status"] == "active"
            # Resumed from its position: the old events are not doubled.
            assert_audit_exactly_once(ledger, projections)
            code, _ = runner.terminate(signal.SIGINT)  # Ctrl-C
            assert code == 0, runner.stderr
            assert "stopped" in runner.stderr

        live = dump_tables(projections)
        projections.rebuild()
        assert dump_tables(projections) == live
    finally:
        ledger.close()
