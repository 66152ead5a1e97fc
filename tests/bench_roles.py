"""Figure 11 of ``make bench``: what the roles cost on the command path (SPEC §10).

Why: on PostgreSQL every CLI command first asks the server who its login is
(``adapters.roles.ACCESS_QUERY``, in ``adapters.postgres.schema_lock``) and
checks the command against ``adapters.roles.MAY`` (``Session._authorize``),
and a store with roles installed (``seekers roles install``) has its grants
checked on every statement and its deferred "chained" constraint triggers
(``adapters.roles.install_statements``) run at every commit. SPEC §10 asks
that a command with the principal and the grants cost at most 1.05x the
same command in single-login mode (a store without roles, used by its
owner).

Measured in one run, on two fresh databases of the throwaway server: A, its
owner on a store without roles; B, a store whose owner ran ``roles install``,
used by a login created for the run and granted ``seekers_operator``. Each
gets the same number of accounts (registered through the CLI by the login
that is timed, untimed), then the same sequence of ``seekers contact SEEKER
--channel phone --outcome no_answer`` through the CLI's real entry point
(``cli.main.main``), in process, stdout and stderr to memory: the whole
command path, the session's opening (connections, probe, authorization),
the ledger, the insert with its triggers and the projections' catch-up. A
and B take turns command by command, the first of each pair alternating,
in rounds (collector off inside a round, a collection between rounds); the
figure is the ratio of the two medians, with the spread of the rounds' own
ratios. The opening alone (``schema_lock`` entered on a ready schema: one
connection, the probe, the authorization, the schema check) and the probe
query alone on an open connection are timed the same way, A and B in turns,
so that a MISS can be put where it lies. The principal's stamp (a trigger on
``integrity_events``) is part of every PostgreSQL schema, so both sides pay
it. SQLite has no logins: no figure there.
"""

from __future__ import annotations

import gc
import io
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout, suppress
from functools import partial
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from adapters.postgres import connect, schema_lock
from adapters.roles import ACCESS_QUERY, OPERATOR, Access, access_of
from adapters.storage import parse_storage_url
from cli.main import main as seekers
from domain.errors import Forbidden
from tests.bench_integrity import BenchSizes, is_quick
from tests.bench_support import (
    BENCH_MASTER_KEY,
    POSTGRES,
    Row,
    Section,
    Stores,
    Variant,
    compare,
    log,
    ms,
    no_gc,
    us,
    verdict,
)

ROLES_LIMIT = 1.05
SINGLE = "single"
ROLES = "roles"
MODES = (SINGLE, ROLES)
COMMAND = "contact"
FORBIDDEN_EXIT = 7
ACTOR = "bench"
FULL = (60, 16, 40)
QUICK = (20, 5, 20)
"""Accounts per store, rounds, and commands per store in each round."""
WARM_UP = 3
"""Untimed commands per store first (imports, caches, the server's plans)."""


# -- the CLI in process ----------------------------------------------------------------


@contextmanager
def cli_environment() -> Iterator[None]:
    """The master key the CLI seals with, as it was after."""
    kept = {name: os.environ.get(name) for name in ("SEEKERS_MASTER_KEY",)}
    os.environ["SEEKERS_MASTER_KEY"] = BENCH_MASTER_KEY
    try:
        yield
    finally:
        for name, value in kept.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run(url: str, *args: str, expect: int = 0) -> tuple[float, str]:
    """``seekers --db URL --actor bench ARGS`` through the real entry point,
    in this process; seconds from the call to its exit, and its stdout."""
    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    with redirect_stdout(out), redirect_stderr(err):
        began = time.perf_counter()
        try:
            seekers(["--db", url, "--actor", ACTOR, *args])
        except SystemExit as done:
            code = done.code
        elapsed = time.perf_counter() - began
    if (code or 0) != expect:
        raise RuntimeError(
            f"seekers {' '.join(args)} exited {code}, not {expect}: "
            f"{err.getvalue().strip()}"
        )
    return elapsed, out.getvalue()


def register(url: str, number: int) -> str:
    _, printed = run(
        url,
        "--json",
        "register",
        "--name",
        f"Tanaka Yui {number}",
        "--email",
        f"yui.tanaka.{number}@example.jp",
        "--birth-date",
        "1990-01-01",
        "--policy",
        "workport" if number % 2 else "hellowork",
    )
    return str(json.loads(printed)["id"])


def contact(url: str, seeker: str) -> float:
    elapsed, _ = run(
        url, COMMAND, seeker, "--channel", "phone", "--outcome", "no_answer"
    )
    return elapsed


# -- the two stores --------------------------------------------------------------------


def login_url(url: str, login: str, password: str) -> str:
    """``url`` with ``login`` and ``password`` in place of the owner's."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{login}:{password}@{host}"))


def with_roles(owner_url: str, login: str, password: str) -> str:
    """Roles installed on the store by its owner, ``login`` created and made
    an operator the product's way; the login's URL."""
    run(owner_url, "roles", "install")
    with psycopg.connect(owner_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(login), sql.Literal(password)
            )
        )
    run(owner_url, "roles", "grant", OPERATOR, login)
    return login_url(owner_url, login, password)


def check_access(url: str, *, installed: bool) -> None:
    """The probe sees what the figure compares: the owner of a store without
    roles, or an operator (not the owner) through the roles."""
    with connect(parse_storage_url(url)) as connection:
        access = access_of(connection.execute(ACCESS_QUERY).fetchone())
    assert access.installed is installed and access.owner is not installed, access
    assert not installed or OPERATOR in access.groups, access
    assert access.may(COMMAND), access


def authorize(access: Access) -> None:
    """``Session._authorize`` for ``contact``, without a click context."""
    if not access.may(COMMAND):
        raise Forbidden(f"login {access.login!r} may not {COMMAND}")


# -- the measures ----------------------------------------------------------------------


def timed_commands(
    urls: dict[str, str], accounts: dict[str, list[str]], rounds: int, per_round: int
) -> dict[str, list[list[float]]]:
    """Seconds of each command, per store and round: the stores in turn,
    the first of each pair alternating, the same accounts in the same order
    on both."""
    samples: dict[str, list[list[float]]] = {mode: [] for mode in MODES}
    count = len(accounts[SINGLE])
    for round_number in range(rounds):
        for mode in MODES:
            samples[mode].append([])
        gc.collect()
        with no_gc():
            for index in range(per_round):
                order = MODES if (round_number + index) % 2 == 0 else MODES[::-1]
                account = (round_number * per_round + index) % count
                for mode in order:
                    seconds = contact(urls[mode], accounts[mode][account])
                    samples[mode][-1].append(seconds)
        log(
            f"roles: round {round_number + 1}/{rounds}: "
            + ", ".join(
                f"{mode} {ms(statistics.median(samples[mode][-1]))}" for mode in MODES
            )
        )
    return samples


def opening_costs(urls: dict[str, str], quick: bool) -> dict[str, float]:
    """Medians, A and B in turns: ``schema_lock`` entered on a ready schema
    (a connection, the probe, the authorization, the schema check), and the
    probe and authorization alone on an open connection."""
    configs = {mode: parse_storage_url(url) for mode, url in urls.items()}

    def opening(mode: str) -> None:
        with schema_lock(configs[mode], authorize=authorize) as opened:
            assert not opened.creating

    repeat = 5 if quick else 15
    opened = compare(
        {mode: Variant([partial(opening, mode)]) for mode in MODES},
        budget=0.05,
        repeat=repeat,
    )
    connections = {mode: connect(config) for mode, config in configs.items()}
    try:

        def probe(mode: str) -> None:
            row = connections[mode].execute(ACCESS_QUERY).fetchone()
            authorize(access_of(row))

        probed = compare(
            {mode: Variant([partial(probe, mode)]) for mode in MODES},
            budget=0.02,
            repeat=repeat,
        )
    finally:
        for connection in connections.values():
            connection.close()
    results: dict[str, float] = {}
    for mode in MODES:
        results[f"open_{mode}"] = statistics.median(opened[mode])
        results[f"probe_{mode}"] = statistics.median(probed[mode])
    return results


def bench_roles(store: str, stores: Stores, sizes: BenchSizes) -> dict[str, float]:
    """Figure 11 on PostgreSQL; nothing on SQLite (no logins there)."""
    if store != POSTGRES:
        return {}
    count, rounds, per_round = QUICK if is_quick(sizes) else FULL
    suffix = uuid.uuid4().hex[:8]
    login = f"bench_operator_{suffix}"
    owners = {mode: stores.url(POSTGRES, f"roles-{mode}") for mode in MODES}
    try:
        with cli_environment():
            for url in owners.values():
                run(url, "migrate")
            urls = {
                SINGLE: owners[SINGLE],
                ROLES: with_roles(owners[ROLES], login, f"bench-{suffix}"),
            }
            check_access(urls[SINGLE], installed=False)
            check_access(urls[ROLES], installed=True)
            run(urls[ROLES], "audit", "verify", expect=FORBIDDEN_EXIT)
            log(f"roles/{store}: {count} accounts on each store, through the CLI")
            accounts = {
                mode: [register(url, number) for number in range(count)]
                for mode, url in urls.items()
            }
            for mode, url in urls.items():
                for account in accounts[mode][:WARM_UP]:
                    contact(url, account)
            log(
                f"roles/{store}: {rounds} rounds of {per_round} contact commands "
                "on each store, in turn"
            )
            samples = timed_commands(urls, accounts, rounds, per_round)
            costs = opening_costs(urls, is_quick(sizes))
    finally:
        for url in owners.values():
            stores.drop(url)
        # Roles are the cluster's: the login outlives its database. (The
        # group roles stay, members of nothing: any later store may use them.)
        with suppress(psycopg.Error), stores.postgres().admin_connection() as admin:
            admin.execute(
                sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(login))
            )
    every = {mode: [s for part in samples[mode] for s in part] for mode in MODES}
    medians = {mode: statistics.median(every[mode]) for mode in MODES}
    by_round = [
        statistics.median(r) / statistics.median(s)
        for s, r in zip(samples[SINGLE], samples[ROLES], strict=True)
    ]
    pairs = [r / s for s, r in zip(every[SINGLE], every[ROLES], strict=True)]
    return {
        "accounts": count,
        "rounds": rounds,
        "commands": len(every[SINGLE]),
        SINGLE: medians[SINGLE],
        ROLES: medians[ROLES],
        "ratio": medians[ROLES] / medians[SINGLE],
        "round_min": min(by_round),
        "round_median": statistics.median(by_round),
        "round_max": max(by_round),
        "paired": statistics.median(pairs),
        **costs,
    }


# -- the figure ------------------------------------------------------------------------


def signed(seconds: float, unit: Callable[[float], str]) -> str:
    """A difference with its sign: ``+0.40 ms``, ``-6.73 µs``."""
    return ("-" if seconds < 0 else "+") + unit(abs(seconds))


def roles_section(results: dict[str, dict[str, float]], sizes: BenchSizes) -> Section:
    section = Section(
        "11. roles: contact SEEKER through the CLI in process, by an operator "
        "login on a store with roles installed vs by the owner of a store "
        "without (single-login mode), command by command in turn; PostgreSQL only"
    )
    cells: dict[str, dict[str, str]] = {
        key: {} for key in ("ratio", "rounds", "paired", "open", "probe", "share")
    }
    verdicts: dict[str, str] = {}
    commands = "?"
    for store, r in results.items():
        if not r:
            continue
        commands = f"{r['commands']:,.0f}"
        cells["ratio"][store] = f"{r['ratio']:.3f}x ({ms(r[ROLES])} vs {ms(r[SINGLE])})"
        verdicts[store] = verdict(r["ratio"] <= ROLES_LIMIT)
        cells["rounds"][store] = (
            f"{r['round_min']:.3f}x - {r['round_max']:.3f}x "
            f"(median {r['round_median']:.3f}x, {r['rounds']:.0f} rounds)"
        )
        cells["paired"][store] = f"{r['paired']:.3f}x"
        cells["open"][store] = (
            f"{ms(r['open_roles'])} vs {ms(r['open_single'])} "
            f"({signed(r['open_roles'] - r['open_single'], ms)})"
        )
        cells["probe"][store] = (
            f"{us(r['probe_roles'])} vs {us(r['probe_single'])} "
            f"({signed(r['probe_roles'] - r['probe_single'], us)})"
        )
        extra = signed(r[ROLES] - r[SINGLE], ms)
        opening = signed(r["open_roles"] - r["open_single"], ms)
        cells["share"][store] = f"{extra} a command; the opening {opening}"

    section.rows += [
        Row(
            f"contact, operator with roles vs owner without ({commands} each)",
            cells["ratio"],
            f"≤ {ROLES_LIMIT}x",
            verdicts,
        ),
        Row("spread: each round's ratio of medians (info)", cells["rounds"]),
        Row("same, median of command-by-command ratios (info)", cells["paired"]),
        Row("opening: schema_lock entered, roles vs none (info)", cells["open"]),
        Row("probe + authorization on an open connection (info)", cells["probe"]),
        Row("where the difference lies (info)", cells["share"]),
    ]
    section.notes += [
        "SQLite has no logins (one file for one user): no roles, no figure",
        "each command is cli.main.main(['--db', URL, 'contact', SEEKER, "
        "'--channel', 'phone', '--outcome', 'no_answer']) in this process: "
        "connections, probe, authorization, ledger, insert with its triggers "
        "(with roles: the deferred chained-constraint triggers too), catch-up; the "
        "same accounts in the same order on both stores, registered first by "
        "the login that is timed",
        "opening: adapters.postgres.schema_lock with the command's "
        "authorization, on a ready schema (one new connection, the probe, the "
        "schema check); probe: adapters.roles.ACCESS_QUERY and Access.may on "
        "an open connection; the two stores in turns, medians",
    ]
    return section
