"""``seekers history SEEKER --format html``: the auditor's timeline, offline.

An active account with a backdated past and a live present, and a purged
one whose page must show the skeleton of its history with every personal
field erased (and no byte of what they held), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.pages import timeline_page
from tests.pages.support import (
    assert_charts_drawn,
    assert_clean_visit,
    assert_not_blank,
    assert_self_contained,
    ok,
    ok_json,
    write_page,
)
from tests.support.browser import visit

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

NAME = "山田 太郎"
EMAIL = "taro.yamada@example.jp"
PHONE = "090-1234-5678"
BIRTH = "1988-04-02"


def register(db_url: str, policy: str, at: str) -> str:
    document = ok_json(
        [
            "register",
            "--name",
            NAME,
            "--email",
            EMAIL,
            "--phone",
            PHONE,
            "--birth-date",
            BIRTH,
            "--policy",
            policy,
            "--at",
            at,
        ],
        db_url,
    )
    return str(document["id"])


def active_account(db_url: str) -> str:
    """Registered and worked in 2025 (recorded today: backdated), then a
    contact recorded as it happens (not backdated)."""
    seeker = register(db_url, "workport", "2025-01-15")
    for step in (
        ["apply", seeker, "--job", "倉庫スタッフ", "--route", "self",
         "--at", "2025-01-20"],
        ["apply", seeker, "--job", "Accountant", "--route", "agency",
         "--at", "2025-01-22"],
        ["schedule-interview", seeker, "A2", "--on", "2025-02-10T10:00", "--final",
         "--at", "2025-01-25"],
        ["decline-interview", seeker, "A2", "--channel", "email",
         "--at", "2025-02-10T02:00"],
        ["mark-unreachable", seeker, "--at", "2025-02-15"],
        ["contact", seeker, "--channel", "phone", "--outcome", "reached",
         "--at", "2025-02-20"],
        ["pause", seeker, "--reason", "travelling", "--at", "2025-03-01"],
        ["resume", seeker, "--at", "2025-03-20"],
        ["contact", seeker, "--channel", "email", "--outcome", "reached"],
    ):  # fmt: skip
        ok(step, db_url, actor="advisor.kato")
    return seeker


def purged_account(db_url: str) -> str:
    seeker = register(db_url, "workport", "2025-01-15")
    for step in (
        ["apply", seeker, "--job", "Care worker", "--at", "2025-01-20"],
        ["request-withdrawal", seeker, "--channel", "email", "--reason", "job_found",
         "--at", "2025-02-01"],
        ["withdraw", seeker, "--at", "2025-02-02"],
        ["purge", seeker, "--reason", "deletion_request", "--at", "2025-02-03"],
    ):  # fmt: skip
        ok(step, db_url)
    return seeker


def personal_fields(page: Page) -> dict[str, str]:
    fields: dict[str, str] = page.evaluate(
        """() => {
          const dl = document.querySelector("dl[data-personal]");
          const out = {};
          for (const dt of dl.querySelectorAll("dt")) {
            out[dt.textContent.trim()] = dt.nextElementSibling.textContent.trim();
          }
          return out;
        }"""
    )
    return fields


def table_versions(page: Page) -> list[int]:
    versions: list[int] = page.evaluate(
        "() => [...document.querySelectorAll('table.events tbody tr')]"
        ".map((tr) => Number(tr.dataset.version))"
    )
    return versions


def test_timeline_of_an_active_account_with_backdated_events(
    db_url: str, tmp_path: Path, browser: Browser
) -> None:
    seeker = active_account(db_url)
    history = ok_json(["history", seeker], db_url)
    account = ok_json(["show", seeker], db_url)
    page_file = tmp_path / "timeline.html"
    html = write_page(["history", seeker, "--format", "html"], db_url, page_file)
    assert_self_contained(html)
    events: list[dict[str, Any]] = history["events"]
    backdated = [e for e in events if e["backdated"]]
    live = [e for e in events if not e["backdated"]]
    assert backdated and live

    with visit(browser, page_file) as seen:
        assert_clean_visit(seen)
        page = seen.page
        assert_charts_drawn(page, "svg.timeline-svg", 1, shapes=len(events))
        # Every event is a mark and a table row, in order.
        assert table_versions(page) == [e["version"] for e in events]
        marks = page.locator("g.event[data-backdated]")
        assert marks.count() == len(events)
        flagged = page.locator("g.event[data-backdated=true]")
        assert flagged.count() == len(backdated)
        # A backdated event shows both of its times, in the table and on hover.
        first = backdated[0]
        row = page.locator(f"tr[data-version='{first['version']}']")
        assert row.get_attribute("data-backdated") == "true"
        text = row.inner_text()
        assert "backdated" in text
        assert first["occurred_at"][:16].replace("T", " ") in text
        assert first["recorded_at"][:16].replace("T", " ") in text
        title = page.locator(
            f"g.event[data-version='{first['version']}'] > title"
        ).first.text_content()
        assert title is not None and "BACKDATED" in title
        assert first["actor"] in title
        # The states as a band, applications as lanes, the actor everywhere.
        states = page.locator("g.segment").evaluate_all(
            "(gs) => gs.map((g) => g.dataset.state)"
        )
        assert states[0] == "active" and {"unreachable", "paused"} <= set(states)
        assert page.locator("g.application").count() == len(account["applications"])
        assert "advisor.kato" in page.locator("table.events").inner_text()
        # An active account shows its personal data, Japanese included.
        fields = personal_fields(page)
        assert fields["Name"] == NAME and fields["Email"] == EMAIL
        # Workport has no registration lapse; no deadline is due while active.
        assert page.locator("[data-integrity]").count() == 0
        assert_not_blank(page)


def test_timeline_of_a_purged_account_shows_the_erased_skeleton(
    db_url: str, tmp_path: Path, browser: Browser
) -> None:
    seeker = purged_account(db_url)
    history = ok_json(["history", seeker], db_url)
    page_file = tmp_path / "purged.html"
    html = write_page(["history", seeker, "--format", "html"], db_url, page_file)
    for personal in (NAME, EMAIL, PHONE, BIRTH, "Yamada", "taro"):
        assert personal not in html, f"{personal!r} on a purged account's page"
    with visit(browser, page_file) as seen:
        assert_clean_visit(seen)
        page = seen.page
        assert set(personal_fields(page).values()) == {"erased"}
        assert table_versions(page) == [e["version"] for e in history["events"]]
        assert page.locator("g.segment[data-state=purged]").count() >= 1
        assert_charts_drawn(page, "svg.timeline-svg", 1, shapes=5)
        assert_not_blank(page)


def test_timeline_as_of_a_past_date_draws_its_deadlines(
    db_url: str, tmp_path: Path, browser: Browser
) -> None:
    """As of mid-February the hellowork account was active with a
    registration lapse ahead: the deadline stands where ``show`` puts it."""
    seeker = register(db_url, "hellowork", "2025-01-15")
    ok(["request-withdrawal", seeker, "--channel", "web", "--at", "2025-03-01"], db_url)
    ok(["withdraw", seeker, "--at", "2025-03-02"], db_url)
    as_of = ["--as-of", "2025-02-15"]
    account = ok_json(["show", seeker, *as_of], db_url)
    assert account["registration_lapses_at"] is not None
    page_file = tmp_path / "as-of.html"
    write_page(["history", seeker, *as_of, "--format", "html"], db_url, page_file)
    with visit(browser, page_file) as seen:
        assert_clean_visit(seen)
        deadline = seen.page.locator("g.deadline[data-deadline=registration_lapses_at]")
        assert deadline.count() == 1
        title = deadline.locator("title").text_content() or ""
        assert account["registration_lapses_at"] in title
        assert table_versions(seen.page) == [1]
    # Later, withdrawn: the self-reinstatement window and the purge date.
    later = tmp_path / "now.html"
    html = write_page(["history", seeker, "--format", "html"], db_url, later)
    assert 'data-deadline="self_reinstatement_deadline"' in html
    assert 'data-deadline="purge_due_at"' in html


def test_the_integrity_slot_is_shown_only_when_given() -> None:
    events = [
        {
            "version": 1,
            "type": "Registered",
            "occurred_at": "2025-01-15T00:00:00+09:00",
            "recorded_at": "2025-01-15T00:00:01+09:00",
            "actor": "tester",
            "from_state": None,
            "to_state": "active",
            "backdated": False,
            "policy": "workport",
        }
    ]
    account = {
        "id": "3f0c0000-0000-0000-0000-000000000000",
        "policy": "workport",
        "status": "active",
        "status_since": "2025-01-15T00:00:00+09:00",
        "registered_at": "2025-01-15T00:00:00+09:00",
        "version": 1,
        "name": "A",
        "email": "a@example.com",
        "phone": None,
        "birth_date": "1990-01-01",
        "purged_at": None,
        "applications": [],
        "withdrawal": {},
    }
    cut = datetime(2025, 2, 1, tzinfo=UTC)
    without = timeline_page.build(events, account, timezone="Asia/Tokyo", cut=cut)
    assert "data-integrity" not in without
    verified = timeline_page.build(
        events,
        account,
        timezone="Asia/Tokyo",
        cut=cut,
        integrity="stream verified: 1 event, chain intact",
    )
    assert "stream verified: 1 event, chain intact" in verified
