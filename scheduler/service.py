"""APScheduler inside ``hotline run``: one periodic sweep that reads due work from the database.

There are no per-ticket jobs to lose: what is due is a query, and what was sent is recorded
with a unique key, so the schedule itself holds no state worth persisting. Each concern of the
sweep runs in a transaction of its own (``SweepRunner``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from handlers.context import Hotline
from handlers.reminders import SweepReport, SweepStep, office_is_open, sweep_steps
from handlers.rows import BadRow

log = logging.getLogger(__name__)

SWEEP_JOB = "hotline-sweep"


class SweepScheduler:
    """Runs ``sweep`` every ``seconds`` (and once at start: what fell due while the bot was down
    goes out when it comes back)."""

    def __init__(
        self, sweep: Callable[[], Awaitable[object]], *, seconds: int, first_run: datetime
    ) -> None:
        self._sweep = sweep
        self._running: asyncio.Future[object] | None = None
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(
            self._run,
            "interval",
            seconds=seconds,
            id=SWEEP_JOB,
            replace_existing=True,
            max_instances=1,  # a slow sweep is not overtaken by the next one
            coalesce=True,
            # Late is still due: a loop busy with a burst starts the sweep a second late, and
            # APScheduler's default (1 s grace) would skip that run with a warning.
            misfire_grace_time=None,
            next_run_time=first_run,
        )

    async def _run(self) -> None:
        # A task of its own, shielded: a bot that stops waits for the sweep's steps to end
        # (``stop``) instead of cutting one off between its transactions.
        self._running = asyncio.ensure_future(self._sweep())
        try:
            await asyncio.shield(self._running)
        except asyncio.CancelledError:
            return  # the scheduler's own task, cancelled at shutdown: stop() waits for the sweep
        except Exception:  # the next sweep retries; one bad run must not stop the schedule
            log.exception("the reminder sweep failed")

    def start(self) -> None:
        self._scheduler.start()

    async def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        running, self._running = self._running, None
        if running is not None and not running.done():
            with contextlib.suppress(Exception):  # _run logs it
                await running


# A row that failed is left out of its step for this long, then tried again (the fault may be
# mended by then: a department's chat bound, a record corrected).
BAD_ROW_PAUSE = timedelta(hours=1)
# Rows one step may fail in one sweep before the step waits for the next sweep.
BAD_ROWS_PER_SWEEP = 10


class SweepRunner:
    """Runs the sweep's steps each in a transaction of its own (``run``): a step that fails is
    logged and the others still run; a row that fails (``handlers.rows.BadRow``) is logged with
    its ticket and its step run again without it, and left out for ``BAD_ROW_PAUSE``.

    The same failure is logged with its traceback once, not every minute: a repeat is a line at
    DEBUG until the step (or row) succeeds again.
    """

    def __init__(
        self,
        run: Callable[[Callable[[Any], SweepReport]], Awaitable[SweepReport]],
        *,
        unavailable: Callable[[BaseException], bool],
    ) -> None:
        self._run = run
        self._unavailable = unavailable
        self._bad_rows: dict[str, dict[int, datetime]] = {}  # step -> row -> left out until
        self._failing: dict[str, str] = {}  # step -> its last failure, already logged

    async def sweep(
        self, hotline: Hotline, now: datetime, extra: Sequence[SweepStep] = ()
    ) -> SweepReport:
        """The core's steps, then ``extra`` ones (storage's own, such as retention)."""
        report = SweepReport(held_back=not office_is_open(hotline, now))
        for step in [*sweep_steps(hotline, now), *extra]:
            part = await self._step(step, hotline, now)
            if part is None and step.name in self._failing and self._outage(step.name):
                break  # the database is down: the next sweep tries everything again
            if part is not None:
                report.add(part)
        return report

    def _outage(self, name: str) -> bool:
        return self._failing[name].startswith("unavailable:")

    async def _step(self, step: SweepStep, hotline: Hotline, now: datetime) -> SweepReport | None:
        bad = self._bad_rows.setdefault(step.name, {})
        for row, until in list(bad.items()):
            if until <= now:
                del bad[row]  # its pause is over: try it again
        for _ in range(BAD_ROWS_PER_SWEEP + 1):
            skip = frozenset(bad)
            try:
                part = await self._run(partial(_work, step, hotline, now, skip))
            except BadRow as exc:
                if self._unavailable(exc):
                    self._failed(step.name, exc, unavailable=True)
                    return None
                bad[exc.key] = now + BAD_ROW_PAUSE
                log.error(
                    "sweep step %s: %s (ticket %s) failed and is left out for %s: %r",
                    step.name,
                    exc.concern,
                    exc.ticket_id,
                    BAD_ROW_PAUSE,
                    exc.__cause__,
                    exc_info=exc.__cause__,
                )
                continue
            except Exception as exc:
                self._failed(step.name, exc, unavailable=self._unavailable(exc))
                return None
            if self._failing.pop(step.name, None) is not None:
                log.info("sweep step %s works again", step.name)
            return part
        log.warning(
            "sweep step %s: %d rows failed in this sweep; the rest wait for the next one",
            step.name,
            BAD_ROWS_PER_SWEEP,
        )
        return None

    def _failed(self, name: str, exc: BaseException, *, unavailable: bool) -> None:
        what = f"{'unavailable:' if unavailable else ''}{type(exc).__name__}: {exc}"
        if self._failing.get(name) == what:
            log.debug("sweep step %s failed again: %s", name, what)
            return
        self._failing[name] = what
        if unavailable:
            log.warning("sweep step %s: the database is unavailable (%s)", name, exc)
        else:
            log.error("sweep step %s failed; the other steps run", name, exc_info=exc)


def _work(
    step: SweepStep, hotline: Hotline, now: datetime, skip: frozenset[int], store: Any
) -> SweepReport:
    return step.work(store, hotline, now, skip)
