"""Every option as people type it (SPEC §5): NFKC at the CLI's boundary.

Normalization happens in click, parameter by parameter, not on ``argv`` as
a whole, because only click knows which argument is the value of which
option: a path (``--output``, ``import FILE``) or a database URL must reach
the file system byte for byte, and ``argv`` alone cannot tell those from an
email. So:

- every plain text parameter (click's default ``STRING``: names, emails,
  phones, ids, dates, notes, ``--actor`` and its environment variable) is
  given ``TEXT`` when its command is loaded (``as_typed_options``), so a new
  option is covered without anyone remembering to;
- choices are matched through the context's ``token_normalize_func``
  (``as_typed``, set on the root group, inherited by every subcommand);
- numbers need nothing: Python's ``int`` and ``float`` read full-width
  digits already;
- ``click.Path`` options and those declared ``VERBATIM`` (``--db``,
  ``--read-db``, the plain-text ``--output`` and ``FILE`` arguments, and
  ``register --policy``, a preset name or a path) are left exactly as given.
"""

from __future__ import annotations

from typing import Any

import click

from domain.typed import as_typed


class Text(click.types.StringParamType):
    """Text as people type it: NFKC (full-width ASCII becomes ASCII)."""

    name = "text"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Any:
        converted = super().convert(value, param, ctx)
        return as_typed(converted) if isinstance(converted, str) else converted


class Verbatim(click.types.StringParamType):
    """Text passed on byte for byte: a path or a URL, never normalized."""

    name = "text"


TEXT = Text()
VERBATIM = Verbatim()


def as_typed_options(command: click.Command) -> click.Command:
    """Give ``TEXT`` to every plain text parameter of ``command`` and of its
    subcommands; idempotent."""
    for param in command.params:
        if type(param.type) is click.types.StringParamType:
            param.type = TEXT
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            as_typed_options(sub)
    return command
