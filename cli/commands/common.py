"""Options and helpers shared by the command modules."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import click

from cli.output import emit_outcome
from cli.session import Session, parse_seeker_id
from domain.i18n import _
from domain.typed import as_typed

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
    help="When it happened (ISO 8601, or 2026年2月2日 / 2026/2/2 / 令和8年2月2日 / "
    "R8.2.2 with an optional 14:05; a date alone is 00:00 in the policy's time "
    "zone). Default: now.",
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


class Seconds(click.ParamType[float, Any]):
    """A duration option: a finite number of seconds within bounds.

    Every duration option takes this type, so ``inf``, ``1e400``, negative
    numbers and ``nan`` (which ``click.FloatRange`` lets through: it
    compares false with both bounds) are refused at parse time with one
    exit-2 line naming the allowed range, never met later by a timer.
    """

    name = "seconds"

    def __init__(self, minimum: float, maximum: float) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            number = float(as_typed(value) if isinstance(value, str) else value)
        except (TypeError, ValueError):
            number = math.nan
        if not self.minimum <= number <= self.maximum:  # false for nan too
            self.fail(
                _(
                    "{value} is not a number of seconds from {minimum} to {maximum}"
                ).format(
                    value=repr(value),
                    minimum=f"{self.minimum:g}",
                    maximum=f"{self.maximum:g}",
                ),
                param,
                ctx,
            )
        return number


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
