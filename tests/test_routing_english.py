"""Routing of requests written in English (or mixed), and a router's history kept to its size
as the bot learns (issue 21)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import build_hotline
from handlers.catalog import Catalog, load_catalog
from handlers.config import config_from_mapping
from handlers.routing import DepartmentRouter, english_word

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(ROOT / "handlers" / "defaults" / "departments.toml")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("The street light outside my house has been broken for a week", "construction"),
        ("Our village has had no water for three days, the water pipe burst", "construction"),
        ("My boss has not paid my wages for three months", "labour"),
        ("How do I get a new social security card?", "labour"),
        ("My neighbour's dog bites people and the police do nothing", "police"),
        ("Someone stole my motorbike last night", "police"),
        ("Garbage has piled up near the river for days and it stinks", "environment"),
        ("The supermarket sells expired food", "market"),
        ("How do I enrol my child in the primary school?", "school"),
        ("There is a forest fire on the hill, send help", "emergency"),
        ("I am a veteran and want to ask about my benefits", "veterans"),
        ("Our family needs the subsistence allowance, we are poor and elderly", "social_affairs"),
        ("Please ask the Market Supervision Office to check prices", "market"),
        ("村口 street lights 坏了", "construction"),
    ],
)
def test_english_and_mixed_requests_are_routed_by_the_catalog(
    catalog: Catalog, text: str, code: str
) -> None:
    decision = DepartmentRouter(catalog, threshold=0.8).route(text)
    assert decision.department == code, decision


def test_english_words_meet_whichever_number_either_uses() -> None:
    assert [english_word(w) for w in ("lights", "bodies", "wages", "boxes", "bus", "police")] == [
        "light",
        "body",
        "wage",
        "box",
        "bus",
        "police",
    ]


def test_english_words_leave_the_routing_of_chinese_text_as_it_was(catalog: Catalog) -> None:
    """The catalog without its English words routes Chinese text to the same scores."""
    chinese_only = Catalog(
        departments=tuple(
            replace(
                d,
                name_en="",
                aliases=tuple(a for a in d.aliases if not a.isascii()),
                keywords=tuple(k for k in d.keywords if not k.isascii()),
            )
            for d in catalog.departments
        )
    )
    both = DepartmentRouter(catalog, threshold=0.8)
    chinese = DepartmentRouter(chinese_only, threshold=0.8)
    for text in (
        "金龙街路口的路灯坏了好几天，晚上一片漆黑",
        "包工头拖欠我们三个月工资不给，怎么办",
        "我的身份证丢了，怎么补办",
        "规划建设中心什么时候来修路",
    ):
        assert both.scores(text) == chinese.scores(text), text


def test_english_requests_learn_from_history(catalog: Catalog) -> None:
    router = DepartmentRouter(catalog, threshold=0.8)
    text = "The yak herders on the upper meadow keep quarrelling over the boundary stones"
    router.learn("Herders quarrel over the meadow boundary stones again", "natural_resources")
    assert router.route(text).department == "natural_resources"


def test_learning_keeps_the_history_to_its_size(catalog: Catalog) -> None:
    """A running bot learns every dispatch; the router keeps the latest ``history_limit``."""
    router = DepartmentRouter(catalog, threshold=0.8, history_limit=50)
    for day in range(3000):
        router.learn(f"第{day}天 无人机 在小区上空 嗡嗡 飞 编号{day:05d}甲乙", "police")
    assert router.history_size == 50
    kept = router.history_postings
    for day in range(3000, 6000):
        router.learn(f"第{day}天 无人机 在小区上空 嗡嗡 飞 编号{day:05d}甲乙", "police")
    assert router.history_size == 50
    assert router.history_postings <= 2 * kept  # the memory does not grow with what was learnt
    # The latest decisions are the ones kept: a correction still counts at once.
    router.learn("无人机嗡嗡飞", "emergency")
    assert router.route("无人机嗡嗡飞").department == "emergency"


def test_the_oldest_history_goes_first(catalog: Catalog) -> None:
    router = DepartmentRouter(
        catalog,
        threshold=0.8,
        history=[("旧事一桩：风马旗被吹倒了", "culture_tourism")],
        history_limit=1,
    )
    assert router.route("风马旗被吹倒了").department == "culture_tourism"
    router.learn("牦牛跑进了青稞地", "agriculture")
    assert router.history_size == 1
    assert router.route("风马旗被吹倒了").department is None


def test_the_running_bot_keeps_the_configured_history_size() -> None:
    config = config_from_mapping({"routing": {"history_size": 3}})
    hotline = build_hotline(config, secret="token", history=[])
    for index in range(10):
        hotline.router.learn(f"无人机第{index}次在小区上空飞", "police")
    assert hotline.router.history_size == 3
