"""A checkpoint file is exactly one C2SP signed note, checkable by note tools.

The checks below are the C2SP texts' own (https://c2sp.org/signed-note,
https://c2sp.org/tlog-checkpoint), written here independently of
``integrity.checkpoint``: the note is verified with nothing but the
verifier key ``audit keygen`` prints, as an off-the-shelf note verifier
(Go's ``golang.org/x/mod/sumdb/note``) would.
"""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from integrity.chaining import ChainedLog
from tests.helpers import ledger_for, run_cli
from tests.integrity.support import go_program, kept_checkpoints, register

SIGNATURE_LINE = re.compile(r"^\u2014 (?P<name>[^\s+]+) (?P<blob>[A-Za-z0-9+/=]+)$")


def open_note(note: bytes, verifier_key: str) -> list[str]:
    """The note's text lines, once a signature of ``verifier_key`` verifies
    (signed-note: text, a blank line, signature lines, a final newline)."""
    name, key_hash, key_data = verifier_key.split("+", 2)
    key = base64.b64decode(key_data, validate=True)
    assert key[:1] == b"\x01" and len(key) == 33  # Ed25519
    assert key_hash == hashlib.sha256(name.encode() + b"\n" + key).digest()[:4].hex()
    text = note.decode("utf-8")
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert text.count("\n\n") == 1, "one note: one blank line before the signatures"
    message, _, signatures = text.partition("\n\n")
    message += "\n"
    assert all(c == "\n" or c >= " " for c in message)
    verified = False
    for line in signatures.removesuffix("\n").split("\n"):
        match = SIGNATURE_LINE.match(line)
        assert match, f"not a signature line: {line!r}"
        blob = base64.b64decode(match["blob"], validate=True)
        if match["name"] != name or blob[:4].hex() != key_hash:
            continue
        assert len(blob) == 4 + 64
        try:
            Ed25519PublicKey.from_public_bytes(key[1:]).verify(
                blob[4:], message.encode()
            )
        except InvalidSignature:
            pytest.fail("the signature does not verify")
        verified = True
    assert verified, "no signature of the verifier key"
    return message.removesuffix("\n").split("\n")


@pytest.fixture
def keyed(db_url: str, tmp_path: Path) -> tuple[Path, str]:
    register(db_url, "Aya Mori", "aya@example.jp")
    key = tmp_path / "agency.key"
    made = run_cli(["--json", "audit", "keygen", "--output", str(key)])
    assert made.code == 0, made.stderr
    return key, made.json()["verifier_key"]


def signed_checkpoint(
    db_url: str, folder: Path, keyed: tuple[Path, str]
) -> tuple[Path, str]:
    """A checkpoint signed with the agency's key, written to a new file; the
    file and the key's verifier key."""
    key, verifier = keyed
    path = folder / "checkpoint.note"
    done = run_cli(
        ["audit", "checkpoint", "--sign-key", str(key), "--output", str(path)],
        db_url=db_url,
    )
    assert done.code == 0, done.stderr
    return path, verifier


def test_a_signed_checkpoint_file_is_one_signed_note(
    db_url: str, tmp_path: Path, keyed: tuple[Path, str]
) -> None:
    path, verifier = signed_checkpoint(db_url, tmp_path, keyed)
    origin, size, root, *extensions = open_note(path.read_bytes(), verifier)
    assert origin.startswith("seekers.ledger/") and " " not in origin
    assert re.fullmatch(r"0|[1-9][0-9]*", size) and int(size) == 1
    assert len(base64.b64decode(root, validate=True)) == 32
    assert extensions and extensions[0].startswith("time ")
    ledger = ledger_for(db_url)
    try:
        state = ChainedLog(ledger).state()
    finally:
        ledger.close()
    assert state is not None
    assert (int(size), base64.b64decode(root)) == (state.size, state.root)


def test_keygen_prints_the_verifier_key(tmp_path: Path) -> None:
    key = tmp_path / "agency.key"
    made = run_cli(["audit", "keygen", "--output", str(key)])
    assert made.code == 0
    (line,) = [row for row in made.stdout.splitlines() if "verifier key" in row]
    verifier = line.split()[2]
    name, key_hash, data = verifier.split("+", 2)
    assert name == "seekers-audit"
    assert re.fullmatch(r"[0-9a-f]{8}", key_hash)
    pem = (tmp_path / "agency.key.pub").read_bytes()
    from cryptography.hazmat.primitives import serialization

    public = serialization.load_pem_public_key(pem)
    raw_key = public.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert base64.b64decode(data) == b"\x01" + raw_key


def test_an_existing_checkpoint_file_is_never_overwritten(
    db_url: str, tmp_path: Path, keyed: tuple[Path, str]
) -> None:
    key, _ = keyed
    path = tmp_path / "kept.note"
    path.write_text("the auditor's earlier checkpoint\n")
    before = kept_checkpoints(db_url)
    refused = run_cli(
        ["audit", "checkpoint", "--sign-key", str(key), "--output", str(path)],
        db_url=db_url,
    )
    assert refused.code == 2
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "never overwritten" in refused.stderr
    assert path.read_text() == "the auditor's earlier checkpoint\n"
    assert kept_checkpoints(db_url) == before  # validated first: nothing recorded


def test_a_folder_of_checkpoints_and_repeated_options(
    db_url: str, tmp_path: Path, keyed: tuple[Path, str]
) -> None:
    key, verifier = keyed
    folder = tmp_path / "kept"
    folder.mkdir()
    for _ in range(2):
        done = run_cli(
            ["audit", "checkpoint", "--sign-key", str(key), "--output", str(folder)],
            db_url=db_url,
        )
        assert done.code == 0, done.stderr
        register(db_url, "Ken Abe", f"ken{len(list(folder.iterdir()))}@example.jp")
    files = sorted(folder.iterdir())
    assert len(files) == 2
    for file in files:
        open_note(file.read_bytes(), verifier)
    public = f"{key}.pub"
    by_folder = run_cli(
        ["--json", "audit", "verify", "--public-key", public, "--checkpoint",
         str(folder)], db_url=db_url,
    )  # fmt: skip
    by_files = run_cli(
        ["--json", "audit", "verify", "--public-key", public, "--checkpoint",
         str(files[0]), "--checkpoint", str(files[1])], db_url=db_url,
    )  # fmt: skip
    for result in (by_folder, by_files):
        assert result.code == 0, result.stdout
        assert result.json()["checkpoints"] == kept_checkpoints(db_url) + 2


def test_a_file_of_appended_checkpoints_from_earlier_versions_still_verifies(
    db_url: str, tmp_path: Path, keyed: tuple[Path, str]
) -> None:
    """Earlier versions appended each checkpoint and a blank line to one file."""
    key, _ = keyed
    texts = []
    for _ in range(2):
        done = run_cli(
            ["--json", "audit", "checkpoint", "--sign-key", str(key)], db_url=db_url
        )
        texts.append(done.json()["text"] + "\n")
    legacy = tmp_path / "auditor.checkpoints"
    legacy.write_text("".join(texts))
    checked = run_cli(
        ["--json", "audit", "verify", "--public-key", f"{key}.pub", "--checkpoint",
         str(legacy)], db_url=db_url,
    )  # fmt: skip
    assert checked.code == 0, checked.stdout
    assert checked.json()["checkpoints"] == 4


def test_a_folder_with_no_checkpoint_is_one_line_exit_2(
    db_url: str, tmp_path: Path, keyed: tuple[Path, str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli(["audit", "verify", "--checkpoint", str(empty)], db_url=db_url)
    assert result.code == 2
    assert "no checkpoint file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="session")
def go_note_verifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tests/support/noteverify``: Go's own note package, as an auditor's
    tools would use it."""
    return go_program("noteverify", tmp_path_factory.mktemp("go"))


def test_gos_note_package_verifies_a_checkpoint_file_as_written(
    db_url: str, tmp_path: Path, keyed: tuple[Path, str], go_note_verifier: Path
) -> None:
    path, verifier = signed_checkpoint(db_url, tmp_path, keyed)
    opened = subprocess.run(
        [str(go_note_verifier), str(path), verifier], capture_output=True, text=True
    )
    assert opened.returncode == 0, opened.stdout
    assert opened.stdout.splitlines() == open_note(path.read_bytes(), verifier)
    # What earlier versions wrote (a blank line after the note) it rejects.
    padded = tmp_path / "padded.note"
    padded.write_bytes(path.read_bytes() + b"\n")
    rejected = subprocess.run(
        [str(go_note_verifier), str(padded), verifier], capture_output=True, text=True
    )
    assert rejected.returncode == 1
    assert "malformed note" in rejected.stdout
