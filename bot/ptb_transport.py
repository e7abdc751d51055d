"""The python-telegram-bot transport: the same hotline behind PTB's ``Bot``.

PTB's ``Application`` is not used: its polling confirms updates as soon as they are read. The
project's own poller (bot.polling) fetches with PTB's ``Bot.get_updates`` and confirms a batch
only after it is committed, exactly as with aiogram.
"""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from bot.app import BotIdentity, HotlineApp
from bot.delivery import ChatMoved, RetryLater, Undeliverable, refused
from bot.incoming import handle_update
from bot.limits import CAPTION_LIMIT, truncate, with_mention
from bot.polling import (
    ALLOWED_UPDATES,
    CONFLICT_OTHER_POLLER,
    FetchFailed,
    Unauthorized,
    Unreadable,
    WebhookActive,
    unreadable_update,
)
from handlers import texts
from handlers.menu import Menu
from handlers.model import Language
from storage.outbox import QueuedMessage


def build_ptb_bot(token: str, api_base: str) -> Bot:
    """A PTB Bot talking to ``api_base``, with a connection pool fit for concurrent sends."""
    return Bot(
        token,
        base_url=f"{api_base}/bot",
        base_file_url=f"{api_base}/file/bot",
        request=HTTPXRequest(connection_pool_size=64, pool_timeout=30.0),
    )


class PtbFeed:
    """Updates through PTB: fetched with ``Bot.get_updates``, turned into core events."""

    def __init__(self, bot: Bot, app: HotlineApp, me: BotIdentity) -> None:
        self.bot = bot
        self.app = app
        self.me = me

    async def fetch(self, offset: int | None, timeout: int) -> list[Update | Unreadable]:
        api_kwargs: dict[str, Any] = {"timeout": timeout, "allowed_updates": ALLOWED_UPDATES}
        if offset is not None:
            api_kwargs["offset"] = offset
        try:
            with warnings.catch_warnings():
                # PTB asks for Bot.get_updates, which reads the whole list at once: one update
                # it cannot read fails the call for every update, again on every call.
                warnings.simplefilter("ignore")
                raw = await self.bot.do_api_request(
                    "getUpdates", api_kwargs=api_kwargs, read_timeout=timeout + 15
                )
        except InvalidToken as exc:
            raise Unauthorized(str(exc)) from exc
        except Conflict as exc:
            if "webhook" in str(exc).lower():
                raise WebhookActive(str(exc)) from exc
            raise FetchFailed(CONFLICT_OTHER_POLLER) from exc
        except (TelegramError, OSError) as exc:
            raise FetchFailed(str(exc)) from exc
        entries = raw if isinstance(raw, list) else []
        return [update for entry in entries if (update := self.read(entry)) is not None]

    def read(self, entry: Any) -> Update | Unreadable | None:
        try:
            update = Update.de_json(entry, self.bot)
            _check_readable(update)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # PTB names the missing field in a KeyError; other errors by their type only,
            # as their text may quote what a person sent.
            problem = f"missing {exc}" if isinstance(exc, KeyError) else type(exc).__name__
            return unreadable_update(entry, problem)
        return update

    async def set_webhook(self, url: str, secret: str, max_connections: int) -> None:
        try:
            await self.bot.set_webhook(
                url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                max_connections=max_connections,
            )
        except InvalidToken as exc:
            raise Unauthorized(str(exc)) from exc
        except (TelegramError, OSError) as exc:
            raise FetchFailed(str(exc)) from exc

    async def webhook_url(self) -> str:
        try:
            return (await self.bot.get_webhook_info()).url
        except InvalidToken as exc:
            raise Unauthorized(str(exc)) from exc
        except (TelegramError, OSError) as exc:
            raise FetchFailed(str(exc)) from exc

    async def delete_webhook(self) -> None:
        try:
            await self.bot.delete_webhook(drop_pending_updates=False)
        except InvalidToken as exc:
            raise Unauthorized(str(exc)) from exc
        except (TelegramError, OSError) as exc:
            raise FetchFailed(str(exc)) from exc

    def update_id(self, update: Update) -> int:
        return update.update_id

    async def handle(self, update: Update) -> None:
        await handle_update(self.app, self.me, update, toast_errors=(TelegramError,))

    async def apologise(self, update: Update) -> None:
        message = update.message or update.edited_message
        if update.callback_query is not None:
            lang = Language.from_telegram(update.callback_query.from_user.language_code)
            await update.callback_query.answer(texts.SOMETHING_WENT_WRONG(lang), show_alert=True)
        elif message is not None and message.chat.type == "private":
            user = message.from_user
            lang = Language.from_telegram(user.language_code if user else None)
            await self.bot.send_message(message.chat.id, texts.SOMETHING_WENT_WRONG(lang))


async def set_menus(bot: Bot, menus: list[Menu]) -> None:
    """One setMyCommands call a menu (``handlers.menu``)."""
    for menu in menus:
        scope: BotCommandScope = (
            BotCommandScopeChat(menu.scope["chat_id"])
            if menu.scope["type"] == "chat"
            else BotCommandScopeAllGroupChats()
            if menu.scope["type"] == "all_group_chats"
            else BotCommandScopeAllPrivateChats()
        )
        try:
            await bot.set_my_commands(
                [BotCommand(c, d) for c, d in menu.commands],
                scope=scope,
                language_code=menu.language_code or None,
            )
        except InvalidToken as exc:
            raise Unauthorized(str(exc)) from exc
        except (TelegramError, OSError) as exc:
            raise FetchFailed(str(exc)) from exc


def _check_readable(update: Update) -> None:
    """PTB reads a message without a chat as one whose chat is None; the core needs it."""
    message = update.message or update.edited_message
    if message is not None and getattr(message, "chat", None) is None:
        raise KeyError("chat")


def _markup(
    payload: dict[str, Any],
) -> InlineKeyboardMarkup | ForceReply | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    if payload.get("buttons"):
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(b["text"], callback_data=b.get("data"), url=b.get("url"))
                    for b in row
                ]
                for row in payload["buttons"]
            ]
        )
    if payload.get("force_reply"):
        # selective: in a group, only the person named or replied to gets the reply box.
        return ForceReply(selective=True, input_field_placeholder=payload.get("placeholder"))
    if payload.get("contact_button"):
        return ReplyKeyboardMarkup(
            [[KeyboardButton(payload["contact_button"], request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    if payload.get("remove_keyboard"):
        return ReplyKeyboardRemove()
    return None


def _retry_after(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int form is going away
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class PtbSender:
    """Makes the Bot API call for one outbox message with PTB."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, message: QueuedMessage) -> int | None:
        try:
            return await self._call(message)
        except RetryAfter as exc:
            raise RetryLater("Telegram asks to slow down (429)", _retry_after(exc)) from exc
        except Forbidden as exc:
            raise Undeliverable(str(exc), blocked=True) from exc
        except BadRequest as exc:  # before NetworkError: PTB makes it a subclass
            if "not modified" in str(exc).lower():
                return message.payload.get("edit_message_id")
            raise refused(str(exc)) from exc
        except ChatMigrated as exc:
            raise ChatMoved(exc.new_chat_id) from exc
        except InvalidToken as exc:
            raise RetryLater("the Bot API server refused the token") from exc
        except (NetworkError, TelegramError, OSError) as exc:
            raise RetryLater(str(exc)) from exc

    async def _call(self, message: QueuedMessage) -> int | None:
        p = message.payload
        chat_id = message.chat_id
        markup = _markup(p)
        reply = (
            ReplyParameters(p["reply_to_message_id"], allow_sending_without_reply=True)
            if p.get("reply_to_message_id")
            else None
        )
        text = p.get("text", "")
        match message.method:
            case "sendMessage":
                text, entities = with_mention(text, p.get("mention"))
                sent = await self.bot.send_message(
                    chat_id,
                    text,
                    reply_markup=markup,
                    reply_parameters=reply,
                    entities=[MessageEntity.de_json(e, self.bot) for e in entities] or None,
                )
            case "editMessageText":
                edited = await self.bot.edit_message_text(
                    text,
                    chat_id=chat_id,
                    message_id=p["edit_message_id"],
                    reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
                )
                return edited.message_id if isinstance(edited, Message) else None
            case "sendLocation":
                sent = await self.bot.send_location(
                    chat_id, p["latitude"], p["longitude"], reply_parameters=reply
                )
            case "sendPhoto" | "sendDocument" | "sendVideo" | "sendVoice" | "sendAudio":
                kind = message.method.removeprefix("send").lower()
                call = getattr(self.bot, f"send_{kind}")
                upload = p.get("upload")
                sent = await call(
                    chat_id,
                    InputFile(upload[1], filename=upload[0]) if upload else p["file_id"],
                    caption=truncate(text, CAPTION_LIMIT) or None,
                    reply_markup=markup,
                    reply_parameters=reply,
                )
            case other:
                raise Undeliverable(f"unknown outbox method {other!r}")
        return int(sent.message_id)
