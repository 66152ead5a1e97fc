"""Steps shared by the CLI tests: accounts driven through ``seekers`` itself.

Every recording step passes an explicit, increasing ``--at`` (one day apart,
from 2025-01-15 in the policy's time zone), so the tests never depend on the
clock and never trip the rule that ``--at`` may not go back before the
account's latest event.
"""

from __future__ import annotations

import socket
from datetime import date, timedelta
from typing import Any

from tests.helpers import CliResult, event_count, run_cli

NAME = "Yamada Taro"
EMAIL = "taro.yamada@example.com"
BIRTH_DATE = "1990-04-01"
PHONE = "090-1234-5678"
FIRST_DAY = date(2025, 1, 15)

PERSONAL_FIELDS = ("name", "email", "birth_date", "phone")


def succeed(args: list[str], db_url: str, *, actor: str = "tester") -> CliResult:
    """Run ``seekers``; it must exit 0 without a word on stderr."""
    result = run_cli(args, db_url=db_url, actor=actor)
    assert result.code == 0, f"{args}: exit {result.code}: {result.stderr}"
    assert result.stderr == "", result.stderr
    return result


def succeed_json(args: list[str], db_url: str, *, actor: str = "tester") -> Any:
    """Run ``seekers --json``; it must exit 0 and print one JSON document."""
    return succeed(["--json", *args], db_url, actor=actor).json()


def one_line_failure(result: CliResult, code: int) -> str:
    """What every expected failure looks like: one stderr line, nothing else."""
    assert result.code == code, (
        f"expected exit {code}, got {result.code}: {result.stderr!r}"
    )
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def fail(
    args: list[str],
    db_url: str,
    code: int,
    *,
    as_json: bool = False,
    run_on: str | None = None,
) -> CliResult:
    """Run a command that must fail with ``code`` and leave the store unchanged.

    ``run_on`` runs it against another ``--db`` (a broken one) while the
    store at ``db_url`` is the one proven untouched.
    """
    before = event_count(db_url)
    result = run_cli(["--json", *args] if as_json else args, db_url=run_on or db_url)
    one_line_failure(result, code)
    assert event_count(db_url) == before, "a failed command changed the store"
    return result


def register_args(policy: str, *, at: str, extra: tuple[str, ...] = ()) -> list[str]:
    return [
        "register",
        "--name",
        NAME,
        "--email",
        EMAIL,
        "--birth-date",
        BIRTH_DATE,
        "--policy",
        policy,
        "--at",
        at,
        *extra,
    ]


class Account:
    """One seeker's account, registered on ``FIRST_DAY`` and driven day by day."""

    def __init__(
        self,
        db_url: str,
        policy: str = "workport",
        *extra: str,
        actor: str = "tester",
    ) -> None:
        self.db_url = db_url
        self.policy = policy
        self.day = FIRST_DAY
        self.registered = succeed_json(
            register_args(policy, at=self.day.isoformat(), extra=extra),
            db_url,
            actor=actor,
        )
        self.id: str = self.registered["id"]

    def next_at(self) -> str:
        """The next day: a business time after every event so far."""
        self.day += timedelta(days=1)
        return self.day.isoformat()

    def args(self, command: str, *rest: str, at: str | None = None) -> list[str]:
        return [command, self.id, *rest, "--at", at or self.next_at()]

    def do(
        self, command: str, *rest: str, at: str | None = None, actor: str = "tester"
    ) -> Any:
        """Record a command (``--json``) and return its JSON document."""
        return succeed_json(self.args(command, *rest, at=at), self.db_url, actor=actor)

    def show(self, *options: str) -> Any:
        return succeed_json(["show", self.id, *options], self.db_url)

    def history(self, *options: str) -> Any:
        return succeed_json(["history", self.id, *options], self.db_url)


def closed_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
