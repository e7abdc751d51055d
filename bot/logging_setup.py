"""Logging for operators: one line per event, with no secret and no phone number in it.

Every line goes through one formatter that takes the bot token out and masks mobile numbers in
the whole text it writes — the message, its arguments, the traceback and the stack — whoever
logged it: our code or a library (python-telegram-bot's httpx logs each request's URL, and the
token is part of every Bot API URL).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from types import TracebackType
from typing import TypeAlias

from handlers.display import mask_phones_in

TOKEN_PLACEHOLDER = "<token>"

# A Bot API token anywhere: "<bot id>:<secret>" (BotFather's secrets are 35 characters).
_ANY_TOKEN = re.compile(r"(?<![\w-])\d{1,20}:[A-Za-z0-9_-]{30,}(?![\w-])")
# The token in a Bot API or file URL (/bot<token>/getMe, /file/bot<token>/…), whatever its length.
_TOKEN_IN_URL = re.compile(r"(?<=/bot)\d{1,20}:[A-Za-z0-9_-]+")

# Libraries' routine lines, one or more a minute (each Bot API request, each sweep's start and
# end): shown only when the operator asks for DEBUG.
ROUTINE_LOGGERS = ("httpx", "apscheduler")
# Libraries whose DEBUG lines dump whole requests and updates, with citizens' names and texts
# in them: never below INFO, whatever the level asked for.
PAYLOAD_LOGGERS = ("telegram", "httpcore")

_ExcInfo: TypeAlias = tuple[type[BaseException], BaseException, TracebackType | None]


class Redactor:
    """Takes secrets and personal data out of a text: the given secrets (the bot token and its
    secret half), anything shaped like a bot token, and mobile numbers."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        found: set[str] = set()
        for secret in secrets:
            secret = secret.strip()
            if not secret:
                continue
            found.add(secret)
            # The secret half alone, as it appears when a URL is percent-encoded ("%3A").
            _, _, half = secret.partition(":")
            if len(half) >= 8:
                found.add(half)
        # Longest first, so that the whole token goes before its half.
        self._secrets = sorted(found, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, TOKEN_PLACEHOLDER)
        text = _TOKEN_IN_URL.sub(TOKEN_PLACEHOLDER, text)
        text = _ANY_TOKEN.sub(TOKEN_PLACEHOLDER, text)
        return mask_phones_in(text)


class RedactingFormatter(logging.Formatter):
    """A formatter whose every output is redacted, tracebacks and stacks included (a traceback
    quotes the exception's message: an SQL error's parameters, a URL, a citizen's text)."""

    def __init__(self, fmt: str, redact: Redactor) -> None:
        super().__init__(fmt)
        self.redact = redact

    def formatException(self, ei: _ExcInfo | tuple[None, None, None]) -> str:
        # Also what the record caches as exc_text, so the cached text is redacted too.
        return self.redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return self.redact(super().formatStack(stack_info))

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


def setup_logging(level: str = "INFO", *, secrets: Iterable[str] = ()) -> None:
    """One handler on the root logger, on stderr; ``secrets`` (the bot token) never appear."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", Redactor(secrets))
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    asked = root.getEffectiveLevel()

    def at_least(floor: int) -> int:
        # A library's level may only be raised above the operator's, never lowered below it.
        return max(floor, asked)

    # aiogram logs every update at INFO: at hotline volumes that is noise, not information.
    logging.getLogger("aiogram.event").setLevel(at_least(logging.WARNING))
    logging.getLogger("alembic").setLevel(at_least(logging.WARNING))
    for name in ROUTINE_LOGGERS:
        routine = logging.DEBUG if asked <= logging.DEBUG else logging.WARNING
        logging.getLogger(name).setLevel(at_least(routine))
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(at_least(logging.INFO))
