"""重办 after 不满意, as the department, the office and the citizen live it: the reason reaches
the people who handle the ticket, one ticket has one live card, and a re-opening never moves a
running deadline earlier."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from openpyxl import load_workbook

from bot.fake_bot_api import FakeTelegramServer
from handlers.config import HotlineConfig
from scheduler.calendar import SHANGHAI
from scheduler.clock import FixedClock
from tests.harness import running_bot
from tests.world import OFFICE, ROADS_CHAT, World, button, buttons, dispatch_to

REASON = "路灯只亮了一晚又不亮了，电话 13912345678 可联系我"


async def _extend(world: World, card: dict[str, Any]) -> dict[str, Any]:
    """The roads department signs for the ticket and gets five more working days approved;
    returns the card as it then is."""
    server = world.server
    server.press_button(world.roads, card, button(card, "签收"), chat_id=ROADS_CHAT)
    signed = await server.wait_for_message(
        ROADS_CHAT,
        predicate=lambda m: m["message_id"] == card["message_id"] and "办理中" in m["text"],
    )
    server.press_button(world.roads, signed, button(signed, "延期"), chat_id=ROADS_CHAT)
    prompt = await server.wait_for_message(ROADS_CHAT, contains="延期工作日数")
    server.push_text(world.roads, "5 需协调施工队", chat_id=ROADS_CHAT, reply_to=prompt)
    request = await server.wait_for_message(OFFICE, contains="延期申请")
    server.press_button(world.supervisor, request, button(request, "批准"), chat_id=OFFICE)
    await server.wait_for_message(world.citizen.chat_id, contains="延长至")
    return await server.wait_for_message(
        ROADS_CHAT,
        predicate=lambda m: m["message_id"] == card["message_id"] and "2026-12-15" in m["text"],
    )


async def _resolve_and_reject(world: World, card: dict[str, Any]) -> dict[str, Any]:
    """办结 with an answer, rated 不满意; returns the citizen's re-opening message."""
    server = world.server
    server.press_button(world.roads, card, button(card, "办结"), chat_id=ROADS_CHAT)
    prompt = await server.wait_for_message(ROADS_CHAT, contains="答复内容")
    server.push_text(world.roads, "路灯已修好", chat_id=ROADS_CHAT, reply_to=prompt)
    answer = await server.wait_for_message(world.citizen.chat_id, contains="路灯已修好")
    server.press_button(world.citizen, answer, button(answer, "不满意"))
    return await server.wait_for_message(world.citizen.chat_id, contains="重新交")


async def _export_row(world: World, number: str) -> dict[str, Any]:
    """The ticket's row of the 工单 sheet of ``/export 2026-11``, by column title."""
    server = world.server
    server.push_text(world.supervisor, "/export 2026-11", chat_id=OFFICE)
    document = await server.wait_for_message(OFFICE, predicate=lambda m: "document" in m)
    stored = server.file(document["document"]["file_id"])
    assert stored is not None
    book = load_workbook(io.BytesIO(stored.content), read_only=True)
    rows = list(book["工单 Tickets"].iter_rows(values_only=True))
    titles = [str(t) for t in rows[0]]
    [row] = [r for r in rows[1:] if r[0] == number]
    return dict(zip(titles, row, strict=True))


def _new_card(server: FakeTelegramServer, old: dict[str, Any]) -> dict[str, Any]:
    [card] = [
        m
        for m in server.sent_messages(ROADS_CHAT)
        if m["message_id"] != old["message_id"] and any("签收" in b["text"] for b in buttons(m))
    ]
    return card


async def test_a_reopen_keeps_an_extended_deadline_everywhere(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        number, card = await dispatch_to(world, "桥头的路灯一直不亮", "村镇规划建设")
        extended = await _extend(world, card)
        reopened = await _resolve_and_reject(world, extended)
        # A fresh period from today would end on 12-08; the extension runs to 12-15.
        assert "2026-12-15" in reopened["text"]
        assert "2026-12-08" not in reopened["text"]
        office = await server.wait_for_message(OFFICE, contains="重办")
        assert "2026-12-15" in office["text"]
        new_card = await server.wait_for_message(
            ROADS_CHAT,
            predicate=lambda m: m["message_id"] != card["message_id"] and "📋" in m["text"],
        )
        assert "2026-12-15" in new_card["text"]
        [ticket] = bot.tickets()
        assert ticket.deadline_at.astimezone(SHANGHAI).date().isoformat() == "2026-12-15"

        # A new type counts from receipt (12-08) but never brings the deadline back.
        confirmation = next(
            m for m in server.sent_messages(world.citizen.chat_id) if "工单编号" in m["text"]
        )
        server.press_button(world.citizen, confirmation, button(confirmation, "咨询"))
        retyped = await server.wait_for_message(
            world.citizen.chat_id,
            predicate=lambda m: (
                m["message_id"] == confirmation["message_id"] and "诉求类型：咨询" in m["text"]
            ),
        )
        assert "2026-12-15" in retyped["text"]

        # The export shows the re-opened ticket as open: no time of resolution, no on-time.
        row = await _export_row(world, number)
        assert row["状态 Status"] == "已派单，待签收"
        assert row["办结时间 Resolved"] is None
        assert row["按时办结 On time"] in (None, "")
        assert row["重办次数 Reopened"] == 1

        # 12-09 is past the fresh period but inside the extension: no 督办, nothing overdue.
        clock.set(datetime(2026, 12, 9, 10, 0, tzinfo=SHANGHAI))
        report = await bot.sweep()
        assert report.reminders.get("overdue", 0) == 0
        await server.assert_no_message(OFFICE, contains="督办")
        server.push_text(world.supervisor, "/overdue", chat_id=OFFICE)
        listing = await server.wait_for_message(OFFICE)
        assert number not in listing["text"]
        # … and on 12-16 it is overdue.
        clock.set(datetime(2026, 12, 16, 10, 0, tzinfo=SHANGHAI))
        assert (await bot.sweep()).reminders.get("overdue", 0) == 1


async def test_the_reopened_ticket_has_one_live_card_and_the_reason_reaches_it(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        number, card = await dispatch_to(world, "桥头的路灯一直不亮", "村镇规划建设")
        confirmation = next(
            m for m in server.sent_messages(world.citizen.chat_id) if "工单编号" in m["text"]
        )
        server.press_button(world.roads, card, button(card, "签收"), chat_id=ROADS_CHAT)
        signed = await server.wait_for_message(
            ROADS_CHAT,
            predicate=lambda m: m["message_id"] == card["message_id"] and "办理中" in m["text"],
        )
        reopened = await _resolve_and_reject(world, signed)
        await bot.until(lambda: len(server.sent_messages(ROADS_CHAT)) >= 3)
        await server.wait_for_message(
            ROADS_CHAT,
            predicate=lambda m: m["message_id"] == card["message_id"] and "失效" in m["text"],
        )
        old = server.message(ROADS_CHAT, card["message_id"])
        assert old is not None
        assert "新卡片" in old["text"]
        assert buttons(old) == []
        new_card = _new_card(server, card)

        # The reason for 不满意: under the new card, to the office, and in the export.
        server.push_text(world.citizen, REASON, reply_to=reopened)
        thanks = await server.wait_for_message(world.citizen.chat_id, contains="已转给")
        assert number in thanks["text"]
        to_department = await server.wait_for_message(ROADS_CHAT, contains="不满意的原因")
        assert REASON in to_department["text"]
        assert to_department["reply_to_message"]["message_id"] == new_card["message_id"]
        to_office = await server.wait_for_message(OFFICE, contains="不满意的原因")
        assert REASON in to_office["text"]
        assert number in to_office["text"]
        row = await _export_row(world, number)
        assert row["不满意原因 Reason for 不满意"] == REASON.replace("13912345678", "139****5678")

        # A follow-up reaches the department once, under the live card.
        server.push_text(world.citizen, "晚上八点以后最明显", reply_to=confirmation)
        await server.wait_for_message(world.citizen.chat_id, contains="已补充到工单")
        await server.wait_for_message(ROADS_CHAT, contains="晚上八点以后")
        await server.assert_no_message(ROADS_CHAT, contains="晚上八点以后", within=0.5)
        relayed = [
            m for m in server.sent_messages(ROADS_CHAT) if "晚上八点以后" in m.get("text", "")
        ]
        assert [m["reply_to_message"]["message_id"] for m in relayed] == [new_card["message_id"]]

        # Signing on the new card edits the new card only; the old one stays superseded.
        server.press_button(world.roads, new_card, button(new_card, "签收"), chat_id=ROADS_CHAT)
        await server.wait_for_message(
            ROADS_CHAT,
            predicate=lambda m: m["message_id"] == new_card["message_id"] and "办理中" in m["text"],
        )
        old = server.message(ROADS_CHAT, card["message_id"])
        assert old is not None
        assert "失效" in old["text"]
        assert buttons(old) == []

        # Staff replying under the old card still reach the citizen: nothing is lost.
        server.push_text(world.roads, "明天再去看一次", chat_id=ROADS_CHAT, reply_to=old)
        await server.wait_for_message(world.citizen.chat_id, contains="明天再去看一次")
