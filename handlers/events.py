"""What arrives from a messenger, in the hotline's terms and free of any bot framework.

A transport (aiogram, python-telegram-bot) turns each Telegram update into one of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ChatKind(StrEnum):
    PRIVATE = "private"
    GROUP = "group"  # groups and supergroups alike
    CHANNEL = "channel"


class Content(StrEnum):
    """What a message carries, as far as the hotline cares."""

    TEXT = "text"
    COMMAND = "command"
    PHOTO = "photo"
    DOCUMENT = "document"
    VIDEO = "video"
    VOICE = "voice"
    AUDIO = "audio"
    LOCATION = "location"
    CONTACT = "contact"
    STICKER = "sticker"
    OTHER = "other"  # dice, polls, games, service messages …


@dataclass(frozen=True, slots=True)
class Person:
    """The Telegram account behind a message or a button press."""

    user_id: int
    first_name: str = ""
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part).strip()


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    update_id: int
    sender: Person
    chat_id: int
    chat_kind: ChatKind
    message_id: int
    content: Content
    text: str = ""  # the text, or the caption of a photo/document/video
    command: str | None = None  # "start" for "/start@bot payload"
    command_args: str = ""
    file_id: str | None = None
    file_unique_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    contact_phone: str | None = None
    contact_user_id: int | None = None
    reply_to_message_id: int | None = None
    reply_to_bot: bool = False  # the message replied to was sent by this bot
    reply_to_text: str | None = None  # its text or caption, as the client shows it
    edited: bool = False


@dataclass(frozen=True, slots=True)
class ButtonPress:
    update_id: int
    sender: Person
    chat_id: int | None  # None for presses on inline messages
    chat_kind: ChatKind
    message_id: int | None
    callback_id: str
    data: str


def parse_command(text: str, bot_username: str | None) -> tuple[str, str] | None:
    """Split "/cmd@bot args" into ("cmd", "args"); None if not a command for this bot."""
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, args = text[1:].partition(" ")
    name, _, addressee = head.partition("@")
    if addressee and bot_username and addressee.lower() != bot_username.lower():
        return None  # addressed to another bot in the same group
    if not name or not name.replace("_", "").isalnum():
        return None
    return name.lower(), args.strip()
