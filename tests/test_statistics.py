"""SLA statistics computed in SQL, on SQLite and PostgreSQL, against numbers worked out by hand.

The fixture is November 2026 at 建塘镇's three default departments (construction, social_affairs,
labour), seen on 2 December 2026 at 10:00 (Shanghai). Every expected figure below is a literal
with the arithmetic beside it; ``T1``… name the fixture's tickets.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from bot.renderers import Renderers
from handlers.config import HotlineConfig, Targets
from handlers.model import Language, RequestType, Role, TicketStatus
from handlers.reports import (
    RATE_FIELDS,
    DepartmentStats,
    Period,
    ReportRequest,
    ReportTargets,
    StatisticsReport,
    format_report_text,
    parse_period,
    report_from_dict,
    report_to_dict,
)
from scheduler.calendar import SHANGHAI
from storage.database import Database
from storage.models import (
    AssignmentRow,
    CitizenRow,
    ExtensionRow,
    QualityCheckRow,
    ResolutionRow,
    StaffRow,
    SurveyRow,
    TicketRow,
)
from storage.statistics import (
    STATISTICS_INDEXES,
    UnknownDepartmentError,
    compute_statistics,
    missing_statistics_indexes,
    ticket_rows_for_export,
)

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)
PHONE = "13812345678"
C, S, L = "construction", "social_affairs", "labour"


def at(month: int, day: int, hour: int = 9, minute: int = 0, second: int = 0) -> datetime:
    """A Shanghai wall-clock time in 2026."""
    return datetime(2026, month, day, hour, minute, second, tzinfo=SHANGHAI)


def end_of(month: int, day: int) -> datetime:
    return at(month, day, 23, 59, 59)


class Fixture:
    """Inserts tickets and what happened to them, with the few required columns filled."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.citizen = CitizenRow(
            telegram_user_id=1001,
            chat_id=1001,
            language=Language.ZH,
            name="张三",
            phone=PHONE,
            created_at=at(1, 1),
        )
        self.staff = StaffRow(
            telegram_user_id=2001,
            role=Role.STAFF,
            language=Language.ZH,
            created_at=at(1, 1),
            department_code=C,
        )
        session.add_all([self.citizen, self.staff])
        session.flush()
        self.count = 0

    def ticket(
        self,
        received: datetime,
        department: str | None,
        status: TicketStatus,
        deadline: datetime,
        *,
        reopen_count: int = 0,
    ) -> TicketRow:
        self.count += 1
        row = TicketRow(
            number=f"T{self.count}",
            citizen_id=self.citizen.id,
            request_type=RequestType.COMPLAINT,
            text="路灯不亮",
            status=status,
            department_code=department,
            received_at=received,
            deadline_at=deadline,
            reopen_count=reopen_count,
            updated_at=received,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def dispatch(
        self,
        ticket: TicketRow,
        department: str,
        dispatched: datetime,
        due: datetime,
        *,
        signed: datetime | None = None,
        returned: datetime | None = None,
        contacted: datetime | None = None,
        contact_due: datetime | None = None,
    ) -> None:
        self.session.add(
            AssignmentRow(
                ticket_id=ticket.id,
                department_code=department,
                dispatched_at=dispatched,
                sign_due_at=due,
                signed_at=signed,
                returned_at=returned,
                return_reason="不属于本单位职责" if returned else None,
                contact_due_at=contact_due or due,
                contacted_at=contacted,
            )
        )

    def resolve(
        self,
        ticket: TicketRow,
        department: str,
        resolved: datetime,
        *,
        on_time: bool,
        working_days: int,
        round_: int = 1,
        rating: str | None = None,
        quality: tuple[date, bool | None] | None = None,
        solved: bool | None = None,
    ) -> ResolutionRow:
        resolution = ResolutionRow(
            ticket_id=ticket.id,
            department_code=department,
            round=round_,
            resolved_at=resolved,
            answer="已处理",
            deadline_at=ticket.deadline_at,
            on_time=on_time,
            working_days=working_days,
        )
        self.session.add(resolution)
        self.session.flush()
        self.session.add(
            SurveyRow(
                resolution_id=resolution.id,
                ticket_id=ticket.id,
                department_code=department,
                sent_at=resolved,
                due_at=resolved + timedelta(days=3),
                rating=rating,
                rated_at=resolved if rating else None,
                solved=solved,
            )
        )
        if quality is not None:
            sampled_for, passed = quality
            self.session.add(
                QualityCheckRow(
                    resolution_id=resolution.id,
                    ticket_id=ticket.id,
                    department_code=department,
                    sampled_for=sampled_for,
                    sampled_at=resolved,
                    passed=passed,
                    inspected_at=None if passed is None else resolved,
                )
            )
        return resolution

    def extension(
        self, ticket: TicketRow, department: str, requested: datetime, status: str, **kw: Any
    ) -> None:
        self.session.add(
            ExtensionRow(
                ticket_id=ticket.id,
                department_code=department,
                requested_by=self.staff.id,
                requested_at=requested,
                working_days=5,
                reason="需现场勘查",
                status=status,
                decided_by=self.staff.id if kw.get("decided") else None,
                decided_at=kw.get("decided"),
                old_deadline_at=ticket.deadline_at,
            )
        )


def build_november(session: Session) -> None:
    """The fixture; each ticket's comment says what it tests."""
    f = Fixture(session)
    closed = TicketStatus.CLOSED

    # T1: the plain case — signed on time, answered on time, 满意, QA passed.
    t1 = f.ticket(at(11, 2), C, closed, end_of(11, 11))
    # First contact in time; 已解决.
    f.dispatch(t1, C, at(11, 2, 10), end_of(11, 3), signed=at(11, 2, 11), contacted=at(11, 2, 14))
    f.resolve(t1, C, at(11, 5), on_time=True, working_days=3, rating="satisfied",
              quality=(date(2026, 11, 5), True), solved=True)  # fmt: skip

    # T2: late sign-for, an approved extension, answered on time thanks to it, 基本满意, QA failed.
    t2 = f.ticket(at(11, 3), C, closed, end_of(11, 19))
    # First contact late (6 Nov, limit 4 Nov); 未解决 yet 基本满意.
    f.dispatch(t2, C, at(11, 3, 10), end_of(11, 4), signed=at(11, 5), contacted=at(11, 6))
    f.extension(t2, C, at(11, 6), "approved", decided=at(11, 7))
    f.resolve(t2, C, at(11, 16), on_time=True, working_days=9, rating="basic",
              quality=(date(2026, 11, 16), False), solved=False)  # fmt: skip

    # T3: re-opened — 不满意 on the first answer, a second answer rated 满意. The first
    # answer's QA sample is not inspected yet.
    t3 = f.ticket(at(11, 4, 8), S, closed, end_of(11, 13), reopen_count=1)
    # Contacted in time; 未解决 on the first answer, 已解决 on the second.
    f.dispatch(t3, S, at(11, 4), end_of(11, 5), signed=at(11, 4, 10), contacted=at(11, 4, 11))
    f.resolve(t3, S, at(11, 6), on_time=True, working_days=2, rating="unsatisfied",
              quality=(date(2026, 11, 6), None), solved=False)  # fmt: skip
    f.resolve(t3, S, at(11, 12), on_time=True, working_days=6, round_=2, rating="satisfied",
              solved=True)  # fmt: skip

    # T4: returned by construction, re-dispatched to social_affairs, answered late, survey
    # timed out (未评价), QA passed.
    t4 = f.ticket(at(11, 5), S, closed, end_of(11, 16))
    # construction never contacted the citizen; social_affairs did at the last second of its
    # limit (in time: the limit is inclusive). The survey timed out: 解决 not answered either.
    f.dispatch(t4, C, at(11, 5, 10), end_of(11, 6), returned=at(11, 5, 15))
    f.dispatch(t4, S, at(11, 5, 16), end_of(11, 6), signed=at(11, 6), contacted=end_of(11, 6))
    f.resolve(t4, S, at(11, 20), on_time=False, working_days=11, rating="none",
              quality=(date(2026, 11, 20), True))  # fmt: skip

    # T5: answered, survey still pending (rating NULL).
    t5 = f.ticket(at(11, 9), L, TicketStatus.RESOLVED, end_of(11, 18))
    # Contacted in time; the citizen answered 已解决 but not the satisfaction yet.
    f.dispatch(t5, L, at(11, 9, 10), end_of(11, 10), signed=at(11, 9, 11), contacted=at(11, 9, 12))
    f.resolve(t5, L, at(11, 12), on_time=True, working_days=3, solved=True)

    # T6: overdue and still open; its extension was rejected.
    t6 = f.ticket(at(11, 10), L, TicketStatus.IN_PROGRESS, end_of(11, 19))
    f.dispatch(t6, L, at(11, 10, 10), end_of(11, 11), signed=at(11, 10, 11),
               contacted=at(11, 10, 12))  # fmt: skip
    f.extension(t6, L, at(11, 18), "rejected", decided=at(11, 18, 15))

    # T7: dispatched, never signed for (past its sign-for limit); extension pending; not overdue.
    t7 = f.ticket(at(11, 25), C, TicketStatus.DISPATCHED, end_of(12, 4))
    f.dispatch(t7, C, at(11, 26, 15), end_of(11, 27))
    f.extension(t7, C, at(12, 1), "pending")

    # T8: received at the first instant of November (31 Oct 16:00 UTC), still in the dispatch
    # queue (no department), overdue.
    f.ticket(at(11, 1, 0), None, TicketStatus.RECEIVED, end_of(11, 10))

    # T9: received on 31 October (out), returned in November by social_affairs from an
    # October dispatch, re-dispatched and answered in November, 满意.
    t9 = f.ticket(at(10, 31, 23), C, closed, end_of(11, 9))
    f.dispatch(t9, S, at(10, 31, 23, 10), end_of(11, 3), returned=at(11, 2))
    f.dispatch(t9, C, at(11, 2, 10), end_of(11, 3), signed=at(11, 2, 11), contacted=at(11, 2, 12))
    f.resolve(t9, C, at(11, 3), on_time=True, working_days=2, rating="satisfied", solved=True)

    # T10: received at 23:30 on 30 November (15:30 UTC: in), signed on 1 December, in time.
    t10 = f.ticket(at(11, 30, 23, 30), L, TicketStatus.IN_PROGRESS, end_of(12, 9))
    # Contacted on 1 December, in time: the dispatch is November's, so the contact counts there.
    f.dispatch(t10, L, at(11, 30, 23, 40), end_of(12, 1), signed=at(12, 1), contacted=at(12, 1, 9))

    # T11: received at 00:00 on 1 December (30 Nov 16:00 UTC: out).
    t11 = f.ticket(at(12, 1, 0), C, TicketStatus.DISPATCHED, end_of(12, 10))
    f.dispatch(t11, C, at(12, 1, 0, 10), end_of(12, 2))

    # T12: withdrawn after the deadline passed: not open, so not overdue.
    t12 = f.ticket(at(11, 11), S, TicketStatus.WITHDRAWN, end_of(11, 20))
    f.dispatch(t12, S, at(11, 11, 10), end_of(11, 12), signed=at(11, 11, 11))

    # T13: an old ticket (September), open and overdue now — overdue ignores the period.
    t13 = f.ticket(at(9, 15), C, TicketStatus.IN_PROGRESS, end_of(9, 24))
    f.dispatch(t13, C, at(9, 15, 10), end_of(9, 16), signed=at(9, 15, 11))

    # T14: all in October — answered, surveyed (rated in November), QA sampled for an October
    # day (inspected in November), extension approved in October: none of it counts.
    t14 = f.ticket(at(10, 20), L, closed, end_of(10, 29))
    f.dispatch(t14, L, at(10, 20, 10), end_of(10, 21), signed=at(10, 20, 11),
               contacted=at(10, 20, 12))  # fmt: skip
    f.extension(t14, L, at(10, 22), "approved", decided=at(10, 23))
    f.resolve(t14, L, at(10, 28), on_time=True, working_days=6, rating="satisfied",
              quality=(date(2026, 10, 28), True), solved=True)  # fmt: skip


@pytest.fixture
def november(database: Database) -> Database:
    with database.transaction() as session:
        build_november(session)
    return database


def statistics(database: Database, **kw: Any) -> StatisticsReport:
    with database.read() as session:
        return compute_statistics(session, NOVEMBER, now=NOW, targets=Targets(), **kw)


def row(report: StatisticsReport, department: str | None) -> DepartmentStats:
    return next(r for r in report.rows if r.department == department)


def test_counts_per_department(november: Database) -> None:
    report = statistics(november)
    assert report.rows[0].department is None  # the overall row first
    codes = [r.department or "" for r in report.rows[1:]]
    assert codes == sorted(codes)  # then the departments, by code
    assert {C, L, S} <= set(codes)
    c, s, lab, total = row(report, C), row(report, S), row(report, L), row(report, None)

    # received (current department, received in Shanghai-November):
    # C: T1 T2 T7; S: T3 T4 T12; L: T5 T6 T10; queue: T8 → 3 + 3 + 3 + 1 = 10 (not T9, T11)
    assert (c.received, s.received, lab.received, total.received) == (3, 3, 3, 10)

    # dispatched in November: C: T1 T2 T4(first) T7 T9(second) = 5; S: T3 T4(second) T12 = 3;
    # L: T5 T6 T10 = 3 → 11.  Signed on time: C: T1 T9 = 2 (T2 late, T4 returned, T7 never);
    # S: 3; L: 3 (T10 signed on 1 Dec, within its limit) → 8
    assert (c.dispatched, s.dispatched, lab.dispatched, total.dispatched) == (5, 3, 3, 11)
    assert (c.signed_on_time, s.signed_on_time, lab.signed_on_time) == (2, 3, 3)
    assert total.signed_on_time == 8
    # returned in November: C: T4's first dispatch; S: T9's (dispatched in October) → 2
    assert (c.returned, s.returned, lab.returned, total.returned) == (1, 1, 0, 2)

    # extended: T2's (approved 7 Nov); not T6's (rejected), T7's (pending), T14's (October)
    assert (c.extended, s.extended, lab.extended, total.extended) == (1, 0, 0, 1)

    # resolved in November: C: T1 T2 T9 = 3; S: T3 ×2 T4 = 3; L: T5 = 1 (T14 in October) → 7
    # on time: C 3; S 2 (T4 late); L 1 → 6
    assert (c.resolved, s.resolved, lab.resolved, total.resolved) == (3, 3, 1, 7)
    assert (c.resolved_on_time, s.resolved_on_time, lab.resolved_on_time) == (3, 2, 1)
    assert total.resolved_on_time == 6

    # overdue open now (2 Dec): C: T13 (September); L: T6; queue: T8 → 3 (T12 is withdrawn)
    assert (c.overdue_open, s.overdue_open, lab.overdue_open, total.overdue_open) == (1, 0, 1, 3)

    # reopened: answers of November rated 不满意: T3's first (social_affairs) → 1
    assert (c.reopened, s.reopened, lab.reopened, total.reopened) == (0, 1, 0, 1)

    # surveys sent in November: C: T1 满意, T2 基本满意, T9 满意; S: T3 不满意, T3 满意,
    # T4 未评价; L: T5 pending → 7; rated = 3 + 2 + 0 = 5 (T14's survey was sent in October)
    assert (c.surveyed, s.surveyed, lab.surveyed, total.surveyed) == (3, 3, 1, 7)
    assert (c.rated, s.rated, lab.rated, total.rated) == (3, 2, 0, 5)
    assert (total.satisfied, total.basic, total.unsatisfied) == (3, 1, 1)
    assert (c.satisfied, c.basic, s.satisfied, s.unsatisfied) == (2, 1, 1, 1)
    assert (s.survey_timed_out, total.survey_timed_out) == (1, 1)

    # QA sampled for November days and inspected: C: T1 pass, T2 fail; S: T4 pass (T3's not
    # inspected); T14's was for 28 October → inspected 3, passed 2
    assert (c.inspected, c.passed, s.inspected, s.passed) == (2, 1, 1, 1)
    assert (lab.inspected, total.inspected, total.passed) == (0, 3, 2)


def test_rates_and_targets(november: Database) -> None:
    report = statistics(november)
    c, s, lab, total = row(report, C), row(report, S), row(report, L), row(report, None)

    assert total.on_time_rate.value == pytest.approx(6 / 7)  # 0.857 < 0.95
    assert total.on_time_rate.below
    assert total.on_time_rate.target == 0.95
    assert c.on_time_rate.value == 1.0  # 3 / 3
    assert not c.on_time_rate.below
    assert s.on_time_rate.value == pytest.approx(2 / 3)

    assert c.sign_for_rate.value == pytest.approx(0.4)  # 2 / 5
    assert c.sign_for_rate.below
    assert total.sign_for_rate.value == pytest.approx(8 / 11)

    assert c.return_rate.value == pytest.approx(0.2)  # 1 / 5
    assert s.return_rate.value == pytest.approx(1 / 3)  # 1 / 3
    assert lab.return_rate.value == 0.0  # 0 / 3: a real zero
    assert total.return_rate.value == pytest.approx(2 / 11)
    assert not total.return_rate.below  # no target

    assert s.reopen_rate.value == pytest.approx(1 / 3)  # 1 reopened / 3 resolved
    assert total.reopen_rate.value == pytest.approx(1 / 7)

    # satisfaction, w = 1: C (2 + 1) / 3 = 1.0; S (1 + 0) / 2 = 0.5; L no rating → None;
    # overall (3 + 1) / 5 = 0.8
    assert c.satisfaction_rate.value == 1.0
    assert s.satisfaction_rate.value == 0.5
    assert lab.satisfaction_rate.value is None
    assert not lab.satisfaction_rate.below  # no denominator: neither 0% nor below
    assert total.satisfaction_rate.value == pytest.approx(0.8)

    # survey response: C 3 / 3; S 2 / 3; L 0 / 1 = 0.0 (below); overall 5 / 7
    assert c.survey_response_rate.value == 1.0
    assert s.survey_response_rate.value == pytest.approx(2 / 3)
    assert lab.survey_response_rate.value == 0.0
    assert lab.survey_response_rate.below
    assert total.survey_response_rate.value == pytest.approx(5 / 7)

    # QA: C 1 / 2; S 1 / 1; L none inspected → None; overall 2 / 3
    assert c.qa_pass_rate.value == 0.5
    assert s.qa_pass_rate.value == 1.0
    assert lab.qa_pass_rate.value is None
    assert total.qa_pass_rate.value == pytest.approx(2 / 3)

    # working days: C {2, 3, 9} → median 3, mean 14 / 3; S {2, 6, 11} → 6, 19 / 3;
    # overall {2, 2, 3, 3, 6, 9, 11} → median (4th of 7) 3, mean 36 / 7
    assert c.median_working_days == 3
    assert c.mean_working_days == pytest.approx(14 / 3)
    assert s.median_working_days == 6
    assert total.working_days == ((2, 2), (3, 2), (6, 1), (9, 1), (11, 1))
    assert total.median_working_days == 3
    assert total.mean_working_days == pytest.approx(36 / 7)

    assert set(total.below_target) == {
        "on_time_rate",
        "sign_for_rate",
        "satisfaction_rate",
        "survey_response_rate",
        "qa_pass_rate",
    }


def test_basic_satisfied_weight_and_targets_come_from_the_config(november: Database) -> None:
    with november.read() as session:
        report = compute_statistics(
            session,
            NOVEMBER,
            now=NOW,
            targets=Targets(basic_satisfied_weight=0.9, satisfaction=0.75, quality=0.5),
        )
    total, c = row(report, None), row(report, C)
    assert total.satisfaction_rate.value == pytest.approx(0.78)  # (3 + 0.9 × 1) / 5
    assert not total.satisfaction_rate.below  # 0.78 ≥ 0.75
    assert c.satisfaction_rate.value == pytest.approx(2.9 / 3)  # (2 + 0.9 × 1) / 3
    assert c.qa_pass_rate.value == 0.5
    assert not c.qa_pass_rate.below  # exactly on target is not below
    assert report.targets.basic_satisfied_weight == 0.9


def test_trend_is_per_shanghai_day(november: Database) -> None:
    report = statistics(november)
    assert report.trend_unit == "day"
    assert len(report.trend) == 30
    by_day = {p.start: p for p in report.trend}
    # 1 Nov 00:00 (T8) and 30 Nov 23:30 (T10) are November days in Shanghai
    assert by_day[date(2026, 11, 1)].received == 1
    assert by_day[date(2026, 11, 30)].received == 1
    # 12 Nov: T3's second answer and T5, both on time
    assert (by_day[date(2026, 11, 12)].resolved, by_day[date(2026, 11, 12)].on_time_rate) == (2, 1)
    # 20 Nov: T4, late
    assert by_day[date(2026, 11, 20)].on_time_rate == 0.0
    assert by_day[date(2026, 11, 21)].on_time_rate is None
    assert sum(p.received for p in report.trend) == 10
    assert sum(p.resolved for p in report.trend) == 7
    assert sum(p.resolved_on_time for p in report.trend) == 6


def test_one_department(november: Database) -> None:
    report = statistics(november, department=S)
    assert [r.department for r in report.rows] == [S]
    assert report.department == S
    assert report.overall is None
    only = report.rows[0]
    assert (only.received, only.resolved, only.returned, only.reopened) == (3, 3, 1, 1)
    assert sum(p.received for p in report.trend) == 3  # T3, T4, T12
    assert sum(p.resolved for p in report.trend) == 3


def test_unknown_department(november: Database) -> None:
    with pytest.raises(UnknownDepartmentError, match="nowhere"):
        statistics(november, department="nowhere")


def test_names_and_order_from_the_caller(november: Database, hotline_config: HotlineConfig) -> None:
    report = statistics(november, department_names={L: "Labour", C: "Construction"})
    named = [(r.department, r.name) for r in report.rows]
    assert named[:3] == [(None, ""), (L, "Labour"), (C, "Construction")]
    # the others are not named by the caller: the database's Chinese names, by code
    social = hotline_config.departments.get(S)
    assert social is not None
    assert (S, social.name_zh) in named[3:]
    others = [code or "" for code, _ in named[3:]]
    assert others == sorted(others)


def test_an_empty_period_has_no_rates(database: Database, hotline_config: HotlineConfig) -> None:
    with database.read() as session:
        report = compute_statistics(session, NOVEMBER, now=NOW, targets=Targets())
    total = report.rows[0]
    assert total.received == 0
    assert all(total.rate(name).value is None for name in RATE_FIELDS)
    assert total.median_working_days is None
    # every active department is listed, with zeros
    assert len(report.rows) == 1 + len(hotline_config.departments.departments)


def test_a_year_is_bucketed_by_week(november: Database) -> None:
    with november.read() as session:
        report = compute_statistics(
            session, parse_period("2026", date(2026, 12, 2)), now=NOW, targets=Targets()
        )
    assert report.trend_unit == "week"
    assert report.trend[0].start == date(2026, 1, 1)  # the first week starts with the period
    assert report.trend[1].start == date(2026, 1, 5)  # then Mondays
    # every ticket, T1–T14, was received in 2026 → 14
    assert sum(p.received for p in report.trend) == 14
    assert row(report, None).received == 14


def test_the_report_survives_json(november: Database) -> None:
    report = statistics(november)
    again = report_from_dict(json.loads(json.dumps(report_to_dict(report))))
    assert again == report
    assert again.generated_at == NOW
    assert again.generated_at.utcoffset() == NOW.utcoffset()


def test_ticket_rows_for_export(november: Database, hotline_config: HotlineConfig) -> None:
    with november.read() as session:
        rows: Iterator[dict[str, Any]] = ticket_rows_for_export(session, NOVEMBER)
        exported = list(rows)
    # 10 tickets received in November, by receipt time: T8 (1 Nov 00:00) first, T10 last
    assert [r["number"] for r in exported] == [
        "T8", "T1", "T2", "T3", "T4", "T5", "T6", "T12", "T7", "T10",
    ]  # fmt: skip
    by_number = {r["number"]: r for r in exported}
    t3 = by_number["T3"]
    # the latest answer (round 2): on time, 6 working days, rated 满意, no QA sample
    assert (t3["on_time"], t3["working_days"], t3["rating"], t3["quality_passed"]) == (
        True, 6, "satisfied", None,
    )  # fmt: skip
    assert t3["reopen_count"] == 1
    assert t3["resolved_at"] == at(11, 12).astimezone(UTC)
    assert by_number["T2"]["extensions"] == 1
    assert by_number["T2"]["quality_passed"] is False
    assert by_number["T8"]["department_code"] is None
    assert by_number["T8"]["resolved_at"] is None
    construction = hotline_config.departments.get(C)
    assert construction is not None
    assert by_number["T1"]["department_name"] == construction.name_zh
    assert by_number["T1"]["phone"] == PHONE  # raw: the workbook masks it
    assert "name" not in by_number["T1"]
    assert by_number["T1"]["received_at"].tzinfo is not None


def test_the_statistics_indexes_change_no_number(november: Database) -> None:
    """The counts are shaped for STATISTICS_INDEXES; with or without them, the same report."""
    without = statistics(november)
    missing = missing_statistics_indexes(november.engine)
    try:
        with november.transaction() as session:
            for name in missing:
                table, columns = STATISTICS_INDEXES[name]
                session.execute(text(f"CREATE INDEX {name} ON {table} ({', '.join(columns)})"))
        assert missing_statistics_indexes(november.engine) == []
        assert statistics(november) == without
    finally:
        # The PostgreSQL schema is shared by the session's tests: leave it as it was.
        with november.transaction() as session:
            for name in missing:
                session.execute(text(f"DROP INDEX IF EXISTS {name}"))


def test_statistics_inside_a_write_transaction(database: Database) -> None:
    """The one-time index check reads through the session's own connection: a second one
    would wait for this transaction's write lock on SQLite (the sweep's daily digest)."""
    with database.transaction() as session:
        started = time.monotonic()
        report = compute_statistics(session, NOVEMBER, now=NOW, targets=Targets())
        assert time.monotonic() - started < 10  # not SQLite's 30 s busy timeout
    assert report.rows[0].received == 0


def test_the_counts_come_from_one_snapshot(november: Database) -> None:
    """A ticket committed while the statistics are being counted is in none of the counts.

    On PostgreSQL the statements run on several connections at once; each must read the
    snapshot of the caller's transaction, not the data committed by the time it starts.
    """
    before = statistics(november)
    committed: list[str] = []

    def commit_a_ticket_first(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if not committed and "FROM tickets" in statement:  # the first count of tickets
            committed.append(statement)
            with november.engine.connect() as other, other.begin():
                other.execute(
                    text(
                        "INSERT INTO tickets (number, citizen_id, request_type, text, status,"
                        " department_code, urgent, received_at, deadline_at,"
                        " deadline_estimated, reopen_count, updated_at)"
                        " SELECT 'LATE', citizen_id, request_type, text, status,"
                        " department_code, urgent, received_at, deadline_at,"
                        " deadline_estimated, reopen_count, updated_at"
                        " FROM tickets WHERE number = 'T1'"
                    )
                )

    event.listen(november.engine, "before_cursor_execute", commit_a_ticket_first)
    try:
        during = statistics(november)
    finally:
        event.remove(november.engine, "before_cursor_execute", commit_a_ticket_first)
    assert committed, "the hook never ran"
    assert during == before
    after = statistics(november)  # it was committed: the next report counts it
    assert row(after, C).received == row(before, C).received + 1


async def test_a_report_asked_for_is_counted_as_asked(november: Database) -> None:
    """A /stats request travels through the outbox as JSON and is counted when it is sent:
    the same report as counting it at once, as of the moment it was asked."""
    request = ReportRequest(
        period=NOVEMBER, asked_at=NOW, targets=ReportTargets.of(Targets()), names={}
    )
    stored = json.loads(json.dumps(request.to_dict()))
    assert ReportRequest.from_dict(stored) == request
    table = await Renderers(november)({"renderer": "stats_text", "request": stored})
    assert table["text"] == format_report_text(statistics(november), "zh")


async def test_a_reports_table_and_chart_come_from_one_count(
    november: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts: list[Period] = []

    def count(session: Session, period: Period, **kw: Any) -> StatisticsReport:
        counts.append(period)
        return compute_statistics(session, period, **kw)

    monkeypatch.setattr("bot.renderers.compute_statistics", count)
    renderers = Renderers(november)
    request = ReportRequest(
        period=NOVEMBER, asked_at=NOW, targets=ReportTargets.of(Targets()), names={}
    ).to_dict()
    table = await renderers({"renderer": "stats_text", "lang": "zh", "request": request})
    chart = await renderers({"renderer": "stats_chart", "lang": "zh", "request": request})
    assert counts == [NOVEMBER]
    assert table["text"] == format_report_text(statistics(november), "zh")
    assert chart["upload"][1][:8] == b"\x89PNG\r\n\x1a\n"
    # A row queued before reports were counted at sending carries its report: used as it is.
    old = await renderers(
        {"renderer": "stats_text", "lang": "en", "report": report_to_dict(statistics(november))}
    )
    assert counts == [NOVEMBER]
    assert old["text"] == format_report_text(statistics(november), "en")
