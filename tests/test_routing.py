"""Routing requests to departments, learning from dispatchers, and telling repeats apart.

Every request text here was written for these tests (none comes from the shared data).
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from rapidfuzz import fuzz

from handlers.catalog import Catalog, catalog_from_mapping, load_catalog
from handlers.routing import DepartmentRouter, RoutingTuning, _CatalogIndex, normalise, similarity

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(ROOT / "handlers" / "defaults" / "departments.toml")


@pytest.fixture
def router(catalog: Catalog) -> DepartmentRouter:
    return DepartmentRouter(catalog, threshold=0.8)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("金龙街路口的路灯坏了好几天，晚上一片漆黑", "construction"),
        ("我们村已经停水三天了，什么时候恢复供水？", "construction"),
        ("小区的下水道堵了，污水流到路上", "construction"),
        ("包工头拖欠我们三个月工资不给，怎么办", "labour"),
        ("社保卡丢了怎么补办", "labour"),
        ("我家是低保户，今年的低保金还没发", "social_affairs"),
        ("家里的老人八十多岁了，高龄补贴怎么申请", "social_affairs"),
        ("邻居占了我家的宅基地修房子", "natural_resources"),
        ("邻居和我家因为修围墙吵起来了，希望帮忙调解", "mediation"),
        ("我的身份证丢了，怎么补办", "police"),
        ("昨晚我家的摩托车被偷了", "police"),
        ("孩子明年上小学，怎么报名？", "school"),
        ("超市卖过期食品，吃了拉肚子", "market"),
        ("垃圾桶满了好几天没人清运", "environment"),
        ("普达措景区门票价格怎么这么贵，导游还强制购物", "culture_tourism"),
        ("医保报销需要准备哪些材料", "health"),
        ("牦牛得了病，想找兽医来看看", "agriculture"),
        ("山上着火了，赶快派人来", "emergency"),
        ("我是退伍军人，想咨询优抚政策", "veterans"),
        ("镇政府办事大厅的工作人员服务态度很差", "party_office"),
    ],
)
def test_obvious_requests_on_the_default_catalog(
    router: DepartmentRouter, text: str, code: str
) -> None:
    decision = router.route(text)
    assert decision.department == code, decision


def test_decision_shape(router: DepartmentRouter) -> None:
    decision = router.route("小区门口的路灯不亮，旁边的垃圾也没人清运，下水道还堵了")
    assert 1 <= len(decision.candidates) <= 3
    scores = [candidate.score for candidate in decision.candidates]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= score <= 1 for score in scores)
    assert decision.confidence == scores[0]
    assert decision.department == decision.candidates[0].code


def test_nothing_to_go_on(router: DepartmentRouter) -> None:
    decision = router.route("你好？？")
    assert decision.candidates == ()
    assert decision.department is None
    assert decision.confidence == 0
    assert not decision.automatic


def test_department_name_mentioned_with_a_slip(router: DepartmentRouter) -> None:
    # "规划建设服务中心" is the official name without "村镇"; fuzzy name matching finds it.
    assert router.route("请规划建设服务中心来看看").department == "construction"


def test_threshold_decides_automatic(catalog: Catalog) -> None:
    text = "我是退伍军人，想咨询优抚政策"
    eager = DepartmentRouter(catalog, threshold=0.0).route(text)
    cautious = DepartmentRouter(catalog, threshold=1.0).route(text)
    assert eager.confidence == cautious.confidence < 1
    assert eager.automatic
    assert not cautious.automatic
    at_confidence = DepartmentRouter(catalog, threshold=eager.confidence).route(text)
    assert at_confidence.automatic  # confidence >= threshold


def test_more_evidence_more_confidence(router: DepartmentRouter) -> None:
    weak = router.route("昨晚我家的摩托车被偷了")
    strong = router.route("昨晚我家的摩托车被偷了，小偷还撬了门，请派出所尽快来处理，已经报警了")
    assert weak.department == strong.department == "police"
    assert strong.confidence > weak.confidence
    assert not weak.automatic


@pytest.mark.parametrize("threshold", [-0.1, 1.5])
def test_threshold_must_be_a_probability(catalog: Catalog, threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        DepartmentRouter(catalog, threshold=threshold)


def test_a_correction_counts_at_once(router: DepartmentRouter) -> None:
    first = "松茸收购点压价还乱收费，一斤少给二十块"
    later = "收购点收松茸乱收费，价格压得太低"
    assert router.route(later).department == "market"
    # The dispatcher decides such complaints belong to the agriculture centre.
    router.learn(first, "agriculture")
    assert router.history_size == 1
    assert router.route(later).department == "agriculture"
    # An unrelated request is not dragged along.
    assert router.route("超市卖过期食品，吃了拉肚子").department == "market"


def test_learning_the_same_text_again_replaces_the_decision(router: DepartmentRouter) -> None:
    text = "集市上有人占道摆摊，车子过不去"
    router.learn(text, "market")
    router.learn(text, "construction")
    assert router.history_size == 1
    assert router.route(text).department == "construction"


def test_learn_ignores_unknown_codes(router: DepartmentRouter) -> None:
    router.learn("仓库着火了，火很大", "fire_brigade")  # a department since removed
    assert router.history_size == 0
    assert router.route("仓库着火了，火很大").department == "emergency"


def test_history_of_removed_departments_is_ignored(catalog: Catalog) -> None:
    history = [
        ("集市上有人占道摆摊，车子过不去", "town_management"),  # no longer in the catalog
        ("集市门口又有人占道摆摊", "town_management"),
        ("低保金这个月还没发", "social_affairs"),
    ]
    router = DepartmentRouter(catalog, threshold=0.8, history=history)
    assert router.history_size == 1
    for text, _ in history:
        assert all(c.code in catalog.codes for c in router.route(text).candidates)


def test_history_is_used(catalog: Catalog) -> None:
    text = "集市上有人占道摆摊，车子过不去"
    without = DepartmentRouter(catalog, threshold=0.8).route(text)
    history = [
        ("集市上天天有人占道摆摊，堵得车子过不去", "party_office"),
        ("周五赶集的摊位把路都占了", "party_office"),
        ("集市摆摊的人太多，路都堵死了", "party_office"),
    ]
    with_history = DepartmentRouter(catalog, threshold=0.8, history=history).route(text)
    assert without.department != "party_office"
    assert with_history.department == "party_office"


def test_catalog_only_routing_without_aliases() -> None:
    catalog = catalog_from_mapping(
        {
            "departments": [
                {"code": "water", "name_zh": "供水站", "name_en": "Water", "keywords": ["停水"]},
                {"code": "roads", "name_zh": "道路办", "name_en": "Roads", "keywords": ["路灯"]},
            ]
        }
    )
    router = DepartmentRouter(catalog, threshold=0.5)
    assert router.route("家里又停水了").department == "water"
    assert router.route("路灯不亮").department == "roads"


def test_routes_and_learns_over_thousands_of_tickets(catalog: Catalog) -> None:
    """With 5,000 tickets of history the router still routes by it and learns at once (how
    fast: `python -m bench.routing`, 10,000 real texts; no timing belongs in a test)."""
    places = ["金龙街", "长征路", "尼史村", "团结村", "阳光小区", "红旗工地", "吉迪村", "北门"]
    problems = [
        ("的路灯坏了，晚上一片漆黑", "construction"),
        ("停水好几天了", "construction"),
        ("垃圾没人清运，臭气熏天", "environment"),
        ("老板拖欠工资不给", "labour"),
        ("有人半夜吵闹", "police"),
        ("的饭店卖过期食品", "market"),
    ]
    history = [
        (f"{places[i % 8]}{i}号{problems[i % 6][0]}，第{i}次反映", problems[i % 6][1])
        for i in range(5000)
    ]
    router = DepartmentRouter(catalog, threshold=0.8, history=history)
    assert router.history_size == 5000
    for i in range(100):
        problem, code = problems[(i + 1) % 6]
        assert router.route(f"{places[i % 8]}{problem}").department == code
    unusual = "阳光小区新装的充电桩一直没通电"
    router.learn(unusual, "market")
    assert router.route(unusual).department == "market"


def test_tuning_is_optional_and_visible(catalog: Catalog) -> None:
    router = DepartmentRouter(catalog, threshold=0.8, tuning=RoutingTuning(neighbours=3))
    assert router.tuning.neighbours == 3


def test_engine_is_framework_free() -> None:
    code = (
        "import sys, handlers.routing, handlers.catalog;"
        "print(sorted({m.split('.')[0] for m in sys.modules}"
        " & {'aiogram', 'telegram', 'sqlalchemy', 'pydantic'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- similarity

SAME_REQUEST = [
    (
        "建塘镇金龙街路口的路灯坏了，晚上一片漆黑，走路很危险。",
        "金龙街路口路灯不亮好几天了，晚上走路看不见，请尽快修一下",
    ),
    ("我家住在尼史村，这三天一直停水，没有水喝。", "尼史村连续停水三天了，请尽快恢复供水"),
    (
        "古城北门旁边的饭店油烟很大，熏得我们没法开窗。",
        "北门那家饭店排油烟太严重了，家里窗户都不敢开",
    ),
    (
        "我在红旗工地干了半年活，老板拖欠工资两万元不给。",
        "红旗工地老板欠我两万元工资，半年了还没发",
    ),
    ("长征路上的垃圾桶满了好几天没人清运，臭气熏天。", "长征路垃圾好几天没人清理，味道很大"),
    ("团结村到县城的公路塌方了，车过不去。", "团结村公路发生塌方，车辆无法通行，请派人处理"),
    ("阳光小区3栋楼下的下水道堵了，污水流到路上。", "阳光小区3栋下水道堵塞，污水漫到路面上了"),
    (
        "我申请的低保已经三个月了还没有消息，想问一下进度。",
        "三个月前申请了低保，到现在没消息，请问办到哪一步了",
    ),
    ("晚上十二点以后广场上还有人跳舞放音乐，太吵了。", "广场舞音乐半夜十二点还在放，吵得睡不着觉"),
]
DIFFERENT_PROBLEM = [
    ("金龙街路口的路灯坏了。", "我想咨询一下孩子上小学怎么报名。"),
    ("尼史村停水三天了。", "医保报销需要准备哪些材料？"),
    ("老板拖欠工资两万元。", "景区门票价格是多少？"),
    ("古城饭店油烟很大。", "我家的牦牛走丢了，请帮忙找一下。"),
    ("长征路垃圾没人清理。", "我的身份证丢了怎么补办？"),
]
SAME_PLACE_OTHER_PROBLEM = [
    ("金龙街路口的路灯坏了，晚上一片漆黑。", "金龙街路口的垃圾堆了好几天没人清理。"),
    ("尼史村这三天一直停水。", "尼史村的村干部不公开低保名单。"),
    ("阳光小区3栋楼下的下水道堵了。", "阳光小区3栋楼下有人养狗半夜一直叫。"),
    ("长征路上的垃圾桶满了没人清运。", "长征路上有辆车违章停车堵了消防通道。"),
    ("红旗工地老板拖欠工资不给。", "红旗工地晚上施工噪音太大影响休息。"),
]
SAME_PROBLEM_OTHER_PLACE = [
    ("金龙街路口的路灯坏了，晚上一片漆黑。", "长征路中段的路灯坏了，晚上一片漆黑。"),
    ("尼史村这三天一直停水。", "吉迪村这三天一直停水。"),
    ("阳光小区3栋楼下的下水道堵了。", "阳光小区8栋楼下的下水道堵了。"),
]


@pytest.mark.parametrize(("a", "b"), SAME_REQUEST)
def test_paraphrases_of_one_request_score_high(a: str, b: str) -> None:
    assert similarity(a, b) >= 0.5
    assert similarity(a, b) == pytest.approx(similarity(b, a))


@pytest.mark.parametrize(("a", "b"), DIFFERENT_PROBLEM)
def test_different_problems_score_low(a: str, b: str) -> None:
    assert similarity(a, b) < 0.15


@pytest.mark.parametrize(("a", "b"), SAME_PROBLEM_OTHER_PLACE)
def test_the_same_problem_elsewhere_is_another_request(a: str, b: str) -> None:
    assert similarity(a, b) < 0.5
    assert similarity(a, b) < similarity(a, a) / 2 + 0.01


def test_identical_and_empty_texts() -> None:
    text = "金龙街路口的路灯坏了"
    assert similarity(text, " " + text + "。") == pytest.approx(1.0)
    assert similarity(text, "") == 0.0
    assert similarity("？？", "！！") == 0.0


@pytest.mark.parametrize(("a", "b"), SAME_PLACE_OTHER_PROBLEM)
def test_router_similarity_checks_the_topic(router: DepartmentRouter, a: str, b: str) -> None:
    # Lexically these share the place; the departments tell the problems apart.
    assert router.similarity(a, b) < 0.3
    assert router.similarity(a, b) < similarity(a, b)


@pytest.mark.parametrize(("a", "b"), SAME_REQUEST)
def test_router_similarity_keeps_repeats(router: DepartmentRouter, a: str, b: str) -> None:
    assert router.similarity(a, b) >= 0.5


def test_name_mentions_found_as_by_comparing_every_name(catalog: Catalog) -> None:
    """Names are compared only where enough of their characters occur in the text: the
    results must be those of comparing every name. Texts mix names with a character or two
    dropped, changed or added (the slips the comparison exists for) into filler."""
    tuning = RoutingTuning()
    index = _CatalogIndex(catalog, tuning.name_cutoff)
    # English names and aliases are matched as words (catalog terms), not fuzzily.
    chinese = [
        (normalise(name), department.code)
        for department in catalog.departments
        for name in (department.name_zh, *department.aliases)
        if not name.isascii()
    ]
    names = [name for name, _ in chinese]
    codes = [code for _, code in chinese]
    rng = random.Random(12345)
    filler = "".join(sorted(set("".join(names)))) + "的了是我们在有村路街小区反映问题"

    def slip(name: str) -> str:
        chars = list(name)
        for _ in range(rng.randint(0, 2)):
            at = rng.randrange(len(chars))
            match rng.choice(("drop", "change", "add")):
                case "drop" if len(chars) > 1:
                    del chars[at]
                case "change":
                    chars[at] = rng.choice(filler)
                case _:
                    chars.insert(at, rng.choice(filler))
        return "".join(chars)

    mentioned = 0
    for _ in range(3000):
        parts = [
            "".join(rng.choice(filler) for _ in range(rng.randint(0, 30))),
            *(slip(rng.choice(names)) for _ in range(rng.randint(0, 2))),
            "".join(rng.choice(filler) for _ in range(rng.randint(0, 30))),
        ]
        text = normalise("".join(parts))
        expected: dict[str, float] = {}
        for name, code in zip(names, codes, strict=True):
            if len(name) < 3:
                continue
            score = fuzz.partial_ratio(text, name, processor=None)
            if score >= tuning.name_cutoff:
                expected[code] = max(expected.get(code, 0.0), score / 100)
        assert index.name_scores(text) == expected, text
        mentioned += bool(expected)
    assert mentioned > 1000  # the texts did test mentions, not only their absence
