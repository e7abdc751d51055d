"""The web desk's sign-in: a one-time link sent in Telegram, so the desk needs no passwords.

Only the token's digest is stored; the link itself exists only in the private chat it was sent
to (or on the operator's terminal, ``hotline desk link``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from handlers import texts
from handlers.context import Hotline
from handlers.events import ChatKind, IncomingMessage
from handlers.model import StaffMember
from handlers.outgoing import Outgoing
from handlers.ports import Store

LINK_VALID = timedelta(minutes=10)
LOGIN_PATH = "/desk/login"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_login_link(
    store: Store, public_url: str, telegram_user_id: int, now: datetime
) -> tuple[str, datetime]:
    """A fresh one-time link for ``telegram_user_id`` and when it stops working."""
    token = secrets.token_urlsafe(32)
    expires_at = now + LINK_VALID
    store.add_desk_login(token_digest(token), telegram_user_id, now=now, expires_at=expires_at)
    return f"{public_url.rstrip('/')}{LOGIN_PATH}?token={token}", expires_at


def desk_command(
    store: Store, hotline: Hotline, msg: IncomingMessage, staff: StaffMember, now: datetime
) -> None:
    """/desk: a sign-in link to the web desk, in a private chat only (a group would share it)."""
    lang = staff.language
    if msg.chat_kind is not ChatKind.PRIVATE:
        text = texts.DESK_PRIVATE_ONLY(lang)
    elif hotline.desk_url is None:
        text = texts.DESK_NOT_SET_UP(lang)
    else:
        url, _ = new_login_link(store, hotline.desk_url, staff.telegram_user_id, now)
        text = texts.DESK_LINK(lang, minutes=int(LINK_VALID.total_seconds() // 60), url=url)
    store.queue(Outgoing(chat_id=msg.chat_id, text=text, reply_to_message_id=msg.message_id), now)
