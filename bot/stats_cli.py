"""``hotline stats`` and ``hotline export``: SLA statistics for operators, from the shell.

Plain functions with typer annotations; ``bot.cli`` registers them as commands. Like every
command, an operator's mistake (a bad period, an unknown department, an unreachable database,
a bad setting) ends in one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator, Mapping
from datetime import datetime
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from bot.settings import Settings, get_settings
from handlers.assessment import (
    RANKING_COLUMNS,
    AssessmentSettings,
    UnitAssessment,
    assess,
    assessment_dict,
    format_ranking_text,
    format_score,
    previous_period,
    ranking_rows,
    rate_dict,
)
from handlers.assessment import ranking as rank_units
from handlers.briefing import format_briefing_markdown, format_briefing_text
from handlers.config import ConfigError, HotlineConfig, load_config
from handlers.reports import (
    FLAT_COLUMNS,
    DepartmentStats,
    Period,
    PeriodError,
    Rate,
    StatisticsReport,
    flat_row,
    format_percent,
    parse_period,
    row_name,
)
from scheduler.clock import SystemClock
from scheduler.deadlines import local_date
from storage.briefing import build_briefing
from storage.database import Database, DatabaseError
from storage.statistics import UnknownDepartmentError, compute_statistics, ticket_rows_for_export

EXIT_USAGE = 2


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def _fail(message: str) -> NoReturn:
    # The same shape as bot.cli's errors (not imported from there: bot.cli imports this module).
    typer.echo(f"hotline: error: {message}", err=True)
    raise typer.Exit(EXIT_USAGE)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        _fail(f"bad HOTLINE_* setting: {str(exc).splitlines()[-1].strip()}")


def _config(settings: Settings) -> HotlineConfig:
    try:
        return load_config(settings.config)
    except ConfigError as exc:
        _fail(str(exc))


def _period(text: str, now: datetime) -> Period:
    try:
        return parse_period(text, local_date(now))
    except PeriodError as exc:
        _fail(str(exc))


def _database(settings: Settings) -> Database:
    try:
        database = Database(settings.database_url)
        database.ensure_schema()
    except DatabaseError as exc:
        _fail(str(exc))
    return database


def _department_names(config: HotlineConfig) -> dict[str, str]:
    english = config.hotline.default_language == "en"
    return {d.code: d.name_en if english else d.name_zh for d in config.departments.departments}


def _database_failure(exc: SQLAlchemyError) -> NoReturn:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    _fail(f"the database failed: {reason}")


def _report(
    database: Database,
    config: HotlineConfig,
    period: Period,
    now: datetime,
    department: str | None,
) -> StatisticsReport:
    try:
        with database.read() as session:
            return compute_statistics(
                session,
                period,
                now=now,
                targets=config.targets,
                department=department,
                department_names=_department_names(config),
            )
    except UnknownDepartmentError:
        known = ", ".join(config.departments.codes)
        _fail(f"unknown department {department!r}; the departments are: {known}")
    except SQLAlchemyError as exc:
        _database_failure(exc)


def _units(report: StatisticsReport, config: HotlineConfig) -> dict[str | None, UnitAssessment]:
    units = assess(report, AssessmentSettings.of(config.assessment))
    return {unit.department: unit for unit in units}


def _json_row(row: DepartmentStats, unit: UnitAssessment) -> dict[str, Any]:
    """Counts and handling time, then every figure as {value, numerator, denominator, target,
    below} (None where the figure does not exist), the score and the rank."""
    data = {key: value for key, value in flat_row(row).items() if not key.endswith("_rate")}
    data["survey_response_rate"] = rate_dict(row.survey_response_rate)
    data.update(assessment_dict(unit))
    return data


def _csv_row(row: DepartmentStats, unit: UnitAssessment) -> dict[str, Any]:
    data = flat_row(row)
    data["response_rate"] = row.response_rate.value
    data["resolution_rate"] = row.resolution_rate.value
    data["score"] = None if unit.score is None else round(unit.score, 2)
    data["rank"] = unit.rank
    return data


CSV_COLUMNS = (*FLAT_COLUMNS, "response_rate", "resolution_rate", "score", "rank")


def _rich_table(
    report: StatisticsReport, lang: str, units: dict[str | None, UnitAssessment]
) -> Table:
    zh = lang != "en"
    table = Table(
        title=f"{'12345 热线统计' if zh else '12345 hotline statistics'} {report.period.label} "
        f"({report.period.start} – {report.period.end})",
        caption="⚠ 低于目标  — 无数据" if zh else "⚠ below target  — no data",
    )
    headers = (
        ("单位", "Department"),
        ("受理", "Recv"),
        ("办结", "Done"),
        ("超期", "Overdue"),
        ("按时办结", "On time"),
        ("按时签收", "Sign-for"),
        ("退单", "Return"),
        ("重办", "Reopen"),
        ("满意", "Satisf."),
        ("回访", "Survey"),
        ("质检", "QA"),
        ("响应", "Response"),
        ("解决", "Solved"),
        ("时长 中位/平均", "Days med/mean"),
        ("得分", "Score"),
        ("排名", "Rank"),
    )
    for i, (zh_header, en_header) in enumerate(headers):
        table.add_column(zh_header if zh else en_header, justify="left" if i == 0 else "right")
    for row in report.rows:
        cell = partial(_rate_cell, row)
        median, mean = row.median_working_days, row.mean_working_days
        days = "—" if median is None or mean is None else f"{median:g}/{mean:.1f}"
        name = escape(row_name(row, lang))  # a name with [brackets] is not markup
        table.add_row(
            f"[bold]{name}[/bold]" if row.department is None else name,
            str(row.received),
            str(row.resolved),
            str(row.overdue_open),
            cell("on_time_rate"),
            cell("sign_for_rate"),
            cell("return_rate"),
            cell("reopen_rate"),
            cell("satisfaction_rate"),
            cell("survey_response_rate"),
            cell("qa_pass_rate"),
            _rate_text(row.response_rate),
            _rate_text(row.resolution_rate),
            days,
            format_score(units[row.department].score),
            str(units[row.department].rank or "—"),
        )
    return table


def _rate_cell(row: DepartmentStats, key: str) -> str:
    return _rate_text(row.rate(key))


def _rate_text(rate: Rate) -> str:
    text = format_percent(rate)
    return f"[red]{text}[/red]" if rate.below else text


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return buffer.getvalue()


def stats(
    period: Annotated[
        str,
        typer.Option(
            "--period",
            "-p",
            help="today, yesterday, week, month, quarter, year, last-month, 2026, 2026-11, "
            "2026-Q4, 2026-11-27, or 2026-11-01..2026-11-15",
        ),
    ] = "month",
    department: Annotated[
        str | None, typer.Option("--department", "-d", help="one department's code")
    ] = None,
    format: Annotated[  # shadows the builtin: the option is --format
        OutputFormat, typer.Option("--format", "-f", help="table, json or csv")
    ] = OutputFormat.TABLE,
) -> None:
    """SLA statistics and 考评 for a period: per department and overall (rates as 0–1 in
    json/csv; in json each figure with its numerator and denominator)."""
    now = SystemClock().now()
    settings = _settings()
    config = _config(settings)
    chosen = _period(period, now)
    database = _database(settings)
    try:
        report = _report(database, config, chosen, now, department)
    finally:
        database.dispose()
    units = _units(report, config)
    if format is OutputFormat.JSON:
        rows = [_json_row(row, units[row.department]) for row in report.rows]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif format is OutputFormat.CSV:
        typer.echo(_csv([_csv_row(row, units[row.department]) for row in report.rows]), nl=False)
    else:
        Console(width=max(140, Console().width)).print(
            _rich_table(report, config.hotline.default_language, units)
        )


def ranking(
    period: Annotated[
        str, typer.Option("--period", "-p", help="the period, as for `hotline stats`")
    ] = "last-month",
    format: Annotated[  # shadows the builtin: the option is --format
        OutputFormat, typer.Option("--format", "-f", help="table, json or csv")
    ] = OutputFormat.TABLE,
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart", help="also write the ranking bar chart to this .png", dir_okay=False
        ),
    ] = None,
) -> None:
    """红黑榜: units by composite score, top and bottom N marked, change from the period before."""
    if chart is not None and chart.suffix.lower() != ".png":
        _fail(f"cannot write {chart}: the chart's file name must end in .png")
    now = SystemClock().now()
    settings = _settings()
    config = _config(settings)
    chosen = _period(period, now)
    database = _database(settings)
    try:
        current = _report(database, config, chosen, now, None)
        before = _report(database, config, previous_period(chosen), now, None)
    finally:
        database.dispose()
    lang = config.hotline.default_language
    result = rank_units(current, before, AssessmentSettings.of(config.assessment))
    rows = ranking_rows(result, lang)
    if format is OutputFormat.JSON:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif format is OutputFormat.CSV:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=RANKING_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: "" if value is None else value for key, value in row.items()})
        typer.echo(buffer.getvalue(), nl=False)
    else:
        typer.echo(format_ranking_text(result, lang))
    if chart is not None:
        from bot.reports import render_ranking_chart  # matplotlib is slow to import

        try:
            chart.write_bytes(render_ranking_chart(result, lang=lang))
        except OSError as exc:
            _fail(f"cannot write {chart}: {exc.strerror}")


def briefing(
    period: Annotated[
        str, typer.Option("--period", "-p", help="the period, as for `hotline stats`")
    ] = "last-week",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="file to write: .docx or .md", dir_okay=False),
    ] = None,
) -> None:
    """通报: the period's figures in one sentence, its 热点, the units below target and the
    overdue tickets; printed, or written to a .docx or .md file."""
    from bot.briefing_doc import render_docx  # python-docx is slow to import

    suffix = output.suffix.lower() if output is not None else ""
    if output is not None and suffix not in {".docx", ".md"}:
        _fail(f"cannot write {output}: the file name must end in .docx or .md")
    now = SystemClock().now()
    settings = _settings()
    config = _config(settings)
    chosen = _period(period, now)
    database = _database(settings)
    lang = config.hotline.default_language
    try:
        with database.read() as session:
            result = build_briefing(
                session,
                chosen,
                now=now,
                targets=config.targets,
                names=_department_names(config),
            )
    except SQLAlchemyError as exc:
        _database_failure(exc)
    finally:
        database.dispose()
    if output is None:
        typer.echo(format_briefing_text(result, lang, limit=1_000_000))
        return
    data = (
        render_docx(result, lang)
        if suffix == ".docx"
        else format_briefing_markdown(result, lang).encode()
    )
    temporary = output.with_name(f".{output.name}.partial")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, output)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        _fail(f"cannot write {output}: {exc.strerror}")
    typer.echo(f"wrote {output} ({chosen.label})")


def _counted(rows: Iterator[Mapping[str, Any]], counter: list[int]) -> Iterator[Mapping[str, Any]]:
    for row in rows:
        counter[0] += 1
        yield row


def export(
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="file to write: .xlsx (summary, trend and every ticket) or .png (the chart)",
            dir_okay=False,
        ),
    ],
    period: Annotated[
        str, typer.Option("--period", "-p", help="the period, as for `hotline stats`")
    ] = "month",
) -> None:
    """Write a period's statistics to an Excel workbook (phones masked) or a PNG chart."""
    from bot.reports import render_chart, render_workbook  # matplotlib is slow to import

    suffix = output.suffix.lower()
    if suffix not in {".xlsx", ".png"}:
        _fail(f"cannot write {output}: the file name must end in .xlsx or .png")
    now = SystemClock().now()
    settings = _settings()
    config = _config(settings)
    chosen = _period(period, now)
    database = _database(settings)
    counter = [0]
    try:
        report = _report(database, config, chosen, now, None)
        if suffix == ".png":
            data = render_chart(report, lang=config.hotline.default_language)
        else:
            with database.read() as session:
                rows = _counted(ticket_rows_for_export(session, chosen), counter)
                data = render_workbook(
                    report, rows, assessment=AssessmentSettings.of(config.assessment)
                )
    except SQLAlchemyError as exc:
        _database_failure(exc)
    finally:
        database.dispose()
    temporary = output.with_name(f".{output.name}.partial")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, output)  # never leave half a workbook under the real name
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        _fail(f"cannot write {output}: {exc.strerror}")
    tickets = f", {counter[0]} tickets" if suffix == ".xlsx" else ""
    typer.echo(f"wrote {output} ({chosen.label}{tickets})")
