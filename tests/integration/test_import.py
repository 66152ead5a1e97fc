"""``seekers import`` (SPEC §5, Bulk and paging): an agency's existing records
go in as they happened, on SQLite and PostgreSQL.

The fixture ``tests/fixtures/import/agency.jsonl`` holds five good accounts
under the three presets (a HelloWork one withdrawn, a Pasona one purged on
withdrawal, a HelloWork one paused although HelloWork offers no pausing),
one account for each kind of bad line, and one good line exported twice
(line 44 repeats line 17: skipped as already in, and said).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.importing import account_id
from tests.helpers import event_count, ledger_for, run_cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "import" / "agency.jsonl"
GOOD = {"H-001": 6, "P-001": 6, "W-001": 7, "W-002": 5, "H-002": 3}
BAD_LINES = {
    29: "not JSON",
    31: "unknown event type 'Hired'",
    33: "missing field 'job'",
    36: "'round_number' must be a whole number",
    38: "time goes backwards",
    39: "must be Registered, not Applied",
    40: "email already registered under policy hellowork",
    42: "already registered",
    43: "not JSON",
}
BAD_REFS = [
    "B-json",
    "B-type",
    "B-missing",
    "B-wrong",
    "B-back",
    "B-first",
    "B-email",
    "B-twice",
]
LINES = 44
DUPLICATE = (44, 17)
"""Line 44 repeats W-001's line 17 word for word."""


def _import(db_url: str, *args: str) -> tuple[int, dict[str, Any], str]:
    result = run_cli(["--json", "import", *args], db_url=db_url)
    return result.code, result.json(), result.stderr


def _stored(db_url: str, ref: str) -> int:
    ledger = ledger_for(db_url)
    try:
        return len(list(ledger.events.get(account_id(ref))))
    finally:
        ledger.close()


def _ok(db_url: str, *args: str) -> Any:
    result = run_cli(["--json", *args], db_url=db_url)
    assert result.code == 0, (args, result.stdout, result.stderr)
    return result.json()


def test_the_agency_file_goes_in_except_its_bad_accounts(db_url: str) -> None:
    code, report, stderr = _import(db_url, str(FIXTURE))

    assert code == 1
    assert report["accounts"] == report["new_accounts"] == len(GOOD)
    assert report["events"] == sum(GOOD.values())
    assert report["already"] == 1  # the repeated line
    assert report["duplicates"] == [
        {"line": DUPLICATE[0], "same_as": DUPLICATE[1], "ref": "W-001"}
    ]
    assert report["rejected"] == LINES - sum(GOOD.values()) - 1
    assert [r["line"] for r in report["rejections"]] == sorted(BAD_LINES)
    said = stderr.splitlines()
    assert len(said) == len(BAD_LINES) + 1
    for said_line, (number, why) in zip(
        said[:-1], sorted(BAD_LINES.items()), strict=True
    ):
        assert said_line.startswith(f"line {number}: ")
        assert why in said_line
    assert said[-1] == (
        "note: line 44 repeats line 17 (ref 'W-001'): skipped as already in"
    )
    for ref, events in GOOD.items():
        assert _stored(db_url, ref) == events
    for ref in BAD_REFS:
        assert _stored(db_url, ref) == 0, ref
    assert set(report["ids"]) == set(GOOD)
    assert report["ids"]["H-001"] == str(account_id("H-001"))

    # A rerun finds every account: nothing new, every good line already in.
    before = event_count(db_url)
    code, again, _ = _import(db_url, str(FIXTURE))
    assert code == 1
    assert (again["events"], again["accounts"]) == (0, 0)
    assert again["already"] == sum(GOOD.values()) + 1
    assert again["rejected"] == report["rejected"]
    assert event_count(db_url) == before


def test_imported_accounts_read_verify_and_replay(db_url: str) -> None:
    _import(db_url, str(FIXTURE))
    ids = {ref: str(account_id(ref)) for ref in GOOD}

    shown = {ref: _ok(db_url, "show", ids[ref]) for ref in GOOD}
    assert shown["H-001"]["status"] == "withdrawn"
    assert shown["H-001"]["withdrawal"]["timing"] == "between_selections"
    assert shown["H-001"]["name"] == "Sato Haruto"
    assert shown["P-001"]["status"] == "purged"
    for personal in ("name", "email", "phone", "birth_date"):
        assert shown["P-001"][personal] is None
    assert shown["W-001"]["status"] == "active"
    assert shown["W-002"]["status"] == "active"
    assert shown["H-002"]["status"] == "active"
    history = _ok(db_url, "history", ids["H-001"])["events"]
    declined = next(e for e in history if e["type"] == "InterviewDeclined")
    assert declined["to_state"] == "active"

    assert run_cli(["audit", "verify"], db_url=db_url).code == 0
    replay = run_cli(["--json", "audit", "replay"], db_url=db_url)
    assert replay.code == 1
    refused = replay.json()["violations"]
    assert [(v["id"], v["version"]) for v in refused] == [(ids["H-002"], 2)]
    assert "pausing" in refused[0]["message"]
    told = run_cli(["audit", "replay"], db_url=db_url)
    assert told.code == 1
    assert "1 event(s) the rules would refuse" in told.stdout
    assert ids["H-002"] in told.stdout
    assert not any(ids[ref] in told.stdout for ref in GOOD if ref != "H-002")

    # Notes went in sealed with the events that carry them; a purge erased
    # the Pasona seeker's, with the rest of their personal data.
    ledger = ledger_for(db_url)
    try:
        notes = ledger.personal_notes(account_id("H-002"))
        assert [(version, text) for version, _, text in notes] == [
            (1, "moved from the Osaka office"),
            (2, "the old system allowed it"),
        ]
        assert ledger.personal_notes(account_id("P-001")) == []
    finally:
        ledger.close()
    found = _ok(db_url, "find", "--email", "yui.suzuki@example.jp")
    assert found["accounts"] == []

    listed = _ok(db_url, "list", "--all")
    assert {row["id"] for row in listed["accounts"]} == set(ids.values())
    assert run_cli(["projections", "rebuild"], db_url=db_url).code == 0
    assert _ok(db_url, "list", "--all") == listed


def test_a_dry_run_writes_nothing(db_url: str, tmp_path: Path) -> None:
    code, dry, _ = _import(db_url, str(FIXTURE), "--dry-run")
    assert code == 1
    assert dry["dry_run"] is True
    assert dry["events"] == sum(GOOD.values())
    assert dry["already"] == 1
    assert dry["rejected"] == LINES - sum(GOOD.values()) - 1
    if db_url.startswith("sqlite"):
        assert not Path(db_url.removeprefix("sqlite:///")).exists()
    else:
        assert event_count(db_url) == 0

    _import(db_url, str(FIXTURE))
    more = tmp_path / "more.jsonl"
    more.write_text(
        FIXTURE.read_text()
        + '{"ref": "H-002", "type": "Applied", "occurred_at": "2024-06-01", '
        '"actor": "legacy", "job": "Nurse", "route": "self"}\n'
    )
    before = event_count(db_url)
    code, dry, _ = _import(db_url, str(more), "--dry-run")
    assert (dry["events"], dry["continued_accounts"]) == (1, 1)
    assert event_count(db_url) == before


def test_a_rerun_continues_a_stream_and_refuses_a_changed_past(
    db_url: str, tmp_path: Path
) -> None:
    lines = [
        line for line in FIXTURE.read_text().splitlines() if '"ref": "H-002"' in line
    ]
    first = tmp_path / "first.jsonl"
    first.write_text("\n".join(lines[:2]) + "\n")
    code, report, _ = _import(db_url, str(first))
    assert code == 0
    assert (report["new_accounts"], report["events"]) == (1, 2)

    whole = tmp_path / "whole.jsonl"
    whole.write_text("\n".join(lines) + "\n")
    code, report, _ = _import(db_url, str(whole))
    assert code == 0
    assert report["continued_accounts"] == 1
    assert (report["events"], report["already"]) == (1, 2)
    assert _stored(db_url, "H-002") == 3

    changed = tmp_path / "changed.jsonl"
    changed.write_text(
        "\n".join([lines[0], lines[1].replace("2024-04-15", "2024-04-16"), *lines[2:]])
        + '\n{"ref": "H-002", "type": "Lapsed", "occurred_at": "2024-08-01", '
        '"actor": "legacy"}\n'
    )
    result = run_cli(["import", str(changed)], db_url=db_url)
    assert result.code == 1
    assert result.stderr.startswith("line 2: does not match the stored event 2")
    assert _stored(db_url, "H-002") == 3


def test_a_csv_of_registrations(db_url: str, tmp_path: Path) -> None:
    registrations = tmp_path / "registrations.csv"
    registrations.write_text(
        "ref,policy,name,email,birth_date,phone,channel,advisor,occurred_at,actor\n"
        "C-1,hellowork,Abe Aoi,aoi.abe@example.jp,1991-03-03,,web,,2024-01-05,\n"
        "C-2,workport,Mori Riku,riku.mori@example.jp,1985-06-30,090-1111-2222,"
        "app,Kato,2024-02-01T10:30:00+09:00,legacy\n"
        "C-3,pasona,No Email,not-an-email,1990-01-01,,web,,2024-01-05,legacy\n"
    )
    result = run_cli(["--json", "import", str(registrations)], db_url=db_url)
    assert result.code == 1
    report = result.json()
    assert (report["new_accounts"], report["events"], report["rejected"]) == (2, 2, 1)
    assert result.stderr.splitlines() == [
        "line 4: not an email address: 'not-an-email'"
    ]
    shown = _ok(db_url, "show", str(account_id("C-2")))
    assert (shown["policy"], shown["advisor"], shown["name"]) == (
        "workport",
        "Kato",
        "Mori Riku",
    )
    history = _ok(db_url, "history", str(account_id("C-1")))["events"]
    assert history[0]["actor"] == "tester"  # the CSV left it empty: --actor

    again = run_cli(
        ["--json", "import", "--format", "csv", str(registrations)], db_url=db_url
    ).json()
    assert (again["events"], again["already"]) == (0, 2)


@pytest.mark.parametrize(
    ("kind", "why"),
    [
        ("missing", "no such file"),
        ("directory", "a directory"),
        ("binary", "not UTF-8"),
        ("csv header", "the CSV header must be"),
    ],
)
def test_an_unreadable_file_is_exit_2(
    db_url: str, tmp_path: Path, kind: str, why: str
) -> None:
    path = tmp_path / "records.jsonl"
    args = ["import", str(path)]
    if kind == "directory":
        path.mkdir()
    elif kind == "binary":
        path.write_bytes(b'{"ref": "\xff\xfe"}\n')
    elif kind == "csv header":
        path.write_text("ref,name\nC-1,Abe Aoi\n")
        args = ["import", "--format", "csv", str(path)]
    result = run_cli(args, db_url=db_url)
    assert result.code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert why in result.stderr
    assert result.stdout == ""


def test_every_line_in_is_exit_0(db_url: str, tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(
        "\n".join(
            line
            for line in FIXTURE.read_text().splitlines()
            if any(f'"ref": "{ref}"' in line for ref in GOOD)
        )
        + "\n"
    )
    result = run_cli(["import", str(good)], db_url=db_url)
    assert result.code == 0, result.stderr
    assert result.stderr.startswith("note: line 28 repeats line 17 (ref 'W-001')")
    assert result.stdout.startswith(
        "imported 27 event(s) into 5 account(s) (5 new, 0 continued); "
        "1 line(s) already in; 0 line(s) rejected"
    )
    again = run_cli(["import", str(good)], db_url=db_url)
    assert again.code == 0
    assert "imported 0 event(s) into 0 account(s)" in again.stdout
    assert "28 line(s) already in; 0 line(s) rejected" in again.stdout


def test_no_note_is_kept_after_a_purge(db_url: str, tmp_path: Path) -> None:
    lines = [
        line for line in FIXTURE.read_text().splitlines() if '"ref": "P-001"' in line
    ]
    purged = tmp_path / "purged.jsonl"
    purged.write_text("\n".join(lines) + "\n")
    assert run_cli(["import", str(purged)], db_url=db_url).code == 0

    purged.write_text(
        "\n".join(lines)
        + '\n{"ref": "P-001", "type": "WithdrawalRequested", "occurred_at": '
        '"2024-03-01", "actor": "Kato", "channel": "email", "reason": "other", '
        '"note": "kept?"}\n'
    )
    result = run_cli(["import", str(purged)], db_url=db_url)
    assert result.code == 1
    assert result.stderr.startswith(f"line {len(lines) + 1}: ")
    assert "purged" in result.stderr
    assert _stored(db_url, "P-001") == len(lines)


REGISTRATION = (
    '{"ref": "L-1", "type": "Registered", "occurred_at": "2024-02-01", '
    '"actor": "legacy", "policy": "workport", "name": "Tanaka Sota", '
    '"email": "sota@example.jp", "birth_date": "1988-12-24"}'
)


@pytest.mark.parametrize("inside", ["\u2028", "\u2029", "\x85"])
def test_a_json_line_holding_a_unicode_line_separator_is_one_line(
    db_url: str, tmp_path: Path, inside: str
) -> None:
    """JSON allows U+2028, U+2029 and U+0085 raw inside a string (Python's
    ``json.dumps(..., ensure_ascii=False)`` writes U+2028 so); a line ends
    at ``\\n`` only, also after ``\\r``."""
    paused = (
        '{"ref": "L-1", "type": "Paused", "occurred_at": "2024-02-10", '
        f'"actor": "Mori", "note": "family{inside}matters"}}'
    )
    path = tmp_path / "records.jsonl"
    path.write_text(f"{REGISTRATION}\r\n{paused}\r\n", encoding="utf-8", newline="")
    code, report, stderr = _import(db_url, str(path))
    assert (code, report["events"], report["rejected"]) == (0, 2, 0), stderr
    export = run_cli(["export-data", str(account_id("L-1"))], db_url=db_url)
    assert '"text": "family' + inside + 'matters"' in export.stdout


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_a_file_starting_with_a_byte_order_mark_imports(
    db_url: str, tmp_path: Path, kind: str
) -> None:
    """Excel's "CSV UTF-8" starts the file with a BOM: it is not part of the
    first field (the header, or the first line's JSON)."""
    path = tmp_path / f"records.{kind}"
    body = (
        "ref,policy,name,email,birth_date,phone,channel,advisor,occurred_at,actor\n"
        "C-2,workport,Mori Riku,riku.mori@example.jp,1985-06-30,,app,Kato,"
        "2024-02-01,legacy\n"
        if kind == "csv"
        else REGISTRATION + "\n"
    )
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    code, report, stderr = _import(db_url, str(path))
    assert (code, report["new_accounts"], report["rejected"]) == (0, 1, 0), stderr


@pytest.mark.parametrize("breaking", ["\n", "\r", "\t", "\u2028"])
def test_an_actor_is_one_line(db_url: str, tmp_path: Path, breaking: str) -> None:
    """Who acted is a cell of the audit trail: a line break there would draw
    a row of its own in ``history`` (an event that never happened)."""
    path = tmp_path / "records.jsonl"
    actor = json.dumps(f"kato{breaking}x")  # escaped as a JSON writer escapes it
    path.write_text(REGISTRATION.replace('"legacy"', actor) + "\n")
    code, report, stderr = _import(db_url, str(path))
    assert (code, report["rejected"]) == (1, 1)
    assert stderr.startswith(
        "line 1: field 'actor' is one line, without tabs or line breaks: 'kato"
    )
    assert len(stderr.splitlines()) == 1
    assert _stored(db_url, "L-1") == 0
