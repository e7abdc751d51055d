"""The knowledge base (知识库): find the entry that answers a citizen's question, and decide
whether the bot may answer it at once (直接答复) instead of opening a ticket.

Two questions, answered separately so each can be explained:

* **Which entry?** Every phrasing of an entry (its question and the other phrasings citizens
  use) is a set of character bigrams weighted by IDF over all phrasings — Chinese has no
  spaces, and bigrams need no dictionary. A phrasing scores by how much of it the message
  contains (recall, weighted up: a citizen adds greetings and context, an entry's question does
  not) and how much of the message it explains (precision), blended with rapidfuzz's
  ``partial_ratio`` (the phrasing's characters in the same order somewhere in the message). The
  entry's score is its best phrasing's. An inverted index over the rarer bigrams picks the
  candidates, so a question costs about the same with 10,000 entries as with 30.
* **Does the citizen ask, or want something done?** A consultation (咨询) can be answered from
  the entry; a request to act — something broke, money never arrived, "请帮忙查", a complaint —
  needs a person, even when it uses the entry's words ("我的补贴一直没到账，请帮忙查" is not the
  subsidy FAQ). Cue words and patterns decide, in the hotline's own vocabulary, and the cues
  found are part of the explanation.

Before matching, the forms of asking ("请问", "怎么办理", "需要什么材料", "什么时候") become one
token each for what is asked (when, where, how, what is needed …): the matter's own words then
make the bigrams, and the kind of question still counts a little. The share of the message an
entry explains is measured against everything the entry says (its phrasings, keywords and
answer), so "临时身份证怎么办" is explained by the ID card entry whose answer mentions it.

Direct answer = a confident, distinct match AND the message asks AND it does not ask for action.
An entry out of force (inactive, before ``valid_from`` or after ``valid_until``, in Shanghai
dates) is never returned.

Framework-free on purpose (standard library and rapidfuzz): intake, the CLI and the benchmark
all call ``KnowledgeBase.decide(text, now)``.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from operator import add, itemgetter

from rapidfuzz import fuzz

from handlers.routing import CJK, normalise
from scheduler.deadlines import local_date

# The matter of a message is stated early; the cap keeps a long complaint as fast as a short one.
MAX_MATCHED_CHARS = 400
TOP_MATCHES = 3

_RUN = re.compile(rf"[{CJK}]+|[a-z]{{2,}}|[0-9]+")
_COMPACT = re.compile(rf"[{CJK}0-9]+")

# Characters that make a bigram say little about the matter: grammar words, and the words of
# asking itself ("请问", "怎么", "什么时候"), which every phrasing of every entry shares. A
# generic list of Chinese function characters, not learned from the evaluation set.
_FILLER = frozenset(
    "的了是在我你他她们有不这那就都也和与及等个吗呢吧啊呀哦请一下好还把被给让很太想"
)
_ASKING = frozenset(
    {"请问", "问一", "问下", "什么", "么时", "时候", "怎么", "怎样", "如何", "哪里", "哪儿", "哪些",
     "需要", "要什", "么材", "可以", "能不", "不能", "多少", "少钱", "是否", "有没", "没有",
     "办理", "在哪", "么办", "咨询", "知道", "一下", "想问", "问问", "么样", "材料", "手续",
     "流程", "条件", "时间", "哪个", "几月", "月份", "多久", "带什", "要带", "申请", "去哪",
     "开始", "今年", "每年", "现在", "目前", "一般", "具体", "应该"}
)  # fmt: skip
_WEAK_WEIGHT = 0.25


class Intent(StrEnum):
    """What the citizen's message does."""

    ASK = "ask"  # a question: a consultation the knowledge base may answer
    ACT = "act"  # a request to act, a complaint, a report: needs a person
    STATE = "state"  # neither cue: a topic or a statement


def _any(*alternatives: str) -> str:
    return "|".join(alternatives)


_NUMBER = "[一二三两四五六七八九十几半0-9]+"
_SPAN = "(个|天|周|星期|月|年)"

# A request to act, by what it says: something is missing or broken, someone should do or check
# something, or the citizen complains. Each cue is a general pattern of Chinese requests, not a
# phrase of one entry.
_ACT_CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        (
            "not received",
            "(没|未|不)(到账|收到|发放|发下来|发到|拿到|领到|批|通过|办好|下来|回复|处理|解决"
            "|答复|落实|兑现)",
        ),
        (
            "still not",
            _any(
                "(一直|至今|迟迟|始终|还是|仍然|仍|到现在|好久|几个月|多久了?)(都|也|还)?(没|未|不)",
                "还(没|未)有?(人|到|发|收|办|下来|拿到|回复|处理|解决|来|修|安装|通)",
            ),
        ),
        (
            "why not",
            _any(
                "为(什么|啥|何)(还|都|也|就)?(没|不|未|让|收|扣|被)",
                # "怎么还没审核" is "why not yet", not "how": the case of the citizen's own.
                "(怎么|咋)(还|都|也)?(没|未)|(怎么|咋)(还|都)不",
            ),
        ),
        (
            "asks someone to act",
            "(请|麻烦|希望|要求|恳请|求|拜托)?(帮忙|帮我|帮助我|给我|替我)"
            "(查|看|问|处理|解决|办|催|核实|弄|修|联系|协调|反映|补)",
        ),
        (
            "asks to handle",
            "(请|麻烦|希望|要求|恳请|尽快|赶紧|赶快|及时)(你们|政府|相关部门|有关部门|领导)?"
            "(处理|解决|维修|修理|修一下|修好|查处|整改|核实|核查|调查|协调|督促|落实|清理|清运"
            "|派人|来人|过来|上门|退还|退钱|补发|赔偿|重新|复查|复核)",
        ),
        ("handle it", "(处理|解决|修|查|管|看|核实)一下|请帮忙|帮帮忙|麻烦你们"),
        # Where one's own case stands needs someone to look it up: "我的护照办好了吗".
        (
            "status of a case",
            "(办好|办下来|到账|批下来|批了|发了|寄出|寄了|审核|通过|到了)了?(吗|没有|没)",
        ),
        (
            "complaint",
            _any(
                "投诉|举报|曝光|反映(一下|个|情况|问题)|不作为|乱收费|乱罚|拖欠|克扣|刁难|推诿",
                "态度(很|太|极|非常)?(差|恶劣|不好)|不管不问|没人管|无人管",
                "不给(办|退|发|补|开)|拒绝(办理|受理|发放)",
            ),
        ),
        (
            "something broken",
            _any(
                "坏了|损坏|漏水|爆管|爆了|停水|停电|断水|断电|没水|没电|没气|漏气|堵塞|堵了",
                "塌|倒了|积水|冒水|不亮|不通|失灵|故障|被偷|被盗|走失|跑丢",
            ),
        ),
        (
            "nuisance",
            "扰民|噪音|噪声|臭味|异味|污染|乱倒|乱扔|乱搭|乱建|违建|违章搭建|占道|霸占|偷排|焚烧",
        ),
        (
            "when will it be done",
            "(什么时候|何时|啥时候|几时)(才|能)(能|可以|会)?"
            "(到账|发|修|处理|解决|办好|退|回复|恢复|来人|给)",
        ),
        (
            "urges",
            _any(
                "催(一下|办|促)|太慢|拖了|一直拖|拖着|拖延|卡住了|卡着",
                f"等了(很久|好久|{_NUMBER}{_SPAN})",
                f"(已经|都){_NUMBER}{_SPAN}",
            ),
        ),
        (
            "my own case",
            "(查|查询|看看|问问)(一下)?(我|我家|我们家|我父亲|我母亲|我爸|我妈|我儿子|我女儿|我的)",
        ),
        (
            "was wronged",
            _any(
                "被(扣|罚|拒|骗|打|欠|占|收|多收|停|取消|冒领|退回|注销|冻结|吊销)",
                "寄丢|弄丢了我|(?<!什么)(?<!哪些)(?<!有)要求(说明|答复|解释|赔|退|调查|处理|查)",
                "扣了我|多收|少发|少给|没给我|不给我|不退",
            ),
        ),
    )
)

# A question, by its form: question words, question particles, a question mark.
_ASK_CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("question mark", "[?？]"),
        (
            "question word",
            _any(
                "怎么|怎样|如何|哪里|哪儿|哪个|哪些|在哪|什么|啥|几点|几号|多少|多久|多长",
                "是否|能否|可否|有没有|是不是|能不能|可不可以|要不要|需不需要",
                "请问|咨询|想问|问一下|想了解|了解一下",
            ),
        ),
        ("question particle", "(吗|么|呢)\\s*$|(吗|么|呢)[,，。.!！]"),
    )
)


@dataclass(frozen=True)
class KnowledgeEntry:
    """One answer of the knowledge base, with the phrasings citizens use for its question.

    ``id`` is the entry's stable key (an import file's ``id`` column). Dates are inclusive,
    Shanghai calendar days; ``None`` leaves that side open.
    """

    id: str
    question: str
    answer: str
    department: str | None = None
    alternatives: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    valid_from: date | None = None
    valid_until: date | None = None
    active: bool = True

    def in_force(self, day: date) -> bool:
        """Whether the bot may use the entry on ``day`` (a Shanghai date)."""
        return (
            self.active
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_until is None or day <= self.valid_until)
        )

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.question, *self.alternatives)


@dataclass(frozen=True)
class KnowledgeTuning:
    """Weights and thresholds, measured with ``python -m bench.kb``."""

    # F-beta of the phrasing's recall and the share of the message the entry explains; beta 1
    # weighs both alike (what the citizen adds may be what the entry does not answer).
    beta: float = 1.0
    fuzzy_weight: float = 0.3  # the rest is the gram score
    character_weight: float = 0.3  # a single character's weight relative to a bigram's
    keyword_bonus: float = 0.05  # per keyword of the entry found in the message, at most two
    candidates: int = 30  # phrasings rescored exactly after the inverted index
    # Bigrams in more than this share of the phrasings (and above min_df_cap) do not select
    # candidates; they still count in the exact score of those selected.
    max_df_share: float = 0.02
    min_df_cap: int = 50
    # Direct answer: the best entry at least ``confident``, a question's ``margin`` ahead of the
    # next entry; a message without question form needs ``confident_statement``.
    confident: float = 0.65
    confident_statement: float = 0.80
    margin: float = 0.08


class Reason(StrEnum):
    """Why a message is or is not answered directly."""

    DIRECT = "direct"
    NO_MATCH = "no_match"  # no entry in force shares anything with the message
    LOW_SCORE = "low_score"  # the best entry is not close enough
    AMBIGUOUS = "ambiguous"  # two entries fit about equally
    REQUEST_TO_ACT = "request_to_act"  # the citizen wants something done
    NOT_A_QUESTION = "not_a_question"  # no question form and no near-exact match
    NOT_ANSWERED = "not_answered"  # asks when / how much / how long; the entry does not say


_REASON_TEXTS: dict[Reason, str] = {
    Reason.DIRECT: (
        "直接答复: the best entry scores {score:.2f} (≥ {threshold:.2f}), {gap:.2f} ahead of the "
        "next, and the message asks without requesting action"
    ),
    Reason.NO_MATCH: "工单: no entry in force shares words with the message",
    Reason.LOW_SCORE: "工单: the best entry scores {score:.2f}, below {threshold:.2f}",
    Reason.AMBIGUOUS: "工单: the two best entries are {gap:.2f} apart, less than {margin:.2f}",
    Reason.REQUEST_TO_ACT: "工单: a request to act ({cues}), not a consultation",
    Reason.NOT_A_QUESTION: (
        "工单: no question form, and the score {score:.2f} is below {threshold:.2f} "
        "needed for a statement"
    ),
    Reason.NOT_ANSWERED: (
        "工单: the message asks {cues}, and the entry (score {score:.2f}) does not say: "
        "it answers another aspect of the matter"
    ),
}


@dataclass(frozen=True)
class KnowledgeMatch:
    """An entry that may answer the message, with its score (0..1) and best phrasing."""

    entry: KnowledgeEntry
    score: float
    phrasing: str
    # The share of the message's words (by weight) that the entry's phrasings, keywords and
    # answer contain: low when the message asks about something the entry does not cover.
    explained: float = 1.0


@dataclass(frozen=True)
class KnowledgeDecision:
    """The matches (best first, at most three), and whether to answer directly, with why."""

    matches: tuple[KnowledgeMatch, ...]
    answer_directly: bool
    reason: Reason
    intent: Intent
    act_cues: tuple[str, ...] = ()
    ask_cues: tuple[str, ...] = ()
    details: dict[str, float] = field(default_factory=dict)
    missing: tuple[str, ...] = ()  # what is asked that the entry does not say (NOT_ANSWERED)

    @property
    def best(self) -> KnowledgeMatch | None:
        return self.matches[0] if self.matches else None

    def explain(self) -> str:
        """One line: the decision and why, with the numbers it compared."""
        values = dict(self.details)
        template = _REASON_TEXTS[self.reason]
        return template.format(
            score=values.get("score", 0.0),
            threshold=values.get("threshold", 0.0),
            gap=values.get("gap", 0.0),
            margin=values.get("margin", 0.0),
            cues=", ".join(self.act_cues or self.missing),
        )


# What an answer must hold to answer "when", "how much" and "how long": a question on one of
# these is about another aspect of the matter when neither the entry's phrasings ask it nor
# its answer says it ("垃圾分类宣传活动什么时候搞" is not answered by how to sort rubbish).
_SAYS: dict[str, tuple[str, re.Pattern[str]]] = {
    "qwhen": (
        "when",
        re.compile(
            f"{_NUMBER}(月|日|号|点|时)|(周|星期|礼拜)[一二三四五六日天末]|上午|下午|晚上|工作日"
            "|每(年|月|周|天|季度)|(年|月)(初|底|末|前|后|中)|截止|期间|随时|全天|即日"
        ),
    ),
    "qcost": (
        "how much",
        re.compile(f"{_NUMBER}(元|块|角|分钱)|免费|不收|收费|费用|工本费|标准"),
    ),
    "qlong": (
        "how long",
        re.compile(f"{_NUMBER}个?(工作日|天|日|小时|周|星期|月|年)|当场|当天|即时|立即|马上"),
    ),
}


def _asked(key: str) -> set[str]:
    return {token for token in _RUN.findall(key) if token in _SAYS}


# The forms of asking, each replaced by one token for what is asked: the matter's words then
# make their own bigrams ("狗证", not "证怎"), and "when" still tells "医保什么时候交" from
# "医保交多少钱". Longest forms first; politeness says nothing and is dropped. A generic list
# of Chinese question forms, not phrases of the evaluation set.
_ASK_FORMS: tuple[tuple[str, str], ...] = (
    ("", "请问一下|请问|你好|您好|想问一下|想问问|想问|问一下|咨询一下|了解一下|我想知道|我想"),
    ("qwhen", "什么时候|啥时候|何时|几月份|几月|哪一天|哪天|几号|时间"),
    ("qwhere", "在什么地方|什么地方|在哪里|在哪儿|去哪里|去哪儿|到哪里|哪里|哪儿|在哪|去哪|地点"),
    ("qlong", "多长时间|多久|几天"),
    ("qcost", "多少钱|要钱吗|收费吗|收不收费|费用"),
    ("qneed", "需要准备什么|需要带什么|需要什么|要准备什么|要带什么|带什么|要什么"
              "|哪些材料|什么材料|材料|手续|证件"),
    ("qhow", "怎么办理|怎样办理|如何办理|怎么办|怎么弄|怎么样|怎么|怎样|如何|流程|步骤|程序"),
    ("qwho", "找谁|找哪个|哪个部门|什么部门"),
    ("qcan", "能不能|可不可以|可以吗|能否|可否|是否|有没有|要不要|需不需要"),
    ("qwhat", "多少|什么|哪个|哪些|哪种"),
)  # fmt: skip
_ASK_FORM = re.compile(
    "|".join(f"(?P<g{i}>{pattern})" for i, (_, pattern) in enumerate(_ASK_FORMS))
)
_ASK_TOKENS = frozenset(token for token, _ in _ASK_FORMS if token)


def _ask_token(match: re.Match[str]) -> str:
    group = match.lastgroup
    assert group is not None  # narrowing only: every alternative of _ASK_FORM is a named group
    return f" {_ASK_FORMS[int(group[1:])][0]} "


def _key(text: str) -> str:
    return _ASK_FORM.sub(_ask_token, normalise(text)[:MAX_MATCHED_CHARS])


def _bigrams(key: str) -> set[str]:
    grams: set[str] = set()
    for run in _RUN.findall(key):
        if run[0].isascii():
            if not run.isdigit():
                grams.add(run)
        else:
            # Characters too, weighing less: "驾照" and "驾驶证", "迁户口" and "户口迁移".
            grams.update(run)
            grams.update(map(add, run, run[1:]))
    return grams


def _compact(key: str) -> str:
    """The matter's characters only (no tokens of asking), for rapidfuzz."""
    return "".join(_COMPACT.findall(key))


def _weak(gram: str) -> bool:
    return gram in _ASK_TOKENS or gram in _ASKING or not _FILLER.isdisjoint(gram)


def cues(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The request-to-act cues and the question cues found in a text (their names)."""
    key = normalise(text)
    act = tuple(name for name, pattern in _ACT_CUES if pattern.search(key))
    ask = tuple(name for name, pattern in _ASK_CUES if pattern.search(key))
    return act, ask


def intent(text: str) -> Intent:
    """ACT when any request-to-act cue is present (it wins over a question form: "为什么还没到账？"
    asks, but wants the money); ASK when the message has question form; STATE otherwise."""
    act, ask = cues(text)
    if act:
        return Intent.ACT
    return Intent.ASK if ask else Intent.STATE


class KnowledgeBase:
    """An index of entries for ``search`` and ``decide``; rebuild it when the entries change
    (it takes milliseconds per thousand entries)."""

    def __init__(
        self, entries: Iterable[KnowledgeEntry], tuning: KnowledgeTuning | None = None
    ) -> None:
        self.tuning = tuning or KnowledgeTuning()
        self.entries: tuple[KnowledgeEntry, ...] = tuple(entries)
        # One row per phrasing: its entry's position, its text, its bigrams, its total weight.
        self._owner: list[int] = []
        self._phrasing: list[str] = []
        self._compact: list[str] = []
        self._grams: list[frozenset[str]] = []
        df: dict[str, int] = {}
        for position, entry in enumerate(self.entries):
            for phrasing in entry.phrasings:
                key = _key(phrasing)
                grams = frozenset(_bigrams(key))
                if not grams:
                    continue
                self._owner.append(position)
                self._phrasing.append(phrasing)
                self._compact.append(_compact(key))
                self._grams.append(grams)
                for gram in grams:
                    df[gram] = df.get(gram, 0) + 1
        size = len(self._grams)
        self._size = size
        self._weight = {gram: self._gram_weight(gram, count) for gram, count in df.items()}
        self._total = [sum(self._weight[g] for g in grams) for grams in self._grams]
        cap = max(self.tuning.min_df_cap, self.tuning.max_df_share * size)
        self._postings: dict[str, list[int]] = {}
        for row, grams in enumerate(self._grams):
            for gram in grams:
                if df[gram] <= cap:
                    self._postings.setdefault(gram, []).append(row)
        vocabulary: list[set[str]] = [set() for _ in self.entries]
        for row, grams in enumerate(self._grams):
            vocabulary[self._owner[row]].update(grams)
        # What an entry explains also includes the bigrams of its answer and keywords: "临时身份证"
        # is answered by the ID card entry, "年报" is not by the business licence one.
        for position, entry in enumerate(self.entries):
            for text in (entry.answer, *entry.keywords):
                vocabulary[position].update(g for g in _bigrams(_key(text)) if len(g) > 1)
        self._vocabulary = [frozenset(grams) for grams in vocabulary]
        self._keywords = [
            tuple({normalise(k) for k in entry.keywords if len(normalise(k)) >= 2})
            for entry in self.entries
        ]
        # The aspects each entry answers: asked in its phrasings, or said in its answer.
        self._says: dict[str, frozenset[str]] = {
            entry.id: frozenset(
                {t for phrasing in entry.phrasings for t in _asked(_key(phrasing))}
                | {t for t, (_, says) in _SAYS.items() if says.search(normalise(entry.answer))}
            )
            for entry in self.entries
        }

    def __len__(self) -> int:
        return len(self.entries)

    def _gram_weight(self, gram: str, count: int) -> float:
        idf = math.log(1 + self._size / count) if self._size else 1.0
        weight = idf * (_WEAK_WEIGHT if _weak(gram) else 1.0)
        return weight * self.tuning.character_weight if len(gram) == 1 else weight

    def _unseen_weight(self, gram: str) -> float:
        return self._gram_weight(gram, 1)

    def search(self, text: str, day: date, limit: int = TOP_MATCHES) -> list[KnowledgeMatch]:
        """The entries in force on ``day`` that best fit the text, best first, each once."""
        key = _key(text)
        query = _bigrams(key)
        if not query or not self._size:
            return []
        weights = {g: self._weight.get(g) or self._unseen_weight(g) for g in query}
        query_total = sum(weights.values())
        # Candidates: phrasings sharing the most weight in the rarer bigrams.
        shared: dict[int, float] = {}
        get = shared.get
        for gram in query:
            rows = self._postings.get(gram)
            if rows:
                weight = weights[gram]
                for row in rows:
                    shared[row] = get(row, 0.0) + weight
        entries, owner = self.entries, self._owner
        in_force: dict[int, bool] = {}
        chosen: list[int] = []
        for row, _weight in sorted(shared.items(), key=itemgetter(1), reverse=True):
            position = owner[row]
            allowed = in_force.get(position)
            if allowed is None:
                allowed = in_force[position] = entries[position].in_force(day)
            if allowed:
                chosen.append(row)
                if len(chosen) == self.tuning.candidates:
                    break
        tuning = self.tuning
        beta2 = tuning.beta**2
        compact = _compact(key)
        best: dict[int, tuple[float, str, float]] = {}
        for row in chosen:
            common = sum(weights[g] for g in self._grams[row] & query)
            recall = common / self._total[row]
            # The message's share the entry explains: all its phrasings together, so a
            # question mixing the words of two phrasings is not penalised for it.
            explained = sum(weights[g] for g in self._vocabulary[owner[row]] & query)
            precision = max(common, explained) / query_total
            lexical = (1 + beta2) * precision * recall / (beta2 * precision + recall)
            fuzzy = fuzz.partial_ratio(self._compact[row], compact) / 100
            score = (1 - tuning.fuzzy_weight) * lexical + tuning.fuzzy_weight * fuzzy
            position = owner[row]
            found = sum(1 for word in self._keywords[position] if word in key)
            score = min(1.0, score + tuning.keyword_bonus * min(found, 2))
            if score > best.get(position, (-1.0, "", 0.0))[0]:
                best[position] = (score, self._phrasing[row], explained / query_total)
        top = heapq.nlargest(limit, best.items(), key=lambda item: (item[1][0], -item[0]))
        return [
            KnowledgeMatch(entries[position], score, phrasing, explained)
            for position, (score, phrasing, explained) in top
        ]

    def decide(self, text: str, now: datetime) -> KnowledgeDecision:
        """Match the message and decide whether to answer it directly (see the module doc)."""
        tuning = self.tuning
        matches = tuple(self.search(text, local_date(now), TOP_MATCHES))
        act, ask = cues(text)
        kind = Intent.ACT if act else Intent.ASK if ask else Intent.STATE

        def decision(reason: Reason, **details: float) -> KnowledgeDecision:
            return KnowledgeDecision(
                matches=matches,
                answer_directly=reason is Reason.DIRECT,
                reason=reason,
                intent=kind,
                act_cues=act,
                ask_cues=ask,
                details=details,
            )

        if not matches:
            return decision(Reason.NO_MATCH)
        score = matches[0].score
        gap = score - matches[1].score if len(matches) > 1 else score
        if kind is Intent.ACT:
            return decision(Reason.REQUEST_TO_ACT, score=score)
        if score < tuning.confident:
            return decision(Reason.LOW_SCORE, score=score, threshold=tuning.confident)
        if gap < tuning.margin:
            return decision(Reason.AMBIGUOUS, score=score, gap=gap, margin=tuning.margin)
        if kind is Intent.STATE and score < tuning.confident_statement:
            return decision(
                Reason.NOT_A_QUESTION, score=score, threshold=tuning.confident_statement
            )
        missing = _asked(_key(text)) - self._says.get(matches[0].entry.id, frozenset())
        if missing:
            return replace(
                decision(Reason.NOT_ANSWERED, score=score),
                missing=tuple(_SAYS[t][0] for t in sorted(missing)),
            )
        threshold = tuning.confident if kind is Intent.ASK else tuning.confident_statement
        return decision(Reason.DIRECT, score=score, gap=gap, threshold=threshold)


def decide(
    text: str, knowledge: KnowledgeBase | Sequence[KnowledgeEntry], now: datetime
) -> KnowledgeDecision:
    """``KnowledgeBase.decide``; a list of entries is indexed first (for one-off calls)."""
    base = knowledge if isinstance(knowledge, KnowledgeBase) else KnowledgeBase(knowledge)
    return base.decide(text, now)
