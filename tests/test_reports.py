"""Rendering a statistics report: the Telegram text, JSON, the PNG chart, the .xlsx workbook, and
the ``stats``/``export`` commands run against a migrated SQLite file."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import docx
import matplotlib.image
import numpy as np
import openpyxl
import pytest
import typer
from typer.testing import CliRunner

from bot import settings as bot_settings
from bot.reports import (
    CHART_DPI,
    CHART_SIZE,
    render_chart,
    render_ranking_chart,
    render_workbook,
)
from bot.stats_cli import briefing, export, ranking, stats
from handlers.assessment import AssessmentSettings
from handlers.assessment import ranking as rank_units
from handlers.config import Targets, load_config
from handlers.reports import (
    DepartmentStats,
    Period,
    Rate,
    ReportTargets,
    StatisticsReport,
    TrendPoint,
    combine,
    format_percent,
    format_report_text,
    histogram_median,
    report_from_dict,
    report_to_dict,
    trend_buckets,
)
from scheduler.calendar import SHANGHAI
from storage.database import Database
from storage.departments import sync_departments
from storage.statistics import compute_statistics, ticket_rows_for_export
from tests.test_assessment import OCTOBER, SATISFACTION_ONLY, month_of, twenty_units
from tests.test_statistics import NOVEMBER, NOW, PHONE, build_november

MASKED = "138****5678"


def synthetic_report(departments: int = 5, *, name_length: int = 8) -> StatisticsReport:
    """A report built by hand: department i has 10 × (i + 1) resolutions, some of them late."""
    targets = ReportTargets(basic_satisfied_weight=0.9)
    rows = []
    for i in range(departments):
        resolved = 10 * (i + 1)
        rows.append(
            DepartmentStats(
                department=f"d{i:02d}",
                name=("测试单位" * 10)[: name_length - 2] + f"{i:02d}",
                targets=targets,
                received=resolved + 3,
                dispatched=resolved + 2,
                signed_on_time=resolved,
                returned=i % 3,
                resolved=resolved,
                resolved_on_time=resolved - i,
                overdue_open=i % 2,
                surveyed=resolved,
                rated=resolved - 1,
                satisfied=resolved - 3,
                basic=2,
                inspected=i,  # d00 has no inspection: its QA rate is "—"
                passed=i,
                working_days=((3, resolved - 1), (9, 1)),
            )
        )
    period = Period(date(2026, 11, 1), date(2026, 11, 30))
    _, buckets = trend_buckets(period)
    # received d % 7, resolved d % 5, of them on time all but one on odd days
    trend = tuple(
        TrendPoint(first, first.day % 7, first.day % 5, max(0, first.day % 5 - first.day % 2))
        for first, _ in buckets
    )
    overall = combine(rows, targets=targets, extra={"received": 4})
    return StatisticsReport(
        period=period,
        generated_at=datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI),
        rows=(overall, *rows),
        trend=trend,
        targets=targets,
    )


# -- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("histogram", "median"),
    [
        ((), None),
        (((3, 1),), 3),
        (((2, 1), (4, 1)), 3.0),  # even: the mean of the two middle values
        (((1, 2), (5, 2)), 3.0),
        (((1, 3), (9, 1)), 1),
        (((9, 1), (1, 3)), 1),  # order does not matter
        (((1, 1), (2, 0), (7, 1)), 4.0),  # empty bins are ignored
    ],
)
def test_histogram_median(histogram: tuple[tuple[int, int], ...], median: float | None) -> None:
    assert histogram_median(histogram) == median


def test_rates() -> None:
    assert Rate(0, 0, 0.95).value is None
    assert not Rate(0, 0, 0.95).below  # no denominator: no verdict
    assert Rate(0, 4, 0.95).value == 0.0
    assert Rate(0, 4, 0.95).below
    assert not Rate(19, 20, 0.95).below  # exactly on target
    assert not Rate(2.85, 3, 0.95).below  # 0.95 after floating arithmetic
    assert not Rate(1, 20).below  # no target
    assert format_percent(Rate(0, 0, 0.95)) == "—"
    assert format_percent(Rate(6, 7, 0.95)) == "85.7%⚠"
    assert format_percent(Rate(3, 3, 0.95)) == "100.0%"


@pytest.mark.parametrize(
    ("start", "end", "unit", "first", "last"),
    [
        # a month: days
        (date(2026, 11, 1), date(2026, 11, 30), "day", (date(2026, 11, 1), date(2026, 11, 2)),
         (date(2026, 11, 30), date(2026, 12, 1))),
        # a year: weeks from Monday; the first and last are partial
        (date(2026, 1, 1), date(2026, 12, 31), "week", (date(2026, 1, 1), date(2026, 1, 5)),
         (date(2026, 12, 28), date(2027, 1, 1))),
        # three years: months
        (date(2024, 1, 15), date(2026, 12, 31), "month", (date(2024, 1, 15), date(2024, 2, 1)),
         (date(2026, 12, 1), date(2027, 1, 1))),
    ],
)  # fmt: skip
def test_trend_buckets(
    start: date,
    end: date,
    unit: str,
    first: tuple[date, date],
    last: tuple[date, date],
) -> None:
    found_unit, buckets = trend_buckets(Period(start, end))
    assert found_unit == unit
    assert (buckets[0], buckets[-1]) == (first, last)
    # contiguous, covering the period exactly
    assert all(a[1] == b[0] for a, b in pairwise(buckets))
    assert buckets[0][0] == start
    assert buckets[-1][1] == end + timedelta(days=1)


def test_trend_points() -> None:
    assert TrendPoint(date(2025, 1, 1)).on_time_rate is None
    assert TrendPoint(date(2025, 1, 1), 3, 4, 3).on_time_rate == 0.75


def test_json_round_trip_is_lossless() -> None:
    report = synthetic_report(7)
    data = json.loads(json.dumps(report_to_dict(report), ensure_ascii=False))
    assert report_from_dict(data) == report
    overall = data["rows"][0]
    assert overall["department"] is None
    assert overall["rates"]["on_time_rate"]["target"] == 0.95
    with pytest.raises(ValueError, match="format"):
        report_from_dict({**data, "version": 99})


# -- text --------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_text_marks_rates_below_target_and_missing_ones(lang: str) -> None:
    text = format_report_text(synthetic_report(3), lang)
    assert "2026-11" in text
    assert "⚠" in text
    assert "—" in text  # d00 has no QA inspection
    # d02: 30 resolved, 28 on time → 93.3% below the 95% target
    assert "93.3%⚠" in text
    assert "测试单位测试02" in text  # the name, not the code


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name_length", [6, 40])
def test_text_fits_a_telegram_message_with_20_departments(lang: str, name_length: int) -> None:
    report = synthetic_report(20, name_length=name_length)
    text = format_report_text(report, lang)
    assert len(text) <= 4000
    assert "d19" not in text  # names, not codes
    assert text.count("\n") >= 20  # every department has a line
    assert "…" not in text.splitlines()[-1][:2]  # nothing was left out


def test_text_leaves_out_what_does_not_fit_and_says_so() -> None:
    text = format_report_text(synthetic_report(80, name_length=40), "zh")
    assert len(text) <= 4000
    assert "另有" in text.splitlines()[-1]


# -- chart -------------------------------------------------------------------------------------


def decode_png(data: bytes) -> object:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return matplotlib.image.imread(io.BytesIO(data), format="png")


@pytest.mark.parametrize(("departments", "lang"), [(3, "zh"), (20, "zh"), (5, "en")])
def test_chart_is_a_png_of_the_expected_size_and_not_blank(departments: int, lang: str) -> None:
    pixels = decode_png(render_chart(synthetic_report(departments), lang=lang))
    width, height = (round(side * CHART_DPI) for side in CHART_SIZE)
    assert pixels.shape[:2] == (height, width)  # type: ignore[attr-defined]
    assert pixels[..., :3].std() > 0.05  # type: ignore[index]


def test_chart_of_an_empty_report() -> None:
    period = Period(date(2026, 11, 1), date(2026, 11, 30))
    _, buckets = trend_buckets(period)
    empty = StatisticsReport(
        period,
        datetime(2026, 12, 1, tzinfo=SHANGHAI),
        (DepartmentStats(None, ""), DepartmentStats("labour", "劳动保障服务中心")),
        tuple(TrendPoint(first) for first, _ in buckets),
    )
    pixels = decode_png(render_chart(empty))
    assert pixels[..., :3].std() > 0.01  # type: ignore[index]


def _runs(row: Any) -> list[tuple[int, int]]:
    """The (first, last) columns of each run of True in a row of pixels."""
    runs, start = [], None
    for x, inside in enumerate([*row, False]):
        if inside and start is None:
            start = x
        elif not inside and start is not None:
            runs.append((start, x - 1))
            start = None
    return runs


def test_ranking_chart_bars_in_rank_order_against_the_95_line() -> None:
    # tests/test_assessment.py's month of 20 units: 19 ranked (scores 100, 90, 90, 80 … 10),
    # 红榜 the first six, 黑榜 the last six, u20 not ranked (too few dispatches).
    result = rank_units(month_of(twenty_units()), month_of([], OCTOBER), SATISFACTION_ONLY)
    pixels = np.asarray(decode_png(render_ranking_chart(result)))[..., :3]

    def colour(hex_colour: str) -> Any:
        rgb = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
        return np.abs(pixels - rgb).max(axis=-1) < 0.06

    red, dark, plain = colour("#c0392b"), colour("#2c3e50"), colour("#7f8c8d")
    bar = red | dark | plain
    rows_with_bars = np.nonzero(bar.sum(axis=1) > 50)[0]
    base = int(rows_with_bars.max())  # the bars stand on score 0
    bars = _runs(bar[base - 2])
    assert len(bars) == 19  # one bar per ranked unit; the unranked unit has none
    middles = [(first + last) // 2 for first, last in bars]
    row = base - 2
    kinds = ["red" if red[row, x] else "dark" if dark[row, x] else "plain" for x in middles]
    assert kinds == ["red"] * 6 + ["plain"] * 7 + ["dark"] * 6

    def top(first: int, last: int) -> int:
        """The top of a bar: up its middle column from the base while the colour lasts."""
        column = bar[: base + 1, (first + last) // 2]
        gaps = np.nonzero(~column)[0]
        return int(gaps.max()) + 1

    # Heights follow the scores, best first: 100 then 90 … 10 at the end.
    scores = [u.score or 0.0 for u in result.units if u.rank is not None]
    per_point = (base - top(*bars[0])) / 100
    for (first, last), score in zip(bars, scores, strict=True):
        assert abs((base - top(first, last)) - score * per_point) <= 3
    # The dashed 95 line: the row of red pixels across the gaps between the bars.
    between = np.zeros(bar.shape[1], dtype=bool)
    for (_, end), (start, _) in pairwise(bars):
        between[end + 3 : start - 3] = True
    line = int((red[:, between]).sum(axis=1).argmax())
    assert abs(line - (base - 95 * per_point)) <= 3


# -- workbook ----------------------------------------------------------------------------------


def workbook_values(data: bytes, sheet: str) -> list[tuple[object, ...]]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        return [tuple(row) for row in book[sheet].iter_rows(values_only=True)]
    finally:
        book.close()


def test_workbook_has_the_assessment_sheet(database: Database) -> None:
    with database.transaction() as session:
        build_november(session)
    with database.read() as session:
        report = compute_statistics(session, NOVEMBER, now=NOW, targets=Targets())
        data = render_workbook(
            report,
            ticket_rows_for_export(session, NOVEMBER),
            assessment=AssessmentSettings(min_tickets=3, board_size=1),
        )
    rows = workbook_values(data, "考评 Assessment")
    assert rows[0][:5] == (
        "排名 Rank",
        "榜单 List",
        "单位代码 Code",
        "承办单位 Department",
        "得分 Score",
    )
    # tests/test_assessment.py: labour 100, construction 79, social_affairs 51.67
    assert [(r[0], r[1], r[2], r[4]) for r in rows[1:4]] == [
        (1, "红榜 Red", "labour", 100.0),
        (2, None, "construction", 79.0),
        (3, "黑榜 Black", "social_affairs", 51.67),
    ]
    response = rows[0].index("响应率 Response")
    assert rows[2][response] == pytest.approx(0.4)  # construction 2 / 5
    overall = next(r for r in rows if r[3] == "全部")
    assert overall[0] is None
    assert overall[response] == pytest.approx(7 / 11)
    direct = rows[0].index("直接答复率 Direct answer")
    assert overall[direct] is None  # no knowledge base in the fixture


def test_workbook_from_the_database(database: Database) -> None:
    with database.transaction() as session:
        build_november(session)
    with database.read() as session:
        report = compute_statistics(session, NOVEMBER, now=NOW, targets=Targets())
        data = render_workbook(report, ticket_rows_for_export(session, NOVEMBER))

    summary = workbook_values(data, "汇总 Summary")
    header = summary[0]
    column = {title: i for i, title in enumerate(header)}
    overall = summary[1]
    assert overall[column["单位代码 Code"]] in ("", None)
    assert overall[column["受理 Received"]] == 10
    assert overall[column["办结 Resolved"]] == 7
    assert overall[column["按时办结 Resolved on time"]] == 6
    assert overall[column["按时办结率 On-time resolution"]] == pytest.approx(6 / 7)
    assert overall[column["满意率 Satisfaction"]] == pytest.approx(0.8)  # (3 + 1) / 5
    labour = next(row for row in summary if row[0] == "labour")
    assert labour[column["满意率 Satisfaction"]] is None  # nobody rated: empty, not 0%
    target_row = next(row for row in summary if row[1:2] == ("目标 Target",))
    assert target_row[column["按时办结率 On-time resolution"]] == 0.95
    assert target_row[column["退单率 Return rate"]] is None

    tickets = workbook_values(data, "工单 Tickets")
    assert len(tickets) == 1 + 10  # header and November's ten tickets
    phone_column = tickets[0].index("联系电话 Phone")
    assert {row[phone_column] for row in tickets[1:]} == {MASKED}
    cells = [str(value) for row in tickets for value in row if value is not None]
    assert not any(PHONE in cell for cell in cells)
    assert not any("张三" in cell for cell in cells)  # no citizen name
    t3 = next(row for row in tickets if row[0] == "T3")
    assert t3[tickets[0].index("满意度 Rating")] == "满意"
    assert t3[tickets[0].index("受理时间 Received")] == datetime(2026, 11, 4, 8, 0)  # local


def test_workbook_streams_any_iterable_of_rows() -> None:
    def rows() -> Iterator[dict[str, object]]:
        for i in range(3):
            yield {
                "number": f"N{i}",
                "received_at": datetime(2026, 11, 2, 1, 0, tzinfo=SHANGHAI),
                "request_type": "help",
                "status": "received",
                "phone": "+86 139-1234-0000",
            }

    tickets = workbook_values(render_workbook(synthetic_report(2), rows()), "工单 Tickets")
    assert [row[0] for row in tickets[1:]] == ["N0", "N1", "N2"]
    assert tickets[1][-1] == "139****0000"

    # Excel's row limit, scaled down: the tickets that do not fit are counted, not dropped
    capped = render_workbook(synthetic_report(2), rows(), max_ticket_rows=2)
    tickets = workbook_values(capped, "工单 Tickets")
    assert [row[0] for row in tickets[1:3]] == ["N0", "N1"]
    assert "1 more tickets" in str(tickets[3][0])


# -- the commands ------------------------------------------------------------------------------


@pytest.fixture
def cli_app() -> typer.Typer:
    app = typer.Typer()
    app.command()(stats)
    app.command()(export)
    app.command()(ranking)
    app.command()(briefing)
    return app


@pytest.fixture
def hotline_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """HOTLINE_DATABASE_URL → a migrated SQLite file holding the November fixture."""
    path = tmp_path / "hotline.sqlite3"
    url = f"sqlite:///{path}"
    database = Database(url)
    database.upgrade()
    with database.transaction() as session:
        sync_departments(session, load_config(None).departments)
        build_november(session)
    database.dispose()
    for name in ("HOTLINE_CONFIG", "HOTLINE_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    bot_settings.get_settings.cache_clear()
    yield tmp_path
    bot_settings.get_settings.cache_clear()


def test_stats_json(cli_app: typer.Typer, hotline_env: Path) -> None:
    result = CliRunner().invoke(cli_app, ["stats", "--period", "2026-11", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    overall = rows[0]
    assert overall["department"] is None
    assert (overall["received"], overall["resolved"], overall["resolved_on_time"]) == (10, 7, 6)
    assert overall["on_time_rate"]["value"] == pytest.approx(6 / 7)
    assert (overall["on_time_rate"]["numerator"], overall["on_time_rate"]["denominator"]) == (6, 7)
    assert overall["satisfaction_rate"]["value"] == pytest.approx(0.8)
    assert overall["survey_response_rate"]["value"] == pytest.approx(5 / 7)
    assert overall["quality_pass_rate"]["value"] == pytest.approx(2 / 3)
    # 响应率 7 / 11 and 解决率 4 / 6 (tests/test_assessment.py works them out)
    assert (overall["response_rate"]["numerator"], overall["response_rate"]["denominator"]) == (
        7,
        11,
    )
    assert overall["resolution_rate"]["denominator"] == 6
    assert overall["direct_answer_rate"] is None
    assert overall["score"] == pytest.approx(
        round(100 * (0.10 * 7 / 11 + 0.45 * 4 / 6 + 0.45 * 4 / 5), 2)
    )
    assert overall["rank"] is None
    assert "overdue_open" in overall  # its value depends on today's date
    labour = next(row for row in rows if row["department"] == "labour")
    assert labour["satisfaction_rate"]["value"] is None
    assert labour["rank"] is None  # 3 dispatches, fewer than the default minimum of 5
    construction = next(row for row in rows if row["department"] == "construction")
    assert (construction["score"], construction["rank"]) == (79.0, 1)


def test_ranking_json_and_csv(
    cli_app: typer.Typer, hotline_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three dispatches are enough to be ranked here (default 5).
    config = hotline_env / "hotline.toml"
    config.write_text("[assessment]\nmin_tickets = 3\nboard_size = 1\n", encoding="utf-8")
    monkeypatch.setenv("HOTLINE_CONFIG", str(config))
    bot_settings.get_settings.cache_clear()
    result = CliRunner().invoke(cli_app, ["ranking", "--period", "2026-11", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    # tests/test_assessment.py: labour 100, construction 79, social_affairs 51.67
    assert [(r["department"], r["rank"], r["board"]) for r in rows[:3]] == [
        ("labour", 1, "red"),
        ("construction", 2, None),
        ("social_affairs", 3, "black"),
    ]
    assert rows[1]["score"] == 79.0
    assert rows[1]["response_rate"] == pytest.approx(0.4)
    # October: only T14 (labour, 1 dispatch, below the minimum): nobody was ranked then.
    assert rows[0]["rank_change"] is None
    assert all(r["rank"] is None for r in rows[3:])

    result = CliRunner().invoke(cli_app, ["ranking", "-p", "2026-11", "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert (table[0]["department"], table[0]["rank"], table[0]["score"]) == ("labour", "1", "100.0")

    result = CliRunner().invoke(cli_app, ["ranking", "-p", "2026-11"])
    assert result.exit_code == 0, result.stderr
    assert "红榜" in result.stdout
    assert "黑榜" in result.stdout

    # The bar chart: one bar per ranked unit, red for 红榜, against the 95 line.
    png = hotline_env / "ranking.png"
    result = CliRunner().invoke(cli_app, ["ranking", "-p", "2026-11", "--chart", str(png)])
    assert result.exit_code == 0, result.stderr
    pixels = decode_png(png.read_bytes())
    red = (pixels[..., 0] > 0.7) & (pixels[..., 1] < 0.3) & (pixels[..., 2] < 0.3)  # type: ignore[index]
    assert red.sum() > 1000  # labour's bar (红榜)

    result = CliRunner().invoke(cli_app, ["ranking", "-p", "2026-13"])
    assert result.exit_code == 2
    assert "no month 13" in result.stderr


def test_briefing_docx_and_markdown(cli_app: typer.Typer, hotline_env: Path) -> None:
    document = hotline_env / "briefing.docx"
    result = CliRunner().invoke(cli_app, ["briefing", "-p", "2026-11", "-o", str(document)])
    assert result.exit_code == 0, result.stderr
    paragraphs = [p.text for p in docx.Document(str(document)).paragraphs]
    assert paragraphs[0].startswith("12345 热线工作通报 2026-11")
    # One sentence of figures: 受理 10, 办结 7, 按时办结率 6 / 7, 质检合格率 2 / 3 …
    sentence = paragraphs[paragraphs.index("总体情况") + 1]
    assert sentence.startswith("2026-11受理 10 件，办结 7 件，按时办结率 85.7%")
    assert "质检合格率 66.7%" in sentence
    # Every fixture request is the same citizen's: no 热点.
    assert paragraphs[paragraphs.index("热点问题") + 1] == "本期无集中反映的问题。"
    # construction signed for 2 of its 5 dispatches on time: below the 95% target.
    overdue = next(i for i, p in enumerate(paragraphs) if p.startswith("超期未办结（"))
    below = paragraphs[paragraphs.index("未达标单位") + 1 : overdue]
    assert any("及时签收率 40.0%（目标 95%）" in line for line in below)

    markdown = hotline_env / "briefing.md"
    result = CliRunner().invoke(cli_app, ["briefing", "-p", "2026-11", "-o", str(markdown)])
    assert result.exit_code == 0, result.stderr
    text = markdown.read_text(encoding="utf-8")
    assert text.startswith("# 12345 热线工作通报 2026-11")
    assert "## 未达标单位" in text

    result = CliRunner().invoke(cli_app, ["briefing", "-p", "2026-11", "-o", "x.pdf"])
    assert result.exit_code == 2
    assert ".docx or .md" in result.stderr


def test_stats_csv_for_one_department(cli_app: typer.Typer, hotline_env: Path) -> None:
    result = CliRunner().invoke(
        cli_app, ["stats", "-p", "2026-11-01..2026-11-30", "-d", "social_affairs", "-f", "csv"]
    )
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 1
    assert rows[0]["department"] == "social_affairs"
    assert (rows[0]["resolved"], rows[0]["reopened"]) == ("3", "1")
    assert float(rows[0]["reopen_rate"]) == pytest.approx(1 / 3)
    assert rows[0]["qa_pass_rate"] == "1.0"


def test_stats_table(cli_app: typer.Typer, hotline_env: Path) -> None:
    result = CliRunner().invoke(cli_app, ["stats", "--period", "2026-11"])
    assert result.exit_code == 0, result.stderr
    assert "全部" in result.stdout
    assert "85.7%⚠" in result.stdout  # the on-time rate, 6 / 7


def test_export_workbook_and_chart(cli_app: typer.Typer, hotline_env: Path) -> None:
    workbook = hotline_env / "november.xlsx"
    result = CliRunner().invoke(
        cli_app, ["export", "--period", "2026-11", "--output", str(workbook)]
    )
    assert result.exit_code == 0, result.stderr
    assert "10 tickets" in result.stdout
    tickets = workbook_values(workbook.read_bytes(), "工单 Tickets")
    assert len(tickets) == 11
    chart = hotline_env / "november.png"
    result = CliRunner().invoke(cli_app, ["export", "--period", "2026-11", "--output", str(chart)])
    assert result.exit_code == 0, result.stderr
    decode_png(chart.read_bytes())


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["stats", "--period", "2026-13"], "no month 13"),
        (["stats", "--period", "someday"], "unknown period"),
        (["stats", "--period", "2026-11", "-d", "nowhere"], "unknown department 'nowhere'"),
        (["export", "--period", "2026-11", "--output", "out.txt"], ".xlsx or .png"),
        (
            ["export", "--period", "2026-11-30..2026-11-01", "--output", "out.xlsx"],
            "before it starts",
        ),
    ],
)
def test_command_errors_are_one_line(
    cli_app: typer.Typer, hotline_env: Path, args: list[str], words: str
) -> None:
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hotline: error:")
    assert words in lines[0]
    assert "Traceback" not in result.output


def test_an_unreachable_database_is_one_line(
    cli_app: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    monkeypatch.setenv("HOTLINE_DATABASE_URL", "postgresql://hotline:secret@127.0.0.1:1/hotline")
    bot_settings.get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli_app, ["stats", "--period", "month"])
    finally:
        bot_settings.get_settings.cache_clear()
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "cannot reach the database" in result.stderr
    assert "secret" not in result.stderr
