"""Evidence bundles, exports, purges and bad input, through the real CLI.

An agency hands an ombudsman one seeker's bundle; an auditor takes an export
home; a purged seeker's history must still verify while their personal data
stays unreadable; and every bad file or key is one clear line and the exit
code of SPEC §8 (0 clean, 1 findings, 2 usage, 3 unknown seeker, 6 storage
or unreadable key file), never a traceback.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CliResult, run_cli
from tests.integrity.support import raw, seeded_store


@pytest.fixture
def store(db_url: str) -> dict[str, str]:
    return seeded_store(db_url)


def one_line_error(result: CliResult, code: int) -> None:
    assert result.code == code, (result.code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def kinds(result: CliResult) -> set[str]:
    return {finding["kind"] for finding in result.json()["findings"]}


def prove(db_url: str, seeker: str, path: Path, *extra: str) -> dict[str, Any]:
    done = run_cli(
        ["audit", "prove", seeker, "--output", str(path), *extra], db_url=db_url
    )
    assert done.code == 0, done.stderr
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def test_a_purged_seekers_history_still_verifies_and_stays_unreadable(
    db_url: str, store: dict[str, str], tmp_path: Path
) -> None:
    mio = store["mio"]
    shown = run_cli(["--json", "show", mio], db_url=db_url).json()
    assert shown["status"] == "purged"
    assert shown["name"] is None and shown["email"] is None
    verified = run_cli(["--json", "audit", "verify"], db_url=db_url)
    assert verified.code == 0, verified.stdout
    bundle_path = tmp_path / "mio.evidence.json"
    bundle = prove(db_url, mio, bundle_path)
    assert [event["version"] for event in bundle["events"]] == [1, 2, 3, 4]
    assert b"Mio Sato" not in bundle_path.read_bytes()
    assert b"mio@example.jp" not in bundle_path.read_bytes()
    checked = run_cli(["--json", "audit", "verify", "--bundle", str(bundle_path)])
    assert checked.code == 0, checked.stdout
    assert checked.json()["events"] == 4
    keys = raw(db_url, "SELECT count(*) FROM seeker_keys WHERE seeker_id = ?", (mio,))
    assert keys[0][0] == 0


def test_a_signed_bundle_verifies_offline_with_the_public_key(
    db_url: str, store: dict[str, str], tmp_path: Path
) -> None:
    key = tmp_path / "audit.key"
    assert run_cli(["audit", "keygen", "--output", str(key)]).code == 0
    bundle_path = tmp_path / "ken.json"
    prove(db_url, store["ken"], bundle_path, "--sign-key", str(key))
    checked = run_cli(
        ["audit", "verify", "--bundle", str(bundle_path), "--public-key", f"{key}.pub"]
    )
    assert checked.code == 0, checked.stdout
    assert "no findings" in checked.stdout
    other = tmp_path / "other.key"
    assert run_cli(["audit", "keygen", "--output", str(other)]).code == 0
    wrong = run_cli(
        ["--json", "audit", "verify", "--bundle", str(bundle_path),
         "--public-key", f"{other}.pub"]
    )  # fmt: skip
    assert wrong.code == 1
    assert kinds(wrong) == {"signature"}


def test_an_edited_bundle_is_caught(
    db_url: str, store: dict[str, str], tmp_path: Path
) -> None:
    bundle_path = tmp_path / "ken.json"
    bundle = prove(db_url, store["ken"], bundle_path)
    state = base64.b64decode(bundle["events"][1]["state"])
    bundle["events"][1]["state"] = base64.b64encode(
        state.replace(b"Driver", b"Pilots")
    ).decode()
    bundle_path.write_text(json.dumps(bundle))
    edited = run_cli(["--json", "audit", "verify", "--bundle", str(bundle_path)])
    assert edited.code == 1
    finding = edited.json()["findings"][0]
    assert (finding["kind"], finding["account"], finding["version"]) == (
        "altered",
        store["ken"],
        2,
    )
    del bundle["events"][2]
    bundle_path.write_text(json.dumps(bundle))
    shortened = run_cli(["--json", "audit", "verify", "--bundle", str(bundle_path)])
    assert shortened.code == 1
    assert "missing" in kinds(shortened)


def test_a_bundle_from_another_store(
    db_url: str, store: dict[str, str], tmp_path: Path
) -> None:
    kept = tmp_path / "kept.checkpoints"
    done = run_cli(["audit", "checkpoint", "--output", str(kept)], db_url=db_url)
    assert done.code == 0
    other = f"sqlite:///{tmp_path / 'other.db'}"
    registered = run_cli(
        ["--json", "register", "--name", "Eri Ito", "--email", "eri@example.jp",
         "--birth-date", "1991-01-01", "--policy", "pasona"], db_url=other,
    )  # fmt: skip
    foreign = tmp_path / "foreign.json"
    prove(other, registered.json()["id"], foreign)
    checked = run_cli(
        ["--json", "audit", "verify", "--bundle", str(foreign), "--checkpoint",
         str(kept)]
    )  # fmt: skip
    assert checked.code == 1
    assert kinds(checked) == {"origin"}


def test_an_export_verifies_with_no_database_and_catches_edits(
    db_url: str, store: dict[str, str], tmp_path: Path
) -> None:
    kept = tmp_path / "kept.checkpoints"
    assert (
        run_cli(["audit", "checkpoint", "--output", str(kept)], db_url=db_url).code == 0
    )
    folder = tmp_path / "export"
    exported = run_cli(
        ["--json", "audit", "export", "--output", str(folder)], db_url=db_url
    )
    assert exported.code == 0, exported.stderr
    manifest = exported.json()
    assert manifest["count"] == 32
    assert manifest["latest_checkpoint"]
    clean = run_cli(
        [
            "--json",
            "audit",
            "verify",
            "--export",
            str(folder),
            "--checkpoint",
            str(kept),
        ]
    )
    assert clean.code == 0, clean.stdout
    assert clean.json()["events"] == 32
    lines = (folder / "events.jsonl").read_text().splitlines()

    (folder / "events.jsonl").write_text("\n".join(lines[:5] + lines[6:]) + "\n")
    removed = run_cli(["--json", "audit", "verify", "--export", str(folder)])
    assert removed.code == 1
    assert {"export", "tree"} <= kinds(removed) or "export" in kinds(removed)

    edited_line = json.loads(lines[5])
    state = base64.b64decode(edited_line["state"])
    edited_line["state"] = base64.b64encode(state + b" ").decode()
    (folder / "events.jsonl").write_text(
        "\n".join([*lines[:5], json.dumps(edited_line), *lines[6:]]) + "\n"
    )
    edited = run_cli(["--json", "audit", "verify", "--export", str(folder)])
    assert edited.code == 1
    assert {"export", "altered"} <= kinds(edited)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (None, "No such file"),
        (b"", "no checkpoint"),
        (b"seekers.ledger/x\n12\n", "not a checkpoint"),
        (b"\xff\xfe\x00garbage", "not text"),
        (b"just some notes\nfrom a meeting\n\nand more\n", "not a checkpoint"),
        (b"origin\nlots\nroot\ntime x\n\n", "bad tree size"),
    ],
)
def test_a_bad_checkpoint_file_is_one_line_exit_2(
    db_url: str,
    store: dict[str, str],
    tmp_path: Path,
    content: bytes | None,
    why: str,
) -> None:
    path = tmp_path / "checkpoint.txt"
    if content is not None:
        path.write_bytes(content)
    result = run_cli(["audit", "verify", "--checkpoint", str(path)], db_url=db_url)
    one_line_error(result, 2)
    assert why in result.stderr


def test_key_files_that_cannot_be_used_are_bad_option_values(
    db_url: str, store: dict[str, str], tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.key"
    garbage.write_bytes(b"\x00\x01 not a key")
    signed = run_cli(["audit", "checkpoint", "--sign-key", str(garbage)], db_url=db_url)
    one_line_error(signed, 2)
    public = run_cli(["audit", "verify", "--public-key", str(garbage)], db_url=db_url)
    one_line_error(public, 2)
    missing = tmp_path / "no-such.key"
    for option in ("--sign-key", "--public-key"):
        command = "checkpoint" if option == "--sign-key" else "verify"
        absent = run_cli(["audit", command, option, str(missing)], db_url=db_url)
        one_line_error(absent, 2)
        assert absent.stderr.startswith(f"error: key file: {missing}")
    key = tmp_path / "audit.key"
    assert run_cli(["audit", "keygen", "--output", str(key)]).code == 0
    again = run_cli(["audit", "keygen", "--output", str(key)])
    one_line_error(again, 2)
    assert "not overwriting" in again.stderr
    assert key.stat().st_mode & 0o777 == 0o600


def test_bad_bundles_exports_and_seekers(
    db_url: str, store: dict[str, str], tmp_path: Path
) -> None:
    not_json = tmp_path / "bundle.json"
    not_json.write_text("{ this is not json")
    one_line_error(run_cli(["audit", "verify", "--bundle", str(not_json)]), 2)
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(run_cli(["audit", "verify", "--export", str(empty)]), 2)
    unknown = run_cli(
        ["audit", "prove", "0d1e30d3-8c60-4297-9b10-a5e3f17ccca1", "--output",
         str(tmp_path / "x.json")], db_url=db_url,
    )  # fmt: skip
    one_line_error(unknown, 3)
    nowhere = run_cli(
        ["audit", "checkpoint", "--output", str(tmp_path / "no" / "such" / "f")],
        db_url=db_url,
    )
    one_line_error(nowhere, 2)


def _checkpoints(db_url: str) -> int:
    return int(raw(db_url, "SELECT count(*) FROM integrity_checkpoints")[0][0])


def test_a_bundle_with_nowhere_to_go_records_no_checkpoint(
    db_url: str, store: dict[str, str], tmp_path: Path
) -> None:
    """``prove`` may record a checkpoint to prove against, which the log keeps
    for good: a bad ``--output`` is refused before it (exit 2, nothing
    written), as ``audit checkpoint --output`` does."""
    seeker = next(iter(store.values()))
    before = _checkpoints(db_url)
    for output in (tmp_path / "no" / "such" / "bundle.json", tmp_path):
        refused = run_cli(
            ["audit", "prove", seeker, "--output", str(output)], db_url=db_url
        )
        one_line_error(refused, 2)
        assert _checkpoints(db_url) == before
    assert not (tmp_path / "no").exists()


def test_an_export_over_a_file_is_a_bad_option_not_a_storage_failure(
    db_url: str, store: dict[str, str], tmp_path: Path
) -> None:
    taken = tmp_path / "taken"
    taken.write_text("kept")
    refused = run_cli(["audit", "export", "--output", str(taken)], db_url=db_url)
    one_line_error(refused, 2)
    assert refused.stderr.strip() == (
        f"error: --output {taken}: a file is there; give a folder"
    )
    assert taken.read_text() == "kept"
