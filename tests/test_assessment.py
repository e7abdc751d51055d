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

import pytest

from handlers.assessment import (
    FIGURE_KEYS,
    AssessmentSettings,
    UnitAssessment,
    assess,
    assessment_dict,
    composite_score,
)
from handlers.config import AssessmentConfig, ConfigError, config_from_mapping
from storage.database import Database
from tests.test_statistics import C, L, S, build_november, row, statistics


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


def test_no_weighted_figure_no_score(november: Database) -> None:
    report = statistics(november)
    # labour has nothing rated and nothing inspected
    assert composite_score(row(report, L), {"satisfaction_rate": 1, "quality_pass_rate": 1}) is None
