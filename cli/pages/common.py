"""What both pages share: the templates, the colours, the file they go to.

One Jinja2 environment with autoescaping renders every page, so a job title
or an actor name can never inject markup; chart SVG is the only text marked
safe, and it comes from our own drawing code. The colours live here so the
report's charts, its tables and the timeline's state band give a status the
same colour everywhere.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import click
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from cli.files import write_output
from domain.dates_for_people import era_wanted, format_instant, format_iso, format_month
from domain.glossary import label, policy_name
from domain.i18n import _, language, ngettext, pgettext

TEMPLATES = Path(__file__).resolve().parent / "templates"

STATUS_COLOURS: dict[str, str] = {
    "active": "#2e7d32",
    "paused": "#78909c",
    "unreachable": "#ef6c00",
    "lapsed": "#c9a227",
    "withdrawal_requested": "#8e24aa",
    "withdrawn": "#c62828",
    "purged": "#455a64",
}
"""One colour per account state, in the lifecycle's order (SPEC §1)."""

PALETTE: tuple[str, ...] = (
    "#1f4e79",
    "#2e86ab",
    "#f18f01",
    "#c73e1d",
    "#6a994e",
    "#8d6a9f",
    "#9e9e9e",
    "#3b3b3b",
    "#b5838d",
    "#00a6a6",
)
"""Categorical colours for reasons, timings, channels and policies: dark
enough to read on white, distinguishable in a grey printout by lightness."""

FALLBACK_COLOUR = "#9e9e9e"


def colour_for(key: str, order: tuple[str, ...] | list[str]) -> str:
    """The colour of ``key`` in a fixed category order: stable across charts."""
    if key in STATUS_COLOURS:
        return STATUS_COLOURS[key]
    try:
        return PALETTE[list(order).index(key) % len(PALETTE)]
    except ValueError:
        return FALLBACK_COLOUR


def number(value: Any) -> str:
    """A figure as a person reads it: thousands separated, booleans in words."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return "" if value is None else str(value)


def moment(value: str | None) -> str:
    """``2025-01-15T09:30:00.123+09:00`` → ``2025-01-15 09:30``."""
    if not value:
        return "—"
    if language() != "ja":
        return value[:16].replace("T", " ")
    return format_iso(value, era=era_wanted())


def month(value: str) -> str:
    """``2025-03`` (a month on an axis or in a table) as people write it:
    unchanged in English, ``2025年3月`` in Japanese."""
    return format_month(value, era=era_wanted())


def local_now(now: datetime, zone_names: list[str]) -> str:
    """The generation time in the policies' zone (UTC when they differ)."""
    from zoneinfo import ZoneInfo

    zone = zone_names[0] if len(zone_names) == 1 else "UTC"
    if language() == "ja":
        return f"{format_instant(now, zone, era=era_wanted())} {zone}"
    return now.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M ") + zone


def _markup(message: str) -> Markup:
    """``_`` in a template: the translation is our own text, as the
    template's literal text was (an apostrophe stays one); fields given to
    its ``format`` are escaped (``Markup.format``)."""
    return Markup(_(message))


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(
            enabled_extensions=("html", "j2"), default_for_string=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["number"] = number
    env.filters["moment"] = moment
    env.filters["month"] = month
    env.globals.update(
        _=_markup,
        ngettext=ngettext,
        pgettext=pgettext,
        label=label,
        policy_name=policy_name,
        language=language,
    )
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def deliver(page: str, output: Path | None, *, as_json: bool) -> None:
    """Write the page to ``output`` (whole or not at all), or to stdout.

    With ``--output`` the path written is printed (``{"output": PATH,
    "bytes": N}`` with ``--json``) so a script can pick it up.
    """
    if output is None:
        click.echo(page, nl=False)
        return
    write_output(page.encode("utf-8"), output, as_json=as_json)
