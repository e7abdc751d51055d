"""``hotline deadline``, ``hotline calendar check`` and ``hotline tick`` as operators use them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.fake_bot_api import DEFAULT_TOKEN
from bot.settings import get_settings
from handlers.model import RequestType, TicketStatus
from storage.database import Database
from storage.models import CitizenRow, OutboxRow, ReminderRow, TicketRow


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("HOTLINE_CONFIG", "HOTLINE_DATABASE_URL", "HOTLINE_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_deadline_of_the_national_day_example() -> None:
    code, out = run("deadline", "--received", "2026-09-30T10:00", "--format", "json")
    assert code == 0, out
    data = json.loads(out)
    assert data["due"] == "2026-10-15T23:59:59+08:00"
    assert data["estimated"] is False
    # 10/1–10/7 off, Saturday 10/10 a make-up working day.
    assert data["counted_days"] == [
        "2026-10-08",
        "2026-10-09",
        "2026-10-10",
        "2026-10-12",
        "2026-10-13",
        "2026-10-14",
        "2026-10-15",
    ]


def test_deadline_in_an_unconfirmed_year_is_estimated() -> None:
    code, out = run(
        "deadline", "--received", "2027-03-01T09:00+08:00", "--days", "3", "--format", "json"
    )
    assert code == 0, out
    assert json.loads(out)["estimated"] is True
    code, out = run("deadline", "--received", "2026-11-27T10:00")
    assert "2026-12-08 23:59:59" in out


def test_deadline_mistakes() -> None:
    assert run("deadline", "--received", "yesterday")[0] == 2
    assert run("deadline", "--received", "2026-11-27", "--days", "0")[0] == 2


def test_calendar_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run("calendar", "check", "2026")
    assert (code, "confirmed" in out) == (0, True)
    code, out = run("calendar", "check", "2027")
    assert "NOT confirmed" in out
    assert "[calendar.2027]" in out
    config = tmp_path / "hotline.toml"
    config.write_text(
        '[calendar.2027]\nholidays = ["2027-10-01..2027-10-07"]\nworkdays = []\n', encoding="utf-8"
    )
    monkeypatch.setenv("HOTLINE_CONFIG", str(config))
    get_settings.cache_clear()
    code, out = run("calendar", "check", "2027")
    assert "2027: confirmed (from config)" in out


def test_tick_queues_due_reminders_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    database = Database(url)
    database.upgrade()
    long_ago = datetime(2026, 9, 1, tzinfo=UTC)
    with database.transaction() as session:
        from handlers.config import load_config
        from storage.admin import set_office_chat
        from storage.departments import sync_departments

        sync_departments(session, load_config(None).departments)
        set_office_chat(session, -100)
        citizen = CitizenRow(telegram_user_id=5, chat_id=5, language="zh", created_at=long_ago)
        session.add(citizen)
        session.flush()
        session.add(
            TicketRow(
                number="20260901-0001",
                citizen_id=citizen.id,
                request_type=RequestType.HELP,
                text="旧工单",
                status=TicketStatus.RECEIVED,
                received_at=long_ago,
                deadline_at=long_ago + timedelta(days=9),
                deadline_estimated=False,
                updated_at=long_ago,
            )
        )
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    monkeypatch.setenv("HOTLINE_BOT_TOKEN", DEFAULT_TOKEN)
    get_settings.cache_clear()
    # At night only urgent tickets are chased.
    code, out = run("tick", "--at", "2026-11-27T22:00")
    assert code == 0, out
    assert "outside working hours" in out
    with database.read() as session:
        assert session.scalars(select(ReminderRow)).all() == []
    code, out = run("tick", "--at", "2026-11-30T09:00")
    assert code == 0, out
    with database.read() as session:
        reminders = session.scalars(select(ReminderRow)).all()
        messages = session.scalars(select(OutboxRow)).all()
    assert [r.kind for r in reminders] == ["overdue"]
    # Left unclaimed for the running bot to deliver; Monday 09:00 also brings the digest and
    # the weekly 通报.
    assert sorted((m.purpose, m.chat_id, m.claimed_by) for m in messages) == [
        ("briefing", -100, None),
        ("digest", -100, None),
        ("reminder_overdue", -100, None),
    ]
    run("tick", "--at", "2026-11-30T10:00")
    with database.read() as session:
        assert len(session.scalars(select(ReminderRow)).all()) == 1
    database.dispose()
