"""A purge and the destruction of the seeker's key commit together.

Failures are injected at each step of a purge (the chain append, the key
deletion, the overwrite of traces after the commit): the store is left with
either no purge at all, key and index intact, or a complete purge with its
key gone; never a recorded ``Purged`` whose key still opens the data. A
store that holds such a half purge (written by an earlier version) is
reported by ``audit verify`` and finished by ``sweep``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from tests.helpers import run_cli
from tests.integrity.support import events_table, raw, register

DISK_FULL = "database or disk is full"


@pytest.fixture
def withdrawn(db_url: str) -> str:
    seeker = register(db_url, "Rin Kato", "rin@example.jp")
    for args in (
        ["request-withdrawal", seeker, "--channel", "email", "--reason", "job_found",
         "--at", "2025-02-01"],
        ["withdraw", seeker, "--at", "2025-02-02"],
    ):  # fmt: skip
        assert run_cli(args, db_url=db_url).code == 0
    return seeker


def counts(db_url: str, seeker: str) -> dict[str, int]:
    return {
        "purged": raw(
            db_url,
            f"SELECT count(*) FROM {events_table(db_url)} WHERE topic LIKE ?",
            ("%Seeker.Purged",),
        )[0][0],
        "keys": raw(
            db_url, "SELECT count(*) FROM seeker_keys WHERE seeker_id = ?", (seeker,)
        )[0][0],
        "emails": raw(
            db_url, "SELECT count(*) FROM email_index WHERE seeker_id = ?", (seeker,)
        )[0][0],
    }


def purge(db_url: str, seeker: str) -> Any:
    return run_cli(
        ["purge", seeker, "--reason", "deletion_request", "--at", "2025-02-03"],
        db_url=db_url,
    )


def _fail(*_: Any, **__: Any) -> None:
    raise sqlite3.OperationalError(DISK_FULL)


def _break(patched: pytest.MonkeyPatch, step: str, db_url: str) -> None:
    """Make one step of the purge's insert fail. PostgreSQL chains on the
    server (``integrity.store.append_function``): there the chain's step
    fails as the server would, an error inside the insert's pipeline."""
    if step == "chain-append" and db_url.startswith("postgresql"):
        from adapters.postgres_recorder import ChainingPostgresRecorder

        patched.setattr(
            ChainingPostgresRecorder,
            "append_call",
            "SELECT seekers_chain_appended(%s) / 0",
        )
    elif step == "chain-append":
        patched.setattr("adapters.recorders.Appender.append", _fail)
    else:
        patched.setattr("adapters.recorders.erase_in_transaction", _fail)


@pytest.mark.parametrize("step", ["chain-append", "key-deletion"])
def test_a_failure_inside_the_purge_leaves_no_purge(
    db_url: str, withdrawn: str, step: str
) -> None:
    before = counts(db_url, withdrawn)
    assert before == {"purged": 0, "keys": 1, "emails": 1}
    with pytest.MonkeyPatch.context() as patched:
        _break(patched, step, db_url)
        failed = purge(db_url, withdrawn)
    assert failed.code == 6
    assert len(failed.stderr.strip().splitlines()) == 1
    assert "Traceback" not in failed.stderr
    assert counts(db_url, withdrawn) == before  # nothing half-written
    done = purge(db_url, withdrawn)
    assert done.code == 0, done.stderr
    assert counts(db_url, withdrawn) == {"purged": 1, "keys": 0, "emails": 0}


def test_a_failure_after_the_commit_is_a_complete_purge_and_exit_0(
    db_url: str, withdrawn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from domain.errors import StorageError

    def scrub_fails(*_: Any, **__: Any) -> None:
        raise StorageError(DISK_FULL)

    monkeypatch.setattr("privacy.key_table.KeyTable.destroy_keys", scrub_fails)
    done = purge(db_url, withdrawn)
    assert done.code == 0, done.stderr
    assert "purged and their key deleted" in done.stderr
    assert counts(db_url, withdrawn) == {"purged": 1, "keys": 0, "emails": 0}
    shown = run_cli(["--json", "show", withdrawn], db_url=db_url).json()
    assert shown["status"] == "purged" and shown["name"] is None


def test_a_half_purge_is_reported_and_finished_by_the_sweep(
    db_url: str, withdrawn: str
) -> None:
    """What an earlier version could leave behind: ``Purged`` recorded, the
    key row and the email-index row still there."""
    wrapped = raw(
        db_url, "SELECT wrapped_key FROM seeker_keys WHERE seeker_id = ?", (withdrawn,)
    )[0][0]
    index = raw(
        db_url,
        "SELECT policy, digest FROM email_index WHERE seeker_id = ?",
        (withdrawn,),
    )[0]
    assert purge(db_url, withdrawn).code == 0
    raw(
        db_url,
        "INSERT INTO seeker_keys (seeker_id, wrapped_key) VALUES (?, ?)",
        (withdrawn, wrapped),
    )
    raw(
        db_url,
        "INSERT INTO email_index (policy, digest, seeker_id) VALUES (?, ?, ?)",
        (*index, withdrawn),
    )
    verified = run_cli(["--json", "audit", "verify"], db_url=db_url)
    assert verified.code == 1
    findings = verified.json()["findings"]
    assert [(f["kind"], f["account"]) for f in findings] == [("privacy", withdrawn)]
    swept = run_cli(["--json", "sweep", "--at", "2025-03-01"], db_url=db_url)
    assert swept.code == 0, swept.stderr
    assert swept.json()["erasures_finished"] == [withdrawn]
    assert counts(db_url, withdrawn) == {"purged": 1, "keys": 0, "emails": 0}
    assert run_cli(["audit", "verify"], db_url=db_url).code == 0
    again = run_cli(["--json", "sweep", "--at", "2025-03-01"], db_url=db_url)
    assert again.json()["erasures_finished"] == []
