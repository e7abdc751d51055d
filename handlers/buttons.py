"""Signed button data.

Telegram hands ``callback_data`` back exactly as a client sends it, and any client can send
anything: so every button the bot makes carries an HMAC, and a press whose data does not verify
is refused before anything is looked up. Rights are still re-checked on every press.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

MAX_CALLBACK_BYTES = 64  # Bot API limit
_SIG_CHARS = 11  # 66 bits of base64url: forging one by chance is out of reach
_SEP = ":"


class BadButton(Exception):
    """A genuine button used where it does not apply (wrong chat, malformed arguments)."""


@dataclass(frozen=True, slots=True)
class ButtonAction:
    action: str
    args: tuple[str, ...]

    def int_arg(self, index: int) -> int:
        """An integer argument; BadButton when missing or not a number."""
        try:
            return int(self.args[index])
        except (IndexError, ValueError):
            raise BadButton(f"{self.action}: argument {index} is not a number") from None


class ButtonSigner:
    def __init__(self, key: bytes) -> None:
        self._key = hashlib.sha256(b"hotline12345 buttons\0" + key).digest()

    def _signature(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:_SIG_CHARS]

    def sign(self, action: str, *args: int | str) -> str:
        parts = [action, *(str(arg) for arg in args)]
        if any(_SEP in part or not part for part in parts):
            raise ValueError(f"button parts must be non-empty and without {_SEP!r}: {parts}")
        payload = _SEP.join(parts)
        data = f"{payload}{_SEP}{self._signature(payload)}"
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"button data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
        return data

    def verify(self, data: str | None) -> ButtonAction | None:
        """The action behind genuine data; None for anything forged, truncated or foreign."""
        if not data or len(data.encode()) > MAX_CALLBACK_BYTES:
            return None
        payload, sep, signature = data.rpartition(_SEP)
        if not sep or not hmac.compare_digest(signature, self._signature(payload)):
            return None
        action, *args = payload.split(_SEP)
        return ButtonAction(action, tuple(args))
