"""A statistics report as a PNG chart (matplotlib, Agg) and an .xlsx workbook (openpyxl).

Both take a finished :class:`handlers.reports.StatisticsReport` (e.g. read back from the
outbox) and return bytes, ready to send as a Telegram photo or document or to write to a file.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from handlers.assessment import FIGURES, AssessmentSettings, Ranking, assess, figure
from handlers.display import mask_phone, mask_phones_in
from handlers.model import Language, RequestType, TicketStatus
from handlers.reports import (
    COUNT_FIELDS,
    RATE_FIELDS,
    SHANGHAI,
    DepartmentStats,
    StatisticsReport,
    label,
    row_name,
)
from handlers.texts import request_type_name, status_name

# System fonts with simplified Chinese glyphs, best first; the bundled Noto font is the fallback.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)
BUNDLED_FAMILY = "Noto Sans CJK SC"
CHART_SIZE = (11.0, 8.5)  # inches
CHART_DPI = 100  # → 1100 × 850 pixels
ON_TIME_COLOUR, SATISFACTION_COLOUR, BELOW_COLOUR = "#1f77b4", "#2ca02c", "#d62728"

# rcParams are global: one chart at a time, so concurrent renders cannot mix their fonts.
_render_lock = threading.Lock()


@lru_cache(maxsize=1)
def cjk_font_family() -> str:
    """A font family that has Chinese glyphs: a system one if installed, else the bundled one."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    for family in CJK_FONTS:
        if family in installed:
            return family
    import noto_cjk_sans_otc  # imported late: only needed when no system font has CJK

    font_manager.fontManager.addfont(noto_cjk_sans_otc.FONT_PATH)
    return BUNDLED_FAMILY


def _percent(value: float | None) -> float:
    return float("nan") if value is None else value * 100


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_chart(report: StatisticsReport, *, lang: str = "zh") -> bytes:
    """A PNG of two panels: per-department on-time and satisfaction rates against their
    targets (dashed), and the period's trend (received, resolved, on-time rate).

    Drawn on the Agg canvas directly (no pyplot, so no global figure state and no GUI).
    """
    family = cjk_font_family()
    with (
        _render_lock,
        matplotlib.rc_context(
            {"font.family": [family, "DejaVu Sans"], "axes.unicode_minus": False}
        ),
    ):
        figure = Figure(figsize=CHART_SIZE, dpi=CHART_DPI, layout="constrained")
        rates_axes, trend_axes = figure.subplots(2, 1, height_ratios=(1.1, 1))
        _draw_rates(rates_axes, report, lang)
        _draw_trend(trend_axes, report, lang)
        span = f"{report.period.start.isoformat()} – {report.period.end.isoformat()}"
        title = "12345 hotline statistics" if lang == "en" else "12345 热线统计"
        around = ("（", "）") if lang != "en" else (" (", ")")
        figure.suptitle(f"{title} {report.period.label}{around[0]}{span}{around[1]}", fontsize=14)
        buffer = io.BytesIO()
        FigureCanvasAgg(figure)  # the Agg canvas, whatever matplotlib's default backend
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


RANKING_LINE = 95.0
RED_COLOUR, BLACK_COLOUR, PLAIN_COLOUR = "#c0392b", "#2c3e50", "#7f8c8d"


def render_ranking_chart(result: Ranking, *, lang: str = "zh") -> bytes:
    """A PNG bar chart of the ranked units' scores, best first, against the 95 line; 红榜
    bars red, 黑榜 bars dark."""
    ranked = [u for u in result.units if u.rank is not None]
    family = cjk_font_family()
    with (
        _render_lock,
        matplotlib.rc_context(
            {"font.family": [family, "DejaVu Sans"], "axes.unicode_minus": False}
        ),
    ):
        chart = Figure(figsize=CHART_SIZE, dpi=CHART_DPI, layout="constrained")
        axes = chart.subplots()
        positions = list(range(len(ranked)))
        colours = [
            RED_COLOUR if u.board == "red" else BLACK_COLOUR if u.board == "black" else PLAIN_COLOUR
            for u in ranked
        ]
        bars = axes.bar(positions, [u.score or 0.0 for u in ranked], 0.7, color=colours)
        for bar, unit in zip(bars, ranked, strict=True):
            axes.annotate(
                f"{unit.score or 0:.1f}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
            )
        axes.axhline(RANKING_LINE, color=RED_COLOUR, linestyle="--", linewidth=1)
        axes.set_xticks(positions)
        many = len(ranked) > 8
        axes.set_xticklabels(
            [f"{u.rank}. {_shorten(row_name(u.row, lang), 8 if many else 14)}" for u in ranked],
            rotation=45 if many else 0,
            ha="right" if many else "center",
        )
        axes.set_ylim(0, 105)
        axes.set_ylabel("Score" if lang == "en" else "得分")
        title = "12345 ranking" if lang == "en" else "12345 考评排名"
        chart.suptitle(f"{title} {result.period.label}", fontsize=14)
        buffer = io.BytesIO()
        FigureCanvasAgg(chart)
        chart.savefig(buffer, format="png")
    return buffer.getvalue()


def _draw_rates(axes: Any, report: StatisticsReport, lang: str) -> None:
    rows = list(report.rows)
    positions = list(range(len(rows)))
    width = 0.38
    series = (
        ("on_time_rate", -width / 2, ON_TIME_COLOUR),
        ("satisfaction_rate", width / 2, SATISFACTION_COLOUR),
    )
    for key, offset, colour in series:
        values = [_percent(row.rate(key).value) for row in rows]
        bars = axes.bar(
            [p + offset for p in positions], values, width, color=colour, label=label(key, lang)
        )
        for bar, row in zip(bars, rows, strict=True):
            rate = row.rate(key)
            text = "—" if rate.value is None else f"{rate.value * 100:.0f}"
            height = 0 if rate.value is None else bar.get_height()
            axes.annotate(
                text,
                (bar.get_x() + bar.get_width() / 2, height),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
                color=BELOW_COLOUR if rate.below else "#333333",
            )
    targets = {report.targets.on_time, report.targets.satisfaction}
    target_word = "target" if lang == "en" else "目标"
    for target in sorted(targets):
        axes.axhline(
            target * 100,
            linestyle="--",
            color=BELOW_COLOUR,
            linewidth=1,
            label=f"{target_word} {target * 100:g}%",
        )
    axes.set_ylim(0, 125)  # headroom above 100% for the legend
    axes.set_yticks(range(0, 101, 20))
    axes.set_ylabel("%")
    axes.set_xticks(positions)
    many = len(rows) > 6
    axes.set_xticklabels(
        [_shorten(row_name(row, lang), 8 if many else 14) for row in rows],
        rotation=30 if many else 0,
        ha="right" if many else "center",
        fontsize=9,
    )
    axes.legend(loc="upper left", fontsize=8, ncols=3)
    axes.set_title(
        "On-time resolution and satisfaction by department"
        if lang == "en"
        else "各单位按时办结率与满意率",
        fontsize=11,
    )


def _draw_trend(axes: Any, report: StatisticsReport, lang: str) -> None:
    points = list(report.trend)
    positions = list(range(len(points)))
    width = 0.4
    axes.bar(
        [p - width / 2 for p in positions],
        [p.received for p in points],
        width,
        color="#9ecae1",
        label=label("received", lang),
    )
    axes.bar(
        [p + width / 2 for p in positions],
        [p.resolved for p in points],
        width,
        color="#3182bd",
        label=label("resolved", lang),
    )
    axes.set_ylabel("件" if lang != "en" else "tickets")
    highest = max((max(p.received, p.resolved) for p in points), default=0)
    axes.set_ylim(0, max(1, highest) * 1.3)  # headroom for the legend
    rate_axes = axes.twinx()
    # Buckets without answers have no rate: join the others rather than leave lone dots.
    rated = [(i, p.on_time_rate) for i, p in enumerate(points) if p.on_time_rate is not None]
    rate_axes.plot(
        [i for i, _ in rated],
        [_percent(rate) for _, rate in rated],
        marker="o",
        markersize=3,
        color=BELOW_COLOUR,
        label=label("on_time_rate", lang),
    )
    rate_axes.axhline(report.targets.on_time * 100, linestyle="--", color="#777777", linewidth=1)
    rate_axes.set_ylim(0, 130)
    rate_axes.set_yticks(range(0, 101, 20))
    rate_axes.set_ylabel("%")
    step = max(1, len(points) // 12)  # at most a dozen date labels
    axes.set_xticks(positions[::step])
    axes.set_xticklabels([p.start.strftime("%m-%d") for p in points[::step]], fontsize=8)
    handles, labels = axes.get_legend_handles_labels()
    more_handles, more_labels = rate_axes.get_legend_handles_labels()
    axes.legend(handles + more_handles, labels + more_labels, loc="upper left", fontsize=8, ncols=3)
    unit = {"day": ("按日", "daily"), "week": ("按周", "weekly"), "month": ("按月", "monthly")}
    zh, en = unit[report.trend_unit]
    axes.set_title(f"Trend ({en})" if lang == "en" else f"趋势（{zh}）", fontsize=11)


# ---------------------------------------------------------------------------------------------
# Workbook
# ---------------------------------------------------------------------------------------------

HEADER_FONT = Font(bold=True)
BELOW_FONT = Font(color="C00000", bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
PERCENT = "0.0%"
EXCEL_MAX_ROWS = 1_048_576
DATETIME = "yyyy-mm-dd hh:mm"

RATINGS = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意", "none": "未评价"}

#: The summary sheet's columns after department code and name, with their header labels.
SUMMARY_COLUMNS = (*COUNT_FIELDS, "median_working_days", "mean_working_days", *RATE_FIELDS)

TICKET_COLUMNS = (
    ("number", "工单号 Number"),
    ("received_at", "受理时间 Received"),
    ("request_type", "诉求类型 Type"),
    ("urgent", "紧急 Urgent"),
    ("department", "承办单位 Department"),
    ("status", "状态 Status"),
    ("deadline_at", "办理期限 Deadline"),
    ("resolved_at", "办结时间 Resolved"),
    ("on_time", "按时办结 On time"),
    ("working_days", "办理工作日 Working days"),
    ("reopen_count", "重办次数 Reopened"),
    ("extensions", "延期次数 Extensions"),
    ("rating", "满意度 Rating"),
    ("quality_passed", "质检 QA"),
    ("unsatisfied_reason", "不满意原因 Reason for 不满意"),
    ("phone", "联系电话 Phone"),
)


def _bilingual(key: str) -> str:
    return f"{label(key, 'zh')} {label(key, 'en')}"


def _header(sheet: Any, titles: Iterable[str]) -> None:
    cells = []
    for title in titles:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cells.append(cell)
    sheet.append(cells)


def _local(moment: datetime | None) -> datetime | None:
    # Excel has no time zones: write Shanghai wall-clock time, as people read it.
    return None if moment is None else moment.astimezone(SHANGHAI).replace(tzinfo=None)


def _summary_row(sheet: Any, row: DepartmentStats) -> list[Any]:
    cells: list[Any] = [row.department or "", row_name(row, "zh")]
    cells.extend(getattr(row, key) for key in COUNT_FIELDS)
    for value in (row.median_working_days, row.mean_working_days):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "0.0"
        cells.append(cell)
    for key in RATE_FIELDS:
        rate = row.rate(key)
        cell = WriteOnlyCell(sheet, value=rate.value)
        cell.number_format = PERCENT
        if rate.below:
            cell.font = BELOW_FONT
        cells.append(cell)
    return cells


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("是" if value else "否")


def _quality(passed: bool | None) -> str:
    return "" if passed is None else ("合格" if passed else "不合格")


def _citizen_words(sheet: Any, words: str | None) -> Any:
    """A citizen's own words as a text cell: phones masked, and never read as a formula (a
    comment may start with "=")."""
    if not words:
        return None
    cell = WriteOnlyCell(sheet, value=mask_phones_in(words))
    cell.data_type = "s"
    return cell


def _ticket_cells(sheet: Any, ticket: Mapping[str, Any]) -> list[Any]:
    values: dict[str, Any] = {
        "number": ticket["number"],
        "received_at": _local(ticket["received_at"]),
        "request_type": request_type_name(RequestType(ticket["request_type"]), Language.ZH),
        "urgent": _yes_no(ticket.get("urgent")),
        "department": ticket.get("department_name") or ticket.get("department_code") or "",
        "status": status_name(TicketStatus(ticket["status"]), Language.ZH),
        "deadline_at": _local(ticket.get("deadline_at")),
        "resolved_at": _local(ticket.get("resolved_at")),
        "on_time": _yes_no(ticket.get("on_time")),
        "working_days": ticket.get("working_days"),
        "reopen_count": ticket.get("reopen_count"),
        "extensions": ticket.get("extensions"),
        "rating": RATINGS.get(
            ticket.get("rating") or "", "待评价" if ticket.get("resolved_at") else ""
        ),
        "quality_passed": _quality(ticket.get("quality_passed")),
        "unsatisfied_reason": _citizen_words(sheet, ticket.get("unsatisfied_reason")),
        "phone": mask_phone(ticket.get("phone")),  # personal data: never unmasked in a file
    }
    cells: list[Any] = []
    for key, _ in TICKET_COLUMNS:
        value = values[key]
        if isinstance(value, datetime):
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = DATETIME
            cells.append(cell)
        else:
            cells.append(value)
    return cells


BOARD_TITLES = {"red": "红榜 Red", "black": "黑榜 Black"}


def _assessment_sheet(book: Any, report: StatisticsReport, settings: AssessmentSettings) -> None:
    """考评: the units in ranking order (the unranked after), then the overall row."""
    sheet = book.create_sheet("考评 Assessment")
    figures = list(FIGURES)  # 直接答复率: the overall row only
    _header(
        sheet,
        [
            "排名 Rank",
            "榜单 List",
            "单位代码 Code",
            _bilingual("department"),
            "得分 Score",
            _bilingual("dispatched"),
            *(f"{f.zh} {f.en}" for f in figures),
        ],
    )
    units = assess(report, settings)
    ordered = [u for u in units if u.department is not None] + [
        u for u in units if u.department is None
    ]
    for unit in ordered:
        cells: list[Any] = [
            unit.rank,
            BOARD_TITLES.get(unit.board or ""),
            unit.department,
            row_name(unit.row, "zh"),
            None if unit.score is None else round(unit.score, 2),
            unit.row.dispatched,
        ]
        for f in figures:
            rate = unit.figures[f.key]
            cell = WriteOnlyCell(sheet, value=None if rate is None else rate.value)
            cell.number_format = PERCENT
            cells.append(cell)
        sheet.append(cells)
    weights = "、".join(f"{figure(k).zh} {w:g}" for k, w in settings.weights.items())
    sheet.append([])
    sheet.append([None, "得分权重 Weights", weights])
    sheet.append([None, "参与排名 Ranked from", f"派单 ≥ {settings.min_tickets}"])


def render_workbook(
    report: StatisticsReport,
    ticket_rows: Iterable[Mapping[str, Any]],
    *,
    max_ticket_rows: int = EXCEL_MAX_ROWS - 2,
    assessment: AssessmentSettings | None = None,
) -> bytes:
    """An .xlsx: 汇总 Summary (a row per department and a target row), 考评 Assessment (the
    ranking: rank, 红榜/黑榜, score and every assessed figure), 趋势 Trend, 工单 Tickets (one
    row per ticket, streamed; the phone masked, no name) and 说明 About.

    Write-only mode keeps memory flat however many tickets ``ticket_rows`` yields. A sheet
    holds 1,048,576 rows: beyond ``max_ticket_rows`` tickets a last row says how many more
    there are.
    """
    book = Workbook(write_only=True)

    summary = book.create_sheet("汇总 Summary")
    _header(
        summary,
        ["单位代码 Code", _bilingual("department"), *(_bilingual(k) for k in SUMMARY_COLUMNS)],
    )
    for row in report.rows:
        summary.append(_summary_row(summary, row))
    summary.append([])
    targets: list[Any] = [
        None,
        "目标 Target",
        *([None] * (len(SUMMARY_COLUMNS) - len(RATE_FIELDS))),
    ]
    overall = report.rows[0] if report.rows else None
    for key in RATE_FIELDS:
        target = overall.rate(key).target if overall else None
        cell = WriteOnlyCell(summary, value=target)
        cell.number_format = PERCENT
        targets.append(cell)
    summary.append(targets)

    _assessment_sheet(book, report, assessment or AssessmentSettings())

    trend = book.create_sheet("趋势 Trend")
    _header(
        trend,
        [
            "起始日 Start",
            _bilingual("received"),
            _bilingual("resolved"),
            _bilingual("resolved_on_time"),
            _bilingual("on_time_rate"),
        ],
    )
    for point in report.trend:
        rate = WriteOnlyCell(trend, value=point.on_time_rate)
        rate.number_format = PERCENT
        trend.append([point.start, point.received, point.resolved, point.resolved_on_time, rate])

    tickets = book.create_sheet("工单 Tickets")
    _header(tickets, [title for _, title in TICKET_COLUMNS])
    written = left_out = 0
    for ticket in ticket_rows:
        if written < max_ticket_rows:
            tickets.append(_ticket_cells(tickets, ticket))
            written += 1
        else:
            left_out += 1  # keep counting: the note below says how many are missing
    if left_out:
        tickets.append([f"…… 另有 {left_out} 张工单超出 Excel 行数上限 / {left_out} more tickets"])

    about = book.create_sheet("说明 About")
    t = report.targets
    for key, value in (
        ("时间段 Period", f"{report.period.start.isoformat()} – {report.period.end.isoformat()}"),
        ("名称 Label", report.period.label),
        ("生成时间 Generated (Asia/Shanghai)", _local(report.generated_at)),
        ("基本满意权重 Weight of 基本满意", t.basic_satisfied_weight),
        ("满意率 Satisfaction", "(满意 + 权重 × 基本满意) / 已评价"),
        ("回访率 Survey response", "已评价 / 回访"),
        ("重办率 Reopen rate", "本期办结且评价为不满意 / 办结"),
        ("超期未办结 Overdue open", "生成时仍未办结且已过期限的工单"),
        ("重办 Reopened", "重办后仍在办理的工单不显示上一次的办结时间、按时办结和办理工作日"),
        ("不满意原因 Reason for 不满意", "群众对最近一次不满意评价的说明（电话已脱敏）"),
    ):
        about.append([key, value])

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
