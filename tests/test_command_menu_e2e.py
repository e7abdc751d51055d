"""The "/" command menu the bot sets on start (setMyCommands), per scope and language, with
either transport, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from bot.fake_bot_api import FakeTelegramServer
from bot.runner import TransportName
from handlers.config import HotlineConfig
from handlers.inbox import STAFF_COMMANDS, SUPERVISOR_COMMANDS
from scheduler.clock import FixedClock
from storage.admin import set_office_chat
from storage.database import Database
from tests.harness import running_bot

OFFICE = -100_777
PRIVATE = {"type": "all_private_chats"}
GROUPS = {"type": "all_group_chats"}


def names(commands: list[dict[str, str]]) -> list[str]:
    return [c["command"] for c in commands]


@pytest.mark.parametrize("transport", [TransportName.AIOGRAM, TransportName.PTB])
async def test_each_kind_of_chat_gets_its_own_menu_in_chinese_and_english(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
    transport: TransportName,
) -> None:
    database = Database(database_url)
    with database.transaction() as session:
        set_office_chat(session, OFFICE)
    database.dispose()
    async with running_bot(fake_telegram, database_url, hotline_config, clock, transport=transport):
        office = {"type": "chat", "chat_id": OFFICE}
        citizen_zh = fake_telegram.commands(PRIVATE)
        citizen_en = fake_telegram.commands(PRIVATE, language_code="en")
        assert names(citizen_zh) == ["start", "my", "status", "phone", "lang", "help"]
        assert names(citizen_en) == names(citizen_zh)
        assert dict((c["command"], c["description"]) for c in citizen_zh)["my"] == "我的工单"
        assert dict((c["command"], c["description"]) for c in citizen_en)["my"] == "My tickets"

        staff_zh = fake_telegram.commands(GROUPS)
        staff_en = fake_telegram.commands(GROUPS, language_code="en")
        assert set(names(staff_zh)) == {"queue", "reply", "kb", "help", "chatid"}
        assert names(staff_en) == names(staff_zh)
        # No supervisor's command shows in every group: staff would only be refused.
        assert not set(names(staff_zh)) & SUPERVISOR_COMMANDS

        supervisor_zh = fake_telegram.commands(office)
        supervisor_en = fake_telegram.commands(office, language_code="en")
        assert set(names(supervisor_zh)) >= SUPERVISOR_COMMANDS
        assert names(supervisor_en) == names(supervisor_zh)
        # Every command offered in a group is one the bot handles there.
        assert set(names(staff_zh)) | set(names(supervisor_zh)) <= set(STAFF_COMMANDS)
        assert all(c["description"] for c in supervisor_en + staff_en + citizen_en)
        assert supervisor_zh != supervisor_en


async def test_without_an_office_chat_no_chat_gets_a_menu_of_its_own(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    async with running_bot(fake_telegram, database_url, hotline_config, clock):
        calls = fake_telegram.calls("setMyCommands")
        scopes = [c.params["scope"] for c in calls]
        scopes = [json.loads(s) if isinstance(s, str) else s for s in scopes]
        assert sorted(s["type"] for s in scopes) == sorted(
            ["all_private_chats", "all_private_chats", "all_group_chats", "all_group_chats"]
        )
        assert names(fake_telegram.commands(PRIVATE))[0] == "start"


async def test_a_refused_menu_does_not_stop_the_bot(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    fake_telegram.fail_next(
        "setMyCommands", status=400, description="Bad Request: BOT_COMMAND_INVALID"
    )
    citizen = fake_telegram.user(4101)
    async with running_bot(fake_telegram, database_url, hotline_config, clock) as bot:
        fake_telegram.push_text(citizen, "路灯坏了")
        await fake_telegram.wait_for_message(citizen.chat_id, contains="工单编号")
        assert bot.ticket_count() == 1
