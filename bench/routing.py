"""Routing benchmark: ``python -m bench.routing`` from the project root.

1. Builds a department catalog from the three-level taxonomy (one department per first-level
   category, keywords from the second- and third-level names) and writes it to
   ``bench/catalogs/taxonomy.toml``.
2. Routes the 250 labelled dev messages with 5-fold stratified cross-validation (fixed seed):
   the other four folds are the history. Prints top-1/top-3 accuracy, precision and coverage of
   automatic dispatch over thresholds, and catalog-only accuracy.
3. Times ``route()`` with 10,000 history tickets and 10,000 ``learn()`` calls.

The data stay in ``HOTLINE_DATA`` (default ``/work/shared/data``); nothing from it but the
taxonomy's category names is written into the project.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import random
import re
import resource
import statistics
import sys
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handlers.catalog import Catalog, catalog_from_mapping, load_catalog
from handlers.routing import (
    MAX_ROUTED_CHARS,
    DepartmentRouter,
    RoutingDecision,
    RoutingTuning,
    normalise,
)

DATA = Path(os.environ.get("HOTLINE_DATA", "/work/shared/data"))
CATALOG_OUT = Path(__file__).with_name("catalogs") / "taxonomy.toml"
SEED = 12345
OTHER_SEEDS = (1, 2, 3, 4)  # the same cross-validation with other folds, to show the spread
FOLDS = 5
DEFAULT_THRESHOLD = 0.8

# Codes and English names for the taxonomy's 15 first-level categories. A category missing here
# (another taxonomy) still gets a stable code, d01, d02, ... by its position.
CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "城乡建设": ("urban-rural-construction", "Urban and Rural Construction"),
    "环境保护": ("environment", "Environmental Protection"),
    "交通运输": ("transport", "Transport"),
    "经济管理": ("economy", "Economic Management"),
    "党务政务": ("party-government", "Party and Government Affairs"),
    "国土资源": ("land-resources", "Land and Resources"),
    "纪检监察": ("discipline", "Discipline Inspection and Supervision"),
    "科技与信息产业": ("science-it", "Science, Technology and Information Industry"),
    "民政": ("civil-affairs", "Civil Affairs"),
    "农村农业": ("agriculture", "Agriculture and Rural Affairs"),
    "商贸旅游": ("commerce-tourism", "Commerce, Trade and Tourism"),
    "卫生计生": ("health", "Health and Family Planning"),
    "政法": ("politics-law", "Politics and Law"),
    "教育文体": ("education-culture-sports", "Education, Culture and Sports"),
    "劳动和社会保障": ("labour-social-security", "Labour and Social Security"),
}

# Taxonomy words that name no subject at all ("其他" = other, "管理" = management, ...); as
# keywords they would only add noise. A generic list, not drawn from any request text.
GENERIC_WORDS = frozenset(
    {"其他", "管理", "问题", "工作", "处理", "使用", "相关", "服务", "事务", "政策", "监管"}
)
# Names like "住房保障与房地产" or "房产证登记、办理" list several subjects.
_SEPARATORS = re.compile(r"[、，,/及与和“”\"()（）\s]+")


# --------------------------------------------------------------------------- catalog


def _quiet_jieba() -> Any:
    """jieba, imported and initialised without its log lines or pkg_resources warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
    return jieba


def _keywords(names: Iterable[str], jieba: Any) -> list[str]:
    """Whole names, their listed parts, and the dictionary words inside each part."""
    found: dict[str, None] = {}
    for name in names:
        for piece in (name, *_SEPARATORS.split(name)):
            if len(piece) < 2 or piece in GENERIC_WORDS:
                continue
            found[piece] = None
            for word in jieba.lcut(piece, HMM=False):
                if len(word) >= 2 and word not in GENERIC_WORDS:
                    found[word] = None
    return list(found)


def taxonomy_catalog(rows: Sequence[dict[str, str]], threshold: float) -> dict[str, Any]:
    """A catalog mapping (as in TOML): one department per first-level category."""
    jieba = _quiet_jieba()
    names: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        names[row["level1"]].extend(
            name for name in (row["level2"], row["level3"]) if name and name != "其他"
        )
    departments = []
    for position, (category, subnames) in enumerate(names.items(), start=1):
        code, name_en = CATEGORY_NAMES.get(category, (f"d{position:02d}", category))
        departments.append(
            {
                "code": code,
                "name_zh": category,
                "name_en": name_en,
                "aliases": [],
                # The category's own name first ("劳动和社会保障" -> 劳动, 社会保障, ...).
                "keywords": _keywords([category, *dict.fromkeys(subnames)], jieba),
            }
        )
    return {"routing": {"auto_dispatch_threshold": threshold}, "departments": departments}


def _toml_value(value: Any) -> str:
    # JSON strings (with ensure_ascii off) are valid TOML basic strings.
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def catalog_toml(data: dict[str, Any], source: str) -> str:
    """The catalog as TOML text, one department per table, keywords wrapped for review."""
    lines = [
        f"# Generated by `python -m bench.routing` from {source}; do not edit by hand.",
        "# One department per first-level category; keywords from its second- and",
        "# third-level names.",
        "",
        "[routing]",
        f"auto_dispatch_threshold = {data['routing']['auto_dispatch_threshold']}",
    ]
    for department in data["departments"]:
        lines += ["", "[[departments]]"]
        for key in ("code", "name_zh", "name_en", "aliases"):
            lines.append(f"{key} = {_toml_value(department[key])}")
        lines.append("keywords = [")
        words = department["keywords"]
        for start in range(0, len(words), 8):
            lines.append("    " + ", ".join(_toml_value(w) for w in words[start : start + 8]) + ",")
        lines.append("]")
    return "\n".join(lines) + "\n"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def request_text(row: dict[str, str]) -> str:
    subject = (row.get("subject") or "").strip()
    return f"{subject}\n{row['text']}" if subject else row["text"]


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # a department code


def stratified_folds(labels: Sequence[str], folds: int, seed: int) -> list[int]:
    """Fold number per example: each label shuffled, then dealt round-robin."""
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        by_label[label].append(index)
    assignment = [0] * len(labels)
    turn = 0
    for label in sorted(by_label):
        indexes = by_label[label]
        rng.shuffle(indexes)
        for index in indexes:
            assignment[index] = turn % folds
            turn += 1
    return assignment


def cross_validate(
    catalog: Catalog,
    examples: Sequence[Example],
    *,
    tuning: RoutingTuning | None = None,
    with_history: bool = True,
    seed: int = SEED,
) -> list[RoutingDecision]:
    """A decision per example, each routed with the other folds as history."""
    fold_of = stratified_folds([e.label for e in examples], FOLDS, seed)
    decisions: list[RoutingDecision | None] = [None] * len(examples)
    for fold in range(FOLDS):
        history = (
            [(e.text, e.label) for e, f in zip(examples, fold_of, strict=True) if f != fold]
            if with_history
            else []
        )
        router = DepartmentRouter(catalog, threshold=0.0, history=history, tuning=tuning)
        for index, example in enumerate(examples):
            if fold_of[index] == fold:
                decisions[index] = router.route(example.text)
    return [decision for decision in decisions if decision is not None]


@dataclass(frozen=True)
class Scores:
    top1: float
    top3: float

    @classmethod
    def of(cls, examples: Sequence[Example], decisions: Sequence[RoutingDecision]) -> Scores:
        top1 = top3 = 0
        for example, decision in zip(examples, decisions, strict=True):
            codes = [c.code for c in decision.candidates]
            top1 += bool(codes) and codes[0] == example.label
            top3 += example.label in codes
        return cls(top1 / len(examples), top3 / len(examples))


def dispatch_at(
    examples: Sequence[Example], decisions: Sequence[RoutingDecision], threshold: float
) -> tuple[float, float, int]:
    """Precision and coverage of automatic dispatch at a threshold, and how many went."""
    sent = [
        example.label == decision.department
        for example, decision in zip(examples, decisions, strict=True)
        if decision.confidence >= threshold
    ]
    precision = sum(sent) / len(sent) if sent else 1.0
    return precision, len(sent) / len(examples), len(sent)


def choose_threshold(
    examples: Sequence[Example], decisions: Sequence[RoutingDecision], target: float = 0.95
) -> float:
    """The lowest threshold on a 0.05 grid whose precision, and every higher one's, meets
    the target (a threshold where precision only briefly dips above the target is luck)."""
    grid = [round(0.05 * step, 2) for step in range(1, 20)]
    chosen = grid[-1]
    for threshold in reversed(grid):
        if dispatch_at(examples, decisions, threshold)[0] < target:
            break
        chosen = threshold
    return chosen


def learning_curve(
    catalog: Catalog, examples: Sequence[Example], sizes: Sequence[int], threshold: float
) -> list[tuple[int, float, float, float]]:
    """(history size, top-1, dispatch precision, coverage) with a random part of the other
    folds as history: how the router does early on, before much history exists."""
    fold_of = stratified_folds([e.label for e in examples], FOLDS, SEED)
    rng = random.Random(SEED)
    rows = []
    for size in sizes:
        decisions: list[RoutingDecision | None] = [None] * len(examples)
        for fold in range(FOLDS):
            pool = [(e.text, e.label) for e, f in zip(examples, fold_of, strict=True) if f != fold]
            history = rng.sample(pool, min(size, len(pool)))
            router = DepartmentRouter(catalog, threshold=threshold, history=history)
            for index, example in enumerate(examples):
                if fold_of[index] == fold:
                    decisions[index] = router.route(example.text)
        done = [d for d in decisions if d is not None]
        precision, coverage, _ = dispatch_at(examples, done, threshold)
        rows.append((size, Scores.of(examples, done).top1, precision, coverage))
    return rows


def online(
    catalog: Catalog, examples: Sequence[Example], threshold: float
) -> tuple[float, float, float]:
    """Start with no history; route each message (shuffled), then learn its department, as a
    dispatcher's confirmation or correction would. (top-1, dispatch precision, coverage)."""
    order = list(range(len(examples)))
    random.Random(SEED).shuffle(order)
    router = DepartmentRouter(catalog, threshold=threshold)
    ordered = [examples[i] for i in order]
    decisions = []
    for example in ordered:
        decisions.append(router.route(example.text))
        router.learn(example.text, example.label)
    precision, coverage, _ = dispatch_at(ordered, decisions, threshold)
    return Scores.of(ordered, decisions).top1, precision, coverage


# --------------------------------------------------------------------------- timing


@dataclass(frozen=True)
class Timing:
    build_ms: float
    route_ms: list[float]  # sorted
    learn_ms: float
    memory_mb: float


def timing_history(
    examples: Sequence[Example], filler: Sequence[str], codes: Sequence[str], size: int
) -> list[tuple[str, str]]:
    """The real messages with their labels, then unlabeled texts with random labels; past the
    end of those, the texts again with a line added, so that every ticket is distinct."""
    rng = random.Random(SEED)
    history = [(e.text, e.label) for e in examples]
    # The router treats a text it has seen as the same ticket; the timing wants distinct ones.
    seen = {normalise(text)[:MAX_ROUTED_CHARS] for text, _ in history}
    round_ = 0
    while len(history) < size:
        for text in filler:
            if len(history) == size:
                break
            ticket = f"{text}\n补充说明{round_}" if round_ else text
            key = normalise(ticket)[:MAX_ROUTED_CHARS]
            if key not in seen:
                seen.add(key)
                history.append((ticket, rng.choice(codes)))
        round_ += 1
    return history


def time_routing(
    catalog: Catalog, history: Sequence[tuple[str, str]], queries: Sequence[str]
) -> Timing:
    """Build a router on the history, route the queries one by one, then learn the history
    one ticket at a time into a fresh router."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    router = DepartmentRouter(catalog, threshold=DEFAULT_THRESHOLD, history=history)
    build_ms = (time.perf_counter() - started) * 1000
    memory_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / 1024
    route_ms = []
    for text in queries:
        started = time.perf_counter()
        router.route(text)
        route_ms.append((time.perf_counter() - started) * 1000)
    del router
    learner = DepartmentRouter(catalog, threshold=DEFAULT_THRESHOLD)
    started = time.perf_counter()
    for text, code in history:
        learner.learn(text, code)
    learn_ms = (time.perf_counter() - started) * 1000
    assert learner.history_size == len(history)
    return Timing(build_ms, sorted(route_ms), learn_ms, memory_mb)


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.routing", description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--no-write", action="store_true", help="don't rewrite the catalog")
    parser.add_argument("--no-timing", action="store_true")
    args = parser.parse_args(argv)

    taxonomy = read_csv(args.data / "routing" / "taxonomy.csv")
    try:
        mapping = taxonomy_catalog(taxonomy, DEFAULT_THRESHOLD)
    except ModuleNotFoundError as exc:  # jieba splits the names; the engine doesn't need it
        print(f"{exc.name} is not installed: using the committed {CATALOG_OUT}")
        catalog = load_catalog(CATALOG_OUT)
    else:
        catalog = catalog_from_mapping(mapping)
        if not args.no_write:
            CATALOG_OUT.parent.mkdir(parents=True, exist_ok=True)
            CATALOG_OUT.write_text(catalog_toml(mapping, "routing/taxonomy.csv"), encoding="utf-8")
            catalog = load_catalog(CATALOG_OUT)
    by_name = {d.name_zh: d.code for d in catalog.departments}

    rows = read_csv(args.data / "routing" / "dev.csv")
    examples = [Example(request_text(row), by_name[row["label"]]) for row in rows]
    labels = Counter(row["label"] for row in rows)
    print(
        f"catalog: {len(catalog.departments)} departments, "
        f"{sum(len(d.keywords) for d in catalog.departments)} keywords -> {CATALOG_OUT}"
    )
    print(
        f"dev: {len(examples)} messages, {len(labels)} labels; "
        f"{FOLDS}-fold cross-validation, stratified by label, seed {SEED}"
    )

    decisions = cross_validate(catalog, examples)
    scores = Scores.of(examples, decisions)
    catalog_only = Scores.of(examples, cross_validate(catalog, examples, with_history=False))
    threshold = catalog.auto_dispatch_threshold or DEFAULT_THRESHOLD
    precision, coverage, sent = dispatch_at(examples, decisions, threshold)
    print()
    print(f"top-1 accuracy            {scores.top1:.3f}")
    print(f"top-3 accuracy            {scores.top3:.3f}")
    print(
        f"automatic dispatch at {threshold:.2f}: precision {precision:.3f}, "
        f"coverage {coverage:.3f} ({sent}/{len(examples)})"
    )
    print(f"catalog only (no history) top-1 {catalog_only.top1:.3f}, top-3 {catalog_only.top3:.3f}")
    spread = []
    for seed in OTHER_SEEDS:
        other = cross_validate(catalog, examples, seed=seed)
        spread.append((Scores.of(examples, other), dispatch_at(examples, other, threshold)))
    print(
        f"other fold seeds {', '.join(map(str, OTHER_SEEDS))}: "
        f"top-1 {min(s.top1 for s, _ in spread):.3f}-{max(s.top1 for s, _ in spread):.3f}, "
        f"top-3 {min(s.top3 for s, _ in spread):.3f}-{max(s.top3 for s, _ in spread):.3f}, "
        f"dispatch precision {min(d[0] for _, d in spread):.3f}-"
        f"{max(d[0] for _, d in spread):.3f}, "
        f"coverage {min(d[1] for _, d in spread):.3f}-{max(d[1] for _, d in spread):.3f}"
    )
    print()
    print("threshold  precision  coverage")
    for step in range(3, 20):
        t = round(0.05 * step, 2)
        p, c, n = dispatch_at(examples, decisions, t)
        print(f"  {t:4.2f}     {p:6.3f}    {c:6.3f}  ({n})")
    print(
        f"lowest threshold with precision >= 0.95 from there up: "
        f"{choose_threshold(examples, decisions):.2f}"
    )
    print()
    print(f"less history (random part of the other folds), dispatch at {threshold:.2f}:")
    print("  history  top-1  precision  coverage")
    for size, top1, p, c in learning_curve(catalog, examples, (0, 25, 50, 100, 200), threshold):
        print(f"  {size:7d}  {top1:.3f}  {p:9.3f}  {c:8.3f}")
    top1, p, c = online(catalog, examples, threshold)
    print(
        f"online from empty history (route, then learn each message): top-1 {top1:.3f}, "
        f"dispatch precision {p:.3f}, coverage {c:.3f}"
    )

    if not args.no_timing:
        filler = [request_text(row) for row in read_csv(args.data / "requests" / "unlabeled.csv")]
        history = timing_history(examples, filler, catalog.codes, 10_000)
        queries = [e.text for e in examples] + filler[-250:]
        timing = time_routing(catalog, history, queries)
        route_ms = timing.route_ms
        print()
        print(
            f"timing with {len(history):,} history tickets ({len(examples)} real + unlabeled "
            "texts with random labels), wall clock on this machine:"
        )
        print(
            f"  build the router      {timing.build_ms:8.0f} ms "
            f"(peak memory +{timing.memory_mb:.0f} MB)"
        )
        print(
            f"  route() x {len(route_ms)}        {statistics.mean(route_ms):8.2f} ms mean, "
            f"{statistics.median(route_ms):.2f} median, "
            f"{route_ms[int(0.95 * len(route_ms))]:.2f} p95, {route_ms[-1]:.2f} max"
        )
        print(
            f"  learn() x {len(history):,}     {timing.learn_ms:8.0f} ms "
            f"({timing.learn_ms / len(history):.3f} ms each, from an empty router)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
