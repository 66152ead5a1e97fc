"""``docs/integrity.md`` is enough to verify an export without our code.

``tests/support/exportverify`` is a verifier in Go written from that
document alone (by someone who read no other file of this repository): it
recomputes every digest, stream hash (both formats) and the RFC 9162 root,
and checks the latest checkpoint's signature with the verifier key. It must
agree with the product on a clean export, and find an edited principal.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import run_cli
from tests.integrity.support import go_program, register

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "chained_v1_store"


@pytest.fixture(scope="session")
def exportverify(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return go_program("exportverify", tmp_path_factory.mktemp("go"))


def check(verifier: Path, folder: Path, *key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(verifier), str(folder), *key], capture_output=True, text=True
    )


def test_the_independent_verifier_agrees_with_the_product(
    db_url: str, tmp_path: Path, exportverify: Path
) -> None:
    aya = register(db_url, "Aya Mori", "aya@example.jp")
    register(db_url, "Ken Abe", "ken@example.jp")
    for day in range(11, 14):
        run_cli(["contact", aya, "--channel", "phone", "--outcome", "no_answer",
                 "--at", f"2025-01-{day}"], db_url=db_url, actor="suzuki")  # fmt: skip
    key = tmp_path / "agency.key"
    verifier = run_cli(["--json", "audit", "keygen", "--output", str(key)])
    vkey = verifier.json()["verifier_key"]
    run_cli(["audit", "checkpoint", "--sign-key", str(key)], db_url=db_url)
    folder = tmp_path / "export"
    assert (
        run_cli(["audit", "export", "--output", str(folder)], db_url=db_url).code == 0
    )
    root = json.loads((folder / "manifest.json").read_text())["tree_root"]
    done = check(exportverify, folder, vkey)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"ok: 5 events, 2 streams, tree size 5, root {root}"
    lines = (folder / "events.jsonl").read_text().splitlines()
    edited = json.loads(lines[2])
    edited["principal"] = "someone.else"
    lines[2] = json.dumps(edited)
    (folder / "events.jsonl").write_text("\n".join(lines) + "\n")
    found = check(exportverify, folder)
    assert found.returncode == 1
    assert "stream_hash mismatch" in found.stdout


def test_it_verifies_an_export_mixing_both_formats(
    tmp_path: Path, exportverify: Path
) -> None:
    for name in ("v1.db", "v1.db.key"):
        shutil.copy(FIXTURE / name, tmp_path / name)
    (tmp_path / "v1.db.key").chmod(0o600)
    url = f"sqlite:///{tmp_path / 'v1.db'}"
    env: dict[str, str | None] = {"SEEKERS_MASTER_KEY": None}
    aya = (FIXTURE / "ids.txt").read_text().split()[0]
    assert run_cli(["pause", aya], db_url=url, env=env).code == 0  # a format-2 row
    folder = tmp_path / "export"
    assert (
        run_cli(["audit", "export", "--output", str(folder)], db_url=url, env=env).code
        == 0
    )
    principals = [
        json.loads(line)["principal"] for line in (folder / "events.jsonl").open()
    ]
    assert principals.count(None) == 4 and len(principals) == 5
    done = check(exportverify, folder)
    assert done.returncode == 0, done.stdout + done.stderr
