"""A throwaway PgBouncer in transaction pooling mode, in front of the
throwaway PostgreSQL server.

Why this exists: deployments put PgBouncer in transaction mode in front of
the ledger's PostgreSQL, where a session's ``SET``, advisory locks, ``LISTEN``
and prepared statements do not survive from one transaction to the next. The
tests need a real one to prove the ledger copes. This starts Debian's
``/usr/sbin/pgbouncer`` (``make pooler`` installs it) in a temporary folder,
listening only on 127.0.0.1 on a free port (no unix socket), forwarding every
database name (``*``) to the primary over TCP, and throws it away afterwards
(also at interpreter exit and on SIGTERM). Settings are PgBouncer's stock ones
but for ``pool_mode = transaction``; in particular ``ignore_startup_parameters``
is left empty, so a client sending ``options`` is refused, as in production.

Authentication: clients log in with SCRAM against the secrets in the auth
file, copied from the server's ``pg_authid``; PgBouncer (1.14 or later) then
logs in to the server with the keys the client's SCRAM exchange gave it. A
role created after ``start()`` is unknown to PgBouncer until
``refresh_auth()``. ``seekers`` is an admin of the console (database
``pgbouncer``: ``SHOW CONFIG``, ``SHOW POOLS``...).

PgBouncer refuses to run as root; when the tests run as root, it runs as the
``postgres`` OS user, like the server.

Usage::

    with ThrowawayPgBouncer(server) as pooler:
        url = pooler.url_for(database)  # seekers / seekers-test
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Self
from urllib.parse import quote

import psycopg

from tests.support.postgres_server import (
    DATABASE,
    PASSWORD,
    ROLE,
    PostgresUnavailable,
    ThrowawayPostgres,
    ThrowawayProcess,
    _tail,
    chown_to,
    command_as,
    free_port,
    make_temp_dir,
    os_user_when_root,
    server_env,
    stop_at_exit,
)

PGBOUNCER = "/usr/sbin/pgbouncer"
ADMIN_DATABASE = "pgbouncer"
"""The name of PgBouncer's admin console ``database``."""

_CONFIG = """\
; Written by tests/support/pgbouncer.py: PgBouncer's stock settings but for
; these.
[databases]
* = host=127.0.0.1 port={server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
pool_mode = transaction
auth_type = scram-sha-256
auth_file = {auth_file}
admin_users = {admin}
logfile = {log_file}
pidfile = {pid_file}
"""


class PgBouncerUnavailable(PostgresUnavailable):
    """The throwaway PgBouncer could not be found, started or reached."""


def find_pgbouncer() -> str:
    """Debian's PgBouncer, or one on PATH."""
    if os.access(PGBOUNCER, os.X_OK):
        return PGBOUNCER
    on_path = shutil.which("pgbouncer")
    if on_path:
        return on_path
    raise PgBouncerUnavailable(
        f"no PgBouncer: neither {PGBOUNCER} nor one on PATH (run `make pooler`, "
        "i.e. tests/support/ensure-packages.sh pgbouncer=/usr/sbin/pgbouncer)"
    )


def _quoted(text: str) -> str:
    """``text`` as a double-quoted auth file field."""
    return '"' + text.replace('"', '""') + '"'


class ThrowawayPgBouncer(ThrowawayProcess):
    """PgBouncer in transaction mode in front of ``primary`` (running).

    ``start()`` (or ``with``) writes the config and auth file, starts it, and
    waits until ``seekers`` can run ``SELECT 1`` through it. ``stop()`` kills
    it and deletes its folder.
    """

    _unavailable = PgBouncerUnavailable
    _name = "PgBouncer"

    def __init__(
        self, primary: ThrowawayPostgres, *, startup_timeout: float = 15.0
    ) -> None:
        super().__init__(startup_timeout=startup_timeout)
        self.primary = primary
        self.executable: str | None = None

    # -- paths -------------------------------------------------------------

    @property
    def config_file(self) -> Path:
        return self._base() / "pgbouncer.ini"

    @property
    def auth_file(self) -> Path:
        return self._base() / "userlist.txt"

    @property
    def log_file(self) -> Path:
        return self._base() / "pgbouncer.log"

    @property
    def pid_file(self) -> Path:
        return self._base() / "pgbouncer.pid"

    @property
    def output_file(self) -> Path:
        """Its stdout and stderr (errors before it opens ``log_file``)."""
        return self._base() / "pgbouncer.out"

    @property
    def url(self) -> str:
        """``postgresql://seekers:seekers-test@127.0.0.1:PORT/seekers``."""
        return self.url_for(DATABASE)

    def url_for(self, database: str, user: str = ROLE, password: str = PASSWORD) -> str:
        """The URL of ``database`` on the primary, through PgBouncer."""
        if self.port is None:
            raise PgBouncerUnavailable("PgBouncer is not running")
        return (
            f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}"
            f"@127.0.0.1:{self.port}/{quote(database, safe='')}"
        )

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> Self:
        if self._process is not None:
            return self
        began = time.monotonic()
        self._owner_pid = os.getpid()
        if self.primary.port is None:
            raise PgBouncerUnavailable("the PostgreSQL server is not running")
        self.executable = find_pgbouncer()
        self._as_os_user = os_user_when_root()
        stop_at_exit(self)
        try:
            self.base_dir = make_temp_dir("seekers-pgbouncer-", self._as_os_user)
            self._write_auth_file()
            self._launch_on_free_port()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    # -- admin -------------------------------------------------------------

    def admin_connection(self) -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit connection to the admin console, as ``seekers``
        (the console has no transactions, and takes no query parameters)."""
        return psycopg.connect(
            self.url_for(ADMIN_DATABASE), autocommit=True, connect_timeout=5
        )

    def refresh_auth(self) -> None:
        """Copy the roles' SCRAM secrets from the server again, and reload.

        Call it after creating a role (or changing a password) that must log
        in through PgBouncer. ``RELOAD`` on the console returns once the new
        auth file is in force (SIGHUP would not say when).
        """
        self._write_auth_file()
        with self.admin_connection() as conn:
            conn.execute("RELOAD")

    # -- internals ---------------------------------------------------------

    def _write_auth_file(self) -> None:
        """``"role" "SCRAM-SHA-256$..."`` for each role that can log in with a
        SCRAM password; written aside, then renamed into place."""
        with self.primary.admin_connection() as conn:
            rows = conn.execute(
                "SELECT rolname, rolpassword FROM pg_authid"
                " WHERE rolcanlogin AND rolpassword LIKE 'SCRAM-SHA-256$%'"
                " ORDER BY rolname"
            ).fetchall()
        text = "".join(f"{_quoted(str(n))} {_quoted(str(p))}\n" for n, p in rows)
        new = self.auth_file.with_suffix(".new")
        new.write_text(text)
        new.chmod(0o600)
        chown_to(new, self._as_os_user)
        new.replace(self.auth_file)

    def _write_config(self) -> None:
        assert self.port is not None and self.primary.port is not None
        self.config_file.write_text(
            _CONFIG.format(
                server_port=self.primary.port,
                port=self.port,
                auth_file=self.auth_file,
                admin=ROLE,
                log_file=self.log_file,
                pid_file=self.pid_file,
            )
        )
        chown_to(self.config_file, self._as_os_user)

    def _launch_on_free_port(self) -> None:
        # Another process may grab the port between our probe and the bind.
        for attempt in range(3):
            self.port = free_port()
            self._write_config()
            problem = self._launch()
            if problem is None:
                return
            if attempt < 2 and "Address already in use" in self._log_tail(5):
                continue
            raise PgBouncerUnavailable(
                f"PgBouncer ({self.executable}) {problem}; its log:\n"
                + self._log_tail()
            )

    def _launch(self) -> str | None:
        """Start PgBouncer, wait until ``seekers`` gets through it to the
        server. Returns what went wrong, or None."""
        assert self.executable is not None
        self.pid_file.unlink(missing_ok=True)  # a failed attempt's
        with open(self.output_file, "ab") as output:
            self._process = subprocess.Popen(
                command_as(self._as_os_user, [self.executable, str(self.config_file)]),
                cwd=self._base(),
                env=server_env(),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + self.startup_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            status = self._process.poll()
            if status is not None:
                self._process = None
                return f"exited at start (status {status})"
            try:
                with psycopg.connect(self.url, connect_timeout=5) as conn:
                    conn.execute("SELECT 1")
                    return None
            except psycopg.OperationalError as error:
                last_error = error
                time.sleep(0.02)
        self._kill()
        return (
            f"let no query through within {self.startup_timeout:g} s "
            f"(last error: {last_error})"
        )

    def _kill(self) -> None:
        """Stop PgBouncer at once (SIGTERM: its immediate shutdown), keeping
        its folder (and log)."""
        process, self._process = self._process, None
        if process is None:
            return
        # When we are root, `process` is runuser/su: signal PgBouncer itself.
        pid: int | None = None
        with contextlib.suppress(OSError, ValueError):
            pid = int(self.pid_file.read_text().split()[0])
        if process.poll() is None:
            with contextlib.suppress(OSError):
                if pid is not None:
                    os.kill(pid, signal.SIGTERM)
                else:
                    process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                if pid is not None:
                    os.kill(pid, signal.SIGKILL)
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)

    def _log_tail(self, lines: int = 30) -> str:
        parts = []
        for path in (self.output_file, self.log_file):
            with contextlib.suppress(OSError, PgBouncerUnavailable):
                text = path.read_text(errors="replace").strip()
                if text:
                    parts.append(_tail(text, lines))
        return "\n".join(parts) or "(no PgBouncer log)"
