"""Delivering the outbox: every message the hotline owes someone reaches Telegram, in order per
chat, with retries on 429/5xx/network errors, and is recorded as sent.

Messages queued by this process are handed over right after their commit (no polling delay);
a periodic claim picks up everything else that is due: retries, and messages of a process that
died before sending (its lease ran out). Messages in hand keep their lease renewed while they wait
their turn, however long a chat's queue takes. Sending is at least once: each send is written
to the process's journal (bot.sent_journal) as Telegram answers and recorded in the database
in batches after that; a process starting up records what a stopped one journaled, so a crash
sends again only the messages in flight at that moment, at most IN_FLIGHT_SENDS.

A chat waiting out a failure (Telegram's 429 "retry after", a 5xx) sends nothing until its
time is up, also what is queued for it meanwhile, so its messages arrive in the order queued.
A message that meets an unexpected error (a bug) is tried UNEXPECTED_ATTEMPTS times, then set
aside as failed: logged once, the office told, and the chat's next messages go on.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.limits import TEXT_LIMIT, pieces, utf16_len
from bot.sent_journal import SentJournal
from handlers.display import mask_phones_in
from scheduler.clock import Clock
from storage import outbox
from storage.outbox import QueuedMessage
from storage.repository import DELIVERY_LEASE
from storage.worker import DatabaseWorker, StorageUnavailable

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 15
UNEXPECTED_ATTEMPTS = 3  # tries of a message that meets a bug before it is set aside
IN_FLIGHT_SENDS = 5  # Telegram calls under way at once: what a crash can send twice
MAX_BACKOFF = timedelta(minutes=10)
STORAGE_RETRY = timedelta(seconds=5)  # a message whose look-ups met the database down
SENT_IDS_KEPT = 10_000
LIST_WHEN_BUSY = 10  # messages to one group within a minute that make it busy …
LIST_MAX = 20  # … and then up to this many of its waiting new cards go as one list
LEASE_RENEWAL = DELIVERY_LEASE / 3
_TEXT_METHODS = ("sendMessage", "editMessageText")


class RetryLater(Exception):
    """Telegram or the network failed for now (429, 5xx, timeout). With ``seconds``, we were
    told how long to wait (Telegram's 429): waiting is not failing, and never gives up."""

    def __init__(self, reason: str, seconds: float | None = None) -> None:
        super().__init__(reason)
        self.seconds = seconds


class Undeliverable(Exception):
    """Telegram refused the message for good: ``blocked``, the person blocked the bot or a
    group removed it (403); ``chat_gone``, there is no such chat (any more); else a bad
    request."""

    def __init__(self, reason: str, *, blocked: bool = False, chat_gone: bool = False) -> None:
        super().__init__(reason)
        self.blocked = blocked
        self.chat_gone = chat_gone


def refused(reason: str) -> Undeliverable:
    """Telegram's 400 or 404 for good; the chat is gone when it says it found none."""
    return Undeliverable(reason, chat_gone="chat not found" in reason.lower())


class ChatMoved(Exception):
    """The group became a supergroup, which Telegram gives a new chat id."""

    def __init__(self, new_chat_id: int) -> None:
        super().__init__(f"the group chat is now the supergroup {new_chat_id}")
        self.new_chat_id = new_chat_id


class Sender(Protocol):
    """A transport's way of making one Bot API call for an outbox message.

    Returns the Telegram message id the message became (None for calls that make none). The
    payload's ``edit_message_id`` / ``reply_to_message_id`` are Telegram ids by then.
    """

    async def send(self, message: QueuedMessage) -> int | None: ...


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=2 ** min(attempts, 10)), MAX_BACKOFF)


class Delivery:
    def __init__(
        self,
        worker: DatabaseWorker,
        sender: Sender,
        *,
        journal: SentJournal,
        clock: Clock,
        instance: str,
        poll_interval: float = 1.0,
        concurrency: int = 64,
        renderer: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]] | None = None,
        on_unreachable_group: Callable[[int, int | None, str], Awaitable[None]] | None = None,
        on_failed: Callable[[QueuedMessage, str], Awaitable[None]] | None = None,
        lister: Callable[[int, list[tuple[int | None, str]]], dict[str, Any]] | None = None,
    ) -> None:
        self.worker = worker
        self.sender = sender
        self.journal = journal  # opened, its leftovers recorded (HotlineApp.start)
        self.clock = clock
        self.instance = instance
        self.poll_interval = poll_interval
        # completes a payload that names a "render": a report's text, chart or workbook
        self.renderer = renderer
        # told (chat, ticket, reason) when Telegram refuses a group for good
        self.on_unreachable_group = on_unreachable_group
        # told (message, error) when a message is set aside after an unexpected error
        self.on_failed = on_failed
        # writes one message listing (ticket, summary) pairs, for a busy group (see _list_rows)
        self.lister = lister
        self._group_sends: dict[int, deque[float]] = {}  # each group's latest sends (monotonic)
        self._slots = asyncio.Semaphore(concurrency)
        self._chats: dict[int, deque[QueuedMessage]] = {}
        self._chat_tasks: dict[int, asyncio.Task[None]] = {}
        self._recording: set[asyncio.Future[None]] = set()
        self._sent_batch: list[tuple[int, int | None, datetime]] = []  # sent, not recorded
        self._sent_job_waiting = False  # a job to record them is queued and has not run
        self._sent_lock = threading.Lock()  # the worker's thread takes them
        # records to retry (the database was down), each with what to do once it commits
        self._unrecorded: list[tuple[Callable[[Session], None], Callable[[], None] | None]] = []
        self._in_flight = asyncio.Semaphore(IN_FLIGHT_SENDS)
        # Sent and journaled, the record not committed yet: never sent again by this process,
        # even when a claim hands one back (its lease ran out meanwhile).
        self._journaled: set[int] = set()
        # Chats waiting out a failure until the time given: their messages stay in the
        # database until claimed again (in id order), so nothing overtakes the one that failed.
        self._waiting: dict[int, datetime] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._tasks: list[asyncio.Task[None]] = []
        self.sent = 0
        self._sent_ids: dict[int, int] = {}  # outbox id → Telegram message id, recent sends
        # Outbox ids in hand (waiting their turn or being sent): never scheduled twice, and
        # their leases renewed while they wait, so no process claims them again meanwhile.
        self._held: set[int] = set()
        self._leases_renewed_at: datetime | None = None

    # -- wiring --------------------------------------------------------------------------------

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._poll_forever(), name="outbox-poll"),
        ]

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish sending what is in hand (up to ``timeout``), record it, and stop."""
        try:
            await asyncio.wait_for(self.idle(), timeout)
        except TimeoutError:
            log.warning("stopping with messages still in flight; they will be resent later")
        for task in [*self._tasks, *self._chat_tasks.values()]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._chat_tasks.values(), return_exceptions=True)
        await self._flush_records()

    async def idle(self) -> None:
        """Wait until nothing is being sent and every outcome is recorded."""
        while True:
            await self._idle.wait()
            await self._flush_records()
            if (
                not self._chats
                and not self._recording
                and not self._unrecorded
                and not self._sent_batch
            ):
                return

    def schedule(self, messages: list[QueuedMessage], *, claimed: bool = False) -> None:
        """Hand over messages this process has claimed; sent in id order per chat.

        A chat waiting out a failure gets its messages back in the database for when its wait
        is over; ``claimed`` (by ``poll_once``, in id order) from then on, they go out."""
        now = self.clock.now()
        for message in messages:
            if message.id in self._held or message.id in self._journaled:
                continue
            until = self._waiting.get(message.chat_id)
            if until is not None:
                if claimed and now >= until:
                    del self._waiting[message.chat_id]
                else:
                    self._record(
                        outbox.mark_retry,
                        message.id,
                        attempts=message.attempts,
                        at=until,
                        error="waiting",
                    )
                    continue
            self._held.add(message.id)
            self._chats.setdefault(message.chat_id, deque()).append(message)
            if message.chat_id not in self._chat_tasks:
                self._idle.clear()
                task = asyncio.create_task(self._drain_chat(message.chat_id))
                self._chat_tasks[message.chat_id] = task

    # -- sending -------------------------------------------------------------------------------

    async def _drain_chat(self, chat_id: int) -> None:
        pending = self._chats[chat_id]
        try:
            async with self._slots:
                while pending:
                    rows = self._list_rows(chat_id, pending)
                    if len(rows) > 1:
                        retry_at = await self._deliver(self._list_of(rows), rows)
                    else:
                        rows = [pending[0]]
                        retry_at = await self._deliver(pending[0])
                    for _ in rows:
                        self._held.discard(pending.popleft().id)
                    if retry_at is not None:
                        # Keep the chat's order: what follows, and what is queued for the
                        # chat meanwhile, waits for the failed message.
                        self._waiting[chat_id] = retry_at
                        self._release(pending, retry_at)
        finally:
            self._chats.pop(chat_id, None)
            self._chat_tasks.pop(chat_id, None)
            if pending:  # cancelled mid-way: let the next claim send the rest
                self._release(pending, self.clock.now())
            if not self._chat_tasks:
                self._idle.set()

    # -- a busy group's waiting messages as one list ---------------------------------------------

    def _busy(self, chat_id: int) -> bool:
        """A group chat that had LIST_WHEN_BUSY messages within the last minute (Telegram
        lets a bot send about 20 a minute to one group)."""
        recent = self._group_sends.get(chat_id)
        if not recent:
            return False
        while recent and recent[0] < time.monotonic() - 60:
            recent.popleft()
        return len(recent) >= LIST_WHEN_BUSY

    def _count_group_send(self, chat_id: int) -> None:
        if chat_id < 0:  # group and channel ids are negative
            self._group_sends.setdefault(chat_id, deque(maxlen=LIST_WHEN_BUSY)).append(
                time.monotonic()
            )

    def _list_rows(self, chat_id: int, pending: deque[QueuedMessage]) -> list[QueuedMessage]:
        """The rows at the head of a busy group's queue that one list can stand for: messages
        that carry a one-line summary (a new card, a request to dispatch), that reply to
        nothing and that nothing waiting replies to or edits."""
        if self.lister is None or not _listable(pending[0]) or not self._busy(chat_id):
            return []
        targets = {
            target
            for message in pending
            for target in (
                message.payload.get("edit_outbox_id"),
                message.payload.get("reply_to_outbox_id"),
            )
            if target is not None
        }
        rows: list[QueuedMessage] = []
        for message in pending:
            if len(rows) == LIST_MAX or not _listable(message) or message.id in targets:
                break
            rows.append(message)
        return rows

    def _list_of(self, rows: list[QueuedMessage]) -> QueuedMessage:
        assert self.lister is not None  # narrowing only: rows are listed only with a lister
        first = rows[0]
        entries = [(row.ticket_id, row.payload["summary"]) for row in rows]
        payload = self.lister(first.chat_id, entries)
        attempts = max(row.attempts for row in rows)
        return QueuedMessage(first.id, first.chat_id, "sendMessage", payload, None, attempts)

    async def _deliver(
        self, message: QueuedMessage, rows: list[QueuedMessage] | None = None
    ) -> datetime | None:
        """Send one message, standing for ``rows`` (a list's) or for itself; None when done
        with them (sent or given up), else the retry time."""
        rows = rows or [message]
        ids = [row.id for row in rows]
        attempts = message.attempts + 1
        try:
            message_id = await self._send_in_flight(await self._resolve_targets(message))
        except RetryLater as exc:
            wait = timedelta(seconds=exc.seconds) if exc.seconds else backoff(attempts)
            if attempts >= MAX_ATTEMPTS and not exc.seconds:
                log.error("gave up on outbox messages %s after %d attempts: %s", ids, attempts, exc)
                self._record_each(outbox.mark_failed, ids, attempts=attempts, error=str(exc))
                return None
            log.warning("outbox messages %s: %s; retrying in %s", ids, exc, wait)
            at = self.clock.now() + wait
            self._record_each(outbox.mark_retry, ids, attempts=attempts, at=at, error=str(exc))
            return at
        except ChatMoved as exc:
            # Its bindings and unsent messages follow the group (this one and those queued
            # behind it are given back and claimed again with the new id).
            log.warning("chat %s: %s; following it", message.chat_id, exc)
            self._record(outbox.move_chat, message.chat_id, exc.new_chat_id)
            self.worker.bindings.forget()
            at = self.clock.now()
            self._record_each(outbox.mark_retry, ids, attempts=attempts, at=at, error=str(exc))
            return at
        except Undeliverable as exc:
            log.warning("outbox %s to chat %s undeliverable: %s", ids, message.chat_id, exc)
            self._record_each(outbox.mark_failed, ids, attempts=attempts, error=str(exc))
            if message.chat_id < 0 and (exc.blocked or exc.chat_gone):
                for row in rows:
                    await self._group_unreachable(row, str(exc))
            elif exc.blocked:
                self._record(outbox.mark_blocked, message.chat_id, self.clock.now())
            return None
        except StorageUnavailable as exc:
            # Looking up what the message replies to or edits met the database down: not
            # the message's fault, so not an attempt; tried again once the database is back.
            at = self.clock.now() + STORAGE_RETRY
            self._record_each(
                outbox.mark_retry, ids, attempts=message.attempts, at=at, error=str(exc)
            )
            return at
        except Exception as exc:  # a bug must not stop delivery, for this chat or any other
            error = mask_phones_in(repr(exc))  # kept on the row and shown to the office
            if attempts < UNEXPECTED_ATTEMPTS:
                at = self.clock.now() + backoff(attempts)
                log.warning(
                    "outbox messages %s (ticket %s) failed unexpectedly (%s); retrying in %s",
                    ids,
                    message.ticket_id,
                    type(exc).__name__,
                    at - self.clock.now(),
                )
                self._record_each(outbox.mark_retry, ids, attempts=attempts, at=at, error=error)
                return at
            log.error(
                "outbox messages %s (ticket %s, %s to chat %s) set aside as failed after %d "
                "attempts: %s",
                ids,
                message.ticket_id,
                message.method,
                message.chat_id,
                attempts,
                error,
                exc_info=exc,
            )
            self._record_each(outbox.mark_failed, ids, attempts=attempts, error=error)
            for row in rows:
                await self._report_failure(row, error)
            return None
        self.sent += 1
        self._count_group_send(message.chat_id)
        if len(rows) > 1:
            # Rows shown in a list became no message of their own: nothing replies to or
            # edits them as such (a reply to the list is not a reply to any one ticket).
            message_id = None
        elif message_id is not None:
            self._sent_ids[message.id] = message_id
            if len(self._sent_ids) > SENT_IDS_KEPT:
                self._sent_ids.pop(next(iter(self._sent_ids)))
        self._mark_sent(ids, message_id)
        return None

    async def _send_in_flight(self, message: QueuedMessage) -> int | None:
        """Send, as one of at most IN_FLIGHT_SENDS: sent and not yet journaled is all that a
        crash can send twice (the caller journals the answer before it awaits anything)."""
        async with self._in_flight:
            return await self._send(message)

    async def _report_failure(self, message: QueuedMessage, error: str) -> None:
        # Whoever is told must not stop delivery.
        if self.on_failed is None:
            return
        try:
            await self.on_failed(message, error)
        except Exception:
            log.exception("could not tell the office that outbox %s failed", message.id)

    async def _group_unreachable(self, message: QueuedMessage, reason: str) -> None:
        # Group and channel ids are negative. Whoever is told must not stop delivery.
        if self.on_unreachable_group is None:
            return
        try:
            await self.on_unreachable_group(message.chat_id, message.ticket_id, reason)
        except Exception:
            log.exception("could not tell the office that chat %s is unreachable", message.chat_id)

    async def _send(self, message: QueuedMessage) -> int | None:
        """One outbox row as one Telegram message or, a text over Telegram's limit, as several
        in a row: the first replies to what the row replies to, the last carries the buttons
        and is the message recorded (and edited later; an edit changes the last piece). A
        failure part-way sends the row again from its first piece (at least once)."""
        text = message.payload.get("text", "")
        if message.method not in _TEXT_METHODS or utf16_len(text) <= TEXT_LIMIT:
            return await self.sender.send(message)
        *first, last = pieces(text)
        payload = message.payload
        if message.method == "sendMessage":
            reply_to = payload.get("reply_to_message_id")
            for index, piece in enumerate(first):
                head = {"reply_to_message_id": reply_to} if index == 0 and reply_to else {}
                await self.sender.send(replace(message, payload={"text": piece, **head}))
            payload = {k: v for k, v in payload.items() if k != "reply_to_message_id"}
        return await self.sender.send(replace(message, payload={**payload, "text": last}))

    async def _resolve_targets(self, message: QueuedMessage) -> QueuedMessage:
        """Make the payload ready to send: what it renders is drawn (its "text", or a file to
        "upload"), and outbox rows it names (the message to edit, or to reply to) become the
        Telegram messages they were."""
        payload = message.payload
        edit_of, reply_to = payload.get("edit_outbox_id"), payload.get("reply_to_outbox_id")
        if payload.get("render") is not None:
            if self.renderer is None:
                raise Undeliverable("this process cannot render files")
            payload = payload | await self.renderer(payload["render"])
            message = QueuedMessage(
                message.id,
                message.chat_id,
                message.method,
                payload,
                message.ticket_id,
                message.attempts,
            )
        if edit_of is None and reply_to is None:
            return message
        # Sent by this process moments ago (its record may still be on the way), or look it up.
        states: dict[int, tuple[str, int | None] | None] = {
            t: (outbox.SENT, self._sent_ids[t])
            for t in (edit_of, reply_to)
            if t is not None and t in self._sent_ids
        }
        missing = [t for t in (edit_of, reply_to) if t is not None and t not in states]
        if missing:
            states |= await self.worker.run(
                lambda store: {t: outbox.sent_message_id(store.session, t) for t in missing}
            )
        resolved = dict(payload)
        for key, target, field in (
            ("edit", edit_of, "edit_message_id"),
            ("reply", reply_to, "reply_to_message_id"),
        ):
            if target is None:
                continue
            state = states[target]
            if state is not None and state[1] is not None:
                resolved[field] = state[1]
            elif state is not None and state[0] == outbox.PENDING:
                raise RetryLater(f"waiting for outbox {target} to be sent first", 1.0)
            elif key == "edit":
                raise Undeliverable(f"the message to edit (outbox {target}) was not sent alone")
            # A reply whose original never went out alone (it failed, or was shown in a list)
            # is still worth sending on its own.
        return QueuedMessage(
            message.id,
            message.chat_id,
            message.method,
            resolved,
            message.ticket_id,
            message.attempts,
        )

    def _release(self, messages: deque[QueuedMessage], at: datetime) -> None:
        """Give claimed messages back (emptying ``messages``), to be claimed again (in id
        order) from ``at``."""
        while messages:
            message = messages.popleft()
            self._held.discard(message.id)
            self._record(
                outbox.mark_retry, message.id, attempts=message.attempts, at=at, error="waiting"
            )

    # -- recording outcomes --------------------------------------------------------------------

    def _mark_sent(self, outbox_ids: list[int], message_id: int | None) -> None:
        """Journal the send at once; record it in the database with every send made until
        the recording job runs (one job waiting at a time, one statement for many). The job
        is queued now, so it commits before any update that arrives after the send."""
        now = self.clock.now()
        sent = [(outbox_id, message_id, now) for outbox_id in outbox_ids]
        self.journal.write(sent)
        self._journaled.update(outbox_ids)
        with self._sent_lock:
            self._sent_batch.extend(sent)
            if self._sent_job_waiting:
                return
            self._sent_job_waiting = True
        taken: list[tuple[int, int | None, datetime]] = []

        def record(session: Session) -> None:
            if not taken:  # a re-run (the batch failed) records the same sends
                taken.extend(self._take_sent())
            outbox.mark_sent(session, taken)

        def recorded() -> None:
            self._journaled.difference_update(outbox_id for outbox_id, _, _ in taken)
            if not self._journaled:  # all journaled sends are in the database
                self.journal.clear()

        self._submit(record, recorded)

    def _take_sent(self) -> list[tuple[int, int | None, datetime]]:
        """On the worker's thread: the sends made so far; the next send queues a new job."""
        with self._sent_lock:
            batch, self._sent_batch = self._sent_batch, []
            self._sent_job_waiting = False
        return batch

    def _record(self, fn: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """Record an outcome now: queued to the database worker at once, so it commits before
        any update that arrives afterwards (a reply to the message just sent must find it)."""
        self._submit(lambda session: fn(session, *args, **kwargs))

    def _record_each(self, fn: Callable[..., None], outbox_ids: list[int], **kwargs: Any) -> None:
        for outbox_id in outbox_ids:
            self._record(fn, outbox_id, **kwargs)

    def _submit(
        self, record: Callable[[Session], None], recorded: Callable[[], None] | None = None
    ) -> None:
        """Queue ``record`` to the database worker; ``recorded`` runs once it commits."""
        future = self.worker.submit(lambda store: record(store.session))
        self._recording.add(future)

        def done(finished: asyncio.Future[None]) -> None:
            self._recording.discard(finished)
            if finished.cancelled():
                return
            error = finished.exception()
            if error is None:
                if recorded is not None:
                    recorded()
                return
            if isinstance(error, StorageUnavailable):  # the worker logs the outage, once
                log.debug("could not record a delivery outcome (%s); will retry", error)
            else:
                log.warning("could not record a delivery outcome (%s); will retry", error)
            self._unrecorded.append((record, recorded))

        future.add_done_callback(done)

    async def _flush_records(self) -> None:
        """Wait for outcomes being recorded, and retry those that failed."""
        retry, self._unrecorded = self._unrecorded, []
        for record, recorded in retry:
            self._submit(record, recorded)
        if self._recording:
            await asyncio.gather(*self._recording, return_exceptions=True)

    # -- claiming what is due ------------------------------------------------------------------

    async def renew_leases(self) -> None:
        """Keep the leases of the messages in hand alive (every third of a lease): a chat's
        messages wait for each other, and a slow or long queue must not let them be claimed
        again, here or by another instance."""
        now = self.clock.now()
        due = self._leases_renewed_at is None or now - self._leases_renewed_at >= LEASE_RENEWAL
        if not self._held or not due:
            return
        held, until = sorted(self._held), now + DELIVERY_LEASE
        await self.worker.run(
            lambda store: outbox.renew_leases(
                store.session, held, instance=self.instance, until=until
            )
        )
        self._leases_renewed_at = now

    async def poll_once(self) -> int:
        """Claim due messages (retries, and those of processes that died) and send them."""
        now = self.clock.now()
        claimed: list[QueuedMessage] = await self.worker.run(
            lambda store: outbox.claim_due(
                store.session, instance=self.instance, now=now, lease=DELIVERY_LEASE
            )
        )
        # Rows this process already holds in memory are not claimable (their lease is live).
        self.schedule(claimed, claimed=True)
        return len(claimed)

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                await self._flush_records()
                await self.renew_leases()
                await self.poll_once()
            except StorageUnavailable as exc:  # the database worker logs the outage, once
                log.debug("could not claim due outbox messages: %s", exc)
            except Exception:
                log.exception("could not claim due outbox messages")


def _listable(message: QueuedMessage) -> bool:
    payload = message.payload
    return (
        message.method == "sendMessage"
        and bool(payload.get("summary"))
        and payload.get("reply_to_outbox_id") is None
        and payload.get("reply_to_message_id") is None
    )
