"""The aiogram transport's own concerns (the end-to-end tests cover what it sends)."""

from __future__ import annotations

import gc
import weakref
from typing import cast

from aiogram import Bot
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.methods.base import Response
from aiogram.types import Update

from bot.aiogram_transport import _METHODS, build_dispatcher
from bot.app import BotIdentity, HotlineApp
from handlers.events import IncomingMessage


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
