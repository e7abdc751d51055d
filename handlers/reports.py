"""SLA statistics as plain values: periods, per-department rows, the trend, and their text form.

Framework-free on purpose: ``storage.statistics`` fills a :class:`StatisticsReport` with SQL,
the bot stores it in the outbox as JSON (:func:`report_to_dict`) and renders it later as a
Telegram message (:func:`format_report_text`), a chart or a workbook (``bot.reports``).

A row keeps the raw counts (and the working-days histogram); every rate, the median and the
mean are derived from them, so a report read back from JSON is equal to the one written.

Errors in a period the user typed are :class:`PeriodError`, carrying a Chinese and an English
one-line message (``str()`` is the English one; ``error.message(lang)`` picks).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
MIN_YEAR, MAX_YEAR = 2000, 2099
TELEGRAM_TEXT_LIMIT = 4000
BELOW_MARK = "⚠"
NO_VALUE = "—"

TrendUnit = Literal["day", "week", "month"]

# ---------------------------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------------------------


class PeriodError(ValueError):
    """A period the user typed cannot be understood; one line in each language."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.en = en
        self.zh = zh

    def message(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True, slots=True)
class Period:
    """Local (Asia/Shanghai) calendar days ``start`` … ``end``, both included."""

    start: date
    end: date
    label: str = ""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError(
                f"the period ends ({self.end}) before it starts ({self.start})",
                f"时间段的结束日期（{self.end}）早于开始日期（{self.start}）",
            )
        if not self.label:
            object.__setattr__(self, "label", period_label(self.start, self.end))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start 00:00, end+1 00:00) Shanghai time, as aware UTC datetimes."""
        begin = datetime.combine(self.start, time(), SHANGHAI)
        finish = datetime.combine(self.end + timedelta(days=1), time(), SHANGHAI)
        return begin.astimezone(UTC), finish.astimezone(UTC)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _month_end(year: int, month: int) -> date:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return following - timedelta(days=1)


def _quarter_end(year: int, quarter: int) -> date:
    return _month_end(year, 3 * quarter)


def period_label(start: date, end: date) -> str:
    """The shortest exact name: ``2026``, ``2026-Q4``, ``2026-11``, ``2026-11-27`` or a range."""
    if start == end:
        return start.isoformat()
    if start == date(start.year, 1, 1) and end == date(start.year, 12, 31):
        return f"{start.year}"
    if start.day == 1 and start.month % 3 == 1:
        quarter = (start.month - 1) // 3 + 1
        if end == _quarter_end(start.year, quarter):
            return f"{start.year}-Q{quarter}"
    if start.day == 1 and end == _month_end(start.year, start.month):
        return f"{start.year}-{start.month:02d}"
    return f"{start.isoformat()}..{end.isoformat()}"


def _relative(word: str, today: date) -> tuple[date, date] | None:
    """Words relative to today; ``week``/``month``/… run from their first day to today."""
    monday = today - timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    quarter_start = _quarter_start(today)
    year_start = date(today.year, 1, 1)
    last_month_end = month_start - timedelta(days=1)
    last_quarter_end = quarter_start - timedelta(days=1)
    table: dict[str, tuple[date, date]] = {
        "today": (today, today),
        "yesterday": (today - timedelta(days=1), today - timedelta(days=1)),
        "week": (monday, today),
        "month": (month_start, today),
        "quarter": (quarter_start, today),
        "year": (year_start, today),
        "last-week": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "last-month": (last_month_end.replace(day=1), last_month_end),
        "last-quarter": (_quarter_start(last_quarter_end), last_quarter_end),
        "last-year": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
    }
    return table.get(_ALIASES.get(word, word))


_ALIASES = {
    "今天": "today",
    "今日": "today",
    "昨天": "yesterday",
    "昨日": "yesterday",
    "本周": "week",
    "本月": "month",
    "本季": "quarter",
    "本季度": "quarter",
    "本年": "year",
    "今年": "year",
    "上周": "last-week",
    "上月": "last-month",
    "上季度": "last-quarter",
    "去年": "last-year",
    "last_week": "last-week",
    "last_month": "last-month",
    "last_quarter": "last-quarter",
    "last_year": "last-year",
}

_YEAR = re.compile(r"(\d{4})")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_QUARTER = re.compile(r"(\d{4})-?q(\d)")
_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_RANGE = re.compile(r"(\S+?)\s*(?:\.\.|~|至)\s*(\S+)|(\S+)\s+(\S+)")

_FORMS = (
    "today, yesterday, week, month, quarter, year, last-month…, YYYY, YYYY-MM, YYYY-Qn, "
    "YYYY-MM-DD, FROM..TO"
)
_FORMS_ZH = (
    "今天、昨天、本周、本月、本季度、今年、上月…、YYYY、YYYY-MM、YYYY-Qn、YYYY-MM-DD、起..止"
)


def _check_year(year: int, text: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError(
            f"year {year} in {text!r} is outside {MIN_YEAR}–{MAX_YEAR}",
            f"“{text}”中的年份 {year} 不在 {MIN_YEAR}–{MAX_YEAR} 之间",
        )


def _single(text: str, today: date) -> tuple[date, date]:
    """One non-range form: a relative word, a year, quarter, month or day."""
    relative = _relative(text, today)
    if relative is not None:
        return relative
    if m := _YEAR.fullmatch(text):
        year = int(m[1])
        _check_year(year, text)
        return date(year, 1, 1), date(year, 12, 31)
    if m := _QUARTER.fullmatch(text):
        year, quarter = int(m[1]), int(m[2])
        _check_year(year, text)
        if not 1 <= quarter <= 4:
            raise PeriodError(
                f"there is no quarter Q{quarter} (use Q1–Q4): {text!r}",
                f"没有第 {quarter} 季度（应为 Q1–Q4）：“{text}”",
            )
        return date(year, 3 * quarter - 2, 1), _quarter_end(year, quarter)
    if m := _MONTH.fullmatch(text):
        year, month = int(m[1]), int(m[2])
        _check_year(year, text)
        if not 1 <= month <= 12:
            raise PeriodError(f"there is no month {month}: {text!r}", f"没有 {month} 月：“{text}”")
        return date(year, month, 1), _month_end(year, month)
    if m := _DAY.fullmatch(text):
        year = int(m[1])
        _check_year(year, text)
        try:
            day = date(year, int(m[2]), int(m[3]))
        except ValueError:
            raise PeriodError(f"no such date: {text!r}", f"日期不存在：“{text}”") from None
        return day, day
    raise PeriodError(
        f"unknown period {text!r}; use {_FORMS}", f"无法识别的时间段“{text}”，可用：{_FORMS_ZH}"
    )


def parse_period(text: str, today: date) -> Period:
    """Parse what a supervisor typed into a :class:`Period` (local Shanghai days).

    ``today``, ``yesterday``; ``week``/``month``/``quarter``/``year`` (from the first day of
    the current one through today); ``last-week``/``last-month``/``last-quarter``/
    ``last-year`` (the whole previous one); ``YYYY``, ``YYYY-MM``, ``YYYY-Qn``, ``YYYY-MM-DD``;
    and ranges ``FROM..TO`` or ``FROM TO`` (also ``~`` and ``至``), where each side is any of
    the single forms (``2026-01..2026-03`` is the first quarter). Chinese words (今天, 本月,
    上月 …) are accepted too. Raises :class:`PeriodError`.
    """
    cleaned = " ".join(text.strip().lower().split())
    if not cleaned:
        raise PeriodError(f"no period given; use {_FORMS}", f"请给出时间段，可用：{_FORMS_ZH}")
    if (m := _RANGE.fullmatch(cleaned)) and _relative(cleaned, today) is None:
        left, right = (m[1], m[2]) if m[1] is not None else (m[3], m[4])
        start, _ = _single(left, today)
        _, end = _single(right, today)
    else:
        start, end = _single(cleaned, today)
    return Period(start, end)


# ---------------------------------------------------------------------------------------------
# Report values
# ---------------------------------------------------------------------------------------------


class TargetsLike(Protocol):
    """What :class:`ReportTargets` copies (``handlers.config.Targets`` has it, and so does a
    ``ReportTargets``): read only."""

    @property
    def on_time(self) -> float: ...
    @property
    def sign_for(self) -> float: ...
    @property
    def satisfaction(self) -> float: ...
    @property
    def survey_response(self) -> float: ...
    @property
    def quality(self) -> float: ...
    @property
    def basic_satisfied_weight(self) -> float: ...
    @property
    def response(self) -> float: ...
    @property
    def resolution(self) -> float: ...


@dataclass(frozen=True, slots=True)
class ReportTargets:
    """The targets and the 基本满意 weight a report was computed with (a copy of the config's)."""

    on_time: float = 0.95
    sign_for: float = 0.95
    satisfaction: float = 0.95
    survey_response: float = 0.95
    quality: float = 0.95
    basic_satisfied_weight: float = 1.0
    response: float = 0.95
    resolution: float = 0.95

    @classmethod
    def of(cls, targets: TargetsLike) -> ReportTargets:
        return cls(**{f.name: float(getattr(targets, f.name)) for f in fields(cls)})


# Floating sums like 3 + 0.9 × 2 must not flag a rate that meets its target exactly.
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Rate:
    """numerator / denominator, with its target; ``value`` is None with no denominator."""

    numerator: float
    denominator: int
    target: float | None = None

    @property
    def value(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator

    @property
    def below(self) -> bool:
        """Below target (never for a rate without a target or without a denominator)."""
        value = self.value
        return value is not None and self.target is not None and value < self.target - _EPSILON


#: The counts of a row, in display order (``department``/``name``/histogram aside).
COUNT_FIELDS = (
    "received",
    "dispatched",
    "signed_on_time",
    "contacted_on_time",
    "returned",
    "extended",
    "resolved",
    "resolved_on_time",
    "overdue_open",
    "reopened",
    "surveyed",
    "rated",
    "solve_answered",
    "solved",
    "satisfied",
    "basic",
    "unsatisfied",
    "survey_timed_out",
    "inspected",
    "passed",
)

#: The rates of a row, in display order.
RATE_FIELDS = (
    "on_time_rate",
    "sign_for_rate",
    "return_rate",
    "reopen_rate",
    "satisfaction_rate",
    "survey_response_rate",
    "qa_pass_rate",
)


@dataclass(frozen=True, slots=True)
class DepartmentStats:
    """One department's figures for a period; ``department`` None is the overall row.

    Counts (see ``storage.statistics`` for each one's exact SQL definition):

    - ``received``: tickets received (受理) in the period, by their current department;
    - ``dispatched``: dispatches (派单) in the period; ``signed_on_time``: of those, signed for
      (签收) no later than their sign-for limit; ``returned``: dispatches returned (退单) in
      the period;
    - ``extended``: extensions (延期) approved, decided in the period;
    - ``resolved``: answers (办结) given in the period, every round; ``resolved_on_time``: of
      those, on time against the (extended) deadline then in force;
    - ``overdue_open``: open tickets past their deadline *now* (超期), whatever the period;
    - ``reopened``: surveys sent in the period (with the period's answers) rated 不满意,
      each of which re-opened its ticket (重办);
    - ``surveyed``: surveys (回访) sent in the period; ``rated``: of those, rated 满意,
      基本满意 or 不满意 (``satisfied``/``basic``/``unsatisfied``); ``survey_timed_out``: of
      those, timed out unrated (未评价);
    - ``contacted_on_time``: of the dispatches, those whose unit contacted the citizen (先行联系)
      no later than the first-contact limit;
    - ``solve_answered``/``solved``: of the surveys sent, those where the citizen answered
      问题是否已解决 / answered 已解决;
    - ``inspected``/``passed``: quality checks (质检) of resolutions sampled for days in the
      period, inspected / passed;
    - ``working_days``: histogram ``((days, answers), …)`` of the working days from receipt
      to each answer given in the period;
    - ``direct_answers``: the overall row's 直接答复 where the knowledge base has entries,
      ``(answered, contacts)``: direct answers given in the period and settled as answered,
      and contacts (tickets received plus direct answers still waiting for the citizen's
      word), as ``handlers.knowledge_stats`` counts them; None for a unit (a direct answer is
      nobody's dispatch) and without a knowledge base.
    """

    department: str | None
    name: str
    targets: ReportTargets = field(default_factory=ReportTargets)
    received: int = 0
    dispatched: int = 0
    signed_on_time: int = 0
    contacted_on_time: int = 0
    returned: int = 0
    extended: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    overdue_open: int = 0
    reopened: int = 0
    surveyed: int = 0
    rated: int = 0
    solve_answered: int = 0
    solved: int = 0
    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0
    survey_timed_out: int = 0
    inspected: int = 0
    passed: int = 0
    working_days: tuple[tuple[int, int], ...] = ()
    direct_answers: tuple[int, int] | None = None

    # -- rates: each None (value) without a denominator -------------------------------------

    @property
    def on_time_rate(self) -> Rate:
        """按时办结率 = resolved on time / resolved."""
        return Rate(self.resolved_on_time, self.resolved, self.targets.on_time)

    @property
    def direct_answer_rate(self) -> Rate | None:
        """直接答复率 = directly answered / contacts (see ``direct_answers``)."""
        if self.direct_answers is None:
            return None
        answered, contacts = self.direct_answers
        return Rate(answered, contacts)

    @property
    def sign_for_rate(self) -> Rate:
        """按时签收率 = signed on time / dispatched."""
        return Rate(self.signed_on_time, self.dispatched, self.targets.sign_for)

    @property
    def response_rate(self) -> Rate:
        """响应率 = contacted in time (先行联系) / dispatched."""
        return Rate(self.contacted_on_time, self.dispatched, self.targets.response)

    @property
    def resolution_rate(self) -> Rate:
        """解决率 = answered 已解决 / answered 问题是否已解决."""
        return Rate(self.solved, self.solve_answered, self.targets.resolution)

    @property
    def return_rate(self) -> Rate:
        """退单率 = returned / dispatched (no target: lower is better)."""
        return Rate(self.returned, self.dispatched)

    @property
    def reopen_rate(self) -> Rate:
        """重办率 = reopened / resolved (no target: lower is better)."""
        return Rate(self.reopened, self.resolved)

    @property
    def satisfaction_rate(self) -> Rate:
        """满意率 = (满意 + w × 基本满意) / rated."""
        weight = self.targets.basic_satisfied_weight
        return Rate(self.satisfied + weight * self.basic, self.rated, self.targets.satisfaction)

    @property
    def survey_response_rate(self) -> Rate:
        """回访率 = rated / surveys sent."""
        return Rate(self.rated, self.surveyed, self.targets.survey_response)

    @property
    def qa_pass_rate(self) -> Rate:
        """质检合格率 = passed / inspected."""
        return Rate(self.passed, self.inspected, self.targets.quality)

    def rate(self, name: str) -> Rate:
        if name not in RATE_FIELDS:
            raise KeyError(name)
        rate: Rate = getattr(self, name)
        return rate

    # -- handling time -----------------------------------------------------------------------

    @property
    def median_working_days(self) -> float | None:
        """The median of the histogram (the mean of the two middle answers when even)."""
        return histogram_median(self.working_days)

    @property
    def mean_working_days(self) -> float | None:
        total = sum(count for _, count in self.working_days)
        if total == 0:
            return None
        return sum(days * count for days, count in self.working_days) / total

    @property
    def below_target(self) -> tuple[str, ...]:
        """The names of the rates below their targets."""
        return tuple(name for name in RATE_FIELDS if self.rate(name).below)


def histogram_median(histogram: Iterable[tuple[int, int]]) -> float | None:
    """The median of values given as ``(value, count)`` pairs, without expanding them."""
    pairs = sorted((value, count) for value, count in histogram if count > 0)
    total = sum(count for _, count in pairs)
    if total == 0:
        return None
    # 0-based positions of the middle value(s) in the sorted expansion.
    low, high = (total - 1) // 2, total // 2
    found: list[int] = []
    seen = 0
    for value, count in pairs:
        for position in (low, high):
            if seen <= position < seen + count:
                found.append(value)
        seen += count
        if len(found) == 2:
            break
    return (found[0] + found[1]) / 2


def merge_histograms(*histograms: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: dict[int, int] = {}
    for histogram in histograms:
        for value, count in histogram:
            merged[value] = merged.get(value, 0) + count
    return tuple(sorted(merged.items()))


def combine(
    rows: Iterable[DepartmentStats],
    *,
    department: str | None = None,
    name: str = "",
    targets: ReportTargets | None = None,
    extra: Mapping[str, int] | None = None,
) -> DepartmentStats:
    """The sum of ``rows`` (plus ``extra`` counts, e.g. of tickets in no department)."""
    rows = list(rows)
    sums = {key: sum(getattr(row, key) for row in rows) for key in COUNT_FIELDS}
    for key, value in (extra or {}).items():
        sums[key] += value
    return DepartmentStats(
        department=department,
        name=name,
        targets=targets or (rows[0].targets if rows else ReportTargets()),
        working_days=merge_histograms(*(row.working_days for row in rows)),
        **sums,
    )


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One bucket of the trend: tickets received, answers given and on time, from ``start``."""

    start: date
    received: int = 0
    resolved: int = 0
    resolved_on_time: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return None if self.resolved == 0 else self.resolved_on_time / self.resolved


def trend_unit_for(period: Period) -> TrendUnit:
    """Days for up to a quarter, weeks for up to two years, months beyond."""
    if period.days <= 92:
        return "day"
    if period.days <= 731:
        return "week"
    return "month"


def _next_bucket(start: date, unit: TrendUnit) -> date:
    if unit == "day":
        return start + timedelta(days=1)
    if unit == "week":
        return start + timedelta(days=7 - start.weekday())  # the next Monday
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)  # the next 1st


def trend_buckets(period: Period) -> tuple[TrendUnit, tuple[tuple[date, date], ...]]:
    """The period cut into days, weeks (from Monday) or months: ``(first day, day after)``.

    The first bucket starts with the period and the last ends with it, so partial weeks or
    months at the edges are buckets of their own.
    """
    unit = trend_unit_for(period)
    buckets: list[tuple[date, date]] = []
    start = period.start
    after = period.end + timedelta(days=1)
    while start < after:
        end = min(_next_bucket(start, unit), after)
        buckets.append((start, end))
        start = end
    return unit, tuple(buckets)


@dataclass(frozen=True, slots=True)
class StatisticsReport:
    """The statistics of one period: the overall row first (unless for one department)."""

    period: Period
    generated_at: datetime
    rows: tuple[DepartmentStats, ...]
    trend: tuple[TrendPoint, ...] = ()
    trend_unit: TrendUnit = "day"
    targets: ReportTargets = field(default_factory=ReportTargets)
    department: str | None = None  # the one department asked for, or None for all

    @property
    def overall(self) -> DepartmentStats | None:
        for row in self.rows:
            if row.department is None:
                return row
        return None

    @property
    def departments(self) -> tuple[DepartmentStats, ...]:
        return tuple(row for row in self.rows if row.department is not None)


# ---------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------

FORMAT_VERSION = 1


def _rate_dict(rate: Rate) -> dict[str, Any]:
    return {
        "value": rate.value,
        "target": rate.target,
        "below": rate.below,
        "numerator": rate.numerator,
        "denominator": rate.denominator,
    }


def row_to_dict(row: DepartmentStats) -> dict[str, Any]:
    """A row's counts, histogram, and (for readers; ignored on reading) its derived figures."""
    data: dict[str, Any] = {"department": row.department, "name": row.name}
    data.update({key: getattr(row, key) for key in COUNT_FIELDS})
    data["working_days"] = [[days, count] for days, count in row.working_days]
    data["median_working_days"] = row.median_working_days
    data["mean_working_days"] = row.mean_working_days
    data["rates"] = {name: _rate_dict(row.rate(name)) for name in RATE_FIELDS}
    if row.direct_answers is not None:
        data["direct_answers"] = list(row.direct_answers)
    return data


def _period_to_dict(period: Period) -> dict[str, str]:
    return {"start": period.start.isoformat(), "end": period.end.isoformat(), "label": period.label}


def _period_from_dict(data: Mapping[str, str]) -> Period:
    return Period(date.fromisoformat(data["start"]), date.fromisoformat(data["end"]), data["label"])


def _targets_to_dict(targets: ReportTargets) -> dict[str, float]:
    return {f.name: getattr(targets, f.name) for f in fields(ReportTargets)}


def _targets_from_dict(data: Mapping[str, Any]) -> ReportTargets:
    # A report stored before a target existed is read with that target's default.
    defaults = ReportTargets()
    return ReportTargets(
        **{
            f.name: float(data.get(f.name, getattr(defaults, f.name)))
            for f in fields(ReportTargets)
        }
    )


def report_to_dict(report: StatisticsReport) -> dict[str, Any]:
    """A JSON-able dict; :func:`report_from_dict` gives back an equal report."""
    return {
        "version": FORMAT_VERSION,
        "period": _period_to_dict(report.period),
        "generated_at": report.generated_at.isoformat(),
        "department": report.department,
        "targets": _targets_to_dict(report.targets),
        "rows": [row_to_dict(row) for row in report.rows],
        "trend_unit": report.trend_unit,
        "trend": [
            {
                "start": point.start.isoformat(),
                "received": point.received,
                "resolved": point.resolved,
                "resolved_on_time": point.resolved_on_time,
                "on_time_rate": point.on_time_rate,
            }
            for point in report.trend
        ],
    }


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """A report asked for, to be counted when it is sent (off the database worker, which a
    year's count over a million tickets would hold for a second): the period, the targets and
    names to count with, and ``asked_at``, the "now" it is counted as of."""

    period: Period
    asked_at: datetime
    targets: ReportTargets
    names: Mapping[str, str]
    department: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "period": _period_to_dict(self.period),
            "asked_at": self.asked_at.isoformat(),
            "targets": _targets_to_dict(self.targets),
            "names": dict(self.names),
            "department": self.department,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportRequest:
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"unknown report request format {data.get('version')!r}")
        return cls(
            period=_period_from_dict(data["period"]),
            asked_at=datetime.fromisoformat(data["asked_at"]),
            targets=_targets_from_dict(data["targets"]),
            names=dict(data["names"]),
            department=data.get("department"),
        )


def _pair(value: Any) -> tuple[int, int] | None:
    return None if value is None else (int(value[0]), int(value[1]))


def report_from_dict(data: Mapping[str, Any]) -> StatisticsReport:
    """The report :func:`report_to_dict` wrote (derived figures are recomputed, not read)."""
    if data.get("version") != FORMAT_VERSION:
        raise ValueError(f"unknown statistics report format {data.get('version')!r}")
    targets = _targets_from_dict(data["targets"])
    period = _period_from_dict(data["period"])
    rows = tuple(
        DepartmentStats(
            department=row["department"],
            name=row["name"],
            targets=targets,
            working_days=tuple((int(days), int(count)) for days, count in row["working_days"]),
            direct_answers=_pair(row.get("direct_answers")),
            **{key: int(row.get(key, 0)) for key in COUNT_FIELDS},
        )
        for row in data["rows"]
    )
    trend = tuple(
        TrendPoint(
            date.fromisoformat(point["start"]),
            int(point["received"]),
            int(point["resolved"]),
            int(point["resolved_on_time"]),
        )
        for point in data["trend"]
    )
    return StatisticsReport(
        period=period,
        generated_at=datetime.fromisoformat(data["generated_at"]),
        rows=rows,
        trend=trend,
        trend_unit=data["trend_unit"],
        targets=targets,
        department=data["department"],
    )


# ---------------------------------------------------------------------------------------------
# Labels and flat rows (shared by the text, the CLI's JSON/CSV, the workbook and the chart)
# ---------------------------------------------------------------------------------------------

LABELS: dict[str, tuple[str, str]] = {
    "department": ("承办单位", "Department"),
    "overall": ("全部", "All"),
    "received": ("受理", "Received"),
    "dispatched": ("派单", "Dispatched"),
    "signed_on_time": ("按时签收", "Signed on time"),
    "contacted_on_time": ("按时联系", "Contacted in time"),
    "solve_answered": ("答复是否解决", "Said solved or not"),
    "solved": ("已解决", "Solved"),
    "returned": ("退单", "Returned"),
    "extended": ("延期", "Extended"),
    "resolved": ("办结", "Resolved"),
    "resolved_on_time": ("按时办结", "Resolved on time"),
    "overdue_open": ("超期未办结", "Overdue open"),
    "reopened": ("重办", "Reopened"),
    "surveyed": ("回访", "Surveyed"),
    "rated": ("已评价", "Rated"),
    "satisfied": ("满意", "Satisfied"),
    "basic": ("基本满意", "Basically satisfied"),
    "unsatisfied": ("不满意", "Unsatisfied"),
    "survey_timed_out": ("未评价", "Not rated"),
    "inspected": ("质检", "Inspected"),
    "passed": ("质检合格", "Passed"),
    "median_working_days": ("办理时长中位数(工作日)", "Median working days"),
    "mean_working_days": ("办理时长平均(工作日)", "Mean working days"),
    "on_time_rate": ("按时办结率", "On-time resolution"),
    "sign_for_rate": ("按时签收率", "On-time sign-for"),
    "return_rate": ("退单率", "Return rate"),
    "reopen_rate": ("重办率", "Reopen rate"),
    "satisfaction_rate": ("满意率", "Satisfaction"),
    "survey_response_rate": ("回访率", "Survey response"),
    "qa_pass_rate": ("质检合格率", "QA pass rate"),
}

# Short forms for the Telegram message, where width matters.
_SHORT: dict[str, tuple[str, str]] = {
    "received": ("受理", "recv"),
    "dispatched": ("派单", "disp"),
    "resolved": ("办结", "done"),
    "overdue_open": ("超期", "overdue"),
    "days": ("时长", "days"),
    "on_time_rate": ("按时", "on-time"),
    "sign_for_rate": ("签收", "sign"),
    "return_rate": ("退单", "return"),
    "reopen_rate": ("重办", "reopen"),
    "satisfaction_rate": ("满意", "satisf"),
    "survey_response_rate": ("回访", "survey"),
    "qa_pass_rate": ("质检", "QA"),
}

#: The columns of the flat form, in order (JSON keys and CSV header of ``hotline stats``).
FLAT_COLUMNS = (
    "department",
    "name",
    *COUNT_FIELDS,
    "median_working_days",
    "mean_working_days",
    *RATE_FIELDS,
)


def label(key: str, lang: str) -> str:
    zh, en = LABELS[key]
    return en if lang == "en" else zh


def row_name(row: DepartmentStats, lang: str) -> str:
    if row.department is None:
        return label("overall", lang)
    return row.name or row.department


def flat_row(row: DepartmentStats) -> dict[str, Any]:
    """A row as one flat mapping: counts, handling time, rates as floats in [0, 1] or None."""
    data: dict[str, Any] = {"department": row.department, "name": row.name}
    data.update({key: getattr(row, key) for key in COUNT_FIELDS})
    data["median_working_days"] = row.median_working_days
    data["mean_working_days"] = row.mean_working_days
    data.update({name: row.rate(name).value for name in RATE_FIELDS})
    return data


def flat_rows(report: StatisticsReport) -> list[dict[str, Any]]:
    return [flat_row(row) for row in report.rows]


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------


def format_percent(rate: Rate, *, mark: bool = True) -> str:
    """``96.0%``, ``93.1%⚠`` below target, ``—`` without a denominator."""
    value = rate.value
    if value is None:
        return NO_VALUE
    text = f"{value * 100:.1f}%"
    return text + BELOW_MARK if mark and rate.below else text


def _number(value: float | None) -> str:
    if value is None:
        return NO_VALUE
    return f"{value:.0f}" if math.isclose(value, round(value)) else f"{value:.1f}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _row_lines(row: DepartmentStats, lang: str, *, name_limit: int, compact: bool) -> list[str]:
    def short(key: str) -> str:
        zh, en = _SHORT[key]
        return en if lang == "en" else zh

    days = f"{_number(row.median_working_days)}/{_number(row.mean_working_days)}"
    name = _shorten(row_name(row, lang), name_limit)
    # 派单 is the base of the 签收 and 退单 rates: a department can have 受理 0 (the ticket
    # was returned and is counted where it is now) and 退单 100%.
    head = (
        f"{short('received')} {row.received} · {short('dispatched')} {row.dispatched} · "
        f"{short('resolved')} {row.resolved} · {short('overdue_open')} {row.overdue_open}"
    )
    rates = " · ".join(
        f"{short(key)} {format_percent(row.rate(key))}"
        for key in (RATE_FIELDS if not compact else _COMPACT_RATES)
    )
    if compact:
        return [f"{name}: {head} · {rates}"]
    return [f"【{name}】{head} · {short('days')} {days}", f"  {rates}"]


_COMPACT_RATES = ("on_time_rate", "sign_for_rate", "satisfaction_rate", "qa_pass_rate")


def _spelt_out(period: Period) -> set[str]:
    """The ways a period's label can already name its own days."""
    start, end = period.start.isoformat(), period.end.isoformat()
    return {f"{start}..{end}", f"{start} – {end}"} | ({start} if start == end else set())


def _header(report: StatisticsReport, lang: str) -> list[str]:
    period = report.period
    local = report.generated_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    # "2026-11" says which days only with its span; "2026-12-01..2026-12-07" says it itself.
    span = f"{period.start.isoformat()} – {period.end.isoformat()}"
    shown_span = "" if period.label in _spelt_out(period) else span
    t = report.targets
    target_values = {t.on_time, t.sign_for, t.satisfaction, t.survey_response, t.quality}
    same = len(target_values) == 1
    if lang == "en":
        targets = (
            f"Targets: on-time, sign, satisf, survey, QA ≥ {t.on_time * 100:g}%"
            if same
            else (
                f"Targets: on-time {t.on_time * 100:g}%, sign {t.sign_for * 100:g}%, "
                f"satisf {t.satisfaction * 100:g}%, survey {t.survey_response * 100:g}%, "
                f"QA {t.quality * 100:g}%"
            )
        )
        return [
            f"12345 hotline statistics {period.label}" + (f" ({shown_span})" if shown_span else ""),
            f"As of {local} (Asia/Shanghai). {targets}; {BELOW_MARK} below target, "
            f"{NO_VALUE} no data; days = median/mean working days.",
        ]
    targets = (
        f"目标：按时、签收、满意、回访、质检 ≥ {t.on_time * 100:g}%"
        if same
        else (
            f"目标：按时 {t.on_time * 100:g}%、签收 {t.sign_for * 100:g}%、"
            f"满意 {t.satisfaction * 100:g}%、回访 {t.survey_response * 100:g}%、"
            f"质检 {t.quality * 100:g}%"
        )
    )
    return [
        f"12345 热线统计 {period.label}" + (f"（{shown_span}）" if shown_span else ""),
        f"截至 {local}。{targets}；{BELOW_MARK} 低于目标，{NO_VALUE} 无数据；"
        "时长 = 中位/平均工作日。",
    ]


def format_report_text(report: StatisticsReport, lang: str = "zh") -> str:
    """The report as a plain-text Telegram message of at most 4000 characters.

    Departments with nothing in the period (every count 0) are left out, and a line says how
    many: fifteen rows of "—" hide the few that matter. Two lines per row; if that is too long
    (many departments, long names), one shorter line per row; if even that is too long, the
    last departments are left out with a note saying how many (the workbook has them all).
    """
    rows = [row for row in report.rows if row.department is None or _active(row)]
    header = _header(report, lang)
    idle = len(report.rows) - len(rows)
    if idle:
        header.append(
            f"{idle} departments had no activity in the period and are not listed."
            if lang == "en"
            else f"另有 {idle} 个单位本时段无业务，未列出。"
        )
    for compact, name_limit in ((False, 16), (True, 10)):
        lines = list(header)
        for row in rows:
            if not compact:
                lines.append("")  # a blank line between two-line rows
            lines.extend(_row_lines(row, lang, name_limit=name_limit, compact=compact))
        text = "\n".join(lines)
        if len(text) <= TELEGRAM_TEXT_LIMIT:
            return text
    # Still too long: keep as many compact rows as fit, and say how many are missing.
    lines = list(header)
    shown = 0
    for row in rows:
        candidate = _row_lines(row, lang, name_limit=10, compact=True)
        reserve = 60  # room for the note below
        if len("\n".join([*lines, *candidate])) + reserve > TELEGRAM_TEXT_LIMIT:
            break
        lines.extend(candidate)
        shown += 1
    missing = len(rows) - shown
    lines.append(
        f"… {missing} more departments: see the workbook export."
        if lang == "en"
        else f"…… 另有 {missing} 个单位未列出，详见导出的工作簿。"
    )
    return "\n".join(lines)


def _active(row: DepartmentStats) -> bool:
    """Anything counted for the department in the period (or open and overdue now)."""
    return any(getattr(row, key) for key in COUNT_FIELDS)


def with_names(report: StatisticsReport, names: Mapping[str, str]) -> StatisticsReport:
    """The same report with department names replaced (e.g. English names for an en reader)."""
    rows = tuple(
        replace(row, name=names.get(row.department, row.name)) if row.department else row
        for row in report.rows
    )
    return replace(report, rows=rows)
