"""The weekly 通报 to the office chat on Monday morning, and /briefing on demand."""

from __future__ import annotations

from datetime import datetime

from bot.fake_bot_api import FakeTelegramServer
from handlers.config import HotlineConfig
from scheduler.calendar import SHANGHAI
from scheduler.clock import FixedClock
from tests.harness import running_bot
from tests.world import OFFICE, World, number_in

SIMILAR = [
    "桥头的路灯一直不亮，晚上走路很黑，请尽快修理",
    "你好，桥头的路灯一直不亮，晚上很黑，希望修一下",
    "桥头那边的路灯一直不亮，晚上走路很黑，谢谢",
]


async def test_the_monday_briefing_names_the_hotspot(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        for i, text in enumerate(SIMILAR):  # three citizens, one topic (Friday 11-27)
            citizen = server.user(700 + i)
            server.push_text(citizen, text)
            number_in(await server.wait_for_message(citizen.chat_id, contains="工单编号"))
        other = server.user(710)
        server.push_text(other, "公司拖欠工资三个月了，老板不给钱")
        await server.wait_for_message(other.chat_id, contains="工单编号")

        clock.set(datetime(2026, 11, 30, 8, 0, tzinfo=SHANGHAI))  # Monday, before 08:30
        assert not (await bot.sweep()).briefing_sent
        clock.set(datetime(2026, 11, 30, 8, 31, tzinfo=SHANGHAI))
        assert (await bot.sweep()).briefing_sent
        briefing = await server.wait_for_message(OFFICE, contains="热线工作通报")
        text = briefing["text"]
        assert "2026-11-23 – 2026-11-29" in text
        assert "受理 4 件" in text
        hot = text.split("【热点问题】")[1].split("【")[0]
        assert "3 件（3 位群众）" in hot
        assert "路灯" in hot
        assert "工资" not in hot  # one citizen's request is not a 热点
        assert "【超期未办结" in text
        assert not (await bot.sweep()).briefing_sent  # once a week

        server.push_text(world.supervisor, "/briefing 2026-11", chat_id=OFFICE)
        asked = await server.wait_for_message(
            OFFICE, predicate=lambda m: "热线工作通报 2026-11（" in m.get("text", "")
        )
        assert "3 件（3 位群众）" in asked["text"]
