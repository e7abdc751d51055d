"""Routing in the running bot: the dispatch queue, learning from the dispatcher, repeat
requests offered for merging, and 并单 candidates for supervisors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.fake_bot_api import FakeTelegramServer
from handlers.config import HotlineConfig
from scheduler.clock import FixedClock
from storage.models import AssignmentRow, RoutingExampleRow, TicketItemRow
from tests.harness import running_bot
from tests.world import (
    LABOUR_CHAT,
    OFFICE,
    World,
    button,
    buttons,
    number_in,
    world_config,
)


@pytest.fixture
def config() -> HotlineConfig:
    return world_config(threshold=0.8)


async def test_an_unsure_request_is_dispatched_by_hand_then_learnt(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    first, second = server.user(11), server.user(12)
    async with running_bot(server, database_url, config, clock) as bot:
        server.push_text(first, "无人机在小区上空飞来飞去，晚上一直嗡嗡响")
        confirmation = await server.wait_for_message(first.chat_id, contains="工单编号")
        assert "热线办" in confirmation["text"]
        number = number_in(confirmation)
        queued = await server.wait_for_message(OFFICE, contains=number)
        # Nothing in the text points anywhere: the office is told so, never "0%" and nothing.
        assert "系统无法从内容判断承办单位" in queued["text"]
        assert "把握度 0%" not in queued["text"]
        server.press_button(world.supervisor, queued, button(queued, "其他单位"), chat_id=OFFICE)
        picker = await server.wait_for_message(OFFICE, contains="请选择承办单位")
        server.press_button(world.supervisor, picker, button(picker, "劳动保障"), chat_id=OFFICE)
        await server.wait_for_message(LABOUR_CHAT, contains=number)
        told = await server.wait_for_message(first.chat_id, contains="已转至")
        assert "劳动保障服务中心" in told["text"]
        [example] = bot.rows(RoutingExampleRow)
        assert (example.department_code, example.source) == ("labour", "dispatcher")

        # The same kind of request now goes straight to the department, no dispatcher needed.
        server.push_text(second, "晚上无人机一直在我们小区上空嗡嗡地飞")
        confirmation = await server.wait_for_message(second.chat_id, contains="工单编号")
        assert "劳动保障服务中心" in confirmation["text"]
        second_number = number_in(confirmation)
        card = await server.wait_for_message(LABOUR_CHAT, contains=second_number)
        assert "待签收" in card["text"]
        assert not [m for m in server.sent_messages(OFFICE) if second_number in m.get("text", "")]
        automatic = bot.rows(AssignmentRow, AssignmentRow.automatic.is_(True))
        assert len(automatic) == 1
        assert automatic[0].confidence >= 0.8


async def test_a_repeat_request_is_offered_for_merging(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    citizen = world.citizen
    async with running_bot(server, database_url, config, clock) as bot:
        server.push_text(citizen, "幸福村三组的路灯坏了，晚上出门很不方便")
        number = number_in(await server.wait_for_message(citizen.chat_id, contains="工单编号"))

        server.push_text(citizen, "幸福村三组路灯坏了好几天了，晚上出门不方便，请尽快修")
        question = await server.wait_for_message(citizen.chat_id, contains="同一件事")
        assert number in question["text"]
        server.press_button(citizen, question, button(question, "是"))
        await server.wait_for_message(citizen.chat_id, contains="已补充到工单")
        assert bot.ticket_count() == 1
        [item] = bot.rows(TicketItemRow)
        assert "请尽快修" in item.text

        # Something else entirely: "more on the open ticket, or a new request?"
        server.push_text(citizen, "另外，我想咨询一下养老保险怎么补缴")
        question = await server.wait_for_message(citizen.chat_id, contains="这条消息是")
        server.press_button(citizen, question, button(question, "新的诉求"))
        new = await server.wait_for_message(citizen.chat_id, contains="工单编号")
        assert number_in(new) != number
        assert "养老保险" in bot.tickets()[-1].text
        # The buttons are gone from the question; pressing again changes nothing.
        server.press_button(citizen, question, button(question, "新的诉求"), strict=False)
        await server.wait_for_call(
            "answerCallbackQuery", lambda c: "处理过" in c.params.get("text", "")
        )
        assert bot.ticket_count() == 2
        edited = server.message(citizen.chat_id, question["message_id"])
        assert edited is not None
        assert buttons(edited) == []


async def test_an_undecided_message_becomes_a_request_after_a_while(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    citizen = world.citizen
    async with running_bot(server, database_url, config, clock) as bot:
        server.push_text(citizen, "小区门口的垃圾桶满了没人清理")
        await server.wait_for_message(citizen.chat_id, contains="工单编号")
        server.push_text(citizen, "还有，社区卫生站周末不开门")
        await server.wait_for_message(citizen.chat_id, contains="这条消息是")
        clock.advance(timedelta(minutes=10))
        await bot.sweep()
        assert bot.ticket_count() == 1  # still their choice
        clock.advance(timedelta(minutes=25))
        await bot.sweep()
        later = await server.wait_for_message(citizen.chat_id, contains="没有选择")
        assert "工单编号" in later["text"]
        assert bot.ticket_count() == 2


async def test_supervisors_see_similar_requests_of_different_citizens(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    texts = {
        21: "幸福路口的红绿灯坏了，车辆乱成一团",
        22: "幸福路路口红绿灯坏了，交通很乱",
        23: "我家孩子上学的校车不安全，司机经常超速",
    }
    async with running_bot(server, database_url, config, clock):
        numbers = {}
        for user_id, text in texts.items():
            user = server.user(user_id)
            server.push_text(user, text)
            numbers[user_id] = number_in(
                await server.wait_for_message(user.chat_id, contains="工单编号")
            )
        server.push_text(world.supervisor, "/similar", chat_id=OFFICE)
        similar = await server.wait_for_message(OFFICE, contains="相似诉求")
        assert numbers[21] in similar["text"]
        assert numbers[22] in similar["text"]
        assert numbers[23] not in similar["text"]
        server.push_text(world.roads, "/similar", chat_id=OFFICE)
        assert "督办" in (await server.wait_for_message(OFFICE))["text"]
