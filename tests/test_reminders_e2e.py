"""催办 and 督办 with an injected clock: each step once, held back at night, none lost across a
restart, and two racing sweeps queue each reminder once."""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import select

from bot.app import build_hotline
from bot.fake_bot_api import DEFAULT_TOKEN, FakeTelegramServer
from handlers.config import HotlineConfig
from handlers.reminders import sweep
from scheduler.calendar import SHANGHAI
from scheduler.clock import FixedClock
from storage.database import Database
from storage.models import OutboxRow, ReminderRow
from storage.repository import SqlStore
from tests.harness import running_bot
from tests.world import OFFICE, ROADS_CHAT, World, button, dispatch_to


def at(day: str, time: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SHANGHAI)


def reminder_texts(server: FakeTelegramServer, chat_id: int, marker: str) -> list[str]:
    return [m["text"] for m in server.sent_messages(chat_id) if marker in m.get("text", "")]


async def test_each_step_fires_once_and_waits_for_office_hours(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        # Dispatched Friday 11-27 10:00: sign for by Monday 11-30, resolve by Tuesday 12-08.
        _, card = await dispatch_to(world, "村道塌方一半", "村镇规划建设")

        clock.set(at("2026-11-30", "16:00"))  # still within the sign-for limit
        assert (await bot.sweep()).total == 0

        clock.set(at("2026-11-30", "23:30"))  # the limit passed at midnight? not yet; and night
        assert (await bot.sweep()).total == 0

        clock.set(at("2026-12-01", "02:00"))  # past the limit, but the office is closed
        report = await bot.sweep()
        assert report.held_back
        assert report.total == 0

        clock.set(at("2026-12-01", "08:31"))
        # Not contacted either (先行联系 has the same one-working-day limit by default).
        assert (await bot.sweep()).reminders == {"sign_overdue": 1, "contact_overdue": 1}
        assert (
            len(
                reminder_texts(server, ROADS_CHAT, "尚未签收")
                + reminder_texts(server, ROADS_CHAT, "签收时限")
            )
            == 1
        )
        assert len(reminder_texts(server, OFFICE, "签收超时")) == 1
        assert (await bot.sweep()).total == 0  # once

        server.press_button(world.roads, card, button(card, "签收"), chat_id=ROADS_CHAT)
        await server.wait_for_message(
            ROADS_CHAT,
            predicate=lambda m: m["message_id"] == card["message_id"] and "办理中" in m["text"],
        )

        # Friday 12-04: two working days left (Mon 12-07, Tue 12-08).
        clock.set(at("2026-12-04"))
        assert (await bot.sweep()).reminders == {"due_soon": 1}
        soon = reminder_texts(server, ROADS_CHAT, "即将到期")
        assert len(soon) == 1
        assert "剩余 2 个工作日" in soon[0]
        assert (await bot.sweep()).total == 0

        clock.set(at("2026-12-08"))
        assert (await bot.sweep()).reminders == {"due_today": 1}

        # Past the deadline: the office at once, then once each working day.
        clock.set(at("2026-12-09"))
        assert (await bot.sweep()).reminders == {"overdue": 1}
        overdue = reminder_texts(server, OFFICE, "督办")
        assert "已超期 1 个工作日" in overdue[-1]
        clock.set(at("2026-12-09", "15:00"))
        assert (await bot.sweep()).total == 0
        clock.set(at("2026-12-12", "10:00"))  # Saturday: not a working day
        assert (await bot.sweep()).total == 0
        clock.set(at("2026-12-14", "09:00"))  # Monday
        assert (await bot.sweep()).reminders == {"overdue": 1}
        assert "已超期 4 个工作日" in reminder_texts(server, OFFICE, "督办")[-1]
        keys = {(r.kind, r.step) for r in bot.rows(ReminderRow)}
        assert ("overdue", "2026-12-09") in keys
        assert ("overdue", "2026-12-14") in keys


async def test_reminders_due_while_the_bot_was_down_go_out_when_it_is_back(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock):
        number, _ = await dispatch_to(world, "路面积水很深", "村镇规划建设")
    clock.set(at("2026-12-02", "10:00"))  # the bot was down over the sign-for limit
    async with running_bot(server, database_url, config, clock, schedule=True):
        # No sweep() call: the scheduler's first run at start-up finds it.
        reminder = await server.wait_for_message(OFFICE, contains="签收超时", timeout=10)
        assert number in reminder["text"]


async def test_two_sweeps_racing_queue_each_reminder_once(
    database_url: str,
    config: HotlineConfig,
    fake_telegram: FakeTelegramServer,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock):
        for i, text in enumerate(("路灯坏了", "桥梁开裂", "水管爆了")):
            await dispatch_to(world, text, "村镇规划建设", server.user(500 + i))
    now = at("2026-12-01", "10:00")
    barrier = threading.Barrier(2, timeout=30)  # a failing sweep must not hang the other
    errors: list[BaseException] = []

    def run_sweep() -> None:
        database = Database(database_url)
        try:
            hotline = build_hotline(config, secret=DEFAULT_TOKEN)
            with database.transaction() as session:
                store = SqlStore(session)
                barrier.wait()
                sweep(store, hotline, now)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            database.dispose()

    threads = [threading.Thread(target=run_sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    database = Database(database_url)
    with database.read() as session:
        reminders = session.scalars(select(ReminderRow)).all()
        messages = session.scalars(
            select(OutboxRow).where(OutboxRow.purpose.like("reminder_%"))
        ).all()
    database.dispose()
    # Three sign-for and three first-contact (先行联系) reminders, each recorded once.
    assert sorted(r.kind for r in reminders) == ["contact_overdue"] * 3 + ["sign_overdue"] * 3
    # Per kind, one list to the roads chat and one to the office, not two of each.
    for kind in ("sign_overdue", "contact_overdue"):
        chats = [m.chat_id for m in messages if m.purpose == f"reminder_{kind}"]
        assert sorted(chats) == sorted([ROADS_CHAT, OFFICE])
