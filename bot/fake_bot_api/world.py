"""The fake server's state: chats with their messages, files, the update queue, history.

Message dicts are never changed in place: an edit stores a new dict. That makes the dict kept
in a history event a free snapshot of the message at that moment, and lets responses be
serialised straight from the store without copying.
"""

from __future__ import annotations

import asyncio
import bisect
import secrets
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .models import FakeChat, FakeUser, Marker, StoredFile, bad_request

__all__ = ["ChatState", "MessageEvent", "Signal", "World"]

_FILE_PREFIX = {
    "photo": "AgAC",
    "document": "BQAC",
    "voice": "AwAC",
    "video": "BAAC",
    "audio": "CQAC",
    "sticker": "CAAC",
    "animation": "CgAC",
    "video_note": "DQAC",
}
_FILE_DIR = {
    "photo": ("photos", "jpg"),
    "document": ("documents", "bin"),
    "voice": ("voice", "oga"),
    "video": ("videos", "mp4"),
    "audio": ("music", "mp3"),
    "sticker": ("stickers", "webp"),
    "animation": ("animations", "mp4"),
    "video_note": ("video_notes", "mp4"),
}
# Widths of the PhotoSize variants Telegram generates for an uploaded photo.
_PHOTO_WIDTHS = (90, 320, 800, 1280)


class Signal:
    """Wakes every task currently waiting, and costs nothing while nobody waits."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def notify(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None

    async def wait(self, seconds: float) -> None:
        """Return when notified or after ``seconds``, whichever comes first."""
        if seconds <= 0:
            return
        if self._event is None:
            self._event = asyncio.Event()
        event = self._event
        try:
            async with asyncio.timeout(seconds):
                await event.wait()
        except TimeoutError:
            pass


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """The bot sent (``kind="sent"``) or edited (``"edited"``) a message."""

    seq: int
    kind: str
    chat_id: int
    message_id: int
    message: dict[str, Any]


@dataclass(slots=True)
class ChatState:
    """One chat: its API ``Chat`` dict and every message in it, indexed by id."""

    chat: dict[str, Any]
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_message_id: int = 1
    bot_message_ids: list[int] = field(default_factory=list)
    events: list[MessageEvent] = field(default_factory=list)
    signal: Signal = field(default_factory=Signal)

    @property
    def id(self) -> int:
        return int(self.chat["id"])

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def events_after(self, seq: int) -> list[MessageEvent]:
        start = bisect.bisect_right(self.events, seq, key=lambda e: e.seq)
        return self.events[start:]


class World:
    """Everything the fake Telegram knows; the HTTP layer and the test helpers share it."""

    def __init__(self) -> None:
        self.chats: dict[int, ChatState] = {}
        self.usernames: dict[str, int] = {}
        self.users: dict[int, FakeUser] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.events: list[MessageEvent] = []
        self.sent_log: list[tuple[int, int]] = []
        self.message_signal = Signal()
        self.pending: deque[dict[str, Any]] = deque()
        self.last_update_id = 0
        self.updates_signal = Signal()
        self.confirmed_signal = Signal()
        self.callback_queries: dict[str, dict[str, Any]] = {}
        self.calls_count = 0  # maintained by the server, used for markers
        self._file_counter = 0
        self._query_counter = 0
        self._salt = secrets.token_hex(3)

    # -- chats and users -------------------------------------------------------------------

    def register_user(self, user: FakeUser) -> None:
        self.users[user.id] = user
        state = self.chats.get(user.id)
        if state is None:
            self.chats[user.id] = ChatState(chat=user.private_chat())
        else:
            state.chat = user.private_chat()
        if user.username:
            self.usernames[user.username.lower()] = user.id

    def register_chat(self, chat: FakeChat) -> ChatState:
        state = self.chats.get(chat.id)
        if state is None:
            state = self.chats[chat.id] = ChatState(chat=chat.to_dict())
        else:
            state.chat = chat.to_dict()
        if chat.username:
            self.usernames[chat.username.lower()] = chat.id
        return state

    def chat(self, chat_id: int) -> ChatState:
        """The chat with this id, created on first use (private if > 0, else supergroup)."""
        state = self.chats.get(chat_id)
        if state is None:
            if chat_id > 0:
                chat = {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
            else:
                chat = {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}
            state = self.chats[chat_id] = ChatState(chat=chat)
        return state

    def resolve_chat(self, value: Any, param: str = "chat_id") -> ChatState:
        """The chat a ``chat_id``-like parameter names, or the server's 400 error."""
        if value is None or value == "":
            raise bad_request(f"{param} is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return self.chat(value)
        if isinstance(value, str) and value.startswith("@"):
            chat_id = self.usernames.get(value[1:].lower())
            if chat_id is not None:
                return self.chats[chat_id]
        raise bad_request("chat not found")

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        state = self.chats.get(chat_id)
        return None if state is None else state.messages.get(message_id)

    # -- messages --------------------------------------------------------------------------

    def new_message(
        self, state: ChatState, sender: dict[str, Any] | None, content: dict[str, Any]
    ) -> dict[str, Any]:
        """A message dict (not stored yet) with the next id of that chat."""
        message: dict[str, Any] = {
            "message_id": state.take_message_id(),
            "date": int(time.time()),
            "chat": state.chat,
        }
        if sender is not None:
            message["from"] = sender
        message.update(content)
        return message

    def store_user_message(self, state: ChatState, message: dict[str, Any]) -> None:
        state.messages[message["message_id"]] = message

    def store_bot_message(self, state: ChatState, message: dict[str, Any]) -> None:
        message_id = message["message_id"]
        state.messages[message_id] = message
        state.bot_message_ids.append(message_id)
        self.sent_log.append((state.id, message_id))
        self._record_event(state, "sent", message)

    def replace_message(self, state: ChatState, message: dict[str, Any]) -> None:
        """Store an edited version of a bot message (a new dict) and record the edit."""
        state.messages[message["message_id"]] = message
        self._record_event(state, "edited", message)

    def _record_event(self, state: ChatState, kind: str, message: dict[str, Any]) -> None:
        event = MessageEvent(
            seq=len(self.events) + 1,
            kind=kind,
            chat_id=state.id,
            message_id=message["message_id"],
            message=message,
        )
        self.events.append(event)
        state.events.append(event)
        state.signal.notify()
        self.message_signal.notify()

    def events_after(self, chat_id: int | None, seq: int) -> list[MessageEvent]:
        if chat_id is None:
            return self.events[seq:]
        state = self.chats.get(chat_id)
        return [] if state is None else state.events_after(seq)

    def signal_for(self, chat_id: int | None) -> Signal:
        return self.message_signal if chat_id is None else self.chat(chat_id).signal

    def bot_messages(self, chat_id: int | None) -> Iterator[dict[str, Any]]:
        """Current state of the bot's messages (deleted ones skipped), in sending order."""
        if chat_id is None:
            for cid, mid in self.sent_log:
                message = self.chats[cid].messages.get(mid)
                if message is not None:
                    yield message
            return
        state = self.chats.get(chat_id)
        if state is None:
            return
        for mid in state.bot_message_ids:
            message = state.messages.get(mid)
            if message is not None:
                yield message

    def marker(self) -> Marker:
        return Marker(
            event_seq=len(self.events), call_index=self.calls_count, update_id=self.last_update_id
        )

    # -- files -----------------------------------------------------------------------------

    def _file_ids(self, kind: str) -> tuple[str, str, int]:
        self._file_counter += 1
        n = self._file_counter
        prefix = _FILE_PREFIX.get(kind, "BQAC")
        file_id = f"{prefix}AgAD{self._salt}{n:07d}{secrets.token_hex(4)}"
        return file_id, f"AQAD{self._salt}{n:07d}", n

    def new_file(
        self,
        kind: str,
        content: bytes,
        info: dict[str, Any] | None = None,
        file_name: str | None = None,
    ) -> StoredFile:
        """Store ``content`` as a file of ``kind``; ``info`` adds fields to its API object."""
        file_id, unique_id, n = self._file_ids(kind)
        folder, ext = _FILE_DIR.get(kind, ("documents", "bin"))
        if file_name and "." in file_name:
            ext = file_name.rsplit(".", 1)[1]
        path = f"{folder}/file_{n}.{ext}"
        api: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "file_size": len(content),
        }
        if file_name and kind in {"document", "audio", "video", "animation"}:
            api["file_name"] = file_name
        api.update(info or {})
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=unique_id,
            kind=kind,
            content=content,
            file_path=path,
            info=api,
        )
        self.files[file_id] = stored
        self.files_by_path[path] = stored
        return stored

    def new_photo(self, content: bytes, width: int, height: int) -> list[dict[str, Any]]:
        """PhotoSize list (small to large) for one photo; every size is a downloadable file."""
        sizes: list[dict[str, Any]] = []
        stored_sizes: list[StoredFile] = []
        widths = [w for w in _PHOTO_WIDTHS if w < width] + [width]
        for w in widths:
            h = max(1, round(height * w / width))
            stored = self.new_file("photo", content, {"width": w, "height": h})
            sizes.append(stored.info)
            stored_sizes.append(stored)
        for stored in stored_sizes:
            stored.photo_sizes = sizes
        return sizes

    # -- updates ---------------------------------------------------------------------------

    def enqueue(self, body: dict[str, Any], update_id: int | None = None) -> dict[str, Any]:
        if update_id is None:
            update_id = self.last_update_id + 1
        elif update_id <= self.last_update_id:
            msg = f"update_id {update_id} is not above the last one ({self.last_update_id})"
            raise ValueError(msg)
        self.last_update_id = update_id
        update = {"update_id": update_id, **body}
        self.pending.append(update)
        self.updates_signal.notify()
        return update

    def confirm(self, offset: int) -> None:
        """Forget updates as getUpdates' ``offset`` does (negative: keep the last -offset)."""
        pending = self.pending
        before = len(pending)
        if offset < 0:
            while len(pending) > -offset:
                pending.popleft()
        elif offset > 0:
            while pending and pending[0]["update_id"] < offset:
                pending.popleft()
        if len(pending) != before:
            self.confirmed_signal.notify()

    def new_callback_query_id(self) -> str:
        self._query_counter += 1
        return f"{4_000_000_000_000_000 + self._query_counter}"
