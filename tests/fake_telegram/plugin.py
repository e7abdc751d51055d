"""Optional pytest plugin: ``pytest_plugins = ["tests.fake_telegram.plugin"]`` in a conftest
gives every test that asks for it a started :class:`FakeTelegramServer` as ``fake_telegram``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .server import FakeTelegramServer

__all__ = ["fake_telegram"]


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegramServer]:
    """A fresh fake Bot API server on 127.0.0.1, stopped after the test."""
    async with FakeTelegramServer() as server:
        yield server
