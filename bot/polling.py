"""Long polling that acknowledges an update only after it is handled and committed.

Library pollers (aiogram's, python-telegram-bot's) confirm updates as soon as they read them,
so a crash loses whatever was in flight. Here a batch is handled concurrently (its commits
grouped by the database worker), and the next getUpdates confirms it only when every update
in it is safe. Each transport supplies a feed: how to fetch, identify, handle, and apologise.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar

from storage.worker import StorageUnavailable

log = logging.getLogger(__name__)

U = TypeVar("U")
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


class FetchFailed(Exception):
    """getUpdates failed for now (network, 5xx, another poller): try again shortly."""


class Unauthorized(Exception):
    """The Bot API server refused the token: polling cannot go on."""


class UpdateFeed(Protocol[U]):
    async def fetch(self, offset: int | None, timeout: int) -> Sequence[U]: ...
    def update_id(self, update: U) -> int: ...
    async def handle(self, update: U) -> None: ...
    async def apologise(self, update: U) -> None: ...


class Poller(Generic[U]):
    def __init__(self, feed: UpdateFeed[U], *, timeout: int = 25) -> None:
        self.feed = feed
        self.timeout = timeout
        self.offset: int | None = None
        self.handled = 0

    async def run(self, stop: asyncio.Event) -> None:
        delay = 0.5
        while not stop.is_set():
            fetch = asyncio.ensure_future(self.feed.fetch(self.offset, self.timeout))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetch.done():
                fetch.cancel()
                await asyncio.gather(fetch, return_exceptions=True)
                return
            try:
                updates = fetch.result()
            except FetchFailed as exc:
                log.warning("getUpdates failed (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
                continue
            delay = 0.5
            if not updates:
                continue
            done = await asyncio.gather(*(self._handle(update) for update in updates))
            if all(done):
                self.offset = self.feed.update_id(updates[-1]) + 1
                self.handled += len(updates)
            else:
                # The database is unavailable: leave the batch unconfirmed; Telegram gives it
                # back on the next call, and updates already committed are skipped by id.
                await asyncio.sleep(1.0)

    async def _handle(self, update: U) -> bool:
        """True when the update is dealt with for good, False to have it redelivered."""
        update_id = self.feed.update_id(update)
        try:
            await self.feed.handle(update)
        except StorageUnavailable as exc:
            log.error("update %s not handled, the database is unavailable: %s", update_id, exc)
            return False
        except Exception:
            log.exception("update %s could not be handled", update_id)
            try:
                await self.feed.apologise(update)
            except Exception:
                log.info("could not apologise for update %s", update_id)
        return True
