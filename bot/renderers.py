"""Files the delivery draws just before sending: the statistics chart and the workbook.

The core queues *what* to send (the report itself, as JSON in the outbox); drawing pixels and
spreadsheets is the shell's job, done off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from bot.delivery import Undeliverable
from bot.reports import render_chart, render_workbook
from handlers.reports import StatisticsReport, report_from_dict
from storage.database import Database
from storage.statistics import ticket_rows_for_export

log = logging.getLogger(__name__)


class Renderers:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def __call__(self, spec: dict[str, Any]) -> tuple[str, bytes]:
        """(file name, content) for a render spec from an outbox message."""
        try:
            report = report_from_dict(spec["report"])
            match spec.get("renderer"):
                case "stats_chart":
                    png = await asyncio.to_thread(render_chart, report, lang=spec.get("lang", "zh"))
                    return f"hotline-{_slug(report)}.png", png
                case "export_xlsx":
                    book = await asyncio.to_thread(self._workbook, report)
                    return f"hotline-{_slug(report)}.xlsx", book
        except Exception as exc:  # a drawing bug: say so in the log, do not retry forever
            log.exception("could not render %s", spec.get("renderer"))
            raise Undeliverable(f"rendering failed: {exc!r}") from exc
        raise Undeliverable(f"unknown renderer {spec.get('renderer')!r}")

    def _workbook(self, report: StatisticsReport) -> bytes:
        with self.database.read() as session:
            return render_workbook(report, ticket_rows_for_export(session, report.period))


def _slug(report: StatisticsReport) -> str:
    period = report.period
    return re.sub(r"[^0-9A-Za-z-]+", "_", f"{period.start.isoformat()}_{period.end.isoformat()}")
