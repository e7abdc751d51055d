"""The knowledge base in the database, on SQLite and PostgreSQL: entries keyed by their stable id,
and a version row for every change (who, when, what)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from handlers.knowledge import KnowledgeBase, KnowledgeEntry
from scheduler.clock import FixedClock
from storage.database import Database
from storage.knowledge import (
    KnowledgeError,
    history,
    import_entries,
    load_entries,
    save_entry,
    set_active,
)

MEDICAL = KnowledgeEntry(
    id="medical-payment",
    question="城乡居民医保什么时候缴费",
    alternatives=("农村医保每年几月份交", "新农合缴费时间"),
    answer="每年9月1日至12月31日集中缴费。",
    department="labour",
    keywords=("医保",),
    valid_until=date(2026, 12, 31),
)
PASSPORT = KnowledgeEntry(
    id="passport",
    question="护照怎么办理",
    answer="带身份证到县公安局出入境接待大厅申请。",
    department="police",
)


def test_an_import_stores_entries_and_a_second_run_changes_nothing(
    database: Database, clock: FixedClock
) -> None:
    with database.transaction() as session:
        first = import_entries(session, [MEDICAL, PASSPORT], now=clock.now(), via="cli import")
    assert sorted(first.created) == ["medical-payment", "passport"]
    clock.advance(timedelta(hours=1))
    with database.transaction() as session:
        again = import_entries(session, [MEDICAL, PASSPORT], now=clock.now(), via="cli import")
        assert sorted(again.unchanged) == ["medical-payment", "passport"]
        assert again.created == again.updated == []
        assert load_entries(session) == [MEDICAL, PASSPORT]
        assert [v.version for v in history(session, "medical-payment")] == [1]


def test_a_changed_entry_is_updated_and_its_history_kept(
    database: Database, clock: FixedClock
) -> None:
    created_at = clock.now()
    with database.transaction() as session:
        save_entry(session, MEDICAL, now=created_at, via="cli import a.csv")
    clock.advance(timedelta(days=30))
    changed = KnowledgeEntry(**{**MEDICAL.__dict__, "answer": "2027年度：9月1日起缴费。"})
    with database.transaction() as session:
        assert save_entry(session, changed, now=clock.now(), via="cli import b.csv") == "updated"
    with database.transaction() as session:
        assert load_entries(session) == [changed]
        versions = history(session, "medical-payment")
    assert [(v.version, v.change) for v in versions] == [(1, "created"), (2, "updated")]
    assert versions[0].entry == MEDICAL
    assert versions[0].changed_at == created_at
    assert versions[0].changed_via == "cli import a.csv"
    assert versions[1].entry == changed
    assert versions[1].changed_at == clock.now()


def test_a_deactivated_entry_stays_in_the_history_and_is_never_matched(
    database: Database, clock: FixedClock
) -> None:
    with database.transaction() as session:
        save_entry(session, MEDICAL, now=clock.now(), via="cli")
        set_active(session, "medical-payment", False, now=clock.now(), via="cli")
    with database.transaction() as session:
        entries = load_entries(session)
        assert [v.change for v in history(session, "medical-payment")] == [
            "created",
            "deactivated",
        ]
    assert not entries[0].active
    assert KnowledgeBase(entries).search("城乡居民医保什么时候缴费", clock.now().date()) == []


def test_an_unknown_department_is_refused_and_nothing_is_stored(
    database: Database, clock: FixedClock
) -> None:
    stray = KnowledgeEntry(id="stray", question="问题", answer="答案", department="nowhere")
    with pytest.raises(KnowledgeError, match="nowhere"), database.transaction() as session:
        import_entries(session, [PASSPORT, stray], now=clock.now(), via="cli")
    with database.transaction() as session:
        assert load_entries(session) == []


def test_deactivating_an_unknown_entry_says_so(database: Database, clock: FixedClock) -> None:
    with (
        pytest.raises(KnowledgeError, match="no knowledge base entry"),
        database.transaction() as session,
    ):
        set_active(session, "missing", False, now=clock.now(), via="cli")
