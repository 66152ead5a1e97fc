"""Benchmark figure 6: the cost of sealing personal data, per command.

The same commands (register, then a cycle of commands, each followed by the
projections' catch-up, as the CLI runs them) on two stores of the same kind:
one sealed by the real vault (AES-GCM, a data key per seeker wrapped by the
master key), one through a vault that seals nothing. "Cold" clears the data
key cache before each command, as each CLI process starts without one (one
key-table read and one unwrap per command); "warm" keeps it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from uuid import UUID

from adapters.storage import parse_storage_url
from domain.policy import PRESETS
from domain.seeker import Seeker
from domain.timerules import utcnow
from privacy.vault import Vault
from projections.runner import Projections
from services.ledger import SeekerLedger
from tests.bench_support import Row, Section, Stores, log, ms, open_ledger, paired_ratio

ENCRYPTION_LIMIT = 1.25
"""No SPEC target: the issue asks for the ratio; 1.25x is our own line."""


class PlainVault:
    """A vault that seals nothing: the baseline, in a throwaway bench store."""

    def seal(self, seeker_id: UUID, plaintext: bytes) -> bytes:
        return plaintext

    def unseal(self, seeker_id: UUID, blob: bytes) -> bytes | None:
        return blob

    def create_key(self, seeker_id: UUID) -> None:
        pass

    def create_keys(self, seeker_ids: Sequence[UUID]) -> None:
        pass

    def destroy_key(self, seeker_id: UUID) -> None:
        pass

    def destroy_keys(self, seeker_ids: Sequence[UUID]) -> None:
        pass

    def claim_email(self, policy: str, email: str, seeker_id: UUID) -> UUID | None:
        return None

    def release_indexes(self, seeker_id: UUID) -> None:
        pass

    def find_email(self, email: str) -> list[tuple[str, UUID]]:
        return []

    def index_emails(self, entries: Sequence[tuple[str, str, UUID]]) -> None:
        pass

    def index_readings(self, entries: Sequence[tuple[str, str, UUID]]) -> None:
        pass

    def find_reading(self, reading: str) -> list[tuple[str, UUID]]:
        return []


def _register(ledger: SeekerLedger, number: int) -> UUID:
    outcome = ledger.register(
        policy=PRESETS["workport"],
        name=f"Bench Seeker {number}",
        email=f"bench.{number}@example.jp",
        birth_date=date(1990, 1, 1),
        phone="090-1234-5678",
        channel="app",
        advisor="Kato",
        actor="bench",
        at=utcnow() - timedelta(days=2),
    )
    seeker_id: UUID = outcome.result
    return seeker_id


def bench_encryption(store: str, stores: Stores, sizes: object) -> dict[str, float]:
    accounts = 30 if getattr(sizes, "command_accounts", 75) < 75 else 60
    rounds = 6
    sealed_url = stores.url(store, "sealed")
    plain_url = stores.url(store, "plain")
    sealed = open_ledger(sealed_url)
    plain = SeekerLedger(
        env=parse_storage_url(plain_url).environment, vault=lambda _: PlainVault()
    )
    try:
        views = {"sealed": Projections(sealed), "plain": Projections(plain)}
        ledgers = {"cold": sealed, "warm": sealed, "plain": plain}
        samples: dict[str, list[float]] = {"cold": [], "warm": [], "plain": []}
        log(f"encryption/{store}: {accounts} accounts x {rounds} commands, 3 ways")
        # Each mode drives accounts of its own, so all see the same history.
        ids: dict[str, list[UUID]] = {mode: [] for mode in ledgers}
        for number in range(accounts):
            for position, (mode, ledger) in enumerate(ledgers.items()):
                view = views["plain" if mode == "plain" else "sealed"]
                began = time.perf_counter()
                ids[mode].append(_register(ledger, number * 3 + position))
                view.catch_up()
                samples[mode].append(time.perf_counter() - began)
        vault = sealed.vault
        assert isinstance(vault, Vault)

        def change_advisor(seeker: Seeker, at: datetime) -> None:
            seeker.change_advisor(at=at, actor="bench", advisor=f"A{seeker.version}")

        for _ in range(rounds):
            for index in range(accounts):
                for mode, ledger in ledgers.items():
                    if mode == "cold":
                        vault._keys.clear()  # a new CLI process knows no key
                    view = views["plain" if mode == "plain" else "sealed"]
                    began = time.perf_counter()
                    ledger.execute(ids[mode][index], change_advisor)
                    view.catch_up()
                    samples[mode].append(time.perf_counter() - began)
        return {
            "cold": statistics.median(samples["cold"]),
            "warm": statistics.median(samples["warm"]),
            "plain": statistics.median(samples["plain"]),
            "cold_ratio": paired_ratio(samples["cold"], samples["plain"]),
            "warm_ratio": paired_ratio(samples["warm"], samples["plain"]),
        }
    finally:
        sealed.close()
        plain.close()
        stores.drop(sealed_url)
        stores.drop(plain_url)


def encryption_section(results: dict[str, dict[str, float]], sizes: object) -> Section:
    section = Section(
        "6. sealing personal data: the same commands (register, change-advisor; "
        "each with its catch-up) with the real vault vs a vault that seals nothing "
        "(median ratio of side-by-side commands)"
    )
    cold: dict[str, str] = {}
    warm: dict[str, str] = {}
    plain: dict[str, str] = {}
    verdicts: dict[str, str] = {}
    for store, r in results.items():
        cold[store] = f"{r['cold_ratio']:.2f}x ({ms(r['cold'])})"
        warm[store] = f"{r['warm_ratio']:.2f}x ({ms(r['warm'])})"
        plain[store] = ms(r["plain"])
        verdicts[store] = "PASS" if r["cold_ratio"] <= ENCRYPTION_LIMIT else "MISS"
    section.rows += [
        Row(
            "sealed, key read per command (CLI) vs plain",
            cold,
            f"≤ {ENCRYPTION_LIMIT}x (ours)",
            verdicts,
        ),
        Row("sealed, key cached (one process) vs plain", warm),
        Row("baseline: same command, nothing sealed", plain),
    ]
    section.notes.append(
        "no SPEC target for this figure; the line is ours. 'cold' pays one key-table "
        "read and one AES-GCM unwrap per command, as every CLI run does"
    )
    return section
