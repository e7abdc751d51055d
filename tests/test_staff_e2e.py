"""Staff work their tickets inside Telegram, end to end through the fake Bot API."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.fake_bot_api import FakeTelegramServer
from handlers.config import HotlineConfig
from scheduler.clock import FixedClock
from storage.models import (
    AssignmentRow,
    ExtensionRow,
    ResolutionRow,
    StaffRow,
    SurveyRow,
    TicketEventRow,
    TicketItemRow,
)
from tests.harness import running_bot
from tests.world import (
    LABOUR_CHAT,
    OFFICE,
    ROADS_CHAT,
    World,
    button,
    buttons,
    dispatch_to,
    sign_and_answer,
)


async def test_dispatch_sign_talk_resolve_and_rate(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        number, card = await dispatch_to(world, "村口的路灯坏了一个星期", "村镇规划建设")
        moved = await server.wait_for_message(world.citizen.chat_id, contains="已转至")
        assert "村镇规划建设服务中心" in moved["text"]
        assert "待签收" in card["text"]
        assert "2026-12-08" in card["text"]
        assert {b["text"] for b in buttons(card)} >= {"✅ 签收", "↩️ 退回"}

        # 签收: the card changes in place, the citizen hears of it.
        server.press_button(world.roads, card, button(card, "签收"), chat_id=ROADS_CHAT)
        signed = await server.wait_for_message(
            ROADS_CHAT,
            predicate=lambda m: m["message_id"] == card["message_id"] and "办理中" in m["text"],
        )
        assert "张工" in signed["text"]
        assert "签收" not in {b["text"] for b in buttons(signed)}
        assert (
            "签收办理"
            in (await server.wait_for_message(world.citizen.chat_id, contains="签收"))["text"]
        )

        # Staff reply to the card: the citizen gets it from the department, not from 张工.
        server.push_text(
            world.roads, "您好，我们明天上午去现场查看。", chat_id=ROADS_CHAT, reply_to=signed
        )
        relayed = await server.wait_for_message(world.citizen.chat_id, contains="明天上午")
        assert "村镇规划建设服务中心" in relayed["text"]
        assert "张工" not in relayed["text"]

        # The citizen answers that message with words and a photo: both reach the card's chat.
        server.push_text(world.citizen, "好的，路灯在小卖部门口", reply_to=relayed)
        follow_up = await server.wait_for_message(ROADS_CHAT, contains="小卖部门口")
        assert number in follow_up["text"]
        assert follow_up["reply_to_message"]["message_id"] == card["message_id"]
        server.push_photo(world.citizen, caption="这盏灯", reply_to=relayed)
        photo = await server.wait_for_message(ROADS_CHAT, predicate=lambda m: "photo" in m)
        assert "这盏灯" in photo["caption"]

        # 办结: asked as a reply (privacy mode), the answer goes to the citizen with the survey.
        server.press_button(world.roads, signed, button(signed, "办结"), chat_id=ROADS_CHAT)
        prompt = await server.wait_for_message(ROADS_CHAT, contains="答复内容")
        markup = server.reply_markup(ROADS_CHAT, prompt["message_id"])
        assert markup is not None
        assert markup["force_reply"] is True
        server.push_text(world.roads, "路灯已更换，恢复照明。", chat_id=ROADS_CHAT, reply_to=prompt)
        answer = await server.wait_for_message(world.citizen.chat_id, contains="路灯已更换")
        assert {b["text"] for b in buttons(answer)} == {
            "已解决",
            "未解决",
            "满意",
            "基本满意",
            "不满意",
        }
        closed_card = await server.wait_for_message(
            ROADS_CHAT,
            predicate=lambda m: m["message_id"] == card["message_id"] and "已办结" in m["text"],
        )
        # No move is left; the answer may go to the knowledge base.
        assert [b["text"] for b in buttons(closed_card)] == ["加入知识库"]

        # 满意 closes it; a second press is answered "already recorded".
        rate = button(answer, "基本满意")
        server.press_button(world.citizen, answer, rate)
        await server.wait_for_message(world.citizen.chat_id, contains="感谢您的评价")
        server.press_button(world.citizen, answer, rate, strict=False)
        again = await server.wait_for_call(
            "answerCallbackQuery", lambda c: "已评价" in c.params.get("text", "")
        )
        assert again.params["show_alert"] in (True, "true")

        [ticket] = bot.tickets()
        assert ticket.status.value == "closed"
        actions = [
            e.action for e in bot.rows(TicketEventRow, TicketEventRow.ticket_id == ticket.id)
        ]
        assert actions[:3] == ["received", "dispatched", "signed"]
        assert "staff_message" in actions
        assert actions[-2:] == ["resolved", "closed"]
        [resolution] = bot.rows(ResolutionRow)
        assert resolution.on_time is True
        assert resolution.answer == "路灯已更换，恢复照明。"
        [survey] = bot.rows(SurveyRow)
        assert survey.rating.value == "basic"
        items = bot.rows(TicketItemRow, TicketItemRow.ticket_id == ticket.id)
        assert {(i.author.value, i.kind.value) for i in items} == {
            ("staff", "text"),
            ("citizen", "text"),
            ("citizen", "photo"),
        }


async def test_return_goes_to_the_office_and_the_new_department_gets_the_card(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        number, card = await dispatch_to(world, "工地老板拖欠我三个月工资", "村镇规划建设")
        server.press_button(world.roads, card, button(card, "退回"), chat_id=ROADS_CHAT)
        prompt = await server.wait_for_message(ROADS_CHAT, contains="退回理由")
        server.push_text(
            world.roads, "欠薪不属于本单位职责，建议转劳动保障", chat_id=ROADS_CHAT, reply_to=prompt
        )
        returned = await server.wait_for_message(OFFICE, contains="退回")
        assert "欠薪不属于本单位职责" in returned["text"]
        old_card = await server.wait_for_message(
            ROADS_CHAT,
            predicate=lambda m: m["message_id"] == card["message_id"] and "不在本单位" in m["text"],
        )
        assert buttons(old_card) == []

        server.press_button(
            world.supervisor, returned, button(returned, "其他单位"), chat_id=OFFICE
        )
        picker = await server.wait_for_message(OFFICE, contains="请选择承办单位")
        server.press_button(world.supervisor, picker, button(picker, "劳动保障"), chat_id=OFFICE)
        new_card = await server.wait_for_message(LABOUR_CHAT, contains=f"工单 {number}")
        assert "待签收" in new_card["text"]
        server.press_button(world.labour, new_card, button(new_card, "签收"), chat_id=LABOUR_CHAT)
        await server.wait_for_message(
            LABOUR_CHAT,
            predicate=lambda m: m["message_id"] == new_card["message_id"] and "办理中" in m["text"],
        )
        assignments = bot.rows(AssignmentRow)
        assert [
            (a.department_code, a.returned_at is not None, a.signed_at is not None)
            for a in assignments
        ] == [
            ("roads", True, False),
            ("labour", False, True),
        ]
        [returned_event] = bot.rows(TicketEventRow, TicketEventRow.action == "returned")
        assert returned_event.reason == "欠薪不属于本单位职责，建议转劳动保障"


async def test_extension_approved_moves_the_deadline_for_card_and_citizen(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        _, card = await dispatch_to(world, "桥梁栏杆松动需要加固", "村镇规划建设")
        server.press_button(world.roads, card, button(card, "签收"), chat_id=ROADS_CHAT)
        signed = await server.wait_for_message(
            ROADS_CHAT,
            predicate=lambda m: m["message_id"] == card["message_id"] and "办理中" in m["text"],
        )
        server.press_button(world.roads, signed, button(signed, "延期"), chat_id=ROADS_CHAT)
        prompt = await server.wait_for_message(ROADS_CHAT, contains="延期工作日数")
        server.push_text(world.roads, "五天", chat_id=ROADS_CHAT, reply_to=prompt)
        usage = await server.wait_for_message(ROADS_CHAT, contains="格式")
        server.push_text(world.roads, "5 需协调施工队", chat_id=ROADS_CHAT, reply_to=usage)
        request = await server.wait_for_message(OFFICE, contains="延期申请")
        # 12-08 plus five working days: 12-09, 10, 11, 14, 15.
        assert "2026-12-15" in request["text"]
        server.press_button(world.supervisor, request, button(request, "批准"), chat_id=OFFICE)
        told = await server.wait_for_message(world.citizen.chat_id, contains="延长至")
        assert "2026-12-15" in told["text"]
        assert "需协调施工队" in told["text"]
        await server.wait_for_message(
            ROADS_CHAT,
            predicate=lambda m: m["message_id"] == card["message_id"] and "2026-12-15" in m["text"],
        )
        [extension] = bot.rows(ExtensionRow)
        assert (extension.status, extension.working_days) == ("approved", 5)
        assert bot.tickets()[0].deadline_at.date().isoformat() == "2026-12-15"


async def test_foreign_and_citizen_presses_are_refused_and_logged(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        _, card = await dispatch_to(world, "道路上有个大坑", "村镇规划建设")
        sign = button(card, "签收")
        # A citizen forwards the button data to the bot from their own chat.
        server.press_button(world.citizen, card, sign, chat_id=ROADS_CHAT, strict=False)
        refused = await server.wait_for_call("answerCallbackQuery")
        assert "工作人员" in refused.params["text"]
        # Staff of another department, in the roads chat.
        server.press_button(world.labour, card, sign, chat_id=ROADS_CHAT)
        refused = await server.wait_for_call("answerCallbackQuery")
        assert "无权" in refused.params["text"]
        # A supervisor-only button pressed by staff.
        queued = next(
            m for m in server.sent_messages(OFFICE) if "其他单位" in str(m.get("reply_markup"))
        )
        server.press_button(
            world.roads, queued, button(queued, "其他单位"), chat_id=OFFICE, strict=False
        )
        refused = await server.wait_for_call("answerCallbackQuery")
        assert "督办" in refused.params["text"]
        await asyncio.sleep(0.2)
        assert bot.tickets()[0].status.value == "dispatched"
        refusals = bot.rows(TicketEventRow, TicketEventRow.action == "refused")
        assert {r.actor_id for r in refusals} == {world.citizen.id, world.labour.id, world.roads.id}


async def test_invite_enrols_staff_who_can_then_sign(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    newcomer = server.user(950, first_name="新同事")
    async with running_bot(server, database_url, config, clock) as bot:
        server.push_text(world.supervisor, "/invite roads")
        invite = await server.wait_for_message(world.supervisor.chat_id, contains="start=inv_")
        payload = invite["text"].split("start=", 1)[1].split()[0]
        server.push_text(newcomer, f"/start {payload}")
        welcome = await server.wait_for_message(newcomer.chat_id, contains="欢迎")
        assert "村镇规划建设服务中心" in welcome["text"]
        [member] = bot.rows(StaffRow, StaffRow.telegram_user_id == newcomer.id)
        assert member.department_code == "roads"

        # The link is used up.
        intruder = server.user(951)
        server.push_text(intruder, f"/start {payload}")
        assert "无效" in (await server.wait_for_message(intruder.chat_id))["text"]

        _, card = await dispatch_to(world, "路灯不亮了", "村镇规划建设")
        server.press_button(newcomer, card, button(card, "签收"), chat_id=ROADS_CHAT)
        signed = await server.wait_for_message(
            ROADS_CHAT,
            predicate=lambda m: m["message_id"] == card["message_id"] and "办理中" in m["text"],
        )
        assert "新同事" in signed["text"]


async def test_queue_overdue_and_reply_commands(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock):
        number, _ = await dispatch_to(world, "自来水管破裂", "村镇规划建设")
        server.push_text(world.roads, "/queue", chat_id=ROADS_CHAT)
        queue = await server.wait_for_message(ROADS_CHAT, contains="待办工单")
        assert number in queue["text"]
        server.push_text(world.roads, f"/reply {number} 维修人员已出发", chat_id=ROADS_CHAT)
        assert (
            "维修人员已出发"
            in (await server.wait_for_message(world.citizen.chat_id, contains="维修"))["text"]
        )
        # Staff may not use supervisors' commands.
        server.push_text(world.roads, "/overdue", chat_id=ROADS_CHAT)
        assert "督办" in (await server.wait_for_message(ROADS_CHAT))["text"]
        server.push_text(world.supervisor, "/overdue", chat_id=OFFICE)
        assert "没有超期" in (await server.wait_for_message(OFFICE, contains="超期"))["text"]
        clock.advance(timedelta(days=14))
        server.push_text(world.supervisor, "/overdue", chat_id=OFFICE)
        overdue = await server.wait_for_message(OFFICE, contains="超期工单")
        assert number in overdue["text"]
        # A stranger in the department's group is not staff.
        stranger = server.user(999)
        server.push_text(stranger, "/queue", chat_id=ROADS_CHAT)
        assert "工作人员" in (await server.wait_for_message(ROADS_CHAT))["text"]


async def test_a_long_answer_reaches_the_citizen_whole(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    """An official answer as long as a Telegram message can be, with the hotline's heading on
    top, goes out in several messages, the rating question last with its buttons; the rating
    edits that one."""
    server = fake_telegram
    answer = "经现场核查，" + "该路段路灯线路老化，已全部更换并恢复照明。" * 194 + "特此答复。"
    async with running_bot(server, database_url, config, clock):
        _, card = await dispatch_to(world, "村口的路灯坏了一个星期", "村镇规划建设")
        await sign_and_answer(world, card, answer)
        last = await server.wait_for_message(
            world.citizen.chat_id, predicate=lambda m: bool(buttons(m))
        )
        parts = [
            m for m in server.sent_messages(world.citizen.chat_id) if "路灯线路老化" in m["text"]
        ]
        assert len(parts) == 2
        assert answer in "".join(m["text"] for m in parts)
        assert "评价" in last["text"]
        assert last["message_id"] > parts[-1]["message_id"]

        server.press_button(world.citizen, last, button(last, "满意"))
        rated = await server.wait_for_message(
            world.citizen.chat_id,
            predicate=lambda m: m["message_id"] == last["message_id"] and "✓" in m["text"],
        )
        # The satisfaction is answered; 问题是否已解决 is still open to one tap.
        assert {b["text"] for b in buttons(rated)} == {"已解决", "未解决"}
