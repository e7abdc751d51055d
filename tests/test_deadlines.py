"""Deadlines: N working days after receipt, urgent hours, extensions, working days left.

Expected dates are checked by hand on the 2026 calendar: New Year 1/1–1/3 off, Sunday 1/4 worked;
Spring Festival 2/15–2/23 off, Saturdays 2/14 and 2/28 worked; Mid-Autumn 9/25–9/27 off, Sunday
9/20 worked; National Day 10/1–10/7 off, Saturday 10/10 worked.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.calendar import SHANGHAI, WorkingCalendar, YearSchedule
from scheduler.deadlines import (
    Deadline,
    due_after_hours,
    due_after_working_days,
    end_of_day,
    extend_deadline,
    local_date,
    working_days_left,
)

D = date
NEW_YORK = ZoneInfo("America/New_York")

# A made-up 2027 arrangement for tests only (NOT the real notice): National Day 10/1–10/7 off,
# Saturday 10/9 worked in exchange.
HYPOTHETICAL_2027 = YearSchedule(
    holidays=frozenset(D(2027, 10, 1) + timedelta(days=i) for i in range(7)),
    workdays=frozenset({D(2027, 10, 9)}),
)


def sh(y: int, m: int, d: int, hh: int = 10, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


def utc(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=UTC)


def assert_due_end_of(deadline: Deadline, day: date) -> None:
    assert deadline.due == datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=SHANGHAI)
    assert deadline.due.tzinfo is UTC
    assert deadline.local_due.date() == day


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# -- N working days after receipt ------------------------------------------------------------

DEADLINE_CASES = [
    # New Year 2026. 1/1–1/3 off; Sunday 1/4 is the 1st working day, then 1/5–1/9, 1/12.
    pytest.param(sh(2025, 12, 31), 7, D(2026, 1, 12), id="new-year"),
    pytest.param(sh(2026, 1, 1), 1, D(2026, 1, 4), id="new-year-day-to-make-up-sunday"),
    pytest.param(sh(2026, 1, 3), 1, D(2026, 1, 4), id="saturday-holiday-to-make-up-sunday"),
    pytest.param(sh(2026, 1, 4), 1, D(2026, 1, 5), id="received-on-make-up-sunday"),
    # Spring Festival 2026: 2/14 (Sat, 1), 2/24–2/27 (2–5), 2/28 (Sat, 6), 3/2 (7).
    pytest.param(sh(2026, 2, 13), 7, D(2026, 3, 2), id="spring-festival"),
    pytest.param(sh(2026, 2, 12), 3, D(2026, 2, 24), id="spring-festival-3-days"),
    pytest.param(sh(2026, 2, 18), 1, D(2026, 2, 24), id="received-during-spring-festival"),
    # 2/25, 26, 27, 28 (Sat), 3/2, 3, 4.
    pytest.param(sh(2026, 2, 24), 7, D(2026, 3, 4), id="after-spring-festival"),
    # Mid-Autumn: Friday 9/25 off, then the weekend; Sunday 9/20 was worked.
    pytest.param(sh(2026, 9, 19), 1, D(2026, 9, 20), id="saturday-to-make-up-sunday"),
    pytest.param(sh(2026, 9, 24), 1, D(2026, 9, 28), id="mid-autumn"),
    # National Day 2026: 10/8 (1), 10/9 (2), 10/10 Sat (3), 10/12–10/15 (4–7).
    pytest.param(sh(2026, 9, 30), 7, D(2026, 10, 15), id="national-day-example"),
    pytest.param(sh(2026, 10, 3), 7, D(2026, 10, 15), id="received-during-national-day"),
    # Received on the make-up Saturday: it is not counted; 10/12–10/16, 10/19, 10/20.
    pytest.param(sh(2026, 10, 10), 7, D(2026, 10, 20), id="received-on-make-up-saturday"),
    pytest.param(sh(2026, 10, 11), 7, D(2026, 10, 20), id="received-on-sunday-after-it"),
    # An ordinary Sunday: 10/19–10/23 (1–5), 10/26, 10/27.
    pytest.param(sh(2026, 10, 18), 7, D(2026, 10, 27), id="received-on-ordinary-sunday"),
    # 15 working days (complex requests): 10/8, 9, 10, 12–16, 19–23, 26, 27.
    pytest.param(sh(2026, 9, 30), 15, D(2026, 10, 27), id="fifteen-days"),
    # Time zones. 17:30 UTC on 9/29 is 01:30 on 9/30 in Shanghai: the example again (counting
    # from the UTC date would give 10/14).
    pytest.param(utc(2026, 9, 29, 17, 30), 7, D(2026, 10, 15), id="utc-night-is-next-day"),
    # 13:00 EDT (UTC−4) on 9/29 is 01:00 on 9/30 in Shanghai.
    pytest.param(
        datetime(2026, 9, 29, 13, tzinfo=NEW_YORK), 7, D(2026, 10, 15), id="new-york-zone"
    ),
    # One second before / at Shanghai midnight, expressed in UTC (Shanghai is UTC+8).
    pytest.param(utc(2026, 10, 9, 15, 59, 59), 1, D(2026, 10, 10), id="utc-just-before-midnight"),
    pytest.param(utc(2026, 10, 9, 16), 1, D(2026, 10, 12), id="utc-at-shanghai-midnight"),
    # 0 days: by the end of the receipt day, or of the next working day after a rest day.
    pytest.param(sh(2026, 10, 8), 0, D(2026, 10, 8), id="zero-days-working-day"),
    pytest.param(sh(2026, 10, 3), 0, D(2026, 10, 8), id="zero-days-rest-day"),
    # 12/22–12/25, 12/28–12/30: stays inside confirmed 2026.
    pytest.param(sh(2026, 12, 21), 7, D(2026, 12, 30), id="end-of-2026"),
]


@pytest.mark.parametrize(("received", "days", "expected"), DEADLINE_CASES)
def test_due_after_working_days(
    cal: WorkingCalendar, received: datetime, days: int, expected: date
) -> None:
    deadline = due_after_working_days(received, days, cal)
    assert_due_end_of(deadline, expected)
    assert deadline.estimated is False
    assert len(deadline.counted_days) == days


def test_example_counts_these_days(cal: WorkingCalendar) -> None:
    deadline = due_after_working_days(sh(2026, 9, 30, 10), 7, cal)
    assert deadline.due == utc(2026, 10, 15, 15, 59, 59)
    assert deadline.counted_days == (
        D(2026, 10, 8),
        D(2026, 10, 9),
        D(2026, 10, 10),
        D(2026, 10, 12),
        D(2026, 10, 13),
        D(2026, 10, 14),
        D(2026, 10, 15),
    )


def test_n_working_days_are_left_at_receipt(cal: WorkingCalendar) -> None:
    # Whatever day a ticket arrives, N working days separate the receipt date from the due date.
    for offset in range(0, 400, 3):
        received = sh(2025, 12, 1, 22) + timedelta(days=offset)
        for days in (1, 2, 7, 15):
            deadline = due_after_working_days(received, days, cal)
            assert working_days_left(deadline.due, received, cal) == days


def test_rejects_negative_days(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="days must be >= 0"):
        due_after_working_days(sh(2026, 10, 8), -1, cal)


# -- unconfirmed years and configuration -----------------------------------------------------


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        # 12/31 (1); 2027-01-01 is New Year's Day (estimated); 1/4–1/8 (2–6); 1/11 (7).
        pytest.param(sh(2026, 12, 30), D(2027, 1, 11), id="into-2027"),
        # Estimated National Day 2027: 10/1 Fri, weekend, 10/4–10/5 in lieu; 10/6, 7, 8, 11–14.
        pytest.param(sh(2027, 9, 30), D(2027, 10, 14), id="national-day-2027"),
        # No holiday in reach: 3/2–3/5, 3/8–3/10. Still estimated, nobody confirmed 2027.
        pytest.param(sh(2027, 3, 1), D(2027, 3, 10), id="plain-2027"),
    ],
)
def test_2027_deadlines_are_estimated(
    cal: WorkingCalendar, received: datetime, expected: date
) -> None:
    deadline = due_after_working_days(received, 7, cal)
    assert_due_end_of(deadline, expected)
    assert deadline.estimated is True


def test_2027_warning_is_logged_once(
    cal: WorkingCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="scheduler.calendar")
    for offset in range(20):
        due_after_working_days(sh(2027, 3, 1) + timedelta(days=offset), 7, cal)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "2027" in warnings[0].getMessage()


def test_configured_2027_is_confirmed_and_changes_the_answer() -> None:
    configured = WorkingCalendar({2027: HYPOTHETICAL_2027})
    # 10/1–10/7 off; 10/8 (1), Saturday 10/9 (2), 10/11–10/15 (3–7). Estimated was 10/14.
    deadline = due_after_working_days(sh(2027, 9, 30), 7, configured)
    assert_due_end_of(deadline, D(2027, 10, 15))
    assert deadline.estimated is False


def test_estimated_only_when_an_unconfirmed_day_was_consulted() -> None:
    # 2027 confirmed, 2028 not: a deadline inside 2027 is not estimated, one reaching 2028 is.
    configured = WorkingCalendar({2027: HYPOTHETICAL_2027})
    assert due_after_working_days(sh(2027, 12, 20), 7, configured).estimated is False
    assert due_after_working_days(sh(2027, 12, 28), 7, configured).estimated is True


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        # A local extra day off on Thursday 10/8: 10/9, 10/10, 10/12–10/16.
        pytest.param(YearSchedule(holidays=frozenset({D(2026, 10, 8)})), D(2026, 10, 16), id="off"),
        # Sunday 10/11 worked as well: 10/8, 9, 10, 11, 12, 13, 14.
        pytest.param(YearSchedule(workdays=frozenset({D(2026, 10, 11)})), D(2026, 10, 14), id="on"),
    ],
)
def test_configuration_overrides_2026(schedule: YearSchedule, expected: date) -> None:
    configured = WorkingCalendar({2026: schedule})
    deadline = due_after_working_days(sh(2026, 9, 30), 7, configured)
    assert_due_end_of(deadline, expected)
    assert deadline.estimated is False


# -- urgent tickets --------------------------------------------------------------------------


def test_urgent_deadline_counts_calendar_hours_on_a_holiday() -> None:
    deadline = due_after_hours(sh(2026, 10, 1, 10), 2)
    assert deadline == Deadline(due=utc(2026, 10, 1, 4), estimated=False, counted_days=())
    assert deadline.due.tzinfo is UTC


def test_urgent_deadline_over_a_night_and_into_an_unconfirmed_year() -> None:
    # 24 hours from 2026-12-31 20:00 is 2027-01-01 20:00; hours need no calendar, so no estimate.
    deadline = due_after_hours(sh(2026, 12, 31, 20), 24)
    assert deadline.due == sh(2027, 1, 1, 20)
    assert deadline.estimated is False


def test_urgent_deadline_from_another_zone() -> None:
    deadline = due_after_hours(datetime(2026, 10, 1, 22, tzinfo=NEW_YORK), 2)
    assert deadline.due == utc(2026, 10, 2, 4)  # 22:00 EDT = 02:00 UTC, plus 2 h


def test_urgent_deadline_rejects_negative_hours() -> None:
    with pytest.raises(ValueError, match="hours must be >= 0"):
        due_after_hours(sh(2026, 10, 1), -1)


# -- extensions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "days", "expected"),
    [
        # 10/8, 10/9, 10/10 (make-up Saturday).
        pytest.param(end_of_day(D(2026, 9, 30)), 3, D(2026, 10, 10), id="over-national-day"),
        # 10/16, 19–23, 26–29: the maximum extension of 10 working days.
        pytest.param(end_of_day(D(2026, 10, 15)), 10, D(2026, 10, 29), id="ten-days"),
        pytest.param(end_of_day(D(2025, 12, 31)), 1, D(2026, 1, 4), id="to-make-up-sunday"),
        # 2/14 (make-up Saturday), then 2/24 after Spring Festival.
        pytest.param(end_of_day(D(2026, 2, 13)), 2, D(2026, 2, 24), id="over-spring-festival"),
        # A due given in UTC: 15:59:59 UTC is 23:59:59 in Shanghai, still 10/15.
        pytest.param(utc(2026, 10, 15, 15, 59, 59), 1, D(2026, 10, 16), id="due-in-utc"),
        # An urgent ticket's due at noon on a holiday: the next working day is 10/8.
        pytest.param(sh(2026, 10, 1, 12), 1, D(2026, 10, 8), id="from-mid-day-due"),
    ],
)
def test_extend_deadline(
    cal: WorkingCalendar, current: datetime, days: int, expected: date
) -> None:
    deadline = extend_deadline(current, days, cal)
    assert_due_end_of(deadline, expected)
    assert deadline.estimated is False
    assert len(deadline.counted_days) == days


def test_extension_after_the_initial_deadline(cal: WorkingCalendar) -> None:
    initial = due_after_working_days(sh(2026, 9, 30), 7, cal)  # 10/15
    extended = extend_deadline(initial.due, 10, cal)
    assert_due_end_of(extended, D(2026, 10, 29))
    assert extended.counted_days[0] == D(2026, 10, 16)


def test_extension_into_an_unconfirmed_year_is_estimated(cal: WorkingCalendar) -> None:
    # 2027-01-01 is New Year's Day (Friday), so the next working day is Monday 1/4.
    extended = extend_deadline(end_of_day(D(2026, 12, 31)), 1, cal)
    assert_due_end_of(extended, D(2027, 1, 4))
    assert extended.estimated is True


# -- working days left -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due_day", "now", "expected"),
    [
        # Due Monday 10/19: rest days take the value of the working day before them.
        pytest.param(D(2026, 10, 19), sh(2026, 10, 15), 2, id="mon-due-thu"),
        pytest.param(D(2026, 10, 19), sh(2026, 10, 16), 1, id="mon-due-fri"),
        pytest.param(D(2026, 10, 19), sh(2026, 10, 17), 1, id="mon-due-sat"),
        pytest.param(D(2026, 10, 19), sh(2026, 10, 18, 23, 30), 1, id="mon-due-sun-night"),
        pytest.param(D(2026, 10, 19), sh(2026, 10, 19, 8), 0, id="mon-due-mon-morning"),
        pytest.param(D(2026, 10, 19), sh(2026, 10, 19, 23, 59, 59), 0, id="mon-due-last-second"),
        pytest.param(D(2026, 10, 19), sh(2026, 10, 20), -1, id="mon-due-tue"),
        pytest.param(D(2026, 10, 19), sh(2026, 10, 21), -2, id="mon-due-wed"),
        # Due Friday 10/16: the weekend after it is already overdue, like the Monday.
        pytest.param(D(2026, 10, 16), sh(2026, 10, 17), -1, id="fri-due-sat"),
        pytest.param(D(2026, 10, 16), sh(2026, 10, 18), -1, id="fri-due-sun"),
        pytest.param(D(2026, 10, 16), sh(2026, 10, 19), -1, id="fri-due-mon"),
        pytest.param(D(2026, 10, 16), sh(2026, 10, 20), -2, id="fri-due-tue"),
        # Due Monday 10/12, now Friday 10/9: Saturday 10/10 is worked, so 10/10 and 10/12 remain.
        pytest.param(D(2026, 10, 12), sh(2026, 10, 9), 2, id="make-up-saturday-counts"),
        # Due Thursday 10/8, right after National Day.
        pytest.param(D(2026, 10, 8), sh(2026, 9, 30), 1, id="before-national-day"),
        pytest.param(D(2026, 10, 8), sh(2026, 10, 3), 1, id="during-national-day"),
        # 9/28, 9/29, 9/30, 10/8 (9/25–9/27 Mid-Autumn and the weekend are off).
        pytest.param(D(2026, 10, 8), sh(2026, 9, 24), 4, id="over-two-holidays"),
        # Due Wednesday 9/30, overdue through National Day.
        pytest.param(D(2026, 9, 30), sh(2026, 10, 1), -1, id="overdue-on-holiday"),
        pytest.param(D(2026, 9, 30), sh(2026, 10, 8), -1, id="overdue-first-working-day"),
        pytest.param(D(2026, 9, 30), sh(2026, 10, 9), -2, id="overdue-second"),
        pytest.param(D(2026, 9, 30), sh(2026, 10, 10), -3, id="overdue-make-up-saturday"),
        # Sunday 10/11: 10/8, 9, 10 lost, and Monday 10/12 is the next working day lost.
        pytest.param(D(2026, 9, 30), sh(2026, 10, 11), -4, id="overdue-sunday"),
        pytest.param(D(2026, 9, 30), sh(2026, 10, 12), -4, id="overdue-monday"),
        # 16:30 UTC on Sunday 10/18 is already Monday 00:30 in Shanghai: the due day.
        pytest.param(D(2026, 10, 19), utc(2026, 10, 18, 16, 30), 0, id="utc-already-monday"),
        pytest.param(D(2026, 10, 19), utc(2026, 10, 18, 15, 30), 1, id="utc-still-sunday"),
    ],
)
def test_working_days_left(
    cal: WorkingCalendar, due_day: date, now: datetime, expected: int
) -> None:
    assert working_days_left(end_of_day(due_day), now, cal) == expected


def test_working_days_left_is_negative_exactly_after_the_due_day(cal: WorkingCalendar) -> None:
    due = end_of_day(D(2026, 10, 16))
    for offset in range(-30, 30):
        now = sh(2026, 10, 16, 12) + timedelta(days=offset)
        assert (working_days_left(due, now, cal) < 0) is (offset > 0), now


# -- time zones ------------------------------------------------------------------------------


def test_local_date() -> None:
    assert local_date(utc(2026, 9, 29, 16)) == D(2026, 9, 30)
    assert local_date(utc(2026, 9, 29, 15, 59, 59)) == D(2026, 9, 29)


@pytest.mark.parametrize(
    "call",
    [
        lambda cal: local_date(datetime(2026, 10, 8, 10)),
        lambda cal: due_after_working_days(datetime(2026, 10, 8, 10), 7, cal),
        lambda cal: due_after_hours(datetime(2026, 10, 8, 10), 2),
        lambda cal: extend_deadline(datetime(2026, 10, 8, 23, 59, 59), 3, cal),
        lambda cal: working_days_left(datetime(2026, 10, 8), sh(2026, 10, 8), cal),
        lambda cal: working_days_left(end_of_day(D(2026, 10, 8)), datetime(2026, 10, 8), cal),
    ],
    ids=["local_date", "due_after_working_days", "due_after_hours", "extend", "left-due", "now"],
)
def test_naive_datetimes_are_rejected(cal: WorkingCalendar, call: object) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match="timezone-aware"):
        call(cal)
