"""Bad input to the page commands: one clear line on stderr, the right exit
code, no traceback, and no file (not even half of one) left behind.

An ``--output`` that cannot be written is a bad value of an option the user
typed, not a storage failure of the ledger, so it exits 2 like any other bad
value, and it is refused before any work is done.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from tests.pages.support import fails, ok, ok_json


@pytest.fixture
def store(db_url: str) -> tuple[str, str]:
    seeker = ok_json(
        [
            "register",
            "--name",
            "Kato Yui",
            "--email",
            "yui@example.com",
            "--birth-date",
            "1993-02-14",
            "--policy",
            "workport",
            "--at",
            "2025-01-15",
        ],
        db_url,
    )["id"]
    return db_url, str(seeker)


def page_commands(seeker: str) -> list[list[str]]:
    return [["report", "html"], ["history", seeker, "--format", "html"]]


def read_only_place(tmp_path: Path) -> Path:
    """A folder nobody may create files in: a mode-0555 folder, or, for root
    (whom modes do not stop), sysfs, where no one can create a file."""
    if os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o555)
        return folder / "page.html"
    return Path("/sys/seekers-page.html")


def test_output_in_a_missing_folder(store: tuple[str, str], tmp_path: Path) -> None:
    db_url, seeker = store
    target = tmp_path / "no" / "such" / "folder" / "page.html"
    for command in page_commands(seeker):
        line = fails([*command, "--output", str(target)], db_url, 2)
        assert "no such folder" in line and str(target.parent) in line
    assert not (tmp_path / "no").exists()


def test_output_in_a_read_only_place(store: tuple[str, str], tmp_path: Path) -> None:
    db_url, seeker = store
    target = read_only_place(tmp_path)
    for command in page_commands(seeker):
        line = fails([*command, "--output", str(target)], db_url, 2)
        assert line.startswith(f"error: --output {target}: cannot write"), line
    assert not target.exists()


def test_output_that_is_a_folder_or_under_a_file(
    store: tuple[str, str], tmp_path: Path
) -> None:
    db_url, seeker = store
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("x")
    for command in page_commands(seeker):
        assert "is a folder" in fails([*command, "--output", str(tmp_path)], db_url, 2)
        fails([*command, "--output", str(a_file / "page.html")], db_url, 2)
    assert a_file.read_text() == "x"


def test_an_unknown_seeker_is_not_found(store: tuple[str, str], tmp_path: Path) -> None:
    db_url, _ = store
    target = tmp_path / "page.html"
    for seeker in (str(uuid.uuid4()), "nobody"):
        line = fails(
            ["history", seeker, "--format", "html", "--output", str(target)], db_url, 3
        )
        assert line.startswith("not found:")
        fails(["history", seeker, "--format", "html"], db_url, 3)
    assert not target.exists()


def test_options_that_do_not_go_together(
    store: tuple[str, str], tmp_path: Path
) -> None:
    db_url, seeker = store
    target = str(tmp_path / "x.html")
    fails(["history", seeker, "--output", target], db_url, 2)
    fails(["history", seeker, "--format", "json", "--output", target], db_url, 2)
    fails(["history", seeker, "--format", "pdf"], db_url, 2)
    fails(["report", "status", "--output", target], db_url, 2)
    fails(["report", "html", "--format", "csv"], db_url, 2)
    fails(["report", "html", "--from", "2025-13-01"], db_url, 2)
    assert not Path(target).exists()


def test_history_keeps_its_text_and_json(store: tuple[str, str]) -> None:
    db_url, seeker = store
    text = ok(["history", seeker], db_url).stdout
    assert text.startswith(f"History of seeker {seeker}")
    assert ok(["history", seeker, "--format", "text"], db_url).stdout == text
    as_json = ok_json(["history", seeker], db_url)
    assert ok(["history", seeker, "--format", "json"], db_url).json() == as_json
    assert [e["type"] for e in as_json["events"]] == ["Registered"]


def test_json_mode_prints_the_path_as_json(
    store: tuple[str, str], tmp_path: Path
) -> None:
    db_url, seeker = store
    target = tmp_path / "page.html"
    document = ok_json(
        ["history", seeker, "--format", "html", "--output", str(target)], db_url
    )
    assert document == {"output": str(target), "bytes": target.stat().st_size}


def test_a_missing_store_is_a_storage_error(tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'missing.db'}"
    fails(["report", "html", "--output", str(tmp_path / "r.html")], missing, 6)
    assert not (tmp_path / "r.html").exists()
    assert not (tmp_path / "missing.db").exists()
