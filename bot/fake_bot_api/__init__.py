"""A fake Telegram Bot API server for the end-to-end tests and `hotline demo` (:mod:`.server`)."""

from .formatting import FormattingError, parse_formatted, utf16_len
from .models import (
    ApiError,
    Call,
    FakeChat,
    FakeUser,
    Marker,
    PushedUpdate,
    StoredFile,
    UploadedFile,
)
from .server import DEFAULT_TOKEN, FakeTelegramServer

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "Call",
    "FakeChat",
    "FakeTelegramServer",
    "FakeUser",
    "FormattingError",
    "Marker",
    "PushedUpdate",
    "StoredFile",
    "UploadedFile",
    "parse_formatted",
    "utf16_len",
]
