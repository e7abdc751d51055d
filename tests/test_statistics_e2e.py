"""Supervisors' statistics in Telegram: /stats (table and chart), /export (workbook), the
daily digest, and alerts that fire once."""

from __future__ import annotations

import asyncio
import io
import threading
from datetime import datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.fake_bot_api import FakeTelegramServer
from handlers.config import HotlineConfig
from handlers.reports import StatisticsReport
from scheduler.calendar import SHANGHAI
from scheduler.clock import FixedClock
from storage.statistics import compute_statistics
from tests.harness import running_bot
from tests.test_quality_e2e import resolve
from tests.world import OFFICE, ROADS_CHAT, World


async def test_stats_and_export_for_supervisors_only(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock):
        await resolve(world, "路灯坏了", "路灯已修复", 71)
        phone_owner = server.user(72)
        server.push_contact(phone_owner, "13912345678", "钱", user_id=phone_owner.id)
        await server.wait_for_message(phone_owner.chat_id, contains="139****5678")
        server.push_text(phone_owner, "桥面有裂缝")
        await server.wait_for_message(phone_owner.chat_id, contains="工单编号")

        server.push_text(world.supervisor, "/stats month", chat_id=OFFICE)
        table = await server.wait_for_message(OFFICE, contains="12345")
        assert "2026-11" in table["text"]
        chart = await server.wait_for_message(OFFICE, predicate=lambda m: "photo" in m)
        png = server.file(chart["photo"][-1]["file_id"])
        assert png is not None
        assert png.content[:8] == b"\x89PNG\r\n\x1a\n"

        server.push_text(world.supervisor, "/export 2026-11", chat_id=OFFICE)
        document = await server.wait_for_message(OFFICE, predicate=lambda m: "document" in m)
        assert document["document"]["file_name"].endswith(".xlsx")
        stored = server.file(document["document"]["file_id"])
        assert stored is not None
        book = load_workbook(io.BytesIO(stored.content), read_only=True)
        cells = [
            str(c)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for c in row
            if c is not None
        ]
        assert any("139****5678" in c for c in cells)
        assert not any("13912345678" in c for c in cells)

        server.push_text(world.supervisor, "/stats 2026-13", chat_id=OFFICE)
        assert "2026-13" in (await server.wait_for_message(OFFICE))["text"]

        server.push_text(world.roads, "/stats", chat_id=ROADS_CHAT)
        assert "督办" in (await server.wait_for_message(ROADS_CHAT))["text"]
        server.push_text(world.roads, "/export", chat_id=ROADS_CHAT)
        assert "督办" in (await server.wait_for_message(ROADS_CHAT))["text"]


async def test_the_daily_digest_comes_once_at_opening(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
) -> None:
    server = fake_telegram
    async with running_bot(server, database_url, config, clock) as bot:
        await resolve(world, "井盖丢了", "井盖已补装", 81)
        server.push_text(server.user(82), "垃圾没人收")
        await server.wait_for_message(server.user(82).chat_id, contains="工单编号")
        clock.set(datetime(2026, 11, 30, 8, 0, tzinfo=SHANGHAI))  # Monday, before 08:30
        assert not (await bot.sweep()).digest_sent
        clock.set(datetime(2026, 11, 30, 8, 31, tzinfo=SHANGHAI))
        assert (await bot.sweep()).digest_sent
        digest = await server.wait_for_message(OFFICE, contains="每日简报")
        # Monday's digest covers Friday to Sunday: the two requests of Friday.
        assert "2026-11-27" in digest["text"]
        assert not (await bot.sweep()).digest_sent


async def test_a_report_being_counted_holds_up_no_request(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A year's report over a million tickets takes about a second to count. It is counted
    as it is sent, on a connection of its own: citizens' requests go on meanwhile."""
    counting, finish = threading.Event(), threading.Event()

    def slow_count(*args: Any, **kwargs: Any) -> StatisticsReport:
        counting.set()
        finish.wait(10)
        return compute_statistics(*args, **kwargs)

    monkeypatch.setattr("bot.renderers.compute_statistics", slow_count)
    server = fake_telegram
    async with running_bot(server, database_url, config, clock):
        try:
            server.push_text(world.supervisor, "/stats month", chat_id=OFFICE)
            assert await asyncio.to_thread(counting.wait, 10)
            citizen = server.user(91)
            server.push_text(citizen, "路灯坏了")
            await server.wait_for_message(citizen.chat_id, contains="工单编号")
        finally:
            finish.set()
        table = await server.wait_for_message(
            OFFICE, predicate=lambda m: "2026-11" in m.get("text", "")
        )
        assert "12345" in table["text"]
        chart = await server.wait_for_message(OFFICE, predicate=lambda m: "photo" in m)
        assert "2026-11" in chart["caption"]
