"""派单: routing a new request to a department, the dispatch queue, and dispatchers' choices.

Confident routing dispatches at once; an unsure one goes to the hotline office's chat with the
top three departments as one-tap buttons. Every choice a person makes is routing history at
once: the next similar request is routed with it, no restart needed.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import chain

from handlers import lifecycle, texts
from handlers.cards import list_line, refresh_cards, send_card
from handlers.context import Hotline
from handlers.display import shorten, show_datetime, show_deadline
from handlers.model import KbOffer, Language, StaffMember, Ticket
from handlers.outgoing import Button, Keyboard, Method, Outgoing
from handlers.ports import Outbox, Store
from handlers.routing import RoutingDecision
from scheduler.deadlines import due_after_working_days, local_date

log = logging.getLogger(__name__)

SUGGESTED = 3  # departments offered as one-tap buttons for a ticket to dispatch


def office_language(hotline: Hotline) -> Language:
    return Language(hotline.config.hotline.default_language)


def first_contact_due(hotline: Hotline, dispatched: datetime, *, urgent: bool) -> datetime:
    """先行联系: the time by which the unit must contact the citizen after a dispatch."""
    sla = hotline.config.sla
    if urgent:
        return dispatched + timedelta(hours=sla.first_contact_urgent_hours)
    return due_after_working_days(dispatched, sla.first_contact_working_days, hotline.calendar).due


def office_chats(store: Store) -> list[int]:
    """The office chat, else every supervisor privately."""
    office = store.office_chat()
    if office is not None:
        return [office]
    return [member.telegram_user_id for member in store.supervisors()]


def group_unreachable(
    store: Store,
    hotline: Hotline,
    chat_id: int,
    ticket_id: int | None,
    reason: str,
    now: datetime,
) -> None:
    """Telegram refused a message to a group for good (the bot was removed, the chat is gone):
    the office hears of it, once per ticket, so that nothing waits unseen; if it is the
    office's own chat, every supervisor privately."""
    lang = office_language(hotline)
    office = store.office_chat()
    if chat_id == office:
        where = texts.OFFICE_CHAT_NAME(lang)
        targets = [member.telegram_user_id for member in store.supervisors()]
    else:
        bound = [
            code for code in store.active_departments() if store.department_chat(code) == chat_id
        ]
        name = hotline.department_name(bound[0], lang) if bound else None
        where = texts.GROUP_UNREACHABLE_WHERE(lang, department=name) if name else str(chat_id)
        targets = office_chats(store)
    ticket = store.ticket(ticket_id) if ticket_id is not None else None
    text = texts.GROUP_UNREACHABLE(
        lang, where=where, reason=shorten(reason, 120), number=ticket.number if ticket else "—"
    )
    if not targets:
        log.warning("chat %s refuses the bot and nobody can be told: %s", chat_id, text)
    about = ticket_id if ticket_id is not None else local_date(now).isoformat()
    for target in targets:
        store.queue(
            Outgoing(
                chat_id=target,
                text=text,
                ticket_id=ticket_id,
                purpose="group_unreachable",
                dedupe_key=f"unreachable:{chat_id}:{about}:{target}",
            ),
            now,
        )


def message_failed(
    store: Store,
    hotline: Hotline,
    chat_id: int,
    ticket_id: int | None,
    error: str,
    now: datetime,
) -> None:
    """A message was set aside after an unexpected error (a bug): the office hears of it, once
    per ticket and chat, so that someone sends it by hand and has the bug looked into."""
    lang = office_language(hotline)
    office = store.office_chat()
    if chat_id == office:
        where = texts.OFFICE_CHAT_NAME(lang)
    elif chat_id > 0:  # a person's private chat
        where = texts.FAILED_TO_PERSON(lang)
    else:
        bound = [
            code for code in store.active_departments() if store.department_chat(code) == chat_id
        ]
        name = hotline.department_name(bound[0], lang) if bound else None
        where = texts.GROUP_UNREACHABLE_WHERE(lang, department=name) if name else str(chat_id)
    ticket = store.ticket(ticket_id) if ticket_id is not None else None
    number = ticket.number if ticket else "—"
    text = texts.MESSAGE_FAILED(lang, where=where, number=number, error=shorten(error, 120))
    about = ticket_id if ticket_id is not None else local_date(now).isoformat()
    for target in office_chats(store):
        store.queue(
            Outgoing(
                chat_id=target,
                text=text,
                ticket_id=ticket_id,
                purpose="message_failed",
                # once per ticket and chat: a report that fails in turn makes no new one
                dedupe_key=f"failed:{chat_id}:{about}:{target}",
            ),
            now,
        )


def route_new_ticket(store: Store, hotline: Hotline, ticket: Ticket, now: datetime) -> Ticket:
    """Dispatch a new ticket if routing is confident; otherwise put it in the dispatch queue."""
    decision = hotline.router.route(ticket.text)
    active = set(store.active_departments())
    if decision.automatic and decision.department in active:
        assert decision.department is not None  # narrowing only: it is among the active ones
        return dispatch(
            store,
            hotline,
            ticket,
            decision.department,
            now,
            by=None,
            confidence=decision.confidence,
            notify_citizen=False,
        )
    queue_for_office(store, hotline, ticket, decision, now)
    return ticket


def queue_for_office(
    store: Store, hotline: Hotline, ticket: Ticket, decision: RoutingDecision, now: datetime
) -> None:
    """The ticket to the dispatch queue: the office chat (else every supervisor) is asked to
    choose its department."""
    chats = office_chats(store)
    if not chats:
        log.warning(
            "ticket %s waits for dispatch, but no office chat or supervisor is set", ticket.number
        )
    active = set(store.active_departments())
    given = store.answer_given(ticket.id)
    for chat_id in chats:
        request = _dispatch_request(hotline, ticket, decision, chat_id, active, given=given)
        store.queue(request, now)


def offer_for_dispatch(
    store: Store,
    hotline: Hotline,
    ticket: Ticket,
    chat_id: int,
    now: datetime,
    *,
    reply_to: int | None,
) -> None:
    """The request to dispatch a waiting ticket again, in one chat (opened from a list)."""
    decision = hotline.router.route(ticket.text)
    active = set(store.active_departments())
    given = store.answer_given(ticket.id)
    request = _dispatch_request(
        hotline, ticket, decision, chat_id, active, reply_to=reply_to, given=given
    )
    store.queue(replace(request, summary=None), now)  # asked for: never in a list


def suggestions(
    hotline: Hotline,
    decision: RoutingDecision,
    active: Collection[str],
    *,
    leaving_out: str | None = None,
) -> list[str]:
    """Three departments to offer as one-tap buttons: the router's candidates, then (when the
    text points to fewer) the departments that handle the most requests."""
    codes: list[str] = []
    for code in chain((c.code for c in decision.candidates), hotline.router.usual_departments()):
        if code in active and code != leaving_out and code not in codes:
            codes.append(code)
            if len(codes) == SUGGESTED:
                break
    return codes


def suggestion_line(
    hotline: Hotline, decision: RoutingDecision, codes: list[str], lang: Language
) -> str:
    """The line above the buttons, naming what they offer and how sure the router is."""
    names = texts.NAME_SEPARATOR(lang).join(
        hotline.department_name(code, lang) or code for code in codes
    )
    if not decision.candidates:
        return texts.NO_SUGGESTION(lang, departments=names)
    return texts.SUGGESTED(lang, confidence=decision.confidence, departments=names)


def _dispatch_request(
    hotline: Hotline,
    ticket: Ticket,
    decision: RoutingDecision,
    chat_id: int,
    active: Collection[str],
    *,
    reply_to: int | None = None,
    given: KbOffer | None = None,
) -> Outgoing:
    lang = office_language(hotline)
    suggested = suggestions(hotline, decision, active)
    request = shorten(ticket.text, 2500)
    if given is not None:
        # What the citizen was told already (直接答复), so the office sees why it came back.
        answer = shorten(given.answer, 500)
        request += texts.CARD_ANSWER_GIVEN(lang, entry=given.entry_key, answer=answer)
    text = texts.OFFICE_DISPATCH(
        lang,
        number=ticket.number,
        kind=texts.request_type_name(ticket.request_type, lang),
        received=show_datetime(ticket.received_at),
        deadline=show_deadline(ticket.deadline_at, urgent=ticket.urgent),
        text=request,
        suggestion=suggestion_line(hotline, decision, suggested, lang),
    )
    return Outgoing(
        chat_id=chat_id,
        text=text,
        buttons=pick_buttons(hotline, ticket, suggested, lang, other=True),
        reply_to_message_id=reply_to,
        ticket_id=ticket.id,
        purpose="dispatch_queue",
        # one line in a list while the office chat is busy (handlers.lists)
        summary=list_line(ticket, lang, to_dispatch=True),
    )


def pick_buttons(
    hotline: Hotline, ticket: Ticket, codes: list[str], lang: Language, *, other: bool
) -> Keyboard:
    """One button per department (two to a row), plus "other department…"."""
    buttons = [
        Button(
            hotline.department_name(code, lang) or code,
            hotline.buttons.sign("pick", ticket.id, code),
        )
        for code in codes
    ]
    rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    if other:
        rows.append(
            (
                Button(
                    texts.BUTTON_OTHER_DEPARTMENT(lang), hotline.buttons.sign("pickany", ticket.id)
                ),
            )
        )
    return tuple(rows)


def all_departments_picker(
    store: Store, hotline: Hotline, ticket: Ticket, chat_id: int, now: datetime
) -> None:
    lang = office_language(hotline)
    codes = [
        d.code
        for d in hotline.config.departments.departments
        if d.code in set(store.active_departments())
    ]
    store.queue(
        Outgoing(
            chat_id=chat_id,
            text=texts.OFFICE_PICK_ANY(lang, number=ticket.number),
            buttons=pick_buttons(hotline, ticket, codes, lang, other=False),
            ticket_id=ticket.id,
            purpose="dispatch_queue",
        ),
        now,
    )


def dispatch(
    store: Store,
    hotline: Hotline,
    ticket: Ticket,
    department_code: str,
    now: datetime,
    *,
    by: StaffMember | None,
    confidence: float | None = None,
    notify_citizen: bool = True,
) -> Ticket:
    """派单 (or 改派): a new assignment, the department's card, the citizen told where it went.

    ``by`` is the dispatcher; None for automatic routing. A dispatcher's choice is learnt.
    """
    moved = lifecycle.dispatch(ticket, department_code, now, by=by, confidence=confidence)
    sign_due = due_after_working_days(
        now, hotline.config.sla.sign_for_working_days, hotline.calendar
    )
    store.add_assignment(
        ticket.id,
        department_code,
        now=now,
        sign_due_at=sign_due.due,
        by=by.telegram_user_id if by else None,
        automatic=by is None,
        confidence=confidence,
        contact_due_at=first_contact_due(hotline, now, urgent=ticket.urgent),
    )
    updated = lifecycle.save(store, moved)
    if ticket.department_code is not None:
        refresh_cards(
            store, hotline, updated, now
        )  # the former department's card loses its buttons
    send_card(store, hotline, updated, now)
    if by is not None:
        learn(store, hotline, ticket.text, department_code, ticket.id, "dispatcher", now)
    if notify_citizen:
        citizen = store.citizen(ticket.citizen_id)
        if citizen is not None:
            name = hotline.department_name(department_code, citizen.language) or department_code
            store.queue(
                Outgoing(
                    chat_id=citizen.chat_id,
                    text=texts.CITIZEN_DISPATCHED(
                        citizen.language, number=ticket.number, department=name
                    ),
                    ticket_id=ticket.id,
                    purpose="dispatched",
                ),
                now,
            )
    return updated


def learn(
    store: Store,
    hotline: Hotline,
    text: str,
    department_code: str,
    ticket_id: int | None,
    source: str,
    now: datetime,
) -> None:
    """Routing history: stored now, and in the router's memory once the change commits."""
    store.add_routing_example(text, department_code, ticket_id=ticket_id, source=source, now=now)
    store.after_commit(lambda: hotline.router.learn(text, department_code))


def mark_dispatched_in_office(
    store: Outbox,
    hotline: Hotline,
    ticket: Ticket,
    chat_id: int,
    message_id: int | None,
    by: StaffMember,
    now: datetime,
) -> None:
    """The dispatch-queue message shows the outcome instead of its buttons."""
    if message_id is None:
        return
    lang = office_language(hotline)
    name = hotline.department_name(ticket.department_code, lang) or ""
    store.queue(
        Outgoing(
            chat_id=chat_id,
            method=Method.EDIT_TEXT,
            edit_message_id=message_id,
            text=texts.DISPATCHED(lang, number=ticket.number, department=name)
            + f"（{by.name or by.telegram_user_id}）",
            ticket_id=ticket.id,
            purpose="dispatch_queue",
        ),
        now,
    )
