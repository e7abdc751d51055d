"""Deadline arithmetic for tickets: working-day limits, hour limits, extensions, days left.

Rule (期间开始的当日不计入): the day of receipt is not counted; a limit of N working days ends
at 23:59:59 Asia/Shanghai of the N-th working day strictly after the local receipt date. A
ticket received on a rest day therefore counts from the next working day. All datetimes must
be timezone-aware; ``due`` values are returned in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from scheduler.calendar import SHANGHAI, WorkingCalendar

#: The last second of a deadline day, Shanghai local time.
END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True)
class Deadline:
    """When something is due, and whether that rests on an unconfirmed holiday schedule."""

    due: datetime  # aware, UTC
    estimated: bool
    #: The working days counted, in order: as many as the limit had days (none for hours).
    counted_days: tuple[date, ...] = ()

    @property
    def local_due(self) -> datetime:
        """``due`` in Asia/Shanghai, for display."""
        return self.due.astimezone(SHANGHAI)


def _require_aware(moment: datetime, name: str) -> None:
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")


def local_date(moment: datetime) -> date:
    """The Asia/Shanghai calendar day of an aware datetime."""
    _require_aware(moment, "moment")
    return moment.astimezone(SHANGHAI).date()


def end_of_day(day: date) -> datetime:
    """23:59:59 Asia/Shanghai on ``day``, as an aware UTC datetime."""
    return datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI).astimezone(UTC)


def _add_working_days(start: date, days: int, calendar: WorkingCalendar) -> Deadline:
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    due_day = calendar.nth_working_day_after(start, days)
    # Only the days after ``start`` decide the answer, except with days == 0, where ``start``
    # itself may be the due day.
    first_consulted = start if days == 0 else start + timedelta(days=1)
    return Deadline(
        due=end_of_day(due_day),
        estimated=bool(calendar.estimated_years(first_consulted, due_day)),
        counted_days=tuple(calendar.working_days_in(first_consulted, due_day)) if days else (),
    )


def due_after_working_days(received: datetime, days: int, calendar: WorkingCalendar) -> Deadline:
    """Deadline of a ticket received at ``received`` with a limit of ``days`` working days.

    ``days == 0`` means "by the end of the receipt day", or of the next working day if the
    ticket arrived on a rest day.
    """
    return _add_working_days(local_date(received), days, calendar)


def due_after_hours(received: datetime, hours: float) -> Deadline:
    """Deadline of an urgent ticket: ``hours`` calendar hours after receipt, rest days included."""
    _require_aware(received, "received")
    if hours < 0:
        raise ValueError(f"hours must be >= 0, got {hours}")
    return Deadline(due=received.astimezone(UTC) + timedelta(hours=hours), estimated=False)


def extend_deadline(due: datetime, days: int, calendar: WorkingCalendar) -> Deadline:
    """The deadline after an approved extension of ``days`` working days.

    The new deadline is 23:59:59 Shanghai of the ``days``-th working day after the local date of
    the current ``due``; ``counted_days`` lists the added days.
    """
    return _add_working_days(local_date(due), days, calendar)


def working_days_left(due: datetime, now: datetime, calendar: WorkingCalendar) -> int:
    """Working days left before the deadline's day, by local (Shanghai) calendar days.

    With D the local date of ``due`` and T that of ``now``:

    * T <= D: the number of working days in (T, D], i.e. the working days still to come after
      today. 0 on the due day, 1 on the working day before it; a rest day gives the same value
      as the working day before it (Saturday and Sunday before a Monday deadline give 1, like
      Friday).
    * T > D (overdue): minus the number of working days in (D, T'], where T' is T if it is a
      working day, else the next working day. -1 on the first working day after the due day and
      on the rest days before it (Saturday after a Friday deadline gives -1), -2 on the next
      working day, and so on. So the result is negative exactly when T > D.

    Dates only: for a deadline set in hours (urgent tickets) check ``now > due`` for overdue.
    """
    due_day = local_date(due)
    today = local_date(now)
    if today <= due_day:
        return calendar.working_days_between(today, due_day)
    lost = calendar.working_days_between(due_day, today)
    if not calendar.is_working_day(today):
        lost += 1
    return -lost


def reopened_deadline(fresh: Deadline, running_due: datetime, running_estimated: bool) -> Deadline:
    """The deadline of a re-opened ticket (重办): a fresh period counted from the re-opening,
    but never earlier than the deadline it still has (an approved extension stands)."""
    if running_due > fresh.due:
        return Deadline(due=running_due, estimated=running_estimated)
    return fresh
