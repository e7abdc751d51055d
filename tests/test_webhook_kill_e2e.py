"""Two instances behind a load balancer on one PostgreSQL database, one of them a real process
killed (SIGKILL) in the middle of a burst: every request one ticket, every citizen one
confirmation, and what the design allows to go twice when the killed one does not come back.

Instance A is ``hotline run --webhook`` in a process of its own, with its own delivery journal
(as on a host of its own); B runs in the test, on a clock the test moves. The fake Bot API
server delivers the burst to both in turn, as Telegram does through nginx, and redelivers to
the other whatever got no 200.

The moment of the kill is made exact, without sleeping: A's sends are held at the fake server
(calls on their way to Telegram), the outbox table is locked so that nothing A sends can be
recorded, A's held sends are then let through so that Telegram has taken messages that only A's
journal knows about, and A is killed once each send Telegram answered is in its journal or in
the database. A's sends still held die with it; nothing else was in flight.

Several instances share PostgreSQL only (SQLite serves one instance: docs/deploy.md), so this
test runs on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import Connection, create_engine, select, text

from bot.fake_bot_api import FakeTelegramServer, FakeUser
from bot.fake_bot_api.api import SEND_LIKE_METHODS
from bot.webhook import Listen
from handlers.config import HotlineConfig
from scheduler.clock import FixedClock
from storage.database import normalize_url
from storage.models import OutboxRow, TicketRow
from storage.repository import DELIVERY_LEASE
from tests.conftest import empty_database_url
from tests.harness import RunningBot, bot_process, running_bot
from tests.test_webhook_e2e import PATH, WEBHOOK, samples

WAVE = 8  # updates per wave; a wave is spread over both instances
WAIT = 30.0  # seconds to wait for a state before failing (processes start slowly when busy)


def request_text(citizen_id: int) -> str:
    return f"{citizen_id} 号楼门口的路灯坏了，晚上很黑"


def journal_lines(path: Path) -> list[tuple[int, int]]:
    """(outbox id, Telegram message id) of each send a journal holds (bot.sent_journal)."""
    if not path.exists():
        return []
    found = []
    for line in path.read_text().splitlines():
        fields = line.split(" ")
        # A line being written as we read is not there yet (it is read again).
        if len(fields) == 3 and fields[0].isdigit() and fields[1].isdigit():
            found.append((int(fields[0]), int(fields[1])))
    return found


@contextmanager
def outbox_locked(database_url: str) -> Iterator[Connection]:
    """Nothing can insert or update outbox rows until the block ends (reads go on): the
    database is slow, and a sent message cannot be recorded."""
    engine = create_engine(normalize_url(database_url))
    try:
        with engine.connect() as connection:
            connection.execute(text("LOCK TABLE outbox IN SHARE MODE"))
            try:
                yield connection
            finally:
                connection.rollback()
    finally:
        engine.dispose()


@asynccontextmanager
async def locked_outbox(database_url: str) -> AsyncIterator[None]:
    """``outbox_locked`` taken and released in a thread: taking it waits for the instances'
    transactions, whose threads must not wait for this loop."""
    entered = asyncio.Event()
    leave = asyncio.Event()
    loop = asyncio.get_running_loop()

    def hold() -> None:
        with outbox_locked(database_url):
            loop.call_soon_threadsafe(entered.set)
            asyncio.run_coroutine_threadsafe(leave.wait(), loop).result()

    holder = asyncio.create_task(asyncio.to_thread(hold))
    try:
        await asyncio.wait_for(entered.wait(), WAIT)
        yield
    finally:
        leave.set()
        await holder


def confirmations(server: FakeTelegramServer, chat_id: int) -> int:
    return sum("工单编号" in m.get("text", "") for m in server.sent_messages(chat_id))


async def until(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Wait for ``condition()`` to hold, checking every 20 ms; fail saying ``what``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
def postgres_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """PostgreSQL only: several instances share it (docs/deploy.md), and the test holds the
    outbox with a PostgreSQL table lock."""
    return empty_database_url(request, "postgres", tmp_path)


@pytest.mark.parametrize("comes_back", [True, False], ids=["restarted", "never-back"])
async def test_an_instance_killed_mid_burst_loses_nothing_and_duplicates_only_what_it_journaled(
    fake_telegram: FakeTelegramServer,
    postgres_database_url: str,
    hotline_config: HotlineConfig,
    tmp_path: Path,
    comes_back: bool,
) -> None:
    database_url = postgres_database_url
    # B's clock starts at the real time A's leases are measured in, and moves when told.
    clock = FixedClock(datetime.now(UTC))
    citizens = [fake_telegram.user(5001 + i, language_code="zh-hans") for i in range(3 * WAVE)]
    waves = [citizens[i * WAVE : (i + 1) * WAVE] for i in range(3)]
    journal_a = tmp_path / "a" / "delivery.journal"
    journal_a.parent.mkdir()
    attempts: list[tuple[int, str, int]] = []

    def a_answered() -> int:
        return sum(1 for _, to, status in attempts if to == a.url(PATH) and status == 200)

    def a_answered_sends() -> set[tuple[int, int]]:
        """(chat, message id) of each send of A's that Telegram took."""
        return {
            (c.response["result"]["chat"]["id"], c.response["result"]["message_id"])
            for c in fake_telegram.calls()
            if c.via == "a"
            and c.ok
            and c.method.lower() in SEND_LIKE_METHODS
            and isinstance(c.response["result"], dict)
        }

    def a_sends_noted() -> bool:
        """Every send of A's that Telegram answered is in A's journal or in the database."""
        answered = a_answered_sends()
        journaled = dict(journal_lines(journal_a))
        with b.database.read() as session:
            rows = session.execute(
                select(OutboxRow.id, OutboxRow.chat_id, OutboxRow.telegram_message_id)
            ).all()
        noted = {(chat, message) for _, chat, message in rows if message is not None}
        noted |= {(chat, journaled[i]) for i, chat, _ in rows if i in journaled}
        return answered <= noted

    async with running_bot(
        fake_telegram,
        database_url,
        hotline_config,
        clock,
        instance="bot-b",
        webhook=WEBHOOK,
        listen=Listen("127.0.0.1", 0),
        journal=tmp_path / "b" / "delivery.journal",
    ) as b:
        async with bot_process(
            fake_telegram,
            database_url,
            instance="bot-a",
            journal=journal_a,
            webhook=WEBHOOK,
            via="a",
        ) as a:
            stop_pump = asyncio.Event()
            pump = asyncio.create_task(
                fake_telegram.pump_webhook(
                    [a.url(PATH), b.url(PATH)], stop_pump, retry=0.05, attempts=attempts
                )
            )
            try:
                # Wave 1: both instances take requests and confirm them.
                for citizen in waves[0]:
                    fake_telegram.push_text(citizen, request_text(citizen.id))
                await until(
                    lambda: not fake_telegram.pending_updates and a_answered() >= 1,
                    "wave 1 answered, A taking its share",
                )
                # Wave 2: A's confirmations are held on their way to Telegram.
                fake_telegram.hold(via="a")
                for citizen in waves[1]:
                    fake_telegram.push_text(citizen, request_text(citizen.id))
                await fake_telegram.wait_held(1, via="a", timeout=WAIT)
                async with locked_outbox(database_url):
                    # Wave 3 arrives while the database is slow: requests wait in both.
                    for citizen in waves[2]:
                        fake_telegram.push_text(citizen, request_text(citizen.id))
                    # Telegram takes A's held sends; A journals them and cannot record them.
                    taken = len(a_answered_sends())
                    released = fake_telegram.release_held(via="a")
                    assert released >= 1
                    await until(
                        lambda: len(a_answered_sends()) >= taken + released,
                        "Telegram answered the sends it let through",
                    )
                    await until(a_sends_noted, "A journaled what Telegram answered it")
                    await a.kill()
                    killed_with = journal_lines(journal_a)
                    # Its sends still held never reach Telegram.
                    fake_telegram.unhold(via="a", refuse=True)
                # The burst goes on: what A took and did not answer goes to B.
                await until(
                    lambda: not fake_telegram.pending_updates, "every update answered 200", 60
                )
            finally:
                stop_pump.set()
                await pump

        # A's journal holds sends the database does not know of: Telegram has them.
        with b.database.read() as session:
            unrecorded = session.scalars(
                select(OutboxRow).where(
                    OutboxRow.id.in_([i for i, _ in killed_with]), OutboxRow.status == "pending"
                )
            ).all()
            unrecorded_chats = {row.chat_id for row in unrecorded}
        assert unrecorded, "A died with no journaled send unrecorded: the test proves nothing"

        if comes_back:
            # Restarted on its host (systemd's Restart=on-failure), within the lease: its
            # journal is recorded before it sends anything.
            async with bot_process(
                fake_telegram,
                database_url,
                instance="bot-a",
                journal=journal_a,
                webhook=WEBHOOK,
                via="a",
            ) as again:
                assert any("recorded" in line and "journaled" in line for line in again.output)
                with b.database.read() as session:
                    statuses = session.scalars(
                        select(OutboxRow.status).where(
                            OutboxRow.id.in_([row.id for row in unrecorded])
                        )
                    ).all()
                assert set(statuses) == {"sent"}
                await finish_deliveries(b, fake_telegram, citizens, clock)
                assert await again.stop() == 0
        else:
            await finish_deliveries(b, fake_telegram, citizens, clock)
            # Back at last: its journal finds everything recorded, and nothing goes again.
            async with bot_process(
                fake_telegram,
                database_url,
                instance="bot-a",
                journal=journal_a,
                webhook=WEBHOOK,
                via="a",
            ) as late:
                assert any("recorded 0 sends" in line for line in late.output), late.output
                assert await late.stop() == 0

        # Every request one ticket.
        tickets = Counter(t.text for t in b.rows(TicketRow))
        assert tickets == Counter(request_text(c.id) for c in citizens)
        # Every citizen one confirmation; with A gone for good, B sends again exactly what
        # A had sent and only its journal knew of.
        expected = {
            c.id: 2 if c.chat_id in unrecorded_chats and not comes_back else 1 for c in citizens
        }
        assert {c.id: confirmations(fake_telegram, c.chat_id) for c in citizens} == expected

        async with aiohttp.ClientSession() as http:
            metrics = samples(await (await http.get(b.url("/metrics"))).text())
            health = await http.get(b.url("/healthz"))
            assert health.status == 200, await health.text()
        assert metrics["hotline_outbox_pending"] == 0
        assert metrics["hotline_tickets_open"] == len(citizens)
        assert 0 < metrics["hotline_updates_handled_total"] <= len(citizens)


async def finish_deliveries(
    b: RunningBot, server: FakeTelegramServer, citizens: list[FakeUser], clock: FixedClock
) -> None:
    """A's leases run out: B claims what A had not sent (held when it died, or queued)."""
    # A leased its rows for DELIVERY_LEASE from its own (real) clock's time, before now.
    clock.set(datetime.now(UTC) + DELIVERY_LEASE + timedelta(seconds=1))
    assert b.app.delivery is not None
    delivery = b.app.delivery
    await delivery.poll_once()
    await until(
        lambda: all(confirmations(server, c.chat_id) >= 1 for c in citizens),
        "every citizen confirmed",
    )
    await delivery.idle()
