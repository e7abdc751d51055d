"""Ticket numbers: ``YYYYMMDD-NNNN``, the local date of receipt and that day's sequence."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

_NUMBER = re.compile(r"^(\d{8})-?(\d{4,})$")


def format_ticket_number(day: date, sequence: int) -> str:
    """At least four digits of sequence; a day past 9,999 simply gets more."""
    if sequence < 1:
        raise ValueError("ticket sequences start at 1")
    return f"{day:%Y%m%d}-{sequence:04d}"


def normalize_ticket_number(text: str) -> str | None:
    """The canonical number for what a person typed, or None if it cannot be one.

    Accepts full-width digits and dashes (Chinese input methods), spaces and a missing dash.
    """
    cleaned = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    cleaned = cleaned.replace("—", "-").replace("–", "-").replace("－", "-").lstrip("#№")
    match = _NUMBER.match(cleaned)
    if match is None:
        return None
    day, sequence = match.groups()
    try:
        date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except ValueError:
        return None
    return f"{day}-{int(sequence):04d}"
