"""Keyset paging of ``list`` and every report (SPEC §5-§6): ``--limit N``,
``--all``, ``--after CURSOR``, on SQLite and PostgreSQL, through the CLI.

A store of 120 simulated seekers is paged through with small limits in JSON,
CSV and table format: every row comes exactly once, in the order ``--all``
gives (a stable total order: the sort key, then the id), and a page says where
the next starts only when rows are left. The query plans of first and later
pages are checked too: an index gives the order, no sort of the table.
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.postgres import connect
from adapters.storage import parse_storage_url
from projections.queries import (
    LISTINGS,
    REPORTS,
    RowStream,
    iter_accounts,
    report_rows,
)
from projections.runner import Projections
from projections.views import LedgerView
from tests.helpers import CliResult, ledger_for, run_cli
from tests.integration.support import Account

NEXT = "next page: --after "

LISTINGS_ARGS: dict[str, list[str]] = {
    "list": ["list"],
    "list --status": ["list", "--status", "active"],
    "list --policy": ["list", "--policy", "hellowork"],
    "list --status --policy": ["list", "--status", "active", "--policy", "workport"],
    **{name: ["report", name] for name in REPORTS},
}
SORT_TIMES = {"list": "registered_at", "retention": "purge_due_at"}
SORT_TIMES["unreachable"] = "unreachable_since"


def _ok(args: Sequence[str], db_url: str) -> CliResult:
    result = run_cli(list(args), db_url=db_url)
    assert result.code == 0, (args, result.stdout, result.stderr)
    return result


@pytest.fixture
def store(db_url: str) -> str:
    _ok(["simulate", "--seekers", "120", "--seed", "5"], db_url)
    return db_url


def _field(args: Sequence[str]) -> str:
    return "accounts" if args[0] == "list" else "rows"


def _cursors(page: CliResult) -> list[str]:
    return [line[len(NEXT) :] for line in page.stderr.splitlines() if NEXT in line]


def _json_pages(
    args: Sequence[str], db_url: str, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Every row, page after page, and how many pages it took."""
    rows: list[dict[str, Any]] = []
    after: list[str] = []
    pages = 0
    while True:
        page = _ok([*args, "--format", "json", "--limit", str(limit), *after], db_url)
        document = page.json()
        pages += 1
        field = _field(args)
        assert set(document) - {"next"} == (
            {"accounts"} if args[0] == "list" else {"report", "rows"}
        )
        assert len(document[field]) <= limit
        rows += document[field]
        assert _cursors(page) == []  # JSON carries its cursor in the document
        if "next" not in document:
            return rows, pages
        assert len(document[field]) == limit
        after = ["--after", document["next"]]


def _text_pages(
    args: Sequence[str], db_url: str, limit: int, output_format: str
) -> list[str]:
    """The data lines of every CSV or table page, in order (each page has its
    header; a table's lines are normalised to single spaces, for each page
    sizes its columns to its own rows)."""
    lines: list[str] = []
    after: list[str] = []
    header = None
    while True:
        page = _ok(
            [*args, "--format", output_format, "--limit", str(limit), *after], db_url
        )
        data = _data_lines(args, page.stdout, output_format)
        head = " ".join(page.stdout.splitlines()[0].split())
        assert header in (None, head)
        header = head
        assert len(data) <= limit
        lines += data
        cursors = _cursors(page)
        if not cursors:
            return lines
        assert len(data) == limit and len(cursors) == 1
        after = ["--after", cursors[0]]


def _data_lines(args: Sequence[str], stdout: str, output_format: str) -> list[str]:
    if output_format == "csv":
        return stdout.splitlines()[1:]
    _, rule, *body = stdout.splitlines()
    assert set(rule) <= {"-", " "}
    if args[0] == "list":
        *body, total = body
        assert total == f"{len(body)} account(s)"
    return [" ".join(line.split()) for line in body]


def _everything(args: Sequence[str], db_url: str) -> list[dict[str, Any]]:
    document = _ok([*args, "--format", "json", "--all"], db_url).json()
    assert "next" not in document
    rows: list[dict[str, Any]] = document[_field(args)]
    return rows


def _check_paging(name: str, args: Sequence[str], db_url: str) -> None:
    everything = _everything(args, db_url)
    limits = (7, 3) if len(everything) > 7 else (2, 1)
    assert len(everything) > limits[0], name  # more than one page
    assert _everything(args, db_url) == everything, name  # a stable order
    if args[0] == "list" or name in SORT_TIMES:
        column = SORT_TIMES["list" if args[0] == "list" else name]
        moments = [datetime.fromisoformat(row[column]) for row in everything]
        assert moments == sorted(moments), name
        ids = [row["id"] for row in everything]
        assert len(set(ids)) == len(ids), name
    for limit in limits:
        rows, pages = _json_pages(args, db_url, limit)
        assert rows == everything, (name, limit)
        assert pages == -(-len(everything) // limit), (name, limit)
    for output_format in ("csv", "table"):
        whole = _ok([*args, "--format", output_format, "--all"], db_url).stdout
        expected = _data_lines(args, whole, output_format)
        assert len(expected) == len(everything)
        lines = _text_pages(args, db_url, limits[0], output_format)
        assert lines == expected, (name, output_format)
    # Without a terminal and without --limit, every row (the output of old).
    assert (
        _ok([*args, "--format", "json"], db_url).json()
        == _ok([*args, "--format", "json", "--all"], db_url).json()
    )


@pytest.mark.parametrize("name", list(LISTINGS_ARGS))
def test_paging_gives_every_row_once_in_the_order_of_all(store: str, name: str) -> None:
    _check_paging(name, LISTINGS_ARGS[name], store)


def test_a_period_pages_like_the_whole_report(store: str) -> None:
    queue = _everything(["report", "retention"], store)
    dates = sorted({str(row["purge_due_at"])[:10] for row in queue})
    start, end = dates[1], dates[-2]
    window = ["report", "retention", "--from", start, "--to", end]
    expected = [row for row in queue if start <= str(row["purge_due_at"])[:10] <= end]
    assert 3 < len(expected) < len(queue)
    assert _everything(window, store) == expected
    _check_paging("retention --from --to", window, store)

    withdrawals = _everything(["report", "withdrawals"], store)
    months = sorted({str(row["month"]) for row in withdrawals})
    first, last = months[1], months[-2]
    window = ["report", "withdrawals", "--from", f"{first}-01", "--to", f"{last}-28"]
    expected = [row for row in withdrawals if first <= str(row["month"]) <= last]
    assert 2 < len(expected) < len(withdrawals)
    assert _everything(window, store) == expected
    _check_paging("withdrawals --from --to", window, store)


def test_accounts_of_the_same_moment_are_ordered_by_id(db_url: str) -> None:
    """The id breaks ties: five registrations at one instant page through
    two at a time without a skip or a repeat."""
    same = [Account.register(db_url, "workport", "2025-02-20T09:00") for _ in range(5)]
    ids = sorted(account.id for account in same)
    rows, pages = _json_pages(["list"], db_url, 2)
    assert [row["id"] for row in rows] == ids and pages == 3
    assert (
        _text_pages(["list"], db_url, 2, "csv")
        == [
            line
            for line in _ok(["list", "--format", "csv"], db_url).stdout.splitlines()
        ][1:]
    )


def test_next_is_there_only_when_more_rows_are(store: str) -> None:
    everything = _everything(["list"], store)
    total = len(everything)
    exact = _ok(["list", "--format", "json", "--limit", str(total)], store).json()
    assert exact["accounts"] == everything and "next" not in exact
    short = _ok(["list", "--format", "json", "--limit", str(total - 1)], store).json()
    assert short["accounts"] == everything[:-1] and "next" in short
    last = _ok(
        ["list", "--format", "json", "--limit", "5", "--after", short["next"]], store
    )
    assert last.json() == {"accounts": everything[-1:]}
    # A cursor with no --limit gives the rest, however long.
    rest = _ok(["list", "--format", "json", "--after", short["next"]], store).json()
    assert rest == {"accounts": everything[-1:]}
    # The same for a report.
    status = _everything(["report", "status"], store)
    whole = ["report", "status", "--format", "json", "--limit", str(len(status))]
    assert _ok(whole, store).json() == {"report": "status", "rows": status}
    whole[-1] = str(len(status) - 1)
    cut = _ok(whole, store).json()
    assert cut["rows"] == status[:-1] and set(cut) == {"report", "rows", "next"}
    # The global --json flag gives the same document.
    assert (
        _ok(["--json", "list", "--limit", "5"], store).json()
        == _ok(["list", "--format", "json", "--limit", "5"], store).json()
    )
    # A table says where the next page starts on stderr; stdout stays the table.
    table = _ok(["list", "--limit", "4"], store)
    assert table.stdout.splitlines()[-1] == "4 account(s)"
    assert len(table.stdout.splitlines()) == 2 + 4 + 1
    [after] = _cursors(table)
    rest = _ok(["list", "--format", "json", "--all", "--after", after], store).json()
    assert rest["accounts"] == everything[4:]
    second = _ok(["list", "--limit", "4", "--after", after], store)
    shown = [line.split()[0] for line in second.stdout.splitlines()[2:-1]]
    assert shown == [row["id"] for row in everything[4:8]]
    # The last page of a table says nothing more.
    near_end = ["list", "--format", "json", "--limit", str(total - 2)]
    cursor = _ok(near_end, store).json()["next"]
    final = _ok(["list", "--limit", "4", "--after", cursor], store)
    assert len(final.stdout.splitlines()) == 2 + 2 + 1
    assert _cursors(final) == []


def _token(*values: object) -> str:
    raw = json.dumps(list(values)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--limit", "0"],
        ["list", "--limit", "-3"],
        ["list", "--limit", "many"],
        ["list", "--limit", "5", "--all"],
        ["list", "--after", "garbage"],
        ["list", "--after", _token("list")],
        ["list", "--after", _token("list", 5, "x")],
        ["list", "--after", _token("list", "not a time", "x")],
        ["list", "--after", _token("list", "2025-01-01T00:00:00Z", "")],
        ["list", "--after", "!!!"],
        ["list", "--after", ""],
        ["list", "--after", "x" * 5000],
        ["report", "unreachable", "--limit", "0"],
        ["report", "retention", "--after", "not-a-cursor"],
        ["report", "status", "--limit", "0"],
        ["report", "withdrawals", "--limit", "-1"],
        ["report", "withdrawals", "--after", "x"],
        ["report", "declines", "--after", _token("declines", "a", "b", "c", "no")],
        ["report", "html", "--limit", "5"],
        ["report", "html", "--all"],
    ],
)
def test_a_bad_limit_or_cursor_is_a_usage_error(store: str, args: list[str]) -> None:
    for json_flag in ([], ["--json"]):
        result = run_cli([*json_flag, *args], db_url=store)
        assert result.code == 2, (args, result.stdout, result.stderr)
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr


def test_a_cursor_of_one_listing_does_not_continue_another(store: str) -> None:
    page = _ok(["report", "retention", "--format", "json", "--limit", "2"], store)
    cursor = page.json()["next"]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)  # safe unquoted in a shell
    result = run_cli(["list", "--after", cursor], db_url=store)
    assert result.code == 2 and "not a cursor" in result.stderr
    for name in ("unreachable", "status", "withdrawals"):
        other = run_cli(["report", name, "--after", cursor], db_url=store)
        assert other.code == 2, name


# -- query plans -------------------------------------------------------------


class _Recording:
    """A view that remembers the statements the queries run."""

    def __init__(self, view: LedgerView) -> None:
        self.view = view
        self.statements: list[tuple[str, list[Any]]] = []

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        self.statements.append((sql, list(params)))
        return self.view.query(sql, params)


def _pages(view: Any, case: str) -> list[RowStream]:
    """A first page of two rows, and the page after it."""
    now = datetime.now(UTC)
    filters: dict[str, dict[str, Any]] = {
        "list": {},
        "list --status": {"status": "active"},
        "list --policy": {"policy": "hellowork"},
        "list --status --policy": {"status": "active", "policy": "workport"},
    }

    def page(after: str | None) -> RowStream:
        if case in filters:
            return iter_accounts(view, limit=2, after=after, **filters[case])
        name, *period = case.split()
        start, end = ("2020-01-01", "2040-12-31") if period else (None, None)
        return report_rows(
            view, name, start=start, end=end, now=now, limit=2, after=after
        )

    first = page(None)
    list(first)
    assert first.next_cursor is not None, case
    second = page(first.next_cursor)
    list(second)
    return [first, second]


PLAN_CASES = [
    "list",
    "list --status",
    "list --policy",
    "list --status --policy",
    *REPORTS,
    "retention --from --to",
    "withdrawals --from --to",
]


def _plans(db_url: str, statements: list[tuple[str, list[Any]]]) -> list[str]:
    config = parse_storage_url(db_url)
    if config.sqlite_path is not None:
        with closing(sqlite3.connect(config.sqlite_path)) as db:
            return [
                "\n".join(
                    str(row[3]) for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", args)
                )
                for sql, args in statements
            ]
    # Tables this small are cheaper to read whole and sort; forbid both, so
    # the plan shows whether an index can give the rows in order at all.
    with connect(config) as db:
        db.execute("SET enable_seqscan = off")
        db.execute("SET enable_sort = off")
        db.execute("SET enable_incremental_sort = off")
        return [
            "\n".join(
                str(row[0])
                for row in db.execute(
                    f"EXPLAIN {sql.replace('?', '%s')}",
                    args,
                )
            )
            for sql, args in statements
        ]


def test_every_page_reads_an_index_in_order_and_sorts_nothing(store: str) -> None:
    ledger = ledger_for(store)
    try:
        view = Projections(ledger).views["accounts"]
        for case in PLAN_CASES:
            recording = _Recording(view)
            _pages(recording, case)
            assert len(recording.statements) == 2, case
            filtered = case.startswith(("list --", "unreachable")) or "--to" in case
            plans = _plans(store, recording.statements)
            for number, ((sql, _), plan) in enumerate(
                zip(recording.statements, plans, strict=True)
            ):
                table = sql.split(" FROM ")[1].split()[0]
                assert table == LISTINGS[case.split()[0]].table
                if store.startswith("sqlite"):
                    assert "TEMP B-TREE" not in plan, (case, sql, plan)
                    assert re.search(r"\b(SCAN|SEARCH) \w+ USING .*INDEX", plan), (
                        case,
                        plan,
                    )
                    if filtered or number:
                        assert plan.startswith("SEARCH"), (case, sql, plan)
                    if number:  # the index seeks to the position
                        assert re.search(r"\(\w+(,\w+)+\)>\(", plan), (case, plan)
                else:
                    assert "Sort" not in plan, (case, sql, plan)
                    assert "Seq Scan" not in plan, (case, sql, plan)
                    assert "Index" in plan, (case, sql, plan)
                    if number:
                        assert re.search(r"Index Cond: .*ROW\(", plan), (case, plan)
    finally:
        ledger.close()
