"""The staff side of an answer before it is sent: the pre-check (答复预检) and starting an answer
from one given before.

* A reply to "the answer" (办结) is checked (handlers.answer_check). A passing answer resolves
  the ticket at once. A flagged one stays with the bot: staff see why, and either press
  **仍然发送** (it is sent as it was) or reply with a corrected answer, which is checked again.
  Each step is a ticket event (``answer_flagged``, ``answer_sent_anyway``, ``answer_edited``),
  and 质检 counts them (handlers.quality).
* The card of a ticket in progress has a button per similar entry and past answer: a tap sends
  a reply prompt holding that answer as the draft. Telegram does not let a bot fill in a
  person's input field (``switch_inline_query_current_chat`` inserts "@bot query" for inline
  mode, ``copy_text`` copies 256 characters at most), so the draft lives in the prompt: a reply
  beginning with "+" is added after it ("+" alone sends it as it is), any other reply replaces
  it. Works the same in a department's group and in a private chat.

The answer waiting for a decision is kept in the tag of the bot's own message (the outbox row),
so no table is needed and a press names the message it was made on.
"""

from __future__ import annotations

import json
from datetime import datetime

from handlers import lifecycle, texts
from handlers.answer_check import AnswerCheck, Flag, check_answer
from handlers.buttons import BadButton, ButtonAction
from handlers.context import Hotline
from handlers.dispatching import office_language
from handlers.display import shorten
from handlers.events import ButtonPress, IncomingMessage
from handlers.knowledge import KnowledgeEntry
from handlers.lifecycle import Move
from handlers.model import Language, SentMessage, StaffMember, Ticket, TicketStatus
from handlers.outgoing import Button, Keyboard, Method, Outgoing, Reaction
from handlers.ports import Store
from handlers.staff import event, move_refused, prompted, refuse, refuse_press, resolve
from scheduler.deadlines import local_date

ASK_ANSWER = "ask_answer"
FLAGGED = "answer_flagged"
PROMPTS = frozenset({ASK_ANSWER, FLAGGED})
DRAFT_SHOWN = 3000  # of a draft quoted in a prompt (a message holds 4096 characters)
ANSWER_SHOWN = 1500  # of a flagged answer quoted back
_APPEND = ("+", "＋")


def department_numbers(hotline: Hotline, ticket: Ticket) -> tuple[str, ...]:
    department = (
        hotline.config.departments.get(ticket.department_code) if ticket.department_code else None
    )
    return department.phones if department else ()


def reasons(check: AnswerCheck, lang: Language) -> str:
    return "\n".join(
        texts.ANSWER_FLAG_REASONS[flag.value](
            lang,
            chars=check.answer_chars,
            needed=check.required_chars,
            numbers="、".join(check.numbers),
        )
        for flag in check.flags
    )


def with_draft(draft: str | None, reply: str) -> str:
    """The answer a reply to a draft prompt makes: "+ more" adds to the draft, else replaces."""
    if draft is None or not reply.startswith(_APPEND):
        return reply
    added = reply[1:].strip()
    return f"{draft}\n{added}" if added else draft


def _tag(prompt: SentMessage) -> dict[str, object]:
    try:
        data = json.loads(prompt.tag) if prompt.tag else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _flags_of(data: dict[str, object]) -> list[str]:
    flags = data.get("flags")
    return [str(f) for f in flags] if isinstance(flags, list) else []


def on_answer_reply(
    store: Store,
    hotline: Hotline,
    msg: IncomingMessage,
    prompt: SentMessage,
    staff: StaffMember,
    now: datetime,
) -> None:
    """A reply to "the answer", to a draft, to a flagged answer or to "the corrected answer"."""
    if prompt.ticket_id is None:
        raise ValueError(f"prompt {prompt.outbox_id} is about no ticket")
    ticket = store.ticket(prompt.ticket_id, lock=True)
    lang = office_language(hotline) if msg.chat_id != staff.telegram_user_id else staff.language
    if ticket is None:
        return
    if not staff.may_handle(ticket):
        refuse(store, ticket.id, staff.telegram_user_id, f"{prompt.purpose}: not their ticket", now)
        _say(store, msg, texts.NO_RIGHTS(lang), now)
        return
    data = _tag(prompt)
    text = msg.text.strip()
    if not text:
        store.queue(
            Outgoing(
                chat_id=msg.chat_id,
                text=texts.ANSWER_NEEDED(lang),
                reply_to_message_id=msg.message_id,
                force_reply=True,
                ticket_id=ticket.id,
                purpose=prompt.purpose,
                tag=prompt.tag,
            ),
            now,
        )
        return
    draft = data.get("draft")
    answer = with_draft(draft if isinstance(draft, str) else None, text)
    submit_answer(
        store, hotline, ticket, staff, answer, msg.chat_id, msg.message_id, now,
        corrects=_flags_of(data) if prompt.purpose == FLAGGED else None,
        lang=lang,
    )  # fmt: skip


def submit_answer(
    store: Store,
    hotline: Hotline,
    ticket: Ticket,
    staff: StaffMember,
    answer: str,
    chat_id: int,
    message_id: int | None,
    now: datetime,
    *,
    corrects: list[str] | None = None,
    lang: Language,
) -> None:
    """Resolve with ``answer`` if it passes the check, else hold it with the reasons.
    ``corrects``: the flags of the answer this one corrects."""
    if not lifecycle.allowed(Move.RESOLVE, ticket.status):
        refuse(store, ticket.id, staff.telegram_user_id, f"resolve refused: {ticket.status}", now)
        _reply(store, chat_id, message_id, move_refused(ticket, Move.RESOLVE, lang), now)
        return
    check = check_answer(ticket.text, answer, department_numbers(hotline, ticket))
    flags = [flag.value for flag in check.flags]
    if check.passed:
        if corrects is not None:
            store.record(event(ticket, staff, "answer_edited", now, data={"flags": corrects}))
        _reply(store, chat_id, message_id, resolve(store, hotline, ticket, staff, answer, now), now)
        return
    store.record(
        event(
            ticket,
            staff,
            "answer_flagged",
            now,
            data={"flags": flags, "chars": check.answer_chars, "again": corrects is not None},
        )
    )
    sign = hotline.buttons.sign
    keyboard: Keyboard = ()
    if check.may_send_anyway:
        text = texts.ANSWER_FLAGGED(
            lang,
            number=ticket.number,
            reasons=reasons(check, lang),
            answer=shorten(answer, ANSWER_SHOWN),
        )
        keyboard = (
            (
                Button(texts.BUTTON_SEND_ANYWAY(lang), sign("precheck", ticket.id, "send")),
                Button(texts.BUTTON_EDIT_ANSWER(lang), sign("precheck", ticket.id, "edit")),
            ),
        )
    else:
        text = texts.ANSWER_EMPTY(lang, number=ticket.number)
    store.queue(
        Outgoing(
            chat_id=chat_id,
            text=text,
            buttons=keyboard,
            # Without buttons the message asks for the answer again, as the first prompt did.
            force_reply=not keyboard,
            reply_to_message_id=message_id,
            ticket_id=ticket.id,
            purpose=FLAGGED,
            tag=json.dumps({"answer": answer, "flags": flags}, ensure_ascii=False),
        ),
        now,
    )


def resolve_checked(
    store: Store,
    hotline: Hotline,
    ticket: Ticket,
    staff: StaffMember,
    answer: str,
    now: datetime,
    *,
    anyway: bool = False,
    corrects: list[str] | None = None,
) -> str | AnswerCheck:
    """The pre-check for a form (the web desk), where the warning and the choice come with the
    next submission: resolve when the answer passes, or when it is sent ``anyway`` after a
    warning; else record the flags and return the check to show. ``corrects``: the flags of
    the answer shown with the warning, when this one replaces it."""
    if not lifecycle.allowed(Move.RESOLVE, ticket.status):
        refuse(store, ticket.id, staff.telegram_user_id, f"resolve refused: {ticket.status}", now)
        return move_refused(ticket, Move.RESOLVE, staff.language)
    check = check_answer(ticket.text, answer, department_numbers(hotline, ticket))
    flags = [flag.value for flag in check.flags]
    if check.passed:
        if corrects:
            store.record(event(ticket, staff, "answer_edited", now, data={"flags": corrects}))
    elif anyway and check.may_send_anyway:
        store.record(event(ticket, staff, "answer_sent_anyway", now, data={"flags": flags}))
    else:
        store.record(
            event(
                ticket,
                staff,
                "answer_flagged",
                now,
                data={"flags": flags, "chars": check.answer_chars, "again": bool(corrects)},
            )
        )
        return check
    return resolve(store, hotline, ticket, staff, answer, now)


def on_precheck_button(
    store: Store, hotline: Hotline, press: ButtonPress, action: ButtonAction, now: datetime
) -> Reaction:
    """仍然发送 / 修改答复 under a flagged answer."""
    if len(action.args) != 2 or action.args[1] not in {"send", "edit"}:
        raise BadButton("malformed answer-check button")
    ticket = store.ticket(action.int_arg(0), lock=True)
    if ticket is None or press.chat_id is None or press.message_id is None:
        raise BadButton("answer-check button without its ticket or message")
    held = store.sent_message(press.chat_id, press.message_id)
    if held is None or held.purpose != FLAGGED or held.ticket_id != ticket.id:
        raise BadButton("answer-check button on another message")
    staff = store.staff_member(press.sender.user_id)
    if staff is None or not staff.may_handle(ticket):
        return refuse_press(store, ticket, press, action, staff, now)
    lang = staff.language
    chat_lang = office_language(hotline) if press.chat_id != staff.telegram_user_id else lang
    data = _tag(held)
    answer, flags = data.get("answer"), _flags_of(data)
    if not isinstance(answer, str) or Flag.EMPTY.value in flags:
        raise BadButton("answer-check button without an answer to send")
    if not lifecycle.allowed(Move.RESOLVE, ticket.status):
        # Sent already (anyway, or corrected): one answer per resolution.
        if ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            return Reaction(texts.ANSWER_CHECK_SETTLED(lang), callback_alert=True)
        return Reaction(move_refused(ticket, Move.RESOLVE, lang), callback_alert=True)
    if action.args[1] == "edit":
        store.queue(
            Outgoing(
                chat_id=press.chat_id,
                text=texts.ASK_EDITED_ANSWER(
                    chat_lang, number=ticket.number, answer=shorten(answer, DRAFT_SHOWN)
                ),
                force_reply=True,
                placeholder=texts.REPLY_PLACEHOLDER(chat_lang),
                mention=prompted(staff, press.chat_id),
                ticket_id=ticket.id,
                purpose=FLAGGED,
                tag=held.tag,
            ),
            now,
        )
        return Reaction()
    store.record(event(ticket, staff, "answer_sent_anyway", now, data={"flags": flags}))
    done = resolve(store, hotline, ticket, staff, answer, now)
    store.queue(
        Outgoing(
            chat_id=press.chat_id,
            method=Method.EDIT_TEXT,
            edit_message_id=press.message_id,
            text=texts.ANSWER_SENT_ANYWAY(
                chat_lang,
                number=ticket.number,
                reasons=texts.flag_names(flags, chat_lang),
                name=staff.name or staff.telegram_user_id,
            ),
            purpose=FLAGGED,
        ),
        now,
    )
    return Reaction(done)


# -- starting an answer from one given before ---------------------------------------------------


def _reused(store: Store, kind: str, key: str, now: datetime) -> KnowledgeEntry | None:
    if kind == "k":
        entry = store.kb_entry(key)
        # Expired or switched off since the card was drawn: never used, not even as a draft.
        return entry if entry is not None and entry.in_force(local_date(now)) else None
    return next((e for e in store.past_answers().entries if e.id == key), None)


def on_reuse_button(
    store: Store, hotline: Hotline, press: ButtonPress, action: ButtonAction, now: datetime
) -> Reaction:
    """📋 on a card: the answer of that entry or past ticket becomes the draft of this one."""
    if len(action.args) != 3 or action.args[1] not in {"k", "a"}:
        raise BadButton("malformed reuse button")
    ticket = store.ticket(action.int_arg(0), lock=True)
    if ticket is None:
        raise BadButton("reuse button of no ticket")
    staff = store.staff_member(press.sender.user_id)
    if staff is None or not staff.may_handle(ticket):
        return refuse_press(store, ticket, press, action, staff, now)
    lang = staff.language
    if not lifecycle.allowed(Move.RESOLVE, ticket.status):
        return Reaction(move_refused(ticket, Move.RESOLVE, lang), callback_alert=True)
    source = _reused(store, action.args[1], action.args[2], now)
    if source is None:
        return Reaction(texts.REUSE_GONE(lang), callback_alert=True)
    chat_id = press.chat_id if press.chat_id is not None else staff.telegram_user_id
    chat_lang = office_language(hotline) if chat_id != staff.telegram_user_id else lang
    store.record(
        event(ticket, staff, "answer_draft", now, data={"from": source.id, "kind": action.args[1]})
    )
    store.queue(
        Outgoing(
            chat_id=chat_id,
            text=texts.ASK_ANSWER_DRAFT(
                chat_lang,
                number=ticket.number,
                source=source.id,
                draft=shorten(source.answer, DRAFT_SHOWN),
            ),
            force_reply=True,
            placeholder=texts.REPLY_PLACEHOLDER(chat_lang),
            mention=prompted(staff, chat_id),
            ticket_id=ticket.id,
            purpose=ASK_ANSWER,
            tag=json.dumps({"draft": source.answer, "from": source.id}, ensure_ascii=False),
        ),
        now,
    )
    return Reaction()


def _reply(store: Store, chat_id: int, message_id: int | None, text: str, now: datetime) -> None:
    store.queue(Outgoing(chat_id=chat_id, text=text, reply_to_message_id=message_id), now)


def _say(store: Store, msg: IncomingMessage, text: str, now: datetime) -> None:
    _reply(store, msg.chat_id, msg.message_id, text, now)
