"""The core's front door: one incoming event in, state changed and replies queued.

Transports call these inside one unit of work per update. Each update is claimed first, so a
redelivered update (after a crash, or by a second instance) changes nothing twice. Who the
sender is (citizen, staff, supervisor) and what they reply to decide where an event goes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from handlers import (
    answer_review,
    desk,
    knowledge_staff,
    lists,
    quality,
    statistics,
    survey,
    texts,
)
from handlers import citizen as citizen_actions
from handlers import staff as staff_actions
from handlers import supervisor as supervisor_actions
from handlers.buttons import BadButton, ButtonAction
from handlers.context import Hotline
from handlers.display import shorten
from handlers.events import ButtonPress, ChatKind, Content, IncomingMessage
from handlers.model import Language, Role, SentMessage, StaffMember, TicketEvent
from handlers.numbering import normalize_ticket_number
from handlers.outgoing import SUPERSEDED_CARD, Outgoing, Reaction
from handlers.ports import History, Outbox, Store

log = logging.getLogger(__name__)

ButtonHandler = Callable[[Store, Hotline, ButtonPress, ButtonAction, datetime], Reaction]
StaffCommand = Callable[[Store, Hotline, IncomingMessage, StaffMember, datetime], None]
INVITE_PREFIX = "inv_"


def handle_message(store: Store, hotline: Hotline, msg: IncomingMessage, now: datetime) -> None:
    if not store.claim_update(msg.update_id, now):
        log.info("update %s was already handled", msg.update_id)
        return
    if msg.chat_kind is ChatKind.CHANNEL:
        return
    private = msg.chat_kind is ChatKind.PRIVATE
    if private and msg.content is not Content.COMMAND and not msg.reply_to_bot:
        # A request or follow-up in a private chat is a citizen's whoever sends it: the commonest
        # update needs no staff lookup.
        citizen_actions.handle_private_message(store, hotline, msg, now)
        return
    staff = store.staff_member(msg.sender.user_id)
    if private and msg.command == "start" and msg.command_args.startswith(INVITE_PREFIX):
        _accept_invite(store, hotline, msg, staff, now)
        return
    if msg.reply_to_bot and msg.reply_to_message_id is not None and not msg.edited:
        sent = store.sent_message(msg.chat_id, msg.reply_to_message_id)
        if sent is not None and _on_reply(store, hotline, msg, sent, staff, now):
            return
    if not private:
        _group_message(store, hotline, msg, staff, now)
    elif staff is not None and msg.content is Content.COMMAND and msg.command in STAFF_COMMANDS:
        _staff_command(store, hotline, msg, staff, now)
    else:
        citizen_actions.handle_private_message(store, hotline, msg, now)


def _on_reply(
    store: Store,
    hotline: Hotline,
    msg: IncomingMessage,
    sent: SentMessage,
    staff: StaffMember | None,
    now: datetime,
) -> bool:
    """A reply to one of the bot's messages; True if it was handled here."""
    # A reply to a superseded card still reaches the citizen: nothing staff write is lost.
    relays = sent.purpose in staff_actions.RELAY_SOURCES or sent.purpose == SUPERSEDED_CARD
    if sent.purpose in staff_actions.PROMPTS or (relays and sent.ticket_id is not None):
        if staff is None:
            if msg.chat_kind is ChatKind.PRIVATE:
                return False  # a citizen replying to something of theirs: their own flow
            staff_actions.refuse(
                store, sent.ticket_id, msg.sender.user_id, "reply by non-staff", now
            )
            lang = Language.from_telegram(msg.sender.language_code)
            _say(store, msg, texts.STAFF_ONLY(lang), now)
            return True
        if sent.purpose in answer_review.PROMPTS:
            answer_review.on_answer_reply(store, hotline, msg, sent, staff, now)
            return True
        if sent.purpose in staff_actions.PROMPTS:
            staff_actions.on_prompt_reply(store, hotline, msg, sent, staff, now)
            return True
        # Narrowing only: a relayed message reaches here with a ticket (the test above).
        assert sent.ticket_id is not None
        ticket = store.ticket(sent.ticket_id)
        if ticket is not None:
            staff_actions.relay_to_citizen(store, hotline, msg, ticket, staff, now)
        return True
    if sent.purpose == "ask_qa_reason":
        if staff is None or not staff.is_supervisor:
            staff_actions.refuse(
                store, sent.ticket_id, msg.sender.user_id, "QA reason by non-supervisor", now
            )
            _say(
                store,
                msg,
                texts.SUPERVISOR_ONLY(Language.from_telegram(msg.sender.language_code)),
                now,
            )
        else:
            quality.on_qa_reason(store, hotline, msg, sent, staff, now)
        return True
    if sent.purpose == knowledge_staff.KB_QUESTION_PROMPT:
        if staff is None:
            staff_actions.refuse(
                store, sent.ticket_id, msg.sender.user_id, "kb question by non-staff", now
            )
            _say(
                store, msg, texts.STAFF_ONLY(Language.from_telegram(msg.sender.language_code)), now
            )
        else:
            knowledge_staff.on_question_reply(store, msg, sent, staff, now)
        return True
    if sent.purpose == "survey_comment" and msg.chat_kind is ChatKind.PRIVATE:
        citizen = store.citizen_for(msg.sender, msg.chat_id, now)
        survey.on_comment(store, hotline, citizen, msg, sent, now)
        return True
    return False


def _say(store: Outbox, msg: IncomingMessage, text: str, now: datetime) -> None:
    store.queue(Outgoing(chat_id=msg.chat_id, text=text, reply_to_message_id=msg.message_id), now)


def _group_message(
    store: Store,
    hotline: Hotline,
    msg: IncomingMessage,
    staff: StaffMember | None,
    now: datetime,
) -> None:
    """In groups the bot hears commands and replies to itself (privacy mode); the rest of the
    conversation in a department's chat is none of its business."""
    if msg.content is not Content.COMMAND:
        return
    if msg.command == "chatid":
        lang = Language(hotline.config.hotline.default_language)
        _say(store, msg, texts.CHAT_ID(lang, chat_id=msg.chat_id), now)
    elif staff is None:
        _say(
            store,
            msg,
            texts.GROUP_ONLY_STAFF(Language.from_telegram(msg.sender.language_code)),
            now,
        )
    elif msg.command in STAFF_COMMANDS:
        _staff_command(store, hotline, msg, staff, now)
    else:
        _say(
            store,
            msg,
            texts.UNKNOWN_COMMAND(staff.language, command=shorten(f"/{msg.command}", 40)),
            now,
        )


def _staff_command(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    if msg.command is None:
        raise ValueError("not a command")
    if msg.command in SUPERVISOR_COMMANDS and not staff.is_supervisor:
        staff_actions.refuse(store, None, staff.telegram_user_id, f"/{msg.command} by staff", now)
        _say(store, msg, texts.SUPERVISOR_ONLY(staff.language), now)
        return
    STAFF_COMMANDS[msg.command](store, hotline, msg, staff, now)


def _queue(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    staff_actions.queue_command(store, hotline, staff, msg.chat_id, now)


def _reply(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    """/reply NUMBER text: a message to the citizen without replying to the card."""
    number_text, _, rest = msg.command_args.strip().partition(" ")
    number = normalize_ticket_number(number_text) if number_text else None
    ticket = store.ticket_by_number(number) if number else None
    if ticket is None or not rest.strip():
        _say(store, msg, texts.REPLY_USAGE(staff.language), now)
        return
    as_text = replace(msg, content=Content.TEXT, text=rest.strip(), command=None, command_args="")
    staff_actions.relay_to_citizen(store, hotline, as_text, ticket, staff, now)


def _help(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    text = texts.STAFF_HELP(staff.language) + texts.KB_HELP(staff.language)
    if staff.is_supervisor:
        text += "\n\n" + texts.SUPERVISOR_HELP(staff.language)
    _say(store, msg, text, now)


def _chat_id(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    _say(store, msg, texts.CHAT_ID(staff.language, chat_id=msg.chat_id), now)


STAFF_COMMANDS: dict[str, StaffCommand] = {
    "queue": _queue,
    "reply": _reply,
    "help": _help,
    "chatid": _chat_id,
    "dispatch": supervisor_actions.redispatch_command,
    "urgent": supervisor_actions.urgent_command,
    "nudge": supervisor_actions.nudge_command,
    "overdue": supervisor_actions.overdue_command,
    "invite": supervisor_actions.invite_command,
    "departments": supervisor_actions.departments_command,
    "similar": supervisor_actions.similar_command,
    "stats": statistics.stats_command,
    "export": statistics.export_command,
    "kb": knowledge_staff.search_command,
    "kb_add": knowledge_staff.add_command,
    "kb_edit": knowledge_staff.edit_command,
    "kb_off": knowledge_staff.off_command,
    "kb_stats": knowledge_staff.stats_command,
    "ranking": statistics.ranking_command,
    "briefing": statistics.briefing_command,
    "desk": desk.desk_command,
}
SUPERVISOR_COMMANDS = frozenset(
    {
        "dispatch",
        "urgent",
        "nudge",
        "overdue",
        "invite",
        "departments",
        "similar",
        "stats",
        "export",
        "kb_stats",
        "ranking",
        "briefing",
    }
)


def _accept_invite(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember | None, now: datetime
) -> None:
    """Opening an invite link: the one-time token makes the opener staff of its department."""
    token = msg.command_args[len(INVITE_PREFIX) :].strip()
    lang = staff.language if staff else Language.from_telegram(msg.sender.language_code)
    department = store.use_invite(token, msg.sender.user_id, now) if token else None
    if department is None:
        store.record(
            TicketEvent(
                ticket_id=None,
                at=now,
                actor_role=Role.CITIZEN,
                actor_id=msg.sender.user_id,
                action="refused",
                reason="invalid, used or expired invite",
            )
        )
        _say(store, msg, texts.INVITE_INVALID(lang), now)
        return
    member = store.add_staff(
        msg.sender.user_id,
        role=Role.SUPERVISOR if staff and staff.is_supervisor else Role.STAFF,
        department_code=department,
        name=msg.sender.display_name or None,
        language=lang,
        now=now,
    )
    store.record(
        TicketEvent(
            ticket_id=None,
            at=now,
            actor_role=member.role,
            actor_id=member.telegram_user_id,
            action="staff_enrolled",
            data={"department": department},
        )
    )
    _say(
        store,
        msg,
        texts.INVITE_ACCEPTED(
            lang, department=hotline.department_name(department, lang) or department
        ),
        now,
    )


# -- buttons ---------------------------------------------------------------------------------------


def _citizen_button(
    store: Store, hotline: Hotline, press: ButtonPress, action: ButtonAction, now: datetime
) -> Reaction:
    """Buttons on a citizen's own messages: the request type, and "more on X or new?"."""
    if press.chat_kind is not ChatKind.PRIVATE or press.chat_id is None or len(action.args) != 2:
        raise BadButton(f"{action.action} button outside the citizen's chat")
    citizen = store.citizen_for(press.sender, press.chat_id, now)
    if action.action == "kb":
        return citizen_actions.decide_direct_answer(
            store, hotline, citizen, action.int_arg(0), action.args[1], now
        )
    if action.action == "type":
        return citizen_actions.change_request_type(
            store, hotline, citizen, action.int_arg(0), action.args[1], press.message_id, now
        )
    return citizen_actions.decide_held(
        store, hotline, citizen, action.int_arg(0), action.args[1], press.message_id, now
    )


BUTTONS: dict[str, ButtonHandler] = {
    "type": _citizen_button,
    "held": _citizen_button,
    "kb": _citizen_button,
    "rate": survey.on_rate_button,
    "solved": survey.on_solved_button,
    "sign": staff_actions.on_card_button,
    "return": staff_actions.on_card_button,
    "extend": staff_actions.on_card_button,
    "resolve": staff_actions.on_card_button,
    "contact": staff_actions.on_card_button,
    "contacted": staff_actions.on_card_button,
    "open": lists.on_open_button,
    "pick": supervisor_actions.on_pick_button,
    "pickany": supervisor_actions.on_pick_button,
    "approve": supervisor_actions.on_extension_button,
    "reject": supervisor_actions.on_extension_button,
    "qa": quality.on_qa_button,
    "kbadd": knowledge_staff.on_add_button,
    "precheck": answer_review.on_precheck_button,
    "reuse": answer_review.on_reuse_button,
}


def handle_button(store: Store, hotline: Hotline, press: ButtonPress, now: datetime) -> Reaction:
    if not store.claim_update(press.update_id, now):
        return Reaction()
    action = hotline.buttons.verify(press.data)
    handler = BUTTONS.get(action.action) if action is not None else None
    if action is not None and handler is not None:
        try:
            return handler(store, hotline, press, action, now)
        except BadButton as exc:
            why = str(exc)
    else:
        why = "forged or unknown button data"
    _refused(store, press, now, why)
    lang = Language.from_telegram(press.sender.language_code)
    return Reaction(texts.BUTTON_INVALID(lang), callback_alert=True)


def _refused(store: History, press: ButtonPress, now: datetime, why: str) -> None:
    """Refused presses go to the event log: forged data is worth a supervisor's look."""
    log.warning("refused a button press by user %s: %s", press.sender.user_id, why)
    store.record(
        TicketEvent(
            ticket_id=None,
            at=now,
            actor_role=Role.CITIZEN,
            actor_id=press.sender.user_id,
            action="refused",
            reason=why,
            data={"data": press.data[:64]},
        )
    )
