"""Keyset paging of ``list`` and the reports that list accounts (SPEC §5-§6):
``--limit N``, ``--all``, ``--after CURSOR``, on SQLite and PostgreSQL.

A store of 120 simulated seekers is paged through with ``--limit 7`` (and 3)
in JSON and CSV: every row comes exactly once, in the order ``--all`` gives,
and a page says where the next starts only when rows are left.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tests.helpers import CliResult, run_cli

NEXT = "next page: --after "

LISTINGS: dict[str, list[str]] = {
    "list": ["list"],
    "list --status": ["list", "--status", "active"],
    "list --policy": ["list", "--policy", "hellowork"],
    "list --status --policy": ["list", "--status", "active", "--policy", "workport"],
    "retention": ["report", "retention"],
    "unreachable": ["report", "unreachable"],
}


def _ok(args: Sequence[str], db_url: str) -> CliResult:
    result = run_cli(list(args), db_url=db_url)
    assert result.code == 0, (args, result.stdout, result.stderr)
    return result


@pytest.fixture
def store(db_url: str) -> str:
    _ok(["simulate", "--seekers", "120", "--seed", "5"], db_url)
    return db_url


def _json_pages(
    args: Sequence[str], db_url: str, limit: int
) -> tuple[list[dict[str, object]], int]:
    """Every row, page after page, and how many pages it took."""
    rows: list[dict[str, object]] = []
    after: list[str] = []
    pages = 0
    while True:
        page = _ok([*args, "--format", "json", "--limit", str(limit), *after], db_url)
        document = page.json()
        pages += 1
        field = "accounts" if args[0] == "list" else "rows"
        assert set(document) - {"next"} == (
            {"accounts"} if args[0] == "list" else {"report", "rows"}
        )
        assert len(document[field]) <= limit
        rows += document[field]
        if "next" not in document:
            return rows, pages
        assert len(document[field]) == limit
        assert NEXT not in page.stderr
        after = ["--after", document["next"]]


def _csv_pages(args: Sequence[str], db_url: str, limit: int) -> list[str]:
    """The data lines of every page, in order (each page has its header)."""
    lines: list[str] = []
    after: list[str] = []
    header = None
    while True:
        page = _ok([*args, "--format", "csv", "--limit", str(limit), *after], db_url)
        head, *data = page.stdout.splitlines()
        assert header in (None, head)
        header = head
        assert len(data) <= limit
        lines += data
        cursors = [
            line[len(NEXT) :] for line in page.stderr.splitlines() if NEXT in line
        ]
        if not cursors:
            return lines
        assert len(data) == limit and len(cursors) == 1
        after = ["--after", cursors[0]]


def _everything(args: Sequence[str], db_url: str) -> list[dict[str, object]]:
    result = _ok([*args, "--format", "json", "--all"], db_url)
    document = result.json()
    assert "next" not in document
    rows: list[dict[str, object]] = document[
        "accounts" if args[0] == "list" else "rows"
    ]
    return rows


def _ids(rows: Sequence[dict[str, object]]) -> list[object]:
    return [row["id"] for row in rows]


def test_paging_gives_every_row_once_in_the_order_of_all(store: str) -> None:
    for name, args in LISTINGS.items():
        everything = _everything(args, store)
        assert len(everything) > 7, name  # more than one page
        assert len(set(_ids(everything))) == len(everything), name
        for limit in (7, 3):
            rows, pages = _json_pages(args, store, limit)
            assert rows == everything, (name, limit)
            assert pages == -(-len(everything) // limit), (name, limit)
        all_csv = _ok([*args, "--format", "csv", "--all"], store).stdout.splitlines()
        assert _csv_pages(args, store, 7) == all_csv[1:], name
        assert [line.split(",")[0] for line in all_csv[1:]] == _ids(everything)
        # Without a terminal and without --limit, every row (the old output).
        assert (
            _ok([*args, "--format", "json"], store).json()
            == _ok([*args, "--format", "json", "--all"], store).json()
        )


def test_the_retention_window_pages_like_the_whole_queue(store: str) -> None:
    queue = _everything(["report", "retention"], store)
    dates = sorted({str(row["purge_due_at"])[:10] for row in queue})
    start, end = dates[1], dates[-2]
    window = ["report", "retention", "--from", start, "--to", end]
    expected = [row for row in queue if start <= str(row["purge_due_at"])[:10] <= end]
    assert 3 < len(expected) < len(queue)
    assert _everything(window, store) == expected
    for limit in (7, 2):
        rows, _ = _json_pages(window, store, limit)
        assert rows == expected
    lines = _csv_pages(window, store, 2)
    assert [line.split(",")[0] for line in lines] == _ids(expected)


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
    # The global --json flag gives the same document.
    assert (
        _ok(["--json", "list", "--limit", "5"], store).json()
        == _ok(["list", "--format", "json", "--limit", "5"], store).json()
    )
    # A table says where the next page starts on stderr; stdout stays the table.
    table = _ok(["list", "--limit", "4"], store)
    assert table.stdout.splitlines()[-1] == "4 account(s)"
    assert len(table.stdout.splitlines()) == 2 + 4 + 1
    [hint] = [line for line in table.stderr.splitlines() if NEXT in line]
    after = hint[len(NEXT) :]
    rest = _ok(["list", "--format", "json", "--all", "--after", after], store).json()
    assert rest["accounts"] == everything[4:]
    second = _ok(["list", "--limit", "4", "--after", after], store)
    shown = [line.split()[0] for line in second.stdout.splitlines()[2:-1]]
    assert shown == _ids(everything[4:8])


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--limit", "0"],
        ["list", "--limit", "-3"],
        ["list", "--limit", "many"],
        ["list", "--limit", "5", "--all"],
        ["list", "--after", "garbage"],
        ["list", "--after", "WyJsaXN0Il0"],  # base64 of ["list"]
        ["list", "--after", "!!!"],
        ["list", "--after", ""],
        ["report", "unreachable", "--limit", "0"],
        ["report", "retention", "--after", "not-a-cursor"],
        ["report", "status", "--limit", "5"],
        ["report", "withdrawals", "--after", "x"],
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
    assert cursor.isprintable() and " " not in cursor
    result = run_cli(["list", "--after", cursor], db_url=store)
    assert result.code == 2 and "not a cursor" in result.stderr
    other = run_cli(["report", "unreachable", "--after", cursor], db_url=store)
    assert other.code == 2


def test_the_aggregate_reports_do_not_page(store: str) -> None:
    for name in ("status", "withdrawals", "reinstatements", "declines"):
        plain = _ok(["report", name, "--format", "json"], store).json()
        assert set(plain) == {"report", "rows"}
        assert _ok(["report", name, "--format", "json", "--all"], store).json() == plain
