"""What operators watch: Prometheus metrics (``GET /metrics``) and health (``GET /healthz``).

Counters (updates handled, their latency, delivery errors) are counted as things happen in this
process; the outbox and ticket gauges are read from the database at each scrape, so every
instance reports the same numbers for them. Each running bot has a registry of its own (tests and
benchmarks run several in one process).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select

from bot.delivery import ChatMoved, RetryLater, Sender, Undeliverable
from handlers.model import OPEN_STATUSES
from storage.database import Database
from storage.models import OutboxRow, TicketRow
from storage.outbox import QueuedMessage

# The Bot API is "answering" while its last call succeeded, or a call succeeded this recently.
BOT_API_STALE_SECONDS = 300.0
# A database that takes longer than this to answer SELECT 1 counts as down for /healthz.
DATABASE_CHECK_SECONDS = 5.0


@dataclass(frozen=True)
class Health:
    healthy: bool
    checks: dict[str, dict[str, Any]]


class Metrics:
    """One bot process's metrics and Bot API health; ``bot.polling`` and ``bot.webhook`` report
    handled updates, the delivery reports its sends through ``WatchedSender``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter(
            "hotline_updates_handled", "Telegram updates handled (committed or skipped)", registry=r
        )
        self.latency = Histogram(
            "hotline_update_handling_seconds",
            "Time from an update's arrival to its commit",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.delivery_errors = Counter(
            "hotline_delivery_errors",
            "Bot API calls for outbox messages that failed, by kind",
            ["kind"],
            registry=r,
        )
        self.outbox_pending = Gauge(
            "hotline_outbox_pending", "Outbox messages waiting to be sent", registry=r
        )
        self.outbox_oldest = Gauge(
            "hotline_outbox_oldest_pending_seconds",
            "Age of the oldest outbox message waiting to be sent (0 when none)",
            registry=r,
        )
        self.tickets_open = Gauge("hotline_tickets_open", "Tickets not yet resolved", registry=r)
        self.tickets_overdue = Gauge(
            "hotline_tickets_overdue", "Open tickets past their deadline", registry=r
        )
        self.last_sweep = Gauge(
            "hotline_last_sweep_timestamp_seconds",
            "When this process last finished a reminder sweep (Unix time; 0 before the first)",
            registry=r,
        )
        self.api_ok_at: float | None = None
        self.api_failed_at: float | None = None
        self.api_failure = ""

    # -- reported as things happen (bot.polling.UpdateWatch) ------------------------------------

    def update_handled(self, seconds: float) -> None:
        self.updates.inc()
        self.latency.observe(seconds)

    def bot_api_answered(self) -> None:
        self.api_ok_at = time.time()

    def bot_api_failed(self, reason: str) -> None:
        self.api_failed_at = time.time()
        self.api_failure = reason[:200]

    def delivery_failed(self, kind: str) -> None:
        self.delivery_errors.labels(kind=kind).inc()

    def swept(self) -> None:
        self.last_sweep.set(time.time())

    # -- read at scrape time ---------------------------------------------------------------------

    async def render(self, database: Database, now: datetime) -> bytes:
        """The Prometheus text exposition, with the database gauges read now."""
        pending, oldest, open_, overdue = await asyncio.to_thread(_read_gauges, database, now)
        self.outbox_pending.set(pending)
        self.outbox_oldest.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        self.tickets_open.set(open_)
        self.tickets_overdue.set(overdue)
        return generate_latest(self.registry)

    def bot_api_health(self) -> dict[str, Any]:
        now = time.time()
        failing = self.api_failed_at is not None and (
            self.api_ok_at is None or self.api_failed_at > self.api_ok_at
        )
        recent = self.api_ok_at is not None and now - self.api_ok_at < BOT_API_STALE_SECONDS
        check: dict[str, Any] = {"ok": not failing or recent}
        if self.api_ok_at is not None:
            check["last_success_seconds_ago"] = round(now - self.api_ok_at, 1)
        if failing:
            check["last_error"] = self.api_failure
        return check

    async def health(self, database: Database) -> Health:
        """The database answers, and the Bot API's last call succeeded (or one did recently)."""
        try:
            await asyncio.wait_for(asyncio.to_thread(database.check), DATABASE_CHECK_SECONDS)
            db: dict[str, Any] = {"ok": True}
        except Exception as exc:  # any failure to answer is what this check reports
            db = {"ok": False, "error": str(exc).splitlines()[0][:200] if str(exc) else "timeout"}
        checks = {"database": db, "bot_api": self.bot_api_health()}
        return Health(all(c["ok"] for c in checks.values()), checks)


def _read_gauges(database: Database, now: datetime) -> tuple[int, datetime | None, int, int]:
    with database.read() as session:
        pending, oldest = session.execute(
            select(func.count(), func.min(OutboxRow.created_at)).where(
                OutboxRow.status == "pending"
            )
        ).one()
        open_ = session.scalar(
            select(func.count()).select_from(TicketRow).where(TicketRow.status.in_(OPEN_STATUSES))
        )
        overdue = session.scalar(
            select(func.count())
            .select_from(TicketRow)
            .where(TicketRow.status.in_(OPEN_STATUSES), TicketRow.deadline_at < now)
        )
    return int(pending or 0), oldest, int(open_ or 0), int(overdue or 0)


class WatchedSender:
    """A transport's sender whose answers feed the metrics and the Bot API health check."""

    def __init__(self, sender: Sender, metrics: Metrics) -> None:
        self.sender = sender
        self.metrics = metrics

    async def send(self, message: QueuedMessage) -> int | None:
        try:
            sent = await self.sender.send(message)
        except RetryLater as exc:
            if exc.seconds is not None:
                self.metrics.delivery_failed("rate_limited")
                self.metrics.bot_api_answered()  # Telegram answered, asking us to wait
            else:
                self.metrics.delivery_failed("retry_later")
                self.metrics.bot_api_failed(str(exc))
            raise
        except Undeliverable as exc:
            kind = "blocked" if exc.blocked else "chat_gone" if exc.chat_gone else "refused"
            self.metrics.delivery_failed(kind)
            self.metrics.bot_api_answered()
            raise
        except ChatMoved:
            self.metrics.delivery_failed("chat_moved")
            self.metrics.bot_api_answered()
            raise
        except Exception:
            self.metrics.delivery_failed("bug")
            raise
        self.metrics.bot_api_answered()
        return sent
