"""Group commit: units of work from many concurrent updates share one transaction.

A commit is the expensive part of handling an update (an fsync on SQLite, a round trip on
PostgreSQL). The worker thread takes every unit of work that is waiting, runs them in one
transaction, commits once, and only then answers each caller. Nobody is told "done" before
their data is safe.

Jobs share the transaction without savepoints (each would cost two statements); if any job
fails, the batch is rolled back and every job re-run in a transaction of its own. What a
batch's jobs will do first (claim their Telegram update, look up its sender) is done for all of
them together, one statement each, before they run.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from storage.database import Database
from storage.outbox import QueuedMessage
from storage.repository import Bindings, SqlStore

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[SqlStore], Any]
_STOP = object()
_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError)


def _first_line(exc: BaseException) -> str:
    """A database error's first line: its kind, without the statement and its parameters."""
    return (str(exc).splitlines() or [type(exc).__name__])[0]


class StorageUnavailable(RuntimeError):
    """The database could not be used just now (down, locked, connection lost): try later."""


def is_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) is the database being unavailable rather than a
    fault of the work itself: a scheduled job's row is not to blame for an outage."""
    while exc is not None:
        if isinstance(exc, (StorageUnavailable, *_UNAVAILABLE)):
            return True
        exc = exc.__cause__
    return False


@dataclass(frozen=True, slots=True)
class UpdateAhead:
    """A job for a Telegram update: it begins by claiming the update (``store.claim_update``)
    and looking up who sent it, which the worker may do ahead for a whole batch."""

    update_id: int
    sender: int  # Telegram user id
    at: datetime


@dataclass(slots=True)
class _Job:
    work: Work
    future: asyncio.Future[Any]
    update: UpdateAhead | None
    result: Any = None
    error: BaseException | None = None
    committed: list[Callable[[], None]] = field(default_factory=list)


class DatabaseWorker:
    """Runs units of work on one thread, committing those that arrive together at once."""

    def __init__(
        self,
        database: Database,
        *,
        instance: str = "local",
        bindings: Bindings | None = None,
        max_batch: int = 128,
        on_commit: Callable[[list[QueuedMessage]], None] | None = None,
    ) -> None:
        self.database = database
        self.instance = instance
        self.bindings = bindings or Bindings()  # chat bindings, cached across batches
        self.max_batch = max_batch
        self.on_commit = on_commit  # handed the outbox rows each commit queued (on the loop)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.batches = 0  # for benchmarks: how many transactions the jobs needed
        self.jobs = 0
        # When the database went away (monotonic), while it stays away: the outage is logged
        # once as it starts and once as it ends, not for every job that meets it.
        self._down_since: float | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._serve, name="database-worker", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Finish what is queued, then stop the thread."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        await asyncio.to_thread(self._thread.join)
        self._thread = None

    async def run(self, work: Callable[[SqlStore], T], *, update: UpdateAhead | None = None) -> T:
        """Run ``work`` in a transaction; returns once it is committed."""
        return await self.submit(work, update=update)

    def submit(
        self, work: Callable[[SqlStore], T], *, update: UpdateAhead | None = None
    ) -> asyncio.Future[T]:
        """Queue ``work`` now (jobs run in the order submitted); the future is settled once it
        is committed."""
        if self._thread is None or self._loop is None:
            raise RuntimeError("the database worker is not running")
        future: asyncio.Future[T] = self._loop.create_future()
        self._queue.put(_Job(work, future, update))
        return future

    # -- the worker thread ---------------------------------------------------------------------

    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch: list[_Job] = [first]
            stop_after = False
            while len(batch) < self.max_batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is _STOP:
                    stop_after = True
                    break
                batch.append(job)
            try:
                self._commit_batch(batch)
            except BaseException as exc:  # never let the thread die: every later caller would hang
                log.exception("the database worker failed a batch")
                for job in batch:
                    job.error, job.committed = exc, []
                assert self._loop is not None  # narrowing only: set before the thread starts
                self._loop.call_soon_threadsafe(self._settle, batch, [])
            if stop_after:
                return

    def _commit_batch(self, batch: list[_Job]) -> None:
        queued: list[QueuedMessage] = []
        try:
            queued = self._run_in_one_transaction(batch)
        except BaseException as exc:  # any failure, also from test guards, goes to the caller
            if len(batch) > 1:
                # A job (or the commit) failed: give every job its own transaction, so one
                # job's error or conflict does not fail the others.
                if not isinstance(exc, _UNAVAILABLE):
                    log.info("a batch of %d jobs failed (%s); one by one now", len(batch), exc)
                for job in batch:
                    job.result, job.error, job.committed = None, None, []
                    self._commit_batch([job])
                return
            if isinstance(exc, _UNAVAILABLE):
                self._database_down(exc)
                error: BaseException = StorageUnavailable(_first_line(exc))
                error.__cause__ = exc
            else:
                error = exc
            batch[0].error, batch[0].committed = error, []
        else:
            self._database_back()
        for job in batch:
            for action in job.committed:
                try:
                    action()
                except Exception:
                    log.exception("an after-commit action failed")
        self.batches += 1
        self.jobs += len(batch)
        assert self._loop is not None  # narrowing only: set before the thread starts
        self._loop.call_soon_threadsafe(self._settle, batch, queued)

    def _database_down(self, exc: BaseException) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            log.error(
                "the database is unavailable (%s); updates wait unconfirmed and messages "
                "unsent until it is back",
                _first_line(exc),
            )

    def _database_back(self) -> None:
        if self._down_since is not None:
            away = time.monotonic() - self._down_since
            log.warning("the database is back after %.0f s; carrying on", away)
            self._down_since = None

    def _run_in_one_transaction(self, batch: list[_Job]) -> list[QueuedMessage]:
        """All jobs, one transaction, no savepoints: jobs rarely fail, and when one does the
        whole batch is rolled back and each job re-run alone (``_commit_batch``), so a failure
        costs a retry instead of every job paying for a SAVEPOINT. Returns the outbox rows the
        jobs queued, once committed."""
        with self.database.transaction() as session:
            store = SqlStore(session, instance=self.instance, bindings=self.bindings)
            ahead = [job.update for job in batch if job.update is not None]
            if len(ahead) > 1:
                store.claim_updates([(u.update_id, u.at) for u in ahead])
                store.look_up_citizens({u.sender for u in ahead})
            for job in batch:
                committed = len(store.committed_actions)
                job.result = job.work(store)
                job.committed = store.committed_actions[committed:]
        return store.queued

    def _settle(self, batch: list[_Job], queued: list[QueuedMessage]) -> None:
        """On the event loop: answer each caller and hand new messages to delivery."""
        for job in batch:
            if job.future.cancelled():
                continue
            if job.error is not None:
                job.future.set_exception(job.error)
            else:
                job.future.set_result(job.result)
        if queued and self.on_commit is not None:
            self.on_commit(queued)
