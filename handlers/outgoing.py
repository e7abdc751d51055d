"""What the hotline sends: messages written to the outbox in the same transaction as the change
that caused them, and delivered afterwards with retries."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Method(StrEnum):
    SEND_MESSAGE = "sendMessage"
    SEND_PHOTO = "sendPhoto"
    SEND_DOCUMENT = "sendDocument"
    SEND_VIDEO = "sendVideo"
    SEND_VOICE = "sendVoice"
    SEND_AUDIO = "sendAudio"
    SEND_LOCATION = "sendLocation"
    EDIT_TEXT = "editMessageText"


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    data: str | None = None  # signed callback data (handlers.buttons)
    url: str | None = None


Keyboard = tuple[tuple[Button, ...], ...]

#: The purpose of a ticket card that a newer card of the same ticket replaced (one ticket, one
#: live card): it keeps its place in the chat but gets no buttons and no follow-ups.
SUPERSEDED_CARD = "card_superseded"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message for one chat; ``method`` decides which Bot API call delivers it."""

    chat_id: int
    text: str = ""
    method: Method = Method.SEND_MESSAGE
    buttons: Keyboard = ()
    file_id: str | None = None  # photo/document/video/voice/audio to re-send by file_id
    # … or what the delivery renders as it sends: a report's text, chart or workbook
    render: dict[str, object] | None = None
    latitude: float | None = None
    longitude: float | None = None
    reply_to_message_id: int | None = None
    reply_to_outbox_id: int | None = None  # reply to an earlier outbox message, once it is sent
    force_reply: bool = False  # ask the recipient to answer as a reply (works in groups)
    placeholder: str | None = None  # input field hint for force_reply
    # Whom a force_reply is for, as (Telegram user id, name), when it replies to no message of
    # theirs (a button press): they are named at the head of the text, so that in a group
    # only they get the reply box (the reply markup is always ``selective``).
    mention: tuple[int, str] | None = None
    # A reply keyboard of one button that shares the person's own phone number (request_contact),
    # with this label; ``remove_keyboard`` takes such a keyboard away again.
    contact_button: str | None = None
    remove_keyboard: bool = False
    edit_message_id: int | None = None  # for EDIT_TEXT: the Telegram message to edit …
    edit_outbox_id: int | None = None  # … or the outbox message to edit, once it is sent
    ticket_id: int | None = None  # replies to this message then belong to that ticket
    purpose: str = "reply"  # what the message is for (confirmation, card, reminder …)
    tag: str | None = None  # e.g. the department a card was sent for
    dedupe_key: str | None = None  # the same key is never queued twice
    # A new card or dispatch request's line in a list: what waits for a busy group goes as one
    # list (handlers.lists); a message without one is always sent on its own.
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class Reaction:
    """What a transport does itself after the use case committed (not stored, not retried)."""

    callback_answer: str | None = None  # the toast on a pressed button
    callback_alert: bool = False
