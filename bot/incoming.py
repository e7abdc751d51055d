"""Telegram updates as the core's events, for either framework.

aiogram's and python-telegram-bot's ``Message``, ``User``, ``Chat`` and ``CallbackQuery`` carry
the Bot API's own field names, so one translation reads both (duck-typed: ``Any``).
"""

from __future__ import annotations

import logging
from typing import Any

from bot.app import BotIdentity, HotlineApp
from handlers.events import (
    ButtonPress,
    ChatKind,
    Content,
    IncomingMessage,
    Person,
    parse_command,
)

log = logging.getLogger(__name__)


async def handle_update(
    app: HotlineApp,
    me: BotIdentity,
    update: Any,
    *,
    toast_errors: tuple[type[Exception], ...],
) -> None:
    """One update to the core: a button press (then its toast), a message or an edited one;
    other kinds are not asked for. ``toast_errors``: the framework's API errors, which a toast
    may meet and shrug off (the change is committed by then)."""
    if update.callback_query is not None:
        query = update.callback_query
        reaction = await app.on_button(button_press(query, update.update_id))
        try:
            await query.answer(text=reaction.callback_answer, show_alert=reaction.callback_alert)
        except toast_errors as exc:
            log.info("could not answer callback query: %s", exc)
        return
    message = update.message or update.edited_message
    if message is None:
        return
    event = incoming_message(
        message, update.update_id, me, edited=update.edited_message is not None
    )
    if event is not None:
        await app.on_message(event)


def chat_kind(chat_type: str) -> ChatKind:
    if chat_type == "private":
        return ChatKind.PRIVATE
    if chat_type == "channel":
        return ChatKind.CHANNEL
    return ChatKind.GROUP


def _storable(text: str | None) -> str | None:
    """The text without NUL characters, which PostgreSQL cannot store in text (the request
    would fail to commit and be lost) and which no one means to send."""
    return text.replace("\x00", "") if text and "\x00" in text else text


def person(user: Any) -> Person:
    return Person(
        user_id=user.id,
        first_name=_storable(user.first_name) or "",
        last_name=_storable(user.last_name),
        username=_storable(user.username),
        language_code=user.language_code,
    )


def incoming_message(
    message: Any, update_id: int, me: BotIdentity, *, edited: bool = False
) -> IncomingMessage | None:
    """The core's view of a message; None for messages without a sender (channel posts)."""
    if message.from_user is None:
        return None
    fields: dict[str, Any] = {}
    content = Content.OTHER
    text = _storable(message.text)
    if text is not None:
        command = parse_command(text, me.username)
        if command is not None:
            content = Content.COMMAND
            fields["command"], fields["command_args"] = command
        else:
            content = Content.TEXT
        fields["text"] = text
    elif message.photo:
        largest = message.photo[-1]
        content = Content.PHOTO
        fields |= {"file_id": largest.file_id, "file_unique_id": largest.file_unique_id}
    elif message.sticker is not None:
        content = Content.STICKER
    else:
        for attribute, kind in (
            ("document", Content.DOCUMENT),
            ("video", Content.VIDEO),
            ("animation", Content.VIDEO),
            ("video_note", Content.VIDEO),
            ("voice", Content.VOICE),
            ("audio", Content.AUDIO),
        ):
            media = getattr(message, attribute, None)
            if media is not None:
                content = kind
                fields |= {"file_id": media.file_id, "file_unique_id": media.file_unique_id}
                break
        else:
            if message.location is not None:
                content = Content.LOCATION
                fields |= {
                    "latitude": message.location.latitude,
                    "longitude": message.location.longitude,
                }
            elif message.contact is not None:
                content = Content.CONTACT
                fields |= {
                    "contact_phone": _storable(message.contact.phone_number),
                    "contact_user_id": message.contact.user_id,
                }
    if content not in (Content.TEXT, Content.COMMAND) and message.caption:
        fields["text"] = _storable(message.caption)
    reply = message.reply_to_message
    return IncomingMessage(
        update_id=update_id,
        sender=person(message.from_user),
        chat_id=message.chat.id,
        chat_kind=chat_kind(message.chat.type),
        message_id=message.message_id,
        content=content,
        reply_to_message_id=reply.message_id if reply else None,
        reply_to_bot=bool(reply and reply.from_user and reply.from_user.id == me.user_id),
        reply_to_text=(reply.text or reply.caption) if reply else None,
        edited=edited,
        **fields,
    )


def button_press(query: Any, update_id: int) -> ButtonPress:
    message = query.message
    chat = getattr(message, "chat", None)
    return ButtonPress(
        update_id=update_id,
        sender=person(query.from_user),
        chat_id=chat.id if chat else None,
        chat_kind=chat_kind(chat.type) if chat else ChatKind.PRIVATE,
        message_id=message.message_id if message else None,
        callback_id=query.id,
        data=query.data or "",
    )
