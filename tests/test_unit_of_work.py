"""What one transaction of the bot's worker remembers between the updates it runs: ticket
numbers counted after one increment, citizens met, and which citizens have nothing yet. Each
must give the same answers as asking the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.app import build_hotline
from handlers import inbox
from handlers.config import HotlineConfig
from handlers.events import ChatKind, Content, IncomingMessage, Person
from handlers.model import ItemKind, NewTicket, RequestType, TicketStatus
from handlers.outgoing import Outgoing
from scheduler.deadlines import local_date
from storage.database import Database
from storage.departments import sync_departments
from storage.models import AssignmentRow, CitizenRow, HeldMessageRow, OutboxRow, TicketRow
from storage.repository import SqlStore
from storage.worker import DatabaseWorker
from tests.world import world_config

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
DAY = local_date(NOW)
NEWCOMER = Person(4242, "新市民", language_code="zh-hans")


def _message(
    update_id: int, text: str = "", content: Content = Content.TEXT, **kw: object
) -> IncomingMessage:
    return IncomingMessage(
        update_id=update_id,
        sender=NEWCOMER,
        chat_id=NEWCOMER.user_id,
        chat_kind=ChatKind.PRIVATE,
        message_id=update_id,
        content=content,
        text=text,
        **kw,  # type: ignore[arg-type]
    )


def test_numbers_counted_in_one_transaction_go_on_in_the_next(database: Database) -> None:
    with database.transaction() as session:
        store = SqlStore(session)
        numbers = [store.next_ticket_number(DAY) for _ in range(3)]
    assert numbers == [f"{DAY:%Y%m%d}-000{n}" for n in (1, 2, 3)]
    with database.transaction() as session:
        assert SqlStore(session).next_ticket_number(DAY) == f"{DAY:%Y%m%d}-0004"


def test_numbers_of_a_rolled_back_transaction_are_handed_out_again(database: Database) -> None:
    def fail_after_two_numbers() -> None:
        with database.transaction() as session:
            store = SqlStore(session)
            store.next_ticket_number(DAY)
            store.next_ticket_number(DAY)
            raise RuntimeError("the batch failed")

    with pytest.raises(RuntimeError):
        fail_after_two_numbers()
    with database.transaction() as session:
        assert SqlStore(session).next_ticket_number(DAY) == f"{DAY:%Y%m%d}-0001"


def test_a_new_citizens_second_message_in_the_same_batch_is_asked_about(
    database: Database, hotline_config: HotlineConfig
) -> None:
    """The first message makes the citizen and a ticket; the second, in the same transaction,
    must see that ticket (add to it, or a new request?) as if it had been read back."""
    hotline = build_hotline(hotline_config, secret="123:abc")
    with database.transaction() as session:
        store = SqlStore(session)
        inbox.handle_message(store, hotline, _message(1, "小区门口路灯坏了三天"), NOW)
        inbox.handle_message(store, hotline, _message(2, "楼道里的垃圾没人清理"), NOW)
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(TicketRow)) == 1
        held = session.scalars(select(HeldMessageRow.text)).all()
    assert held == ["楼道里的垃圾没人清理"]


def test_a_new_citizens_photo_then_text_in_the_same_batch_is_one_ticket(
    database: Database, hotline_config: HotlineConfig
) -> None:
    """A photo before any text waits for the request; in the same transaction the request
    must still find it."""
    hotline = build_hotline(hotline_config, secret="123:abc")
    photo = _message(1, content=Content.PHOTO, file_id="photo-1", file_unique_id="p1")
    with database.transaction() as session:
        store = SqlStore(session)
        inbox.handle_message(store, hotline, photo, NOW)
        inbox.handle_message(store, hotline, _message(2, "井盖丢了，很危险"), NOW)
        (ticket_id,) = session.scalars(select(TicketRow.id)).all()
        # The department's card, made in this transaction, counts the photo.
        assert [item.kind for item in store.attachments(ticket_id)] == [ItemKind.PHOTO]
    with database.read() as session:
        store = SqlStore(session)
        assert [item.kind for item in store.attachments(ticket_id)] == [ItemKind.PHOTO]


def test_a_batchs_senders_are_looked_up_together(database: Database) -> None:
    known = Person(1001, "老市民")
    with database.transaction() as session:
        first = SqlStore(session).citizen_for(known, known.user_id, NOW)
    with database.transaction() as session:
        store = SqlStore(session)
        store.look_up_citizens({known.user_id, NEWCOMER.user_id})
        assert store.citizen_for(known, known.user_id, NOW) == first
        newcomer = store.citizen_for(NEWCOMER, NEWCOMER.user_id, NOW)
    with database.read() as session:
        assert SqlStore(session).citizen(newcomer.id) == newcomer


def test_a_citizen_read_again_shows_changes_made_in_the_transaction(database: Database) -> None:
    with database.transaction() as session:
        store = SqlStore(session)
        citizen = store.citizen_for(NEWCOMER, NEWCOMER.user_id, NOW)
        store.set_citizen_phone(citizen.id, "13800138000")
        again = store.citizen(citizen.id)
        assert again is not None
        assert again.phone == "13800138000"
        assert store.citizen_for(NEWCOMER, NEWCOMER.user_id, NOW).phone == "13800138000"
    with database.read() as session:
        stored = SqlStore(session).citizen(citizen.id)
        assert stored is not None
        assert stored.phone == "13800138000"


def test_queued_messages_are_written_together_in_the_order_queued(database: Database) -> None:
    """Sending follows outbox ids within a chat: rows kept back for one statement and rows
    written at once (a dedupe key, or an id asked for) must still number in queueing order."""
    chat = 777
    with database.transaction() as session:
        store = SqlStore(session, instance="bot-1")
        store.queue(Outgoing(chat_id=chat, text="1"), NOW)
        store.queue(Outgoing(chat_id=chat, text="2"), NOW)
        store.queue(Outgoing(chat_id=chat, text="3", dedupe_key="once"), NOW)
        store.queue(Outgoing(chat_id=chat, text="4"), NOW)
        card = store.queue_with_id(Outgoing(chat_id=chat, text="5"), NOW)
        store.queue(Outgoing(chat_id=chat, text="6", reply_to_outbox_id=card), NOW)
        store.queue(Outgoing(chat_id=chat, text="7", dedupe_key="once"), NOW)  # a repeat
        store.queue(Outgoing(chat_id=chat, text="8"), NOW)
    with database.read() as session:
        rows = session.execute(select(OutboxRow.id, OutboxRow.payload).order_by(OutboxRow.id))
        assert [payload["text"] for _, payload in rows] == ["1", "2", "3", "4", "5", "6", "8"]
    # What the bot delivers after the commit: the same rows, ids and order.
    assert [m.payload["text"] for m in store.queued] == ["1", "2", "3", "4", "5", "6", "8"]
    assert [m.id for m in store.queued] == sorted(m.id for m in store.queued)


def test_a_card_queued_earlier_in_the_transaction_is_found(database: Database) -> None:
    """Rows kept back are written before anything reads the outbox (an edit of the ticket's
    cards in the same batch must find the card)."""
    with database.transaction() as session:
        store = SqlStore(session)
        citizen = store.citizen_for(NEWCOMER, NEWCOMER.user_id, NOW)
        ticket = store.add_ticket(
            NewTicket(
                number=store.next_ticket_number(DAY),
                citizen_id=citizen.id,
                request_type=RequestType.HELP,
                text="路灯坏了",
                status=TicketStatus.RECEIVED,
                received_at=NOW,
                deadline_at=NOW,
                deadline_estimated=False,
            )
        )
        store.queue(Outgoing(chat_id=-100, text="card", ticket_id=ticket.id, purpose="card"), NOW)
        assert [card.chat_id for card in store.ticket_cards(ticket.id)] == [-100]


async def test_two_bots_number_tickets_together_without_a_gap_or_a_twin(
    database: Database,
) -> None:
    """Each batch counts its numbers in memory after locking the day's counter: two bot
    processes on one database (their workers here) must still hand out 1…N once each."""
    first = DatabaseWorker(database, instance="bot-1")
    second = DatabaseWorker(database, instance="bot-2")
    first.start()
    second.start()
    try:
        futures = [
            worker.submit(lambda store: store.next_ticket_number(DAY))
            for _ in range(40)
            for worker in (first, second)
        ]
        numbers = await asyncio.gather(*futures)
    finally:
        await first.stop()
        await second.stop()
    assert sorted(numbers) == [f"{DAY:%Y%m%d}-{n:04d}" for n in range(1, 81)]
    assert first.batches < 40  # the batches did count several numbers each


def _citizen_message(user_id: int, text: str) -> IncomingMessage:
    person = Person(user_id, f"市民{user_id}", language_code="zh-hans")
    return IncomingMessage(
        update_id=user_id,
        sender=person,
        chat_id=user_id,
        chat_kind=ChatKind.PRIVATE,
        message_id=1,
        content=Content.TEXT,
        text=text,
    )


def test_a_batchs_new_citizens_tickets_and_assignments_are_written_together(
    database: Database,
) -> None:
    """Rows created in the transaction wait and are written together: a ticket dispatched in
    the same transaction is written once, as dispatched, with its assignment after it; the
    ids handed out before the write are the ones stored, and the next transaction goes on
    from them."""
    config = world_config(threshold=0.0)  # confident enough to dispatch each one at once
    with database.transaction() as session:
        sync_departments(session, config.departments)
    hotline = build_hotline(config, secret="123:abc")
    texts = ["北门路灯坏了", "桥边道路坑洼", "村口自来水停了", "南街路灯不亮", "东桥桥梁裂缝"]
    with database.transaction() as session:
        store = SqlStore(session)
        store.claim_updates([(5000 + i, NOW) for i in range(len(texts))])
        store.look_up_citizens({5000 + i for i in range(len(texts))})
        for i, text in enumerate(texts):
            inbox.handle_message(store, hotline, _citizen_message(5000 + i, text), NOW)
        handed_out = [store.citizen_for(Person(5000 + i, ""), 5000 + i, NOW).id for i in range(5)]
    with database.read() as session:
        tickets = session.execute(
            select(
                TicketRow.id, TicketRow.citizen_id, TicketRow.status, TicketRow.department_code
            ).order_by(TicketRow.id)
        ).all()
        assignments = session.execute(select(AssignmentRow.ticket_id)).scalars().all()
    assert [t.citizen_id for t in tickets] == handed_out
    assert {(t.status, t.department_code) for t in tickets} == {(TicketStatus.DISPATCHED, "roads")}
    assert sorted(assignments) == [t.id for t in tickets]
    with database.transaction() as session:
        store = SqlStore(session)
        inbox.handle_message(store, hotline, _citizen_message(6000, "西街路灯坏了"), NOW)
    with database.read() as session:
        ids = session.scalars(select(TicketRow.id).order_by(TicketRow.id)).all()
    assert len(ids) == len(texts) + 1
    assert ids[-1] > ids[-2]


# SQLite's writer lock lets no second transaction write meanwhile: PostgreSQL only.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_citizen_another_instance_created_meanwhile_fails_the_write_not_the_data(
    database: Database,
) -> None:
    """A new citizen is written at commit: if another instance wrote the same Telegram user
    meanwhile, this transaction fails (the worker runs its updates again, one by one, and
    then finds them) instead of making the citizen twice."""

    def create_while_another_instance_does() -> None:
        with database.transaction() as session:
            SqlStore(session).citizen_for(NEWCOMER, NEWCOMER.user_id, NOW)
            with database.transaction() as other:
                SqlStore(other).citizen_for(NEWCOMER, NEWCOMER.user_id, NOW)

    with pytest.raises(IntegrityError):
        create_while_another_instance_does()
    with database.transaction() as session:
        store = SqlStore(session)
        again = store.citizen_for(NEWCOMER, NEWCOMER.user_id, NOW)
        assert session.scalar(select(func.count()).select_from(CitizenRow)) == 1
        assert store.citizen(again.id) == again
