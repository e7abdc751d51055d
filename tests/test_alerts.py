"""A department's 30-day rate below target is announced once, and once more on recovery."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from bot.app import build_hotline
from handlers.config import config_from_mapping
from handlers.outgoing import Outgoing
from handlers.reports import DepartmentStats, Period, StatisticsReport, TargetsLike
from handlers.statistics import check_alerts
from scheduler.calendar import SHANGHAI
from tests.world import TEST_DEPARTMENTS


class FakeStore:
    """Just enough of handlers.ports.Store for the alert check; figures set by the test."""

    def __init__(self) -> None:
        self.rows: list[DepartmentStats] = []
        self.states: dict[tuple[str, str], bool] = {}
        self.jobs: set[tuple[str, str]] = set()
        self.sent: list[str] = []

    def claim_job(self, kind: str, step: str, now: datetime) -> bool:
        if (kind, step) in self.jobs:
            return False
        self.jobs.add((kind, step))
        return True

    def statistics(
        self,
        period: Period,
        *,
        now: datetime,
        targets: TargetsLike,
        names: Mapping[str, str],
        department: str | None = None,
    ) -> StatisticsReport:
        assert (period.end - period.start).days == 29  # the last 30 days
        return StatisticsReport(period=period, generated_at=now, rows=tuple(self.rows))

    def alert_state(self, department_code: str, metric: str) -> bool | None:
        return self.states.get((department_code, metric))

    def set_alert_state(
        self, department_code: str, metric: str, *, below: bool, now: datetime
    ) -> None:
        self.states[(department_code, metric)] = below

    def office_chat(self) -> int | None:
        return -1

    def supervisors(self) -> list[Any]:
        return []

    def queue(self, message: Outgoing, now: datetime) -> None:
        self.sent.append(message.text)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=SHANGHAI)


def test_alert_once_below_and_once_on_recovery() -> None:
    hotline = build_hotline(config_from_mapping({"departments": TEST_DEPARTMENTS}), secret="1:x")
    store = FakeStore()
    day = date(2026, 11, 23)  # a Monday
    # 18 of 20 on time = 90% < 95%; satisfaction 20 of 20.
    store.rows = [
        DepartmentStats(
            "roads", "建设中心", resolved=20, resolved_on_time=18, rated=20, satisfied=20
        )
    ]
    assert check_alerts(store, hotline, at(day)) == 1  # type: ignore[arg-type]
    assert "按时办结率" in store.sent[0]
    assert "90.0%" in store.sent[0]
    assert check_alerts(store, hotline, at(day)) == 0  # type: ignore[arg-type]  # same day
    assert check_alerts(store, hotline, at(day + timedelta(days=1))) == 0  # type: ignore[arg-type]
    store.rows = [
        DepartmentStats(
            "roads", "建设中心", resolved=20, resolved_on_time=19, rated=20, satisfied=20
        )
    ]
    assert check_alerts(store, hotline, at(day + timedelta(days=2))) == 1  # type: ignore[arg-type]
    assert "恢复" in store.sent[-1]
    assert len(store.sent) == 2


def test_no_alert_without_figures_or_on_weekends() -> None:
    hotline = build_hotline(config_from_mapping({"departments": TEST_DEPARTMENTS}), secret="1:x")
    store = FakeStore()
    store.rows = [DepartmentStats("roads", "建设中心")]  # nothing resolved: no rate, no alert
    assert check_alerts(store, hotline, at(date(2026, 11, 23))) == 0  # type: ignore[arg-type]
    store.rows = [DepartmentStats("roads", "建设中心", resolved=2, resolved_on_time=0)]
    assert check_alerts(store, hotline, at(date(2026, 11, 28))) == 0  # type: ignore[arg-type]  # Saturday
    assert store.sent == []
