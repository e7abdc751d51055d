"""质检: the office gets a sample of the previous working day's answers and marks them."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.fake_bot_api import FakeTelegramServer
from handlers.config import HotlineConfig
from handlers.quality import sample_size
from scheduler.calendar import SHANGHAI
from scheduler.clock import FixedClock
from storage.models import QualityCheckRow, TicketEventRow
from tests.harness import running_bot
from tests.world import OFFICE, World, button, dispatch_to, sign_and_answer


@pytest.mark.parametrize(
    ("total", "share", "minimum", "expected"),
    [
        (0, 0.1, 1, 0),
        (1, 0.1, 1, 1),
        (9, 0.1, 1, 1),
        (11, 0.1, 1, 2),
        (40, 0.1, 1, 4),
        (3, 0.5, 5, 3),
    ],
)
def test_sample_size(total: int, share: float, minimum: int, expected: int) -> None:
    assert sample_size(total, share, minimum) == expected


async def resolve(world: World, text: str, answer: str, citizen_id: int) -> str:
    server = world.server
    number, card = await dispatch_to(world, text, "村镇规划建设", server.user(citizen_id))
    await sign_and_answer(world, card, answer)
    await server.wait_for_message(server.user(citizen_id).chat_id, contains=answer)
    return number


async def test_the_office_inspects_yesterdays_answers(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        number = await resolve(world, "路边的井盖丢了", "已补装井盖。", 61)
        # Saturday and Sunday are not working days: Monday samples Friday.
        clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI))
        report = await bot.sweep()
        assert report.quality_sampled == 1
        header = await server.wait_for_message(OFFICE, contains="质检抽样")
        assert "2026-11-27" in header["text"]
        item = await server.wait_for_message(OFFICE, contains=f"质检：工单 {number}")
        assert "已补装井盖" in item["text"]
        assert (await bot.sweep()).quality_sampled == 0  # once a day

        # Staff may not inspect.
        server.press_button(world.roads, item, button(item, "不合格"), chat_id=OFFICE)
        refused = await server.wait_for_call("answerCallbackQuery")
        assert "督办" in refused.params["text"]

        server.press_button(world.supervisor, item, button(item, "不合格"), chat_id=OFFICE)
        prompt = await server.wait_for_message(OFFICE, contains="不合格：请回复")
        server.push_text(
            world.supervisor, "答复过于简单，未说明补装时间", chat_id=OFFICE, reply_to=prompt
        )
        await server.wait_for_message(OFFICE, contains="质检不合格")
        [check] = bot.rows(QualityCheckRow)
        assert (check.passed, check.reason) == (False, "答复过于简单，未说明补装时间")
        assert str(check.sampled_for) == "2026-11-27"
        assert bot.rows(TicketEventRow, TicketEventRow.action == "quality_failed")
