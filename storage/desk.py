"""What the web desk reads: sign-in links, the ticket list with its filters, one ticket's
history. Writes that change a ticket go through the core (``handlers``), not through here."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from handlers.model import (
    OPEN_STATUSES,
    Citizen,
    ItemKind,
    RequestType,
    Role,
    StaffMember,
    Ticket,
    TicketStatus,
)
from scheduler.calendar import SHANGHAI
from storage.models import (
    CitizenRow,
    DeskLoginRow,
    KbOfferRow,
    ResolutionRow,
    StaffRow,
    TicketEventRow,
    TicketItemRow,
    TicketRow,
)

_TICKET_COLUMNS = tuple(getattr(TicketRow, f.name) for f in fields(Ticket))
_STAFF_COLUMNS = tuple(getattr(StaffRow, f.name) for f in fields(StaffMember))


def use_desk_login(session: Session, token_digest: str, now: datetime) -> int | None:
    """The Telegram user a sign-in link is for, if it is unused and unexpired; used up at once
    (one statement, so two tabs opening the same link cannot both sign in)."""
    user = session.execute(
        update(DeskLoginRow)
        .where(
            DeskLoginRow.token_digest == token_digest,
            DeskLoginRow.used_at.is_(None),
            DeskLoginRow.expires_at > now,
        )
        .values(used_at=now)
        .returning(DeskLoginRow.telegram_user_id)
    ).scalar()
    return int(user) if user is not None else None


def active_staff(session: Session, telegram_user_id: int) -> StaffMember | None:
    row = session.execute(
        select(*_STAFF_COLUMNS).where(
            StaffRow.telegram_user_id == telegram_user_id, StaffRow.active.is_(True)
        )
    ).first()
    return StaffMember(**row._mapping) if row else None


@dataclass(frozen=True, slots=True)
class TicketFilter:
    """The ticket list's filters, as the desk's form gives them (all optional)."""

    status: TicketStatus | None = None
    open_only: bool = False
    department: str | None = None
    request_type: RequestType | None = None
    received_from: date | None = None  # Asia/Shanghai days, both included
    received_to: date | None = None
    overdue: bool = False
    search: str = ""


def _start_of(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), SHANGHAI)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_tickets(
    session: Session,
    wanted: TicketFilter,
    *,
    scope: str | None,
    now: datetime,
    offset: int,
    limit: int,
) -> tuple[list[Ticket], bool]:
    """A page of tickets, newest first, and whether there is a next page.

    ``scope`` is the department a staff member may see (None: a supervisor, every ticket).
    No total is counted: over a million tickets a count would cost more than the page.
    """
    where: list[Any] = []
    if scope is not None:
        where.append(TicketRow.department_code == scope)
    if wanted.status is not None:
        where.append(TicketRow.status == wanted.status)
    if wanted.open_only or wanted.overdue:
        where.append(TicketRow.status.in_(OPEN_STATUSES))
    if wanted.overdue:
        where.append(TicketRow.deadline_at < now)
    if wanted.department:
        where.append(TicketRow.department_code == wanted.department)
    if wanted.request_type is not None:
        where.append(TicketRow.request_type == wanted.request_type)
    if wanted.received_from is not None:
        where.append(TicketRow.received_at >= _start_of(wanted.received_from))
    if wanted.received_to is not None:
        end = _start_of(wanted.received_to + timedelta(days=1))
        where.append(TicketRow.received_at < end)
    words = wanted.search.split()
    for word in words:
        pattern = f"%{_escape_like(word)}%"
        where.append(
            or_(
                TicketRow.number.like(pattern, escape="\\"),
                TicketRow.text.like(pattern, escape="\\"),
            )
        )
    rows = session.execute(
        select(*_TICKET_COLUMNS)
        .where(*where)
        .order_by(TicketRow.received_at.desc(), TicketRow.id.desc())
        .offset(offset)
        .limit(limit + 1)
    ).all()
    tickets = [Ticket(**row._mapping) for row in rows]
    return tickets[:limit], len(tickets) > limit


def one_ticket(session: Session, ticket_id: int) -> Ticket | None:
    row = session.execute(select(*_TICKET_COLUMNS).where(TicketRow.id == ticket_id)).first()
    return Ticket(**row._mapping) if row else None


def ticket_citizen(session: Session, ticket: Ticket) -> Citizen | None:
    row = session.execute(
        select(
            CitizenRow.id,
            CitizenRow.telegram_user_id,
            CitizenRow.chat_id,
            CitizenRow.language,
            CitizenRow.name,
            CitizenRow.phone,
        ).where(CitizenRow.id == ticket.citizen_id)
    ).first()
    return Citizen(**row._mapping) if row else None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of a ticket's page: an event of its log, or a message either way."""

    at: datetime
    kind: str  # "event" or "message"
    actor_role: Role
    action: str  # the event's action, or the message's kind
    text: str | None
    from_status: TicketStatus | None = None
    to_status: TicketStatus | None = None
    latitude: float | None = None
    longitude: float | None = None
    item_id: int | None = None  # a photo's: the desk shows it by this id


def timeline(session: Session, ticket_id: int) -> list[TimelineEntry]:
    """The ticket's events and messages, oldest first."""
    entries = [
        TimelineEntry(
            at=row.at,
            kind="event",
            actor_role=row.actor_role,
            action=row.action,
            text=row.reason,
            from_status=row.from_status,
            to_status=row.to_status,
        )
        for row in session.execute(
            select(
                TicketEventRow.at,
                TicketEventRow.actor_role,
                TicketEventRow.action,
                TicketEventRow.reason,
                TicketEventRow.from_status,
                TicketEventRow.to_status,
            )
            .where(TicketEventRow.ticket_id == ticket_id)
            .order_by(TicketEventRow.id)
        )
    ]
    entries += [
        TimelineEntry(
            at=row.created_at,
            kind="message",
            actor_role=row.author,
            action=ItemKind(row.kind).value,
            text=row.text,
            latitude=row.latitude,
            longitude=row.longitude,
            item_id=row.id if row.kind == ItemKind.PHOTO and row.file_id else None,
        )
        for row in session.execute(
            select(
                TicketItemRow.id,
                TicketItemRow.file_id,
                TicketItemRow.created_at,
                TicketItemRow.author,
                TicketItemRow.kind,
                TicketItemRow.text,
                TicketItemRow.latitude,
                TicketItemRow.longitude,
            )
            .where(TicketItemRow.ticket_id == ticket_id)
            .order_by(TicketItemRow.id)
        )
    ]
    # The official answers (办结), each round's, as the citizen received them.
    entries += [
        TimelineEntry(
            at=row.resolved_at,
            kind="message",
            actor_role=Role.STAFF,
            action="answer",
            text=row.answer,
        )
        for row in session.execute(
            select(ResolutionRow.resolved_at, ResolutionRow.answer)
            .where(ResolutionRow.ticket_id == ticket_id)
            .order_by(ResolutionRow.id)
        )
    ]
    # Stable: an answer and its event at the same moment stay in the order above.
    entries.sort(key=lambda entry: entry.at)
    return entries


def photo_file(session: Session, ticket_id: int, item_id: int) -> str | None:
    """The Telegram file id of a photo of this ticket (None if the item is not one)."""
    return session.execute(
        select(TicketItemRow.file_id).where(
            TicketItemRow.id == item_id,
            TicketItemRow.ticket_id == ticket_id,
            TicketItemRow.kind == ItemKind.PHOTO,
        )
    ).scalar()


@dataclass(frozen=True, slots=True)
class TodayCounts:
    received_today: int
    open: int
    overdue: int
    due_this_week: int
    direct_answers: int


def today_counts(
    session: Session, *, scope: str | None, now: datetime, day_start: datetime, week_end: datetime
) -> TodayCounts:
    """The day's numbers, each a count its own index answers (received_at; status and
    deadline; with ``scope``, the department's): never a pass over every ticket."""
    open_ = TicketRow.status.in_(OPEN_STATUSES)
    unit = [] if scope is None else [TicketRow.department_code == scope]

    def count(*conditions: Any) -> int:
        stmt = select(func.count()).select_from(TicketRow).where(*unit, *conditions)
        return int(session.execute(stmt).scalar_one())

    return TodayCounts(
        received_today=count(TicketRow.received_at >= day_start),
        open=count(open_),
        overdue=count(open_, TicketRow.deadline_at < now),
        due_this_week=count(open_, TicketRow.deadline_at >= now, TicketRow.deadline_at < week_end),
        direct_answers=_direct_answers(session, scope, day_start),
    )


def _direct_answers(session: Session, scope: str | None, day_start: datetime) -> int:
    """Answers the bot gave from the knowledge base today (of the unit's entries, for staff)."""
    unit = [] if scope is None else [KbOfferRow.department_code == scope]
    stmt = (
        select(func.count())
        .select_from(KbOfferRow)
        .where(*unit, KbOfferRow.created_at >= day_start)
    )
    return int(session.execute(stmt).scalar_one())
