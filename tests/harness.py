"""Running the real bot (aiogram, HTTP) against the fake Bot API server inside a test."""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.app import HotlineApp
from bot.fake_bot_api import DEFAULT_TOKEN, FakeTelegramServer
from bot.runner import TransportName, serve
from bot.webhook import Listen
from handlers.config import HotlineConfig
from handlers.reminders import SweepReport
from scheduler.clock import FixedClock
from storage.database import Database
from storage.models import TicketRow


@dataclass
class RunningBot:
    server: FakeTelegramServer
    database: Database
    clock: FixedClock
    task: asyncio.Task[None]
    stop: asyncio.Event
    app: HotlineApp

    def url(self, path: str) -> str:
        """An address on the bot's HTTP server (``listen``)."""
        assert self.app.http_port is not None, "the bot was started without listen"
        return f"http://127.0.0.1:{self.app.http_port}{path}"

    async def sweep(self) -> SweepReport:
        """One reminder sweep at the clock's time, and its messages delivered."""
        report = await self.app.sweep()
        assert self.app.delivery is not None
        await self.app.delivery.idle()
        return report

    def tickets(self) -> list[TicketRow]:
        with self.database.read() as session:
            return list(session.scalars(select(TicketRow).order_by(TicketRow.id)))

    def ticket_count(self) -> int:
        with self.database.read() as session:
            return int(session.scalar(select(func.count()).select_from(TicketRow)) or 0)

    def rows(self, model: Any, *where: Any) -> list[Any]:
        with self.database.read() as session:
            return list(session.scalars(select(model).where(*where)))

    async def until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait for the bot to reach a state (e.g. a row recorded), polling the database."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"condition not met within {timeout}s")
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running_bot(
    server: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    *,
    instance: str = "test-bot",
    schedule: bool = False,
    transport: TransportName = TransportName.AIOGRAM,
    journal: Path | None = None,
    webhook: str | None = None,
    listen: Listen | None = None,
    webhook_secret: str | None = None,
    public_url: str | None = None,
) -> AsyncIterator[RunningBot]:
    """The bot, as ``hotline run`` starts it, polling the fake server until the test ends.

    Sweeps run when the test calls ``sweep()`` unless ``schedule`` starts APScheduler too.
    Each bot notes its sends in a journal of its own (as on a host of its own) unless a test
    gives ``journal``, as the same process restarting would find it.
    """
    scratch: Path | None = None
    if journal is None:
        scratch = Path(tempfile.mkdtemp(prefix="hotline-test-"))
        journal = scratch / "delivery.journal"
    database = Database(database_url)
    stop, ready = asyncio.Event(), asyncio.Event()
    apps: list[HotlineApp] = []
    task = asyncio.create_task(
        serve(
            token=DEFAULT_TOKEN,
            api_base=server.base_url,
            config=config,
            database=database,
            journal=journal,
            clock=clock,
            stop=stop,
            instance=instance,
            poll_interval=0.05,
            ready=ready,
            started=apps.append,
            schedule=schedule,
            transport=transport,
            webhook=webhook,
            listen=listen,
            webhook_secret=webhook_secret,
            public_url=public_url,
        )
    )
    try:
        started = asyncio.ensure_future(ready.wait())
        await asyncio.wait({started, task}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
        if not ready.is_set():
            started.cancel()
            if task.done():
                task.result()  # the bot failed to start: show why
            raise AssertionError("the bot did not start polling")
        yield RunningBot(server, database, clock, task, stop, apps[0])
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, 15)
        except TimeoutError:
            # A bot that cannot stop is stuck somewhere: show every thread's stack.
            faulthandler.dump_traceback(all_threads=True)
            raise
        database.dispose()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
