"""A hostile operator edits the database directly; ``audit verify`` names it.

Each test seeds the same store through the real CLI, edits it with SQL the
way someone with database access would, and asserts that ``seekers audit
verify`` exits 1 naming the right account, version and kind of finding. On
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from integrity.chain import event_digest, stream_hash
from tests.helpers import run_cli
from tests.integrity.support import (
    account_param,
    events_table,
    nid_column,
    raw,
    seeded_store,
    snapshots_table,
)


@pytest.fixture
def store(db_url: str) -> dict[str, str]:
    return seeded_store(db_url)


def verify(db_url: str, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_cli(["--json", "audit", "verify", *extra], db_url=db_url)
    assert result.code in (0, 1), result.stderr
    return result.code, result.json()


def findings(document: dict[str, Any]) -> set[tuple[str, str | None, int | None]]:
    return {(f["kind"], f["account"], f["version"]) for f in document["findings"]}


def event_row(db_url: str, account: str, version: int) -> tuple[int, str, bytes]:
    rows = raw(
        db_url,
        f"SELECT {nid_column(db_url)}, topic, state FROM {events_table(db_url)} "
        "WHERE originator_id = ? AND originator_version = ?",
        (account_param(db_url, account), version),
    )
    assert rows, (account, version)
    nid, topic, state = rows[0]
    return int(nid), str(topic), bytes(state)


def set_state(db_url: str, account: str, version: int, state: bytes) -> None:
    raw(
        db_url,
        f"UPDATE {events_table(db_url)} SET state = ? "
        "WHERE originator_id = ? AND originator_version = ?",
        (state, account_param(db_url, account), version),
    )


def test_an_untouched_store_verifies(db_url: str, store: dict[str, str]) -> None:
    code, document = verify(db_url)
    assert code == 0
    assert document["ok"] is True
    assert document["findings"] == []
    assert document["events"] == 32  # aya 24, ken 4, mio 4 (purged)
    assert document["streams"] == 3


def test_altered_state_bytes(db_url: str, store: dict[str, str]) -> None:
    _, _, state = event_row(db_url, store["ken"], 2)
    set_state(db_url, store["ken"], 2, state.replace(b"Driver", b"Pilots"))
    code, document = verify(db_url)
    assert code == 1
    assert ("altered", store["ken"], 2) in findings(document)


def test_state_rewritten_as_text_is_a_finding_not_a_crash(
    db_url: str, store: dict[str, str]
) -> None:
    """A hand edit that writes the event back as text (an UPDATE from a SQL
    console): SQLite keeps it as text, PostgreSQL casts the literal to
    bytea; either way it is named like any other alteration."""
    _, _, state = event_row(db_url, store["ken"], 2)
    raw(
        db_url,
        f"UPDATE {events_table(db_url)} SET state = ? "
        "WHERE originator_id = ? AND originator_version = ?",
        (
            state.decode().replace("Driver", "Pilots"),
            account_param(db_url, store["ken"]),
            2,
        ),
    )
    code, document = verify(db_url)
    assert code == 1
    assert ("altered", store["ken"], 2) in findings(document)


def test_altered_version(db_url: str, store: dict[str, str]) -> None:
    raw(
        db_url,
        f"UPDATE {events_table(db_url)} SET originator_version = 99 "
        "WHERE originator_id = ? AND originator_version = 4",
        (account_param(db_url, store["ken"]),),
    )
    code, document = verify(db_url)
    assert code == 1
    assert ("altered", store["ken"], 4) in findings(document)


def test_altered_topic(db_url: str, store: dict[str, str]) -> None:
    raw(
        db_url,
        f"UPDATE {events_table(db_url)} SET topic = ? "
        "WHERE originator_id = ? AND originator_version = 3",
        ("domain.seeker:Seeker.ContactRestored", account_param(db_url, store["ken"])),
    )
    code, document = verify(db_url)
    assert code == 1
    assert ("altered", store["ken"], 3) in findings(document)


def _delete(db_url: str, account: str, version: int | None = None) -> None:
    condition = "originator_id = ?"
    params: list[Any] = [account_param(db_url, account)]
    if version is not None:
        condition += " AND originator_version = ?"
        params.append(version)
    raw(db_url, f"DELETE FROM {events_table(db_url)} WHERE {condition}", params)


def test_deleted_middle_event(db_url: str, store: dict[str, str]) -> None:
    _delete(db_url, store["ken"], 2)
    code, document = verify(db_url)
    assert code == 1
    assert ("missing", store["ken"], 2) in findings(document)


def test_deleted_last_event_of_a_stream(db_url: str, store: dict[str, str]) -> None:
    _delete(db_url, store["ken"], 4)
    code, document = verify(db_url)
    assert code == 1
    assert ("missing", store["ken"], 4) in findings(document)


def test_deleted_whole_stream(db_url: str, store: dict[str, str]) -> None:
    _delete(db_url, store["ken"])
    code, document = verify(db_url)
    assert code == 1
    assert {("missing", store["ken"], version) for version in (1, 2, 3, 4)} <= (
        findings(document)
    )


def test_two_events_swapped(db_url: str, store: dict[str, str]) -> None:
    _, second_topic, second = event_row(db_url, store["ken"], 2)
    _, third_topic, third = event_row(db_url, store["ken"], 3)
    for version, topic, state in ((2, third_topic, third), (3, second_topic, second)):
        raw(
            db_url,
            f"UPDATE {events_table(db_url)} SET topic = ?, state = ? "
            "WHERE originator_id = ? AND originator_version = ?",
            (topic, state, account_param(db_url, store["ken"]), version),
        )
    code, document = verify(db_url)
    assert code == 1
    assert {("reordered", store["ken"], 2), ("reordered", store["ken"], 3)} <= (
        findings(document)
    )


def test_forged_event_with_a_correct_stream_chain(
    db_url: str, store: dict[str, str]
) -> None:
    """The forger knows the chain's recipe and appends a matching chain row,
    but cannot make the tree the store committed to contain it."""
    ken = store["ken"]
    _, topic, state = event_row(db_url, ken, 4)
    forged = state.replace(b'"originator_version":4', b'"originator_version":5')
    table = events_table(db_url)
    raw(
        db_url,
        f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
        "VALUES (?, ?, ?, ?)",
        (account_param(db_url, ken), 5, topic, forged),
    )
    new_nid = raw(
        db_url,
        f"SELECT {nid_column(db_url)} FROM {table} "
        "WHERE originator_id = ? AND originator_version = 5",
        (account_param(db_url, ken),),
    )[0][0]
    previous = bytes(
        raw(
            db_url,
            "SELECT stream_hash FROM integrity_events "
            "WHERE originator_id = ? AND originator_version = 4",
            (ken,),
        )[0][0]
    )
    size = raw(db_url, "SELECT size FROM integrity_state")[0][0]
    digest = event_digest(topic, forged)
    raw(
        db_url,
        "INSERT INTO integrity_events (leaf_index, notification_id, originator_id, "
        "originator_version, event_digest, stream_hash) VALUES (?, ?, ?, ?, ?, ?)",
        (size, new_nid, ken, 5, digest, stream_hash(previous, UUID(ken), 5, digest)),
    )
    code, document = verify(db_url)
    assert code == 1
    kinds = {f["kind"] for f in document["findings"]}
    assert "inserted" in kinds


def test_forged_event_with_no_chain_at_all(db_url: str, store: dict[str, str]) -> None:
    ken = store["ken"]
    _, topic, state = event_row(db_url, ken, 4)
    raw(
        db_url,
        f"INSERT INTO {events_table(db_url)} "
        "(originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
        (account_param(db_url, ken), 5, topic, state),
    )
    code, document = verify(db_url)
    assert code == 1
    assert ("inserted", ken, 5) in findings(document)


def _checkpoint(db_url: str, path: Path, *extra: str) -> None:
    done = run_cli(
        ["audit", "checkpoint", "--output", str(path), *extra], db_url=db_url
    )
    assert done.code == 0, done.stderr


def _rechain_from_scratch(db_url: str) -> None:
    """What an insider with the code does after rewriting history: drop every
    integrity row and recompute them all, keeping the store's origin."""
    origin = raw(db_url, "SELECT origin FROM integrity_state")[0][0]
    for table in (
        "integrity_events",
        "integrity_nodes",
        "integrity_state",
        "integrity_checkpoints",
    ):
        raw(db_url, f"DELETE FROM {table}")
    assert run_cli(["audit", "replay"], db_url=db_url).code in (0, 1)  # re-chains
    raw(db_url, "UPDATE integrity_state SET origin = ?", (origin,))


def test_newest_events_cut_off_against_a_kept_checkpoint(
    db_url: str, store: dict[str, str], tmp_path: Path
) -> None:
    kept = tmp_path / "auditor.checkpoints"
    _checkpoint(db_url, kept)
    _delete(db_url, store["mio"])
    _rechain_from_scratch(db_url)
    assert verify(db_url)[0] == 0  # the store alone cannot tell
    code, document = verify(db_url, "--checkpoint", str(kept))
    assert code == 1
    assert "truncated" in {f["kind"] for f in document["findings"]}


def test_whole_log_recomputed_against_a_kept_signed_checkpoint(
    db_url: str, store: dict[str, str], tmp_path: Path
) -> None:
    key = tmp_path / "audit.key"
    assert run_cli(["audit", "keygen", "--output", str(key)]).code == 0
    kept = tmp_path / "auditor.checkpoints"
    _checkpoint(db_url, kept, "--sign-key", str(key))
    _, _, state = event_row(db_url, store["ken"], 2)
    set_state(db_url, store["ken"], 2, state.replace(b"Driver", b"Pilots"))
    _rechain_from_scratch(db_url)
    assert verify(db_url)[0] == 0  # every stored hash agrees with the forgery
    code, document = verify(
        db_url, "--checkpoint", str(kept), "--public-key", f"{key}.pub"
    )
    assert code == 1
    assert "inconsistent" in {f["kind"] for f in document["findings"]}


def test_a_checkpoint_with_a_bad_signature(
    db_url: str, store: dict[str, str], tmp_path: Path
) -> None:
    key = tmp_path / "audit.key"
    assert run_cli(["audit", "keygen", "--output", str(key)]).code == 0
    kept = tmp_path / "auditor.checkpoints"
    _checkpoint(db_url, kept, "--sign-key", str(key))
    text = kept.read_text()
    signature = next(line for line in text.splitlines() if line.startswith("\u2014"))
    flipped = signature[:-6] + ("A" if signature[-6] != "A" else "B") + signature[-5:]
    kept.write_text(text.replace(signature, flipped))
    code, document = verify(
        db_url, "--checkpoint", str(kept), "--public-key", f"{key}.pub"
    )
    assert code == 1
    assert "signature" in {f["kind"] for f in document["findings"]}


def test_a_checkpoint_from_another_store(
    db_url: str, store: dict[str, str], tmp_path: Path
) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    seeded = run_cli(
        ["register", "--name", "Eri Ito", "--email", "eri@example.jp",
         "--birth-date", "1991-01-01", "--policy", "pasona"], db_url=other,
    )  # fmt: skip
    assert seeded.code == 0
    kept = tmp_path / "other.checkpoints"
    _checkpoint(other, kept)
    code, document = verify(db_url, "--checkpoint", str(kept))
    assert code == 1
    assert "origin" in {f["kind"] for f in document["findings"]}


def test_an_edited_snapshot(db_url: str, store: dict[str, str]) -> None:
    table = snapshots_table(db_url)
    rows = raw(db_url, f"SELECT originator_id, originator_version, state FROM {table}")
    assert rows, "the seeded store has a snapshot"
    account, version, state = rows[0]
    edited = re.sub(rb'"contact_attempts":\d+', b'"contact_attempts":7', bytes(state))
    assert edited != bytes(state)
    raw(
        db_url,
        f"UPDATE {table} SET state = ? WHERE originator_id = ?",
        (edited, account),
    )
    code, document = verify(db_url)
    assert code == 1
    assert ("snapshot", str(UUID(str(account))), version) in findings(document)
