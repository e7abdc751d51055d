"""催办 and 督办: the periodic sweep that chases departments before a deadline and escalates to
the office after it, plus the other timeouts (unanswered surveys, undecided messages).

The sweep reads what is due from the database each time (no per-ticket timers to lose).
Every reminder has a key (ticket, kind, step) that is stored in the same transaction as the
message it queues, so a reminder goes out once even across restarts or two racing sweeps.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from handlers import texts
from handlers.cards import time_left
from handlers.citizen import open_undecided
from handlers.context import Hotline
from handlers.dispatching import office_chats, office_language
from handlers.display import shorten
from handlers.model import Ticket
from handlers.outgoing import Outgoing
from handlers.ports import Store
from handlers.quality import sample_previous_day
from handlers.statistics import check_alerts, send_digest
from handlers.survey import close_unrated
from scheduler.deadlines import end_of_day, local_date
from scheduler.working_hours import WorkingHours, is_open

log = logging.getLogger(__name__)

BATCH = 1000  # reminders per kind per sweep; the next sweep takes the rest
MESSAGE_LIMIT = 3800


class Kind:
    SIGN_OVERDUE = "sign_overdue"  # not signed for within the limit → department and office
    DUE_SOON = "due_soon"  # N working days left → department
    DUE_TODAY = "due_today"  # the last working day → department
    OVERDUE = "overdue"  # past the deadline → office, once each working day


@dataclass
class SweepReport:
    reminders: dict[str, int] = field(default_factory=dict)
    surveys_closed: int = 0
    quality_sampled: int = 0
    digest_sent: bool = False
    alerts: int = 0
    held_opened: int = 0
    held_back: bool = False  # outside working hours: non-urgent reminders wait

    @property
    def total(self) -> int:
        return sum(self.reminders.values())


def sweep(store: Store, hotline: Hotline, now: datetime, *, batch: int = BATCH) -> SweepReport:
    report = SweepReport()
    hours = WorkingHours(hotline.config.working_hours.opens, hotline.config.working_hours.closes)
    office_open = is_open(now, hours, hotline.calendar)
    report.held_back = not office_open
    urgent_only = not office_open
    today = local_date(now)
    calendar = hotline.calendar

    found = store.sign_overdue_tickets(now, batch, urgent_only=urgent_only)
    _remind(store, hotline, now, report, Kind.SIGN_OVERDUE, found, to_office=True)
    if office_open:
        # 催办 ahead of the deadline: tickets due at the end of a given working day.
        before = hotline.config.sla.reminder_working_days_before
        if before > 0:
            soon = calendar.nth_working_day_after(today, before)
            found = store.tickets_due_on(end_of_day(soon), Kind.DUE_SOON, batch)
            _remind(store, hotline, now, report, Kind.DUE_SOON, found)
        found = store.tickets_due_on(end_of_day(today), Kind.DUE_TODAY, batch)
        _remind(store, hotline, now, report, Kind.DUE_TODAY, found)
    # 督办: at once after the deadline, then once each working day while it stays overdue;
    # at night and on rest days only urgent tickets do not wait.
    step = today.isoformat()
    found = store.overdue_unreminded(now, Kind.OVERDUE, step, batch, urgent_only=urgent_only)
    _remind(store, hotline, now, report, Kind.OVERDUE, found, to_office=True, to_department=False)

    if office_open:
        report.quality_sampled = sample_previous_day(store, hotline, now)
        report.digest_sent = send_digest(store, hotline, now)
        report.alerts = check_alerts(store, hotline, now)
    report.surveys_closed = close_unrated(store, hotline, now)
    report.held_opened = open_undecided(store, hotline, now)
    return report


def _remind(
    store: Store,
    hotline: Hotline,
    now: datetime,
    report: SweepReport,
    kind: str,
    found: list[tuple[Ticket, str]],
    *,
    to_office: bool = False,
    to_department: bool = True,
) -> None:
    """Record each reminder's key; only those recorded now (not by a racing sweep) are sent,
    grouped into one message per chat."""
    if not found:
        return
    fresh = store.add_reminders([(t.id, kind, step) for t, step in found], now)
    tickets = [t for t, _ in found if t.id in fresh]
    report.reminders[kind] = report.reminders.get(kind, 0) + len(tickets)
    if not tickets:
        return
    lang = office_language(hotline)
    headers = {
        Kind.SIGN_OVERDUE: texts.REMIND_SIGN,
        Kind.DUE_SOON: texts.REMIND_DUE_SOON,
        Kind.DUE_TODAY: texts.REMIND_DUE_TODAY,
        Kind.OVERDUE: texts.REMIND_OVERDUE,
    }
    by_chat: dict[int, list[Ticket]] = defaultdict(list)
    if to_department:
        for ticket in tickets:
            for chat_id in _department_chats(store, ticket):
                by_chat[chat_id].append(ticket)
    office_header = texts.REMIND_SIGN_OFFICE if kind == Kind.SIGN_OVERDUE else headers[kind]
    for chat_id in office_chats(store) if to_office else []:
        _send_list(store, hotline, now, chat_id, office_header(lang), tickets, kind)
    for chat_id, chat_tickets in by_chat.items():
        _send_list(store, hotline, now, chat_id, headers[kind](lang), chat_tickets, kind)


def _department_chats(store: Store, ticket: Ticket) -> list[int]:
    if ticket.department_code is None:
        return []
    chat = store.department_chat(ticket.department_code)
    if chat is not None:
        return [chat]
    return [member.telegram_user_id for member in store.department_staff(ticket.department_code)]


def _send_list(
    store: Store,
    hotline: Hotline,
    now: datetime,
    chat_id: int,
    header: str,
    tickets: list[Ticket],
    kind: str,
) -> None:
    """One message per chat, split where Telegram's length limit requires."""
    lang = office_language(hotline)
    lines = [
        texts.REMIND_LINE(
            lang,
            number=t.number,
            department=hotline.department_name(t.department_code, lang)
            or texts.DISPATCH_QUEUE(lang),
            left=time_left(hotline, t, now, lang),
        )
        for t in tickets
    ]
    chunk: list[str] = [header]
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > MESSAGE_LIMIT:
            store.queue(
                Outgoing(chat_id=chat_id, text="\n".join(chunk), purpose=f"reminder_{kind}"), now
            )
            chunk = [header]
        chunk.append(shorten(line, 200))
    store.queue(Outgoing(chat_id=chat_id, text="\n".join(chunk), purpose=f"reminder_{kind}"), now)
