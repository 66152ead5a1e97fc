"""Seeker Ledger's benchmarks (SPEC section 10): ``python -m tests.bench``.

Every figure is a ratio against a baseline measured in the same run on the
same kind of store, printed with its absolute numbers and the SPEC target:

1. rules: a rules check against building python-statemachine's machine, and
   its growth on a machine with ten times the states and transitions;
2. command: a command end to end (execute, then catch the projections up,
   as the CLI does) against saving the same events through a bare aggregate;
3. rebuild: the projections' rebuild rate against the library's own
   read-and-decode rate of the same log (each log event counted once), and
   the rebuild's peak memory at two log sizes;
4. show: loading an account of 10,000 events against one of 10;
5. sweep: the sweep at 100,000 stored accounts against 10,000, same number due;
6. encryption: sealing personal data per command;
7. integrity: audit verify and replay against the same read-and-decode rate
   (and replay's memory at two log sizes), the chain's cost on the command
   path, checkpoint and prove in a 1,000,000-event log (tests/bench_integrity);
8. reports: the first page of list and of every report over 1,000,000
   accounts, and flat memory for --all (tests/bench_reports; also runnable
   alone with every size: python -m tests.bench_reports).
9. simulate: a population through the commands against the library's batched
   save of the same events (tests/bench_simulate);
10. startup: whole CLI processes (--help, show, list, a recording command)
   against importing only the libraries they use (tests/bench_startup);
11. roles: a command by an operator login on a store with roles installed
   against the same command by the owner of a store without (single-login
   mode), PostgreSQL only (tests/bench_roles).
12. contention: 1, 4 and 16 client processes recording commands at once on
   a durable PostgreSQL server against as many processes of the bare library
   (tests/bench_contention).

``--quick`` runs smaller sizes; ``--only NAME[,NAME]`` runs some figures.
Progress goes to stderr, the report to stdout.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

import domain.seeker as seeker_module
from adapters.requests import Request, requested
from domain.lifecycle import AccountLifecycle
from domain.policy import PRESETS
from domain.rules import Rules, account_rules
from domain.seeker import Seeker
from domain.timerules import utcnow
from domain.values import PersonalData
from projections.runner import BATCH_SIZE, Projections
from services.ledger import SNAPSHOT_INTERVAL, SeekerLedger
from services.simulation import simulate
from services.sweep import due_candidates, sweep
from tests.bench_contention import bench_contention
from tests.bench_encryption import bench_encryption, encryption_section
from tests.bench_floors import (
    SqlClock,
    command_bound,
    measured,
    rebuild_without_writes,
)
from tests.bench_integrity import bench_integrity, integrity_section
from tests.bench_reports import bench_reports, reports_section
from tests.bench_roles import bench_roles, roles_section
from tests.bench_simulate import bench_simulate, simulate_section
from tests.bench_startup import bench_startup
from tests.bench_support import (
    POSTGRES,
    SQLITE,
    STORE_LABELS,
    BareApplication,
    BareRecord,
    Row,
    Section,
    Stores,
    Variant,
    child_rss,
    compare,
    environment_lines,
    event_fields,
    fsync_cost,
    load_average,
    log,
    machine_size,
    max_rss,
    ms,
    naive_check,
    open_ledger,
    paired_ratio,
    postgres_settings,
    print_rss,
    read_and_decode,
    render,
    save_new,
    sqlite_settings,
    synthetic_machine,
    us,
    verdict,
)

FIGURES = (
    "rules",
    "command",
    "rebuild",
    "show",
    "sweep",
    "encryption",
    "integrity",
    "reports",
    "startup",
    "simulate",
    "roles",
    "contention",
)
RULES_CHECK_LIMIT = 20e-6
GROWTH_LIMIT = 1.25
""""Does not grow": PASS if 10x the machine costs at most 1.25x (timer noise)."""
COMMAND_LIMIT = 1.5
FLOOR_SHARE = 8
"""On SQLite, one account in FLOOR_SHARE has its commands' SQL measured for
figure 2's floor instead of being timed."""
REBUILD_LIMIT = 0.6
REBUILD_TARGET = 0.8
"""Issue #11 asks more of the rebuild than the SPEC's 0.6x."""
REBUILD_MEMORY_GROWTH = 10
ROOT = Path(__file__).resolve().parents[1]
REBUILD_MEMORY_LIMIT = 1.25
""""Memory does not grow with the log": PASS if 10x the log peaks at most 1.25x."""
SHOW_LIMIT = 3.0
SWEEP_LIMIT = 1.5
""""Time grows with the accounts due, not stored": PASS if 10x the stored
accounts costs at most 1.5x. A part growing linearly with the stored accounts
would add 0.9x for every 10% of the sweep's time it takes."""


@dataclass(frozen=True)
class Sizes:
    rules_budget: float
    rules_repeat: int
    command_accounts: int
    command_rounds: int
    rebuild_seekers: int
    rebuild_repeat: int
    show_events: int
    show_loads: int
    sweep_small: int
    sweep_large: int
    sweep_due: int
    sweep_rounds: int


FULL = Sizes(
    rules_budget=0.01,
    rules_repeat=60,
    command_accounts=75,
    command_rounds=8,
    rebuild_seekers=10_000,
    rebuild_repeat=3,
    show_events=10_000,
    show_loads=200,
    sweep_small=10_000,
    sweep_large=100_000,
    sweep_due=300,
    sweep_rounds=5,
)
QUICK = Sizes(
    rules_budget=0.005,
    rules_repeat=20,
    command_accounts=20,
    command_rounds=4,
    rebuild_seekers=1_000,
    rebuild_repeat=2,
    show_events=10_000,
    show_loads=20,
    sweep_small=2_000,
    sweep_large=20_000,
    sweep_due=100,
    sweep_rounds=2,
)

ADVISOR = "Kato"


def personal(number: int) -> PersonalData:
    return PersonalData(
        name=f"Tanaka Yui {number}",
        email=f"yui.tanaka.{number}@example.jp",
        phone="090-1234-5678",
        birth_date=date(1990, 1, 1 + number % 28),
    )


def new_seeker(
    policy: str, at: datetime, number: int, seeker_id: UUID | None = None
) -> Seeker:
    preset = PRESETS[policy]
    return Seeker.register(
        occurred_at=at,
        actor="bench",
        policy=preset,
        personal=personal(number),
        channel="web" if policy != "workport" else "phone",
        advisor=ADVISOR if preset.advisors else None,
        seeker_id=seeker_id,
    )


# -- 1. the rules check --------------------------------------------------------------


Check = tuple[Seeker, str, dict[str, Any]]


def rule_mix() -> list[Check]:
    """Accounts in every state, and the checks commands make on them, weighted
    towards the everyday ones (apply, contact, interviews)."""
    at = utcnow() - timedelta(days=40)
    hour = timedelta(hours=1)
    workport = new_seeker("workport", at, 1)
    workport.apply(at=at + hour, actor="b", job="Nurse", route="agency")
    workport.schedule_interview(
        at=at + 2 * hour,
        actor="b",
        application_id="A1",
        interview_at=at + 100 * hour,
        round_number=1,
        final=False,
    )
    hellowork = new_seeker("hellowork", at, 2)
    hellowork.apply(at=at + hour, actor="b", job="Nurse", route="agency")
    paused = new_seeker("workport", at, 3)
    paused.pause(at=at + hour, actor="b", reason=None)
    unreachable = new_seeker("hellowork", at, 4)
    unreachable.mark_unreachable(at=at + hour, actor="b")
    lapsed = new_seeker("hellowork", at, 5)
    lapsed.lapse(at=at + hour, actor="b")
    requested = new_seeker("workport", at, 6)
    withdrawal: dict[str, Any] = {
        "channel": "phone",
        "reason": "job_found",
        "verify_name": None,
        "verify_birth_date": None,
    }
    requested.request_withdrawal(
        at=at + hour, actor="b", note=None, erase_data=False, **withdrawal
    )
    withdrawn = new_seeker("hellowork", at, 7)
    withdrawn.request_withdrawal(
        at=at + hour,
        actor="b",
        channel="web",
        reason=None,
        note=None,
        verify_name=None,
        verify_birth_date=None,
        erase_data=False,
    )
    withdrawn.withdraw(at=at + 2 * hour, actor="b")
    later = at + 5 * hour
    return [
        *[(workport, "apply", {})] * 3,
        *[(hellowork, "apply", {})] * 2,
        *[(workport, "contact", {})] * 2,
        (unreachable, "contact", {}),
        *[(workport, "schedule-interview", {})] * 2,
        *[(workport, "close-application", {})] * 2,
        (workport, "decline-interview", {"at": later}),
        (workport, "pause", {}),
        (paused, "resume", {}),
        (workport, "change-advisor", {}),
        (workport, "mark-unreachable", {}),
        (unreachable, "restore-contact", {}),
        (hellowork, "lapse", {}),
        (lapsed, "reactivate", {}),
        (workport, "request-withdrawal", withdrawal),
        (
            hellowork,
            "request-withdrawal",
            {**withdrawal, "channel": "web", "reason": None},
        ),
        (requested, "withdraw", {}),
        (requested, "cancel-withdrawal", {}),
        (withdrawn, "reinstate", {"at": later, "assisted": False}),
        (withdrawn, "purge", {"at": later, "reason": "deletion_request"}),
    ]


def bench_rules(sizes: Sizes) -> Section:
    mix = rule_mix()
    real = account_rules()
    big_machine = synthetic_machine(10)
    big = Rules(big_machine, "account")
    real_size, big_size = machine_size(AccountLifecycle), machine_size(big_machine)

    def checks() -> list[Callable[[], object]]:
        return [partial(s.check, command, **args) for s, command, args in mix]

    def moves(rules: Rules) -> list[Callable[[], object]]:
        return [partial(rules.move, s.status, command) for s, command, _ in mix]

    def naive(machine: Any) -> list[Callable[[], object]]:
        return [partial(naive_check, machine, s, c, args) for s, c, args in mix]

    # Seeker.check() asks the module's compiled ``ACCOUNT`` table; the 10x
    # variant swaps in the 10x table.
    original = seeker_module.ACCOUNT

    def use_real() -> None:
        seeker_module.ACCOUNT = original

    def use_big() -> None:
        seeker_module.ACCOUNT = big

    log("rules: the real machine and the 10x one, in turns")
    try:
        use_big()
        for s, command, args in mix:  # the same checks pass on the 10x machine
            s.check(command, **args)
        times = compare(
            {
                "check_real": Variant(checks(), use_real),
                "check_big": Variant(checks(), use_big),
                "move_real": Variant(moves(real), use_real),
                "move_big": Variant(moves(big), use_real),
                "naive_real": Variant(naive(AccountLifecycle), use_real),
                "naive_big": Variant(naive(big_machine), use_real),
            },
            budget=sizes.rules_budget,
            repeat=sizes.rules_repeat,
        )
    finally:
        use_real()
    best = {name: min(samples) for name, samples in times.items()}
    check_real, check_big = best["check_real"], best["check_big"]
    move_real, move_big = best["move_real"], best["move_big"]
    naive_real, naive_big = best["naive_real"], best["naive_big"]
    check_growth = paired_ratio(times["check_big"], times["check_real"])
    move_growth = paired_ratio(times["move_big"], times["move_real"])
    naive_growth = paired_ratio(times["naive_big"], times["naive_real"])

    span = "*"
    section = Section(
        f"1. rules check: {len(mix)} checks of {len(set(c for _, c, _ in mix))} "
        "commands on accounts in 7 states; no I/O, so one in-process column "
        f"(µs: best of {sizes.rules_repeat}; growth: median of the "
        f"{sizes.rules_repeat} side-by-side ratios)"
    )
    section.rows += [
        Row(
            "Seeker.check() µs/check, vs naive",
            {span: f"{us(check_real)} = {check_real / naive_real:.4f}x naive"},
            "≤ 20 µs",
            {span: verdict(check_real <= RULES_CHECK_LIMIT)},
        ),
        Row(
            "account_rules().move() µs/check, vs naive",
            {span: f"{us(move_real)} = {move_real / naive_real:.4f}x naive"},
            "≤ 20 µs",
            {span: verdict(move_real <= RULES_CHECK_LIMIT)},
        ),
        Row(
            "baseline: AccountLifecycle(start_value)+send",
            {span: f"{us(naive_real)} per check"},
        ),
        Row(
            "growth, 10x machine: Seeker.check()",
            {span: f"{check_growth:.2f}x ({us(check_big)})"},
            f"≈ 1.0 (≤ {GROWTH_LIMIT}x)",
            {span: verdict(check_growth <= GROWTH_LIMIT)},
        ),
        Row(
            "growth, 10x machine: account_rules().move()",
            {span: f"{move_growth:.2f}x ({us(move_big)})"},
            f"≈ 1.0 (≤ {GROWTH_LIMIT}x)",
            {span: verdict(move_growth <= GROWTH_LIMIT)},
        ),
        Row(
            "growth, 10x machine: naive baseline (info)",
            {span: f"{naive_growth:.2f}x ({us(naive_big)})"},
        ),
    ]
    section.notes.append(
        f"real machine {real_size.states} states / {real_size.events} commands / "
        f"{real_size.transitions} transitions; synthetic {big_size.states} / "
        f"{big_size.events} / {big_size.transitions} (the real one plus extra "
        "states and commands, compiled by domain.lifecycle.Rules)"
    )
    section.notes.append(
        "naive = python-statemachine AccountLifecycle(model, start_value=state) "
        "then send(command, **args), its guards asking the same policy guards"
    )
    return section


# -- 2. a command end to end ---------------------------------------------------------

Command = Callable[[Seeker, datetime], object]


def newest(seeker: Seeker) -> str:
    return seeker.open_applications[-1].id


def command_cycle(policy: str) -> list[Command]:
    """What operators do to an account, one command per round."""
    advisors = PRESETS[policy].advisors

    def apply(s: Seeker, at: datetime) -> object:
        return s.apply(at=at, actor="bench", job="Care worker", route="agency")

    def schedule(s: Seeker, at: datetime) -> None:
        s.schedule_interview(
            at=at,
            actor="bench",
            application_id=newest(s),
            interview_at=at + timedelta(days=7),
            round_number=1,
            final=False,
        )

    def no_answer(s: Seeker, at: datetime) -> None:
        s.contact(at=at, actor="bench", channel="phone", outcome="no_answer")

    def unreachable(s: Seeker, at: datetime) -> None:
        s.mark_unreachable(at=at, actor="bench")

    def reached(s: Seeker, at: datetime) -> None:
        s.contact(at=at, actor="bench", channel="email", outcome="reached")

    def close(s: Seeker, at: datetime) -> None:
        s.close_application(
            at=at, actor="bench", application_id=newest(s), outcome="rejected"
        )

    def advisor(s: Seeker, at: datetime) -> None:
        s.change_advisor(at=at, actor="bench", advisor="Mori")

    def pause(s: Seeker, at: datetime) -> None:
        s.pause(at=at, actor="bench", reason=None)

    if advisors:
        return [apply, schedule, no_answer, unreachable, reached, close, advisor, pause]
    return [apply, schedule, no_answer, unreachable, reached, close, apply, close]


def bench_command(store: str, stores: Stores, sizes: Sizes) -> dict[str, float]:
    url = stores.url(store, "command")
    bare_url = stores.url(store, "bare")
    ledger = open_ledger(url)
    bare = BareApplication.on(bare_url)
    try:
        projections = Projections(ledger)
        start = utcnow() - timedelta(days=2)
        accounts: list[tuple[UUID, UUID, list[Command]]] = []
        seekers: list[Seeker] = []
        records: list[BareRecord] = []
        for number in range(sizes.command_accounts):
            policy = "workport" if number % 2 else "hellowork"
            seeker = new_seeker(policy, start, number)
            kind, fields = event_fields(seeker.pending_events[0])
            record = BareRecord(kind, fields)
            seekers.append(seeker)
            records.append(record)
            accounts.append((seeker.id, record.id, command_cycle(policy)))
        save_new(ledger, seekers)
        bare.save(*records)
        projections.catch_up()

        samples: dict[str, list[float]] = {
            key: [] for key in ("execute", "catch_up", "full", "bare")
        }
        clock = time.perf_counter
        events = 0
        log(
            f"command/{store}: {sizes.command_rounds} rounds of "
            f"{len(accounts)} commands, each then its bare twin"
        )
        # On SQLite one account in FLOOR_SHARE is not timed: its commands'
        # SQL is measured for the floor (tests/bench_floors.py), the same
        # mix of commands as the timed ones.
        clocks: dict[str, SqlClock] = {}
        floor_bare: list[float] = []
        if store == SQLITE:
            clocks = {"ours": SqlClock(), "bare": SqlClock()}
        for round_number in range(sizes.command_rounds):
            for number, (seeker_id, bare_id, cycle) in enumerate(accounts):
                captured: list[Any] = []

                def run(
                    seeker: Seeker,
                    at: datetime,
                    command: Command = cycle[round_number],
                    captured: list[Any] = captured,
                ) -> object:
                    result = command(seeker, at)
                    captured[:] = seeker.pending_events
                    return result

                floor = bool(clocks) and number % FLOOR_SHARE == FLOOR_SHARE - 1
                request = Request(str(uuid.uuid4()), "execute", fresh=True)
                with measured(clocks, "ours", floor):
                    began = clock()
                    with requested(request):  # as the CLI runs every command
                        ledger.execute(seeker_id, run)
                    executed = clock()
                    projections.catch_up_after_save()  # as the CLI does
                    ended = clock()
                bare_events = [event_fields(e) for e in captured]
                with measured(clocks, "bare", floor):
                    bare_began = clock()
                    record = bare.repository.get(bare_id)
                    for kind, fields in bare_events:
                        record.record(kind=kind, fields=fields)
                    bare.save(record)
                    bare_ended = clock()
                if floor:
                    floor_bare.append(bare_ended - bare_began)
                    continue
                samples["execute"].append(executed - began)
                samples["catch_up"].append(ended - executed)
                samples["full"].append(ended - began)
                samples["bare"].append(bare_ended - bare_began)
                events += len(captured)
        idle: list[float] = []
        for _ in range(50):
            began = clock()
            projections.catch_up()
            idle.append(clock() - began)
        commands = len(samples["full"])
        results = {key: statistics.median(values) for key, values in samples.items()}
        results["full_mean"] = statistics.fmean(samples["full"])
        results["bare_mean"] = statistics.fmean(samples["bare"])
        results["idle"] = statistics.median(idle)
        results["commands"] = commands
        results["events_per_command"] = events / commands
        for key in ("full", "execute", "catch_up"):
            results[f"{key}_ratio"] = paired_ratio(samples[key], samples["bare"])
        if clocks:
            results.update(
                command_bound(clocks["ours"], clocks["bare"], samples["bare"])
            )
        return results
    finally:
        ledger.close()
        bare.close()
        stores.drop(url)
        stores.drop(bare_url)


def command_section(results: dict[str, dict[str, float]], sizes: Sizes) -> Section:
    section = Section(
        "2. command end to end (SeekerLedger.execute under a request id + "
        "Projections.catch_up_after_save, as the CLI does) vs saving the same "
        "events "
        "through a bare library aggregate "
        f"({sizes.command_accounts} accounts x {sizes.command_rounds} commands, "
        "each followed by its bare twin; times are medians per command; on "
        f"SQLite one account in {FLOOR_SHARE} is kept for the floor, untimed)"
    )
    full: dict[str, str] = {}
    verdicts: dict[str, str] = {}
    rows: dict[str, dict[str, str]] = {
        k: {} for k in ("execute", "catch_up", "bare", "mean", "idle", "ev", "floor")
    }
    for store, r in results.items():
        total = r["full"]
        ratio = r["full_ratio"]
        full[store] = f"{ratio:.2f}x ({ms(total)} = {1 / total:,.0f} cmd/s)"
        verdicts[store] = verdict(ratio <= COMMAND_LIMIT)
        for key in ("execute", "catch_up"):
            share = r[key] / total
            part = r[f"{key}_ratio"]
            rows[key][store] = f"{part:.2f}x ({ms(r[key])}, {share:.0%})"
        rows["bare"][store] = f"{ms(r['bare'])} = {1 / r['bare']:,.0f} cmd/s"
        rows["mean"][store] = (
            f"{r['full_mean'] / r['bare_mean']:.2f}x "
            f"({ms(r['full_mean'])} vs {ms(r['bare_mean'])})"
        )
        rows["idle"][store] = f"{ms(r['idle'])} per catch_up()"
        rows["ev"][store] = f"{r['events_per_command']:.2f}"
        if "bound" in r:
            rows["floor"][store] = (
                f"{r['bound']:.2f}x (SQL alone: {ms(r['ours_sql'])} in "
                f"{r['statements']:.0f} calls vs {ms(r['bare_sql'])} in "
                f"{r['bare_statements']:.0f})"
            )
    section.rows += [
        Row("full path vs bare save", full, f"≤ {COMMAND_LIMIT}x", verdicts),
        Row("split: execute alone (load, rules, save)", rows["execute"]),
        Row("split: catch-up of both projections", rows["catch_up"]),
        Row("baseline: bare aggregate get + save", rows["bare"]),
        Row("same ratio on means (info)", rows["mean"]),
        Row("catch-up with nothing new (both, info)", rows["idle"]),
        Row("events per command", rows["ev"]),
        Row("floor: best ratio with our SQL as it is", rows["floor"]),
    ]
    section.notes.append(
        "ratios are medians of each command's time over its bare twin's; split "
        "rows give each part's ratio, median time and share of the full median"
    )
    if rows["floor"]:
        section.notes.append(
            f"floor (SQLite): one account in {FLOOR_SHARE} is not timed; for its "
            "commands, ours and the bare twin's, the time inside sqlite3's C "
            "methods (execute, executemany, fetches, commit) is measured live "
            "with sys.setprofile; floor = (bare - bare SQL + our SQL) / bare, the "
            "ratio if our Python cost no more than the bare aggregate's "
            "(tests/bench_floors.py)"
        )
    return section


# -- 3. projection rebuild -------------------------------------------------------------


def bench_rebuild(store: str, stores: Stores, sizes: Sizes) -> dict[str, float]:
    """Figure 3: ``Projections.rebuild()`` (both projections, one pass over the
    log) against the library's read-and-decode of the same log, each log event
    counted once; and the rebuild's peak memory at two log sizes 10x apart."""
    url = stores.url(store, "rebuild")
    ledger = open_ledger(url)
    try:
        now = utcnow()
        small = max(sizes.rebuild_seekers // REBUILD_MEMORY_GROWTH, 1)
        log(f"rebuild/{store}: simulating {small:,} seekers")
        first = simulate(ledger, seekers=small, seed=7, now=now, years=6)
        rss_small, start_small = rebuild_rss(url)
        rest = sizes.rebuild_seekers - small
        log(f"rebuild/{store}: simulating {rest:,} more seekers")
        second = simulate(ledger, seekers=rest, seed=8, now=now, years=6)
        events = first.events + second.events
        rss_large, start_large = rebuild_rss(url)
        projections = Projections(ledger)
        # The library's own mapper, as a reader without keys has it (the
        # projections' faster transcoder is part of what is measured).
        mapper = ledger.mapper.without_unsealing()  # type: ignore[attr-defined]
        samples: dict[str, list[float]] = {"decode": [], "rebuild": []}
        runs: dict[str, Callable[[], int]] = {
            "decode": lambda: read_and_decode(ledger, mapper, BATCH_SIZE),
            "rebuild": projections.rebuild,
        }
        repeat = sizes.rebuild_repeat
        log(f"rebuild/{store}: {events:,} events; decode, rebuild x{repeat}")
        counted: dict[str, int] = {}
        for round_number in range(repeat):
            names = list(runs)
            names = names[round_number % 2 :] + names[: round_number % 2]  # turns
            for name in names:
                began = time.perf_counter()
                counted[name] = runs[name]()
                samples[name].append(time.perf_counter() - began)
        if counted["decode"] != events or counted["rebuild"] != 2 * events:
            raise AssertionError(
                f"log has {counted['decode']} events, simulation made {events}, "
                f"rebuild processed {counted['rebuild']} (2 projections)"
            )
        decode = statistics.median(samples["decode"])
        rebuild = statistics.median(samples["rebuild"])
        log(f"rebuild/{store}: floor, the same work writing nothing")
        unwritten = rebuild_without_writes(projections.rebuild, events, repeat)
        return {
            "unwritten": unwritten,
            "bound": decode / unwritten,
            # rate ratio = (events / rebuild) / (events / decode), pair by pair
            "ratio": paired_ratio(samples["decode"], samples["rebuild"]),
            "events": events,
            "small_events": first.events,
            "decode": decode,
            "rebuild": rebuild,
            "decode_rate": events / decode,
            "rebuild_rate": events / rebuild,
            "rss_small": rss_small,
            "rss_large": rss_large,
            "start_small": start_small,
            "start_large": start_large,
        }
    finally:
        ledger.close()
        stores.drop(url)


def rebuild_rss(url: str) -> tuple[float, float]:
    """The maximum RSS (bytes) of a fresh process that opens the store at
    ``url`` and rebuilds both projections once, and its RSS just before."""
    return child_rss("tests.bench:rebuild_rss_child", url, timeout=1800)


def rebuild_rss_child(url: str) -> None:
    """``rebuild_rss``'s child: open, rebuild, print the two RSS figures."""
    ledger = open_ledger(url)
    try:
        projections = Projections(ledger)
        projections.status("accounts")  # the store is open and read
        start = max_rss()
        projections.rebuild()
        print_rss(start)
    finally:
        ledger.close()


def rebuild_section(results: dict[str, dict[str, float]], sizes: Sizes) -> Section:
    section = Section(
        f"3. projection rebuild of a simulated population ({sizes.rebuild_seekers:,} "
        "seekers): both projections in one pass vs the library's read-and-decode "
        "of the same log, each log event counted once "
        f"(the two in turn, {sizes.rebuild_repeat} times; median ratio of the pairs)"
    )
    cells: dict[str, dict[str, str]] = {
        key: {} for key in ("ratio", "detail", "base", "rss", "above", "floor")
    }
    verdicts: dict[str, dict[str, str]] = {"ratio": {}, "rss": {}}
    small = large = ""
    for store, r in results.items():
        value = r["ratio"]
        cells["ratio"][store] = (
            f"{value:.2f}x ({r['rebuild_rate']:,.0f} vs {r['decode_rate']:,.0f} ev/s)"
        )
        verdicts["ratio"][store] = verdict(value >= REBUILD_TARGET)
        if value < REBUILD_TARGET and value >= REBUILD_LIMIT:
            verdicts["ratio"][store] += f" (SPEC {REBUILD_LIMIT}x: PASS)"
        cells["detail"][store] = f"{r['rebuild']:.2f} s for {r['events']:,.0f} events"
        cells["base"][store] = f"{r['decode']:.2f} s (pages of {BATCH_SIZE})"
        cells["floor"][store] = (
            f"{r['bound']:.2f}x ({r['unwritten']:.2f} s decoding and applying, "
            "nothing written)"
        )
        growth = r["rss_large"] / r["rss_small"]
        cells["rss"][store] = (
            f"{growth:.2f}x ({mib(r['rss_small'])} -> {mib(r['rss_large'])})"
        )
        verdicts["rss"][store] = verdict(growth <= REBUILD_MEMORY_LIMIT)
        cells["above"][store] = (
            f"{mib(r['rss_small'] - r['start_small'])} -> "
            f"{mib(r['rss_large'] - r['start_large'])}"
        )
        small = f"{r['small_events']:,.0f}"
        large = f"{r['events']:,.0f}"
    section.rows += [
        Row(
            "rebuild rate vs read+decode (log events)",
            cells["ratio"],
            f"≥ {REBUILD_TARGET}x (#11)",
            verdicts["ratio"],
        ),
        Row("rebuild(), both projections", cells["detail"]),
        Row("baseline: select_notifications+to_domain_event", cells["base"]),
        Row("floor: best ratio if writing cost nothing", cells["floor"]),
        Row(
            f"rebuild peak RSS, {small} -> {large} events",
            cells["rss"],
            f"≤ {REBUILD_MEMORY_LIMIT}x",
            verdicts["rss"],
        ),
        Row("  of which above the opened store", cells["above"]),
    ]
    section.notes += [
        f"SPEC section 10 asks >= {REBUILD_LIMIT}x, issue #11 >= {REBUILD_TARGET}x; "
        "each log event counts once although both projections process it "
        "(the README's older per-projection figure counted it twice)",
        f"{sizes.rebuild_seekers:,} seekers, not the issue's 100,000: simulating "
        "100,000 takes about 2 minutes on SQLite and more than 3 on PostgreSQL "
        "here before any timing; the ratio falls on larger logs as SQLite's "
        "indexes outgrow its page cache (see the README for 100,000)",
        "memory: max RSS (VmHWM) of a fresh process that opens the store and "
        "rebuilds, first with "
        f"1/{REBUILD_MEMORY_GROWTH} of the population, then with all of it; "
        "'above the opened store' subtracts the RSS just before the rebuild",
        "floor: the rebuild's own read, decode and both projections' handlers "
        "over the whole log as one batch, ChangeSet.flush a no-op; floor = "
        "read+decode / that (tests/bench_floors.py)",
    ]
    return section


def mib(size: float) -> str:
    return f"{size / 2**20:.1f} MB"


# -- 4. show of a long account ---------------------------------------------------------


def long_account(ledger: SeekerLedger, events: int, at: datetime, number: int) -> UUID:
    """An account of ``events`` events: registered, then contacted, saved in
    batches (the library snapshots every SNAPSHOT_INTERVAL versions as it saves)."""
    seeker = new_seeker("workport", at, number)
    save_new(ledger, [seeker])
    seeker_id = seeker.id
    step = timedelta(seconds=1)
    moment = at
    remaining = events - 1
    while remaining:
        seeker = ledger.get_seeker(seeker_id)
        for _ in range(min(500, remaining)):
            moment += step
            seeker.contact(
                at=moment, actor="bench", channel="phone", outcome="no_answer"
            )
        remaining -= min(500, remaining)
        ledger.save(seeker)
    assert ledger.get_seeker(seeker_id).version == events
    return seeker_id


def bench_show(store: str, stores: Stores, sizes: Sizes) -> dict[str, float]:
    url = stores.url(store, "show")
    ledger = open_ledger(url)
    try:
        at = utcnow() - timedelta(days=300)
        log(f"show/{store}: accounts of 10, {sizes.show_events} and more events")
        lengths = {
            "short": 10,
            "long": sizes.show_events,
            "worst": sizes.show_events + SNAPSHOT_INTERVAL - 1,
        }
        ids = {
            name: long_account(ledger, count, at, number)
            for number, (name, count) in enumerate(lengths.items())
        }
        samples: dict[str, list[float]] = {name: [] for name in ids}
        for _ in range(5):
            for seeker_id in ids.values():
                ledger.get_seeker(seeker_id)
        for _ in range(sizes.show_loads):
            for name, seeker_id in ids.items():
                began = time.perf_counter()
                ledger.get_seeker(seeker_id)
                samples[name].append(time.perf_counter() - began)
        results = {name: statistics.median(times) for name, times in samples.items()}
        results["long_ratio"] = paired_ratio(samples["long"], samples["short"])
        results["worst_ratio"] = paired_ratio(samples["worst"], samples["short"])
        return results
    finally:
        ledger.close()
        stores.drop(url)


def show_section(results: dict[str, dict[str, float]], sizes: Sizes) -> Section:
    section = Section(
        "4. show: SeekerLedger.get_seeker() of a long account vs one of 10 events "
        f"(snapshots every {SNAPSHOT_INTERVAL}; the three loaded in turn "
        f"{sizes.show_loads} times: "
        "median times, median ratio of the side-by-side loads)"
    )
    long_row: dict[str, str] = {}
    worst_row: dict[str, str] = {}
    short_row: dict[str, str] = {}
    long_verdicts: dict[str, str] = {}
    worst_verdicts: dict[str, str] = {}
    for store, r in results.items():
        long_ratio = r["long_ratio"]
        worst_ratio = r["worst_ratio"]
        long_row[store] = f"{long_ratio:.2f}x ({ms(r['long'])})"
        worst_row[store] = f"{worst_ratio:.2f}x ({ms(r['worst'])})"
        short_row[store] = ms(r["short"])
        long_verdicts[store] = verdict(long_ratio <= SHOW_LIMIT)
        worst_verdicts[store] = verdict(worst_ratio <= SHOW_LIMIT)
    n = sizes.show_events
    tail = SNAPSHOT_INTERVAL - 1
    section.rows += [
        Row(f"{n:,} events vs 10", long_row, f"≤ {SHOW_LIMIT:g}x", long_verdicts),
        Row(
            f"{n + tail:,} events ({tail} past a snapshot) vs 10",
            worst_row,
            f"≤ {SHOW_LIMIT:g}x",
            worst_verdicts,
        ),
        Row("baseline: 10 events", short_row),
    ]
    section.notes.append(
        f"{n:,} is a multiple of {SNAPSHOT_INTERVAL}, so its latest snapshot is "
        f"its head (best case); {n + tail:,} replays {tail} events after it "
        "(worst case)"
    )
    return section


# -- 5. the sweep ----------------------------------------------------------------------


def add_accounts(
    ledger: SeekerLedger,
    rng: random.Random,
    *,
    not_due: int,
    due: int,
    now: datetime,
    first_number: int,
) -> None:
    """Register accounts directly, saved in batches of 500: ``due`` HelloWork
    accounts whose registration lapsed months ago, spread among ``not_due``
    recent accounts of all three policies."""
    kinds = [True] * due + [False] * not_due
    rng.shuffle(kinds)
    policies = ("hellowork", "workport", "pasona")
    batch: list[Seeker] = []
    for offset, is_due in enumerate(kinds):
        number = first_number + offset
        if is_due:
            policy, days = "hellowork", rng.uniform(120, 400)
        else:
            policy, days = policies[number % 3], rng.uniform(0.1, 20)
        seeker_id = UUID(int=rng.getrandbits(128), version=4)
        batch.append(new_seeker(policy, now - timedelta(days=days), number, seeker_id))
        if len(batch) == 500:
            save_new(ledger, batch)
            batch = []
    if batch:
        save_new(ledger, batch)


def bench_sweep(store: str, stores: Stores, sizes: Sizes) -> dict[str, float]:
    """Two stores, of ``sweep_small`` and ``sweep_large`` accounts; in each
    round both get ``sweep_due`` newly due accounts and are swept in turn
    (the accounts lapsed in earlier rounds are no longer due)."""
    scales = {"small": sizes.sweep_small, "large": sizes.sweep_large}
    urls = {scale: stores.url(store, f"sweep_{scale}") for scale in scales}
    ledgers: dict[str, SeekerLedger] = {}
    rng = random.Random(11)
    samples: dict[str, list[float]] = {}

    def sample(key: str, seconds: float) -> None:
        samples.setdefault(key, []).append(seconds)

    try:
        for scale, total in scales.items():
            ledgers[scale] = open_ledger(urls[scale])
            log(f"sweep/{store}: registering {total:,} accounts")
            began = time.perf_counter()
            add_accounts(
                ledgers[scale],
                rng,
                not_due=total - sizes.sweep_due,
                due=0,
                now=utcnow(),
                first_number=0,
            )
            sample(f"{scale}_build", time.perf_counter() - began)
        views = {scale: Projections(ledgers[scale]) for scale in scales}
        for round_number in range(sizes.sweep_rounds):
            for scale, total in scales.items():
                add_accounts(
                    ledgers[scale],
                    rng,
                    not_due=0,
                    due=sizes.sweep_due,
                    now=utcnow(),
                    first_number=total + round_number * sizes.sweep_due,
                )
                began = time.perf_counter()
                views[scale].catch_up()
                sample(f"{scale}_catch_up", time.perf_counter() - began)
            order = list(scales) if round_number % 2 == 0 else list(scales)[::-1]
            for scale in order:
                log(f"sweep/{store}: round {round_number + 1}, {scale} store")
                view = views[scale].views["accounts"]
                moment = utcnow()
                began = time.perf_counter()
                candidates = due_candidates(view, moment)
                sample(f"{scale}_query", time.perf_counter() - began)
                began = time.perf_counter()
                actions = sweep(ledgers[scale], view, moment, dry_run=False)
                sample(f"{scale}_sweep", time.perf_counter() - began)
                if len(actions) != sizes.sweep_due or len(candidates) != len(actions):
                    raise AssertionError(
                        f"{len(candidates)} candidates and {len(actions)} actions, "
                        f"expected {sizes.sweep_due}"
                    )
                views[scale].catch_up()
        results = {key: statistics.median(values) for key, values in samples.items()}
        results["ratio"] = paired_ratio(samples["large_sweep"], samples["small_sweep"])
        results["query_ratio"] = paired_ratio(
            samples["large_query"], samples["small_query"]
        )
        for scale in scales:
            results[f"{scale}_build"] = sum(samples[f"{scale}_build"])
            results[f"{scale}_catch_up"] = sum(samples[f"{scale}_catch_up"])
        return results
    finally:
        for ledger in ledgers.values():
            ledger.close()
        for url in urls.values():
            stores.drop(url)


def sweep_section(results: dict[str, dict[str, float]], sizes: Sizes) -> Section:
    small, large = f"{sizes.sweep_small // 1000}k", f"{sizes.sweep_large // 1000}k"
    section = Section(
        f"5. sweep (dry_run=False, after catch-up): {large} vs {small} stored "
        f"accounts, {sizes.sweep_due} due in each ({sizes.sweep_rounds} rounds, the "
        "two stores swept in turn: median times, median ratio of the pairs)"
    )
    ratio: dict[str, str] = {}
    verdicts: dict[str, str] = {}
    per_due: dict[str, str] = {}
    query: dict[str, str] = {}
    build: dict[str, str] = {}
    for store, r in results.items():
        value = r["ratio"]
        ratio[store] = (
            f"{value:.2f}x ({r['large_sweep']:.2f} vs {r['small_sweep']:.2f} s)"
        )
        verdicts[store] = verdict(value <= SWEEP_LIMIT)
        per_due[store] = (
            f"{ms(r['small_sweep'] / sizes.sweep_due)} / "
            f"{ms(r['large_sweep'] / sizes.sweep_due)}"
        )
        query[store] = (
            f"{r['query_ratio']:.1f}x ({ms(r['small_query'])} / {ms(r['large_query'])})"
        )
        build[store] = (
            f"{r['small_build'] + r['large_build']:.0f} s + "
            f"{r['small_catch_up'] + r['large_catch_up']:.0f} s"
        )
    section.rows += [
        Row(
            f"sweep time {large} vs {small}",
            ratio,
            f"≈ 1 (≤ {SWEEP_LIMIT}x)",
            verdicts,
        ),
        Row(f"per due account, {small} / {large}", per_due),
        Row(f"candidates query {large} vs {small} (info)", query),
        Row("setup: register+save, catch-up (info)", build),
    ]
    return section


# -- the run ---------------------------------------------------------------------------


def environment(stores: Stores, selected: Sequence[str]) -> list[str]:
    lines = environment_lines()
    if SQLITE in selected:
        url = stores.url(SQLITE, "probe")
        ledger = open_ledger(url)
        try:
            lines.append(f"SQLite store: {sqlite_settings(ledger)}")
        finally:
            ledger.close()
            stores.drop(url)
        lines.append(
            f"SQLite files in {stores.folder}: a 4 KiB write + fsync takes "
            f"{ms(fsync_cost(stores.folder))} (median)"
        )
    if POSTGRES in selected:
        server = stores.postgres()
        server_version, settings = postgres_settings(server)
        lines.append(
            f"PostgreSQL {server_version} (throwaway server, 127.0.0.1 TCP): {settings}"
        )
    return lines


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument(
        "--only",
        metavar="NAME",
        help=f"comma-separated figures to run ({', '.join(FIGURES)})",
    )
    parser.add_argument(
        "--stores",
        default=f"{SQLITE},{POSTGRES}",
        help="comma-separated stores (default: sqlite,postgresql)",
    )
    arguments = parser.parse_args(argv)
    only = arguments.only.split(",") if arguments.only else list(FIGURES)
    unknown = [name for name in only if name not in FIGURES]
    if unknown:
        parser.error(f"unknown figure(s) {', '.join(unknown)}; choose from {FIGURES}")
    arguments.only = only
    selected = arguments.stores.split(",")
    if any(store not in STORE_LABELS for store in selected):
        parser.error(f"--stores takes {SQLITE} and/or {POSTGRES}")
    arguments.stores = selected
    return arguments


StoreBench = Callable[[str, Stores, Sizes], dict[str, float]]
SectionMaker = Callable[[dict[str, dict[str, float]], Sizes], Section]
STORE_FIGURES: dict[str, tuple[StoreBench, SectionMaker]] = {
    "command": (bench_command, command_section),
    "rebuild": (bench_rebuild, rebuild_section),
    "show": (bench_show, show_section),
    "sweep": (bench_sweep, sweep_section),
    "encryption": (bench_encryption, encryption_section),
    "integrity": (bench_integrity, integrity_section),
    "reports": (bench_reports, reports_section),
    "simulate": (bench_simulate, simulate_section),
    "roles": (bench_roles, roles_section),
}


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    sizes = QUICK if arguments.quick else FULL
    started = time.monotonic()
    stores = Stores()
    failed = False
    sections: list[Section] = []
    try:
        selected: list[str] = []
        unavailable: dict[str, str] = {}
        on_stores = any(name in STORE_FIGURES for name in arguments.only)
        for store in arguments.stores if on_stores else []:
            reason = stores.available(store)
            if reason is None:
                selected.append(store)
            else:
                unavailable[store] = reason
                failed = True
        header = environment(stores, selected)
        for store, reason in unavailable.items():
            header.append(f"{STORE_LABELS[store]} UNAVAILABLE: {reason}")
        if "rules" in arguments.only:
            sections.append(bench_rules(sizes))
        for name, (bench, make_section) in STORE_FIGURES.items():
            if name not in arguments.only:
                continue
            results: dict[str, dict[str, float]] = {}
            errors: list[str] = []
            for store in selected:
                try:
                    results[store] = bench(store, stores, sizes)
                except Exception as error:
                    failed = True
                    traceback.print_exc()
                    errors.append(f"{STORE_LABELS[store]}: ERROR {error!r}")
            section = make_section(results, sizes)
            section.notes += errors
            sections.append(section)
        if "startup" in arguments.only:  # whole processes, on SQLite only
            sections.append(bench_startup(quick=arguments.quick))
        if "contention" in arguments.only and POSTGRES in arguments.stores:
            sections.append(bench_contention(quick=arguments.quick))
        footer: list[str] = []
        if SQLITE in selected:
            footer.append(
                "fsync probe at the end (4 KiB write + fsync beside the SQLite "
                f"files): {ms(fsync_cost(stores.folder))}"
            )
    finally:
        stores.close()
    elapsed = time.monotonic() - started
    mode = "quick" if arguments.quick else "full"
    sys.stderr.flush()
    print(f"Seeker Ledger benchmarks ({mode} run, python -m tests.bench)")
    for line in header:
        print(f"  {line}")
    print(render(sections, arguments.stores))
    print(
        "  ratios are against a baseline measured in this run on the same store; "
        "PASS/MISS compares them with SPEC section 10"
    )
    print(
        "  reports at every size (10k, 100k, 1M): python -m tests.bench_reports; "
        "pages: make bench-pages"
    )
    for line in footer:
        print(f"  {line}")
    print(f"  {load_average('at the end')}; total time {elapsed:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
