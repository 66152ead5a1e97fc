"""Dates, times and counts as people read them, in the chosen language
(SPEC §5, "Language"): ``2026年2月2日 14:05`` in Japanese, ``2026-02-02 14:05``
(the form the English output already uses) otherwise; ``令和8年2月2日``
with ``era=True``; ``31日``, ``3件`` / ``31 days``, ``3 applications``.

Stored and ``--json`` values stay ISO 8601: this is only for the lines
people read. Babel writes the dates and numbers (its CLDR patterns), the
catalog the counters.

``--era`` is chosen once a run, like the language (``write_era``, set by the
CLI on every run); the functions here take ``era`` explicitly, and the CLI's
renderers pass ``era_wanted()``. In English ``--era`` changes nothing: the
English output writes ISO dates, and the era is a Japanese way of writing
them.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from domain.eras import era_date, era_of
from domain.i18n import NC_, language, ngettext, pgettext

_ENGLISH_INSTANT = "%Y-%m-%d %H:%M"
_JAPANESE_DATE = "y年M月d日"  # CLDR's ``yMd`` for ja, with 年月日 spelt out
_TIME = "H:mm"
# Babel is imported where a Japanese date or a number is written: a run in
# English, and ``--era`` being set on every run, never load it.

_era = False


def write_era(on: bool) -> None:
    """Whether this run writes Japanese dates in the era calendar (``--era``);
    the CLI sets it on every run, so one run's choice never outlives it."""
    global _era
    _era = on


def era_wanted() -> bool:
    """``--era`` was given to this run."""
    return _era


def format_date(day: date, *, era: bool = False) -> str:
    """``day``: ``2026年2月2日`` (or ``令和8年2月2日`` with ``era``) in Japanese,
    ``2026-02-02`` in English (where ``era`` changes nothing)."""
    if language() != "ja":
        return day.isoformat()
    if era:
        return era_date(day)
    from babel.dates import format_date as babel_date

    return babel_date(day, _JAPANESE_DATE, locale="ja")


def format_instant(
    instant: datetime, zone: ZoneInfo | str, *, era: bool = False
) -> str:
    """``instant`` on the wall clock of ``zone``, to the minute."""
    local = instant.astimezone(zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone))
    if language() != "ja":
        return local.strftime(_ENGLISH_INSTANT)
    return f"{format_date(local.date(), era=era)} {_clock(local)}"


def format_iso(value: str, *, era: bool = False) -> str:
    """A date (``2026-02-02``) or an instant (``2026-02-02T14:05:00+09:00``)
    as the JSON documents write it, already on the account's clock, for
    people: on that same clock, to the minute (``2026年2月2日 14:05``;
    ``2026-02-02 14:05`` in English, as the output has always shown it)."""
    if "T" not in value:
        return format_date(date.fromisoformat(value), era=era)
    local = datetime.fromisoformat(value)
    if language() != "ja":
        return local.strftime(_ENGLISH_INSTANT)
    return f"{format_date(local.date(), era=era)} {_clock(local)}"


def format_month(month: str, *, era: bool = False) -> str:
    """A month as the reports key it (``2026-02``): ``2026年2月`` (``令和8年2月``
    with ``era``, the era of the month's first day) in Japanese, unchanged
    in English."""
    if language() != "ja":
        return month
    first = date.fromisoformat(f"{month}-01")
    if era and era_of(first) is not None:
        written = era_date(first)
        return written[: written.index("月") + 1]
    from babel.dates import format_date as babel_date

    return babel_date(first, "y年M月", locale="ja")


def _clock(local: datetime) -> str:
    """The Japanese time of day of ``local``: ``14:05``, ``0:00``."""
    from babel.dates import format_datetime as babel_datetime

    return babel_datetime(local, _TIME, tzinfo=local.tzinfo, locale="ja")


def number(n: int) -> str:
    """``n`` with the language's digit grouping (``12,345`` in both)."""
    from babel.numbers import format_decimal

    return format_decimal(n, locale=language())


def days(n: int) -> str:
    """A number of days: ``31 days`` / ``31日``."""
    return ngettext("{n} day", "{n} days", n).format(n=number(n))


def applications(n: int) -> str:
    """A number of applications: ``3 applications`` / ``3件``."""
    return ngettext("{n} application", "{n} applications", n).format(n=number(n))


def accounts(n: int) -> str:
    """A number of accounts: ``3 accounts`` / ``3件``."""
    return ngettext("{n} account", "{n} accounts", n).format(n=number(n))


COUNTERS = {
    "days": NC_("days", "{n}"),
    "months": NC_("months", "{n}"),
    "years": NC_("years", "{n}"),
    "times": NC_("times", "{n}"),
    "hours": NC_("hours", "{n}"),
    "interview round": NC_("interview round", "{n}"),
}
"""The counters ``counted`` writes, by the context that names them."""


def counted(counter: str, n: float) -> str:
    """``n`` with its Japanese counter (``30日``, ``5年``, ``2か月``, ``3回``,
    ``12.5時間``, ``2次``); the number alone in English, as the tables and
    the account view have always shown it."""
    return pgettext(counter, COUNTERS[counter]).format(n=n)
