"""Citizen intake end to end: the real bot over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re

from bot.fake_bot_api import FakeTelegramServer
from handlers.config import HotlineConfig
from scheduler.clock import FixedClock
from storage.models import TicketEventRow, TicketItemRow
from tests.harness import running_bot

NUMBER = re.compile(r"\d{8}-\d{4,}")


async def test_a_request_becomes_a_ticket_with_number_and_deadline(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    citizen = fake_telegram.user(1001, first_name="王", language_code="zh-hans")
    async with running_bot(fake_telegram, database_url, hotline_config, clock) as bot:
        fake_telegram.push_text(citizen, "/start")
        greeting = await fake_telegram.wait_for_message(citizen.chat_id)
        assert "7 个工作日" in greeting["text"]
        assert "个人信息" in greeting["text"]

        fake_telegram.push_text(citizen, "建塘镇中心路口的路灯坏了三天，晚上很黑")
        reply = await fake_telegram.wait_for_message(citizen.chat_id, contains="工单编号")
        number = NUMBER.search(reply["text"])
        assert number is not None
        assert number.group() == "20261127-0001"
        # Received Friday 2026-11-27: seven working days end Tuesday 12-08.
        assert "2026-12-08" in reply["text"]
        assert "求助" in reply["text"]
        tickets = bot.tickets()
        assert [t.number for t in tickets] == ["20261127-0001"]
        assert tickets[0].text == "建塘镇中心路口的路灯坏了三天，晚上很黑"
        events = bot.rows(TicketEventRow, TicketEventRow.ticket_id == tickets[0].id)
        assert [e.action for e in events] == ["received"]


async def test_type_changes_with_one_tap(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    citizen = fake_telegram.user(1002, language_code="en")
    async with running_bot(fake_telegram, database_url, hotline_config, clock) as bot:
        fake_telegram.push_text(citizen, "The road to the school is full of potholes")
        reply = await fake_telegram.wait_for_message(citizen.chat_id, contains="Ticket number")
        assert "Help request" in reply["text"]
        buttons = [b for row in reply["reply_markup"]["inline_keyboard"] for b in row]
        complaint = next(b for b in buttons if b["text"].endswith("Complaint"))
        fake_telegram.press_button(citizen, reply, complaint["callback_data"])
        answer = await fake_telegram.wait_for_call("answerCallbackQuery")
        assert "Complaint" in answer.params["text"]
        edited = await fake_telegram.wait_for_message(
            citizen.chat_id, predicate=lambda m: "Type: Complaint" in m.get("text", "")
        )
        assert edited["message_id"] == reply["message_id"]
        assert bot.tickets()[0].request_type.value == "complaint"


async def test_photos_location_and_contact_join_the_current_request(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    citizen = fake_telegram.user(1003)
    async with running_bot(fake_telegram, database_url, hotline_config, clock) as bot:
        # A photo before any request is kept, and the citizen is asked to describe it.
        fake_telegram.push_photo(citizen)
        held = await fake_telegram.wait_for_message(citizen.chat_id)
        assert "文字描述" in held["text"]
        assert bot.ticket_count() == 0

        fake_telegram.push_text(citizen, "桥边的护栏断了")
        await fake_telegram.wait_for_message(citizen.chat_id, contains="工单编号")
        fake_telegram.push_location(citizen, 27.83, 99.70)
        await fake_telegram.wait_for_message(citizen.chat_id, contains="位置已附加")
        fake_telegram.push_photo(citizen, caption="另一个角度")
        await fake_telegram.wait_for_message(citizen.chat_id, contains="已附加到工单")
        fake_telegram.push_contact(citizen, "13812345678", "王", user_id=citizen.id)
        saved = await fake_telegram.wait_for_message(citizen.chat_id, contains="138****5678")
        assert "13812345678" not in saved["text"]

        [ticket] = bot.tickets()
        assert (ticket.latitude, ticket.longitude) == (27.83, 99.70)
        items = bot.rows(TicketItemRow, TicketItemRow.ticket_id == ticket.id)
        assert sorted(i.kind.value for i in items) == ["contact", "location", "photo", "photo"]
        assert any(i.text == "另一个角度" for i in items)


async def test_my_and_status_show_only_ones_own_tickets(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    alice = fake_telegram.user(1004)
    bob = fake_telegram.user(1005)
    async with running_bot(fake_telegram, database_url, hotline_config, clock):
        fake_telegram.push_text(alice, "小区垃圾没人清运")
        alices = await fake_telegram.wait_for_message(alice.chat_id, contains="工单编号")
        alice_number = NUMBER.search(alices["text"]).group()  # type: ignore[union-attr]

        fake_telegram.push_text(alice, "/my")
        mine = await fake_telegram.wait_for_message(alice.chat_id)
        assert alice_number in mine["text"]
        assert "已受理" in mine["text"]

        fake_telegram.push_text(alice, f"/status {alice_number}")
        status = await fake_telegram.wait_for_message(alice.chat_id)
        assert "小区垃圾没人清运" in status["text"]

        fake_telegram.push_text(bob, f"/status {alice_number}")
        refused = await fake_telegram.wait_for_message(bob.chat_id)
        assert "没有找到" in refused["text"]
        assert "小区垃圾" not in refused["text"]

        fake_telegram.push_text(bob, "/my")
        assert "还没有工单" in (await fake_telegram.wait_for_message(bob.chat_id))["text"]


async def test_language_switch(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    citizen = fake_telegram.user(1006, language_code="zh-hans")
    async with running_bot(fake_telegram, database_url, hotline_config, clock):
        fake_telegram.push_text(citizen, "/lang")
        assert "English" in (await fake_telegram.wait_for_message(citizen.chat_id))["text"]
        fake_telegram.push_text(citizen, "/help")
        assert "Commands" in (await fake_telegram.wait_for_message(citizen.chat_id))["text"]
        fake_telegram.push_text(citizen, "/lang zh")
        assert "中文" in (await fake_telegram.wait_for_message(citizen.chat_id))["text"]


async def test_bad_input_gets_a_clear_answer_and_no_broken_ticket(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    citizen = fake_telegram.user(1007)
    async with running_bot(fake_telegram, database_url, hotline_config, clock) as bot:
        fake_telegram.push_text(citizen, "")
        assert "没有收到文字" in (await fake_telegram.wait_for_message(citizen.chat_id))["text"]
        fake_telegram.push_text(citizen, "   ")
        assert "没有收到文字" in (await fake_telegram.wait_for_message(citizen.chat_id))["text"]
        fake_telegram.push_sticker(citizen)
        assert "贴纸" in (await fake_telegram.wait_for_message(citizen.chat_id))["text"]
        fake_telegram.push_text(citizen, "长" * 5000)
        too_long = await fake_telegram.wait_for_message(citizen.chat_id)
        assert "5000" in too_long["text"]
        fake_telegram.push_text(citizen, "/frobnicate")
        assert "/frobnicate" in (await fake_telegram.wait_for_message(citizen.chat_id))["text"]
        # A forged button: refused politely, and logged.
        fake_telegram.push_text(citizen, "路面塌陷")
        confirmation = await fake_telegram.wait_for_message(citizen.chat_id, contains="工单编号")
        fake_telegram.press_button(citizen, confirmation, "type:1:report:forgedsig00", strict=False)
        refusal = await fake_telegram.wait_for_call("answerCallbackQuery")
        assert "失效" in refusal.params["text"]
        assert bot.ticket_count() == 1
        assert bot.tickets()[0].request_type.value == "help"
        refused = bot.rows(TicketEventRow, TicketEventRow.action == "refused")
        assert len(refused) == 1


async def test_fifty_citizens_at_once_get_fifty_distinct_numbers(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    citizens = [fake_telegram.user(2000 + i) for i in range(50)]
    async with running_bot(fake_telegram, database_url, hotline_config, clock) as bot:
        for i, citizen in enumerate(citizens):
            fake_telegram.push_text(citizen, f"第{i}号诉求：水管漏水")
        replies = await asyncio.gather(
            *(
                fake_telegram.wait_for_message(c.chat_id, contains="工单编号", timeout=20)
                for c in citizens
            )
        )
        numbers = [NUMBER.search(r["text"]).group() for r in replies]  # type: ignore[union-attr]
        assert len(set(numbers)) == 50
        assert sorted(numbers) == [f"20261127-{i:04d}" for i in range(1, 51)]
        assert bot.ticket_count() == 50


async def test_control_characters_in_a_request_or_a_name_lose_nothing(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    """PostgreSQL cannot store a NUL character in text; a message or a name carrying one (a
    buggy client, a bot API library) must still become a ticket, not an apology."""
    citizen = fake_telegram.user(1002, first_name="李\x00四", language_code="zh-hans")
    async with running_bot(fake_telegram, database_url, hotline_config, clock) as bot:
        fake_telegram.push_text(citizen, "村口\x00的路灯坏了\x00")
        reply = await fake_telegram.wait_for_message(citizen.chat_id, contains="工单编号")
        assert NUMBER.search(reply["text"]) is not None
        assert [t.text for t in bot.tickets()] == ["村口的路灯坏了"]
