"""APScheduler inside ``hotline run``: one periodic sweep that reads due work from the database.

There are no per-ticket jobs to lose: what is due is a query, and what was sent is recorded
with a unique key, so the schedule itself holds no state worth persisting.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

SWEEP_JOB = "hotline-sweep"


class SweepScheduler:
    """Runs ``sweep`` every ``seconds`` (and once at start: what fell due while the bot was down
    goes out when it comes back)."""

    def __init__(
        self, sweep: Callable[[], Awaitable[object]], *, seconds: int, first_run: datetime
    ) -> None:
        self._sweep = sweep
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(
            self._run,
            "interval",
            seconds=seconds,
            id=SWEEP_JOB,
            replace_existing=True,
            max_instances=1,  # a slow sweep is not overtaken by the next one
            coalesce=True,
            next_run_time=first_run,
        )

    async def _run(self) -> None:
        try:
            await self._sweep()
        except Exception:  # the next sweep retries; one bad run must not stop the schedule
            log.exception("the reminder sweep failed")

    def start(self) -> None:
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
