"""通报: the 热点 are found among real requests, and the 通报 says the period's figures.

The fixtures are built at test time from ../shared/data/requests/unlabeled.csv when it is
there (real citizens' requests, not copied into the project; synthetic ones otherwise): 80
requests drawn at random, among which three topics are planted — variants of three other
requests, sent by 8, 6 and 4 different citizens — and one citizen repeating a fourth request
ten times. The 热点 must be the three topics, largest first; the repeater is one voice, not a
热点.
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path

from handlers.briefing import Request, bigrams, dice, format_briefing_text, hotspots
from handlers.config import Targets
from handlers.model import Language, RequestType, TicketStatus
from handlers.reports import Period
from scheduler.calendar import SHANGHAI
from storage.briefing import build_briefing
from storage.database import Database
from storage.models import CitizenRow, TicketRow

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "requests" / "unlabeled.csv"

_SYNTHETIC_TOPICS = [
    "小区门口的路灯坏了好几天，晚上一片漆黑，老人孩子出行很不安全，请尽快维修",
    "工地夜间施工噪音太大，凌晨两点还在打桩，周边居民无法休息，请相关部门查处",
    "公司拖欠工资三个月，老板一直推脱不给，工人生活困难，请劳动部门帮忙讨薪",
    "菜市场旁边垃圾堆积没人清运，气味难闻还招苍蝇，影响周边商户和居民生活",
    "学校附近的十字路口没有红绿灯，上下学时段车辆很多，学生过马路非常危险",
    "自来水水质发黄有异味，已经持续一周，烧开后有沉淀，担心影响家人健康",
    "楼上住户长期在阳台养鸽子，羽毛粪便到处飞，严重影响楼下住户开窗通风",
    "村里的道路坑洼不平，下雨天积水严重，电动车经常摔倒，希望尽快修缮路面",
]


def _texts() -> list[str]:
    """Real requests when the shared data is there (the development machine), else the
    synthetic topics among fillers of random characters that resemble nothing else."""
    if DATA.exists():
        with DATA.open(encoding="utf-8") as handle:
            return [row["text"] for row in csv.DictReader(handle) if len(row["text"]) >= 40]
    rng = random.Random(5)
    common = [chr(code) for code in range(0x4E00, 0x4E00 + 3000)]
    fillers = ["".join(rng.choices(common, k=rng.randrange(40, 100))) for _ in range(100)]
    return _SYNTHETIC_TOPICS + fillers


def _variant(text: str, rng: random.Random, n: int) -> str:
    """The same request as another citizen words it: another greeting, a clause left out,
    another ending."""
    greetings = ["您好，", "你好！", "领导好，", "", "请问，", "反映一个问题："]
    endings = ["谢谢！", "请尽快处理。", "希望早日解决。", "", "盼复。", "麻烦了。"]
    body = text[:150]
    cut = rng.randrange(len(body) // 2, len(body))
    body = body[:cut] if n % 2 else body
    return greetings[n % len(greetings)] + body + endings[(n * 5) % len(endings)]


def test_planted_topics_are_the_hotspots_and_a_repeater_is_not() -> None:
    rng = random.Random(19)
    texts = _texts()
    rng.shuffle(texts)
    seeds, others = texts[:4], texts[4:84]
    requests: list[Request] = []
    citizen = 1000

    def add(text: str, citizen_id: int, department: str) -> None:
        requests.append(Request(len(requests) + 1, citizen_id, text, department))

    for text in others:
        citizen += 1
        add(text, citizen, "misc")
    planted = {0: 8, 1: 6, 2: 4}
    for index, citizens in planted.items():
        for n in range(citizens):
            citizen += 1
            add(_variant(seeds[index], rng, n), citizen, "roads" if n % 3 else "labour")
    for n in range(10):  # one citizen, ten times the same complaint
        add(_variant(seeds[3], rng, n), 999, "roads")
    rng.shuffle(requests)

    found = hotspots(requests)
    sizes = [(spot.citizens, spot.tickets) for spot in found]
    assert sizes[:3] == [(8, 8), (6, 6), (4, 4)]
    for spot, topic in zip(found, seeds, strict=False):
        assert dice(bigrams(spot.text), bigrams(topic)) > 0.6  # the representative is the topic
    assert found[0].departments == ("roads", "labour")  # most tickets first
    # The repeater is one citizen: never a 热点, however many times he writes.
    repeated = bigrams(seeds[3])
    assert all(dice(bigrams(spot.text), repeated) < 0.6 for spot in found)
    # Whatever else clustered among the 80 real requests is smaller than the planted topics.
    assert all(spot.citizens < 4 for spot in found[3:])


def test_the_order_of_arrival_does_not_change_the_hotspots() -> None:
    rng = random.Random(7)
    base = _SYNTHETIC_TOPICS[:3]
    requests = [Request(i, i, _variant(base[i % 3], rng, i), "roads") for i in range(1, 13)]
    first = [(s.citizens, s.tickets) for s in hotspots(requests)]
    assert first == [(4, 4), (4, 4), (4, 4)]
    assert [(s.citizens, s.tickets) for s in hotspots(list(reversed(requests)))] == first


def test_a_hotspot_shows_no_phone() -> None:
    text = "小区门口的路灯坏了好几天，晚上一片漆黑，请联系我 13812345678"
    requests = [Request(i, i, text, "roads") for i in range(1, 4)]
    [spot] = hotspots(requests)
    assert "13812345678" not in spot.text
    assert "138****5678" in spot.text


def test_the_briefing_from_the_database_names_the_planted_hotspots(database: Database) -> None:
    """The same fixture stored as a week's tickets (SQLite and PostgreSQL): the 通报 read from
    the database names the three planted topics, largest first, with their units; the
    repeater's ten tickets are one citizen's, not a 热点."""
    rng = random.Random(23)
    texts = _texts()
    rng.shuffle(texts)
    seeds, others = texts[:4], texts[4:64]
    week = Period(date(2026, 11, 23), date(2026, 11, 29))
    monday = datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI)
    planted: list[tuple[str, int | None, str]] = [(text, None, "construction") for text in others]
    for index, senders, unit in ((0, 7, "labour"), (1, 5, "construction"), (2, 3, "labour")):
        planted += [(_variant(seeds[index], rng, n), None, unit) for n in range(senders)]
    planted += [(_variant(seeds[3], rng, n), 1, "social_affairs") for n in range(10)]
    rng.shuffle(planted)
    with database.transaction() as session:
        people: dict[int, CitizenRow] = {}
        for i, (text, repeater, unit) in enumerate(planted):
            key = repeater if repeater is not None else 1000 + i
            if key not in people:
                people[key] = CitizenRow(
                    telegram_user_id=key, chat_id=key, language=Language.ZH, created_at=monday
                )
                session.add(people[key])
                session.flush()
            received = monday + timedelta(minutes=97 * i)
            session.add(
                TicketRow(
                    number=f"B{i:03d}",
                    citizen_id=people[key].id,
                    request_type=RequestType.COMPLAINT,
                    text=text,
                    status=TicketStatus.DISPATCHED,
                    department_code=unit,
                    received_at=received,
                    deadline_at=received + timedelta(days=30),
                    updated_at=received,
                )
            )
    names = {"construction": "村镇规划建设", "social_affairs": "社会事务", "labour": "劳动保障"}
    with database.read() as session:
        briefing = build_briefing(
            session, week, now=monday + timedelta(days=8), targets=Targets(), names=names
        )
    assert briefing.requests_total == len(planted)
    spots = briefing.hotspots
    assert [(spot.citizens, spot.tickets) for spot in spots[:3]] == [(7, 7), (5, 5), (3, 3)]
    assert [spot.departments for spot in spots[:3]] == [
        ("labour",),
        ("construction",),
        ("labour",),
    ]
    for spot, topic in zip(spots, seeds, strict=False):
        assert dice(bigrams(spot.text), bigrams(topic)) > 0.6
    assert all(dice(bigrams(spot.text), bigrams(seeds[3])) < 0.6 for spot in spots)
    assert all(spot.citizens < 3 for spot in spots[3:])

    text = format_briefing_text(briefing)
    hot = text.split("【热点问题】")[1].split("【")[0].splitlines()
    assert hot[1].startswith("1. ")
    assert hot[1].endswith("— 7 件（7 位群众），承办：劳动保障")
    assert hot[2].endswith("— 5 件（5 位群众），承办：村镇规划建设")
    assert hot[3].endswith("— 3 件（3 位群众），承办：劳动保障")
    assert f"受理 {len(planted)} 件" in text
