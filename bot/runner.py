"""``hotline run``: wire settings, config, database and Telegram together, and serve.

Two transports speak Telegram for the same core: aiogram (the default) and
python-telegram-bot (``--transport ptb``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import BotIdentity, HotlineApp, build_hotline
from bot.delivery import Sender
from bot.desk import desk_application
from bot.desk.photos import TelegramFiles
from bot.polling import FetchFailed, Poller, Unauthorized, UpdateFeed, webhook_host
from bot.sent_journal import SentJournal
from bot.webhook import (
    DEFAULT_LISTEN,
    MAX_CONNECTIONS,
    HotlineServer,
    Listen,
    shared_secret,
    webhook_path,
)
from handlers.config import HotlineConfig
from handlers.menu import Menu, command_menus
from scheduler.clock import Clock, SystemClock
from storage.admin import office_chat
from storage.database import Database
from storage.departments import sync_departments
from storage.repository import routing_history

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The bot cannot start; the message is one line for the operator."""


class TransportName(StrEnum):
    AIOGRAM = "aiogram"
    PTB = "ptb"


@dataclass
class Transport:
    """What a Telegram library contributes: who the bot is, sending, receiving, closing."""

    identify: Callable[[], Awaitable[BotIdentity]]
    sender: Sender
    feed: Callable[[HotlineApp, BotIdentity], UpdateFeed[Any]]
    close: Callable[[], Awaitable[None]]
    set_menus: Callable[[list[Menu]], Awaitable[None]]


def aiogram_transport(token: str, api_base: str) -> Transport:
    from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError

    from bot.aiogram_transport import AiogramFeed, AiogramSender, build_bot, set_menus

    bot = build_bot(token, api_base)

    async def identify() -> BotIdentity:
        try:
            me = await bot.get_me()
        except TelegramUnauthorizedError:
            raise StartupError(
                f"the Bot API server at {api_base} refused HOTLINE_BOT_TOKEN"
            ) from None
        except (TelegramAPIError, OSError, TimeoutError) as exc:
            raise StartupError(f"cannot reach the Bot API server at {api_base}: {exc}") from None
        return BotIdentity(user_id=me.id, username=me.username)

    return Transport(
        identify=identify,
        sender=AiogramSender(bot),
        feed=lambda app, me: AiogramFeed(bot, app, me),
        close=bot.session.close,
        set_menus=lambda menus: set_menus(bot, menus),
    )


def ptb_transport(token: str, api_base: str) -> Transport:
    from telegram.error import InvalidToken, TelegramError

    from bot.ptb_transport import PtbFeed, PtbSender, build_ptb_bot, set_menus

    bot = build_ptb_bot(token, api_base)

    async def identify() -> BotIdentity:
        try:
            await bot.initialize()  # getMe
        except InvalidToken:
            raise StartupError(
                f"the Bot API server at {api_base} refused HOTLINE_BOT_TOKEN"
            ) from None
        except (TelegramError, OSError) as exc:
            raise StartupError(f"cannot reach the Bot API server at {api_base}: {exc}") from None
        return BotIdentity(user_id=bot.id, username=bot.username)

    return Transport(
        identify=identify,
        sender=PtbSender(bot),
        feed=lambda app, me: PtbFeed(bot, app, me),
        close=bot.shutdown,
        set_menus=lambda menus: set_menus(bot, menus),
    )


TRANSPORTS = {TransportName.AIOGRAM: aiogram_transport, TransportName.PTB: ptb_transport}


async def serve(
    *,
    token: str,
    api_base: str,
    config: HotlineConfig,
    database: Database,
    journal: Path,
    transport: TransportName = TransportName.AIOGRAM,
    clock: Clock | None = None,
    stop: asyncio.Event | None = None,
    instance: str | None = None,
    poll_interval: float = 1.0,
    ready: asyncio.Event | None = None,
    started: Callable[[HotlineApp], None] | None = None,
    schedule: bool = True,
    webhook: str | None = None,
    listen: Listen | None = None,
    webhook_secret: str | None = None,
    public_url: str | None = None,
    mount: Mapping[str, web.Application] | None = None,
) -> None:
    """Run the bot until ``stop`` is set (or SIGINT/SIGTERM when run from the CLI).

    ``journal`` is where delivery notes what Telegram accepted (``bot.sent_journal``). ``ready``
    is set once the bot polls for updates, and ``started`` is handed the running app (tests and
    benchmarks use both); ``schedule`` False leaves sweeps to the caller.

    With ``webhook`` (a public https URL), Telegram delivers updates to an HTTP server on
    ``listen`` (``bot.webhook``) instead of long polling; ``/healthz`` and ``/metrics`` are
    served there, and on ``listen`` in long polling too when it is given. With ``public_url``
    (where people reach that server) the web desk is served there too, under ``/desk/``;
    ``mount`` adds more sub-applications there by prefix (``hotline demo``'s ``/demo/``).
    """
    stop = stop or asyncio.Event()
    telegram = TRANSPORTS[transport](token, api_base)
    try:
        me = await telegram.identify()
        with database.transaction() as session:
            sync_departments(session, config.departments)
            history = routing_history(session, config.routing.history_size)
            office = office_chat(session)
        await _set_menus(telegram, command_menus(office))
        app = HotlineApp(
            hotline=build_hotline(config, secret=token, history=history, bot_username=me.username),
            database=database,
            clock=clock or SystemClock(),
            instance=instance,
            journal=SentJournal(journal),
        )
        app.metrics.bot_api_answered()  # getMe
        secret = shared_secret(database, webhook_secret) if webhook else ""
        await app.start(telegram.sender, poll_interval=poll_interval, schedule=schedule)
        server: HotlineServer | None = None
        try:
            feed = telegram.feed(app, me)
            if webhook or listen:
                server = HotlineServer(
                    listen=listen or Listen.parse(DEFAULT_LISTEN),
                    database=database,
                    metrics=app.metrics,
                    now=app.clock.now,
                    feed=feed if webhook else None,
                    path=webhook_path(webhook) if webhook else "/",
                    secret=secret,
                )
                if public_url:
                    server.app.add_subapp(
                        "/desk/",
                        desk_application(
                            run=app.worker.run,
                            database=database,
                            hotline=app.hotline,
                            clock=app.clock,
                            secret=token,
                            public_url=public_url,
                            files=TelegramFiles(api_base, token),
                        ),
                    )
                for prefix, subapp in (mount or {}).items():
                    server.app.add_subapp(prefix, subapp)
                await server.start()
                app.http_port = server.port
            if webhook:
                await _set_webhook(feed, webhook, secret)
                app.metrics.bot_api_answered()
            mode = f"webhook {webhook_host(webhook)}" if webhook else "long polling"
            log.info(
                "serving as @%s through %s (%s, %s)", me.username, api_base, transport.value, mode
            )
            if started is not None:
                started(app)
            if ready is not None:
                ready.set()
            if webhook:
                await stop.wait()
            else:
                await Poller(feed, watch=app.metrics).run(stop)
        finally:
            if server is not None:
                await server.stop()
            await app.stop()
    finally:
        await telegram.close()


async def _set_menus(telegram: Transport, menus: list[Menu]) -> None:
    """The "/" menus, set on every start (an office chat set since shows its menu then). A
    menu Telegram refuses is not worth stopping the hotline for: commands work without it."""
    try:
        await telegram.set_menus(menus)
    except (FetchFailed, Unauthorized) as exc:
        log.warning("could not set the command menu (%s); commands still work", exc)


async def _set_webhook(feed: UpdateFeed[Any], url: str, secret: str) -> None:
    """Every instance sets the same webhook on start (the call is idempotent): whichever
    starts last, Telegram delivers to the URL with the shared secret."""
    try:
        await feed.set_webhook(url, secret, MAX_CONNECTIONS)
    except (FetchFailed, Unauthorized) as exc:
        raise StartupError(f"Telegram refused the webhook {webhook_host(url)}: {exc}") from None


def exempt_startup_objects(_app: HotlineApp | None = None) -> None:
    """Leave what start-up built to live for good, outside the garbage collector's passes.

    aiogram, pydantic and SQLAlchemy leave ~300,000 objects after import; every full
    collection walks them all again (0.2 s here) while updates wait. For a process that
    serves until it stops (``hotline run``), not for tests that start many bots in one process.
    """
    gc.collect()
    gc.freeze()


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
