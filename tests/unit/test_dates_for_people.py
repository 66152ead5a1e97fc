"""Dates and counts as people read them (SPEC §5, "Language"): Japanese
``2026年2月2日 14:05``, ``--era`` ``令和8年2月2日`` with the era boundaries
exact, counters ``31日`` and ``3件``; English as the output writes it today."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain import i18n
from domain.dates_for_people import (
    accounts,
    applications,
    days,
    format_date,
    format_instant,
)

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def japanese(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LANGUAGE", "en")
    i18n.activate("ja")
    yield
    i18n.activate("en")


@pytest.mark.usefixtures("japanese")
def test_a_japanese_instant_is_on_the_zone_s_wall_clock() -> None:
    at = datetime(2026, 2, 2, 5, 5, tzinfo=UTC)
    assert format_instant(at, TOKYO) == "2026年2月2日 14:05"
    assert format_instant(at, "Asia/Tokyo", era=True) == "令和8年2月2日 14:05"
    assert format_instant(at, "UTC") == "2026年2月2日 5:05"


@pytest.mark.usefixtures("japanese")
@pytest.mark.parametrize(
    ("day", "western", "era"),
    [
        (date(2019, 4, 30), "2019年4月30日", "平成31年4月30日"),
        (date(2019, 5, 1), "2019年5月1日", "令和元年5月1日"),
        (date(2020, 1, 1), "2020年1月1日", "令和2年1月1日"),
        (date(1989, 1, 7), "1989年1月7日", "昭和64年1月7日"),
        (date(1989, 1, 8), "1989年1月8日", "平成元年1月8日"),
    ],
)
def test_japanese_dates_at_the_era_boundaries(
    day: date, western: str, era: str
) -> None:
    assert format_date(day) == western
    assert format_date(day, era=True) == era


@pytest.mark.usefixtures("japanese")
def test_the_era_changes_at_midnight_in_the_policy_s_zone() -> None:
    last_heisei = datetime(2019, 4, 30, 14, 59, tzinfo=UTC)  # 23:59 in Tokyo
    assert format_instant(last_heisei, TOKYO, era=True) == "平成31年4月30日 23:59"
    first_reiwa = datetime(2019, 4, 30, 15, 0, tzinfo=UTC)
    assert format_instant(first_reiwa, TOKYO, era=True) == "令和元年5月1日 0:00"


@pytest.mark.usefixtures("japanese")
def test_japanese_counters_have_one_form() -> None:
    assert days(31) == "31日"
    assert days(1) == "1日"
    assert applications(3) == "3件"
    assert accounts(12345) == "12,345件"


def test_english_is_what_the_output_writes_today() -> None:
    at = datetime(2026, 2, 2, 5, 5, tzinfo=UTC)
    assert format_instant(at, TOKYO) == "2026-02-02 14:05"
    assert format_instant(at, TOKYO, era=True) == "2026-02-02 14:05"
    assert format_date(date(2019, 5, 1), era=True) == "2019-05-01"
    assert days(1) == "1 day"
    assert days(31) == "31 days"
    assert applications(1) == "1 application"
    assert accounts(12345) == "12,345 accounts"
