"""A small hotline for end-to-end tests: three departments, their group chats, the office
chat, a supervisor and staff — the way an operator sets them up with the CLI."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from bot.fake_bot_api import FakeTelegramServer, FakeUser
from handlers.config import HotlineConfig, config_from_mapping
from handlers.model import Role
from storage.admin import add_staff, set_department_chat, set_office_chat
from storage.database import Database
from storage.departments import sync_departments
from tests.conftest import TEST_NOW

NUMBER = re.compile(r"\d{8}-\d{4,}")

TEST_DEPARTMENTS = [
    {
        "code": "roads",
        "name_zh": "村镇规划建设服务中心",
        "name_en": "Planning and Construction Centre",
        "aliases": ["建设中心"],
        "keywords": ["路灯", "道路", "自来水", "桥梁", "坑洼"],
    },
    {
        "code": "welfare",
        "name_zh": "社会事务办",
        "name_en": "Social Affairs Office",
        "aliases": ["民政办"],
        "keywords": ["低保", "养老", "残疾", "救助"],
    },
    {
        "code": "labour",
        "name_zh": "劳动保障服务中心",
        "name_en": "Labour and Social Security Centre",
        "aliases": ["社保中心"],
        "keywords": ["工资", "欠薪", "社保", "就业"],
    },
]


def world_config(threshold: float = 1.0, **sections: Any) -> HotlineConfig:
    """The test catalog; by default nothing is confident enough to be dispatched alone."""
    return config_from_mapping(
        {
            "departments": TEST_DEPARTMENTS,
            "routing": {"auto_dispatch_threshold": threshold},
            **sections,
        }
    )


OFFICE, ROADS_CHAT, LABOUR_CHAT = -1000, -2000, -3000


@dataclass
class World:
    server: FakeTelegramServer
    supervisor: FakeUser
    roads: FakeUser  # staff of "roads"
    labour: FakeUser  # staff of "labour"
    citizen: FakeUser


def build_world(server: FakeTelegramServer, database_url: str, config: HotlineConfig) -> World:
    server.group(OFFICE, "热线办")
    server.group(ROADS_CHAT, "建设中心工作群")
    server.group(LABOUR_CHAT, "社保中心工作群")
    world = World(
        server=server,
        supervisor=server.user(900, first_name="督办李"),
        roads=server.user(901, first_name="张工"),
        labour=server.user(902, first_name="王社保"),
        citizen=server.user(1, first_name="赵大爷"),
    )
    db = Database(database_url)
    with db.transaction() as session:
        sync_departments(session, config.departments)
        add_staff(session, 900, role=Role.SUPERVISOR, department=None, name="督办李", now=TEST_NOW)
        add_staff(session, 901, role=Role.STAFF, department="roads", name="张工", now=TEST_NOW)
        add_staff(session, 902, role=Role.STAFF, department="labour", name="王社保", now=TEST_NOW)
        set_office_chat(session, OFFICE)
        set_department_chat(session, "roads", ROADS_CHAT)
        set_department_chat(session, "labour", LABOUR_CHAT)
    db.dispose()
    return world


@pytest.fixture
def config() -> HotlineConfig:
    """The end-to-end tests' config (a test module may override it)."""
    return world_config()


@pytest.fixture
def world(fake_telegram: FakeTelegramServer, database_url: str, config: HotlineConfig) -> World:
    return build_world(fake_telegram, database_url, config)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def button(message: dict[str, Any], label: str) -> str:
    """The callback data of the button whose text contains ``label``."""
    for b in buttons(message):
        if label in b["text"]:
            return str(b["callback_data"])
    raise AssertionError(f"no button {label!r} in {[b['text'] for b in buttons(message)]}")


async def toast_of(server: FakeTelegramServer, pressed: Any) -> str:
    """The text of the answer to a button press (its toast), once the bot has given it."""
    query_id = pressed.update["callback_query"]["id"]
    call = await server.wait_for_call(
        "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == query_id
    )
    return str(call.params.get("text", ""))


def number_in(message: dict[str, Any]) -> str:
    found = NUMBER.search(message.get("text") or message.get("caption") or "")
    assert found, message
    return found.group()


async def dispatch_to(
    world: World, text: str, department: str, citizen: FakeUser | None = None
) -> tuple[str, dict[str, Any]]:
    """A citizen's request, picked for ``department`` by the supervisor; returns the number
    and the department's card."""
    server = world.server
    citizen = citizen or world.citizen
    server.push_text(citizen, text)
    confirmation = await server.wait_for_message(citizen.chat_id, contains="工单编号")
    assert "热线办" in confirmation["text"]  # not confident: the dispatch queue
    number = number_in(confirmation)
    queued = await server.wait_for_message(OFFICE, contains=number)
    await pick_department(world, queued, department)
    chat = ROADS_CHAT if department == "村镇规划建设" else LABOUR_CHAT
    card = await server.wait_for_message(chat, contains=f"工单 {number}")
    return number, card


async def pick_department(world: World, queued: dict[str, Any], department: str) -> None:
    """The supervisor picks ``department`` for a request in the dispatch queue."""
    server, boss = world.server, world.supervisor
    server.press_button(boss, queued, button(queued, "其他单位"), chat_id=OFFICE)
    picker = await server.wait_for_message(OFFICE, contains="请选择承办单位")
    server.press_button(boss, picker, button(picker, department), chat_id=OFFICE)


async def sign_and_answer(world: World, card: dict[str, Any], answer: str) -> None:
    """The roads department signs for the ticket of ``card`` and resolves it with ``answer``."""
    server = world.server
    server.press_button(world.roads, card, button(card, "签收"), chat_id=ROADS_CHAT)
    signed = await server.wait_for_message(
        ROADS_CHAT,
        predicate=lambda m: m["message_id"] == card["message_id"] and "办理中" in m["text"],
    )
    server.press_button(world.roads, signed, button(signed, "办结"), chat_id=ROADS_CHAT)
    prompt = await server.wait_for_message(ROADS_CHAT, contains="答复内容")
    server.push_text(world.roads, answer, chat_id=ROADS_CHAT, reply_to=prompt)
