"""答复预检 end to end through the real bot: an empty or template answer is stopped, 仍然发送 sends
it and is recorded and counted in 质检, a corrected answer passes, a number that is not the
department's is caught; and a tap on a card starts the answer with one given before."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from bot.fake_bot_api import FakeTelegramServer
from handlers.config import HotlineConfig
from handlers.knowledge import KnowledgeEntry
from handlers.model import TicketStatus
from scheduler.calendar import SHANGHAI
from scheduler.clock import FixedClock
from storage.database import Database
from storage.knowledge import save_entry
from storage.models import ResolutionRow, TicketEventRow, TicketRow
from tests.conftest import TEST_NOW
from tests.harness import running_bot
from tests.world import (
    OFFICE,
    ROADS_CHAT,
    TEST_DEPARTMENTS,
    World,
    button,
    buttons,
    dispatch_to,
    toast_of,
    world_config,
)

REQUEST = "幸福村三组的路灯坏了好几天，晚上出门很不方便，老人走路容易摔倒"
TEMPLATE = "您好，您反映的问题已收悉，我们会尽快处理，感谢您的关注！"
GOOD = "三组的两盏路灯已更换灯泡，今晚起恢复照明。"
OWN_PHONE = "0887-8221234"


@pytest.fixture
def config() -> HotlineConfig:
    """The roads department gives out one number: any other in an answer is flagged."""
    departments = [
        {**d, "phones": [OWN_PHONE]} if d["code"] == "roads" else d for d in TEST_DEPARTMENTS
    ]
    return world_config(departments=departments)


def _events(bot: Any, action: str) -> list[TicketEventRow]:
    return list(bot.rows(TicketEventRow, TicketEventRow.action == action))


async def _signed_and_asked(world: World, text: str = REQUEST) -> tuple[str, dict[str, Any]]:
    """A ticket of the roads department, signed for, 办结 pressed: its number and the prompt."""
    server = world.server
    number, card = await dispatch_to(world, text, "村镇规划建设")
    server.press_button(world.roads, card, button(card, "签收"), chat_id=ROADS_CHAT)
    signed = await server.wait_for_message(
        ROADS_CHAT,
        predicate=lambda m: m["message_id"] == card["message_id"] and "办理中" in m["text"],
    )
    server.press_button(world.roads, signed, button(signed, "办结"), chat_id=ROADS_CHAT)
    return number, await server.wait_for_message(ROADS_CHAT, contains="答复内容")


async def test_an_empty_then_template_answer_is_stopped_and_sent_anyway_and_counted_in_qa(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        number, prompt = await _signed_and_asked(world)

        # An answer without words: stopped, and no way to send it anyway.
        server.push_text(world.roads, "。。", chat_id=ROADS_CHAT, reply_to=prompt)
        empty = await server.wait_for_message(ROADS_CHAT, contains="答复没有文字内容")
        assert buttons(empty) == []
        assert (server.reply_markup(ROADS_CHAT, empty["message_id"]) or {})["force_reply"]

        # A reply to the warning is the corrected answer, checked again: only set phrases.
        server.push_text(world.roads, TEMPLATE, chat_id=ROADS_CHAT, reply_to=empty)
        flagged = await server.wait_for_message(ROADS_CHAT, contains="可能答非所问")
        assert "只有套话" in flagged["text"]
        assert "没有共同的关键词" in flagged["text"]
        assert {b["text"] for b in buttons(flagged)} == {"仍然发送", "修改答复"}
        assert not [m for m in server.sent_messages(world.citizen.chat_id) if "已办结" in m["text"]]
        [ticket] = bot.rows(TicketRow)
        assert ticket.status is TicketStatus.IN_PROGRESS
        assert [(e.data or {}).get("flags") for e in _events(bot, "answer_flagged")] == [
            ["empty"],
            ["no_shared_term", "template_only"],
        ]

        # Staff of another department may not send it.
        refused = server.press_button(
            world.labour, flagged, button(flagged, "仍然发送"), chat_id=ROADS_CHAT
        )
        assert await toast_of(server, refused)
        assert _events(bot, "answer_sent_anyway") == []

        pressed = server.press_button(
            world.roads, flagged, button(flagged, "仍然发送"), chat_id=ROADS_CHAT
        )
        answer = await server.wait_for_message(world.citizen.chat_id, contains="已收悉")
        assert TEMPLATE in answer["text"]
        assert number in await toast_of(server, pressed)
        await server.wait_for_message(
            ROADS_CHAT,
            predicate=lambda m: m["message_id"] == flagged["message_id"] and "选择" in m["text"],
        )
        [anyway] = _events(bot, "answer_sent_anyway")
        assert anyway.data == {"flags": ["no_shared_term", "template_only"]}
        assert anyway.actor_id == world.roads.id
        # The warning lost its buttons; a press from a client that still shows them sends
        # nothing more.
        assert buttons(server.message(ROADS_CHAT, flagged["message_id"]) or {}) == []
        again = server.press_button(
            world.roads, flagged, button(flagged, "仍然发送"), chat_id=ROADS_CHAT, strict=False
        )
        assert "已处理过" in await toast_of(server, again)
        assert len(bot.rows(ResolutionRow)) == 1

        # 质检 on Monday: the warnings of Friday's answers, and the one sent anyway marked.
        clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI))
        assert (await bot.sweep()).quality_sampled == 1
        header = await server.wait_for_message(OFFICE, contains="质检抽样")
        assert "答复预检（2026-11-27）：提示 2 次，仍然发送 1 件，修改后发送 0 件" in header["text"]
        item = await server.wait_for_message(OFFICE, contains=f"质检：工单 {number}")
        assert "答复预检提示后仍然发送：无共同关键词、只有套话" in item["text"]


async def test_a_corrected_answer_passes_and_the_correction_is_recorded(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        _, prompt = await _signed_and_asked(world)
        server.push_text(world.roads, "已处理", chat_id=ROADS_CHAT, reply_to=prompt)
        flagged = await server.wait_for_message(ROADS_CHAT, contains="可能答非所问")
        assert "过短" in flagged["text"]

        server.press_button(world.roads, flagged, button(flagged, "修改答复"), chat_id=ROADS_CHAT)
        edit = await server.wait_for_message(ROADS_CHAT, contains="修改后的答复。原答复")
        assert (server.reply_markup(ROADS_CHAT, edit["message_id"]) or {})["force_reply"]
        server.push_text(world.roads, GOOD, chat_id=ROADS_CHAT, reply_to=edit)
        answer = await server.wait_for_message(world.citizen.chat_id, contains="已办结")
        assert GOOD in answer["text"]
        [edited] = _events(bot, "answer_edited")
        assert edited.data == {"flags": ["too_short", "no_shared_term", "template_only"]}
        assert _events(bot, "answer_sent_anyway") == []
        [resolution] = bot.rows(ResolutionRow)
        assert resolution.answer == GOOD
        # The held answer is settled: 仍然发送 now sends nothing.
        late = server.press_button(
            world.roads, flagged, button(flagged, "仍然发送"), chat_id=ROADS_CHAT
        )
        assert "已处理过" in await toast_of(server, late)
        assert len(bot.rows(ResolutionRow)) == 1


async def test_a_number_not_the_departments_is_caught_and_its_own_passes(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        _, prompt = await _signed_and_asked(world)
        with_mobile = GOOD + "如仍不亮请联系电工13812345678。"
        server.push_text(world.roads, with_mobile, chat_id=ROADS_CHAT, reply_to=prompt)
        flagged = await server.wait_for_message(ROADS_CHAT, contains="可能答非所问")
        assert "138****5678" in flagged["text"]
        assert "不是本单位的电话" in flagged["text"]

        server.push_text(
            world.roads, GOOD + f"如仍不亮请拨打{OWN_PHONE}。", chat_id=ROADS_CHAT, reply_to=flagged
        )
        answer = await server.wait_for_message(world.citizen.chat_id, contains="已办结")
        assert OWN_PHONE in answer["text"]
        assert [(e.data or {}).get("flags") for e in _events(bot, "answer_edited")] == [
            ["foreign_number"]
        ]


STREETLIGHT = KnowledgeEntry(
    id="streetlight",
    question="路灯坏了找谁修",
    alternatives=("村里路灯不亮了怎么报修",),
    answer="村内路灯由村镇规划建设服务中心维修，报修后3个工作日内修复。",
    department="roads",
    valid_until=date(2026, 11, 27),  # the policy ends today
)


async def test_a_tap_on_the_card_starts_the_answer_with_a_past_answer(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    neighbour = server.user(2, first_name="钱大姐")
    db = Database(database_url)
    with db.transaction() as session:
        save_entry(session, STREETLIGHT, now=TEST_NOW, via="test")
    db.dispose()
    async with running_bot(server, database_url, config, clock) as bot:
        first, prompt = await _signed_and_asked(world)
        server.push_text(world.roads, GOOD, chat_id=ROADS_CHAT, reply_to=prompt)
        await server.wait_for_message(world.citizen.chat_id, contains=GOOD)

        second, card = await dispatch_to(
            world, "幸福村三组路口的路灯也坏了，请派人修一下", "村镇规划建设", neighbour
        )
        assert "签收" in str(card["reply_markup"])
        assert "📋" not in str(card["reply_markup"])  # not before it is signed for
        server.press_button(world.roads, card, button(card, "签收"), chat_id=ROADS_CHAT)
        signed = await server.wait_for_message(
            ROADS_CHAT,
            predicate=lambda m: m["message_id"] == card["message_id"] and "办理中" in m["text"],
        )
        labels = [b["text"] for b in buttons(signed)]
        assert f"📋 {STREETLIGHT.id}" in labels
        assert f"📋 {first}" in labels
        assert f"📋 {second}" not in labels  # not its own

        # Past its valid-until date the entry is never used, not even as a draft.
        clock.set(datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI))
        gone = server.press_button(
            world.roads, signed, button(signed, f"📋 {STREETLIGHT.id}"), chat_id=ROADS_CHAT
        )
        assert "已不可用" in await toast_of(server, gone)

        # Another department's staff may not start this ticket's answer.
        refused = server.press_button(
            world.labour, signed, button(signed, f"📋 {first}"), chat_id=ROADS_CHAT
        )
        assert await toast_of(server, refused)

        server.press_button(world.roads, signed, button(signed, f"📋 {first}"), chat_id=ROADS_CHAT)
        draft = await server.wait_for_message(ROADS_CHAT, contains=f"引自 {first}")
        assert GOOD in draft["text"]
        assert (server.reply_markup(ROADS_CHAT, draft["message_id"]) or {})["force_reply"]
        server.push_text(
            world.roads, "+ 路口那盏也已一并检修。", chat_id=ROADS_CHAT, reply_to=draft
        )
        answer = await server.wait_for_message(neighbour.chat_id, contains="已办结")
        assert f"{GOOD}\n路口那盏也已一并检修。" in answer["text"]
        [drafted] = _events(bot, "answer_draft")
        assert drafted.data == {"from": first, "kind": "a"}
