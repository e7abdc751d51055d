"""The knowledge base's matcher and direct-answer decision (framework-free core), and its CSV
format."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from handlers.knowledge import (
    Intent,
    KnowledgeBase,
    KnowledgeEntry,
    Reason,
    decide,
    intent,
)
from handlers.knowledge_io import KnowledgeFileError, format_entries, parse_entries

# 2026-12-01 10:00 in Shanghai.
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)

SUBSIDY = KnowledgeEntry(
    id="farm-subsidy",
    question="耕地地力保护补贴什么时候发",
    alternatives=("种粮补贴发多少", "农业补贴标准是多少"),
    answer="每年5-7月通过一卡通发放到农户的社保卡。",
    department="agriculture",
)
MEDICAL = KnowledgeEntry(
    id="medical-payment",
    question="城乡居民医保什么时候缴费",
    alternatives=("农村医保每年几月份交",),
    answer="每年9月1日至12月31日集中缴费。",
    department="labour",
)
PASSPORT = KnowledgeEntry(
    id="passport",
    question="护照怎么办理",
    alternatives=("出国要办护照去哪里办",),
    answer="带身份证到县公安局出入境接待大厅申请。",
    department="police",
)
ENTRIES = (SUBSIDY, MEDICAL, PASSPORT)


@pytest.fixture
def base() -> KnowledgeBase:
    return KnowledgeBase(ENTRIES)


def test_a_consultation_is_answered_directly_with_the_matching_entry(base: KnowledgeBase) -> None:
    decision = base.decide("请问今年农村医保几月份开始交？", NOW)
    assert decision.answer_directly
    assert decision.reason is Reason.DIRECT
    assert decision.best is not None
    assert decision.best.entry is MEDICAL
    assert decision.best.phrasing == "农村医保每年几月份交"
    assert decision.intent is Intent.ASK


def test_a_request_to_act_sharing_the_words_is_not_answered(base: KnowledgeBase) -> None:
    decision = base.decide("我的耕地地力保护补贴一直没到账，请帮忙查", NOW)
    # The subsidy entry is found (staff see it), but the citizen wants something done.
    assert decision.best is not None
    assert decision.best.entry is SUBSIDY
    assert not decision.answer_directly
    assert decision.reason is Reason.REQUEST_TO_ACT
    assert "still not" in decision.act_cues
    assert "request to act" in decision.explain()


@pytest.mark.parametrize(
    "text",
    [
        "种粮补贴为什么还没发",
        "村里的自来水管爆了，请派人维修",
        "我要投诉派出所办护照的工作人员",
        "护照办了一个月还没寄到，麻烦催一下",
        "我的护照办好了吗",  # where one's own case stands: someone must look it up
        "补贴什么时候能到账",
        "我的营业执照申请怎么还没审核",  # "怎么还没" asks why not yet, not how
        "社保卡怎么还不能用",
    ],
)
def test_requests_to_act_are_recognised(text: str) -> None:
    assert intent(text) is Intent.ACT


@pytest.mark.parametrize(
    "text",
    [
        "耕地地力保护补贴什么时候发放？",
        "护照在哪里办",
        "医保一年交多少钱",
        "身份证丢失了怎么补办",
        "请问护照多久能办好",
    ],
)
def test_questions_are_recognised(text: str) -> None:
    assert intent(text) is Intent.ASK


def test_an_expired_or_inactive_entry_is_never_returned() -> None:
    day = NOW.date()
    expired = KnowledgeEntry(**{**MEDICAL.__dict__, "valid_until": day - timedelta(days=1)})
    future = KnowledgeEntry(**{**MEDICAL.__dict__, "valid_from": day + timedelta(days=1)})
    inactive = KnowledgeEntry(**{**MEDICAL.__dict__, "active": False})
    for entry in (expired, future, inactive):
        base = KnowledgeBase([entry, PASSPORT])
        decision = base.decide("城乡居民医保什么时候缴费？", NOW)
        assert entry.id not in [m.entry.id for m in decision.matches]
        assert not decision.answer_directly
    # The last day of validity still counts (Shanghai dates, inclusive).
    last_day = KnowledgeEntry(**{**MEDICAL.__dict__, "valid_until": date(2026, 12, 1)})
    late_evening = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    assert (
        KnowledgeBase([last_day]).decide("城乡居民医保什么时候缴费？", late_evening).answer_directly
    )
    after_midnight = late_evening + timedelta(hours=1)
    assert (
        not KnowledgeBase([last_day]).decide("城乡居民医保什么时候缴费？", after_midnight).matches
    )


def test_an_unrelated_question_gets_a_ticket(base: KnowledgeBase) -> None:
    decision = base.decide("今天天气怎么样？", NOW)
    assert not decision.answer_directly
    assert decision.reason in (Reason.NO_MATCH, Reason.LOW_SCORE)


def test_a_question_sharing_a_word_but_not_the_matter_gets_a_ticket(base: KnowledgeBase) -> None:
    decision = base.decide("护照照片可以穿白色衣服吗", NOW)
    assert not decision.answer_directly
    assert decision.reason is Reason.LOW_SCORE
    assert "below" in decision.explain()


def test_search_ranks_every_entry_once_best_first(base: KnowledgeBase) -> None:
    matches = base.search("补贴 医保 护照", NOW.date(), limit=3)
    ids = [m.entry.id for m in matches]
    assert len(ids) == len(set(ids))
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)


def test_decide_takes_a_plain_list_of_entries() -> None:
    decision = decide("护照怎么办理？", list(ENTRIES), NOW)
    assert decision.answer_directly
    assert decision.best is not None
    assert decision.best.entry is PASSPORT
    assert decision.best.score == pytest.approx(1.0)


def test_csv_round_trip() -> None:
    entries = [
        SUBSIDY,
        KnowledgeEntry(
            id="x",
            question="问题, 带逗号",
            answer='答案 "引号"\n第二行',
            keywords=("a", "b"),
            valid_from=date(2026, 1, 1),
            valid_until=date(2026, 12, 31),
            active=False,
        ),
    ]
    assert parse_entries(format_entries(entries)) == entries


def test_a_row_without_id_gets_the_same_id_each_time() -> None:
    text = "question,answer\n医保怎么交,在村里交\n"
    assert parse_entries(text)[0].id == parse_entries(text)[0].id


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("question\n问题\n", ["line 1", "answer"]),
        ("id,question,answer\na,问题,答案\nb,,答案\n", ["line 3", "question is empty"]),
        ("id,question,answer\na,问题,答案\na,问题二,答案\n", ["line 3", "already on line 2"]),
        ("question,answer,valid_until\n问题,答案,2026-13-01\n", ["line 2", "valid_until"]),
        ("question,answer,department\n问题,答案,nowhere\n", ["line 2", "unknown department"]),
        ("question,answer\n问题,答案,多余\n", ["line 2", "more cells"]),
    ],
)
def test_a_malformed_row_names_its_line(text: str, words: list[str]) -> None:
    with pytest.raises(KnowledgeFileError) as caught:
        parse_entries(text, known_departments={"labour"})
    for word in words:
        assert word in str(caught.value)


def test_the_words_of_asking_do_not_make_two_matters_alike() -> None:
    """ "狗证怎么办理" shares "证怎么办理" with "居住证怎么办理", but its matter is the dog licence:
    the forms of asking count as what is asked, not as the matter's words."""
    residence = KnowledgeEntry(id="residence", question="居住证怎么办理", answer="到派出所申领。")
    dog = KnowledgeEntry(id="dog", question="狗证在哪里办", answer="到派出所登记。")
    decision = KnowledgeBase([residence, dog]).decide("狗证怎么办理？", NOW)
    assert decision.best is not None
    assert decision.best.entry.id == "dog"
    assert decision.answer_directly


def test_a_statement_needs_a_near_exact_match() -> None:
    base = KnowledgeBase(ENTRIES)
    assert base.decide("护照怎么办理", NOW).answer_directly  # question word, no mark
    decision = base.decide("护照 办理 材料 照片", NOW)
    assert decision.intent is Intent.STATE
    assert not decision.answer_directly


DOG = KnowledgeEntry(
    id="dog-registration",
    question="犬只登记怎么办理",
    alternatives=("养狗要办狗证吗",),
    answer="带户主身份证和犬只免疫证明到派出所办理犬只登记。",
)


def test_a_question_on_an_aspect_the_entry_does_not_say_gets_a_ticket() -> None:
    """Asked when or how much, an entry whose answer says neither answers another aspect."""
    base = KnowledgeBase([DOG, PASSPORT, MEDICAL])
    assert base.decide("犬只登记怎么办理？", NOW).answer_directly
    for question, asked in (("犬只登记什么时候办？", "when"), ("犬只登记要多少钱？", "how much")):
        decision = base.decide(question, NOW)
        assert decision.best is not None
        assert decision.best.entry.id == DOG.id
        assert decision.reason is Reason.NOT_ANSWERED
        assert not decision.answer_directly
        assert asked in decision.explain()
    # The entry that says when answers "when".
    assert base.decide("城乡居民医保什么时候缴费？", NOW).answer_directly
