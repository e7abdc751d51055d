"""Office hours: open 08:30–18:00 Shanghai on working days (closing time exclusive)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from scheduler.calendar import SHANGHAI, WorkingCalendar, YearSchedule
from scheduler.working_hours import WorkingHours, is_open, next_opening

DEFAULT = WorkingHours()


def sh(y: int, m: int, d: int, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.mark.parametrize(
    ("now", "expected_open", "expected_next"),
    [
        # Tuesday night → Wednesday morning.
        pytest.param(sh(2026, 10, 13, 23), False, sh(2026, 10, 14, 8, 30), id="tue-night"),
        pytest.param(sh(2026, 10, 14, 0, 5), False, sh(2026, 10, 14, 8, 30), id="after-midnight"),
        pytest.param(sh(2026, 10, 14, 8, 29, 59), False, sh(2026, 10, 14, 8, 30), id="just-before"),
        # Open: next_opening is now itself.
        pytest.param(sh(2026, 10, 14, 8, 30), True, sh(2026, 10, 14, 8, 30), id="opening-time"),
        pytest.param(sh(2026, 10, 14, 17, 59, 59), True, sh(2026, 10, 14, 17, 59, 59), id="last"),
        # Friday evening → Monday morning.
        pytest.param(sh(2026, 10, 16, 18), False, sh(2026, 10, 19, 8, 30), id="fri-closing"),
        pytest.param(sh(2026, 10, 16, 21), False, sh(2026, 10, 19, 8, 30), id="fri-evening"),
        pytest.param(sh(2026, 10, 17, 10), False, sh(2026, 10, 19, 8, 30), id="saturday"),
        # Friday 10/9 evening → the make-up Saturday 10/10.
        pytest.param(sh(2026, 10, 9, 19), False, sh(2026, 10, 10, 8, 30), id="fri-to-make-up-sat"),
        pytest.param(sh(2026, 10, 10, 10), True, sh(2026, 10, 10, 10), id="make-up-saturday"),
        pytest.param(sh(2026, 9, 20, 10), True, sh(2026, 9, 20, 10), id="make-up-sunday"),
        # National Day: closed 10/1–10/7, opens Thursday 10/8.
        pytest.param(sh(2026, 10, 1, 10), False, sh(2026, 10, 8, 8, 30), id="national-day"),
        pytest.param(sh(2026, 9, 30, 18, 30), False, sh(2026, 10, 8, 8, 30), id="holiday-eve"),
        # Spring Festival: closed 2/15–2/23, opens Tuesday 2/24.
        pytest.param(sh(2026, 2, 14, 19), False, sh(2026, 2, 24, 8, 30), id="spring-festival"),
    ],
)
def test_default_hours(
    cal: WorkingCalendar, now: datetime, expected_open: bool, expected_next: datetime
) -> None:
    assert is_open(now, DEFAULT, cal) is expected_open
    opening = next_opening(now, DEFAULT, cal)
    assert opening == expected_next
    assert opening.tzinfo is UTC


def test_utc_night_is_a_shanghai_morning(cal: WorkingCalendar) -> None:
    # 00:00 UTC is 08:00 in Shanghai: closed, opens 30 minutes later.
    now = datetime(2026, 10, 14, 0, 0, tzinfo=UTC)
    assert not is_open(now, DEFAULT, cal)
    assert next_opening(now, DEFAULT, cal) == datetime(2026, 10, 14, 0, 30, tzinfo=UTC)
    # 02:00 UTC is 10:00 in Shanghai: open.
    assert is_open(datetime(2026, 10, 14, 2, 0, tzinfo=UTC), DEFAULT, cal)


def test_custom_hours(cal: WorkingCalendar) -> None:
    hours = WorkingHours(opens=time(9, 0), closes=time(17, 0))
    assert not is_open(sh(2026, 10, 14, 8, 45), hours, cal)
    assert not is_open(sh(2026, 10, 14, 17, 0), hours, cal)
    assert next_opening(sh(2026, 10, 14, 17, 0), hours, cal) == sh(2026, 10, 15, 9)


def test_configured_holiday_closes_the_office() -> None:
    configured = WorkingCalendar({2026: YearSchedule(holidays=frozenset({date(2026, 10, 14)}))})
    assert not is_open(sh(2026, 10, 14, 10), DEFAULT, configured)
    assert next_opening(sh(2026, 10, 13, 19), DEFAULT, configured) == sh(2026, 10, 15, 8, 30)


def test_naive_now_is_rejected(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(datetime(2026, 10, 14, 10), DEFAULT, cal)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_opening(datetime(2026, 10, 14, 10), DEFAULT, cal)


@pytest.mark.parametrize(
    ("opens", "closes"),
    [(time(18), time(8, 30)), (time(9), time(9))],
)
def test_hours_must_open_before_closing(opens: time, closes: time) -> None:
    with pytest.raises(ValueError, match="must be before closes"):
        WorkingHours(opens=opens, closes=closes)
