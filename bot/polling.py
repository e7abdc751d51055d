"""Long polling that acknowledges an update only after it is handled and committed.

Library pollers (aiogram's, python-telegram-bot's) confirm updates as soon as they read them,
so a crash loses whatever was in flight. Here a batch is handled concurrently (its commits
grouped by the database worker), and the next getUpdates confirms it only when every update
in it is safe. Each transport supplies a feed: how to fetch, identify, handle, and apologise.

The bot never dies of its input: an update the library cannot read (a field missing, as an
older self-hosted Bot API server may send) is logged once, confirmed and skipped. While the
database is down, the batch is left unconfirmed and fetched again, less and less often (the
database worker logs the outage once when it starts and once when it ends).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

from storage.worker import StorageUnavailable

log = logging.getLogger(__name__)

U = TypeVar("U")
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
FETCH_RETRY_MAX = 30.0  # seconds between getUpdates attempts that fail, at most
STORAGE_RETRY_FIRST = 1.0  # seconds before a batch the database could not take is fetched again …
STORAGE_RETRY_MAX = 15.0  # … doubling up to this while the database stays down

CONFLICT_OTHER_POLLER = (
    "Telegram answered 409 Conflict: another process is polling with this bot token "
    "(a second `hotline run`, or another program using the same bot); only one may poll — "
    "stop the other one"
)


class FetchFailed(Exception):
    """getUpdates failed for now (network, 5xx, another poller): try again shortly."""


class WebhookActive(FetchFailed):
    """Telegram refuses getUpdates because a webhook is set for the token."""


class Unauthorized(Exception):
    """The Bot API server refused the token: polling cannot go on."""


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An update the transport's library could not read: confirmed and skipped. ``problem``
    names the fields at fault, never their values (they may be a person's data)."""

    update_id: int
    problem: str


def unreadable_update(raw: Any, problem: str) -> Unreadable | None:
    """The record of an update that failed to parse; None if it has no update id at all."""
    update_id = raw.get("update_id") if isinstance(raw, dict) else None
    if not isinstance(update_id, int):
        log.warning("getUpdates returned an entry without an update id; skipped (%s)", problem)
        return None
    return Unreadable(update_id, problem)


class UpdateFeed(Protocol[U]):
    async def fetch(self, offset: int | None, timeout: int) -> Sequence[U | Unreadable]: ...
    def read(self, entry: Any) -> U | Unreadable | None:
        """One update as the Bot API's JSON object (from getUpdates or a webhook request)."""
        ...

    def update_id(self, update: U) -> int: ...
    async def handle(self, update: U) -> None: ...
    async def apologise(self, update: U) -> None: ...
    async def webhook_url(self) -> str: ...
    async def delete_webhook(self) -> None: ...
    async def set_webhook(self, url: str, secret: str, max_connections: int) -> None: ...


def webhook_host(url: str) -> str:
    """Where a webhook points, without its path (which often holds a secret)."""
    return urlsplit(url).netloc or "?"


class Poller(Generic[U]):
    def __init__(
        self, feed: UpdateFeed[U], *, timeout: int = 25, watch: UpdateWatch | None = None
    ) -> None:
        self.feed = feed
        self.timeout = timeout
        self.watch = watch
        self.offset: int | None = None
        self.handled = 0

    async def run(self, stop: asyncio.Event) -> None:
        await self.leave_webhook()
        delay = 0.5
        storage_delay = STORAGE_RETRY_FIRST
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
            except WebhookActive:
                await self.leave_webhook()
                continue
            except FetchFailed as exc:
                if self.watch is not None:
                    self.watch.bot_api_failed(str(exc))
                log.warning("getUpdates failed (%s); retrying in %.1fs", exc, delay)
                await _sleep_unless(stop, delay)
                delay = min(delay * 2, FETCH_RETRY_MAX)
                continue
            delay = 0.5
            if self.watch is not None:
                self.watch.bot_api_answered()
            if not updates:
                continue
            done = await asyncio.gather(*(self._handle(update) for update in updates))
            if all(done):
                self.offset = self._update_id(updates[-1]) + 1
                self.handled += len(updates)
                storage_delay = STORAGE_RETRY_FIRST
            else:
                # The database is unavailable: leave the batch unconfirmed; Telegram gives it
                # back on the next call, and updates already committed are skipped by id.
                await _sleep_unless(stop, storage_delay)
                storage_delay = min(storage_delay * 2, STORAGE_RETRY_MAX)

    async def leave_webhook(self) -> None:
        """A webhook set for the token makes Telegram refuse getUpdates (409) for as long as
        it is set: delete it (updates waiting are kept, and read here)."""
        try:
            url = await self.feed.webhook_url()
            if not url:
                return
            log.warning(
                "a webhook is set for this bot token (to %s): Telegram sends updates there and "
                "refuses long polling; deleting the webhook to poll here (updates waiting are "
                "kept). To use that webhook instead, stop this bot",
                webhook_host(url),
            )
            await self.feed.delete_webhook()
        except FetchFailed as exc:
            log.warning("could not check or delete the token's webhook (%s)", exc)

    def _update_id(self, update: U | Unreadable) -> int:
        if isinstance(update, Unreadable):
            return update.update_id
        return self.feed.update_id(update)

    async def _handle(self, update: U | Unreadable) -> bool:
        return await handle_one(self.feed, update, self.watch)


class UpdateWatch(Protocol):
    """What operators watch (bot.metrics): updates handled and how the Bot API answers."""

    def update_handled(self, seconds: float) -> None: ...
    def bot_api_answered(self) -> None: ...
    def bot_api_failed(self, reason: str) -> None: ...


async def handle_one(
    feed: UpdateFeed[U], update: U | Unreadable, watch: UpdateWatch | None = None
) -> bool:
    """One update through the feed, as long polling and the webhook both take it: True when
    it is dealt with for good (committed, or unreadable and skipped, or apologised for),
    False when the database could not take it and Telegram is to deliver it again."""
    if isinstance(update, Unreadable):
        log.warning("update %s could not be read (%s); skipped", update.update_id, update.problem)
        return True
    update_id = feed.update_id(update)
    started = time.perf_counter()
    try:
        await feed.handle(update)
    except StorageUnavailable:
        log.debug("update %s waits for the database", update_id)
        return False
    except Exception:
        log.exception("update %s could not be handled", update_id)
        try:
            await feed.apologise(update)
        except Exception:
            log.info("could not apologise for update %s", update_id)
    if watch is not None:
        watch.update_handled(time.perf_counter() - started)
    return True


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or less if the bot is asked to stop meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
