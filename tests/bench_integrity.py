"""Benchmark figure 7: audit integrity (SPEC §8, §10).

- ``audit verify`` over the whole log, events per second, against the
  library's own read-and-decode rate of the same log (target ≥ 1.5×: verify
  hashes stored bytes and decodes nothing);
- ``audit replay`` (every stream through the rules, one stream at a time)
  against the same read-and-decode rate (target ≥ 0.5×);
- the command path with the chain and tree against the same commands on a
  recorder that skips them (target ≤ 1.1×);
- ``audit checkpoint`` and ``audit prove`` with 1,000,000 events in the log
  (target ≤ 1 s each). That log is built the fastest way: 1,000,000 small
  synthetic rows inserted straight into a SQLite events table and chained
  by the same ``Appender`` the recorders run, in batches of 20,000.
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from adapters.recorders import ChainingSQLiteRecorder, erased_accounts
from integrity.database import AuditLog
from integrity.store import Appender, Sql, StoredRecord, schema
from projections.runner import Projections
from services.simulation import simulate
from tests.bench_support import (
    Row,
    Section,
    Stores,
    decoding_mapper,
    log,
    ms,
    open_ledger,
    paired_ratio,
    read_and_decode,
    verdict,
)

VERIFY_LIMIT = 1.5
REPLAY_LIMIT = 0.5
CHAIN_LIMIT = 1.1
MILLION_LIMIT = 1.0


class UnchainedSQLiteRecorder(ChainingSQLiteRecorder):
    """The baseline of the chain figure: the same recorder (inline
    projections included) without the chain and tree."""

    def _insert_events(
        self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super(ChainingSQLiteRecorder, self)._insert_events(
            c, stored_events, **kwargs
        )
        if ids:
            from privacy.erasure import erase_in_transaction

            erase_in_transaction(Sql(c, postgres=False), erased_accounts(stored_events))
            if self.inline is not None:
                self.inline(c, stored_events, ids)
        return ids


def _rates(store: str, stores: Stores, seekers: int) -> dict[str, float]:
    url = stores.url(store, "integrity-rates")
    ledger = open_ledger(url)
    try:
        log(f"integrity/{store}: simulating {seekers} seekers")
        simulate(ledger, seekers=seekers, seed=11, now=datetime.now(UTC))
        projections = Projections(ledger, create_tables=True)
        mapper = decoding_mapper(projections, ledger)
        audit = AuditLog(ledger)
        decode, verify, replay = [], [], []
        events = 0
        for _ in range(3):
            began = time.perf_counter()
            events = read_and_decode(ledger, mapper, 1000)
            decode.append(time.perf_counter() - began)
            began = time.perf_counter()
            report = audit.verify()
            verify.append(time.perf_counter() - began)
            assert report.ok, [f.line() for f in report.findings[:3]]
            began = time.perf_counter()
            audit.replay()
            replay.append(time.perf_counter() - began)
        return {
            "events": events,
            "decode": statistics.median(decode),
            "verify": statistics.median(verify),
            "replay": statistics.median(replay),
            "verify_ratio": paired_ratio(decode, verify),
            "replay_ratio": paired_ratio(decode, replay),
        }
    finally:
        ledger.close()
        stores.drop(url)


def _chain_cost(store: str, stores: Stores, commands: int) -> dict[str, float]:
    """The same commands, interleaved, on a chaining and a non-chaining store."""
    if store != "sqlite":
        return {}
    urls = {"chained": stores.url(store, "chained"), "bare": stores.url(store, "bare")}
    ledgers = {"chained": open_ledger(urls["chained"])}
    from adapters.storage import parse_storage_url
    from privacy.opening import vault_opener
    from services.ledger import SeekerLedger
    from tests.bench_support import BENCH_MASTER_KEY

    config = parse_storage_url(urls["bare"])
    env = dict(config.environment)
    env["APPLICATION_RECORDER_TOPIC"] = "tests.bench_integrity:UnchainedSQLiteRecorder"
    ledgers["bare"] = SeekerLedger(
        env=env,
        vault=vault_opener(
            sqlite_path=config.sqlite_path,
            notice=log,
            environ={"SEEKERS_MASTER_KEY": BENCH_MASTER_KEY},
        ),
    )
    try:
        views = {mode: Projections(ledger) for mode, ledger in ledgers.items()}
        ids = {}
        for mode, ledger in ledgers.items():
            simulate(ledger, seekers=1, seed=3, now=datetime.now(UTC))
            ids[mode] = UUID(
                views[mode].views["accounts"].query("SELECT id FROM accounts")[0]["id"]
            )
        samples: dict[str, list[float]] = {"chained": [], "bare": []}
        at = datetime.now(UTC) - timedelta(days=1)
        for number in range(commands):
            for mode, ledger in ledgers.items():
                began = time.perf_counter()
                ledger.execute(
                    ids[mode],
                    lambda s, when, n=number: (
                        s.contact(
                            at=when, actor="bench", channel="phone", outcome="no_answer"
                        )
                        if s.status in ("active", "unreachable")
                        else None
                    ),
                    at=at + timedelta(seconds=number),
                )
                views[mode].catch_up()
                samples[mode].append(time.perf_counter() - began)
        return {
            "chained": statistics.median(samples["chained"]),
            "bare": statistics.median(samples["bare"]),
            "ratio": paired_ratio(samples["chained"], samples["bare"]),
        }
    finally:
        for mode, ledger in ledgers.items():
            ledger.close()
            stores.drop(urls[mode])


def build_million(path: str, events: int) -> float:
    """A log of ``events`` synthetic events, chained by the product's Appender."""
    began = time.perf_counter()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(
        "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER,"
        " topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
    )
    for statement in schema(postgres=False):
        connection.execute(statement)
    accounts = [UUID(int=n + 1) for n in range(events // 10)]
    batch = 20_000
    version: dict[UUID, int] = {}
    number = 0
    while number < events:
        cursor = connection.cursor()
        cursor.execute("BEGIN")
        records = []
        for _ in range(min(batch, events - number)):
            account = accounts[number % len(accounts)]
            version[account] = version.get(account, 0) + 1
            number += 1
            state = b'{"occurred_at":"2025-01-10","actor":"bench","n":%d}' % number
            cursor.execute(
                "INSERT INTO stored_events VALUES (?, ?, ?, ?)",
                (account.hex, version[account], "domain.seeker:Seeker.Event", state),
            )
            records.append(
                StoredRecord(
                    cursor.lastrowid or number,
                    account,
                    version[account],
                    "domain.seeker:Seeker.Event",
                    state,
                )
            )
        Appender(Sql(cursor, postgres=False), "stored_events").append(records)
        cursor.execute("COMMIT")
    connection.close()
    return time.perf_counter() - began


class _MillionLedger:
    """Just what AuditLog needs of an application, on the synthetic log."""

    def __init__(self, path: str) -> None:
        from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

        datastore = SQLiteDatastore(db_name=path)
        self.recorder = SQLiteApplicationRecorder(datastore)
        self.snapshots = None


def _million(stores: Stores, events: int) -> dict[str, float]:
    path = f"{stores.folder}/million.db"
    log(f"integrity: building a log of {events:,} chained events")
    built = build_million(path, events)
    audit = AuditLog(_MillionLedger(path))
    checkpoint, prove = [], []
    for round_number in range(5):
        began = time.perf_counter()
        audit.checkpoint()
        checkpoint.append(time.perf_counter() - began)
        began = time.perf_counter()
        bundle = audit.prove(UUID(int=round_number * 997 + 1))
        prove.append(time.perf_counter() - began)
        assert len(bundle["events"]) == 10
    return {
        "events": events,
        "built": built,
        "checkpoint": statistics.median(checkpoint),
        "prove": statistics.median(prove),
    }


def bench_integrity(store: str, stores: Stores, sizes: object) -> dict[str, float]:
    quick = getattr(sizes, "command_accounts", 75) < 75
    results = _rates(store, stores, 500 if quick else 5000)
    chain = _chain_cost(store, stores, 40 if quick else 150)
    results.update({f"chain_{key}": value for key, value in chain.items()})
    if store == "sqlite":
        million = _million(stores, 100_000 if quick else 1_000_000)
        results.update({f"million_{key}": value for key, value in million.items()})
    return results


def integrity_section(results: dict[str, dict[str, float]], sizes: object) -> Section:
    section = Section(
        "7. audit integrity: verify and replay against the library's read-and-"
        "decode of the same log; the command path with the chain and tree; "
        "checkpoint and prove in a large log"
    )
    verify, replay, chain, checkpoint, prove = {}, {}, {}, {}, {}
    v_ok, r_ok, c_ok, k_ok, p_ok = {}, {}, {}, {}, {}
    for store, r in results.items():
        rate = r["events"] / r["decode"]
        verify[store] = (
            f"{r['verify_ratio']:.2f}x ({r['events'] / r['verify']:,.0f} ev/s)"
        )
        replay[store] = (
            f"{r['replay_ratio']:.2f}x ({r['events'] / r['replay']:,.0f} ev/s)"
        )
        v_ok[store] = verdict(r["verify_ratio"] >= VERIFY_LIMIT)
        r_ok[store] = verdict(r["replay_ratio"] >= REPLAY_LIMIT)
        section.notes.append(
            f"{store}: {r['events']:,.0f} events; read-and-decode {rate:,.0f} ev/s"
        )
        if "chain_ratio" in r:
            chain[store] = (
                f"{r['chain_ratio']:.2f}x ({ms(r['chain_chained'])} vs "
                f"{ms(r['chain_bare'])})"
            )
            c_ok[store] = verdict(r["chain_ratio"] <= CHAIN_LIMIT)
        if "million_checkpoint" in r:
            size = f"{r['million_events']:,.0f}"
            checkpoint[store] = ms(r["million_checkpoint"])
            prove[store] = ms(r["million_prove"])
            k_ok[store] = verdict(r["million_checkpoint"] <= MILLION_LIMIT)
            p_ok[store] = verdict(r["million_prove"] <= MILLION_LIMIT)
            section.notes.append(
                f"the {size}-event log: synthetic rows inserted into a SQLite events "
                f"table and chained by the product's Appender in 20,000-event "
                f"transactions, built in {r['million_built']:.0f} s"
            )
    section.rows += [
        Row("audit verify vs read-and-decode", verify, f"≥ {VERIFY_LIMIT}x", v_ok),
        Row("audit replay vs read-and-decode", replay, f"≥ {REPLAY_LIMIT}x", r_ok),
        Row("command with chain+tree vs without", chain, f"≤ {CHAIN_LIMIT}x", c_ok),
        Row("audit checkpoint, 1M-event log", checkpoint, "≤ 1 s", k_ok),
        Row("audit prove (10 events), 1M-event log", prove, "≤ 1 s", p_ok),
    ]
    return section
