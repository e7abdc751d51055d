"""SLA statistics in SQL, the same statements on SQLite and PostgreSQL.

Nothing here loads tickets into Python: every statement returns at most one row per
department × (trend bucket | working-day count | rating), so memory depends on the number of
departments and the length of the period, never on the number of tickets.

A period ``[start, end]`` of local dates covers ``start 00:00`` to ``end + 1 day 00:00``
Asia/Shanghai; the bounds are computed in Python and compared in UTC (times are stored in UTC),
so no SQL time-zone function is needed. Each count, for a department D (every count is also
summed over all departments for the overall row):

received
    tickets with ``received_at`` in the period and ``department_code = D`` (their *current*
    department). Tickets still in the dispatch queue (no department) count only in the overall
    row. Withdrawn and merged tickets count: they were received.
dispatched
    assignments to D with ``dispatched_at`` in the period.
signed_on_time
    of those, ``signed_at <= sign_due_at`` (so signed). A dispatch not signed for yet counts
    as dispatched but not signed on time.
contacted_on_time
    of those, ``contacted_at <= contact_due_at``: the unit contacted the citizen (先行联系) in
    time. A dispatch without a first contact (or without a limit) counts as not in time.
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
surveyed / satisfied / basic / unsatisfied / survey_timed_out / rated
    surveys of D with ``sent_at`` in the period / of those, rated ``satisfied``, ``basic``,
    ``unsatisfied``, ``none`` (timed out) / satisfied + basic + unsatisfied. Pending surveys
    (rating NULL) count as surveyed only.
solve_answered / solved
    surveys of D with ``sent_at`` in the period where the citizen answered 问题是否已解决
    (``solved`` not NULL) / answered 已解决 (``solved``).
reopened
    = unsatisfied: surveys sent in the period rated ``unsatisfied``. A survey is sent with its
    answer and an unsatisfied rating re-opens the ticket, so this is the number of the period's
    answers that were re-opened (重办), the same cohort as ``resolved``; a rating that arrives
    later moves the figure of the period the answer was given in.
inspected / passed
    quality checks of D with ``sampled_for`` (a local date) in the period and ``passed IS NOT
    NULL`` / of those, ``passed``.
working days (median, mean)
    a histogram (``GROUP BY working_days``) of the resolutions counted in ``resolved``; the
    median and mean come from its counts.

The trend counts received tickets, resolutions and on-time resolutions per bucket (day, week
or month, see :func:`handlers.reports.trend_buckets`).

How the counting is shaped, and why: the big tables are counted by *index seeks*, per
department (and per trend bucket or counted value), not by one ``GROUP BY`` over the period. A
``GROUP BY`` makes SQLite sort every row of the period (over a second per million rows); a seek
on an index that starts with ``department_code`` counts the same rows without sorting and
without reading the table, on both databases. Each row is read once per figure it feeds:

- resolutions are counted per trend bucket as on-time and late (``on_time`` is the index's
  second column) rather than as all and on-time; their working-days histogram is a loose
  index scan (``_working_days``);
- the dispatches of a department are counted with their on-time sign-fors and first contacts
  in one aggregate (``FILTER``);
- surveys are counted per (rating, 已解决) pair, a seek each (``_SURVEY_CELLS``), and every
  survey figure is a sum of those cells: one pass for 满意率, 解决率 and 重办率 together,
  with no condition evaluated per row (a ``FILTER`` per figure costs SQLite twice as much);
- returns, open overdue tickets and quality checks are seeks per department on indexes of
  their own; approved extensions (a small table) are grouped directly.

On PostgreSQL the per-department arms of a ``UNION ALL`` may run in parallel. The indexes this
relies on are ``STATISTICS_INDEXES`` (bench/stats.py measures them; without them the numbers
are the same, only slower).

Every count is read from one snapshot: on SQLite the session's read transaction; on
PostgreSQL the statements run in two groups at once, each on a connection of its own that
imports the snapshot of the caller's transaction (``_run``): a year's report takes the time of
the slower group instead of the sum. The caller's own uncommitted writes are therefore not
counted on PostgreSQL: statistics are of what is committed.
"""

from __future__ import annotations

import logging
import re
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    Executable,
    Integer,
    String,
    and_,
    false,
    func,
    inspect,
    literal,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import QueryableAttribute, Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from handlers.model import OPEN_STATUSES, OfferOutcome, Rating, TicketStatus
from handlers.reports import (
    COUNT_FIELDS,
    SHANGHAI,
    DepartmentStats,
    Period,
    ReportTargets,
    StatisticsReport,
    TargetsLike,
    TrendPoint,
    combine,
    trend_buckets,
)
from storage.models import (
    AssignmentRow,
    CitizenRow,
    DepartmentRow,
    ExtensionRow,
    KbOfferRow,
    KnowledgeEntryRow,
    QualityCheckRow,
    ResolutionRow,
    SurveyRow,
    TicketRow,
)
from storage.types import UtcDateTime

log = logging.getLogger(__name__)

RATINGS = ("satisfied", "basic", "unsatisfied", "none")

#: Indexes the statistics are shaped for (name → table, columns): one per big table, led by the
#: department and the event time, so each count is a seek that reads only the index.
STATISTICS_INDEXES: dict[str, tuple[str, tuple[str, ...]]] = {
    "ix_tickets_department_received": ("tickets", ("department_code", "received_at")),
    # supersedes ix_assignments_department_dispatched (department_code, dispatched_at)
    "ix_assignments_department_dispatched_sign_contact": (
        "assignments",
        (
            "department_code",
            "dispatched_at",
            "signed_at",
            "sign_due_at",
            "contacted_at",
            "contact_due_at",
        ),
    ),
    "ix_assignments_department_returned": ("assignments", ("department_code", "returned_at")),
    "ix_resolutions_department_on_time_resolved": (
        "resolutions",
        ("department_code", "on_time", "resolved_at", "working_days"),
    ),
    "ix_resolutions_department_days_resolved": (
        "resolutions",
        ("department_code", "working_days", "resolved_at"),
    ),
    # supersedes ix_surveys_department_rating_sent and ix_surveys_department_solved_sent
    "ix_surveys_department_rating_solved_sent": (
        "surveys",
        ("department_code", "rating", "solved", "sent_at"),
    ),
    "ix_quality_checks_department_passed_sampled": (
        "quality_checks",
        ("department_code", "passed", "sampled_for"),
    ),
}

# SQLite allows 500 terms in a compound SELECT; stay well below it.
_ARMS_PER_STATEMENT = 200


_checked: weakref.WeakSet[Engine] = weakref.WeakSet()


def missing_statistics_indexes(bind: Engine | Connection) -> list[str]:
    """The names of ``STATISTICS_INDEXES`` the database lacks (matched by table and columns)."""
    inspector = inspect(bind)
    missing = []
    for name, (table, columns) in STATISTICS_INDEXES.items():
        present = {tuple(ix["column_names"]) for ix in inspector.get_indexes(table)}
        if tuple(columns) not in present:
            missing.append(name)
    return missing


def _warn_once_without_indexes(session: Session) -> None:
    # Without them every count reads table rows: minutes instead of a second at a million
    # tickets. Checked once per engine, so a missing migration is noticed in the log.
    engine = session.get_bind()
    if not isinstance(engine, Engine) or engine in _checked:
        return
    _checked.add(engine)
    # The session's own connection: a new one would wait for the write lock this very
    # transaction may hold (SQLite).
    missing = missing_statistics_indexes(session.connection())
    if missing:
        log.warning(
            "the statistics indexes %s are missing: statistics will be slow on large "
            "databases (see storage.statistics.STATISTICS_INDEXES)",
            ", ".join(missing),
        )


class UnknownDepartmentError(LookupError):
    """No department has this code; the message is one line for the operator."""


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), SHANGHAI)


def _count(*conditions: ColumnElement[bool]) -> Any:
    """``(SELECT count(*) … WHERE conditions)``, correlated to the enclosing query."""
    return select(func.count()).where(*conditions).scalar_subquery()


def _between(column: Any, start: Any, end: Any) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def _per_department(codes: Sequence[str], arm: Callable[[str], Any]) -> list[Executable]:
    """``UNION ALL`` of one aggregate ``arm(code)`` per department, in chunks."""
    statements: list[Executable] = []
    for first in range(0, len(codes), _ARMS_PER_STATEMENT):
        arms: list[Any] = [arm(code) for code in codes[first : first + _ARMS_PER_STATEMENT]]
        statements.append(arms[0] if len(arms) == 1 else union_all(*arms))
    return statements


_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")


def _run(session: Session, groups: Sequence[Sequence[Executable]]) -> list[list[Any]]:
    """The rows of every statement, in the order given (the groups concatenated).

    On PostgreSQL each group runs on a connection of its own, all at once, every one on the
    snapshot of ``session``'s transaction (``pg_export_snapshot``): the counts are as
    consistent as if one transaction had read them, and a year's report takes the time of
    its slowest group instead of the sum. Elsewhere (SQLite) they run on ``session``.
    """
    engine = session.get_bind()
    if engine.dialect.name != "postgresql" or not isinstance(engine, Engine):
        return [list(session.execute(statement)) for group in groups for statement in group]
    snapshot = session.execute(text("SELECT pg_export_snapshot()")).scalar_one()
    if not _SNAPSHOT_ID.fullmatch(snapshot):  # it is spliced into SET, which takes no binds
        raise ValueError(f"unexpected snapshot id {snapshot!r}")

    def run_group(group: Sequence[Executable]) -> list[list[Any]]:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                connection.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                return [list(connection.execute(statement)) for statement in group]

    with ThreadPoolExecutor(max(1, len(groups) - 1), thread_name_prefix="statistics") as pool:
        others = [pool.submit(run_group, group) for group in groups[1:]]
        results = run_group(groups[0])
        for other in others:
            results += other.result()
    return results


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
    _warn_once_without_indexes(session)
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
    codes = [department] if department is not None else sorted(known)
    unit, buckets = trend_buckets(period)
    bounds = [(_start_of(first), _start_of(after)) for first, after in buckets]

    a = AssignmentRow
    dispatches = _per_department(
        codes,
        lambda code: select(
            literal(code, String).label("code"),
            func.count(),
            func.count().filter(a.signed_at <= a.sign_due_at),
            func.count().filter(a.contacted_at <= a.contact_due_at),
        ).where(a.department_code == code, _between(a.dispatched_at, start, end)),
    )
    queue = [_queue_cells(bounds)] if department is None else []
    small = _small_tables(period, now=now, department=department)
    # Two groups of about the same cost (tickets and resolutions; assignments, surveys and
    # quality checks): two, because PostgreSQL may add parallel workers to the per-department
    # unions and the machines this serves have few cores.
    results = iter(
        _run(
            session,
            [
                [_trend_cells(codes, bounds), *queue, _working_days(codes, start, end)],
                [*dispatches, _per_department_seeks(codes, period, now), *small],
            ],
        )
    )

    counts: dict[str | None, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNT_FIELDS, 0))
    trend = [[0, 0, 0] for _ in buckets]  # received, resolved, on time
    # Tickets received and answers given, per department × trend bucket.
    for code, index, received, on_time, late in next(results):
        row, cell = counts[code], trend[index]
        row["received"] += received
        row["resolved"] += on_time + late
        row["resolved_on_time"] += on_time
        cell[0] += received
        cell[1] += on_time + late
        cell[2] += on_time
    for _ in queue:
        # Tickets in the dispatch queue belong to no department, but to the overall row.
        for index, received in next(results):
            counts[None]["received"] += received
            trend[index][0] += received

    histograms: dict[str, dict[int, int]] = defaultdict(dict)
    for code, days, n in next(results):
        if n:  # the loose scan also finds the days of answers outside the period
            histograms[code][int(days)] = n

    for _ in dispatches:
        for code, dispatched, signed_on_time, contacted_on_time in next(results):
            counts[code]["dispatched"] = dispatched
            counts[code]["signed_on_time"] = signed_on_time
            counts[code]["contacted_on_time"] = contacted_on_time

    for code, returned, overdue, passed, failed, *surveys in next(results):
        row = counts[code]
        row["returned"], row["overdue_open"] = returned, overdue
        row["inspected"], row["passed"] = passed + failed, passed
        by_rating: dict[str | None, int] = defaultdict(int)
        for (rating, solved), n in zip(_SURVEY_CELLS, surveys, strict=True):
            by_rating[rating] += n
            if solved is not None:
                row["solve_answered"] += n
                row["solved"] += n if solved else 0
        row["satisfied"], row["basic"] = by_rating["satisfied"], by_rating["basic"]
        row["unsatisfied"], row["survey_timed_out"] = by_rating["unsatisfied"], by_rating["none"]
        row["rated"] = row["satisfied"] + row["basic"] + row["unsatisfied"]
        row["surveyed"] = sum(by_rating.values())
        row["reopened"] = row["unsatisfied"]

    for code, n in next(results):
        counts[code]["extended"] += n
    direct_answers: tuple[int, int] | None = None
    if department is None:
        [(queue_overdue, entries, answered, waiting)] = next(results)
        counts[None]["overdue_open"] += queue_overdue
        if entries:
            direct_answers = (answered, waiting)  # contacts: + the tickets received, below

    names = dict(department_names or {})

    def stats_for(code: str | None) -> DepartmentStats:
        name = names.get(code, known[code][0]) if code is not None else ""
        histogram = histograms.get(code, {}) if code is not None else {}
        return DepartmentStats(
            department=code,
            name=name,
            targets=report_targets,
            working_days=tuple(sorted(histogram.items())),
            direct_answers=None,  # the overall row's, added below
            **counts[code],
        )

    rows: tuple[DepartmentStats, ...]
    if department is not None:
        rows = (stats_for(department),)
    else:
        shown = [code for code in codes if known[code][1] or any(counts[code].values())]
        order = {code: i for i, code in enumerate(names)}
        shown.sort(key=lambda code: (order.get(code, len(order)), code))
        department_rows = [stats_for(code) for code in shown]
        queue_row = [stats_for(None)] if None in counts else []
        overall = combine([*department_rows, *queue_row], targets=report_targets)
        if direct_answers is not None:
            answered, waiting = direct_answers
            overall = replace(overall, direct_answers=(answered, overall.received + waiting))
        rows = (overall, *department_rows)

    return StatisticsReport(
        period=period,
        generated_at=now,
        rows=rows,
        trend=tuple(
            TrendPoint(first, *values) for (first, _), values in zip(buckets, trend, strict=True)
        ),
        trend_unit=unit,
        targets=report_targets,
        department=department,
    )


def _bucket_table(bounds: Sequence[tuple[datetime, datetime]]) -> Any:
    """``(SELECT 0 AS k, s0 AS s, e0 AS e UNION ALL …) AS buckets``: portable (SQLite has no
    ``VALUES … AS name (columns)``)."""
    rows = [
        select(
            literal(index, Integer).label("k"),
            literal(low, UtcDateTime()).label("s"),
            literal(high, UtcDateTime()).label("e"),
        )
        for index, (low, high) in enumerate(bounds)
    ]
    return (union_all(*rows) if len(rows) > 1 else rows[0]).subquery("buckets")


def _trend_cells(codes: Sequence[str], bounds: Sequence[tuple[datetime, datetime]]) -> Executable:
    """Per department × bucket: tickets received, answers on time, answers late."""
    buckets = _bucket_table(bounds)
    d = aliased(DepartmentRow)
    t, r = TicketRow, ResolutionRow

    def in_bucket(column: Any) -> ColumnElement[bool]:
        return _between(column, buckets.c.s, buckets.c.e)

    return (
        select(
            d.code,
            buckets.c.k,
            _count(t.department_code == d.code, in_bucket(t.received_at)),
            _count(r.department_code == d.code, r.on_time.is_(True), in_bucket(r.resolved_at)),
            _count(r.department_code == d.code, r.on_time.is_(False), in_bucket(r.resolved_at)),
        )
        .select_from(d)
        .join(buckets, true())
        .where(d.code.in_(codes))
    )


def _queue_cells(bounds: Sequence[tuple[datetime, datetime]]) -> Executable:
    """Per bucket: tickets received that are in no department (the dispatch queue)."""
    buckets = _bucket_table(bounds)
    t = TicketRow
    return select(
        buckets.c.k,
        _count(t.department_code.is_(None), _between(t.received_at, buckets.c.s, buckets.c.e)),
    )


#: The (rating, 问题是否已解决) pairs a survey can have: counted one by one, each an index seek
#: (see _per_department_seeks). ``None`` rating: not rated yet; ``none``: timed out.
_SURVEY_CELLS: tuple[tuple[str | None, bool | None], ...] = tuple(
    (rating, solved) for rating in (None, *RATINGS) for solved in (None, True, False)
)


def _is(column: QueryableAttribute[Any], value: str | bool | None) -> ColumnElement[bool]:
    """``column IS NULL`` or ``column = value``: both seek on an index (``IS TRUE`` does not on
    PostgreSQL)."""
    if value is None:
        return column.is_(None)
    if isinstance(value, bool):
        return column == (true() if value else false())
    return column == value


def _per_department_seeks(codes: Sequence[str], period: Period, now: datetime) -> Executable:
    """Per department: dispatches returned; open tickets overdue; quality checks passed and
    failed; and surveys per (rating, 已解决) pair of ``_SURVEY_CELLS``.

    Every count is a seek on an index led by the department and the counted values, ending
    with the time: the survey pairs together read each survey of the period once, without a
    sort (SQLite) and without evaluating a condition per row.
    """
    start, end = period.utc_bounds()
    d = aliased(DepartmentRow)
    a, s, q, t = AssignmentRow, SurveyRow, QualityCheckRow, TicketRow
    sent = _between(s.sent_at, start, end)
    sampled = and_(q.sampled_for >= period.start, q.sampled_for <= period.end)
    return select(
        d.code,
        _count(a.department_code == d.code, _between(a.returned_at, start, end)),
        _overdue(t.department_code == d.code, now),
        _count(q.department_code == d.code, _is(q.passed, True), sampled),
        _count(q.department_code == d.code, _is(q.passed, False), sampled),
        *(
            _count(s.department_code == d.code, _is(s.rating, r), _is(s.solved, v), sent)
            for r, v in _SURVEY_CELLS
        ),
    ).where(d.code.in_(codes))


def _overdue(mine: ColumnElement[bool], now: datetime) -> Any:
    """Open tickets past their deadline: a seek per open status on (department, status,
    deadline) that reads only the index."""
    t = TicketRow
    return _count(mine, t.status.in_(sorted(OPEN_STATUSES)), t.deadline_at < now)


def _working_days(codes: Sequence[str], start: datetime, end: datetime) -> Executable:
    """Per department: the answers of the period by working days, as a loose index scan.

    A recursive walk finds each department's distinct ``working_days`` one seek at a time
    (the next value above the last), and each value's answers in the period are counted by a
    seek on (department, working_days, resolved_at): no sort and no pass over the rows beyond
    counting them. (A ``GROUP BY working_days`` sorts every answer of the period on SQLite.)
    Values only found outside the period come back with a count of 0.
    """
    d = aliased(DepartmentRow)
    r, following, counted = ResolutionRow, aliased(ResolutionRow), aliased(ResolutionRow)
    lowest = select(func.min(r.working_days)).where(r.department_code == d.code)
    walk = (
        select(d.code.label("code"), lowest.scalar_subquery().label("days"))
        .where(d.code.in_(codes))
        .cte("days", recursive=True)
    )
    above = select(func.min(following.working_days)).where(
        following.department_code == walk.c.code, following.working_days > walk.c.days
    )
    walk = walk.union_all(
        select(walk.c.code, above.scalar_subquery()).where(walk.c.days.is_not(None))
    )
    return select(
        walk.c.code,
        walk.c.days,
        _count(
            counted.department_code == walk.c.code,
            counted.working_days == walk.c.days,
            _between(counted.resolved_at, start, end),
        ),
    ).where(walk.c.days.is_not(None))


def _small_tables(period: Period, *, now: datetime, department: str | None) -> list[Executable]:
    """Extensions approved, grouped by department directly (few rows); for the overall
    report, also the overdue tickets still in the dispatch queue."""
    start, end = period.utc_bounds()
    e = ExtensionRow
    mine = e.department_code == department if department is not None else true()
    extensions = (
        select(e.department_code, func.count())
        .where(e.status == "approved", _between(e.decided_at, start, end), mine)
        .group_by(e.department_code)
    )
    if department is not None:
        return [extensions]
    o = KbOfferRow
    offered = _between(o.created_at, start, end)
    answered = [OfferOutcome.RESOLVED.value, OfferOutcome.TIMEOUT.value]
    return [
        extensions,
        select(
            _overdue(TicketRow.department_code.is_(None), now),
            # 直接答复 (handlers.knowledge_stats): whether there is a knowledge base at all,
            # direct answers settled as answered, and those still waiting for the citizen.
            select(func.count()).select_from(KnowledgeEntryRow).scalar_subquery(),
            _count(offered, o.outcome.in_(answered)),
            _count(offered, o.outcome.is_(None)),
        ),
    ]


EXPORT_BATCH = 1000


def ticket_rows_for_export(session: Session, period: Period) -> Iterator[dict[str, Any]]:
    """The period's tickets (by receipt), one mapping each, streamed.

    Each row has the ticket's number, receipt time, type, urgency, current department (code
    and Chinese name), status, deadline, re-open count, approved extensions, and its latest
    answer: time, on time, working days, rating, quality-check result; ``unsatisfied_reason``,
    the citizen's comment on the latest answer rated 不满意 or said 未解决; plus ``phone``, the
    citizen's phone *unmasked* — the caller must mask it. No citizen name is read. A ticket
    open again after 重办 has no answer yet: its earlier answers show only as the re-open count
    and the reason.

    Two streams in the same order — the tickets, and the answers of those tickets by round —
    are merged here, a batch at a time. (One query joining each ticket's latest answer made
    PostgreSQL hash the whole resolutions table and sort on disk for a month's export.)
    """
    start, end = period.utc_bounds()
    t, c, d, e = TicketRow, CitizenRow, DepartmentRow, ExtensionRow
    r, s, q = ResolutionRow, SurveyRow, QualityCheckRow
    in_period = _between(t.received_at, start, end)
    extensions = (
        select(func.count())
        .where(e.ticket_id == t.id, e.status == "approved")
        .correlate(t)
        .scalar_subquery()
    )
    streaming = session.connection().execution_options(yield_per=EXPORT_BATCH)
    tickets = streaming.execute(
        select(
            t.id,
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
            c.phone,
        )
        .join(c, c.id == t.citizen_id)
        .outerjoin(d, d.code == t.department_code)
        .where(in_period)
        .order_by(t.received_at, t.id)
    ).mappings()
    answers = streaming.execute(
        select(
            t.id,
            r.resolved_at,
            r.on_time,
            r.working_days,
            s.rating,
            s.solved,
            s.comment,
            q.passed.label("quality_passed"),
        )
        .join(r, r.ticket_id == t.id)
        .outerjoin(s, s.resolution_id == r.id)
        .outerjoin(q, q.resolution_id == r.id)
        .where(in_period)
        .order_by(t.received_at, t.id, r.round)
    ).mappings()
    pending = next(answers, None)
    for row in tickets:
        ticket = dict(row)
        ticket_id = ticket.pop("id")
        latest: Any = _NO_ANSWER  # a RowMapping once an answer is found
        reason = None
        # Every answer belongs to a ticket of the stream, in the same order: the rows for
        # this ticket come next, the last one is the latest round.
        while pending is not None and pending["id"] == ticket_id:
            latest = pending
            if pending["rating"] == Rating.UNSATISFIED or pending["solved"] is False:
                reason = pending["comment"]
            pending = next(answers, None)
        if TicketStatus(ticket["status"]) in OPEN_STATUSES:
            latest = _NO_ANSWER  # re-opened: being handled again, not resolved
        ticket.update({key: latest[key] for key in _NO_ANSWER})
        ticket["unsatisfied_reason"] = reason
        yield ticket


_NO_ANSWER: dict[str, Any] = {
    "resolved_at": None,
    "on_time": None,
    "working_days": None,
    "rating": None,
    "quality_passed": None,
}
