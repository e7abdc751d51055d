"""The aiogram transport: Telegram updates in, outbox messages out.

Only translation lives here: aiogram's updates go to the core as events (``bot.incoming``), an
outbox row becomes one Bot API call. The hotline's rules are in ``handlers``.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageText,
    GetMe,
    GetUpdates,
    SendAudio,
    SendDocument,
    SendLocation,
    SendMessage,
    SendPhoto,
    SendVideo,
    SendVoice,
)
from aiogram.methods.base import Response, TelegramMethod
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BufferedInputFile,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
)
from aiohttp import FormData
from aiohttp.payload import BytesPayload
from pydantic import BaseModel, ConfigDict, ValidationError

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


class SentMessageId(BaseModel):
    """What delivery keeps of Telegram's answer to a sendMessage: the new message's id.
    Reading the whole Message it echoes back (chat, sender, text, the keyboard again) as
    aiogram's models cost ~45 µs a send, a fifth of the send's Python work."""

    model_config = ConfigDict(extra="ignore")
    message_id: int


class SendPreparedMessage(TelegramMethod[SentMessageId]):
    """sendMessage with its keyboard and reply already in wire form (JSON text), answered with
    the new message's id only.

    aiogram's typed ``SendMessage`` builds a keyboard as models, validates them, dumps them back
    to dicts and then to the same JSON: ~250 µs for a confirmation's five buttons, more than
    the rest of a send's Python work (bench.intake). The Bot API takes ``reply_markup`` and
    ``reply_parameters`` as JSON text, which is what aiogram would send.
    """

    __returning__ = SentMessageId
    __api_method__ = "sendMessage"

    chat_id: int
    text: str
    reply_markup: str | None = None
    reply_parameters: str | None = None
    entities: str | None = None


class GetRawUpdates(TelegramMethod[list[dict[str, Any]]]):
    """getUpdates answered as the Bot API's JSON objects, each read as an ``Update`` on its
    own (``AiogramFeed.fetch``): aiogram's ``GetUpdates`` reads the whole list at once, and one
    update it cannot read fails the call for every update, again on every call."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


class UrlencodedSession(AiohttpSession):
    """aiogram's aiohttp session, its calls without files sent as one urlencoded body.

    aiohttp's ``FormData`` makes a multipart writer for every call (a uuid4 boundary) and, for a
    form without files, percent-encodes it byte by byte in Python: ~100 µs for a card of Chinese
    text. Here every byte of a value is percent-encoded in one C call (``bytes.hex``); calls
    with files (photos, documents) are aiogram's multipart form as before.
    """

    def build_form_data(  # type: ignore[override]  # aiohttp posts a payload as it does a form
        self, bot: Bot, method: TelegramMethod[Any]
    ) -> FormData | BytesPayload:
        fields: list[str] = []
        files: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:  # as aiogram: None, "" and empty collections are left out
                fields.append(f"{key}=%{prepared.encode().hex('%')}")
        if files:
            return super().build_form_data(bot, method)
        return BytesPayload("&".join(fields).encode(), content_type=_URLENCODED)


_URLENCODED = "application/x-www-form-urlencoded"


# aiogram reads every answer as ``Response[method.__returning__]``. pydantic keeps such generic
# classes only weakly, so once the garbage collector frees one, the next call rebuilds it (a
# few milliseconds each; 4-5% of the bot's CPU in bench.intake). Holding the ones this bot
# uses keeps them built.
_METHODS: tuple[type[TelegramMethod[Any]], ...] = (
    GetMe,
    GetUpdates,
    GetRawUpdates,
    SendMessage,
    SendPreparedMessage,
    EditMessageText,
    AnswerCallbackQuery,
    SendLocation,
    SendPhoto,
    SendDocument,
    SendVideo,
    SendVoice,
    SendAudio,
)
_RESPONSE_MODELS = tuple(
    Response[method.__returning__]  # type: ignore[name-defined]  # a runtime type argument
    for method in _METHODS
)


def build_bot(token: str, api_base: str) -> Bot:
    """A Bot talking to ``api_base`` (the official server, a self-hosted one, or a test fake)."""
    session = UrlencodedSession(api=TelegramAPIServer.from_base(api_base))
    return Bot(token=token, session=session)


# -- long polling ------------------------------------------------------------------------------


class AiogramFeed:
    """Updates through aiogram: fetched and parsed by its Bot, each turned into a core event.

    Not through aiogram's Dispatcher: the hotline has one handler for each kind of update and
    no filters, middlewares or FSM (conversation state is in the database), and the
    Dispatcher's layers around them cost ~300 µs an update, more than a ticket's routing
    (bench.intake). The python-telegram-bot transport reads updates the same way.
    """

    def __init__(self, bot: Bot, app: HotlineApp, me: BotIdentity) -> None:
        self.bot = bot
        self.app = app
        self.me = me

    async def fetch(self, offset: int | None, timeout: int) -> list[Update | Unreadable]:
        try:
            raw = await self.bot(
                GetRawUpdates(offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES),
                request_timeout=timeout + 15,
            )
        except TelegramUnauthorizedError as exc:
            raise Unauthorized(exc.message) from exc
        except TelegramConflictError as exc:
            if "webhook" in exc.message.lower():
                raise WebhookActive(exc.message) from exc
            raise FetchFailed(CONFLICT_OTHER_POLLER) from exc
        except (TelegramAPIError, OSError, TimeoutError) as exc:
            raise FetchFailed(str(exc)) from exc
        return [update for entry in raw if (update := self.read(entry)) is not None]

    def read(self, entry: Any) -> Update | Unreadable | None:
        try:
            return Update.model_validate(entry, context={"bot": self.bot})
        except ValidationError as exc:
            return unreadable_update(entry, _fields_at_fault(exc))

    async def set_webhook(self, url: str, secret: str, max_connections: int) -> None:
        try:
            await self.bot.set_webhook(
                url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                max_connections=max_connections,
            )
        except TelegramUnauthorizedError as exc:
            raise Unauthorized(exc.message) from exc
        except (TelegramAPIError, OSError, TimeoutError) as exc:
            raise FetchFailed(str(exc)) from exc

    async def webhook_url(self) -> str:
        try:
            return (await self.bot.get_webhook_info()).url
        except TelegramUnauthorizedError as exc:
            raise Unauthorized(exc.message) from exc
        except (TelegramAPIError, OSError, TimeoutError) as exc:
            raise FetchFailed(str(exc)) from exc

    async def delete_webhook(self) -> None:
        try:
            await self.bot.delete_webhook(drop_pending_updates=False)
        except TelegramUnauthorizedError as exc:
            raise Unauthorized(exc.message) from exc
        except (TelegramAPIError, OSError, TimeoutError) as exc:
            raise FetchFailed(str(exc)) from exc

    def update_id(self, update: Update) -> int:
        return update.update_id

    async def handle(self, update: Update) -> None:
        await handle_update(self.app, self.me, update, toast_errors=(TelegramAPIError,))

    async def apologise(self, update: Update) -> None:
        """A bug met this update: at least tell the person, rather than stay silent."""
        message = update.message or update.edited_message
        if update.callback_query is not None:
            lang = Language.from_telegram(update.callback_query.from_user.language_code)
            await update.callback_query.answer(texts.SOMETHING_WENT_WRONG(lang), show_alert=True)
        elif message is not None and message.chat.type == "private":
            user = message.from_user
            lang = Language.from_telegram(user.language_code if user else None)
            await self.bot.send_message(message.chat.id, texts.SOMETHING_WENT_WRONG(lang))


def _fields_at_fault(error: ValidationError) -> str:
    """Which fields made an update unreadable and why ("message.chat: missing"), without the
    values pydantic's own message quotes."""
    faults = [
        f"{'.'.join(str(part) for part in fault['loc'])}: {fault['type']}"
        for fault in error.errors(include_url=False, include_input=False)
    ]
    return ", ".join(faults[:5]) + (f" (+{len(faults) - 5} more)" if len(faults) > 5 else "")


# -- the command menu ------------------------------------------------------------------------


async def set_menus(bot: Bot, menus: list[Menu]) -> None:
    """One setMyCommands call a menu (``handlers.menu``)."""
    for menu in menus:
        try:
            await bot.set_my_commands(
                [BotCommand(command=c, description=d) for c, d in menu.commands],
                scope=_SCOPES[menu.scope["type"]](**menu.scope),
                language_code=menu.language_code or None,
            )
        except TelegramUnauthorizedError as exc:
            raise Unauthorized(exc.message) from exc
        except (TelegramAPIError, OSError, TimeoutError) as exc:
            raise FetchFailed(str(exc)) from exc


_SCOPES: dict[
    str,
    type[BotCommandScopeAllPrivateChats | BotCommandScopeAllGroupChats | BotCommandScopeChat],
] = {
    "all_private_chats": BotCommandScopeAllPrivateChats,
    "all_group_chats": BotCommandScopeAllGroupChats,
    "chat": BotCommandScopeChat,
}


# -- messages out ------------------------------------------------------------------------------


def _keyboard(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The message's reply_markup as the Bot API's JSON object, or None."""
    if payload.get("buttons"):
        return {"inline_keyboard": [[_button(b) for b in row] for row in payload["buttons"]]}
    if payload.get("force_reply"):
        # selective: in a group, only the person named or replied to gets the reply box.
        markup: dict[str, Any] = {"force_reply": True, "selective": True}
        if payload.get("placeholder"):
            markup["input_field_placeholder"] = payload["placeholder"]
        return markup
    if payload.get("contact_button"):
        return {
            "keyboard": [[{"text": payload["contact_button"], "request_contact": True}]],
            "resize_keyboard": True,
            "one_time_keyboard": True,
        }
    if payload.get("remove_keyboard"):
        return {"remove_keyboard": True}
    return None


def _button(button: dict[str, str]) -> dict[str, str]:
    wire = {"text": button["text"]}
    if "data" in button:
        wire["callback_data"] = button["data"]
    if "url" in button:
        wire["url"] = button["url"]
    return wire


def _markup(
    keyboard: dict[str, Any] | None,
) -> InlineKeyboardMarkup | ForceReply | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    """The same keyboard as aiogram's models, for the calls other than sendMessage."""
    if keyboard is None:
        return None
    if "inline_keyboard" in keyboard:
        return InlineKeyboardMarkup.model_validate(keyboard)
    if "keyboard" in keyboard:
        return ReplyKeyboardMarkup.model_validate(keyboard)
    if "remove_keyboard" in keyboard:
        return ReplyKeyboardRemove.model_validate(keyboard)
    return ForceReply.model_validate(keyboard)


def _reply(reply: dict[str, Any] | None) -> ReplyParameters | None:
    return ReplyParameters.model_validate(reply) if reply else None


class AiogramSender:
    """Makes the Bot API call for one outbox message."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, message: QueuedMessage) -> int | None:
        try:
            return await self._call(message)
        except TelegramRetryAfter as exc:
            raise RetryLater("Telegram asks to slow down (429)", exc.retry_after) from exc
        except TelegramForbiddenError as exc:
            raise Undeliverable(exc.message, blocked=True) from exc
        except TelegramBadRequest as exc:
            if "message is not modified" in exc.message:
                return message.payload.get("edit_message_id")
            raise refused(exc.message) from exc
        except TelegramMigrateToChat as exc:
            raise ChatMoved(exc.migrate_to_chat_id) from exc
        except TelegramNotFound as exc:
            raise refused(exc.message) from exc
        except (TelegramServerError, TelegramNetworkError, TelegramConflictError) as exc:
            raise RetryLater(exc.message) from exc
        except TelegramUnauthorizedError as exc:
            raise RetryLater("the Bot API server refused the token") from exc
        except (OSError, TimeoutError) as exc:
            raise RetryLater(f"network: {exc!r}") from exc

    async def _call(self, message: QueuedMessage) -> int | None:
        p = message.payload
        chat_id = message.chat_id
        keyboard = _keyboard(p)
        reply_to = p.get("reply_to_message_id")
        reply = {"message_id": reply_to, "allow_sending_without_reply": True} if reply_to else None
        text = p.get("text", "")
        match message.method:
            case "sendMessage":
                as_json = self.bot.session.json_dumps
                text, entities = with_mention(text, p.get("mention"))
                answer = await self.bot(
                    SendPreparedMessage(
                        chat_id=chat_id,
                        text=text,
                        reply_markup=as_json(keyboard) if keyboard else None,
                        reply_parameters=as_json(reply) if reply else None,
                        entities=as_json(entities) if entities else None,
                    )
                )
                return answer.message_id
            case "editMessageText":
                markup = _markup(keyboard)
                edited = await self.bot.edit_message_text(
                    text=text,
                    chat_id=chat_id,
                    message_id=p["edit_message_id"],
                    reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
                )
                return edited.message_id if isinstance(edited, Message) else None
            case "sendLocation":
                sent = await self.bot.send_location(
                    chat_id, p["latitude"], p["longitude"], reply_parameters=_reply(reply)
                )
            case "sendPhoto" | "sendDocument" | "sendVideo" | "sendVoice" | "sendAudio":
                kind = message.method.removeprefix("send").lower()
                call = getattr(self.bot, f"send_{kind}")
                upload = p.get("upload")
                sent = await call(
                    chat_id,
                    BufferedInputFile(upload[1], filename=upload[0]) if upload else p["file_id"],
                    caption=truncate(text, CAPTION_LIMIT) or None,
                    reply_markup=_markup(keyboard),
                    reply_parameters=_reply(reply),
                )
            case other:
                raise Undeliverable(f"unknown outbox method {other!r}")
        return sent.message_id
