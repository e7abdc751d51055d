"""回访: the answer goes to the citizen with two questions in one message, one tap each:
问题是否已解决？ (已解决 / 未解决, first row) and the satisfaction (满意 / 基本满意 / 不满意,
second row). 不满意 — and 未解决 unless ``[survey] unsolved_reopens`` is off — re-opens the
ticket (重办) to the same department with a fresh deadline, at most ``[survey] max_reopens``
times per ticket; past that the office is told to take it over instead. Silence closes the
ticket as 未评价."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from handlers import lifecycle, texts
from handlers.buttons import BadButton, ButtonAction
from handlers.cards import refresh_cards, send_card
from handlers.citizen import words_of
from handlers.context import Hotline
from handlers.dispatching import first_contact_due, office_chats, office_language
from handlers.display import shorten, show_date
from handlers.events import ButtonPress, IncomingMessage
from handlers.lifecycle import Move
from handlers.model import (
    Citizen,
    Language,
    Rating,
    SentMessage,
    Survey,
    Ticket,
)
from handlers.outgoing import Button, Method, Outgoing, Reaction
from handlers.ports import Resolutions, Store
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
            buttons=(_solved_row(hotline, survey.id, lang), _rating_row(hotline, survey.id, lang)),
            ticket_id=ticket.id,
            purpose="answer",
        ),
        now,
    )


def _solved_row(hotline: Hotline, survey_id: int, lang: Language) -> tuple[Button, ...]:
    return tuple(
        Button(texts.SOLVED_NAMES[key](lang), hotline.buttons.sign("solved", survey_id, key))
        for key in ("1", "0")
    )


def _rating_row(hotline: Hotline, survey_id: int, lang: Language) -> tuple[Button, ...]:
    return tuple(
        Button(texts.RATING_NAMES[r.value](lang), hotline.buttons.sign("rate", survey_id, r.value))
        for r in _RATINGS
    )


def _survey_for_press(
    store: Store, press: ButtonPress, survey_id: int, now: datetime
) -> tuple[Survey, Ticket, Citizen]:
    survey = store.survey(survey_id, lock=True)
    if press.chat_id is None:
        raise BadButton("a survey answer outside the citizen's chat")
    citizen = store.citizen_for(press.sender, press.chat_id, now)
    ticket = store.ticket(survey.ticket_id, lock=True) if survey else None
    if survey is None or ticket is None or ticket.citizen_id != citizen.id:
        raise BadButton("answer about someone else's ticket")
    return survey, ticket, citizen


def _may_reopen(hotline: Hotline, ticket: Ticket) -> bool:
    return ticket.reopen_count < hotline.config.survey.max_reopens


def on_solved_button(
    store: Store, hotline: Hotline, press: ButtonPress, action: ButtonAction, now: datetime
) -> Reaction:
    """问题是否已解决: one answer per resolution. 未解决 re-opens the ticket (if configured and
    the ticket is still waiting for the citizen), or past the limit goes to the office."""
    if press.chat_id is None or len(action.args) != 2 or action.args[1] not in ("1", "0"):
        raise BadButton("malformed 解决 answer")
    solved = action.args[1] == "1"
    survey, ticket, citizen = _survey_for_press(store, press, action.int_arg(0), now)
    lang = citizen.language
    if survey.solved is not None:
        return Reaction(texts.ALREADY_ANSWERED_SOLVED(lang), callback_alert=True)
    store.answer_solved(survey.id, solved)
    reply: str | None = None
    if not solved:
        reply = texts.UNSOLVED_NOTED(lang)
        waiting = lifecycle.allowed(Move.REOPEN, ticket.status) and survey.rating is None
        if hotline.config.survey.unsolved_reopens and waiting:
            if _may_reopen(hotline, ticket):
                reply = reopen(store, hotline, ticket, citizen, now, unsolved=True)
            else:
                reply = _to_office(store, hotline, ticket, now, unsolved=True)
    answered = replace(survey, solved=solved)
    _edit_survey_message(store, hotline, press, ticket, citizen, answered, now)
    if reply is not None:
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
    return Reaction(texts.SOLVED_NAMES["1" if solved else "0"](lang))


def _edit_survey_message(
    store: Store,
    hotline: Hotline,
    press: ButtonPress,
    ticket: Ticket,
    citizen: Citizen,
    survey: Survey,
    now: datetime,
) -> None:
    """The answer message keeps its text, with the answers given marked, and keeps the
    buttons of the question not answered yet."""
    if press.message_id is None:
        return
    lang = citizen.language
    rows: list[tuple[Button, ...]] = []
    if survey.solved is None:
        rows.append(_solved_row(hotline, survey.id, lang))
    if survey.rating is None:
        rows.append(_rating_row(hotline, survey.id, lang))
    store.queue(
        Outgoing(
            chat_id=citizen.chat_id,
            method=Method.EDIT_TEXT,
            edit_message_id=press.message_id,
            text=_answered_text(store, hotline, ticket, citizen, survey),
            buttons=tuple(rows),
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
    if rating not in _RATINGS:
        raise BadButton("not a rating a citizen gives")
    survey, ticket, citizen = _survey_for_press(store, press, action.int_arg(0), now)
    lang = citizen.language
    if survey.rating is not None:
        return Reaction(texts.ALREADY_RATED(lang), callback_alert=True)
    store.rate_survey(survey.id, rating, now)
    thanks = texts.RATED(lang, rating=texts.RATING_NAMES[rating.value](lang))
    # A ticket already re-opened by 未解决 is being handled again: the rating is recorded,
    # nothing more moves.
    waiting = lifecycle.allowed(Move.REOPEN, ticket.status)
    if rating is Rating.UNSATISFIED and waiting:
        if _may_reopen(hotline, ticket):
            reply = reopen(store, hotline, ticket, citizen, now)
        else:
            reply = _to_office(store, hotline, ticket, now, unsolved=False)
            close(store, hotline, ticket, now, rating, actor=citizen)
    elif waiting:
        close(store, hotline, ticket, now, rating, actor=citizen)
        reply = thanks
    else:
        reply = thanks
    # The survey message keeps its text; the thanks invites a comment.
    _edit_survey_message(
        store, hotline, press, ticket, citizen, replace(survey, rating=rating), now
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
    store: Resolutions, hotline: Hotline, ticket: Ticket, citizen: Citizen, survey: Survey
) -> str:
    """The answer message as it was sent, with the answers given marked ✓."""
    lang = citizen.language
    answer = texts.CITIZEN_ANSWER(
        lang,
        number=ticket.number,
        department=hotline.department_name(survey.department_code, lang) or "",
        answer=store.resolution_answer(survey.resolution_id) or "",
    )
    marks = []
    if survey.solved is not None:
        marks.append(texts.SOLVED_NAMES["1" if survey.solved else "0"](lang))
    if survey.rating is not None and survey.rating in _RATINGS:
        marks.append(texts.RATING_NAMES[survey.rating.value](lang))
    return f"{answer} {' '.join(marks)} ✓"


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
    updated = lifecycle.save(store, lifecycle.close(ticket, now, rating, actor=actor))
    refresh_cards(store, hotline, updated, now)
    return updated


def _to_office(
    store: Store, hotline: Hotline, ticket: Ticket, now: datetime, *, unsolved: bool
) -> str:
    """Past the re-open limit: the office is told to follow the ticket up itself; the
    citizen's answer for it."""
    lang = office_language(hotline)
    what = texts.OFFICE_UNSOLVED_WHAT(lang) if unsolved else texts.OFFICE_UNSATISFIED_WHAT(lang)
    lifecycle.save(store, lifecycle.reopen_refused(ticket, now, unsolved=unsolved))
    for chat_id in office_chats(store):
        store.queue(
            Outgoing(
                chat_id=chat_id,
                text=texts.OFFICE_REOPEN_LIMIT(
                    lang,
                    number=ticket.number,
                    department=hotline.department_name(ticket.department_code, lang) or "",
                    count=ticket.reopen_count,
                    what=what,
                ),
                ticket_id=ticket.id,
                purpose="reopened",
            ),
            now,
        )
    citizen = store.citizen(ticket.citizen_id)
    return texts.REOPEN_LIMIT_CITIZEN(
        citizen.language if citizen else Language.ZH, number=ticket.number
    )


def reopen(
    store: Store,
    hotline: Hotline,
    ticket: Ticket,
    citizen: Citizen,
    now: datetime,
    *,
    unsolved: bool = False,
) -> str:
    """重办: the same department, a fresh period from now (never earlier than the deadline
    still running, e.g. an approved extension), signed for again; the office is told."""
    deadline = reopened_deadline(
        hotline.deadline_for(ticket.request_type, now, urgent=ticket.urgent),
        ticket.deadline_at,
        ticket.deadline_estimated,
    )
    moved = lifecycle.reopen(
        ticket,
        citizen,
        now,
        deadline_at=deadline.due,
        deadline_estimated=deadline.estimated,
        unsolved=unsolved,
    )
    sign_due = due_after_working_days(
        now, hotline.config.sla.sign_for_working_days, hotline.calendar
    )
    if ticket.department_code is None:
        raise ValueError(f"ticket {ticket.number} is in no department to re-open it to")
    store.add_assignment(
        ticket.id,
        ticket.department_code,
        now=now,
        sign_due_at=sign_due.due,
        by=None,
        automatic=False,
        confidence=None,
        contact_due_at=first_contact_due(hotline, now, urgent=ticket.urgent),
    )
    updated = lifecycle.save(store, moved)
    # The new card replaces the department's earlier one (send_card marks it superseded).
    send_card(store, hotline, updated, now, replaces_cards=True)
    office_lang = office_language(hotline)
    for chat_id in office_chats(store):
        store.queue(
            Outgoing(
                chat_id=chat_id,
                text=(texts.OFFICE_REOPENED_UNSOLVED if unsolved else texts.OFFICE_REOPENED)(
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
    return (texts.UNSOLVED_REOPENED if unsolved else texts.RATED_REOPENED)(
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
    if prompt.ticket_id is None:
        raise ValueError(f"prompt {prompt.outbox_id} is about no ticket")
    survey = store.latest_survey(prompt.ticket_id)
    text = words_of(msg.text)
    reply = texts.COMMENT_SAVED(citizen.language)
    if survey is not None and text:
        store.comment_survey(survey.id, text[:2000])
        ticket = store.ticket(prompt.ticket_id)
        unhappy = survey.rating is Rating.UNSATISFIED or survey.solved is False
        if unhappy and ticket is not None and ticket.status.is_open:
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
