"""Who wrote each event: stamped by the database, chained, shown, verified.

On PostgreSQL the principal is the login (``session_user``) a trigger stamps
on the chain row inside the inserting transaction, whatever the client
sends; on SQLite it is the operating-system user, marked unverified. It is
part of the stream hash (format 2, ``docs/integrity.md``), so changing it
afterwards is caught like any other alteration; stores chained before
principals existed keep verifying, their events' writer unknown.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest

from adapters.storage import parse_storage_url
from integrity.store import os_principal
from tests.helpers import run_cli
from tests.integrity.support import raw, register

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "chained_v1_store"


def login_of(db_url: str) -> str:
    if db_url.startswith("sqlite"):
        return os_principal()
    return parse_storage_url(db_url).environment["POSTGRES_USER"]


def history(db_url: str, seeker: str) -> list[dict[str, object]]:
    done = run_cli(["--json", "history", seeker], db_url=db_url)
    assert done.code == 0, done.stderr
    events: list[dict[str, object]] = done.json()["events"]
    return events


def test_history_shows_the_principal_beside_the_actor(db_url: str) -> None:
    aya = register(db_url, "Aya Mori", "aya@example.jp")
    done = run_cli(
        ["contact", aya, "--channel", "phone", "--outcome", "no_answer",
         "--at", "2025-01-11"], db_url=db_url, actor="suzuki",
    )  # fmt: skip
    assert done.code == 0, done.stderr
    login = login_of(db_url)
    verified = db_url.startswith("postgresql")
    entries = history(db_url, aya)
    assert [(e["actor"], e["principal"], e["principal_verified"]) for e in entries] == [
        ("tester", login, verified),
        ("suzuki", login, verified),
    ]
    printed = run_cli(["history", aya], db_url=db_url).stdout
    assert f"suzuki (via login {login})" in printed


def test_a_changed_principal_is_caught_by_verify(db_url: str) -> None:
    aya = register(db_url, "Aya Mori", "aya@example.jp")
    assert run_cli(["pause", aya, "--at", "2025-01-12"], db_url=db_url).code == 0
    assert run_cli(["--json", "audit", "verify"], db_url=db_url).code == 0
    raw(
        db_url,
        "UPDATE integrity_events SET principal = ? "
        "WHERE originator_id = ? AND originator_version = 2",
        ("someone.else", aya),
    )
    found = run_cli(["--json", "audit", "verify"], db_url=db_url)
    assert found.code == 1
    findings = found.json()["findings"]
    assert ("altered", aya, 2) in {
        (f["kind"], f["account"], f["version"]) for f in findings
    }


def test_the_export_and_the_bundle_carry_the_principal(
    db_url: str, tmp_path: Path
) -> None:
    aya = register(db_url, "Aya Mori", "aya@example.jp")
    run_cli(["pause", aya], db_url=db_url, actor="suzuki")
    folder = tmp_path / "export"
    assert (
        run_cli(["audit", "export", "--output", str(folder)], db_url=db_url).code == 0
    )
    lines = [json.loads(line) for line in (folder / "events.jsonl").open()]
    assert {line["principal"] for line in lines} == {login_of(db_url)}
    assert json.loads((folder / "manifest.json").read_text())["format"] == (
        "seekers-export/2"
    )
    bundle = tmp_path / "aya.json"
    assert run_cli(
        ["audit", "prove", aya, "--output", str(bundle)], db_url=db_url
    ).code == 0  # fmt: skip
    document = json.loads(bundle.read_text())
    assert [e["principal"] for e in document["events"]] == [login_of(db_url)] * 2
    # Claiming another writer in the bundle breaks its chain.
    document["events"][1]["principal"] = "suzuki"
    bundle.write_text(json.dumps(document))
    checked = run_cli(["--json", "audit", "verify", "--bundle", str(bundle)])
    assert checked.code == 1
    kinds = {(f["kind"], f["version"]) for f in checked.json()["findings"]}
    assert ("altered", 2) in kinds


@pytest.fixture
def tanaka(pg_url: str) -> str:
    """A second login of the agency, member of the store owner's role."""
    config = parse_storage_url(pg_url)
    owner = config.environment["POSTGRES_USER"]
    register(pg_url, "Aya Mori", "aya@example.jp")  # the owner makes the schema
    with psycopg.connect(pg_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = 'tanaka'"
        ).fetchone()
        if not exists:
            connection.execute("CREATE ROLE tanaka LOGIN PASSWORD 'tanaka-pw'")
        connection.execute(f'GRANT "{owner}" TO tanaka')
    host, port = (
        config.environment["POSTGRES_HOST"],
        config.environment["POSTGRES_PORT"],
    )
    dbname = config.environment["POSTGRES_DBNAME"]
    return f"postgresql://tanaka:tanaka-pw@{host}:{port}/{dbname}"


@pytest.mark.postgres
def test_a_login_acting_for_someone_is_shown_with_them(
    pg_url: str, tanaka: str, tmp_path: Path
) -> None:
    ken = register(tanaka, "Ken Abe", "ken@example.jp")
    done = run_cli(["pause", ken], db_url=tanaka, actor="suzuki")
    assert done.code == 0, done.stderr
    entries = history(pg_url, ken)
    assert [(e["actor"], e["principal"]) for e in entries] == [
        ("tester", "tanaka"),
        ("suzuki", "tanaka"),
    ]
    assert all(e["principal_verified"] for e in entries)
    assert (
        "suzuki (via login tanaka)" in run_cli(["history", ken], db_url=pg_url).stdout
    )


@pytest.mark.postgres
def test_a_forged_principal_is_replaced_by_the_database(
    pg_url: str, tanaka: str
) -> None:
    """Whatever an INSERT says, the row gets the session's login."""
    with psycopg.connect(tanaka, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO integrity_events (leaf_index, notification_id, "
            "originator_id, originator_version, event_digest, stream_hash, "
            "principal) VALUES (999999, 999999, 'forged', 1, '\\x00', '\\x00', "
            "'the.director')"
        )
        (stamped,) = connection.execute(
            "SELECT principal FROM integrity_events WHERE leaf_index = 999999"
        ).fetchone()
    assert stamped == "tanaka"


@pytest.fixture
def v1_url(tmp_path: Path) -> str:
    for name in ("v1.db", "v1.db.key", "auditor.checkpoints"):
        shutil.copy(FIXTURE / name, tmp_path / name)
    (tmp_path / "v1.db.key").chmod(0o600)
    return f"sqlite:///{tmp_path / 'v1.db'}"


def test_a_store_chained_before_principals_keeps_verifying(
    v1_url: str, tmp_path: Path
) -> None:
    env: dict[str, str | None] = {"SEEKERS_MASTER_KEY": None}
    aya, ken = (FIXTURE / "ids.txt").read_text().split()
    kept = str(tmp_path / "auditor.checkpoints")

    def cli(*args: str) -> dict[str, object]:
        done = run_cli(["--json", *args], db_url=v1_url, env=env)
        assert done.code == 0, (args, done.stdout, done.stderr)
        return dict(done.json())

    assert cli("audit", "verify", "--checkpoint", kept)["findings"] == []
    before = cli("history", aya)["events"]
    assert [e["principal"] for e in before] == [None, None]  # type: ignore[union-attr]
    cli("pause", aya)
    after = cli("history", aya)["events"]
    assert [e["principal"] for e in after] == [None, None, os_principal()]  # type: ignore[union-attr]
    assert cli("audit", "verify", "--checkpoint", kept)["findings"] == []
    folder = tmp_path / "export"
    cli("audit", "export", "--output", str(folder))
    assert cli("audit", "verify", "--export", str(folder))["findings"] == []
    bundle = tmp_path / "aya.json"
    cli("audit", "prove", aya, "--output", str(bundle))
    assert cli("audit", "verify", "--bundle", str(bundle))["findings"] == []
    assert cli("history", ken)["events"][0]["principal"] is None  # type: ignore[index]
