"""The database worker: updates waiting together share one commit, and one update's failure
undoes neither the others' data nor their answers (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import select

from handlers.outgoing import Outgoing
from storage.database import Database
from storage.models import OutboxRow, ProcessedUpdateRow
from storage.outbox import QueuedMessage
from storage.repository import SqlStore
from storage.worker import DatabaseWorker, UpdateAhead

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def _claim(update_id: int, store: SqlStore) -> bool:
    return store.claim_update(update_id, NOW)


def _claim_then_fail(update_id: int, store: SqlStore) -> bool:
    store.claim_update(update_id, NOW)
    raise ValueError("a bug met this update")


def _claimed(database: Database) -> set[int]:
    with database.read() as session:
        return set(session.scalars(select(ProcessedUpdateRow.update_id)))


async def _while_busy(
    worker: DatabaseWorker, submit_rest: Callable[[], list[asyncio.Future[bool]]]
) -> list[asyncio.Future[bool]]:
    """Hold the worker on a first job while ``submit_rest`` queues the others, so that they
    wait together the way a burst of updates does."""
    gate = threading.Event()
    first = worker.submit(lambda store: gate.wait(10))
    rest = submit_rest()
    gate.set()
    assert await first is True
    return rest


async def test_updates_waiting_together_share_one_commit(database: Database) -> None:
    worker = DatabaseWorker(database)
    worker.start()
    try:
        rest = await _while_busy(
            worker, lambda: [worker.submit(partial(_claim, i)) for i in range(1, 21)]
        )
        assert await asyncio.gather(*rest) == [True] * 20
        assert worker.jobs == 21
        assert worker.batches <= 2  # the first job's transaction, then the other twenty's
    finally:
        await worker.stop()
    assert _claimed(database) == set(range(1, 21))


async def test_one_failing_update_takes_no_other_down(database: Database) -> None:
    worker = DatabaseWorker(database)
    worker.start()
    try:
        rest = await _while_busy(
            worker,
            lambda: [
                *(worker.submit(partial(_claim, i)) for i in range(1, 6)),
                worker.submit(partial(_claim_then_fail, 999)),
                *(worker.submit(partial(_claim, i)) for i in range(6, 11)),
            ],
        )
        results = await asyncio.gather(*rest, return_exceptions=True)
    finally:
        await worker.stop()
    failed = results.pop(5)
    assert isinstance(failed, ValueError)
    assert results == [True] * 10
    # The good updates are committed; the failing one's own change is not.
    assert _claimed(database) == set(range(1, 11))


async def test_a_redelivered_update_is_claimed_once(database: Database) -> None:
    worker = DatabaseWorker(database)
    worker.start()
    try:
        rest = await _while_busy(
            worker, lambda: [worker.submit(partial(_claim, 7)) for _ in range(3)]
        )
        assert await asyncio.gather(*rest) == [True, False, False]
    finally:
        await worker.stop()


async def test_a_batchs_updates_are_claimed_together(database: Database) -> None:
    """The updates waiting together are claimed at once; each job still learns whether its
    update was new: a repeat within the batch and one handled before are refused."""
    worker = DatabaseWorker(database)
    worker.start()
    try:
        assert await worker.run(partial(_claim, 5), update=UpdateAhead(5, 5, NOW)) is True
        updates = [1, 2, 3, 2, 4, 5, 6]
        rest = await _while_busy(
            worker,
            lambda: [
                worker.submit(partial(_claim, u), update=UpdateAhead(u, u, NOW)) for u in updates
            ],
        )
        results = await asyncio.gather(*rest)
    finally:
        await worker.stop()
    assert results == [True, True, True, False, True, False, True]
    assert _claimed(database) == {1, 2, 3, 4, 5, 6}


def _answer(update_id: int, store: SqlStore, *, fail: bool = False) -> bool:
    claimed = store.claim_update(update_id, NOW)
    store.queue(Outgoing(chat_id=update_id, text=f"回复 {update_id}"), NOW)
    if fail:
        raise ValueError("a bug met this update")
    return claimed


async def test_a_failed_batch_sends_each_answer_once(database: Database) -> None:
    """Answers wait in the batch's transaction until it commits; when a job fails and the
    others are re-run one by one, each good answer is written, and handed to delivery, once."""
    handed: list[QueuedMessage] = []
    worker = DatabaseWorker(database, instance="bot-1", on_commit=handed.extend)
    worker.start()
    try:
        rest = await _while_busy(
            worker,
            lambda: [
                worker.submit(partial(_answer, u, fail=u == 3), update=UpdateAhead(u, u, NOW))
                for u in (1, 2, 3, 4)
            ],
        )
        results = await asyncio.gather(*rest, return_exceptions=True)
    finally:
        await worker.stop()
    assert results[:2] == [True, True]
    assert isinstance(results[2], ValueError)
    assert results[3] is True
    with database.read() as session:
        written = sorted(session.scalars(select(OutboxRow.chat_id)))
    assert written == [1, 2, 4]
    assert sorted(m.chat_id for m in handed) == [1, 2, 4]
    assert len({m.id for m in handed}) == 3
