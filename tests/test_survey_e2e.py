"""回访 with two questions, as the citizen answers them in Telegram: 问题是否已解决？ then the
satisfaction, one tap each on the answer message; 未解决 re-opens the ticket and its reason
reaches the department and the office; past the re-open limit the office takes it over."""

from __future__ import annotations

from typing import Any

from bot.fake_bot_api import FakeTelegramServer
from handlers.config import HotlineConfig
from scheduler.clock import FixedClock
from storage.models import SurveyRow
from tests.harness import running_bot
from tests.world import (
    OFFICE,
    ROADS_CHAT,
    World,
    build_world,
    button,
    buttons,
    dispatch_to,
    sign_and_answer,
    world_config,
)

REASON = "路灯还是不亮，昨晚又黑了"


async def _answered(world: World, text: str) -> dict[str, Any]:
    """A request dispatched to roads, signed for and answered; the citizen's answer message."""
    _, card = await dispatch_to(world, text, "村镇规划建设")
    await sign_and_answer(world, card, "路灯已修好")
    return await world.server.wait_for_message(world.citizen.chat_id, contains="路灯已修好")


def _edited(world: World, answer: dict[str, Any], mark: str) -> Any:
    return world.server.wait_for_message(
        world.citizen.chat_id,
        predicate=lambda m: m["message_id"] == answer["message_id"] and mark in m["text"],
    )


async def test_solved_then_satisfied_one_tap_each(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        answer = await _answered(world, "桥头的路灯一直不亮")
        assert "问题是否已解决" in answer["text"]
        server.press_button(world.citizen, answer, button(answer, "已解决"))
        solved = await _edited(world, answer, "已解决 ✓")
        # The first question answered, the satisfaction is one tap away on the same message.
        assert {b["text"] for b in buttons(solved)} == {"满意", "基本满意", "不满意"}
        server.press_button(world.citizen, solved, button(solved, "基本满意"))
        both = await _edited(world, answer, "基本满意 ✓")
        assert "已解决" in both["text"]
        assert buttons(both) == []
        [survey] = bot.rows(SurveyRow)
        assert (survey.solved, survey.rating.value) == (True, "basic")
        [ticket] = bot.tickets()
        assert ticket.status.value == "closed"
        # A second 已解决/未解决 press on an old copy changes nothing.
        server.press_button(world.citizen, answer, button(answer, "未解决"), strict=False)
        await server.wait_for_call(
            "answerCallbackQuery", lambda c: "已回答" in c.params.get("text", "")
        )
        [survey] = bot.rows(SurveyRow)
        assert survey.solved is True


async def test_unsolved_reopens_and_the_reason_is_passed_on(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        answer = await _answered(world, "村口的路灯坏了")
        server.press_button(world.citizen, answer, button(answer, "未解决"))
        solved = await _edited(world, answer, "未解决 ✓")
        reply = await server.wait_for_message(world.citizen.chat_id, contains="仍未解决")
        office = await server.wait_for_message(OFFICE, contains="问题未解决")
        assert "重办" in office["text"]
        [ticket] = bot.tickets()
        assert (ticket.status.value, ticket.reopen_count) == ("dispatched", 1)
        # The new card waits for a sign-for; the reason reaches it and the office.
        server.push_text(world.citizen, REASON, reply_to=reply)
        await server.wait_for_message(ROADS_CHAT, contains=REASON)
        await server.wait_for_message(OFFICE, contains=REASON)
        # The satisfaction can still be given; it does not close the re-opened ticket.
        server.press_button(world.citizen, solved, button(solved, "满意"))
        await _edited(world, answer, "满意 ✓")
        [ticket] = bot.tickets()
        assert ticket.status.value == "dispatched"
        [survey] = bot.rows(SurveyRow)
        assert (survey.solved, survey.rating.value) == (False, "satisfied")


async def test_past_the_reopen_limit_the_office_takes_over(
    fake_telegram: FakeTelegramServer, database_url: str, clock: FixedClock
) -> None:
    config = world_config(survey={"max_reopens": 0})
    world = build_world(fake_telegram, database_url, config)
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        answer = await _answered(world, "桥边路灯不亮")
        server.press_button(world.citizen, answer, button(answer, "未解决"))
        solved = await _edited(world, answer, "未解决 ✓")
        await server.wait_for_message(world.citizen.chat_id, contains="转热线办")
        office = await server.wait_for_message(OFFICE, contains="重办已达上限")
        assert "未解决" in office["text"]
        [ticket] = bot.tickets()
        assert (ticket.status.value, ticket.reopen_count) == ("resolved", 0)
        # 不满意 past the limit: the office again, and the ticket is closed, not re-opened.
        server.press_button(world.citizen, solved, button(solved, "不满意"))
        await server.wait_for_message(
            OFFICE, predicate=lambda m: "重办已达上限" in m["text"] and "不满意" in m["text"]
        )
        await bot.until(lambda: bot.tickets()[0].status.value == "closed")
        assert bot.tickets()[0].reopen_count == 0


async def test_unsolved_need_not_reopen_by_itself(
    fake_telegram: FakeTelegramServer, database_url: str, clock: FixedClock
) -> None:
    config = world_config(survey={"unsolved_reopens": False})
    world = build_world(fake_telegram, database_url, config)
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        answer = await _answered(world, "路口路灯不亮")
        server.press_button(world.citizen, answer, button(answer, "未解决"))
        solved = await _edited(world, answer, "未解决 ✓")
        await server.wait_for_message(world.citizen.chat_id, contains="已记录：问题未解决")
        [ticket] = bot.tickets()
        assert ticket.status.value == "resolved"
        server.press_button(world.citizen, solved, button(solved, "不满意"))
        await server.wait_for_message(world.citizen.chat_id, contains="重新交")
        [ticket] = bot.tickets()
        assert (ticket.status.value, ticket.reopen_count) == ("dispatched", 1)


async def test_a_limit_of_one_reopens_once_then_the_office_takes_over(
    fake_telegram: FakeTelegramServer, database_url: str, clock: FixedClock
) -> None:
    config = world_config(survey={"max_reopens": 1})
    world = build_world(fake_telegram, database_url, config)
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        _, card = await dispatch_to(world, "河边路灯不亮", "村镇规划建设")
        await sign_and_answer(world, card, "路灯已修好")
        first = await server.wait_for_message(world.citizen.chat_id, contains="路灯已修好")
        server.press_button(world.citizen, first, button(first, "未解决"))
        await _edited(world, first, "未解决 ✓")
        await server.wait_for_message(OFFICE, contains="问题未解决")
        [ticket] = bot.tickets()
        assert (ticket.status.value, ticket.reopen_count) == ("dispatched", 1)

        # The department answers again, on the new card; 未解决 again is past the limit.
        new_card = await server.wait_for_message(
            ROADS_CHAT,
            predicate=lambda m: (
                m["message_id"] != card["message_id"]
                and any("签收" in b["text"] for b in buttons(m))
            ),
        )
        await sign_and_answer(world, new_card, "已更换灯泡")
        second = await server.wait_for_message(world.citizen.chat_id, contains="已更换灯泡")
        server.press_button(world.citizen, second, button(second, "未解决"))
        await _edited(world, second, "未解决 ✓")
        await server.wait_for_message(world.citizen.chat_id, contains="转热线办")
        office = await server.wait_for_message(OFFICE, contains="重办已达上限")
        assert "未解决" in office["text"]
        [ticket] = bot.tickets()
        assert (ticket.status.value, ticket.reopen_count) == ("resolved", 1)
        assert [s.solved for s in bot.rows(SurveyRow)] == [False, False]
