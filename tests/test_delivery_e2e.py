"""Nothing is lost or sent twice: Telegram errors, restarts and a second instance."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.delivery import LIST_WHEN_BUSY, MAX_ATTEMPTS, Delivery
from bot.fake_bot_api import FakeTelegramServer
from bot.runner import TransportName
from bot.sent_journal import SentJournal
from handlers.config import HotlineConfig
from handlers.outgoing import Outgoing
from scheduler.clock import FixedClock
from storage.admin import list_departments, office_chat
from storage.database import Database
from storage.models import CitizenRow, OutboxRow
from storage.outbox import QueuedMessage
from storage.repository import SqlStore
from storage.worker import DatabaseWorker
from tests.harness import running_bot
from tests.world import OFFICE, ROADS_CHAT, World, button, number_in, pick_department


def confirmations(server: FakeTelegramServer, chat_id: int) -> list[dict[str, object]]:
    return [m for m in server.sent_messages(chat_id) if "工单编号" in str(m.get("text"))]


async def test_429_and_5xx_are_retried_until_delivered_once(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    citizen = fake_telegram.user(3001)
    fake_telegram.fail_next("sendMessage", status=429, retry_after=3)
    fake_telegram.fail_next("sendMessage", status=502)
    async with running_bot(fake_telegram, database_url, hotline_config, clock) as bot:
        fake_telegram.push_text(citizen, "水库边的护栏被冲坏了")
        failed = await fake_telegram.wait_for_call("sendMessage", lambda c: c.failed)
        assert failed.status == 429
        await bot.until(lambda: bot.rows(OutboxRow)[0].attempts == 1)
        # Telegram said "retry after 3 s": nothing is sent before that.
        clock.advance(timedelta(seconds=2))
        await fake_telegram.assert_no_message(citizen.chat_id, within=0.3)
        clock.advance(timedelta(seconds=2))
        second = await fake_telegram.wait_for_call("sendMessage", lambda c: c.failed)
        assert second.status == 502
        await bot.until(lambda: bot.rows(OutboxRow)[0].attempts == 2)
        clock.advance(timedelta(minutes=1))
        await fake_telegram.wait_for_message(citizen.chat_id, contains="工单编号")
        await asyncio.sleep(0.3)
        assert len(confirmations(fake_telegram, citizen.chat_id)) == 1
        [row] = bot.rows(OutboxRow)
        assert (row.status, row.attempts) == ("sent", 2)
        assert row.telegram_message_id is not None


async def test_telegram_asking_to_wait_again_and_again_never_loses_the_message(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    """Errors are retried a bounded number of times; Telegram's "retry after" is waiting, not
    failing: a message throttled more often than that still goes out."""
    citizen = fake_telegram.user(3009)
    throttled = MAX_ATTEMPTS + 2
    fake_telegram.fail_next("sendMessage", status=429, retry_after=1, count=throttled)
    async with running_bot(fake_telegram, database_url, hotline_config, clock) as bot:
        fake_telegram.push_text(citizen, "暴雨后小区地下车库进水了")

        def attempts() -> int:
            return int(bot.rows(OutboxRow)[0].attempts)

        for tries in range(1, throttled + 1):
            await fake_telegram.wait_for_call("sendMessage", lambda c: c.failed)
            await bot.until(lambda: attempts() == tries)  # noqa: B023 (awaited here)
            clock.advance(timedelta(seconds=2))
        await fake_telegram.wait_for_message(citizen.chat_id, contains="工单编号")
    assert len(confirmations(fake_telegram, citizen.chat_id)) == 1


async def test_a_citizen_who_blocked_the_bot_does_not_stall_delivery(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    blocker = fake_telegram.user(3002)
    other = fake_telegram.user(3003)
    async with running_bot(fake_telegram, database_url, hotline_config, clock) as bot:
        fake_telegram.push_text(blocker, "/start")
        await fake_telegram.wait_for_message(blocker.chat_id)
        fake_telegram.block(blocker.id)
        fake_telegram.push_text(blocker, "/help")
        fake_telegram.block(blocker.id)  # pushing unblocks, as in the apps: block again
        await fake_telegram.wait_for_call("sendMessage", lambda c: c.status == 403)
        fake_telegram.push_text(other, "/start")
        await fake_telegram.wait_for_message(other.chat_id)
        await asyncio.sleep(0.3)
        [citizen] = bot.rows(CitizenRow, CitizenRow.telegram_user_id == blocker.id)
        assert citizen.blocked_at is not None
        statuses = {row.status for row in bot.rows(OutboxRow, OutboxRow.chat_id == blocker.id)}
        assert statuses == {"sent", "failed"}


async def test_messages_left_by_a_stopped_bot_go_out_after_restart(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    citizen = fake_telegram.user(3004)
    fake_telegram.fail_next("sendMessage", status=500, count=1)
    async with running_bot(fake_telegram, database_url, hotline_config, clock, instance="first"):
        fake_telegram.push_text(citizen, "学校门口的减速带坏了")
        await fake_telegram.wait_for_call("sendMessage", lambda c: c.failed)
    assert confirmations(fake_telegram, citizen.chat_id) == []
    clock.advance(timedelta(minutes=5))
    async with running_bot(
        fake_telegram, database_url, hotline_config, clock, instance="second"
    ) as bot:
        await fake_telegram.wait_for_message(citizen.chat_id, contains="工单编号")
        assert bot.ticket_count() == 1
    assert len(confirmations(fake_telegram, citizen.chat_id)) == 1


async def test_an_update_delivered_to_two_instances_makes_one_ticket(
    database_url: str, hotline_config: HotlineConfig, clock: FixedClock
) -> None:
    """Two bot processes on one database both receive the same update (a redelivery after a
    crash, or a polling hand-over): one ticket, one confirmation."""
    update = {
        "update_id": 777,
        "message": {
            "message_id": 10,
            "date": 1795000000,
            "chat": {"id": 3005, "type": "private", "first_name": "李"},
            "from": {"id": 3005, "is_bot": False, "first_name": "李", "language_code": "zh"},
            "text": "河道里有人倾倒垃圾",
        },
    }
    async with (
        FakeTelegramServer() as one,
        FakeTelegramServer() as two,
        running_bot(one, database_url, hotline_config, clock, instance="one") as bot,
        running_bot(two, database_url, hotline_config, clock, instance="two"),
    ):
        one.push_raw(update)
        two.push_raw(update)
        await one.wait_for_updates_confirmed()
        await two.wait_for_updates_confirmed()
        await asyncio.sleep(0.5)
        assert bot.ticket_count() == 1
        sent = confirmations(one, 3005) + confirmations(two, 3005)
        assert len(sent) == 1
        with bot.database.read() as session:
            assert len(session.scalars(select(OutboxRow)).all()) == 1


async def test_messages_waiting_behind_a_slow_send_are_not_sent_twice(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    """A chat's messages go out one after another. When a slow send outlasts the delivery
    lease, neither the message in flight nor those waiting behind it may be claimed again."""
    citizen = fake_telegram.user(3006)
    fake_telegram.delay_next("sendMessage", 1.5, chat_id=citizen.chat_id)
    async with running_bot(fake_telegram, database_url, hotline_config, clock) as bot:
        for _ in range(3):
            fake_telegram.push_text(citizen, "/help")
        await fake_telegram.wait_for_updates_confirmed()
        await bot.until(lambda: len(bot.rows(OutboxRow)) == 3)
        clock.advance(timedelta(minutes=5))  # every lease taken so far has run out
        await bot.until(lambda: len(fake_telegram.sent_messages(citizen.chat_id)) >= 3)
        await asyncio.sleep(0.5)  # room for a duplicate to show
        assert len(fake_telegram.sent_messages(citizen.chat_id)) == 3
        with bot.database.read() as session:
            statuses = session.scalars(select(OutboxRow.status)).all()
        assert statuses == ["sent"] * 3


async def test_a_second_instance_does_not_take_messages_still_in_hand(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    """The instance holding a chat's messages renews their leases while they wait, so another
    instance polling the same database leaves them alone, however long the wait."""
    citizen = fake_telegram.user(3007)
    fake_telegram.delay_next("sendMessage", 3.0, chat_id=citizen.chat_id)
    async with (
        FakeTelegramServer() as other_server,
        running_bot(fake_telegram, database_url, hotline_config, clock, instance="first") as bot,
    ):
        for _ in range(3):
            fake_telegram.push_text(citizen, "/help")
        await bot.until(lambda: len(bot.rows(OutboxRow)) == 3)
        async with running_bot(
            other_server, database_url, hotline_config, clock, instance="second"
        ):
            for _ in range(3):  # 90 s in all, each step shorter than the 60 s lease
                clock.advance(timedelta(seconds=30))
                await asyncio.sleep(0.3)  # both instances poll meanwhile
            await bot.until(lambda: len(fake_telegram.sent_messages(citizen.chat_id)) >= 3)
            await asyncio.sleep(0.3)
        assert len(fake_telegram.sent_messages(citizen.chat_id)) == 3
        assert other_server.sent_messages(citizen.chat_id) == []


async def test_a_message_handed_over_twice_is_sent_once(
    database: Database,
    clock: FixedClock,
    sent_journal: SentJournal,
) -> None:
    """A claim can hand delivery a message it already holds (its lease ran out while it waited,
    say the clock jumped before the lease was renewed): it is sent once."""
    sent: list[int] = []

    class Recorder:
        async def send(self, message: QueuedMessage) -> int | None:
            sent.append(message.id)
            await asyncio.sleep(0.05)  # still in hand when handed over again
            return 1000 + message.id

    worker = DatabaseWorker(database)
    worker.start()
    try:
        delivery = Delivery(worker, Recorder(), journal=sent_journal, clock=clock, instance="test")
        first = QueuedMessage(1, 42, "sendMessage", {"text": "一"}, None, 0)
        second = QueuedMessage(2, 42, "sendMessage", {"text": "二"}, None, 0)
        delivery.schedule([first, second])
        await asyncio.sleep(0.01)  # the first is being sent, the second waits behind it
        delivery.schedule([first, second])
        await delivery.idle()
        assert sent == [1, 2]
    finally:
        await worker.stop()


async def test_a_message_sent_and_not_yet_recorded_is_not_sent_again(
    database: Database,
    clock: FixedClock,
    sent_journal: SentJournal,
) -> None:
    """The record of a send waits behind a busy database while a claim hands the message
    back (its lease ran out: the clock jumped): it is not sent again."""
    sent: list[int] = []
    first_sent = asyncio.Event()

    class Recorder:
        async def send(self, message: QueuedMessage) -> int | None:
            sent.append(message.id)
            first_sent.set()
            return 1000 + message.id

    worker = DatabaseWorker(database)
    worker.start()
    gate = threading.Event()
    try:
        delivery = Delivery(worker, Recorder(), journal=sent_journal, clock=clock, instance="test")
        message = QueuedMessage(1, 42, "sendMessage", {"text": "一"}, None, 0)
        busy = worker.submit(lambda store: gate.wait(10))  # the record waits behind this
        delivery.schedule([message])
        await first_sent.wait()
        await asyncio.sleep(0.05)  # sent; the chat's task is done, the record still waits
        delivery.schedule([message], claimed=True)
        await asyncio.sleep(0.05)
        gate.set()
        await busy
        await delivery.idle()
        assert sent == [1]
    finally:
        gate.set()
        await worker.stop()


def upgrade_to_supergroup(server: FakeTelegramServer, group: int, supergroup: int) -> None:
    """Telegram's answer to a message for a group that became ``supergroup``."""
    server.fail_next(
        "sendMessage",
        status=400,
        description="Bad Request: group chat was upgraded to a supergroup chat",
        parameters={"migrate_to_chat_id": supergroup},
        chat_id=group,
    )


def remove_bot_from(server: FakeTelegramServer, group: int, *, count: int = 1) -> None:
    """Telegram's answer to the next ``count`` messages for a group that removed the bot."""
    server.fail_next(
        "sendMessage",
        status=403,
        description="Forbidden: bot was kicked from the group chat",
        chat_id=group,
        count=count,
    )


@pytest.mark.parametrize("transport", [TransportName.AIOGRAM, TransportName.PTB])
async def test_a_group_upgraded_to_a_supergroup_is_followed(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
    transport: TransportName,
) -> None:
    """A group that becomes a supergroup gets a new id, and Telegram refuses messages to the
    old one, naming the new: the office's binding and its unsent messages follow it."""
    server, supergroup = fake_telegram, -1001000
    server.group(supergroup, "热线办")
    upgrade_to_supergroup(server, OFFICE, supergroup)
    async with running_bot(server, database_url, config, clock, transport=transport) as bot:
        server.push_text(world.citizen, "村口小桥的栏杆断了一截")
        await server.wait_for_message(supergroup, contains="待派单")
        other = server.user(3008)
        server.push_text(other, "菜市场门口的下水道堵了")  # after the move: straight there
        await server.wait_for_message(supergroup, contains="下水道")
        with bot.database.read() as session:
            assert office_chat(session) == supergroup
    to_office = [c for c in server.calls("sendMessage") if c.params.get("chat_id") == OFFICE]
    assert len(to_office) == 1  # the refused one
    assert len(server.sent_messages(supergroup)) == 2


async def test_a_department_group_upgraded_to_a_supergroup_gets_its_card(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server, supergroup = fake_telegram, -1002000
    server.group(supergroup, "建设中心工作群")
    upgrade_to_supergroup(server, ROADS_CHAT, supergroup)
    async with running_bot(server, database_url, config, clock) as bot:
        server.push_text(world.citizen, "村口小桥的栏杆断了一截")
        queued = await server.wait_for_message(OFFICE, contains="待派单")
        await pick_department(world, queued, "村镇规划建设")
        card = await server.wait_for_message(supergroup, contains=f"工单 {number_in(queued)}")
        assert button(card, "签收")
        with bot.database.read() as session:
            chats = {d.code: d.chat_id for d in list_departments(session)}
        assert chats["roads"] == supergroup
    assert server.sent_messages(ROADS_CHAT) == []


async def test_the_office_hears_when_a_department_group_removed_the_bot(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    """A card Telegram refuses for good (403: the bot was removed from the department's group)
    would wait unseen: the office is told which ticket, once, and may re-dispatch it."""
    server = fake_telegram
    remove_bot_from(server, ROADS_CHAT, count=5)
    # Long enough for the card to come with a second message, the full text: one notice.
    request = "村口小桥的栏杆断了一截，孩子上学要经过，很危险。" * 130
    async with running_bot(server, database_url, config, clock) as bot:
        server.push_text(world.citizen, request)
        queued = await server.wait_for_message(OFFICE, contains="待派单")
        number = number_in(queued)
        await pick_department(world, queued, "村镇规划建设")
        notice = await server.wait_for_message(OFFICE, contains="无法向")
        assert number in notice["text"]
        assert "村镇规划建设服务中心的工作群" in notice["text"]
        await bot.until(lambda: len([c for c in server.calls("sendMessage") if c.failed]) == 2)
        await asyncio.sleep(0.3)
    notices = [m for m in server.sent_messages(OFFICE) if "无法向" in m["text"]]
    assert len(notices) == 1  # once per ticket


async def test_supervisors_hear_when_the_office_group_removed_the_bot(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    remove_bot_from(server, OFFICE)
    async with running_bot(server, database_url, config, clock):
        server.push_text(world.citizen, "村口小桥的栏杆断了一截")
        confirmation = await server.wait_for_message(world.citizen.chat_id, contains="工单编号")
        notice = await server.wait_for_message(world.supervisor.chat_id, contains="无法向")
        assert "热线办的群" in notice["text"]
        assert number_in(confirmation) in notice["text"]


async def test_sends_made_while_the_database_is_busy_are_recorded_together(
    database: Database,
    clock: FixedClock,
    sent_journal: SentJournal,
) -> None:
    """One job records the sends: queued at the first, it takes all made until it runs (one
    statement for many, and still ahead of any update that arrives after them)."""
    with database.transaction() as session:
        store = SqlStore(session, instance="test")
        for n in range(5):
            store.queue(Outgoing(chat_id=100, text=f"第{n}条"), clock.now())
    queued = store.queued
    sent: list[int] = []
    all_sent = asyncio.Event()

    class Recorder:
        async def send(self, message: QueuedMessage) -> int | None:
            await asyncio.sleep(0.01)  # as over HTTP: each send ends in a later loop turn
            sent.append(message.id)
            if len(sent) == len(queued):
                all_sent.set()
            return 1000 + message.id

    worker = DatabaseWorker(database)
    worker.start()
    try:
        delivery = Delivery(worker, Recorder(), journal=sent_journal, clock=clock, instance="test")
        gate = threading.Event()
        busy = worker.submit(lambda store: gate.wait(10))
        delivery.schedule(queued)  # one chat: sent one after another, in turn
        await asyncio.wait_for(all_sent.wait(), 10)
        gate.set()
        await busy
        await delivery.idle()
    finally:
        await worker.stop()
    with database.read() as session:
        rows = session.execute(select(OutboxRow.status, OutboxRow.telegram_message_id)).all()
    assert sorted(rows) == sorted(("sent", 1000 + m.id) for m in queued)


async def test_only_a_busy_groups_listable_messages_go_as_lists(
    database: Database,
    clock: FixedClock,
    sent_journal: SentJournal,
) -> None:
    """A group is busy after LIST_WHEN_BUSY messages within a minute. Then its waiting new cards
    go as lists, in order, except a card that something waiting edits or replies to; a
    private chat never gets lists."""
    group, person = -5, 5
    sent: list[tuple[int, str]] = []
    hold = asyncio.Event()
    hold.set()

    class Recorder:
        async def send(self, message: QueuedMessage) -> int | None:
            await hold.wait()
            sent.append((message.chat_id, message.payload["text"]))
            return 1000 + len(sent)

    def card(outbox_id: int, chat_id: int) -> QueuedMessage:
        payload = {"text": f"card {outbox_id}", "summary": f"line {outbox_id}"}
        return QueuedMessage(outbox_id, chat_id, "sendMessage", payload, outbox_id, 0)

    def lister(chat_id: int, entries: list[tuple[int | None, str]]) -> dict[str, object]:
        return {"text": "list " + ",".join(str(ticket) for ticket, _ in entries)}

    worker = DatabaseWorker(database)
    worker.start()
    try:
        delivery = Delivery(
            worker, Recorder(), journal=sent_journal, clock=clock, instance="test", lister=lister
        )
        for i in range(1, LIST_WHEN_BUSY + 1):  # one at a time: each on its own
            delivery.schedule([card(i, group), card(100 + i, person)])
            await delivery.idle()
        hold.clear()
        delivery.schedule([card(11, group)])
        await asyncio.sleep(0.01)  # 11 is on its way; what follows waits behind it
        edit = QueuedMessage(
            16, group, "editMessageText", {"text": "edited", "edit_outbox_id": 13}, 13, 0
        )
        delivery.schedule([card(i, group) for i in (12, 13, 14, 15)] + [edit])
        delivery.schedule([card(i, person) for i in (111, 112, 113)])
        hold.set()
        await delivery.idle()
    finally:
        await worker.stop()
    to_group = [text for chat, text in sent if chat == group]
    assert to_group[LIST_WHEN_BUSY:] == [
        "card 11",
        "card 12",  # a list of one is the card itself
        "card 13",  # the edit that waits needs the card sent on its own
        "list 14,15",
        "edited",
    ]
    assert [text for chat, text in sent if chat == person][-3:] == [
        "card 111",
        "card 112",
        "card 113",
    ]
