"""What a citizen can do in a private chat with the bot: submit requests, add photos, a
location or a phone number, see their tickets, switch language.

Every function takes the unit of work (``store``), the incoming event and ``now``, changes the
state, and queues what the citizen must receive in the same transaction.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime, timedelta

from handlers import lifecycle, texts
from handlers.cards import attachment_message, refresh_cards
from handlers.context import Hotline
from handlers.direct_answers import close_as_answered, offer_direct_answer, settle_offer_message
from handlers.dispatching import office_chats, office_language, route_new_ticket
from handlers.display import mask_phone, shorten, show_date, show_datetime
from handlers.events import Content, IncomingMessage
from handlers.model import (
    Citizen,
    ItemKind,
    KbOffer,
    Language,
    NewItem,
    NewTicket,
    OfferOutcome,
    RequestType,
    Role,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from handlers.numbering import normalize_ticket_number
from handlers.outgoing import Button, Keyboard, Method, Outgoing, Reaction
from handlers.ports import Store, Tickets
from handlers.request_types import guess_request_type
from handlers.rows import one_row
from scheduler.deadlines import local_date, reopened_deadline

MY_TICKETS_SHOWN = 10
NUMBER_IN_TEXT = re.compile(r"\d{8}-\d{4,}")
_MEDIA_KINDS = {
    Content.PHOTO: ItemKind.PHOTO,
    Content.DOCUMENT: ItemKind.DOCUMENT,
    Content.VIDEO: ItemKind.VIDEO,
    Content.VOICE: ItemKind.VOICE,
    Content.AUDIO: ItemKind.AUDIO,
}
# Characters that show nothing: a message made only of these has no words. Format characters
# (zero-width space and joiners, BOM, word joiner …), separators and controls by category; and
# the fillers and blanks used to send "empty" messages.
_INVISIBLE_CATEGORIES = {"Cf", "Cc", "Zs", "Zl", "Zp", "Mn", "Me"}
_BLANK_LOOKING = {"\u115f", "\u1160", "\u2800", "\u3164", "\uffa0"}
_TYPE_BUTTON_ROWS = (
    (RequestType.CONSULTATION, RequestType.HELP, RequestType.COMPLAINT),
    (RequestType.REPORT, RequestType.SUGGESTION),
)


def words_of(text: str) -> str:
    """The text without surrounding blanks; "" if nothing in it would show on a screen."""
    text = text.strip()
    if any(
        not ch.isspace()
        and ch not in _BLANK_LOOKING
        and unicodedata.category(ch) not in _INVISIBLE_CATEGORIES
        for ch in text
    ):
        return text
    return ""


def handle_private_message(
    store: Store, hotline: Hotline, msg: IncomingMessage, now: datetime
) -> None:
    """Everything a citizen writes to the bot lands here, and each message gets an answer."""
    citizen = store.citizen_for(msg.sender, msg.chat_id, now)
    lang = citizen.language

    def reply(text: str) -> None:
        store.queue(Outgoing(chat_id=msg.chat_id, text=text), now)

    if msg.edited:
        reply(texts.EDIT_NOT_APPLIED(lang))
    elif msg.content is Content.COMMAND:
        _command(store, hotline, citizen, msg, now)
    elif msg.content is Content.TEXT:
        _text(store, hotline, citizen, msg, now)
    elif msg.content in _MEDIA_KINDS:
        _media(store, hotline, citizen, msg, now)
    elif msg.content is Content.LOCATION:
        _location(store, hotline, citizen, msg, now)
    elif msg.content is Content.CONTACT:
        _contact(store, citizen, msg, now)
    elif msg.content is Content.STICKER:
        reply(texts.UNSUPPORTED(lang, what=texts.WHAT_STICKER(lang)))
    else:
        reply(texts.UNSUPPORTED(lang, what=texts.WHAT_OTHER(lang)))


# -- commands ----------------------------------------------------------------------------------


def _command(
    store: Store, hotline: Hotline, citizen: Citizen, msg: IncomingMessage, now: datetime
) -> None:
    lang = citizen.language
    out = Outgoing(chat_id=citizen.chat_id, text="")
    match msg.command:
        case "start":
            days = hotline.config.sla.days_for(RequestType.HELP)
            name = hotline.config.hotline.name_en if lang is Language.EN else hotline.name
            out = Outgoing(chat_id=citizen.chat_id, text=texts.START(lang, hotline=name, days=days))
        case "help":
            out = Outgoing(chat_id=citizen.chat_id, text=texts.HELP(lang))
        case "lang" | "language":
            lang = _chosen_language(msg.command_args, lang)
            store.set_citizen_language(citizen.id, lang)
            out = Outgoing(chat_id=citizen.chat_id, text=texts.LANGUAGE_SET(lang))
        case "my":
            out = Outgoing(chat_id=citizen.chat_id, text=_my_tickets(store, citizen))
        case "status":
            out = Outgoing(chat_id=citizen.chat_id, text=_status(store, hotline, citizen, msg))
        case "phone":
            out = _ask_for_phone(citizen, texts.ASK_PHONE)
        case _:
            out = Outgoing(
                chat_id=citizen.chat_id,
                text=texts.UNKNOWN_COMMAND(lang, command=shorten(f"/{msg.command}", 40)),
            )
    store.queue(out, now)


def _chosen_language(args: str, current: Language) -> Language:
    """``/lang en`` or ``/lang zh`` choose; a bare ``/lang`` switches to the other one."""
    wanted = args.strip().lower()
    if wanted.startswith("en"):
        return Language.EN
    if wanted.startswith(("zh", "cn", "中")):
        return Language.ZH
    return Language.ZH if current is Language.EN else Language.EN


def _my_tickets(store: Tickets, citizen: Citizen) -> str:
    lang = citizen.language
    tickets = store.citizen_tickets(citizen.id, MY_TICKETS_SHOWN)
    if not tickets:
        return texts.MY_TICKETS_NONE(lang)
    lines = [texts.MY_TICKETS_HEADER(lang, count=len(tickets))]
    lines += [
        texts.MY_TICKETS_LINE(
            lang,
            number=ticket.number,
            kind=texts.request_type_name(ticket.request_type, lang),
            status=texts.status_name(ticket.status, lang),
            deadline=show_date(ticket.deadline_at),
        )
        for ticket in tickets
    ]
    return "\n".join(lines)


def _status(store: Tickets, hotline: Hotline, citizen: Citizen, msg: IncomingMessage) -> str:
    lang = citizen.language
    if not msg.command_args.strip():
        return texts.STATUS_USAGE(lang)
    number = normalize_ticket_number(msg.command_args)
    ticket = store.ticket_by_number(number) if number else None
    # Someone else's ticket is answered exactly like a missing one: numbers are guessable.
    if ticket is None or ticket.citizen_id != citizen.id:
        return texts.STATUS_NOT_FOUND(lang, number=shorten(msg.command_args.strip(), 30))
    return texts.TICKET_STATUS(
        lang,
        number=ticket.number,
        kind=texts.request_type_name(ticket.request_type, lang),
        status=texts.status_name(ticket.status, lang),
        where=_where(hotline, ticket, lang),
        received=show_datetime(ticket.received_at),
        deadline=show_date(ticket.deadline_at),
        estimated=texts.ESTIMATED_NOTE(lang) if ticket.deadline_estimated else "",
        text=shorten(ticket.text, 300),
    )


# -- requests and what comes with them ---------------------------------------------------------


def _text(
    store: Store, hotline: Hotline, citizen: Citizen, msg: IncomingMessage, now: datetime
) -> None:
    lang = citizen.language
    body = words_of(msg.text)
    if not body:
        store.queue(Outgoing(chat_id=citizen.chat_id, text=texts.EMPTY_MESSAGE(lang)), now)
        return
    limit = hotline.config.intake.max_text_chars
    if len(body) > limit:
        text = texts.TOO_LONG(lang, length=len(body), limit=limit)
        store.queue(Outgoing(chat_id=citizen.chat_id, text=text), now)
        return
    replied = _replied_ticket(store, citizen, msg)
    if replied is not None:
        add_follow_up(
            store,
            hotline,
            citizen,
            replied,
            _item_from(msg, citizen, ItemKind.TEXT, now),
            msg.message_id,
            now,
        )
        return
    waiting = store.pending_kb_offer(citizen.id)
    if waiting is not None:
        hold = timedelta(minutes=hotline.config.intake.hold_minutes)
        if waiting.created_at >= now - hold:
            # Writing again after a direct answer: it did not settle the matter.
            hand_over(
                store,
                hotline,
                citizen,
                waiting,
                OfferOutcome.FOLLOW_UP,
                now,
                body=body,
                message_id=msg.message_id,
            )
            return
        settle_late_offer(store, hotline, citizen, waiting, now)  # the sweep has not yet
    if offer_direct_answer(store, hotline, citizen, body, msg.message_id, now):
        return
    open_ones = store.open_tickets_of(citizen.id)
    if open_ones:
        offer_choice(store, hotline, citizen, msg, body, open_ones, now)
        return
    open_ticket(store, hotline, citizen, body, msg.message_id, now)


def open_ticket(
    store: Store,
    hotline: Hotline,
    citizen: Citizen,
    text: str,
    message_id: int | None,
    now: datetime,
    *,
    first_item: NewItem | None = None,
    preface: str = "",
    answered: tuple[KbOffer, OfferOutcome] | None = None,
) -> Ticket:
    """受理: a new ticket with its number and deadline, routed to a department (or the dispatch
    queue), and the citizen's confirmation. ``answered``: the direct answer the ticket takes
    over, linked before routing so that the first card shows it."""
    request_type = guess_request_type(text)
    deadline = hotline.deadline_for(request_type, now)
    ticket = store.add_ticket(
        NewTicket(
            number=store.next_ticket_number(local_date(now)),
            citizen_id=citizen.id,
            request_type=request_type,
            text=text,
            status=TicketStatus.RECEIVED,
            received_at=now,
            deadline_at=deadline.due,
            deadline_estimated=deadline.estimated,
        )
    )
    if first_item is not None:
        store.add_item(replace(first_item, ticket_id=ticket.id))
    store.adopt_pending_items(citizen.id, ticket.id)
    store.record(lifecycle.received(ticket, citizen, now))
    if answered is not None:
        offer, outcome = answered
        store.decide_kb_offer(offer.id, outcome.value, ticket.id, now)
        store.record(
            TicketEvent(
                ticket_id=ticket.id,
                at=now,
                actor_role=Role.CITIZEN,
                actor_id=citizen.telegram_user_id,
                action="direct_answer_handed_over",
                data={"entry": offer.entry_key, "outcome": outcome.value, "score": offer.score},
            )
        )
    ticket = route_new_ticket(store, hotline, ticket, now)
    store.queue(
        Outgoing(
            chat_id=citizen.chat_id,
            text=preface + confirmation_text(hotline, ticket, citizen.language),
            buttons=type_buttons(hotline, ticket, citizen.language),
            reply_to_message_id=message_id,
            ticket_id=ticket.id,
            purpose="confirmation",
        ),
        now,
    )
    return ticket


def confirmation_text(hotline: Hotline, ticket: Ticket, lang: Language) -> str:
    return texts.TICKET_RECEIVED(
        lang,
        number=ticket.number,
        kind=texts.request_type_name(ticket.request_type, lang),
        where=_where(hotline, ticket, lang),
        deadline=show_date(ticket.deadline_at),
        estimated=texts.ESTIMATED_NOTE(lang) if ticket.deadline_estimated else "",
    )


def type_buttons(hotline: Hotline, ticket: Ticket, lang: Language) -> Keyboard:
    """One tap sets the request type; the current one is ticked."""
    return tuple(
        tuple(
            Button(
                text=("✓ " if kind is ticket.request_type else "")
                + texts.request_type_name(kind, lang),
                data=hotline.buttons.sign("type", ticket.id, kind.value),
            )
            for kind in row
        )
        for row in _TYPE_BUTTON_ROWS
    )


def _where(hotline: Hotline, ticket: Ticket, lang: Language) -> str:
    name = hotline.department_name(ticket.department_code, lang)
    return name if name else texts.DISPATCH_QUEUE(lang)


def _replied_ticket(store: Store, citizen: Citizen, msg: IncomingMessage) -> Ticket | None:
    """The citizen's ticket that this message replies to, if it replies to one."""
    if msg.reply_to_message_id is None or not msg.reply_to_bot:
        return None
    sent = store.sent_message(msg.chat_id, msg.reply_to_message_id)
    if sent is not None:
        ticket = store.ticket(sent.ticket_id) if sent.ticket_id is not None else None
    else:
        # Not (yet) on record, e.g. answered within moments of being sent: the bot's messages
        # about a ticket name its number.
        found = NUMBER_IN_TEXT.search(msg.reply_to_text or "")
        ticket = store.ticket_by_number(found.group()) if found else None
    return ticket if ticket is not None and ticket.citizen_id == citizen.id else None


def _current_ticket(store: Store, citizen: Citizen, msg: IncomingMessage) -> Ticket | None:
    """Where an attachment goes: the ticket replied to, else the latest open one."""
    return _replied_ticket(store, citizen, msg) or store.latest_open_ticket(citizen.id)


def _item_from(msg: IncomingMessage, citizen: Citizen, kind: ItemKind, now: datetime) -> NewItem:
    return NewItem(
        kind=kind,
        author=Role.CITIZEN,
        created_at=now,
        citizen_id=citizen.id,
        text=words_of(msg.text) or None,
        file_id=msg.file_id,
        file_unique_id=msg.file_unique_id,
        latitude=msg.latitude,
        longitude=msg.longitude,
    )


def add_follow_up(
    store: Store,
    hotline: Hotline,
    citizen: Citizen,
    ticket: Ticket,
    item: NewItem,
    message_id: int | None,
    now: datetime,
) -> None:
    """More about an existing ticket: stored on it, passed on to whoever handles it."""
    item = replace(item, ticket_id=ticket.id)
    store.add_item(item)
    store.record(
        TicketEvent(
            ticket_id=ticket.id,
            at=now,
            actor_role=Role.CITIZEN,
            actor_id=citizen.telegram_user_id,
            action=f"added_{item.kind.value}",
        )
    )
    forward_to_handlers(store, hotline, ticket, item, now)
    if item.kind is ItemKind.TEXT:
        phrase = texts.ADDED_TO_TICKET
    elif item.kind is ItemKind.LOCATION:
        phrase = texts.ATTACHED_LOCATION
    else:
        phrase = texts.ATTACHED
    store.queue(
        Outgoing(
            chat_id=citizen.chat_id,
            text=phrase(citizen.language, number=ticket.number),
            reply_to_message_id=message_id,
            ticket_id=ticket.id,
            purpose="attached",
        ),
        now,
    )


def forward_to_handlers(
    store: Store, hotline: Hotline, ticket: Ticket, item: NewItem, now: datetime
) -> None:
    """The citizen's addition goes under the department's card (or to the office while the
    ticket waits for dispatch); staff answer it by replying."""
    lang = office_language(hotline)
    if item.text:
        text = texts.RELAY_TO_STAFF(lang, number=ticket.number, text=item.text)
    else:  # a photo without a caption: no empty line where the words would be
        text = texts.RELAY_MEDIA_TO_STAFF(lang, number=ticket.number)
    cards = [c for c in store.ticket_cards(ticket.id) if c.tag == ticket.department_code]
    targets: list[tuple[int, int | None]] = [(c.chat_id, c.outbox_id) for c in cards]
    if ticket.department_code is None or not targets:
        targets = [(chat_id, None) for chat_id in office_chats(store)]
    for chat_id, card_id in targets:
        if item.kind is ItemKind.TEXT:
            message = Outgoing(chat_id=chat_id, text=text, reply_to_outbox_id=card_id)
        else:
            message = attachment_message(chat_id, item, ticket.id, card_id)
            if message.method is not Method.SEND_LOCATION:
                message = replace(message, text=shorten(text, 1024))
        store.queue(replace(message, ticket_id=ticket.id, purpose="citizen_followup"), now)


def _hold_for_next_request(
    store: Store, citizen: Citizen, msg: IncomingMessage, kind: ItemKind, now: datetime
) -> None:
    """Nothing to attach to yet: keep the item until the citizen describes the request."""
    store.add_item(_item_from(msg, citizen, kind, now))
    reply = texts.HELD_FOR_NEXT(citizen.language, what=_what(kind, citizen.language))
    store.queue(Outgoing(chat_id=citizen.chat_id, text=reply), now)


def _what(kind: ItemKind, lang: Language) -> str:
    what = {
        ItemKind.PHOTO: texts.WHAT_PHOTO,
        ItemKind.DOCUMENT: texts.WHAT_FILE,
        ItemKind.LOCATION: texts.WHAT_LOCATION,
    }.get(kind, texts.WHAT_MEDIA)
    return what(lang)


def _media(
    store: Store, hotline: Hotline, citizen: Citizen, msg: IncomingMessage, now: datetime
) -> None:
    kind = _MEDIA_KINDS[msg.content]
    caption = words_of(msg.text)
    limit = hotline.config.intake.max_text_chars
    if len(caption) > limit:
        # Like a long text: refused whole, and said so (kept, the words would be cut on cards).
        text = texts.CAPTION_TOO_LONG(
            citizen.language, length=len(caption), limit=limit, what=_what(kind, citizen.language)
        )
        store.queue(
            Outgoing(chat_id=citizen.chat_id, text=text, reply_to_message_id=msg.message_id), now
        )
        return
    ticket = _current_ticket(store, citizen, msg)
    if ticket is not None:
        add_follow_up(
            store,
            hotline,
            citizen,
            ticket,
            _item_from(msg, citizen, kind, now),
            msg.message_id,
            now,
        )
    elif caption:
        # A captioned photo with nothing open is a request in itself.
        item = _item_from(msg, citizen, kind, now)
        open_ticket(store, hotline, citizen, caption, msg.message_id, now, first_item=item)
    else:
        _hold_for_next_request(store, citizen, msg, kind, now)


def _location(
    store: Store, hotline: Hotline, citizen: Citizen, msg: IncomingMessage, now: datetime
) -> None:
    ticket = _current_ticket(store, citizen, msg)
    if ticket is None:
        _hold_for_next_request(store, citizen, msg, ItemKind.LOCATION, now)
        return
    store.update_ticket(ticket.id, now, lifecycle.locate(msg.latitude, msg.longitude))
    item = _item_from(msg, citizen, ItemKind.LOCATION, now)
    add_follow_up(store, hotline, citizen, ticket, item, msg.message_id, now)


def _ask_for_phone(citizen: Citizen, phrase: texts.Phrase) -> Outgoing:
    """A message asking for the citizen's phone, with the one button that shares their own
    number (Telegram's request_contact; a typed or forwarded number is never taken)."""
    button = texts.BUTTON_SHARE_PHONE(citizen.language)
    return Outgoing(
        chat_id=citizen.chat_id,
        text=phrase(citizen.language, button=button),
        contact_button=button,
    )


def _contact(store: Store, citizen: Citizen, msg: IncomingMessage, now: datetime) -> None:
    lang = citizen.language
    # Only the citizen's own number: a contact card of someone else is a third party's data.
    if not msg.contact_phone or msg.contact_user_id != msg.sender.user_id:
        store.queue(_ask_for_phone(citizen, texts.PHONE_NOT_YOURS), now)
        return
    store.set_citizen_phone(citizen.id, msg.contact_phone)
    reply = texts.PHONE_SAVED(lang, phone=mask_phone(msg.contact_phone))
    ticket = _current_ticket(store, citizen, msg)
    if ticket is not None:
        # The number itself stays on the citizen; the ticket records that it was shared.
        store.add_item(
            NewItem(
                kind=ItemKind.CONTACT,
                author=Role.CITIZEN,
                created_at=now,
                ticket_id=ticket.id,
                citizen_id=citizen.id,
            )
        )
        reply += "\n" + texts.ATTACHED(lang, number=ticket.number)
    store.queue(
        Outgoing(
            chat_id=citizen.chat_id,
            text=reply,
            ticket_id=ticket.id if ticket else None,
            remove_keyboard=True,  # the share button has done its job
        ),
        now,
    )


# -- buttons -----------------------------------------------------------------------------------


def change_request_type(
    store: Store,
    hotline: Hotline,
    citizen: Citizen,
    ticket_id: int,
    wanted: str,
    message_id: int | None,
    now: datetime,
) -> Reaction:
    """The citizen taps a type on their confirmation: set it, re-count the deadline."""
    lang = citizen.language
    ticket = store.ticket(ticket_id, lock=True)
    try:
        kind = RequestType(wanted)
    except ValueError:
        return Reaction(texts.BUTTON_INVALID(lang))
    if ticket is None or ticket.citizen_id != citizen.id:
        return Reaction(texts.BUTTON_NOT_YOURS(lang), callback_alert=True)
    if not ticket.status.is_open:
        status = texts.status_name(ticket.status, lang)
        return Reaction(texts.TYPE_LOCKED(lang, number=ticket.number, status=status))
    if kind is ticket.request_type:
        return Reaction(texts.TYPE_UNCHANGED(lang, kind=texts.request_type_name(kind, lang)))
    new_deadline: tuple[datetime, bool] | None = None
    if not ticket.urgent:
        deadline = hotline.deadline_for(kind, ticket.received_at)
        if ticket.reopen_count:
            # 重办 counted a fresh period from the re-opening: a new type never brings the
            # deadline back before it.
            deadline = reopened_deadline(deadline, ticket.deadline_at, ticket.deadline_estimated)
        new_deadline = (deadline.due, deadline.estimated)
    updated = lifecycle.save(
        store, lifecycle.change_type(ticket, citizen, kind, now, deadline=new_deadline)
    )
    refresh_cards(store, hotline, updated, now)  # the department's card shows type and deadline
    if message_id is not None:
        store.queue(
            Outgoing(
                chat_id=citizen.chat_id,
                method=Method.EDIT_TEXT,
                edit_message_id=message_id,
                text=confirmation_text(hotline, updated, lang),
                buttons=type_buttons(hotline, updated, lang),
                ticket_id=ticket.id,
                purpose="confirmation",
            ),
            now,
        )
    return Reaction(texts.TYPE_CHANGED(lang, kind=texts.request_type_name(kind, lang)))


# -- one more request, or more on an open one? -----------------------------------------------------


def offer_choice(
    store: Store,
    hotline: Hotline,
    citizen: Citizen,
    msg: IncomingMessage,
    body: str,
    open_ones: list[Ticket],
    now: datetime,
) -> None:
    """A citizen with open tickets writes again: one tap decides whether it is more on one of
    them or a new request. A close match to one of them is asked as a repeat (并单) question.
    The message is kept meanwhile, so nothing is lost while they decide."""
    lang = citizen.language
    window = now - timedelta(days=hotline.config.routing.repeat_window_days)
    recent = [t for t in open_ones if t.received_at >= window]
    scored = sorted(
        ((hotline.router.similarity(body, t.text), t) for t in recent), key=lambda p: -p[0]
    )
    if scored and scored[0][0] >= hotline.config.routing.repeat_similarity:
        offered, reason = scored[0][1], "repeat"
        yes, no = texts.BUTTON_SAME_YES(lang), texts.BUTTON_SAME_NO(lang)
    else:
        offered, reason = open_ones[0], "open"
        yes, no = texts.BUTTON_ADD(lang, number=offered.number), texts.BUTTON_NEW(lang)
    question = _held_question(lang, reason, offered)
    held = store.hold_message(
        citizen.id, offered.id, reason, _item_from(msg, citizen, ItemKind.TEXT, now), msg.message_id
    )
    sign = hotline.buttons.sign
    store.queue(
        Outgoing(
            chat_id=citizen.chat_id,
            text=question,
            buttons=(
                (
                    Button(yes, sign("held", held.id, "add")),
                    Button(no, sign("held", held.id, "new")),
                ),
            ),
            reply_to_message_id=msg.message_id,
            purpose="held",
        ),
        now,
    )


def _held_question(lang: Language, reason: str, offered: Ticket) -> str:
    """The question on a held message; the offered ticket is named by how its request begins,
    so the citizen knows which one is meant."""
    start = shorten(" ".join(offered.text[:120].split()), 40)
    phrase = texts.ASK_SAME_REQUEST if reason == "repeat" else texts.ASK_ADD_OR_NEW
    return phrase(lang, number=offered.number, text=start)


def decide_held(
    store: Store,
    hotline: Hotline,
    citizen: Citizen,
    held_id: int,
    choice: str,
    message_id: int | None,
    now: datetime,
) -> Reaction:
    """The citizen's tap on "more on ticket X" / "a new request"."""
    lang = citizen.language
    held = store.held_message(held_id, lock=True)
    if held is None or held.citizen_id != citizen.id or choice not in {"add", "new"}:
        return Reaction(texts.BUTTON_NOT_YOURS(lang), callback_alert=True)
    if held.decided_at is not None:
        return Reaction(texts.HELD_ALREADY_DECIDED(lang))
    store.decide_held(held.id, now)
    item = NewItem(
        kind=held.kind,
        author=Role.CITIZEN,
        created_at=held.created_at,
        citizen_id=citizen.id,
        text=held.text,
        file_id=held.file_id,
        file_unique_id=held.file_unique_id,
    )
    offered = store.ticket(held.offered_ticket_id, lock=True)
    if choice == "add" and offered is not None and offered.status.is_open:
        add_follow_up(store, hotline, citizen, offered, item, held.message_id, now)
        if held.reason == "repeat":
            store.record(
                TicketEvent(
                    ticket_id=offered.id,
                    at=now,
                    actor_role=Role.CITIZEN,
                    actor_id=citizen.telegram_user_id,
                    action="repeat_merged",
                )
            )
        outcome = texts.HELD_ADDED(lang, number=offered.number)
    else:
        ticket = open_ticket(store, hotline, citizen, held.text or "", held.message_id, now)
        outcome = texts.HELD_OPENED(lang, number=ticket.number)
    if message_id is not None:
        # The question loses its buttons and says what was done.
        question = _held_question(lang, held.reason, offered) + "\n\n" if offered else ""
        store.queue(
            Outgoing(
                chat_id=citizen.chat_id,
                method=Method.EDIT_TEXT,
                edit_message_id=message_id,
                text=question + "✓ " + outcome,
                purpose="held",
            ),
            now,
        )
    return Reaction(outcome)


def open_undecided(
    store: Store, hotline: Hotline, now: datetime, limit: int = 200, *, skip: Collection[int] = ()
) -> int:
    """Messages whose citizen never chose become new requests: a possible duplicate is better
    than a lost request (dispatchers can still merge). Held messages in ``skip`` failed
    before: left out."""
    minutes = hotline.config.intake.hold_minutes
    opened = 0
    for held in store.undecided_held(now - timedelta(minutes=minutes), limit):
        if held.id in skip:
            continue
        with one_row("held message", held.id, ticket_id=None):
            citizen = store.citizen(held.citizen_id)
            store.decide_held(held.id, now)
            if citizen is None or not held.text:
                continue
            preface = texts.HELD_TIMED_OUT(citizen.language, minutes=minutes) + "\n"
            open_ticket(store, hotline, citizen, held.text, held.message_id, now, preface=preface)
        opened += 1
    return opened


# -- after a direct answer (直接答复) --------------------------------------------------------------


def hand_over(
    store: Store,
    hotline: Hotline,
    citizen: Citizen,
    offer: KbOffer,
    outcome: OfferOutcome,
    now: datetime,
    *,
    body: str = "",
    message_id: int | None = None,
) -> Ticket:
    """The direct answer did not settle it: an ordinary ticket with the question (and what the
    citizen wrote since), whose card shows the answer already given."""
    text = offer.question + ("\n" + body if body else "")
    limit = hotline.config.intake.max_text_chars
    ticket = open_ticket(
        store,
        hotline,
        citizen,
        text[:limit],
        message_id if message_id is not None else offer.message_id,
        now,
        preface=texts.DIRECT_TO_PERSON(citizen.language) + "\n",
        answered=(offer, outcome),
    )
    note = texts.DIRECT_HANDED_OVER(citizen.language, number=ticket.number)
    settle_offer_message(store, hotline, citizen, offer, note, now)
    return ticket


def settle_late_offer(
    store: Store, hotline: Hotline, citizen: Citizen, offer: KbOffer, now: datetime
) -> None:
    """An offer past its window that the sweep has not reached yet: counted as answered."""
    ticket = close_as_answered(store, hotline, citizen, offer, OfferOutcome.TIMEOUT, now)
    minutes = hotline.config.intake.hold_minutes
    note = texts.DIRECT_TIMED_OUT(citizen.language, minutes=minutes, number=ticket.number)
    settle_offer_message(store, hotline, citizen, offer, note, now)


def decide_direct_answer(
    store: Store,
    hotline: Hotline,
    citizen: Citizen,
    offer_id: int,
    choice: str,
    now: datetime,
) -> Reaction:
    """The citizen's tap on 已解决 / 仍需人工办理 under a direct answer."""
    lang = citizen.language
    offer = store.kb_offer(offer_id, lock=True)
    if offer is None or offer.citizen_id != citizen.id or choice not in {"ok", "human"}:
        return Reaction(texts.BUTTON_NOT_YOURS(lang), callback_alert=True)
    if offer.decided_at is not None:
        ticket = store.ticket(offer.ticket_id) if offer.ticket_id is not None else None
        return Reaction(texts.DIRECT_ALREADY_DECIDED(lang, number=ticket.number if ticket else ""))
    if choice == "ok":
        ticket = close_as_answered(store, hotline, citizen, offer, OfferOutcome.RESOLVED, now)
        outcome = texts.DIRECT_SOLVED(lang, number=ticket.number)
        settle_offer_message(store, hotline, citizen, offer, outcome, now)
        return Reaction(outcome)
    ticket = hand_over(store, hotline, citizen, offer, OfferOutcome.HUMAN, now)
    return Reaction(texts.DIRECT_HANDED_OVER(lang, number=ticket.number))
