"""Periods as supervisors type them: relative words, calendar units, ranges, and mistakes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from handlers.reports import Period, PeriodError, parse_period, period_label

FRIDAY = date(2026, 11, 27)  # the Friday of the week 23–29 November 2026


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("today", date(2026, 11, 27), date(2026, 11, 27), "2026-11-27"),
        ("yesterday", date(2026, 11, 26), date(2026, 11, 26), "2026-11-26"),
        ("week", date(2026, 11, 23), date(2026, 11, 27), "2026-11-23..2026-11-27"),
        ("month", date(2026, 11, 1), date(2026, 11, 27), "2026-11-01..2026-11-27"),
        ("quarter", date(2026, 10, 1), date(2026, 11, 27), "2026-10-01..2026-11-27"),
        ("year", date(2026, 1, 1), date(2026, 11, 27), "2026-01-01..2026-11-27"),
        ("last-week", date(2026, 11, 16), date(2026, 11, 22), "2026-11-16..2026-11-22"),
        ("last-month", date(2026, 10, 1), date(2026, 10, 31), "2026-10"),
        ("last-quarter", date(2026, 7, 1), date(2026, 9, 30), "2026-Q3"),
        ("last-year", date(2025, 1, 1), date(2025, 12, 31), "2025"),
        ("  MONTH ", date(2026, 11, 1), date(2026, 11, 27), "2026-11-01..2026-11-27"),
        ("本月", date(2026, 11, 1), date(2026, 11, 27), "2026-11-01..2026-11-27"),
        ("上月", date(2026, 10, 1), date(2026, 10, 31), "2026-10"),
        ("今天", FRIDAY, FRIDAY, "2026-11-27"),
        ("2026", date(2026, 1, 1), date(2026, 12, 31), "2026"),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28), "2026-02"),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "2024-02"),  # a leap year
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31), "2026-12"),
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31), "2026-Q1"),
        ("2026q4", date(2026, 10, 1), date(2026, 12, 31), "2026-Q4"),
        ("2026-11-05", date(2026, 11, 5), date(2026, 11, 5), "2026-11-05"),
        ("2026-11-01..2026-11-15", date(2026, 11, 1), date(2026, 11, 15), "2026-11-01..2026-11-15"),
        ("2026-11-01 2026-11-15", date(2026, 11, 1), date(2026, 11, 15), "2026-11-01..2026-11-15"),
        (
            "2026-11-01 ~ 2026-11-15",
            date(2026, 11, 1),
            date(2026, 11, 15),
            "2026-11-01..2026-11-15",
        ),
        ("2026-11-01至2026-11-15", date(2026, 11, 1), date(2026, 11, 15), "2026-11-01..2026-11-15"),
        ("2026-11-05..2026-11-05", date(2026, 11, 5), date(2026, 11, 5), "2026-11-05"),
        # each side of a range may be any single form: this range is a whole quarter
        ("2026-01..2026-03", date(2026, 1, 1), date(2026, 3, 31), "2026-Q1"),
        ("2026-11-01..today", date(2026, 11, 1), FRIDAY, "2026-11-01..2026-11-27"),
        ("2025-12-31 2026-01-01", date(2025, 12, 31), date(2026, 1, 1), "2025-12-31..2026-01-01"),
    ],
)
def test_parse_period(text: str, start: date, end: date, label: str) -> None:
    assert parse_period(text, FRIDAY) == Period(start, end, label)


def test_relative_words_at_the_turn_of_the_year() -> None:
    new_year = date(2027, 1, 1)  # a Friday
    assert parse_period("last-month", new_year) == Period(date(2026, 12, 1), date(2026, 12, 31))
    assert parse_period("last-quarter", new_year).label == "2026-Q4"
    assert parse_period("quarter", new_year) == Period(new_year, new_year)
    assert parse_period("week", new_year).start == date(2026, 12, 28)  # Monday of that week
    assert parse_period("yesterday", new_year).start == date(2026, 12, 31)


@pytest.mark.parametrize(
    ("text", "english", "chinese"),
    [
        ("", "no period given", "请给出时间段"),
        ("   ", "no period given", "请给出时间段"),
        ("lastmonth", "unknown period 'lastmonth'", "无法识别"),
        ("2026-13", "there is no month 13", "没有 13 月"),
        ("2026-00", "there is no month 0", "没有 0 月"),
        ("2026-02-30", "no such date: '2026-02-30'", "日期不存在"),
        ("2026-Q5", "there is no quarter Q5", "没有第 5 季度"),
        ("2026-Q0", "there is no quarter Q0", "没有第 0 季度"),
        ("1999", "year 1999", "1999"),
        ("2206-01", "year 2206", "2206"),
        ("2026-11-15..2026-11-01", "ends (2026-11-01) before it starts (2026-11-15)", "早于"),
        ("2026-11-01..", "unknown period '2026-11-01..'", "无法识别"),
        ("2026-11-01 2026-11-15 2026-12-01", "unknown period", "无法识别"),
        ("2026-11-01..2026-11-15..2026-12-01", "unknown period", "无法识别"),
        ("2026/11/01", "unknown period", "无法识别"),
        ("next-month", "unknown period", "无法识别"),
    ],
)
def test_bad_periods(text: str, english: str, chinese: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(text, FRIDAY)
    error = caught.value
    assert isinstance(error, ValueError)
    assert english in str(error)
    assert chinese in error.message("zh")
    assert error.message("en") == str(error)
    assert "\n" not in str(error)
    assert "\n" not in error.zh


def test_a_period_is_local_days_in_shanghai() -> None:
    november = Period(date(2026, 11, 1), date(2026, 11, 30))
    assert november.label == "2026-11"
    assert november.days == 30
    # 1 Nov 00:00 and 1 Dec 00:00 in Shanghai (UTC+8, no daylight saving) are 16:00 UTC
    assert november.utc_bounds() == (
        datetime(2026, 10, 31, 16, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 16, 0, tzinfo=UTC),
    )


def test_a_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(PeriodError):
        Period(date(2026, 11, 2), date(2026, 11, 1))


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        (date(2026, 1, 1), date(2026, 12, 31), "2026"),
        (date(2026, 4, 1), date(2026, 6, 30), "2026-Q2"),
        (date(2026, 4, 1), date(2026, 4, 30), "2026-04"),
        (date(2026, 4, 2), date(2026, 4, 30), "2026-04-02..2026-04-30"),
        (date(2026, 2, 1), date(2026, 4, 30), "2026-02-01..2026-04-30"),  # not a quarter
    ],
)
def test_period_labels(start: date, end: date, label: str) -> None:
    assert period_label(start, end) == label
