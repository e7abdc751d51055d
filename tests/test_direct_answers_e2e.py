"""直接答复 end to end: a consultation answered at once from the knowledge base, and what the
citizen makes of it (已解决, 仍需人工办理, writing again, silence), through the real bot."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from bot.fake_bot_api import FakeTelegramServer
from handlers.config import HotlineConfig
from handlers.knowledge import KnowledgeBase, KnowledgeEntry
from handlers.model import RequestType, TicketStatus
from scheduler.clock import FixedClock
from storage.database import Database
from storage.knowledge import save_entry
from storage.models import KbOfferRow, TicketEventRow, TicketRow
from tests.conftest import TEST_NOW
from tests.harness import running_bot
from tests.world import (
    LABOUR_CHAT,
    OFFICE,
    ROADS_CHAT,
    World,
    button,
    buttons,
    number_in,
    pick_department,
    toast_of,
)

MEDICAL = KnowledgeEntry(
    id="medical-insurance-payment",
    question="城乡居民医保什么时候缴费",
    alternatives=("农村医保每年几月份交", "新农合在什么时间缴费"),
    answer="城乡居民基本医疗保险每年集中缴费期为9月1日至12月31日。",
    department="labour",
)
SUBSIDY = KnowledgeEntry(
    id="farmland-subsidy",
    question="耕地地力保护补贴发放标准是多少",
    alternatives=("种粮补贴每亩多少钱", "耕地补贴什么时候发"),
    answer="耕地地力保护补贴每年5月前后按承包地面积发放，打入一卡通。",
    department="welfare",
)
# Out of force since the end of June: the policy changed.
EXPIRED = KnowledgeEntry(
    id="hukou-move",
    question="户口迁移需要什么材料",
    alternatives=("迁户口要带什么",),
    answer="办理户口迁移需带本人身份证、户口簿和迁入地证明。",
    valid_until=date(2026, 6, 30),
)
QUESTION = "请问农村医保每年几月份交？"


def _seed(database_url: str, *entries: KnowledgeEntry) -> None:
    db = Database(database_url)
    with db.transaction() as session:
        for entry in entries:
            save_entry(session, entry, now=TEST_NOW, via="test")
    db.dispose()


@pytest.fixture
def knowledge(world: World, database_url: str) -> None:
    _seed(database_url, MEDICAL, SUBSIDY, EXPIRED)


async def _direct_answer(server: FakeTelegramServer, world: World) -> dict[str, Any]:
    server.push_text(world.citizen, QUESTION)
    return await server.wait_for_message(world.citizen.chat_id, contains="💡")


async def _edited(server: FakeTelegramServer, message: dict[str, Any], note: str) -> dict[str, Any]:
    return await server.wait_for_message(
        message["chat"]["id"],
        predicate=lambda m: m["message_id"] == message["message_id"] and note in m["text"],
    )


@pytest.mark.usefixtures("knowledge")
async def test_a_consultation_answered_directly_and_solved_is_a_closed_consultation(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        answer = await _direct_answer(server, world)
        assert MEDICAL.answer in answer["text"]
        assert "劳动保障服务中心" in answer["text"]  # the department that owns the answer
        assert [b["text"] for b in buttons(answer)] == ["已解决", "仍需人工办理"]
        assert bot.ticket_count() == 0  # an answer, not a work order

        pressed = server.press_button(world.citizen, answer, button(answer, "已解决"))
        toast = await toast_of(server, pressed)
        settled = await _edited(server, answer, "已解决")
        assert buttons(settled) == []
        [ticket] = bot.tickets()
        assert ticket.number in toast
        assert ticket.request_type is RequestType.CONSULTATION
        assert ticket.status is TicketStatus.CLOSED
        assert ticket.department_code is None  # no department's work order
        assert ticket.text == QUESTION
        [offer] = bot.rows(KbOfferRow)
        assert (offer.outcome, offer.ticket_id) == ("resolved", ticket.id)
        assert offer.entry_key == MEDICAL.id
        events = bot.rows(TicketEventRow, TicketEventRow.ticket_id == ticket.id)
        assert "direct_answer" in {e.action for e in events}

        # Numbered and findable like any ticket; a second tap changes nothing.
        server.push_text(world.citizen, f"/status {ticket.number}")
        await server.wait_for_message(world.citizen.chat_id, contains="已归档")
        again = server.press_button(world.citizen, answer, button(answer, "已解决"), strict=False)
        assert "已经处理过" in await toast_of(server, again)
        assert bot.ticket_count() == 1
        # Nothing reached the office or a department.
        assert not [m for m in server.sent_messages(OFFICE) if QUESTION in (m.get("text") or "")]


@pytest.mark.usefixtures("knowledge")
async def test_still_need_a_person_makes_a_ticket_whose_card_shows_the_answer_given(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        answer = await _direct_answer(server, world)
        server.press_button(world.citizen, answer, button(answer, "仍需人工办理"))
        confirmation = await server.wait_for_message(world.citizen.chat_id, contains="工单编号")
        number = number_in(confirmation)
        await _edited(server, answer, number)

        queued = await server.wait_for_message(OFFICE, contains=number)
        assert MEDICAL.answer in queued["text"]  # the office sees what was answered too
        await pick_department(world, queued, "劳动保障")
        card = await server.wait_for_message(LABOUR_CHAT, contains=f"工单 {number}")
        assert QUESTION in card["text"]
        assert "已直接答复" in card["text"]
        assert MEDICAL.answer in card["text"]

        [ticket] = bot.tickets()
        assert ticket.status is not TicketStatus.CLOSED
        [offer] = bot.rows(KbOfferRow)
        assert (offer.outcome, offer.ticket_id) == ("human", ticket.id)


@pytest.mark.usefixtures("knowledge")
async def test_writing_again_after_a_direct_answer_hands_it_to_a_person(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        answer = await _direct_answer(server, world)
        clock.advance(timedelta(minutes=5))
        more = "我人在外地打工，年底才能回来，到时候还能补交吗"
        server.push_text(world.citizen, more)
        confirmation = await server.wait_for_message(world.citizen.chat_id, contains="工单编号")
        number = number_in(confirmation)
        await _edited(server, answer, number)
        [ticket] = bot.tickets()
        assert QUESTION in ticket.text
        assert more in ticket.text
        [offer] = bot.rows(KbOfferRow)
        assert (offer.outcome, offer.ticket_id) == ("follow_up", ticket.id)
        queued = await server.wait_for_message(OFFICE, contains=number)
        await pick_department(world, queued, "劳动保障")
        card = await server.wait_for_message(LABOUR_CHAT, contains=f"工单 {number}")
        assert more in card["text"]
        assert MEDICAL.answer in card["text"]


@pytest.mark.usefixtures("knowledge")
async def test_a_direct_answer_left_unanswered_for_30_minutes_counts_as_answered(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        answer = await _direct_answer(server, world)
        clock.advance(timedelta(minutes=29))
        assert (await bot.sweep()).direct_answers_settled == 0
        assert bot.ticket_count() == 0
        clock.advance(timedelta(minutes=2))
        assert (await bot.sweep()).direct_answers_settled == 1
        settled = await _edited(server, answer, "30 分钟内未回复")
        assert buttons(settled) == []
        [ticket] = bot.tickets()
        assert ticket.status is TicketStatus.CLOSED
        assert ticket.number in settled["text"]
        [offer] = bot.rows(KbOfferRow)
        assert (offer.outcome, offer.ticket_id) == ("timeout", ticket.id)
        # A tap after that is answered, and changes nothing.
        late = server.press_button(
            world.citizen, answer, button(answer, "仍需人工办理"), strict=False
        )
        assert "已经处理过" in await toast_of(server, late)
        assert bot.ticket_count() == 1


@pytest.mark.usefixtures("knowledge")
async def test_a_request_to_act_with_the_entrys_words_becomes_a_ticket(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    request = "我的耕地补贴一直没到账，请帮忙查一下"
    async with running_bot(server, database_url, config, clock) as bot:
        server.push_text(world.citizen, "耕地补贴什么时候发？")  # the same words, asked
        answer = await server.wait_for_message(world.citizen.chat_id, contains="💡")
        assert SUBSIDY.answer in answer["text"]
        server.press_button(world.citizen, answer, button(answer, "已解决"))
        await _edited(server, answer, "已解决")

        server.push_text(world.citizen, request)
        confirmation = await server.wait_for_message(world.citizen.chat_id, contains="工单编号")
        ticket = next(t for t in bot.tickets() if t.number == number_in(confirmation))
        assert ticket.text == request
        assert ticket.status is not TicketStatus.CLOSED
        assert len(bot.rows(KbOfferRow)) == 1  # only the question was answered
        answers = [m for m in server.sent_messages(world.citizen.chat_id) if "💡" in m["text"]]
        assert len(answers) == 1


@pytest.mark.usefixtures("knowledge")
async def test_an_expired_entry_is_never_used(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    question = "迁户口要带什么材料？"
    # In force, the entry would answer this question directly: only its date stops it.
    in_force = KnowledgeBase([replace(EXPIRED, valid_until=None)])
    assert in_force.decide(question, clock.now()).answer_directly
    async with running_bot(server, database_url, config, clock) as bot:
        server.push_text(world.citizen, question)
        await server.wait_for_message(world.citizen.chat_id, contains="工单编号")
        [ticket] = bot.rows(TicketRow)
        assert ticket.text == question
        assert bot.rows(KbOfferRow) == []
        assert not [m for m in server.sent_messages(world.citizen.chat_id) if "💡" in m["text"]]


@pytest.mark.usefixtures("knowledge")
async def test_a_ticket_card_shows_the_most_similar_entries(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    request = "我去年交了农村医保，看病时却说没有参保，请帮忙查一下"
    async with running_bot(server, database_url, config, clock):
        server.push_text(world.citizen, request)
        number = number_in(
            await server.wait_for_message(world.citizen.chat_id, contains="工单编号")
        )
        queued = await server.wait_for_message(OFFICE, contains=number)
        await pick_department(world, queued, "劳动保障")
        card = await server.wait_for_message(LABOUR_CHAT, contains=f"工单 {number}")
        similar = card["text"].split("相似知识库条目")[1]
        assert MEDICAL.id in similar
        assert SUBSIDY.id not in similar  # shares almost nothing with the request
        assert EXPIRED.id not in similar


@pytest.mark.usefixtures("knowledge")
async def test_kb_stats_counts_direct_answers_and_handovers(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    second, third = server.user(2, first_name="钱大姐"), server.user(3, first_name="孙师傅")
    async with running_bot(server, database_url, config, clock):
        answer = await _direct_answer(server, world)
        server.press_button(world.citizen, answer, button(answer, "已解决"))
        await _edited(server, answer, "已解决")
        server.push_text(second, "耕地补贴什么时候发？")
        answer = await server.wait_for_message(second.chat_id, contains="💡")
        server.press_button(second, answer, button(answer, "仍需人工办理"))
        await server.wait_for_message(second.chat_id, contains="工单编号")
        server.push_text(third, "幸福村三组的路灯坏了，晚上出门很不方便")
        await server.wait_for_message(third.chat_id, contains="工单编号")

        server.push_text(world.supervisor, "/kb_stats today", chat_id=OFFICE)
        figures = await server.wait_for_message(OFFICE, contains="直接答复率")
        # Three contacts: one answered on the spot, one handed over, one ordinary ticket.
        assert "直接答复率 33.3%（1/3 个诉求）" in figures["text"]
        assert "直接答复后转人工率 50.0%（1 个）" in figures["text"]
        assert f"{MEDICAL.id}: 1 / 0" in figures["text"]
        assert f"{SUBSIDY.id}: 0 / 1" in figures["text"]
        assert EXPIRED.id not in figures["text"]  # out of force: not "never used"

        server.push_text(world.roads, "/kb_stats today", chat_id=ROADS_CHAT)
        await server.wait_for_message(ROADS_CHAT, contains="热线办")  # supervisors only
