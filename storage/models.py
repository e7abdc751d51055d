"""The database schema: SQLAlchemy 2 typed models, identical on SQLite and PostgreSQL.

Times are aware UTC (``UtcDateTime``); Telegram ids are BIGINT. Personal data (a citizen's name
and phone) lives only in ``citizens``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from handlers.model import ItemKind, Language, Rating, RequestType, Role, TicketStatus
from storage.types import StrEnumType, UtcDateTime

# Stable constraint names, so Alembic migrations are the same on every database.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        int: Integer(),
        str: String(255),
        dict[str, Any]: JSON(),
    }

    @classmethod
    def core_table(cls) -> Table:
        """The mapped table, typed as one, for Core statements run on a connection."""
        return cast(Table, cls.__table__)


class CitizenRow(Base):
    """A person who writes to the hotline (群众/企业)."""

    __tablename__ = "citizens"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    language: Mapped[Language] = mapped_column(StrEnumType(Language, 8))
    name: Mapped[str | None] = mapped_column(String(128))  # personal data
    phone: Mapped[str | None] = mapped_column(String(32))  # personal data, only if shared
    blocked_at: Mapped[datetime | None]  # Telegram said 403: they blocked the bot
    created_at: Mapped[datetime]


class DepartmentRow(Base):
    """A 承办单位; names come from the config catalog, the chat from `department set-chat`."""

    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(255))
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class StaffRow(Base):
    """承办人员 (with a department) or a supervisor of the hotline office (热线办)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str | None] = mapped_column(String(128))
    role: Mapped[Role] = mapped_column(StrEnumType(Role, 16))
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"), index=True)
    language: Mapped[Language] = mapped_column(StrEnumType(Language, 8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


# Where a ticket is in a department's hands (handlers.model.TicketStatus values).
DEPARTMENT_QUEUE = "status IN ('dispatched', 'in_progress')"


class TicketRow(Base):
    """工单."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_citizen_received", "citizen_id", "received_at"),
        Index("ix_tickets_department_status_deadline", "department_code", "status", "deadline_at"),
        Index("ix_tickets_status_deadline", "status", "deadline_at"),
        # Statistics count per department by index seeks (storage.statistics, bench/stats).
        Index("ix_tickets_department_received", "department_code", "received_at"),
        # A department's /queue in deadline order by one index range, whatever the table's size
        # (bench/growth: 29 ms → 1 ms at 1M tickets on PostgreSQL).
        Index(
            "ix_tickets_department_queue",
            "department_code",
            "deadline_at",
            "id",
            postgresql_where=text(DEPARTMENT_QUEUE),
            sqlite_where=text(DEPARTMENT_QUEUE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    request_type: Mapped[RequestType] = mapped_column(StrEnumType(RequestType, 16))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[TicketStatus] = mapped_column(StrEnumType(TicketStatus, 16))
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    received_at: Mapped[datetime] = mapped_column(index=True)
    deadline_at: Mapped[datetime]
    deadline_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    signed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(default=0)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    updated_at: Mapped[datetime]


class TicketItemRow(Base):
    """Everything sent about a ticket after its text: photos, files, locations, contacts, and
    (later) the conversation. Items a citizen sends before describing the request wait here
    with no ticket until their next text makes one."""

    __tablename__ = "ticket_items"
    __table_args__ = (Index("ix_ticket_items_citizen_ticket", "citizen_id", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"))
    author: Mapped[Role] = mapped_column(StrEnumType(Role, 16))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    kind: Mapped[ItemKind] = mapped_column(StrEnumType(ItemKind, 16))
    text: Mapped[str | None] = mapped_column(Text)
    file_id: Mapped[str | None] = mapped_column(String(255))
    file_unique_id: Mapped[str | None] = mapped_column(String(64))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime]


class TicketEventRow(Base):
    """The append-only log: who did what to a ticket, when, from which status to which, why."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime]
    actor_role: Mapped[Role] = mapped_column(StrEnumType(Role, 16))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)  # Telegram user id
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[TicketStatus | None] = mapped_column(StrEnumType(TicketStatus, 16))
    to_status: Mapped[TicketStatus | None] = mapped_column(StrEnumType(TicketStatus, 16))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None]


class OutboxRow(Base):
    """A message to deliver, committed with the change that caused it.

    A row is claimed by one bot process for a lease (``claimed_by``/``claimed_until``); a
    process that dies leaves its lease to expire and another delivers the message.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "status", "next_attempt_at"),
        Index("ix_outbox_sent_message", "chat_id", "telegram_message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    chat_id: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)


class ProcessedUpdateRow(Base):
    """Telegram redelivers unacknowledged updates: each update_id is handled once."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(index=True)


class TicketCounterRow(Base):
    """The last ticket sequence handed out on each local day."""

    __tablename__ = "ticket_counters"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int]


#: The settings key of the hotline office's chat.
OFFICE_CHAT = "office_chat_id"


class SettingRow(Base):
    """Small operator-set values, such as the hotline office's chat (``OFFICE_CHAT``)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AssignmentRow(Base):
    """One dispatch (派单) of a ticket to a department: sign-for (签收) or return (退单) follows.

    A ticket returned and re-dispatched has several; statistics count dispatches, on-time
    sign-fors and returns from here.
    """

    __tablename__ = "assignments"
    __table_args__ = (
        Index(
            "ix_assignments_department_dispatched_sign_contact",
            "department_code",
            "dispatched_at",
            "signed_at",
            "sign_due_at",
            "contacted_at",
            "contact_due_at",
        ),
        Index("ix_assignments_department_returned", "department_code", "returned_at"),
        Index("ix_assignments_open_sign", "signed_at", "returned_at", "sign_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    dispatched_at: Mapped[datetime]
    dispatched_by: Mapped[int | None] = mapped_column(BigInteger)  # None: automatic routing
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    confidence: Mapped[float | None] = mapped_column(Float)
    sign_due_at: Mapped[datetime]
    signed_at: Mapped[datetime | None]
    signed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    returned_at: Mapped[datetime | None]
    returned_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    return_reason: Mapped[str | None] = mapped_column(Text)
    # 先行联系: the unit must contact the citizen by contact_due_at (响应率): the first staff
    # message relayed to the citizen, or "已联系群众" pressed on the card (a phone call), by
    # contacted_by.
    contact_due_at: Mapped[datetime | None]
    contacted_at: Mapped[datetime | None]
    contacted_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class ExtensionRow(Base):
    """延期: requested by staff before the deadline, decided by a supervisor."""

    __tablename__ = "extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    requested_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    requested_at: Mapped[datetime] = mapped_column(index=True)
    working_days: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending, approved, rejected
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None]
    old_deadline_at: Mapped[datetime]
    new_deadline_at: Mapped[datetime | None]


class ResolutionRow(Base):
    """办结: one answer to the citizen. A re-opened ticket (重办) gets another.

    ``on_time`` and ``working_days`` are fixed when the answer is given, against the deadline
    then in force (extensions included), so statistics never re-derive them.
    """

    __tablename__ = "resolutions"
    __table_args__ = (
        Index("ix_resolutions_resolved_department", "resolved_at", "department_code"),
        Index(
            "ix_resolutions_department_on_time_resolved",
            "department_code",
            "on_time",
            "resolved_at",
            "working_days",
        ),
        # The working-days histogram of the statistics: a loose index scan over this one.
        Index(
            "ix_resolutions_department_days_resolved",
            "department_code",
            "working_days",
            "resolved_at",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    round: Mapped[int]  # 1, then 2 after a re-opening …
    resolved_at: Mapped[datetime]
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    answer: Mapped[str] = mapped_column(Text)
    deadline_at: Mapped[datetime]
    on_time: Mapped[bool] = mapped_column(Boolean)
    working_days: Mapped[int]  # from receipt to this answer, on the working-day calendar


class SurveyRow(Base):
    """回访 of one resolution: sent with the answer, rated by the citizen or timed out."""

    __tablename__ = "surveys"
    __table_args__ = (
        Index("ix_surveys_open_due", "rating", "due_at"),
        # The statistics count surveys per (rating, 已解决) pair, a seek each.
        Index(
            "ix_surveys_department_rating_solved_sent",
            "department_code",
            "rating",
            "solved",
            "sent_at",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(ForeignKey("resolutions.id"), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    sent_at: Mapped[datetime] = mapped_column(index=True)
    due_at: Mapped[datetime]
    rating: Mapped[Rating | None] = mapped_column(StrEnumType(Rating, 16))
    rated_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)
    # 问题是否已解决: the citizen's answer (解决率 = solved / answered); None until answered.
    solved: Mapped[bool | None] = mapped_column(Boolean)


class QualityCheckRow(Base):
    """质检: a sampled resolution, marked 合格/不合格 by a supervisor."""

    __tablename__ = "quality_checks"
    __table_args__ = (
        # The statistics count passed and failed checks per department, a seek each.
        Index(
            "ix_quality_checks_department_passed_sampled",
            "department_code",
            "passed",
            "sampled_for",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(ForeignKey("resolutions.id"), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    sampled_for: Mapped[date] = mapped_column(Date, index=True)  # the working day resolved
    sampled_at: Mapped[datetime]
    passed: Mapped[bool | None] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    inspector: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    inspected_at: Mapped[datetime | None] = mapped_column(index=True)


class ReminderRow(Base):
    """A reminder (催办/督办/…) queued once: the key is unique, written with its message."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("ticket_id", "kind", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    queued_at: Mapped[datetime]


class RoutingExampleRow(Base):
    """Routing history: a request text and the department a person chose or confirmed."""

    __tablename__ = "routing_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    department_code: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    source: Mapped[str] = mapped_column(String(16))  # dispatcher, confirmed, imported
    created_at: Mapped[datetime]


class InviteRow(Base):
    """A one-time link that makes whoever opens it staff of a department."""

    __tablename__ = "invites"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    created_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(BigInteger)


class HeldMessageRow(Base):
    """A citizen's message waiting for them to choose: add to an open ticket, or a new one."""

    __tablename__ = "held_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    offered_ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    reason: Mapped[str] = mapped_column(String(16))  # repeat (similar request), open (any)
    kind: Mapped[ItemKind] = mapped_column(StrEnumType(ItemKind, 16))
    text: Mapped[str | None] = mapped_column(Text)
    file_id: Mapped[str | None] = mapped_column(String(255))
    file_unique_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(index=True)
    decided_at: Mapped[datetime | None]


class MetricAlertRow(Base):
    """Whether a department's 30-day rate is below target, so an alert goes out once."""

    __tablename__ = "metric_alerts"

    department_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    below: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime]


class JobRunRow(Base):
    """A hotline-wide job done once per step (the daily digest, the daily QA sample)."""

    __tablename__ = "job_runs"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    step: Mapped[str] = mapped_column(String(32), primary_key=True)
    ran_at: Mapped[datetime]


class KnowledgeEntryRow(Base):
    """知识库: an answer the bot may give directly, as it stands now (history: the versions).

    ``key`` is the stable id an import file names; ``version`` counts the changes.
    """

    __tablename__ = "kb_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    question: Mapped[str] = mapped_column(Text)
    alternatives: Mapped[list[str]] = mapped_column(JSON)
    answer: Mapped[str] = mapped_column(Text)
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"), index=True)
    keywords: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean)
    # The resolved ticket whose answer became this entry, when one did.
    source_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    version: Mapped[int]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class KnowledgeVersionRow(Base):
    """One state of a knowledge base entry, written with every change: who, when, what."""

    __tablename__ = "kb_entry_versions"
    __table_args__ = (
        UniqueConstraint("entry_id", "version"),
        # 知识库更新 per department and period (provinces score it).
        Index("ix_kb_entry_versions_department_changed", "department_code", "changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("kb_entries.id"))
    version: Mapped[int]
    change: Mapped[str] = mapped_column(String(16))  # created, updated, deactivated, reactivated
    question: Mapped[str] = mapped_column(Text)
    alternatives: Mapped[list[str]] = mapped_column(JSON)
    answer: Mapped[str] = mapped_column(Text)
    department_code: Mapped[str | None] = mapped_column(String(32))
    keywords: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime]
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # Who, in words: "cli import entries.csv", or the staff member's name.
    changed_via: Mapped[str] = mapped_column(String(128))


class KbOfferRow(Base):
    """直接答复: an answer the bot gave from the knowledge base, and what the citizen made of it.

    Undecided (``decided_at`` NULL) while the citizen may still say 已解决 or 仍需人工办理;
    ``outcome`` is then ``resolved`` (已解决), ``timeout`` (no word within the hold window:
    counted as answered), ``human`` (仍需人工办理) or ``follow_up`` (they wrote again). Either
    way ``ticket_id`` is the ticket it became: closed at once as 直接答复, or an ordinary one.
    """

    __tablename__ = "kb_offers"
    __table_args__ = (Index("ix_kb_offers_citizen_id_decided_at", "citizen_id", "decided_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    entry_key: Mapped[str] = mapped_column(String(64))
    # The entry's department when the answer was given (the entry may move later).
    department_code: Mapped[str | None] = mapped_column(String(32))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)  # as given: the entry may be edited later
    score: Mapped[float] = mapped_column(Float)
    message_id: Mapped[int | None] = mapped_column(BigInteger)  # the citizen's question
    outbox_id: Mapped[int | None]  # the bot's answer with the two buttons
    created_at: Mapped[datetime] = mapped_column(index=True)
    decided_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)


class DeskLoginRow(Base):
    """A one-time sign-in link to the web desk (``/desk``); only the token's SHA-256 is kept,
    so the table alone signs nobody in."""

    __tablename__ = "desk_logins"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
