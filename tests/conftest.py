"""Shared pytest fixtures and hooks."""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

import psycopg
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

# The repository root, so `tests.support` imports however pytest is started.
_REPO_ROOT = str(Path(__file__).resolve().parent.parent)
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from tests.support.browser import CHROMIUM, launch  # noqa: E402
from tests.support.pgbouncer import ThrowawayPgBouncer  # noqa: E402
from tests.support.postgres_server import (  # noqa: E402
    ThrowawayPostgres,
    create_database,
    drop_database,
    with_database,
)
from tests.support.standby import StandbyPair, ThrowawayStandby  # noqa: E402

# ============================================================================
# Database harness: every test that takes `db_url` runs twice, once on a
# SQLite file in its tmp_path and once on a fresh, empty PostgreSQL database;
# a test that takes `pg_url` runs once, on a fresh PostgreSQL database.
#
# The PostgreSQL server is the one named by SEEKERS_TEST_POSTGRES_URL (its
# role must be allowed to create databases and roles), or else a throwaway
# server this test run starts (tests/support/postgres_server.py) and kills at
# the end.
# If no server can be had, PostgreSQL tests are skipped locally; under CI
# (CI=true or CI=1) they fail instead, and any skipped test fails the run.
#
# A streaming hot standby of the throwaway server (tests/support/standby.py)
# and PgBouncer in transaction mode in front of it (tests/support/pgbouncer.py)
# start when a test first asks for them (`standby_pair`, `pooled_url`, or the
# session fixtures `postgres_standby` and `pgbouncer`). They need the
# throwaway server: with SEEKERS_TEST_POSTGRES_URL set, tests that take them
# are skipped (fail under CI).
# ============================================================================

POSTGRES_URL_ENV = "SEEKERS_TEST_POSTGRES_URL"
_SKIPPED_UNDER_CI = pytest.StashKey[int]()


def _under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}


def _skip_or_fail(reason: str) -> NoReturn:
    """Skip the test needing what is missing; under CI, fail it."""
    if _under_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayPostgres | None]:
    """The throwaway PostgreSQL server this test run started, or None when
    SEEKERS_TEST_POSTGRES_URL names a server to use instead."""
    if os.environ.get(POSTGRES_URL_ENV, "").strip():
        yield None
        return
    server = ThrowawayPostgres()
    reason = ""
    try:
        server.start()
    except Exception as error:
        reason = f"could not start a throwaway PostgreSQL server: {error}"
    if reason:
        _skip_or_fail(reason)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server_url(postgres_server: ThrowawayPostgres | None) -> str:
    """URL of a PostgreSQL server (and a database on it) for this test run."""
    if postgres_server is None:
        return os.environ[POSTGRES_URL_ENV].strip()
    return postgres_server.url


def _throwaway_server(server: ThrowawayPostgres | None, what: str) -> ThrowawayPostgres:
    if server is None:
        _skip_or_fail(
            f"{what} needs the throwaway PostgreSQL server, but "
            f"{POSTGRES_URL_ENV} names another one"
        )
    return server


@pytest.fixture(scope="session")
def postgres_standby(
    postgres_server: ThrowawayPostgres | None,
) -> Iterator[ThrowawayStandby]:
    """A hot standby streaming from the throwaway server, for the whole run.

    A database created on the server exists on the standby once
    ``postgres_standby.wait_for(name)`` returns (``standby_pair`` does that).
    """
    standby = ThrowawayStandby(_throwaway_server(postgres_server, "a standby"))
    reason = ""
    try:
        standby.start()
    except Exception as error:
        reason = f"could not start a standby of the throwaway PostgreSQL: {error}"
    if reason:
        _skip_or_fail(reason)
    try:
        yield standby
    finally:
        standby.stop()


@pytest.fixture(scope="session")
def pgbouncer(
    postgres_server: ThrowawayPostgres | None,
) -> Iterator[ThrowawayPgBouncer]:
    """PgBouncer in transaction mode in front of the throwaway server, for the
    whole run. Call ``pgbouncer.refresh_auth()`` after creating a role that
    must log in through it."""
    pooler = ThrowawayPgBouncer(_throwaway_server(postgres_server, "PgBouncer"))
    reason = ""
    try:
        pooler.start()
    except Exception as error:
        reason = f"could not start PgBouncer in front of the throwaway server: {error}"
    if reason:
        _skip_or_fail(reason)
    try:
        yield pooler
    finally:
        pooler.stop()


@contextlib.contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database ``t_<hex>`` on the server; its URL, dropped after."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    create_database(server_url, name)
    try:
        yield with_database(server_url, name)
    finally:
        with contextlib.suppress(psycopg.Error):
            drop_database(server_url, name)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, empty database private to this test.

    ``sqlite:////<tmp_path>/seekers.db`` (not yet created), or
    ``postgresql://…/t_<hex>``: a new database, dropped after the test.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'seekers.db'}"
        return
    server_url: str = request.getfixturevalue("postgres_server_url")
    with fresh_postgres_database(server_url) as url:
        yield url


@pytest.fixture
def pg_url(postgres_server_url: str) -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database private to this test (the
    PostgreSQL half of ``db_url`` alone), dropped after the test.

    For tests that only make sense on PostgreSQL (live subscription, many
    processes at once): taking ``db_url`` they would have to skip its SQLite
    half, and a skip fails the run under CI. Mark them ``postgres``.
    """
    with fresh_postgres_database(postgres_server_url) as url:
        yield url


@pytest.fixture
def standby_pair(postgres_standby: ThrowawayStandby) -> Iterator[StandbyPair]:
    """A fresh, empty database on the throwaway server (``primary_url``) and
    the same database on its standby (``standby_url``, read-only, already
    there), dropped after the test. Mark tests that take it ``postgres``.

    The standby lags: after writing on the primary, call
    ``postgres_standby.wait_caught_up()`` before expecting to read it there.
    """
    with fresh_postgres_database(postgres_standby.primary.url) as primary_url:
        name = urlsplit(primary_url).path.removeprefix("/")
        yield StandbyPair(primary_url, postgres_standby.wait_for(name))


@pytest.fixture
def pooled_url(pgbouncer: ThrowawayPgBouncer) -> Iterator[str]:
    """URL of a fresh, empty database reached through PgBouncer in transaction
    mode (as ``seekers``), dropped after the test. Mark tests that take it
    ``postgres``."""
    with fresh_postgres_database(pgbouncer.primary.url) as url:
        yield pgbouncer.url_for(urlsplit(url).path.removeprefix("/"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI a skipped test is a failure: it means something did not run."""
    if not _under_ci():
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    session.config.stash[_SKIPPED_UNDER_CI] = skipped


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    skipped = config.stash.get(_SKIPPED_UNDER_CI, 0)
    if skipped:
        terminalreporter.write_line(
            f"FAILED: {skipped} skipped test(s); skipped tests are not allowed "
            f"under CI (CI={os.environ.get('CI', '')})",
            red=True,
            bold=True,
        )


# ============================================================================
# Product fixtures below.
# ============================================================================

# A fixed master key for the whole run: PostgreSQL stores have no key file, and
# tests that exercise the key file or a wrong key override it themselves.
TEST_MASTER_KEY = "c2Vla2Vycy1sZWRnZXItdGVzdC1tYXN0ZXIta2V5ISE="


@pytest.fixture(autouse=True)
def master_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SEEKERS_MASTER_KEY", TEST_MASTER_KEY)
    return TEST_MASTER_KEY


@pytest.fixture(autouse=True)
def english_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests pin English output unless they ask for Japanese (``--lang
    ja``, or an environment of their own): a developer's Japanese locale
    must not change what they see. ``SEEKERS_LANG`` outranks the locale."""
    monkeypatch.setenv("SEEKERS_LANG", "en")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """The one Playwright of the run (it allows one per process; every
    browser of the page tests comes from it, whatever order they run in).
    Never skipped: a machine without Debian's Chromium fails with the
    command that installs it (``make browser``)."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser`", pytrace=False)
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One headless Chromium for the page tests."""
    launched = launch(playwright)
    try:
        yield launched
    finally:
        launched.close()
