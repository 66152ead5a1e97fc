"""Dates, times and counts as people read them, in the chosen language
(SPEC §5, "Language"): ``2026年2月2日 14:05`` in Japanese, ``2026-02-02 14:05``
(the form the English output already uses) otherwise; ``令和8年2月2日``
with ``era=True``; ``31日``, ``3件`` / ``31 days``, ``3 applications``.

Stored and ``--json`` values stay ISO 8601: this is only for the lines
people read. Babel writes the dates and numbers (its CLDR patterns), the
catalog the counters.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.numbers import format_decimal

from domain.eras import era_date
from domain.i18n import language, ngettext

_ENGLISH_INSTANT = "%Y-%m-%d %H:%M"
_JAPANESE_DATE = "y年M月d日"  # CLDR's ``yMd`` for ja, with 年月日 spelt out
_TIME = "H:mm"


def format_date(day: date, *, era: bool = False) -> str:
    """``day``: ``2026年2月2日`` (or ``令和8年2月2日`` with ``era``) in Japanese,
    ``2026-02-02`` in English (where ``era`` changes nothing)."""
    if language() != "ja":
        return day.isoformat()
    if era:
        return era_date(day)
    return _babel_date(day, _JAPANESE_DATE, locale="ja")


def format_instant(
    instant: datetime, zone: ZoneInfo | str, *, era: bool = False
) -> str:
    """``instant`` on the wall clock of ``zone``, to the minute."""
    local = instant.astimezone(zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone))
    if language() != "ja":
        return local.strftime(_ENGLISH_INSTANT)
    clock = _babel_datetime(local, _TIME, tzinfo=local.tzinfo, locale="ja")
    return f"{format_date(local.date(), era=era)} {clock}"


def number(n: int) -> str:
    """``n`` with the language's digit grouping (``12,345`` in both)."""
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
