"""The bot's HTTP server: Telegram's webhook, ``/healthz`` and ``/metrics``.

One aiohttp server for both transports. A webhook request carries the same JSON object as one
entry of getUpdates, and goes through the same per-update path as long polling
(``bot.polling.handle_one``): Telegram is answered 200 only once the update is committed (or
unreadable and skipped), and 503 while the database cannot take it, so that Telegram delivers
it again; an update delivered twice is handled once (``processed_updates``).

Several instances behind a load balancer share one database: the webhook secret is kept there
(``settings``) unless ``HOTLINE_WEBHOOK_SECRET`` sets it, so every instance checks the same one.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import IntegrityError

from bot.metrics import Metrics
from bot.polling import UpdateFeed, handle_one
from storage.database import Database
from storage.models import SettingRow

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_SECRET_KEY = "webhook_secret"
DEFAULT_LISTEN = "0.0.0.0:8080"
# Telegram's most (its default is 40): an update's request waits for its commit, and the
# commits of updates arriving together are grouped (storage.worker), so more requests in
# flight make fuller batches rather than more work (bench.intake's webhook row).
MAX_CONNECTIONS = 100


class ListenError(ValueError):
    """``--listen`` is not HOST:PORT; the message is one line for the operator."""


@dataclass(frozen=True)
class Listen:
    host: str
    port: int

    @classmethod
    def parse(cls, value: str) -> Listen:
        host, sep, port = value.strip().rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ListenError(f"--listen must be HOST:PORT, like {DEFAULT_LISTEN} (got {value!r})")
        return cls(host.strip("[]") or "0.0.0.0", int(port))


def webhook_path(url: str) -> str:
    """Where the server listens for Telegram: the path of the public webhook URL."""
    return urlsplit(url).path or "/"


def check_webhook_url(url: str) -> str:
    """The URL, or a one-line ValueError: Telegram delivers webhooks over HTTPS only."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError(f"--webhook must be an https:// URL (Telegram requires it); got {url!r}")
    return url


def shared_secret(database: Database, configured: str | None) -> str:
    """The webhook's secret token: the configured one, else the one kept in the database, made
    now by the first instance to start (Telegram allows 1-256 characters A-Z a-z 0-9 _ -)."""
    if configured:
        return configured
    with database.read() as session:
        stored = session.get(SettingRow, WEBHOOK_SECRET_KEY)
        if stored is not None:
            return stored.value
    try:
        with database.transaction() as session:
            session.add(SettingRow(key=WEBHOOK_SECRET_KEY, value=secrets.token_urlsafe(32)))
    except IntegrityError:
        pass  # another instance made it at the same moment: theirs is the one
    with database.read() as session:
        row = session.get(SettingRow, WEBHOOK_SECRET_KEY)
        if row is None:
            raise LookupError("the webhook secret was removed as it was made")
        return row.value


class HotlineServer:
    """The aiohttp server: the webhook when ``feed`` is given, health and metrics always."""

    def __init__(
        self,
        *,
        listen: Listen,
        database: Database,
        metrics: Metrics,
        now: Callable[[], datetime],
        feed: UpdateFeed[Any] | None = None,
        path: str = "/",
        secret: str = "",
    ) -> None:
        self.listen = listen
        self.database = database
        self.metrics = metrics
        self.now = now
        self.feed = feed
        self.secret = secret
        self.port = listen.port
        self._runner: web.AppRunner | None = None
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        if feed is not None:
            app.router.add_post(path, self._webhook)
        self.app = app

    async def start(self) -> None:
        runner = web.AppRunner(app=self.app, access_log=None, handle_signals=False)
        await runner.setup()
        sock = socket.socket(socket.AF_INET6 if ":" in self.listen.host else socket.AF_INET)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.listen.host, self.listen.port))
            self.port = sock.getsockname()[1]
            await web.SockSite(runner, sock).start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._runner = runner
        log.info("listening on %s:%d", self.listen.host, self.port)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _webhook(self, request: web.Request) -> web.Response:
        assert self.feed is not None  # narrowing only: set by start(), before requests come
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("a webhook request without the right secret token was refused")
            return web.Response(status=401, text="wrong secret token")
        try:
            entry = json.loads(await request.read())
        except ValueError:
            # Not JSON: Telegram never sends that, and sending it again would not help.
            log.warning("a webhook request whose body is not JSON was skipped")
            return web.Response(status=200)
        update = self.feed.read(entry)
        if update is None:
            return web.Response(status=200)
        if await handle_one(self.feed, update, self.metrics):
            return web.Response(status=200)
        # The database could not take it: Telegram retries, and nothing is lost.
        return web.Response(status=503, text="the database is unavailable; retry")

    async def _healthz(self, request: web.Request) -> web.Response:
        health = await self.metrics.health(self.database)
        body = {"status": "ok" if health.healthy else "failing", "checks": health.checks}
        return web.json_response(body, status=200 if health.healthy else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        try:
            body = await self.metrics.render(self.database, self.now())
        except Exception as exc:
            log.warning("metrics could not be read from the database: %s", type(exc).__name__)
            return web.Response(status=503, text="the database is unavailable")
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
