"""The aiogram transport's own concerns (the end-to-end tests cover what it sends)."""

from __future__ import annotations

import gc
import weakref
from typing import Any, cast

from aiogram.methods.base import Response

from bot.aiogram_transport import _METHODS, AiogramFeed, AiogramSender, build_bot
from bot.app import BotIdentity, HotlineApp
from bot.polling import Unreadable
from handlers.events import ButtonPress, IncomingMessage
from handlers.outgoing import Button, Method, Outgoing, Reaction
from storage.outbox import QueuedMessage
from storage.repository import outgoing_payload
from tests.fake_telegram import DEFAULT_TOKEN, FakeTelegramServer


def test_the_classes_answers_are_read_with_outlive_a_garbage_collection() -> None:
    """aiogram reads each answer as ``Response[method.__returning__]``, a class pydantic keeps
    only weakly: freed by a collection, it would be rebuilt on the next send (milliseconds).
    Built here inside a function, as aiogram does: at module level pydantic would also keep
    a reference in the module's namespace."""
    refs = {method.__name__: weakref.ref(Response[method.__returning__]) for method in _METHODS}  # type: ignore[name-defined]
    gc.collect()
    assert {name for name, ref in refs.items() if ref() is None} == set()


async def test_the_feed_hands_messages_edits_and_presses_to_the_core() -> None:
    """Updates are read without aiogram's Dispatcher: each kind must still reach the core with
    its update id, an edit as an edit, and a press must get its toast."""
    received: list[tuple[int, str, str, bool]] = []

    class App:
        async def on_message(self, event: IncomingMessage) -> None:
            received.append((event.update_id, "message", event.text, event.edited))

        async def on_button(self, press: ButtonPress) -> Reaction:
            received.append((press.update_id, "button", press.data, False))
            return Reaction(callback_answer="已收到")

    async with FakeTelegramServer() as tg:
        citizen = tg.user(1001, first_name="市民")
        bot = build_bot(DEFAULT_TOKEN, tg.base_url)
        feed = AiogramFeed(bot, cast(HotlineApp, App()), BotIdentity(user_id=1, username="bot"))
        try:
            card = Outgoing(chat_id=1001, text="卡片", buttons=((Button("好", data="ok:1"),),))
            card_id = await AiogramSender(bot).send(_queued(card))
            first = tg.push_text(citizen, "路灯坏了")
            edit = tg.push_edited_text(citizen, first.message, "路灯坏了三天")
            press = tg.press_button(citizen, card_id, "ok:1", chat_id=1001)
            for update in await feed.fetch(None, 0):
                assert not isinstance(update, Unreadable)
                await feed.handle(update)
        finally:
            await bot.session.close()
        assert received == [
            (first.update_id, "message", "路灯坏了", False),
            (edit.update_id, "message", "路灯坏了三天", True),
            (press.update_id, "button", "ok:1", False),
        ]
        query_id = press.update["callback_query"]["id"]
        answer = tg.callback_answer(query_id)
        assert answer is not None
        assert answer["text"] == "已收到"


def _queued(message: Outgoing, **payload: object) -> QueuedMessage:
    return QueuedMessage(
        id=1,
        chat_id=message.chat_id,
        method=message.method.value,
        payload={**outgoing_payload(message), **payload},
        ticket_id=None,
        attempts=0,
    )


async def test_the_sender_s_calls_reach_the_bot_api_with_every_character_intact() -> None:
    """sendMessage goes as the sender's own urlencoded body with the keyboard as JSON text,
    other calls as aiogram builds them, uploads as multipart: the server must read each with
    the same parameters, whatever the text holds (form syntax, percent signs, emoji, lines)."""
    text = "路灯坏了 & 水管=漏 + 100% 😀\n第二行 a+b%20c"
    async with FakeTelegramServer() as tg:
        group = tg.group(-100777, "办公室")
        bot = build_bot(DEFAULT_TOKEN, tg.base_url)
        sender = AiogramSender(bot)
        try:
            card = Outgoing(
                chat_id=group.id,
                text=text,
                buttons=(
                    (Button("签收 ✓", data="sign:7:a/b+c=="),),
                    (Button("地图", url="https://example.org/map?a=1&b=%E8%B7%AF"),),
                ),
            )
            first = await sender.send(_queued(card))
            answer = Outgoing(
                chat_id=group.id, text="请回复", force_reply=True, placeholder="地址 & 时间"
            )
            reply = await sender.send(_queued(answer, reply_to_message_id=first))
            edit = Outgoing(
                chat_id=group.id,
                method=Method.EDIT_TEXT,
                text=text + "（已签收）",
                buttons=((Button("办结", data="done:7:x"),),),
            )
            edited = await sender.send(_queued(edit, edit_message_id=first))
            sheet = Outgoing(chat_id=group.id, method=Method.SEND_DOCUMENT, text="报表 & 统计")
            document = await sender.send(
                _queued(sheet, upload=["统计 2026-11.xlsx", b"PK\x03\x04 &=%"])
            )
        finally:
            await bot.session.close()

        sent, answered = tg.calls("sendMessage")
        assert sent.params["text"] == text
        assert sent.params["reply_markup"] == {
            "inline_keyboard": [
                [{"text": "签收 ✓", "callback_data": "sign:7:a/b+c=="}],
                [{"text": "地图", "url": "https://example.org/map?a=1&b=%E8%B7%AF"}],
            ]
        }
        assert "reply_parameters" not in sent.params
        assert answered.params["reply_markup"] == {
            "force_reply": True,
            "selective": True,  # in a group, only for the person replied to or named
            "input_field_placeholder": "地址 & 时间",
        }
        assert answered.params["reply_parameters"] == {
            "message_id": first,
            "allow_sending_without_reply": True,
        }

        def message(message_id: int | None) -> dict[str, Any]:
            found = tg.message(group.id, message_id or 0)
            assert found is not None
            return found

        assert message(reply)["reply_to_message"]["message_id"] == first
        assert edited == first
        assert message(first)["text"] == text + "（已签收）"
        assert message(first)["reply_markup"] == {
            "inline_keyboard": [[{"text": "办结", "callback_data": "done:7:x"}]]
        }
        stored = message(document)
        assert stored["caption"] == "报表 & 统计"
        file = tg.file(stored["document"]["file_id"])
        assert file is not None
        assert stored["document"]["file_name"] == "统计 2026-11.xlsx"
        assert file.content == b"PK\x03\x04 &=%"
