"""Retention and anonymisation (storage.retention, hotline privacy), on SQLite and PostgreSQL:
what is deleted, what becomes placeholders, and statistics that do not change."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from bot.fake_bot_api import FakeTelegramServer
from handlers.config import HotlineConfig, RetentionConfig
from handlers.model import ItemKind, Language, Role, TicketStatus
from scheduler.clock import FixedClock
from storage.database import Database
from storage.models import (
    CitizenRow,
    OutboxRow,
    ProcessedUpdateRow,
    ReminderRow,
    TicketItemRow,
    TicketRow,
)
from storage.retention import ANONYMISED, apply_retention
from tests.harness import running_bot
from tests.test_cli import hotline
from tests.test_statistics import NOW, PHONE, at, build_november, statistics

YEARS_LATER = NOW + timedelta(days=4 * 366)


def add_citizen_items(database: Database) -> None:
    """What the November citizen sent besides each ticket's text: a photo and their phone."""
    with database.transaction() as session:
        for ticket in session.scalars(select(TicketRow)):
            session.add_all(
                [
                    TicketItemRow(
                        ticket_id=ticket.id,
                        citizen_id=ticket.citizen_id,
                        author=Role.CITIZEN,
                        kind=ItemKind.PHOTO,
                        text="门口的照片",
                        file_id=f"photo-{ticket.id}",
                        file_unique_id=f"u-{ticket.id}",
                        created_at=ticket.received_at,
                    ),
                    TicketItemRow(
                        ticket_id=ticket.id,
                        citizen_id=ticket.citizen_id,
                        author=Role.CITIZEN,
                        kind=ItemKind.CONTACT,
                        text=PHONE,
                        created_at=ticket.received_at,
                    ),
                ]
            )


def test_anonymising_old_closed_tickets_keeps_every_statistic(database: Database) -> None:
    with database.transaction() as session:
        build_november(session)
    add_citizen_items(database)
    before = statistics(database)
    with database.transaction() as session:
        report = apply_retention(session, RetentionConfig(), YEARS_LATER)
    assert statistics(database) == before
    with database.read() as session:
        tickets = list(session.scalars(select(TicketRow)))
        finished = {
            t.id for t in tickets if t.status in (TicketStatus.CLOSED, TicketStatus.WITHDRAWN)
        }
        assert report.tickets_anonymised == len(finished) > 0
        for ticket in tickets:
            items = list(
                session.scalars(select(TicketItemRow).where(TicketItemRow.ticket_id == ticket.id))
            )
            if ticket.id in finished:
                assert ticket.text == ANONYMISED
                assert {i.text for i in items} == {ANONYMISED}
                assert {i.file_id for i in items} == {None}
            else:  # still the hotline's work: nothing taken away
                assert ticket.text == "路灯不亮"
                assert PHONE in {i.text for i in items}
        # The citizen still has open tickets: their name and phone stay for those.
        citizen = session.scalar(select(CitizenRow))
        assert citizen is not None
        assert citizen.phone == PHONE
    # A second pass finds nothing more to do.
    with database.transaction() as session:
        assert apply_retention(session, RetentionConfig(), YEARS_LATER).tickets_anonymised == 0


def test_a_citizen_whose_tickets_are_all_old_is_forgotten(database: Database) -> None:
    with database.transaction() as session:
        citizen = CitizenRow(
            telegram_user_id=5001,
            chat_id=5001,
            language=Language.ZH,
            name="钱阿姨",
            phone=PHONE,
            created_at=at(1, 1),
        )
        session.add(citizen)
        session.flush()
        session.add(
            TicketRow(
                number="OLD-1",
                citizen_id=citizen.id,
                request_type="help",
                text="楼道灯坏了",
                status=TicketStatus.CLOSED,
                received_at=at(2, 1),
                deadline_at=at(2, 10),
                closed_at=at(2, 5),
                updated_at=at(2, 5),
            )
        )
    within = at(2, 5) + timedelta(days=2 * 365)
    with database.transaction() as session:
        report = apply_retention(session, RetentionConfig(), within)
        assert (report.tickets_anonymised, report.citizens_anonymised) == (0, 0)
    with database.transaction() as session:
        report = apply_retention(session, RetentionConfig(), at(2, 5) + timedelta(days=4 * 365))
        assert (report.tickets_anonymised, report.citizens_anonymised) == (1, 1)
    with database.read() as session:
        forgotten = session.scalar(select(CitizenRow).where(CitizenRow.telegram_user_id == 5001))
        assert forgotten is not None
        assert (forgotten.name, forgotten.phone) == (None, None)


def test_old_update_ids_sent_messages_and_closed_tickets_reminder_keys_are_deleted(
    database: Database,
) -> None:
    with database.transaction() as session:
        build_november(session)
        closed = session.scalar(select(TicketRow.id).where(TicketRow.status == TicketStatus.CLOSED))
        open_ = session.scalar(
            select(TicketRow.id).where(TicketRow.status == TicketStatus.IN_PROGRESS)
        )
        session.add_all(
            [
                ProcessedUpdateRow(update_id=1, processed_at=NOW - timedelta(days=8)),
                ProcessedUpdateRow(update_id=2, processed_at=NOW - timedelta(days=6)),
                ReminderRow(ticket_id=closed, kind="overdue", step="1", queued_at=at(11, 1)),
                ReminderRow(ticket_id=open_, kind="overdue", step="1", queued_at=at(11, 1)),
            ]
        )
        for age, status in ((91, "sent"), (89, "sent"), (200, "failed"), (200, "pending")):
            session.add(
                OutboxRow(
                    created_at=NOW - timedelta(days=age),
                    chat_id=1,
                    method="sendMessage",
                    payload={"text": "x"},
                    purpose="reply",
                    status=status,
                    next_attempt_at=NOW,
                    sent_at=NOW - timedelta(days=age) if status == "sent" else None,
                )
            )
    with database.transaction() as session:
        report = apply_retention(session, RetentionConfig(), NOW)
    assert (report.updates_deleted, report.outbox_deleted, report.reminders_deleted) == (1, 1, 1)
    with database.read() as session:
        assert list(session.scalars(select(ProcessedUpdateRow.update_id))) == [2]
        left = session.execute(select(OutboxRow.status, OutboxRow.created_at)).all()
        assert sorted(status for status, _ in left) == ["failed", "pending", "sent"]
        assert list(session.scalars(select(ReminderRow.ticket_id))) == [open_]


async def test_the_sweep_applies_retention_once_a_day(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    async with running_bot(fake_telegram, database_url, hotline_config, clock) as bot:
        now = clock.now()

        def old_update(update_id: int) -> None:
            with bot.database.transaction() as session:
                session.add(
                    ProcessedUpdateRow(update_id=update_id, processed_at=now - timedelta(days=30))
                )

        def kept() -> list[int]:
            with bot.database.read() as session:
                return list(session.scalars(select(ProcessedUpdateRow.update_id)))

        old_update(900_001)
        await bot.sweep()
        assert 900_001 not in kept()
        old_update(900_002)
        await bot.sweep()  # the same day: retention has run already
        assert 900_002 in kept()
        clock.advance(timedelta(days=1))
        await bot.sweep()
        assert 900_002 not in kept()


def test_privacy_show_and_anonymise_on_request(database: Database, database_url: str) -> None:
    with database.transaction() as session:
        build_november(session)
    add_citizen_items(database)
    before = statistics(database)
    with database.read() as session:
        citizen = session.scalar(select(CitizenRow))
        assert citizen is not None
        telegram_id = citizen.telegram_user_id
    env = {"HOTLINE_DATABASE_URL": database_url}
    shown = hotline("privacy", "show", "--telegram-id", str(telegram_id), env=env)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["phone"] == PHONE
    assert {t["text"] for t in data["tickets"]} == {"路灯不亮"}
    assert PHONE in {i["text"] for t in data["tickets"] for i in t["items"]}

    done = hotline("privacy", "anonymise", "--telegram-id", str(telegram_id), env=env)
    assert done.returncode == 0, done.stderr
    assert f"Telegram id {telegram_id} anonymised on request" in done.stderr  # the log line
    assert PHONE not in done.stderr + done.stdout
    after = json.loads(
        hotline("privacy", "show", "--telegram-id", str(telegram_id), env=env).stdout
    )
    assert (after["name"], after["phone"]) == (None, None)
    assert {t["text"] for t in after["tickets"]} == {ANONYMISED}
    assert PHONE not in json.dumps(after)
    assert statistics(database) == before

    unknown = hotline("privacy", "show", "--telegram-id", "42", env=env)
    assert unknown.returncode == 2
    assert "no citizen with Telegram id 42" in unknown.stderr
