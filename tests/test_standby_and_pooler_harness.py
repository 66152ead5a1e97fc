"""The standby and PgBouncer the harness starts are what they claim to be: a
read-only replica that streams from the throwaway server, and PgBouncer in
transaction mode in front of it."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from tests.support.pgbouncer import ThrowawayPgBouncer
from tests.support.postgres_server import _SERVER_SETTINGS, ThrowawayPostgres
from tests.support.standby import StandbyPair, ThrowawayStandby

pytestmark = pytest.mark.postgres


def test_settings_override_and_extend_the_defaults() -> None:
    durable = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
    server = ThrowawayPostgres(settings={**durable, "work_mem": "8MB"})
    assert server.settings == {**_SERVER_SETTINGS, **durable, "work_mem": "8MB"}
    assert ThrowawayPostgres().settings == _SERVER_SETTINGS


def test_the_standby_streams_what_the_primary_commits(
    standby_pair: StandbyPair, postgres_standby: ThrowawayStandby
) -> None:
    primary, standby = standby_pair.primary_url, standby_pair.standby_url
    assert urlsplit(primary).path == urlsplit(standby).path
    assert urlsplit(primary).port != urlsplit(standby).port
    with psycopg.connect(primary, autocommit=True) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
        conn.execute("CREATE TABLE streamed (n integer)")
        conn.execute("INSERT INTO streamed VALUES (42)")
    postgres_standby.wait_caught_up()
    with psycopg.connect(standby, autocommit=True) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        assert conn.execute("SELECT n FROM streamed").fetchall() == [(42,)]


def test_the_standby_refuses_writes(standby_pair: StandbyPair) -> None:
    with (
        psycopg.connect(standby_pair.standby_url, autocommit=True) as conn,
        pytest.raises(psycopg.errors.ReadOnlySqlTransaction) as refused,
    ):
        conn.execute("CREATE TABLE refused (n integer)")
    assert "cannot execute CREATE TABLE in a read-only transaction" in str(
        refused.value
    )


def test_pgbouncer_pools_transactions_with_stock_startup_parameters(
    pgbouncer: ThrowawayPgBouncer, pooled_url: str
) -> None:
    with pgbouncer.admin_connection() as admin:
        config = {
            str(key): str(value)
            for key, value, *_ in admin.execute("SHOW CONFIG").fetchall()
        }
    assert config["pool_mode"] == "transaction"
    assert config["ignore_startup_parameters"] == ""
    # So a client that sends `options` is turned away, as in production.
    with pytest.raises(psycopg.OperationalError, match="unsupported startup"):
        psycopg.connect(pooled_url, options="-c work_mem=8MB").close()
    # The pooled URL leads to the throwaway server's database, as `seekers`.
    with psycopg.connect(pooled_url, autocommit=True) as conn:
        row = conn.execute("SELECT current_database(), current_user").fetchone()
    assert row == (urlsplit(pooled_url).path.removeprefix("/"), "seekers")


def test_a_session_setting_sticks_to_the_server_not_the_client(
    pooled_url: str,
) -> None:
    """Through PgBouncer in transaction mode, a ``SET`` outside a transaction
    lands on whichever server connection ran it, which then serves others.

    Deterministic because the database is fresh: its pool has one server
    connection until a second client needs one at the same time.
    """
    probe = "SELECT current_setting('seekers.probe', true), pg_backend_pid()"
    with (
        psycopg.connect(pooled_url, autocommit=True) as setter,
        psycopg.connect(pooled_url) as other,
    ):
        row = setter.execute(
            "SELECT set_config('seekers.probe', 'set', false), pg_backend_pid()"
        ).fetchone()
        assert row is not None
        first_backend = row[1]
        # Another client's transaction gets that server connection, setting
        # and all (and keeps it until it commits)...
        assert other.execute(probe).fetchone() == ("set", first_backend)
        # ...so the client that set it runs on a fresh one, without it.
        setting, backend = setter.execute(probe).fetchone() or ("?", 0)
        assert backend != first_backend
        assert setting is None
        other.commit()


def test_a_role_created_after_start_logs_in_after_refresh_auth(
    pgbouncer: ThrowawayPgBouncer, pooled_url: str
) -> None:
    role = f"late_{uuid.uuid4().hex[:8]}"
    database = urlsplit(pooled_url).path.removeprefix("/")
    url = pgbouncer.url_for(database, user=role, password="late-pw")
    with pgbouncer.primary.admin_connection() as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'late-pw'").format(
                sql.Identifier(role)
            )
        )
        try:
            with pytest.raises(psycopg.OperationalError, match="authentication"):
                psycopg.connect(url, connect_timeout=5).close()
            pgbouncer.refresh_auth()
            with psycopg.connect(url, connect_timeout=5) as conn:
                row = conn.execute("SELECT current_user").fetchone()
            assert row == (role,)
        finally:
            admin.execute(
                sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role))
            )
