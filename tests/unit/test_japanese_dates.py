"""Japanese dates as people write them (SPEC §5, issue #21): the era
boundaries exactly, 元年, impossible dates, full-width forms, and ISO 8601
unchanged. The boundaries below are written out by hand from the
government's era table, not derived from ``domain.eras``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.eras import ERAS, era_date
from domain.errors import BadValue
from domain.timerules import parse_date, parse_instant
from domain.typed import as_typed

TOKYO = ZoneInfo("Asia/Tokyo")

# The first day of each era (元年), as written and in ISO 8601.
FIRST_DAYS = [
    ("明治", "M", "明治元年10月23日", "1868-10-23"),
    ("大正", "T", "大正元年7月30日", "1912-07-30"),
    ("昭和", "S", "昭和元年12月25日", "1926-12-25"),
    ("平成", "H", "平成元年1月8日", "1989-01-08"),
    ("令和", "R", "令和元年5月1日", "2019-05-01"),
]
# The last day of each era that has ended; the next era began the day after.
LAST_DAYS = [
    ("明治", "M", "明治45年7月29日", "M45.7.29", "1912-07-29", "大正元年7月30日"),
    ("大正", "T", "大正15年12月24日", "T15.12.24", "1926-12-24", "昭和元年12月25日"),
    ("昭和", "S", "昭和64年1月7日", "S64.1.7", "1989-01-07", "平成元年1月8日"),
    ("平成", "H", "平成31年4月30日", "H31.4.30", "2019-04-30", "令和元年5月1日"),
]


def refusal(text: str) -> str:
    """The one-line message a date option gives for ``text``."""
    with pytest.raises(BadValue) as refused:
        parse_date(text)
    return str(refused.value)


def test_the_era_table_is_the_governments() -> None:
    assert [(e.name, e.initial, e.first_day.isoformat()) for e in ERAS] == [
        (name, initial, iso) for name, initial, _, iso in FIRST_DAYS
    ]
    assert [e.last_day.isoformat() if e.last_day else None for e in ERAS] == [
        *(iso for *_, iso, _ in LAST_DAYS),
        None,
    ]


@pytest.mark.parametrize(("name", "initial", "written", "iso"), FIRST_DAYS)
def test_the_first_day_of_each_era_in_every_form(
    name: str, initial: str, written: str, iso: str
) -> None:
    day = date.fromisoformat(iso)
    forms = [
        written,
        written.replace("元年", "1年"),
        f"{initial}1.{day.month}.{day.day}",
        f"{initial.lower()}元/{day.month}/{day.day}",
        f"{initial}01-{day.month:02}-{day.day:02}",
        f"{name} 元 年 {day.month} 月 {day.day} 日",
        f"{name}１年{day.month}月{day.day}日",
    ]
    for form in forms:
        assert parse_date(form) == day, form
    assert era_date(day) == written


@pytest.mark.parametrize(("name", "initial", "written", "iso"), FIRST_DAYS)
def test_the_day_before_an_era_began_is_not_in_it(
    name: str, initial: str, written: str, iso: str
) -> None:
    day = date.fromisoformat(iso) - timedelta(days=1)
    for form in (
        f"{name}元年{day.month}月{day.day}日",
        f"{initial}1.{day.month}.{day.day}",
    ):
        message = refusal(form)
        assert f"{day.isoformat()} is before the start of {name}" in message
        assert f"{written} ({iso})" in message, message


@pytest.mark.parametrize(
    ("name", "initial", "written", "short", "iso", "next_first"), LAST_DAYS
)
def test_the_last_day_of_an_era_is_followed_by_the_next_eras_first(
    name: str, initial: str, written: str, short: str, iso: str, next_first: str
) -> None:
    day = date.fromisoformat(iso)
    assert parse_date(written) == day
    assert parse_date(short) == day
    assert parse_date(short.lower()) == day
    assert parse_date(next_first) == day + timedelta(days=1)
    assert era_date(day) == written
    assert era_date(day + timedelta(days=1)) == next_first


@pytest.mark.parametrize(
    ("name", "initial", "written", "short", "iso", "next_first"), LAST_DAYS
)
def test_the_day_after_an_era_ended_is_not_in_it(
    name: str, initial: str, written: str, short: str, iso: str, next_first: str
) -> None:
    after = date.fromisoformat(iso) + timedelta(days=1)
    year = int(written.removeprefix(name).split("年")[0])
    message = refusal(f"{name}{year}年{after.month}月{after.day}日")
    assert f"{after.isoformat()} is after the end of {name}" in message
    assert f"to {written} ({iso})" in message, message
    past = refusal(f"{name}{year + 1}年1月1日")
    assert f"{name} ended in its year {year}" in past, past
    assert f"{name}{year + 1}年" in refusal(f"{name}{year + 1}年")
    assert f"ended in its year {year}" in refusal(f"{initial}{year + 1}.1.1")


def test_the_famous_boundary_heisei_31_may_1_is_an_error() -> None:
    assert parse_date("平成31年4月30日") + timedelta(days=1) == parse_date(
        "令和元年5月1日"
    )
    message = refusal("平成31年5月1日")
    assert message == (
        "'平成31年5月1日' is not a date: 2019-05-01 is after the end of 平成; "
        "平成 runs from 平成元年1月8日 (1989-01-08) to 平成31年4月30日 (2019-04-30)"
    )


@pytest.mark.parametrize("name", [name for name, *_ in FIRST_DAYS])
def test_no_era_has_a_year_zero(name: str) -> None:
    for form in (f"{name}0年", f"{name}0年5月1日", f"{name}00年5月1日"):
        assert "an era has no year 0 (its first year is 元年)" in refusal(form)


def test_impossible_dates_are_refused_with_what_was_expected() -> None:
    assert "no year 0" in refusal("令和0年")
    assert "no year 0" in refusal("R0.5.1")
    assert "平成 ended in its year 31" in refusal("平成32年")
    assert "there is no day 2026-02-29" in refusal("令和8年2月29日")
    assert "there is no day 2026-04-31" in refusal("令和8年4月31日")
    assert "there is no day 2026-13-01" in refusal("令和8年13月1日")
    assert "there is no day 2026-02-00" in refusal("2026年2月0日")
    assert "before the start of 明治" in refusal("明治元年1月1日")
    assert "before the start of 令和" in refusal("令和元年4月30日")
    expected = (
        "(expected YYYY-MM-DD, 2026年2月2日, 2026/2/2, 令和8年2月2日, 令和元年5月1日 "
        "or R8.2.2)"
    )
    for garbled in (
        "令和8年2月",
        "R8.2/2",
        "R8.2",
        "X8.2.2",
        "令和八年二月二日",
        "2026/2.2",
        "26/2/2",
    ):
        assert refusal(garbled) == f"not a date: {garbled!r} {expected}"


def test_a_letter_and_a_number_are_an_era_only_when_a_date_follows() -> None:
    assert refusal("T16:00").startswith("not a date: 'T16:00' (expected")
    assert "大正 ended in its year 15" in refusal("T16.1.1")


JAPANESE_TYPING = st.text(
    alphabet="明治大正昭和平成令和元年月日時分秒㍻0123456789０１２.．/-－: 　MTSHRrhx",
    max_size=24,
)


@given(JAPANESE_TYPING)
def test_any_text_is_a_date_or_a_one_line_bad_value(text: str) -> None:
    for parse in (parse_date, lambda t: parse_instant(t, TOKYO)):
        try:
            parse(text)
        except BadValue as error:
            assert "\n" not in str(error)


def test_leap_days_follow_the_gregorian_calendar() -> None:
    assert parse_date("令和6年2月29日") == date(2024, 2, 29)
    assert parse_date("平成12年2月29日") == date(2000, 2, 29)
    assert parse_date("H12.2.29") == date(2000, 2, 29)
    assert "no day 1900-02-29" in refusal("明治33年2月29日")


def test_full_width_and_spaced_forms_are_read_as_typed() -> None:
    for form in (
        "令和８年２月２日",
        "Ｒ８．２．２",
        "ｒ８／２／２",
        "Ｒ８－２－２",
        "２０２６年２月２日",
        "令和８年　２月　２日",
        " R 8 . 2 . 2 ",
        "２０２６－０２－０２",
    ):
        assert parse_date(form) == date(2026, 2, 2), form
    # The one-character era signs people paste from word processors.
    assert parse_date("㍻31年4月30日") == date(2019, 4, 30)
    assert parse_date("㋿元年5月1日") == date(2019, 5, 1)
    assert parse_date("㍼63年4月2日") == date(1988, 4, 2)


def test_the_forms_of_the_issue() -> None:
    assert parse_date("2026年2月2日") == date(2026, 2, 2)
    assert parse_date("令和8年2月2日") == date(2026, 2, 2)
    assert parse_date("R8.2.2") == date(2026, 2, 2)
    assert parse_date("昭和63年4月2日") == date(1988, 4, 2)
    assert parse_date("S63.4.2") == date(1988, 4, 2)
    assert parse_date("平成元年1月8日") == date(1989, 1, 8)


def test_a_western_date_with_slashes_or_dots_as_forms_and_spreadsheets_write_it() -> (
    None
):
    for form in ("2026/2/2", "2026/02/02", "2026.2.2", "２０２６／２／２"):
        assert parse_date(form) == date(2026, 2, 2), form
    assert parse_instant("2026/2/2 14:05", TOKYO) == datetime(
        2026, 2, 2, 14, 5, tzinfo=TOKYO
    )
    with pytest.raises(BadValue, match="not an ISO 8601"):
        parse_instant("2026/2/214:05", TOKYO)  # a space must separate them
    assert "there is no day 2026-02-30" in refusal("2026/2/30")
    assert "there is no day 2026-13-01" in refusal("2026/13/1")


def test_iso_8601_is_read_exactly_as_before() -> None:
    assert parse_date("2026-02-02") == date(2026, 2, 2)
    assert parse_instant("2026-02-02", TOKYO) == datetime(2026, 2, 1, 15, tzinfo=UTC)
    assert parse_instant("2026-02-02T14:05", TOKYO) == datetime(
        2026, 2, 2, 5, 5, tzinfo=UTC
    )
    assert parse_instant("2026-02-02T14:05:00Z", TOKYO) == datetime(
        2026, 2, 2, 14, 5, tzinfo=UTC
    )
    assert parse_instant("2026-02-02 14:05+01:00", TOKYO) == datetime(
        2026, 2, 2, 13, 5, tzinfo=UTC
    )
    with pytest.raises(BadValue, match="not an ISO 8601 date or date-time: 'x'"):
        parse_instant("x", TOKYO)
    with pytest.raises(BadValue, match="out of range"):
        parse_instant("1899-12-31", TOKYO)


def test_an_instant_may_carry_a_time_after_a_japanese_date() -> None:
    two_pm = datetime(2026, 2, 2, 14, 5, tzinfo=TOKYO)
    for form in (
        "令和8年2月2日 14:05",
        "令和8年2月2日14:05",
        "2026年2月2日 14時5分",
        "R8.2.2 14:05",
        "Ｒ８．２．２　１４：０５",
        "令和8年2月2日 14:05:00",
    ):
        assert parse_instant(form, TOKYO) == two_pm, form
    assert parse_instant("令和8年2月2日", TOKYO) == datetime(2026, 2, 2, tzinfo=TOKYO)
    assert parse_instant("令和8年2月2日 14時", TOKYO) == datetime(
        2026, 2, 2, 14, tzinfo=TOKYO
    )
    with pytest.raises(BadValue, match="there is no time '25:00'"):
        parse_instant("R8.2.2 25:00", TOKYO)
    with pytest.raises(BadValue, match="not an ISO 8601"):
        parse_instant("R8.2.214:05", TOKYO)  # a space must separate them
    with pytest.raises(BadValue, match="after the end of 平成"):
        parse_instant("平成31年5月1日 9:00", TOKYO)
    with pytest.raises(BadValue, match="out of range"):
        parse_instant("明治32年1月1日", TOKYO)  # 1899: before any business time
    with pytest.raises(BadValue, match="a date without a time of day"):
        parse_date("令和8年2月2日 14:05")


def test_era_dates_before_meiji_cannot_be_written() -> None:
    with pytest.raises(ValueError, match="before 明治"):
        era_date(date(1868, 10, 22))


DAYS = st.dates(min_value=date(1868, 10, 23), max_value=date(2999, 12, 31))


@given(day=DAYS)
def test_every_day_round_trips_through_its_era_date(day: date) -> None:
    written = era_date(day)
    assert parse_date(written) == day
    assert parse_date(written).isoformat() == day.isoformat()
    if day.year >= 1900:  # business times start in 1900
        midnight = datetime(day.year, day.month, day.day, tzinfo=TOKYO)
        assert parse_instant(written, TOKYO) == midnight


@given(
    day=DAYS,
    separator=st.sampled_from("./-"),
    lower=st.booleans(),
    gannen_as_one=st.booleans(),
    full_width=st.booleans(),
)
def test_every_day_round_trips_through_its_initial_form(
    day: date, separator: str, lower: bool, gannen_as_one: bool, full_width: bool
) -> None:
    written = era_date(day)
    era = next(e for e in ERAS if written.startswith(e.name))
    year = day.year - era.first_day.year + 1
    initial = era.initial.lower() if lower else era.initial
    shown = "元" if year == 1 and not gannen_as_one else str(year)
    form = f"{initial}{shown}{separator}{day.month}{separator}{day.day}"
    if full_width:  # what a Japanese keyboard in full-width mode types
        form = form.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
        assert as_typed(form) != form
    assert parse_date(form) == day, form


@given(day=DAYS)
def test_every_day_round_trips_through_its_gregorian_kanji_form(day: date) -> None:
    assert parse_date(f"{day.year}年{day.month}月{day.day}日") == day


@given(st.text(alphabet=st.characters(max_codepoint=0x7E, min_codepoint=0x20)))
def test_ascii_is_already_as_typed(text: str) -> None:
    """So no stored ASCII value, and no blind index of an ASCII email, changes."""
    assert as_typed(text) == text


def test_as_typed_folds_what_keyboards_and_old_systems_produce() -> None:
    assert as_typed("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ") == "taro@example.jp"
    assert as_typed("０９０－１２３４－５６７８") == "090-1234-5678"
    assert as_typed("Ａ１") == "A1"
    assert as_typed("山田　太郎") == "山田 太郎"
    assert as_typed("ﾔﾏﾀﾞ ﾀﾛｳ") == "ヤマダ タロウ"  # half-width kana: full-width
    assert as_typed("ｶﾞｷﾞｸﾞｹﾞｺﾞﾊﾟ") == "ガギグゲゴパ"  # voiced marks join
    # Kanji and full-width kana are kept as they are, variants included.
    for name in ("髙橋 﨑子", "山﨑 太郎", "ヤマダ たろう", "渡邊 邉"):
        assert as_typed(name) == name
