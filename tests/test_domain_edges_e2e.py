"""The domain's edges as the people concerned live them, with the clock moving between steps: a
survey nobody answers, a comment on a rating, ``/urgent`` and ``/nudge``, an extension
rejected, the extension cap, and 不满意 with a fresh period that differs from the first."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.fake_bot_api import FakeTelegramServer
from handlers.config import HotlineConfig
from scheduler.calendar import SHANGHAI
from scheduler.clock import FixedClock
from storage.models import ExtensionRow, SurveyRow, TicketEventRow
from tests.harness import running_bot
from tests.world import OFFICE, ROADS_CHAT, World, button, dispatch_to, sign_and_answer


def _at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00").replace(tzinfo=SHANGHAI)


def _local_day(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).date().isoformat()


async def _answered(world: World, card: dict[str, Any], answer: str) -> dict[str, Any]:
    """The roads department signs and answers; returns the citizen's answer with the survey."""
    await sign_and_answer(world, card, answer)
    return await world.server.wait_for_message(world.citizen.chat_id, contains=answer)


async def _signed(world: World, card: dict[str, Any]) -> dict[str, Any]:
    server = world.server
    server.press_button(world.roads, card, button(card, "签收"), chat_id=ROADS_CHAT)
    return await server.wait_for_message(
        ROADS_CHAT,
        predicate=lambda m: m["message_id"] == card["message_id"] and "办理中" in m["text"],
    )


async def _ask_extension(world: World, card: dict[str, Any], reply: str) -> dict[str, Any]:
    """延期 on the card, answered with ``reply``; returns the office's request to decide."""
    server = world.server
    server.press_button(world.roads, card, button(card, "延期"), chat_id=ROADS_CHAT)
    prompt = await server.wait_for_message(ROADS_CHAT, contains="延期工作日数")
    server.push_text(world.roads, reply, chat_id=ROADS_CHAT, reply_to=prompt)
    return await server.wait_for_message(OFFICE, contains="延期申请")


async def test_a_survey_nobody_answers_closes_as_unrated_after_three_working_days(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        _, card = await dispatch_to(world, "村口的路灯坏了一个星期", "村镇规划建设")
        await _answered(world, card, "路灯已更换。")  # Friday 11-27
        # Three working days: Monday to Wednesday 12-02, to its end.
        clock.set(_at("2026-12-02", 22))
        await bot.sweep()
        [ticket] = bot.tickets()
        assert ticket.status.value == "resolved"
        [survey] = bot.rows(SurveyRow)
        assert survey.rating is None

        clock.set(_at("2026-12-03", 0) + timedelta(minutes=30))
        await bot.sweep()
        [ticket] = bot.tickets()
        assert ticket.status.value == "closed"
        [survey] = bot.rows(SurveyRow)
        assert survey.rating.value == "none"  # 未评价
        assert survey.rated_at.astimezone(SHANGHAI).date().isoformat() == "2026-12-03"
        closed = bot.rows(TicketEventRow, TicketEventRow.action == "closed")
        assert [e.actor_id for e in closed] == [None]


async def test_a_comment_on_a_rating_is_kept_with_it(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        _, card = await dispatch_to(world, "村口的路灯坏了一个星期", "村镇规划建设")
        answer = await _answered(world, card, "路灯已更换。")
        clock.advance(timedelta(hours=20))
        server.press_button(world.citizen, answer, button(answer, "满意"))
        thanks = await server.wait_for_message(world.citizen.chat_id, contains="感谢您的评价")
        clock.advance(timedelta(hours=2))
        server.push_text(world.citizen, "师傅很负责，晚上也来看了", reply_to=thanks)
        await server.wait_for_message(world.citizen.chat_id, contains="您的意见已记录")
        [survey] = bot.rows(SurveyRow)
        assert (survey.rating.value, survey.comment) == ("satisfied", "师傅很负责，晚上也来看了")
        [ticket] = bot.tickets()
        assert ticket.status.value == "closed"


async def test_urgent_brings_the_deadline_to_hours_from_receipt_for_everyone(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        number, _ = await dispatch_to(world, "桥梁栏杆断了，有人差点掉下去", "村镇规划建设")
        received = bot.tickets()[0].received_at
        clock.advance(timedelta(hours=3))
        server.push_text(world.supervisor, f"/urgent {number}", chat_id=OFFICE)
        # 24 hours from receipt, not from the command.
        due = received + timedelta(hours=config.sla.urgent_hours)
        shown = due.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        told = await server.wait_for_message(OFFICE, contains="已标记为紧急")
        assert shown in told["text"]
        await server.wait_for_message(ROADS_CHAT, contains=f"工单 {number} 已标记为紧急")
        citizen = await server.wait_for_message(world.citizen.chat_id, contains="已标记为紧急")
        assert shown in citizen["text"]
        [ticket] = bot.tickets()
        assert ticket.urgent is True
        assert ticket.deadline_at == due

        # A day later it is overdue, where a normal ticket would still have a week.
        clock.set(due + timedelta(hours=1))
        assert (await bot.sweep()).reminders.get("overdue", 0) == 1


async def test_nudge_reaches_the_department_with_the_note_and_is_logged(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        number, _ = await dispatch_to(world, "桥边道路坑洼很深", "村镇规划建设")
        clock.set(_at("2026-12-07"))
        server.push_text(world.supervisor, f"/nudge {number} 市民又来电了", chat_id=OFFICE)
        nudge = await server.wait_for_message(ROADS_CHAT, contains="催办")
        assert number in nudge["text"]
        assert "市民又来电了" in nudge["text"]
        assert "2026-12-08" in nudge["text"]  # the deadline it still has
        await server.wait_for_message(OFFICE, contains="已向承办单位发送催办")
        [nudged] = bot.rows(TicketEventRow, TicketEventRow.action == "nudged")
        assert nudged.reason == "市民又来电了"
        assert nudged.at.astimezone(SHANGHAI).date().isoformat() == "2026-12-07"


async def test_an_extension_rejected_keeps_the_deadline(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        number, card = await dispatch_to(world, "桥梁栏杆松动需要加固", "村镇规划建设")
        signed = await _signed(world, card)
        clock.set(_at("2026-12-03"))
        request = await _ask_extension(world, signed, "5 需协调施工队")
        server.press_button(world.supervisor, request, button(request, "驳回"), chat_id=OFFICE)
        told = await server.wait_for_message(ROADS_CHAT, contains="未获批准")
        assert number in told["text"]
        assert "2026-12-08" in told["text"]
        await server.assert_no_message(world.citizen.chat_id, contains="延长至")
        [extension] = bot.rows(ExtensionRow)
        assert extension.status == "rejected"
        [ticket] = bot.tickets()
        assert _local_day(ticket.deadline_at) == "2026-12-08"

        # Rejected days do not count against the cap: a new request may be made.
        again = await _ask_extension(world, signed, "3 施工队已联系")
        assert number in again["text"]


async def test_extensions_stop_at_the_cap(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    maximum = config.sla.max_extension_working_days
    async with running_bot(server, database_url, config, clock) as bot:
        _, card = await dispatch_to(world, "桥梁栏杆松动需要加固", "村镇规划建设")
        signed = await _signed(world, card)
        # More than the cap in one request is refused with the usage.
        server.press_button(world.roads, signed, button(signed, "延期"), chat_id=ROADS_CHAT)
        prompt = await server.wait_for_message(ROADS_CHAT, contains="延期工作日数")
        server.push_text(
            world.roads, f"{maximum + 1} 工程量大", chat_id=ROADS_CHAT, reply_to=prompt
        )
        usage = await server.wait_for_message(ROADS_CHAT, contains="格式")
        server.push_text(world.roads, f"{maximum} 工程量大", chat_id=ROADS_CHAT, reply_to=usage)
        request = await server.wait_for_message(OFFICE, contains="延期申请")
        server.press_button(world.supervisor, request, button(request, "批准"), chat_id=OFFICE)
        await server.wait_for_message(world.citizen.chat_id, contains="延长至")
        deadline = bot.tickets()[0].deadline_at

        clock.advance(timedelta(days=3))
        server.press_button(world.roads, signed, button(signed, "延期"), chat_id=ROADS_CHAT)
        refused = await server.wait_for_call(
            "answerCallbackQuery", lambda c: "延期合计不能超过" in c.params.get("text", "")
        )
        assert f"已批准 {maximum} 个" in refused.params["text"]
        await server.assert_no_message(ROADS_CHAT, contains="延期工作日数")
        assert [e.status for e in bot.rows(ExtensionRow)] == ["approved"]
        assert bot.tickets()[0].deadline_at == deadline


async def test_unsatisfied_reopens_with_a_fresh_period_from_the_rating(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    """Received 11-27 with a deadline of 12-08; answered and rated 不满意 on 12-03: seven
    working days from then end on 12-14, later than the first deadline, and that is the one
    everyone is told."""
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        number, card = await dispatch_to(world, "村口的路灯坏了一个星期", "村镇规划建设")
        assert _local_day(bot.tickets()[0].deadline_at) == "2026-12-08"
        clock.set(_at("2026-12-03"))
        answer = await _answered(world, card, "路灯已更换。")
        clock.advance(timedelta(hours=2))
        server.press_button(world.citizen, answer, button(answer, "不满意"))
        reopened = await server.wait_for_message(world.citizen.chat_id, contains="重新交")
        assert "2026-12-14" in reopened["text"]
        office = await server.wait_for_message(OFFICE, contains="重办")
        assert "2026-12-14" in office["text"]
        await server.wait_for_message(
            ROADS_CHAT,
            predicate=lambda m: (
                m["message_id"] != card["message_id"]
                and number in m["text"]
                and "2026-12-14" in m["text"]
            ),
        )
        [ticket] = bot.tickets()
        assert _local_day(ticket.deadline_at) == "2026-12-14"
        assert ticket.reopen_count == 1
        # On 12-09, past the first deadline, it is not overdue.
        clock.set(_at("2026-12-09"))
        assert (await bot.sweep()).reminders.get("overdue", 0) == 0
