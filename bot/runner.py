"""``hotline run``: wire settings, config, database and Telegram together, and serve."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError

from bot.aiogram_transport import AiogramSender, Poller, build_bot, build_dispatcher
from bot.app import BotIdentity, HotlineApp, build_hotline
from handlers.config import HotlineConfig
from scheduler.clock import Clock, SystemClock
from storage.database import Database
from storage.departments import sync_departments
from storage.repository import routing_history

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The bot cannot start; the message is one line for the operator."""


async def identify(bot: Bot, api_base: str) -> BotIdentity:
    """getMe: proves the token and the Bot API server before anything else starts."""
    try:
        me = await bot.get_me()
    except TelegramUnauthorizedError:
        raise StartupError(f"the Bot API server at {api_base} refused HOTLINE_BOT_TOKEN") from None
    except (TelegramAPIError, OSError, TimeoutError) as exc:
        raise StartupError(f"cannot reach the Bot API server at {api_base}: {exc}") from None
    return BotIdentity(user_id=me.id, username=me.username)


async def serve(
    *,
    token: str,
    api_base: str,
    config: HotlineConfig,
    database: Database,
    clock: Clock | None = None,
    stop: asyncio.Event | None = None,
    instance: str | None = None,
    poll_interval: float = 1.0,
    ready: asyncio.Event | None = None,
    started: Callable[[HotlineApp], None] | None = None,
    schedule: bool = True,
) -> None:
    """Run the bot until ``stop`` is set (or SIGINT/SIGTERM when run from the CLI).

    ``ready`` is set once the bot polls for updates, and ``started`` is handed the running app
    (tests and benchmarks use both); ``schedule`` False leaves sweeps to the caller.
    """
    stop = stop or asyncio.Event()
    bot = build_bot(token, api_base)
    try:
        me = await identify(bot, api_base)
        with database.transaction() as session:
            sync_departments(session, config.departments)
            history = routing_history(session, config.routing.history_size)
        app = HotlineApp(
            hotline=build_hotline(config, secret=token, history=history, bot_username=me.username),
            database=database,
            clock=clock or SystemClock(),
            instance=instance,
        )
        await app.start(AiogramSender(bot), poll_interval=poll_interval, schedule=schedule)
        try:
            poller = Poller(bot, build_dispatcher(app, me))
            log.info("serving as @%s through %s", me.username, api_base)
            if started is not None:
                started(app)
            if ready is not None:
                ready.set()
            await poller.run(stop)
        finally:
            await app.stop()
    finally:
        await bot.session.close()


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
