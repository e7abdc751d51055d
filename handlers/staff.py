"""What staff of a department (承办人员) do in Telegram: sign for a ticket, return it, ask for
more time, resolve it with an answer, and talk with the citizen through the bot.

Every button press and every reply re-checks who is acting: being in a department's group chat
is not a permission, the stored staff record is.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from handlers import lifecycle, texts
from handlers.buttons import ButtonAction
from handlers.cards import attachment_message, refresh_cards, time_left
from handlers.context import Hotline
from handlers.dispatching import (
    learn,
    office_chats,
    office_language,
    pick_buttons,
    suggestions,
)
from handlers.display import shorten, show_datetime, show_deadline
from handlers.events import ButtonPress, Content, IncomingMessage
from handlers.lifecycle import Move
from handlers.model import (
    ItemKind,
    Language,
    NewItem,
    Role,
    SentMessage,
    StaffMember,
    Ticket,
    TicketEvent,
)
from handlers.outgoing import Button, Outgoing, Reaction
from handlers.ports import Assignments, Extensions, History, Store
from handlers.survey import send_answer_and_survey
from scheduler.deadlines import due_after_working_days, extend_deadline, local_date

QUEUE_SHOWN = 30
# "ask_answer" and "answer_flagged" are answered in handlers.answer_review (the pre-check).
PROMPTS = {"ask_return", "ask_extend", "ask_answer", "answer_flagged"}
# Bot messages in a department's chat that a staff reply turns into a message to the citizen.
RELAY_SOURCES = {"card", "card_text", "attachment", "citizen_followup", "relayed"}
_EXTENSION = re.compile(
    r"^\s*(\d{1,3}|[零〇一二两三四五六七八九十]{1,4})\s*(?:个?工作日|天|days?)?\s*[,，:：;；]?\s*(.*)$",
    re.S,
)
_DIGITS = {c: n for n, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_MEDIA = {
    Content.PHOTO: ItemKind.PHOTO,
    Content.DOCUMENT: ItemKind.DOCUMENT,
    Content.VIDEO: ItemKind.VIDEO,
    Content.VOICE: ItemKind.VOICE,
    Content.AUDIO: ItemKind.AUDIO,
}


def refuse(store: History, ticket_id: int | None, actor_id: int, why: str, now: datetime) -> None:
    """A refused action is logged: foreign or forged presses are a supervisor's business."""
    store.record(
        TicketEvent(
            ticket_id=ticket_id,
            at=now,
            actor_role=Role.STAFF,
            actor_id=actor_id,
            action="refused",
            reason=why,
        )
    )


def refuse_press(
    store: Store,
    ticket: Ticket,
    press: ButtonPress,
    action: ButtonAction,
    staff: StaffMember | None,
    now: datetime,
) -> Reaction:
    """The polite refusal (and its event-log entry) of a ticket's button pressed by someone who
    is not staff, or staff who may not act on this ticket."""
    why = "not staff" if staff is None else f"staff of {staff.department_code}"
    refuse(store, ticket.id, press.sender.user_id, f"{action.action} refused: {why}", now)
    lang = Language.from_telegram(press.sender.language_code)
    return Reaction(
        texts.STAFF_ONLY(lang) if staff is None else texts.NO_RIGHTS(lang), callback_alert=True
    )


def move_refused(ticket: Ticket, move: Move, lang: Language) -> str:
    return texts.MOVE_REFUSED(
        lang,
        number=ticket.number,
        status=texts.status_name(ticket.status, lang),
        action=texts.ACTION_NAMES[move.value](lang),
    )


def event(
    ticket: Ticket,
    staff: StaffMember,
    action: str,
    now: datetime,
    *,
    data: dict[str, object] | None = None,
) -> TicketEvent:
    """A line of the log that moves nothing (a look, a message, a contact); moves are
    handlers.lifecycle's."""
    return TicketEvent(
        ticket_id=ticket.id,
        at=now,
        actor_role=staff.role,
        actor_id=staff.telegram_user_id,
        action=action,
        data=data,
    )


# -- the card's buttons --------------------------------------------------------------------------


def on_card_button(
    store: Store, hotline: Hotline, press: ButtonPress, action: ButtonAction, now: datetime
) -> Reaction:
    """签收 / 退回 / 申请延期 / 办结 / 显示联系电话 on a ticket card."""
    lang = Language.from_telegram(press.sender.language_code)
    ticket_id = action.int_arg(0)
    ticket = store.ticket(ticket_id, lock=True)
    staff = store.staff_member(press.sender.user_id)
    if ticket is None:
        return Reaction(texts.BUTTON_INVALID(lang), callback_alert=True)
    if staff is None or not staff.may_handle(ticket):
        return refuse_press(store, ticket, press, action, staff, now)
    lang = staff.language
    chat_id = press.chat_id if press.chat_id is not None else staff.telegram_user_id
    match action.action:
        case "sign":
            return sign_for(store, hotline, ticket, staff, now)
        case "return":
            return _ask(store, hotline, ticket, staff, chat_id, Move.RETURN, now)
        case "extend":
            return _ask(store, hotline, ticket, staff, chat_id, Move.EXTEND, now)
        case "resolve":
            return _ask(store, hotline, ticket, staff, chat_id, Move.RESOLVE, now)
        case "contact":
            return _show_contact(store, ticket, staff, now)
        case "contacted":
            return _contacted(store, ticket, staff, now)
    return Reaction(texts.BUTTON_INVALID(lang), callback_alert=True)


def _contacted(store: Store, ticket: Ticket, staff: StaffMember, now: datetime) -> Reaction:
    """已联系群众 (by phone): the first contact of the current dispatch, with who and when."""
    lang = staff.language
    first = store.record_contact(ticket.id, staff.id, now)
    if first is None:
        return Reaction(texts.BUTTON_INVALID(lang), callback_alert=True)
    if first != now:
        return Reaction(
            texts.CONTACT_ALREADY(lang, number=ticket.number, time=show_datetime(first)),
            callback_alert=True,
        )
    store.record(event(ticket, staff, "contacted", now, data={"by": "button"}))
    return Reaction(texts.CONTACT_RECORDED(lang, number=ticket.number, time=show_datetime(now)))


def sign_for(
    store: Store, hotline: Hotline, ticket: Ticket, staff: StaffMember, now: datetime
) -> Reaction:
    """签收: the department takes the ticket on; the citizen hears who handles it."""
    lang = staff.language
    if not lifecycle.allowed(Move.SIGN, ticket.status):
        refuse(store, ticket.id, staff.telegram_user_id, f"sign refused: {ticket.status}", now)
        return Reaction(move_refused(ticket, Move.SIGN, lang), callback_alert=True)
    assignment = store.current_assignment(ticket.id)
    if assignment is None:
        raise LookupError(f"dispatched ticket {ticket.number} has no assignment")
    moved = lifecycle.sign(ticket, staff, now)
    store.sign_assignment(assignment.id, staff.id, now)
    updated = lifecycle.save(store, moved)
    refresh_cards(store, hotline, updated, now)
    citizen = store.citizen(ticket.citizen_id)
    if citizen is not None:
        department = hotline.department_name(ticket.department_code, citizen.language) or ""
        store.queue(
            Outgoing(
                chat_id=citizen.chat_id,
                text=texts.CITIZEN_SIGNED(
                    citizen.language,
                    number=ticket.number,
                    department=department,
                    deadline=show_deadline(ticket.deadline_at, urgent=ticket.urgent),
                ),
                ticket_id=ticket.id,
                purpose="signed",
            ),
            now,
        )
    if ticket.department_code and assignment.automatic:
        # Signing an automatically routed ticket confirms the routing: it is history now.
        learn(store, hotline, ticket.text, ticket.department_code, ticket.id, "confirmed", now)
    return Reaction(texts.SIGNED(lang, number=ticket.number))


def _ask(
    store: Store,
    hotline: Hotline,
    ticket: Ticket,
    staff: StaffMember,
    chat_id: int,
    move: Move,
    now: datetime,
) -> Reaction:
    """Ask for the reason / the days / the answer as a reply: in a group with privacy mode on,
    a reply to the bot's message is the only thing the bot is sure to receive."""
    lang = staff.language
    chat_lang = office_language(hotline) if chat_id != staff.telegram_user_id else lang
    if not lifecycle.allowed(move, ticket.status):
        refuse(
            store, ticket.id, staff.telegram_user_id, f"{move.value} refused: {ticket.status}", now
        )
        return Reaction(move_refused(ticket, move, lang), callback_alert=True)
    if move is Move.RETURN:
        refusal = _return_refusal(store, hotline, ticket, now, lang)
        if refusal:
            return Reaction(refusal, callback_alert=True)
        prompt, purpose = texts.ASK_RETURN_REASON(chat_lang, number=ticket.number), "ask_return"
    elif move is Move.EXTEND:
        refusal = _extension_refusal(store, hotline, ticket, now, lang)
        if refusal:
            return Reaction(refusal, callback_alert=True)
        maximum = hotline.config.sla.max_extension_working_days
        prompt = texts.ASK_EXTENSION(chat_lang, number=ticket.number, max=maximum)
        purpose = "ask_extend"
    else:
        prompt, purpose = texts.ASK_ANSWER(chat_lang, number=ticket.number), "ask_answer"
    store.queue(
        Outgoing(
            chat_id=chat_id,
            text=prompt,
            force_reply=True,
            placeholder=texts.REPLY_PLACEHOLDER(chat_lang),
            mention=prompted(staff, chat_id),
            ticket_id=ticket.id,
            purpose=purpose,
        ),
        now,
    )
    return Reaction()


def prompted(staff: StaffMember, chat_id: int) -> tuple[int, str] | None:
    """In a group, the staff member a question is for, named in it: the reply box then opens
    for them alone, not for everyone in the group."""
    if chat_id == staff.telegram_user_id:
        return None
    return staff.telegram_user_id, staff.name or str(staff.telegram_user_id)


def _return_refusal(
    store: Assignments, hotline: Hotline, ticket: Ticket, now: datetime, lang: Language
) -> str | None:
    """退单 only within the return limit after dispatch (domain.md: 2 working days)."""
    assignment = store.current_assignment(ticket.id)
    days = hotline.config.sla.return_working_days
    if assignment is None:
        return None
    limit = due_after_working_days(assignment.dispatched_at, days, hotline.calendar).due
    if now > limit:
        return texts.RETURN_TOO_LATE(lang, number=ticket.number, days=days)
    return None


def _extension_refusal(
    store: Extensions, hotline: Hotline, ticket: Ticket, now: datetime, lang: Language
) -> str | None:
    if now > ticket.deadline_at:
        return texts.EXTENSION_TOO_LATE(lang, number=ticket.number)
    if store.pending_extension(ticket.id) is not None:
        return texts.EXTENSION_PENDING(lang, number=ticket.number)
    maximum = hotline.config.sla.max_extension_working_days
    used = store.approved_extension_days(ticket.id)
    if used >= maximum:
        return texts.EXTENSION_OVER_LIMIT(lang, max=maximum, used=used)
    return None


def _show_contact(store: Store, ticket: Ticket, staff: StaffMember, now: datetime) -> Reaction:
    """The phone number only to the one who asked (a button toast), and the look is logged."""
    citizen = store.citizen(ticket.citizen_id)
    store.record(event(ticket, staff, "contact_viewed", now))
    if citizen is None or not citizen.phone:
        return Reaction(texts.CONTACT_NONE(staff.language), callback_alert=True)
    return Reaction(texts.CONTACT_SHOWN(staff.language, phone=citizen.phone), callback_alert=True)


# -- answers to the bot's questions ----------------------------------------------------------------


def working_days(number: str) -> int | None:
    """A count of days as staff write it: "5", "五", "两", "十", "十二", "二十"."""
    if number.isdigit():
        return int(number)
    tens, ten, units = number.partition("十")
    if not ten:
        return _DIGITS[number] if len(number) == 1 else None
    if len(tens) > 1 or len(units) > 1 or "十" in units:
        return None
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0)


def on_prompt_reply(
    store: Store,
    hotline: Hotline,
    msg: IncomingMessage,
    prompt: SentMessage,
    staff: StaffMember,
    now: datetime,
) -> None:
    """A reply to "give the reason" / "how many days"."""
    if prompt.ticket_id is None:
        raise ValueError(f"prompt {prompt.outbox_id} is about no ticket")
    ticket = store.ticket(prompt.ticket_id, lock=True)
    lang = office_language(hotline) if msg.chat_id != staff.telegram_user_id else staff.language

    def tell(text: str, *, again: bool = False) -> None:
        store.queue(
            Outgoing(
                chat_id=msg.chat_id,
                text=text,
                reply_to_message_id=msg.message_id,
                force_reply=again,
                ticket_id=prompt.ticket_id if again else None,
                purpose=prompt.purpose if again else "reply",
            ),
            now,
        )

    if ticket is None:
        return
    if not staff.may_handle(ticket):
        refuse(store, ticket.id, staff.telegram_user_id, f"{prompt.purpose}: not their ticket", now)
        tell(texts.NO_RIGHTS(lang))
        return
    text = msg.text.strip()
    if prompt.purpose == "ask_return":
        if not text:
            tell(texts.REASON_NEEDED(lang), again=True)
            return
        tell(return_ticket(store, hotline, ticket, staff, text, now))
    elif prompt.purpose == "ask_extend":
        maximum = hotline.config.sla.max_extension_working_days
        match = _EXTENSION.match(text)
        days = working_days(match.group(1)) if match else None
        if match is None or days is None or not match.group(2).strip() or not 1 <= days <= maximum:
            tell(texts.EXTENSION_USAGE(lang, max=maximum), again=True)
            return
        tell(request_extension(store, hotline, ticket, staff, days, match.group(2).strip(), now))


def return_ticket(
    store: Store, hotline: Hotline, ticket: Ticket, staff: StaffMember, reason: str, now: datetime
) -> str:
    """退单: back to the office with the reason, to be re-dispatched."""
    lang = staff.language
    if not lifecycle.allowed(Move.RETURN, ticket.status):
        refuse(store, ticket.id, staff.telegram_user_id, f"return refused: {ticket.status}", now)
        return move_refused(ticket, Move.RETURN, lang)
    refusal = _return_refusal(store, hotline, ticket, now, lang)
    if refusal:
        return refusal
    assignment = store.current_assignment(ticket.id)
    if assignment is None:
        raise LookupError(f"ticket {ticket.number} at a department has no assignment")
    moved = lifecycle.send_back(ticket, staff, reason, now)
    store.return_assignment(assignment.id, staff.id, reason, now)
    updated = lifecycle.save(store, moved)
    refresh_cards(store, hotline, updated, now)
    office_lang = office_language(hotline)
    department = hotline.department_name(ticket.department_code, office_lang) or ""
    offered = suggestions(
        hotline,
        hotline.router.route(ticket.text),
        store.active_departments(),
        leaving_out=ticket.department_code,
    )
    for chat_id in office_chats(store):
        store.queue(
            Outgoing(
                chat_id=chat_id,
                text=texts.OFFICE_RETURNED(
                    office_lang,
                    number=ticket.number,
                    department=department,
                    name=staff.name or staff.telegram_user_id,
                    reason=reason,
                    text=shorten(ticket.text, 2000),
                ),
                buttons=pick_buttons(hotline, updated, offered, office_lang, other=True),
                ticket_id=ticket.id,
                purpose="dispatch_queue",
            ),
            now,
        )
    return texts.RETURNED(lang, number=ticket.number)


def request_extension(
    store: Store,
    hotline: Hotline,
    ticket: Ticket,
    staff: StaffMember,
    days: int,
    reason: str,
    now: datetime,
) -> str:
    """申请延期: the office decides with approve / reject buttons."""
    lang = staff.language
    if not lifecycle.allowed(Move.EXTEND, ticket.status):
        return move_refused(ticket, Move.EXTEND, lang)
    refusal = _extension_refusal(store, hotline, ticket, now, lang)
    if refusal:
        return refusal
    maximum = hotline.config.sla.max_extension_working_days
    used = store.approved_extension_days(ticket.id)
    if used + days > maximum:
        return texts.EXTENSION_OVER_LIMIT(lang, max=maximum, used=used)
    moved = lifecycle.request_extension(ticket, staff, days, reason, now)
    extension = store.add_extension(ticket, staff, days, reason, now)
    lifecycle.save(store, moved)
    office_lang = office_language(hotline)
    new_deadline = extend_deadline(ticket.deadline_at, days, hotline.calendar)
    for chat_id in office_chats(store):
        store.queue(
            Outgoing(
                chat_id=chat_id,
                text=texts.OFFICE_EXTENSION(
                    office_lang,
                    number=ticket.number,
                    department=hotline.department_name(ticket.department_code, office_lang) or "",
                    name=staff.name or staff.telegram_user_id,
                    days=days,
                    reason=reason,
                    deadline=show_deadline(ticket.deadline_at, urgent=ticket.urgent),
                    new_deadline=show_deadline(new_deadline.due, urgent=ticket.urgent),
                ),
                buttons=(
                    (
                        _button(
                            hotline, texts.BUTTON_APPROVE(office_lang), "approve", extension.id
                        ),
                        _button(hotline, texts.BUTTON_REJECT(office_lang), "reject", extension.id),
                    ),
                ),
                ticket_id=ticket.id,
                purpose="extension_request",
            ),
            now,
        )
    return texts.EXTENSION_REQUESTED(lang, number=ticket.number, days=days)


def _button(hotline: Hotline, text: str, action: str, *args: int | str) -> Button:
    return Button(text, hotline.buttons.sign(action, *args))


def resolve(
    store: Store, hotline: Hotline, ticket: Ticket, staff: StaffMember, answer: str, now: datetime
) -> str:
    """办结: the answer goes to the citizen with the survey (回访) buttons."""
    lang = staff.language
    if not lifecycle.allowed(Move.RESOLVE, ticket.status):
        refuse(store, ticket.id, staff.telegram_user_id, f"resolve refused: {ticket.status}", now)
        return move_refused(ticket, Move.RESOLVE, lang)
    on_time = now <= ticket.deadline_at
    moved = lifecycle.resolve(ticket, staff, now, on_time=on_time)
    days = hotline.calendar.working_days_between(local_date(ticket.received_at), local_date(now))
    resolution_id = store.add_resolution(
        ticket,
        staff_id=staff.id,
        answer=answer,
        now=now,
        on_time=on_time,
        working_days=max(days, 0),
    )
    updated = lifecycle.save(store, moved)
    refresh_cards(store, hotline, updated, now)
    send_answer_and_survey(store, hotline, updated, resolution_id, answer, now)
    return texts.RESOLVED(lang, number=ticket.number)


# -- talking with the citizen ----------------------------------------------------------------------


def relay_to_citizen(
    store: Store,
    hotline: Hotline,
    msg: IncomingMessage,
    ticket: Ticket,
    staff: StaffMember,
    now: datetime,
) -> None:
    """A staff reply reaches the citizen as a message from the department, never from the
    staff member's own account; it is stored on the ticket."""
    lang = office_language(hotline) if msg.chat_id != staff.telegram_user_id else staff.language
    if not staff.may_handle(ticket):
        refuse(store, ticket.id, staff.telegram_user_id, "relay: not their ticket", now)
        store.queue(
            Outgoing(
                chat_id=msg.chat_id, text=texts.NO_RIGHTS(lang), reply_to_message_id=msg.message_id
            ),
            now,
        )
        return
    citizen = store.citizen(ticket.citizen_id)
    if citizen is None:
        return
    kind = _MEDIA.get(msg.content, ItemKind.TEXT)
    if kind is ItemKind.TEXT and not msg.text.strip():
        return
    item = NewItem(
        kind=kind,
        author=Role.STAFF,
        created_at=now,
        ticket_id=ticket.id,
        staff_id=staff.id,
        text=msg.text.strip() or None,
        file_id=msg.file_id,
        file_unique_id=msg.file_unique_id,
    )
    store.add_item(item)
    store.record(event(ticket, staff, "staff_message", now))
    # A message relayed to the citizen is a first contact (先行联系) when none was made yet.
    if store.record_contact(ticket.id, staff.id, now) == now:
        store.record(event(ticket, staff, "contacted", now, data={"by": "message"}))
    department = hotline.department_name(ticket.department_code, citizen.language) or ""
    wording = texts.RELAY_TO_CITIZEN(
        citizen.language, department=department, number=ticket.number, text=msg.text.strip()
    )
    if kind is ItemKind.TEXT:
        store.queue(
            Outgoing(chat_id=citizen.chat_id, text=wording, ticket_id=ticket.id, purpose="relayed"),
            now,
        )
    else:
        store.queue(
            _relayed_file(
                attachment_message(citizen.chat_id, item, ticket.id, None, purpose="relayed"),
                wording,
            ),
            now,
        )
    store.queue(
        Outgoing(
            chat_id=msg.chat_id,
            text=texts.RELAYED(lang),
            reply_to_message_id=msg.message_id,
        ),
        now,
    )


def _relayed_file(message: Outgoing, caption: str) -> Outgoing:
    return replace(message, text=shorten(caption, 1024))


# -- commands --------------------------------------------------------------------------------------


def queue_command(
    store: Store, hotline: Hotline, staff: StaffMember, chat_id: int, now: datetime
) -> None:
    """/queue: the department's open tickets by deadline (the dispatch queue for supervisors)."""
    lang = staff.language
    if staff.is_supervisor and staff.department_code is None:
        tickets = store.dispatch_queue(QUEUE_SHOWN)
    elif staff.department_code is None:
        raise ValueError(f"staff {staff.id} is in no department")
    else:
        tickets = store.department_queue(staff.department_code, QUEUE_SHOWN)
    if not tickets:
        text = texts.QUEUE_EMPTY(lang)
    else:
        lines = [texts.QUEUE_HEADER(lang, count=len(tickets))]
        lines += [
            texts.QUEUE_LINE(
                lang,
                number=t.number,
                status=texts.status_name(t.status, lang),
                deadline=show_deadline(t.deadline_at, urgent=t.urgent),
                left=time_left(hotline, t, now, lang),
                text=shorten(t.text.replace("\n", " "), 40),
            )
            for t in tickets
        ]
        text = "\n".join(lines)
    store.queue(Outgoing(chat_id=chat_id, text=shorten(text, 4096)), now)
