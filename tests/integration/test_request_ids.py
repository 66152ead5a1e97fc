"""Retrying a command never records it twice (``--request-id``).

The failure simulated is the one that creates duplicates: the events are
committed, then the connection drops before the client hears so. The
command exits 6 saying it may have been recorded and how to retry; the retry
with the same request id returns the first outcome, exit 0, and the store
holds the events once. On both stores.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError

from tests.helpers import run_cli
from tests.integrity.support import events_table, raw, register

RECORDERS = (
    "adapters.recorders.ChainingSQLiteRecorder",
    "adapters.postgres_recorder.ChainingPostgresRecorder",
)


def lose_the_commit_reply(monkeypatch: pytest.MonkeyPatch, db_url: str) -> list[int]:
    """The next insert commits, then its caller gets a dropped connection."""
    import importlib

    path = RECORDERS[0] if db_url.startswith("sqlite") else RECORDERS[1]
    module_name, _, class_name = path.rpartition(".")
    recorder = getattr(importlib.import_module(module_name), class_name)
    original: Callable[..., Any] = recorder.insert_events
    dropped: list[int] = []

    def insert_then_drop(self: Any, stored_events: Any, **kwargs: Any) -> Any:
        ids = original(self, stored_events, **kwargs)
        if not dropped:
            dropped.append(len(stored_events))
            raise OperationalError("server closed the connection unexpectedly")
        return ids

    monkeypatch.setattr(recorder, "insert_events", insert_then_drop)
    return dropped


def stored(db_url: str, seeker: str) -> list[str]:
    from uuid import UUID

    account: Any = UUID(seeker).hex if db_url.startswith("sqlite") else UUID(seeker)
    rows = raw(
        db_url,
        f"SELECT topic FROM {events_table(db_url)} WHERE originator_id = ? "
        "ORDER BY originator_version",
        (account,),
    )
    return [topic.rpartition(".")[2] for (topic,) in rows]


def test_a_retry_after_a_lost_commit_records_exactly_once(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeker = register(db_url, "Sho Ueda", "sho@example.jp")
    dropped = lose_the_commit_reply(monkeypatch, db_url)
    command = ["--json", "apply", seeker, "--job", "Cook", "--route", "self",
               "--at", "2025-01-11", "--request-id", "req-7f3a"]  # fmt: skip
    failed = run_cli(command, db_url=db_url)
    assert dropped == [1]
    assert failed.code == 6
    message = failed.error()["error"]["message"]
    assert "may have been recorded" in message
    assert "--request-id req-7f3a" in message
    assert stored(db_url, seeker) == ["Registered", "Applied"]  # it was

    retried = run_cli(command, db_url=db_url)
    assert retried.code == 0, retried.stderr
    document = retried.json()
    assert document["application"] == "A1"
    assert document["events"] == ["Applied"]
    assert document["request_id"] == "req-7f3a"
    assert stored(db_url, seeker) == ["Registered", "Applied"]  # once
    assert run_cli(["audit", "verify"], db_url=db_url).code == 0


def test_a_register_after_a_lost_commit_opens_one_account(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registration notices at once that its lost commit went through (it
    must not release the email it claimed), and a retry changes nothing."""
    register(db_url, "First Seeker", "first@example.jp")  # the store exists
    lose_the_commit_reply(monkeypatch, db_url)
    command = ["--json", "register", "--name", "Nao Ikeda", "--email",
               "nao@example.jp", "--birth-date", "1992-03-03", "--policy",
               "hellowork", "--at", "2025-01-10", "--request-id", "reg-1"]  # fmt: skip
    first = run_cli(command, db_url=db_url)
    assert first.code == 0, first.stderr
    retried = run_cli(command, db_url=db_url)
    assert retried.code == 0, retried.stderr
    seeker = retried.json()["id"]
    assert first.json()["id"] == seeker
    assert stored(db_url, seeker) == ["Registered"]
    found = run_cli(["--json", "find", "--email", "nao@example.jp"], db_url=db_url)
    assert [match["id"] for match in found.json()["accounts"]] == [seeker]


def test_a_request_id_without_it_is_generated_and_printed(db_url: str) -> None:
    seeker = register(db_url, "Aki Mori", "aki@example.jp")
    done = run_cli(["pause", seeker, "--at", "2025-01-11"], db_url=db_url)
    assert done.code == 0
    lines = [
        line for line in done.stdout.splitlines() if line.strip().startswith("request ")
    ]
    assert len(lines) == 1 and len(lines[0].split()[-1]) == 36


def test_one_request_id_for_another_command_is_refused(db_url: str) -> None:
    seeker = register(db_url, "Eri Sato", "eri@example.jp")
    first = run_cli(
        ["contact", seeker, "--channel", "phone", "--outcome", "no_answer",
         "--at", "2025-01-11", "--request-id", "same"], db_url=db_url,
    )  # fmt: skip
    assert first.code == 0
    other = run_cli(
        ["mark-unreachable", seeker, "--at", "2025-01-12", "--request-id", "same"],
        db_url=db_url,
    )
    assert other.code == 2
    assert "already used for contact" in other.stderr
    assert stored(db_url, seeker) == ["Registered", "ContactAttempted"]
