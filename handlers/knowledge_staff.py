"""The knowledge base (知识库) in Telegram, for staff and supervisors: a resolved ticket's answer
becomes an entry with one tap (加入知识库), its question edited by a reply; ``/kb`` searches;
``/kb_add``, ``/kb_edit ID``, ``/kb_off ID`` change entries.

Staff own their department's entries, supervisors all of them. Every change is a version of
the entry with who made it (``Store.save_kb_entry``), and the bot answers with the new state at
once (the cached index is dropped when the change commits).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime

from handlers import texts
from handlers.buttons import ButtonAction
from handlers.context import Hotline
from handlers.display import shorten
from handlers.events import ButtonPress, IncomingMessage
from handlers.knowledge import KnowledgeEntry
from handlers.knowledge_stats import figures_text
from handlers.model import Language, SentMessage, StaffMember, Ticket, TicketStatus
from handlers.outgoing import Outgoing, Reaction
from handlers.ports import Outbox, Store
from handlers.reports import PeriodError, parse_period
from scheduler.deadlines import local_date

KB_QUESTION_PROMPT = "kb_question"  # the message a reply to which edits an entry's question
SEARCH_SHOWN = 5
QUESTION_CHARS = 200  # of a ticket's text taken as the entry's first question
ANSWER_SHOWN = 120
# A ticket whose answer may become an entry: answered, awaiting a rating or closed.
ANSWERED = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})


def entry_key_of(ticket: Ticket) -> str:
    """The entry a ticket's answer becomes: one per ticket, so a second tap finds it."""
    return f"t{ticket.number}"


def new_entry_key(question: str) -> str:
    """The id of an entry added by hand (/kb_add, the desk): the same question, the same id."""
    return "kb-" + hashlib.sha1(question.encode()).hexdigest()[:8]


def may_change(staff: StaffMember, department: str | None) -> bool:
    return staff.is_supervisor or (department is not None and staff.department_code == department)


def _who(staff: StaffMember) -> str:
    return f"telegram {staff.name or staff.telegram_user_id}"


def on_add_button(
    store: Store, hotline: Hotline, press: ButtonPress, action: ButtonAction, now: datetime
) -> Reaction:
    """加入知识库 on a resolved card: the ticket's answer becomes an entry of its department."""
    lang = Language.from_telegram(press.sender.language_code)
    ticket = store.ticket(action.int_arg(0))
    staff = store.staff_member(press.sender.user_id)
    if ticket is None:
        return Reaction(texts.BUTTON_INVALID(lang), callback_alert=True)
    key = entry_key_of(ticket)
    if staff is None or not staff.may_handle(ticket):
        return Reaction(texts.KB_NOT_YOURS(lang, entry=key), callback_alert=True)
    lang = staff.language
    survey = store.latest_survey(ticket.id)
    answer = store.resolution_answer(survey.resolution_id) if survey is not None else None
    if ticket.status not in ANSWERED or not answer:
        return Reaction(texts.KB_NO_ANSWER(lang, number=ticket.number), callback_alert=True)
    if store.kb_entry(key) is not None:
        return Reaction(texts.KB_ALREADY_ADDED(lang, number=ticket.number, entry=key))
    entry = KnowledgeEntry(
        id=key,
        question=shorten(" ".join(ticket.text.split()), QUESTION_CHARS),
        answer=answer,
        department=ticket.department_code,
    )
    store.save_kb_entry(
        entry,
        now=now,
        via=f"{_who(staff)}: ticket {ticket.number}",
        staff_id=staff.id,
        source_ticket_id=ticket.id,
    )
    chat_id = press.chat_id if press.chat_id is not None else staff.telegram_user_id
    store.queue(
        Outgoing(
            chat_id=chat_id,
            text=texts.KB_ADDED(
                lang, entry=key, question=entry.question, answer=shorten(answer, 300)
            ),
            reply_to_message_id=press.message_id,
            ticket_id=ticket.id,
            purpose=KB_QUESTION_PROMPT,
            tag=key,
        ),
        now,
    )
    return Reaction(texts.KB_SAVED(lang, entry=key))


def on_question_reply(
    store: Store, msg: IncomingMessage, sent: SentMessage, staff: StaffMember, now: datetime
) -> None:
    """A reply to 已加入知识库: the entry's question, as citizens would ask it."""
    lang = staff.language
    key = sent.tag or ""
    entry = store.kb_entry(key)
    question = " ".join(msg.text.split())
    if entry is None:
        text = texts.KB_NOT_FOUND(lang, entry=key)
    elif not may_change(staff, entry.department):
        text = texts.KB_NOT_YOURS(lang, entry=key)
    elif not question:
        text = texts.KB_QUESTION_EMPTY(lang)
    else:
        # The first question stays as another phrasing: it is how this citizen asked.
        alternatives = entry.alternatives
        if entry.question != question and entry.question not in alternatives:
            alternatives = (*alternatives, entry.question)
        changed = replace(entry, question=question, alternatives=alternatives)
        store.save_kb_entry(changed, now=now, via=_who(staff), staff_id=staff.id)
        text = texts.KB_QUESTION_SET(lang, entry=key, question=question)
    _say(store, msg, text, now)


def _say(store: Outbox, msg: IncomingMessage, text: str, now: datetime) -> None:
    store.queue(Outgoing(chat_id=msg.chat_id, text=text, reply_to_message_id=msg.message_id), now)


def search_command(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    """/kb TEXT: the entries in force closest to the words, with their answers."""
    lang = staff.language
    words = msg.command_args.strip()
    if not words:
        _say(store, msg, texts.KB_SEARCH_USAGE(lang), now)
        return
    matches = store.knowledge_base().search(words, local_date(now), SEARCH_SHOWN)
    if not matches:
        _say(store, msg, texts.KB_SEARCH_NONE(lang, text=shorten(words, 40)), now)
        return
    lines = [texts.KB_SEARCH_HEADER(lang, count=len(matches))]
    lines += [
        texts.KB_SEARCH_LINE(
            lang,
            entry=m.entry.id,
            score=m.score,
            department=hotline.department_name(m.entry.department, lang) or "—",
            question=m.entry.question,
            answer=shorten(m.entry.answer, ANSWER_SHOWN),
        )
        for m in matches
    ]
    _say(store, msg, shorten("\n".join(lines), 4000), now)


def _split(args: str) -> list[str]:
    return [part.strip() for part in args.split("|")]


def add_command(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    """/kb_add 问题 | 答复 [| 单位代码]: a new entry (staff: of their own department)."""
    lang = staff.language
    parts = _split(msg.command_args)
    if len(parts) not in (2, 3) or not all(parts):
        _say(store, msg, texts.KB_ADD_USAGE(lang), now)
        return
    question, answer = " ".join(parts[0].split()), parts[1]
    department = parts[2] if len(parts) == 3 else staff.department_code
    if department is not None and hotline.config.departments.get(department) is None:
        _say(store, msg, texts.KB_BAD_DEPARTMENT(lang, code=shorten(department, 32)), now)
        return
    key = new_entry_key(question)
    if not may_change(staff, department):
        _say(store, msg, texts.KB_NOT_YOURS(lang, entry=key), now)
        return
    entry = KnowledgeEntry(id=key, question=question, answer=answer, department=department)
    outcome = store.save_kb_entry(entry, now=now, via=_who(staff), staff_id=staff.id)
    phrase = texts.KB_UNCHANGED if outcome == "unchanged" else texts.KB_SAVED
    _say(store, msg, phrase(lang, entry=key), now)


def _owned_entry(
    store: Store, msg: IncomingMessage, staff: StaffMember, key: str, now: datetime
) -> KnowledgeEntry | None:
    entry = store.kb_entry(key)
    if entry is None:
        _say(store, msg, texts.KB_NOT_FOUND(staff.language, entry=shorten(key, 64)), now)
        return None
    if not may_change(staff, entry.department):
        _say(store, msg, texts.KB_NOT_YOURS(staff.language, entry=key), now)
        return None
    return entry


def edit_command(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    """/kb_edit ID 新答复, or /kb_edit ID 问题 | 答复."""
    lang = staff.language
    key, _, rest = msg.command_args.strip().partition(" ")
    parts = _split(rest) if rest.strip() else []
    if not key or len(parts) not in (1, 2) or not all(parts):
        _say(store, msg, texts.KB_EDIT_USAGE(lang), now)
        return
    entry = _owned_entry(store, msg, staff, key, now)
    if entry is None:
        return
    if len(parts) == 2:
        changed = replace(entry, question=" ".join(parts[0].split()), answer=parts[1])
    else:
        changed = replace(entry, answer=parts[0])
    outcome = store.save_kb_entry(changed, now=now, via=_who(staff), staff_id=staff.id)
    phrase = texts.KB_UNCHANGED if outcome == "unchanged" else texts.KB_SAVED
    _say(store, msg, phrase(lang, entry=key), now)


def off_command(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    """/kb_off ID: the entry stays in the history but the bot no longer answers with it."""
    key = msg.command_args.strip()
    if not key or " " in key:
        _say(store, msg, texts.KB_OFF_USAGE(staff.language), now)
        return
    entry = _owned_entry(store, msg, staff, key, now)
    if entry is None:
        return
    store.save_kb_entry(replace(entry, active=False), now=now, via=_who(staff), staff_id=staff.id)
    _say(store, msg, texts.KB_TURNED_OFF(staff.language, entry=key), now)


def stats_command(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    """/kb_stats [period] (supervisors): 直接答复率, 转人工率, entries used and never used,
    updates per department; the period as in /stats (default: this month)."""
    lang = staff.language
    try:
        period = parse_period(msg.command_args.strip() or "month", local_date(now))
    except PeriodError as exc:
        _say(store, msg, exc.message(lang.value), now)
        return
    figures = store.direct_answer_figures(period)
    names = {
        d.code: (d.name_en if lang is Language.EN else d.name_zh)
        for d in hotline.config.departments.departments
    }
    _say(store, msg, shorten(figures_text(figures, period.label, lang, names), 4000), now)
