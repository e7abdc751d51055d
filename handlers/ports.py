"""What the core needs from storage, as Protocols: one per role (people, tickets, the outbox …)
and ``Store``, all of them in one unit of work. storage.repository implements them with
SQLAlchemy, tests/fake_store.py with dicts; the core never imports the database layer."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime
from typing import Protocol

from handlers.events import Person
from handlers.knowledge import KnowledgeBase, KnowledgeEntry
from handlers.knowledge_stats import DirectAnswerFigures
from handlers.model import (
    Assignment,
    Citizen,
    Extension,
    HeldMessage,
    KbOffer,
    Language,
    NewItem,
    NewKbOffer,
    NewTicket,
    QualityCheck,
    Rating,
    ResolvedTicket,
    Role,
    SentMessage,
    StaffMember,
    Survey,
    Ticket,
    TicketChange,
    TicketEvent,
)
from handlers.outgoing import Outgoing
from handlers.reports import Period, StatisticsReport, TargetsLike


class UnitOfWork(Protocol):
    """The transaction a handler runs in: redelivered updates, work after the commit."""

    # Telegram redelivers updates until acknowledged; each is handled once.
    def claim_update(self, update_id: int, now: datetime) -> bool: ...

    # Run after this unit of work commits (never if it rolls back): in-memory caches.
    def after_commit(self, action: Callable[[], None]) -> None: ...


class People(Protocol):
    """Citizens (群众) and staff (承办人员, 督办): who they are, their language and phone."""

    def citizen_for(self, person: Person, chat_id: int, now: datetime) -> Citizen: ...
    def citizen(self, citizen_id: int) -> Citizen | None: ...
    def set_citizen_language(self, citizen_id: int, language: Language) -> None: ...
    def set_citizen_phone(self, citizen_id: int, phone: str) -> None: ...
    def staff_member(self, telegram_user_id: int) -> StaffMember | None: ...
    def staff_by_id(self, staff_id: int) -> StaffMember | None: ...
    def department_staff(self, department_code: str) -> list[StaffMember]: ...
    def supervisors(self) -> list[StaffMember]: ...
    def add_staff(
        self,
        telegram_user_id: int,
        *,
        role: Role,
        department_code: str | None,
        name: str | None,
        language: Language,
        now: datetime,
    ) -> StaffMember: ...
    def set_staff_language(self, staff_id: int, language: Language) -> None: ...


class Departments(Protocol):
    """The office's and the departments' (承办单位) chats, and which departments take work."""

    def department_chat(self, department_code: str) -> int | None: ...
    def office_chat(self) -> int | None: ...
    def active_departments(self) -> list[str]: ...


class Tickets(Protocol):
    """工单: numbered, read, listed; changed only through handlers.lifecycle's moves."""

    def next_ticket_number(self, day: date) -> str: ...
    def add_ticket(self, ticket: NewTicket) -> Ticket: ...
    def ticket(self, ticket_id: int, *, lock: bool = False) -> Ticket | None: ...
    def ticket_by_number(self, number: str) -> Ticket | None: ...
    def citizen_tickets(self, citizen_id: int, limit: int) -> list[Ticket]: ...
    def open_tickets_of(self, citizen_id: int, since: datetime | None = None) -> list[Ticket]: ...
    def latest_open_ticket(self, citizen_id: int) -> Ticket | None: ...
    def update_ticket(self, ticket_id: int, now: datetime, change: TicketChange) -> Ticket: ...
    def department_queue(self, department_code: str, limit: int) -> list[Ticket]: ...
    def dispatch_queue(self, limit: int) -> list[Ticket]: ...
    def overdue_tickets(self, now: datetime, limit: int) -> list[Ticket]: ...
    def recent_open_tickets(self, limit: int) -> list[Ticket]: ...
    def attachments(self, ticket_id: int) -> list[NewItem]: ...


class Assignments(Protocol):
    """派单 to a department: its sign-for limit, 签收 or 退单, the first contact (先行联系)."""

    def add_assignment(
        self,
        ticket_id: int,
        department_code: str,
        *,
        now: datetime,
        sign_due_at: datetime,
        by: int | None,
        automatic: bool,
        confidence: float | None,
        contact_due_at: datetime | None = None,
    ) -> Assignment: ...
    def hasten_contact(self, ticket_id: int, due_at: datetime) -> None:
        """Bring the current dispatch's first-contact limit forward to ``due_at`` (never
        later), unless the citizen was contacted already."""
        ...

    def record_contact(self, ticket_id: int, staff_id: int, now: datetime) -> datetime | None:
        """先行联系 on the ticket's current dispatch: the first one is kept; returns when the
        first contact was made (now, or earlier), None without a current dispatch."""
        ...

    def current_assignment(self, ticket_id: int) -> Assignment | None: ...
    def sign_assignment(self, assignment_id: int, staff_id: int, now: datetime) -> None: ...
    def return_assignment(
        self, assignment_id: int, staff_id: int, reason: str, now: datetime
    ) -> None: ...


class Extensions(Protocol):
    """延期: requested by the department, decided by the office."""

    def add_extension(
        self, ticket: Ticket, staff: StaffMember, working_days: int, reason: str, now: datetime
    ) -> Extension: ...
    def extension(self, extension_id: int, *, lock: bool = False) -> Extension | None: ...
    def pending_extension(self, ticket_id: int) -> Extension | None: ...
    def approved_extension_days(self, ticket_id: int) -> int: ...
    def decide_extension(
        self,
        extension_id: int,
        *,
        approved: bool,
        by: int,
        now: datetime,
        new_deadline_at: datetime | None,
    ) -> None: ...


class Resolutions(Protocol):
    """办结: the department's answer, on time or not."""

    def add_resolution(
        self,
        ticket: Ticket,
        *,
        staff_id: int | None,
        answer: str,
        now: datetime,
        on_time: bool,
        working_days: int,
    ) -> int: ...

    def resolution_answer(self, resolution_id: int) -> str | None: ...


class Surveys(Protocol):
    """回访: the citizen's rating of an answer."""

    def add_survey(
        self, ticket: Ticket, resolution_id: int, *, now: datetime, due_at: datetime
    ) -> Survey: ...
    def survey(self, survey_id: int, *, lock: bool = False) -> Survey | None: ...
    def latest_survey(self, ticket_id: int) -> Survey | None: ...
    def rate_survey(self, survey_id: int, rating: Rating, now: datetime) -> None: ...
    def answer_solved(self, survey_id: int, solved: bool) -> None: ...
    def comment_survey(self, survey_id: int, comment: str) -> None: ...
    def due_surveys(self, now: datetime, limit: int) -> list[Survey]: ...


class Conversation(Protocol):
    """What citizens and staff send about a ticket, and messages held for the citizen's choice."""

    def add_item(self, item: NewItem) -> None: ...
    def adopt_pending_items(self, citizen_id: int, ticket_id: int) -> int: ...
    def hold_message(
        self,
        citizen_id: int,
        offered_ticket_id: int,
        reason: str,
        item: NewItem,
        message_id: int,
    ) -> HeldMessage: ...
    def held_message(self, held_id: int, *, lock: bool = False) -> HeldMessage | None: ...
    def decide_held(self, held_id: int, now: datetime) -> None: ...
    def undecided_held(self, before: datetime, limit: int) -> list[HeldMessage]: ...


class KnowledgeStore(Protocol):
    """The knowledge base (知识库) and its direct answers (直接答复)."""

    # The entries indexed for matching (all of them: the matcher leaves out those not in force).
    def knowledge_base(self) -> KnowledgeBase: ...
    # The latest answers of resolved tickets, indexed like entries (id: the ticket's number);
    # new answers join within a short delay (cached).
    def past_answers(self) -> KnowledgeBase: ...
    def kb_entry(self, key: str) -> KnowledgeEntry | None: ...
    # 直接答复率, 转人工率, entries used and never used, updates per department.
    def direct_answer_figures(self, period: Period) -> DirectAnswerFigures: ...
    # Create or change an entry with a version row (who, how); returns created/updated/unchanged.
    def save_kb_entry(
        self,
        entry: KnowledgeEntry,
        *,
        now: datetime,
        via: str,
        staff_id: int | None,
        source_ticket_id: int | None = None,
    ) -> str: ...
    def add_kb_offer(self, offer: NewKbOffer) -> KbOffer: ...
    def set_kb_offer_message(self, offer_id: int, outbox_id: int) -> None: ...
    def kb_offer(self, offer_id: int, *, lock: bool = False) -> KbOffer | None: ...
    # The citizen's direct answer still waiting for 已解决 / 仍需人工办理 (locked), if any.
    def pending_kb_offer(self, citizen_id: int) -> KbOffer | None: ...
    def decide_kb_offer(
        self, offer_id: int, outcome: str, ticket_id: int | None, now: datetime
    ) -> None: ...
    def unanswered_kb_offers(self, before: datetime, limit: int) -> list[KbOffer]: ...
    # The direct answer a ticket began with (shown on its card), if it began with one.
    def answer_given(self, ticket_id: int) -> KbOffer | None: ...


class Enrolment(Protocol):
    """Invites that make staff, the desk's logins, and the routing examples learnt."""

    def add_invite(
        self, token: str, department_code: str, *, by: int, now: datetime, expires_at: datetime
    ) -> None: ...
    def use_invite(self, token: str, telegram_user_id: int, now: datetime) -> str | None: ...
    def add_desk_login(
        self, token_digest: str, telegram_user_id: int, *, now: datetime, expires_at: datetime
    ) -> None: ...
    def add_routing_example(
        self, text: str, department_code: str, *, ticket_id: int | None, source: str, now: datetime
    ) -> None: ...


class Reminders(Protocol):
    """The tickets a reminder is due for, and the reminders sent (each once)."""

    def sign_overdue_tickets(
        self, now: datetime, limit: int, *, urgent_only: bool
    ) -> list[tuple[Ticket, str]]: ...
    def contact_overdue_tickets(
        self, now: datetime, limit: int, *, urgent_only: bool
    ) -> list[tuple[Ticket, str]]: ...
    def tickets_due_on(
        self, due_at: datetime, kind: str, limit: int
    ) -> list[tuple[Ticket, str]]: ...
    def overdue_unreminded(
        self, now: datetime, kind: str, step: str, limit: int, *, urgent_only: bool
    ) -> list[tuple[Ticket, str]]: ...
    def add_reminders(self, keys: list[tuple[int, str, str]], now: datetime) -> set[int]: ...


class Quality(Protocol):
    """Hotline-wide jobs (each once) and 质检 sampling."""

    def claim_job(self, kind: str, step: str, now: datetime) -> bool: ...
    def resolutions_between(self, start: datetime, end: datetime) -> list[ResolvedTicket]: ...
    def answer_check_events(
        self, start: datetime, end: datetime, actions: Collection[str]
    ) -> list[TicketEvent]: ...
    def add_quality_check(
        self, resolved: ResolvedTicket, *, sampled_for: date, now: datetime
    ) -> int | None: ...
    def quality_check(self, check_id: int, *, lock: bool = False) -> QualityCheck | None: ...
    def decide_quality(
        self, check_id: int, *, passed: bool, reason: str | None, inspector: int, now: datetime
    ) -> None: ...


class Statistics(Protocol):
    """The figures of a period, and the alerts' states."""

    def statistics(
        self,
        period: Period,
        *,
        now: datetime,
        targets: TargetsLike,
        names: Mapping[str, str],
        department: str | None = None,
    ) -> StatisticsReport: ...
    def alert_state(self, department_code: str, metric: str) -> bool | None: ...
    def set_alert_state(
        self, department_code: str, metric: str, *, below: bool, now: datetime
    ) -> None: ...


class History(Protocol):
    """The tickets' append-only event log."""

    def record(self, event: TicketEvent) -> None: ...


class Outbox(Protocol):
    """Messages to send (in order), and what the bot knows about those it sent."""

    def queue(self, message: Outgoing, now: datetime) -> None: ...
    def queue_with_id(self, message: Outgoing, now: datetime) -> int: ...
    def sent_message(self, chat_id: int, message_id: int) -> SentMessage | None: ...
    def ticket_cards(self, ticket_id: int) -> list[SentMessage]: ...
    # A card replaced by a newer one of the same ticket: no longer among ``ticket_cards``.
    def supersede_card(self, outbox_id: int) -> None: ...


class Store(
    UnitOfWork,
    People,
    Departments,
    Tickets,
    Assignments,
    Extensions,
    Resolutions,
    Surveys,
    Conversation,
    KnowledgeStore,
    Enrolment,
    Reminders,
    Quality,
    Statistics,
    History,
    Outbox,
    Protocol,
):
    """One unit of work: everything done through it commits together or not at all. The roles
    above are what a function needs of it; a handler that needs a few takes just those."""
