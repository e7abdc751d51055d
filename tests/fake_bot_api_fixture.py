"""The pytest plugin (``pytest_plugins`` in conftest) that gives every test asking for it a
started fake Bot API server (:mod:`bot.fake_bot_api`) as ``fake_telegram``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.fake_bot_api import FakeTelegramServer

__all__ = ["fake_telegram"]


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegramServer]:
    """A fresh fake Bot API server on 127.0.0.1, stopped after the test."""
    async with FakeTelegramServer() as server:
        yield server
