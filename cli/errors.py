"""Expected failures become one line on stderr and the exit code of SPEC §5."""

from __future__ import annotations

import json
import re
from typing import Any

import click

from domain.errors import (
    BadValue,
    Conflict,
    Forbidden,
    NotFound,
    Refused,
    SeekerLedgerError,
    StorageError,
)
from domain.i18n import N_, _, language

USAGE = 2
NOT_FOUND = 3
REFUSED = 4
CONFLICT = 5
STORAGE = 6
FORBIDDEN = 7

ERROR = N_("error")
INTERRUPTED_LABEL = N_("interrupted")
STORAGE_LABEL = N_("storage unavailable")
_CODES: list[tuple[type[SeekerLedgerError], int, str]] = [
    (BadValue, USAGE, ERROR),
    (NotFound, NOT_FOUND, N_("not found")),
    (Refused, REFUSED, N_("refused")),
    (Conflict, CONFLICT, N_("conflict")),
    (StorageError, STORAGE, STORAGE_LABEL),
    (Forbidden, FORBIDDEN, N_("forbidden")),
]
"""Each kind of expected failure: its exit code and the word its line starts
with (in the chosen language; ``--json`` carries the code instead)."""


def click_punctuation(message: str) -> str:
    """A usage error of click's in the chosen language's punctuation: click
    glues its translated parts together with ``.`` and spaces
    (``'SEEKER'.``, ``。 （もしかして…）``), which Japanese writes ``。`` and
    without the space."""
    if language() != "ja":
        return message
    message = re.sub(r"'\.(?=\s|$)", "'。", message)
    return re.sub(r"。\s+（", "。（", message).replace("。 ", "。")


def exit_code_for(error: SeekerLedgerError) -> tuple[int, str]:
    for kind, code, label in _CODES:
        if isinstance(error, kind):
            return code, label
    return 1, ERROR


def report(
    message: str,
    code: int,
    label: str,
    *,
    as_json: bool,
    state: str | None = None,
    allowed: list[str] | None = None,
) -> None:
    """Write one line to stderr: text, or the JSON error document. ``label``
    is the English word (one of this module's); it is shown translated."""
    message = " ".join(message.split())
    if as_json:
        body: dict[str, Any] = {"code": code, "message": message}
        if state is not None:
            body["state"] = state
            body["allowed"] = allowed or []
        click.echo(json.dumps({"error": body}, ensure_ascii=False), err=True)
    else:
        click.echo(
            _("{label}: {message}").format(label=_(label), message=message), err=True
        )


def report_domain_error(error: SeekerLedgerError, *, as_json: bool) -> int:
    code, label = exit_code_for(error)
    state = error.state if isinstance(error, Refused) else None
    allowed = error.allowed if isinstance(error, Refused) else None
    report(str(error), code, label, as_json=as_json, state=state, allowed=allowed)
    return code
