"""Commands on the job applications inside an account."""

from __future__ import annotations

import click

from cli.commands.common import (
    application_argument,
    at_option,
    choice,
    seeker_argument,
    session,
)
from cli.output import emit_outcome
from cli.session import parse_seeker_id
from domain.i18n import _
from domain.seeker import DECLINE_CHANNELS, OUTCOMES, ROUTES


@click.command()
@seeker_argument
@click.option("--job", required=True, help="The job applied for.")
@click.option("--route", type=choice(*ROUTES), default="agency", show_default=True)
@at_option
def apply(seeker: str, job: str, route: str, at: str | None) -> None:
    """Record an application (self-application or agency introduction)."""
    run = session()
    outcome = run.record(
        run.ledger().apply,
        parse_seeker_id(seeker),
        actor=run.actor,
        job=job,
        route=route,
        at=at,
    )
    emit_outcome(
        outcome,
        as_json=run.json,
        extra={"application": outcome.result},
        notes=[_("application: {id}").format(id=outcome.result)],
    )


@click.command(name="schedule-interview")
@seeker_argument
@application_argument
@click.option("--on", "on", required=True, metavar="DATETIME")
@click.option("--round", "round_number", type=click.IntRange(min=1, max=20), default=1)
@click.option("--final", is_flag=True, help="This is the final-round interview.")
@at_option
def schedule_interview(
    seeker: str,
    application: str,
    on: str,
    round_number: int,
    final: bool,
    at: str | None,
) -> None:
    """Schedule (or reschedule) an interview for an application."""
    run = session()
    outcome = run.record(
        run.ledger().schedule_interview,
        parse_seeker_id(seeker),
        actor=run.actor,
        application_id=application,
        interview_at=on,
        round_number=round_number,
        final=final,
        at=at,
    )
    emit_outcome(outcome, as_json=run.json)


@click.command(name="decline-interview")
@seeker_argument
@application_argument
@click.option("--channel", required=True, type=choice(*DECLINE_CHANNELS))
@click.option("--note", help="Free text, kept as personal data.")
@at_option
def decline_interview(
    seeker: str, application: str, channel: str, note: str | None, at: str | None
) -> None:
    """The seeker declines a scheduled interview."""
    run = session()
    outcome = run.record(
        run.ledger().decline_interview,
        parse_seeker_id(seeker),
        actor=run.actor,
        application_id=application,
        channel=channel,
        note=note,
        at=at,
    )
    emit_outcome(outcome, as_json=run.json)


@click.command(name="close-application")
@seeker_argument
@application_argument
@click.option("--outcome", "result", required=True, type=choice(*OUTCOMES))
@at_option
def close_application(
    seeker: str, application: str, result: str, at: str | None
) -> None:
    """Close an application as hired, rejected or withdrawn."""
    run = session()
    outcome = run.record(
        run.ledger().close_application,
        parse_seeker_id(seeker),
        actor=run.actor,
        application_id=application,
        outcome=result,
        at=at,
    )
    emit_outcome(outcome, as_json=run.json)


COMMANDS = [apply, schedule_interview, decline_interview, close_application]
