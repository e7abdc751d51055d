"""Telegram's length limits, counted the way Telegram counts them: in UTF-16 code units (an
emoji outside the Basic Multilingual Plane is two)."""

from __future__ import annotations

from typing import Any

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fitting(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def truncate(text: str, limit: int) -> str:
    return text[: _fitting(text, limit)]


def pieces(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``text`` as consecutive messages that Telegram accepts.

    A short last line goes alone as the last piece, the one that carries the buttons: an edit
    that changes only the last line (a rating ticked) then changes exactly that message. The
    rest is cut from the start, after a line break when one is in the second half of a piece.
    """
    if utf16_len(text) <= limit:
        return [text]
    head, line_break, last = text.rpartition("\n")
    if line_break and last.strip() and utf16_len(last) <= limit // 4:
        return [*_cut(head, limit), last]
    return _cut(text, limit)


def _cut(text: str, limit: int) -> list[str]:
    found: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        end = _fitting(rest, limit)
        line_break = rest.rfind("\n", end // 2, end)
        cut = line_break + 1 if line_break >= 0 else end
        found.append(rest[:cut])
        rest = rest[cut:]
    found.append(rest)
    # Telegram refuses blank messages; a text of nothing else keeps its first piece, refused
    # like any blank text would be.
    return [piece for piece in found if piece.strip()] or found[:1]


def with_mention(
    text: str, mention: list[Any] | tuple[int, str] | None
) -> tuple[str, list[dict[str, Any]]]:
    """The text with the person of ``mention`` (user id, name) named at its head, and the
    ``text_mention`` entity that makes the name a mention: a selective force_reply then opens
    the reply box for that person only. Without a mention, the text as it is."""
    if not mention:
        return text, []
    user_id, name = int(mention[0]), str(mention[1]) or str(mention[0])
    entity = {
        "type": "text_mention",
        "offset": 0,
        "length": utf16_len(name),
        "user": {"id": user_id, "is_bot": False, "first_name": name},
    }
    return f"{name} {text}", [entity]
