"""The in-memory store (tests/fake_store.py) behaves like SqlStore where the core's unit tests
rely on it: the same checks, run against the fake and against SqlStore on SQLite and
PostgreSQL, each check in one unit of work as a handler runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from handlers.config import HotlineConfig
from handlers.events import Person
from handlers.model import (
    ItemKind,
    Language,
    NewItem,
    NewTicket,
    Rating,
    RequestType,
    Role,
    TicketChange,
    TicketStatus,
)
from handlers.outgoing import Outgoing
from handlers.ports import Store
from storage.database import Database
from storage.departments import sync_departments
from storage.repository import SqlStore
from tests.conftest import BACKENDS, empty_database_url
from tests.fake_store import FakeStore

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
DAY = NOW.date()
CITIZEN = Person(4242, "新市民", language_code="zh-hans")

UnitOfWork = Callable[[Callable[[Store], None]], None]


@pytest.fixture(params=["fake", *BACKENDS])
def run(
    request: pytest.FixtureRequest, tmp_path: Path, hotline_config: HotlineConfig
) -> Iterator[UnitOfWork]:
    """Runs a check in one unit of work of the fake, or of SqlStore on a fresh database."""
    codes = hotline_config.departments.codes
    if request.param == "fake":
        fake = FakeStore(departments=dict.fromkeys(codes))
        yield lambda check: check(fake)
        return
    database = Database(empty_database_url(request, request.param, tmp_path))
    with database.transaction() as session:
        sync_departments(session, hotline_config.departments)

    def in_a_transaction(check: Callable[[Store], None]) -> None:
        with database.transaction() as session:
            check(SqlStore(session))

    yield in_a_transaction
    database.dispose()


def _department(store: Store) -> str:
    return sorted(store.active_departments())[0]


def _new_ticket(store: Store, text: str = "路灯坏了", *, hours: int = 0) -> NewTicket:
    citizen = store.citizen_for(CITIZEN, CITIZEN.user_id, NOW)
    received = NOW + timedelta(hours=hours)
    return NewTicket(
        number=store.next_ticket_number(DAY),
        citizen_id=citizen.id,
        request_type=RequestType.HELP,
        text=text,
        status=TicketStatus.RECEIVED,
        received_at=received,
        deadline_at=received + timedelta(days=5),
        deadline_estimated=False,
    )


def test_citizens_are_made_once_and_read_back_with_their_changes(run: UnitOfWork) -> None:
    def check(store: Store) -> None:
        first = store.citizen_for(CITIZEN, CITIZEN.user_id, NOW)
        assert (first.telegram_user_id, first.language, first.phone) == (4242, Language.ZH, None)
        assert store.citizen_for(CITIZEN, CITIZEN.user_id, NOW) == first
        store.set_citizen_phone(first.id, "13800138000")
        store.set_citizen_language(first.id, Language.EN)
        again = store.citizen(first.id)
        assert again is not None
        assert (again.phone, again.language) == ("13800138000", Language.EN)

    run(check)


def test_tickets_are_numbered_stored_listed_and_changed(run: UnitOfWork) -> None:
    def check(store: Store) -> None:
        first = store.add_ticket(_new_ticket(store))
        second = store.add_ticket(_new_ticket(store, "井盖丢了", hours=1))
        assert (first.number, second.number) == (f"{DAY:%Y%m%d}-0001", f"{DAY:%Y%m%d}-0002")
        assert store.ticket(first.id) == first
        assert store.ticket_by_number(second.number) == second
        assert store.open_tickets_of(first.citizen_id) == [second, first]  # newest first
        assert store.open_tickets_of(first.citizen_id, since=second.received_at) == [second]
        assert store.latest_open_ticket(first.citizen_id) == second
        assert store.dispatch_queue(10) == [first, second]  # by deadline
        department = _department(store)
        change = TicketChange(status=TicketStatus.DISPATCHED, department_code=department)
        moved = store.update_ticket(first.id, NOW, change)
        assert moved == change.applied_to(first)
        assert store.ticket(first.id) == moved
        assert store.dispatch_queue(10) == [second]
        assert store.department_queue(department, 10) == [moved]
        closed = store.update_ticket(second.id, NOW, TicketChange(status=TicketStatus.CLOSED))
        assert store.open_tickets_of(first.citizen_id) == [moved]
        assert store.citizen_tickets(first.citizen_id, 10) == [closed, moved]
        with pytest.raises(LookupError):
            store.update_ticket(10_000, NOW, TicketChange(urgent=True))

    run(check)


def test_an_assignment_is_signed_contacted_once_and_returned(run: UnitOfWork) -> None:
    def check(store: Store) -> None:
        ticket = store.add_ticket(_new_ticket(store))
        department = _department(store)
        staff = store.add_staff(
            901,
            role=Role.STAFF,
            department_code=department,
            name="张工",
            language=Language.ZH,
            now=NOW,
        )
        assert store.staff_member(901) == staff
        assert store.department_staff(department) == [staff]
        assert store.current_assignment(ticket.id) is None
        assert store.record_contact(ticket.id, staff.id, NOW) is None
        made = store.add_assignment(
            ticket.id,
            department,
            now=NOW,
            sign_due_at=NOW + timedelta(days=1),
            by=None,
            automatic=True,
            confidence=0.9,
        )
        assert store.current_assignment(ticket.id) == made
        store.sign_assignment(made.id, staff.id, NOW + timedelta(hours=1))
        current = store.current_assignment(ticket.id)
        assert current is not None
        assert current.signed_at == NOW + timedelta(hours=1)
        assert store.record_contact(
            ticket.id, staff.id, NOW + timedelta(hours=2)
        ) == NOW + timedelta(hours=2)
        # The first contact is kept.
        assert store.record_contact(
            ticket.id, staff.id, NOW + timedelta(hours=3)
        ) == NOW + timedelta(hours=2)
        store.return_assignment(made.id, staff.id, "不归我们管", NOW + timedelta(hours=4))
        current = store.current_assignment(ticket.id)
        assert current is not None
        assert current.returned_at == NOW + timedelta(hours=4)

    run(check)


def test_extensions_resolutions_and_surveys(run: UnitOfWork) -> None:
    def check(store: Store) -> None:
        department = _department(store)
        ticket = store.add_ticket(_new_ticket(store))
        ticket = store.update_ticket(ticket.id, NOW, TicketChange(department_code=department))
        staff = store.add_staff(
            901,
            role=Role.STAFF,
            department_code=department,
            name=None,
            language=Language.ZH,
            now=NOW,
        )
        extension = store.add_extension(ticket, staff, 3, "采购", NOW)
        assert store.pending_extension(ticket.id) == extension
        assert store.extension(extension.id) == extension
        store.decide_extension(
            extension.id, approved=True, by=staff.id, now=NOW, new_deadline_at=NOW + timedelta(9)
        )
        assert store.pending_extension(ticket.id) is None
        assert store.approved_extension_days(ticket.id) == 3
        resolution = store.add_resolution(
            ticket, staff_id=staff.id, answer="已修好", now=NOW, on_time=True, working_days=1
        )
        assert store.resolution_answer(resolution) == "已修好"
        due = NOW + timedelta(days=3)
        survey = store.add_survey(ticket, resolution, now=NOW, due_at=due)
        assert (survey.ticket_id, survey.rating, survey.solved) == (ticket.id, None, None)
        assert store.latest_survey(ticket.id) == survey
        assert store.due_surveys(due, 10) == []
        assert store.due_surveys(due + timedelta(seconds=1), 10) == [survey]
        store.answer_solved(survey.id, False)
        store.rate_survey(survey.id, Rating.UNSATISFIED, NOW)
        rated = store.survey(survey.id)
        assert rated is not None
        assert (rated.rating, rated.rated_at, rated.solved) == (Rating.UNSATISFIED, NOW, False)
        assert store.due_surveys(due + timedelta(seconds=1), 10) == []

    run(check)


def test_items_before_a_request_are_adopted_and_contacts_are_no_attachments(
    run: UnitOfWork,
) -> None:
    def check(store: Store) -> None:
        citizen = store.citizen_for(CITIZEN, CITIZEN.user_id, NOW)
        photo = NewItem(
            kind=ItemKind.PHOTO,
            author=Role.CITIZEN,
            created_at=NOW,
            citizen_id=citizen.id,
            file_id="photo-1",
            file_unique_id="p1",
        )
        store.add_item(photo)
        ticket = store.add_ticket(_new_ticket(store))
        assert store.attachments(ticket.id) == []
        assert store.adopt_pending_items(citizen.id, ticket.id) == 1
        assert store.adopt_pending_items(citizen.id, ticket.id) == 0
        contact = NewItem(
            kind=ItemKind.CONTACT,
            author=Role.CITIZEN,
            created_at=NOW,
            ticket_id=ticket.id,
            citizen_id=citizen.id,
        )
        store.add_item(contact)
        store.add_item(
            NewItem(ItemKind.TEXT, Role.CITIZEN, NOW, ticket.id, citizen.id, text="再补充")
        )
        assert [(i.kind, i.file_id, i.ticket_id) for i in store.attachments(ticket.id)] == [
            (ItemKind.PHOTO, "photo-1", ticket.id)
        ]

    run(check)


def test_held_messages_wait_for_the_citizens_choice(run: UnitOfWork) -> None:
    def check(store: Store) -> None:
        ticket = store.add_ticket(_new_ticket(store))
        text = NewItem(
            ItemKind.TEXT, Role.CITIZEN, NOW, citizen_id=ticket.citizen_id, text="另一件事"
        )
        held = store.hold_message(ticket.citizen_id, ticket.id, "second", text, 77)
        assert (held.text, held.message_id, held.decided_at) == ("另一件事", 77, None)
        assert store.held_message(held.id) == held
        assert store.undecided_held(NOW, 10) == []
        assert store.undecided_held(NOW + timedelta(seconds=1), 10) == [held]
        store.decide_held(held.id, NOW)
        assert store.undecided_held(NOW + timedelta(seconds=1), 10) == []

    run(check)


def test_the_outbox_lists_a_tickets_cards_until_superseded(run: UnitOfWork) -> None:
    def check(store: Store) -> None:
        ticket = store.add_ticket(_new_ticket(store))
        store.queue(Outgoing(chat_id=-5, text="回复", ticket_id=ticket.id), NOW)
        card_id = store.queue_with_id(
            Outgoing(chat_id=-5, text="工单", ticket_id=ticket.id, purpose="card", tag="x"), NOW
        )
        store.queue(Outgoing(chat_id=-6, text="工单", ticket_id=ticket.id, purpose="card"), NOW)
        cards = store.ticket_cards(ticket.id)
        assert [(c.chat_id, c.purpose, c.tag) for c in cards] == [
            (-5, "card", "x"),
            (-6, "card", None),
        ]
        assert cards[0].outbox_id == card_id
        store.supersede_card(card_id)
        assert [c.chat_id for c in store.ticket_cards(ticket.id)] == [-6]

    run(check)


def test_reminders_are_due_once_per_dispatch(run: UnitOfWork) -> None:
    def check(store: Store) -> None:
        department = _department(store)
        ticket = store.add_ticket(_new_ticket(store))
        ticket = store.update_ticket(
            ticket.id,
            NOW,
            TicketChange(status=TicketStatus.DISPATCHED, department_code=department),
        )
        due = NOW + timedelta(hours=4)
        made = store.add_assignment(
            ticket.id,
            department,
            now=NOW,
            sign_due_at=due,
            by=None,
            automatic=True,
            confidence=None,
            contact_due_at=due,
        )
        assert store.sign_overdue_tickets(due, 10, urgent_only=False) == []
        late = due + timedelta(seconds=1)
        assert store.sign_overdue_tickets(late, 10, urgent_only=False) == [(ticket, str(made.id))]
        assert store.sign_overdue_tickets(late, 10, urgent_only=True) == []
        assert store.contact_overdue_tickets(late, 10, urgent_only=False) == [
            (ticket, str(made.id))
        ]
        key = (ticket.id, "sign_overdue", str(made.id))
        assert store.add_reminders([key], late) == {ticket.id}
        assert store.add_reminders([key], late) == set()
        assert store.sign_overdue_tickets(late, 10, urgent_only=False) == []
        past = ticket.deadline_at + timedelta(seconds=1)
        assert store.overdue_tickets(past, 10) == [ticket]
        assert store.overdue_unreminded(past, "overdue", "d1", 10, urgent_only=False) == [
            (ticket, "d1")
        ]

    run(check)


def test_updates_and_jobs_are_claimed_once(run: UnitOfWork) -> None:
    def check(store: Store) -> None:
        assert store.claim_update(1, NOW)
        assert not store.claim_update(1, NOW)
        assert store.claim_job("digest", "2026-11-27", NOW)
        assert not store.claim_job("digest", "2026-11-27", NOW)

    run(check)
