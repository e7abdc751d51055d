"""What the delivery completes just before sending: a report's text, chart and workbook.

The core queues *what* to send: a report request (period, targets, names) as JSON in the
outbox. The report is counted here, on a read-only connection in a thread, so that a year's
count over a million tickets (about a second) holds back neither the database worker nor the
event loop; drawing pixels and spreadsheets is the shell's job too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

from sqlalchemy.exc import DBAPIError

from bot.delivery import RetryLater, Undeliverable
from bot.reports import render_chart, render_workbook
from handlers.assessment import AssessmentSettings, format_ranking_text
from handlers.assessment import ranking as rank_units
from handlers.briefing import Briefing, format_briefing_text
from handlers.reports import (
    ReportRequest,
    StatisticsReport,
    format_report_text,
    report_from_dict,
)
from storage.briefing import build_briefing
from storage.database import Database
from storage.statistics import compute_statistics, ticket_rows_for_export

log = logging.getLogger(__name__)

# The table and the chart of one /stats are sent one after the other: they share one count.
# Kept a few minutes, so that a message sent again (after an error) shows the same figures.
REPORT_KEPT_SECONDS = 300
_REPORTS_KEPT = 8


class Renderers:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._reports: dict[str, tuple[float, StatisticsReport]] = {}

    async def __call__(self, spec: dict[str, Any]) -> dict[str, Any]:
        """What to add to the payload of an outbox message with this render spec: its
        ``text``, or an ``upload`` (file name, content)."""
        try:
            lang = spec.get("lang", "zh")
            if spec.get("renderer") == "briefing_text":  # it counts what it needs itself
                briefing = await asyncio.to_thread(self._briefing, spec["request"])
                return {"text": format_briefing_text(briefing, lang)}
            report = await self._report(spec)
            match spec.get("renderer"):
                case "ranking_text":
                    before = await self._report({"request": spec["previous"]})
                    settings = AssessmentSettings.from_dict(spec["assessment"])
                    result = rank_units(report, before, settings)
                    return {"text": format_ranking_text(result, lang)}
                case "stats_text":
                    return {"text": format_report_text(report, lang)}
                case "stats_chart":
                    png = await asyncio.to_thread(render_chart, report, lang=lang)
                    return {"upload": (f"hotline-{_slug(report)}.png", png)}
                case "export_xlsx":
                    settings = (
                        AssessmentSettings.from_dict(spec["assessment"])
                        if "assessment" in spec
                        else AssessmentSettings()
                    )
                    book = await asyncio.to_thread(self._workbook, report, settings)
                    return {"upload": (f"hotline-{_slug(report)}.xlsx", book)}
        except DBAPIError as exc:  # the database is down or busy: count it later
            raise RetryLater(f"could not count the report: {exc.orig!r}") from exc
        except Exception as exc:  # a drawing bug: say so in the log, do not retry forever
            log.exception("could not render %s", spec.get("renderer"))
            raise Undeliverable(f"rendering failed: {exc!r}") from exc
        raise Undeliverable(f"unknown renderer {spec.get('renderer')!r}")

    def _briefing(self, data: dict[str, Any]) -> Briefing:
        request = ReportRequest.from_dict(data)
        with self.database.read() as session:
            return build_briefing(
                session,
                request.period,
                now=request.asked_at,
                targets=request.targets,
                names=request.names,
            )

    async def _report(self, spec: dict[str, Any]) -> StatisticsReport:
        if "report" in spec:  # counted when asked (queued by an earlier version)
            return report_from_dict(spec["report"])
        key = json.dumps(spec["request"], sort_keys=True)
        now = time.monotonic()
        self._reports = {
            k: kept for k, kept in self._reports.items() if now - kept[0] < REPORT_KEPT_SECONDS
        }
        if key not in self._reports:
            request = ReportRequest.from_dict(spec["request"])
            report = await asyncio.to_thread(self._count, request)
            while len(self._reports) >= _REPORTS_KEPT:
                self._reports.pop(next(iter(self._reports)))
            self._reports[key] = (now, report)
        return self._reports[key][1]

    def _count(self, request: ReportRequest) -> StatisticsReport:
        with self.database.read() as session:
            return compute_statistics(
                session,
                request.period,
                now=request.asked_at,
                targets=request.targets,
                department=request.department,
                department_names=request.names,
            )

    def _workbook(self, report: StatisticsReport, settings: AssessmentSettings) -> bytes:
        with self.database.read() as session:
            rows = ticket_rows_for_export(session, report.period)
            return render_workbook(report, rows, assessment=settings)


def _slug(report: StatisticsReport) -> str:
    period = report.period
    return re.sub(r"[^0-9A-Za-z-]+", "_", f"{period.start.isoformat()}_{period.end.isoformat()}")
