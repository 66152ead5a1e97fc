"""Rendering: one JSON document with ``--json``, readable text otherwise.

The text is in the run's language (SPEC §5, "Language"): the words from
the catalog, the codes (states, routes, outcomes, policies, events) through
the glossary, dates as people write them (``2026年2月2日 14:05``, with
``--era`` ``令和8年2月2日 14:05``). The JSON documents never change with it.
English text is what it has always been, byte for byte.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import click

from cli.views import account_view, term
from domain.dates_for_people import counted, era_wanted, format_iso
from domain.glossary import label
from domain.i18n import _, language, pgettext

if TYPE_CHECKING:
    from domain.seeker import Seeker
    from services.ledger import Outcome


def emit_json(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


def japanese() -> bool:
    """This run speaks Japanese."""
    return language() == "ja"


def cell_width(text: str) -> int:
    """The columns ``text`` takes on a terminal: a wide character (kanji,
    kana, full-width forms) takes two, in either language (an English table
    holds Japanese job titles and advisors' names too)."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int) -> str:
    """``text`` filled with spaces to ``width`` columns (``str.ljust`` on a
    terminal's columns)."""
    return text + " " * (width - cell_width(text))


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    cells = [[str(h) for h in header]] + [
        ["" if c is None else str(c) for c in row] for row in rows
    ]
    widths = [max(cell_width(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "  ".join(pad(c, w) for c, w in zip(row, widths, strict=True)) for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def short_time(value: str | None) -> str:
    """``2025-01-15T09:30:00+09:00`` → ``2025-01-15 09:30`` (in Japanese
    ``2025年1月15日 9:30``, ``令和7年1月15日 9:30`` with ``--era``); a date
    alone stays a date."""
    if value is None:
        return "-"
    if not japanese():
        return value[:16].replace("T", " ")
    return format_iso(value, era=era_wanted())


def joined(items: Iterable[str]) -> str:
    """A list in a line: ``a, b`` / ``a、b``."""
    return pgettext("list separator", ", ").join(items)


def yes_no(flag: bool) -> str:
    return pgettext("yes or no", "yes") if flag else pgettext("yes or no", "no")


def _commands(commands: Sequence[str]) -> list[str]:
    """Commands as they are typed (that is what the operator types next); in
    Japanese each followed by its name for people: ``withdraw（退会）``."""
    if not japanese():
        return list(commands)
    return [
        _("{command} ({name})").format(command=c, name=label("command", c))
        for c in commands
    ]


def commands_text(commands: Sequence[str], indent: int = 0) -> str:
    """Commands in a line (see ``_commands``); in Japanese wrapped, each
    further line indented by ``indent`` columns."""
    return wrapped_list(_commands(commands), indent)


LABEL_WIDTH = {"en": 13, "ja": 18}
"""The columns of the account view's labels (longer labels push their value
one space further)."""
WRAP = 100
"""Japanese lists (the commands allowed) wrap at this many columns."""


def field_line(name: str, value: str) -> str:
    """One line of the account view: ``  label         value``."""
    return labelled(name, value, LABEL_WIDTH.get(language(), LABEL_WIDTH["en"]))


def labelled(name: str, value: str, width: int) -> str:
    """``  label  value``, the label padded to ``width`` columns."""
    return f"  {pad(name, width)} {value}"


def wrapped_list(items: Sequence[str], indent: int) -> str:
    """A list in a line (``a, b`` / ``a、b``); in Japanese, where its names
    make it long, wrapped at ``WRAP`` columns, each further line indented
    by ``indent`` columns (the list's first line starts there too)."""
    separator = pgettext("list separator", ", ")
    if not japanese():
        return separator.join(items)
    lines: list[str] = []
    current = ""
    for index, item in enumerate(items):
        piece = item + (separator if index < len(items) - 1 else "")
        if current and indent + cell_width(current + piece) > WRAP:
            lines.append(current)
            current = ""
        current += piece
    lines.append(current)
    return ("\n" + " " * indent).join(lines)


def wrapped_line(name: str, items: list[str], width: int | None = None) -> str:
    """A field of the account view whose value is a list (its label padded
    to ``width`` columns, the language's usual column by default)."""
    width = width or LABEL_WIDTH.get(language(), LABEL_WIDTH["en"])
    return labelled(name, wrapped_list(items, 2 + width + 1), width)


def account_text(view: dict[str, Any], request_id: str | None = None) -> str:
    """The account view; with the request id of the command that printed it
    as its last line."""
    withdrawal = view["withdrawal"]
    attempts = view["contact_attempts"] or None
    optional = [
        (pgettext("account view", "advisor"), view["advisor"]),
        (pgettext("account view", "last activity"), _time(view["last_activity_at"])),
        (pgettext("account view", "lapses at"), _time(view["registration_lapses_at"])),
        (pgettext("account view", "unreachable"), _time(view["unreachable_since"])),
        (
            pgettext("account view", "unreachable lapses at"),
            _time(view["unreachable_lapses_at"]),
        ),
        (
            pgettext("account view", "contact attempts"),
            None if attempts is None else counted("times", attempts),
        ),
        (
            pgettext("account view", "withdrawal reason"),
            _code("withdrawal reason", withdrawal["reason"]),
        ),
        (
            pgettext("account view", "withdrawal channel"),
            _code("channel", withdrawal["channel"]),
        ),
        (
            pgettext("account view", "erasure requested"),
            yes_no(True) if withdrawal["erase_requested"] else None,
        ),
        (
            pgettext("account view", "withdrawal timing"),
            _code("withdrawal timing", withdrawal["timing"]),
        ),
        (pgettext("account view", "withdrawn at"), _time(withdrawal["withdrawn_at"])),
        (
            pgettext("account view", "self-reinstate by"),
            _time(withdrawal["self_reinstatement_deadline"]),
        ),
        (pgettext("account view", "invalid since"), _time(view["invalid_since"])),
        (pgettext("account view", "purge due at"), _time(view["purge_due_at"])),
        (pgettext("account view", "purged at"), _time(view["purged_at"])),
        (
            pgettext("account view", "purge reason"),
            _code("recorded purge reason", view["purge_reason"]),
        ),
    ]
    optional = [(name, value) for name, value in optional if value not in (None, "-")]
    # Labels line up on the longest one shown (an English label such as
    # "unreachable lapses at" is longer than the usual column).
    width = max(
        LABEL_WIDTH.get(language(), LABEL_WIDTH["en"]),
        *(cell_width(name) for name, _value in optional),
    )

    def field_line(name: str, value: str) -> str:
        return labelled(name, value, width)

    lines = [
        _("Seeker {id}  (policy {policy}, version {version})").format(
            id=view["id"],
            policy=term("policy", view["policy"]),
            version=view["version"],
        ),
        field_line(
            pgettext("account view", "status"),
            _("{status} since {since}").format(
                status=term("account state", view["status"]),
                since=short_time(view["status_since"]),
            ),
        ),
    ]
    if view.get("personal_sealed"):
        lines.append("  " + _("personal data sealed (this login may not read it)"))
    elif view["name"] is None:
        lines.append("  " + _("personal data erased"))
    else:
        lines.append(field_line(pgettext("account view", "name"), view["name"]))
        if view["name_kana"]:
            lines.append(
                field_line(pgettext("account view", "name (kana)"), view["name_kana"])
            )
        lines.append(field_line(pgettext("account view", "email"), view["email"]))
        if view["phone"]:
            lines.append(field_line(pgettext("account view", "phone"), view["phone"]))
        lines.append(
            field_line(
                pgettext("account view", "birth date"), _birth_date(view["birth_date"])
            )
        )
    lines.extend(field_line(name, value) for name, value in optional)
    if view["applications"]:
        lines.append("  " + pgettext("account view", "applications"))
        lines.extend(_application_line(a) for a in view["applications"])
    if view["allowed"]:
        lines.append(
            wrapped_line(
                pgettext("account view", "allowed"), _commands(view["allowed"]), width
            )
        )
    else:
        lines.append(
            field_line(pgettext("account view", "allowed"), _("nothing (final)"))
        )
    if request_id:
        lines.append(field_line(pgettext("account view", "request"), request_id))
    return "\n".join(lines)


def _time(value: str | None) -> str | None:
    """An optional time of the account view, as people read it."""
    return None if value is None else short_time(value)


def _code(kind: str, value: str | None) -> str | None:
    """An optional code of the account view, named for people."""
    return None if value is None else term(kind, value)


def _birth_date(value: str | None) -> str:
    if value is None or not japanese():
        return str(value)
    return short_time(value)


def _application_line(a: dict[str, Any]) -> str:
    interview = ""
    if a["interview_at"]:
        at = short_time(a["interview_at"])
        message = (
            _("interview {at} (round {round}, final)")
            if a["final_round"]
            else _("interview {at} (round {round})")
        )
        interview = "  " + message.format(at=at, round=a["interview_round"])
    outcome = f"  [{term('application outcome', a['outcome'])}]" if a["outcome"] else ""
    route_width, status_width = (8, 8) if japanese() else (7, 20)
    route = pad(term("application route", a["route"]), route_width)
    status = pad(term("application state", a["status"]), status_width)
    return f"    {a['id']:<4} {route} {status} {a['job']}{interview}{outcome}"


def emit_outcome(
    outcome: Outcome,
    *,
    as_json: bool,
    extra: dict[str, Any] | None = None,
    notes: Iterable[str] = (),
) -> None:
    """What every recording command prints: the account and its new events."""
    view = account_view(outcome.seeker)
    request = {"request_id": outcome.request_id} if outcome.request_id else {}
    if as_json:
        emit_json({**(extra or {}), **view, "events": outcome.events, **request})
        return
    events = joined(term("event", event) for event in outcome.events)
    if outcome.replayed:
        click.echo(_("already recorded: {events}").format(events=events))
    else:
        click.echo(_("recorded: {events}").format(events=events))
    click.echo(account_text(view, outcome.request_id))
    for note in notes:  # after the account's block, not inside it
        click.echo(note)


def emit_account(seeker: Seeker, *, as_json: bool) -> None:
    view = account_view(seeker)
    if as_json:
        emit_json(view)
    else:
        click.echo(account_text(view))
