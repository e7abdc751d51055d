"""The same hotline through python-telegram-bot: intake, buttons, a staff member's whole
handling of a ticket, and a Telegram error retried."""

from __future__ import annotations

from datetime import timedelta

from bot.fake_bot_api import FakeTelegramServer
from bot.runner import TransportName
from handlers.config import HotlineConfig
from scheduler.clock import FixedClock
from storage.models import OutboxRow
from tests.harness import running_bot
from tests.world import ROADS_CHAT, World, button, buttons, dispatch_to, number_in

PTB = TransportName.PTB


async def test_intake_and_the_type_button(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    citizen = server.user(41, language_code="zh-hans")
    async with running_bot(server, database_url, config, clock, transport=PTB) as bot:
        server.push_text(citizen, "我要投诉：菜市场的秤不准")
        reply = await server.wait_for_message(citizen.chat_id, contains="工单编号")
        assert number_in(reply) == "20261127-0001"
        assert "投诉" in reply["text"]
        assert "2026-12-08" in reply["text"]
        server.press_button(citizen, reply, button(reply, "举报"))
        await server.wait_for_message(
            citizen.chat_id, predicate=lambda m: "诉求类型：举报" in m.get("text", "")
        )
        server.push_photo(citizen, caption="秤的照片")
        await server.wait_for_message(citizen.chat_id, contains="已附加到工单")
        assert bot.tickets()[0].request_type.value == "report"


async def test_a_staff_member_handles_a_ticket(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock, transport=PTB) as bot:
        _, card = await dispatch_to(world, "桥头的路灯一直不亮", "村镇规划建设")
        server.press_button(world.roads, card, button(card, "签收"), chat_id=ROADS_CHAT)
        signed = await server.wait_for_message(
            ROADS_CHAT,
            predicate=lambda m: m["message_id"] == card["message_id"] and "办理中" in m["text"],
        )
        server.push_text(world.roads, "已安排电工", chat_id=ROADS_CHAT, reply_to=signed)
        await server.wait_for_message(world.citizen.chat_id, contains="已安排电工")
        server.press_button(world.roads, signed, button(signed, "办结"), chat_id=ROADS_CHAT)
        prompt = await server.wait_for_message(ROADS_CHAT, contains="答复内容")
        server.push_text(world.roads, "路灯已修好", chat_id=ROADS_CHAT, reply_to=prompt)
        answer = await server.wait_for_message(world.citizen.chat_id, contains="路灯已修好")
        assert {b["text"] for b in buttons(answer)} == {
            "已解决",
            "未解决",
            "满意",
            "基本满意",
            "不满意",
        }
        server.press_button(world.citizen, answer, button(answer, "不满意"))
        reopened = await server.wait_for_message(world.citizen.chat_id, contains="重新交")
        assert "2026-12-08" in reopened["text"]  # a fresh seven working days from today
        assert bot.tickets()[0].status.value == "dispatched"
        assert bot.tickets()[0].reopen_count == 1


async def test_a_429_is_retried(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    citizen = server.user(42)
    server.fail_next("sendMessage", status=429, retry_after=2)
    async with running_bot(server, database_url, config, clock, transport=PTB) as bot:
        server.push_text(citizen, "/help")
        await server.wait_for_call("sendMessage", lambda c: c.failed)
        await bot.until(lambda: bot.rows(OutboxRow)[0].attempts == 1)
        clock.advance(timedelta(seconds=3))
        help_text = await server.wait_for_message(citizen.chat_id, contains="/my")
        assert "/status" in help_text["text"]
