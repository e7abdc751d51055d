"""知识库 in Telegram end to end: a resolved ticket's answer added by one tap (加入知识库), its
question edited by a reply, and then used to answer the next citizen directly; ``/kb`` search,
and ``/kb_add`` / ``/kb_edit`` / ``/kb_off`` with the department's ownership."""

from __future__ import annotations

from sqlalchemy import select

from bot.fake_bot_api import FakeTelegramServer
from handlers.config import HotlineConfig
from scheduler.clock import FixedClock
from storage.database import Database
from storage.knowledge import history
from storage.models import KbOfferRow, KnowledgeEntryRow, StaffRow
from tests.harness import running_bot
from tests.world import LABOUR_CHAT, OFFICE, ROADS_CHAT, World, button, dispatch_to, sign_and_answer

FIRST_ASKED = "请问村里的垃圾清运车每周几来？"
ANSWER = "幸福村的垃圾清运车每周二、周五上午来，请在8点前把垃圾放到收集点。"


def _history(database_url: str, key: str) -> list[tuple[str, str, int | None]]:
    db = Database(database_url)
    try:
        with db.read() as session:
            staff = dict(session.execute(select(StaffRow.id, StaffRow.telegram_user_id)).all())
            return [
                (v.change, v.entry.question, staff.get(v.changed_by or 0))
                for v in history(session, key)
            ]
    finally:
        db.dispose()


async def test_a_resolved_answer_added_by_a_tap_answers_the_next_citizen(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    neighbour = server.user(2, first_name="钱大姐")
    async with running_bot(server, database_url, config, clock) as bot:
        number, card = await dispatch_to(world, FIRST_ASKED, "村镇规划建设")
        await sign_and_answer(world, card, ANSWER)
        resolved = await server.wait_for_message(
            ROADS_CHAT,
            predicate=lambda m: m["message_id"] == card["message_id"] and "已办结" in m["text"],
        )
        # Staff of another department may not take it.
        refused = server.press_button(
            world.labour, resolved, button(resolved, "加入知识库"), chat_id=ROADS_CHAT
        )
        await server.wait_for_call(
            "answerCallbackQuery",
            lambda c: c.params.get("callback_query_id") == refused.update["callback_query"]["id"],
        )
        assert bot.rows(KnowledgeEntryRow) == []

        server.press_button(
            world.roads, resolved, button(resolved, "加入知识库"), chat_id=ROADS_CHAT
        )
        added = await server.wait_for_message(ROADS_CHAT, contains="已加入知识库")
        key = f"t{number}"
        assert key in added["text"]
        server.push_text(world.roads, "垃圾清运车每周几来", chat_id=ROADS_CHAT, reply_to=added)
        await server.wait_for_message(ROADS_CHAT, contains="问题已改为")
        [entry] = bot.rows(KnowledgeEntryRow)
        assert entry.question == "垃圾清运车每周几来"
        assert FIRST_ASKED in entry.alternatives  # how the first citizen asked it
        assert entry.answer == ANSWER
        assert entry.department_code == "roads"
        assert entry.source_ticket_id is not None
        assert _history(database_url, key) == [
            ("created", FIRST_ASKED, world.roads.id),
            ("updated", "垃圾清运车每周几来", world.roads.id),
        ]

        # The next citizen asking gets the answer at once.
        server.push_text(neighbour, "垃圾清运车每周几来？")
        direct = await server.wait_for_message(neighbour.chat_id, contains="💡")
        assert ANSWER in direct["text"]
        assert "村镇规划建设服务中心" in direct["text"]
        [offer] = bot.rows(KbOfferRow)
        assert offer.entry_key == key


async def test_kb_commands_search_add_edit_and_turn_off_within_ownership(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        server.push_text(
            world.labour,
            "/kb_add 失业保险金怎么申领 | 带身份证和社保卡到镇劳动保障服务中心登记申领。",
            chat_id=LABOUR_CHAT,
        )
        saved = await server.wait_for_message(LABOUR_CHAT, contains="已保存")
        [entry] = bot.rows(KnowledgeEntryRow)
        assert entry.key in saved["text"]
        assert entry.department_code == "labour"

        server.push_text(world.roads, "/kb 失业保险金", chat_id=ROADS_CHAT)
        found = await server.wait_for_message(ROADS_CHAT, contains=entry.key)
        assert "带身份证和社保卡" in found["text"]

        # Roads staff do not own a labour entry; the supervisor owns them all.
        server.push_text(world.roads, f"/kb_off {entry.key}", chat_id=ROADS_CHAT)
        await server.wait_for_message(ROADS_CHAT, contains="只有本单位")
        server.push_text(
            world.labour,
            f"/kb_edit {entry.key} 带身份证到镇劳动保障服务中心申领。",
            chat_id=LABOUR_CHAT,
        )
        await server.wait_for_message(LABOUR_CHAT, contains="已保存")
        server.push_text(world.citizen, "失业保险金怎么申领？")
        direct = await server.wait_for_message(world.citizen.chat_id, contains="💡")
        assert "带身份证到镇劳动保障服务中心申领" in direct["text"]

        server.push_text(world.supervisor, f"/kb_off {entry.key}", chat_id=OFFICE)
        await server.wait_for_message(OFFICE, contains="已停用")
        [entry] = bot.rows(KnowledgeEntryRow)
        assert entry.active is False
        server.press_button(world.citizen, direct, button(direct, "已解决"))
        await server.wait_for_message(world.citizen.chat_id, contains="记录编号")
        other = server.user(3, first_name="孙师傅")
        server.push_text(other, "失业保险金怎么申领？")
        await server.wait_for_message(other.chat_id, contains="工单编号")  # no entry in use

        server.push_text(world.roads, "/kb_add 只有问题", chat_id=ROADS_CHAT)
        await server.wait_for_message(ROADS_CHAT, contains="用法：/kb_add")


async def test_a_new_request_card_shows_the_answers_to_similar_resolved_requests(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    neighbour = server.user(2, first_name="钱大姐")
    async with running_bot(server, database_url, config, clock):
        first, card = await dispatch_to(
            world, "幸福村三组的路灯坏了，晚上出门很不方便", "村镇规划建设"
        )
        assert "相似诉求的答复" not in card["text"]  # nothing was answered yet
        await sign_and_answer(world, card, "路灯已更换，恢复照明。")
        await server.wait_for_message(world.citizen.chat_id, contains="路灯已更换")

        second, card = await dispatch_to(
            world, "幸福村三组路口的路灯坏了好几天了，请尽快修", "村镇规划建设", neighbour
        )
        similar = card["text"].split("相似诉求的答复")[1]
        assert first in similar
        assert "路灯已更换" in similar
        assert second not in similar
