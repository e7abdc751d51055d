"""Route a citizen's request to a department (派单), and tell repeat requests apart (并单).

Three kinds of evidence per department, added with weights into one score:

* **Catalog**: the department's name, aliases and keywords found in the text. Keywords shared by
  several departments count less (an IDF over departments), longer ones more, and each
  department's total is divided by the square root of its keyword weight so a long keyword list
  does not win on volume. Names and aliases are also matched fuzzily with rapidfuzz.
* **Centroid**: cosine between the text and the mean of the department's past tickets.
* **Neighbours**: the summed cosines of the ten nearest past tickets of that department.

Past tickets ("history") are those whose department a person set or confirmed. Texts become
TF-IDF vectors of character bigrams: Chinese has no spaces, and bigrams need no dictionary and
cost nothing to compute. An inverted index finds the neighbours without scoring every ticket;
``learn()`` updates the index and the centroids in O(length of the text), so a dispatcher's
correction counts from the very next ``route()``. There is no training step.

Confidence: each department's probability is ``score**power / (sum of score**power + floor**power)``
— a softmax over log scores, so it depends on how far the best department is ahead, not on the
scale of the scores; ``floor`` stands for "none of them" and keeps one weak keyword from looking
certain. The weights were tuned by cross-validation (``python -m bench.routing``).

Framework-free on purpose (standard library and rapidfuzz), and not thread-safe: the bot calls it
from one event loop.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
import unicodedata
from array import array
from collections import Counter, defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain, repeat
from operator import add, itemgetter, mul

from rapidfuzz import fuzz, process

from handlers.catalog import Catalog

MAX_CANDIDATES = 3
# The topic is stated early; the cap keeps a 7,000-character complaint as fast as a short one.
MAX_ROUTED_CHARS = 800

# The CJK ideographs (the unified blocks, extension A and the compatibility block), for
# character classes: the routing, the knowledge base and the answer pre-check read runs of them.
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Runs of Chinese characters, and latin words (APP, wifi, ETC). Digits (house and phone
# numbers) say nothing about the department.
_RUN = re.compile(rf"[{CJK}]+|[a-z]{{2,}}")
_WORD = re.compile(r"[a-z]{2,}")
_HAS_CJK = re.compile(rf"[{CJK}]")


def english_word(word: str) -> str:
    """A latin word without its plural ending ("lights" → "light", "bodies" → "body"), so
    that a request and a catalog keyword meet whichever number either uses. Deliberately
    small: routing needs the same form on both sides, not a dictionary form."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def english_words(text: str) -> list[str]:
    """The latin words of normalised text, plural endings dropped."""
    return [english_word(word) for word in _WORD.findall(text)]


@dataclass(frozen=True)
class RoutingTuning:
    """Weights and limits, tuned by cross-validation in ``bench.routing``."""

    catalog_weight: float = 1.0
    name_weight: float = 1.0
    centroid_weight: float = 10.0
    neighbour_weight: float = 3.0
    neighbours: int = 10
    # A centroid of a few tickets is one or two texts, not a department's profile: its cosine is
    # shrunk by n / (n + centroid_prior), so one correction does not outweigh the catalog.
    centroid_prior: float = 5.0
    # Confidence = score**power / (sum of score**power + floor**power).
    power: float = 3.0
    floor: float = 0.5
    # Neighbour lookup uses the query's heaviest bigrams among those in at most this share of
    # the tickets: bigrams in every other ticket weigh little and would make the scan slow.
    query_grams: int = 40
    max_df_share: float = 0.05
    min_df_cap: int = 20
    name_cutoff: float = 85.0


@dataclass(frozen=True)
class RouteCandidate:
    """A department that may fit, with its probability in [0, 1]."""

    code: str
    score: float


@dataclass(frozen=True)
class RoutingDecision:
    """Up to three departments, best first; ``automatic`` when confident enough to dispatch."""

    candidates: tuple[RouteCandidate, ...]
    confidence: float
    automatic: bool

    @property
    def department(self) -> str | None:
        """The top candidate's code, or None when nothing in the text pointed anywhere."""
        return self.candidates[0].code if self.candidates else None


# Full-width ASCII and the ideographic space, NFKC's most common work in Chinese text ("，",
# "（", "３"), replaced ahead: what is left is then usually normalised already, which
# ``unicodedata.normalize`` checks quickly, instead of decomposing and recomposing every
# character (~0.15 µs each). NFKC maps these characters so itself: the result is the same.
# (A regular expression, because ``str.translate`` with a table costs more than NFKC.)
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")
_HALF_WIDTH = {chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)} | {"\u3000": " "}


def _half_width(match: re.Match[str]) -> str:
    return _HALF_WIDTH[match[0]]


def normalise(text: str) -> str:
    """NFKC (full-width to half-width), lower case, one space for any run of whitespace."""
    text = _FULL_WIDTH.sub(_half_width, text)
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def _grams(text: str) -> dict[str, int]:
    """Counts of character bigrams inside Chinese runs, and of latin words, of normalised text."""
    runs = _RUN.findall(text)
    counts = Counter(english_word(run) for run in runs if run[0].isascii())
    # map(add, run, run[1:]) pairs each character with the next, in C; one update for all runs.
    counts.update(
        chain.from_iterable(map(add, run, run[1:]) for run in runs if not run[0].isascii())
    )
    return counts


def _hits_needed(length: int, cutoff: float) -> int:
    """The fewest characters of a name of ``length`` that a text must contain for
    ``fuzz.partial_ratio`` to reach ``cutoff``: the best window matches at most h of them, and
    scores 200·h / (length + window) with a window of at least h characters. More than
    ``length`` (never met) for a cutoff over 100."""
    return next(
        (h for h in range(length + 1) if 200 * h / (length + h) >= cutoff - 1e-9), length + 1
    )


def _key(text: str) -> str:
    return normalise(text)[:MAX_ROUTED_CHARS]


def _digest(key: str) -> bytes:
    # 16 bytes instead of the whole text to recognise a text learned again.
    return hashlib.blake2b(key.encode(), digest_size=16).digest()


class _CatalogIndex:
    """Keyword and name evidence per department; built once per catalog."""

    def __init__(self, catalog: Catalog, name_cutoff: float) -> None:
        self._name_cutoff = name_cutoff
        codes = catalog.codes
        owners: dict[str, set[str]] = defaultdict(set)
        # Terms in latin letters only (the English name, English aliases and keywords) are
        # matched as words, and weighed on their own scale: adding English words to a
        # catalog leaves the routing of Chinese text as it was.
        english: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for department in catalog.departments:
            terms = (department.name_zh, department.name_en, *department.aliases)
            for term in (*terms, *department.keywords):
                term = normalise(term)
                if not _HAS_CJK.search(term) and _WORD.search(term):
                    english[tuple(english_words(term))].add(department.code)
                elif len(term) >= 2:
                    owners[term].add(department.code)
        # IDF over departments: "安全" listed by five departments says less than "低保" by one.
        self._terms: dict[str, list[tuple[str, float]]] = {}
        totals = dict.fromkeys(codes, 0.0)
        for term, term_owners in owners.items():
            weight = math.log(1 + len(codes) / len(term_owners)) * min(len(term), 4) / 2
            self._terms[term] = [(code, weight) for code in sorted(term_owners)]
            for code in term_owners:
                totals[code] += weight
        self._scale = {
            code: 1 / math.sqrt(total) if total else 0.0 for code, total in totals.items()
        }
        self._english: dict[tuple[str, ...], list[tuple[str, float]]] = {}
        self._english_by_head: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        english_totals = dict.fromkeys(codes, 0.0)
        for words, term_owners in english.items():
            # One word weighs as a two-character Chinese term, three or more as a long one.
            weight = math.log(1 + len(codes) / len(term_owners)) * min(len(words) + 1, 4) / 2
            self._english[words] = [(code, weight) for code in sorted(term_owners)]
            self._english_by_head[words[0]].append(words)
            for code in term_owners:
                english_totals[code] += weight
        self._english_scale = {
            code: 1 / math.sqrt(total) if total else 0.0 for code, total in english_totals.items()
        }
        # A term can only occur where its first bigram does: the text's bigrams gate the search.
        self._by_head: dict[str, list[str]] = defaultdict(list)
        for term in self._terms:
            self._by_head[term[:2]].append(term)
        self._names: list[str] = []
        self._name_codes: list[str] = []
        for department in catalog.departments:
            for name in (department.name_zh, *department.aliases):
                name = normalise(name)
                # Fuzzy matching is for Chinese names written a character or two off; an
                # English name is a term (matched as words) instead.
                if len(name) >= 3 and _HAS_CJK.search(name):
                    self._names.append(name)
                    self._name_codes.append(department.code)
        # For ``name_scores``, per name: its length, its characters (with their counts where
        # one repeats), and how many of them a text must contain to reach the cutoff.
        self._name_filters = [
            (
                len(name),
                frozenset(name),
                Counter(name) if len(set(name)) < len(name) else None,
                _hits_needed(len(name), name_cutoff),
            )
            for name in self._names
        ]
        # The characters of all names, to pick out of a text: a set of every character of a
        # long text costs more than the rest of the filter (each one a new string object).
        name_chars = "".join(sorted(set("".join(self._names))))
        self._name_chars = re.compile(f"[{re.escape(name_chars)}]") if name_chars else None

    def scores(self, text: str, grams: Iterable[str]) -> dict[str, float]:
        """Keyword score per department with any evidence."""
        scores: dict[str, float] = defaultdict(float)
        for gram in grams:
            for term in self._by_head.get(gram, ()):
                count = text.count(term)
                if count:
                    for code, weight in self._terms[term]:
                        scores[code] += weight * (1 + math.log(count))
        found = {code: score * self._scale[code] for code, score in scores.items()}
        if not self._english or not _WORD.search(text):
            return found
        words = english_words(text)
        mentions: Counter[tuple[str, ...]] = Counter()
        for index, word in enumerate(words):
            for phrase in self._english_by_head.get(word, ()):
                if tuple(words[index : index + len(phrase)]) == phrase:
                    mentions[phrase] += 1
        for phrase, count in mentions.items():  # as for Chinese terms: 1 + log(count)
            for code, weight in self._english[phrase]:
                found[code] = found.get(code, 0.0) + (
                    weight * (1 + math.log(count)) * self._english_scale[code]
                )
        return found

    def name_scores(self, text: str) -> dict[str, float]:
        """Mentions of a department's name or alias (0..1), allowing a character or two off:
        a citizen writes "规划建设中心" for "村镇规划建设服务中心"."""
        found: dict[str, float] = {}
        # A name no longer than the text scores at most 200·h / (len + h), h being how many of
        # its characters occur in the text at all: names short of the cutoff by that bound
        # are not compared (most of them, for most texts; same results, a fraction of the cost).
        if self._name_chars is None:
            return found
        present = set(self._name_chars.findall(text))
        candidates = []
        for index, (length, chars, repeats, needs) in enumerate(self._name_filters):
            shared = chars & present
            hits = len(shared) if repeats is None else sum(repeats[char] for char in shared)
            if hits >= needs or length > len(text):
                candidates.append(index)
        # processor=None: both sides are normalise()d already. partial_ratio aligns the short
        # name with its best window in the long text; the cutoff drops chance overlaps.
        for _name, score, at in process.extract(
            text,
            [self._names[index] for index in candidates],
            scorer=fuzz.partial_ratio,
            processor=None,
            score_cutoff=self._name_cutoff,
            limit=None,
        ):
            code = self._name_codes[candidates[at]]
            found[code] = max(found.get(code, 0.0), score / 100)
        return found


class _Gram:
    """What the history knows about one bigram: its document frequency, its postings
    (compact arrays, about 8 bytes a ticket) and its weight in each department's centroid."""

    __slots__ = ("centroid", "df", "tickets", "weights")

    def __init__(self, departments: int) -> None:
        self.df = 0
        self.tickets = array("i")
        self.weights = array("f")
        self.centroid = array("f", bytes(4 * departments))


class _HistoryIndex:
    """Past tickets as unit TF-IDF bigram vectors: an inverted index and a centroid per code.

    Each ticket's IDF is frozen when it is added (tickets given at start-up share the IDF of the
    whole start-up history), so adding one never re-weights the others.
    """

    def __init__(self, codes: tuple[str, ...]) -> None:
        self.size = 0
        self._codes = codes
        self._column = {code: column for column, code in enumerate(codes)}
        self._grams: dict[str, _Gram] = {}
        self._owner: list[int] = []  # the column of each ticket's code; -1 once replaced
        self._vectors: list[array[float]] = []  # each ticket's weights, in _grams(text) order
        self._keys: list[str] = []  # each ticket's normalised text, to retire it when it is old
        self._order: deque[int] = deque()  # tickets oldest first (replaced ones skipped)
        self._tickets: dict[bytes, int] = {}  # digest of the normalised text -> latest ticket
        # Each centroid (the sum of its tickets' unit vectors) has its squared norm kept here.
        self._norm_sq = [0.0] * len(codes)
        self._counts = [0] * len(codes)  # live tickets per department

    def vector(self, grams: dict[str, int]) -> tuple[list[_Gram | None], list[float]]:
        """The bigrams' records (None if unseen) and their unit TF-IDF weights."""
        size, known, log = self.size, self._grams.get, math.log
        records = [known(gram) for gram in grams]
        # An unseen bigram weighs as if seen once: rare, and it lowers every cosine of a text
        # unlike anything in the history.
        weights = [
            (1 + log(count)) * log(1 + size / (record.df if record and record.df else 1))
            for count, record in zip(grams.values(), records, strict=True)
        ]
        norm = math.sqrt(sum(w * w for w in weights))
        return records, [w / norm for w in weights] if norm else weights

    def add(self, items: Iterable[tuple[str, str]]) -> None:
        """Add tickets as (normalised text, code); frequencies first so they share one IDF."""
        latest = dict(items)  # the same text twice: the later decision wins
        # For a large batch the bigrams are counted again in the second pass rather than kept:
        # holding them all would take several times the memory of the index itself.
        keep = len(latest) == 1
        batch: list[tuple[str, str, dict[str, int] | None]] = []
        known, width = self._grams, len(self._codes)
        for key, code in latest.items():
            grams = _grams(key)
            if not grams:
                continue
            self._retire(key)
            self.size += 1
            for gram in grams:
                record = known.get(gram)
                if record is None:
                    record = known[gram] = _Gram(width)
                record.df += 1
            batch.append((key, code, grams if keep else None))
        for key, code, kept in batch:
            self._index(key, kept or _grams(key), self._column[code])

    def _index(self, key: str, grams: dict[str, int], column: int) -> None:
        records, weights = self.vector(grams)
        ticket = len(self._owner)
        self._tickets[_digest(key)] = ticket
        self._owner.append(column)
        self._vectors.append(array("f", weights))
        self._keys.append(key)
        self._order.append(ticket)
        dot = 0.0
        for record, weight in zip(records, weights, strict=True):
            assert record is not None  # narrowing only: add() created it
            record.tickets.append(ticket)
            record.weights.append(weight)
            old = record.centroid[column]
            dot += old * weight
            record.centroid[column] = old + weight
        # |S + v|^2 = |S|^2 + 2 S.v + |v|^2, and |v| = 1.
        self._norm_sq[column] += 2 * dot + 1
        self._counts[column] += 1

    def keep_latest(self, limit: int) -> None:
        """Retire the oldest tickets beyond ``limit`` (``[routing] history_size``): a bot that
        runs for months learns from the latest decisions and holds no more than it loaded."""
        while self.size > limit and self._order:
            ticket = self._order.popleft()
            if self._owner[ticket] >= 0:
                key = self._keys[ticket]
                self._tickets.pop(_digest(key), None)
                self._retire_ticket(ticket, key)
        # Retired tickets leave their postings behind (skipped when read); once they outnumber
        # the live ones, the index is rewritten without them, so memory follows ``limit``.
        if len(self._owner) - self.size > max(self.size, 1000):
            self._compact()

    def _compact(self) -> None:
        """Drop retired tickets from the postings and renumber the live ones (their weights
        and the centroids are unchanged)."""
        new_number = array("i", [-1]) * len(self._owner)
        live = [ticket for ticket in self._order if self._owner[ticket] >= 0]
        for number, ticket in enumerate(live):
            new_number[ticket] = number
        for gram in [gram for gram, record in self._grams.items() if record.df <= 0]:
            del self._grams[gram]  # no live ticket has it: as if never seen
        for record in self._grams.values():
            kept = [
                (new_number[ticket], weight)
                for ticket, weight in zip(record.tickets, record.weights, strict=True)
                if new_number[ticket] >= 0
            ]
            record.tickets = array("i", [ticket for ticket, _ in kept])
            record.weights = array("f", [weight for _, weight in kept])
        self._owner = [self._owner[ticket] for ticket in live]
        self._vectors = [self._vectors[ticket] for ticket in live]
        self._keys = [self._keys[ticket] for ticket in live]
        self._order = deque(range(len(live)))
        self._tickets = {digest: new_number[t] for digest, t in self._tickets.items()}

    @property
    def counts(self) -> dict[str, int]:
        """Live past tickets per department."""
        return dict(zip(self._codes, self._counts, strict=True))

    @property
    def postings(self) -> int:
        """(bigram, ticket) entries held, replaced and retired tickets included."""
        return sum(len(record.tickets) for record in self._grams.values())

    def _retire(self, key: str) -> None:
        """The same text decided again: the newer decision (a correction) replaces the older."""
        ticket = self._tickets.pop(_digest(key), None)
        if ticket is None:
            return
        self._retire_ticket(ticket, key)

    def _retire_ticket(self, ticket: int, key: str) -> None:
        column = self._owner[ticket]
        # Its postings stay and are skipped: cheaper than deleting from the arrays.
        self._owner[ticket] = -1
        self.size -= 1
        dot = 0.0
        for gram, weight in zip(_grams(key), self._vectors[ticket], strict=True):
            record = self._grams[gram]
            record.df -= 1
            record.centroid[column] -= weight
            dot += record.centroid[column] * weight
        self._norm_sq[column] = max(0.0, self._norm_sq[column] - 2 * dot - 1)
        self._counts[column] -= 1
        self._vectors[ticket] = array("f")
        self._keys[ticket] = ""

    def centroid_scores(
        self, records: list[_Gram | None], weights: list[float], prior: float
    ) -> dict[str, float]:
        """Cosine between the query and each department's centroid, shrunk for small ones."""
        dots = [0.0] * len(self._codes)
        for record, weight in zip(records, weights, strict=True):
            if record is not None:
                # One C-level pass over the departments per bigram.
                dots = list(map(add, dots, map(mul, record.centroid, repeat(weight))))
        counts = self._counts
        return {
            code: dot / math.sqrt(norm_sq) * counts[column] / (counts[column] + prior)
            for column, (code, dot, norm_sq) in enumerate(
                zip(self._codes, dots, self._norm_sq, strict=True)
            )
            if dot > 0 and norm_sq > 1e-9
        }

    def neighbours(
        self, records: list[_Gram | None], weights: list[float], tuning: RoutingTuning
    ) -> list[tuple[float, str]]:
        """The nearest tickets as (cosine, code), nearest first."""
        if not self.size:
            return []
        cap = max(tuning.min_df_cap, tuning.max_df_share * self.size)
        chosen = heapq.nlargest(
            tuning.query_grams,
            (
                (weight, record)
                for record, weight in zip(records, weights, strict=True)
                if record is not None and 0 < record.df <= cap
            ),
            key=itemgetter(0),
        )
        dots: dict[int, float] = defaultdict(float)
        for weight, record in chosen:
            for ticket, value in zip(record.tickets, record.weights, strict=True):
                dots[ticket] += weight * value
        found: list[tuple[float, str]] = []
        # Replaced tickets are still in the postings; take extra and skip them.
        for ticket, dot in heapq.nlargest(2 * tuning.neighbours, dots.items(), key=itemgetter(1)):
            column = self._owner[ticket]
            if column >= 0:
                found.append((dot, self._codes[column]))
                if len(found) == tuning.neighbours:
                    break
        return found


class DepartmentRouter:
    """Suggests departments for request texts and learns from each dispatcher's choice."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        threshold: float,
        history: Iterable[tuple[str, str]] = (),
        tuning: RoutingTuning | None = None,
        history_limit: int | None = None,
    ) -> None:
        """``history``: (text, department code) of past tickets a person routed or confirmed,
        oldest first; ``history_limit``: how many of the latest the router keeps as it learns
        (None: all).

        Tickets of codes not in the catalog (a department since removed) are ignored.
        """
        if not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be between 0 and 1, not {threshold}")
        self.catalog = catalog
        self.threshold = threshold
        self.tuning = tuning or RoutingTuning()
        self._codes = catalog.codes
        self._catalog = _CatalogIndex(catalog, self.tuning.name_cutoff)
        self._history = _HistoryIndex(self._codes)
        self._history_limit = history_limit
        self._history.add((_key(text), code) for text, code in history if code in self._codes)
        if history_limit is not None:
            self._history.keep_latest(history_limit)

    @property
    def history_size(self) -> int:
        """How many past tickets the router learns from."""
        return self._history.size

    def learn(self, text: str, code: str) -> None:
        """Record a dispatcher's choice or correction; the next ``route()`` already uses it.

        Learning the same text again replaces the earlier decision. A code the catalog no
        longer lists is ignored, as in the history: an old ticket of a retired department may
        still be confirmed, and that must not fail the caller.
        """
        if code in self._codes:
            self._history.add([(_key(text), code)])
            if self._history_limit is not None:
                self._history.keep_latest(self._history_limit)

    def usual_departments(self) -> tuple[str, ...]:
        """Every department, those with the most past tickets first (the catalog's order
        among equals): the likeliest ones when a text itself points nowhere."""
        counts = self._history.counts
        return tuple(sorted(self._codes, key=lambda code: -counts[code]))

    @property
    def history_postings(self) -> int:
        """The size of the history's index, in (bigram, past ticket) entries: what memory it
        takes grows with this."""
        return self._history.postings

    def evidence(self, text: str) -> dict[str, dict[str, float]]:
        """Each kind of evidence per department, before weighting (for tuning and display)."""
        key = _key(text)
        grams = _grams(key)
        history = self._history
        near: dict[str, float] = defaultdict(float)
        centroid: dict[str, float] = {}
        if history.size:
            records, weights = history.vector(grams)
            centroid = history.centroid_scores(records, weights, self.tuning.centroid_prior)
            for cosine, code in history.neighbours(records, weights, self.tuning):
                near[code] += cosine
        return {
            "catalog": self._catalog.scores(key, grams),
            "names": self._catalog.name_scores(key),
            "centroid": centroid,
            "neighbours": dict(near),
        }

    def scores(self, text: str) -> dict[str, float]:
        """The weighted evidence per department (0 where there is none)."""
        tuning = self.tuning
        weights = {
            "catalog": tuning.catalog_weight,
            "names": tuning.name_weight,
            "centroid": tuning.centroid_weight,
            "neighbours": tuning.neighbour_weight,
        }
        scores = dict.fromkeys(self._codes, 0.0)
        for kind, per_code in self.evidence(text).items():
            for code, value in per_code.items():
                if code in scores:
                    scores[code] += weights[kind] * value
        return scores

    def _topic(self, text: str) -> dict[str, float]:
        """The text's departments as a unit vector of probability-like weights."""
        power = self.tuning.power
        weights = {code: score**power for code, score in self.scores(text).items() if score > 0}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return {code: w / norm for code, w in weights.items()} if norm else {}

    def similarity(self, a: str, b: str) -> float:
        """``similarity(a, b)`` checked against the topic: two texts that route to different
        departments (a broken street light and uncollected rubbish on the same street) are
        different requests, however many words they share. Within one department a short text
        can still fool it ("小区停水了" and "小区停电了")."""
        lexical = similarity(a, b)
        if not lexical:
            return 0.0
        topic_a, topic_b = self._topic(a), self._topic(b)
        if not topic_a or not topic_b:
            return lexical  # no evidence either way
        agreement = sum(w * topic_b.get(code, 0.0) for code, w in topic_a.items())
        return lexical * (0.2 + 0.8 * agreement)

    def route(self, text: str) -> RoutingDecision:
        """Up to three departments for this text, with probabilities, and the confidence."""
        scores = self.scores(text)
        power, floor = self.tuning.power, self.tuning.floor
        # Ties keep the catalog's order.
        ranked = sorted(
            (code for code in self._codes if scores[code] > 0), key=lambda c: -scores[c]
        )
        if not ranked:
            return RoutingDecision(candidates=(), confidence=0.0, automatic=False)
        top = scores[ranked[0]]
        # Relative to the top score, so large scores cannot overflow.
        mass = {code: (scores[code] / top) ** power for code in ranked}
        total = sum(mass.values()) + (floor / top) ** power
        candidates = tuple(
            RouteCandidate(code, mass[code] / total) for code in ranked[:MAX_CANDIDATES]
        )
        confidence = candidates[0].score
        return RoutingDecision(
            candidates=candidates, confidence=confidence, automatic=confidence >= self.threshold
        )


# Characters that make a bigram say little about the matter ("路灯的", "了好"): grammar words and
# the filler of complaints. A generic list of Chinese function characters, not learned from data.
_FILLER = frozenset(
    "的了是在我你他她们有不这那就都也和与及等个吗呢吧啊呀哦请一下好几还没到把被给让很太"
)
_SIMILARITY_RUN = re.compile(rf"[{CJK}0-9a-z]+")
# Building, house and group numbers: "3栋" and "8栋" are different places, whatever else matches.
_NUMBERED_PLACE = re.compile(r"\d+(?:号楼|号院|号|栋|幢|单元|楼|层|室|组|社|队|巷|弄)")
# Named places: two to four characters before a place word ("尼史村", "金龙街", "阳光小区").
_NAMED_PLACE = re.compile(
    rf"[{CJK}]{{2,4}}?(?:村|街|路|巷|镇|乡|小区|社区|广场|工地|市场|公园|学校|医院|寺)"
)
_NUMERALS = str.maketrans("零〇一二三四五六七八九", "00123456789")


def _compact(text: str) -> str:
    """Normalised text without punctuation or spaces (the processor for rapidfuzz.ratio)."""
    return "".join(_SIMILARITY_RUN.findall(normalise(text)))


def _similarity_grams(text: str) -> dict[str, float]:
    """The set of bigrams (digits included) with a weight: 1, or 0.3 for filler bigrams."""
    grams: dict[str, float] = {}
    for run in _SIMILARITY_RUN.findall(text):
        pairs = map(add, run, run[1:]) if len(run) > 1 else iter((run,))
        for gram in pairs:
            grams[gram] = 0.3 if _FILLER.intersection(gram) else 1.0
    return grams


def similarity(a: str, b: str) -> float:
    """How likely two texts are the same request, 0..1 (for repeat requests and 并单).

    Lexical: the weighted overlap of the two texts' bigram sets, blended with rapidfuzz's
    order-aware ratio, then square-rooted so that a paraphrase sharing a third of its words
    lands above one half. Two texts naming different places (other building numbers, "3栋" and
    "8栋", or other villages and streets) get half. The same place with a different problem
    still scores in the middle: ``DepartmentRouter.similarity`` adds the topic check.
    About 0.5 and up suggests the same request.
    """
    na, nb = normalise(a), normalise(b)
    ga, gb = _similarity_grams(na), _similarity_grams(nb)
    if not ga or not gb:
        return 0.0
    shared = sum(ga[gram] for gram in ga.keys() & gb.keys())
    overlap = shared / math.sqrt(sum(ga.values()) * sum(gb.values()))
    # Below the cutoff two texts share only chance characters; count that as nothing.
    order = fuzz.ratio(na, nb, processor=_compact, score_cutoff=20) / 100
    score = math.sqrt((overlap + order) / 2)
    if _different_places(na, nb):
        score /= 2
    return min(1.0, score)


def _places(text: str) -> tuple[set[str], list[str]]:
    numbered = set(_NUMBERED_PLACE.findall(text.translate(_NUMERALS)))
    named = [place for place in _NAMED_PLACE.findall(text) if not _FILLER.intersection(place[:-1])]
    return numbered, named


def _different_places(a: str, b: str) -> bool:
    """Both texts name places and none of them agree: other houses, other villages."""
    numbered_a, named_a = _places(a)
    numbered_b, named_b = _places(b)
    if numbered_a and numbered_b and not numbered_a & numbered_b:
        return True
    if not named_a or not named_b:
        return False
    # "月光广场" and "古城月光广场" are one place: partial_ratio aligns the shorter name.
    return not any(
        process.extractOne(
            place, named_b, scorer=fuzz.partial_ratio, processor=None, score_cutoff=75
        )
        for place in named_a
    )
