"""Each person may do only their part, and the database holds it (SPEC §9).

On a real PostgreSQL server, with one login per group role and the store's
owner: every command run by every role, where the role may run it it works,
where it may not it exits 7 with one line and the store is unchanged (every
table's row count and the tree's root). Then what someone would try with
``psql`` as each role, the admin's included: changing or removing the log,
writing around the ledger, reading the keys.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from adapters.roles import (
    ADMIN,
    AUDITOR,
    GROUPS,
    LOG,
    MAY,
    OPERATOR,
    PRIVACY,
    PROJECTIONS,
    REPORTER,
)
from tests.conftest import TEST_MASTER_KEY, fresh_postgres_database
from tests.helpers import CliResult, run_cli

pytestmark = pytest.mark.postgres

OWNER = "owner"
ROLES = (*GROUPS, OWNER)
PASSWORD = "role-test-pw"


def login_url(url: str, login: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{login}:{PASSWORD}@{host}"))


@dataclass
class Agency:
    """A store with roles installed and one login per role."""

    owner_url: str
    urls: dict[str, str]
    folder: Path

    def cli(self, role: str, *args: str) -> CliResult:
        return run_cli(
            ["--json", *args],
            db_url=self.urls[role],
            actor=f"{role}.x",
            env={"SEEKERS_MASTER_KEY": TEST_MASTER_KEY},
        )

    def owner(self, *args: str) -> dict[str, object]:
        done = self.cli(OWNER, *args)
        assert done.code == 0, (args, done.stderr)
        return dict(done.json()) if done.stdout.strip() else {}

    def seeker(self, *steps: tuple[str, ...], policy: str = "workport") -> str:
        """A new account, taken through ``steps`` by the owner."""
        email = f"{uuid.uuid4().hex[:12]}@example.jp"
        seeker = str(
            self.owner(
                "register", "--name", "Aya Mori", "--email", email, "--birth-date",
                "1990-01-01", "--policy", policy, "--at", "2025-01-10",
            )["id"]
        )  # fmt: skip
        for step in steps:
            self.owner(step[0], seeker, *step[1:])
        return seeker

    def fingerprint(self) -> tuple[object, ...]:
        """Every table's row count and the tree's state: what must not move."""
        with psycopg.connect(self.owner_url) as connection:
            tables = [
                row[0]
                for row in connection.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "ORDER BY tablename"
                )
            ]
            counts = [
                connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()
                for table in tables
            ]
            state = connection.execute(
                "SELECT size, frontier FROM integrity_state"
            ).fetchone()
        return (*zip(tables, counts, strict=True), state)


@pytest.fixture(scope="module")
def agency(
    postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Agency]:
    with fresh_postgres_database(postgres_server_url) as url:
        tag = urlsplit(url).path.lstrip("/")
        logins = {role: f"{role.removeprefix('seekers_')}_{tag}" for role in GROUPS}
        urls = {role: login_url(url, login) for role, login in logins.items()}
        urls[OWNER] = url
        store = Agency(url, urls, tmp_path_factory.mktemp("roles"))
        store.owner("migrate")
        store.owner("roles", "install")
        with psycopg.connect(url, autocommit=True) as connection:
            for login in logins.values():
                connection.execute(
                    f"CREATE ROLE \"{login}\" LOGIN PASSWORD '{PASSWORD}'"
                )
        for role, login in logins.items():
            store.owner("roles", "grant", role, login)
        yield store
    # The database is gone, and the logins' privileges in it: drop them.
    with psycopg.connect(postgres_server_url, autocommit=True) as connection:
        for login in [*logins.values(), f"spare_{tag}"]:
            connection.execute(f'DROP ROLE IF EXISTS "{login}"')


Scenario = Callable[[Agency], list[str]]
APPLIED = ("apply", "--job", "Clerk", "--route", "agency", "--at", "2025-01-11")
SCHEDULED = (
    "schedule-interview",
    "A1",
    "--on",
    "2027-02-01T10:00",
    "--at",
    "2025-01-12",
)
REQUESTED = ("request-withdrawal", "--channel", "phone", "--reason", "job_found",
             "--at", "2025-01-13")  # fmt: skip
WITHDRAWN = ("withdraw", "--at", "2025-01-14")


def _on(command: str, *steps: tuple[str, ...], args: tuple[str, ...] = ()) -> Scenario:
    return lambda a: [command, a.seeker(*steps), *args]


_SEEDS = itertools.count(1)
"""Simulation seeds, one per run: the agency's store is shared by the module."""

SCENARIOS: dict[str, Scenario] = {
    "register": lambda a: [
        "register",
        "--name",
        "Ken Abe",
        "--email",
        f"{uuid.uuid4().hex}@x.jp",
        "--birth-date",
        "1990-01-01",
        "--policy",
        "workport",
    ],
    "apply": _on("apply", args=("--job", "Clerk", "--route", "agency")),
    "schedule-interview": _on(
        "schedule-interview", APPLIED, args=("A1", "--on", "2027-01-01T10:00")
    ),
    "decline-interview": _on(
        "decline-interview", APPLIED, SCHEDULED, args=("A1", "--channel", "phone")
    ),
    "close-application": _on(
        "close-application", APPLIED, args=("A1", "--outcome", "rejected")
    ),
    "pause": _on("pause"),
    "resume": _on("resume", ("pause", "--at", "2025-01-11")),
    "contact": _on("contact", args=("--channel", "phone", "--outcome", "no_answer")),
    "mark-unreachable": _on("mark-unreachable"),
    "restore-contact": _on(
        "restore-contact", ("mark-unreachable", "--at", "2025-01-11")
    ),
    "lapse": _on("lapse"),
    "reactivate": _on("reactivate", ("lapse", "--at", "2025-01-11")),
    "change-advisor": _on("change-advisor", args=("--advisor", "Sato")),
    "request-withdrawal": _on(
        "request-withdrawal", args=("--channel", "phone", "--reason", "job_found")
    ),
    "cancel-withdrawal": _on("cancel-withdrawal", REQUESTED),
    "withdraw": _on("withdraw", REQUESTED),
    "reinstate": _on("reinstate", REQUESTED, WITHDRAWN, args=("--assisted",)),
    "purge": _on("purge", REQUESTED, WITHDRAWN, args=("--reason", "deletion_request")),
    "show": _on("show"),
    "history": _on("history"),
    "export-data": _on("export-data"),
    "find": lambda a: ["find", "--email", "nobody@example.jp"],
    "list": lambda a: ["list"],
    "report": lambda a: ["report", "status"],
    "sweep": lambda a: ["sweep", "--dry-run"],
    "audit checkpoint": lambda a: ["audit", "checkpoint"],
    "audit verify": lambda a: ["audit", "verify"],
    "audit export": lambda a: [
        "audit",
        "export",
        "--output",
        str(a.folder / uuid.uuid4().hex),
    ],
    "audit prove": lambda a: [
        "audit",
        "prove",
        a.seeker(),
        "--output",
        str(a.folder / uuid.uuid4().hex),
    ],
    "audit replay": lambda a: ["audit", "replay"],
    "projections status": lambda a: ["projections", "status"],
    "projections catch-up": lambda a: ["projections", "catch-up"],
    "projections rebuild": lambda a: ["projections", "rebuild"],
    "import": lambda a: ["import", str(_import_file(a))],
    "simulate": lambda a: [
        "simulate",
        "--seekers",
        "2",
        "--seed",
        str(next(_SEEDS)),  # a seed that already ran on the store is refused
    ],
    "roles": lambda a: ["roles"],
    "roles grant": lambda a: ["roles", "grant", "seekers_reporter", _spare_login(a)],
    "roles revoke": lambda a: ["roles", "revoke", "seekers_reporter", _spare_login(a)],
    "roles install": lambda a: ["roles", "install"],
    "migrate": lambda a: ["migrate"],
}
"""How to run each command on a store where it can succeed."""

NOT_IN_THE_MATRIX = {"projections run"}
"""Follows the log until stopped: its refusals are tested on their own."""


def _import_file(agency: Agency) -> Path:
    path = agency.folder / f"{uuid.uuid4().hex}.csv"
    path.write_text(
        "ref,policy,name,email,birth_date,phone,channel,advisor,occurred_at,actor\n"
        f"r-{uuid.uuid4().hex},workport,Mio Sato,{uuid.uuid4().hex}@x.jp,"
        "1990-01-01,,,,2025-01-10,clerk\n"
    )
    return path


def _spare_login(agency: Agency) -> str:
    login = f"spare_{urlsplit(agency.owner_url).path.lstrip('/')}"
    with psycopg.connect(agency.owner_url, autocommit=True) as connection:
        if not connection.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)
        ).fetchone():
            connection.execute(f'CREATE ROLE "{login}" NOLOGIN')
    return login


def test_every_command_that_opens_the_store_is_in_the_matrix() -> None:
    assert set(SCENARIOS) | NOT_IN_THE_MATRIX == set(MAY)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("command", sorted(SCENARIOS))
def test_each_role_runs_its_commands_and_no_other(
    agency: Agency, command: str, role: str
) -> None:
    argv = SCENARIOS[command](agency)
    allowed = role == OWNER or role in MAY[command]
    before = None if allowed else agency.fingerprint()
    done = agency.cli(role, *argv)
    if allowed:
        assert done.code == 0, (command, role, done.stderr)
        return
    assert done.code == 7, (command, role, done.code, done.stderr)
    error = done.error()["error"]
    assert error["code"] == 7
    assert f"may not {command}" in error["message"]
    assert len(done.stderr.strip().splitlines()) == 1
    assert agency.fingerprint() == before


@pytest.mark.parametrize("role", [r for r in GROUPS if r != ADMIN])
def test_only_the_admin_and_the_owner_run_the_projections(
    agency: Agency, role: str
) -> None:
    done = agency.cli(role, "projections", "run", "--poll", "1")
    assert done.code == 7
    assert "may not projections run (needs role seekers_admin)" in done.stderr


def test_the_refusal_names_the_login_and_the_role(agency: Agency) -> None:
    seeker = agency.seeker(REQUESTED, WITHDRAWN)
    done = run_cli(
        ["purge", seeker, "--reason", "deletion_request"],
        db_url=agency.urls[OPERATOR],
    )
    login = urlsplit(agency.urls[OPERATOR]).username
    assert done.stderr.strip() == (
        f"forbidden: login '{login}' may not purge (needs role seekers_privacy)"
    )


def test_the_auditor_sees_personal_fields_sealed(agency: Agency) -> None:
    seeker = agency.seeker()
    shown = agency.cli(AUDITOR, "show", seeker).json()
    assert shown["personal_sealed"] is True
    assert shown["name"] is None and shown["status"] == "active"
    printed = run_cli(["show", seeker], db_url=agency.urls[AUDITOR]).stdout
    assert "personal data sealed" in printed
    assert "Aya Mori" not in printed
    assert agency.cli(OPERATOR, "show", seeker).json()["name"] == "Aya Mori"


def test_roles_lists_the_matrix_and_the_members(agency: Agency) -> None:
    listed = agency.cli(ADMIN, "roles").json()
    assert listed["installed"] is True
    assert listed["commands"]["purge"] == [PRIVACY]
    for role in GROUPS:
        login = urlsplit(agency.urls[role]).username
        assert login in listed["members"][role]


# -- what someone with psql tries ---------------------------------------------

ATTEMPTS = {
    "update": "UPDATE {table} SET {column} = {column}",
    "delete": "DELETE FROM {table}",
    "truncate": "TRUNCATE {table}",
}
COLUMNS = {
    "seekers_events": "topic",
    "integrity_events": "principal",
    "integrity_nodes": "hash",
    "integrity_checkpoints": "text",
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("attempt", sorted(ATTEMPTS))
@pytest.mark.parametrize("table", LOG)
def test_the_log_is_append_only_for_every_role(
    agency: Agency, role: str, attempt: str, table: str
) -> None:
    agency.seeker()
    agency.owner("audit", "checkpoint")
    before = agency.fingerprint()
    statement = ATTEMPTS[attempt].format(table=table, column=COLUMNS[table])
    with (
        psycopg.connect(agency.urls[role]) as connection,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        connection.execute(statement)
    assert agency.fingerprint() == before


RAW_INSERTS = {
    "seekers_events": "INSERT INTO seekers_events (originator_id, originator_version, "
    "topic, state) VALUES (gen_random_uuid(), 1, 'domain.seeker:Seeker.Registered', "
    "'\\x7b7d')",
    "integrity_events": "INSERT INTO integrity_events (leaf_index, notification_id, "
    "originator_id, originator_version, event_digest, stream_hash) VALUES "
    "(1000000, 1000000, 'x', 1, '\\x00', '\\x00')",
    "integrity_nodes": "INSERT INTO integrity_nodes (level, idx, hash) VALUES "
    "(0, 1000000, '\\x00')",
    "integrity_checkpoints": "INSERT INTO integrity_checkpoints (seq, size, root, "
    "issued_at, text) VALUES (1000000, 1, '\\x00', 'now', 'forged')",
}


@pytest.mark.parametrize(
    ("role", "table"),
    [
        (role, table)
        for role in GROUPS
        for table in LOG
        # The auditor issues checkpoints: its own is its job, and verify
        # holds it to the log like any other.
        if (role, table) != (AUDITOR, "integrity_checkpoints")
    ],
)
def test_nothing_is_written_to_the_log_around_the_ledger(
    agency: Agency, role: str, table: str
) -> None:
    """A raw INSERT is refused: by the grants, or at commit for a login that
    may write (every event chained, every chain row an event, every tree
    node inside the tree)."""
    before = agency.fingerprint()
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        psycopg.connect(agency.urls[role]) as connection,
    ):
        connection.execute(RAW_INSERTS[table])
    assert agency.fingerprint() == before


@pytest.mark.parametrize("role", [AUDITOR, REPORTER])
@pytest.mark.parametrize("query", ["SELECT * FROM seeker_keys",
                                   "SELECT wrapped_key FROM seeker_keys",
                                   "SELECT digest FROM email_index"])  # fmt: skip
def test_the_auditor_and_the_reporter_cannot_read_the_keys(
    agency: Agency, role: str, query: str
) -> None:
    agency.seeker()
    with (
        psycopg.connect(agency.urls[role]) as connection,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        connection.execute(query)


def _owners_and_grants(url: str) -> dict[str, tuple[object, ...]]:
    """Each projection table's owner and grants (who, what, grantable)."""
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT c.relname, pg_get_userbyid(c.relowner), ARRAY("
            "  SELECT DISTINCT concat_ws(' ', pg_get_userbyid(a.grantee), "
            "    a.privilege_type, a.is_grantable) "
            "  FROM aclexplode(c.relacl) a ORDER BY 1) "
            "FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace "
            "AND c.relkind = 'r' AND c.relname = ANY(%s)",
            (list(PROJECTIONS),),
        ).fetchall()
    return {str(name): (owner, grants) for name, owner, grants in rows}


def test_a_rebuild_by_the_admin_keeps_the_owner_and_grants_of_the_tables(
    agency: Agency,
) -> None:
    agency.seeker(APPLIED)
    before = _owners_and_grants(agency.owner_url)
    assert set(before) == set(PROJECTIONS)
    assert all(grants for _, grants in before.values())
    listed = agency.cli(REPORTER, "list", "--all").json()
    reported = agency.cli(REPORTER, "report", "status").json()

    rebuilt = agency.cli(ADMIN, "projections", "rebuild")
    assert rebuilt.code == 0, rebuilt.stderr

    # New tables under the live names, the live tables' owner and grants:
    # the reporter reads them as before, and no shadow is left.
    assert _owners_and_grants(agency.owner_url) == before
    assert agency.cli(REPORTER, "list", "--all").json() == listed
    assert agency.cli(REPORTER, "report", "status").json() == reported
    status = agency.cli(REPORTER, "projections", "status").json()
    assert [row["rebuild"] for row in status["projections"]] == [None, None]
    with psycopg.connect(agency.owner_url) as connection:
        left = connection.execute(
            "SELECT relname FROM pg_class WHERE strpos(relname, '__next') > 0"
        ).fetchall()
    assert left == []


def test_the_reporter_reads_no_event(agency: Agency) -> None:
    with psycopg.connect(agency.urls[REPORTER]) as connection:
        for table in (*LOG, "seekers_snapshots", "command_requests"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                connection.execute(f"SELECT * FROM {table}")
            connection.rollback()


def test_a_forged_principal_is_stamped_with_the_login(agency: Agency) -> None:
    login = urlsplit(agency.urls[OPERATOR]).username
    with psycopg.connect(agency.urls[OPERATOR]) as connection:
        connection.execute(
            "INSERT INTO integrity_events (leaf_index, notification_id, originator_id, "
            "originator_version, event_digest, stream_hash, principal) VALUES "
            "(2000000, 2000000, 'x', 1, '\\x00', '\\x00', 'the.director')"
        )
        (stamped,) = connection.execute(
            "SELECT principal FROM integrity_events WHERE leaf_index = 2000000"
        ).fetchone()
        connection.rollback()  # (its commit would be refused: no such event)
    assert stamped == login


def test_a_superuser_edit_of_the_principal_is_caught_by_verify(
    agency: Agency, postgres_server_url: str
) -> None:
    seeker = agency.seeker(("pause", "--at", "2025-01-11"))
    assert agency.cli(AUDITOR, "audit", "verify").code == 0
    with psycopg.connect(agency.owner_url, autocommit=True) as connection:
        # Even the tables' owner must drop the guard first, with DDL no role
        # has; someone who does (or a superuser) is still caught by verify.
        connection.execute("ALTER TABLE integrity_events DISABLE TRIGGER USER")
        connection.execute(
            "UPDATE integrity_events SET principal = 'someone.else' "
            "WHERE originator_id = %s AND originator_version = 2",
            (seeker,),
        )
        connection.execute("ALTER TABLE integrity_events ENABLE TRIGGER USER")
    found = agency.cli(AUDITOR, "audit", "verify")
    assert found.code == 1
    assert ("altered", seeker, 2) in {
        (f["kind"], f["account"], f["version"]) for f in found.json()["findings"]
    }
    with psycopg.connect(agency.owner_url, autocommit=True) as connection:
        connection.execute("ALTER TABLE integrity_events DISABLE TRIGGER USER")
        connection.execute(
            "UPDATE integrity_events SET principal = %s "
            "WHERE originator_id = %s AND originator_version = 2",
            (urlsplit(agency.owner_url).username, seeker),
        )
        connection.execute("ALTER TABLE integrity_events ENABLE TRIGGER USER")
    assert agency.cli(AUDITOR, "audit", "verify").code == 0


def test_the_cli_names_the_same_roles_as_the_grants() -> None:
    from cli.commands.roles import _ROLES

    assert _ROLES == GROUPS


def test_roles_on_a_sqlite_store_say_there_are_none(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'seekers.db'}"
    assert "no roles" in run_cli(["roles"], db_url=url).stdout
    refused = run_cli(["roles", "install"], db_url=url)
    assert refused.code == 2
    assert "roles are PostgreSQL's" in refused.stderr
