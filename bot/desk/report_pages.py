"""The desk's 考评排名 (红黑榜) and 通报, counted by the same functions as ``/ranking``,
``/briefing``, ``hotline ranking`` and ``hotline briefing`` (``storage.statistics``,
``handlers.assessment``, ``storage.briefing``, ``bot.briefing_doc``).

The whole ranking and the 通报 are the office's: supervisors only. A staff member sees their
own unit's row of the ranking (its score, rank and figures), which is what they are judged on,
and not the other units' (the bot gives staff neither command).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from bot.desk.app import STATE_KEY, DeskState, _lang, _render, _staff
from bot.desk.words import PERIODS, word
from handlers.assessment import (
    BOARD_NAMES,
    FIGURES,
    AssessmentSettings,
    Ranking,
    figure,
    format_score,
    previous_period,
    unit_name,
)
from handlers.assessment import ranking as rank_units
from handlers.briefing import Briefing, sections, title
from handlers.model import Language
from handlers.reports import Period, PeriodError, Rate, format_percent, parse_period
from handlers.statistics import department_names
from scheduler.deadlines import local_date
from storage.briefing import build_briefing
from storage.statistics import compute_statistics

DEFAULT_RANKING = "last-month"  # as /ranking and hotline ranking
DEFAULT_BRIEFING = "last-week"  # as /briefing and hotline briefing


def add_routes(app: web.Application) -> None:
    app.router.add_get("/ranking", ranking_page, name="ranking")
    app.router.add_get("/ranking.png", ranking_chart, name="ranking_chart")
    app.router.add_get("/briefing", briefing_page, name="briefing")
    app.router.add_get("/briefing.docx", briefing_docx, name="briefing_docx")


def _period(request: web.Request, default: str, now: datetime) -> tuple[str, Period | str]:
    """The period asked for (as typed) and the period, or why it cannot be read."""
    query = request.query
    asked = (query.get("period", "").strip() or query.get("preset", "").strip() or default)[:40]
    try:
        return asked, parse_period(asked, local_date(now))
    except PeriodError as exc:
        return asked, exc.message(_lang(request))


def _downloaded_period(request: web.Request, default: str, now: datetime) -> Period:
    """The period of a chart or document link; 400 with the reason when it cannot be read."""
    _, period = _period(request, default, now)
    if isinstance(period, str):
        raise web.HTTPBadRequest(text=period, content_type="text/plain")
    return period


def _choices(lang: str) -> list[tuple[str, str]]:
    return [(value, en if lang == "en" else zh) for value, zh, en in PERIODS]


# -- 考评排名 --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RankingRow:
    rank: int | None
    board: str | None  # the 红榜/黑榜 mark
    name: str
    score: str
    change: str
    tickets: int
    figures: list[str]
    own: bool  # the signed-in staff member's unit


def count_ranking(session: Session, state: DeskState, period: Period, lang: str) -> Ranking:
    """The 红黑榜 of ``period`` against the period before, as ``hotline ranking`` counts it."""
    now = state.clock.now()
    config = state.hotline.config
    names = department_names(state.hotline, Language(lang))

    def report(of: Period) -> Any:
        return compute_statistics(
            session, of, now=now, targets=config.targets, department_names=names
        )

    return rank_units(
        report(period), report(previous_period(period)), AssessmentSettings.of(config.assessment)
    )


def _change(score: float | None, rank: int | None, lang: str) -> str:
    if score is None:
        return word("new_entry", lang)
    arrow = "" if not rank else ("↑" if rank > 0 else "↓") + str(abs(rank))
    return f"{score:+.2f} {arrow}".strip()


def _percent(rate: Rate | None) -> str:
    return "—" if rate is None else format_percent(rate, mark=False)


def ranking_rows(result: Ranking, lang: str, own: str | None) -> list[RankingRow]:
    rows = []
    for unit in result.units:
        assert unit.department is not None  # narrowing only: Ranking.units has no overall row
        if unit.rank is None and unit.tickets == 0:
            continue  # a unit with nothing in the period is no news
        score_change, rank_change = result.changes.get(unit.department, (None, None))
        board = None if unit.board is None else BOARD_NAMES[unit.board][1 if lang == "en" else 0]
        rows.append(
            RankingRow(
                rank=unit.rank,
                board=board,
                name=unit_name(unit, lang),
                score=format_score(unit.score),
                change=_change(score_change, rank_change, lang) if unit.rank else "",
                tickets=unit.tickets,
                figures=[_percent(unit.figures.get(f.key)) for f in FIGURES],
                own=unit.department == own,
            )
        )
    return rows


async def ranking_page(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    staff = _staff(request)
    lang = _lang(request)
    asked, period = _period(request, DEFAULT_RANKING, state.clock.now())
    context: dict[str, Any] = {
        "page": "ranking",
        "asked": asked,
        "choices": _choices(lang),
        "error": period if isinstance(period, str) else None,
        "rows": [],
        "figure_names": [f.label(lang) for f in FIGURES],
        "result": None,
        "weights": "",
        "own_only": not staff.is_supervisor,
    }
    if isinstance(period, Period) and (staff.is_supervisor or staff.department_code):
        chosen = period
        result = await state.read(lambda s: count_ranking(s, state, chosen, lang))
        rows = ranking_rows(result, lang, staff.department_code)
        if not staff.is_supervisor:
            rows = [row for row in rows if row.own]
        context |= {
            "result": result,
            "rows": rows,
            "ranked": sum(1 for unit in result.units if unit.rank is not None),
            "min_tickets": result.settings.min_tickets,
            "weights": "、".join(
                f"{figure(key).label(lang)} {weight:g}"
                for key, weight in result.settings.weights.items()
            ),
        }
    return _render(request, "ranking.html", context)


async def ranking_chart(request: web.Request) -> web.Response:
    """The bar chart ``hotline ranking --chart`` draws (every unit's score: the office's)."""
    from bot.reports import render_ranking_chart  # matplotlib is slow to import

    _supervisor_only(request)
    state = request.app[STATE_KEY]
    lang = _lang(request)
    period = _downloaded_period(request, DEFAULT_RANKING, state.clock.now())

    def draw() -> bytes:
        with state.database.read() as session:
            result = count_ranking(session, state, period, lang)
        return render_ranking_chart(result, lang=lang)

    return web.Response(body=await asyncio.to_thread(draw), content_type="image/png")


# -- 通报 ---------------------------------------------------------------------------------------


def _supervisor_only(request: web.Request) -> None:
    if not _staff(request).is_supervisor:
        raise web.HTTPForbidden(
            text=word("supervisors_only", _lang(request)), content_type="text/plain"
        )


async def _briefing(request: web.Request, period: Period, lang: str) -> Briefing:
    state = request.app[STATE_KEY]
    now = state.clock.now()

    def work(session: Session) -> Briefing:
        return build_briefing(
            session,
            period,
            now=now,
            targets=state.hotline.config.targets,
            names=department_names(state.hotline, Language(lang)),
        )

    return await state.read(work)


async def briefing_page(request: web.Request) -> web.Response:
    _supervisor_only(request)
    state = request.app[STATE_KEY]
    lang = _lang(request)
    asked, period = _period(request, DEFAULT_BRIEFING, state.clock.now())
    context: dict[str, Any] = {
        "page": "briefing",
        "asked": asked,
        "choices": _choices(lang),
        "error": period if isinstance(period, str) else None,
        "title": "",
        "sections": [],
    }
    # Its 热点 take seconds to cluster: the page comes at once and htmx fetches the 通报 into
    # it (a browser without script follows the link in <noscript>, ``?whole=1``).
    partial = request.headers.get("HX-Target") == "briefing-body"
    if isinstance(period, Period) and (partial or request.query.get("whole") == "1"):
        briefing = await _briefing(request, period, lang)
        context |= {"title": title(briefing, lang), "sections": sections(briefing, lang)}
    return _render(request, "briefing_body.html" if partial else "briefing.html", context)


async def briefing_docx(request: web.Request) -> web.Response:
    """The 通报 as the Word document ``hotline briefing --output FILE.docx`` writes."""
    from bot.briefing_doc import render_docx  # python-docx is slow to import

    _supervisor_only(request)
    state = request.app[STATE_KEY]
    lang = _lang(request)
    period = _downloaded_period(request, DEFAULT_BRIEFING, state.clock.now())
    briefing = await _briefing(request, period, lang)
    document = await asyncio.to_thread(render_docx, briefing, lang)
    # The label is ASCII (2026-11, 2026-W48 …); anything else is left out of the file name.
    slug = "".join(c for c in period.label if c.isascii() and (c.isalnum() or c in "-.")) or "x"
    return web.Response(
        body=document,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": f'attachment; filename="briefing-{slug}.docx"'},
    )
