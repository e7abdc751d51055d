"""The desk's session: a signed cookie naming the staff member and when they signed in.

Nothing is kept on the server: the cookie is ``user.issued.signature`` (HMAC-SHA256 with a key
derived from the bot token). It expires 12 hours after sign-in; every request looks the staff
member up again, so removing them (``hotline staff remove``) or changing their role takes
effect on their next click.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SESSION_COOKIE = "hotline_desk"
SESSION_LENGTH = timedelta(hours=12)


def desk_key(secret: str) -> bytes:
    """The desk's own key from the deployment's secret (the bot token): its cookies sign
    nothing else, and the buttons' signatures sign no cookie."""
    return hashlib.sha256(b"hotline desk\0" + secret.encode()).digest()


def _sign(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class DeskSession:
    telegram_user_id: int
    issued_at: datetime
    cookie: str

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + SESSION_LENGTH


def new_session(key: bytes, telegram_user_id: int, now: datetime) -> DeskSession:
    issued = int(now.timestamp())
    body = f"{telegram_user_id}.{issued}"
    return DeskSession(
        telegram_user_id,
        datetime.fromtimestamp(issued, UTC),
        f"{body}.{_sign(key, body)}",
    )


def read_session(key: bytes, cookie: str | None, now: datetime) -> DeskSession | None:
    """The session a cookie carries, if its signature holds and it has not expired."""
    if not cookie:
        return None
    parts = cookie.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    body = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_sign(key, body), parts[2]):
        return None
    issued = datetime.fromtimestamp(int(parts[1]), UTC)
    if not issued <= now < issued + SESSION_LENGTH:
        return None
    return DeskSession(int(parts[0]), issued, cookie)


def csrf_token(key: bytes, session: DeskSession) -> str:
    """The token every form of this session carries: a page of another origin cannot read it,
    so it cannot forge a form (SameSite=Strict is the second wall)."""
    return _sign(key, "csrf\0" + session.cookie)


def csrf_valid(key: bytes, session: DeskSession, token: str) -> bool:
    return hmac.compare_digest(csrf_token(key, session), token)
