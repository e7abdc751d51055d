"""The "/" command menu Telegram shows each person (setMyCommands), set by the bot on start.

Citizens see theirs in private chats, department staff theirs in group chats, and supervisors
theirs in the hotline office's chat; each menu in Chinese (the default for every language) and
in English (for people whose Telegram is in English).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handlers import texts
from handlers.model import Language

CITIZEN_MENU: tuple[tuple[str, texts.Phrase], ...] = (
    ("start", texts.MENU_START),
    ("my", texts.MENU_MY),
    ("status", texts.MENU_STATUS),
    ("phone", texts.MENU_PHONE),
    ("lang", texts.MENU_LANG),
    ("help", texts.MENU_HELP),
)
STAFF_MENU: tuple[tuple[str, texts.Phrase], ...] = (
    ("queue", texts.MENU_QUEUE),
    ("reply", texts.MENU_REPLY),
    ("kb", texts.MENU_KB),
    ("help", texts.MENU_HELP),
    ("chatid", texts.MENU_CHATID),
)
SUPERVISOR_MENU: tuple[tuple[str, texts.Phrase], ...] = (
    ("queue", texts.MENU_OFFICE_QUEUE),
    ("overdue", texts.MENU_OVERDUE),
    ("dispatch", texts.MENU_DISPATCH),
    ("urgent", texts.MENU_URGENT),
    ("nudge", texts.MENU_NUDGE),
    ("similar", texts.MENU_SIMILAR),
    ("invite", texts.MENU_INVITE),
    ("departments", texts.MENU_DEPARTMENTS),
    ("stats", texts.MENU_STATS),
    ("export", texts.MENU_EXPORT),
    ("kb", texts.MENU_KB),
    ("kb_add", texts.MENU_KB_ADD),
    ("kb_edit", texts.MENU_KB_EDIT),
    ("kb_off", texts.MENU_KB_OFF),
    ("kb_stats", texts.MENU_KB_STATS),
    ("ranking", texts.MENU_RANKING),
    ("briefing", texts.MENU_BRIEFING),
    ("reply", texts.MENU_REPLY),
    ("help", texts.MENU_HELP),
    ("chatid", texts.MENU_CHATID),
)


@dataclass(frozen=True)
class Menu:
    """One setMyCommands call: the scope as the Bot API's JSON object, the language ("" for
    everyone without a menu of their own language), and the (command, description) pairs."""

    scope: dict[str, Any]
    language_code: str
    commands: list[tuple[str, str]]


def command_menus(office_chat: int | None) -> list[Menu]:
    """Every menu to set: private chats, group chats and (when set) the office chat, in zh and
    en. Telegram picks the most specific scope, so the office chat's menu replaces the staff
    one there."""
    scopes: list[tuple[dict[str, Any], tuple[tuple[str, texts.Phrase], ...]]] = [
        ({"type": "all_private_chats"}, CITIZEN_MENU),
        ({"type": "all_group_chats"}, STAFF_MENU),
    ]
    if office_chat is not None:
        scopes.append(({"type": "chat", "chat_id": office_chat}, SUPERVISOR_MENU))
    return [
        Menu(scope, code, [(command, phrase(lang)) for command, phrase in menu])
        for scope, menu in scopes
        for lang, code in ((Language.ZH, ""), (Language.EN, "en"))
    ]
