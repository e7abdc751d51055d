"""Lists for busy groups.

Telegram lets a bot post about 20 messages a minute to one group. After a storm a department's
chat, or the office's dispatch queue, can be owed hundreds of new cards: one by one they would
trickle in for an hour. So delivery (``bot.delivery``) sends what waits for a busy group as
lists instead, up to 20 tickets a message, one line each (``Outgoing.summary``, written by
``cards.list_line``), and a tap on a ticket's number brings its full card, or its request to
dispatch, as a reply to the list. At ordinary rates every ticket still gets its own card.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from handlers import texts
from handlers.buttons import BadButton, ButtonAction
from handlers.cards import send_card
from handlers.context import Hotline
from handlers.dispatching import offer_for_dispatch
from handlers.display import shorten
from handlers.events import ButtonPress
from handlers.model import Language, TicketStatus
from handlers.outgoing import Button, Outgoing, Reaction
from handlers.ports import Store
from handlers.staff import refuse_press

BUTTONS_PER_ROW = 5
_WAITING_DISPATCH = (TicketStatus.RECEIVED, TicketStatus.RETURNED)


def ticket_list(
    hotline: Hotline, chat_id: int, entries: Sequence[tuple[int | None, str]]
) -> Outgoing:
    """One message for several waiting ones: their lines, numbered, and a button each."""
    lang = Language(hotline.config.hotline.default_language)
    lines = [texts.LIST_HEADER(lang, count=len(entries))]
    lines += [f"{index}. {line}" for index, (_, line) in enumerate(entries, 1)]
    buttons = [
        Button(str(index), hotline.buttons.sign("open", ticket_id))
        for index, (ticket_id, _) in enumerate(entries, 1)
        if ticket_id is not None
    ]
    return Outgoing(
        chat_id=chat_id,
        text=shorten("\n".join(lines), 4096),
        buttons=tuple(
            tuple(buttons[i : i + BUTTONS_PER_ROW]) for i in range(0, len(buttons), BUTTONS_PER_ROW)
        ),
        purpose="ticket_list",
    )


def on_open_button(
    store: Store, hotline: Hotline, press: ButtonPress, action: ButtonAction, now: datetime
) -> Reaction:
    """A number on a list: the ticket's card (or request to dispatch) in this chat, as a reply
    to the list, for staff who may act on it."""
    ticket = store.ticket(action.int_arg(0))
    if ticket is None:
        raise BadButton("open: no such ticket")
    staff = store.staff_member(press.sender.user_id)
    if staff is None or not staff.may_handle(ticket):
        return refuse_press(store, ticket, press, action, staff, now)
    chat_id = press.chat_id if press.chat_id is not None else staff.telegram_user_id
    if ticket.status in _WAITING_DISPATCH:
        offer_for_dispatch(store, hotline, ticket, chat_id, now, reply_to=press.message_id)
    else:
        send_card(store, hotline, ticket, now, to=chat_id, reply_to=press.message_id)
    return Reaction()
