"""The working-day calendar: 2026 facts, fallback years, operator additions, counting."""

from __future__ import annotations

import ast
import logging
import random
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import holidays
import pytest

from scheduler.calendar import (
    CONFIG_TABLE,
    SHANGHAI,
    WorkingCalendar,
    YearSchedule,
    parse_year_schedules,
)

D = date

# Facts from the State Council notice of 2025-11-04.
MAKE_UP_2026 = [
    D(2026, 1, 4),  # Sunday
    D(2026, 2, 14),  # Saturday
    D(2026, 2, 28),  # Saturday
    D(2026, 5, 9),  # Saturday
    D(2026, 9, 20),  # Sunday
    D(2026, 10, 10),  # Saturday
]
SPRING_FESTIVAL_2026 = [D(2026, 2, 15) + timedelta(days=i) for i in range(9)]  # 2/15–2/23
NATIONAL_DAY_2026 = [D(2026, 10, 1) + timedelta(days=i) for i in range(7)]  # 10/1–10/7

# A made-up 2027 arrangement for tests only (NOT the real notice): National Day 10/1–10/7 off,
# Saturday 10/9 worked in exchange.
HYPOTHETICAL_2027 = YearSchedule(
    holidays=frozenset(D(2027, 10, 1) + timedelta(days=i) for i in range(7)),
    workdays=frozenset({D(2027, 10, 9)}),
)


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# -- 2026 facts ------------------------------------------------------------------------------


@pytest.mark.parametrize("day", MAKE_UP_2026, ids=str)
def test_2026_weekend_make_up_days_are_working_days(cal: WorkingCalendar, day: date) -> None:
    assert day.weekday() >= 5  # really a weekend day
    assert cal.is_working_day(day)


@pytest.mark.parametrize("day", SPRING_FESTIVAL_2026 + NATIONAL_DAY_2026, ids=str)
def test_2026_golden_weeks_are_days_off(cal: WorkingCalendar, day: date) -> None:
    assert not cal.is_working_day(day)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 1, 1), False),  # New Year's Day, Thursday
        (D(2026, 1, 2), False),  # Friday, in lieu of Sunday 1/4
        (D(2026, 1, 3), False),  # Saturday
        (D(2026, 1, 5), True),  # ordinary Monday
        (D(2026, 3, 7), False),  # ordinary Saturday
        (D(2026, 3, 8), False),  # ordinary Sunday
        (D(2026, 9, 25), False),  # Mid-Autumn Festival, Friday
        (D(2026, 10, 8), True),  # Thursday after National Day
        (D(2026, 10, 11), False),  # Sunday after the make-up Saturday
        (D(2026, 12, 31), True),  # Thursday
    ],
    ids=str,
)
def test_2026_single_days(cal: WorkingCalendar, day: date, working: bool) -> None:
    assert cal.is_working_day(day) is working
    assert not cal.is_estimated(day)


def test_2026_has_248_working_days(cal: WorkingCalendar) -> None:
    # 261 weekdays (2026 starts on a Thursday: 52 weeks + Thursday 12/31), minus 19 weekday
    # holidays (1/1-2, 2/16-20, 2/23, 4/6, 5/1, 5/4-5, 6/19, 9/25, 10/1-2, 10/5-7), plus 6
    # make-up weekend days.
    assert cal.working_days_between(D(2025, 12, 31), D(2026, 12, 31)) == 248
    assert len(cal.working_days_in(D(2026, 1, 1), D(2026, 12, 31))) == 248


def test_agrees_with_chinese_calendar_for_every_day_it_knows(cal: WorkingCalendar) -> None:
    day = D(2004, 1, 1)
    while day <= D(2026, 12, 31):
        assert cal.is_working_day(day) is chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_chinese_calendar_is_consulted_once_per_year(
    cal: WorkingCalendar, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[date] = []
    real = chinese_calendar.is_workday

    def counting(day: date) -> bool:
        calls.append(day)
        return bool(real(day))

    monkeypatch.setattr(chinese_calendar, "is_workday", counting)
    cal.is_working_day(D(2026, 10, 10))
    first = len(calls)
    for _ in range(1000):
        cal.is_working_day(D(2026, 10, 10))
        cal.working_days_between(D(2026, 1, 1), D(2026, 12, 31))
    assert len(calls) == first


# -- status ----------------------------------------------------------------------------------


def test_year_status_of_a_year_chinese_calendar_knows(cal: WorkingCalendar) -> None:
    status = cal.year_status(2026)
    assert (status.confirmed, status.source, status.estimated) == (True, "chinese-calendar", False)
    assert status.hint == ""
    assert status.estimated_holidays == ()


def test_year_status_of_an_unconfirmed_year(cal: WorkingCalendar) -> None:
    status = cal.year_status(2027)
    assert (status.confirmed, status.source, status.estimated) == (False, "estimated", True)
    days_off = dict(status.estimated_holidays)
    assert D(2027, 10, 1) in days_off
    assert D(2027, 2, 6) in days_off  # Spring Festival 2027 is on Saturday 6 February
    assert f"[{CONFIG_TABLE}.2027]" in status.hint
    assert "2027年部分节假日安排" in status.hint


def test_hint_is_valid_toml_that_loads_as_additions(cal: WorkingCalendar) -> None:
    hint = cal.year_status(2027).hint
    snippet = hint[hint.index("[") :]
    parsed = tomllib.loads(snippet)
    table = parsed
    for key in CONFIG_TABLE.split("."):
        table = table[key]
    assert parse_year_schedules(table) == {2027: YearSchedule()}


def test_configured_year_is_confirmed(cal: WorkingCalendar) -> None:
    configured = WorkingCalendar({2027: HYPOTHETICAL_2027})
    status = configured.year_status(2027)
    assert (status.confirmed, status.source) == (True, "config")
    assert not configured.is_estimated(D(2027, 10, 9))
    assert cal.is_estimated(D(2027, 10, 9))


def test_years_before_chinese_calendar_are_estimated(cal: WorkingCalendar) -> None:
    assert cal.year_status(2003).source == "estimated"


# -- fallback for unconfirmed years ----------------------------------------------------------


def test_2027_falls_back_to_weekends_and_the_holidays_package(cal: WorkingCalendar) -> None:
    known = holidays.country_holidays("CN", years=2027)
    day = D(2027, 1, 1)
    while day.year == 2027:
        assert cal.is_working_day(day) is (day.weekday() < 5 and day not in known), day
        assert cal.is_estimated(day)
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2027, 1, 1), False),  # New Year's Day, Friday
        (D(2027, 2, 5), False),  # Spring Festival's eve, Friday
        (D(2027, 2, 9), False),  # Tuesday, in lieu of Saturday 2/6 (rule-derived)
        (D(2027, 2, 11), True),  # Thursday: no notice yet, so an ordinary day
        (D(2027, 10, 4), False),  # Monday, in lieu of Saturday 10/2 (rule-derived)
        (D(2027, 10, 9), False),  # Saturday: make-up days are unknown without a notice
    ],
    ids=str,
)
def test_2027_estimated_days(cal: WorkingCalendar, day: date, working: bool) -> None:
    assert cal.is_working_day(day) is working


def test_warning_is_logged_once_per_unconfirmed_year(
    cal: WorkingCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="scheduler.calendar")
    for _ in range(3):
        cal.is_working_day(D(2027, 3, 1))
        cal.working_days_between(D(2026, 12, 1), D(2028, 2, 1))
    warned = [r for r in caplog.records if r.name == "scheduler.calendar"]
    assert [r.levelno for r in warned] == [logging.WARNING, logging.WARNING]
    assert "2027" in warned[0].getMessage()
    assert "2028" in warned[1].getMessage()


def test_no_warning_for_confirmed_years(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="scheduler.calendar")
    configured = WorkingCalendar({2027: HYPOTHETICAL_2027})
    configured.working_days_between(D(2025, 1, 1), D(2027, 12, 31))
    assert caplog.records == []


# -- operator additions ----------------------------------------------------------------------


def test_configured_year_replaces_the_estimate() -> None:
    configured = WorkingCalendar({2027: HYPOTHETICAL_2027})
    assert configured.is_working_day(D(2027, 10, 9))  # configured make-up Saturday
    assert not configured.is_working_day(D(2027, 10, 6))  # configured day off (Wednesday)
    # Tuesday 2/9 was an estimated day in lieu; the configured notice does not list it.
    assert configured.is_working_day(D(2027, 2, 9))
    # Statutory holidays stay off even when the operator lists only one break.
    assert not configured.is_working_day(D(2027, 1, 1))
    assert not configured.is_working_day(D(2027, 5, 1))  # Saturday anyway; still off


def test_configuration_overrides_chinese_calendar() -> None:
    # A local extra day off on Thursday 2026-10-08, and Sunday 10/11 worked in exchange.
    configured = WorkingCalendar(
        {
            2026: YearSchedule(
                holidays=frozenset({D(2026, 10, 8)}), workdays=frozenset({D(2026, 10, 11)})
            )
        }
    )
    assert not configured.is_working_day(D(2026, 10, 8))
    assert configured.is_working_day(D(2026, 10, 11))
    assert configured.is_working_day(D(2026, 10, 10))  # the base still applies elsewhere
    assert configured.year_status(2026).source == "config"


def test_schedule_rejects_a_day_both_off_and_on() -> None:
    with pytest.raises(ValueError, match="2027-10-09"):
        YearSchedule(holidays=frozenset({D(2027, 10, 9)}), workdays=frozenset({D(2027, 10, 9)}))


def test_schedule_rejects_datetimes() -> None:
    with pytest.raises(TypeError):
        YearSchedule(holidays=frozenset({datetime(2027, 10, 9, tzinfo=SHANGHAI)}))


def test_additions_reject_days_of_another_year() -> None:
    with pytest.raises(ValueError, match="2028-01-01"):
        WorkingCalendar({2027: YearSchedule(holidays=frozenset({D(2028, 1, 1)}))})


def test_parse_year_schedules_reads_dates_strings_and_ranges() -> None:
    raw = tomllib.loads(
        """
        [calendar.2027]
        holidays = [2027-01-01, "2027-10-01..2027-10-07"]
        workdays = ["2027-10-09"]
        """
    )
    parsed = parse_year_schedules(raw["calendar"])
    schedule = parsed[2027]
    assert schedule.holidays == HYPOTHETICAL_2027.holidays | {D(2027, 1, 1)}
    assert schedule.workdays == HYPOTHETICAL_2027.workdays


@pytest.mark.parametrize(
    "table",
    [
        {"holiday": ["2027-10-01"]},  # typo in the key
        {"holidays": ["2027-10-07..2027-10-01"]},  # backwards range
        {"holidays": ["10/01/2027"]},  # not ISO
    ],
)
def test_parse_year_schedules_rejects_mistakes(table: dict[str, list[str]]) -> None:
    with pytest.raises(ValueError, match=r"unknown keys|empty date range|Invalid isoformat"):
        parse_year_schedules({"2027": table})


# -- walking and counting --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 9, 30), D(2026, 10, 8)),  # over National Day
        (D(2026, 10, 9), D(2026, 10, 10)),  # Friday → make-up Saturday
        (D(2026, 10, 10), D(2026, 10, 12)),
        (D(2025, 12, 31), D(2026, 1, 4)),  # over New Year, to make-up Sunday
        (D(2026, 2, 14), D(2026, 2, 24)),  # make-up Saturday → after Spring Festival
    ],
    ids=str,
)
def test_next_working_day(cal: WorkingCalendar, day: date, expected: date) -> None:
    assert cal.next_working_day(day) == expected


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (D(2026, 10, 8), 0, D(2026, 10, 8)),  # working day: itself
        (D(2026, 10, 3), 0, D(2026, 10, 8)),  # rest day: the next working day
        (D(2026, 9, 30), 7, D(2026, 10, 15)),
        (D(2026, 12, 30), 2, D(2027, 1, 4)),  # 12/31, then 2027: 1/1 off (estimated), 1/4
        (D(2026, 1, 1), 248, D(2026, 12, 31)),  # the whole year's working days
        # 2027 (estimated): 261 weekdays minus 13 weekday holidays the holidays package lists
        # (1/1, 2/5, 2/8-10, 4/5, 5/3-4, 6/9, 9/15, 10/1, 10/4-5) = 248.
        (D(2026, 1, 1), 248 + 248, D(2027, 12, 31)),
    ],
    ids=str,
)
def test_nth_working_day_after(cal: WorkingCalendar, day: date, n: int, expected: date) -> None:
    assert cal.nth_working_day_after(day, n) == expected


def test_nth_working_day_after_rejects_negative_n(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="n must be >= 0"):
        cal.nth_working_day_after(D(2026, 1, 5), -1)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2026, 9, 30), D(2026, 10, 15), 7),  # 10/8, 9, 10, 12, 13, 14, 15
        (D(2026, 10, 15), D(2026, 9, 30), -7),
        (D(2026, 10, 1), D(2026, 10, 7), 0),  # inside National Day
        (D(2026, 10, 5), D(2026, 10, 5), 0),
        (D(2026, 10, 8), D(2026, 10, 8), 0),  # start is never counted
        (D(2026, 10, 7), D(2026, 10, 8), 1),
        (D(2026, 2, 13), D(2026, 3, 2), 7),  # 2/14, 24, 25, 26, 27, 28, 3/2
    ],
    ids=str,
)
def test_working_days_between(cal: WorkingCalendar, start: date, end: date, expected: int) -> None:
    assert cal.working_days_between(start, end) == expected


def test_working_days_between_matches_a_day_by_day_count(cal: WorkingCalendar) -> None:
    rng = random.Random(12345)
    origin = D(2024, 6, 1)
    for _ in range(300):
        start = origin + timedelta(days=rng.randrange(1300))  # up to late 2027
        end = origin + timedelta(days=rng.randrange(1300))
        lo, hi = sorted((start, end))
        naive = sum(
            cal.is_working_day(lo + timedelta(days=i)) for i in range(1, (hi - lo).days + 1)
        )
        assert cal.working_days_between(start, end) == (naive if end >= start else -naive)
        # working_days_in is inclusive at both ends: (lo, hi] == [lo + 1 day, hi]
        assert len(cal.working_days_in(lo + timedelta(days=1), hi)) == naive


def test_working_days_in_is_inclusive(cal: WorkingCalendar) -> None:
    assert cal.working_days_in(D(2026, 10, 8), D(2026, 10, 12)) == [
        D(2026, 10, 8),
        D(2026, 10, 9),
        D(2026, 10, 10),
        D(2026, 10, 12),
    ]
    assert cal.working_days_in(D(2026, 10, 12), D(2026, 10, 8)) == []
    assert cal.working_days_in(D(2026, 12, 31), D(2027, 1, 4)) == [D(2026, 12, 31), D(2027, 1, 4)]


def test_datetimes_are_refused_where_a_day_is_expected(cal: WorkingCalendar) -> None:
    # Which calendar day a datetime falls on depends on its zone: the caller must decide.
    moment = datetime(2026, 10, 10, 1, tzinfo=SHANGHAI)
    with pytest.raises(TypeError):
        cal.is_working_day(moment)
    with pytest.raises(TypeError):
        cal.working_days_between(moment, D(2026, 10, 12))


# -- architecture ----------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["calendar", "deadlines", "working_hours"])
def test_imports_no_framework(module: str) -> None:
    allowed = {
        "__future__",
        "bisect",
        "collections",
        "dataclasses",
        "datetime",
        "logging",
        "threading",
        "typing",
        "zoneinfo",
        "chinese_calendar",
        "holidays",
        "scheduler",
    }
    path = Path(__file__).parent.parent / "scheduler" / f"{module}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
            if node.module.split(".")[0] == "scheduler":
                assert node.module in {"scheduler.calendar"}, node.module
    assert imported <= allowed


def test_additions_accept_year_keys_as_strings() -> None:
    # TOML table keys are strings; a loader that forgets to convert them still works.
    configured = WorkingCalendar({"2027": HYPOTHETICAL_2027})  # type: ignore[dict-item]
    assert configured.year_status(2027).source == "config"
