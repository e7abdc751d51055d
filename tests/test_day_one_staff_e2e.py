"""Day one for the office and the departments (issue 21): what a dispatcher, staff in a group and
a supervisor meet first, end to end through the fake Bot API."""

from __future__ import annotations

from typing import Any

import pytest

from bot.fake_bot_api import FakeTelegramServer
from bot.runner import TransportName
from handlers.config import HotlineConfig
from scheduler.clock import FixedClock
from storage.models import AssignmentRow, ExtensionRow
from tests.harness import running_bot
from tests.world import (
    LABOUR_CHAT,
    OFFICE,
    ROADS_CHAT,
    World,
    button,
    buttons,
    dispatch_to,
    number_in,
    sign_and_answer,
)


def _is_card(card: dict[str, Any], *words: str) -> Any:
    """A predicate: the edited card ``card`` showing every one of ``words``."""
    return lambda m: m["message_id"] == card["message_id"] and all(w in m["text"] for w in words)


async def _signed(world: World, card: dict[str, Any]) -> dict[str, Any]:
    server = world.server
    server.press_button(world.roads, card, button(card, "签收"), chat_id=ROADS_CHAT)
    return await server.wait_for_message(ROADS_CHAT, predicate=_is_card(card, "办理中"))


async def test_dispatch_command_with_a_code_dispatches_and_re_dispatches_at_once(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        server.push_text(world.citizen, "工地老板拖欠我三个月工资")
        number = number_in(await server.wait_for_message(world.citizen.chat_id, "工单编号"))
        await server.wait_for_message(OFFICE, contains=number)

        server.push_text(world.supervisor, f"/dispatch {number} labour", chat_id=OFFICE)
        card = await server.wait_for_message(LABOUR_CHAT, contains=f"工单 {number}")
        assert "劳动保障服务中心" in card["text"]
        done = await server.wait_for_message(OFFICE, contains="已派至")
        assert number in done["text"]
        assert not [m for m in server.sent_messages(OFFICE) if "请选择承办单位" in m["text"]]

        # 改派 with a code: the new department gets the card, the old card loses its buttons.
        server.push_text(world.supervisor, f"/dispatch {number} roads", chat_id=OFFICE)
        await server.wait_for_message(ROADS_CHAT, contains=f"工单 {number}")
        moved = await server.wait_for_message(
            LABOUR_CHAT, predicate=lambda m: m["message_id"] == card["message_id"]
        )
        assert buttons(moved) == []
        assignments = bot.rows(AssignmentRow)
        assert [a.department_code for a in sorted(assignments, key=lambda a: a.id)] == [
            "labour",
            "roads",
        ]

        # An unknown code is named, and the picker offered instead.
        server.push_text(world.supervisor, f"/dispatch {number} nosuch", chat_id=OFFICE)
        said = await server.wait_for_message(OFFICE, contains="nosuch")
        assert "没有代码为 nosuch 的承办单位" in said["text"]
        picker = await server.wait_for_message(OFFICE, contains="请选择承办单位")
        assert "劳动保障服务中心" in {b["text"] for b in buttons(picker)}
        assert len(bot.rows(AssignmentRow)) == 2


@pytest.mark.parametrize("transport", [TransportName.AIOGRAM, TransportName.PTB])
async def test_prompts_in_a_group_open_the_reply_box_for_the_one_who_pressed(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
    transport: TransportName,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock, transport=transport):
        _, card = await dispatch_to(world, "桥梁栏杆松动需要加固", "村镇规划建设")
        signed = await _signed(world, card)
        server.press_button(world.roads, signed, button(signed, "延期"), chat_id=ROADS_CHAT)
        prompt = await server.wait_for_message(ROADS_CHAT, contains="延期工作日数")
        markup = server.reply_markup(ROADS_CHAT, prompt["message_id"])
        assert markup is not None
        assert markup["force_reply"] is True
        assert markup["selective"] is True
        # Nobody's message is replied to, so the one it is for is mentioned by name.
        assert prompt["text"].startswith("张工 ")
        [mention] = prompt["entities"]
        assert mention["type"] == "text_mention"
        assert (mention["offset"], mention["length"]) == (0, 2)
        assert mention["user"]["id"] == world.roads.id

        # Asked again after a bad answer: a reply to the staff member's own message.
        server.push_text(world.roads, "过几天", chat_id=ROADS_CHAT, reply_to=prompt)
        again = await server.wait_for_message(ROADS_CHAT, contains="格式")
        assert again["reply_to_message"]["from"]["id"] == world.roads.id
        again_markup = server.reply_markup(ROADS_CHAT, again["message_id"])
        assert again_markup is not None
        assert again_markup["selective"] is True


async def test_working_days_may_be_written_in_chinese_numerals(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        _, card = await dispatch_to(world, "桥梁栏杆松动需要加固", "村镇规划建设")
        signed = await _signed(world, card)
        server.press_button(world.roads, signed, button(signed, "延期"), chat_id=ROADS_CHAT)
        prompt = await server.wait_for_message(ROADS_CHAT, contains="延期工作日数")
        # 十一 is read as 11, over the limit (10 by default): the usage, asked again.
        server.push_text(world.roads, "十一天 太多了", chat_id=ROADS_CHAT, reply_to=prompt)
        usage = await server.wait_for_message(ROADS_CHAT, contains="格式")
        assert "五天 需协调施工队" in usage["text"]
        assert not bot.rows(ExtensionRow)
        server.push_text(world.roads, "五天 需协调施工队", chat_id=ROADS_CHAT, reply_to=usage)
        request = await server.wait_for_message(OFFICE, contains="延期申请")
        # 12-08 plus five working days: 12-09, 10, 11, 14, 15.
        assert "2026-12-15" in request["text"]
        [extension] = bot.rows(ExtensionRow)
        assert (extension.working_days, extension.reason) == (5, "需协调施工队")
        server.press_button(world.supervisor, request, button(request, "驳回"), chat_id=OFFICE)
        await server.wait_for_message(ROADS_CHAT, contains="未获批准")

        server.press_button(world.roads, signed, button(signed, "延期"), chat_id=ROADS_CHAT)
        prompt = await server.wait_for_message(ROADS_CHAT, contains="延期工作日数")
        server.push_text(world.roads, "两个工作日，等材料", chat_id=ROADS_CHAT, reply_to=prompt)
        await server.wait_for_message(OFFICE, contains="延期申请")
        assert sorted((e.working_days, e.reason) for e in bot.rows(ExtensionRow)) == [
            (2, "等材料"),
            (5, "需协调施工队"),
        ]


async def test_the_card_follows_a_change_of_request_type_after_dispatch(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock):
        server.push_text(world.citizen, "村口的路灯坏了一个星期")
        confirmation = await server.wait_for_message(world.citizen.chat_id, contains="工单编号")
        number = number_in(confirmation)
        queued = await server.wait_for_message(OFFICE, contains=number)
        server.press_button(world.supervisor, queued, button(queued, "村镇规划建设"), OFFICE)
        card = await server.wait_for_message(ROADS_CHAT, contains=f"工单 {number}")
        assert "类型：求助" in card["text"]

        server.press_button(world.citizen, confirmation, button(confirmation, "投诉"))
        edited = await server.wait_for_message(ROADS_CHAT, predicate=_is_card(card, "类型：投诉"))
        assert "类型：求助" not in edited["text"]
        assert {b["text"] for b in buttons(edited)} >= {"✅ 签收", "↩️ 退回"}


async def test_cards_say_how_a_ticket_ended_and_urgent_ones_show_the_hour(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock):
        number, card = await dispatch_to(world, "自来水管破裂，水漫到路上", "村镇规划建设")
        assert "剩余" in card["text"]

        # Urgent: the deadline is an hour (24 h from receipt), shown with its time.
        server.push_text(world.supervisor, f"/urgent {number}", chat_id=OFFICE)
        told = await server.wait_for_message(OFFICE, contains="紧急")
        assert "2026-11-28 10:00" in told["text"]
        urgent = await server.wait_for_message(ROADS_CHAT, predicate=_is_card(card, "紧急"))
        assert "办结时限：2026-11-28 10:00" in urgent["text"]
        citizen = await server.wait_for_message(world.citizen.chat_id, contains="紧急")
        assert "2026-11-28 10:00" in citizen["text"]

        await sign_and_answer(world, urgent, "已关阀抢修，恢复供水。")
        resolved = await server.wait_for_message(ROADS_CHAT, predicate=_is_card(card, "已办结"))
        assert "剩余" not in resolved["text"]
        assert "已按时办结" in resolved["text"]

        answer = await server.wait_for_message(world.citizen.chat_id, contains="恢复供水")
        server.press_button(world.citizen, answer, button(answer, "满意"))
        closed = await server.wait_for_message(ROADS_CHAT, predicate=_is_card(card, "已归档"))
        assert "剩余" not in closed["text"]
        assert "已按时办结" in closed["text"]


async def test_stats_name_the_period_once_and_leave_out_departments_without_activity(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock):
        # The roads department takes a ticket and returns it: 派单 1, 退单 1, 受理 0 there.
        _, card = await dispatch_to(world, "工地老板拖欠我三个月工资", "村镇规划建设")
        server.press_button(world.roads, card, button(card, "退回"), chat_id=ROADS_CHAT)
        prompt = await server.wait_for_message(ROADS_CHAT, contains="退回理由")
        server.push_text(world.roads, "不属于本单位", chat_id=ROADS_CHAT, reply_to=prompt)
        await server.wait_for_message(OFFICE, contains="退回")

        server.push_text(world.supervisor, "/stats 2026-11-01..2026-11-30", chat_id=OFFICE)
        table = (await server.wait_for_message(OFFICE, contains="12345"))["text"]
        assert table.count("2026-11-01") == 1
        lines = table.splitlines()
        assert not [line for line in lines if "劳动保障服务中心" in line]
        assert not [line for line in lines if "社会事务办" in line]
        assert "另有 2 个单位本时段无业务，未列出。" in table
        [roads] = [i for i, line in enumerate(lines) if "村镇规划建设" in line]
        assert "受理 0 · 派单 1" in lines[roads]
        assert "退单 100.0%" in lines[roads + 1]
        assert "按时 —" in lines[roads + 1]  # nothing resolved: no rate, not 0% or 100%

        server.push_text(world.supervisor, "/stats 2026-11", chat_id=OFFICE)
        month = (await server.wait_for_message(OFFICE, contains="12345"))["text"]
        assert "2026-11（2026-11-01 – 2026-11-30）" in month


async def test_english_requests_get_suggestions_and_the_office_always_three(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    first, second, third = server.user(21), server.user(22), server.user(23)
    departments = {"村镇规划建设服务中心", "社会事务办", "劳动保障服务中心"}
    async with running_bot(server, database_url, config, clock):
        # The department's English name is in the text.
        server.push_text(first, "Please ask the Social Affairs Office about my allowance")
        number = number_in(await server.wait_for_message(first.chat_id, contains="工单编号"))
        queued = await server.wait_for_message(OFFICE, contains=number)
        assert "系统建议（把握度" in queued["text"]
        assert "把握度 0%" not in queued["text"]
        offered = [b["text"] for b in buttons(queued)]
        assert offered[0] == "社会事务办"
        # Three departments to tap, as the README promises, then "other department…".
        assert set(offered[:3]) == departments
        assert "其他单位" in offered[3]

        # Nothing in the text points anywhere: said so, and three departments all the same.
        server.push_text(second, "My boss owes me three months of money for the building job")
        number = number_in(await server.wait_for_message(second.chat_id, contains="工单编号"))
        queued = await server.wait_for_message(OFFICE, contains=number)
        assert "系统无法从内容判断承办单位" in queued["text"]
        assert set(b["text"] for b in buttons(queued)[:3]) == departments
        server.press_button(world.supervisor, queued, button(queued, "劳动保障"), OFFICE)
        await server.wait_for_message(LABOUR_CHAT, contains=number)

        # The dispatcher's choice is history: the next such request is suggested by it.
        server.push_text(third, "The boss still owes me three months of money for the job")
        number = number_in(await server.wait_for_message(third.chat_id, contains="工单编号"))
        queued = await server.wait_for_message(OFFICE, contains=number)
        assert "系统建议（把握度" in queued["text"]
        assert buttons(queued)[0]["text"] == "劳动保障服务中心"
