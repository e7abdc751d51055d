"""The sweep's schedule: a run that comes due while the event loop is busy still happens."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from scheduler.service import SweepScheduler


async def test_a_sweep_due_while_the_loop_was_busy_still_runs() -> None:
    ran = asyncio.Event()

    async def sweep() -> None:
        ran.set()

    # Due five seconds ago, as when a burst keeps the loop busy past the sweep's time
    # (APScheduler's default would skip a run more than a second late).
    late = datetime.now(UTC) - timedelta(seconds=5)
    scheduler = SweepScheduler(sweep, seconds=3600, first_run=late)
    scheduler.start()
    try:
        await asyncio.wait_for(ran.wait(), 10)
    finally:
        await scheduler.stop()
    assert ran.is_set()
