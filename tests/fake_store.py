"""An in-memory store for unit tests of the core: the role ports of handlers.ports kept in
dicts and lists, no database (cosmicpython's FakeRepository is the model).

It behaves like storage.repository.SqlStore where the unit tests rely on it (tests/
test_store_contract.py runs the same checks against both). What only SQL answers (statistics,
the knowledge base's figures) raises NotImplementedError: those are tested on the databases.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from handlers.events import Person
from handlers.knowledge import KnowledgeBase, KnowledgeEntry
from handlers.knowledge_stats import DirectAnswerFigures
from handlers.model import (
    OPEN_STATUSES,
    Assignment,
    Citizen,
    Extension,
    HeldMessage,
    ItemKind,
    KbOffer,
    Keep,
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
    TicketStatus,
)
from handlers.numbering import format_ticket_number
from handlers.outgoing import SUPERSEDED_CARD, Method, Outgoing
from handlers.reports import Period, StatisticsReport, TargetsLike
from scheduler.deadlines import local_date


@dataclass
class _AssignmentRow:
    assignment: Assignment
    contact_due_at: datetime | None
    contacted_at: datetime | None = None


@dataclass
class _Resolution:
    ticket_id: int
    department_code: str
    answer: str
    resolved_at: datetime


@dataclass
class QueuedMessage:
    """A message in the fake outbox; ``message_id`` once ``deliver`` has "sent" it."""

    id: int
    message: Outgoing
    message_id: int | None = None


@dataclass
class FakeStore:
    """Every role port of handlers.ports over plain collections. Inspect ``tickets``,
    ``events`` and ``outbox`` in tests; ``deliver`` gives queued messages Telegram ids."""

    departments: dict[str, int | None] = field(default_factory=dict)  # active: code → chat
    office: int | None = None
    kb_entries: list[KnowledgeEntry] = field(default_factory=list)

    citizens: dict[int, Citizen] = field(default_factory=dict)
    staff: dict[int, StaffMember] = field(default_factory=dict)
    tickets: dict[int, Ticket] = field(default_factory=dict)
    closed_at: dict[int, datetime | None] = field(default_factory=dict)
    items: list[NewItem] = field(default_factory=list)
    held: dict[int, HeldMessage] = field(default_factory=dict)
    assignments: dict[int, _AssignmentRow] = field(default_factory=dict)
    extensions: dict[int, Extension] = field(default_factory=dict)
    resolutions: dict[int, _Resolution] = field(default_factory=dict)
    surveys: dict[int, Survey] = field(default_factory=dict)
    comments: dict[int, str] = field(default_factory=dict)
    offers: dict[int, KbOffer] = field(default_factory=dict)
    invites: dict[str, tuple[str, datetime, bool]] = field(default_factory=dict)
    routing_examples: list[tuple[str, str]] = field(default_factory=list)
    reminders: set[tuple[int, str, str]] = field(default_factory=set)
    jobs: set[tuple[str, str]] = field(default_factory=set)
    quality_checks: dict[int, QualityCheck] = field(default_factory=dict)
    alerts: dict[tuple[str, str], bool] = field(default_factory=dict)
    events: list[TicketEvent] = field(default_factory=list)
    outbox: list[QueuedMessage] = field(default_factory=list)
    updates: set[int] = field(default_factory=set)
    committed: list[Callable[[], None]] = field(default_factory=list)

    _counters: dict[date, int] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _id(self) -> int:
        return next(self._ids)

    # -- for tests ---------------------------------------------------------------------------

    def add_department(self, code: str, chat_id: int | None) -> None:
        self.departments[code] = chat_id

    def deliver(self) -> list[QueuedMessage]:
        """ "Send" every queued message: each gets a Telegram message id; those sent now."""
        sent = []
        for queued in self.outbox:
            if queued.message_id is None and queued.message.method is not Method.EDIT_TEXT:
                queued.message_id = next(self._message_ids)
                sent.append(queued)
        return sent

    def messages_to(self, chat_id: int) -> list[Outgoing]:
        return [q.message for q in self.outbox if q.message.chat_id == chat_id]

    def actions(self, ticket_id: int) -> list[str]:
        """The ticket's log, as its actions in order."""
        return [e.action for e in self.events if e.ticket_id == ticket_id]

    # -- UnitOfWork ----------------------------------------------------------------------------

    def claim_update(self, update_id: int, now: datetime) -> bool:
        if update_id in self.updates:
            return False
        self.updates.add(update_id)
        return True

    def after_commit(self, action: Callable[[], None]) -> None:
        self.committed.append(action)  # nothing rolls back here: kept for a test to look at

    # -- People --------------------------------------------------------------------------------

    def citizen_for(self, person: Person, chat_id: int, now: datetime) -> Citizen:
        for citizen in self.citizens.values():
            if citizen.telegram_user_id == person.user_id:
                return citizen
        citizen = Citizen(
            id=self._id(),
            telegram_user_id=person.user_id,
            chat_id=chat_id,
            language=Language.from_telegram(person.language_code),
            name=person.display_name or None,
            phone=None,
        )
        self.citizens[citizen.id] = citizen
        return citizen

    def citizen(self, citizen_id: int) -> Citizen | None:
        return self.citizens.get(citizen_id)

    def set_citizen_language(self, citizen_id: int, language: Language) -> None:
        self.citizens[citizen_id] = replace(self.citizens[citizen_id], language=language)

    def set_citizen_phone(self, citizen_id: int, phone: str) -> None:
        self.citizens[citizen_id] = replace(self.citizens[citizen_id], phone=phone)

    def staff_member(self, telegram_user_id: int) -> StaffMember | None:
        return next(
            (s for s in self.staff.values() if s.telegram_user_id == telegram_user_id), None
        )

    def staff_by_id(self, staff_id: int) -> StaffMember | None:
        return self.staff.get(staff_id)

    def department_staff(self, department_code: str) -> list[StaffMember]:
        return [s for s in self.staff.values() if s.department_code == department_code]

    def supervisors(self) -> list[StaffMember]:
        return [s for s in self.staff.values() if s.role is Role.SUPERVISOR]

    def add_staff(
        self,
        telegram_user_id: int,
        *,
        role: Role,
        department_code: str | None,
        name: str | None,
        language: Language,
        now: datetime,
    ) -> StaffMember:
        known = self.staff_member(telegram_user_id)
        member = StaffMember(
            id=known.id if known else self._id(),
            telegram_user_id=telegram_user_id,
            name=name or (known.name if known else None),
            role=role,
            department_code=department_code,
            language=language,
        )
        self.staff[member.id] = member
        return member

    def set_staff_language(self, staff_id: int, language: Language) -> None:
        self.staff[staff_id] = replace(self.staff[staff_id], language=language)

    # -- Departments ---------------------------------------------------------------------------

    def department_chat(self, department_code: str) -> int | None:
        return self.departments.get(department_code)

    def office_chat(self) -> int | None:
        return self.office

    def active_departments(self) -> list[str]:
        return list(self.departments)

    # -- Tickets -------------------------------------------------------------------------------

    def next_ticket_number(self, day: date) -> str:
        self._counters[day] = self._counters.get(day, 0) + 1
        return format_ticket_number(day, self._counters[day])

    def add_ticket(self, ticket: NewTicket) -> Ticket:
        created = Ticket(
            id=self._id(),
            number=ticket.number,
            citizen_id=ticket.citizen_id,
            request_type=ticket.request_type,
            text=ticket.text,
            status=ticket.status,
            department_code=ticket.department_code,
            urgent=ticket.urgent,
            received_at=ticket.received_at,
            deadline_at=ticket.deadline_at,
            deadline_estimated=ticket.deadline_estimated,
        )
        self.tickets[created.id] = created
        return created

    def ticket(self, ticket_id: int, *, lock: bool = False) -> Ticket | None:
        return self.tickets.get(ticket_id)

    def ticket_by_number(self, number: str) -> Ticket | None:
        return next((t for t in self.tickets.values() if t.number == number), None)

    def _newest_first(self, tickets: list[Ticket]) -> list[Ticket]:
        return sorted(tickets, key=lambda t: (t.received_at, t.id), reverse=True)

    def _by_deadline(self, tickets: list[Ticket]) -> list[Ticket]:
        return sorted(tickets, key=lambda t: (t.deadline_at, t.id))

    def citizen_tickets(self, citizen_id: int, limit: int) -> list[Ticket]:
        mine = [t for t in self.tickets.values() if t.citizen_id == citizen_id]
        return self._newest_first(mine)[:limit]

    def open_tickets_of(self, citizen_id: int, since: datetime | None = None) -> list[Ticket]:
        return [
            t
            for t in self._newest_first(list(self.tickets.values()))
            if t.citizen_id == citizen_id
            and t.status in OPEN_STATUSES
            and (since is None or t.received_at >= since)
        ]

    def latest_open_ticket(self, citizen_id: int) -> Ticket | None:
        found = self.open_tickets_of(citizen_id)
        return found[0] if found else None

    def update_ticket(self, ticket_id: int, now: datetime, change: TicketChange) -> Ticket:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            raise LookupError(f"ticket {ticket_id} vanished")
        updated = change.applied_to(ticket)
        self.tickets[ticket_id] = updated
        if not isinstance(change.closed_at, Keep):
            self.closed_at[ticket_id] = change.closed_at
        return updated

    def department_queue(self, department_code: str, limit: int) -> list[Ticket]:
        queue = [
            t
            for t in self.tickets.values()
            if t.department_code == department_code
            and t.status in (TicketStatus.DISPATCHED, TicketStatus.IN_PROGRESS)
        ]
        return self._by_deadline(queue)[:limit]

    def dispatch_queue(self, limit: int) -> list[Ticket]:
        waiting = [
            t
            for t in self.tickets.values()
            if t.status in (TicketStatus.RECEIVED, TicketStatus.RETURNED)
        ]
        return self._by_deadline(waiting)[:limit]

    def overdue_tickets(self, now: datetime, limit: int) -> list[Ticket]:
        late = [t for t in self.tickets.values() if t.status.is_open and t.deadline_at < now]
        return self._by_deadline(late)[:limit]

    def recent_open_tickets(self, limit: int) -> list[Ticket]:
        return [t for t in self._newest_first(list(self.tickets.values())) if t.status.is_open][
            :limit
        ]

    def attachments(self, ticket_id: int) -> list[NewItem]:
        return [
            item
            for item in self.items
            if item.ticket_id == ticket_id
            and item.author is Role.CITIZEN
            # A shared contact is no attachment (SqlStore.attachments).
            and item.kind not in (ItemKind.TEXT, ItemKind.CONTACT)
        ]

    # -- Assignments ---------------------------------------------------------------------------

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
    ) -> Assignment:
        assignment = Assignment(
            self._id(), ticket_id, department_code, now, sign_due_at, None, None, automatic
        )
        self.assignments[assignment.id] = _AssignmentRow(assignment, contact_due_at)
        return assignment

    def _current(self, ticket_id: int) -> _AssignmentRow | None:
        rows = [r for r in self.assignments.values() if r.assignment.ticket_id == ticket_id]
        return max(rows, key=lambda r: r.assignment.id) if rows else None

    def current_assignment(self, ticket_id: int) -> Assignment | None:
        row = self._current(ticket_id)
        return row.assignment if row else None

    def hasten_contact(self, ticket_id: int, due_at: datetime) -> None:
        row = self._current(ticket_id)
        if (
            row is not None
            and row.contacted_at is None
            and (row.contact_due_at is None or row.contact_due_at > due_at)
        ):
            row.contact_due_at = due_at

    def record_contact(self, ticket_id: int, staff_id: int, now: datetime) -> datetime | None:
        row = self._current(ticket_id)
        if row is None:
            return None
        if row.contacted_at is None:
            row.contacted_at = now
        return row.contacted_at

    def sign_assignment(self, assignment_id: int, staff_id: int, now: datetime) -> None:
        row = self.assignments[assignment_id]
        row.assignment = replace(row.assignment, signed_at=now)

    def return_assignment(
        self, assignment_id: int, staff_id: int, reason: str, now: datetime
    ) -> None:
        row = self.assignments[assignment_id]
        row.assignment = replace(row.assignment, returned_at=now)

    # -- Extensions ----------------------------------------------------------------------------

    def add_extension(
        self, ticket: Ticket, staff: StaffMember, working_days: int, reason: str, now: datetime
    ) -> Extension:
        if ticket.department_code is None:
            raise ValueError(f"ticket {ticket.number} is in no department")
        extension = Extension(
            self._id(),
            ticket.id,
            ticket.department_code,
            staff.id,
            working_days,
            reason,
            "pending",
            ticket.deadline_at,
        )
        self.extensions[extension.id] = extension
        return extension

    def extension(self, extension_id: int, *, lock: bool = False) -> Extension | None:
        return self.extensions.get(extension_id)

    def pending_extension(self, ticket_id: int) -> Extension | None:
        return next(
            (
                e
                for e in self.extensions.values()
                if e.ticket_id == ticket_id and e.status == "pending"
            ),
            None,
        )

    def approved_extension_days(self, ticket_id: int) -> int:
        return sum(
            e.working_days
            for e in self.extensions.values()
            if e.ticket_id == ticket_id and e.status == "approved"
        )

    def decide_extension(
        self,
        extension_id: int,
        *,
        approved: bool,
        by: int,
        now: datetime,
        new_deadline_at: datetime | None,
    ) -> None:
        self.extensions[extension_id] = replace(
            self.extensions[extension_id], status="approved" if approved else "rejected"
        )

    # -- Resolutions ---------------------------------------------------------------------------

    def add_resolution(
        self,
        ticket: Ticket,
        *,
        staff_id: int | None,
        answer: str,
        now: datetime,
        on_time: bool,
        working_days: int,
    ) -> int:
        if ticket.department_code is None:
            raise ValueError(f"ticket {ticket.number} is in no department")
        resolution_id = self._id()
        self.resolutions[resolution_id] = _Resolution(
            ticket.id, ticket.department_code, answer, now
        )
        return resolution_id

    def resolution_answer(self, resolution_id: int) -> str | None:
        found = self.resolutions.get(resolution_id)
        return found.answer if found else None

    # -- Surveys -------------------------------------------------------------------------------

    def add_survey(
        self, ticket: Ticket, resolution_id: int, *, now: datetime, due_at: datetime
    ) -> Survey:
        if ticket.department_code is None:
            raise ValueError(f"ticket {ticket.number} is in no department")
        survey = Survey(
            self._id(), resolution_id, ticket.id, ticket.department_code, now, due_at, None, None
        )
        self.surveys[survey.id] = survey
        return survey

    def survey(self, survey_id: int, *, lock: bool = False) -> Survey | None:
        return self.surveys.get(survey_id)

    def latest_survey(self, ticket_id: int) -> Survey | None:
        mine = [s for s in self.surveys.values() if s.ticket_id == ticket_id]
        return max(mine, key=lambda s: s.id) if mine else None

    def rate_survey(self, survey_id: int, rating: Rating, now: datetime) -> None:
        self.surveys[survey_id] = replace(self.surveys[survey_id], rating=rating, rated_at=now)

    def answer_solved(self, survey_id: int, solved: bool) -> None:
        self.surveys[survey_id] = replace(self.surveys[survey_id], solved=solved)

    def comment_survey(self, survey_id: int, comment: str) -> None:
        earlier = self.comments.get(survey_id)
        self.comments[survey_id] = comment if earlier is None else f"{earlier}\n{comment}"

    def due_surveys(self, now: datetime, limit: int) -> list[Survey]:
        due = [s for s in self.surveys.values() if s.rating is None and s.due_at < now]
        return sorted(due, key=lambda s: (s.due_at, s.id))[:limit]

    # -- Conversation --------------------------------------------------------------------------

    def add_item(self, item: NewItem) -> None:
        self.items.append(item)

    def adopt_pending_items(self, citizen_id: int, ticket_id: int) -> int:
        adopted = 0
        for n, item in enumerate(self.items):
            if item.citizen_id == citizen_id and item.ticket_id is None:
                self.items[n] = replace(item, ticket_id=ticket_id)
                adopted += 1
        return adopted

    def hold_message(
        self,
        citizen_id: int,
        offered_ticket_id: int,
        reason: str,
        item: NewItem,
        message_id: int,
    ) -> HeldMessage:
        held = HeldMessage(
            id=self._id(),
            citizen_id=citizen_id,
            offered_ticket_id=offered_ticket_id,
            reason=reason,
            kind=item.kind,
            text=item.text,
            file_id=item.file_id,
            file_unique_id=item.file_unique_id,
            message_id=message_id,
            created_at=item.created_at,
            decided_at=None,
        )
        self.held[held.id] = held
        return held

    def held_message(self, held_id: int, *, lock: bool = False) -> HeldMessage | None:
        return self.held.get(held_id)

    def decide_held(self, held_id: int, now: datetime) -> None:
        self.held[held_id] = replace(self.held[held_id], decided_at=now)

    def undecided_held(self, before: datetime, limit: int) -> list[HeldMessage]:
        waiting = [h for h in self.held.values() if h.decided_at is None and h.created_at < before]
        return sorted(waiting, key=lambda h: h.id)[:limit]

    # -- KnowledgeStore ------------------------------------------------------------------------

    def knowledge_base(self) -> KnowledgeBase:
        return KnowledgeBase(self.kb_entries)

    def past_answers(self) -> KnowledgeBase:
        return KnowledgeBase([])

    def kb_entry(self, key: str) -> KnowledgeEntry | None:
        return next((e for e in self.kb_entries if e.id == key), None)

    def direct_answer_figures(self, period: Period) -> DirectAnswerFigures:
        raise NotImplementedError("SQL figures: tested on the databases (tests/test_knowledge*)")

    def save_kb_entry(
        self,
        entry: KnowledgeEntry,
        *,
        now: datetime,
        via: str,
        staff_id: int | None,
        source_ticket_id: int | None = None,
    ) -> str:
        known = self.kb_entry(entry.id)
        if known == entry:
            return "unchanged"
        self.kb_entries = [e for e in self.kb_entries if e.id != entry.id] + [entry]
        return "created" if known is None else "updated"

    def add_kb_offer(self, offer: NewKbOffer) -> KbOffer:
        made = KbOffer(
            id=self._id(),
            citizen_id=offer.citizen_id,
            entry_key=offer.entry_key,
            department_code=offer.department_code,
            question=offer.question,
            answer=offer.answer,
            score=offer.score,
            message_id=offer.message_id,
            outbox_id=None,
            created_at=offer.created_at,
            decided_at=None,
            outcome=None,
            ticket_id=None,
        )
        self.offers[made.id] = made
        return made

    def set_kb_offer_message(self, offer_id: int, outbox_id: int) -> None:
        self.offers[offer_id] = replace(self.offers[offer_id], outbox_id=outbox_id)

    def kb_offer(self, offer_id: int, *, lock: bool = False) -> KbOffer | None:
        return self.offers.get(offer_id)

    def pending_kb_offer(self, citizen_id: int) -> KbOffer | None:
        waiting = [
            o for o in self.offers.values() if o.citizen_id == citizen_id and o.decided_at is None
        ]
        return max(waiting, key=lambda o: o.id) if waiting else None

    def decide_kb_offer(
        self, offer_id: int, outcome: str, ticket_id: int | None, now: datetime
    ) -> None:
        self.offers[offer_id] = replace(
            self.offers[offer_id], decided_at=now, outcome=outcome, ticket_id=ticket_id
        )

    def unanswered_kb_offers(self, before: datetime, limit: int) -> list[KbOffer]:
        waiting = [
            o for o in self.offers.values() if o.decided_at is None and o.created_at < before
        ]
        return sorted(waiting, key=lambda o: o.id)[:limit]

    def answer_given(self, ticket_id: int) -> KbOffer | None:
        return next((o for o in self.offers.values() if o.ticket_id == ticket_id), None)

    # -- Enrolment -----------------------------------------------------------------------------

    def add_invite(
        self, token: str, department_code: str, *, by: int, now: datetime, expires_at: datetime
    ) -> None:
        self.invites[token] = (department_code, expires_at, False)

    def use_invite(self, token: str, telegram_user_id: int, now: datetime) -> str | None:
        found = self.invites.get(token)
        if found is None:
            return None
        department, expires_at, used = found
        if used or expires_at <= now:
            return None
        self.invites[token] = (department, expires_at, True)
        return department

    def add_desk_login(
        self, token_digest: str, telegram_user_id: int, *, now: datetime, expires_at: datetime
    ) -> None:
        pass  # the desk's logins are the web app's (tests/test_desk*)

    def add_routing_example(
        self, text: str, department_code: str, *, ticket_id: int | None, source: str, now: datetime
    ) -> None:
        self.routing_examples.append((text, department_code))

    # -- Reminders -----------------------------------------------------------------------------

    def _overdue_dispatches(
        self,
        kind: str,
        statuses: tuple[TicketStatus, ...],
        due: Callable[[_AssignmentRow], datetime | None],
        done: Callable[[_AssignmentRow], datetime | None],
        now: datetime,
        limit: int,
        urgent_only: bool,
    ) -> list[tuple[Ticket, str]]:
        found = []
        for ticket in self.tickets.values():
            row = self._current(ticket.id)
            if row is None or ticket.status not in statuses or (urgent_only and not ticket.urgent):
                continue
            due_at = due(row)
            step = str(row.assignment.id)
            if (
                done(row) is None
                and row.assignment.returned_at is None
                and due_at is not None
                and due_at < now
                and (ticket.id, kind, step) not in self.reminders
            ):
                found.append((due_at, ticket, step))
        found.sort(key=lambda f: (f[0], f[1].id))
        return [(ticket, step) for _, ticket, step in found[:limit]]

    def sign_overdue_tickets(
        self, now: datetime, limit: int, *, urgent_only: bool
    ) -> list[tuple[Ticket, str]]:
        return self._overdue_dispatches(
            "sign_overdue",
            (TicketStatus.DISPATCHED,),
            lambda r: r.assignment.sign_due_at,
            lambda r: r.assignment.signed_at,
            now,
            limit,
            urgent_only,
        )

    def contact_overdue_tickets(
        self, now: datetime, limit: int, *, urgent_only: bool
    ) -> list[tuple[Ticket, str]]:
        return self._overdue_dispatches(
            "contact_overdue",
            (TicketStatus.DISPATCHED, TicketStatus.IN_PROGRESS),
            lambda r: r.contact_due_at,
            lambda r: r.contacted_at,
            now,
            limit,
            urgent_only,
        )

    def tickets_due_on(self, due_at: datetime, kind: str, limit: int) -> list[tuple[Ticket, str]]:
        step = (
            due_at.date().isoformat() if due_at.tzinfo is None else local_date(due_at).isoformat()
        )
        due = [
            t
            for t in sorted(self.tickets.values(), key=lambda t: t.id)
            if t.status.is_open
            and not t.urgent
            and due_at - timedelta(days=1) < t.deadline_at <= due_at
            and (t.id, kind, step) not in self.reminders
        ]
        return [(t, step) for t in due[:limit]]

    def overdue_unreminded(
        self, now: datetime, kind: str, step: str, limit: int, *, urgent_only: bool
    ) -> list[tuple[Ticket, str]]:
        late = [
            t
            for t in self.overdue_tickets(now, len(self.tickets))
            if (t.id, kind, step) not in self.reminders and (t.urgent or not urgent_only)
        ]
        return [(t, step) for t in late[:limit]]

    def add_reminders(self, keys: list[tuple[int, str, str]], now: datetime) -> set[int]:
        fresh = {key[0] for key in keys if key not in self.reminders}
        self.reminders.update(keys)
        return fresh

    # -- Quality -------------------------------------------------------------------------------

    def claim_job(self, kind: str, step: str, now: datetime) -> bool:
        if (kind, step) in self.jobs:
            return False
        self.jobs.add((kind, step))
        return True

    def resolutions_between(self, start: datetime, end: datetime) -> list[ResolvedTicket]:
        return [
            ResolvedTicket(
                resolution_id,
                r.ticket_id,
                self.tickets[r.ticket_id].number,
                r.department_code,
                self.tickets[r.ticket_id].text,
                r.answer,
            )
            for resolution_id, r in sorted(self.resolutions.items())
            if start <= r.resolved_at < end
        ]

    def answer_check_events(
        self, start: datetime, end: datetime, actions: Collection[str]
    ) -> list[TicketEvent]:
        resolved = {r.ticket_id for r in self.resolutions.values() if start <= r.resolved_at < end}
        return [
            e for e in self.events if e.ticket_id in resolved and e.action in actions and e.at < end
        ]

    def add_quality_check(
        self, resolved: ResolvedTicket, *, sampled_for: date, now: datetime
    ) -> int | None:
        if any(c.resolution_id == resolved.resolution_id for c in self.quality_checks.values()):
            return None
        check = QualityCheck(self._id(), resolved.resolution_id, resolved.ticket_id, None)
        self.quality_checks[check.id] = check
        return check.id

    def quality_check(self, check_id: int, *, lock: bool = False) -> QualityCheck | None:
        return self.quality_checks.get(check_id)

    def decide_quality(
        self, check_id: int, *, passed: bool, reason: str | None, inspector: int, now: datetime
    ) -> None:
        self.quality_checks[check_id] = replace(self.quality_checks[check_id], passed=passed)

    # -- Statistics ----------------------------------------------------------------------------

    def statistics(
        self,
        period: Period,
        *,
        now: datetime,
        targets: TargetsLike,
        names: Mapping[str, str],
        department: str | None = None,
    ) -> StatisticsReport:
        raise NotImplementedError("SQL figures: tested on the databases (tests/test_statistics*)")

    def alert_state(self, department_code: str, metric: str) -> bool | None:
        return self.alerts.get((department_code, metric))

    def set_alert_state(
        self, department_code: str, metric: str, *, below: bool, now: datetime
    ) -> None:
        self.alerts[(department_code, metric)] = below

    # -- History and Outbox --------------------------------------------------------------------

    def record(self, event: TicketEvent) -> None:
        self.events.append(event)

    def queue(self, message: Outgoing, now: datetime) -> None:
        if message.dedupe_key is not None and any(
            q.message.dedupe_key == message.dedupe_key for q in self.outbox
        ):
            return  # queued once already: never twice
        self.queue_with_id(message, now)

    def queue_with_id(self, message: Outgoing, now: datetime) -> int:
        queued = QueuedMessage(self._id(), message)
        self.outbox.append(queued)
        return queued.id

    def _sent(self, queued: QueuedMessage) -> SentMessage:
        m = queued.message
        return SentMessage(queued.id, m.chat_id, m.ticket_id, m.purpose, m.tag)

    def sent_message(self, chat_id: int, message_id: int) -> SentMessage | None:
        for queued in self.outbox:
            if (
                queued.message.chat_id == chat_id
                and queued.message_id == message_id
                and queued.message.method is not Method.EDIT_TEXT
            ):
                return self._sent(queued)
        return None

    def ticket_cards(self, ticket_id: int) -> list[SentMessage]:
        return [
            self._sent(q)
            for q in self.outbox
            if q.message.ticket_id == ticket_id
            and q.message.purpose == "card"
            and q.message.method is not Method.EDIT_TEXT
        ]

    def supersede_card(self, outbox_id: int) -> None:
        for queued in self.outbox:
            if queued.id == outbox_id:
                queued.message = replace(queued.message, purpose=SUPERSEDED_CARD)
