"""通报: the period's figures as one sentence, its 热点, the units below target, the overdue list.

Framework-free: the shell reads the requests, the statistics and the overdue tickets from the
database (``storage.briefing``) and this module clusters and writes them, as a Telegram text or
Markdown (``bot.briefing_doc`` makes the Word document from the same :class:`Briefing`).

热点 are clusters of similar requests. Texts are compared by their character bigrams (Chinese
has no spaces to split words on; two characters carry most of a topic: 路灯, 噪音, 欠薪), with
the Dice coefficient ``2·|A∩B| / (|A|+|B|)``; a request joins the first cluster whose leader
is at least ``SIMILARITY`` like it (greedy leader clustering, with an inverted index so that
only leaders sharing a bigram are compared). A cluster's size is the number of *different
citizens* in it: one citizen sending the same complaint ten times is one voice, not a 热点, and
a cluster of a single citizen is never one. The representative text is the member most like
the others.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from handlers.assessment import figure
from handlers.display import mask_phones_in
from handlers.reports import (
    SHANGHAI,
    DepartmentStats,
    Period,
    Rate,
    StatisticsReport,
    format_percent,
    label,
    row_name,
)

SIMILARITY = 0.45
HOTSPOTS = 5
REPRESENTATIVE_CHARS = 80
# Only the start of a text decides its topic; long texts would otherwise share bigrams by
# sheer length.
COMPARED_CHARS = 200

_NOT_WORDS = re.compile(r"[^\w]|[\d_]", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Request:
    """One request of the period, as the clustering needs it."""

    ticket_id: int
    citizen_id: int
    text: str
    department: str | None


@dataclass(frozen=True, slots=True)
class Hotspot:
    """A cluster of similar requests: its representative text, its size (different
    citizens), its tickets, and the departments handling them (most tickets first)."""

    text: str
    citizens: int
    tickets: int
    departments: tuple[str, ...]


def bigrams(text: str) -> frozenset[str]:
    """The character bigrams of a text's letters (digits and punctuation left out: a phone
    number or a date says nothing about the topic)."""
    letters = _NOT_WORDS.sub("", text[:COMPARED_CHARS]).lower()
    return frozenset(letters[i : i + 2] for i in range(len(letters) - 1))


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def hotspots(
    requests: Iterable[Request], *, top: int = HOTSPOTS, similarity: float = SIMILARITY
) -> list[Hotspot]:
    """The ``top`` largest clusters of similar requests from at least two citizens, largest
    first (by citizens, then tickets, then the earliest request: a stable order)."""
    leaders: list[frozenset[str]] = []
    members: list[list[tuple[Request, frozenset[str]]]] = []
    postings: dict[str, list[int]] = defaultdict(list)
    for request in requests:
        grams = bigrams(request.text)
        if not grams:
            continue
        shared: Counter[int] = Counter()
        for gram in grams:
            shared.update(postings.get(gram, ()))
        best, best_score = -1, similarity
        for cluster, common in shared.items():
            score = 2 * common / (len(grams) + len(leaders[cluster]))
            if score >= best_score and (best < 0 or score > best_score or cluster < best):
                best, best_score = cluster, score
        if best < 0:
            best = len(leaders)
            leaders.append(grams)
            members.append([])
            for gram in grams:
                postings[gram].append(best)
        members[best].append((request, grams))

    found = []
    for index, group in enumerate(members):
        citizens = len({request.citizen_id for request, _ in group})
        if citizens < 2:
            continue
        found.append((citizens, len(group), index, group))
    found.sort(key=lambda item: (-item[0], -item[1], item[2]))
    return [_hotspot(group, citizens) for citizens, _, _, group in found[:top]]


def _hotspot(group: Sequence[tuple[Request, frozenset[str]]], citizens: int) -> Hotspot:
    # The medoid: the member most like the others (a cluster is small: quadratic is fine;
    # a large one is judged on its first 50 members).
    sample = group[:50]
    best = max(
        range(len(sample)),
        key=lambda i: (sum(dice(sample[i][1], other) for _, other in sample), -i),
    )
    departments = Counter(request.department for request, _ in group if request.department)
    ordered = tuple(code for code, _ in sorted(departments.items(), key=lambda d: (-d[1], d[0])))
    return Hotspot(
        # The 通报 is read in the office and handed around: no citizen's phone in it.
        text=mask_phones_in(" ".join(sample[best][0].text.split())),
        citizens=citizens,
        tickets=len(group),
        departments=ordered,
    )


@dataclass(frozen=True, slots=True)
class OverdueTicket:
    number: str
    department: str | None
    deadline_at: datetime


@dataclass(frozen=True, slots=True)
class Briefing:
    """Everything a 通报 says; ``names`` maps department codes to the names shown."""

    report: StatisticsReport
    hotspots: tuple[Hotspot, ...]
    overdue: tuple[OverdueTicket, ...]
    overdue_total: int
    names: Mapping[str, str] = field(default_factory=dict)
    requests_read: int = 0
    requests_total: int = 0

    @property
    def period(self) -> Period:
        return self.report.period


# The figures of the sentence, in the order the hotlines write them.
_SENTENCE = (
    ("on_time_rate", "on_time_rate"),
    ("response_rate", "response_rate"),
    ("resolution_rate", "resolution_rate"),
    ("satisfaction_rate", "satisfaction_rate"),
    ("on_time_sign_rate", "sign_for_rate"),
    ("quality_pass_rate", "qa_pass_rate"),
)


def _rate(row: DepartmentStats, attribute: str) -> Rate:
    rate: Rate = getattr(row, attribute)
    return rate


def totals_sentence(report: StatisticsReport, lang: str = "zh") -> str:
    """ "本期受理 N 件，办结 M 件，按时办结率 X%，… 超期未办结 K 件。" (figures without data
    are left out)."""
    overall = report.overall
    if overall is None:
        raise ValueError("the totals need the hotline-wide report, not one department's")
    en = lang == "en"
    parts = [
        f"{report.period.label}: received {overall.received}, resolved {overall.resolved}"
        if en
        else f"{report.period.label}受理 {overall.received} 件，办结 {overall.resolved} 件"
    ]
    for key, attribute in _SENTENCE:
        rate = _rate(overall, attribute)
        if rate.value is None:
            continue
        name = figure(key).label(lang)
        parts.append(
            f"{name.lower()} {format_percent(rate, mark=False)}"
            if en
            else f"{name} {format_percent(rate, mark=False)}"
        )
    parts.append(
        f"open and overdue {overall.overdue_open}"
        if en
        else f"超期未办结 {overall.overdue_open} 件"
    )
    return (", ".join(parts) + ".") if en else ("，".join(parts) + "。")


def _rates_of(row: DepartmentStats) -> list[tuple[str, Rate]]:
    """Every rate with a target, under the names of the assessment where it has one."""
    return [
        (figure("on_time_rate").zh, row.on_time_rate),
        (figure("response_rate").zh, row.response_rate),
        (figure("resolution_rate").zh, row.resolution_rate),
        (figure("satisfaction_rate").zh, row.satisfaction_rate),
        (figure("on_time_sign_rate").zh, row.sign_for_rate),
        (label("survey_response_rate", "zh"), row.survey_response_rate),
        (figure("quality_pass_rate").zh, row.qa_pass_rate),
    ]


def below_target(report: StatisticsReport) -> list[tuple[DepartmentStats, list[tuple[str, Rate]]]]:
    """The units with at least one rate below its target, and those rates."""
    found = []
    for row in report.departments:
        below = [(name, rate) for name, rate in _rates_of(row) if rate.below]
        if below:
            found.append((row, below))
    return found


def _name(briefing: Briefing, code: str | None, lang: str) -> str:
    if code is None:
        return "热线办" if lang != "en" else "hotline office"
    return briefing.names.get(code, code)


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    lines: tuple[str, ...]


def sections(briefing: Briefing, lang: str = "zh") -> list[Section]:
    """The 通报 as titled sections of plain lines, for every output form."""
    en = lang == "en"
    report = briefing.report
    spots = []
    for index, spot in enumerate(briefing.hotspots, start=1):
        text = spot.text
        if len(text) > REPRESENTATIVE_CHARS:
            text = text[: REPRESENTATIVE_CHARS - 1] + "…"
        units = "、".join(_name(briefing, code, lang) for code in spot.departments) or "—"
        spots.append(
            f"{index}. {text} — {spot.tickets} tickets from {spot.citizens} citizens; {units}"
            if en
            else f"{index}. {text} — {spot.tickets} 件（{spot.citizens} 位群众），承办：{units}"
        )
    if not spots:
        spots.append("No cluster of similar requests." if en else "本期无集中反映的问题。")
    if briefing.requests_total > briefing.requests_read:
        spots.append(
            f"(from the latest {briefing.requests_read} of {briefing.requests_total} requests)"
            if en
            else f"（按最近 {briefing.requests_read} 件诉求统计，共 {briefing.requests_total} 件）"
        )
    below = []
    for row, rates in below_target(report):
        figures = "、".join(
            f"{name} {format_percent(rate, mark=False)}（目标 {(rate.target or 0) * 100:g}%）"
            for name, rate in rates
        )
        below.append(f"{row_name(row, lang)}：{figures}")
    if not below:
        below.append("Every unit meets its targets." if en else "各单位均达到目标。")
    overdue = [
        f"{ticket.number} {_name(briefing, ticket.department, lang)} "
        f"{ticket.deadline_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"
        for ticket in briefing.overdue
    ]
    if briefing.overdue_total > len(briefing.overdue):
        overdue.append(
            f"… and {briefing.overdue_total - len(briefing.overdue)} more"
            if en
            else f"…… 另有 {briefing.overdue_total - len(briefing.overdue)} 件"
        )
    if not overdue:
        overdue.append("None." if en else "无。")
    return [
        Section("Figures" if en else "总体情况", (totals_sentence(report, lang),)),
        Section("Hot spots" if en else "热点问题", tuple(spots)),
        Section("Units below target" if en else "未达标单位", tuple(below)),
        Section(
            f"Overdue ({briefing.overdue_total})"
            if en
            else f"超期未办结（{briefing.overdue_total} 件）",
            tuple(overdue),
        ),
    ]


def title(briefing: Briefing, lang: str = "zh") -> str:
    period = briefing.period
    span = f"{period.start.isoformat()} – {period.end.isoformat()}"
    return (
        f"12345 hotline briefing {period.label} ({span})"
        if lang == "en"
        else f"12345 热线工作通报 {period.label}（{span}）"
    )


def format_briefing_text(briefing: Briefing, lang: str = "zh", limit: int = 4000) -> str:
    """The 通报 as one Telegram message (long lists cut, the cut said)."""
    lines = [f"📢 {title(briefing, lang)}"]
    for section in sections(briefing, lang):
        lines += ["", f"【{section.title}】", *section.lines]
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    return text[: limit - 2] + "\n…"


def format_briefing_markdown(briefing: Briefing, lang: str = "zh") -> str:
    lines = [f"# {title(briefing, lang)}"]
    for section in sections(briefing, lang):
        lines += ["", f"## {section.title}", ""]
        lines += [line if line[:1].isdigit() else f"- {line}" for line in section.lines]
    return "\n".join(lines) + "\n"
