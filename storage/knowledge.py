"""The knowledge base (知识库) in the database: entries as they stand, and every version.

Each change writes the entry's new state and a version row (who, when, how) in the caller's
transaction, so an import of a file is all or nothing and the history is never behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from handlers.knowledge import KnowledgeEntry
from handlers.knowledge_stats import DirectAnswerFigures, EntryUse
from handlers.model import OfferOutcome
from storage.models import (
    DepartmentRow,
    KbOfferRow,
    KnowledgeEntryRow,
    KnowledgeVersionRow,
    ResolutionRow,
    TicketRow,
)


class KnowledgeError(ValueError):
    """A change that cannot be made; the message is one line."""


@dataclass(frozen=True)
class KnowledgeVersion:
    """One state of an entry in its history."""

    version: int
    change: str
    entry: KnowledgeEntry
    changed_at: datetime
    changed_by: int | None
    changed_via: str


@dataclass
class ImportResult:
    """What an import did, by entry id."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def entry_of(row: KnowledgeEntryRow) -> KnowledgeEntry:
    return KnowledgeEntry(
        id=row.key,
        question=row.question,
        answer=row.answer,
        department=row.department_code,
        alternatives=tuple(row.alternatives),
        keywords=tuple(row.keywords),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        active=row.active,
    )


def load_entries(session: Session | Connection) -> list[KnowledgeEntry]:
    """Every entry, in force or not, in id order (the matcher filters by date itself). On a
    connection too: the bot reads them without writing the rows its batch has waiting."""
    e = KnowledgeEntryRow
    rows = session.execute(
        select(
            e.key,
            e.question,
            e.answer,
            e.department_code,
            e.alternatives,
            e.keywords,
            e.valid_from,
            e.valid_until,
            e.active,
        ).order_by(e.key)
    )
    return [
        KnowledgeEntry(
            id=row.key,
            question=row.question,
            answer=row.answer,
            department=row.department_code,
            alternatives=tuple(row.alternatives),
            keywords=tuple(row.keywords),
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            active=row.active,
        )
        for row in rows
    ]


# Past answers offered to staff come from this many latest resolutions: enough for a town's
# recurring questions, read in one indexed range (the primary key) however big the table.
PAST_ANSWERS = 5000


def load_past_answers(
    session: Session | Connection, limit: int = PAST_ANSWERS
) -> list[KnowledgeEntry]:
    """The latest answer of each recently resolved ticket, as entries keyed by the ticket's
    number (question: the request), for matching a new request against what was answered."""
    rows = session.execute(
        select(
            TicketRow.number, TicketRow.text, ResolutionRow.answer, ResolutionRow.department_code
        )
        .join(TicketRow, TicketRow.id == ResolutionRow.ticket_id)
        .order_by(ResolutionRow.id.desc())
        .limit(limit)
    )
    seen: set[str] = set()
    answers: list[KnowledgeEntry] = []
    for number, text, answer, department in rows:
        if number in seen:
            continue  # an older answer of a re-opened ticket
        seen.add(number)
        answers.append(
            KnowledgeEntry(id=number, question=text, answer=answer, department=department)
        )
    return answers


def get_entry(session: Session, key: str) -> KnowledgeEntry | None:
    row = _row(session, key)
    return entry_of(row) if row else None


def _row(session: Session, key: str) -> KnowledgeEntryRow | None:
    return session.scalars(select(KnowledgeEntryRow).where(KnowledgeEntryRow.key == key)).first()


def _apply(row: KnowledgeEntryRow, entry: KnowledgeEntry) -> None:
    row.question = entry.question
    row.alternatives = list(entry.alternatives)
    row.answer = entry.answer
    row.department_code = entry.department
    row.keywords = list(entry.keywords)
    row.valid_from = entry.valid_from
    row.valid_until = entry.valid_until
    row.active = entry.active


def _record(
    session: Session,
    row: KnowledgeEntryRow,
    change: str,
    now: datetime,
    staff_id: int | None,
    via: str,
) -> None:
    session.add(
        KnowledgeVersionRow(
            entry_id=row.id,
            version=row.version,
            change=change,
            question=row.question,
            alternatives=list(row.alternatives),
            answer=row.answer,
            department_code=row.department_code,
            keywords=list(row.keywords),
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            active=row.active,
            changed_at=now,
            changed_by=staff_id,
            changed_via=via[:128],
        )
    )


def save_entry(
    session: Session,
    entry: KnowledgeEntry,
    *,
    now: datetime,
    via: str,
    staff_id: int | None = None,
    source_ticket_id: int | None = None,
) -> str:
    """Create the entry, or bring the one with its id to this state. Returns ``created``,
    ``updated`` or ``unchanged`` (nothing written: an import run twice changes nothing)."""
    if entry.department is not None and session.get(DepartmentRow, entry.department) is None:
        raise KnowledgeError(f"no department {entry.department!r} (see `hotline department list`)")
    row = _row(session, entry.id)
    if row is None:
        row = KnowledgeEntryRow(
            key=entry.id,
            version=1,
            created_at=now,
            updated_at=now,
            source_ticket_id=source_ticket_id,
        )
        _apply(row, entry)
        session.add(row)
        session.flush()  # the version row needs the entry's id
        _record(session, row, "created", now, staff_id, via)
        return "created"
    if entry_of(row) == entry:
        return "unchanged"
    was_active = row.active
    _apply(row, entry)
    row.version += 1
    row.updated_at = now
    if was_active != entry.active:
        change = "reactivated" if entry.active else "deactivated"
    else:
        change = "updated"
    _record(session, row, change, now, staff_id, via)
    return "updated"


def import_entries(
    session: Session,
    entries: Iterable[KnowledgeEntry],
    *,
    now: datetime,
    via: str,
    staff_id: int | None = None,
) -> ImportResult:
    """Save each entry (see ``save_entry``); entries of the base not named are left alone."""
    result = ImportResult()
    for entry in entries:
        outcome = save_entry(session, entry, now=now, via=via, staff_id=staff_id)
        getattr(result, outcome).append(entry.id)
    return result


def set_active(
    session: Session,
    key: str,
    active: bool,
    *,
    now: datetime,
    via: str,
    staff_id: int | None = None,
) -> str:
    """Take an entry out of use (``/kb_off``) or back; the history keeps both."""
    row = _row(session, key)
    if row is None:
        raise KnowledgeError(f"no knowledge base entry {key!r}")
    entry = entry_of(row)
    changed = KnowledgeEntry(**{**entry.__dict__, "active": active})
    return save_entry(session, changed, now=now, via=via, staff_id=staff_id)


def history(session: Session, key: str) -> list[KnowledgeVersion]:
    """Every version of an entry, oldest first."""
    row = _row(session, key)
    if row is None:
        raise KnowledgeError(f"no knowledge base entry {key!r}")
    versions = session.scalars(
        select(KnowledgeVersionRow)
        .where(KnowledgeVersionRow.entry_id == row.id)
        .order_by(KnowledgeVersionRow.version)
    )
    return [
        KnowledgeVersion(
            version=v.version,
            change=v.change,
            entry=KnowledgeEntry(
                id=key,
                question=v.question,
                answer=v.answer,
                department=v.department_code,
                alternatives=tuple(v.alternatives),
                keywords=tuple(v.keywords),
                valid_from=v.valid_from,
                valid_until=v.valid_until,
                active=v.active,
            ),
            changed_at=v.changed_at,
            changed_by=v.changed_by,
            changed_via=v.changed_via,
        )
        for v in versions
    ]


def direct_answer_figures(
    session: Session, start: datetime, end: datetime, today: date
) -> DirectAnswerFigures:
    """直接答复 figures of ``[start, end)`` (see ``handlers.knowledge_stats``); entries "never
    used" are those active and in force on ``today``."""
    o = KbOfferRow
    received = session.scalar(
        select(func.count()).where(TicketRow.received_at >= start, TicketRow.received_at < end)
    )
    answered_outcomes = [OfferOutcome.RESOLVED.value, OfferOutcome.TIMEOUT.value]
    per_entry: dict[str, list[int]] = {}
    waiting = 0
    for key, outcome, count in session.execute(
        select(o.entry_key, o.outcome, func.count())
        .where(o.created_at >= start, o.created_at < end)
        .group_by(o.entry_key, o.outcome)
    ):
        if outcome is None:
            waiting += count
            continue
        cell = per_entry.setdefault(key, [0, 0])
        cell[0 if outcome in answered_outcomes else 1] += count
    uses = sorted(
        (EntryUse(key, answered, handed) for key, (answered, handed) in per_entry.items()),
        key=lambda use: (-(use.answered + use.handed_over), use.entry),
    )
    never = tuple(
        entry.id
        for entry in load_entries(session)
        if entry.in_force(today) and entry.id not in per_entry
    )
    v = KnowledgeVersionRow
    updates = {
        code or "": count
        for code, count in session.execute(
            select(v.department_code, func.count())
            .where(v.changed_at >= start, v.changed_at < end)
            .group_by(v.department_code)
        )
    }
    return DirectAnswerFigures(
        contacts=int(received or 0) + waiting,
        directly_answered=sum(use.answered for use in uses),
        handed_over=sum(use.handed_over for use in uses),
        waiting=waiting,
        entries=tuple(uses),
        never_used=never,
        updates=updates,
    )
