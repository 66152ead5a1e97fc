"""Leaving and coming back: withdrawal, reinstatement and purge."""

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
from cli.session import parse_seeker_id
from domain.i18n import _
from domain.policy import CHANNELS, WITHDRAWAL_REASONS
from domain.seeker import PURGE_REASONS
from domain.timerules import parse_date


@click.command(name="request-withdrawal")
@seeker_argument
@click.option("--channel", required=True, type=choice(*CHANNELS))
@click.option("--reason", type=choice(*WITHDRAWAL_REASONS))
@click.option("--note", help="Free text, kept as personal data.")
@click.option("--verify-name", help="Identity check: the seeker's full name.")
@click.option("--verify-birth-date", metavar="YYYY-MM-DD")
@click.option("--erase-data", is_flag=True, help="Erase personal data on withdrawal.")
@at_option
def request_withdrawal(
    seeker: str,
    channel: str,
    reason: str | None,
    note: str | None,
    verify_name: str | None,
    verify_birth_date: str | None,
    erase_data: bool,
    at: str | None,
) -> None:
    """The seeker asks to leave."""
    run = session()
    born = parse_date(verify_birth_date) if verify_birth_date else None
    outcome = run.record(
        run.ledger().request_withdrawal,
        parse_seeker_id(seeker),
        actor=run.actor,
        channel=channel,
        reason=reason,
        note=note,
        verify_name=verify_name,
        verify_birth_date=born,
        erase_data=erase_data,
        at=at,
    )
    advice = outcome.seeker.policy.alternatives_to_withdrawal(reason)
    emit_outcome(
        outcome,
        as_json=run.json,
        extra={"suggested_alternatives": advice} if advice else None,
        # The advice is the policy's English (the JSON keeps it as is); the
        # catalog has each sentence in Japanese.
        notes=[
            _("suggest instead: {advice}").format(advice=_(item)) for item in advice
        ],
    )


cancel_withdrawal = simple_command(
    "cancel-withdrawal", "cancel_withdrawal", "The seeker stays after all."
)
withdraw = simple_command(
    "withdraw",
    "withdraw",
    "Complete a requested withdrawal (declines open applications where the "
    "policy says so, erases personal data where required).",
)


@click.command()
@seeker_argument
@click.option("--assisted", is_flag=True, help="Reinstated by staff.")
@at_option
def reinstate(seeker: str, assisted: bool, at: str | None) -> None:
    """Bring a withdrawn account back."""
    run = session()
    outcome = run.record(
        run.ledger().reinstate,
        parse_seeker_id(seeker),
        actor=run.actor,
        assisted=assisted,
        at=at,
    )
    emit_outcome(outcome, as_json=run.json)


@click.command()
@seeker_argument
@click.option("--reason", required=True, type=choice(*PURGE_REASONS))
@at_option
def purge(seeker: str, reason: str, at: str | None) -> None:
    """Erase a withdrawn or lapsed account's personal data for good."""
    run = session()
    outcome = run.record(
        run.ledger().purge,
        parse_seeker_id(seeker),
        actor=run.actor,
        reason=reason,
        at=at,
    )
    emit_outcome(outcome, as_json=run.json)


COMMANDS = [request_withdrawal, cancel_withdrawal, withdraw, reinstate, purge]
