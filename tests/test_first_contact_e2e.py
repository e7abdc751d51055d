"""响应 (先行联系): after a dispatch the unit must contact the citizen within a working day
(urgent: two hours) — a message relayed to the citizen, or "已联系群众" on the card after a
phone call, which records who and when. A missing first contact is chased like a sign-for,
and the first contact in time is what 响应率 counts."""

from __future__ import annotations

from datetime import date, datetime

from bot.fake_bot_api import FakeTelegramServer
from handlers.config import HotlineConfig
from handlers.reports import Period
from scheduler.calendar import SHANGHAI
from scheduler.clock import FixedClock
from storage.database import Database
from storage.models import AssignmentRow, StaffRow
from storage.statistics import compute_statistics
from tests.harness import running_bot
from tests.world import OFFICE, ROADS_CHAT, World, button, dispatch_to

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))


def at(day: str, time: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SHANGHAI)


def response_rate(database_url: str, config: HotlineConfig, now: datetime) -> tuple[float, int]:
    database = Database(database_url)
    try:
        with database.read() as session:
            report = compute_statistics(session, NOVEMBER, now=now, targets=config.targets)
    finally:
        database.dispose()
    overall = report.rows[0].response_rate
    return overall.numerator, overall.denominator


async def test_the_contacted_button_records_who_and_when(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        # Dispatched Friday 11-27 10:00: first contact due by the end of Monday 11-30.
        _, card = await dispatch_to(world, "村道塌方一半", "村镇规划建设")
        assert response_rate(database_url, config, clock.now()) == (0, 1)

        clock.set(at("2026-11-30", "15:00"))
        server.press_button(world.roads, card, button(card, "已联系群众"), chat_id=ROADS_CHAT)
        await server.wait_for_call(
            "answerCallbackQuery", lambda c: "已联系群众" in c.params.get("text", "")
        )
        [assignment] = bot.rows(AssignmentRow)
        [staff] = bot.rows(StaffRow, StaffRow.telegram_user_id == world.roads.id)
        assert assignment.contacted_by == staff.id
        assert assignment.contacted_at == at("2026-11-30", "15:00")
        assert response_rate(database_url, config, clock.now()) == (1, 1)

        # A second press keeps the first contact and says when it was.
        clock.set(at("2026-11-30", "16:00"))
        server.press_button(world.roads, card, button(card, "已联系群众"), chat_id=ROADS_CHAT)
        await server.wait_for_call(
            "answerCallbackQuery", lambda c: "15:00" in c.params.get("text", "")
        )
        [assignment] = bot.rows(AssignmentRow)
        assert assignment.contacted_at == at("2026-11-30", "15:00")

        # Past the limit nothing is chased: the citizen was contacted.
        clock.set(at("2026-12-01", "09:00"))
        assert "contact_overdue" not in (await bot.sweep()).reminders


async def test_a_relayed_message_is_a_first_contact(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        number, _ = await dispatch_to(world, "自来水管破裂", "村镇规划建设")
        clock.set(at("2026-11-27", "14:00"))
        server.push_text(world.roads, f"/reply {number} 维修人员已出发", chat_id=ROADS_CHAT)
        await server.wait_for_message(world.citizen.chat_id, contains="维修人员已出发")
        await bot.until(lambda: bot.rows(AssignmentRow)[0].contacted_at is not None)
        [assignment] = bot.rows(AssignmentRow)
        assert assignment.contacted_at == at("2026-11-27", "14:00")
        assert assignment.contacted_by is not None


async def test_a_missing_first_contact_is_chased_once(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        number, card = await dispatch_to(world, "桥面裂缝", "村镇规划建设")
        # Signed for in time, never contacted.
        server.press_button(world.roads, card, button(card, "签收"), chat_id=ROADS_CHAT)
        await server.wait_for_message(
            ROADS_CHAT,
            predicate=lambda m: m["message_id"] == card["message_id"] and "办理中" in m["text"],
        )
        clock.set(at("2026-11-30", "16:00"))  # within the limit
        assert "contact_overdue" not in (await bot.sweep()).reminders

        clock.set(at("2026-12-01", "08:31"))
        assert (await bot.sweep()).reminders == {"contact_overdue": 1}
        department = await server.wait_for_message(ROADS_CHAT, contains="先行联系")
        assert number in department["text"]
        office = await server.wait_for_message(OFFICE, contains="响应超时")
        assert number in office["text"]
        assert "contact_overdue" not in (await bot.sweep()).reminders  # once per dispatch
        # Contacted late: counted as dispatched, not as contacted in time.
        server.press_button(world.roads, card, button(card, "已联系群众"), chat_id=ROADS_CHAT)
        await bot.until(lambda: bot.rows(AssignmentRow)[0].contacted_at is not None)
        assert response_rate(database_url, config, clock.now()) == (0, 1)


async def test_an_urgent_ticket_must_be_contacted_within_two_hours(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        number, _ = await dispatch_to(world, "燃气管道漏气", "村镇规划建设")
        clock.set(at("2026-11-27", "11:00"))
        server.push_text(world.supervisor, f"/urgent {number}", chat_id=OFFICE)
        await server.wait_for_message(OFFICE, contains="紧急")
        await bot.until(
            lambda: bot.rows(AssignmentRow)[0].contact_due_at == at("2026-11-27", "13:00")
        )
        clock.set(at("2026-11-27", "12:59"))
        assert "contact_overdue" not in (await bot.sweep()).reminders
        clock.set(at("2026-11-27", "13:01"))
        assert (await bot.sweep()).reminders == {"contact_overdue": 1}
