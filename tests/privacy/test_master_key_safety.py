"""A lost or wrong master key is never replaced silently (SPEC §7).

A store records the check value of the master key it was created with; a key
file is made only for a store that has never sealed anything. A deleted or
replaced key file, or a wrong ``SEEKERS_MASTER_KEY``, is refused with one
line (exit 6) naming what to restore, and nothing is written: no key file,
no event, no key row. A key file open to others, or not holding base64 of 32
bytes, is refused the same way, never with a traceback.
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from adapters.storage import parse_storage_url
from privacy.key_check import key_check_value
from privacy.key_table import KEY_CHECK_ROW, KeyTable
from privacy.master_key import create_key_file
from services.ledger import SeekerLedger
from tests.cli.steps import one_line_failure
from tests.helpers import CliResult, run_cli

ENV = "SEEKERS_MASTER_KEY"
NAME = "Philippa Thistlewood"
EMAIL = "philippa.thistlewood@key-safety.example"

Snapshot = tuple[int, list[tuple[str, bytes]], list[tuple[str, str, str]]]


# -- helpers ------------------------------------------------------------------


def _fresh_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _register(db_url: str, *, email: str = EMAIL, at: str = "2025-01-10") -> str:
    result = run_cli(
        ["--json", "register", "--name", NAME, "--email", email,
         "--birth-date", "1991-02-03", "--policy", "workport", "--at", at],
        db_url=db_url,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    seeker_id: str = result.json()["id"]
    return seeker_id


def _key_file(db_url: str) -> Path:
    return Path(db_url.removeprefix("sqlite:///") + ".key")


def _write_key_file(path: Path, content: bytes, mode: int = 0o600) -> None:
    path.write_bytes(content)
    path.chmod(mode)


def _open(db_url: str) -> SeekerLedger:
    """The ledger without a vault: reading the tables opens no key."""
    return SeekerLedger(env=parse_storage_url(db_url).environment)


def _rows(ledger: SeekerLedger, sql: str) -> list[dict[str, Any]]:
    datastore: Any = ledger.factory.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(sql)
        return [dict(row) for row in cursor.fetchall()]


def _snapshot(db_url: str) -> Snapshot:
    """Everything a refused command must leave as it was: the event log and
    both key tables, row by row."""
    ledger = _open(db_url)
    try:
        events = ledger.recorder.max_notification_id() or 0
        keys = [
            (str(row["seeker_id"]), bytes(row["wrapped_key"]))
            for row in _rows(
                ledger, "SELECT seeker_id, wrapped_key FROM seeker_keys ORDER BY 1"
            )
        ]
        emails = [
            (str(row["policy"]), str(row["digest"]), str(row["seeker_id"]))
            for row in _rows(
                ledger,
                "SELECT policy, digest, seeker_id FROM email_index ORDER BY 1, 2",
            )
        ]
    finally:
        ledger.close()
    return events, keys, emails


def _key_check(db_url: str) -> bytes | None:
    ledger = _open(db_url)
    try:
        table = KeyTable(ledger.factory.datastore, create=False)  # type: ignore[attr-defined]
        return table.key_check()
    finally:
        ledger.close()


def _forget_key_check(db_url: str) -> None:
    """Make the store look as if written before check values."""
    ledger = _open(db_url)
    try:
        datastore: Any = ledger.factory.datastore  # type: ignore[attr-defined]
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"DELETE FROM seeker_keys WHERE seeker_id = '{KEY_CHECK_ROW}'"
            )
    finally:
        ledger.close()
    assert _key_check(db_url) is None


def _personal_commands(seeker: str) -> dict[str, list[str]]:
    """Every command that needs the master key, on a store holding ``seeker``."""
    return {
        "register": [
            "register", "--name", "Another Person", "--email",
            "another.person@key-safety.example", "--birth-date", "1985-05-05",
            "--policy", "workport", "--at", "2025-01-12",
        ],
        "register-same-email": [
            "register", "--name", "Copy Cat", "--email", EMAIL,
            "--birth-date", "1985-05-05", "--policy", "workport",
            "--at", "2025-01-12",
        ],
        "show": ["show", seeker],
        "apply": ["apply", seeker, "--job", "Archivist", "--at", "2025-01-12"],
        "find": ["find", "--email", EMAIL],
        "export-data": ["export-data", seeker],
    }  # fmt: skip


def _refused_everywhere(db_url: str, seeker: str, *, key_file: Path | None) -> None:
    """Every personal-data command exits 6 with one line, writes nothing, and
    makes no key file. Returns nothing; asserts the one message is the same
    for every command."""
    before = _snapshot(db_url)
    key_bytes = key_file.read_bytes() if key_file and key_file.exists() else None
    messages = set()
    for name, args in _personal_commands(seeker).items():
        for as_json in (False, True):
            result = run_cli(["--json", *args] if as_json else args, db_url=db_url)
            line = one_line_failure(result, 6)
            if as_json:
                assert '"code": 6' in line, (name, line)
                continue
            assert line.startswith("storage unavailable: "), (name, line)
            messages.add(line)
            assert _snapshot(db_url) == before, f"{name} wrote to the store"
            if key_file is not None:
                if key_bytes is None:
                    assert not key_file.exists(), f"{name} made a key file"
                else:
                    assert key_file.read_bytes() == key_bytes, name
    assert len(messages) == 1, messages
    assert _snapshot(db_url) == before


def _message(result: CliResult) -> str:
    return one_line_failure(result, 6).removeprefix("storage unavailable: ")


# -- a store that holds sealed data refuses any other key ---------------------


def test_deleted_key_file_with_sealed_data_refuses_every_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV)
    db_url = f"sqlite:///{tmp_path / 'seekers.db'}"
    seeker = _register(db_url)
    key_file = _key_file(db_url)
    check = _key_check(db_url)
    assert check is not None
    key_file.unlink()

    _refused_everywhere(db_url, seeker, key_file=key_file)
    message = _message(run_cli(["show", seeker], db_url=db_url))
    assert message == (
        f"master key file {key_file} is missing, but this store holds personal "
        f"data sealed with key check {check[:4].hex()}…; no new key was made: "
        f"restore {key_file} from backup or set SEEKERS_MASTER_KEY to the key "
        "this store was created with"
    )
    # What holds no personal data still works, and still makes no key.
    assert run_cli(["--json", "list"], db_url=db_url).code == 0
    assert not key_file.exists()


def test_replaced_key_file_refuses_every_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV)
    db_url = f"sqlite:///{tmp_path / 'seekers.db'}"
    seeker = _register(db_url)
    key_file = _key_file(db_url)
    original = key_file.read_bytes()
    other = _fresh_key()
    _write_key_file(key_file, (other + "\n").encode())

    _refused_everywhere(db_url, seeker, key_file=key_file)
    check = key_check_value(base64.b64decode(original))
    given = key_check_value(base64.b64decode(other))
    assert _message(run_cli(["show", seeker], db_url=db_url)) == (
        f"the master key in key file {key_file} does not match this store "
        f"(it was sealed with key check {check[:4].hex()}…, this key's is "
        f"{given[:4].hex()}…); restore {key_file} from backup or set "
        "SEEKERS_MASTER_KEY to the key this store was created with"
    )
    # Restoring the original key file is all it takes.
    _write_key_file(key_file, original)
    shown = run_cli(["--json", "show", seeker], db_url=db_url)
    assert shown.code == 0, shown.stderr
    assert shown.json()["name"] == NAME


def test_wrong_environment_key_refuses_every_command(
    db_url: str, master_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeker = _register(db_url)
    monkeypatch.setenv(ENV, _fresh_key())

    on_sqlite = db_url.startswith("sqlite")
    _refused_everywhere(
        db_url, seeker, key_file=_key_file(db_url) if on_sqlite else None
    )
    message = _message(run_cli(["show", seeker], db_url=db_url))
    check = key_check_value(base64.b64decode(master_key))
    assert message.startswith(
        "the master key in SEEKERS_MASTER_KEY does not match this store "
        f"(it was sealed with key check {check[:4].hex()}…, this key's is "
    )
    if on_sqlite:
        assert message.endswith(
            "set SEEKERS_MASTER_KEY to the key this store was created with, or "
            f"unset it and restore {_key_file(db_url)} from backup"
        )
        assert not _key_file(db_url).exists()
    else:
        assert message.endswith(
            "; set SEEKERS_MASTER_KEY to the key this store was created with"
        )
    monkeypatch.setenv(ENV, master_key)
    assert run_cli(["--json", "show", seeker], db_url=db_url).json()["name"] == NAME


def test_a_key_given_first_in_the_environment_is_not_replaced_by_a_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SQLite store created under SEEKERS_MASTER_KEY has no key file; run
    without the variable, it must not get a new one."""
    db_url = f"sqlite:///{tmp_path / 'seekers.db'}"
    seeker = _register(db_url)
    monkeypatch.delenv(ENV)
    _refused_everywhere(db_url, seeker, key_file=_key_file(db_url))


# -- a fresh store ------------------------------------------------------------


def test_a_fresh_store_creates_its_key_file_0600_with_the_note_and_records_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV)
    db_url = f"sqlite:///{tmp_path / 'seekers.db'}"
    first = run_cli(
        ["register", "--name", NAME, "--email", EMAIL, "--birth-date",
         "1991-02-03", "--policy", "workport", "--at", "2025-01-10"],
        db_url=db_url,
    )  # fmt: skip
    assert first.code == 0, first.stderr
    key_file = _key_file(db_url)
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert first.stderr.count("note: created master key file") == 1
    assert str(key_file) in first.stderr
    key = base64.b64decode(key_file.read_bytes().strip(), validate=True)
    assert len(key) == 32
    assert _key_check(db_url) == key_check_value(key)
    again = run_cli(["--json", "find", "--email", EMAIL], db_url=db_url)
    assert again.code == 0 and again.stderr == ""
    assert len(again.json()["accounts"]) == 1


def test_a_fresh_store_records_the_check_of_the_environment_key(
    db_url: str, master_key: str
) -> None:
    _register(db_url)
    assert _key_check(db_url) == key_check_value(base64.b64decode(master_key))
    if db_url.startswith("sqlite"):
        assert not _key_file(db_url).exists()


def test_the_first_check_value_recorded_stays(db_url: str) -> None:
    """Two processes opening a fresh store at once: the second key loses."""
    _register(db_url)
    ledger = _open(db_url)
    try:
        table = KeyTable(ledger.factory.datastore, create=False)  # type: ignore[attr-defined]
        first = table.key_check()
        assert first is not None
        assert table.record_key_check(b"another value") == first
        assert table.key_check() == first
    finally:
        ledger.close()


# -- stores written before check values ---------------------------------------


def test_a_legacy_store_gets_its_check_value_on_first_open(
    db_url: str, master_key: str
) -> None:
    seeker = _register(db_url)
    _forget_key_check(db_url)
    events, keys, emails = _snapshot(db_url)
    shown = run_cli(["--json", "show", seeker], db_url=db_url)
    assert shown.code == 0, shown.stderr
    assert shown.json()["name"] == NAME
    assert _key_check(db_url) == key_check_value(base64.b64decode(master_key))
    after_events, after_keys, after_emails = _snapshot(db_url)
    assert (after_events, after_emails) == (events, emails)
    assert [row for row in after_keys if row[0] != KEY_CHECK_ROW] == keys


def test_a_legacy_store_refuses_a_key_that_does_not_open_its_data_keys(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeker = _register(db_url)
    _forget_key_check(db_url)
    monkeypatch.setenv(ENV, _fresh_key())
    on_sqlite = db_url.startswith("sqlite")
    _refused_everywhere(
        db_url, seeker, key_file=_key_file(db_url) if on_sqlite else None
    )
    assert _key_check(db_url) is None
    message = _message(run_cli(["show", seeker], db_url=db_url))
    assert message.startswith(
        "the master key in SEEKERS_MASTER_KEY does not match this store "
        "(it does not open the data keys the store holds); set "
        "SEEKERS_MASTER_KEY to the key this store was created with"
    )


def test_a_legacy_store_without_its_key_file_makes_no_new_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV)
    db_url = f"sqlite:///{tmp_path / 'seekers.db'}"
    seeker = _register(db_url)
    _forget_key_check(db_url)
    key_file = _key_file(db_url)
    key_file.unlink()
    _refused_everywhere(db_url, seeker, key_file=key_file)
    assert _message(run_cli(["show", seeker], db_url=db_url)) == (
        f"master key file {key_file} is missing, but this store holds personal "
        "data sealed with a key recorded before check values; no new key was "
        f"made: restore {key_file} from backup or set SEEKERS_MASTER_KEY to "
        "the key this store was created with"
    )


# -- the key file itself ------------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_open_to_others_is_refused_with_the_chmod_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    monkeypatch.delenv(ENV)
    db_url = f"sqlite:///{tmp_path / 'seekers.db'}"
    seeker = _register(db_url)
    key_file = _key_file(db_url)
    key_file.chmod(mode)
    before = _snapshot(db_url)
    for args in (["show", seeker], ["find", "--email", EMAIL]):
        assert _message(run_cli(args, db_url=db_url)) == (
            f"permissions {mode:04o} for '{key_file}' are too open: the master "
            f"key must be readable by its owner only; chmod 600 {key_file}"
        )
    assert _snapshot(db_url) == before
    assert stat.S_IMODE(os.stat(key_file).st_mode) == mode  # never "fixed" for you
    key_file.chmod(0o600)
    assert run_cli(["--json", "show", seeker], db_url=db_url).code == 0


def _valid_key_text() -> bytes:
    return (_fresh_key() + "\n").encode()


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"\xff\xfe\x80" + secrets.token_bytes(40), "it is not ASCII text"),
        (bytes(range(256)), "it is not ASCII text"),
        (b"not a key at all!\n", "it is not base64"),
        (_valid_key_text()[:22], "it is not base64"),  # truncated mid-quantum
        (_valid_key_text()[:24] + b"\n", "it holds 18 bytes"),  # truncated
        (b"", "it holds 0 bytes"),
        (base64.b64encode(b"x" * 64) + b"\n", "it holds 64 bytes"),
        (b"A" * 10_000, "it is too long"),
    ],
    ids=["random-bytes", "all-bytes", "text", "truncated", "short", "empty",
         "too-long-key", "huge"],
)  # fmt: skip
def test_an_invalid_key_file_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, why: str
) -> None:
    monkeypatch.delenv(ENV)
    db_url = f"sqlite:///{tmp_path / 'seekers.db'}"
    seeker = _register(db_url)
    key_file = _key_file(db_url)
    _write_key_file(key_file, content)
    before = _snapshot(db_url)
    for args in (["show", seeker], ["register", "--name", "X Y", "--email",
                                    "x.y@key-safety.example", "--birth-date",
                                    "1980-01-01", "--policy", "workport"]):  # fmt: skip
        assert _message(run_cli(args, db_url=db_url)) == (
            f"master key file {key_file} is not a valid key (base64 of 32 bytes "
            f"on one line): {why}; restore it from backup or set "
            "SEEKERS_MASTER_KEY"
        )
    assert _snapshot(db_url) == before
    assert key_file.read_bytes() == content  # never overwritten


def test_an_invalid_key_file_beside_a_fresh_store_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV)
    db_url = f"sqlite:///{tmp_path / 'seekers.db'}"
    key_file = _key_file(db_url)
    _write_key_file(key_file, b"\x00\x01garbage")
    result = run_cli(
        ["register", "--name", NAME, "--email", EMAIL, "--birth-date",
         "1991-02-03", "--policy", "workport"],
        db_url=db_url,
    )  # fmt: skip
    assert "is not a valid key" in _message(result)
    assert key_file.read_bytes() == b"\x00\x01garbage"
    assert _snapshot(db_url)[0] == 0


def test_a_key_file_that_is_no_file_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV)
    db_url = f"sqlite:///{tmp_path / 'seekers.db'}"
    seeker = _register(db_url)
    key_file = _key_file(db_url)
    key_file.unlink()
    key_file.mkdir(mode=0o700)
    assert _message(run_cli(["show", seeker], db_url=db_url)) == (
        f"master key file {key_file} is not a regular file; restore it from "
        "backup or set SEEKERS_MASTER_KEY"
    )
    key_file.rmdir()
    os.mkfifo(key_file, 0o600)  # nothing will ever write to it
    assert _message(run_cli(["show", seeker], db_url=db_url)) == (
        f"master key file {key_file} is not a regular file; restore it from "
        "backup or set SEEKERS_MASTER_KEY"
    )


def test_an_invalid_environment_key_is_one_clear_line(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeker = _register(db_url)
    before = _snapshot(db_url)
    for value, message in [
        ("pâté", "SEEKERS_MASTER_KEY is not valid base64"),
        ("c2hvcnQ=", "SEEKERS_MASTER_KEY must hold 32 bytes (base64), not 5"),
    ]:
        monkeypatch.setenv(ENV, value)
        assert _message(run_cli(["show", seeker], db_url=db_url)) == message
    assert _snapshot(db_url) == before


def test_processes_creating_the_key_file_at_once_all_get_the_same_key(
    tmp_path: Path,
) -> None:
    """The key file appears whole (written aside, then linked into place):
    whoever loses the race reads the winner's key, never a half-written file."""
    path = tmp_path / "seekers.db.key"
    notes: list[str] = []
    start = threading.Barrier(8)

    def create() -> bytes:
        start.wait()
        return create_key_file(path, notes.append)

    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = list(pool.map(lambda _: create(), range(8)))
    assert len(set(keys)) == 1
    assert len(notes) == 1
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seekers.db.key"]
