"""回访: the answer goes to the citizen with 满意 / 基本满意 / 不满意; 不满意 re-opens the
ticket (重办) to the same department with a fresh deadline; silence closes it as 未评价."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from handlers import lifecycle, texts
from handlers.buttons import BadButton, ButtonAction
from handlers.cards import refresh_cards, send_card
from handlers.citizen import words_of
from handlers.context import Hotline
from handlers.dispatching import office_chats, office_language
from handlers.display import shorten, show_date
from handlers.events import ButtonPress, IncomingMessage
from handlers.lifecycle import Move
from handlers.model import Citizen, Rating, Role, SentMessage, Survey, Ticket, TicketEvent
from handlers.outgoing import Button, Method, Outgoing, Reaction
from handlers.ports import Store
from handlers.rows import one_row
from scheduler.deadlines import due_after_working_days, reopened_deadline

_RATINGS = (Rating.SATISFIED, Rating.BASIC, Rating.UNSATISFIED)
MESSAGE_LIMIT = 4096  # Telegram's limit for a message's text


def send_answer_and_survey(
    store: Store, hotline: Hotline, ticket: Ticket, resolution_id: int, answer: str, now: datetime
) -> None:
    citizen = store.citizen(ticket.citizen_id)
    due = due_after_working_days(now, hotline.config.sla.survey_working_days, hotline.calendar)
    survey = store.add_survey(ticket, resolution_id, now=now, due_at=due.due)
    if citizen is None:
        return
    lang = citizen.language
    department = hotline.department_name(ticket.department_code, lang) or ""
    store.queue(
        Outgoing(
            chat_id=citizen.chat_id,
            text=texts.CITIZEN_ANSWER(
                lang, number=ticket.number, department=department, answer=answer
            ),
            buttons=(
                tuple(
                    Button(
                        texts.RATING_NAMES[r.value](lang),
                        hotline.buttons.sign("rate", survey.id, r.value),
                    )
                    for r in _RATINGS
                ),
            ),
            ticket_id=ticket.id,
            purpose="answer",
        ),
        now,
    )


def on_rate_button(
    store: Store, hotline: Hotline, press: ButtonPress, action: ButtonAction, now: datetime
) -> Reaction:
    """One rating per resolution: a second press is answered "already recorded"."""
    if press.chat_id is None or len(action.args) != 2:
        raise BadButton("rating outside the citizen's chat")
    try:
        rating = Rating(action.args[1])
    except ValueError:
        raise BadButton("malformed rating") from None
    survey = store.survey(action.int_arg(0), lock=True)
    citizen = store.citizen_for(press.sender, press.chat_id, now)
    lang = citizen.language
    ticket = store.ticket(survey.ticket_id, lock=True) if survey else None
    if (
        survey is None
        or ticket is None
        or ticket.citizen_id != citizen.id
        or rating not in _RATINGS
    ):
        raise BadButton("rating of someone else's ticket")
    if survey.rating is not None:
        return Reaction(texts.ALREADY_RATED(lang), callback_alert=True)
    store.rate_survey(survey.id, rating, now)
    if rating is Rating.UNSATISFIED:
        reply = reopen(store, hotline, ticket, citizen, now)
    else:
        close(store, hotline, ticket, now, rating, actor=citizen)
        reply = texts.RATED(lang, rating=texts.RATING_NAMES[rating.value](lang))
    # The survey message keeps its text but loses its buttons; the thanks invites a comment.
    if press.message_id is not None:
        store.queue(
            Outgoing(
                chat_id=citizen.chat_id,
                method=Method.EDIT_TEXT,
                edit_message_id=press.message_id,
                text=_answered_text(store, hotline, ticket, citizen, survey, rating),
                ticket_id=ticket.id,
                purpose="answer",
            ),
            now,
        )
    store.queue(
        Outgoing(
            chat_id=citizen.chat_id,
            text=reply,
            force_reply=True,
            ticket_id=ticket.id,
            purpose="survey_comment",
        ),
        now,
    )
    return Reaction(texts.RATING_NAMES[rating.value](lang))


def _answered_text(
    store: Store, hotline: Hotline, ticket: Ticket, citizen: Citizen, survey: Survey, rating: Rating
) -> str:
    """The answer message as it was sent, its buttons replaced by the rating given."""
    lang = citizen.language
    answer = texts.CITIZEN_ANSWER(
        lang,
        number=ticket.number,
        department=hotline.department_name(survey.department_code, lang) or "",
        answer=store.resolution_answer(survey.resolution_id) or "",
    )
    return f"{answer} {texts.RATING_NAMES[rating.value](lang)} ✓"


def close(
    store: Store,
    hotline: Hotline,
    ticket: Ticket,
    now: datetime,
    rating: Rating,
    *,
    actor: Citizen | None,
) -> Ticket:
    """归档 after a rating, or as 未评价 when the survey times out."""
    target = lifecycle.after(Move.CLOSE, ticket.status)
    updated = store.update_ticket(ticket.id, now, status=target, closed_at=now)
    store.record(
        TicketEvent(
            ticket_id=ticket.id,
            at=now,
            actor_role=Role.CITIZEN if actor else Role.SYSTEM,
            actor_id=actor.telegram_user_id if actor else None,
            action="closed",
            from_status=ticket.status,
            to_status=target,
            data={"rating": rating.value},
        )
    )
    refresh_cards(store, hotline, updated, now)
    return updated


def reopen(store: Store, hotline: Hotline, ticket: Ticket, citizen: Citizen, now: datetime) -> str:
    """重办: the same department, a fresh period from now (never earlier than the deadline
    still running, e.g. an approved extension), signed for again; the office is told."""
    target = lifecycle.after(Move.REOPEN, ticket.status)
    deadline = reopened_deadline(
        hotline.deadline_for(ticket.request_type, now, urgent=ticket.urgent),
        ticket.deadline_at,
        ticket.deadline_estimated,
    )
    sign_due = due_after_working_days(
        now, hotline.config.sla.sign_for_working_days, hotline.calendar
    )
    assert ticket.department_code is not None
    store.add_assignment(
        ticket.id,
        ticket.department_code,
        now=now,
        sign_due_at=sign_due.due,
        by=None,
        automatic=False,
        confidence=None,
    )
    updated = store.update_ticket(
        ticket.id,
        now,
        status=target,
        deadline_at=deadline.due,
        deadline_estimated=deadline.estimated,
        signed_by=None,
        resolved_at=None,
        reopen_count=ticket.reopen_count + 1,
    )
    store.record(
        TicketEvent(
            ticket_id=ticket.id,
            at=now,
            actor_role=Role.CITIZEN,
            actor_id=citizen.telegram_user_id,
            action="reopened",
            from_status=ticket.status,
            to_status=target,
            data={"round": ticket.reopen_count + 2},
        )
    )
    # The new card replaces the department's earlier one (send_card marks it superseded).
    send_card(store, hotline, updated, now, replaces_cards=True)
    office_lang = office_language(hotline)
    for chat_id in office_chats(store):
        store.queue(
            Outgoing(
                chat_id=chat_id,
                text=texts.OFFICE_REOPENED(
                    office_lang,
                    number=ticket.number,
                    department=hotline.department_name(ticket.department_code, office_lang) or "",
                    deadline=show_date(deadline.due),
                ),
                ticket_id=ticket.id,
                purpose="reopened",
            ),
            now,
        )
    lang = citizen.language
    return texts.RATED_REOPENED(
        lang,
        number=ticket.number,
        department=hotline.department_name(ticket.department_code, lang) or "",
        deadline=show_date(deadline.due),
    )


def on_comment(
    store: Store,
    hotline: Hotline,
    citizen: Citizen,
    msg: IncomingMessage,
    prompt: SentMessage,
    now: datetime,
) -> None:
    """A reply to the thanks: the comment goes with the rating. After 不满意 it is the reason
    for the re-opening, so it also goes under the department's new card and to the office."""
    assert prompt.ticket_id is not None
    survey = store.latest_survey(prompt.ticket_id)
    text = words_of(msg.text)
    reply = texts.COMMENT_SAVED(citizen.language)
    if survey is not None and text:
        store.comment_survey(survey.id, text[:2000])
        ticket = store.ticket(prompt.ticket_id)
        if survey.rating is Rating.UNSATISFIED and ticket is not None and ticket.status.is_open:
            _pass_on_reason(store, hotline, ticket, text, now)
            reply = texts.REASON_PASSED_ON(citizen.language, number=ticket.number)
    store.queue(
        Outgoing(
            chat_id=citizen.chat_id,
            text=reply,
            reply_to_message_id=msg.message_id,
            ticket_id=prompt.ticket_id,
        ),
        now,
    )


def _pass_on_reason(
    store: Store, hotline: Hotline, ticket: Ticket, reason: str, now: datetime
) -> None:
    """The citizen's reason for 不满意, under the department's live card (staff answer it by
    replying) and to the office."""
    lang = office_language(hotline)
    told: set[int] = set()
    for card in store.ticket_cards(ticket.id):
        if card.tag != ticket.department_code or card.chat_id in told:
            continue
        told.add(card.chat_id)
        text = texts.UNSATISFIED_REASON_TO_STAFF(lang, number=ticket.number, text=reason)
        store.queue(
            Outgoing(
                chat_id=card.chat_id,
                text=shorten(text, MESSAGE_LIMIT),
                reply_to_outbox_id=card.outbox_id,
                ticket_id=ticket.id,
                purpose="citizen_followup",
            ),
            now,
        )
    department = hotline.department_name(ticket.department_code, lang) or ""
    for chat_id in office_chats(store):
        if chat_id in told:
            continue
        text = texts.UNSATISFIED_REASON_TO_OFFICE(
            lang, number=ticket.number, department=department, text=reason
        )
        store.queue(
            Outgoing(
                chat_id=chat_id,
                text=shorten(text, MESSAGE_LIMIT),
                ticket_id=ticket.id,
                purpose="reopened",
            ),
            now,
        )


def close_unrated(
    store: Store, hotline: Hotline, now: datetime, limit: int = 500, *, skip: Collection[int] = ()
) -> int:
    """Surveys nobody answered in time: 未评价, and the ticket is closed (swept periodically).
    Surveys in ``skip`` failed before: left out."""
    closed = 0
    for survey in store.due_surveys(now, limit):
        if survey.id in skip:
            continue
        with one_row("survey timeout", survey.id, ticket_id=survey.ticket_id):
            store.rate_survey(survey.id, Rating.NONE, now)
            ticket = store.ticket(survey.ticket_id, lock=True)
            if ticket is not None and lifecycle.allowed(Move.CLOSE, ticket.status):
                close(store, hotline, ticket, now, Rating.NONE, actor=None)
        closed += 1
    return closed
