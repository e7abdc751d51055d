"""How times and personal data are shown: Asia/Shanghai for people, masked phones for logs."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def show_date(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d")


def show_datetime(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def show_deadline(deadline: datetime, *, urgent: bool) -> str:
    """An urgent ticket's deadline is an hour, not the end of a working day: show the time too."""
    return show_datetime(deadline) if urgent else show_date(deadline)


def mask_phone(phone: str | None) -> str:
    """``13812345678`` → ``138****5678``: a phone, ID or card number as staff may see it,
    enough to recognise it, not enough to use it. Numbers of 11 characters or more keep their
    first three and last four (an ID number's final X too); shorter ones fewer."""
    if not phone:
        return ""
    digits = re.sub(r"[^\dXx]", "", phone)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]  # +86, the country code
    if len(digits) >= 11:
        return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
    if len(digits) >= 7:
        return f"{digits[:2]}{'*' * (len(digits) - 4)}{digits[-2:]}"
    return "*" * max(len(digits) - 2, 0) + digits[-2:]


# Mainland mobile numbers, with an optional +86 and the separators people type.
_PHONE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")


def mask_phones_in(text: str) -> str:
    """Every mobile number in free text masked, for log lines and exports."""
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
