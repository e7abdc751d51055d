"""Small rules of the core: ticket numbers, signed buttons, masking, request types."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from handlers.buttons import MAX_CALLBACK_BYTES, ButtonSigner
from handlers.display import mask_phone, mask_phones_in, show_date
from handlers.events import parse_command
from handlers.model import Language, RequestType
from handlers.numbering import format_ticket_number, normalize_ticket_number
from handlers.request_types import guess_request_type
from scheduler.calendar import SHANGHAI


def test_ticket_numbers_have_the_day_and_at_least_four_digits() -> None:
    assert format_ticket_number(date(2026, 11, 27), 1) == "20261127-0001"
    assert format_ticket_number(date(2026, 11, 27), 9999) == "20261127-9999"
    # A day past 9,999 requests gets more digits instead of wrapping around.
    assert format_ticket_number(date(2026, 11, 27), 10000) == "20261127-10000"
    with pytest.raises(ValueError, match="start at 1"):
        format_ticket_number(date(2026, 11, 27), 0)


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("20261127-0001", "20261127-0001"),
        (" 20261127-0001 ", "20261127-0001"),
        ("202611270001", "20261127-0001"),
        ("２０２６１１２７－０００１", "20261127-0001"),  # full-width, from a Chinese IME
        ("#20261127-12345", "20261127-12345"),
        ("20261327-0001", None),  # no 13th month
        ("2026-11-27", None),
        ("hello", None),
        ("", None),
    ],
)
def test_ticket_numbers_as_people_type_them(typed: str, number: str | None) -> None:
    assert normalize_ticket_number(typed) == number


def test_signed_buttons_verify_and_forgeries_do_not() -> None:
    signer = ButtonSigner(b"key one")
    data = signer.sign("type", 42, "complaint")
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    action = signer.verify(data)
    assert action is not None
    assert (action.action, action.args, action.int_arg(0)) == ("type", ("42", "complaint"), 42)
    # Change the ticket id but keep the signature: refused.
    assert signer.verify(data.replace(":42:", ":43:")) is None
    # Signed with another key (another deployment): refused.
    assert ButtonSigner(b"key two").verify(data) is None
    for junk in ("", "type:42:complaint", "x" * 65, ":::", None):
        assert signer.verify(junk) is None


def test_buttons_refuse_to_exceed_telegrams_limit() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        ButtonSigner(b"k").sign("type", "x" * 60)
    with pytest.raises(ValueError, match="without"):
        ButtonSigner(b"k").sign("type", "a:b")


def test_phones_are_masked() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_phone("0887-8222511") == "088****2511"
    assert mask_phone("12345") == "***45"
    # A local landline shows no more than four of its digits; an ID keeps its final X.
    assert mask_phone("822 1234") == "82***34"
    assert mask_phone("53342119800101123X") == "533***********123X"
    assert mask_phone(None) == ""
    line = "citizen 13812345678 and +86 139 1234 5678 called; ticket 20261127-0001"
    assert (
        mask_phones_in(line) == "citizen 138****5678 and 139****5678 called; ticket 20261127-0001"
    )


def test_dates_are_shown_in_shanghai() -> None:
    # 16:30 UTC on the 27th is already the 28th in Shangri-La.
    assert (
        show_date(datetime(2026, 11, 27, 16, 30, tzinfo=SHANGHAI).astimezone(SHANGHAI))
        == "2026-11-27"
    )
    from datetime import UTC

    assert show_date(datetime(2026, 11, 27, 16, 30, tzinfo=UTC)) == "2026-11-28"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("我要举报某饭店违规排污", RequestType.REPORT),
        ("投诉物业乱收费", RequestType.COMPLAINT),
        ("建议在村口增设公交站", RequestType.SUGGESTION),
        ("请问新生儿医保怎么办理？", RequestType.CONSULTATION),
        ("村里路灯坏了好几天", RequestType.HELP),
        ("路面有个大坑", RequestType.HELP),
    ],
)
def test_request_type_guess(text: str, kind: RequestType) -> None:
    assert guess_request_type(text) is kind


def test_commands_addressed_to_this_bot_only() -> None:
    assert parse_command("/status 20261127-0001", "hotline_bot") == ("status", "20261127-0001")
    assert parse_command("/start@Hotline_Bot", "hotline_bot") == ("start", "")
    assert parse_command("/start@other_bot", "hotline_bot") is None
    assert parse_command("/", "hotline_bot") is None
    assert parse_command("/路灯", "hotline_bot") == ("路灯", "")


def test_languages_from_telegram() -> None:
    assert Language.from_telegram("en-US") is Language.EN
    assert Language.from_telegram("zh-hans") is Language.ZH
    assert Language.from_telegram(None) is Language.ZH
    assert Language.from_telegram("ru") is Language.ZH
