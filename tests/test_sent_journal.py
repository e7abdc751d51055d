"""The delivery journal (bot.sent_journal): what one process notes, another finds after it
stopped, never while it runs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.sent_journal import SentJournal

AT = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


def test_a_stopped_process_s_sends_are_found_by_the_next_and_then_forgotten(
    tmp_path: Path,
) -> None:
    path = tmp_path / "delivery.journal"
    first = SentJournal(path)
    assert first.open() == []
    first.write([(1, 501, AT), (2, None, AT)])  # a list's rows have no message of their own
    first.close()  # killed: nothing recorded in the database

    second = SentJournal(path)
    assert second.open() == [(1, 501, AT), (2, None, AT)]
    second.recorded_leftovers()
    second.close()
    assert SentJournal(path).open() == []


def test_a_running_process_s_journal_is_not_taken_by_another(tmp_path: Path) -> None:
    """A restart that overlaps the old process: each writes its own journal, and the new one
    does not treat the running one's sends as a dead process's."""
    path = tmp_path / "delivery.journal"
    running = SentJournal(path)
    running.open()
    running.write([(7, 70, AT)])
    starting = SentJournal(path)
    assert starting.open() == []
    starting.write([(8, 80, AT)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["delivery.journal", "delivery.journal.1"]
    starting.close()

    running.clear()  # its sends are recorded
    running.close()
    after = SentJournal(path)
    assert after.open() == [(8, 80, AT)]  # only the stopped process's unrecorded send
    after.recorded_leftovers()
    assert [p.name for p in tmp_path.iterdir()] == ["delivery.journal"]
    after.close()


def test_a_line_cut_short_by_the_crash_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "delivery.journal"
    path.write_text(f"3 30 {AT.isoformat()}\n4 4")
    journal = SentJournal(path)
    assert journal.open() == [(3, 30, AT)]
    journal.close()
