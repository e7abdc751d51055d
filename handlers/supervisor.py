"""What the hotline office (热线办, supervisors and dispatchers) does: dispatch what routing was
unsure of, decide extensions, re-dispatch, mark urgent, chase (催办), invite staff, and look at
late and similar requests."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from handlers import lifecycle, texts
from handlers.buttons import BadButton, ButtonAction
from handlers.cards import refresh_cards, time_left
from handlers.context import Hotline
from handlers.dispatching import (
    all_departments_picker,
    dispatch,
    first_contact_due,
    mark_dispatched_in_office,
    office_language,
)
from handlers.display import shorten, show_datetime, show_deadline
from handlers.events import ButtonPress, IncomingMessage
from handlers.lifecycle import Move
from handlers.model import Language, StaffMember, Ticket
from handlers.numbering import normalize_ticket_number
from handlers.outgoing import Method, Outgoing, Reaction
from handlers.ports import Outbox, Store, Tickets
from handlers.staff import move_refused, refuse
from scheduler.deadlines import due_after_hours, extend_deadline

INVITE_DAYS = 7
OVERDUE_LISTED = 1000  # counted; as many as fit in one message are shown
SIMILAR_SCANNED = 150
SIMILAR_THRESHOLD = 0.5


def _supervisor(
    store: Store, press: ButtonPress, now: datetime, ticket_id: int | None
) -> StaffMember | Reaction:
    """The presser if they are a supervisor; otherwise the refusal (logged)."""
    member = store.staff_member(press.sender.user_id)
    if member is None or not member.is_supervisor:
        lang = member.language if member else Language.from_telegram(press.sender.language_code)
        refuse(
            store,
            ticket_id,
            press.sender.user_id,
            "supervisor button pressed by a non-supervisor",
            now,
        )
        return Reaction(texts.SUPERVISOR_ONLY(lang), callback_alert=True)
    return member


def on_pick_button(
    store: Store, hotline: Hotline, press: ButtonPress, action: ButtonAction, now: datetime
) -> Reaction:
    """A dispatcher taps a department for a ticket in the dispatch queue (or re-dispatches)."""
    ticket_id = action.int_arg(0)
    who = _supervisor(store, press, now, ticket_id)
    if isinstance(who, Reaction):
        return who
    if action.action == "pickany":
        ticket = store.ticket(ticket_id)
        if ticket is None:
            raise BadButton("no such ticket")
        all_departments_picker(store, hotline, ticket, press.chat_id or who.telegram_user_id, now)
        return Reaction()
    if len(action.args) != 2:
        raise BadButton("pick without a department")
    code = action.args[1]
    ticket = store.ticket(ticket_id, lock=True)
    if ticket is None or code not in store.active_departments():
        raise BadButton("pick of an unknown ticket or department")
    lang = who.language
    name = hotline.department_name(code, lang) or code
    if ticket.department_code == code and ticket.status.is_open:
        return Reaction(texts.ALREADY_THERE(lang, number=ticket.number, department=name))
    if not lifecycle.allowed(Move.DISPATCH, ticket.status):
        return Reaction(move_refused(ticket, Move.DISPATCH, lang), callback_alert=True)
    updated = dispatch(store, hotline, ticket, code, now, by=who)
    if press.chat_id is not None:
        mark_dispatched_in_office(
            store, hotline, updated, press.chat_id, press.message_id, who, now
        )
    return Reaction(texts.DISPATCHED(lang, number=ticket.number, department=name))


def on_extension_button(
    store: Store, hotline: Hotline, press: ButtonPress, action: ButtonAction, now: datetime
) -> Reaction:
    """批准 / 驳回 an extension request."""
    extension = store.extension(action.int_arg(0), lock=True)
    if extension is None:
        raise BadButton("no such extension request")
    who = _supervisor(store, press, now, extension.ticket_id)
    if isinstance(who, Reaction):
        return who
    lang = who.language
    ticket = store.ticket(extension.ticket_id, lock=True)
    if ticket is None:
        raise BadButton("the extension's ticket is gone")
    if extension.status != "pending":
        return Reaction(texts.EXTENSION_DECIDED(lang), callback_alert=True)
    approved = action.action == "approve"
    office_lang = office_language(hotline)
    maximum = hotline.config.sla.max_extension_working_days
    if approved and not lifecycle.allowed(Move.EXTEND, ticket.status):
        return Reaction(move_refused(ticket, Move.EXTEND, lang), callback_alert=True)
    if approved and store.approved_extension_days(ticket.id) + extension.working_days > maximum:
        used = store.approved_extension_days(ticket.id)
        return Reaction(
            texts.EXTENSION_OVER_LIMIT(lang, max=maximum, used=used), callback_alert=True
        )
    new_deadline = (
        extend_deadline(ticket.deadline_at, extension.working_days, hotline.calendar)
        if approved
        else None
    )
    store.decide_extension(
        extension.id,
        approved=approved,
        by=who.id,
        now=now,
        new_deadline_at=new_deadline.due if new_deadline else None,
    )
    ticket = lifecycle.save(
        store,
        lifecycle.decide_extension(
            ticket,
            who,
            extension.working_days,
            extension.reason,
            now,
            new_deadline=(new_deadline.due, new_deadline.estimated) if new_deadline else None,
        ),
    )
    department_chat = store.department_chat(extension.department_code)
    requester = store.staff_by_id(extension.requested_by)
    notify = (
        department_chat
        if department_chat is not None
        else (requester.telegram_user_id if requester else None)
    )
    if new_deadline is not None:
        refresh_cards(store, hotline, ticket, now)
        verdict = texts.EXTENSION_APPROVED(
            office_lang,
            number=ticket.number,
            days=extension.working_days,
            deadline=show_deadline(new_deadline.due, urgent=ticket.urgent),
        )
        citizen = store.citizen(ticket.citizen_id)
        if citizen is not None:
            store.queue(
                Outgoing(
                    chat_id=citizen.chat_id,
                    text=texts.CITIZEN_EXTENDED(
                        citizen.language,
                        number=ticket.number,
                        deadline=show_deadline(new_deadline.due, urgent=ticket.urgent),
                        reason=extension.reason,
                    ),
                    ticket_id=ticket.id,
                    purpose="extended",
                ),
                now,
            )
    else:
        verdict = texts.EXTENSION_REJECTED(
            office_lang,
            number=ticket.number,
            deadline=show_deadline(ticket.deadline_at, urgent=ticket.urgent),
        )
    if notify is not None:
        store.queue(
            Outgoing(
                chat_id=notify, text=verdict, ticket_id=ticket.id, purpose="extension_decided"
            ),
            now,
        )
    if press.chat_id is not None and press.message_id is not None:
        store.queue(
            Outgoing(
                chat_id=press.chat_id,
                method=Method.EDIT_TEXT,
                edit_message_id=press.message_id,
                text=texts.EXTENSION_DECIDED_BY(
                    office_lang, verdict=verdict, name=who.name or who.telegram_user_id
                ),
                ticket_id=ticket.id,
                purpose="extension_request",
            ),
            now,
        )
    return Reaction(verdict)


# -- commands --------------------------------------------------------------------------------------


def _ticket_from_args(
    store: Store, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> tuple[Ticket | None, str]:
    """The ticket named first in the command's arguments, and the rest of them."""
    number_text, _, rest = msg.command_args.strip().partition(" ")
    lang = staff.language
    if not number_text:
        _say(store, msg, texts.NUMBER_USAGE(lang, command=msg.command), now)
        return None, ""
    number = normalize_ticket_number(number_text)
    ticket = store.ticket_by_number(number) if number else None
    if ticket is None:
        _say(store, msg, texts.TICKET_NOT_FOUND(lang, number=shorten(number_text, 30)), now)
    return ticket, rest.strip()


def _say(store: Outbox, msg: IncomingMessage, text: str, now: datetime) -> None:
    store.queue(
        Outgoing(chat_id=msg.chat_id, text=shorten(text, 4096), reply_to_message_id=msg.message_id),
        now,
    )


def redispatch_command(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    """/dispatch NUMBER [CODE]: 派单 or 改派 to CODE at once; without a CODE (or with one that
    names no active department) the picker of every department."""
    ticket, rest = _ticket_from_args(store, msg, staff, now)
    if ticket is None:
        return
    lang = staff.language
    if not lifecycle.allowed(Move.DISPATCH, ticket.status):
        _say(store, msg, move_refused(ticket, Move.DISPATCH, lang), now)
        return
    code = rest.split()[0].lower() if rest.split() else ""
    if code and code not in store.active_departments():
        _say(store, msg, texts.UNKNOWN_DEPARTMENT_PICK(lang, code=shorten(code, 32)), now)
        code = ""
    if not code:
        all_departments_picker(store, hotline, ticket, msg.chat_id, now)
        return
    name = hotline.department_name(code, lang) or code
    if ticket.department_code == code and ticket.status.is_open:
        _say(store, msg, texts.ALREADY_THERE(lang, number=ticket.number, department=name), now)
        return
    ticket = store.ticket(ticket.id, lock=True) or ticket
    dispatch(store, hotline, ticket, code, now, by=staff)
    _say(store, msg, texts.DISPATCHED(lang, number=ticket.number, department=name), now)


def urgent_command(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    """Mark urgent: hours instead of working days, from receipt (or from now if that is past)."""
    ticket, _ = _ticket_from_args(store, msg, staff, now)
    if ticket is None:
        return
    if not lifecycle.allowed(Move.URGE, ticket.status):
        _say(store, msg, move_refused(ticket, Move.URGE, staff.language), now)
        return
    hours = hotline.config.sla.urgent_hours
    due = due_after_hours(ticket.received_at, hours)
    if due.due <= now:
        due = due_after_hours(now, hours)
    due_at = min(due.due, ticket.deadline_at)
    updated = lifecycle.save(store, lifecycle.mark_urgent(ticket, staff, now, deadline_at=due_at))
    # An urgent ticket's citizen is contacted within hours (先行联系), counted from now.
    store.hasten_contact(ticket.id, first_contact_due(hotline, now, urgent=True))
    refresh_cards(store, hotline, updated, now)
    office_lang = office_language(hotline)
    _say(
        store,
        msg,
        texts.MARKED_URGENT(staff.language, number=ticket.number, deadline=show_datetime(due_at)),
        now,
    )
    if updated.department_code:
        chat = store.department_chat(updated.department_code)
        if chat is not None:
            store.queue(
                Outgoing(
                    chat_id=chat,
                    text=texts.MARKED_URGENT(
                        office_lang, number=ticket.number, deadline=show_datetime(due_at)
                    ),
                    ticket_id=ticket.id,
                    purpose="urgent",
                ),
                now,
            )
    citizen = store.citizen(ticket.citizen_id)
    if citizen is not None:
        store.queue(
            Outgoing(
                chat_id=citizen.chat_id,
                text=texts.MARKED_URGENT(
                    citizen.language, number=ticket.number, deadline=show_datetime(due_at)
                ),
                ticket_id=ticket.id,
                purpose="urgent",
            ),
            now,
        )


def nudge_command(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    """催办: a nudge in the department's chat (or to its staff)."""
    ticket, note = _ticket_from_args(store, msg, staff, now)
    if ticket is None:
        return
    if ticket.department_code is None or not lifecycle.allowed(Move.URGE, ticket.status):
        _say(store, msg, move_refused(ticket, Move.URGE, staff.language), now)
        return
    office_lang = office_language(hotline)
    text = texts.NUDGE(
        office_lang,
        number=ticket.number,
        deadline=show_deadline(ticket.deadline_at, urgent=ticket.urgent),
        left=time_left(hotline, ticket, now, office_lang),
        text=note,
    )
    chat = store.department_chat(ticket.department_code)
    targets = (
        [chat]
        if chat is not None
        else [m.telegram_user_id for m in store.department_staff(ticket.department_code)]
    )
    for chat_id in targets:
        store.queue(
            Outgoing(chat_id=chat_id, text=text.strip(), ticket_id=ticket.id, purpose="nudge"), now
        )
    lifecycle.save(store, lifecycle.nudge(ticket, staff, note, now))
    _say(store, msg, texts.NUDGED(staff.language), now)


def overdue_lines(
    store: Tickets, hotline: Hotline, now: datetime, lang: Language, *, limit: int = 3900
) -> list[str]:
    """Every late ticket, most overdue first, in as many lines as ``limit`` characters hold."""
    tickets = store.overdue_tickets(now, OVERDUE_LISTED)
    if not tickets:
        return [texts.OVERDUE_NONE(lang)]
    lines = [texts.OVERDUE_HEADER(lang, count=len(tickets))]
    for shown, t in enumerate(tickets):
        line = texts.OVERDUE_LINE(
            lang,
            number=t.number,
            department=hotline.department_name(t.department_code, lang)
            or texts.DISPATCH_QUEUE(lang),
            status=texts.status_name(t.status, lang),
            deadline=show_deadline(t.deadline_at, urgent=t.urgent),
            left=time_left(hotline, t, now, lang),
        )
        if sum(len(x) + 1 for x in lines) + len(line) > limit:
            lines.append(texts.AND_MORE(lang, count=len(tickets) - shown))
            break
        lines.append(line)
    return lines


def overdue_command(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    """/overdue: every late ticket."""
    _say(store, msg, "\n".join(overdue_lines(store, hotline, now, staff.language)), now)


def invite_command(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    """/invite CODE: a one-time deep link that enrols whoever opens it in that department."""
    lang = staff.language
    code = msg.command_args.strip()
    if not code:
        _say(store, msg, texts.INVITE_USAGE(lang), now)
        return
    if code not in store.active_departments():
        _say(store, msg, texts.UNKNOWN_DEPARTMENT(lang, code=shorten(code, 32)), now)
        return
    token = secrets.token_urlsafe(16)
    store.add_invite(
        token, code, by=staff.id, now=now, expires_at=now + timedelta(days=INVITE_DAYS)
    )
    link = f"https://t.me/{hotline.bot_username}?start=inv_{token}"
    _say(
        store,
        msg,
        texts.INVITE_LINK(
            lang,
            department=hotline.department_name(code, lang) or code,
            days=INVITE_DAYS,
            link=link,
        ),
        now,
    )


def departments_command(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    lang = staff.language
    active = set(store.active_departments())
    lines = [
        f"{d.code} — {hotline.department_name(d.code, lang)}"
        for d in hotline.config.departments.departments
        if d.code in active
    ]
    _say(store, msg, texts.DEPARTMENTS_LIST(lang, lines="\n".join(lines)), now)


def similar_command(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    """/similar: groups of similar open requests from different citizens (并单 candidates)."""
    lang = staff.language
    clusters = similar_clusters(
        store.recent_open_tickets(SIMILAR_SCANNED), hotline.router.similarity
    )
    if not clusters:
        _say(store, msg, texts.SIMILAR_NONE(lang), now)
        return
    lines = [texts.SIMILAR_HEADER(lang, count=len(clusters))]
    for index, cluster in enumerate(clusters, 1):
        lines.append(f"{index}.")
        lines += [f"  {t.number} · {shorten(t.text.replace(chr(10), ' '), 40)}" for t in cluster]
    _say(store, msg, "\n".join(lines), now)


def similar_clusters(
    tickets: list[Ticket],
    similar: Callable[[str, str], float],
    threshold: float = SIMILAR_THRESHOLD,
) -> list[list[Ticket]]:
    """Tickets joined when similar enough and from different citizens (union-find)."""
    parent = list(range(len(tickets)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(tickets):
        for j in range(i + 1, len(tickets)):
            b = tickets[j]
            if a.citizen_id != b.citizen_id and similar(a.text, b.text) >= threshold:
                parent[root(j)] = root(i)
    groups: dict[int, list[Ticket]] = {}
    for i, ticket in enumerate(tickets):
        groups.setdefault(root(i), []).append(ticket)
    return [
        sorted(g, key=lambda t: t.received_at)
        for g in groups.values()
        if len({t.citizen_id for t in g}) > 1
    ]
