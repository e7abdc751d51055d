"""The Chinese working-day calendar: weekdays, minus public holidays, plus make-up days (调休).

Each year's answer comes from one of three sources, in this order:

1. ``config``: an operator entered the State Council notice (国务院办公厅关于某年部分节假日安排的
   通知) as a :class:`YearSchedule`. It overrides everything else; the year is *confirmed*.
2. ``chinese-calendar``: the package knows the year (2004–2026 in version 1.11); *confirmed*.
3. ``estimated``: weekends plus the legal holidays (and the observed days it derives by rule)
   that the ``holidays`` package knows; make-up working days are unknown, so answers for such
   a year are marked *estimated* and a warning is logged once per year.

Framework-free on purpose: standard library, ``chinese_calendar`` and ``holidays`` only.
"""

from __future__ import annotations

import logging
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays as holidays_lib

logger = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")

#: Where the configuration file keeps calendar additions; used in the hint shown to operators.
CONFIG_TABLE = "calendar"

Source = Literal["chinese-calendar", "config", "estimated"]

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class YearSchedule:
    """One year's holiday arrangement, as an operator copies it from the State Council notice.

    ``holidays`` are days off (every day of each break; listing weekend days is harmless);
    ``workdays`` are working days, normally the weekend make-up days (调休上班). Both override
    the base calendar. For a year chinese-calendar does not know, the base is Monday–Friday
    minus the holidays the ``holidays`` package lists for China *without* its rule-derived
    observed days (statutory days are fixed by law; which days are given in lieu is up to the
    notice).
    """

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        # Callers (and config loaders) naturally pass sets or lists; store immutable sets.
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        for day in self.holidays | self.workdays:
            if isinstance(day, datetime) or not isinstance(day, date):
                raise TypeError(f"expected datetime.date, got {day!r}")
        both = self.holidays & self.workdays
        if both:
            listed = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"dates listed both as holidays and as workdays: {listed}")


@dataclass(frozen=True)
class YearStatus:
    """Where a year's working days come from, and what an operator should do about it."""

    year: int
    confirmed: bool
    source: Source
    #: For an estimated year: the days off assumed, with the ``holidays`` package's names.
    estimated_holidays: tuple[tuple[date, str], ...] = ()
    #: For an estimated year: weekend working days the ``holidays`` package knows (often none).
    estimated_workdays: tuple[date, ...] = ()
    #: For an estimated year: what to add to the configuration file; empty otherwise.
    hint: str = ""

    @property
    def estimated(self) -> bool:
        return not self.confirmed


@dataclass(frozen=True)
class _Year:
    status: YearStatus
    working: tuple[date, ...]  # sorted, for bisect
    working_set: frozenset[date] = field(repr=False)


def _check_date(day: date) -> None:
    # A datetime is a date subclass but never equals one, and its calendar day depends on its
    # zone: make the caller pick the local day explicitly (deadlines.local_date).
    if isinstance(day, datetime):
        raise TypeError("expected a datetime.date, got a datetime; use deadlines.local_date()")


def _days_of(year: int) -> Iterable[date]:
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += _ONE_DAY


def _chinese_calendar_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _make_up_days(year: int, known: holidays_lib.HolidayBase) -> set[date]:
    # weekend_workdays also carries a few make-up days of other years (those of notices that
    # straddle a new year), whatever years were asked for: keep this year's only.
    return {d for d in known.weekend_workdays if d.year == year}


def _weekdays_minus(year: int, known: holidays_lib.HolidayBase) -> set[date]:
    """Monday–Friday minus ``known`` days off, plus the make-up days ``known`` has from a notice."""
    weekdays = {d for d in _days_of(year) if d.weekday() < 5 and d not in known}
    return weekdays | _make_up_days(year, known)


def _hint(year: int, make_up_known: bool) -> str:
    missing = "" if make_up_known else ", without make-up working days (调休)"
    return (
        f"{year} has no confirmed holiday schedule: working days in {year} are estimated from "
        f"weekends and the holidays the `holidays` package knows (statutory days and days off in "
        f"lieu derived by rule){missing}. When the State Council publishes "
        f"国务院办公厅关于{year}年部分节假日安排的通知, add it to the configuration file:\n"
        f"[{CONFIG_TABLE}.{year}]\n"
        f"holidays = []  # every day off, e.g. {year}-10-01, or a range "
        f'"{year}-10-01..{year}-10-07"\n'
        f"workdays = []  # weekend make-up working days (调休上班)\n"
    )


class WorkingCalendar:
    """Answers "is this a working day?" and counts working days, year by year.

    Each year is computed once, on first use, into a sorted tuple of its working days; later
    queries are a set lookup or a bisect. The warning for an estimated year is logged once per
    year per calendar instance (build one calendar per process and share it).
    """

    def __init__(self, additions: Mapping[int, YearSchedule] | None = None) -> None:
        self._additions: dict[int, YearSchedule] = {}
        for key, schedule in (additions or {}).items():
            year = int(key)  # tolerate string keys straight from a TOML table
            if not isinstance(schedule, YearSchedule):
                raise TypeError(f"additions[{year!r}] must be a YearSchedule")
            stray = [d for d in schedule.holidays | schedule.workdays if d.year != year]
            if stray:
                listed = ", ".join(d.isoformat() for d in sorted(stray))
                raise ValueError(f"calendar additions for {year} contain other years: {listed}")
            self._additions[year] = schedule
        self._years: dict[int, _Year] = {}
        self._lock = threading.Lock()

    # -- per-year data -------------------------------------------------------------------

    def _year(self, year: int) -> _Year:
        data = self._years.get(year)
        if data is None:
            with self._lock:
                data = self._years.get(year)
                if data is None:
                    data = self._build_year(year)
                    self._years[year] = data
        return data

    def _build_year(self, year: int) -> _Year:
        schedule = self._additions.get(year)
        if _chinese_calendar_knows(year):
            working = {d for d in _days_of(year) if chinese_calendar.is_workday(d)}
            status = YearStatus(year, True, "chinese-calendar")
        elif schedule is not None:
            # Rule-derived observed days are guesses; the operator's notice decides them.
            known = holidays_lib.country_holidays("CN", years=year, observed=False)
            working = _weekdays_minus(year, known)
            status = YearStatus(year, True, "config")
        else:
            known = holidays_lib.country_holidays("CN", years=year)  # observed (补假) included
            working = _weekdays_minus(year, known)
            make_up = _make_up_days(year, known)
            status = YearStatus(
                year,
                False,
                "estimated",
                estimated_holidays=tuple(sorted((d, str(name)) for d, name in known.items())),
                estimated_workdays=tuple(sorted(make_up)),
                hint=_hint(year, make_up_known=bool(make_up)),
            )
            logger.warning(
                "No confirmed holiday schedule for %d: deadlines in it are estimated from "
                "weekends, %d holidays and %d make-up working days of the `holidays` package. "
                "Add the State Council notice under [%s.%d] in the configuration.",
                year,
                len(status.estimated_holidays),
                len(make_up),
                CONFIG_TABLE,
                year,
            )
        if schedule is not None:
            working -= schedule.holidays
            working |= schedule.workdays
            status = YearStatus(year, True, "config")
        ordered = tuple(sorted(working))
        return _Year(status=status, working=ordered, working_set=frozenset(ordered))

    # -- questions about one day ---------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """True if ``day`` (a local Asia/Shanghai calendar day) is a working day."""
        _check_date(day)
        return day in self._year(day.year).working_set

    def is_estimated(self, day: date) -> bool:
        """True if the answer for ``day`` is an estimate (its year is not confirmed)."""
        _check_date(day)
        return not self._year(day.year).status.confirmed

    def year_status(self, year: int) -> YearStatus:
        """Where ``year``'s working days come from; for an estimated year, what to configure."""
        return self._year(year).status

    def estimated_years(self, start: date, end: date) -> list[int]:
        """The unconfirmed years among those of ``start`` … ``end`` (inclusive, any order)."""
        first, last = sorted((start.year, end.year))
        return [y for y in range(first, last + 1) if not self._year(y).status.confirmed]

    # -- walking and counting ------------------------------------------------------------

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return self.nth_working_day_after(day, 1)

    def nth_working_day_after(self, day: date, n: int) -> date:
        """The ``n``-th working day strictly after ``day``.

        ``n == 0`` returns ``day`` itself if it is a working day, else the next working day.
        """
        _check_date(day)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return day if self.is_working_day(day) else self.next_working_day(day)
        year = day.year
        working = self._year(year).working
        index = bisect_right(working, day) + n - 1
        # Whole years are skipped by their length, never walked day by day.
        while index >= len(working):
            index -= len(working)
            year += 1
            working = self._year(year).working
        return working[index]

    def _count_through(self, day: date) -> int:
        """Working days from 1 January of ``day``'s year through ``day``."""
        return bisect_right(self._year(day.year).working, day)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in the half-open interval (``start``, ``end``].

        ``start`` itself is not counted (the day of receipt), ``end`` is. When ``end < start``
        the result is minus the count of working days in (``end``, ``start``].
        """
        _check_date(start)
        _check_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        count = self._count_through(end) - self._count_through(start)
        for year in range(start.year, end.year):
            count += len(self._year(year).working)
        return count

    def working_days_in(self, start: date, end: date) -> list[date]:
        """The working days from ``start`` to ``end``, both included; empty if ``end < start``."""
        _check_date(start)
        _check_date(end)
        result: list[date] = []
        for year in range(start.year, end.year + 1):
            working = self._year(year).working
            lo = bisect_left(working, start) if year == start.year else 0
            hi = bisect_right(working, end) if year == end.year else len(working)
            result.extend(working[lo:hi])
        return result


def _parse_day_or_range(value: object, year: int) -> list[date]:
    if isinstance(value, datetime):
        raise TypeError(f"expected a date, got a datetime: {value!r}")
    if isinstance(value, date):
        return [value]
    if isinstance(value, str):
        first, sep, last = value.partition("..")
        start = date.fromisoformat(first.strip())
        end = date.fromisoformat(last.strip()) if sep else start
        if end < start:
            raise ValueError(f"empty date range {value!r}")
        return [start + timedelta(days=i) for i in range((end - start).days + 1)]
    raise TypeError(f"expected a date or an ISO date string for {year}, got {value!r}")


def parse_year_schedules(
    raw: Mapping[str, Mapping[str, Iterable[object]]]
    | Mapping[int, Mapping[str, Iterable[object]]],
) -> dict[int, YearSchedule]:
    """Turn the configuration table (e.g. ``[calendar.2027]``) into calendar additions.

    Each entry may be a ``date`` (TOML bare dates), an ISO string ``"2027-10-01"`` or an
    inclusive range ``"2027-10-01..2027-10-07"``. Unknown keys are rejected so that a typo does
    not silently drop a notice.
    """
    result: dict[int, YearSchedule] = {}
    for key, table in raw.items():
        year = int(key)
        unknown = set(table) - {"holidays", "workdays"}
        if unknown:
            raise ValueError(f"unknown keys for calendar year {year}: {sorted(unknown)}")
        days_off = [d for v in table.get("holidays", ()) for d in _parse_day_or_range(v, year)]
        days_on = [d for v in table.get("workdays", ()) for d in _parse_day_or_range(v, year)]
        result[year] = YearSchedule(holidays=frozenset(days_off), workdays=frozenset(days_on))
    return result
