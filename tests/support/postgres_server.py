"""A throwaway PostgreSQL server for the test suite.

Why this exists: the ledger must behave the same on SQLite and PostgreSQL, so
the tests run against a real PostgreSQL server. Rather than depend on a server
someone has to set up (and share, and clean), each test run starts its own in a
fresh temporary folder from Debian's PostgreSQL binaries
(``tests/support/ensure-postgres.sh`` installs them), listening only on
127.0.0.1 on a free port, tuned for speed rather than durability, and throws it
away afterwards (also at interpreter exit, so no server outlives the run).

PostgreSQL refuses to run as root; when the tests run as root, the server runs
as the ``postgres`` OS user.

Usage::

    with ThrowawayPostgres() as server:
        url = server.create_database("t_abc")  # fresh, empty, owned by `seekers`
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from glob import glob
from pathlib import Path
from types import FrameType, TracebackType
from typing import Protocol, Self
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROLE = "seekers"
PASSWORD = "seekers-test"
DATABASE = "seekers"
SUPERUSER = "postgres"
OS_USER = "postgres"
"""The OS user that runs the server when the tests run as root."""

_SERVER_SETTINGS: dict[str, str] = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}

_PG_HBA = """\
# Written by tests/support/postgres_server.py.
# The unix socket lives in a private temporary folder only the server's OS
# user (and root) can enter; TCP needs the password. Replication (for
# pg_basebackup and a standby's walreceiver, tests/support/standby.py) goes
# over the unix socket too, as the superuser.
local all         all                trust
local replication all                trust
host  all         all 127.0.0.1/32   scram-sha-256
"""


class PostgresUnavailable(RuntimeError):
    """The throwaway server could not be found, started or reached."""


def find_bin_dir() -> Path:
    """The folder with the highest installed PostgreSQL's server binaries."""
    candidates: list[tuple[tuple[int, ...], Path]] = []
    for postgres in glob("/usr/lib/postgresql/*/bin/postgres"):
        bin_dir = Path(postgres).parent
        version = bin_dir.parent.name
        if re.fullmatch(r"\d+(\.\d+)*", version):
            candidates.append((tuple(int(p) for p in version.split(".")), bin_dir))
    if candidates:
        return max(candidates)[1]
    # Not Debian's layout: fall back to binaries on PATH.
    on_path = shutil.which("postgres")
    if on_path and shutil.which("initdb") and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    raise PostgresUnavailable(
        "no PostgreSQL server binaries: none under /usr/lib/postgresql/*/bin "
        "nor on PATH (run tests/support/ensure-postgres.sh, or set "
        "SEEKERS_TEST_POSTGRES_URL to use an existing server)"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def with_database(url: str, name: str) -> str:
    """``url`` with its database name replaced by ``name``."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"not a postgresql:// URL: {url!r}")
    return urlunsplit(parts._replace(path="/" + name))


def create_database(
    admin: psycopg.Connection[object] | str, name: str, owner: str | None = None
) -> None:
    """``CREATE DATABASE name`` from ``template0`` (pristine and empty).

    ``admin`` is an autocommit connection, or a URL of a role allowed to
    create databases. ``owner`` defaults to the connecting role.
    """
    statement = sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(
        sql.Identifier(name)
    )
    if owner is not None:
        statement += sql.SQL(" OWNER {}").format(sql.Identifier(owner))
    if isinstance(admin, str):
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(statement)
    else:
        admin.execute(statement)


def drop_database(admin: psycopg.Connection[object] | str, name: str) -> None:
    """``DROP DATABASE IF EXISTS name``, disconnecting whoever still uses it."""
    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        sql.Identifier(name)
    )
    if isinstance(admin, str):
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(statement)
    else:
        admin.execute(statement)


def os_user_when_root() -> pwd.struct_passwd | None:
    """The OS user to run servers as: ``postgres`` when we are root, else None
    (run them as ourselves). PostgreSQL and PgBouncer both refuse root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(OS_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root, but there is no {OS_USER!r} OS user to "
            "run the server as (tests/support/ensure-postgres.sh "
            "creates it)"
        ) from None


def command_as(os_user: pwd.struct_passwd | None, argv: Sequence[str]) -> list[str]:
    """``argv``, run as ``os_user`` (None: as ourselves)."""
    if os_user is None:
        return list(argv)
    if shutil.which("runuser"):
        return ["runuser", "-u", os_user.pw_name, "--", *argv]
    return ["su", os_user.pw_name, "-s", "/bin/sh", "-c", "exec " + shlex.join(argv)]


def server_env() -> dict[str, str]:
    """Our environment without libpq's ``PG*`` variables, in the C locale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    env.pop("LANG", None)
    return env


def make_temp_dir(prefix: str, os_user: pwd.struct_passwd | None) -> Path:
    """A new private (0700) temporary folder owned by ``os_user``.

    Under /tmp when ``os_user`` could not reach ``$TMPDIR``.
    """
    parent: str | None = None
    if os_user is not None and not _accessible_to_others(
        Path(tempfile.gettempdir()).resolve()
    ):
        parent = "/tmp"
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    chown_to(path, os_user)
    return path


def chown_to(path: Path, os_user: pwd.struct_passwd | None) -> None:
    if os_user is not None:
        os.chown(path, os_user.pw_uid, os_user.pw_gid)


def _accessible_to_others(path: Path) -> bool:
    """Whether every folder from / down to ``path`` lets other users through."""
    for folder in [path, *path.parents]:
        try:
            if not folder.stat().st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


class _Stoppable(Protocol):
    def stop(self) -> None: ...


_running: weakref.WeakSet[_Stoppable] = weakref.WeakSet()


def stop_at_exit(thing: _Stoppable) -> None:
    """Have ``thing.stop()`` run at interpreter exit and on SIGTERM."""
    atexit.register(thing.stop)
    _running.add(thing)
    _stop_servers_on_sigterm()


def forget_at_exit(thing: _Stoppable) -> None:
    """Undo ``stop_at_exit(thing)`` (it has stopped)."""
    atexit.unregister(thing.stop)
    _running.discard(thing)


def _stop_all_then_die(signum: int, frame: FrameType | None) -> None:
    """SIGTERM would end Python without running atexit: stop servers first."""
    for server in list(_running):
        server.stop()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _stop_servers_on_sigterm() -> None:
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    ):
        signal.signal(signal.SIGTERM, _stop_all_then_die)


class ThrowawayProcess:
    """What every throwaway server of the tests shares (PostgreSQL, its
    standby, PgBouncer): a folder of its own, a port, a process, ``with``,
    and ``stop()``, which kills it and deletes the folder, and does nothing
    in a forked child (the server is its parent's)."""

    _unavailable: type[PostgresUnavailable] = PostgresUnavailable
    _name = "the server"

    def __init__(self, *, startup_timeout: float) -> None:
        self.startup_timeout = startup_timeout
        self.base_dir: Path | None = None
        self.port: int | None = None
        self.startup_seconds: float | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._as_os_user: pwd.struct_passwd | None = None
        self._owner_pid = os.getpid()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        """Kill the process, delete its folder."""
        if os.getpid() != self._owner_pid:
            return  # a forked child exiting: the process is its parent's
        forget_at_exit(self)
        self._kill()
        self.port = None
        base, self.base_dir = self.base_dir, None
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)

    def _kill(self) -> None:
        """Stop the process at once, keeping its folder (and log)."""
        raise NotImplementedError

    def _base(self) -> Path:
        if self.base_dir is None:
            raise self._unavailable(f"{self._name} has no folder (not started)")
        return self.base_dir


class ThrowawayPostgres(ThrowawayProcess):
    """A PostgreSQL server in a temporary folder, for one test run.

    ``start()`` (or ``with``) initialises and starts it, creates the role
    ``seekers`` (password ``seekers-test``, allowed to create databases) and
    its database ``seekers``, and waits until it accepts connections.
    ``stop()`` kills it and deletes the folder; it also runs at interpreter
    exit and on SIGTERM (unless someone else handles SIGTERM).

    ``settings`` override or extend the server settings (``-c key=value``),
    e.g. ``{"fsync": "on", "synchronous_commit": "on", "full_page_writes":
    "on"}`` for a durable server.
    """

    _DIR_PREFIX = "seekers-pg-"

    def __init__(
        self,
        *,
        settings: Mapping[str, str] | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        super().__init__(startup_timeout=startup_timeout)
        self.settings: dict[str, str] = {**_SERVER_SETTINGS, **(settings or {})}
        self.bin_dir: Path | None = None

    # -- paths -------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self._base() / "data"

    @property
    def socket_dir(self) -> Path:
        return self._base() / "socket"

    @property
    def log_file(self) -> Path:
        return self._base() / "server.log"

    @property
    def url(self) -> str:
        """``postgresql://seekers:seekers-test@127.0.0.1:PORT/seekers``."""
        return self.url_for(DATABASE)

    def url_for(self, database: str) -> str:
        if self.port is None:
            raise PostgresUnavailable("the server is not running")
        return f"postgresql://{ROLE}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> Self:
        if self._process is not None:
            return self
        began = time.monotonic()
        self._owner_pid = os.getpid()
        self.bin_dir = find_bin_dir()
        self._as_os_user = os_user_when_root()
        stop_at_exit(self)
        try:
            self._make_base_dir()
            self._make_data_dir()
            self._launch_on_free_port()
            self._after_launch()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    # -- databases ---------------------------------------------------------

    def admin_connection(self) -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit superuser connection over the unix socket."""
        if self.port is None:
            raise PostgresUnavailable("the server is not running")
        return psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user=SUPERUSER,
            dbname="postgres",
            autocommit=True,
            connect_timeout=5,
        )

    def create_database(self, name: str) -> str:
        """Create an empty database owned by ``seekers``; return its URL."""
        with self.admin_connection() as conn:
            create_database(conn, name, owner=ROLE)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        with self.admin_connection() as conn:
            drop_database(conn, name)

    # -- internals ---------------------------------------------------------

    def _bin(self, name: str) -> str:
        assert self.bin_dir is not None
        return str(self.bin_dir / name)

    def _make_base_dir(self) -> None:
        self.base_dir = make_temp_dir(self._DIR_PREFIX, self._as_os_user)
        self.socket_dir.mkdir(mode=0o700)
        # A unix socket path is limited to 107 bytes.
        if len(str(self.socket_dir / ".s.PGSQL.65535").encode()) > 107:
            raise PostgresUnavailable(
                f"temporary folder path too long for a unix socket: {self.base_dir}"
            )
        chown_to(self.socket_dir, self._as_os_user)

    def _command(self, argv: Sequence[str]) -> list[str]:
        """``argv``, run as the server's OS user when we are root."""
        return command_as(self._as_os_user, argv)

    def _env(self) -> dict[str, str]:
        return server_env()

    def _run(
        self, argv: Sequence[str], *, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self._command(argv),
            cwd=self._base(),
            env=self._env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _make_data_dir(self) -> None:
        """Fill ``data_dir``: a new cluster (a standby copies its primary's)."""
        self._initdb()

    def _after_launch(self) -> None:
        """Once the server runs: set up what the tests use, prove it works."""
        self._create_role_and_database()

    def _initdb(self) -> None:
        done = self._run(
            [
                self._bin("initdb"),
                "-D",
                str(self.data_dir),
                "--username",
                SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
                "--no-instructions",
            ],
            timeout=120,
        )
        if done.returncode != 0:
            raise PostgresUnavailable(
                f"initdb failed (exit {done.returncode}):\n"
                + _tail(done.stdout + done.stderr)
            )
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(_PG_HBA)
        chown_to(hba, self._as_os_user)

    def _launch_on_free_port(self) -> None:
        # Another process may grab the port between our probe and the bind.
        for attempt in range(3):
            self.port = free_port()
            problem = self._launch()
            if problem is None:
                return
            if attempt < 2 and "Address already in use" in self._log_tail(3):
                continue
            raise PostgresUnavailable(
                f"PostgreSQL ({self._bin('postgres')}) {problem}; server log:\n"
                + self._log_tail()
            )

    def _launch(self) -> str | None:
        """Start the server and wait until it accepts connections.

        Returns what went wrong, or None.
        """
        assert self.port is not None
        settings = {
            **self.settings,
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
        }
        argv = [self._bin("postgres"), "-D", str(self.data_dir)]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        with open(self.log_file, "ab") as log:
            self._process = subprocess.Popen(
                self._command(argv),
                cwd=self._base(),
                env=self._env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            status = self._process.poll()
            if status is not None:
                self._process = None
                return f"exited at start (status {status})"
            try:
                with self.admin_connection():
                    return None
            except psycopg.OperationalError:
                time.sleep(0.02)
        self._kill()
        return f"accepted no connections within {self.startup_timeout:g} s"

    def _kill(self) -> None:
        """Stop the server at once (``pg_ctl stop -m immediate``), keeping its
        folder (and log)."""
        process, self._process = self._process, None
        if process is None:
            return
        pid_file = self.data_dir / "postmaster.pid"
        if process.poll() is None and pid_file.exists():
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                self._run(
                    [
                        self._bin("pg_ctl"),
                        *("stop", "-D", str(self.data_dir)),
                        *("-m", "immediate", "-w", "-t", "10"),
                    ],
                    timeout=20,
                )
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # pg_ctl failed. When we are root, `process` is runuser/su, so
            # signal the postmaster itself: SIGQUIT is an immediate shutdown.
            with contextlib.suppress(OSError, ValueError, IndexError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)

    def _create_role_and_database(self) -> None:
        with self.admin_connection() as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN CREATEDB CREATEROLE PASSWORD {}").format(
                    sql.Identifier(ROLE), sql.Literal(PASSWORD)
                )
            )
            create_database(conn, DATABASE, owner=ROLE)
        # Prove the URL works: TCP, password authentication, the role.
        try:
            with psycopg.connect(self.url, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as error:
            raise PostgresUnavailable(
                f"the server started but {self.url} does not work: {error}\n"
                + self._log_tail()
            ) from error

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return _tail(self.log_file.read_text(errors="replace"), lines)
        except OSError:
            return "(no server log)"


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
