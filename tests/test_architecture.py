"""The core stays framework-free: handlers/ and the calendar import no bot framework and no
database library, so they can be tested with plain values and reused by every transport."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import handlers

FORBIDDEN = ("aiogram", "telegram", "sqlalchemy", "alembic", "apscheduler", "aiohttp")
ROOT = Path(__file__).resolve().parents[1]


def core_modules() -> list[str]:
    names = [f"handlers.{m.name}" for m in pkgutil.iter_modules(handlers.__path__)]
    return [*names, "scheduler.calendar", "scheduler.deadlines", "scheduler.working_hours"]


def test_core_imports_no_framework() -> None:
    modules = core_modules()
    assert "handlers.citizen" in modules
    assert "handlers.inbox" in modules
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"bad = sorted({{m.split('.')[0] for m in sys.modules}} & set({FORBIDDEN!r}))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "", f"the core imports {result.stdout.strip()}"


def test_the_probe_would_notice_a_framework_import() -> None:
    """Guard the guard: importing the transport does pull in aiogram."""
    probe = "import sys, bot.aiogram_transport; print('aiogram' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "True"
