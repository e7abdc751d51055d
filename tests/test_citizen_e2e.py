"""What a citizen meets on day one, end to end: questions that say which ticket they mean and
what was done, relays without empty lines, invisible or oversized messages answered like their
text twins, and a real button to share one's own phone number."""

from __future__ import annotations

from typing import Any

import pytest

from bot.fake_bot_api import FakeTelegramServer
from bot.runner import TransportName
from handlers.config import HotlineConfig
from scheduler.clock import FixedClock
from storage.models import CitizenRow, TicketItemRow
from tests.harness import running_bot
from tests.world import OFFICE, World, button, buttons, number_in, toast_of


async def test_the_add_or_new_question_names_the_ticket_and_says_what_was_done(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    citizen = world.citizen
    async with running_bot(server, database_url, config, clock) as bot:
        server.push_text(citizen, "幸福村三组的路灯坏了，晚上出门很不方便")
        first = number_in(await server.wait_for_message(citizen.chat_id, contains="工单编号"))

        # A repeat: a yes/no question that quotes how the ticket's request begins.
        server.push_text(citizen, "幸福村三组路灯坏了好几天了，晚上出门不方便，请尽快修")
        question = await server.wait_for_message(citizen.chat_id, contains=first)
        assert question["text"].endswith("吗？")
        assert "幸福村三组的路灯坏了" in question["text"]
        assert "是否" not in question["text"]
        pressed = server.press_button(citizen, question, button(question, "是"))
        assert f"已补充到工单 {first}" in await toast_of(server, pressed)
        edited = await server.wait_for_message(
            citizen.chat_id,
            predicate=lambda m: m["message_id"] == question["message_id"] and "✓" in m["text"],
        )
        assert f"已补充到工单 {first}" in edited["text"]
        assert buttons(edited) == []

        # Not a yes/no question: the answer says what became of the message.
        server.push_text(citizen, "另外，我想咨询一下养老保险怎么补缴")
        question = await server.wait_for_message(citizen.chat_id, contains="这条消息是")
        pressed = server.press_button(citizen, question, button(question, "新的诉求"))
        toast = await toast_of(server, pressed)
        await bot.until(lambda: bot.ticket_count() == 2)
        second = bot.tickets()[-1].number
        assert toast == f"已作为新诉求受理，工单 {second}。"
        edited = await server.wait_for_message(
            citizen.chat_id,
            predicate=lambda m: m["message_id"] == question["message_id"] and "✓" in m["text"],
        )
        assert edited["text"].startswith(f"您有未办结的工单 {first}")
        assert edited["text"].endswith(f"✓ 已作为新诉求受理，工单 {second}。")
        assert "否" not in edited["text"]
        assert buttons(edited) == []


async def test_a_photo_without_caption_is_relayed_without_an_empty_line(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    citizen = world.citizen
    async with running_bot(server, database_url, config, clock):
        server.push_text(citizen, "桥头的垃圾堆了一个星期")
        number = number_in(await server.wait_for_message(citizen.chat_id, contains="工单编号"))
        await server.wait_for_message(OFFICE, contains=number)
        server.push_photo(citizen)
        await server.wait_for_message(citizen.chat_id, contains="已附加到工单")
        photo = await server.wait_for_message(OFFICE, predicate=lambda m: "photo" in m)
        lines = photo["caption"].split("\n")
        assert number in lines[0]
        assert "" not in lines
        assert not lines[0].endswith("：")


async def test_invisible_or_oversized_words_are_answered_like_their_text_twins(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    citizen = world.citizen
    invisible = "\u200b\u200c\u200d\u2060\ufeff \u3164"
    async with running_bot(server, database_url, config, clock) as bot:
        server.push_text(citizen, invisible)
        assert "没有收到文字" in (await server.wait_for_message(citizen.chat_id))["text"]
        # A photo whose caption shows nothing waits for words, like a photo without one.
        server.push_photo(citizen, caption=invisible)
        assert "请再用文字描述" in (await server.wait_for_message(citizen.chat_id))["text"]
        assert bot.ticket_count() == 0

        # A caption longer than a text may be is refused the same way, and nothing is kept.
        items = len(bot.rows(TicketItemRow))
        server.push_photo(citizen, caption="长" * 100_000)
        refusal = await server.wait_for_message(citizen.chat_id)
        assert "100000" in refusal["text"]
        assert "4096" in refusal["text"]
        assert "照片" in refusal["text"]
        assert len(bot.rows(TicketItemRow)) == items
        assert bot.ticket_count() == 0

        # Up to the limit a caption is a request, whole (Premium clients send 4096).
        server.push_photo(citizen, caption="桥" * 4096)
        await server.wait_for_message(citizen.chat_id, contains="工单编号")
        assert [len(t.text) for t in bot.tickets()] == [4096]


@pytest.mark.parametrize("transport", [TransportName.AIOGRAM, TransportName.PTB])
async def test_asking_for_a_phone_offers_the_button_that_shares_it(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
    transport: TransportName,
) -> None:
    server = fake_telegram
    citizen = world.citizen
    async with running_bot(server, database_url, config, clock, transport=transport) as bot:
        server.push_text(citizen, "/start")
        assert "/phone" in (await server.wait_for_message(citizen.chat_id))["text"]
        server.push_text(citizen, "/help")
        assert "/phone" in (await server.wait_for_message(citizen.chat_id))["text"]

        server.push_text(citizen, "/phone")
        asked = await server.wait_for_message(citizen.chat_id)
        label = _share_button(server, citizen.chat_id, asked)
        assert f"“{label}”" in asked["text"]

        # Someone else's card is refused, and the refusal offers the same real button.
        server.push_contact(citizen, "13800138000", "邻居", user_id=4242)
        refusal = await server.wait_for_message(citizen.chat_id)
        assert "他人的名片" in refusal["text"]
        assert f"“{_share_button(server, citizen.chat_id, refusal)}”" in refusal["text"]

        # The button shares their own number: saved, and the keyboard goes away.
        server.push_contact(citizen, "13912345678", "赵", user_id=citizen.id)
        saved = await server.wait_for_message(citizen.chat_id, contains="139****5678")
        assert server.reply_markup(citizen.chat_id, saved["message_id"]) == {
            "remove_keyboard": True
        }
        await bot.until(lambda: bot.rows(CitizenRow)[0].phone == "13912345678")


def _share_button(server: FakeTelegramServer, chat_id: int, message: dict[str, Any]) -> str:
    """The label of the message's reply keyboard button that shares one's own contact."""
    markup = server.reply_markup(chat_id, message["message_id"])
    assert markup is not None
    [[share]] = markup["keyboard"]
    assert share["request_contact"] is True
    assert markup.get("one_time_keyboard") is True
    return str(share["text"])
