"""考评: the assessed figures, the composite score and the rank, against the November fixture of
tests/test_statistics.py (counted on SQLite and PostgreSQL), worked out by hand.

First contacts (先行联系) in the fixture, per November dispatch (limit = the sign-for limit):
C: T1 in time, T2 late, T4 (returned) none, T7 none, T9 in time → 2 / 5;
S: T3 in time, T4 at the last second of its limit (in time), T12 none → 2 / 3;
L: T5, T6 in time, T10 on 1 December within its limit → 3 / 3; overall 7 / 11.

问题是否已解决 on the surveys sent in November: C: T1 已解决, T2 未解决, T9 已解决 → 2 / 3;
S: T3 first 未解决, T3 second 已解决, T4 timed out unanswered → 1 / 2; L: T5 已解决 (no rating
yet) → 1 / 1; overall 4 / 6 (T14's survey was sent in October).
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from handlers.assessment import (
    BEIJING_WEIGHTS,
    FIGURE_KEYS,
    AssessmentSettings,
    UnitAssessment,
    assess,
    assessment_dict,
    composite_score,
    format_ranking_text,
    previous_period,
    ranking,
    ranking_rows,
)
from handlers.config import AssessmentConfig, ConfigError, Targets, config_from_mapping
from handlers.model import TicketStatus
from handlers.reports import (
    DepartmentStats,
    Period,
    StatisticsReport,
    combine,
    report_from_dict,
    report_to_dict,
)
from storage.database import Database
from storage.models import CitizenRow, DepartmentRow, KbOfferRow, KnowledgeEntryRow
from storage.statistics import compute_statistics
from tests.test_statistics import (
    NOW,
    C,
    Fixture,
    L,
    S,
    at,
    build_november,
    end_of,
    row,
    statistics,
)


@pytest.fixture
def november(database: Database) -> Database:
    with database.transaction() as session:
        build_november(session)
    return database


YULIN = {
    "on_time_sign_rate": 1.0,
    "return_rate": 1.0,
    "reopen_rate": 1.0,
    "on_time_rate": 1.0,
    "satisfaction_rate": 1.0,
    "quality_pass_rate": 1.0,
}


def by_code(units: list[UnitAssessment], code: str | None) -> UnitAssessment:
    return next(u for u in units if u.department == code)


def test_response_and_resolution_counts(november: Database) -> None:
    report = statistics(november)
    c, s, lab, total = row(report, C), row(report, S), row(report, L), row(report, None)
    assert (c.contacted_on_time, s.contacted_on_time, lab.contacted_on_time) == (2, 2, 3)
    assert total.contacted_on_time == 7
    assert (c.solve_answered, c.solved) == (3, 2)
    assert (s.solve_answered, s.solved) == (2, 1)
    assert (lab.solve_answered, lab.solved) == (1, 1)
    assert (total.solve_answered, total.solved) == (6, 4)


def test_every_figure_with_numerator_and_denominator(november: Database) -> None:
    units = assess(statistics(november), AssessmentSettings(min_tickets=0))
    figures = {u.department: assessment_dict(u) for u in units}
    assert set(FIGURE_KEYS) <= set(figures[None])

    def pair(code: str | None, key: str) -> tuple[float, int]:
        figure = figures[code][key]
        return figure["numerator"], figure["denominator"]

    assert pair(C, "response_rate") == (2, 5)
    assert pair(S, "response_rate") == (2, 3)
    assert pair(L, "response_rate") == (3, 3)
    assert pair(None, "response_rate") == (7, 11)
    assert figures[None]["response_rate"]["value"] == pytest.approx(7 / 11)

    assert pair(C, "resolution_rate") == (2, 3)
    assert pair(S, "resolution_rate") == (1, 2)
    assert pair(None, "resolution_rate") == (4, 6)

    # 满意率, w(基本满意) = 1: C (2 + 1) / 3; S 1 / 2; L none rated; overall 4 / 5
    assert pair(C, "satisfaction_rate") == (3, 3)
    assert pair(None, "satisfaction_rate") == (4, 5)
    assert figures[L]["satisfaction_rate"]["value"] is None
    # 及时签收率: C T1 T9 of 5; overall 8 / 11
    assert pair(C, "on_time_sign_rate") == (2, 5)
    assert pair(None, "on_time_sign_rate") == (8, 11)
    # 回退率: C 1 / 5 (T4), S 1 / 3 (T9's October dispatch returned in November), L 0 / 3
    assert pair(C, "return_rate") == (1, 5)
    assert pair(S, "return_rate") == (1, 3)
    assert pair(L, "return_rate") == (0, 3)
    # 重办率: S 1 / 3 (T3's first answer 不满意); overall 1 / 7
    assert pair(S, "reopen_rate") == (1, 3)
    assert pair(None, "reopen_rate") == (1, 7)
    # 按时办结率: S 2 / 3 (T4 late); overall 6 / 7
    assert pair(S, "on_time_rate") == (2, 3)
    assert pair(None, "on_time_rate") == (6, 7)
    # 质检合格率: C 1 / 2; overall 2 / 3
    assert pair(C, "quality_pass_rate") == (1, 2)
    assert pair(None, "quality_pass_rate") == (2, 3)
    # 直接答复率: no knowledge-base figures are counted yet
    assert figures[None]["direct_answer_rate"] is None


def test_direct_answer_rate_overall_where_the_knowledge_base_exists(november: Database) -> None:
    # Without a knowledge base (the fixture has none) nobody has the figure.
    assert (
        assessment_dict(by_code(assess(statistics(november), AssessmentSettings()), None))[
            "direct_answer_rate"
        ]
        is None
    )
    with november.transaction() as session:
        citizen = session.execute(select(CitizenRow)).scalars().first()
        assert citizen is not None
        session.add(
            KnowledgeEntryRow(key="kb-1", question="路灯坏了找谁", alternatives=[], answer="拨打",
                              department_code=C, keywords=[], active=True, version=1,
                              created_at=at(10, 1), updated_at=at(10, 1))
        )  # fmt: skip
        # November: 2 已解决 and 1 timed out (answered), 1 仍需人工办理 and 1 written again
        # (handed over), 1 still waiting; 2 answered in October and December (out).
        outcomes = [
            (at(11, 3), "resolved"),
            (at(11, 1, 0), "resolved"),  # the first instant of November
            (at(11, 18), "timeout"),
            (at(11, 19), "human"),
            (at(11, 20), "follow_up"),
            (at(11, 30, 23, 59), None),
            (at(10, 31, 23, 59), "resolved"),
            (at(12, 1, 0), "resolved"),
        ]
        for created, outcome in outcomes:
            session.add(
                KbOfferRow(citizen_id=citizen.id, entry_key="kb-1", question="路灯", answer="拨打",
                           score=0.9, created_at=created, outcome=outcome,
                           decided_at=None if outcome is None else created)
            )  # fmt: skip
    units = assess(statistics(november), AssessmentSettings(min_tickets=0))
    figures = {u.department: assessment_dict(u) for u in units}
    # 直接答复率 = answered 3 / contacts (10 tickets received + 1 direct answer waiting) = 11
    overall = figures[None]["direct_answer_rate"]
    assert (overall["numerator"], overall["denominator"]) == (3, 11)
    assert overall["value"] == pytest.approx(3 / 11)
    assert all(figures[code]["direct_answer_rate"] is None for code in (C, S, L))
    # It survives the report's JSON form (reports are stored before they are rendered).
    again = report_from_dict(report_to_dict(statistics(november)))
    assert row(again, None).direct_answers == (3, 11)
    # Weighted, it counts in the overall score only: a unit's score is unchanged.
    weighted = AssessmentSettings({**BEIJING_WEIGHTS, "direct_answer_rate": 0.5}, min_tickets=0)
    assert by_code(assess(statistics(november), weighted), C).score == pytest.approx(79.0)


def test_beijing_score_and_rank(november: Database) -> None:
    units = assess(statistics(november), AssessmentSettings(min_tickets=3))
    c, s, lab, total = (by_code(units, code) for code in (C, S, L, None))
    # 100 × (0.10 × 响应 + 0.45 × 解决 + 0.45 × 满意)
    assert c.score == pytest.approx(100 * (0.10 * 2 / 5 + 0.45 * 2 / 3 + 0.45 * 1.0))  # 79.0
    assert s.score == pytest.approx(100 * (0.10 * 2 / 3 + 0.45 * 1 / 2 + 0.45 * 1 / 2))
    # L has no 满意率 (nothing rated): the two figures it has, re-weighted: (0.10 + 0.45) / 0.55
    assert lab.score == pytest.approx(100.0)
    assert total.score == pytest.approx(100 * (0.10 * 7 / 11 + 0.45 * 4 / 6 + 0.45 * 4 / 5))
    assert [(u.department, u.rank) for u in units[:4]] == [(None, None), (L, 1), (C, 2), (S, 3)]
    assert all(u.rank is None and u.tickets == 0 for u in units[4:])  # the idle departments
    assert total.rank is None  # the overall row is never ranked


def test_yulin_weights_lower_is_better(november: Database) -> None:
    units = assess(statistics(november), AssessmentSettings(YULIN, min_tickets=3))
    c = by_code(units, C)
    # 签收 0.4, 1 − 回退 0.8, 1 − 重办 1.0, 按时 1.0, 满意 1.0, 质检 0.5 → 4.7 / 6
    assert c.score == pytest.approx(100 * 4.7 / 6)
    s = by_code(units, S)
    # 签收 1.0, 1 − 1/3, 1 − 1/3, 按时 2/3, 满意 0.5, 质检 1.0
    assert s.score == pytest.approx(100 * (1 + 2 / 3 + 2 / 3 + 2 / 3 + 0.5 + 1) / 6)


def test_fewer_tickets_than_the_minimum_listed_but_not_ranked(november: Database) -> None:
    # Default minimum 5 dispatches: only construction (5) is ranked; S and L (3 each) are
    # listed after it, with their scores, unranked.
    units = assess(statistics(november), AssessmentSettings())
    assert [(u.department, u.rank) for u in units[:2]] == [(None, None), (C, 1)]
    assert by_code(units, L).rank is None
    assert by_code(units, S).rank is None
    assert by_code(units, L).score == pytest.approx(100.0)
    assert assessment_dict(by_code(units, L))["rank"] is None


def test_weights_come_from_the_toml() -> None:
    config = config_from_mapping(
        tomllib.loads(
            "[assessment]\nmin_tickets = 2\nboard_size = 3\n"
            "weights = { on_time_sign_rate = 1, return_rate = 1, reopen_rate = 1, "
            "on_time_rate = 1, satisfaction_rate = 1, quality_pass_rate = 1 }\n"
        )
    )
    settings = AssessmentSettings.of(config.assessment)
    assert dict(settings.weights) == YULIN
    assert (settings.min_tickets, settings.board_size) == (2, 3)
    assert dict(AssessmentSettings.of(AssessmentConfig()).weights) == {
        "response_rate": 0.10,
        "resolution_rate": 0.45,
        "satisfaction_rate": 0.45,
    }
    with pytest.raises(ConfigError, match="speed_rate"):
        config_from_mapping({"assessment": {"weights": {"speed_rate": 1}}})


def test_the_survey_rules_come_from_the_toml() -> None:
    """Whether 未解决 re-opens by itself and the re-open limit (tests/test_survey_e2e.py runs
    both through the bot)."""
    config = config_from_mapping(
        tomllib.loads("[survey]\nunsolved_reopens = false\nmax_reopens = 1\n")
    )
    assert (config.survey.unsolved_reopens, config.survey.max_reopens) == (False, 1)
    default = config_from_mapping({})
    assert (default.survey.unsolved_reopens, default.survey.max_reopens) == (True, 2)
    with pytest.raises(ConfigError, match="max_reopens"):
        config_from_mapping({"survey": {"max_reopens": -1}})


def _settings_from_toml(weights: str) -> AssessmentSettings:
    config = config_from_mapping(tomllib.loads(f"[assessment]\nmin_tickets = 3\n{weights}\n"))
    return AssessmentSettings.of(config.assessment)


def test_changing_the_weights_in_the_toml_changes_the_ranking(november: Database) -> None:
    report = statistics(november)

    def order(settings: AssessmentSettings) -> list[tuple[str | None, int | None, float]]:
        return [
            (u.department, u.rank, round(u.score or 0.0, 2))
            for u in assess(report, settings)
            if u.rank is not None
        ]

    # Beijing's three (the default): L 100, C 79, S 51.67 (test_beijing_score_and_rank).
    beijing = order(_settings_from_toml(""))
    assert beijing == [(L, 1, 100.0), (C, 2, 79.0), (S, 3, 51.67)]
    # 榆林's six, equal weights: C (0.4 + 0.8 + 1 + 1 + 1 + 0.5) / 6 = 78.33; S 4.5 / 6 = 75;
    # L has no 满意率 and no 质检 (nothing rated, nothing inspected): 4 / 4 = 100.
    yulin = order(
        _settings_from_toml(
            "weights = { on_time_sign_rate = 1, return_rate = 1, reopen_rate = 1, "
            "on_time_rate = 1, satisfaction_rate = 1, quality_pass_rate = 1 }"
        )
    )
    assert yulin == [(L, 1, 100.0), (C, 2, 78.33), (S, 3, 75.0)]
    # 及时签收率 and 按时办结率 only: C (0.4 + 1) / 2 = 70 falls below S (1 + 2/3) / 2 = 83.33.
    timeliness = order(_settings_from_toml("weights = { on_time_sign_rate = 1, on_time_rate = 1 }"))
    assert timeliness == [(L, 1, 100.0), (S, 2, 83.33), (C, 3, 70.0)]
    # 及时签收率 alone: S and L tie at 100 and share the first rank (listed by code).
    assert order(_settings_from_toml("weights = { on_time_sign_rate = 1 }")) == [
        (L, 1, 100.0),
        (S, 1, 100.0),
        (C, 3, 40.0),
    ]


def test_no_weighted_figure_no_score(november: Database) -> None:
    report = statistics(november)
    # labour has nothing rated and nothing inspected
    assert composite_score(row(report, L), {"satisfaction_rate": 1, "quality_pass_rate": 1}) is None


# -- 红黑榜 over a synthetic month of 20 units ------------------------------------------------

MONTH = Period(date(2026, 11, 1), date(2026, 11, 30))
OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31))


def unit(code: str, satisfied: int, *, dispatched: int = 10) -> DepartmentStats:
    """A unit whose only weighted figure is 满意率 = satisfied / 10 (score = 10 × satisfied)."""
    return DepartmentStats(
        department=code,
        name=f"单位{code}",
        dispatched=dispatched,
        rated=10,
        satisfied=satisfied,
        unsatisfied=10 - satisfied,
    )


def month_of(rows: list[DepartmentStats], period: Period = MONTH) -> StatisticsReport:
    return StatisticsReport(
        period=period,
        generated_at=datetime(2026, 12, 1, tzinfo=UTC),
        rows=(combine(rows), *rows),
    )


SATISFACTION_ONLY = AssessmentSettings({"satisfaction_rate": 1.0}, min_tickets=5, board_size=5)


def twenty_units() -> list[DepartmentStats]:
    """u01…u20: scores 100, 90, 90, 80, 80, 80, 70 … with ties; u20 has 3 dispatches."""
    satisfied = [10, 9, 9, 8, 8, 8, 7, 7, 6, 6, 5, 5, 5, 4, 4, 3, 2, 1, 1, 10]
    rows = [unit(f"u{i + 1:02d}", s) for i, s in enumerate(satisfied)]
    rows[19] = unit("u20", 10, dispatched=3)  # the best score, but too few tickets
    return rows


def test_ranking_of_twenty_units_is_stable_and_shares_ties() -> None:
    rows = twenty_units()
    result = ranking(month_of(rows), month_of([], OCTOBER), SATISFACTION_ONLY)
    order = [(u.department, u.rank) for u in result.units]
    # Competition ranks: ties share a rank, the next rank skips; ties listed by code.
    assert order[:7] == [
        ("u01", 1),
        ("u02", 2),
        ("u03", 2),
        ("u04", 4),
        ("u05", 4),
        ("u06", 4),
        ("u07", 7),
    ]
    assert order[-2:] == [("u19", 18), ("u20", None)]  # too few tickets: listed, not ranked
    # The same units in another order give the same ranking.
    shuffled = list(reversed(rows))
    again = ranking(month_of(shuffled), month_of([], OCTOBER), SATISFACTION_ONLY)
    assert [(u.department, u.rank) for u in again.units] == order

    # 红榜: ranks 1-5, a tie at the edge kept whole (rank 4 is shared by three: six units).
    red = [u.department for u in result.units if u.board == "red"]
    assert red == ["u01", "u02", "u03", "u04", "u05", "u06"]
    # 黑榜: the bottom five positions (u15 … u19), u14 shares u15's rank 14 and joins them.
    black = [u.department for u in result.units if u.board == "black"]
    assert black == ["u14", "u15", "u16", "u17", "u18", "u19"]
    assert result.units[-1].board is None  # the unranked unit is on neither list


def test_ranking_change_from_the_previous_period() -> None:
    rows = twenty_units()
    before = [unit(r.department or "", 5) for r in rows[:10]]  # u01-u10 all 50 in October
    before[0] = unit("u01", 9)  # u01 alone at the top then, with 90
    result = ranking(month_of(rows), month_of(before, OCTOBER), SATISFACTION_ONLY)
    rows_out = {row["department"]: row for row in ranking_rows(result)}
    assert rows_out["u01"]["score_change"] == pytest.approx(10.0)  # 90 → 100
    assert rows_out["u01"]["rank_change"] == 0  # first both times
    assert rows_out["u02"]["score_change"] == pytest.approx(40.0)  # 50 → 90
    assert rows_out["u02"]["rank_change"] == 0  # rank 2 both times (nine tied at 2 in October)
    assert rows_out["u10"]["rank_change"] == 2 - 9  # 2nd (tied) in October, 9th now
    assert rows_out["u11"]["score_change"] is None  # not in October's list
    text = format_ranking_text(result)
    assert "红榜" in text
    assert "黑榜" in text
    assert "+10.00" in text
    assert "新上榜" in text
    assert "单位u20" in text.split("不参与排名")[1]


def test_previous_period() -> None:
    assert previous_period(MONTH) == OCTOBER
    assert previous_period(Period(date(2026, 1, 1), date(2026, 3, 31))) == Period(
        date(2025, 10, 1), date(2025, 12, 31)
    )
    assert previous_period(Period(date(2026, 1, 1), date(2026, 12, 31))) == Period(
        date(2025, 1, 1), date(2025, 12, 31)
    )
    week = Period(date(2026, 11, 23), date(2026, 11, 29))
    assert previous_period(week) == Period(date(2026, 11, 16), date(2026, 11, 22))


def test_a_month_of_twenty_units_from_the_database_ranks_as_worked_out(database: Database) -> None:
    """The same 20 units stored as tickets (SQLite and PostgreSQL): each unit's ten November
    dispatches answered and rated (u20 only three), u01-u10 rated in October too; counted
    from the database, the ranking equals the one worked out above, ties and all."""
    satisfied = [10, 9, 9, 8, 8, 8, 7, 7, 6, 6, 5, 5, 5, 4, 4, 3, 2, 1, 1, 10]
    with database.transaction() as session:
        f = Fixture(session)
        for i, good in enumerate(satisfied):
            code = f"u{i + 1:02d}"
            session.add(DepartmentRow(code=code, name_zh=f"单位{code}", name_en=code, active=True))
            session.flush()
            months = [(11, good, 3 if code == "u20" else 10)]
            if i < 10:
                months.append((10, 9 if code == "u01" else 5, 10))  # October: 90, then 50s
            for month, good_ones, tickets in months:
                for n in range(tickets):
                    day = 2 + n
                    ticket = f.ticket(at(month, day), code, TicketStatus.CLOSED, end_of(month, 28))
                    f.dispatch(ticket, code, at(month, day, 10), end_of(month, day + 1))
                    rating = "satisfied" if n < good_ones else "unsatisfied"
                    f.resolve(ticket, code, at(month, day + 1), on_time=True, working_days=1,
                              rating=rating)  # fmt: skip
    with database.read() as session:
        november = compute_statistics(session, MONTH, now=NOW, targets=Targets())
        october = compute_statistics(session, OCTOBER, now=NOW, targets=Targets())
    result = ranking(november, october, SATISFACTION_ONLY)
    counted = [(u.department, u.rank, u.board) for u in result.units if u.tickets]
    rows = twenty_units()
    before = [unit(r.department or "", 5) for r in rows[:10]]
    before[0] = unit("u01", 9)
    expected = ranking(month_of(rows), month_of(before, OCTOBER), SATISFACTION_ONLY)
    assert counted == [(u.department, u.rank, u.board) for u in expected.units]
    assert counted[:4] == [
        ("u01", 1, "red"),
        ("u02", 2, "red"),
        ("u03", 2, "red"),
        ("u04", 4, "red"),
    ]
    assert counted[-1] == ("u20", None, None)  # 3 dispatches: listed, not ranked
    changes = {r["department"]: r for r in ranking_rows(result)}
    assert (changes["u01"]["score_change"], changes["u01"]["rank_change"]) == (10.0, 0)
    assert changes["u10"]["rank_change"] == 2 - 9
    assert changes["u11"]["score_change"] is None
    # Counted twice, the same ranking (nothing depends on the order rows come back in).
    with database.read() as session:
        again = compute_statistics(session, MONTH, now=NOW, targets=Targets())
    assert ranking(again, october, SATISFACTION_ONLY) == result
