"""Figure 9 of ``make bench``: ``simulate`` against the library's batched save.

``simulate --seekers N`` generates a population through the real commands
(every rule and guard checked), seals personal data, saves 200 accounts per
transaction with the chain, the tree and the inline projections, and catches
the projections up. The baseline saves exactly the same events (the same
kinds, fields and counts per account, personal data in the clear) through a
bare library aggregate and a plain ``eventsourcing`` application, in the same
batches of 200 aggregates per ``save(*aggregates)``: what the library itself
does with the same work. Issue #11 asks ``simulate`` for at least 0.7x that
rate.

Also runnable alone: ``python -m tests.bench_simulate [--seekers N]``.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from domain.timerules import utcnow
from projections.runner import Projections
from services.simulation import SAVE_BATCH, simulate
from tests.bench_floors import simulate_bound
from tests.bench_support import (
    POSTGRES,
    SQLITE,
    BareApplication,
    BareRecord,
    Row,
    Section,
    Stores,
    event_fields,
    log,
    open_ledger,
    render,
    verdict,
)

SIMULATE_TARGET = 0.7
FULL_SEEKERS = 10_000
QUICK_SEEKERS = 1_000


def _seekers(sizes: object) -> int:
    quick = getattr(sizes, "command_accounts", 75) < 75
    return QUICK_SEEKERS if quick else FULL_SEEKERS


def bench_simulate(store: str, stores: Stores, sizes: object) -> dict[str, float]:
    return measure_simulate(store, stores, _seekers(sizes))


def measure_simulate(store: str, stores: Stores, seekers: int) -> dict[str, float]:
    url = stores.url(store, "simulate")
    bare_url = stores.url(store, "simulate-bare")
    ledger = open_ledger(url)
    bare = BareApplication.on(bare_url)
    try:
        projections = Projections(ledger)
        saving: list[float] = []
        save_new_accounts = ledger.save_new_accounts

        def timed_save(accounts: Sequence[Any]) -> None:
            began = time.perf_counter()
            save_new_accounts(accounts)
            saving.append(time.perf_counter() - began)

        ledger.save_new_accounts = timed_save  # type: ignore[method-assign]
        log(f"simulate/{store}: {seekers:,} seekers through the commands")
        gc.collect()
        began = time.perf_counter()
        report = simulate(ledger, seekers=seekers, seed=11, now=utcnow())
        simulated = time.perf_counter() - began
        projections.catch_up()
        total = time.perf_counter() - began
        events = report.events

        log(f"simulate/{store}: the same {events:,} events through a bare aggregate")
        records = _bare_twins(ledger)
        gc.collect()
        began = time.perf_counter()
        for start in range(0, len(records), SAVE_BATCH):
            bare.save(*records[start : start + SAVE_BATCH])
        bare_time = time.perf_counter() - began
        return {
            "seekers": seekers,
            "events": events,
            "total": total,
            "saving": sum(saving),
            "generating": simulated - sum(saving),
            "catch_up": total - simulated,
            "bare": bare_time,
            "ratio": bare_time / total,
        }
    finally:
        ledger.close()
        bare.close()
        stores.drop(url)
        stores.drop(bare_url)


def _bare_twins(ledger: Any) -> list[BareRecord]:
    """One bare aggregate per simulated account, carrying its events' kinds
    and fields (personal data decrypted: the bare store keeps it in the clear)."""
    streams: dict[UUID, list[tuple[str, dict[str, Any]]]] = {}
    start = 1
    while True:
        page = ledger.recorder.select_notifications(start=start, limit=5000)
        if not page:
            break
        for notification in page:
            domain_event = ledger.mapper.to_domain_event(notification)
            streams.setdefault(domain_event.originator_id, []).append(
                event_fields(domain_event)
            )
        start = page[-1].id + 1
    records = []
    for history in streams.values():
        record = BareRecord(*history[0])
        for kind, fields in history[1:]:
            record.record(kind=kind, fields=fields)
        records.append(record)
    return records


def simulate_section(results: dict[str, dict[str, float]], sizes: object) -> Section:
    seekers = next(iter(results.values()))["seekers"] if results else 0
    section = Section(
        f"9. simulate --seekers {seekers:,.0f} (commands, sealing, chain, inline "
        "projections, catch-up) vs the library's batched save of the same events "
        f"({SAVE_BATCH} aggregates per save)"
    )
    rate: dict[str, str] = {}
    verdicts: dict[str, str] = {}
    rows: dict[str, dict[str, str]] = {
        k: {} for k in ("gen", "save", "cu", "bare", "floor")
    }
    for store, r in results.items():
        total = r["total"]
        rate[store] = (
            f"{r['ratio']:.2f}x ({r['events'] / total:,.0f} vs "
            f"{r['events'] / r['bare']:,.0f} ev/s)"
        )
        verdicts[store] = verdict(r["ratio"] >= SIMULATE_TARGET)
        parts = (("gen", "generating"), ("save", "saving"), ("cu", "catch_up"))
        for key, name in parts:
            rows[key][store] = f"{r[name]:.2f} s ({r[name] / total:.0%})"
        rows["bare"][store] = f"{r['bare']:.2f} s for {r['events']:,.0f} events"
        rows["floor"][store] = (
            f"{simulate_bound(r['generating'], r['bare']):.2f}x "
            f"(bare / (commands and rules + bare))"
        )
    section.rows += [
        Row(
            f"simulate {seekers:,.0f} seekers vs bare save",
            rate,
            f"≥ {SIMULATE_TARGET}x",
            verdicts,
        ),
        Row("split: commands and rules (no storage)", rows["gen"]),
        Row("split: save_new_accounts (seal, insert, chain, project)", rows["save"]),
        Row("split: final catch-up", rows["cu"]),
        Row("baseline: bare save(*200 aggregates) batches", rows["bare"]),
        Row(
            "floor: best ratio if sealing, chain and projections were free",
            rows["floor"],
        ),
    ]
    section.notes.append(
        "ratio = bare save time / simulate time for the same events (higher is "
        "better); the bare side does no rules, no sealing, no chain, no projections"
    )
    section.notes.append(
        "floor: the commands and rules alone, then a save costing what the bare "
        "one does: the target is out of reach while it is below the target "
        "(tests/bench_floors.py)"
    )
    return section


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seekers", type=int, default=FULL_SEEKERS)
    parser.add_argument("--stores", default=f"{SQLITE},{POSTGRES}")
    options = parser.parse_args(argv)
    stores = Stores()
    selected = options.stores.split(",")
    try:
        results = {s: measure_simulate(s, stores, options.seekers) for s in selected}
    finally:
        stores.close()
    print(render([simulate_section(results, None)], selected))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
