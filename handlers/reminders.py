"""催办 and 督办: the periodic sweep that chases departments before a deadline and escalates to
the office after it, plus the other timeouts (unanswered surveys, undecided messages).

The sweep reads what is due from the database each time (no per-ticket timers to lose).
Every reminder has a key (ticket, kind, step) that is stored in the same transaction as the
message it queues, so a reminder goes out once even across restarts or two racing sweeps.

The sweep is a list of steps (``sweep_steps``), one per concern; the running bot runs each in
a transaction of its own and, when one row fails, runs the step again without it
(``scheduler.service.SweepRunner``): a bad row holds up neither its neighbours nor the other
concerns. ``sweep`` runs them all in the caller's transaction (``hotline tick``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from handlers import texts
from handlers.cards import time_left
from handlers.citizen import open_undecided
from handlers.context import Hotline
from handlers.direct_answers import settle_unanswered
from handlers.dispatching import office_chats, office_language
from handlers.display import shorten
from handlers.model import Ticket
from handlers.outgoing import Outgoing
from handlers.ports import Outbox, Store
from handlers.quality import sample_previous_day
from handlers.rows import one_row
from handlers.statistics import check_alerts, send_digest, send_weekly_briefing
from handlers.survey import close_unrated
from scheduler.deadlines import end_of_day, local_date
from scheduler.working_hours import WorkingHours, is_open

log = logging.getLogger(__name__)

BATCH = 1000  # reminders per kind per sweep; the next sweep takes the rest
MESSAGE_LIMIT = 3800


class Kind:
    SIGN_OVERDUE = "sign_overdue"  # not signed for within the limit → department and office
    CONTACT_OVERDUE = "contact_overdue"  # no first contact (先行联系) in time → same
    DUE_SOON = "due_soon"  # N working days left → department
    DUE_TODAY = "due_today"  # the last working day → department
    OVERDUE = "overdue"  # past the deadline → office, once each working day


@dataclass
class SweepReport:
    reminders: dict[str, int] = field(default_factory=dict)
    surveys_closed: int = 0
    quality_sampled: int = 0
    digest_sent: bool = False
    briefing_sent: bool = False
    alerts: int = 0
    held_opened: int = 0
    direct_answers_settled: int = 0  # left without a word: counted as answered
    held_back: bool = False  # outside working hours: non-urgent reminders wait

    @property
    def total(self) -> int:
        return sum(self.reminders.values())

    def add(self, other: SweepReport) -> None:
        """Count in what another step of the same sweep did."""
        for kind, count in other.reminders.items():
            self.reminders[kind] = self.reminders.get(kind, 0) + count
        self.surveys_closed += other.surveys_closed
        self.quality_sampled += other.quality_sampled
        self.digest_sent = self.digest_sent or other.digest_sent
        self.briefing_sent = self.briefing_sent or other.briefing_sent
        self.alerts += other.alerts
        self.held_opened += other.held_opened
        self.direct_answers_settled += other.direct_answers_settled
        self.held_back = self.held_back or other.held_back


# A step: (store, hotline, now, the ids of rows to leave out) -> what it did.
StepWork = Callable[[Store, Hotline, datetime, Collection[int]], SweepReport]


@dataclass(frozen=True)
class SweepStep:
    """One concern of the sweep: reminders of one kind, 质检, the digest, alerts, survey
    timeouts or held messages. Its rows are tickets, surveys or held messages, by id."""

    name: str
    work: StepWork


def office_is_open(hotline: Hotline, now: datetime) -> bool:
    hours = WorkingHours(hotline.config.working_hours.opens, hotline.config.working_hours.closes)
    return is_open(now, hours, hotline.calendar)


def sweep_steps(hotline: Hotline, now: datetime, *, batch: int = BATCH) -> list[SweepStep]:
    """What is due now, concern by concern; outside working hours only urgent reminders and the
    timeouts (nobody reads a digest at night)."""
    office_open = office_is_open(hotline, now)
    steps = [
        SweepStep(Kind.SIGN_OVERDUE, partial(_sign_overdue, batch=batch)),
        SweepStep(Kind.CONTACT_OVERDUE, partial(_contact_overdue, batch=batch)),
    ]
    if office_open:
        if hotline.config.sla.reminder_working_days_before > 0:
            steps.append(SweepStep(Kind.DUE_SOON, partial(_due_soon, batch=batch)))
        steps.append(SweepStep(Kind.DUE_TODAY, partial(_due_today, batch=batch)))
    steps.append(SweepStep(Kind.OVERDUE, partial(_overdue, batch=batch)))
    if office_open:
        steps += [
            SweepStep("quality", _quality),
            SweepStep("digest", _digest),
            SweepStep("alerts", _alerts),
        ]
    steps += [
        SweepStep("briefing", _briefing),
        SweepStep("surveys", _surveys),
        SweepStep("held", _held),
        SweepStep("direct_answers", _direct_answers),
    ]
    return steps


def sweep(store: Store, hotline: Hotline, now: datetime, *, batch: int = BATCH) -> SweepReport:
    """Every step in the caller's transaction, none left out."""
    report = SweepReport(held_back=not office_is_open(hotline, now))
    for step in sweep_steps(hotline, now, batch=batch):
        report.add(step.work(store, hotline, now, ()))
    return report


def _sign_overdue(
    store: Store, hotline: Hotline, now: datetime, skip: Collection[int], *, batch: int
) -> SweepReport:
    """Not signed for within the limit: the department and the office (urgent ones only at
    night and on rest days)."""
    urgent_only = not office_is_open(hotline, now)
    found = store.sign_overdue_tickets(now, batch, urgent_only=urgent_only)
    return _remind(store, hotline, now, Kind.SIGN_OVERDUE, found, skip, to_office=True)


def _contact_overdue(
    store: Store, hotline: Hotline, now: datetime, skip: Collection[int], *, batch: int
) -> SweepReport:
    """No first contact (先行联系) within the limit, chased like a sign-for: the department and
    the office, once per dispatch (urgent ones only at night and on rest days)."""
    urgent_only = not office_is_open(hotline, now)
    found = store.contact_overdue_tickets(now, batch, urgent_only=urgent_only)
    return _remind(store, hotline, now, Kind.CONTACT_OVERDUE, found, skip, to_office=True)


def _due_soon(
    store: Store, hotline: Hotline, now: datetime, skip: Collection[int], *, batch: int
) -> SweepReport:
    """催办 ahead of the deadline: tickets due at the end of a given working day."""
    before = hotline.config.sla.reminder_working_days_before
    soon = hotline.calendar.nth_working_day_after(local_date(now), before)
    found = store.tickets_due_on(end_of_day(soon), Kind.DUE_SOON, batch)
    return _remind(store, hotline, now, Kind.DUE_SOON, found, skip)


def _due_today(
    store: Store, hotline: Hotline, now: datetime, skip: Collection[int], *, batch: int
) -> SweepReport:
    found = store.tickets_due_on(end_of_day(local_date(now)), Kind.DUE_TODAY, batch)
    return _remind(store, hotline, now, Kind.DUE_TODAY, found, skip)


def _overdue(
    store: Store, hotline: Hotline, now: datetime, skip: Collection[int], *, batch: int
) -> SweepReport:
    """督办: at once after the deadline, then once each working day while it stays overdue;
    at night and on rest days only urgent tickets do not wait."""
    urgent_only = not office_is_open(hotline, now)
    step = local_date(now).isoformat()
    found = store.overdue_unreminded(now, Kind.OVERDUE, step, batch, urgent_only=urgent_only)
    return _remind(
        store, hotline, now, Kind.OVERDUE, found, skip, to_office=True, to_department=False
    )


def _quality(store: Store, hotline: Hotline, now: datetime, _: Collection[int]) -> SweepReport:
    return SweepReport(quality_sampled=sample_previous_day(store, hotline, now))


def _digest(store: Store, hotline: Hotline, now: datetime, _: Collection[int]) -> SweepReport:
    return SweepReport(digest_sent=send_digest(store, hotline, now))


def _briefing(store: Store, hotline: Hotline, now: datetime, _: Collection[int]) -> SweepReport:
    return SweepReport(briefing_sent=send_weekly_briefing(store, hotline, now))


def _alerts(store: Store, hotline: Hotline, now: datetime, _: Collection[int]) -> SweepReport:
    return SweepReport(alerts=check_alerts(store, hotline, now))


def _surveys(store: Store, hotline: Hotline, now: datetime, skip: Collection[int]) -> SweepReport:
    return SweepReport(surveys_closed=close_unrated(store, hotline, now, skip=skip))


def _held(store: Store, hotline: Hotline, now: datetime, skip: Collection[int]) -> SweepReport:
    return SweepReport(held_opened=open_undecided(store, hotline, now, skip=skip))


def _direct_answers(
    store: Store, hotline: Hotline, now: datetime, skip: Collection[int]
) -> SweepReport:
    return SweepReport(direct_answers_settled=settle_unanswered(store, hotline, now, skip=skip))


def _remind(
    store: Store,
    hotline: Hotline,
    now: datetime,
    kind: str,
    found: list[tuple[Ticket, str]],
    skip: Collection[int],
    *,
    to_office: bool = False,
    to_department: bool = True,
) -> SweepReport:
    """Record each reminder's key; only those recorded now (not by a racing sweep) are sent,
    grouped into one message per chat. Tickets in ``skip`` failed before: left out."""
    report = SweepReport()
    found = [(ticket, step) for ticket, step in found if ticket.id not in skip]
    if not found:
        return report
    fresh = store.add_reminders([(t.id, kind, step) for t, step in found], now)
    tickets = [t for t, _ in found if t.id in fresh]
    report.reminders[kind] = len(tickets)
    if not tickets:
        return report
    lang = office_language(hotline)
    headers = {
        Kind.SIGN_OVERDUE: texts.REMIND_SIGN,
        Kind.CONTACT_OVERDUE: texts.REMIND_CONTACT,
        Kind.DUE_SOON: texts.REMIND_DUE_SOON,
        Kind.DUE_TODAY: texts.REMIND_DUE_TODAY,
        Kind.OVERDUE: texts.REMIND_OVERDUE,
    }
    by_chat: dict[int, list[Ticket]] = defaultdict(list)
    lines: dict[int, str] = {}
    for ticket in tickets:
        with one_row(kind, ticket.id, ticket_id=ticket.id):
            lines[ticket.id] = _line(hotline, ticket, now)
            for chat_id in _department_chats(store, ticket) if to_department else []:
                by_chat[chat_id].append(ticket)
    office_headers = {
        Kind.SIGN_OVERDUE: texts.REMIND_SIGN_OFFICE,
        Kind.CONTACT_OVERDUE: texts.REMIND_CONTACT_OFFICE,
    }
    office_header = office_headers.get(kind, headers[kind])
    for chat_id in office_chats(store) if to_office else []:
        _send_list(store, now, chat_id, office_header(lang), tickets, lines, kind)
    for chat_id, chat_tickets in by_chat.items():
        _send_list(store, now, chat_id, headers[kind](lang), chat_tickets, lines, kind)
    return report


def _line(hotline: Hotline, ticket: Ticket, now: datetime) -> str:
    lang = office_language(hotline)
    return texts.REMIND_LINE(
        lang,
        number=ticket.number,
        department=hotline.department_name(ticket.department_code, lang)
        or texts.DISPATCH_QUEUE(lang),
        left=time_left(hotline, ticket, now, lang),
    )


def _department_chats(store: Store, ticket: Ticket) -> list[int]:
    if ticket.department_code is None:
        return []
    chat = store.department_chat(ticket.department_code)
    if chat is not None:
        return [chat]
    return [member.telegram_user_id for member in store.department_staff(ticket.department_code)]


def _send_list(
    store: Outbox,
    now: datetime,
    chat_id: int,
    header: str,
    tickets: list[Ticket],
    lines: dict[int, str],
    kind: str,
) -> None:
    """One message per chat, split where Telegram's length limit requires."""
    chunk: list[str] = [header]
    for line in (lines[t.id] for t in tickets):
        if sum(len(x) + 1 for x in chunk) + len(line) > MESSAGE_LIMIT:
            store.queue(
                Outgoing(chat_id=chat_id, text="\n".join(chunk), purpose=f"reminder_{kind}"), now
            )
            chunk = [header]
        chunk.append(shorten(line, 200))
    store.queue(Outgoing(chat_id=chat_id, text="\n".join(chunk), purpose=f"reminder_{kind}"), now)
