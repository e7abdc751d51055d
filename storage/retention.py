"""Nothing grows forever: what the daily sweep deletes, and citizens' personal data anonymised.

Deleted when no longer useful: processed update ids (Telegram keeps an update 24 hours, so a
week is ample to refuse a redelivery), outbox rows sent long ago, and reminder keys of closed
tickets (a closed ticket is reminded of nothing again).

Tickets are archives kept by law, so they are never deleted: once closed longer than the
retention period, what the citizen gave (their name and phone, the texts they wrote, their
files, where they were) is replaced by placeholders. Statistics count tickets, dispatches,
deadlines and ratings, none of which is touched, so every report stays exact.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.orm import Session

from handlers.config import RetentionConfig
from handlers.context import Hotline
from handlers.model import Role, TicketStatus
from handlers.ports import Store
from handlers.reminders import SweepReport, SweepStep
from scheduler.deadlines import local_date
from storage.models import (
    CitizenRow,
    HeldMessageRow,
    OutboxRow,
    ProcessedUpdateRow,
    ReminderRow,
    RoutingExampleRow,
    SurveyRow,
    TicketItemRow,
    TicketRow,
)
from storage.repository import SqlStore

log = logging.getLogger(__name__)

ANONYMISED = "[已匿名 anonymised]"
FINISHED = (TicketStatus.CLOSED, TicketStatus.WITHDRAWN, TicketStatus.MERGED)
BATCH = 500  # tickets anonymised per transaction at most; the next sweep takes the rest


@dataclass
class RetentionReport:
    updates_deleted: int = 0
    outbox_deleted: int = 0
    reminders_deleted: int = 0
    tickets_anonymised: int = 0
    citizens_anonymised: int = 0

    @property
    def total(self) -> int:
        return sum(vars(self).values())


def apply_retention(session: Session, policy: RetentionConfig, now: datetime) -> RetentionReport:
    """One pass of every rule, in the caller's transaction."""
    report = RetentionReport()
    report.updates_deleted = _deleted(
        session.execute(
            delete(ProcessedUpdateRow).where(
                ProcessedUpdateRow.processed_at < now - timedelta(days=policy.processed_update_days)
            )
        )
    )
    report.outbox_deleted = _deleted(
        session.execute(
            delete(OutboxRow).where(
                OutboxRow.status == "sent",
                OutboxRow.sent_at < now - timedelta(days=policy.sent_outbox_days),
            )
        )
    )
    report.reminders_deleted = _deleted(
        session.execute(
            delete(ReminderRow).where(
                ReminderRow.ticket_id.in_(
                    select(TicketRow.id).where(
                        TicketRow.status.in_(FINISHED),
                        func.coalesce(TicketRow.closed_at, TicketRow.updated_at)
                        < now - timedelta(days=policy.reminder_days_after_close),
                    )
                )
            )
        )
    )
    cutoff = now - timedelta(days=round(365.25 * policy.personal_data_years))
    due = list(
        session.scalars(
            select(TicketRow.id)
            .where(
                TicketRow.status.in_(FINISHED),
                func.coalesce(TicketRow.closed_at, TicketRow.updated_at) < cutoff,
                TicketRow.text != ANONYMISED,
            )
            .order_by(TicketRow.id)
            .limit(BATCH)
        )
    )
    report.tickets_anonymised = anonymise_tickets(session, due)
    # A citizen's name and phone go once no ticket of theirs is still within the period.
    recent = select(TicketRow.citizen_id).where(
        or_(
            TicketRow.status.not_in(FINISHED),
            func.coalesce(TicketRow.closed_at, TicketRow.updated_at) >= cutoff,
        )
    )
    forgotten = select(CitizenRow.id).where(
        CitizenRow.id.in_(select(TicketRow.citizen_id)),
        CitizenRow.id.not_in(recent),
        or_(CitizenRow.name.is_not(None), CitizenRow.phone.is_not(None)),
        CitizenRow.created_at < cutoff,
    )
    report.citizens_anonymised = _forget_citizens(session, list(session.scalars(forgotten)))
    return report


def anonymise_tickets(session: Session, ticket_ids: Collection[int]) -> int:
    """Placeholders for what the citizen gave in these tickets; counts and dates stay."""
    if not ticket_ids:
        return 0
    ids = list(ticket_ids)
    session.execute(
        update(TicketRow)
        .where(TicketRow.id.in_(ids))
        .values(text=ANONYMISED, latitude=None, longitude=None)
    )
    session.execute(
        update(TicketItemRow)
        .where(TicketItemRow.ticket_id.in_(ids), TicketItemRow.author == Role.CITIZEN)
        .values(
            text=_placeholder_if_set(TicketItemRow.text),
            file_id=None,
            file_unique_id=None,
            latitude=None,
            longitude=None,
        )
    )
    session.execute(
        update(SurveyRow)
        .where(SurveyRow.ticket_id.in_(ids), SurveyRow.comment.is_not(None))
        .values(comment=ANONYMISED)
    )
    session.execute(
        update(RoutingExampleRow)
        .where(RoutingExampleRow.ticket_id.in_(ids))
        .values(text=ANONYMISED)
    )
    session.execute(
        update(HeldMessageRow)
        .where(HeldMessageRow.offered_ticket_id.in_(ids))
        .values(text=_placeholder_if_set(HeldMessageRow.text), file_id=None, file_unique_id=None)
    )
    return len(ids)


def _placeholder_if_set(column: Any) -> Any:
    return case((column.is_(None), None), else_=ANONYMISED)


def _forget_citizens(session: Session, citizen_ids: list[int]) -> int:
    if not citizen_ids:
        return 0
    session.execute(
        update(CitizenRow).where(CitizenRow.id.in_(citizen_ids)).values(name=None, phone=None)
    )
    return len(citizen_ids)


def _deleted(result: Any) -> int:
    return int(result.rowcount or 0)


# -- a citizen's own request (个人信息保护法: access and deletion) ------------------------------


@dataclass
class CitizenData:
    telegram_id: int
    name: str | None
    phone: str | None
    language: str
    created_at: datetime
    tickets: list[dict[str, Any]] = field(default_factory=list)


def citizen_data(session: Session, telegram_id: int) -> CitizenData | None:
    """Everything stored about a citizen: who they are and what they sent, ticket by ticket."""
    citizen = session.scalar(select(CitizenRow).where(CitizenRow.telegram_user_id == telegram_id))
    if citizen is None:
        return None
    data = CitizenData(
        telegram_id=telegram_id,
        name=citizen.name,
        phone=citizen.phone,
        language=citizen.language.value,
        created_at=citizen.created_at,
    )
    tickets = session.scalars(
        select(TicketRow).where(TicketRow.citizen_id == citizen.id).order_by(TicketRow.id)
    )
    for ticket in tickets:
        items = session.scalars(
            select(TicketItemRow)
            .where(TicketItemRow.ticket_id == ticket.id, TicketItemRow.author == Role.CITIZEN)
            .order_by(TicketItemRow.id)
        )
        data.tickets.append(
            {
                "number": ticket.number,
                "status": ticket.status.value,
                "received_at": ticket.received_at.isoformat(),
                "text": ticket.text,
                "location": (
                    [ticket.latitude, ticket.longitude] if ticket.latitude is not None else None
                ),
                "items": [
                    {"kind": i.kind.value, "text": i.text, "file_id": i.file_id} for i in items
                ],
            }
        )
    held = session.scalars(select(HeldMessageRow).where(HeldMessageRow.citizen_id == citizen.id))
    data.tickets.extend(
        {"held_message": h.kind.value, "text": h.text, "file_id": h.file_id} for h in held
    )
    return data


def anonymise_citizen(session: Session, telegram_id: int) -> tuple[int, int] | None:
    """A citizen's request to be forgotten: their name, phone and every ticket's content
    anonymised now, whatever the tickets' age. Returns (tickets, of which still open)."""
    citizen = session.scalar(select(CitizenRow).where(CitizenRow.telegram_user_id == telegram_id))
    if citizen is None:
        return None
    rows = session.execute(
        select(TicketRow.id, TicketRow.status).where(TicketRow.citizen_id == citizen.id)
    ).all()
    anonymise_tickets(session, [r.id for r in rows])
    session.execute(
        update(HeldMessageRow)
        .where(HeldMessageRow.citizen_id == citizen.id)
        .values(text=_placeholder_if_set(HeldMessageRow.text), file_id=None, file_unique_id=None)
    )
    _forget_citizens(session, [citizen.id])
    return len(rows), sum(1 for r in rows if r.status not in FINISHED)


# -- the daily sweep's step ----------------------------------------------------------------------


def retention_step(
    store: Store, hotline: Hotline, now: datetime, _skip: Collection[int]
) -> SweepReport:
    """Once a day (the first sweep of each Shanghai day, whichever instance runs it)."""
    if not isinstance(store, SqlStore):
        raise TypeError("retention works on the database itself")
    if not store.claim_job("retention", local_date(now).isoformat(), now):
        return SweepReport()
    report = apply_retention(store.session, hotline.config.retention, now)
    if report.total:
        log.info(
            "retention: %d update ids, %d sent messages and %d reminder keys deleted; "
            "%d tickets and %d citizens anonymised",
            report.updates_deleted,
            report.outbox_deleted,
            report.reminders_deleted,
            report.tickets_anonymised,
            report.citizens_anonymised,
        )
    return SweepReport()


RETENTION_STEP = SweepStep("retention", retention_step)
