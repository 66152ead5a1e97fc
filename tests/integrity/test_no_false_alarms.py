"""An untouched store never raises a tamper alarm, whatever audits ran on it.

An auditor keeps the checkpoints the agency signed in a folder and verifies
the store against them with the agency's public key. Every audit command,
run after every other one (a de Bruijn sequence of them covers each ordered
pair) on a store that keeps receiving commands, must leave that verify at
exit 0 with no findings, with the key and without it. Unsigned checkpoints
the store keeps (``audit checkpoint`` with no key, or a ``prove`` that
needed a checkpoint and had no key) are noted, never found.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import CliResult, run_cli
from tests.integrity.support import kept_checkpoints, register


def de_bruijn(symbols: int) -> list[int]:
    """A sequence in which every ordered pair of ``symbols`` (repeats too)
    appears exactly once as two neighbours."""
    sequence: list[int] = []
    a = [0] * (2 * symbols)

    def walk(t: int, p: int) -> None:
        if t > 2:
            if 2 % p == 0:
                sequence.extend(a[1 : p + 1])
            return
        a[t] = a[t - p]
        walk(t + 1, p)
        for j in range(a[t - p] + 1, symbols):
            a[t] = j
            walk(t + 1, t)

    walk(1, 1)
    return [*sequence, sequence[0]]


class Auditor:
    """The audit commands as an agency and its auditor run them."""

    def __init__(self, db_url: str, folder: Path) -> None:
        self.db_url = db_url
        self.folder = folder
        self.key = folder / "agency.key"
        self.public = folder / "agency.key.pub"
        self.kept = folder / "auditor-checkpoints"
        self.kept.mkdir()
        self.steps = 0
        self.seeker = ""
        assert run_cli(["audit", "keygen", "--output", str(self.key)]).code == 0

    def run(self, *args: str, env: dict[str, str | None] | None = None) -> CliResult:
        done = run_cli(["--json", *args], db_url=self.db_url, env=env)
        assert done.code == 0, (args, done.stdout, done.stderr)
        return done

    def out(self, name: str) -> Path:
        self.steps += 1
        return self.folder / f"{self.steps:03d}-{name}"

    def checkpoint(self) -> None:
        self.run("audit", "checkpoint")

    def signed_checkpoint(self) -> None:
        self.run(
            "audit",
            "checkpoint",
            "--sign-key",
            str(self.key),
            "--output",
            str(self.kept),
        )

    def prove(self) -> None:
        bundle = self.out("bundle.json")
        self.run("audit", "prove", self.seeker, "--output", str(bundle))
        self.clean(self.run("audit", "verify", "--bundle", str(bundle)))

    def signed_prove(self) -> None:
        bundle = self.out("signed-bundle.json")
        self.run(
            "audit", "prove", self.seeker, "--output", str(bundle),
            env={"SEEKERS_AUDIT_SIGNING_KEY": str(self.key)},
        )  # fmt: skip
        self.clean(
            self.run(
                "audit",
                "verify",
                "--bundle",
                str(bundle),
                "--public-key",
                str(self.public),
                *self.handed_in(),
            )
        )

    def export(self) -> None:
        folder = self.out("export")
        self.run("audit", "export", "--output", str(folder))
        self.clean(self.run("audit", "verify", "--export", str(folder)))
        self.clean(
            self.run(
                "audit",
                "verify",
                "--export",
                str(folder),
                "--public-key",
                str(self.public),
                *self.handed_in(),
            )
        )

    def replay(self) -> None:
        self.run("audit", "replay")

    def verify(self) -> None:
        self.clean(self.run("audit", "verify"))

    def handed_in(self) -> list[str]:
        return ["--checkpoint", str(self.kept)] if any(self.kept.iterdir()) else []

    def verify_both_ways(self) -> None:
        self.clean(self.run("audit", "verify"))
        self.clean(
            self.run(
                "audit", "verify", "--public-key", str(self.public), *self.handed_in()
            )
        )

    @staticmethod
    def clean(done: CliResult) -> None:
        report = json.loads(done.stdout)
        assert report["ok"] is True
        assert report["findings"] == []


ACTIONS: dict[str, Callable[[Auditor], None]] = {
    "checkpoint": Auditor.checkpoint,
    "checkpoint --sign-key": Auditor.signed_checkpoint,
    "prove": Auditor.prove,
    "prove (signing key set)": Auditor.signed_prove,
    "export": Auditor.export,
    "replay": Auditor.replay,
    "verify": Auditor.verify,
}


def test_the_sequence_covers_every_ordered_pair() -> None:
    order = de_bruijn(len(ACTIONS))
    pairs = set(itertools.pairwise(order))
    assert len(pairs) == len(ACTIONS) ** 2 == len(order) - 1


def test_every_audit_command_after_every_other_leaves_no_false_alarm(
    db_url: str, tmp_path: Path
) -> None:
    auditor = Auditor(db_url, tmp_path)
    names = list(ACTIONS)
    for step, index in enumerate(de_bruijn(len(names))):
        # The agency keeps working between audits: new events each time.
        auditor.seeker = register(db_url, f"Seeker {step}", f"s{step}@example.jp")
        ACTIONS[names[index]](auditor)
        auditor.verify_both_ways()
    kept = run_cli(
        ["--json", "audit", "verify", "--public-key", str(auditor.public),
         "--checkpoint", str(auditor.kept)], db_url=db_url,
    ).json()  # fmt: skip
    assert kept["checkpoints"] > len(list(auditor.kept.iterdir()))
    assert any("unsigned" in note for note in kept["notes"])


def test_prove_reuses_the_newest_covering_checkpoint(
    db_url: str, tmp_path: Path
) -> None:
    auditor = Auditor(db_url, tmp_path)
    auditor.seeker = register(db_url, "Aya Mori", "aya@example.jp")
    auditor.signed_checkpoint()
    before = kept_checkpoints(db_url)
    for _ in range(3):
        auditor.prove()
        auditor.signed_prove()
    assert kept_checkpoints(db_url) == before  # nothing new was minted


@pytest.mark.parametrize("signed", [False, True])
def test_prove_mints_one_checkpoint_only_when_none_covers(
    db_url: str, tmp_path: Path, signed: bool
) -> None:
    auditor = Auditor(db_url, tmp_path)
    auditor.seeker = register(db_url, "Aya Mori", "aya@example.jp")
    auditor.checkpoint()  # unsigned: a signing prove may not reuse it
    counted = kept_checkpoints(db_url)
    for _ in range(2):
        (auditor.signed_prove if signed else auditor.prove)()
    assert kept_checkpoints(db_url) == counted + (1 if signed else 0)


def test_a_kept_checkpoint_with_a_wrong_signature_is_still_found(
    db_url: str, tmp_path: Path
) -> None:
    from tests.integrity.support import raw

    auditor = Auditor(db_url, tmp_path)
    auditor.seeker = register(db_url, "Aya Mori", "aya@example.jp")
    auditor.signed_checkpoint()
    (text,) = raw(db_url, "SELECT text FROM integrity_checkpoints")[0]
    body, _, signature = text.rpartition("— seekers-audit ")
    flipped = ("A" if signature[10] != "A" else "B").join(
        [signature[:10], signature[11:]]
    )
    raw(
        db_url,
        "UPDATE integrity_checkpoints SET text = ?",
        (body + "— seekers-audit " + flipped,),
    )
    found = run_cli(
        ["--json", "audit", "verify", "--public-key", str(auditor.public)],
        db_url=db_url,
    )
    assert found.code == 1
    assert [f["kind"] for f in found.json()["findings"]] == ["signature"]
    unkeyed = run_cli(["--json", "audit", "verify"], db_url=db_url)
    assert unkeyed.code == 0  # without the key there is nothing to check it by


def test_a_handed_in_checkpoint_must_carry_the_keys_signature(
    db_url: str, tmp_path: Path
) -> None:
    auditor = Auditor(db_url, tmp_path)
    auditor.seeker = register(db_url, "Aya Mori", "aya@example.jp")
    unsigned = tmp_path / "unsigned.txt"
    auditor.run("audit", "checkpoint", "--output", str(unsigned))
    found = run_cli(
        ["--json", "audit", "verify", "--public-key", str(auditor.public),
         "--checkpoint", str(unsigned)], db_url=db_url,
    )  # fmt: skip
    assert found.code == 1
    (finding,) = found.json()["findings"]
    assert finding["kind"] == "signature"
    assert "unsigned.txt" in finding["detail"]


def test_a_kept_checkpoint_edited_into_garbage_is_a_finding(
    db_url: str, tmp_path: Path
) -> None:
    from tests.integrity.support import raw

    register(db_url, "Aya Mori", "aya@example.jp")
    assert run_cli(["audit", "checkpoint"], db_url=db_url).code == 0
    raw(db_url, "UPDATE integrity_checkpoints SET text = 'forged'")
    found = run_cli(["--json", "audit", "verify"], db_url=db_url)
    assert found.code == 1
    (finding,) = found.json()["findings"]
    assert finding["kind"] == "altered"
    assert "kept checkpoint #1 is no longer a checkpoint" in finding["detail"]
    refused = run_cli(["audit", "checkpoint"], db_url=db_url)
    assert refused.code == 1  # no new checkpoint over a log that fails its own
    assert "run 'seekers audit verify'" in refused.stderr
