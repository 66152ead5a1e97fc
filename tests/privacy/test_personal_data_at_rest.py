"""SPEC §7: personal data is never stored in plaintext, and a purge makes it
unrecoverable everywhere at once while the history keeps its shape."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from tests.helpers import ledger_for, run_cli

DISTINCTIVE = {
    "name": "Zebediah Quillfeather",
    "email": "zebediah.quillfeather@uniquely-distinctive.example",
    "phone": "+81-90-7777-1234",
    "note": "prefers afternoon interviews near Kichijoji",
}
OTHER = {
    "name": "Ottoline Brackenbury",
    "email": "ottoline.brackenbury@other-distinctive.example",
    "phone": "+81-80-5555-9876",
}


def _register(db_url: str, who: dict[str, str], policy: str = "workport") -> str:
    result = run_cli(
        [
            "--json", "register", "--name", who["name"], "--email", who["email"],
            "--phone", who["phone"], "--birth-date", "1991-02-03",
            "--policy", policy, "--at", "2025-01-10",
        ],
        db_url=db_url,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    seeker_id: str = result.json()["id"]
    return seeker_id


def _ok(db_url: str, *args: str) -> dict[str, object]:
    result = run_cli(["--json", *args], db_url=db_url)
    assert result.code == 0, result.stderr
    document: dict[str, object] = result.json()
    return document


def _sqlite_files(db_url: str) -> list[Path]:
    path = Path(db_url.removeprefix("sqlite:///"))
    return [p for p in (path, path.with_name(path.name + "-wal")) if p.exists()]


def _raw_bytes(db_url: str) -> bytes:
    return b"".join(path.read_bytes() for path in _sqlite_files(db_url))


def _plaintexts(who: dict[str, str]) -> list[bytes]:
    return [value.encode() for value in who.values()]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'seekers.db'}"


def test_no_personal_string_reaches_the_database_files_at_any_time(
    sqlite_url: str,
) -> None:
    seeker = _register(sqlite_url, DISTINCTIVE)
    steps = [
        ["apply", seeker, "--job", "Archivist", "--at", "2025-01-11"],
        ["pause", seeker, "--reason", DISTINCTIVE["note"], "--at", "2025-01-12"],
        ["resume", seeker, "--at", "2025-01-13"],
        ["request-withdrawal", seeker, "--channel", "phone", "--reason",
         "job_found", "--note", DISTINCTIVE["note"], "--at", "2025-01-14"],
    ]  # fmt: skip
    for step in steps:
        _ok(sqlite_url, *step)
        raw = _raw_bytes(sqlite_url)
        for plaintext in _plaintexts(DISTINCTIVE):
            assert plaintext not in raw, f"{plaintext!r} found after {step[0]}"
    shown = _ok(sqlite_url, "show", seeker)
    assert shown["name"] == DISTINCTIVE["name"]
    assert shown["phone"] == DISTINCTIVE["phone"]


def test_purge_destroys_the_key_in_the_files_and_leaves_others_readable(
    sqlite_url: str,
) -> None:
    purged = _register(sqlite_url, DISTINCTIVE)
    kept = _register(sqlite_url, OTHER)
    ledger = ledger_for(sqlite_url)
    try:
        vault = ledger.vault
        assert vault is not None
        wrapped = vault.table.wrapped_key(purged)  # type: ignore[attr-defined]
    finally:
        ledger.close()
    assert wrapped is not None
    assert wrapped in _raw_bytes(sqlite_url)  # so the check below means something

    _ok(sqlite_url, "request-withdrawal", purged, "--channel", "phone",
        "--reason", "job_found", "--erase-data", "--at", "2025-02-01")  # fmt: skip
    withdrawn = _ok(sqlite_url, "withdraw", purged, "--at", "2025-02-02")
    assert withdrawn["events"] == ["Withdrawn", "Purged"]

    raw = _raw_bytes(sqlite_url)
    assert wrapped not in raw
    assert base64.b64encode(wrapped) not in raw
    for plaintext in _plaintexts(DISTINCTIVE):
        assert plaintext not in raw
    other = _ok(sqlite_url, "show", kept)
    assert other["name"] == OTHER["name"]
    assert other["email"] == OTHER["email"]


def test_key_file_is_created_beside_a_sqlite_store_with_mode_0600_once(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SEEKERS_MASTER_KEY")
    first = run_cli(
        ["register", "--name", "A B", "--email", "a@b.example", "--birth-date",
         "1990-01-01", "--policy", "hellowork", "--at", "2025-01-01"],
        db_url=sqlite_url,
    )  # fmt: skip
    assert first.code == 0
    key_file = Path(sqlite_url.removeprefix("sqlite:///") + ".key")
    assert key_file.exists()
    assert oct(os.stat(key_file).st_mode & 0o777) == "0o600"
    assert first.stderr.count("created master key file") == 1
    second = run_cli(["--json", "list"], db_url=sqlite_url)
    assert second.code == 0 and "created master key file" not in second.stderr


def test_wrong_master_key_is_a_clear_storage_error(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeker = _register(db_url, DISTINCTIVE)
    monkeypatch.setenv(
        "SEEKERS_MASTER_KEY", base64.b64encode(b"x" * 32).decode("ascii")
    )
    result = run_cli(["show", seeker], db_url=db_url)
    assert result.code == 6
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        "storage unavailable: the master key in SEEKERS_MASTER_KEY does not "
        "match this store (it was sealed with key check "
    )  # the whole message: tests/privacy/test_master_key_safety.py
    # What holds no personal data still works without the right key.
    assert run_cli(["--json", "list"], db_url=db_url).code == 0


def test_missing_master_key_is_an_error_on_postgresql_and_a_key_file_on_sqlite(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SEEKERS_MASTER_KEY")
    result = run_cli(
        ["register", "--name", "A B", "--email", "a@b.example", "--birth-date",
         "1990-01-01", "--policy", "hellowork"],
        db_url=db_url,
    )  # fmt: skip
    if db_url.startswith("sqlite"):
        assert result.code == 0
        assert "created master key file" in result.stderr
        return
    assert result.code == 6
    assert result.stderr.strip().splitlines() == [
        "storage unavailable: SEEKERS_MASTER_KEY is not set: a PostgreSQL store "
        "needs the master key (base64 of 32 bytes) to read or write personal data"
    ]
    assert run_cli(["--json", "list"], db_url=db_url).code == 0


@pytest.mark.parametrize(
    "path",
    ["pasona_erased_at_withdrawal", "erase_data_request", "purge_command"],
)
def test_purge_erases_personal_fields_in_every_view(db_url: str, path: str) -> None:
    policy = "pasona" if path == "pasona_erased_at_withdrawal" else "workport"
    seeker = _register(db_url, DISTINCTIVE, policy)
    kept = _register(db_url, OTHER, policy)
    _ok(db_url, "apply", seeker, "--job", "Archivist", "--at", "2025-01-11")
    if path == "pasona_erased_at_withdrawal":
        _ok(db_url, "request-withdrawal", seeker, "--channel", "web", "--reason",
            "job_found", "--at", "2025-01-20")  # fmt: skip
        done = _ok(db_url, "withdraw", seeker, "--at", "2025-01-21")
        assert done["events"][-2:] == ["Withdrawn", "Purged"]  # type: ignore[index]
    elif path == "erase_data_request":
        _ok(db_url, "request-withdrawal", seeker, "--channel", "phone", "--reason",
            "job_found", "--erase-data", "--at", "2025-01-20")  # fmt: skip
        _ok(db_url, "withdraw", seeker, "--at", "2025-01-21")
    else:
        _ok(db_url, "request-withdrawal", seeker, "--channel", "phone", "--reason",
            "job_found", "--at", "2025-01-20")  # fmt: skip
        _ok(db_url, "withdraw", seeker, "--at", "2025-01-21")
        _ok(db_url, "purge", seeker, "--reason", "deletion_request",
            "--at", "2025-01-21")  # fmt: skip

    for extra in ([], ["--as-of", "2025-01-15"], ["--known-at", "2025-01-15"],
                  ["--as-of", "2025-01-15", "--known-at", "2030-01-01"]):  # fmt: skip
        shown = run_cli(["--json", "show", seeker, *extra], db_url=db_url)
        if shown.code == 3:  # nothing was recorded by that known-at time
            continue
        assert shown.code == 0, shown.stderr
        view = shown.json()
        for field in ("name", "email", "phone", "birth_date"):
            assert view[field] is None, (extra, field)
    history = _ok(db_url, "history", seeker)
    kinds = [event["type"] for event in history["events"]]  # type: ignore[index]
    assert kinds[0] == "Registered" and kinds[-1] == "Purged"
    exported = run_cli(["export-data", seeker], db_url=db_url)
    assert exported.code == 0
    assert "personal data erased" in exported.stderr
    assert DISTINCTIVE["name"] not in exported.stdout
    assert _ok(db_url, "find", "--email", DISTINCTIVE["email"])["accounts"] == []
    assert _ok(db_url, "show", kept)["name"] == OTHER["name"]


def test_snapshots_after_a_purge_hold_no_personal_data(db_url: str) -> None:
    seeker = _register(db_url, DISTINCTIVE)
    ledger = ledger_for(db_url)
    try:
        from uuid import UUID

        seeker_id = UUID(seeker)
        for _ in range(120):  # past the snapshot interval (100 events)
            ledger.execute(
                seeker_id,
                lambda s, at: s.contact(
                    at=at, actor="t", channel="phone", outcome="no_answer"
                ),
            )
        assert ledger.snapshots is not None
        assert list(ledger.snapshots.get(seeker_id))
        ledger.execute(
            seeker_id,
            lambda s, at: s.request_withdrawal(
                at=at, actor="t", channel="phone", reason="job_found", note=None,
                verify_name=None, verify_birth_date=None, erase_data=True,
            ),
        )  # fmt: skip
        ledger.execute(seeker_id, lambda s, at: s.withdraw(at=at, actor="t"))
    finally:
        ledger.close()
    fresh = ledger_for(db_url)
    try:
        snapshot = list(fresh.snapshots.get(seeker_id))[-1]  # type: ignore[union-attr]
        assert snapshot.state["personal"] is None
        assert fresh.get_seeker(seeker_id).personal is None
    finally:
        fresh.close()


def test_duplicate_email_under_the_same_policy_is_refused_until_purged(
    db_url: str,
) -> None:
    first = _register(db_url, DISTINCTIVE, "hellowork")
    again = run_cli(
        ["--json", "register", "--name", "Someone Else", "--email",
         DISTINCTIVE["email"].upper(), "--birth-date", "1990-01-01",
         "--policy", "hellowork", "--at", "2025-03-01"],
        db_url=db_url,
    )  # fmt: skip
    assert again.code == 4
    assert first in again.error()["error"]["message"]
    # Another policy is another agency: allowed.
    _register(db_url, DISTINCTIVE, "workport")
    # Withdrawn within its window: the refusal points at reinstate.
    _ok(db_url, "request-withdrawal", first, "--channel", "web", "--at", "2025-03-02")
    _ok(db_url, "withdraw", first, "--at", "2025-03-02")
    within = run_cli(
        ["register", "--name", "Z Q", "--email", DISTINCTIVE["email"],
         "--birth-date", "1990-01-01", "--policy", "hellowork",
         "--at", "2025-03-10"],
        db_url=db_url,
    )  # fmt: skip
    assert within.code == 4
    assert "reinstate" in within.stderr
    _ok(db_url, "purge", first, "--reason", "deletion_request", "--at", "2025-03-11")
    _register(db_url, DISTINCTIVE, "hellowork")
    found = _ok(db_url, "find", "--email", DISTINCTIVE["email"])
    assert len(found["accounts"]) == 2  # type: ignore[arg-type]
