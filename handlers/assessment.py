"""考评: the figures units are judged on, a composite score, and the ranking (红黑榜).

Framework-free: it reads a :class:`handlers.reports.StatisticsReport` (counted in SQL by
``storage.statistics``) and derives, per unit (department) and overall, the figures real
hotlines publish — 响应率, 解决率, 满意率, 及时签收率, 回退率, 重办率, 按时办结率, 质检合格率
(直接答复率 overall, where the knowledge base exists) — each a :class:`Rate` with its
numerator and denominator, then the composite score with the configured weights and the rank.

The score is ``100 × Σ wᵢ·vᵢ / Σ wᵢ`` over the weighted figures that have a value (a
denominator), where ``vᵢ`` is the rate, or ``1 − rate`` for a figure where lower is better
(回退率, 重办率). A unit without any weighted figure has no score. A unit with fewer
dispatches in the period than the minimum is listed with its score but not ranked: a unit
with two tickets would otherwise top or bottom the board by chance.

Ranks are competition ranks (1, 2, 2, 4): units with the same score (to 1e-6) share a rank
and are listed by department code, so the order is the same on every run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from handlers.reports import (
    DepartmentStats,
    Period,
    Rate,
    StatisticsReport,
    row_name,
)


@dataclass(frozen=True, slots=True)
class Figure:
    """One assessed figure: its JSON key, labels, and whether lower is better."""

    key: str
    zh: str
    en: str
    rate: Callable[[DepartmentStats], Rate | None]
    lower_is_better: bool = False

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


FIGURES: tuple[Figure, ...] = (
    Figure("response_rate", "响应率", "Response", lambda row: row.response_rate),
    Figure("resolution_rate", "解决率", "Resolution", lambda row: row.resolution_rate),
    Figure("satisfaction_rate", "满意率", "Satisfaction", lambda row: row.satisfaction_rate),
    Figure("on_time_sign_rate", "及时签收率", "On-time sign-for", lambda row: row.sign_for_rate),
    Figure("return_rate", "回退率", "Return", lambda row: row.return_rate, lower_is_better=True),
    Figure("reopen_rate", "重办率", "Reopen", lambda row: row.reopen_rate, lower_is_better=True),
    Figure("on_time_rate", "按时办结率", "On-time resolution", lambda row: row.on_time_rate),
    Figure("quality_pass_rate", "质检合格率", "QA pass", lambda row: row.qa_pass_rate),
    # The overall row's only, where the knowledge base has entries: no unit has it.
    Figure("direct_answer_rate", "直接答复率", "Direct answer", lambda row: row.direct_answer_rate),
)
FIGURE_KEYS = tuple(figure.key for figure in FIGURES)
_BY_KEY = {figure.key: figure for figure in FIGURES}

#: Beijing's monthly 接诉即办 assessment: 响应率, 解决率 and 满意率.
BEIJING_WEIGHTS: Mapping[str, float] = {
    "response_rate": 0.10,
    "resolution_rate": 0.45,
    "satisfaction_rate": 0.45,
}

_TIE = 6  # scores equal to this many decimals share a rank


def figure(key: str) -> Figure:
    return _BY_KEY[key]


@dataclass(frozen=True, slots=True)
class AssessmentSettings:
    """The weights of the score (figure key → weight), the minimum number of dispatches to
    be ranked, and how many units the 红榜 and the 黑榜 each name."""

    weights: Mapping[str, float] = field(default_factory=lambda: dict(BEIJING_WEIGHTS))
    min_tickets: int = 5
    board_size: int = 5

    def __post_init__(self) -> None:
        unknown = sorted(set(self.weights) - set(FIGURE_KEYS))
        if unknown:
            raise ValueError(f"unknown figures in the weights: {', '.join(unknown)}")

    @classmethod
    def of(cls, config: Any) -> AssessmentSettings:
        """From the ``[assessment]`` section (``handlers.config.AssessmentConfig``)."""
        return cls(dict(config.weights), int(config.min_tickets), int(config.board_size))

    def to_dict(self) -> dict[str, Any]:
        return {
            "weights": dict(self.weights),
            "min_tickets": self.min_tickets,
            "board_size": self.board_size,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AssessmentSettings:
        return cls(
            {str(k): float(v) for k, v in data["weights"].items()},
            int(data["min_tickets"]),
            int(data["board_size"]),
        )


@dataclass(frozen=True, slots=True)
class UnitAssessment:
    """One unit's figures, score and rank (``rank`` None: not ranked); ``department`` None is
    the overall row, never ranked."""

    row: DepartmentStats
    figures: Mapping[str, Rate | None]
    score: float | None
    rank: int | None = None
    board: str | None = None  # "red" (红榜), "black" (黑榜) or None

    @property
    def department(self) -> str | None:
        return self.row.department

    @property
    def tickets(self) -> int:
        """What the minimum is compared with: the unit's dispatches in the period."""
        return self.row.dispatched


def figures_of(row: DepartmentStats) -> dict[str, Rate | None]:
    return {f.key: f.rate(row) for f in FIGURES}


def composite_score(row: DepartmentStats, weights: Mapping[str, float]) -> float | None:
    """``100 × Σ wᵢ·vᵢ / Σ wᵢ`` over the weighted figures that have a value (see module doc)."""
    total = weighted = 0.0
    for key, weight in weights.items():
        if weight <= 0:
            continue
        rate = _BY_KEY[key].rate(row)
        value = rate.value if rate is not None else None
        if value is None:
            continue
        if _BY_KEY[key].lower_is_better:
            value = 1.0 - value
        total += weight * value
        weighted += weight
    return None if weighted == 0 else 100.0 * total / weighted


def _tie_key(score: float) -> float:
    return round(score, _TIE)


def assess(report: StatisticsReport, settings: AssessmentSettings) -> list[UnitAssessment]:
    """The overall row (if the report has one) then every unit: ranked units by rank (ties by
    code), then the unranked by code. The top ``board_size`` ranks are 红榜, the bottom
    ``board_size`` 黑榜 (a unit is never on both: with fewer than twice the board size, the
    black board takes only the units below the red one)."""
    units = [
        UnitAssessment(row, figures_of(row), composite_score(row, settings.weights))
        for row in report.departments
    ]
    rankable = [u for u in units if u.score is not None and u.tickets >= settings.min_tickets]
    rankable.sort(key=lambda u: (-_tie_key(u.score or 0.0), u.department or ""))
    ranked: list[UnitAssessment] = []
    previous: float | None = None
    rank = 0
    for position, unit in enumerate(rankable, start=1):
        key = _tie_key(unit.score or 0.0)
        if key != previous:
            rank, previous = position, key
        ranked.append(_with(unit, rank=rank))
    ranked = _boards(ranked, settings.board_size)
    unranked = sorted((u for u in units if u not in rankable), key=lambda u: u.department or "")
    overall = [
        UnitAssessment(row, figures_of(row), composite_score(row, settings.weights))
        for row in report.rows
        if row.department is None
    ]
    return [*overall, *ranked, *unranked]


def _with(unit: UnitAssessment, **changes: Any) -> UnitAssessment:
    return replace(unit, **changes)


def _boards(ranked: Sequence[UnitAssessment], size: int) -> list[UnitAssessment]:
    """Mark the top ``size`` ranks 红榜 and the bottom ``size`` 黑榜. A tie at the edge takes
    every unit sharing that rank (no unit is left off for its code)."""
    if not ranked:
        return []
    red_ranks = {u.rank for u in ranked if (u.rank or 0) <= size}
    # The rank at the size-th position from the end: it and every rank below it are 黑榜.
    threshold = _rank_at(ranked, len(ranked) - size + 1)
    black_ranks = {u.rank for u in ranked if (u.rank or 0) >= threshold} - red_ranks
    return [
        _with(
            u,
            board="red" if u.rank in red_ranks else "black" if u.rank in black_ranks else None,
        )
        for u in ranked
    ]


def _rank_at(ranked: Sequence[UnitAssessment], position: int) -> int:
    """The rank of the unit at 1-based ``position`` (clamped to the list)."""
    index = min(max(position, 1), len(ranked)) - 1
    return ranked[index].rank or 0


# ---------------------------------------------------------------------------------------------
# Flat forms (JSON and CSV of `hotline stats` and `hotline ranking`)
# ---------------------------------------------------------------------------------------------


def rate_dict(rate: Rate | None) -> dict[str, Any] | None:
    if rate is None:
        return None
    value = rate.value
    return {
        "value": value,
        "numerator": rate.numerator,
        "denominator": rate.denominator,
        "target": rate.target,
        "below": rate.below,
    }


def assessment_dict(unit: UnitAssessment) -> dict[str, Any]:
    """Every assessed figure with its numerator and denominator, the score and the rank."""
    data: dict[str, Any] = {key: rate_dict(rate) for key, rate in unit.figures.items()}
    data["score"] = None if unit.score is None else round(unit.score, 2)
    data["rank"] = unit.rank
    data["board"] = unit.board
    return data


def change_from(
    current: Iterable[UnitAssessment], previous: Iterable[UnitAssessment]
) -> dict[str, tuple[float | None, int | None]]:
    """Per unit: (score now − score then, rank then − rank now: positive is up), None where
    either period has none."""
    before = {u.department: u for u in previous if u.department is not None}
    changes: dict[str, tuple[float | None, int | None]] = {}
    for unit in current:
        if unit.department is None:
            continue
        old = before.get(unit.department)
        score = (
            None
            if old is None or old.score is None or unit.score is None
            else unit.score - old.score
        )
        rank = (
            None if old is None or old.rank is None or unit.rank is None else old.rank - unit.rank
        )
        changes[unit.department] = (score, rank)
    return changes


def unit_name(unit: UnitAssessment, lang: str) -> str:
    return row_name(unit.row, lang)


def format_score(score: float | None) -> str:
    return "—" if score is None or math.isnan(score) else f"{score:.2f}"


# ---------------------------------------------------------------------------------------------
# 红黑榜: the ranking of a period against the previous one
# ---------------------------------------------------------------------------------------------


def previous_period(period: Period) -> Period:
    """The period before: the previous month, quarter or year for a whole one, else as many
    days just before."""
    start, end = period.start, period.end
    if start.day == 1 and end + timedelta(days=1) == _add_months(start, 1):
        first = _add_months(start, -1)
        return Period(first, start - timedelta(days=1))
    if start.day == 1 and start.month % 3 == 1 and end + timedelta(days=1) == _add_months(start, 3):
        first = _add_months(start, -3)
        return Period(first, start - timedelta(days=1))
    if (start.month, start.day) == (1, 1) and (end.month, end.day) == (12, 31):
        years = end.year - start.year + 1
        return Period(date(start.year - years, 1, 1), date(start.year - 1, 12, 31))
    return Period(start - timedelta(days=period.days), start - timedelta(days=1))


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Ranking:
    """The units of a period by score, with each one's change from the previous period."""

    period: Period
    previous: Period
    units: tuple[UnitAssessment, ...]  # ranked first, then unranked; no overall row
    changes: Mapping[str, tuple[float | None, int | None]]
    settings: AssessmentSettings


def ranking(
    report: StatisticsReport, before: StatisticsReport, settings: AssessmentSettings
) -> Ranking:
    current = [u for u in assess(report, settings) if u.department is not None]
    previous = assess(before, settings)
    return Ranking(
        report.period, before.period, tuple(current), change_from(current, previous), settings
    )


RANKING_COLUMNS = (
    "rank",
    "board",
    "department",
    "name",
    "score",
    "score_change",
    "rank_change",
    "tickets",
    *(f.key for f in FIGURES),
)


def ranking_rows(result: Ranking, lang: str = "zh") -> list[dict[str, Any]]:
    """One flat row per unit (figures as values in [0, 1] or None), in ranking order."""
    rows = []
    for unit in result.units:
        assert unit.department is not None  # narrowing only: ranked units are departments
        score_change, rank_change = result.changes.get(unit.department, (None, None))
        row: dict[str, Any] = {
            "rank": unit.rank,
            "board": unit.board,
            "department": unit.department,
            "name": unit_name(unit, lang),
            "score": None if unit.score is None else round(unit.score, 2),
            "score_change": None if score_change is None else round(score_change, 2),
            "rank_change": rank_change,
            "tickets": unit.tickets,
        }
        for key, rate in unit.figures.items():
            row[key] = None if rate is None else rate.value
        rows.append(row)
    return rows


BOARD_NAMES = {"red": ("红榜", "Red list"), "black": ("黑榜", "Black list")}


def _change_text(score: float | None, rank: int | None, lang: str) -> str:
    if score is None:
        return "新上榜" if lang != "en" else "new"
    arrow = "" if rank is None or rank == 0 else ("↑" if rank > 0 else "↓") + str(abs(rank))
    return f"{score:+.2f}{(' ' + arrow) if arrow else ''}"


def format_ranking_text(result: Ranking, lang: str = "zh") -> str:
    """The 红黑榜 as a Telegram message: the red list, the black list, then every ranked unit
    with its score and change, then the units not ranked (too few tickets)."""
    en = lang == "en"
    settings = result.settings
    weights = "、".join(
        f"{figure(key).label(lang)} {weight:g}" for key, weight in settings.weights.items()
    )
    lines = [
        (
            f"12345 ranking {result.period.label} (vs {result.previous.label})"
            if en
            else f"12345 考评排名 {result.period.label}（对比 {result.previous.label}）"
        ),
        (f"Score weights: {weights}" if en else f"得分权重：{weights}"),
    ]
    ranked = [u for u in result.units if u.rank is not None]
    for board in ("red", "black"):
        zh, english = BOARD_NAMES[board]
        names = [
            f"{u.rank}. {unit_name(u, lang)} {format_score(u.score)}"
            for u in ranked
            if u.board == board
        ]
        lines.append(f"{'🟥' if board == 'red' else '⬛'} {english if en else zh}：")
        lines.extend(f"  {n}" for n in names or ["—"])
    lines.append("")
    lines.append("All ranked units:" if en else "全部排名：")
    for unit in ranked:
        assert unit.department is not None  # narrowing only: ranked units are departments
        score_change, rank_change = result.changes.get(unit.department, (None, None))
        lines.append(
            f"{unit.rank}. {unit_name(unit, lang)} {format_score(unit.score)}"
            f"（{_change_text(score_change, rank_change, lang)}）"
        )
    unranked = [u for u in result.units if u.rank is None and u.tickets > 0]
    if unranked:
        listed = "、".join(unit_name(u, lang) for u in unranked)
        lines.append(
            f"Not ranked (fewer than {settings.min_tickets} dispatches or no figure): {listed}"
            if en
            else f"不参与排名（派单少于 {settings.min_tickets} 件或无数据）：{listed}"
        )
    text = "\n".join(lines)
    return text if len(text) <= 4000 else text[:3990] + "…"
