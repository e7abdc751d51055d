"""Running the real bot (aiogram, HTTP) against the fake Bot API server inside a test."""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import os
import re
import shutil
import signal
import sys
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

ROOT = Path(__file__).resolve().parents[1]
_LISTENING = re.compile(r"listening on [^ ]+:(\d+)")


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
        # The first bot of a test session imports aiogram (or PTB): seconds on a busy machine.
        await asyncio.wait({started, task}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
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


@dataclass
class BotProcess:
    """``hotline run`` in a process of its own, as on a host of its own: it can be killed."""

    process: asyncio.subprocess.Process
    port: int
    output: list[str]  # its log lines so far
    reader: asyncio.Task[None]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def kill(self) -> None:
        """SIGKILL: no flushing, no goodbye; the operating system closes its connections."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.process.wait(), 30)

    async def stop(self) -> int:
        """SIGTERM, as systemd stops it; its exit status."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 30)


@contextlib.asynccontextmanager
async def bot_process(
    server: FakeTelegramServer,
    database_url: str,
    *,
    instance: str,
    journal: Path,
    webhook: str,
    via: str,
    transport: TransportName = TransportName.AIOGRAM,
) -> AsyncIterator[BotProcess]:
    """``hotline run --webhook`` as an operator starts it, in a new process listening on a
    free port; its Bot API calls are recorded with ``via``. Killed when the test ends."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")} | {
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "HOTLINE_BOT_TOKEN": DEFAULT_TOKEN,
        "HOTLINE_TELEGRAM_API": server.base_url_for(via),
        "HOTLINE_DATABASE_URL": database_url,
        "HOTLINE_INSTANCE": instance,
        "HOTLINE_DELIVERY_JOURNAL": str(journal),
        "HOTLINE_WEBHOOK_URL": webhook,
        "HOTLINE_LISTEN": "127.0.0.1:0",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "bot", "run", "--transport", transport.value),
        env=env,
        cwd=journal.parent,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output: list[str] = []
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    serving = asyncio.Event()

    async def read() -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip()
            output.append(line)
            if (found := _LISTENING.search(line)) and not port.done():
                port.set_result(int(found.group(1)))
            if "serving as @" in line:
                serving.set()

    reader = asyncio.create_task(read())
    waits = {asyncio.ensure_future(process.wait()), asyncio.ensure_future(serving.wait())}
    try:
        await asyncio.wait(waits, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if not serving.is_set():
            raise AssertionError("the bot process did not start:\n" + "\n".join(output))
        yield BotProcess(process, port.result(), output, reader)
    finally:
        for waiting in waits:
            waiting.cancel()
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
            await process.wait()
        await asyncio.wait_for(reader, 10)
