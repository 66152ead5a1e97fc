"""Japanese dates as people write them (SPEC §5): ``2026年2月2日``,
``令和8年2月2日``, ``R8.2.2``, ``昭和63年4月2日``, ``S63.4.2``, ``平成元年…``.

``domain.timerules`` asks this module first for every date it parses, so
every date option and every imported date accepts these forms; anything
that is not written this way is left to its ISO 8601 reader, unchanged.

The grammar, read after NFKC (so full-width digits, ``．``, ``／``, ``－``
and the one-character era signs such as ``㍻`` count as their plain forms)
and with spaces allowed between any two parts::

    date    = era year ("年" M "月" D "日" | SEP M SEP D)   SEP: one of . / -,
            | YYYY "年" M "月" D "日"                       the same both times
    era     = 明治 | 大正 | 昭和 | 平成 | 令和 | M | T | S | H | R (either case)
    year    = "元" | digits                                 元年 is year 1
    time    = H ":" MM [":" SS] | H "時" [MM "分" [SS "秒"]]   (instants only;
              after the 年月日 form directly or after a space, after the
              SEP form after a space)

An era's years count from 元年 (its first, partial year) and the era runs
from its first day to the day before the next one began, exactly: 平成31年4月30日
is followed by 令和元年5月1日, and 平成31年5月1日, 令和元年4月30日, 令和0年 and
平成32年 are errors naming the era's range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta

from domain.errors import BadValue
from domain.i18n import N_, _, language
from domain.typed import as_typed


@dataclass(frozen=True)
class Era:
    """One era of the Japanese calendar: its name, romaji initial and days."""

    name: str
    initial: str
    first_day: date
    last_day: date | None
    """``None`` for the current era."""

    @property
    def last_year(self) -> int | None:
        """The era's last year, counted from 元年 = 1 (``None``: still running)."""
        if self.last_day is None:
            return None
        return self.last_day.year - self.first_day.year + 1

    def gregorian_year(self, era_year: int) -> int:
        return self.first_day.year + era_year - 1

    def written(self, day: date) -> str:
        """``day`` as ``令和8年2月2日`` (``元年`` for the first year)."""
        year = day.year - self.first_day.year + 1
        shown = "元" if year == 1 else str(year)
        return f"{self.name}{shown}年{day.month}月{day.day}日"

    def span(self) -> str:
        """What the era covers, in its own terms (and in ISO 8601 for English
        readers)."""
        start, end = self.written(self.first_day), ""
        if self.last_day is not None:
            end = self.written(self.last_day)
        if language() == "en":
            start = f"{start} ({self.first_day.isoformat()})"
            if self.last_day is not None:
                end = f"{end} ({self.last_day.isoformat()})"
        if self.last_day is None:
            return _("{era} began on {start}").format(era=self.name, start=start)
        return _("{era} runs from {start} to {end}").format(
            era=self.name, start=start, end=end
        )


def _eras(*starts: tuple[str, str, date]) -> tuple[Era, ...]:
    ends: list[date | None] = [start - timedelta(days=1) for _, _, start in starts[1:]]
    ends.append(None)
    return tuple(
        Era(name, initial, start, end)
        for (name, initial, start), end in zip(starts, ends, strict=True)
    )


ERAS = _eras(
    ("明治", "M", date(1868, 10, 23)),
    ("大正", "T", date(1912, 7, 30)),
    ("昭和", "S", date(1926, 12, 25)),
    ("平成", "H", date(1989, 1, 8)),
    ("令和", "R", date(2019, 5, 1)),
)
"""The eras since Meiji, oldest first; each ends the day before the next begins.

明治 starts on 1868-10-23 (Gregorian), the day the era was proclaimed (明治元年
9月8日 of the old calendar), as the government's tables count it. Japan kept
the lunisolar calendar until 明治5年12月2日, followed by 明治6年1月1日 =
1873-01-01: a date written before 1873 meant a day of the old calendar, but it
is read here as the Gregorian day with that era year, month and day (明治3年
5月1日 is 1870-05-01), the mapping software commonly applies. Records of
living job seekers never reach back that far.
"""

_BY_NAME = {era.name: era for era in ERAS} | {era.initial: era for era in ERAS}
_INITIALS = "".join(era.initial for era in ERAS)
_ERA = "|".join([*(era.name for era in ERAS), f"[{_INITIALS}{_INITIALS.lower()}]"])
_YEAR = r"(?P<year>元|[0-9]{1,4})"
_KANJI_MONTH_DAY = r"\s*年\s*(?P<month>[0-9]{1,2})\s*月\s*(?P<day>[0-9]{1,2})\s*日"
_SEP_MONTH_DAY = (
    r"\s*(?P<sep>[./-])\s*(?P<month>[0-9]{1,2})\s*(?P=sep)\s*(?P<day>[0-9]{1,2})"
)
_ERA_KANJI = re.compile(rf"(?P<era>{_ERA})\s*{_YEAR}{_KANJI_MONTH_DAY}")
_ERA_SEP = re.compile(rf"(?P<era>{_ERA})\s*{_YEAR}{_SEP_MONTH_DAY}")
_GREGORIAN_KANJI = re.compile(rf"(?P<year>[0-9]{{4}}){_KANJI_MONTH_DAY}")
_GREGORIAN_SLASH = re.compile(
    r"(?P<year>[0-9]{4})\s*(?P<sep>[/.])\s*(?P<month>[0-9]{1,2})\s*(?P=sep)"
    r"\s*(?P<day>[0-9]{1,2})"
)
"""``2026/2/2``, ``2026.02.02``: how forms and spreadsheets in Japan write a
Western date (ISO's ``-`` is read by ``date.fromisoformat``)."""
_ERA_YEAR = re.compile(rf"(?P<era>{_ERA})\s*{_YEAR}\s*(?:年|[./-]|$)")
_TIME = re.compile(
    r"(?P<hour>[0-9]{1,2})(?:"
    r":(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2}))?"
    r"|\s*時(?:\s*(?P<kminute>[0-9]{1,2})\s*分(?:\s*(?P<ksecond>[0-9]{1,2})\s*秒)?)?"
    r")"
)

EXPECTED = N_("2026年2月2日, 2026/2/2, 令和8年2月2日, 令和元年5月1日 or R8.2.2")
"""The Japanese forms, as the error of an unreadable date lists them."""


def era_of(day: date) -> Era | None:
    """The era ``day`` falls in (``None`` before 明治)."""
    for era in reversed(ERAS):
        if day >= era.first_day:
            return era
    return None


def era_date(day: date) -> str:
    """``day`` in the Japanese era calendar: ``令和8年2月2日``, ``平成元年1月8日``."""
    era = era_of(day)
    if era is None:
        raise ValueError(f"{day.isoformat()} is before 明治 (1868-10-23)")
    return era.written(day)


def parse_japanese(text: str) -> tuple[date, time | None] | None:
    """The day (and the time of day, if one follows) that ``text`` writes in
    a Japanese form; ``None`` when it is not written in one (ISO 8601, or
    nothing readable), for the caller to read as it reads anything else.

    Raises ``BadValue`` for a Japanese date that names no real day: a year
    0, a year or a day outside its era, 2月30日.
    """
    value = as_typed(text).strip()
    for pattern, time_needs_space in (
        (_ERA_KANJI, False),
        (_ERA_SEP, True),
        (_GREGORIAN_KANJI, False),
        (_GREGORIAN_SLASH, True),
    ):
        found = pattern.match(value)
        if found is None:
            continue
        rest = value[found.end() :]
        clock = _TIME.fullmatch(rest.strip())
        if rest and (clock is None or (time_needs_space and not rest[0].isspace())):
            return None  # R8.2.214:05, 2026年2月2日頃: not a form of ours
        era = _BY_NAME[found["era"].upper()] if "era" in found.groupdict() else None
        day = _day(text, era, found["year"], found["month"], found["day"])
        return day, _time_of_day(text, clock) if clock else None
    prefix = _ERA_YEAR.match(value)
    if prefix is not None:  # 令和0年, 平成32年: wrong however it goes on
        _era_year(text, _BY_NAME[prefix["era"].upper()], prefix["year"])
    return None


def _time_of_day(text: str, found: re.Match[str]) -> time:
    minute = found["minute"] or found["kminute"] or 0
    second = found["second"] or found["ksecond"] or 0
    try:
        return time(int(found["hour"]), int(minute), int(second))
    except ValueError:
        raise BadValue(
            _("{given!r} is not a date and time: there is no time {time!r}").format(
                given=text, time=found[0]
            )
        ) from None


def _era_year(text: str, era: Era, written: str) -> int:
    year = 1 if written == "元" else int(written)
    if year == 0:
        raise BadValue(
            _(
                "{given!r} is not a date: an era has no year 0 (its first year is "
                "元年); {span}"
            ).format(given=text, span=era.span())
        )
    if era.last_year is not None and year > era.last_year:
        raise BadValue(
            _("{given!r} is not a date: {era} ended in its year {last}; {span}").format(
                given=text, era=era.name, last=era.last_year, span=era.span()
            )
        )
    return year


def _day(text: str, era: Era | None, year: str, month: str, day: str) -> date:
    if era is None:
        gregorian = int(year)
    else:
        gregorian = era.gregorian_year(_era_year(text, era, year))
    try:
        found = date(gregorian, int(month), int(day))
    except ValueError:
        raise BadValue(
            _("{given!r} is not a date: there is no day {day}").format(
                given=text, day=f"{gregorian}-{int(month):02}-{int(day):02}"
            )
        ) from None
    if era is not None and not (
        era.first_day <= found and (era.last_day is None or found <= era.last_day)
    ):
        if found < era.first_day:
            message = _(
                "{given!r} is not a date: {day} is before the start of {era}; {span}"
            )
        else:
            message = _(
                "{given!r} is not a date: {day} is after the end of {era}; {span}"
            )
        raise BadValue(
            message.format(
                given=text, day=_gregorian(found), era=era.name, span=era.span()
            )
        )
    return found


def _gregorian(day: date) -> str:
    """A day in an error: ``2019-05-01``, or ``2019年5月1日`` in Japanese."""
    if language() == "en":
        return day.isoformat()
    return f"{day.year}年{day.month}月{day.day}日"
