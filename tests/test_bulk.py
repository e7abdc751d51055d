"""Many rows in one statement (storage.bulk): the same rows on SQLite and PostgreSQL, whatever
the values' types, in the order given, one statement however many rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from handlers.model import Language, Role, TicketStatus
from storage.bulk import InsertMany, UpdateMany
from storage.database import Database
from storage.models import CitizenRow, OutboxRow, ProcessedUpdateRow, TicketEventRow

NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def _outbox_row(n: int) -> dict[str, object]:
    return {
        "created_at": NOW,
        "chat_id": -100_000_000_000 - n,  # a BIGINT
        "method": "sendMessage",
        "payload": {"text": f"第{n}条 & 'quoted' \"text\"", "buttons": [[{"text": "✓"}]]},
        "ticket_id": None,
        "purpose": "card",
        "dedupe_key": None if n % 2 else f"key-{n}",
        "status": "pending",
        "attempts": n,
        "next_attempt_at": NOW + timedelta(seconds=n),
        "claimed_by": None,
        "claimed_until": None,
    }


def test_rows_of_every_type_are_inserted_together_in_order(database: Database) -> None:
    rows = [_outbox_row(n) for n in range(5)]
    insert_outbox = InsertMany(OutboxRow.core_table(), returning="id")
    with database.transaction() as session:
        ids = list(insert_outbox(session.connection(), rows).scalars())
    with database.read() as session:
        stored = session.execute(select(OutboxRow).order_by(OutboxRow.id)).scalars().all()
    assert sorted(ids) == [row.id for row in stored]
    # Numbered in the order given: the n-th row has the n-th smallest id.
    assert [row.attempts for row in stored] == [0, 1, 2, 3, 4]
    assert [row.payload for row in stored] == [row["payload"] for row in rows]
    assert [row.dedupe_key for row in stored] == [row["dedupe_key"] for row in rows]
    assert [row.chat_id for row in stored] == [row["chat_id"] for row in rows]
    assert [row.next_attempt_at for row in stored] == [row["next_attempt_at"] for row in rows]
    assert all(row.claimed_until is None for row in stored)


def test_enums_go_in_as_their_values(database: Database) -> None:
    citizens = [
        {
            "id": n,
            "telegram_user_id": 5_000_000_000 + n,
            "chat_id": 5_000_000_000 + n,
            "language": language,
            "name": None,
            "phone": None,
            "created_at": NOW,
        }
        for n, language in enumerate((Language.ZH, Language.EN), start=1)
    ]
    events = [
        {
            "ticket_id": None,
            "at": NOW,
            "actor_role": Role.CITIZEN,
            "actor_id": 5_000_000_001,
            "action": "created",
            "from_status": None,
            "to_status": TicketStatus.RECEIVED,
            "reason": None,
            "data": {"n": 1},
        }
    ]
    with database.transaction() as session:
        InsertMany(CitizenRow.core_table())(session.connection(), citizens)
        InsertMany(TicketEventRow.core_table())(session.connection(), events)
    with database.read() as session:
        languages = session.execute(select(CitizenRow.language).order_by(CitizenRow.id))
        event = session.execute(select(TicketEventRow)).scalar_one()
    assert languages.scalars().all() == [Language.ZH, Language.EN]
    assert (event.actor_role, event.from_status, event.to_status, event.data) == (
        Role.CITIZEN,
        None,
        TicketStatus.RECEIVED,
        {"n": 1},
    )


def test_rows_with_a_key_already_there_are_skipped_and_not_returned(database: Database) -> None:
    claim = InsertMany(
        ProcessedUpdateRow.core_table(), returning="update_id", skip_conflicts_on="update_id"
    )
    with database.transaction() as session:
        first = set(claim(session.connection(), [{"update_id": 7, "processed_at": NOW}]).scalars())
    with database.transaction() as session:
        rows = [{"update_id": n, "processed_at": NOW} for n in (6, 7, 8)]
        second = set(claim(session.connection(), rows).scalars())
    assert first == {7}
    assert second == {6, 8}


def test_rows_are_updated_by_key_with_their_own_values_and_the_fixed_ones(
    database: Database,
) -> None:
    with database.transaction() as session:
        ids = sorted(
            InsertMany(OutboxRow.core_table(), returning="id")(
                session.connection(), [_outbox_row(n) for n in range(3)]
            ).scalars()
        )
    mark_sent = UpdateMany(OutboxRow.core_table(), "id", {"status": "sent", "error": None})
    sent = [(ids[0], 11, NOW), (ids[2], None, NOW + timedelta(minutes=1))]
    with database.transaction() as session:
        mark_sent(
            session.connection(),
            [{"id": o, "telegram_message_id": m, "sent_at": at} for o, m, at in sent],
        )
    with database.read() as session:
        stored = session.execute(
            select(OutboxRow.id, OutboxRow.status, OutboxRow.telegram_message_id, OutboxRow.sent_at)
        ).all()
    assert sorted(stored) == [
        (ids[0], "sent", 11, NOW),
        (ids[1], "pending", None, None),
        (ids[2], "sent", None, NOW + timedelta(minutes=1)),
    ]
