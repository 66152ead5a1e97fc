"""Commands that register an account and move it between its states."""

from __future__ import annotations

import click

from cli.commands.common import (
    at_option,
    choice,
    seeker_argument,
    session,
    simple_command,
)
from cli.output import emit_outcome
from cli.params import VERBATIM
from cli.session import parse_seeker_id
from domain.policy import CHANNELS, load_policy
from domain.timerules import parse_date


@click.command()
@click.option("--name", required=True, help="Full name.")
@click.option(
    "--name-kana",
    help="The name's reading, in katakana or hiragana (kept in katakana).",
)
@click.option("--email", required=True)
@click.option("--birth-date", required=True, metavar="YYYY-MM-DD")
@click.option(
    "--policy",
    "policy_name",
    type=VERBATIM,  # a preset's name is matched as typed by load_policy
    required=True,
    metavar="hellowork|pasona|workport|PATH.toml",
)
@click.option("--phone")
@click.option("--channel", type=choice(*CHANNELS), help="How the seeker registered.")
@click.option("--advisor", help="Advisor assigned (policies with advisors only).")
@at_option
def register(
    name: str,
    name_kana: str | None,
    email: str,
    birth_date: str,
    policy_name: str,
    phone: str | None,
    channel: str | None,
    advisor: str | None,
    at: str | None,
) -> None:
    """Open a new account; prints its id."""
    from services.ledger import new_seeker

    run = session()
    # Every check that needs no store comes first: a registration refused
    # on a path with no store yet creates nothing there.
    seeker = new_seeker(
        policy=load_policy(policy_name),
        name=name,
        name_kana=name_kana,
        email=email,
        birth_date=parse_date(birth_date),
        phone=phone,
        channel=channel,
        advisor=advisor,
        actor=run.actor,
        at=at,
    )
    ledger = run.ledger(create=True)
    outcome = run.record(ledger.open_account, seeker=seeker)
    emit_outcome(outcome, as_json=run.json)


@click.command()
@seeker_argument
@click.option("--reason", help="Free text, kept as personal data.")
@at_option
def pause(seeker: str, reason: str | None, at: str | None) -> None:
    """Stop the service at the seeker's request (no contact while paused)."""
    run = session()
    outcome = run.record(
        run.ledger().pause,
        parse_seeker_id(seeker),
        actor=run.actor,
        reason=reason,
        at=at,
    )
    emit_outcome(outcome, as_json=run.json)


resume = simple_command("resume", "resume", "Resume a paused service.")
mark_unreachable = simple_command(
    "mark-unreachable", "mark_unreachable", "The advisor has lost contact."
)
restore_contact = simple_command(
    "restore-contact", "restore_contact", "Contact with an unreachable seeker is back."
)
lapse = simple_command(
    "lapse", "lapse", "End the registration's validity (normally by sweep)."
)
reactivate = simple_command(
    "reactivate", "reactivate", "Make a lapsed registration valid again."
)


@click.command()
@seeker_argument
@click.option("--channel", required=True, type=choice("phone", "email"))
@click.option("--outcome", required=True, type=choice("reached", "no_answer"))
@at_option
def contact(seeker: str, channel: str, outcome: str, at: str | None) -> None:
    """Record an advisor's attempt to reach the seeker."""
    run = session()
    result = run.record(
        run.ledger().contact,
        parse_seeker_id(seeker),
        actor=run.actor,
        channel=channel,
        outcome=outcome,
        at=at,
    )
    emit_outcome(result, as_json=run.json)


@click.command(name="change-advisor")
@seeker_argument
@click.option("--advisor", required=True)
@at_option
def change_advisor(seeker: str, advisor: str, at: str | None) -> None:
    """Assign another advisor (policies with advisors only)."""
    run = session()
    outcome = run.record(
        run.ledger().change_advisor,
        parse_seeker_id(seeker),
        actor=run.actor,
        advisor=advisor,
        at=at,
    )
    emit_outcome(outcome, as_json=run.json)


COMMANDS = [
    register,
    pause,
    resume,
    contact,
    mark_unreachable,
    restore_contact,
    lapse,
    reactivate,
    change_advisor,
]
