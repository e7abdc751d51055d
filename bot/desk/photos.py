"""A ticket's photos for the desk: fetched from Telegram through the Bot API (``getFile``, then
the file's download URL) and kept in memory, so the desk serves them from its own origin (the
browser never sees the bot token, and the CSP allows images of the desk only).

The cache holds at most ``limit`` bytes, least recently shown first out: the same photos are
opened again and again while a ticket is worked on, and Telegram's file links expire after an
hour anyway, so nothing is worth keeping on disk.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

import aiohttp

log = logging.getLogger(__name__)

#: The Bot API downloads files of at most 20 MB.
MAX_FILE = 20 * 1024 * 1024
CACHE_BYTES = 64 * 1024 * 1024
TIMEOUT = aiohttp.ClientTimeout(total=30)


def image_type(data: bytes) -> str | None:
    """The content type of an image the desk may show, from its first bytes; None for
    anything else (a file is never served as HTML or script)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


class TelegramFiles:
    """Files of the bot by ``file_id``, through the Bot API at ``api_base``."""

    def __init__(self, api_base: str, token: str, *, limit: int = CACHE_BYTES) -> None:
        self.api_base = api_base.rstrip("/")
        self.token = token
        self.limit = limit
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._http: aiohttp.ClientSession | None = None
        self._lock = asyncio.Lock()
        self.fetched = 0  # downloads from Telegram (the cache's misses)

    async def get(self, file_id: str) -> bytes | None:
        """The file's bytes, or None if Telegram cannot give it (too old, too big, down)."""
        if file_id in self._cache:
            self._cache.move_to_end(file_id)
            return self._cache[file_id]
        async with self._lock:  # one download of a photo two tabs ask for at once
            if file_id in self._cache:
                return self._cache[file_id]
            data = await self._download(file_id)
            if data is not None:
                self._keep(file_id, data)
            return data

    def _keep(self, file_id: str, data: bytes) -> None:
        if len(data) > self.limit:
            return
        self._cache[file_id] = data
        self._size += len(data)
        while self._size > self.limit:
            _, dropped = self._cache.popitem(last=False)
            self._size -= len(dropped)

    async def _download(self, file_id: str) -> bytes | None:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=TIMEOUT)
        try:
            async with self._http.post(
                f"{self.api_base}/bot{self.token}/getFile", data={"file_id": file_id}
            ) as response:
                answer = await response.json(content_type=None)
            if not answer.get("ok"):
                log.warning("desk: getFile refused: %s", answer.get("description"))
                return None
            path = answer["result"].get("file_path")
            if not path:
                return None
            async with self._http.get(f"{self.api_base}/file/bot{self.token}/{path}") as response:
                if response.status != 200:
                    log.warning("desk: a file download answered %s", response.status)
                    return None
                data = await response.content.read(MAX_FILE + 1)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            # The exception's text may carry the URL, and so the token: its kind only.
            log.warning("desk: could not fetch a photo from the Bot API (%s)", type(exc).__name__)
            return None
        if len(data) > MAX_FILE:
            return None
        self.fetched += 1
        return data

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
