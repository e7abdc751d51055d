"""/ranking in the office chat: the 红黑榜 of a period, counted as it is sent."""

from __future__ import annotations

from bot.fake_bot_api import FakeTelegramServer
from scheduler.clock import FixedClock
from tests.harness import running_bot
from tests.world import OFFICE, build_world, button, dispatch_to, sign_and_answer, world_config


async def test_ranking_names_the_units_on_the_lists(
    fake_telegram: FakeTelegramServer, database_url: str, clock: FixedClock
) -> None:
    config = world_config(assessment={"min_tickets": 1, "board_size": 1})
    world = build_world(fake_telegram, database_url, config)
    server = fake_telegram
    async with running_bot(server, database_url, config, clock):
        _, card = await dispatch_to(world, "桥头的路灯一直不亮", "村镇规划建设")
        await sign_and_answer(world, card, "路灯已修好")
        answer = await server.wait_for_message(world.citizen.chat_id, contains="路灯已修好")
        server.press_button(world.citizen, answer, button(answer, "已解决"))
        await server.wait_for_message(
            world.citizen.chat_id,
            predicate=lambda m: m["message_id"] == answer["message_id"] and "✓" in m["text"],
        )
        await dispatch_to(world, "拖欠工资三个月", "劳动保障", server.user(600))
        server.push_text(world.supervisor, "/ranking 2026-11", chat_id=OFFICE)
        board = await server.wait_for_message(OFFICE, contains="考评排名")
        text = board["text"]
        assert "2026-11" in text
        assert "对比 2026-10" in text
        # roads: 响应 0 / 1, 解决 1 / 1, no 满意率 yet → 100 × 0.45 / 0.55 = 81.82;
        # labour: 响应 0 / 1 only → 0
        red, black = text.split("红榜")[1].split("黑榜")
        assert "村镇规划建设服务中心 81.82" in red
        assert "劳动保障服务中心 0.00" in black

        server.push_text(world.supervisor, "/ranking 2026-13", chat_id=OFFICE)
        await server.wait_for_message(OFFICE, contains="没有 13 月")
