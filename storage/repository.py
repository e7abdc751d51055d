"""``SqlStore``: the core's ``handlers.ports.Store`` on one SQLAlchemy session.

Statements are written with SQLAlchemy Core where the hot path (intake) needs few round trips;
rows come back as the core's frozen snapshots, never as ORM objects.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import fields, replace
from datetime import date, datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any

from sqlalchemy import (
    Select,
    String,
    Update,
    and_,
    bindparam,
    cast,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased

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
from storage.bulk import InsertMany
from storage.knowledge import (
    direct_answer_figures,
    get_entry,
    load_entries,
    load_past_answers,
    save_entry,
)
from storage.models import (
    DEPARTMENT_QUEUE,
    OFFICE_CHAT,
    AssignmentRow,
    CitizenRow,
    DepartmentRow,
    DeskLoginRow,
    ExtensionRow,
    HeldMessageRow,
    InviteRow,
    JobRunRow,
    KbOfferRow,
    MetricAlertRow,
    OutboxRow,
    ProcessedUpdateRow,
    QualityCheckRow,
    ReminderRow,
    ResolutionRow,
    RoutingExampleRow,
    SettingRow,
    StaffRow,
    SurveyRow,
    TicketCounterRow,
    TicketEventRow,
    TicketItemRow,
    TicketRow,
)
from storage.outbox import QueuedMessage
from storage.statistics import compute_statistics

# Reminder keys per INSERT: 4 parameters each, well under SQLite's and PostgreSQL's limits.
_REMINDER_CHUNK = 500

# How long the process that queued a message has to deliver it before any other may.
DELIVERY_LEASE = timedelta(seconds=60)

_TICKET_COLUMNS = tuple(getattr(TicketRow, f.name) for f in fields(Ticket))
_STAFF_COLUMNS = tuple(getattr(StaffRow, f.name) for f in fields(StaffMember))
_CITIZEN_COLUMNS = tuple(getattr(CitizenRow, f.name) for f in fields(Citizen))
_ASSIGNMENT_COLUMNS = tuple(getattr(AssignmentRow, f.name) for f in fields(Assignment))
_EXTENSION_COLUMNS = tuple(getattr(ExtensionRow, f.name) for f in fields(Extension))
_SURVEY_COLUMNS = tuple(getattr(SurveyRow, f.name) for f in fields(Survey))
_HELD_COLUMNS = tuple(getattr(HeldMessageRow, f.name) for f in fields(HeldMessage))
_OFFER_COLUMNS = tuple(getattr(KbOfferRow, f.name) for f in fields(KbOffer))
_EVENT_COLUMNS = tuple(getattr(TicketEventRow, f.name) for f in fields(TicketEvent))


def _select_tickets() -> Select[Any]:
    return select(*_TICKET_COLUMNS)


_PAYLOAD_FIELDS = tuple(
    f.name
    for f in fields(Outgoing)
    if f.name not in {"chat_id", "method", "ticket_id", "purpose", "dedupe_key", "buttons"}
)


def _fields_of(instance: Any) -> dict[str, Any]:
    """A dataclass's fields as a dict, shallow (``dataclasses.asdict`` deep-copies)."""
    return {f.name: getattr(instance, f.name) for f in fields(instance)}


def outgoing_payload(message: Outgoing) -> dict[str, Any]:
    """What the delivery needs to make the Bot API call, as JSON."""
    payload: dict[str, Any] = {}
    for name in _PAYLOAD_FIELDS:
        value = getattr(message, name)
        if value is not None and value != "" and value is not False:
            payload[name] = value
    if message.buttons:
        payload["buttons"] = [
            [
                {
                    "text": b.text,
                    **({"data": b.data} if b.data else {}),
                    **({"url": b.url} if b.url else {}),
                }
                for b in row
            ]
            for row in message.buttons
        ]
    return payload


def _dialect_insert(dialect: str, table: Any) -> postgresql.Insert | sqlite.Insert:
    """A dialect insert, for ON CONFLICT clauses (SQLite and PostgreSQL spell them alike)."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


# Tables whose new rows the store keeps back and writes together, in this order (foreign keys).
_NEW_ROW_TABLES = {
    "citizens": CitizenRow.core_table(),
    "tickets": TicketRow.core_table(),
    "assignments": AssignmentRow.core_table(),
}


class _Statements:
    """The intake's statements for one dialect. The bulk writes (``InsertMany``) keep the
    PostgreSQL text they make; the others are built at each use, as everywhere else in the
    store (SQLAlchemy caches what they compile to)."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.new_rows = {name: InsertMany(table) for name, table in _NEW_ROW_TABLES.items()}
        self.claim_updates = InsertMany(
            ProcessedUpdateRow.core_table(), returning="update_id", skip_conflicts_on="update_id"
        )
        self.record = InsertMany(TicketEventRow.core_table())
        self.queue_many = InsertMany(OutboxRow.core_table(), returning="id")

    @property
    def claim_update(self) -> Any:
        return (
            _dialect_insert(self.dialect, ProcessedUpdateRow.core_table())
            .on_conflict_do_nothing(index_elements=["update_id"])
            .returning(ProcessedUpdateRow.update_id)
        )

    @property
    def citizen_by_user(self) -> Any:
        return select(*_CITIZEN_COLUMNS).where(CitizenRow.telegram_user_id == bindparam("user_id"))

    @property
    def citizens_by_user(self) -> Any:
        return select(*_CITIZEN_COLUMNS).where(
            CitizenRow.telegram_user_id.in_(bindparam("user_ids", expanding=True))
        )

    @property
    def open_tickets(self) -> Any:
        return (
            _select_tickets()
            .where(
                TicketRow.citizen_id == bindparam("citizen_id"),
                TicketRow.status.in_(OPEN_STATUSES),
            )
            .order_by(TicketRow.received_at.desc(), TicketRow.id.desc())
        )

    @property
    def next_number(self) -> Any:
        return (
            _dialect_insert(self.dialect, TicketCounterRow.core_table())
            .on_conflict_do_update(index_elements=["day"], set_={"last": TicketCounterRow.last + 1})
            .returning(TicketCounterRow.last)
        )

    @property
    def set_counter(self) -> Any:
        return (
            update(TicketCounterRow.core_table())
            .where(TicketCounterRow.day == bindparam("counter_day"))
            .values(last=bindparam("counter_last"))
        )

    def max_id(self, table: str) -> Any:
        return select(func.max(_NEW_ROW_TABLES[table].c.id))

    @property
    def queue(self) -> Any:
        return insert(OutboxRow.core_table()).returning(OutboxRow.id)

    @property
    def queue_once(self) -> Any:
        return (
            _dialect_insert(self.dialect, OutboxRow.core_table())
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(OutboxRow.id)
        )


# PostgreSQL: ids taken from the tables' own sequences, several for each in one round trip.
_NEXT_IDS = text(
    "SELECT t.name, nextval(pg_get_serial_sequence(t.name, 'id')) "
    "FROM unnest(CAST(:tables AS text[]), CAST(:counts AS integer[])) AS t(name, n), "
    "generate_series(1, t.n)"
)
_TICKET_FIELDS = tuple(f.name for f in fields(Ticket))


@lru_cache(maxsize=4)  # one a dialect: the bulk writes keep their PostgreSQL text
def _statements(dialect: str) -> _Statements:
    return _Statements(dialect)


def _update_ticket(columns: tuple[str, ...]) -> Update:
    """An UPDATE of these ticket columns (and ``updated_at``) returning the ticket. Parameters:
    the column's name and "_" (``ticket_id_`` for the ticket)."""
    table = TicketRow.core_table()
    return (
        update(table)
        .where(table.c.id == bindparam("ticket_id_"))
        .values({name: bindparam(f"{name}_") for name in ("updated_at", *columns)})
        .returning(*_TICKET_COLUMNS)
    )


class Bindings:
    """The office chat, the departments' chats and which departments are active, read at most
    every ``ttl`` seconds: every new ticket needs them, and the CLI (another process) changes
    them, so a change takes effect within ``ttl``; delivery ``forget``s them when it moves a
    chat."""

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._loaded_at: float | None = None
        self.office: int | None = None
        self.department_chats: dict[str, int | None] = {}
        # The knowledge base in force for intake and cards, indexed once and kept like the
        # chats: the CLI's changes show within ``ttl``, the bot's own at once
        # (``forget_knowledge`` after their commit).
        self._knowledge: KnowledgeBase | None = None
        self._knowledge_loaded_at: float | None = None

        self._past_answers: KnowledgeBase | None = None
        self._past_answers_loaded_at: float | None = None

    def forget(self) -> None:
        """Read them again at the next use (a chat moved)."""
        self._loaded_at = None

    def forget_knowledge(self) -> None:
        """Read the knowledge base again at the next use (an entry changed)."""
        self._knowledge_loaded_at = None

    def forget_past_answers(self) -> None:
        """Read the past answers again at the next use (a ticket was answered)."""
        self._past_answers_loaded_at = None

    def knowledge(self, load: Callable[[], list[KnowledgeEntry]]) -> KnowledgeBase:
        loaded = self._knowledge_loaded_at
        if self._knowledge is None or loaded is None or time.monotonic() - loaded > self.ttl:
            self._knowledge = KnowledgeBase(load())
            self._knowledge_loaded_at = time.monotonic()
        return self._knowledge

    def past_answers(self, load: Callable[[], list[KnowledgeEntry]]) -> KnowledgeBase:
        loaded = self._past_answers_loaded_at
        if self._past_answers is None or loaded is None or time.monotonic() - loaded > self.ttl:
            self._past_answers = KnowledgeBase(load())
            self._past_answers_loaded_at = time.monotonic()
        return self._past_answers

    def current(self, conn: Connection) -> Bindings:
        if self._loaded_at is None or time.monotonic() - self._loaded_at > self.ttl:
            self.department_chats = {
                code: chat
                for code, chat in conn.execute(
                    select(DepartmentRow.code, DepartmentRow.chat_id).where(
                        DepartmentRow.active.is_(True)
                    )
                )
            }
            office = conn.scalar(select(SettingRow.value).where(SettingRow.key == OFFICE_CHAT))
            self.office = int(office) if office else None
            self._loaded_at = time.monotonic()
        return self


class SqlStore:
    """One unit of work's view of the database.

    ``bindings`` shares a cache of chat bindings across units of work (the bot's worker);
    without it they are read once, at first use, for this unit of work (the CLI, tests): the
    store itself never changes them.
    """

    def __init__(
        self,
        session: Session,
        *,
        instance: str | None = None,
        bindings: Bindings | None = None,
    ) -> None:
        self.instance = instance
        self.queued: list[QueuedMessage] = []  # outbox rows written in this unit of work
        self.committed_actions: list[Callable[[], None]] = []
        self._dialect = session.get_bind().dialect.name
        self._sql = _statements(self._dialect)
        self._bindings = bindings or Bindings(ttl=math.inf)
        # The ticket history is written, never read, by the hotline's work: its rows wait
        # here and go in one executemany when the transaction commits (one statement per
        # batch of updates instead of one or two per update).
        self._events: list[dict[str, Any]] = []
        # What this transaction already knows, so that the intake's look-ups need no statement
        # (the bot's worker runs many updates in one transaction). A store lives for one
        # transaction: ``conn`` is that transaction's connection.
        self._citizens: dict[int, Citizen] = {}  # by id
        self._citizen_of_user: dict[int, int] = {}  # Telegram user id → citizen id
        self._not_citizens: set[int] = set()  # Telegram users looked up and not found
        # Citizens created in this transaction: those with no ticket yet, and those with no
        # item waiting for a request (a photo sent first).
        self._without_tickets: set[int] = set()
        self._without_items: set[int] = set()
        self._bare_tickets: set[int] = set()  # tickets created now, nothing attached yet
        # Direct answers: citizens created now have none waiting; tickets created now carry
        # one only if linked now (so a new ticket's card needs no look-up).
        self._without_offers: set[int] = set()
        self._created_tickets: set[int] = set()
        self._offer_tickets: set[int] = set()
        # Ticket counters this transaction has locked (by incrementing them): the next
        # numbers are counted here and the last one written at commit.
        self._counters: dict[date, tuple[int, int]] = {}  # day → (stored, last handed out)
        self._claims: dict[int, bool] = {}  # updates claimed ahead (claim_updates), unanswered
        self._outbox: list[dict[str, Any]] = []  # queued messages not written yet
        # Citizens, tickets and assignments created here wait (in that order: their foreign
        # keys) and go in one statement a table before the next statement that could read
        # them, or at commit: a batch of new requests writes its tickets in one INSERT, not one
        # each. Their ids are handed out here (``_new_id``); a ticket still waiting is changed
        # in place.
        self._new_rows: dict[str, list[dict[str, Any]]] = {name: [] for name in self._sql.new_rows}
        self._new_tickets: dict[int, dict[str, Any]] = {}  # the waiting ones, by id
        self._rows_waiting = False
        self._free_ids: dict[str, list[int]] = {}  # PostgreSQL: taken from sequences, unused
        self._next_ids: dict[str, int] = {}  # SQLite: the next id (its writer lock is held)
        self._session = session
        sa_event.listen(session, "before_commit", self._write_pending)
        # A query through the session itself sees them too.
        sa_event.listen(session, "do_orm_execute", lambda _: self._write_new_rows())

    @property
    def session(self) -> Session:
        """The transaction's session, for statements of other modules (they see every row
        created so far)."""
        self._write_new_rows()
        return self._session

    @property
    def conn(self) -> Connection:
        """The session's connection, for the store's statements: rows created and still
        waiting are written first, so that every statement sees them.

        Statements go to it, not through the ORM: the core gets plain rows, and Core execution
        costs a fraction of the ORM's bulk-statement machinery.
        """
        if self._rows_waiting:
            self._write_new_rows()
        return self._connection

    @cached_property
    def _connection(self) -> Connection:
        return self._session.connection()  # taken at the first statement: BEGIN

    # -- rows created in this transaction ------------------------------------------------------

    def _new_id(self, table: str) -> int:
        """An id for a new row, with no statement most of the time: SQLite's next rowid counted
        from the largest (the transaction holds the writer lock), PostgreSQL's sequences read
        for as many rows as the batch's remaining updates could create."""
        if self._dialect == "postgresql":
            if not self._free_ids.get(table):
                self._take_ids(table)
            return self._free_ids[table].pop()
        if table not in self._next_ids:
            largest = self._connection.execute(self._sql.max_id(table)).scalar()
            self._next_ids[table] = (largest or 0) + 1
        new_id = self._next_ids[table]
        self._next_ids[table] = new_id + 1
        return new_id

    def _take_ids(self, table: str) -> None:
        """Ids for ``table`` and for every other table of new rows that has none left, in one
        statement: a new request needs a citizen's, a ticket's and an assignment's. Ids
        left unused are a gap, as a rolled-back insert leaves."""
        wanted = {
            name: 1 + len(self._not_citizens if name == "citizens" else self._claims)
            for name in _NEW_ROW_TABLES
            if name == table or not self._free_ids.get(name)
        }
        taken = self._connection.execute(
            _NEXT_IDS, {"tables": list(wanted), "counts": list(wanted.values())}
        )
        for name, new_id in taken:
            self._free_ids.setdefault(name, []).append(new_id)
        for name in wanted:
            self._free_ids[name].sort(reverse=True)  # handed out smallest first

    def _add_row(self, table: str, values: dict[str, Any]) -> None:
        self._new_rows[table].append(values)
        self._rows_waiting = True

    def _write_new_rows(self) -> None:
        if not self._rows_waiting:
            return
        self._rows_waiting = False
        self._new_tickets.clear()
        for table, rows in self._new_rows.items():
            if rows:
                self._new_rows[table] = []
                self._sql.new_rows[table](self._connection, rows)

    @property
    def bindings(self) -> Bindings:
        # Chats and departments: nothing created here is in them, nothing to write first.
        return self._bindings.current(self._connection)

    # -- helpers -------------------------------------------------------------------------------

    def _insert(self, table: Any) -> postgresql.Insert | sqlite.Insert:
        return _dialect_insert(self._dialect, table)

    def _tickets(self, stmt: Select[Any]) -> list[Ticket]:
        return [Ticket(**row._mapping) for row in self.conn.execute(stmt)]

    def _one_ticket(self, stmt: Select[Any]) -> Ticket | None:
        row = self.conn.execute(stmt).first()
        return Ticket(**row._mapping) if row else None

    def after_commit(self, action: Callable[[], None]) -> None:
        self.committed_actions.append(action)

    # -- updates -------------------------------------------------------------------------------

    def claim_updates(self, updates: list[tuple[int, datetime]]) -> None:
        """Claim several updates in one statement; each ``claim_update`` of them then answers
        from here (once: a second claim of the same update in this transaction is refused).
        In id order, as every claimer does, so that two never wait for each other."""
        won = {
            update_id
            for (update_id,) in self._sql.claim_updates(
                self.conn,
                [{"update_id": update_id, "processed_at": at} for update_id, at in sorted(updates)],
            )
        }
        self._claims.update((update_id, update_id in won) for update_id, _ in updates)

    def claim_update(self, update_id: int, now: datetime) -> bool:
        if update_id in self._claims:
            return self._claims.pop(update_id)
        row = self._connection.execute(  # updates seen: nothing to write first
            self._sql.claim_update, {"update_id": update_id, "processed_at": now}
        ).first()
        return row is not None

    # -- citizens ------------------------------------------------------------------------------

    def _known(self, citizen: Citizen) -> Citizen:
        self._citizens[citizen.id] = citizen
        self._citizen_of_user[citizen.telegram_user_id] = citizen.id
        return citizen

    def _citizen_by_user(self, telegram_user_id: int) -> Citizen | None:
        known = self._citizen_of_user.get(telegram_user_id)
        if known is not None:
            return self._citizens[known]
        if telegram_user_id in self._not_citizens:
            return None
        row = self.conn.execute(self._sql.citizen_by_user, {"user_id": telegram_user_id}).first()
        return self._known(Citizen(**row._mapping)) if row else None

    def citizen_for(self, person: Person, chat_id: int, now: datetime) -> Citizen:
        citizen = self._citizen_by_user(person.user_id)
        if citizen is None:
            # Another instance creating the same citizen at the same moment makes this
            # transaction fail at the write (their Telegram id is unique); the worker then
            # runs the update again alone, and finds them.
            self._not_citizens.discard(person.user_id)
            citizen = self._known(
                Citizen(
                    id=self._new_id("citizens"),
                    telegram_user_id=person.user_id,
                    chat_id=chat_id,
                    language=Language.from_telegram(person.language_code),
                    name=person.display_name or None,
                    phone=None,
                )
            )
            self._add_row("citizens", _fields_of(citizen) | {"created_at": now})
            self._without_tickets.add(citizen.id)
            self._without_items.add(citizen.id)
            self._without_offers.add(citizen.id)
        return citizen

    def look_up_citizens(self, telegram_user_ids: set[int]) -> None:
        """Read which of these Telegram users are citizens, in one statement, for the
        ``citizen_for`` calls to come (the senders of a batch of updates)."""
        found = self.conn.execute(self._sql.citizens_by_user, {"user_ids": list(telegram_user_ids)})
        for row in found:
            self._known(Citizen(**row._mapping))
        self._not_citizens.update(telegram_user_ids - self._citizen_of_user.keys())

    def citizen(self, citizen_id: int) -> Citizen | None:
        if citizen_id in self._citizens:
            return self._citizens[citizen_id]
        row = self.conn.execute(
            select(*_CITIZEN_COLUMNS).where(CitizenRow.id == citizen_id)
        ).first()
        return self._known(Citizen(**row._mapping)) if row else None

    def set_citizen_language(self, citizen_id: int, language: Language) -> None:
        self.conn.execute(
            update(CitizenRow).where(CitizenRow.id == citizen_id).values(language=language)
        )
        self._changed_citizen(citizen_id, language=language)

    def set_citizen_phone(self, citizen_id: int, phone: str) -> None:
        self.conn.execute(update(CitizenRow).where(CitizenRow.id == citizen_id).values(phone=phone))
        self._changed_citizen(citizen_id, phone=phone)

    def _changed_citizen(self, citizen_id: int, **changes: Any) -> None:
        if citizen_id in self._citizens:
            self._citizens[citizen_id] = replace(self._citizens[citizen_id], **changes)

    # -- staff ---------------------------------------------------------------------------------

    def _staff(self, *where: Any) -> list[StaffMember]:
        rows = self._connection.execute(  # staff: nothing created here is theirs
            select(*_STAFF_COLUMNS).where(StaffRow.active.is_(True), *where).order_by(StaffRow.id)
        )
        return [StaffMember(**row._mapping) for row in rows]

    def staff_member(self, telegram_user_id: int) -> StaffMember | None:
        found = self._staff(StaffRow.telegram_user_id == telegram_user_id)
        return found[0] if found else None

    def staff_by_id(self, staff_id: int) -> StaffMember | None:
        row = self.conn.execute(select(*_STAFF_COLUMNS).where(StaffRow.id == staff_id)).first()
        return StaffMember(**row._mapping) if row else None

    def department_staff(self, department_code: str) -> list[StaffMember]:
        return self._staff(StaffRow.department_code == department_code)

    def supervisors(self) -> list[StaffMember]:
        return self._staff(StaffRow.role == Role.SUPERVISOR)

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
        """Enrol someone, or update their role and department if they are known."""
        values = {
            "role": role,
            "department_code": department_code,
            "active": True,
            "language": language,
        }
        existing = self.conn.scalar(
            select(StaffRow.id).where(StaffRow.telegram_user_id == telegram_user_id)
        )
        if existing is None:
            self.conn.execute(
                insert(StaffRow).values(
                    telegram_user_id=telegram_user_id, name=name, created_at=now, **values
                )
            )
        else:
            changes = values | ({"name": name} if name else {})
            self.conn.execute(update(StaffRow).where(StaffRow.id == existing).values(**changes))
        member = self.staff_member(telegram_user_id)
        assert member is not None  # narrowing only: just written, active
        return member

    def set_staff_language(self, staff_id: int, language: Language) -> None:
        self.conn.execute(update(StaffRow).where(StaffRow.id == staff_id).values(language=language))

    # -- chats ---------------------------------------------------------------------------------

    def department_chat(self, department_code: str) -> int | None:
        return self.bindings.department_chats.get(department_code)

    def office_chat(self) -> int | None:
        return self.bindings.office

    def active_departments(self) -> list[str]:
        return list(self.bindings.department_chats)

    # -- tickets -------------------------------------------------------------------------------

    def next_ticket_number(self, day: date) -> str:
        if day in self._counters:
            stored, last = self._counters[day]
            last += 1
        else:
            # The increment locks the day's counter until commit (a row lock on PostgreSQL,
            # SQLite's writer lock), so the numbers after it can be counted here.
            stored = last = self._connection.execute(  # counters: nothing to write first
                self._sql.next_number, {"day": day, "last": 1}
            ).scalar_one()
        self._counters[day] = (stored, last)
        return format_ticket_number(day, last)

    def add_ticket(self, ticket: NewTicket) -> Ticket:
        self._without_tickets.discard(ticket.citizen_id)
        created = Ticket(id=self._new_id("tickets"), **_fields_of(ticket))
        row = _fields_of(created) | {"updated_at": ticket.received_at, "closed_at": None}
        self._add_row("tickets", row)
        self._new_tickets[created.id] = row
        self._bare_tickets.add(created.id)
        self._created_tickets.add(created.id)
        return created

    def ticket(self, ticket_id: int, *, lock: bool = False) -> Ticket | None:
        stmt = _select_tickets().where(TicketRow.id == ticket_id)
        if lock:
            stmt = stmt.with_for_update()  # PostgreSQL; SQLite's writer lock already serialises
        return self._one_ticket(stmt)

    def ticket_by_number(self, number: str) -> Ticket | None:
        return self._one_ticket(_select_tickets().where(TicketRow.number == number))

    def citizen_tickets(self, citizen_id: int, limit: int) -> list[Ticket]:
        return self._tickets(
            _select_tickets()
            .where(TicketRow.citizen_id == citizen_id)
            .order_by(TicketRow.received_at.desc(), TicketRow.id.desc())
            .limit(limit)
        )

    def open_tickets_of(self, citizen_id: int, since: datetime | None = None) -> list[Ticket]:
        if citizen_id in self._without_tickets:
            return []
        tickets = [
            Ticket(**row._mapping)
            for row in self.conn.execute(self._sql.open_tickets, {"citizen_id": citizen_id})
        ]
        return tickets if since is None else [t for t in tickets if t.received_at >= since]

    def latest_open_ticket(self, citizen_id: int) -> Ticket | None:
        if citizen_id in self._without_tickets:
            return None
        return self._one_ticket(
            _select_tickets()
            .where(TicketRow.citizen_id == citizen_id, TicketRow.status.in_(OPEN_STATUSES))
            .order_by(TicketRow.received_at.desc(), TicketRow.id.desc())
            .limit(1)
        )

    def update_ticket(self, ticket_id: int, now: datetime, change: TicketChange) -> Ticket:
        changes = change.columns()
        waiting = self._new_tickets.get(ticket_id)
        if waiting is not None and changes.keys() <= waiting.keys():
            # Created in this transaction and not written yet: changed where it waits.
            waiting.update(changes, updated_at=now)
            return Ticket(**{name: waiting[name] for name in _TICKET_FIELDS})
        row = self.conn.execute(
            _update_ticket(tuple(sorted(changes))),
            {"ticket_id_": ticket_id, "updated_at_": now}
            | {f"{name}_": value for name, value in changes.items()},
        ).first()
        if row is None:
            raise LookupError(f"ticket {ticket_id} vanished")
        return Ticket(**row._mapping)

    def department_queue(self, department_code: str, limit: int) -> list[Ticket]:
        return self._tickets(
            _select_tickets()
            .where(
                TicketRow.department_code == department_code,
                # The partial index's own predicate, as literals, so the planner always uses it.
                text(DEPARTMENT_QUEUE),
            )
            .order_by(TicketRow.deadline_at, TicketRow.id)
            .limit(limit)
        )

    def dispatch_queue(self, limit: int) -> list[Ticket]:
        return self._tickets(
            _select_tickets()
            .where(TicketRow.status.in_((TicketStatus.RECEIVED, TicketStatus.RETURNED)))
            .order_by(TicketRow.deadline_at, TicketRow.id)
            .limit(limit)
        )

    def overdue_tickets(self, now: datetime, limit: int) -> list[Ticket]:
        return self._tickets(
            _select_tickets()
            .where(TicketRow.status.in_(OPEN_STATUSES), TicketRow.deadline_at < now)
            .order_by(TicketRow.deadline_at, TicketRow.id)
            .limit(limit)
        )

    def recent_open_tickets(self, limit: int) -> list[Ticket]:
        return self._tickets(
            _select_tickets()
            .where(TicketRow.status.in_(OPEN_STATUSES))
            .order_by(TicketRow.received_at.desc(), TicketRow.id.desc())
            .limit(limit)
        )

    def attachments(self, ticket_id: int) -> list[NewItem]:
        if ticket_id in self._bare_tickets:
            return []
        rows = self.conn.execute(
            select(
                TicketItemRow.kind,
                TicketItemRow.author,
                TicketItemRow.created_at,
                TicketItemRow.ticket_id,
                TicketItemRow.citizen_id,
                TicketItemRow.text,
                TicketItemRow.file_id,
                TicketItemRow.file_unique_id,
                TicketItemRow.latitude,
                TicketItemRow.longitude,
            )
            .where(
                TicketItemRow.ticket_id == ticket_id,
                TicketItemRow.author == Role.CITIZEN,
                # A shared contact is no attachment: the number is the citizen's, shown
                # masked on the card (and in full behind its button).
                TicketItemRow.kind.not_in((ItemKind.TEXT, ItemKind.CONTACT)),
            )
            .order_by(TicketItemRow.id)
        )
        return [
            NewItem(
                kind=row.kind,
                author=row.author,
                created_at=row.created_at,
                ticket_id=row.ticket_id,
                citizen_id=row.citizen_id,
                text=row.text,
                file_id=row.file_id,
                file_unique_id=row.file_unique_id,
                latitude=row.latitude,
                longitude=row.longitude,
            )
            for row in rows
        ]

    # -- the ticket's life ---------------------------------------------------------------------

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
        assignment_id = self._new_id("assignments")
        self._add_row(
            "assignments",
            {
                "id": assignment_id,
                "ticket_id": ticket_id,
                "department_code": department_code,
                "dispatched_at": now,
                "dispatched_by": by,
                "automatic": automatic,
                "confidence": confidence,
                "sign_due_at": sign_due_at,
                "signed_at": None,
                "signed_by": None,
                "returned_at": None,
                "returned_by": None,
                "return_reason": None,
                "contact_due_at": contact_due_at,
                "contacted_at": None,
                "contacted_by": None,
            },
        )
        return Assignment(
            assignment_id, ticket_id, department_code, now, sign_due_at, None, None, automatic
        )

    def current_assignment(self, ticket_id: int) -> Assignment | None:
        row = self.conn.execute(
            select(*_ASSIGNMENT_COLUMNS)
            .where(AssignmentRow.ticket_id == ticket_id)
            .order_by(AssignmentRow.id.desc())
            .limit(1)
        ).first()
        return Assignment(**row._mapping) if row else None

    def hasten_contact(self, ticket_id: int, due_at: datetime) -> None:
        current = self.current_assignment(ticket_id)
        if current is None:
            return
        self.conn.execute(
            update(AssignmentRow)
            .where(
                AssignmentRow.id == current.id,
                AssignmentRow.contacted_at.is_(None),
                or_(AssignmentRow.contact_due_at.is_(None), AssignmentRow.contact_due_at > due_at),
            )
            .values(contact_due_at=due_at)
        )

    def record_contact(self, ticket_id: int, staff_id: int, now: datetime) -> datetime | None:
        current = self.current_assignment(ticket_id)
        if current is None:
            return None
        self.conn.execute(
            update(AssignmentRow)
            .where(AssignmentRow.id == current.id, AssignmentRow.contacted_at.is_(None))
            .values(contacted_at=now, contacted_by=staff_id)
        )
        first: datetime | None = self.conn.execute(
            select(AssignmentRow.contacted_at).where(AssignmentRow.id == current.id)
        ).scalar_one()
        return first

    def sign_assignment(self, assignment_id: int, staff_id: int, now: datetime) -> None:
        self.conn.execute(
            update(AssignmentRow)
            .where(AssignmentRow.id == assignment_id)
            .values(signed_at=now, signed_by=staff_id)
        )

    def return_assignment(
        self, assignment_id: int, staff_id: int, reason: str, now: datetime
    ) -> None:
        self.conn.execute(
            update(AssignmentRow)
            .where(AssignmentRow.id == assignment_id)
            .values(returned_at=now, returned_by=staff_id, return_reason=reason)
        )

    def add_extension(
        self, ticket: Ticket, staff: StaffMember, working_days: int, reason: str, now: datetime
    ) -> Extension:
        if ticket.department_code is None:
            raise ValueError(f"ticket {ticket.number} is in no department")
        extension_id = self.conn.execute(
            insert(ExtensionRow)
            .values(
                ticket_id=ticket.id,
                department_code=ticket.department_code,
                requested_by=staff.id,
                requested_at=now,
                working_days=working_days,
                reason=reason,
                status="pending",
                old_deadline_at=ticket.deadline_at,
            )
            .returning(ExtensionRow.id)
        ).scalar_one()
        return Extension(
            extension_id,
            ticket.id,
            ticket.department_code,
            staff.id,
            working_days,
            reason,
            "pending",
            ticket.deadline_at,
        )

    def extension(self, extension_id: int, *, lock: bool = False) -> Extension | None:
        stmt = select(*_EXTENSION_COLUMNS).where(ExtensionRow.id == extension_id)
        if lock:
            stmt = stmt.with_for_update()
        row = self.conn.execute(stmt).first()
        return Extension(**row._mapping) if row else None

    def pending_extension(self, ticket_id: int) -> Extension | None:
        row = self.conn.execute(
            select(*_EXTENSION_COLUMNS).where(
                ExtensionRow.ticket_id == ticket_id, ExtensionRow.status == "pending"
            )
        ).first()
        return Extension(**row._mapping) if row else None

    def approved_extension_days(self, ticket_id: int) -> int:
        total = self.conn.scalar(
            select(func.coalesce(func.sum(ExtensionRow.working_days), 0)).where(
                ExtensionRow.ticket_id == ticket_id, ExtensionRow.status == "approved"
            )
        )
        return int(total or 0)

    def decide_extension(
        self,
        extension_id: int,
        *,
        approved: bool,
        by: int,
        now: datetime,
        new_deadline_at: datetime | None,
    ) -> None:
        self.conn.execute(
            update(ExtensionRow)
            .where(ExtensionRow.id == extension_id)
            .values(
                status="approved" if approved else "rejected",
                decided_by=by,
                decided_at=now,
                new_deadline_at=new_deadline_at,
            )
        )

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
        self.after_commit(self._bindings.forget_past_answers)  # staff see it on the next card
        return self.conn.execute(
            insert(ResolutionRow)
            .values(
                ticket_id=ticket.id,
                department_code=ticket.department_code,
                round=ticket.reopen_count + 1,
                resolved_at=now,
                resolved_by=staff_id,
                answer=answer,
                deadline_at=ticket.deadline_at,
                on_time=on_time,
                working_days=working_days,
            )
            .returning(ResolutionRow.id)
        ).scalar_one()

    def resolution_answer(self, resolution_id: int) -> str | None:
        return self.conn.scalar(
            select(ResolutionRow.answer).where(ResolutionRow.id == resolution_id)
        )

    # -- 回访 ---------------------------------------------------------------------------------

    def add_survey(
        self, ticket: Ticket, resolution_id: int, *, now: datetime, due_at: datetime
    ) -> Survey:
        if ticket.department_code is None:
            raise ValueError(f"ticket {ticket.number} is in no department")
        survey_id = self.conn.execute(
            insert(SurveyRow)
            .values(
                resolution_id=resolution_id,
                ticket_id=ticket.id,
                department_code=ticket.department_code,
                sent_at=now,
                due_at=due_at,
            )
            .returning(SurveyRow.id)
        ).scalar_one()
        survey = self.survey(survey_id)
        assert survey is not None  # narrowing only: just inserted
        return survey

    def _surveys(self, stmt: Select[Any]) -> list[Survey]:
        return [Survey(**row._mapping) for row in self.conn.execute(stmt)]

    def survey(self, survey_id: int, *, lock: bool = False) -> Survey | None:
        stmt = select(*_SURVEY_COLUMNS).where(SurveyRow.id == survey_id)
        if lock:
            stmt = stmt.with_for_update()
        found = self._surveys(stmt)
        return found[0] if found else None

    def latest_survey(self, ticket_id: int) -> Survey | None:
        found = self._surveys(
            select(*_SURVEY_COLUMNS)
            .where(SurveyRow.ticket_id == ticket_id)
            .order_by(SurveyRow.id.desc())
            .limit(1)
        )
        return found[0] if found else None

    def rate_survey(self, survey_id: int, rating: Rating, now: datetime) -> None:
        self.conn.execute(
            update(SurveyRow)
            .where(SurveyRow.id == survey_id)
            .values(rating=rating.value, rated_at=now)
        )

    def answer_solved(self, survey_id: int, solved: bool) -> None:
        self.conn.execute(update(SurveyRow).where(SurveyRow.id == survey_id).values(solved=solved))

    def comment_survey(self, survey_id: int, comment: str) -> None:
        """Add a comment to the rating; a second reply joins the first, nothing is lost."""
        joined = func.coalesce(SurveyRow.comment + "\n", "") + comment
        self.conn.execute(update(SurveyRow).where(SurveyRow.id == survey_id).values(comment=joined))

    def due_surveys(self, now: datetime, limit: int) -> list[Survey]:
        return self._surveys(
            select(*_SURVEY_COLUMNS)
            .where(SurveyRow.rating.is_(None), SurveyRow.due_at < now)
            .order_by(SurveyRow.due_at, SurveyRow.id)
            .limit(limit)
        )

    # -- conversation --------------------------------------------------------------------------

    def add_item(self, item: NewItem) -> None:
        if item.ticket_id is None:
            self._without_items.discard(item.citizen_id)
        else:
            self._bare_tickets.discard(item.ticket_id)
        self.conn.execute(insert(TicketItemRow.core_table()), _fields_of(item))

    def adopt_pending_items(self, citizen_id: int, ticket_id: int) -> int:
        if citizen_id in self._without_items:
            return 0
        self._bare_tickets.discard(ticket_id)
        result = self.conn.execute(
            update(TicketItemRow)
            .where(TicketItemRow.citizen_id == citizen_id, TicketItemRow.ticket_id.is_(None))
            .values(ticket_id=ticket_id)
        )
        return int(result.rowcount)

    def hold_message(
        self,
        citizen_id: int,
        offered_ticket_id: int,
        reason: str,
        item: NewItem,
        message_id: int,
    ) -> HeldMessage:
        held_id = self.conn.execute(
            insert(HeldMessageRow)
            .values(
                citizen_id=citizen_id,
                offered_ticket_id=offered_ticket_id,
                reason=reason,
                kind=item.kind,
                text=item.text,
                file_id=item.file_id,
                file_unique_id=item.file_unique_id,
                message_id=message_id,
                created_at=item.created_at,
            )
            .returning(HeldMessageRow.id)
        ).scalar_one()
        held = self.held_message(held_id)
        assert held is not None  # narrowing only: just inserted
        return held

    def held_message(self, held_id: int, *, lock: bool = False) -> HeldMessage | None:
        stmt = select(*_HELD_COLUMNS).where(HeldMessageRow.id == held_id)
        if lock:
            stmt = stmt.with_for_update()
        row = self.conn.execute(stmt).first()
        return HeldMessage(**row._mapping) if row else None

    def decide_held(self, held_id: int, now: datetime) -> None:
        self.conn.execute(
            update(HeldMessageRow).where(HeldMessageRow.id == held_id).values(decided_at=now)
        )

    def undecided_held(self, before: datetime, limit: int) -> list[HeldMessage]:
        rows = self.conn.execute(
            select(*_HELD_COLUMNS)
            .where(HeldMessageRow.decided_at.is_(None), HeldMessageRow.created_at < before)
            .order_by(HeldMessageRow.id)
            .limit(limit)
        )
        return [HeldMessage(**row._mapping) for row in rows]

    # -- the knowledge base and its direct answers ------------------------------------------------

    def knowledge_base(self) -> KnowledgeBase:
        # Read on the bare connection: a batch's new rows keep waiting for their one INSERT
        # (through the session they would be written first); entries are none of them.
        return self._bindings.knowledge(lambda: load_entries(self._connection))

    def past_answers(self) -> KnowledgeBase:
        # Resolutions are of tickets written already: nothing waiting concerns them.
        return self._bindings.past_answers(lambda: load_past_answers(self._connection))

    def direct_answer_figures(self, period: Period) -> DirectAnswerFigures:
        start, end = period.utc_bounds()
        return direct_answer_figures(self.session, start, end, period.end)

    def kb_entry(self, key: str) -> KnowledgeEntry | None:
        return get_entry(self.session, key)  # as stored now, not as cached

    def save_kb_entry(
        self,
        entry: KnowledgeEntry,
        *,
        now: datetime,
        via: str,
        staff_id: int | None,
        source_ticket_id: int | None = None,
    ) -> str:
        outcome = save_entry(
            self.session,
            entry,
            now=now,
            via=via,
            staff_id=staff_id,
            source_ticket_id=source_ticket_id,
        )
        self.session.flush()
        self.after_commit(self._bindings.forget_knowledge)
        return outcome

    def add_kb_offer(self, offer: NewKbOffer) -> KbOffer:
        self._without_offers.discard(offer.citizen_id)
        offer_id = self.conn.execute(
            insert(KbOfferRow).values(**_fields_of(offer)).returning(KbOfferRow.id)
        ).scalar_one()
        return KbOffer(
            id=offer_id,
            outbox_id=None,
            decided_at=None,
            outcome=None,
            ticket_id=None,
            **_fields_of(offer),
        )

    def set_kb_offer_message(self, offer_id: int, outbox_id: int) -> None:
        self.conn.execute(
            update(KbOfferRow).where(KbOfferRow.id == offer_id).values(outbox_id=outbox_id)
        )

    def kb_offer(self, offer_id: int, *, lock: bool = False) -> KbOffer | None:
        stmt = select(*_OFFER_COLUMNS).where(KbOfferRow.id == offer_id)
        if lock:
            stmt = stmt.with_for_update()
        row = self.conn.execute(stmt).first()
        return KbOffer(**row._mapping) if row else None

    def pending_kb_offer(self, citizen_id: int) -> KbOffer | None:
        if citizen_id in self._without_offers:
            return None  # a citizen new in this transaction was offered nothing before
        row = self.conn.execute(
            select(*_OFFER_COLUMNS)
            .where(KbOfferRow.citizen_id == citizen_id, KbOfferRow.decided_at.is_(None))
            .order_by(KbOfferRow.id.desc())
            .limit(1)
            .with_for_update()
        ).first()
        return KbOffer(**row._mapping) if row else None

    def decide_kb_offer(
        self, offer_id: int, outcome: str, ticket_id: int | None, now: datetime
    ) -> None:
        if ticket_id is not None:
            self._offer_tickets.add(ticket_id)
        self.conn.execute(
            update(KbOfferRow)
            .where(KbOfferRow.id == offer_id)
            .values(decided_at=now, outcome=outcome, ticket_id=ticket_id)
        )

    def unanswered_kb_offers(self, before: datetime, limit: int) -> list[KbOffer]:
        rows = self.conn.execute(
            select(*_OFFER_COLUMNS)
            .where(KbOfferRow.decided_at.is_(None), KbOfferRow.created_at < before)
            .order_by(KbOfferRow.id)
            .limit(limit)
        )
        return [KbOffer(**row._mapping) for row in rows]

    def answer_given(self, ticket_id: int) -> KbOffer | None:
        if ticket_id in self._created_tickets and ticket_id not in self._offer_tickets:
            return None  # created in this transaction with no direct answer before it
        row = self.conn.execute(
            select(*_OFFER_COLUMNS).where(KbOfferRow.ticket_id == ticket_id).limit(1)
        ).first()
        return KbOffer(**row._mapping) if row else None

    # -- invites and routing history -----------------------------------------------------------

    def add_invite(
        self, token: str, department_code: str, *, by: int, now: datetime, expires_at: datetime
    ) -> None:
        self.conn.execute(
            insert(InviteRow).values(
                token=token,
                department_code=department_code,
                created_by=by,
                created_at=now,
                expires_at=expires_at,
            )
        )

    def use_invite(self, token: str, telegram_user_id: int, now: datetime) -> str | None:
        """The invite's department if it is unused and unexpired; it is used up at once."""
        department = self.conn.execute(
            update(InviteRow)
            .where(
                InviteRow.token == token, InviteRow.used_at.is_(None), InviteRow.expires_at > now
            )
            .values(used_at=now, used_by=telegram_user_id)
            .returning(InviteRow.department_code)
        ).scalar()
        return department

    def add_desk_login(
        self, token_digest: str, telegram_user_id: int, *, now: datetime, expires_at: datetime
    ) -> None:
        self.conn.execute(
            insert(DeskLoginRow).values(
                token_digest=token_digest,
                telegram_user_id=telegram_user_id,
                created_at=now,
                expires_at=expires_at,
            )
        )

    def add_routing_example(
        self, text: str, department_code: str, *, ticket_id: int | None, source: str, now: datetime
    ) -> None:
        self.conn.execute(
            insert(RoutingExampleRow).values(
                text=text,
                department_code=department_code,
                ticket_id=ticket_id,
                source=source,
                created_at=now,
            )
        )

    # -- reminders -----------------------------------------------------------------------------

    def _not_reminded(self, kind: str, step: Any) -> Any:
        return ~exists().where(
            ReminderRow.ticket_id == TicketRow.id,
            ReminderRow.kind == kind,
            ReminderRow.step == step,
        )

    def sign_overdue_tickets(
        self, now: datetime, limit: int, *, urgent_only: bool
    ) -> list[tuple[Ticket, str]]:
        """Dispatched tickets whose latest assignment is past its sign-for limit, unreminded."""
        return self._overdue_dispatches(
            "sign_overdue",
            (TicketStatus.DISPATCHED,),
            AssignmentRow.signed_at,
            AssignmentRow.sign_due_at,
            now,
            limit,
            urgent_only=urgent_only,
        )

    def contact_overdue_tickets(
        self, now: datetime, limit: int, *, urgent_only: bool
    ) -> list[tuple[Ticket, str]]:
        """Open tickets whose current dispatch is past its first-contact limit (先行联系) with
        no contact yet, unreminded for that dispatch."""
        return self._overdue_dispatches(
            "contact_overdue",
            (TicketStatus.DISPATCHED, TicketStatus.IN_PROGRESS),
            AssignmentRow.contacted_at,
            AssignmentRow.contact_due_at,
            now,
            limit,
            urgent_only=urgent_only,
        )

    def _overdue_dispatches(
        self,
        kind: str,
        statuses: tuple[TicketStatus, ...],
        done_at: Any,
        due_at: Any,
        now: datetime,
        limit: int,
        *,
        urgent_only: bool,
    ) -> list[tuple[Ticket, str]]:
        """Tickets in ``statuses`` whose latest, unreturned assignment is past ``due_at`` with
        ``done_at`` still empty and no ``kind`` reminder for it; each with its assignment id
        (the reminder's step)."""
        later = aliased(AssignmentRow)
        step = cast(AssignmentRow.id, String)
        stmt = (
            select(*_TICKET_COLUMNS, AssignmentRow.id.label("assignment_id"))
            .join(AssignmentRow, AssignmentRow.ticket_id == TicketRow.id)
            .where(
                TicketRow.status.in_(statuses),
                ~exists().where(
                    later.ticket_id == AssignmentRow.ticket_id, later.id > AssignmentRow.id
                ),
                done_at.is_(None),
                AssignmentRow.returned_at.is_(None),
                due_at < now,
                self._not_reminded(kind, step),
            )
            .order_by(due_at, TicketRow.id)
            .limit(limit)
        )
        if urgent_only:
            stmt = stmt.where(TicketRow.urgent.is_(True))
        found = []
        for row in self.conn.execute(stmt):
            values = dict(row._mapping)
            assignment_id = values.pop("assignment_id")
            found.append((Ticket(**values), str(assignment_id)))
        return found

    def tickets_due_on(self, due_at: datetime, kind: str, limit: int) -> list[tuple[Ticket, str]]:
        """Open, non-urgent tickets whose deadline is ``due_at`` (the end of a working day)."""
        step = (
            due_at.date().isoformat() if due_at.tzinfo is None else local_date(due_at).isoformat()
        )
        tickets = self._tickets(
            _select_tickets()
            .where(
                TicketRow.status.in_(OPEN_STATUSES),
                TicketRow.urgent.is_(False),
                TicketRow.deadline_at > due_at - timedelta(days=1),
                TicketRow.deadline_at <= due_at,
                self._not_reminded(kind, step),
            )
            .order_by(TicketRow.id)
            .limit(limit)
        )
        return [(t, step) for t in tickets]

    def overdue_unreminded(
        self, now: datetime, kind: str, step: str, limit: int, *, urgent_only: bool
    ) -> list[tuple[Ticket, str]]:
        stmt = (
            _select_tickets()
            .where(
                TicketRow.status.in_(OPEN_STATUSES),
                TicketRow.deadline_at < now,
                self._not_reminded(kind, step),
            )
            .order_by(TicketRow.deadline_at, TicketRow.id)
            .limit(limit)
        )
        if urgent_only:
            stmt = stmt.where(TicketRow.urgent.is_(True))
        return [(t, step) for t in self._tickets(stmt)]

    def add_reminders(self, keys: list[tuple[int, str, str]], now: datetime) -> set[int]:
        """Record reminder keys; the tickets whose key is new (a racing sweep's are not)."""
        fresh: set[int] = set()
        # Multi-row inserts: one statement per chunk, not per ticket (bench/sweep).
        for start in range(0, len(keys), _REMINDER_CHUNK):
            rows = [
                {"ticket_id": ticket_id, "kind": kind, "step": step, "queued_at": now}
                for ticket_id, kind, step in keys[start : start + _REMINDER_CHUNK]
            ]
            inserted = self.conn.execute(
                self._insert(ReminderRow)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["ticket_id", "kind", "step"])
                .returning(ReminderRow.ticket_id)
            ).scalars()
            fresh.update(inserted)
        return fresh

    # -- hotline-wide jobs and 质检 -------------------------------------------------------------

    def claim_job(self, kind: str, step: str, now: datetime) -> bool:
        """True the first time (kind, step) is claimed, ever; False for every later try."""
        return (
            self.conn.execute(
                self._insert(JobRunRow)
                .values(kind=kind, step=step, ran_at=now)
                .on_conflict_do_nothing(index_elements=["kind", "step"])
                .returning(JobRunRow.kind)
            ).first()
            is not None
        )

    def resolutions_between(self, start: datetime, end: datetime) -> list[ResolvedTicket]:
        rows = self.conn.execute(
            select(
                ResolutionRow.id,
                ResolutionRow.ticket_id,
                TicketRow.number,
                ResolutionRow.department_code,
                TicketRow.text,
                ResolutionRow.answer,
            )
            .join(TicketRow, TicketRow.id == ResolutionRow.ticket_id)
            .where(ResolutionRow.resolved_at >= start, ResolutionRow.resolved_at < end)
            .order_by(ResolutionRow.id)
        )
        return [ResolvedTicket(*row) for row in rows]

    def answer_check_events(
        self, start: datetime, end: datetime, actions: Collection[str]
    ) -> list[TicketEvent]:
        """Events ``actions`` (the answer pre-check's) of the tickets resolved in [start, end),
        up to ``end``: found through the ticket index, not by scanning the whole log."""
        resolved = select(ResolutionRow.ticket_id).where(
            ResolutionRow.resolved_at >= start, ResolutionRow.resolved_at < end
        )
        rows = self.conn.execute(
            select(*_EVENT_COLUMNS)
            .where(
                TicketEventRow.ticket_id.in_(resolved),
                TicketEventRow.action.in_(list(actions)),
                TicketEventRow.at < end,
            )
            .order_by(TicketEventRow.id)
        )
        return [TicketEvent(**row._mapping) for row in rows]

    def add_quality_check(
        self, resolved: ResolvedTicket, *, sampled_for: date, now: datetime
    ) -> int | None:
        return self.conn.execute(
            self._insert(QualityCheckRow)
            .values(
                resolution_id=resolved.resolution_id,
                ticket_id=resolved.ticket_id,
                department_code=resolved.department_code,
                sampled_for=sampled_for,
                sampled_at=now,
            )
            .on_conflict_do_nothing(index_elements=["resolution_id"])
            .returning(QualityCheckRow.id)
        ).scalar()

    def quality_check(self, check_id: int, *, lock: bool = False) -> QualityCheck | None:
        stmt = select(
            QualityCheckRow.id,
            QualityCheckRow.resolution_id,
            QualityCheckRow.ticket_id,
            QualityCheckRow.passed,
        ).where(QualityCheckRow.id == check_id)
        if lock:
            stmt = stmt.with_for_update()
        row = self.conn.execute(stmt).first()
        return QualityCheck(*row) if row else None

    def decide_quality(
        self, check_id: int, *, passed: bool, reason: str | None, inspector: int, now: datetime
    ) -> None:
        self.conn.execute(
            update(QualityCheckRow)
            .where(QualityCheckRow.id == check_id)
            .values(passed=passed, reason=reason, inspector=inspector, inspected_at=now)
        )

    # -- statistics ----------------------------------------------------------------------------

    def statistics(
        self,
        period: Period,
        *,
        now: datetime,
        targets: TargetsLike,
        names: Mapping[str, str],
        department: str | None = None,
    ) -> StatisticsReport:
        return compute_statistics(
            self.session,
            period,
            now=now,
            targets=targets,
            department=department,
            department_names=names,
        )

    def alert_state(self, department_code: str, metric: str) -> bool | None:
        return self.conn.scalar(
            select(MetricAlertRow.below).where(
                MetricAlertRow.department_code == department_code,
                MetricAlertRow.metric == metric,
            )
        )

    def set_alert_state(
        self, department_code: str, metric: str, *, below: bool, now: datetime
    ) -> None:
        self.conn.execute(
            self._insert(MetricAlertRow)
            .values(department_code=department_code, metric=metric, below=below, changed_at=now)
            .on_conflict_do_update(
                index_elements=["department_code", "metric"],
                set_={"below": below, "changed_at": now},
            )
        )

    # -- event log and outbox ------------------------------------------------------------------

    def record(self, event: TicketEvent) -> None:
        self._events.append(_fields_of(event))

    def _write_pending(self, _session: Session) -> None:
        """Before the commit: what this transaction kept back to write in one go."""
        self._write_new_rows()
        counters, self._counters = self._counters, {}
        for day, (stored, last) in counters.items():
            if last != stored:
                self.conn.execute(self._sql.set_counter, {"counter_day": day, "counter_last": last})
        self._write_outbox()
        if self._events:
            events, self._events = self._events, []
            self._sql.record(self.conn, events)

    def queue(self, message: Outgoing, now: datetime) -> None:
        """Send ``message`` once the transaction commits.

        Rows wait here and go in one statement, at commit or before anything reads the outbox
        (most updates queue two or three). A message with a ``dedupe_key`` (it may exist
        already) is written at once, after those queued before it: ids, which set the order of
        sending in a chat, keep the order of queueing."""
        values = self._outbox_values(message, now)
        if message.dedupe_key is None:
            self._outbox.append(values)
        else:
            self._insert_outbox(self._sql.queue_once, values)

    def queue_with_id(self, message: Outgoing, now: datetime) -> int:
        """As ``queue``, and the message's outbox id, for messages that reply under it."""
        outbox_id = self._insert_outbox(self._sql.queue, self._outbox_values(message, now))
        assert outbox_id is not None  # narrowing only: a plain INSERT … RETURNING
        return outbox_id

    def _outbox_values(self, message: Outgoing, now: datetime) -> dict[str, Any]:
        return {
            "created_at": now,
            "chat_id": message.chat_id,
            "method": message.method.value,
            "payload": outgoing_payload(message),
            "ticket_id": message.ticket_id,
            "purpose": message.purpose,
            "dedupe_key": message.dedupe_key,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            # Queued by a bot process, which delivers it right after the commit; queued by a
            # tool (instance None, e.g. `hotline tick`), left for the running bot to claim.
            "claimed_by": self.instance,
            "claimed_until": now + DELIVERY_LEASE if self.instance else None,
        }

    def _insert_outbox(self, stmt: Any, values: dict[str, Any]) -> int | None:
        self._write_outbox()
        outbox_id: int | None = self.conn.execute(stmt, values).scalar()
        if outbox_id is not None:
            self._to_deliver(outbox_id, values)
        return outbox_id

    def _write_outbox(self) -> None:
        if self._outbox:
            rows, self._outbox = self._outbox, []
            ids = sorted(self._sql.queue_many(self.conn, rows).scalars())
            for outbox_id, values in zip(ids, rows, strict=True):
                self._to_deliver(outbox_id, values)

    def _to_deliver(self, outbox_id: int, values: dict[str, Any]) -> None:
        """A bot process hands what it queued to its own delivery after the commit."""
        if self.instance:
            self.queued.append(
                QueuedMessage(
                    id=outbox_id,
                    chat_id=values["chat_id"],
                    method=values["method"],
                    payload=values["payload"],
                    ticket_id=values["ticket_id"],
                    attempts=0,
                )
            )

    def _sent(self, *where: Any) -> list[SentMessage]:
        self._write_outbox()
        rows = self.conn.execute(
            select(
                OutboxRow.id,
                OutboxRow.chat_id,
                OutboxRow.ticket_id,
                OutboxRow.purpose,
                OutboxRow.payload,
            )
            .where(*where)
            .order_by(OutboxRow.id)
        )
        return [
            SentMessage(row.id, row.chat_id, row.ticket_id, row.purpose, row.payload.get("tag"))
            for row in rows
        ]

    def sent_message(self, chat_id: int, message_id: int) -> SentMessage | None:
        """The message the bot sent as ``message_id`` (edits of it do not change what it is)."""
        found = self._sent(
            OutboxRow.chat_id == chat_id,
            OutboxRow.telegram_message_id == message_id,
            OutboxRow.method != Method.EDIT_TEXT.value,
        )
        return found[0] if found else None

    def ticket_cards(self, ticket_id: int) -> list[SentMessage]:
        """The ticket's cards sent or to be sent; not those shown only as a line of a list
        (sent, and no message of their own)."""
        return self._sent(
            and_(OutboxRow.ticket_id == ticket_id, OutboxRow.purpose == "card"),
            OutboxRow.method != Method.EDIT_TEXT.value,
            OutboxRow.status != "failed",
            or_(OutboxRow.status != "sent", OutboxRow.telegram_message_id.is_not(None)),
        )

    def supersede_card(self, outbox_id: int) -> None:
        self._write_outbox()
        self.conn.execute(
            update(OutboxRow).where(OutboxRow.id == outbox_id).values(purpose=SUPERSEDED_CARD)
        )


def routing_history(session: Session, limit: int = 50_000) -> list[tuple[str, str]]:
    """The latest routing examples, oldest first, for the router's memory at start-up."""
    rows = session.execute(
        select(RoutingExampleRow.text, RoutingExampleRow.department_code)
        .order_by(RoutingExampleRow.id.desc())
        .limit(limit)
    ).all()
    return [(text, code) for text, code in reversed(rows)]
