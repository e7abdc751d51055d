"""Delivery and polling under faults a town meets on day one: a shared contact, a message that
meets a bug, Telegram's 429, a crash in a burst, a webhook left set, an update the library
cannot read, and the database going away."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from bot.delivery import IN_FLIGHT_SENDS, UNEXPECTED_ATTEMPTS, Delivery
from bot.fake_bot_api import DEFAULT_TOKEN, FakeTelegramServer
from bot.runner import TransportName
from bot.sent_journal import SentJournal
from handlers.config import HotlineConfig
from handlers.outgoing import Method, Outgoing
from scheduler.clock import FixedClock
from storage import outbox
from storage.database import Database
from storage.models import OutboxRow, TicketRow
from storage.outbox import QueuedMessage
from storage.repository import DELIVERY_LEASE, SqlStore
from storage.worker import DatabaseWorker
from tests.harness import RunningBot, running_bot
from tests.world import OFFICE, ROADS_CHAT, World, number_in, pick_department

TRANSPORTS = [TransportName.AIOGRAM, TransportName.PTB]


def messages(caplog: pytest.LogCaptureFixture, contains: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if contains in r.getMessage()]


# -- a shared contact, and a message that meets a bug (item 4) ---------------------------------


async def test_a_shared_contact_is_no_attachment_and_what_follows_it_reaches_the_department(
    world: World,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
) -> None:
    """The citizen's own number is on the card (masked); the photo sent after the contact is
    re-sent under the card, and nothing is left unsent."""
    server, citizen = world.server, world.citizen
    async with running_bot(server, database_url, config, clock) as bot:
        server.push_text(citizen, "村口的路灯坏了一个星期")
        number = number_in(await server.wait_for_message(citizen.chat_id, contains="工单编号"))
        queued = await server.wait_for_message(OFFICE, contains=number)
        server.push_contact(citizen, "13812345678", "赵", user_id=citizen.id)
        await server.wait_for_message(citizen.chat_id, contains="138****5678")
        server.push_photo(citizen, caption="路灯的照片")
        await server.wait_for_message(citizen.chat_id, contains="已附加到工单")
        await pick_department(world, queued, "村镇规划建设")
        card = await server.wait_for_message(ROADS_CHAT, contains="138****5678")
        assert "13812345678" not in card["text"]
        photo = await server.wait_for_message(
            ROADS_CHAT, predicate=lambda m: "photo" in m and m.get("caption") == "路灯的照片"
        )
        assert photo["reply_to_message"]["message_id"] == card["message_id"]
        await bot.app.delivery.idle()  # type: ignore[union-attr]
        assert server.calls("sendDocument") == []
        assert {row.status for row in bot.rows(OutboxRow)} == {"sent"}


def _queue(bot: RunningBot, *messages: Outgoing) -> None:
    """Messages queued by another process, which died before sending them: the bot claims
    them once that process's lease runs out."""
    with bot.database.transaction() as session:
        store = SqlStore(session, instance="elsewhere")
        for message in messages:
            store.queue(message, bot.clock.now())
    bot.clock.advance(DELIVERY_LEASE + timedelta(seconds=1))


async def test_a_message_that_meets_a_bug_is_set_aside_and_the_chat_goes_on(
    world: World,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A document without a file (what a shared contact once became) fails in the transport
    with a KeyError: it is tried a bounded number of times, then set aside as failed with its
    error, logged once with its ticket, reported to the office, and the message queued after
    it goes out."""
    server, citizen = world.server, world.citizen
    caplog.set_level(logging.WARNING)
    async with running_bot(server, database_url, config, clock) as bot:
        server.push_text(citizen, "桥边的护栏断了")
        number = number_in(await server.wait_for_message(citizen.chat_id, contains="工单编号"))
        [ticket] = bot.rows(TicketRow)
        _queue(
            bot,
            Outgoing(
                chat_id=ROADS_CHAT,
                method=Method.SEND_DOCUMENT,
                ticket_id=ticket.id,
                purpose="attachment",
            ),
            Outgoing(chat_id=ROADS_CHAT, text="排在后面的消息", ticket_id=ticket.id),
        )

        def poisoned() -> OutboxRow:
            [row] = bot.rows(OutboxRow, OutboxRow.method == "sendDocument")
            assert isinstance(row, OutboxRow)
            return row

        for attempt in range(1, UNEXPECTED_ATTEMPTS):
            await bot.until(lambda: poisoned().attempts == attempt)  # noqa: B023 (awaited)
            clock.advance(timedelta(minutes=1))
        await server.wait_for_message(ROADS_CHAT, contains="排在后面的消息")
        report = await server.wait_for_message(OFFICE, contains="程序错误")
        assert number in report["text"]
        assert "KeyError" in report["text"]
        await bot.until(lambda: poisoned().status == "failed")
        row = poisoned()
        assert row.attempts == UNEXPECTED_ATTEMPTS
        assert "KeyError" in (row.error or "")
        # Nothing comes back for it, however long the bot runs.
        clock.advance(timedelta(hours=1))
        await asyncio.sleep(0.3)
        assert poisoned().status == "failed"
    set_aside = messages(caplog, "set aside as failed")
    assert len(set_aside) == 1
    assert f"ticket {ticket.id}" in set_aside[0].getMessage()
    assert set_aside[0].exc_info is not None  # the traceback, once
    assert [r for r in caplog.records if r.exc_info and r is not set_aside[0]] == []
    assert len(messages(caplog, "程序错误")) == 0  # the office's text is not logged as well


# -- Telegram's 429 (item 24) ---------------------------------------------------------------------


async def test_a_chat_waiting_out_a_429_sends_nothing_until_its_time_is_up_and_keeps_order(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    citizen = fake_telegram.user(4001)
    fake_telegram.fail_next("sendMessage", status=429, retry_after=5, chat_id=citizen.chat_id)
    async with running_bot(fake_telegram, database_url, hotline_config, clock) as bot:
        fake_telegram.push_text(citizen, "菜市场门口的下水道堵了")
        throttled = await fake_telegram.wait_for_call("sendMessage", lambda c: c.failed)
        assert throttled.status == 429
        await bot.until(lambda: bot.rows(OutboxRow)[0].attempts == 1)
        fake_telegram.push_text(citizen, "/help")
        await fake_telegram.wait_for_updates_confirmed()
        await bot.until(lambda: len(bot.rows(OutboxRow)) == 2)
        for _ in range(4):  # 4 s of the 5: the chat sends nothing, also not the newer reply
            clock.advance(timedelta(seconds=1))
            await fake_telegram.assert_no_message(citizen.chat_id, within=0.2)
        clock.advance(timedelta(seconds=2))
        await bot.until(lambda: len(fake_telegram.sent_messages(citizen.chat_id)) == 2)
        first, second = fake_telegram.sent_messages(citizen.chat_id)
        assert "诉求已受理" in first["text"]  # in the order queued
        assert "可用命令" in second["text"]
        attempts = [c for c in fake_telegram.calls("sendMessage")]
        assert len(attempts) == 3  # the throttled one, then each message once


# -- a crash in a burst (item 25) -----------------------------------------------------------------


async def test_a_crash_sends_again_nothing_telegram_had_accepted(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """30 citizens at once, and the process dies before any of its sends is recorded in the
    database. The next start records what its journal holds: once every lease has run out,
    no citizen gets their answer twice."""
    journal = tmp_path / "delivery.journal"
    citizens = [fake_telegram.user(4100 + n) for n in range(30)]

    def killed(session: Any, sent: Any) -> None:  # dead before any record commits
        raise RuntimeError("the process was killed")

    with monkeypatch.context() as patched:
        patched.setattr(outbox, "mark_sent", killed)
        async with running_bot(
            fake_telegram, database_url, hotline_config, clock, journal=journal
        ) as bot:
            for citizen in citizens:
                fake_telegram.push_text(citizen, "/start")
            await bot.until(lambda: len(fake_telegram.calls("sendMessage")) == 30, 10)
            delivery = bot.app.delivery
            assert delivery is not None

            async def die(timeout: float = 0) -> None:  # no flushing, no goodbye: killed
                for task in [*delivery._tasks, *delivery._chat_tasks.values()]:
                    task.cancel()

            delivery.stop = die  # type: ignore[method-assign]
    dead = Database(database_url)
    try:
        with dead.read() as session:  # none of the sends recorded
            assert set(session.scalars(select(OutboxRow.status))) == {"pending"}
    finally:
        dead.dispose()
    assert len(journal.read_text().splitlines()) == 30

    clock.advance(DELIVERY_LEASE * 2)  # every lease of the dead process has run out
    async with running_bot(
        fake_telegram, database_url, hotline_config, clock, journal=journal
    ) as again:
        await again.app.delivery.poll_once()  # type: ignore[union-attr]
        await again.app.delivery.idle()  # type: ignore[union-attr]
        assert {row.status for row in again.rows(OutboxRow)} == {"sent"}
    assert all(len(fake_telegram.sent_messages(c.chat_id)) == 1 for c in citizens)
    assert journal.read_text() == ""


async def test_no_more_than_a_handful_of_sends_are_in_flight(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    """What a crash can still send twice is what Telegram was answering at that moment: at
    most IN_FLIGHT_SENDS calls at once, however many chats have something to send."""
    answer_after = 0.4
    fake_telegram.delay_next("sendMessage", answer_after, count=30)
    citizens = [fake_telegram.user(4300 + n) for n in range(30)]
    async with running_bot(fake_telegram, database_url, hotline_config, clock) as bot:
        for citizen in citizens:
            fake_telegram.push_text(citizen, "/start")
        await bot.until(lambda: all(fake_telegram.sent_messages(c.chat_id) for c in citizens), 15)
    answered = sorted(call.at for call in fake_telegram.calls("sendMessage"))
    # Every call took answer_after: all answered within a shorter window were under way at
    # its start, so none of those windows may hold more than IN_FLIGHT_SENDS answers.
    most = max(
        sum(1 for t in answered if first <= t < first + answer_after / 2) for first in answered
    )
    assert most <= IN_FLIGHT_SENDS
    assert len(answered) == 30


# -- a webhook left set, a 409 (item 21) ----------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_webhook_left_set_is_deleted_and_said_so(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
    transport: TransportName,
) -> None:
    caplog.set_level(logging.WARNING)
    setter = fake_telegram.aiogram_bot(DEFAULT_TOKEN)
    try:
        await setter.set_webhook("https://hooks.example.org/s3cret-path")
    finally:
        await setter.session.close()
    citizen = fake_telegram.user(4201)
    fake_telegram.push_text(citizen, "/start")  # waiting while the webhook was set: kept
    async with running_bot(fake_telegram, database_url, hotline_config, clock, transport=transport):
        await fake_telegram.wait_for_message(citizen.chat_id)
        assert fake_telegram.webhook() is None
    [said] = messages(caplog, "webhook is set")
    assert "hooks.example.org" in said.getMessage()
    assert "s3cret" not in caplog.text
    assert [c for c in fake_telegram.calls("getUpdates") if c.status == 409] == []


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_another_process_polling_is_named_as_such(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
    transport: TransportName,
) -> None:
    caplog.set_level(logging.WARNING)
    fake_telegram.fail_next(
        "getUpdates",
        status=409,
        description="Conflict: terminated by other getUpdates request; make sure that only "
        "one bot instance is running",
    )
    citizen = fake_telegram.user(4202)
    async with running_bot(fake_telegram, database_url, hotline_config, clock, transport=transport):
        fake_telegram.push_text(citizen, "/start")
        await fake_telegram.wait_for_message(citizen.chat_id, timeout=5)
    [said] = messages(caplog, "409 Conflict")
    assert "another process is polling with this bot token" in said.getMessage()
    assert "stop the other one" in said.getMessage()


# -- an update the library cannot read (item 23) ---------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_unreadable_update_is_logged_once_confirmed_and_skipped(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
    transport: TransportName,
) -> None:
    """A message without chat and date (an older self-hosted Bot API server): the bot neither
    dies nor loops on it, and the citizen's next message is answered."""
    caplog.set_level(logging.WARNING)
    citizen = fake_telegram.user(4301, first_name="钱阿姨")
    broken = fake_telegram.push_raw(
        {"message": {"message_id": 9, "from": citizen.to_dict(), "text": "电话13812345678"}}
    )
    async with running_bot(
        fake_telegram, database_url, hotline_config, clock, transport=transport
    ) as bot:
        fake_telegram.push_text(citizen, "/start")
        await fake_telegram.wait_for_message(citizen.chat_id)
        await fake_telegram.wait_for_updates_confirmed()
        await asyncio.sleep(0.3)  # a few more polls: the update does not come back
        assert not bot.task.done()
    [logged] = messages(caplog, f"update {broken.update_id} could not be read")
    assert "chat" in logged.getMessage() or "date" in logged.getMessage()  # what is missing
    assert "13812345678" not in caplog.text
    assert "钱阿姨" not in caplog.text


# -- the database going away (item 26) ------------------------------------------------------------


@contextmanager
def database_down(database: Database) -> Iterator[threading.Event]:
    """Every statement fails as with a lost connection until the event is set."""
    back = threading.Event()

    def refuse(*args: Any) -> None:
        if not back.is_set():
            raise OperationalError("SELECT", {}, ConnectionError("server closed the connection"))

    event.listen(database.engine, "before_cursor_execute", refuse)
    try:
        yield back
    finally:
        back.set()
        event.remove(database.engine, "before_cursor_execute", refuse)


async def test_a_database_outage_is_logged_once_as_it_starts_and_once_as_it_ends(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    citizens = [fake_telegram.user(4400 + n) for n in range(3)]
    async with running_bot(fake_telegram, database_url, hotline_config, clock) as bot:
        with database_down(bot.database) as back:
            for citizen in citizens:
                fake_telegram.push_text(citizen, "/start")
            await asyncio.sleep(3.0)
            during = [r for r in caplog.records if r.levelno >= logging.INFO]
            back.set()
            for citizen in citizens:
                await fake_telegram.wait_for_message(citizen.chat_id, timeout=20)
    assert len(messages(caplog, "the database is unavailable")) == 1
    assert len(messages(caplog, "the database is back")) == 1
    assert [r for r in during if r.exc_info] == []
    assert len(during) <= 3, [r.getMessage() for r in during]


async def test_a_message_whose_look_up_meets_the_database_down_is_not_set_aside(
    database: Database,
    clock: FixedClock,
    sent_journal: SentJournal,
) -> None:
    """An outage is not the message's fault: a reply whose original is looked up while the
    database is down waits for it, even with its tries for a bug nearly used up."""
    with database.transaction() as session:
        store = SqlStore(session, instance="test")
        original = store.queue_with_id(Outgoing(chat_id=42, text="原消息"), clock.now())
    with database.transaction() as session:
        outbox.mark_sent(session, [(original, 500, clock.now())])
    with database.transaction() as session:
        store = SqlStore(session, instance="test")
        store.queue(Outgoing(chat_id=42, text="回复", reply_to_outbox_id=original), clock.now())
    [reply] = store.queued
    reply = replace(reply, attempts=UNEXPECTED_ATTEMPTS - 1)  # tried before, and failed
    sent: list[dict[str, Any]] = []

    class Recorder:
        async def send(self, message: QueuedMessage) -> int | None:
            sent.append(message.payload)
            return 600

    worker = DatabaseWorker(database)
    worker.start()
    try:
        delivery = Delivery(worker, Recorder(), journal=sent_journal, clock=clock, instance="test")
        with database_down(database):
            delivery.schedule([reply])
            await asyncio.sleep(0.3)
        await delivery.idle()
        clock.advance(DELIVERY_LEASE + timedelta(minutes=1))
        await delivery.poll_once()
        await delivery.idle()
    finally:
        await worker.stop()
    assert [payload.get("reply_to_message_id") for payload in sent] == [500]
    with database.read() as session:
        assert session.get(OutboxRow, reply.id).status == "sent"  # type: ignore[union-attr]
