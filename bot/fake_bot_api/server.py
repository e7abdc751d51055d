"""A fake Telegram Bot API server for end-to-end tests and the demo, over HTTP on 127.0.0.1.

Bots talk to it exactly as to api.telegram.org::

    async with FakeTelegramServer() as tg:
        bot = aiogram.Bot(TOKEN, session=AiohttpSession(
            api=TelegramAPIServer.from_base(tg.base_url)))
        ...
        alice = tg.user(1001, "Alice")
        tg.push_text(alice, "/start")
        reply = await tg.wait_for_message(alice.id, contains="欢迎")

``wait_for_message`` only looks at what the bot sent after the latest push (or after an
explicit ``after=`` marker), and never returns the same message twice in a row, so "push an
update, then wait for the reply to it" has no race.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import mimetypes
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from aiohttp import web

from .api import CANONICAL_METHODS, SEND_LIKE_METHODS, BotApi, BotInfo
from .formatting import utf16_len
from .models import (
    ApiError,
    Call,
    FakeChat,
    FakeUser,
    Marker,
    PushedUpdate,
    StoredFile,
)
from .params import decode_params, read_params
from .world import MessageEvent, Signal, World

if TYPE_CHECKING:
    import aiogram
    import telegram

__all__ = ["DEFAULT_TOKEN", "FakeTelegramServer"]

log = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456789:AAHfake-telegram-token_for_tests"
_TOKEN_RE = re.compile(r"(\d+):(.+)")
_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
After = Marker | PushedUpdate | None
# A message as a JSON dict, an aiogram/PTB Message object, or a message id (plus chat_id).
MessageRef = dict[str, Any] | int | Any


@dataclass(slots=True)
class _Fault:
    method: str  # lower-cased method name or "*"
    status: int
    description: str
    parameters: dict[str, Any] | None
    remaining: int
    chat_id: int | str | None
    body: str | None
    delay: float = 0.0


class FakeTelegramServer:
    """In-process Bot API server with recording, update pushing and fault injection."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_first_name: str = "12345 Hotline",
        bot_username: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.bot_first_name = bot_first_name
        self.bot_username = bot_username
        self.world = World()
        self.api = BotApi(self.world)
        self.errors: list[BaseException] = []  # bugs in the fake itself (answered with 500)
        self._calls: list[Call] = []
        self._calls_signal = Signal()
        self._faults: list[_Fault] = []
        self._rejected: set[str] = set()
        self._blocked: set[int] = set()
        self._bots: dict[str, BotInfo] = {}
        self._last_bot_id: int | None = None
        self._last_push = Marker(0, 0, 0)
        self._message_cursor: dict[int | None, int] = {}
        self._call_cursor: dict[str, int] = {}
        self._runner: web.AppRunner | None = None
        # Callers whose send-like calls wait before taking effect (hold()); None: every caller.
        self._holds: dict[str | None, list[asyncio.Future[bool]]] = {}
        self._held_signal = Signal()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on ``host`` (a free port unless one was given)."""
        if self._runner is not None:
            return
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        # The same API for one caller among several (base_url_for): calls record ``via``.
        app.router.add_route("*", "/via/{via}/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/via/{via}/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a client that gave up (e.g. a stopped poller) stops its
        # long poll here too instead of lingering until its timeout.
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            handler_cancellation=True,
            shutdown_timeout=1.0,
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            self.port = sock.getsockname()[1]
            await web.SockSite(runner, sock).start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self.api.closing = False
        self._runner = runner

    async def stop(self) -> None:
        """Answer waiting long polls and shut the server down."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self.api.closing = True
        self.world.updates_signal.notify()
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``; the API is under ``/bot<token>/``."""
        if self._runner is None:
            msg = "FakeTelegramServer is not started"
            raise RuntimeError(msg)
        return f"http://{self.host}:{self.port}"

    def base_url_for(self, via: str) -> str:
        """A base URL for one of several processes of one bot: its calls are recorded with
        ``via`` (as Telegram sees each host's address), and ``hold(via=…)`` holds only them."""
        return f"{self.base_url}/via/{via}"

    def aiogram_bot(self, token: str = DEFAULT_TOKEN, **kwargs: Any) -> aiogram.Bot:
        """An aiogram ``Bot`` talking to this server (close it: ``await bot.session.close()``)."""
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        session = AiohttpSession(api=TelegramAPIServer.from_base(self.base_url))
        return Bot(token, session=session, **kwargs)

    def ptb_bot(self, token: str = DEFAULT_TOKEN, **kwargs: Any) -> telegram.Bot:
        """A python-telegram-bot ``Bot`` for this server (use ``async with`` or shutdown())."""
        from telegram import Bot

        return Bot(
            token,
            base_url=f"{self.base_url}/bot",
            base_file_url=f"{self.base_url}/file/bot",
            **kwargs,
        )

    # -- HTTP ------------------------------------------------------------------------------

    def _bot_for(self, token: str) -> BotInfo | None:
        bot = self._bots.get(token)
        if bot is None:
            match = _TOKEN_RE.fullmatch(token)
            if match is None:
                return None
            bot_id = int(match.group(1))
            user = {
                "id": bot_id,
                "is_bot": True,
                "first_name": self.bot_first_name,
                "username": self.bot_username or f"test{bot_id}_bot",
            }
            bot = self._bots[token] = BotInfo(id=bot_id, token=token, user=user)
        return bot

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        via = request.match_info.get("via", "")
        name = request.match_info["method"]
        key = name.lower()
        method = CANONICAL_METHODS.get(key, name)
        params: dict[str, Any] = {}
        injected = False
        raw_body: str | None = None
        try:
            raw, files = await read_params(request)
            params = decode_params(raw, files)
            bot = self._bot_for(token)
            if bot is None:
                raise ApiError(404, "Not Found")
            if token in self._rejected:
                raise ApiError(401, "Unauthorized")
            if not self.api.knows(key):
                raise ApiError(404, "Not Found: method not found")
            self._last_bot_id = bot.id
            fault = self._take_fault(key, params)
            if fault is not None and fault.delay:
                await asyncio.sleep(fault.delay)
            elif fault is not None:
                injected = True
                raw_body = fault.body  # None: the usual JSON error body
                raise ApiError(fault.status, fault.description, fault.parameters)
            if key in SEND_LIKE_METHODS and not await self._through_hold(via):
                injected = True
                raise ApiError(502, _DEFAULT_DESCRIPTIONS[502])
            if key in SEND_LIKE_METHODS and self._is_blocked(params.get("chat_id")):
                injected = True
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if key == "getupdates":
                result = await self.api.get_updates(bot, params, time.monotonic)
            else:
                result = self.api.call(bot, key, params)
            status, body = 200, {"ok": True, "result": result}
        except ApiError as exc:
            status, body = exc.status, exc.to_json()
        except Exception as exc:  # a bug in the fake: answer 500 and keep it for the test
            log.exception("fake Telegram server failed on %s", method)
            self.errors.append(exc)
            status = 500
            body = {
                "ok": False,
                "error_code": 500,
                "description": f"Internal Server Error (fake server bug: {exc!r})",
            }
        self._record(Call(method, params, body, time.monotonic(), status, token, injected, via))
        if raw_body is not None:
            return web.Response(status=status, text=raw_body, content_type="text/html")
        return web.json_response(body, status=status, dumps=_dumps)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        stored = self.world.files_by_path.get(request.match_info["path"])
        if self._bot_for(token) is None or token in self._rejected or stored is None:
            body = {"ok": False, "error_code": 404, "description": "Not Found"}
            return web.json_response(body, status=404)
        return web.Response(body=stored.content, content_type="application/octet-stream")

    def _record(self, call: Call) -> None:
        self._calls.append(call)
        self.world.calls_count = len(self._calls)
        self._calls_signal.notify()

    def _take_fault(self, key: str, params: dict[str, Any]) -> _Fault | None:
        for fault in self._faults:
            if fault.method not in (key, "*"):
                continue
            if fault.chat_id is not None and str(params.get("chat_id")) != str(fault.chat_id):
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            return fault
        return None

    def _is_blocked(self, chat_id: Any) -> bool:
        return bool(self._blocked) and isinstance(chat_id, int) and chat_id in self._blocked

    # -- fault injection -------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
        chat_id: int | str | None = None,
        parameters: dict[str, Any] | None = None,
        body: str | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` ("*" = any) fail like the Bot API does.

        429 answers carry ``parameters.retry_after`` (default 1). ``chat_id`` limits the fault
        to calls for that chat. ``body`` sends that raw text instead of JSON (a proxy's HTML
        error page). Failed calls are recorded with ``injected=True`` and create nothing.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(status, "Bad Request")
        merged = dict(parameters or {})
        if retry_after is not None:
            merged["retry_after"] = retry_after
        self._faults.append(
            _Fault(
                method=method.lower(),
                status=status,
                description=description,
                parameters=merged or None,
                remaining=count,
                chat_id=chat_id,
                body=body,
            )
        )

    def delay_next(
        self, method: str, seconds: float, *, count: int = 1, chat_id: int | None = None
    ) -> None:
        """Answer the next ``count`` calls of ``method`` only after ``seconds`` (timeouts)."""
        self._faults.append(
            _Fault(method.lower(), 200, "", None, count, chat_id, None, delay=seconds)
        )

    def clear_faults(self) -> None:
        """Forget pending ``fail_next``/``delay_next`` faults."""
        self._faults.clear()

    def hold(self, *, via: str | None = None) -> None:
        """Hold send-like calls (of the caller ``via``, else of all) before they take effect,
        until ``release_held``/``unhold``: calls on their way to Telegram. A held call whose
        caller goes away (a killed process) never takes effect and is not recorded."""
        self._holds.setdefault(via, [])

    def held(self, via: str | None = None) -> int:
        """How many calls are waiting in the hold of ``via``."""
        return len(self._holds.get(via, []))

    async def wait_held(
        self, count: int = 1, *, via: str | None = None, timeout: float = 10.0
    ) -> None:
        """Wait until ``count`` calls are waiting in the hold of ``via``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.held(via) < count:
            if loop.time() > deadline:
                raise AssertionError(f"{self.held(via)} calls held, not {count}, within {timeout}s")
            await self._held_signal.wait(deadline - loop.time())

    def release_held(self, *, via: str | None = None, refuse: bool = False) -> int:
        """Let the calls held now take effect (or, ``refuse``, answer them 502 having done
        nothing); calls arriving later are held still. Returns how many were released."""
        waiting = self._holds.get(via, [])
        released, waiting[:] = list(waiting), []
        for gate in released:
            if not gate.done():
                gate.set_result(not refuse)
        return len(released)

    def unhold(self, *, via: str | None = None, refuse: bool = False) -> None:
        """Stop holding ``via``'s calls; those waiting go on (or, ``refuse``, get 502)."""
        self.release_held(via=via, refuse=refuse)
        self._holds.pop(via, None)

    async def _through_hold(self, via: str) -> bool:
        """False if a hold refused the call. Waiting here is cancelled with the request when
        its caller disconnects (handler_cancellation), so the call then leaves no trace."""
        waiting = self._holds.get(via if via in self._holds else None)
        if waiting is None:
            return True
        gate: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        waiting.append(gate)
        self._held_signal.notify()
        try:
            return await gate
        finally:
            if gate in waiting:
                waiting.remove(gate)

    def block(self, user_id: int, *, push_update: bool = False) -> None:
        """The user blocks the bot: sends to them answer 403 until :meth:`unblock`.

        With ``push_update`` the bot also gets the ``my_chat_member`` update ("kicked") that
        Telegram sends when a user blocks a bot.
        """
        self._blocked.add(user_id)
        if push_update:
            user = self.world.users.get(user_id) or FakeUser(user_id)
            self.push_my_chat_member(user, "kicked", "member")

    def unblock(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    def reject_token(self, token: str) -> None:
        """Every call with ``token`` answers 401 Unauthorized (a revoked token)."""
        self._rejected.add(token)

    def accept_token(self, token: str) -> None:
        self._rejected.discard(token)

    # -- users and chats -------------------------------------------------------------------

    def user(
        self,
        id: int,
        first_name: str = "Test",
        language_code: str | None = "zh-hans",
        username: str | None = None,
        last_name: str | None = None,
    ) -> FakeUser:
        """A user who can push updates; their private chat with the bot has the same id."""
        user = FakeUser(
            id=id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self.world.register_user(user)
        return user

    def group(
        self,
        chat_id: int,
        title: str,
        *,
        type: str = "supergroup",
        username: str | None = None,
        is_forum: bool = False,
    ) -> FakeChat:
        """Register a group chat (ids must be negative, e.g. -100123…)."""
        if chat_id >= 0:
            msg = "group chat ids are negative"
            raise ValueError(msg)
        chat = FakeChat(chat_id, title, type, username, is_forum)
        self.world.register_chat(chat)
        return chat

    def add_file(
        self,
        content: bytes,
        kind: str = "document",
        *,
        file_name: str | None = None,
        width: int = 1280,
        height: int = 960,
    ) -> str:
        """Store a file as if a user had sent it; returns a file_id the bot may use."""
        if kind == "photo":
            return str(self.world.new_photo(content, width, height)[-1]["file_id"])
        return self.world.new_file(kind, content, _media_info(kind), file_name=file_name).file_id

    def file(self, file_id: str) -> StoredFile | None:
        """A stored file (uploaded by the bot or pushed by a user) with its content."""
        return self.world.files.get(file_id)

    # -- pushing updates -------------------------------------------------------------------

    def mark(self) -> Marker:
        """The current point in history, for ``after=`` in the wait helpers."""
        return self.world.marker()

    def _push(self, body: dict[str, Any], update_id: int | None = None) -> PushedUpdate:
        marker = self.world.marker()
        update = self.world.enqueue(body, update_id)
        self._last_push = marker
        return PushedUpdate(update=update, marker=marker, at=time.monotonic())

    def _user_message(
        self,
        user: FakeUser,
        content: dict[str, Any],
        chat_id: int | None,
        reply_to: MessageRef | None,
    ) -> dict[str, Any]:
        # Sending a message to a bot unblocks it, as in the Telegram apps.
        self._blocked.discard(user.id)
        if user.id not in self.world.users:
            self.world.register_user(user)
        state = self.world.chat(user.id if chat_id is None else chat_id)
        message = self.world.new_message(state, user.to_dict(), content)
        if reply_to is not None:
            _, reply_id = _message_ref(reply_to, state.id)
            target = state.messages.get(reply_id)
            if target is None:
                msg = f"no message {reply_id} in chat {state.id} to reply to"
                raise AssertionError(msg)
            message["reply_to_message"] = {
                k: v for k, v in target.items() if k != "reply_to_message"
            }
        self.world.store_user_message(state, message)
        return message

    def push_message(
        self,
        user: FakeUser,
        content: dict[str, Any],
        *,
        chat_id: int | None = None,
        reply_to: MessageRef | None = None,
    ) -> PushedUpdate:
        """Push a ``message`` update with arbitrary content fields (poll, dice, …)."""
        return self._push({"message": self._user_message(user, content, chat_id, reply_to)})

    def push_text(
        self,
        user: FakeUser,
        text: str,
        chat_id: int | None = None,
        reply_to: MessageRef | None = None,
        *,
        entities: list[dict[str, Any]] | None = None,
    ) -> PushedUpdate:
        """A text message; "/commands" get ``bot_command`` entities as the apps add them."""
        content: dict[str, Any] = {"text": text}
        if entities is None:
            entities = [
                {
                    "type": "bot_command",
                    "offset": utf16_len(text[: m.start()]),
                    "length": utf16_len(m.group()),
                }
                for m in _COMMAND_RE.finditer(text)
            ]
        if entities:
            content["entities"] = entities
        return self.push_message(user, content, chat_id=chat_id, reply_to=reply_to)

    def push_photo(
        self,
        user: FakeUser,
        caption: str | None = None,
        chat_id: int | None = None,
        reply_to: MessageRef | None = None,
        *,
        content: bytes | None = None,
        width: int = 1280,
        height: int = 960,
        **extra: Any,
    ) -> PushedUpdate:
        """A photo (several PhotoSizes with fresh file_ids, all downloadable)."""
        data = content if content is not None else _JPEG + f"photo {time.time_ns()}".encode()
        body: dict[str, Any] = {"photo": self.world.new_photo(data, width, height)}
        if caption:
            body["caption"] = caption
        body.update(extra)
        return self.push_message(user, body, chat_id=chat_id, reply_to=reply_to)

    def _push_file(
        self,
        kind: str,
        user: FakeUser,
        content: bytes | None,
        file_name: str | None,
        caption: str | None,
        chat_id: int | None,
        reply_to: MessageRef | None,
        info: dict[str, Any],
        extra: dict[str, Any],
    ) -> PushedUpdate:
        data = content if content is not None else f"{kind} {time.time_ns()}".encode()
        stored = self.world.new_file(kind, data, {**_media_info(kind), **info}, file_name)
        body: dict[str, Any] = {kind: stored.info}
        if kind == "animation":
            body["document"] = stored.info
        if caption:
            body["caption"] = caption
        body.update(extra)
        return self.push_message(user, body, chat_id=chat_id, reply_to=reply_to)

    def push_document(
        self,
        user: FakeUser,
        file_name: str = "document.pdf",
        caption: str | None = None,
        chat_id: int | None = None,
        reply_to: MessageRef | None = None,
        *,
        content: bytes | None = None,
        mime_type: str | None = None,
        **extra: Any,
    ) -> PushedUpdate:
        info = {"mime_type": mime_type or _guess_mime(file_name)}
        return self._push_file(
            "document", user, content, file_name, caption, chat_id, reply_to, info, extra
        )

    def push_voice(
        self,
        user: FakeUser,
        duration: int = 3,
        chat_id: int | None = None,
        reply_to: MessageRef | None = None,
        *,
        content: bytes | None = None,
        caption: str | None = None,
        **extra: Any,
    ) -> PushedUpdate:
        info = {"duration": duration}
        return self._push_file(
            "voice", user, content, None, caption, chat_id, reply_to, info, extra
        )

    def push_audio(
        self,
        user: FakeUser,
        file_name: str = "audio.mp3",
        duration: int = 30,
        chat_id: int | None = None,
        reply_to: MessageRef | None = None,
        *,
        content: bytes | None = None,
        caption: str | None = None,
        **extra: Any,
    ) -> PushedUpdate:
        info = {"duration": duration}
        return self._push_file(
            "audio", user, content, file_name, caption, chat_id, reply_to, info, extra
        )

    def push_video(
        self,
        user: FakeUser,
        caption: str | None = None,
        chat_id: int | None = None,
        reply_to: MessageRef | None = None,
        *,
        content: bytes | None = None,
        duration: int = 5,
        file_name: str = "video.mp4",
        **extra: Any,
    ) -> PushedUpdate:
        info = {"duration": duration}
        return self._push_file(
            "video", user, content, file_name, caption, chat_id, reply_to, info, extra
        )

    def push_video_note(
        self,
        user: FakeUser,
        chat_id: int | None = None,
        reply_to: MessageRef | None = None,
        *,
        content: bytes | None = None,
        **extra: Any,
    ) -> PushedUpdate:
        return self._push_file(
            "video_note", user, content, None, None, chat_id, reply_to, {}, extra
        )

    def push_animation(
        self,
        user: FakeUser,
        caption: str | None = None,
        chat_id: int | None = None,
        reply_to: MessageRef | None = None,
        *,
        content: bytes | None = None,
        **extra: Any,
    ) -> PushedUpdate:
        return self._push_file(
            "animation", user, content, "animation.mp4", caption, chat_id, reply_to, {}, extra
        )

    def push_sticker(
        self,
        user: FakeUser,
        emoji: str = "👍",
        chat_id: int | None = None,
        reply_to: MessageRef | None = None,
        **extra: Any,
    ) -> PushedUpdate:
        info = {"emoji": emoji}
        return self._push_file("sticker", user, None, None, None, chat_id, reply_to, info, extra)

    def push_location(
        self,
        user: FakeUser,
        latitude: float,
        longitude: float,
        chat_id: int | None = None,
        reply_to: MessageRef | None = None,
        *,
        live_period: int | None = None,
    ) -> PushedUpdate:
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if live_period:
            location["live_period"] = live_period
        return self.push_message(user, {"location": location}, chat_id=chat_id, reply_to=reply_to)

    def push_venue(
        self,
        user: FakeUser,
        latitude: float,
        longitude: float,
        title: str,
        address: str,
        chat_id: int | None = None,
    ) -> PushedUpdate:
        location = {"latitude": latitude, "longitude": longitude}
        venue = {"location": location, "title": title, "address": address}
        return self.push_message(user, {"venue": venue, "location": location}, chat_id=chat_id)

    def push_contact(
        self,
        user: FakeUser,
        phone_number: str,
        first_name: str,
        user_id: int | None = None,
        *,
        last_name: str | None = None,
        chat_id: int | None = None,
        reply_to: MessageRef | None = None,
    ) -> PushedUpdate:
        """A shared contact; pass ``user_id=user.id`` for "share my phone number"."""
        contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name}
        if last_name:
            contact["last_name"] = last_name
        if user_id is not None:
            contact["user_id"] = user_id
        return self.push_message(user, {"contact": contact}, chat_id=chat_id, reply_to=reply_to)

    def push_edited_text(self, user: FakeUser, message: MessageRef, text: str) -> PushedUpdate:
        """The user edits a text message they sent earlier (an ``edited_message`` update)."""
        cid, mid = _message_ref(message, user.id)
        state = self.world.chat(cid)
        current = state.messages.get(mid)
        if current is None:
            msg = f"message {mid} in chat {cid} does not exist"
            raise AssertionError(msg)
        edited = {**current, "text": text, "edit_date": int(time.time())}
        edited.pop("entities", None)
        state.messages[edited["message_id"]] = edited
        return self._push({"edited_message": edited})

    def push_my_chat_member(
        self,
        user: FakeUser,
        new_status: str = "kicked",
        old_status: str = "member",
        *,
        chat_id: int | None = None,
        bot_id: int | None = None,
    ) -> PushedUpdate:
        """The bot's membership changed (user blocked = "kicked", restarted = "member")."""
        bot_user = self._bot_user(bot_id)
        state = self.world.chat(user.id if chat_id is None else chat_id)

        def member(status: str) -> dict[str, Any]:
            data: dict[str, Any] = {"status": status, "user": bot_user}
            if status == "kicked":
                data["until_date"] = 0
            return data

        body = {
            "chat": state.chat,
            "from": user.to_dict(),
            "date": int(time.time()),
            "old_chat_member": member(old_status),
            "new_chat_member": member(new_status),
        }
        return self._push({"my_chat_member": body})

    def press_button(
        self,
        user: FakeUser,
        message: MessageRef,
        callback_data: str,
        chat_id: int | None = None,
        *,
        strict: bool = True,
    ) -> PushedUpdate:
        """Press an inline button of a bot message (a ``callback_query`` update).

        The query carries the *current* state of the message. With ``strict`` the message
        must still exist and show a button with that ``callback_data``; pass
        ``strict=False`` to forge data a client could not send.
        """
        cid, mid = _message_ref(message, chat_id)
        current = self.world.message(cid, mid)
        if current is None:
            msg = f"cannot press a button: message {mid} in chat {cid} does not exist"
            raise AssertionError(msg)
        if strict:
            rows = current.get("reply_markup", {}).get("inline_keyboard", [])
            data = [b.get("callback_data") for row in rows for b in row]
            if callback_data not in data:
                msg = (
                    f"message {mid} in chat {cid} has no button with callback_data "
                    f"{callback_data!r}; its buttons: {_buttons(current)}"
                )
                raise AssertionError(msg)
        query_id = self.world.new_callback_query_id()
        query = {
            "id": query_id,
            "from": user.to_dict(),
            "message": current,
            "chat_instance": str((cid * 2654435761) % (1 << 62)),
            "data": callback_data,
        }
        self.world.callback_queries[query_id] = {"query": query, "answer": None}
        return self._push({"callback_query": query})

    def push_raw(self, update: dict[str, Any]) -> PushedUpdate:
        """Queue an update as given; ``update_id`` is assigned unless present (and higher)."""
        body = {k: v for k, v in update.items() if k != "update_id"}
        return self._push(body, update.get("update_id"))

    # -- webhook delivery ------------------------------------------------------------------

    async def deliver_webhook(
        self,
        targets: list[str],
        *,
        secret: str | None = None,
        attempts: int = 100,
        retry_delay: float = 0.05,
    ) -> list[tuple[int, str, int]]:
        """Deliver the pending updates as Telegram does to a webhook, one at a time: each
        POSTed with the secret token given to setWebhook (or ``secret``) and kept until a
        target answers 200. ``targets`` stand for the load balancer: the updates go to them in
        turn, and one that fails (an error status, a refused connection) is tried on the next.
        Returns (update_id, target, status) for every attempt, in order."""
        import aiohttp

        hook = self.webhook()
        if secret is None:
            secret = str((hook or {}).get("secret_token") or "")
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        attempts_made: list[tuple[int, str, int]] = []
        turn = 0
        async with aiohttp.ClientSession() as session:
            while self.world.pending:
                update = self.world.pending[0]
                for _ in range(attempts):
                    target = targets[turn % len(targets)]
                    turn += 1
                    try:
                        async with session.post(target, json=update, headers=headers) as answer:
                            status = answer.status
                    except aiohttp.ClientConnectionError:
                        status = 0  # nobody listens there
                    attempts_made.append((update["update_id"], target, status))
                    if status == 200:
                        break
                    await asyncio.sleep(retry_delay)
                else:
                    raise AssertionError(f"update {update['update_id']} was never accepted")
                self.world.confirm(update["update_id"] + 1)
        return attempts_made

    async def pump_webhook(
        self,
        target: str | list[str],
        stop: asyncio.Event,
        *,
        retry: float = 0.2,
        attempts: list[tuple[int, str, int]] | None = None,
    ) -> None:
        """Until ``stop``: deliver each update as it becomes pending, as Telegram does to a
        webhook under load — up to setWebhook's ``max_connections`` requests at once (40
        unless given), each update kept until a target answers 200. Several targets stand
        for a load balancer: attempts go to them in turn, and an update whose attempt failed
        (an error status, a refused or dropped connection) goes to the next one. Each attempt
        is appended to ``attempts`` as (update_id, target, status; 0 without an answer)."""
        import aiohttp

        targets = [target] if isinstance(target, str) else list(target)
        turn = 0
        connections = int((self.webhook() or {}).get("max_connections") or 40)
        secret = str((self.webhook() or {}).get("secret_token") or "")
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        in_flight: set[int] = set()
        slots = asyncio.Semaphore(connections)
        tasks: set[asyncio.Task[None]] = set()

        async def deliver(session: aiohttp.ClientSession, update: dict[str, Any]) -> None:
            nonlocal turn
            try:
                while not stop.is_set():
                    to, turn = targets[turn % len(targets)], turn + 1
                    try:
                        async with session.post(to, json=update, headers=headers) as answer:
                            status = answer.status
                    except aiohttp.ClientError:
                        status = 0
                    if attempts is not None:
                        attempts.append((update["update_id"], to, status))
                    if status == 200:
                        with contextlib.suppress(ValueError):
                            self.world.pending.remove(update)
                        self.world.confirmed_signal.notify()
                        return
                    await asyncio.sleep(retry)
            finally:
                in_flight.discard(update["update_id"])
                slots.release()

        connector = aiohttp.TCPConnector(limit=connections)
        async with aiohttp.ClientSession(connector=connector) as session:
            try:
                while not stop.is_set():
                    for update in list(self.world.pending):
                        if update["update_id"] in in_flight:
                            continue
                        await slots.acquire()
                        in_flight.add(update["update_id"])
                        task = asyncio.create_task(deliver(session, update))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                    await self.world.updates_signal.wait(0.05)
            finally:
                for task in list(tasks):
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    # -- inspecting ------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Recorded calls, oldest first; ``method`` is matched case-insensitively."""
        if method is None:
            return list(self._calls)
        key = method.lower()
        return [c for c in self._calls if c.method.lower() == key]

    def sent_messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Current state of every message the bot sent (edits applied, deleted ones gone)."""
        return [copy.deepcopy(m) for m in self.world.bot_messages(chat_id)]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """Current state of any message in a chat, or None if it never existed/was deleted."""
        found = self.world.message(chat_id, message_id)
        return copy.deepcopy(found) if found is not None else None

    def reply_markup(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """The markup the bot attached to a message: also reply keyboards and ForceReply,
        which the Message object itself never shows."""
        found = self.api.markups.get((chat_id, message_id))
        return copy.deepcopy(found) if found is not None else None

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """The answerCallbackQuery params the bot sent for a query, or None if unanswered."""
        record = self.world.callback_queries.get(query_id)
        return None if record is None else record["answer"]

    def commands(
        self,
        scope: dict[str, Any] | None = None,
        language_code: str = "",
        bot_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """The command list set with setMyCommands for that scope and language."""
        bot_id = self._bot_id(bot_id)
        key = (bot_id, _scope_key(scope), language_code)
        return copy.deepcopy(self.api.commands.get(key, []))

    def webhook(self, bot_id: int | None = None) -> dict[str, Any] | None:
        """The params of the active setWebhook call, if any."""
        return self.api.webhooks.get(self._bot_id(bot_id))

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot's getUpdates offset."""
        return list(self.world.pending)

    # -- waiting ---------------------------------------------------------------------------

    async def wait_for_message(
        self,
        chat_id: int | None,
        contains: str | None = None,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        *,
        timeout: float = 5.0,
        after: After = None,
        edits: bool = True,
    ) -> dict[str, Any]:
        """The first message the bot sends (or, with ``edits``, edits) to ``chat_id`` that
        contains ``contains`` in its text/caption and satisfies ``predicate``.

        Only events after ``after`` count; by default after the latest push *and* after the
        message this method last returned for that chat, so consecutive calls walk through
        the replies one by one. Returns the message as it was at that event. Raises
        AssertionError with a dump of what the bot did instead after ``timeout`` seconds.
        """
        start = self._message_start(chat_id, after)
        seq = start
        deadline = time.monotonic() + timeout
        signal = self.world.signal_for(chat_id)
        while True:
            for event in self.world.events_after(chat_id, seq):
                seq = event.seq
                if not edits and event.kind != "sent":
                    continue
                if _matches(event.message, contains, predicate):
                    self._message_cursor[chat_id] = event.seq
                    return copy.deepcopy(event.message)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                what = _describe(contains, predicate)
                raise AssertionError(
                    f"no message to chat {chat_id} {what} within {timeout}s "
                    f"(looking after event #{start})\n" + self._dump(chat_id, start)
                )
            await signal.wait(remaining)

    async def assert_no_message(
        self,
        chat_id: int | None,
        contains: str | None = None,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        *,
        within: float = 0.3,
        after: After = None,
    ) -> None:
        """Fail if the bot sends/edits a matching message to ``chat_id`` within ``within`` s."""
        start = self._message_start(chat_id, after)
        deadline = time.monotonic() + within
        signal = self.world.signal_for(chat_id)
        while True:
            for event in self.world.events_after(chat_id, start):
                if _matches(event.message, contains, predicate):
                    raise AssertionError(
                        f"unexpected message to chat {event.chat_id}: {_line(event)}\n"
                        + self._dump(chat_id, start)
                    )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            await signal.wait(remaining)

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        timeout: float = 5.0,
        after: After = None,
    ) -> Call:
        """The first call of ``method`` ("*" = any) satisfying ``predicate``, failed or not.

        Same "after" rules as :meth:`wait_for_message` (per method).
        """
        key = method.lower()
        if after is not None:
            start = _marker(after).call_index
        else:
            start = max(self._last_push.call_index, self._call_cursor.get(key, 0))
        index = start
        deadline = time.monotonic() + timeout
        while True:
            while index < len(self._calls):
                call = self._calls[index]
                index += 1
                if key in ("*", call.method.lower()) and (predicate is None or predicate(call)):
                    self._call_cursor[key] = index
                    return call
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                recent = "\n".join(f"  {c.summary()}" for c in self._calls[start:][-25:])
                raise AssertionError(
                    f"no {method} call{' matching the predicate' if predicate else ''} within "
                    f"{timeout}s (looking after call #{start}); calls since then:\n"
                    f"{recent or '  (none)'}"
                )
            await self._calls_signal.wait(remaining)

    async def wait_for_updates_confirmed(
        self,
        timeout: float = 5.0,
    ) -> None:
        """Wait until the bot confirmed (via getUpdates offset) every pushed update."""
        deadline = time.monotonic() + timeout
        while self.world.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                ids = [u["update_id"] for u in list(self.world.pending)[:10]]
                raise AssertionError(
                    f"{len(self.world.pending)} updates still unconfirmed after {timeout}s "
                    f"(first ids: {ids}); is the bot polling?"
                )
            await self.world.confirmed_signal.wait(remaining)

    def _message_start(self, chat_id: int | None, after: After) -> int:
        if after is not None:
            return _marker(after).event_seq
        return max(self._last_push.event_seq, self._message_cursor.get(chat_id, 0))

    def _dump(self, chat_id: int | None, start: int) -> str:
        lines: list[str] = []
        later = self.world.events_after(chat_id, start)
        lines.append(f"bot messages to chat {chat_id} in that window:")
        lines.extend(f"  {_line(e)}" for e in later[-20:])
        if not later:
            lines.append("  (none)")
        earlier = [e for e in self.world.events_after(chat_id, 0) if e.seq <= start][-5:]
        if earlier:
            lines.append("earlier bot messages to that chat:")
            lines.extend(f"  {_line(e)}" for e in earlier)
        elsewhere = [e for e in self.world.events[start:] if e.chat_id != chat_id][-10:]
        if chat_id is not None and elsewhere:
            lines.append("bot messages to other chats in that window:")
            lines.extend(f"  [chat {e.chat_id}] {_line(e)}" for e in elsewhere)
        calls = self._calls[self._last_push.call_index :][-20:]
        failed = [c for c in self._calls if c.failed and c.method != "getUpdates"][-5:]
        lines.append("recent calls:" if calls else "no calls since the last push")
        lines.extend(f"  {c.summary()}" for c in calls)
        if failed:
            lines.append("latest failed calls:")
            lines.extend(f"  {c.summary()}" for c in failed)
        if self.world.pending:
            lines.append(f"{len(self.world.pending)} pushed updates not yet confirmed by the bot")
        if self.errors:
            lines.append(f"fake server errors: {self.errors[-3:]!r}")
        return "\n".join(lines)

    def _bot_id(self, bot_id: int | None) -> int:
        if bot_id is not None:
            return bot_id
        if self._last_bot_id is not None:
            return self._last_bot_id
        return int(DEFAULT_TOKEN.split(":", 1)[0])

    def _bot_user(self, bot_id: int | None) -> dict[str, Any]:
        wanted = self._bot_id(bot_id)
        for bot in self._bots.values():
            if bot.id == wanted:
                return bot.user
        return {
            "id": wanted,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username or f"test{wanted}_bot",
        }


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _message_ref(message: MessageRef, chat_id: int | None) -> tuple[int, int]:
    """(chat id, message id) of a message dict, library Message object or bare id."""
    if isinstance(message, dict):
        return int(message["chat"]["id"]), int(message["message_id"])
    if isinstance(message, int):
        if chat_id is None:
            msg = "a bare message id needs chat_id"
            raise ValueError(msg)
        return chat_id, message
    return int(message.chat.id), int(message.message_id)


def _marker(after: Marker | PushedUpdate) -> Marker:
    return after.marker if isinstance(after, PushedUpdate) else after


def _matches(
    message: dict[str, Any],
    contains: str | None,
    predicate: Callable[[dict[str, Any]], bool] | None,
) -> bool:
    if contains is not None:
        body = f"{message.get('text', '')}\n{message.get('caption', '')}"
        if contains not in body:
            return False
    return predicate is None or bool(predicate(message))


def _describe(contains: str | None, predicate: object) -> str:
    parts = []
    if contains is not None:
        parts.append(f"containing {contains!r}")
    if predicate is not None:
        parts.append("matching the predicate")
    return " and ".join(parts) or "at all"


def _buttons(message: dict[str, Any]) -> list[list[str]]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [
        [f"{b.get('text')}={b.get('callback_data') or b.get('url') or '?'}" for b in row]
        for row in rows
    ]


def _line(event: MessageEvent) -> str:
    message = event.message
    body = message.get("text") or message.get("caption") or ""
    kinds = [k for k in ("photo", "document", "location", "voice", "video") if k in message]
    shown = body if len(body) <= 200 else body[:199] + "…"
    extra = f" [{', '.join(kinds)}]" if kinds else ""
    buttons = _buttons(message)
    tail = f" buttons={buttons}" if buttons else ""
    return f"#{event.seq} {event.kind} id={event.message_id}{extra}: {shown!r}{tail}"


def _media_info(kind: str) -> dict[str, Any]:
    infos: dict[str, dict[str, Any]] = {
        "voice": {"duration": 3, "mime_type": "audio/ogg"},
        "audio": {"duration": 30, "mime_type": "audio/mpeg"},
        "video": {"width": 640, "height": 360, "duration": 5, "mime_type": "video/mp4"},
        "animation": {"width": 320, "height": 240, "duration": 2, "mime_type": "video/mp4"},
        "video_note": {"length": 240, "duration": 5},
        "sticker": {
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        },
    }
    return infos.get(kind, {})


def _guess_mime(file_name: str) -> str:
    return mimetypes.guess_type(file_name)[0] or "application/octet-stream"


def _scope_key(scope: dict[str, Any] | None) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)
