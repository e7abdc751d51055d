"""The 通报's data from the database: the statistics, the period's requests for the 热点, and
the overdue tickets (``handlers.briefing`` clusters and writes them)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.briefing import Briefing, OverdueTicket, Request, hotspots
from handlers.model import OPEN_STATUSES
from handlers.reports import Period, TargetsLike
from storage.models import TicketRow
from storage.statistics import compute_statistics

#: The latest requests of the period clustered for the 热点: a week has far fewer; a year's
#: would take minutes to compare, and the latest show what is hot now.
MAX_REQUESTS = 3000
OVERDUE_LISTED = 30


def build_briefing(
    session: Session,
    period: Period,
    *,
    now: datetime,
    targets: TargetsLike,
    names: Mapping[str, str],
) -> Briefing:
    report = compute_statistics(session, period, now=now, targets=targets, department_names=names)
    start, end = period.utc_bounds()
    t = TicketRow
    in_period = (t.received_at >= start, t.received_at < end)
    total = session.execute(select(func.count()).where(*in_period)).scalar_one()
    rows = session.execute(
        select(t.id, t.citizen_id, t.text, t.department_code)
        .where(*in_period)
        .order_by(t.received_at.desc(), t.id.desc())
        .limit(MAX_REQUESTS)
    ).all()
    # Oldest first: the first request of a topic leads its cluster.
    requests = [Request(row[0], row[1], row[2], row[3]) for row in reversed(rows)]
    open_overdue = (t.status.in_(sorted(OPEN_STATUSES)), t.deadline_at < now)
    overdue = session.execute(
        select(t.number, t.department_code, t.deadline_at)
        .where(*open_overdue)
        .order_by(t.deadline_at, t.id)
        .limit(OVERDUE_LISTED)
    ).all()
    overdue_total = session.execute(select(func.count()).where(*open_overdue)).scalar_one()
    return Briefing(
        report=report,
        hotspots=tuple(hotspots(requests)),
        overdue=tuple(OverdueTicket(row[0], row[1], row[2]) for row in overdue),
        overdue_total=overdue_total,
        names=dict(names),
        requests_read=len(requests),
        requests_total=total,
    )
