"""Office hours of the hotline's staff: open on working days between two local times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from scheduler.calendar import SHANGHAI, WorkingCalendar


@dataclass(frozen=True)
class WorkingHours:
    """Opening and closing time (Asia/Shanghai) on working days; ``closes`` is exclusive."""

    opens: time = time(8, 30)
    closes: time = time(18, 0)

    def __post_init__(self) -> None:
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opening and closing times are Shanghai wall-clock times, no tzinfo")
        if not self.opens < self.closes:
            raise ValueError(f"opens ({self.opens}) must be before closes ({self.closes})")


def _local(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got naive {now.isoformat()}")
    return now.astimezone(SHANGHAI)


def is_open(now: datetime, hours: WorkingHours, calendar: WorkingCalendar) -> bool:
    """True if ``now`` falls on a working day, at or after opening and before closing."""
    local = _local(now)
    return calendar.is_working_day(local.date()) and hours.opens <= local.time() < hours.closes


def next_opening(now: datetime, hours: WorkingHours, calendar: WorkingCalendar) -> datetime:
    """The next moment the office is open, as an aware UTC datetime; ``now`` itself if open."""
    local = _local(now)
    day = local.date()
    if calendar.is_working_day(day):
        if local.time() < hours.opens:
            return datetime.combine(day, hours.opens, tzinfo=SHANGHAI).astimezone(UTC)
        if local.time() < hours.closes:
            return now.astimezone(UTC)
    # Shanghai has no daylight saving time, so every opening time exists exactly once.
    opening_day = calendar.next_working_day(day)
    return datetime.combine(opening_day, hours.opens, tzinfo=SHANGHAI).astimezone(UTC)
