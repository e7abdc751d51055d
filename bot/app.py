"""The running hotline, independent of the Telegram library that feeds it.

``HotlineApp`` owns the database worker, the outbox delivery and the scheduler; transports
(aiogram, python-telegram-bot) turn updates into core events and call ``on_message`` /
``on_button``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.delivery import Delivery, Sender
from bot.metrics import Metrics, WatchedSender
from bot.renderers import Renderers
from bot.sent_journal import SentJournal
from handlers import dispatching, inbox, lists
from handlers.buttons import ButtonSigner
from handlers.config import HotlineConfig
from handlers.context import Hotline
from handlers.events import ButtonPress, IncomingMessage
from handlers.outgoing import Reaction
from handlers.reminders import SweepReport
from handlers.routing import DepartmentRouter
from scheduler.calendar import WorkingCalendar
from scheduler.clock import Clock
from scheduler.service import SweepRunner, SweepScheduler
from storage import outbox
from storage.database import Database
from storage.outbox import QueuedMessage
from storage.repository import outgoing_payload
from storage.retention import RETENTION_STEP
from storage.worker import DatabaseWorker, UpdateAhead, is_unavailable

log = logging.getLogger(__name__)


def default_instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def build_hotline(
    config: HotlineConfig,
    *,
    secret: str,
    history: list[tuple[str, str]] | None = None,
    bot_username: str | None = None,
) -> Hotline:
    """The core's context: policy, calendar, routing (with its history), and the key that
    signs buttons (derived from the bot token, so each deployment's buttons are its own)."""
    return Hotline(
        config=config,
        calendar=WorkingCalendar(config.calendar),
        buttons=ButtonSigner(hashlib.sha256(secret.encode()).digest()),
        router=DepartmentRouter(
            config.departments,
            threshold=config.auto_dispatch_threshold,
            history=history or (),
            history_limit=config.routing.history_size,
        ),
        bot_username=bot_username,
    )


@dataclass
class BotIdentity:
    user_id: int
    username: str | None


class HotlineApp:
    def __init__(
        self,
        *,
        hotline: Hotline,
        database: Database,
        clock: Clock,
        journal: SentJournal,
        instance: str | None = None,
    ) -> None:
        self.hotline = hotline
        self.database = database
        self.clock = clock
        self.instance = instance or default_instance_name()
        self.journal = journal
        self.worker = DatabaseWorker(database, instance=self.instance)
        self.sweeper = SweepRunner(self.worker.run, unavailable=is_unavailable)
        self.metrics = Metrics()
        self.http_port: int | None = None  # where /healthz, /metrics (and a webhook) listen
        self.delivery: Delivery | None = None
        self.scheduler: SweepScheduler | None = None

    async def start(
        self, sender: Sender, *, poll_interval: float = 1.0, schedule: bool = True
    ) -> None:
        self.worker.start()
        await self._record_journaled_sends()
        self.delivery = Delivery(
            self.worker,
            WatchedSender(sender, self.metrics),
            journal=self.journal,
            clock=self.clock,
            instance=self.instance,
            poll_interval=poll_interval,
            renderer=Renderers(self.database),
            on_unreachable_group=self._group_unreachable,
            on_failed=self._message_failed,
            lister=self._ticket_list,
        )
        self.worker.on_commit = self.delivery.schedule
        self.delivery.start()
        # Whatever a previous run left unsent goes out now, not a poll interval later.
        await self.delivery.poll_once()
        if schedule:
            self.scheduler = SweepScheduler(
                self.sweep,
                seconds=self.hotline.config.scheduler.sweep_seconds,
                first_run=datetime.now(UTC),
            )
            self.scheduler.start()

    async def sweep(self) -> SweepReport:
        """One pass over what is due: reminders, timeouts (also run by `hotline tick`), each
        concern in a transaction of its own."""
        now = self.clock.now()
        report = await self.sweeper.sweep(self.hotline, now, extra=[RETENTION_STEP])
        self.metrics.swept()
        if report.total or report.surveys_closed or report.held_opened:
            log.info(
                "sweep: %s reminders, %d surveys closed, %d held messages opened",
                report.reminders,
                report.surveys_closed,
                report.held_opened,
            )
        return report

    async def stop(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self.delivery is not None:
            await self.delivery.stop()
        await self.worker.stop()
        self.journal.close()

    async def _record_journaled_sends(self) -> None:
        """What a stopped process sent and never recorded is recorded before anything is
        sent, so that it is not sent again once its lease runs out."""
        leftovers = self.journal.open()
        if leftovers:
            recorded = await self.worker.run(
                lambda store: outbox.record_journal(store.session, leftovers)
            )
            log.warning(
                "recorded %d sends a stopped process had journaled and not recorded (%d more "
                "were recorded already)",
                recorded,
                len(leftovers) - recorded,
            )
        self.journal.recorded_leftovers()

    def _ticket_list(self, chat_id: int, entries: list[tuple[int | None, str]]) -> dict[str, Any]:
        """A busy group's waiting cards as one message (handlers.lists)."""
        return outgoing_payload(lists.ticket_list(self.hotline, chat_id, entries))

    async def _group_unreachable(self, chat_id: int, ticket_id: int | None, reason: str) -> None:
        now = self.clock.now()
        await self.worker.run(
            lambda store: dispatching.group_unreachable(
                store, self.hotline, chat_id, ticket_id, reason, now
            )
        )

    async def _message_failed(self, message: QueuedMessage, error: str) -> None:
        now = self.clock.now()
        await self.worker.run(
            lambda store: dispatching.message_failed(
                store, self.hotline, message.chat_id, message.ticket_id, error, now
            )
        )

    async def on_message(self, msg: IncomingMessage) -> None:
        now = self.clock.now()
        await self.worker.run(
            lambda store: inbox.handle_message(store, self.hotline, msg, now),
            update=UpdateAhead(msg.update_id, msg.sender.user_id, now),
        )

    async def on_button(self, press: ButtonPress) -> Reaction:
        now = self.clock.now()
        return await self.worker.run(
            lambda store: inbox.handle_button(store, self.hotline, press, now),
            update=UpdateAhead(press.update_id, press.sender.user_id, now),
        )
