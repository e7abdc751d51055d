"""The desk served next to a running bot, and a real browser (the system's Chromium, driven by
Playwright: no browser is ever downloaded)."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

from bot.desk import desk_application
from bot.desk.photos import TelegramFiles
from bot.fake_bot_api import DEFAULT_TOKEN
from handlers.desk import new_login_link
from storage.repository import SqlStore
from tests.harness import RunningBot

CHROMIUM = Path(os.environ.get("HOTLINE_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).parent / "artifacts"
LAPTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
LINK = re.compile(r"https?://\S+/desk/login\?token=[\w-]+")


def require_chromium() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM}: .ci/run installs the distribution's package")
        pytest.skip(f"the browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Desk:
    base: str  # the public URL: http://127.0.0.1:PORT
    bot: RunningBot
    files: TelegramFiles | None = None

    def url(self, path: str = "/desk/") -> str:
        return f"{self.base}{path}"

    def link_for(self, telegram_user_id: int) -> str:
        """A sign-in link, as ``hotline desk link`` prints it."""
        with self.bot.database.transaction() as session:
            url, _ = new_login_link(
                SqlStore(session), self.base, telegram_user_id, self.bot.clock.now()
            )
        return url


@contextlib.asynccontextmanager
async def serving_desk(bot: RunningBot, api_base: str | None = None) -> AsyncIterator[Desk]:
    """The desk mounted as the bot's own server mounts it, on a local port; with ``api_base``
    (the fake Bot API's URL) it fetches photos from there."""
    port = _free_port()
    files = TelegramFiles(api_base, DEFAULT_TOKEN) if api_base else None
    base = f"http://127.0.0.1:{port}"
    root = web.Application()
    root.add_subapp(
        "/desk/",
        desk_application(
            run=bot.app.worker.run,
            database=bot.database,
            hotline=bot.app.hotline,
            clock=bot.clock,
            secret=DEFAULT_TOKEN,
            public_url=base,
            files=files,
        ),
    )
    runner = web.AppRunner(root)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield Desk(base, bot, files)
    finally:
        await runner.cleanup()


def _fontconfig(scratch: Path) -> Path:
    """The system's fonts and the Noto CJK font the package already depends on (for charts),
    so that screenshots show Chinese where the machine has no CJK font of its own."""
    import noto_cjk_sans_otc

    conf = scratch / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{Path(noto_cjk_sans_otc.FONT_PATH).parent}</dir>\n"
        f"  <cachedir>{scratch / 'cache'}</cachedir>\n"
        "</fontconfig>\n",
        encoding="utf-8",
    )
    return conf


@contextlib.asynccontextmanager
async def browser() -> AsyncIterator[Browser]:
    require_chromium()
    with tempfile.TemporaryDirectory(prefix="hotline-chromium-") as scratch:
        env: dict[str, str | float | bool] = {
            **os.environ,
            "FONTCONFIG_FILE": str(_fontconfig(Path(scratch))),
        }
        async with async_playwright() as playwright:
            launched = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"], env=env
            )
            try:
                yield launched
            finally:
                await launched.close()


async def screenshot(page: Page, name: str) -> Path:
    """The page at a laptop's and a phone's size, under tests/artifacts/ (not committed); at
    both it must fit the width (no sideways scrolling: usable on a phone)."""
    ARTIFACTS.mkdir(exist_ok=True)
    saved = ARTIFACTS
    for size in (LAPTOP, PHONE):
        await page.set_viewport_size(size)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{name} is {width} px wide at {size['width']} px"
        path = ARTIFACTS / f"desk-{name}-{size['width']}x{size['height']}.png"
        await page.screenshot(path=str(path), full_page=True)
        saved = path
    await page.set_viewport_size(LAPTOP)
    return saved
