"""``seekers audit replay``: every stream run through the current rules."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from tests.helpers import ledger_for, run_cli


def _register(db_url: str, policy: str, email: str) -> str:
    result = run_cli(
        ["--json", "register", "--name", "Aya Mori", "--email", email,
         "--birth-date", "1990-01-01", "--policy", policy, "--at", "2025-01-10"],
        db_url=db_url,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    seeker_id: str = result.json()["id"]
    return seeker_id


def test_replay_of_a_lawful_log_finds_nothing(db_url: str) -> None:
    seeker = _register(db_url, "workport", "aya@example.jp")
    assert run_cli(["pause", seeker, "--at", "2025-01-11"], db_url=db_url).code == 0
    result = run_cli(["--json", "audit", "replay"], db_url=db_url)
    assert result.code == 0
    assert result.json() == {"accounts": 1, "events": 2, "violations": []}


def test_replay_names_the_account_and_version_the_rules_refuse(db_url: str) -> None:
    """A legacy import that paused a HelloWork account (HelloWork offers no
    pausing), written through the event method so no rule ran."""
    seeker = _register(db_url, "hellowork", "legacy@example.jp")
    ledger = ledger_for(db_url)
    try:
        account = ledger.get_seeker(UUID(seeker))
        account._paused(
            occurred_at=datetime(2025, 1, 12, tzinfo=UTC), actor="import", personal=None
        )
        ledger.save(account)
    finally:
        ledger.close()
    result = run_cli(["--json", "audit", "replay"], db_url=db_url)
    assert result.code == 1
    violations = result.json()["violations"]
    assert violations == [
        {
            "id": seeker,
            "version": 2,
            "message": "Paused: policy hellowork does not offer pausing",
        }
    ]
