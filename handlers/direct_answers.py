"""直接答复: a consultation answered at once from the knowledge base (知识库).

A citizen's new message that the knowledge base answers with confidence (see
``handlers.knowledge``: a confident, distinct match, and the message asks rather than asks for
action) gets the entry's answer with two buttons, 已解决 and 仍需人工办理, instead of a ticket.
The answer waits as an *offer* for the citizen's word:

* 已解决, or no word within the hold window (``intake.hold_minutes``, 30 by default, the sweep),
  records a directly answered contact: a ticket of type 咨询 created and closed at once, so it
  is numbered, in ``/my`` and ``/status``, in the statistics and the export. It goes to no
  department and has no assignment and no resolution: it is a contact answered on the spot,
  not a work order, so it counts in no department's sign-for, on-time or overdue figures.
* 仍需人工办理, or any further message while the offer waits, makes it an ordinary ticket
  (``handlers.citizen.hand_over``), whose card shows the answer already given.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from handlers import lifecycle, texts
from handlers.context import Hotline
from handlers.model import (
    Citizen,
    KbOffer,
    Language,
    NewKbOffer,
    NewTicket,
    OfferOutcome,
    RequestType,
    Ticket,
    TicketStatus,
)
from handlers.outgoing import Button, Method, Outgoing
from handlers.ports import Outbox, Store
from handlers.rows import one_row
from scheduler.deadlines import local_date


def offer_direct_answer(
    store: Store,
    hotline: Hotline,
    citizen: Citizen,
    body: str,
    message_id: int | None,
    now: datetime,
) -> bool:
    """Answer the message from the knowledge base if the matcher says so; False: it was not
    answered (the caller opens a ticket as usual)."""
    knowledge = store.knowledge_base()
    if not len(knowledge):
        return False
    decision = knowledge.decide(body, now)
    best = decision.best
    if not decision.answer_directly or best is None:
        return False
    entry = best.entry
    offer = store.add_kb_offer(
        NewKbOffer(
            citizen_id=citizen.id,
            entry_key=entry.id,
            department_code=entry.department,
            question=body,
            answer=entry.answer,
            score=round(best.score, 4),
            message_id=message_id,
            created_at=now,
        )
    )
    sign, lang = hotline.buttons.sign, citizen.language
    outbox_id = store.queue_with_id(
        Outgoing(
            chat_id=citizen.chat_id,
            text=offer_text(hotline, offer, lang),
            buttons=(
                (
                    Button(texts.BUTTON_DIRECT_SOLVED(lang), sign("kb", offer.id, "ok")),
                    Button(texts.BUTTON_DIRECT_HUMAN(lang), sign("kb", offer.id, "human")),
                ),
            ),
            reply_to_message_id=message_id,
            purpose="direct_answer",
        ),
        now,
    )
    store.set_kb_offer_message(offer.id, outbox_id)
    return True


def offer_text(hotline: Hotline, offer: KbOffer, lang: Language) -> str:
    department = hotline.department_name(offer.department_code, lang) or (
        hotline.config.hotline.name_en if lang is Language.EN else hotline.name
    )
    return texts.DIRECT_ANSWER(
        lang,
        answer=offer.answer,
        department=department,
        minutes=hotline.config.intake.hold_minutes,
    )


def settle_offer_message(
    store: Outbox, hotline: Hotline, citizen: Citizen, offer: KbOffer, note: str, now: datetime
) -> None:
    """The answer loses its buttons and says what became of it (edited in place)."""
    if offer.outbox_id is None:
        return
    store.queue(
        Outgoing(
            chat_id=citizen.chat_id,
            method=Method.EDIT_TEXT,
            edit_outbox_id=offer.outbox_id,
            text=offer_text(hotline, offer, citizen.language) + "\n\n" + note,
            purpose="direct_answer",
        ),
        now,
    )


def close_as_answered(
    store: Store,
    hotline: Hotline,
    citizen: Citizen,
    offer: KbOffer,
    outcome: OfferOutcome,
    now: datetime,
) -> Ticket:
    """The directly answered contact on record: a 咨询 ticket closed at once, received when
    the question came and answered then, in no department."""
    received = offer.created_at
    deadline = hotline.deadline_for(RequestType.CONSULTATION, received)
    ticket = store.add_ticket(
        NewTicket(
            number=store.next_ticket_number(local_date(received)),
            citizen_id=citizen.id,
            request_type=RequestType.CONSULTATION,
            text=offer.question,
            status=TicketStatus.CLOSED,
            received_at=received,
            deadline_at=deadline.due,
            deadline_estimated=deadline.estimated,
        )
    )
    moved = lifecycle.answered_directly(ticket, citizen, offer, outcome, now)
    ticket = store.update_ticket(ticket.id, now, moved.change)
    store.decide_kb_offer(offer.id, outcome.value, ticket.id, now)
    store.record(moved.event)
    return ticket


def settle_unanswered(
    store: Store, hotline: Hotline, now: datetime, limit: int = 200, *, skip: Collection[int] = ()
) -> int:
    """Direct answers the citizen left without a word for the hold window count as answered
    (the sweep)."""
    minutes = hotline.config.intake.hold_minutes
    settled = 0
    for offer in store.unanswered_kb_offers(now - timedelta(minutes=minutes), limit):
        if offer.id in skip:
            continue
        with one_row("direct answer", offer.id, ticket_id=None):
            locked = store.kb_offer(offer.id, lock=True)
            citizen = store.citizen(offer.citizen_id)
            if locked is None or locked.decided_at is not None or citizen is None:
                continue
            ticket = close_as_answered(store, hotline, citizen, locked, OfferOutcome.TIMEOUT, now)
            note = texts.DIRECT_TIMED_OUT(citizen.language, minutes=minutes, number=ticket.number)
            settle_offer_message(store, hotline, citizen, locked, note, now)
        settled += 1
    return settled
