"""Shared by the page tests: stores built through ``seekers`` itself, and the
checks every page must pass in a browser with no network."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.helpers import CliResult, run_cli
from tests.support.browser import Visit, distinct_colours

if TYPE_CHECKING:
    from playwright.sync_api import Page


def ok(args: list[str], db_url: str, *, actor: str = "tester") -> CliResult:
    """Run ``seekers``; it must exit 0 (notes on stderr are allowed)."""
    result = run_cli(args, db_url=db_url, actor=actor)
    assert result.code == 0, f"{args}: exit {result.code}: {result.stderr}"
    assert "Traceback" not in result.stderr
    return result


def ok_json(args: list[str], db_url: str, *, actor: str = "tester") -> Any:
    return ok(["--json", *args], db_url, actor=actor).json()


def fails(args: list[str], db_url: str | None, code: int) -> str:
    """Run ``seekers``; it must fail with ``code``: one line on stderr, no
    traceback, nothing on stdout. Returns the line."""
    result = run_cli(args, db_url=db_url)
    assert result.code == code, (
        f"{args}: expected exit {code}, got {result.code}: {result.stderr!r}"
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == "", result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def write_page(args: list[str], db_url: str, target: Path) -> str:
    """Run a page command with ``--output target``; it prints the path."""
    result = ok([*args, "--output", str(target)], db_url)
    assert result.stdout.strip() == str(target)
    assert target.is_file()
    return target.read_text(encoding="utf-8")


TABLE_SCRIPT = """
(name) => {
  const table = document.querySelector(`table[data-report="${name}"]`);
  if (!table) return null;
  const rows = [...table.querySelectorAll("tbody tr")]
    .filter((tr) => tr.querySelector("td[data-key]"))
    .map((tr) => Object.fromEntries(
      [...tr.querySelectorAll("td[data-key]")].map((td) => [
        td.dataset.key,
        {value: JSON.parse(td.dataset.value), text: td.textContent.trim()},
      ])
    ));
  const note = table.closest("section").querySelector("p.rows-note");
  return {
    total: Number(table.dataset.total),
    shown: Number(note.dataset.rowsShown),
    noted_total: Number(note.dataset.rowsTotal),
    note: note.textContent.replace(/\\s+/g, " ").trim(),
    columns: [...table.querySelectorAll("thead th")].map((th) => th.dataset.key),
    rows,
  };
}
"""


def shown_text(value: Any) -> str:
    """How the page writes a JSON value in a table cell."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if value is None:
        return "(none)"
    if isinstance(value, str) and len(value) > 19 and value[10] == "T":
        return value[:16].replace("T", " ")
    return str(value)


def table_of(page: Page, name: str) -> dict[str, Any]:
    table: dict[str, Any] | None = page.evaluate(TABLE_SCRIPT, name)
    assert table is not None, f"no table for report {name!r}"
    return table


def assert_table_matches(page: Page, name: str, expected: list[dict[str, Any]]) -> None:
    """The page's table of report ``name`` holds exactly the JSON rows (the
    first ones, when the table is cut), in order, written as they read."""
    table = table_of(page, name)
    assert table["total"] == len(expected), (name, table["total"], len(expected))
    assert table["noted_total"] == len(expected)
    rows = table["rows"]
    assert 0 < len(rows) <= len(expected) or not expected, name
    assert table["shown"] == len(rows)
    if expected:
        assert table["columns"] == list(expected[0]), name
    for index, (row, want) in enumerate(zip(rows, expected, strict=False)):
        values = {key: cell["value"] for key, cell in row.items()}
        assert values == want, f"{name} row {index}: {values} != {want}"
        for key, cell in row.items():
            assert cell["text"] == shown_text(want[key]), (name, index, key, cell)
        counted = [k for k in ("count", "days", "attempts") if k in row]
        for key in counted:
            assert int(row[key]["text"].replace(",", "")) == want[key]
    if len(rows) < len(expected):
        assert f"first {len(rows):,} of {len(expected):,}" in table["note"]


_REFERENCE = re.compile(
    r"""(?:\burl\(\s*['"]?|\b(?:href|src|xlink:href)\s*=\s*['"])([^'")]*)"""
)


def assert_self_contained(html: str) -> None:
    """Every reference in the file points inside it (``#id``); no script,
    no import, no link to anything else."""
    for target in _REFERENCE.findall(html):
        assert target.startswith("#"), f"the page refers to {target!r}"
    for needle in ("<script", "@import", "<link", "<img", "<iframe", "@font-face"):
        assert needle not in html, needle


def assert_clean_visit(seen: Visit) -> None:
    """Loaded with no console error, asked for nothing but the file itself."""
    assert seen.console_errors == [], seen.console_errors
    assert seen.page_errors == [], seen.page_errors
    assert seen.blocked == [], f"the page asked for {seen.blocked}"
    assert [u.split("#", 1)[0] for u in seen.requests] == [seen.url], seen.requests


def assert_charts_drawn(
    page: Page, selector: str, expected: int, *, shapes: int = 1
) -> None:
    """``expected`` charts, each with a drawn size and at least ``shapes``
    shapes (an empty chart still draws its frame)."""
    charts = page.locator(selector)
    assert charts.count() == expected, (selector, charts.count())
    for index in range(expected):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        assert box is not None, f"chart {index} not rendered"
        assert box["width"] > 100 and box["height"] > 40, (index, box)
        drawn = chart.locator("path, rect, line, circle, use").count()
        assert drawn >= shapes, f"chart {index} draws {drawn} shapes only"


def assert_not_blank(page: Page) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    shot = page.screenshot(full_page=True, type="png")
    colours = distinct_colours(shot)
    assert colours > 16, f"screenshot has {colours} colour(s): blank page"
