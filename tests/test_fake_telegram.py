"""The fake Bot API server speaks Telegram well enough for aiogram and python-telegram-bot,
and the network guard keeps tests off the network."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import telegram
import telegram.error
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    ReplyParameters,
)

from bot.fake_bot_api import (
    DEFAULT_TOKEN,
    FakeTelegramServer,
    UploadedFile,
    parse_formatted,
)
from tests.network_guard import GUARD, NetworkAccessDisallowed, NetworkGuard, is_local_host

BOT_ID = int(DEFAULT_TOKEN.split(":")[0])
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as server:
        yield server


@pytest.fixture
async def abot(tg: FakeTelegramServer) -> AsyncIterator[Bot]:
    bot = tg.aiogram_bot()
    yield bot
    await bot.session.close()


@pytest.fixture
async def pbot(tg: FakeTelegramServer) -> AsyncIterator[telegram.Bot]:
    async with tg.ptb_bot() as bot:
        yield bot


@pytest.fixture
async def http(tg: FakeTelegramServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=tg.base_url) as session:
        yield session


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in pairs]
    )


# -- aiogram ---------------------------------------------------------------------------------


async def test_aiogram_get_me_and_rejected_token(tg: FakeTelegramServer, abot: Bot) -> None:
    me = await abot.get_me()
    assert me.id == BOT_ID
    assert me.is_bot
    assert me.username == f"test{BOT_ID}_bot"
    assert tg.calls("getme")[0].ok

    tg.reject_token(DEFAULT_TOKEN)
    with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
        await abot.get_me()
    assert tg.calls("getMe")[-1].status == 401


async def test_aiogram_send_message_with_inline_keyboard(tg: FakeTelegramServer, abot: Bot) -> None:
    sent = await abot.send_message(
        1001, "<b>工单</b> 已受理 😀", parse_mode="HTML", reply_markup=keyboard(("办结", "done:7"))
    )
    # What aiogram parsed.
    assert sent.text == "工单 已受理 😀"
    assert sent.chat.id == 1001
    assert sent.chat.type == "private"
    assert sent.from_user is not None
    assert sent.from_user.id == BOT_ID
    assert sent.entities is not None
    assert (sent.entities[0].type, sent.entities[0].offset, sent.entities[0].length) == (
        "bold",
        0,
        2,
    )
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "done:7"

    # What the server recorded: plain Python values, JSON strings decoded.
    call = tg.calls("sendMessage")[0]
    assert call.params["chat_id"] == 1001
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "办结", "callback_data": "done:7"}]]
    }
    assert tg.sent_messages(1001)[0]["reply_markup"] == call.params["reply_markup"]

    second = await abot.send_message(1001, "下一条")
    assert second.message_id == sent.message_id + 1
    group = await abot.send_message(-100500, "群消息")
    assert group.chat.type == "supergroup"
    assert group.message_id == 1  # message ids count per chat


async def test_aiogram_reply_and_force_reply(tg: FakeTelegramServer, abot: Bot) -> None:
    alice = tg.user(1001, "Alice")
    question = tg.push_text(alice, "路灯坏了")
    assert question.message is not None
    answer = await abot.send_message(
        1001,
        "请补充地址",
        reply_parameters=ReplyParameters(message_id=question.message["message_id"]),
        reply_markup=ForceReply(input_field_placeholder="地址"),
    )
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "路灯坏了"
    # ForceReply is not part of a Message, but the server remembers it.
    assert answer.reply_markup is None
    markup = tg.reply_markup(1001, answer.message_id)
    assert markup == {"force_reply": True, "input_field_placeholder": "地址"}

    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await abot.send_message(1001, "x", reply_parameters=ReplyParameters(message_id=999))


async def test_aiogram_send_photo_by_file_id_and_upload(tg: FakeTelegramServer, abot: Bot) -> None:
    alice = tg.user(1001, "Alice")
    pushed = tg.push_photo(alice, caption="现场照片", content=b"\xff\xd8user-photo")
    assert pushed.message is not None
    sizes = pushed.message["photo"]
    assert len(sizes) > 1
    assert len({s["file_id"] for s in sizes}) == len(sizes)

    by_id = await abot.send_photo(-100500, sizes[-1]["file_id"], caption="转发给值班员")
    assert by_id.photo is not None
    assert by_id.photo[-1].file_id == sizes[-1]["file_id"]
    assert by_id.caption == "转发给值班员"

    uploaded = await abot.send_photo(
        1001, BufferedInputFile(b"\x89PNG-bot-upload", filename="card.png"), caption="回执"
    )
    call = tg.calls("sendPhoto")[-1]
    upload = call.params["photo"]
    assert isinstance(upload, UploadedFile)
    assert upload.content == b"\x89PNG-bot-upload"
    assert upload.filename == "card.png"
    assert uploaded.photo is not None
    assert upload.file_id == uploaded.photo[-1].file_id

    # getFile + download work for what users sent and for what the bot uploaded.
    for file_id, content in (
        (sizes[0]["file_id"], b"\xff\xd8user-photo"),
        (uploaded.photo[0].file_id, b"\x89PNG-bot-upload"),
    ):
        file = await abot.get_file(file_id)
        assert file.file_path is not None
        downloaded = await abot.download_file(file.file_path)
        assert downloaded is not None
        assert downloaded.read() == content

    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await abot.send_photo(1001, "AgACAgnonexistent")
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await abot.get_file("nonexistent")


async def test_aiogram_documents_locations_media_groups(tg: FakeTelegramServer, abot: Bot) -> None:
    doc = await abot.send_document(
        1001, BufferedInputFile(b"%PDF-1.4 report", filename="report.pdf"), caption="报告"
    )
    assert doc.document is not None
    assert doc.document.file_name == "report.pdf"
    assert doc.document.mime_type == "application/pdf"
    assert tg.file(doc.document.file_id) is not None

    location = await abot.send_location(1001, latitude=31.2304, longitude=121.4737)
    assert location.location is not None
    assert location.location.latitude == pytest.approx(31.2304)
    assert tg.calls("sendLocation")[0].params["latitude"] == pytest.approx(31.2304)

    photo_id = tg.add_file(b"jpeg", "photo")
    album = await abot.send_media_group(
        -100500,
        [
            InputMediaPhoto(media=photo_id, caption="一"),
            InputMediaPhoto(media=BufferedInputFile(b"second", filename="2.jpg")),
        ],
    )
    assert len(album) == 2
    assert album[0].media_group_id is not None
    assert album[0].media_group_id == album[1].media_group_id
    media = tg.calls("sendMediaGroup")[0].params["media"]
    assert media[0]["media"] == photo_id
    assert isinstance(media[1]["media"], UploadedFile)


async def test_aiogram_edit_message_in_place(tg: FakeTelegramServer, abot: Bot) -> None:
    card = await abot.send_message(
        1001, "工单 #7：待处理", reply_markup=keyboard(("受理", "take:7"))
    )
    edited = await abot.edit_message_text(
        "工单 #7：处理中",
        chat_id=1001,
        message_id=card.message_id,
        reply_markup=keyboard(("办结", "done:7")),
    )
    assert not isinstance(edited, bool)
    assert edited.text == "工单 #7：处理中"
    assert edited.edit_date is not None

    current = tg.message(1001, card.message_id)
    assert current is not None
    assert current["text"] == "工单 #7：处理中"
    assert current["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "done:7"
    assert [m["text"] for m in tg.sent_messages(1001)] == ["工单 #7：处理中"]

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await abot.edit_message_text(
            "工单 #7：处理中",
            chat_id=1001,
            message_id=card.message_id,
            reply_markup=keyboard(("办结", "done:7")),
        )
    # Omitting reply_markup removes the keyboard, as on the real server.
    await abot.edit_message_text("工单 #7：已办结", chat_id=1001, message_id=card.message_id)
    current = tg.message(1001, card.message_id)
    assert current is not None
    assert "reply_markup" not in current

    await abot.edit_message_reply_markup(
        chat_id=1001, message_id=card.message_id, reply_markup=keyboard(("评价", "rate:7"))
    )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await abot.edit_message_text("x", chat_id=1001, message_id=999)

    alice = tg.user(1001, "Alice")
    pushed = tg.push_text(alice, "用户的消息")
    assert pushed.message is not None
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await abot.edit_message_text("x", chat_id=1001, message_id=pushed.message["message_id"])


async def test_aiogram_callback_query_round_trip(tg: FakeTelegramServer, abot: Bot) -> None:
    alice = tg.user(1001, "Alice", username="alice")
    card = await abot.send_message(1001, "请选择", reply_markup=keyboard(("是", "yes")))
    card_json = tg.message(1001, card.message_id)
    assert card_json is not None

    pushed = tg.press_button(alice, card_json, "yes")
    updates = await abot.get_updates(offset=0, timeout=1)
    query = updates[-1].callback_query
    assert query is not None
    assert query.data == "yes"
    assert query.from_user.username == "alice"
    assert query.message is not None
    assert query.message.message_id == card.message_id
    assert query.chat_instance

    assert await abot.answer_callback_query(query.id, text="已记录", show_alert=True)
    assert pushed.callback_query is not None
    answer = tg.callback_answer(pushed.callback_query["id"])
    assert answer is not None
    assert answer["text"] == "已记录"
    assert answer["show_alert"] is True
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await abot.answer_callback_query(query.id)

    with pytest.raises(AssertionError, match="no button with callback_data 'no'"):
        tg.press_button(alice, card_json, "no")
    tg.press_button(alice, card_json, "forged", strict=False)


async def test_aiogram_copy_and_forward_message(tg: FakeTelegramServer, abot: Bot) -> None:
    alice = tg.user(1001, "Alice")
    tg.group(-100777, "值班群")
    pushed = tg.push_text(alice, "投诉：噪音扰民")
    assert pushed.message is not None
    copied = await abot.copy_message(
        chat_id=-100777, from_chat_id=1001, message_id=pushed.message["message_id"]
    )
    in_group = tg.message(-100777, copied.message_id)
    assert in_group is not None
    assert in_group["text"] == "投诉：噪音扰民"
    assert in_group["chat"] == {"id": -100777, "type": "supergroup", "title": "值班群"}
    assert in_group["from"]["id"] == BOT_ID
    assert "forward_origin" not in in_group

    forwarded = await abot.forward_message(-100777, 1001, pushed.message["message_id"])
    assert forwarded.forward_origin is not None
    assert forwarded.forward_origin.type == "user"

    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await abot.copy_message(chat_id=-100777, from_chat_id=1001, message_id=4242)

    assert await abot.delete_message(-100777, copied.message_id)
    assert tg.message(-100777, copied.message_id) is None
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await abot.delete_message(-100777, copied.message_id)


async def test_aiogram_long_polling_offsets_and_allowed_updates(
    tg: FakeTelegramServer, abot: Bot
) -> None:
    alice = tg.user(1001, "Alice")

    async def push_later() -> None:
        await asyncio.sleep(0.2)
        tg.push_text(alice, "/start")

    started = time.monotonic()
    pusher = asyncio.create_task(push_later())
    updates = await abot.get_updates(timeout=5)
    elapsed = time.monotonic() - started
    await pusher
    assert elapsed < 1.0
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None
    assert message.text == "/start"
    assert message.entities is not None
    assert message.entities[0].type == "bot_command"
    assert message.from_user is not None
    assert message.from_user.language_code == "zh-hans"

    # Unconfirmed updates come again; an offset above them confirms and forgets them.
    again = await abot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [updates[0].update_id]
    first_id = updates[0].update_id
    for n in range(5):
        tg.push_text(alice, f"msg {n}")
    batch = await abot.get_updates(offset=first_id + 1, limit=2)
    assert [u.update_id for u in batch] == [first_id + 1, first_id + 2]
    last_two = await abot.get_updates(offset=-2)
    assert [u.update_id for u in last_two] == [first_id + 4, first_id + 5]
    assert len(tg.pending_updates) == 2

    # Nothing pending: the poll waits for its timeout.
    await abot.get_updates(offset=first_id + 6)
    started = time.monotonic()
    assert await abot.get_updates(timeout=1) == []
    assert time.monotonic() - started >= 0.9

    # allowed_updates is remembered; other update types are never delivered.
    tg.push_text(alice, "text")
    card = await abot.send_message(1001, "card", reply_markup=keyboard(("ok", "ok")))
    tg.press_button(alice, card, "ok")  # library Message objects work as well as dicts
    only_queries = await abot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query is not None for u in only_queries] == [True]


async def test_concurrent_get_updates_conflict(tg: FakeTelegramServer, abot: Bot) -> None:
    first = asyncio.create_task(abot.get_updates(timeout=5))
    async with asyncio.timeout(2):
        while not tg.api.pollers:  # noqa: ASYNC110 - polls the server's state, no event exists
            await asyncio.sleep(0.01)  # until the first long poll waits in the server
    second = asyncio.create_task(abot.get_updates(timeout=0))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first
    assert await second == []


async def test_user_update_kinds_parse_in_both_libraries(
    tg: FakeTelegramServer, abot: Bot, pbot: telegram.Bot
) -> None:
    alice = tg.user(1001, "Alice")
    tg.group(-100777, "值班群")
    tg.push_text(alice, "/help@hotline_bot now", chat_id=-100777)
    tg.push_photo(alice)
    tg.push_document(alice, "plan.docx")
    tg.push_location(alice, 31.2, 121.4)
    tg.push_venue(alice, 31.2, 121.4, "街道办", "人民路 1 号")
    tg.push_contact(alice, "+8613800000000", "Alice", user_id=1001)
    tg.push_sticker(alice)
    tg.push_voice(alice)
    tg.push_audio(alice)
    tg.push_video(alice, caption="视频")
    tg.push_video_note(alice)
    tg.push_animation(alice)
    edited_source = tg.push_text(alice, "原文")
    assert edited_source.message is not None
    tg.push_edited_text(alice, edited_source.message, "改过的")
    tg.push_my_chat_member(alice, "kicked")
    tg.push_raw({"message": {**edited_source.message, "message_id": 9999, "text": "raw"}})

    kinds = [
        "text",
        "photo",
        "document",
        "location",
        "venue",
        "contact",
        "sticker",
        "voice",
        "audio",
        "video",
        "video_note",
        "animation",
        "text",
    ]
    allowed = ["message", "edited_message", "my_chat_member"]
    a_updates = await abot.get_updates(allowed_updates=allowed)
    assert len(a_updates) == 16
    for update, kind in zip(a_updates, kinds, strict=False):
        assert update.message is not None
        assert getattr(update.message, kind) is not None, kind
    group_message = a_updates[0].message
    assert group_message is not None
    assert group_message.chat.title == "值班群"
    assert a_updates[13].edited_message is not None
    assert a_updates[14].my_chat_member is not None
    assert a_updates[14].my_chat_member.new_chat_member.status == "kicked"

    p_updates = await pbot.get_updates(allowed_updates=allowed)
    assert [u.update_id for u in p_updates] == [u.update_id for u in a_updates]
    assert p_updates[5].message is not None
    assert p_updates[5].message.contact is not None
    assert p_updates[5].message.contact.user_id == 1001


async def test_aiogram_commands_webhook_chat_info(tg: FakeTelegramServer, abot: Bot) -> None:
    await abot.set_my_commands([BotCommand(command="start", description="开始")])
    assert [c.command for c in await abot.get_my_commands()] == ["start"]
    assert tg.commands() == [{"command": "start", "description": "开始"}]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await abot.set_my_commands([BotCommand(command="Start", description="x")])

    assert await abot.delete_webhook(drop_pending_updates=True)
    info = await abot.get_webhook_info()
    assert info.url == ""
    await abot.set_webhook("https://hotline.example/webhook")
    assert (await abot.get_webhook_info()).url == "https://hotline.example/webhook"
    with pytest.raises(TelegramConflictError):
        await abot.get_updates()
    await abot.delete_webhook()

    tg.user(1001, "Alice", username="alice")
    chat = await abot.get_chat(1001)
    assert (chat.type, chat.first_name, chat.username) == ("private", "Alice", "alice")
    assert (await abot.get_chat("@alice")).id == 1001
    assert await abot.send_chat_action(1001, "typing")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await abot.get_chat("@nobody")


async def test_aiogram_refusals_like_the_real_server(tg: FakeTelegramServer, abot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await abot.send_message(1001, "长" * 4097)
    await abot.send_message(1001, "长" * 4096)
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await abot.send_photo(1001, tg.add_file(b"x", "photo"), caption="c" * 1025)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await abot.send_message(1001, "a < b <unknown>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match=r"Character '\.' is reserved"):
        await abot.send_message(1001, "Done.", parse_mode="MarkdownV2")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await abot.send_message(1001, "x", reply_markup=keyboard(("b", "d" * 65)))
    assert [c.ok for c in tg.calls()].count(True) == 1
    assert len(tg.sent_messages()) == 1


# -- fault injection -------------------------------------------------------------------------


async def test_aiogram_fault_injection(tg: FakeTelegramServer, abot: Bot) -> None:
    tg.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as retry:
        await abot.send_message(1001, "hi")
    assert retry.value.retry_after == 3
    failed = tg.calls("sendMessage")[-1]
    assert (failed.status, failed.injected, failed.failed) == (429, True, True)
    assert failed.response["parameters"] == {"retry_after": 3}
    assert tg.sent_messages() == []

    tg.block(1001)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await abot.send_message(1001, "hi")
    await abot.send_message(1002, "others still get messages")
    tg.unblock(1001)
    await abot.send_message(1001, "back")

    tg.fail_next("sendMessage", status=500, count=2, chat_id=1001)
    await abot.send_message(1002, "other chats are not affected")
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Internal Server Error"):
            await abot.send_message(1001, "hi")
    await abot.send_message(1001, "recovered")
    assert [m["text"] for m in tg.sent_messages(1001)] == ["back", "recovered"]


async def test_ptb_send_get_updates_and_faults(
    tg: FakeTelegramServer, pbot: telegram.Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = await pbot.get_me()
    assert (me.id, me.is_bot) == (BOT_ID, True)

    markup = telegram.InlineKeyboardMarkup(
        [[telegram.InlineKeyboardButton("好", callback_data="ok")]]
    )
    sent = await pbot.send_message(1001, "你好", reply_markup=markup)
    assert sent.text == "你好"
    assert sent.reply_markup == markup
    assert tg.calls("sendMessage")[0].params["reply_markup"] == {
        "inline_keyboard": [[{"text": "好", "callback_data": "ok"}]]
    }

    alice = tg.user(1001, "Alice")
    tg.push_text(alice, "/start")
    updates = await pbot.get_updates(timeout=1)
    assert updates[0].message is not None
    assert updates[0].message.text == "/start"
    assert updates[0].message.from_user is not None
    assert updates[0].message.from_user.first_name == "Alice"
    assert await pbot.get_updates(offset=updates[-1].update_id + 1) == ()

    # PTB warns when RetryAfter.retry_after is read as an int unless PTB_TIMEDELTA is set.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    tg.fail_next("sendMessage", status=429, retry_after=2)
    with pytest.raises(telegram.error.RetryAfter) as retry:
        await pbot.send_message(1001, "hi")
    assert retry.value.retry_after == dt.timedelta(seconds=2)
    tg.block(1001)
    with pytest.raises(telegram.error.Forbidden, match="bot was blocked by the user"):
        await pbot.send_message(1001, "hi")


# -- raw HTTP --------------------------------------------------------------------------------


async def test_raw_http_encodings_and_errors(
    tg: FakeTelegramServer, http: aiohttp.ClientSession
) -> None:
    base = f"/bot{DEFAULT_TOKEN}"
    async with http.post(f"{base}/SENDMESSAGE", json={"chat_id": 5, "text": "json"}) as resp:
        assert resp.status == 200
        assert (await resp.json())["result"]["text"] == "json"
    async with http.get(f"{base}/sendMessage", params={"chat_id": "5", "text": "query"}) as resp:
        assert (await resp.json())["result"]["chat"]["id"] == 5
    form = {"chat_id": "5", "text": "form", "reply_markup": '{"remove_keyboard": true}'}
    async with http.post(f"{base}/sendmessage", data=form) as resp:
        assert resp.status == 200
    assert tg.calls("sendMessage")[-1].params["reply_markup"] == {"remove_keyboard": True}

    async with http.post(f"{base}/sendMessage", json={"chat_id": 5}) as resp:
        assert resp.status == 400
        assert await resp.json() == {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: message text is empty",
        }
    async with http.post(f"{base}/sendMessage", json={"text": "no chat"}) as resp:
        assert (await resp.json())["description"] == "Bad Request: chat_id is empty"
    async with http.post(f"{base}/editMessageText", json={"chat_id": 5, "text": "x"}) as resp:
        assert resp.status == 400
    async with http.post(f"{base}/noSuchMethod") as resp:
        assert resp.status == 404
        assert (await resp.json())["description"] == "Not Found: method not found"
    async with http.post("/botnot-a-token/getMe") as resp:
        assert resp.status == 404
    async with http.get(f"/file/bot{DEFAULT_TOKEN}/photos/missing.jpg") as resp:
        assert resp.status == 404
    assert tg.errors == []


async def test_unknown_method_and_bad_gateway_in_aiogram(tg: FakeTelegramServer, abot: Bot) -> None:
    tg.fail_next("getMe", status=404, description="Not Found: method not found")
    with pytest.raises(TelegramNotFound):
        await abot.get_me()
    tg.fail_next("getMe", status=502)
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await abot.get_me()


# -- waiting helpers -------------------------------------------------------------------------


async def test_wait_for_message_follows_pushes(tg: FakeTelegramServer, abot: Bot) -> None:
    alice = tg.user(1001, "Alice")
    await abot.send_message(1001, "旧消息")  # sent before the push: never a reply to it

    async def fake_bot_replies() -> None:
        updates = await abot.get_updates(timeout=5)
        for update in updates:
            assert update.message is not None
            await abot.send_message(1001, f"收到：{update.message.text}")
            await abot.send_message(1001, "第二条回复")

    pushed = tg.push_text(alice, "你好")
    worker = asyncio.create_task(fake_bot_replies())
    first = await tg.wait_for_message(1001)
    second = await tg.wait_for_message(1001)
    await worker
    assert first["text"] == "收到：你好"
    assert second["text"] == "第二条回复"
    # An explicit marker re-reads from the push.
    assert (await tg.wait_for_message(1001, after=pushed))["text"] == "收到：你好"
    assert (await tg.wait_for_message(1001, contains="第二", after=pushed))["text"] == "第二条回复"

    card = await abot.send_message(1001, "状态：待处理")
    marker = tg.mark()
    await abot.edit_message_text("状态：已办结", chat_id=1001, message_id=card.message_id)
    edited = await tg.wait_for_message(1001, contains="已办结", after=marker)
    assert edited["message_id"] == card.message_id
    with pytest.raises(AssertionError, match="no message to chat 1001"):
        await tg.wait_for_message(1001, contains="已办结", after=marker, edits=False, timeout=0.1)
    await tg.assert_no_message(1001, within=0.05)

    call = await tg.wait_for_call("editMessageText", after=marker)
    assert call.params["text"] == "状态：已办结"


async def test_wait_for_message_timeout_dump(tg: FakeTelegramServer, abot: Bot) -> None:
    alice = tg.user(1001, "Alice")
    tg.push_text(alice, "/start")
    await abot.send_message(1001, "wrong reply", reply_markup=keyboard(("按钮", "b:1")))
    tg.fail_next("sendMessage", status=403)
    with pytest.raises(TelegramForbiddenError):
        await abot.send_message(1001, "blocked")
    with pytest.raises(AssertionError) as info:
        await tg.wait_for_message(1001, contains="欢迎", timeout=0.1)
    dump = str(info.value)
    assert "wrong reply" in dump
    assert "按钮=b:1" in dump
    assert "403 Forbidden" in dump
    assert "1 pushed updates not yet confirmed" in dump


async def test_updates_confirmed_and_many_updates_are_fast(
    tg: FakeTelegramServer, abot: Bot
) -> None:
    users = [tg.user(2000 + n, f"U{n}") for n in range(50)]
    started = time.monotonic()
    for n in range(3000):
        tg.push_text(users[n % 50], f"message {n}")
    offset = 0
    received = 0
    while received < 3000:
        batch = await abot.get_updates(offset=offset, timeout=1)
        received += len(batch)
        offset = batch[-1].update_id + 1
        for update in batch[:2]:
            assert update.message is not None
            await abot.send_message(update.message.chat.id, "ok")
    await abot.get_updates(offset=offset)
    await tg.wait_for_updates_confirmed(timeout=1)
    assert time.monotonic() - started < 10
    assert len(tg.sent_messages()) == 60


# -- formatting ------------------------------------------------------------------------------


def test_formatting_offsets_are_utf16() -> None:
    text, entities = parse_formatted("😀 <i>斜体</i> &lt;ok&gt;", "HTML")
    assert text == "😀 斜体 <ok>"
    assert entities == [{"type": "italic", "offset": 3, "length": 2}]
    text, entities = parse_formatted(
        "*粗* _斜_ __下划线__ [链接](https://example.org) `a\\.b` 1\\.2", "MarkdownV2"
    )
    assert text == "粗 斜 下划线 链接 a.b 1.2"
    assert [e["type"] for e in entities] == ["bold", "italic", "underline", "text_link", "code"]
    assert entities[3]["url"] == "https://example.org"
    text, entities = parse_formatted('<pre><code class="language-py">x</code></pre>', "HTML")
    assert entities == [{"type": "pre", "offset": 0, "length": 1, "language": "py"}]


# -- network guard ---------------------------------------------------------------------------


def test_guard_is_active_and_blocks_public_addresses(network_guard: NetworkGuard) -> None:
    assert network_guard is GUARD
    assert GUARD.active
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
        network_guard.expect_blocked() as info,
    ):
        sock.connect(("1.1.1.1", 443))
    assert isinstance(info.value, NetworkAccessDisallowed)
    assert "Network access disallowed in this test" in str(info.value)
    assert "1.1.1.1:443" in str(info.value)
    with network_guard.expect_blocked():
        socket.getaddrinfo("api.telegram.org", 443)
    with network_guard.expect_blocked():
        socket.create_connection(("api.telegram.org", 443), timeout=1)


async def test_guard_blocks_asyncio_and_aiohttp(network_guard: NetworkGuard) -> None:
    with network_guard.expect_blocked():
        await asyncio.open_connection("1.1.1.1", 443)
    with network_guard.expect_blocked():
        await asyncio.open_connection("api.telegram.org", 443)
    async with aiohttp.ClientSession() as session:
        with network_guard.expect_blocked():
            await session.get("https://api.telegram.org/bot1:x/getMe")


async def test_guard_lets_loopback_through(tg: FakeTelegramServer) -> None:
    _reader, writer = await asyncio.open_connection("127.0.0.1", tg.port)
    writer.close()
    await writer.wait_closed()
    async with aiohttp.ClientSession() as session:
        url = f"http://localhost:{tg.port}/bot{DEFAULT_TOKEN}/getMe"
        async with session.get(url) as resp:
            assert resp.status == 200
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        assert sock.connect_ex(("127.0.0.1", tg.port)) == 0
    assert all(is_local_host(h) for h in ("127.0.0.1", "127.3.2.1", "::1", "localhost", None))
    assert not any(is_local_host(h) for h in ("1.1.1.1", "10.0.0.1", "example.com"))


def test_guard_plugin_fails_tests_in_a_fresh_session(tmp_path: Path) -> None:
    # A separate pytest process proves the hooks work on their own (no patching carried over).
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent(
            """
            import socket

            def test_reaches_out():
                socket.create_connection(("1.1.1.1", 443), timeout=1)

            def test_swallows_the_error():
                try:
                    socket.getaddrinfo("example.com", 80)
                except BaseException:
                    pass

            def test_loopback_is_fine():
                with socket.socket() as server:
                    server.bind(("127.0.0.1", 0))
                    server.listen()
                    socket.create_connection(server.getsockname(), timeout=1).close()
            """
        )
    )
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "tests.network_guard"),
            *("-p", "no:cacheprovider", "-o", "addopts=", "--rootdir", str(tmp_path)),
            *("-o", "asyncio_default_fixture_loop_scope=function"),
            str(tmp_path),
        ],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert "1 failed, 2 passed, 1 error" in output, output
    assert "ERROR test_inner.py::test_swallows_the_error" in output
    assert "Network access disallowed in this test" in output
    assert "1.1.1.1:443" in output
    assert "'example.com'" in output


async def test_calls_of_one_caller_are_held_before_they_take_effect(tg: FakeTelegramServer) -> None:
    """``base_url_for`` names a caller; ``hold`` keeps its sends from taking effect until
    released (or refused with 502), while other callers' calls go through."""
    alice = tg.user(1001)
    held_bot = Bot(
        DEFAULT_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url_for("a")))
    )
    free_bot = tg.aiogram_bot()
    try:
        tg.hold(via="a")
        held = asyncio.create_task(held_bot.send_message(alice.chat_id, "first"))
        await free_bot.send_message(alice.chat_id, "other caller")
        await tg.wait_held(1, via="a")
        assert [m["text"] for m in tg.sent_messages(alice.chat_id)] == ["other caller"]
        assert tg.release_held(via="a") == 1
        await held
        assert [c.via for c in tg.calls("sendMessage")] == ["", "a"]
        refused = asyncio.create_task(held_bot.send_message(alice.chat_id, "second"))
        await tg.wait_held(1, via="a")
        tg.unhold(via="a", refuse=True)
        with pytest.raises(TelegramServerError):
            await refused
        assert [m["text"] for m in tg.sent_messages(alice.chat_id)] == ["other caller", "first"]
        await held_bot.send_message(alice.chat_id, "third")  # no longer held
    finally:
        await held_bot.session.close()
        await free_bot.session.close()
