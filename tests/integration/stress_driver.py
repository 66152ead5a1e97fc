"""One operator of the "many operators at once" stress test, as a real process.

Run by ``tests/integration/test_concurrency.py``::

    python -m tests.integration.stress_driver CONFIG.json

``CONFIG.json`` holds ``db_url``, ``accounts`` (ids), ``hot`` and
``hot_share`` (the first ``hot`` accounts draw that share of the commands, so
that operators really do collide on accounts), ``seconds``, ``seed``,
``worker`` and ``log`` (a path).

For ``seconds`` the driver issues random commands on random accounts through
the real CLI entry point in-process (``cli.main.main`` with an argv, as
``tests.helpers.run_cli`` does it: exit code from ``SystemExit``, ``--json``
output from stdout) and appends one JSON line per command to ``log``: the
argv, the exit code, on success the account's version and the event names
the CLI reported, on failure the first line of stderr.

Retries are made observable without touching product code: the driver wraps
``SeekerLedger.save`` to count, per command, how many saves the store refused
with an ``IntegrityError`` (the optimistic-concurrency check). One refused
save followed by an exit 0 is a retried conflict; two refused saves must end
in exit 5.
"""

from __future__ import annotations

import json
import random
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.persistence import IntegrityError

from services.ledger import SeekerLedger
from tests.helpers import CliResult, run_cli

COMMANDS = (
    "apply",
    "contact",
    "pause",
    "resume",
    "mark-unreachable",
    "restore-contact",
    "request-withdrawal",
    "cancel-withdrawal",
    "withdraw",
    "reinstate",
    "close-application",
    "change-advisor",
)
ADVISORS = ("Kato", "Mori", "Abe", "Ishikawa")
WITHDRAWAL_CHANNELS = ("phone", "email", "form", "app")
WITHDRAWAL_REASONS = ("job_found", "other_agency", "search_ended", "other")
CLOSE_OUTCOMES = ("hired", "rejected", "withdrawn")

refused_saves = 0
"""IntegrityErrors raised by ``SeekerLedger.save`` during the current command."""


def _count_refused_saves() -> None:
    original: Callable[..., Any] = SeekerLedger.save

    def save(self: SeekerLedger, *objects: Any, **kwargs: Any) -> Any:
        global refused_saves
        try:
            return original(self, *objects, **kwargs)
        except IntegrityError:
            refused_saves += 1
            raise

    SeekerLedger.save = save  # type: ignore[method-assign,assignment]


def _application_to_close(db_url: str, account: str, rng: random.Random) -> str | None:
    """An application of the account as it is now (read with ``show``).

    Applications are never removed, so the one chosen exists when the close
    runs; another operator may have closed it meanwhile (then: refused, 4).
    The test gives every account an application before the operators start,
    so ``None`` (and the ``apply`` drawn instead) only follows a failed read.
    """
    shown = run_cli(["--json", "show", account], db_url=db_url, actor="stress:reader")
    if shown.code != 0:
        return None
    applications = shown.json()["applications"]
    if not applications:
        return None
    open_ones = [
        a["id"]
        for a in applications
        if a["status"] in ("applied", "interview_scheduled")
    ]
    chosen: str = rng.choice(open_ones or [a["id"] for a in applications])
    return chosen


def command_args(
    command: str, account: str, rng: random.Random, db_url: str
) -> list[str]:
    if command == "close-application":
        application = _application_to_close(db_url, account, rng)
        if application is None:
            command = "apply"
        else:
            outcome = rng.choice(CLOSE_OUTCOMES)
            return [command, account, application, "--outcome", outcome]
    if command == "apply":
        job = f"Job {rng.randrange(1000)}"
        return [
            "apply",
            account,
            "--job",
            job,
            "--route",
            rng.choice(("self", "agency")),
        ]
    if command == "contact":
        return [
            "contact",
            account,
            "--channel",
            rng.choice(("phone", "email")),
            "--outcome",
            rng.choice(("reached", "no_answer")),
        ]
    if command == "request-withdrawal":
        return [
            "request-withdrawal",
            account,
            "--channel",
            rng.choice(WITHDRAWAL_CHANNELS),
            "--reason",
            rng.choice(WITHDRAWAL_REASONS),
        ]
    if command == "reinstate":
        return ["reinstate", account, "--assisted"]
    if command == "change-advisor":
        return ["change-advisor", account, "--advisor", rng.choice(ADVISORS)]
    return [command, account]


def projected_version(reader: psycopg.Connection[Any], account: str) -> int | None:
    """The account's version in the ``accounts`` projection, read directly."""
    row = reader.execute(
        "SELECT version FROM accounts WHERE id = %s", (account,)
    ).fetchone()
    return None if row is None else int(row[0])


def pick_account(
    accounts: list[str], hot: int, hot_share: float, rng: random.Random
) -> str:
    if hot and rng.random() < hot_share:
        return rng.choice(accounts[:hot])
    return rng.choice(accounts)


def main(config_path: str) -> int:
    global refused_saves
    config = json.loads(Path(config_path).read_text())
    db_url: str = config["db_url"]
    accounts: list[str] = config["accounts"]
    hot: int = config["hot"]
    hot_share: float = config["hot_share"]
    worker: int = config["worker"]
    rng = random.Random(config["seed"])
    actor = f"operator:{worker}"
    _count_refused_saves()
    deadline = time.monotonic() + float(config["seconds"])
    sequence = 0
    with (
        psycopg.connect(db_url, autocommit=True) as reader,
        open(config["log"], "w", encoding="utf-8") as log,
    ):
        while time.monotonic() < deadline:
            account = pick_account(accounts, hot, hot_share, rng)
            args = command_args(rng.choice(COMMANDS), account, rng, db_url)
            refused_saves = 0
            started = time.time()
            try:
                result = run_cli(["--json", *args], db_url=db_url, actor=actor)
            except Exception:
                # What the console script would do: a traceback, exit 1.
                result = CliResult(code=1, stdout="", stderr=traceback.format_exc())
            entry: dict[str, Any] = {
                "worker": worker,
                "sequence": sequence,
                "args": args,
                "command": args[0],
                "account": account,
                "code": result.code,
                "refused_saves": refused_saves,
                "started": started,
                "ended": time.time(),
                "version": None,
                "events": None,
                "stderr": result.stderr.strip(),
            }
            if result.code == 0:
                document = result.json()
                entry["version"] = document["version"]
                entry["events"] = document["events"]
                # Read-your-writes: the command returned, so the projections
                # must hold it already, whatever the other operators do.
                entry["projected_version"] = projected_version(reader, account)
            log.write(json.dumps(entry) + "\n")
            log.flush()
            sequence += 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
