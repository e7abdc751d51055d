"""Plain data the fake server records and hands to tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ApiError",
    "Call",
    "FakeChat",
    "FakeUser",
    "Marker",
    "PushedUpdate",
    "StoredFile",
    "UploadedFile",
]


class ApiError(Exception):
    """A Bot API error answer: ``{"ok": false, "error_code": status, "description": ...}``."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    """``400 Bad Request: <detail>``."""
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(slots=True)
class UploadedFile:
    """A file part of a multipart request; ``file_id`` is set once the server stored it."""

    filename: str | None
    content_type: str | None
    content: bytes
    file_id: str | None = None

    def __repr__(self) -> str:
        return (
            f"UploadedFile(filename={self.filename!r}, size={len(self.content)}, "
            f"file_id={self.file_id!r})"
        )


@dataclass(slots=True)
class StoredFile:
    """A file the server knows: downloadable at ``file_path``, described by ``info``.

    ``info`` is the API object for the message field (a Document, Voice … dict, or for photos
    the PhotoSize of this very size); ``photo_sizes`` is the whole PhotoSize list for photos.
    """

    file_id: str
    file_unique_id: str
    kind: str
    content: bytes
    file_path: str
    info: dict[str, Any]
    photo_sizes: list[dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP call the bot made, with the parsed params and the JSON answer it got."""

    method: str
    params: dict[str, Any]
    response: dict[str, Any]
    at: float  # time.monotonic() when the answer was sent
    status: int = 200
    token: str = ""
    injected: bool = False  # the answer came from fail_next()/block(), not the method
    via: str = ""  # which caller, when it used base_url_for(via) (one bot, several processes)

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def failed(self) -> bool:
        return not self.ok

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        return self.response.get("description")

    def summary(self, width: int = 160) -> str:
        """One line for assertion dumps."""
        shown = {k: v for k, v in self.params.items() if k not in {"reply_markup"}}
        outcome = "ok" if self.ok else f"{self.status} {self.description}"
        if self.injected:
            outcome += " (injected)"
        line = f"{self.method}({shown}) -> {outcome}"
        return line if len(line) <= width else line[: width - 1] + "…"


@dataclass(slots=True)
class FakeUser:
    """A Telegram user that tests push updates as."""

    id: int
    first_name: str = "Test"
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "zh-hans"
    is_bot: bool = False
    is_premium: bool | None = None

    @property
    def chat_id(self) -> int:
        """The id of the private chat with the bot (same as the user id)."""
        return self.id

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        if self.is_premium:
            data["is_premium"] = True
        return data

    def private_chat(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


@dataclass(slots=True)
class FakeChat:
    """A group, supergroup or channel registered by a test."""

    id: int
    title: str
    type: str = "supergroup"
    username: str | None = None
    is_forum: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type, "title": self.title}
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass(frozen=True, slots=True)
class Marker:
    """A point in the server's history; waits with ``after=marker`` only see what came later."""

    event_seq: int  # number of bot message events (sends/edits) so far
    call_index: int  # number of recorded calls so far
    update_id: int  # last update id handed out


@dataclass(frozen=True, slots=True)
class PushedUpdate:
    """An update a test pushed; ``marker`` is the history point just before it was queued."""

    update: dict[str, Any]
    marker: Marker
    at: float = field(default=0.0)  # time.monotonic() when queued

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def message(self) -> dict[str, Any] | None:
        """The message the update carries (for callback queries: the pressed message)."""
        for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
            if key in self.update:
                return self.update[key]  # type: ignore[no-any-return]
        query = self.update.get("callback_query")
        return query.get("message") if query else None

    @property
    def callback_query(self) -> dict[str, Any] | None:
        return self.update.get("callback_query")

    @property
    def chat_id(self) -> int | None:
        message = self.message
        return int(message["chat"]["id"]) if message else None
