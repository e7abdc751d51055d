"""The aiogram transport's own concerns (the end-to-end tests cover what it sends)."""

from __future__ import annotations

import gc
import weakref
from typing import Any, cast

from aiogram import Bot
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.methods.base import Response
from aiogram.types import Update

from bot.aiogram_transport import _METHODS, AiogramSender, build_bot, build_dispatcher
from bot.app import BotIdentity, HotlineApp
from handlers.events import IncomingMessage
from handlers.outgoing import Button, Method, Outgoing
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


async def test_the_dispatcher_keeps_nothing_per_chat() -> None:
    """Conversation state is in the database: the dispatcher must not remember each chat it
    sees (aiogram's default in-memory FSM would keep a record per citizen for good)."""
    received: list[IncomingMessage] = []

    class App:
        async def on_message(self, event: IncomingMessage) -> None:
            received.append(event)

    dispatcher = build_dispatcher(cast(HotlineApp, App()), BotIdentity(user_id=1, username="bot"))
    bot = Bot("123:abc")
    for n in range(1, 4):
        update = Update.model_validate(
            {
                "update_id": n,
                "message": {
                    "message_id": n,
                    "date": 1764400000,
                    "chat": {"id": 100 + n, "type": "private", "first_name": "市民"},
                    "from": {"id": 100 + n, "is_bot": False, "first_name": "市民"},
                    "text": "路灯坏了",
                },
            }
        )
        await dispatcher.feed_update(bot, update)
    await bot.session.close()
    assert [event.sender.user_id for event in received] == [101, 102, 103]
    storage = dispatcher.fsm.storage
    assert isinstance(storage, MemoryStorage)
    assert len(storage.storage) == 0


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
