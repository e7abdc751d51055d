"""The hotline's vocabulary: request types, ticket statuses, roles, and read-only snapshots.

Snapshots are what the storage layer hands to the core; the core never sees ORM objects, so it
stays free of SQLAlchemy and can be tested with plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any, Final


class RequestType(StrEnum):
    """诉求类型."""

    CONSULTATION = "consultation"  # 咨询
    HELP = "help"  # 求助
    COMPLAINT = "complaint"  # 投诉
    REPORT = "report"  # 举报
    SUGGESTION = "suggestion"  # 建议


class TicketStatus(StrEnum):
    """Where a ticket is in its life (工单流程)."""

    RECEIVED = "received"  # 受理: waiting in the dispatch queue
    DISPATCHED = "dispatched"  # 派单: at a department, not yet signed for
    RETURNED = "returned"  # 退单: sent back by the department, waiting for re-dispatch
    IN_PROGRESS = "in_progress"  # 签收 → 办理
    RESOLVED = "resolved"  # 办结: answered, waiting for the citizen's rating (回访)
    CLOSED = "closed"  # 归档
    WITHDRAWN = "withdrawn"  # 撤回 by the citizen
    MERGED = "merged"  # 并单 into an earlier ticket

    @property
    def is_open(self) -> bool:
        """Still the hotline's work to do (counts against the deadline)."""
        return self in OPEN_STATUSES


OPEN_STATUSES = frozenset(
    {
        TicketStatus.RECEIVED,
        TicketStatus.DISPATCHED,
        TicketStatus.RETURNED,
        TicketStatus.IN_PROGRESS,
    }
)


class Role(StrEnum):
    """Who acted, as recorded in the event log."""

    CITIZEN = "citizen"
    STAFF = "staff"
    SUPERVISOR = "supervisor"
    SYSTEM = "system"


class Language(StrEnum):
    ZH = "zh"
    EN = "en"

    @classmethod
    def from_telegram(cls, language_code: str | None) -> Language:
        """Chinese first: English only for clients that say they speak English."""
        if language_code and language_code.lower().startswith("en"):
            return cls.EN
        return cls.ZH


class ItemKind(StrEnum):
    """What a citizen or staff member sent about a ticket."""

    TEXT = "text"
    PHOTO = "photo"
    DOCUMENT = "document"
    VIDEO = "video"
    VOICE = "voice"
    AUDIO = "audio"
    LOCATION = "location"
    CONTACT = "contact"


@dataclass(frozen=True, slots=True)
class Citizen:
    id: int
    telegram_user_id: int
    chat_id: int
    language: Language
    name: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    number: str
    citizen_id: int
    request_type: RequestType
    text: str
    status: TicketStatus
    department_code: str | None
    urgent: bool
    received_at: datetime
    deadline_at: datetime
    deadline_estimated: bool
    latitude: float | None = None
    longitude: float | None = None
    signed_by: int | None = None  # staff id
    resolved_at: datetime | None = None
    reopen_count: int = 0
    merged_into_id: int | None = None


class Keep(Enum):
    """A ticket field a change leaves as it is (None is a value: "no department")."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


@dataclass(frozen=True, slots=True)
class TicketChange:
    """What a move (or the citizen's edit) writes on a ticket: the named fields, typed, and
    ``updated_at``; every other field is kept. Built by handlers.lifecycle."""

    status: TicketStatus | Keep = KEEP
    request_type: RequestType | Keep = KEEP
    department_code: str | Keep | None = KEEP
    urgent: bool | Keep = KEEP
    deadline_at: datetime | Keep = KEEP
    deadline_estimated: bool | Keep = KEEP
    latitude: float | Keep | None = KEEP
    longitude: float | Keep | None = KEEP
    signed_by: int | Keep | None = KEEP
    resolved_at: datetime | Keep | None = KEEP
    reopen_count: int | Keep = KEEP
    merged_into_id: int | Keep | None = KEEP
    # Not on the snapshot: when the ticket was archived (归档).
    closed_at: datetime | Keep | None = KEEP

    def columns(self) -> dict[str, object]:
        """The changed fields by column name (the ticket table's columns have these names)."""
        return {f.name: value for f in fields(self) if (value := getattr(self, f.name)) is not KEEP}

    def applied_to(self, ticket: Ticket) -> Ticket:
        """The ticket as the change leaves it."""
        values: dict[str, Any] = {f.name: getattr(ticket, f.name) for f in fields(ticket)}
        values.update((name, v) for name, v in self.columns().items() if name in values)
        return Ticket(**values)


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: int
    telegram_user_id: int
    name: str | None
    role: Role
    department_code: str | None
    language: Language

    @property
    def is_supervisor(self) -> bool:
        return self.role is Role.SUPERVISOR

    def may_handle(self, ticket: Ticket) -> bool:
        """Staff act on their own department's tickets; supervisors on any."""
        return self.is_supervisor or (
            ticket.department_code is not None and ticket.department_code == self.department_code
        )


@dataclass(frozen=True, slots=True)
class SentMessage:
    """What the bot knows about one of its own messages (for replies and button presses)."""

    outbox_id: int
    chat_id: int
    ticket_id: int | None
    purpose: str
    tag: str | None


@dataclass(frozen=True, slots=True)
class Assignment:
    id: int
    ticket_id: int
    department_code: str
    dispatched_at: datetime
    sign_due_at: datetime
    signed_at: datetime | None
    returned_at: datetime | None
    automatic: bool = False


@dataclass(frozen=True, slots=True)
class Extension:
    id: int
    ticket_id: int
    department_code: str
    requested_by: int
    working_days: int
    reason: str
    status: str
    old_deadline_at: datetime


class Rating(StrEnum):
    """回访: the citizen's verdict on an answer."""

    SATISFIED = "satisfied"  # 满意
    BASIC = "basic"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意 → 重办
    NONE = "none"  # 未评价: no answer in time


@dataclass(frozen=True, slots=True)
class Survey:
    id: int
    resolution_id: int
    ticket_id: int
    department_code: str
    sent_at: datetime
    due_at: datetime
    rating: Rating | None
    rated_at: datetime | None
    solved: bool | None = None  # 问题是否已解决: None until the citizen answers


@dataclass(frozen=True, slots=True)
class ResolvedTicket:
    """A resolution with what an inspector needs to judge it (质检)."""

    resolution_id: int
    ticket_id: int
    number: str
    department_code: str
    text: str
    answer: str


@dataclass(frozen=True, slots=True)
class QualityCheck:
    id: int
    resolution_id: int
    ticket_id: int
    passed: bool | None


@dataclass(frozen=True, slots=True)
class HeldMessage:
    id: int
    citizen_id: int
    offered_ticket_id: int
    reason: str
    kind: ItemKind
    text: str | None
    file_id: str | None
    file_unique_id: str | None
    message_id: int
    created_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewTicket:
    number: str
    citizen_id: int
    request_type: RequestType
    text: str
    status: TicketStatus
    received_at: datetime
    deadline_at: datetime
    deadline_estimated: bool
    department_code: str | None = None
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class NewItem:
    """Something sent about a ticket (or, with ``ticket_id`` None, before the ticket exists)."""

    kind: ItemKind
    author: Role
    created_at: datetime
    ticket_id: int | None = None
    citizen_id: int | None = None
    staff_id: int | None = None
    text: str | None = None
    file_id: str | None = None
    file_unique_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class TicketEvent:
    """One line of a ticket's append-only log."""

    ticket_id: int | None
    at: datetime
    actor_role: Role
    actor_id: int | None
    action: str
    from_status: TicketStatus | None = None
    to_status: TicketStatus | None = None
    reason: str | None = None
    data: dict[str, object] | None = None


class OfferOutcome(StrEnum):
    """What became of a direct answer (直接答复)."""

    RESOLVED = "resolved"  # the citizen tapped 已解决
    TIMEOUT = "timeout"  # no word within the hold window: counted as answered
    HUMAN = "human"  # 仍需人工办理
    FOLLOW_UP = "follow_up"  # they wrote again: a person takes it over

    @property
    def answered(self) -> bool:
        return self in (OfferOutcome.RESOLVED, OfferOutcome.TIMEOUT)


@dataclass(frozen=True, slots=True)
class NewKbOffer:
    citizen_id: int
    entry_key: str
    department_code: str | None
    question: str
    answer: str
    score: float
    message_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class KbOffer:
    """An answer given from the knowledge base (直接答复), decided or waiting for the citizen."""

    id: int
    citizen_id: int
    entry_key: str
    department_code: str | None
    question: str
    answer: str
    score: float
    message_id: int | None
    outbox_id: int | None
    created_at: datetime
    decided_at: datetime | None
    outcome: str | None
    ticket_id: int | None
