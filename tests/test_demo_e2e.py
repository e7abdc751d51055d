"""``hotline demo`` end to end (SQLite only, as the demo runs): the command prints a URL that
serves /demo/; in a real browser a visitor writes as a citizen, dispatches as the office, signs
for and answers as staff, and the answer reaches the citizen's pane — all through the real bot
and its database; forged input is refused; the bot's formatting is shown, citizen text escaped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Page, expect

from bot.demo.app import CSP, formatted
from bot.demo.stage import run_demo
from bot.webhook import Listen
from scheduler.clock import FixedClock
from tests.conftest import TEST_NOW
from tests.desk_browser import ARTIFACTS, LAPTOP, PHONE, browser
from tests.test_cli import assert_one_line_error, hotline

ROOT = Path(__file__).resolve().parents[1]
REQUEST = "幸福路的路灯坏了一个星期了，晚上很黑"
ANSWER = "已安排电工今晚更换灯泡，明天起恢复照明"
URL = re.compile(r"http://127\.0\.0\.1:\d+/demo/")
TAG = re.compile(r"<[^>]+>")
WAIT_MS = 20_000


@contextlib.asynccontextmanager
async def running_demo(workdir: Path) -> AsyncIterator[str]:
    """The demo as ``hotline demo`` runs it, in this process, on a free port; yields its URL."""
    stop, announced = asyncio.Event(), asyncio.Event()
    urls: list[str] = []

    def announce(url: str) -> None:
        urls.append(url)
        announced.set()

    task = asyncio.create_task(
        run_demo(
            listen=Listen("127.0.0.1", 0),
            stop=stop,
            announce=announce,
            workdir=workdir,
            clock=FixedClock(TEST_NOW),
        )
    )
    try:
        up = asyncio.ensure_future(announced.wait())
        await asyncio.wait({up, task}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if not announced.is_set():
            up.cancel()
            if task.done():
                task.result()  # the demo failed to start: show why
            raise AssertionError("the demo did not start")
        yield urls[0]
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def live_until(
    session: aiohttp.ClientSession, url: str, pane: str, condition: Callable[[str], bool]
) -> str:
    """The pane's HTML once ``condition`` holds, following the page's own long poll."""
    version = ""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        async with session.get(f"{url}live", params={"after": version}) as response:
            assert response.status == 200
            body = await response.json()
        html = str(body["panes"][pane])
        if condition(html):
            return html
        assert loop.time() < deadline, f"the {pane} pane did not change as expected:\n{html}"
        version = body["version"]


async def pane_text(session: aiohttp.ClientSession, url: str, pane: str, contains: str) -> str:
    """The pane's text once it contains ``contains``."""
    html = await live_until(session, url, pane, lambda h: contains in TAG.sub(" ", h))
    return TAG.sub(" ", html)


def scratch_dirs(where: Path) -> list[str]:
    return [p.name for p in where.iterdir() if p.name.startswith("hotline-demo-")]


async def test_hotline_demo_prints_a_url_that_serves_the_demo(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "demo",
        "--listen",
        "127.0.0.1:0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        # No token, no database: none is needed. The temporary directory is watched.
        env=clean | {"PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)},
        cwd=tmp_path,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 90)).decode()
        found = URL.search(line)
        assert found, line + (await process.stderr.read()).decode()
        url = found.group()
        assert scratch_dirs(tmp_path)
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as response:
                assert response.status == 200
                assert response.headers["Content-Security-Policy"] == CSP
                page = await response.text()
            assert "群众与机器人的私聊" in page
            assert "12345 热线办" in page
            async with session.post(
                f"{url}say", data={"pane": "citizen", "text": REQUEST}, allow_redirects=False
            ) as response:
                assert response.status == 303
            citizen = await pane_text(session, url, "citizen", "工单编号")
            assert REQUEST in citizen
            await pane_text(session, url, "office", "待派单")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        stderr = (await asyncio.wait_for(process.stderr.read(), 30)).decode()
        code = await asyncio.wait_for(process.wait(), 30)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    # The database and the journal went with it.
    assert not scratch_dirs(tmp_path)


def test_hotline_demo_refuses_bad_options_in_one_line(tmp_path: Path) -> None:
    assert "demo" in hotline("--help").stdout
    assert_one_line_error(hotline("demo", "--listen", "nowhere", cwd=tmp_path), "HOST:PORT")
    assert_one_line_error(hotline("demo", "--transport", "carrier-pigeon", cwd=tmp_path), "ptb")


async def test_a_visitor_plays_citizen_staff_and_supervisor(tmp_path: Path) -> None:
    async with running_demo(tmp_path) as url, browser() as chromium:
        page = await (await chromium.new_context(viewport=LAPTOP)).new_page()
        await page.goto(url)
        assert await page.inner_text("#citizen h2") == "群众与机器人的私聊"

        await page.fill("#citizen textarea", REQUEST)
        await page.press("#citizen textarea", "Enter")
        citizen = page.locator("#live-citizen")
        await expect(citizen).to_contain_text("工单编号", timeout=WAIT_MS)
        await expect(page.locator("#citizen textarea")).to_have_value("")

        # The router is not sure enough alone: the office picks the suggested department.
        queued = page.locator("#live-office .message", has_text="待派单")
        await queued.locator("button", has_text="村镇规划建设服务中心").click(timeout=WAIT_MS)
        card = page.locator("#live-department .message", has_text=REQUEST).last
        await card.locator("button", has_text="签收").click(timeout=WAIT_MS)
        await expect(citizen).to_contain_text("签收", timeout=WAIT_MS)
        await card.locator("button", has_text="办结").click(timeout=WAIT_MS)

        # The bot asks for the answer as a force-reply: the group's composer replies to it.
        replying = page.locator("#department .replying")
        await expect(replying).to_be_visible(timeout=WAIT_MS)
        await expect(replying).to_contain_text("办结工单", timeout=WAIT_MS)
        await page.fill("#department textarea", ANSWER)
        await page.click("#department .composer button[type=submit]")
        await expect(citizen).to_contain_text(ANSWER, timeout=WAIT_MS)
        await expect(page.locator("#live-department")).to_contain_text("已办结", timeout=WAIT_MS)
        await screenshots(page, "demo")

        await page.click("a.lang")
        await expect(page.locator("#citizen h2")).to_have_text("A citizen's private chat")
        await page.click("a.lang")
        await expect(page.locator("#citizen h2")).to_have_text("群众与机器人的私聊")


async def screenshots(page: Page, name: str) -> None:
    """The page at a laptop's and a phone's size, under tests/artifacts/ (not committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    for size in (LAPTOP, PHONE):
        await page.set_viewport_size(size)
        path = ARTIFACTS / f"{name}-{size['width']}x{size['height']}.png"
        await page.screenshot(path=str(path), full_page=size is PHONE)
    await page.set_viewport_size(LAPTOP)


async def test_forged_or_foreign_input_is_refused(tmp_path: Path) -> None:
    async with running_demo(tmp_path) as url, aiohttp.ClientSession() as session:
        by_script = {"X-Requested-With": "demo"}
        for path, form in [
            ("press", {"pane": "department", "message_id": "999", "data": "sign:1"}),
            ("press", {"pane": "department", "message_id": "x", "data": "sign:1"}),
            ("say", {"pane": "somebody", "text": "hello"}),
            ("share", {"pane": "citizen", "what": "password"}),
        ]:
            async with session.post(f"{url}{path}", data=form, headers=by_script) as response:
                assert response.status == 409, (path, form)
                assert "刷新" in (await response.json())["error"]
        elsewhere = {"Origin": "http://attacker.example"}
        async with session.post(
            f"{url}say", data={"pane": "citizen", "text": "hi"}, headers=elsewhere
        ) as response:
            assert response.status == 403
        async with session.post(
            f"{url}say",
            data={"pane": "citizen", "text": "<script>alert(1)</script> 路灯坏了"},
            headers=by_script,
        ) as response:
            assert response.status == 204
        citizen = await live_until(session, url, "citizen", lambda h: "工单编号" in h)
        assert "<script>" not in citizen
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in citizen


def test_the_bots_formatting_is_shown_and_the_text_escaped() -> None:
    text = "工单 20261207-0001 <b>\n详情 https://example.org 👍 粗体"
    entities = [
        {"type": "bold", "offset": 0, "length": 16},
        {"type": "url", "offset": 24, "length": 19},
        # after an emoji (two UTF-16 code units)
        {"type": "italic", "offset": 47, "length": 2},
        {"type": "text_link", "offset": 3, "length": 8, "url": "javascript:alert(1)"},
    ]
    html = str(formatted(text, entities))
    assert html.startswith("<b>工单 20261207-0001</b>")
    assert "&lt;b&gt;" in html
    assert '<a href="https://example.org" rel="noopener noreferrer">https://example.org</a>' in html
    assert html.endswith("<i>粗体</i>")
    assert "javascript" not in html


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_page_speaks_the_visitors_language(tmp_path: Path, lang: str) -> None:
    # unsafe: the jar keeps cookies of an IP address (127.0.0.1), as browsers do
    jar = aiohttp.CookieJar(unsafe=True)
    async with running_demo(tmp_path) as url, aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(f"{url}lang/{lang}") as response:
            page = await response.text()
        assert ("Write a request as a citizen" in page) == (lang == "en")
        async with session.post(
            f"{url}say", data={"pane": "citizen", "text": "/start"}, allow_redirects=False
        ) as response:
            assert response.status == 303
        # The bot answers in the language the visitor's "Telegram app" reports.
        text = await pane_text(session, url, "citizen", "12345")
        assert bool(re.search(r"[A-Za-z]{4,} [A-Za-z]{4,}", text.split("/start", 1)[1])) == (
            lang == "en"
        )


async def test_a_chart_the_bot_sends_opens_from_the_pane(tmp_path: Path) -> None:
    async with running_demo(tmp_path) as url, aiohttp.ClientSession() as session:
        async with session.post(
            f"{url}say", data={"pane": "office", "text": "/stats month"}, allow_redirects=False
        ) as response:
            assert response.status == 303
        office = await live_until(session, url, "office", lambda h: "<img " in h)
        found = re.search(r'<img src="([^"]+)"', office)
        assert found, office
        async with session.get(url.removesuffix("/demo/") + found.group(1)) as response:
            assert response.status == 200
            assert response.content_type.startswith("image/")
            assert (await response.read()).startswith(b"\x89PNG")
