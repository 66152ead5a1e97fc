"""Options and helpers shared by the command modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from cli.output import emit_outcome
from cli.session import Session, parse_seeker_id

F = TypeVar("F", bound=Callable[..., Any])

REQUEST_ID = "seekers.request_id"


def _remember_request_id(
    ctx: click.Context, _: click.Parameter, value: str | None
) -> str | None:
    ctx.meta[REQUEST_ID] = value
    return value


_at = click.option(
    "--at",
    "at",
    metavar="T",
    help="When it happened (ISO 8601; a date alone is 00:00 in the policy's "
    "time zone). Default: now.",
)
_request_id = click.option(
    "--request-id",
    metavar="ID",
    expose_value=False,
    callback=_remember_request_id,
    help="Idempotency key: a repeat with the same ID returns the first outcome "
    "and records nothing (default: a new one, printed).",
)


def at_option(command: F) -> F:
    """``--at`` and ``--request-id``: the options of every recording command."""
    return _at(_request_id(command))


seeker_argument = click.argument("seeker", metavar="SEEKER")
application_argument = click.argument("application", metavar="APP")


def session() -> Session:
    obj = click.get_current_context().obj
    assert isinstance(obj, Session)
    return obj


def choice(*values: str) -> click.Choice[str]:
    return click.Choice(values, case_sensitive=False)


def simple_command(name: str, method: str, help_text: str) -> click.Command:
    """A command that takes only the seeker and ``--at`` and calls the
    ledger's use case ``method``."""

    @click.command(name=name, help=help_text)
    @seeker_argument
    @at_option
    def command(seeker: str, at: str | None) -> None:
        run = session()
        use_case = getattr(run.ledger(), method)
        outcome = run.record(use_case, parse_seeker_id(seeker), actor=run.actor, at=at)
        emit_outcome(outcome, as_json=run.json)

    return command
