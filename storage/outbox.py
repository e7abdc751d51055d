"""The outbox's side of delivery: claiming due messages, recording what happened to them.

Every process claims rows for a lease before sending them, so two bot instances on one
PostgreSQL never send the same row, and a row whose process died is sent by another once the
lease runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from storage.bulk import UpdateMany
from storage.models import OFFICE_CHAT, CitizenRow, DepartmentRow, OutboxRow, SettingRow

PENDING, SENT, FAILED = "pending", "sent", "failed"


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """An outbox row as delivery needs it."""

    id: int
    chat_id: int
    method: str
    payload: dict[str, Any]
    ticket_id: int | None
    attempts: int


def _claimable(now: datetime) -> Any:
    return and_(
        OutboxRow.status == PENDING,
        OutboxRow.next_attempt_at <= now,
        or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now),
    )


def claim_due(
    session: Session, *, instance: str, now: datetime, lease: timedelta, limit: int = 200
) -> list[QueuedMessage]:
    """Claim up to ``limit`` due messages for this process, oldest first."""
    candidates = (
        select(OutboxRow.id).where(_claimable(now)).order_by(OutboxRow.id).limit(limit)
    ).scalar_subquery()
    # The condition is repeated on the UPDATE itself: on PostgreSQL a row another process
    # claimed meanwhile is re-checked after its lock is released, and skipped.
    claimed = (
        session.connection()
        .execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(candidates), _claimable(now))
            .values(claimed_by=instance, claimed_until=now + lease)
            .returning(
                OutboxRow.id,
                OutboxRow.chat_id,
                OutboxRow.method,
                OutboxRow.payload,
                OutboxRow.ticket_id,
                OutboxRow.attempts,
            )
        )
        .all()
    )
    return sorted((QueuedMessage(*row) for row in claimed), key=lambda m: m.id)


_RENEW_CHUNK = 500  # ids per statement, well under SQLite's and PostgreSQL's bind limits


def renew_leases(
    session: Session, outbox_ids: Sequence[int], *, instance: str, until: datetime
) -> None:
    """Extend this process's lease on rows it still holds and has not sent yet."""
    for first in range(0, len(outbox_ids), _RENEW_CHUNK):
        session.connection().execute(
            update(OutboxRow)
            .where(
                OutboxRow.id.in_(outbox_ids[first : first + _RENEW_CHUNK]),
                OutboxRow.claimed_by == instance,
                OutboxRow.status == PENDING,
            )
            .values(claimed_until=until)
        )


_MARK_SENT = UpdateMany(OutboxRow.core_table(), "id", {"status": SENT, "error": None})


def mark_sent(session: Session, sent: list[tuple[int, int | None, datetime]]) -> None:
    """Record delivered rows, each with the Telegram message it became, in one statement."""
    if sent:
        _MARK_SENT(
            session.connection(),
            [{"id": o, "telegram_message_id": m, "sent_at": at} for o, m, at in sent],
        )


def record_journal(session: Session, sent: Sequence[tuple[int, int | None, datetime]]) -> int:
    """Record the sends a stopped process wrote in its journal (bot.sent_journal) and never
    recorded here; rows recorded since (or set aside) are left as they are. Rare and few: one
    statement a row. Returns how many were still waiting."""
    recorded = 0
    for outbox_id, message_id, at in sent:
        result = session.connection().execute(
            update(OutboxRow)
            .where(OutboxRow.id == outbox_id, OutboxRow.status == PENDING)
            .values(
                status=SENT,
                telegram_message_id=message_id,
                sent_at=at,
                error=None,
                claimed_by=None,
                claimed_until=None,
            )
        )
        recorded += result.rowcount
    return recorded


def mark_retry(
    session: Session, outbox_id: int, *, attempts: int, at: datetime, error: str
) -> None:
    """Try again at ``at``, by whichever process claims it then."""
    session.connection().execute(
        update(OutboxRow)
        .where(OutboxRow.id == outbox_id)
        .values(
            attempts=attempts,
            next_attempt_at=at,
            claimed_by=None,
            claimed_until=None,
            error=error[:500],
        )
    )


def mark_failed(session: Session, outbox_id: int, *, attempts: int, error: str) -> None:
    session.connection().execute(
        update(OutboxRow)
        .where(OutboxRow.id == outbox_id)
        .values(status=FAILED, attempts=attempts, claimed_until=None, error=error[:500])
    )


def move_chat(session: Session, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup with a new id: the department and office bindings, and
    every message not sent yet, follow it."""
    conn = session.connection()
    conn.execute(
        update(DepartmentRow)
        .where(DepartmentRow.chat_id == old_chat_id)
        .values(chat_id=new_chat_id)
    )
    conn.execute(
        update(SettingRow)
        .where(SettingRow.key == OFFICE_CHAT, SettingRow.value == str(old_chat_id))
        .values(value=str(new_chat_id))
    )
    conn.execute(
        update(OutboxRow)
        .where(OutboxRow.chat_id == old_chat_id, OutboxRow.status == PENDING)
        .values(chat_id=new_chat_id)
    )


def mark_blocked(session: Session, chat_id: int, now: datetime) -> None:
    """The person blocked the bot (403): remember it, so nobody waits on their delivery."""
    session.connection().execute(
        update(CitizenRow)
        .where(CitizenRow.chat_id == chat_id, CitizenRow.blocked_at.is_(None))
        .values(blocked_at=now)
    )


def sent_message_id(session: Session, outbox_id: int) -> tuple[str, int | None] | None:
    """The status of an outbox row and the Telegram message it became, if sent."""
    row = (
        session.connection()
        .execute(
            select(OutboxRow.status, OutboxRow.telegram_message_id).where(OutboxRow.id == outbox_id)
        )
        .first()
    )
    return (row[0], row[1]) if row else None
