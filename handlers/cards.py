"""The ticket card: what a department sees of a ticket, edited in place as the ticket moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from handlers import texts
from handlers.context import Hotline
from handlers.display import mask_phone, shorten, show_datetime, show_deadline
from handlers.knowledge import KnowledgeMatch
from handlers.model import ItemKind, Language, NewItem, Ticket, TicketStatus
from handlers.outgoing import SUPERSEDED_CARD, Button, Keyboard, Method, Outgoing
from handlers.ports import KnowledgeStore, Outbox, Store
from scheduler.deadlines import local_date, working_days_left

CARD_TEXT_LIMIT = 3000  # leaves room for the header within Telegram's 4096
SIMILAR_ENTRIES = 3
# Below this an entry shares too little with the request to be worth a staff member's look
# (the matcher's scores: bench/kb.py; a direct answer needs 0.65).
SIMILAR_ENTRY_FLOOR = 0.3
ANSWER_GIVEN_LIMIT = 500  # of a direct answer shown on the card (the rest is in the entry)
LIST_LINE_TEXT = 60  # characters of the request in a list line (handlers.lists)


def time_left(hotline: Hotline, ticket: Ticket, now: datetime, lang: Language) -> str:
    """ "3 working days left", "due today", "2 working days overdue" (hours for urgent ones);
    for a ticket no longer open, whether it was answered in time: nothing is left to count."""
    if not ticket.status.is_open:
        if ticket.resolved_at is None:
            return texts.DEADLINE_STOPPED(lang)
        if ticket.resolved_at <= ticket.deadline_at:
            return texts.ANSWERED_IN_TIME(lang)
        return texts.ANSWERED_LATE(lang)
    if ticket.urgent:
        hours = int((ticket.deadline_at - now).total_seconds() // 3600)
        return texts.HOURS_LEFT(lang, hours=hours) if hours >= 0 else texts.HOURS_OVERDUE(lang)
    days = working_days_left(ticket.deadline_at, now, hotline.calendar)
    if days > 0:
        return texts.DAYS_LEFT(lang, days=days)
    if days == 0:
        return texts.DUE_TODAY(lang)
    return texts.DAYS_OVERDUE(lang, days=-days)


def card_text(
    store: Store,
    hotline: Hotline,
    ticket: Ticket,
    now: datetime,
    lang: Language,
    similar: Similar,
    *,
    attachments: int | None = None,
) -> str:
    """The card, with what is ``similar`` to the request; ``attachments`` is their count where
    the caller has them at hand."""
    citizen = store.citizen(ticket.citizen_id)
    signer = store.staff_by_id(ticket.signed_by) if ticket.signed_by else None
    if attachments is None:
        attachments = len(store.attachments(ticket.id))
    body = ticket.text
    if len(body) > CARD_TEXT_LIMIT:
        body = body[:CARD_TEXT_LIMIT] + texts.TEXT_CUT(lang, length=len(ticket.text))
    given = store.answer_given(ticket.id)
    if given is not None:
        # Staff see what the citizen was told already, so they do not answer it again.
        answer = shorten(given.answer, ANSWER_GIVEN_LIMIT)
        body += texts.CARD_ANSWER_GIVEN(lang, entry=given.entry_key, answer=answer)
    else:
        body += similar_entries(similar, lang) + similar_answers(similar, lang)
    return texts.CARD(
        lang,
        number=ticket.number,
        urgent=texts.CARD_URGENT(lang) if ticket.urgent else "",
        kind=texts.request_type_name(ticket.request_type, lang),
        status=texts.status_name(ticket.status, lang),
        department=hotline.department_name(ticket.department_code, lang)
        or texts.DISPATCH_QUEUE(lang),
        signer=texts.CARD_SIGNER(lang, name=signer.name or signer.telegram_user_id)
        if signer
        else "",
        received=show_datetime(ticket.received_at),
        deadline=show_deadline(ticket.deadline_at, urgent=ticket.urgent),
        left=time_left(hotline, ticket, now, lang),
        estimated=texts.ESTIMATED_SHORT(lang) if ticket.deadline_estimated else "",
        phone=mask_phone(citizen.phone) if citizen and citizen.phone else texts.CARD_NO_PHONE(lang),
        location=texts.CARD_LOCATION(lang, lat=ticket.latitude, lon=ticket.longitude)
        if ticket.latitude is not None and ticket.longitude is not None
        else "",
        attachments=texts.CARD_ATTACHMENTS(lang, count=attachments) if attachments else "",
        text=body,
    )


def _entry_matches(store: KnowledgeStore, ticket: Ticket, now: datetime) -> list[KnowledgeMatch]:
    knowledge = store.knowledge_base()
    if not len(knowledge):
        return []
    return [
        m
        for m in knowledge.search(ticket.text, local_date(now), SIMILAR_ENTRIES)
        if m.score >= SIMILAR_ENTRY_FLOOR
    ]


def _answer_matches(store: KnowledgeStore, ticket: Ticket) -> list[KnowledgeMatch]:
    # Any day: a past answer has no validity dates (the matcher's day only filters entries).
    day = ticket.received_at.date()
    answers = store.past_answers()
    if not len(answers):
        return []
    return [
        m
        for m in answers.search(ticket.text, day, SIMILAR_ENTRIES + 1)
        if m.score >= SIMILAR_ENTRY_FLOOR and m.entry.id != ticket.number
    ][:SIMILAR_ENTRIES]


@dataclass(frozen=True, slots=True)
class Similar:
    """The knowledge base entries and past answers closest to a request, searched once for a
    card's text and its 📋 buttons."""

    entries: list[KnowledgeMatch]
    answers: list[KnowledgeMatch]


def similar_to(store: KnowledgeStore, ticket: Ticket, now: datetime) -> Similar:
    """For an open ticket not answered directly, what staff may start their answer from;
    nothing for the others (their card shows no suggestions)."""
    if not ticket.status.is_open or store.answer_given(ticket.id) is not None:
        return Similar([], [])
    return Similar(_entry_matches(store, ticket, now), _answer_matches(store, ticket))


def similar_entries(similar: Similar, lang: Language) -> str:
    """The knowledge base entries closest to the request (it was not answered directly: none
    was confident), so staff can reuse their answers; "" when none comes near."""
    matches = similar.entries
    if not matches:
        return ""
    lines = "\n".join(
        texts.CARD_SIMILAR_LINE(
            lang, entry=m.entry.id, score=m.score, question=shorten(m.entry.question, 60)
        )
        for m in matches
    )
    return texts.CARD_SIMILAR_ENTRIES(lang, lines=lines)


def similar_answers(similar: Similar, lang: Language) -> str:
    """The answers given to the most similar resolved requests (not this ticket's own), so
    staff reuse what was answered before; "" when none comes near."""
    matches = similar.answers
    if not matches:
        return ""
    lines = "\n".join(
        texts.CARD_SIMILAR_ANSWER_LINE(
            lang, number=m.entry.id, score=m.score, answer=shorten(m.entry.answer, 80)
        )
        for m in matches
    )
    return texts.CARD_SIMILAR_ANSWERS(lang, lines=lines)


def reuse_buttons(hotline: Hotline, ticket: Ticket, similar: Similar, lang: Language) -> Keyboard:
    """For a ticket that can be resolved now, a 📋 button per entry and past answer the card
    lists: a tap starts the answer with it (handlers.answer_review). A key too long for a
    button's data is left out."""
    if ticket.status is not TicketStatus.IN_PROGRESS:
        return ()
    rows: list[tuple[Button, ...]] = []
    for kind, matches in (("k", similar.entries), ("a", similar.answers)):
        row: list[Button] = []
        for match in matches:
            try:
                data = hotline.buttons.sign("reuse", ticket.id, kind, match.entry.id)
            except ValueError:
                continue
            row.append(Button(texts.BUTTON_REUSE(lang, key=shorten(match.entry.id, 16)), data))
        if row:
            rows.append(tuple(row))
    return tuple(rows)


def list_line(ticket: Ticket, lang: Language, *, to_dispatch: bool = False) -> str:
    """A ticket's line in a list: its number, kind, deadline and how the request begins."""
    line = texts.LIST_LINE(
        lang,
        number=ticket.number,
        urgent=texts.CARD_URGENT(lang) if ticket.urgent else "",
        kind=texts.request_type_name(ticket.request_type, lang),
        deadline=show_deadline(ticket.deadline_at, urgent=ticket.urgent),
        text=shorten(" ".join(ticket.text[: LIST_LINE_TEXT * 2].split()), LIST_LINE_TEXT),
    )
    return texts.LIST_WAITING_DISPATCH(lang) + line if to_dispatch else line


def card_buttons(
    hotline: Hotline, ticket: Ticket, lang: Language, *, has_phone: bool, reuse: Keyboard = ()
) -> Keyboard:
    """The moves the department can make now (and ``reuse``: the answers to start from); an
    answered ticket's card offers its answer to the knowledge base."""
    sign = hotline.buttons.sign
    rows: list[tuple[Button, ...]] = []
    if ticket.status is TicketStatus.DISPATCHED:
        rows.append(
            (
                Button(texts.BUTTON_SIGN(lang), sign("sign", ticket.id)),
                Button(texts.BUTTON_RETURN(lang), sign("return", ticket.id)),
            )
        )
    elif ticket.status is TicketStatus.IN_PROGRESS:
        rows.append(
            (
                Button(texts.BUTTON_RESOLVE(lang), sign("resolve", ticket.id)),
                Button(texts.BUTTON_EXTEND(lang), sign("extend", ticket.id)),
            )
        )
        rows.append((Button(texts.BUTTON_RETURN(lang), sign("return", ticket.id)),))
        rows.extend(reuse)
    elif ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        # The answer given may serve the next citizen: 加入知识库 (handlers.knowledge_staff).
        rows.append((Button(texts.BUTTON_ADD_TO_KB(lang), sign("kbadd", ticket.id)),))
    if ticket.status in (TicketStatus.DISPATCHED, TicketStatus.IN_PROGRESS):
        rows.append((Button(texts.BUTTON_CONTACTED(lang), sign("contacted", ticket.id)),))
    if has_phone and ticket.status.is_open:
        rows.append((Button(texts.BUTTON_CONTACT(lang), sign("contact", ticket.id)),))
    return tuple(rows)


def _card_chats(store: Store, hotline: Hotline, ticket: Ticket) -> tuple[list[int], bool]:
    """Where a department's cards go: its group chat, else each of its staff privately, else
    the office (the second value says the office stands in)."""
    if ticket.department_code is None:
        raise ValueError(f"ticket {ticket.number} is in no department: no card to send")
    chat = store.department_chat(ticket.department_code)
    if chat is not None:
        return [chat], False
    staff = [member.telegram_user_id for member in store.department_staff(ticket.department_code)]
    if staff:
        return staff, False
    office = store.office_chat()
    return ([office] if office is not None else []), True


def send_card(
    store: Store,
    hotline: Hotline,
    ticket: Ticket,
    now: datetime,
    *,
    to: int | None = None,
    reply_to: int | None = None,
    replaces_cards: bool = False,
) -> None:
    """A new card (and the citizen's photos and location under it) to the department, or to
    chat ``to`` only (opened from a list: ``reply_to`` the list). With ``replaces_cards`` the
    department's earlier cards of the ticket are superseded by it (a brand-new ticket has
    none: no need to look them up)."""
    lang = Language(hotline.config.hotline.default_language)
    if to is not None:
        chats, office_stands_in = [to], False
    else:
        chats, office_stands_in = _card_chats(store, hotline, ticket)
    citizen = store.citizen(ticket.citizen_id)
    has_phone = bool(citizen and citizen.phone)
    attachments = store.attachments(ticket.id)
    similar = similar_to(store, ticket, now)
    text = card_text(store, hotline, ticket, now, lang, similar, attachments=len(attachments))
    reuse = reuse_buttons(hotline, ticket, similar, lang)
    if replaces_cards:
        _supersede_cards(store, ticket, text, lang, now, only_in=to)
    long_text = len(ticket.text) > CARD_TEXT_LIMIT
    alone = long_text or bool(attachments) or to is not None
    for chat_id in chats:
        if office_stands_in:
            name = hotline.department_name(ticket.department_code, lang) or ""
            notice = texts.NO_DEPARTMENT_CHAT(lang, department=name, number=ticket.number)
            store.queue(Outgoing(chat_id=chat_id, text=notice, ticket_id=ticket.id), now)
        card = Outgoing(
            chat_id=chat_id,
            text=text,
            buttons=card_buttons(hotline, ticket, lang, has_phone=has_phone, reuse=reuse),
            reply_to_message_id=reply_to,
            ticket_id=ticket.id,
            purpose="card",
            tag=ticket.department_code,
            # what replies under a card needs the card itself, not a list
            summary=None if alone else list_line(ticket, lang),
        )
        if not (long_text or attachments):
            store.queue(card, now)
            continue
        card_id = store.queue_with_id(card, now)  # what follows replies under the card
        if long_text:
            full = texts.FULL_TEXT(lang, number=ticket.number, text=ticket.text)
            store.queue(
                Outgoing(
                    chat_id=chat_id,
                    text=shorten(full, 4096),
                    reply_to_outbox_id=card_id,
                    ticket_id=ticket.id,
                    purpose="card_text",
                ),
                now,
            )
        for item in attachments:
            store.queue(attachment_message(chat_id, item, ticket.id, card_id), now)


def _supersede_cards(
    store: Outbox, ticket: Ticket, text: str, lang: Language, now: datetime, *, only_in: int | None
) -> None:
    """One ticket, one live card: the department's earlier cards of the ticket (all of them, or
    those in chat ``only_in``) say that a new card replaces them, and lose their buttons; they
    get no more follow-ups or edits (the card sent again after 重办)."""
    for card in store.ticket_cards(ticket.id):
        if card.tag != ticket.department_code or only_in not in (None, card.chat_id):
            continue
        store.supersede_card(card.outbox_id)
        store.queue(
            Outgoing(
                chat_id=card.chat_id,
                method=Method.EDIT_TEXT,
                edit_outbox_id=card.outbox_id,
                text=text + texts.CARD_SUPERSEDED(lang),
                ticket_id=ticket.id,
                purpose=SUPERSEDED_CARD,
                tag=card.tag,
            ),
            now,
        )


_SEND_METHODS = {
    ItemKind.PHOTO: Method.SEND_PHOTO,
    ItemKind.DOCUMENT: Method.SEND_DOCUMENT,
    ItemKind.VIDEO: Method.SEND_VIDEO,
    ItemKind.VOICE: Method.SEND_VOICE,
    ItemKind.AUDIO: Method.SEND_AUDIO,
}


def attachment_message(
    chat_id: int,
    item: NewItem,
    ticket_id: int,
    reply_to: int | None,
    *,
    purpose: str = "attachment",
) -> Outgoing:
    """Re-send something a person sent (by file_id: no download), optionally under a message."""
    if item.kind is ItemKind.LOCATION:
        return Outgoing(
            chat_id=chat_id,
            method=Method.SEND_LOCATION,
            latitude=item.latitude,
            longitude=item.longitude,
            reply_to_outbox_id=reply_to,
            ticket_id=ticket_id,
            purpose=purpose,
        )
    return Outgoing(
        chat_id=chat_id,
        method=_SEND_METHODS.get(item.kind, Method.SEND_DOCUMENT),
        file_id=item.file_id,
        text=item.text or "",
        reply_to_outbox_id=reply_to,
        ticket_id=ticket_id,
        purpose=purpose,
    )


def refresh_cards(store: Store, hotline: Hotline, ticket: Ticket, now: datetime) -> None:
    """Edit every card of the ticket in place: the current department's show the buttons that
    fit the new status; cards left in a former department's chat lose theirs."""
    lang = Language(hotline.config.hotline.default_language)
    citizen = store.citizen(ticket.citizen_id)
    has_phone = bool(citizen and citizen.phone)
    similar = similar_to(store, ticket, now)
    text = card_text(store, hotline, ticket, now, lang, similar)
    buttons = card_buttons(
        hotline,
        ticket,
        lang,
        has_phone=has_phone,
        reuse=reuse_buttons(hotline, ticket, similar, lang),
    )
    for card in store.ticket_cards(ticket.id):
        current = card.tag == ticket.department_code
        store.queue(
            Outgoing(
                chat_id=card.chat_id,
                method=Method.EDIT_TEXT,
                edit_outbox_id=card.outbox_id,
                text=text if current else text + texts.CARD_MOVED_AWAY(lang),
                buttons=buttons if current else (),
                ticket_id=ticket.id,
                purpose="card",
                tag=card.tag,
            ),
            now,
        )
