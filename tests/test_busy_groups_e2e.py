"""A busy group gets what waits for it as one list; a tap on a number opens the ticket."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from bot.delivery import LIST_WHEN_BUSY
from bot.fake_bot_api import FakeTelegramServer, FakeUser
from bot.runner import TransportName
from handlers.config import HotlineConfig
from scheduler.clock import FixedClock
from storage.models import OutboxRow, TicketEventRow
from tests.harness import RunningBot, running_bot
from tests.world import (
    OFFICE,
    ROADS_CHAT,
    World,
    button,
    buttons,
    number_in,
    pick_department,
    world_config,
)

WAITING = 4  # requests that arrive while the busy group's previous message is on its way


async def request(server: FakeTelegramServer, citizen: FakeUser, text: str) -> str:
    server.push_text(citizen, text)
    return number_in(await server.wait_for_message(citizen.chat_id, contains="工单编号"))


async def make_busy(server: FakeTelegramServer, chat_id: int, texts: list[str]) -> None:
    """LIST_WHEN_BUSY requests, each of whose messages reaches ``chat_id`` on its own."""
    for i, text in enumerate(texts):
        number = await request(server, server.user(7000 + i), text)
        message = await server.wait_for_message(chat_id, contains=number)
        assert "新工单" not in message["text"]


async def list_after_a_slow_send(
    server: FakeTelegramServer, chat_id: int, texts: list[str]
) -> tuple[list[str], dict[str, Any]]:
    """One more request whose message is slow to go out, and WAITING more meanwhile: the
    numbers of those waiting, and the list they reach the chat as."""
    server.delay_next("sendMessage", 1.5, chat_id=chat_id)
    await request(server, server.user(7100), texts[0])
    numbers = [await request(server, server.user(7101 + i), t) for i, t in enumerate(texts[1:])]
    listed = await server.wait_for_message(chat_id, contains="新工单", timeout=10)
    return numbers, listed


def listed_rows(bot: RunningBot, numbers: list[str]) -> list[tuple[str, str, int | None]]:
    ids = [t.id for t in bot.tickets() if t.number in numbers]
    with bot.database.read() as session:
        rows = session.execute(
            select(OutboxRow.purpose, OutboxRow.status, OutboxRow.telegram_message_id).where(
                OutboxRow.ticket_id.in_(ids),
                OutboxRow.method == "sendMessage",
                OutboxRow.purpose.in_(("card", "dispatch_queue")),
            )
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


@pytest.mark.parametrize("transport", [TransportName.AIOGRAM, TransportName.PTB])
async def test_a_busy_office_gets_the_requests_waiting_to_be_dispatched_as_one_list(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
    transport: TransportName,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock, transport=transport) as bot:
        await make_busy(server, OFFICE, [f"第{i}个咨询：办事大厅几点开门" for i in range(10)])
        numbers, listed = await list_after_a_slow_send(
            server, OFFICE, [f"第{i}件：小区门口积水很深" for i in range(WAITING + 1)]
        )
        text = listed["text"]
        assert f"新工单 {WAITING} 件" in text
        assert [text.index(n) for n in numbers] == sorted(text.index(n) for n in numbers)
        assert text.count("待派单") == WAITING
        assert text.count("积水") == WAITING
        assert [b["text"] for b in buttons(listed)] == [str(i) for i in range(1, WAITING + 1)]
        await asyncio.sleep(0.3)
        office = server.sent_messages(OFFICE)
        assert len(office) == LIST_WHEN_BUSY + 2  # one each, the slow one, then the list
        # Each listed request is sent, as part of the list, not as a message of its own.
        assert listed_rows(bot, numbers) == [("dispatch_queue", "sent", None)] * WAITING

        # The supervisor opens the third: its request to dispatch, under the list.
        server.press_button(world.supervisor, listed, button(listed, "3"), chat_id=OFFICE)
        opened = await server.wait_for_message(OFFICE, contains=f"待派单：工单 {numbers[2]}")
        assert numbers[2] in opened["text"]
        assert opened["reply_to_message"]["message_id"] == listed["message_id"]
        await pick_department(world, opened, "村镇规划建设")
        card = await server.wait_for_message(ROADS_CHAT, contains=f"工单 {numbers[2]}")
        assert "签收" in str(card["reply_markup"])
        assert [t.status.value for t in bot.tickets() if t.number == numbers[2]] == ["dispatched"]


async def test_only_staff_who_may_act_open_a_listed_ticket(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        await make_busy(server, OFFICE, [f"第{i}个咨询：医保怎么报销" for i in range(10)])
        _, listed = await list_after_a_slow_send(
            server, OFFICE, [f"第{i}件：楼道灯不亮" for i in range(WAITING + 1)]
        )
        before = len(server.sent_messages(OFFICE))
        server.press_button(world.citizen, listed, button(listed, "1"), chat_id=OFFICE)
        refused = await server.wait_for_call("answerCallbackQuery")
        assert "工作人员" in refused.params["text"]
        # Department staff may not dispatch what waits in the office's queue.
        server.press_button(world.roads, listed, button(listed, "2"), chat_id=OFFICE)
        refused = await server.wait_for_call("answerCallbackQuery")
        assert "无权" in refused.params["text"]
        await asyncio.sleep(0.3)
        assert len(server.sent_messages(OFFICE)) == before
        refusals = bot.rows(TicketEventRow, TicketEventRow.action == "refused")
        assert {r.actor_id for r in refusals} == {world.citizen.id, world.roads.id}


@pytest.mark.parametrize("config", [world_config(threshold=0.0)])
async def test_a_busy_department_opens_a_listed_card_and_works_it(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    """Cards listed in a busy department chat: an opened card is the ticket's card from then
    on (edited as the ticket moves); the list is no ticket's card, and a reply to it reaches
    no citizen."""
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        await make_busy(server, ROADS_CHAT, [f"第{i}段路的路灯坏了" for i in range(10)])
        numbers, listed = await list_after_a_slow_send(
            server, ROADS_CHAT, [f"第{i}座桥边的道路坑洼" for i in range(WAITING + 1)]
        )
        assert all(n in listed["text"] for n in numbers)
        await bot.until(lambda: listed_rows(bot, numbers) == [("card", "sent", None)] * WAITING)

        server.press_button(world.roads, listed, button(listed, "1"), chat_id=ROADS_CHAT)
        card = await server.wait_for_message(ROADS_CHAT, contains=f"工单 {numbers[0]}")
        assert card["reply_to_message"]["message_id"] == listed["message_id"]
        server.press_button(world.roads, card, button(card, "签收"), chat_id=ROADS_CHAT)
        signed = await server.wait_for_message(
            ROADS_CHAT,
            predicate=lambda m: m["message_id"] == card["message_id"] and "办理中" in m["text"],
        )
        assert "办结" in str(signed["reply_markup"])
        # Only the opened card is edited: the listed one has no message to edit.
        await bot.until(lambda: bot.rows(OutboxRow, OutboxRow.status == "pending") == [])
        assert bot.rows(OutboxRow, OutboxRow.status == "failed") == []
        # The list itself is left as it was.
        shown = server.message(ROADS_CHAT, listed["message_id"])
        assert shown is not None
        assert shown["text"] == listed["text"]

        # Staff answering the list by reply: it is no ticket's card, no citizen hears it.
        citizens = {m["chat"]["id"] for m in server.sent_messages() if m["chat"]["id"] > 0}
        counts = {chat: len(server.sent_messages(chat)) for chat in citizens}
        server.push_text(world.roads, "已安排人员处理", chat_id=ROADS_CHAT, reply_to=listed)
        await server.wait_for_updates_confirmed()
        await asyncio.sleep(0.5)
        assert {chat: len(server.sent_messages(chat)) for chat in citizens} == counts
