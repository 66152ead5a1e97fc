"""Every exit code of SPEC §5, reached the way an operator reaches it.

0 for each command family; 2, 3, 4 and 6 through ``seekers`` itself, where
every failure must be exactly one line on stderr (text, or the ``--json``
error document), nothing on stdout, no traceback, and no event written; 5
(conflict) at the service level, where a competing save can be timed.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cli.errors import exit_code_for, report_domain_error
from domain.errors import Conflict, Refused
from domain.policy import PRESETS
from services.ledger import SeekerLedger
from tests.cli.steps import (
    Account,
    closed_port,
    fail,
    register_args,
    succeed,
)
from tests.helpers import event_count, ledger_for, run_cli
from tests.support.postgres_server import with_database

# ---------------------------------------------------------------------------
# 0: each command family
# ---------------------------------------------------------------------------


def _human(db_url: str, args: list[str]) -> str:
    """Run a command in the default (human-readable) mode; exit 0 and text."""
    result = succeed(args, db_url)
    assert result.stdout.strip(), f"{args} printed nothing"
    return result.stdout


def test_lifecycle_commands_exit_0(db_url: str) -> None:
    account = Account(db_url, "workport", "--advisor", "Sato")
    steps: list[tuple[str, ...]] = [
        ("pause", "--reason", "family matters"),
        ("resume",),
        ("contact", "--channel", "phone", "--outcome", "no_answer"),
        ("mark-unreachable",),
        ("restore-contact",),
        ("change-advisor", "--advisor", "Suzuki"),
        ("lapse",),
        ("reactivate",),
    ]
    for command, *rest in steps:
        assert account.id in _human(db_url, account.args(command, *rest))
    assert account.show()["status"] == "active"
    assert event_count(db_url) == 1 + len(steps)


def test_application_commands_exit_0(db_url: str) -> None:
    account = Account(db_url, "hellowork")
    _human(db_url, account.args("apply", "--job", "Line cook", "--route", "self"))
    _human(db_url, account.args("schedule-interview", "A1", "--on", "2025-06-02T10:00"))
    _human(db_url, account.args("decline-interview", "A1", "--channel", "phone"))
    _human(db_url, account.args("apply", "--job", "Baker"))
    _human(db_url, account.args("close-application", "A2", "--outcome", "rejected"))
    applications = account.show()["applications"]
    assert [a["status"] for a in applications] == ["declined", "closed"]


def test_withdrawal_commands_exit_0(db_url: str) -> None:
    account = Account(db_url, "workport")
    request = ("request-withdrawal", "--channel", "phone", "--reason", "job_found")
    _human(db_url, account.args(*request))
    _human(db_url, account.args("cancel-withdrawal"))
    _human(db_url, account.args(*request))
    _human(db_url, account.args("withdraw"))
    _human(db_url, account.args("reinstate", "--assisted"))
    _human(db_url, account.args(*request))
    _human(db_url, account.args("withdraw"))
    _human(db_url, account.args("purge", "--reason", "deletion_request"))
    assert account.show()["status"] == "purged"


def test_reading_commands_exit_0(db_url: str) -> None:
    account = Account(db_url, "pasona")
    account.do("apply", "--job", "Analyst")
    _human(db_url, ["show", account.id])
    _human(db_url, ["show", account.id, "--as-of", "2025-01-15T12:00"])
    _human(db_url, ["history", account.id])
    _human(db_url, ["history", account.id, "--known-at", datetime.now(UTC).isoformat()])
    assert "hellowork" in _human(db_url, ["policies"])


def test_operations_commands_exit_0(db_url: str) -> None:
    account = Account(db_url, "hellowork")  # last activity 2025-01-15
    stored = event_count(db_url)
    due = "2025-04-01T00:00:00+09:00"  # the registration lapses then

    _human(db_url, ["sweep", "--dry-run", "--at", due])
    assert event_count(db_url) == stored
    _human(db_url, ["sweep", "--at", due])
    assert account.show()["status"] == "lapsed"
    _human(db_url, ["list"])
    _human(db_url, ["report", "status"])
    _human(db_url, ["projections", "status"])


def test_self_service_reinstatement_on_day_30_exits_0(db_url: str) -> None:
    account = Account(db_url, "hellowork")
    account.do("request-withdrawal", "--channel", "web")
    account.do("withdraw", at="2025-01-17T23:30:00+09:00")
    # 2025-02-16T14:30Z is 23:30 on 2025-02-16 in Tokyo: day 30.
    document = account.do("reinstate", at="2025-02-16T14:30:00Z")
    assert document["events"] == ["Reinstated"]
    assert document["status"] == "active"


# ---------------------------------------------------------------------------
# 2, 3, 4, 6: one scenario per failure, each run in text and in --json mode
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """A command that must fail, and how."""

    args: list[str]
    code: int
    says: str
    """A fragment the one-line message must contain."""
    state: str | None = None
    """For refusals: the account state the refusal names."""
    allowed: list[str] | None = None
    """For refusals: the commands the refusal lists as allowed."""
    names_state: str | None = None
    """For refusals: the state the text names, when not the account's."""
    run_on: str | None = None
    """Run against this ``--db`` instead (storage failures)."""
    secret: str | None = None
    """A password that must never be shown (it appears as ``***``)."""
    absent: Path | None = None
    """A path the failed command must not create."""
    max_seconds: float | None = None


Scenario = Callable[[str, Path], Failure]
SCENARIOS: dict[str, Scenario] = {}


def scenario(function: Scenario) -> Scenario:
    SCENARIOS[function.__name__] = function
    return function


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- 2: usage ---------------------------------------------------------------


@scenario
def bad_option_value(db_url: str, _: Path) -> Failure:
    account = Account(db_url)
    return Failure(
        account.args("apply", "--job", "Cook", "--route", "sideways"), 2, "--route"
    )


@scenario
def missing_required_option(db_url: str, _: Path) -> Failure:
    account = Account(db_url)
    return Failure(account.args("apply"), 2, "--job")


@scenario
def bad_date_in_at(db_url: str, _: Path) -> Failure:
    account = Account(db_url)
    return Failure(account.args("lapse", at="2025-02-30"), 2, "2025-02-30")


@scenario
def at_more_than_5_minutes_in_the_future(db_url: str, _: Path) -> Failure:
    account = Account(db_url)
    ahead = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    return Failure(account.args("lapse", at=ahead), 2, "future")


@scenario
def at_before_the_accounts_latest_event(db_url: str, _: Path) -> Failure:
    account = Account(db_url)
    account.do("pause", at="2025-02-01")
    return Failure(account.args("resume", at="2025-01-31"), 2, "latest event")


@scenario
def bad_date_in_as_of(db_url: str, _: Path) -> Failure:
    account = Account(db_url)
    return Failure(["show", account.id, "--as-of", "last tuesday"], 2, "last tuesday")


@scenario
def unknown_policy_name(db_url: str, _: Path) -> Failure:
    Account(db_url)
    return Failure(register_args("recruit", at="2025-01-15"), 2, "recruit")


@scenario
def malformed_policy_toml_file(db_url: str, tmp_path: Path) -> Failure:
    Account(db_url)
    path = _write(tmp_path / "broken.toml", 'name = "broken"\nretention_years = [\n')
    return Failure(register_args(path, at="2025-01-15"), 2, "TOML")


@scenario
def policy_file_with_unknown_key(db_url: str, tmp_path: Path) -> Failure:
    Account(db_url)
    path = _write(
        tmp_path / "agency.toml",
        'based_on = "workport"\nname = "agency"\nfavourite_colour = "blue"\n',
    )
    return Failure(register_args(path, at="2025-01-15"), 2, "favourite_colour")


@scenario
def bad_birth_date(db_url: str, _: Path) -> Failure:
    Account(db_url)
    args = register_args("workport", at="2025-01-15")
    args[args.index("--birth-date") + 1] = "1990-13-01"
    return Failure(args, 2, "1990-13-01")


@scenario
def unknown_withdrawal_reason(db_url: str, _: Path) -> Failure:
    account = Account(db_url)
    args = account.args("request-withdrawal", "--channel", "phone", "--reason", "bored")
    return Failure(args, 2, "bored")


@scenario
def unknown_command(db_url: str, _: Path) -> Failure:
    account = Account(db_url)
    return Failure(["hibernate", account.id], 2, "hibernate")


# -- 3: not found -----------------------------------------------------------


@scenario
def unknown_seeker_id(db_url: str, _: Path) -> Failure:
    Account(db_url)
    stranger = str(uuid.uuid4())
    return Failure(["lapse", stranger, "--at", "2025-02-01"], 3, stranger)


@scenario
def history_of_unknown_seeker(db_url: str, _: Path) -> Failure:
    Account(db_url)
    stranger = str(uuid.uuid4())
    return Failure(["history", stranger], 3, stranger)


@scenario
def malformed_seeker_id(db_url: str, _: Path) -> Failure:
    Account(db_url)
    return Failure(["show", "seeker-42"], 3, "seeker-42")


@scenario
def unknown_application(db_url: str, _: Path) -> Failure:
    account = Account(db_url)
    account.do("apply", "--job", "Cook")
    return Failure(
        account.args("close-application", "A9", "--outcome", "hired"), 3, "A9"
    )


# -- 4: refused by the rules --------------------------------------------------


def _refusal(account: Account, args: list[str], says: str) -> Failure:
    shown = account.show()
    return Failure(args, 4, says, state=shown["status"], allowed=shown["allowed"])


@scenario
def withdraw_from_paused(db_url: str, _: Path) -> Failure:
    account = Account(db_url, "workport")
    account.do("pause")
    allowed = account.show()["allowed"]
    return _refusal(
        account,
        account.args("withdraw"),
        f"cannot withdraw from state 'paused' (allowed: {', '.join(allowed)})",
    )


@scenario
def contact_while_paused(db_url: str, _: Path) -> Failure:
    account = Account(db_url, "workport")
    account.do("pause")
    return _refusal(
        account,
        account.args("contact", "--channel", "phone", "--outcome", "reached"),
        "cannot contact from state 'paused'",
    )


@scenario
def decline_an_interview_never_scheduled(db_url: str, _: Path) -> Failure:
    """The application's own machine refuses, naming the application's state
    and the commands that state allows, in text and JSON alike."""
    account = Account(db_url, "workport")
    account.do("apply", "--job", "Cook")
    return Failure(
        account.args("decline-interview", "A1", "--channel", "email"),
        4,
        "application A1: cannot decline-interview (application state 'applied'",
        state="applied",
        allowed=["schedule-interview", "close-application"],
    )


@scenario
def pause_under_hellowork(db_url: str, _: Path) -> Failure:
    account = Account(db_url, "hellowork")
    return _refusal(
        account, account.args("pause"), "policy hellowork does not offer pausing"
    )


@scenario
def hellowork_open_self_application_blocks_withdrawal(db_url: str, _: Path) -> Failure:
    account = Account(db_url, "hellowork")
    account.do("apply", "--job", "Clerk", "--route", "self")
    return _refusal(
        account,
        account.args("request-withdrawal", "--channel", "web"),
        "open self-application A1 blocks withdrawal (policy hellowork)",
    )


@scenario
def workport_withdrawal_without_reason(db_url: str, _: Path) -> Failure:
    account = Account(db_url, "workport")
    return _refusal(
        account,
        account.args("request-withdrawal", "--channel", "phone"),
        "reason is required",
    )


@scenario
def pasona_identity_check_missing(db_url: str, _: Path) -> Failure:
    account = Account(db_url, "pasona", "--advisor", "Sato")
    return _refusal(
        account,
        account.args(
            "request-withdrawal", "--channel", "email", "--reason", "job_found"
        ),
        "identity check required",
    )


@scenario
def pasona_identity_check_failed(db_url: str, _: Path) -> Failure:
    account = Account(db_url, "pasona", "--advisor", "Sato")
    return _refusal(
        account,
        account.args(
            "request-withdrawal",
            "--channel",
            "phone",
            "--reason",
            "job_found",
            "--verify-name",
            "Yamada Taro",
            "--verify-birth-date",
            "1991-04-01",
        ),
        "identity check failed",
    )


@scenario
def withdrawal_channel_not_offered(db_url: str, _: Path) -> Failure:
    account = Account(db_url, "hellowork")
    return _refusal(
        account,
        account.args("request-withdrawal", "--channel", "phone"),
        "withdrawal by phone is not offered",
    )


@scenario
def pasona_web_withdrawal_once_an_advisor_is_assigned(db_url: str, _: Path) -> Failure:
    account = Account(db_url, "pasona", "--advisor", "Sato")
    return _refusal(
        account,
        account.args("request-withdrawal", "--channel", "web", "--reason", "other"),
        "withdrawal by web is not offered",
    )


@scenario
def self_service_reinstatement_on_day_31(db_url: str, _: Path) -> Failure:
    account = Account(db_url, "hellowork")
    account.do("request-withdrawal", "--channel", "web")
    account.do("withdraw", at="2025-01-17T23:30:00+09:00")
    # 2025-02-16T15:30Z is 00:30 on 2025-02-17 in Tokyo: day 31 there,
    # though only day 30 on the UTC calendar.
    return _refusal(
        account, account.args("reinstate", at="2025-02-16T15:30:00Z"), "day 31"
    )


@scenario
def purge_before_retention_expired(db_url: str, _: Path) -> Failure:
    account = Account(db_url, "workport")
    account.do("request-withdrawal", "--channel", "phone", "--reason", "other")
    account.do("withdraw")
    return _refusal(
        account,
        account.args("purge", "--reason", "retention_expired"),
        "retention has not expired",
    )


@scenario
def self_service_reinstatement_under_workport(db_url: str, _: Path) -> Failure:
    account = Account(db_url, "workport")
    account.do("request-withdrawal", "--channel", "app", "--reason", "other")
    account.do("withdraw")
    return _refusal(account, account.args("reinstate"), "no self-service reinstatement")


# -- 6: storage unavailable or misconfigured --------------------------------


def _is_postgres(db_url: str) -> bool:
    return db_url.startswith("postgresql://")


def _password(db_url: str) -> str:
    password = urlsplit(db_url).password
    assert password, f"the test server's URL has no password: {db_url}"
    return password


@scenario
def sqlite_folder_does_not_exist(db_url: str, tmp_path: Path) -> Failure:
    Account(db_url)
    folder = tmp_path / "no-such-folder"
    return Failure(
        register_args("workport", at="2025-01-15"),
        6,
        "no-such-folder",
        run_on=f"sqlite:///{folder / 'seekers.db'}",
        absent=folder,
    )


@scenario
def non_register_command_on_missing_sqlite_file(db_url: str, tmp_path: Path) -> Failure:
    account = Account(db_url)
    missing = tmp_path / "typo.db"
    return Failure(
        ["show", account.id],
        6,
        "typo.db",
        run_on=f"sqlite:///{missing}",
        absent=missing,
    )


@scenario
def unsupported_url_scheme(db_url: str, _: Path) -> Failure:
    account = Account(db_url)
    return Failure(
        ["show", account.id],
        6,
        "mysql://clerk:***@",
        run_on="mysql://clerk:hunter2@127.0.0.1:3306/seekers",
        secret="hunter2",
    )


@scenario
def database_does_not_exist(db_url: str, tmp_path: Path) -> Failure:
    """SQLite: a missing file for ``apply``; PostgreSQL: a missing database."""
    account = Account(db_url)
    args = account.args("apply", "--job", "Cook")
    if _is_postgres(db_url):
        missing_url = with_database(db_url, f"t_absent_{uuid.uuid4().hex[:8]}")
        return Failure(
            args,
            6,
            ":***@",
            run_on=missing_url,
            secret=_password(db_url),
            max_seconds=8,
        )
    missing = tmp_path / "elsewhere.db"
    return Failure(
        args, 6, "elsewhere.db", run_on=f"sqlite:///{missing}", absent=missing
    )


@scenario
def store_cannot_be_reached(db_url: str, tmp_path: Path) -> Failure:
    """PostgreSQL: a closed port on 127.0.0.1, promptly; SQLite: a folder
    where the database file should be."""
    account = Account(db_url)
    args = ["show", account.id]
    if _is_postgres(db_url):
        parts = urlsplit(db_url)
        netloc = f"{parts.username}:{parts.password}@127.0.0.1:{closed_port()}"
        return Failure(
            args,
            6,
            ":***@127.0.0.1:",
            run_on=parts._replace(netloc=netloc).geturl(),
            secret=_password(db_url),
            max_seconds=8,
        )
    folder = tmp_path / "a-folder.db"
    folder.mkdir()
    return Failure(args, 6, "a-folder.db", run_on=f"sqlite:///{folder}")


@pytest.mark.parametrize("output", ["text", "json"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_failure_exits_with_its_code_in_one_line_and_writes_nothing(
    db_url: str, tmp_path: Path, name: str, output: str
) -> None:
    case = SCENARIOS[name](db_url, tmp_path)
    as_json = output == "json"
    started = time.monotonic()
    result = fail(case.args, db_url, case.code, as_json=as_json, run_on=case.run_on)
    elapsed = time.monotonic() - started
    line = result.stderr.strip()

    if case.max_seconds is not None:
        assert elapsed < case.max_seconds, f"took {elapsed:.1f} s"
    if case.absent is not None:
        assert not case.absent.exists(), f"{case.absent} was created"
    if case.secret is not None:
        assert case.secret not in line
        assert "***" in line

    if not as_json:
        assert case.says in line
        if case.code == 4:
            assert line.startswith("refused: ")
            assert f"'{case.names_state or case.state}'" in line
        return

    document = result.error()
    assert list(document) == ["error"]
    error = document["error"]
    assert error["code"] == case.code
    assert case.says in error["message"]
    assert "\n" not in error["message"]
    if case.code == 4:
        assert error["state"] == case.state
        assert error["allowed"] == case.allowed
    else:
        assert set(error) == {"code", "message"}


def test_at_on_the_first_day_of_year_1_is_a_bad_value(db_url: str) -> None:
    """It is before the account's latest event: a bad value, exit 2 (SPEC §4)."""
    account = Account(db_url)
    result = fail(account.args("lapse", at="0001-01-01"), db_url, 2)
    assert "0001" in result.stderr


@pytest.mark.parametrize("axis", ["--as-of", "--known-at"])
def test_show_on_the_first_day_of_year_1_fails_in_one_line(
    db_url: str, axis: str
) -> None:
    """Nothing had happened by then (exit 3), or the value is refused (exit 2):
    either way one line, never a traceback (SPEC §5)."""
    account = Account(db_url)
    result = run_cli(["show", account.id, axis, "0001-01-01"], db_url=db_url)
    assert result.code in (2, 3)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_at_up_to_5_minutes_ahead_of_the_clock_is_accepted(db_url: str) -> None:
    account = Account(db_url)
    soon = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    document = account.do("lapse", at=soon)
    assert document["status"] == "lapsed"


def test_refusal_message_names_the_rule_state_and_allowed_commands(
    db_url: str,
) -> None:
    """SPEC §5's own example, word for word up to the allowed list."""
    account = Account(db_url, "workport")
    account.do("pause")
    result = fail(account.args("withdraw"), db_url, 4)
    allowed = account.show()["allowed"]
    assert {"resume", "request-withdrawal"} <= set(allowed)
    assert "withdraw" not in allowed
    listed = ", ".join(allowed)
    assert result.stderr == (
        f"refused: cannot withdraw from state 'paused' (allowed: {listed})\n"
    )


def test_register_with_advisor_under_a_policy_without_advisors_is_refused(
    db_url: str,
) -> None:
    Account(db_url)
    args = register_args("hellowork", at="2025-01-15", extra=("--advisor", "Sato"))
    result = fail(args, db_url, 4, as_json=True)
    assert "has no advisors" in result.error()["error"]["message"]


def test_json_flag_after_global_options_still_reports_json(db_url: str) -> None:
    account = Account(db_url)
    result = run_cli(["--json", "show", account.id, "--as-of", "soon"], db_url=db_url)
    assert result.code == 2
    assert json.loads(result.stderr)["error"]["code"] == 2


# ---------------------------------------------------------------------------
# 5: conflict, at the service level
# ---------------------------------------------------------------------------


@pytest.fixture
def rival_ledgers(db_url: str) -> Iterator[tuple[SeekerLedger, SeekerLedger]]:
    """Two application instances on one store, as two operators' processes."""
    ours, theirs = ledger_for(db_url), ledger_for(db_url)
    yield ours, theirs
    ours.close()
    theirs.close()


def _stored_events(ledger: SeekerLedger) -> int:
    """Events actually stored. (``event_count`` reads the highest notification
    id, which on PostgreSQL also counts ids burnt by a rolled-back insert.)"""
    return len(ledger.recorder.select_notifications(start=None, limit=10_000))


def _register(ledger: SeekerLedger) -> uuid.UUID:
    outcome = ledger.register(
        policy=PRESETS["workport"],
        name="Yamada Taro",
        email="taro.yamada@example.com",
        birth_date=date(1990, 4, 1),
        phone=None,
        channel=None,
        advisor=None,
        actor="clerk",
        at="2025-01-15",
    )
    seeker_id: uuid.UUID = outcome.seeker.id
    return seeker_id


def test_a_save_that_loses_one_race_is_retried_and_succeeds(
    rival_ledgers: tuple[SeekerLedger, SeekerLedger],
) -> None:
    ours, theirs = rival_ledgers
    seeker_id = _register(ours)
    calls = 0

    def apply_for_a_job(seeker: object, when: datetime) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            theirs.execute(
                seeker_id,
                lambda rival, at: rival.apply(
                    at=at, actor="rival", job="Rival job", route="agency"
                ),
                at="2025-01-16",
            )
        result: str = seeker.apply(  # type: ignore[attr-defined]
            at=when, actor="tester", job="Our job", route="agency"
        )
        return result

    outcome = ours.execute(seeker_id, apply_for_a_job, at="2025-01-17")

    assert calls == 2
    assert outcome.events == ["Applied"]
    assert outcome.result == "A2"
    stored = ours.get_seeker(seeker_id)
    assert [(a.id, a.job) for a in stored.applications] == [
        ("A1", "Rival job"),
        ("A2", "Our job"),
    ]
    assert stored.version == 3
    assert _stored_events(ours) == 3


def test_the_retry_rechecks_the_rules_and_refuses_what_is_no_longer_allowed(
    rival_ledgers: tuple[SeekerLedger, SeekerLedger],
) -> None:
    ours, theirs = rival_ledgers
    seeker_id = _register(ours)
    calls = 0

    def mark_unreachable(seeker: object, when: datetime) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            theirs.execute(
                seeker_id,
                lambda rival, at: rival.pause(at=at, actor="rival", reason=None),
                at="2025-01-16",
            )
        seeker.mark_unreachable(at=when, actor="tester")  # type: ignore[attr-defined]

    with pytest.raises(Refused) as refused:
        ours.execute(seeker_id, mark_unreachable, at="2025-01-17")

    assert calls == 2
    assert refused.value.state == "paused"
    assert "mark-unreachable" not in refused.value.allowed
    assert exit_code_for(refused.value)[0] == 4
    assert ours.get_seeker(seeker_id).status == "paused"
    assert _stored_events(ours) == 2


def test_losing_the_race_twice_is_a_conflict_with_exit_code_5(
    rival_ledgers: tuple[SeekerLedger, SeekerLedger],
    capsys: pytest.CaptureFixture[str],
) -> None:
    ours, theirs = rival_ledgers
    seeker_id = _register(ours)
    calls = 0

    def record_a_call(seeker: object, when: datetime) -> None:
        nonlocal calls
        calls += 1
        if calls <= 2:
            theirs.execute(
                seeker_id,
                lambda rival, at: rival.contact(
                    at=at, actor="rival", channel="email", outcome="no_answer"
                ),
                at=f"2025-01-1{5 + calls}",
            )
        seeker.contact(  # type: ignore[attr-defined]
            at=when, actor="tester", channel="phone", outcome="no_answer"
        )

    with pytest.raises(Conflict) as conflict:
        ours.execute(seeker_id, record_a_call, at="2025-01-18")

    assert calls == 2
    stored = ours.get_seeker(seeker_id)
    assert stored.contact_attempts == 2  # the rival's two, none of ours
    assert stored.version == 3
    assert _stored_events(ours) == 3

    assert exit_code_for(conflict.value) == (5, "conflict")
    capsys.readouterr()
    assert report_domain_error(conflict.value, as_json=True) == 5
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    error = json.loads(lines[0])["error"]
    assert error["code"] == 5
    assert str(seeker_id) in error["message"]
    assert report_domain_error(conflict.value, as_json=False) == 5
    assert capsys.readouterr().err.startswith("conflict: ")
