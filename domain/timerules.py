"""Business time: parsing ``--at`` values and the calendar rules of SPEC section 4.

Every instant in the domain is an aware ``datetime`` in UTC; days, months and
years are counted on the calendar of the policy's time zone.

``parse_instant`` and ``parse_date`` are the one place every date option
and imported date is read: ISO 8601 as before, and the Japanese forms of
``domain.eras`` (``2026年2月2日``, ``令和8年2月2日``, ``R8.2.2``), full-width
digits included (SPEC §5).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.eras import EXPECTED, parse_japanese
from domain.errors import BadValue
from domain.i18n import _
from domain.refusals import moment
from domain.typed import as_typed

FUTURE_TOLERANCE = timedelta(minutes=5)
EARLIEST_YEAR = 1900
LATEST_YEAR = 2999
"""Business times outside these years are typing mistakes, and near the
calendar's ends the time rules (a retention of up to 100 years) would
overflow it."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_instant(text: str, zone: ZoneInfo) -> datetime:
    """An ISO 8601 date or date-time, or a Japanese date with an optional time
    (``令和8年2月2日 14:05``); a date alone means 00:00 in ``zone``."""
    value = as_typed(text).strip()
    try:
        written = parse_japanese(value)
        if written is not None:
            day, clock = written
            if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
                raise OverflowError
            if clock is None:
                return start_of_day(day, zone)
            return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
        if len(value) == 10:
            day = date.fromisoformat(value)
            if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
                raise OverflowError
            return start_of_day(day, zone)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
            raise OverflowError
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=zone)
        return parsed.astimezone(UTC)
    except ValueError:
        raise BadValue(
            _(
                "not an ISO 8601 date or date-time: {given!r} (expected e.g. "
                "2026-02-02T14:05, 2026-02-02, {japanese}; a time such as 14:05 "
                "may follow a Japanese date)"
            ).format(given=text, japanese=_(EXPECTED))
        ) from None
    except OverflowError:
        raise BadValue(
            _("date-time out of range (years {first}-{last}): {given!r}").format(
                first=EARLIEST_YEAR, last=LATEST_YEAR, given=text
            )
        ) from None


def parse_date(text: str) -> date:
    """A day: ISO 8601 (``YYYY-MM-DD``) or a Japanese date (``昭和63年4月2日``)."""
    value = as_typed(text).strip()
    written = parse_japanese(value)
    if written is not None and written[1] is not None:
        raise BadValue(
            _("a date without a time of day is wanted here: {given!r}").format(
                given=text
            )
        )
    try:
        day = written[0] if written else date.fromisoformat(value)
    except ValueError:
        raise BadValue(
            _("not a date: {given!r} (expected YYYY-MM-DD, {japanese})").format(
                given=text, japanese=_(EXPECTED)
            )
        ) from None
    if not EARLIEST_YEAR - 100 <= day.year <= LATEST_YEAR:
        raise BadValue(_("date out of range: {given!r}").format(given=text))
    return day


def start_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def days_between(earlier: datetime, later: datetime, zone: ZoneInfo) -> int:
    """Calendar days from ``earlier`` to ``later`` in ``zone`` (same day is 0)."""
    return (local_date(later, zone) - local_date(earlier, zone)).days


def registration_lapses_at(
    last_activity: datetime, months: int, zone: ZoneInfo
) -> datetime:
    """00:00 on the first day of the month after the Nth month after the activity.

    Last activity on 2025-01-15 with 2 months: valid through 2025-03-31, so it
    lapses at 2025-04-01T00:00 in ``zone``.
    """
    day = local_date(last_activity, zone)
    month_index = day.year * 12 + (day.month - 1) + months + 1
    return start_of_day(date(month_index // 12, month_index % 12 + 1, 1), zone)


def end_of_day_count(since: datetime, days: int, zone: ZoneInfo) -> datetime:
    """00:00 of day ``days + 1`` counted from ``since`` (its own day is day 0).

    A 30-day grace from 2025-01-01 ends at 2025-02-01T00:00: day 30 is still
    inside, day 31 is past.
    """
    return start_of_day(local_date(since, zone) + timedelta(days=days + 1), zone)


def add_years(instant: datetime, years: int, zone: ZoneInfo) -> datetime:
    """The same local date and time ``years`` later; 29 February becomes 28."""
    local = instant.astimezone(zone)
    try:
        moved = local.replace(year=local.year + years)
    except ValueError:
        moved = local.replace(year=local.year + years, day=28)
    return moved.astimezone(UTC)


def check_business_time(
    at: datetime,
    *,
    not_before: datetime | None,
    now: datetime,
    zone: ZoneInfo | None = None,
) -> None:
    """Refuse an ``--at`` in the future or before the account's latest event
    (times shown in ``zone``, the policy's, when given)."""

    def shown(instant: datetime) -> str:
        return moment(instant, zone or ZoneInfo("UTC"))  # ISO 8601 in English

    if at > now + FUTURE_TOLERANCE:
        raise BadValue(
            _("--at {at} is in the future (now is {now})").format(
                at=shown(at), now=shown(now)
            )
        )
    if not_before is not None and at < not_before:
        raise BadValue(
            _("--at {at} is before the account's latest event ({latest})").format(
                at=shown(at), latest=shown(not_before)
            )
        )
