"""``seekers report html``: the manager's page, opened offline in Chromium.

The store is a simulated agency plus one hand-made account (a Japanese name,
a last-minute email decline, a withdrawal and a self-service reinstatement),
built through the real CLI on SQLite and on PostgreSQL. Every table on the
page must hold exactly the rows ``seekers report NAME --format json`` gives
for the same store.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.pages import report_page
from projections.queries import REPORTS, UNDATED
from tests.helpers import run_cli
from tests.pages.support import (
    assert_charts_drawn,
    assert_clean_visit,
    assert_not_blank,
    assert_self_contained,
    assert_table_matches,
    ok,
    ok_json,
    write_page,
)
from tests.support.browser import visit

if TYPE_CHECKING:
    from playwright.sync_api import Browser

NAME = "佐藤 花子"
EMAIL = "hanako.sato@example.jp"
PHONE = "080-9876-5432"
CHARTS = 8
"""status 1, withdrawals 2 (reason, timing), reinstatements 2 (mode, days),
declines 1, retention 1, unreachable 1."""


def build_store(db_url: str) -> str:
    ok(["simulate", "--seekers", "160", "--seed", "11", "--years", "3"], db_url)
    seeker = ok_json(
        [
            "register",
            "--name",
            NAME,
            "--email",
            EMAIL,
            "--phone",
            PHONE,
            "--birth-date",
            "1991-07-03",
            "--policy",
            "hellowork",
            "--channel",
            "counter",
            "--at",
            "2025-01-10",
        ],
        db_url,
    )["id"]
    at = "--at"
    steps = [
        ["apply", seeker, "--job", "倉庫スタッフ", "--route", "agency",
         at, "2025-01-12"],
        ["schedule-interview", seeker, "A1", "--on", "2025-01-20T10:00",
         at, "2025-01-13"],
        ["decline-interview", seeker, "A1", "--channel", "email",
         at, "2025-01-20T01:00"],
        ["request-withdrawal", seeker, "--channel", "web", "--reason", "job_found",
         at, "2025-02-01"],
        ["withdraw", seeker, at, "2025-02-02"],
        ["reinstate", seeker, at, "2025-02-20"],
    ]  # fmt: skip
    for step in steps:
        ok(step, db_url)
    return str(seeker)


def json_reports(db_url: str, *options: str) -> dict[str, list[dict[str, Any]]]:
    reports = {}
    for name in REPORTS:
        period = () if name in UNDATED else options  # reports of now take none
        document = ok_json(["report", name, *period, "--format", "json"], db_url)
        assert document["report"] == name
        reports[name] = document["rows"]
    return reports


def test_report_page_offline_with_the_json_figures(
    db_url: str, tmp_path: Path, browser: Browser
) -> None:
    build_store(db_url)
    page_file = tmp_path / "report.html"
    html = write_page(["report", "html"], db_url, page_file)
    expected = json_reports(db_url)
    for name in REPORTS:
        assert expected[name], f"the store gives report {name} no rows"

    # No personal data on a manager's page, nothing fetched from anywhere.
    for personal in (NAME, EMAIL, PHONE, "1991-07-03"):
        assert personal not in html
    assert_self_contained(html)

    with visit(browser, page_file) as seen:
        assert_clean_visit(seen)
        page = seen.page
        assert page.title() == "Seeker Ledger — management report"
        sections = page.locator("section[data-report]")
        assert sections.count() == len(REPORTS)
        assert_charts_drawn(page, "figure.chart svg", CHARTS, shapes=10)
        for name in REPORTS:
            assert_table_matches(page, name, expected[name])
        # Japanese text is laid out as text (the policy zone shown too).
        assert page.locator("[data-meta=zones]").inner_text() == "Asia/Tokyo"
        assert_not_blank(page)


def test_report_page_for_a_period_matches_the_same_period(
    db_url: str, tmp_path: Path, browser: Browser
) -> None:
    build_store(db_url)
    period = ["--from", "2025-01-01", "--to", "2025-03-31"]
    page_file = tmp_path / "q1.html"
    write_page(["report", "html", *period], db_url, page_file)
    expected = json_reports(db_url, *period)
    assert expected["declines"] and expected["reinstatements"]
    with visit(browser, page_file) as seen:
        assert_clean_visit(seen)
        assert seen.page.locator("[data-meta=period]").inner_text() == (
            "2025-01-01 to 2025-03-31"
        )
        for name in REPORTS:
            assert_table_matches(seen.page, name, expected[name])
        assert_charts_drawn(seen.page, "figure.chart svg", CHARTS)


def test_report_page_to_stdout_needs_no_master_key(db_url: str) -> None:
    build_store(db_url)
    result = run_cli(
        ["report", "html"], db_url=db_url, env={"SEEKERS_MASTER_KEY": None}
    )
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert result.stdout.rstrip().endswith("</html>")
    assert NAME not in result.stdout and EMAIL not in result.stdout


def test_an_empty_store_still_draws_every_chart(
    tmp_path: Path, browser: Browser
) -> None:
    """No rows at all: every chart says so, drawn, and the page stays clean."""
    page_file = tmp_path / "empty.html"
    page_file.write_text(
        report_page.build(
            {name: [] for name in REPORTS},
            start=None,
            end=None,
            now=datetime(2025, 5, 1, tzinfo=UTC),
            zone_names=[],
            store="sqlite:///empty.db",
        ),
        encoding="utf-8",
    )
    with visit(browser, page_file) as seen:
        assert_clean_visit(seen)
        assert_charts_drawn(seen.page, "figure.chart svg", CHARTS)
        for name in REPORTS:
            assert_table_matches(seen.page, name, [])


def test_row_level_tables_are_cut_and_say_how_many_rows_there_are() -> None:
    """A million-row retention queue is charted per month; its table shows
    the first ROW_LIMIT rows and the count of all."""
    due = [
        {
            "id": f"00000000-0000-0000-0000-{n:012d}",
            "policy": "workport",
            "status": "withdrawn",
            "invalid_since": "2024-01-01T00:00:00+09:00",
            "purge_due_at": f"2027-{1 + n % 12:02d}-01T00:00:00+09:00",
        }
        for n in range(1000)
    ]
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in REPORTS}
    rows["retention"] = due
    html = report_page.build(
        rows,
        start=None,
        end=None,
        now=datetime(2026, 6, 1, tzinfo=UTC),
        zone_names=["Asia/Tokyo"],
        store="x",
    )
    limit = report_page.ROW_LIMIT
    assert f'data-rows-shown="{limit}" data-rows-total="1000"' in html
    assert f"Showing the first {limit} of 1,000 accounts" in html
    assert due[limit - 1]["id"] in html and due[limit]["id"] not in html
