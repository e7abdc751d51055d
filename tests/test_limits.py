"""Telegram's length limits as the bot counts them (UTF-16 code units)."""

from __future__ import annotations

from bot.limits import pieces, truncate, utf16_len


def test_emoji_outside_the_basic_plane_count_twice() -> None:
    assert utf16_len("路灯") == 2
    assert utf16_len("👍") == 2
    assert truncate("ab👍c", 3) == "ab"  # the emoji would make it 4
    assert truncate("ab👍c", 4) == "ab👍"


def test_a_text_within_the_limit_is_one_piece() -> None:
    assert pieces("路灯坏了", limit=4) == ["路灯坏了"]


def test_a_long_text_is_cut_after_a_line_break_in_the_second_half() -> None:
    text = "甲" * 6 + "\n" + "乙" * 6
    assert pieces(text, limit=10) == ["甲" * 6 + "\n", "乙" * 6]
    # no line break late enough: cut at the limit itself
    assert pieces("甲\n" + "乙" * 12, limit=10) == ["甲\n" + "乙" * 8, "乙" * 4]


def test_every_piece_fits_and_nothing_is_lost() -> None:
    text = ("一行文字👍\n" * 50) + "末尾"
    found = pieces(text, limit=64)
    assert all(utf16_len(piece) <= 64 for piece in found)
    # Only line breaks may fall between pieces.
    assert "".join(found).replace("\n", "") == text.replace("\n", "")


def test_a_short_last_line_is_the_last_piece_and_an_edit_of_it_changes_only_that() -> None:
    text = "答复内容。" * 40 + "\n\n请评价："
    before, after = pieces(text, limit=50), pieces(text + " 满意 ✓", limit=50)
    assert before[-1] == "请评价："
    assert after[-1] == "请评价： 满意 ✓"
    assert after[:-1] == before[:-1]


def test_blank_pieces_are_dropped() -> None:
    assert pieces("甲" * 10 + "\n" * 12, limit=10) == ["甲" * 10]


def test_a_blank_text_stays_one_piece() -> None:
    assert pieces(" " * 30, limit=10) == [" " * 10]
