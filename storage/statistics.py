"""SLA statistics in SQL: one GROUP BY per table, the same statements on SQLite and PostgreSQL.

Nothing here loads tickets into Python: every query returns at most one row per department
and (local day | working-day count | rating), so memory depends on the number of departments
and the length of the period, never on the number of tickets.

A period ``[start, end]`` of local dates covers ``start 00:00`` to ``end + 1 day 00:00``
Asia/Shanghai, compared in UTC (times are stored in UTC). Each count, for a department D
(every count is also summed over all departments for the overall row):

received
    tickets with ``received_at`` in the period and ``department_code = D`` (their *current*
    department). Tickets still in the dispatch queue (no department) count only in the overall
    row. Withdrawn and merged tickets count: they were received.
dispatched
    assignments with ``dispatched_at`` in the period, to D.
signed_on_time
    of those, ``signed_at IS NOT NULL AND signed_at <= sign_due_at``. A dispatch not signed
    for yet counts as dispatched but not (yet) signed on time.
returned
    assignments to D with ``returned_at`` in the period (whenever they were dispatched).
extended
    extensions of D with ``status = 'approved'`` and ``decided_at`` in the period.
resolved / resolved_on_time
    resolutions by D with ``resolved_at`` in the period (every round: an answer after a
    re-opening counts again) / of those, ``on_time`` (fixed at resolution against the deadline
    then in force, extensions included).
overdue_open
    tickets of D with an open status (received, dispatched, returned, in_progress) and
    ``deadline_at < now`` — *now*, not the period.
reopened
    resolutions by D with ``resolved_at`` in the period whose survey is rated
    ``unsatisfied`` (the answers that led to a 重办), so the reopen rate reopened / resolved
    compares one cohort and stays within [0, 1]. A late rating moves an old period's figure.
surveyed / rated / satisfied / basic / unsatisfied / survey_timed_out
    surveys of D with ``sent_at`` in the period / of those, rated ``satisfied``, ``basic`` or
    ``unsatisfied`` / each of those three / rated ``none`` (timed out). Pending surveys
    (rating NULL) count as surveyed only.
inspected / passed
    quality checks of D with ``sampled_for`` (a local date) in the period and ``passed IS NOT
    NULL`` / of those, ``passed``.
working days (median, mean)
    a histogram ``GROUP BY working_days`` of the resolutions counted in ``resolved``; the
    median and mean come from the counts.

The trend counts received tickets and resolutions per local day (bucketed into weeks or months
for long periods by :func:`handlers.reports.bucket_trend`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, and_, case, func, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from handlers.model import OPEN_STATUSES
from handlers.reports import (
    COUNT_FIELDS,
    DepartmentStats,
    Period,
    ReportTargets,
    StatisticsReport,
    TargetsLike,
    bucket_trend,
    combine,
)
from storage.models import (
    AssignmentRow,
    CitizenRow,
    DepartmentRow,
    ExtensionRow,
    QualityCheckRow,
    ResolutionRow,
    SurveyRow,
    TicketRow,
)

RATED = ("satisfied", "basic", "unsatisfied")


class UnknownDepartmentError(LookupError):
    """No department has this code; the message is one line for the operator."""


class local_day(FunctionElement[date]):  # lower case: it reads as an SQL function
    """The Asia/Shanghai calendar day of a UTC timestamp column."""

    type = Date()
    name = "local_day"
    inherit_cache = True


@compiles(local_day, "sqlite")
def _local_day_sqlite(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite stores naive UTC text; China has kept UTC+8 without DST since 1991, so a fixed
    # offset is exact for every date the hotline can hold.
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


@compiles(local_day, "postgresql")
def _local_day_postgresql(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(timezone('Asia/Shanghai', {compiler.process(element.clauses, **kw)}) AS DATE)"


def _in(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _department_filter(column: Any, department: str | None) -> ColumnElement[bool]:
    return column == department if department is not None else true()


def compute_statistics(
    session: Session,
    period: Period,
    *,
    now: datetime,
    targets: TargetsLike,
    department: str | None = None,
    department_names: Mapping[str, str] | None = None,
) -> StatisticsReport:
    """The period's statistics per department, with the overall row first.

    With ``department``, only that department's row (and its trend). Rows: every active
    department (zeros included) and any retired one with activity, in the order of
    ``department_names`` (else by code); names from ``department_names``, else the database's
    Chinese name. Raises :class:`UnknownDepartmentError` for a code no department has.
    """
    report_targets = ReportTargets.of(targets)
    start, end = period.utc_bounds()
    known = {
        code: (name, bool(active))
        for code, name, active in session.execute(
            select(DepartmentRow.code, DepartmentRow.name_zh, DepartmentRow.active)
        )
    }
    if department is not None and department not in known:
        raise UnknownDepartmentError(f"no department has the code {department!r}")

    counts: dict[str | None, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNT_FIELDS, 0))
    histograms: dict[str | None, dict[int, int]] = defaultdict(dict)
    daily: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])

    # Tickets received, by current department and local day (the day feeds the trend).
    t = TicketRow
    received_day = local_day(t.received_at)
    for code, day, n in session.execute(
        select(t.department_code, received_day, func.count())
        .where(_in(t.received_at, start, end), _department_filter(t.department_code, department))
        .group_by(t.department_code, received_day)
    ):
        counts[code]["received"] += n
        daily[_as_date(day)][0] += n

    # Overdue open tickets, now.
    for code, n in session.execute(
        select(t.department_code, func.count())
        .where(
            t.status.in_(sorted(OPEN_STATUSES)),
            t.deadline_at < now,
            _department_filter(t.department_code, department),
        )
        .group_by(t.department_code)
    ):
        counts[code]["overdue_open"] += n

    # Dispatches, on-time sign-fors and returns: one pass over the assignments.
    a = AssignmentRow
    dispatched = _in(a.dispatched_at, start, end)
    returned = _in(a.returned_at, start, end)
    for code, n_dispatched, n_signed, n_returned in session.execute(
        select(
            a.department_code,
            _count_if(dispatched),
            _count_if(and_(dispatched, a.signed_at.is_not(None), a.signed_at <= a.sign_due_at)),
            _count_if(returned),
        )
        .where(or_(dispatched, returned), _department_filter(a.department_code, department))
        .group_by(a.department_code)
    ):
        row = counts[code]
        row["dispatched"] += n_dispatched
        row["signed_on_time"] += n_signed
        row["returned"] += n_returned

    # Extensions approved in the period.
    e = ExtensionRow
    for code, n in session.execute(
        select(e.department_code, func.count())
        .where(
            e.status == "approved",
            _in(e.decided_at, start, end),
            _department_filter(e.department_code, department),
        )
        .group_by(e.department_code)
    ):
        counts[code]["extended"] += n

    # Resolutions: the working-days histogram carries the counts and the on-time answers.
    r = ResolutionRow
    resolved_in = and_(
        _in(r.resolved_at, start, end), _department_filter(r.department_code, department)
    )
    on_time = _count_if(r.on_time.is_(True))
    for code, days, n, n_on_time in session.execute(
        select(r.department_code, r.working_days, func.count(), on_time)
        .where(resolved_in)
        .group_by(r.department_code, r.working_days)
    ):
        row = counts[code]
        row["resolved"] += n
        row["resolved_on_time"] += n_on_time
        histograms[code][int(days)] = histograms[code].get(int(days), 0) + n

    resolved_day = local_day(r.resolved_at)
    for day, n, n_on_time in session.execute(
        select(resolved_day, func.count(), on_time).where(resolved_in).group_by(resolved_day)
    ):
        point = daily[_as_date(day)]
        point[1] += n
        point[2] += n_on_time

    # Re-opened: answers of the period rated 不满意. Starting from the (few) unsatisfied
    # surveys lets both databases use the rating index, then the resolution's primary key.
    s = SurveyRow
    for code, n in session.execute(
        select(r.department_code, func.count())
        .select_from(s)
        .join(r, r.id == s.resolution_id)
        .where(s.rating == "unsatisfied", resolved_in)
        .group_by(r.department_code)
    ):
        counts[code]["reopened"] += n

    # Surveys sent in the period, by rating.
    for code, rating, n in session.execute(
        select(s.department_code, s.rating, func.count())
        .where(_in(s.sent_at, start, end), _department_filter(s.department_code, department))
        .group_by(s.department_code, s.rating)
    ):
        row = counts[code]
        row["surveyed"] += n
        if rating in RATED:
            row["rated"] += n
            row[rating] += n
        elif rating == "none":
            row["survey_timed_out"] += n

    # Quality checks of days in the period that have been inspected.
    q = QualityCheckRow
    for code, passed, n in session.execute(
        select(q.department_code, q.passed, func.count())
        .where(
            q.sampled_for >= period.start,
            q.sampled_for <= period.end,
            q.passed.is_not(None),
            _department_filter(q.department_code, department),
        )
        .group_by(q.department_code, q.passed)
    ):
        row = counts[code]
        row["inspected"] += n
        if passed:
            row["passed"] += n

    names = dict(department_names or {})

    def stats_for(code: str | None) -> DepartmentStats:
        name = names.get(code, known[code][0]) if code is not None else ""
        return DepartmentStats(
            department=code,
            name=name,
            targets=report_targets,
            working_days=tuple(sorted(histograms[code].items())),
            **counts[code],
        )

    if department is not None:
        rows: tuple[DepartmentStats, ...] = (stats_for(department),)
    else:
        shown = {code for code, (_, active) in known.items() if active}
        shown |= {code for code in counts if code is not None}
        order = {code: i for i, code in enumerate(names)}
        codes = sorted(shown, key=lambda code: (order.get(code, len(order)), code))
        department_rows = [stats_for(code) for code in codes]
        # The overall row also holds what belongs to no department: tickets in the dispatch
        # queue (only tickets can lack a department).
        queue = [stats_for(None)] if None in counts else []
        overall = combine([*department_rows, *queue], targets=report_targets)
        rows = (overall, *department_rows)

    unit, trend = bucket_trend(period, [(day, v[0], v[1], v[2]) for day, v in daily.items()])
    return StatisticsReport(
        period=period,
        generated_at=now,
        rows=rows,
        trend=trend,
        trend_unit=unit,
        targets=report_targets,
        department=department,
    )


def _as_date(value: date | str) -> date:
    # Result processing already gives dates; a bare string is tolerated for raw drivers.
    return value if isinstance(value, date) else date.fromisoformat(value)


def ticket_rows_for_export(session: Session, period: Period) -> Iterator[dict[str, Any]]:
    """The period's tickets (by receipt), one mapping each, streamed in batches.

    Each row has the ticket's number, receipt time, type, urgency, current department (code
    and Chinese name), status, deadline, re-open count, approved extensions, and its latest
    answer: time, on time, working days, rating, quality-check result; plus ``phone``, the
    citizen's phone *unmasked* — the caller must mask it. No citizen name is read.
    """
    start, end = period.utc_bounds()
    t, c, d = TicketRow, CitizenRow, DepartmentRow
    latest = aliased(ResolutionRow)
    s, q, e = SurveyRow, QualityCheckRow, ExtensionRow
    latest_round = (
        select(func.max(ResolutionRow.round))
        .where(ResolutionRow.ticket_id == t.id)
        .correlate(t)
        .scalar_subquery()
    )
    extensions = (
        select(func.count())
        .select_from(e)
        .where(e.ticket_id == t.id, e.status == "approved")
        .correlate(t)
        .scalar_subquery()
    )
    statement = (
        select(
            t.number,
            t.received_at,
            t.request_type,
            t.urgent,
            t.department_code,
            d.name_zh.label("department_name"),
            t.status,
            t.deadline_at,
            t.reopen_count,
            extensions.label("extensions"),
            latest.resolved_at,
            latest.on_time,
            latest.working_days,
            s.rating,
            q.passed.label("quality_passed"),
            c.phone,
        )
        .select_from(t)
        .join(c, c.id == t.citizen_id)
        .outerjoin(d, d.code == t.department_code)
        .outerjoin(latest, and_(latest.ticket_id == t.id, latest.round == latest_round))
        .outerjoin(s, s.resolution_id == latest.id)
        .outerjoin(q, q.resolution_id == latest.id)
        .where(_in(t.received_at, start, end))
        .order_by(t.received_at, t.id)
        .execution_options(yield_per=1000)
    )
    for row in session.execute(statement).mappings():
        yield dict(row)
