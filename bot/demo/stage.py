"""The demo's stage: a fake Telegram with three chats, the people in them, and the real bot.

``hotline demo`` needs no token and no Telegram: the bot (``bot.runner.serve``, the same code
as ``hotline run``) long-polls the fake Bot API server of the test suite (``bot.fake_bot_api``)
in the same process, on a SQLite database in a temporary directory, with the built-in 建塘镇
departments, one supervisor and one staff member. The visitor's typing and button presses
become updates on that server (``bot.demo.app``); the panes show what the bot sent there.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bot.fake_bot_api import DEFAULT_TOKEN, FakeTelegramServer, FakeUser
from bot.runner import TransportName, serve
from bot.webhook import Listen
from handlers.config import HotlineConfig, load_config
from handlers.model import Role
from scheduler.clock import Clock, SystemClock
from storage.admin import add_staff, set_department_chat, set_office_chat
from storage.database import Database
from storage.departments import sync_departments

# Where the staff member works: the unit that street lights, roads and water pipes go to, so
# that the visitor's first request is likely to end in the department's pane.
DEPARTMENT = "construction"
OFFICE_CHAT = -1001000012345
DEPARTMENT_CHAT = -1001000000002
BOT_USERNAME = "jiantang12345_bot"
BOT_NAME = "建塘镇 12345 热线"
# The demo citizen's own phone, shared with the bot's button: a number of the reserved
# 13800138000 kind that reaches nobody.
DEMO_PHONE = "+8613800138000"
# 建塘镇 (独克宗古城), for a shared location.
DEMO_LOCATION = (27.8236, 99.7058)


@dataclass(frozen=True)
class Pane:
    """One chat the visitor sees, and the person they type and press buttons as there."""

    key: str  # citizen | department | office
    chat_id: int
    actor: FakeUser

    def as_speaker(self, lang: str) -> FakeUser:
        """The actor with the visitor's language, as their Telegram app would report it."""
        return replace(self.actor, language_code="en" if lang == "en" else "zh-hans")


@dataclass(frozen=True)
class Cast:
    citizen: Pane
    department: Pane
    office: Pane

    @property
    def panes(self) -> tuple[Pane, Pane, Pane]:
        return (self.citizen, self.department, self.office)

    def pane(self, key: str) -> Pane | None:
        return next((p for p in self.panes if p.key == key), None)


def set_the_stage(server: FakeTelegramServer) -> Cast:
    """The chats and people on the fake server."""
    server.group(OFFICE_CHAT, "12345 热线办")
    server.group(DEPARTMENT_CHAT, "村镇规划建设服务中心 工作群")
    supervisor = server.user(100001, first_name="王主任")
    staff = server.user(100002, first_name="李工")
    citizen = server.user(100003, first_name="刘女士")
    return Cast(
        citizen=Pane("citizen", citizen.chat_id, citizen),
        department=Pane("department", DEPARTMENT_CHAT, staff),
        office=Pane("office", OFFICE_CHAT, supervisor),
    )


def enrol(database: Database, config: HotlineConfig, cast: Cast, clock: Clock) -> None:
    """What an operator does on the first day (README, "First day"), for the cast."""
    now = clock.now()
    with database.transaction() as session:
        sync_departments(session, config.departments)
        add_staff(
            session,
            cast.office.actor.id,
            role=Role.SUPERVISOR,
            department=None,
            name=cast.office.actor.first_name,
            now=now,
        )
        add_staff(
            session,
            cast.department.actor.id,
            role=Role.STAFF,
            department=DEPARTMENT,
            name=cast.department.actor.first_name,
            now=now,
        )
        set_office_chat(session, OFFICE_CHAT)
        set_department_chat(session, DEPARTMENT, DEPARTMENT_CHAT)


def demo_url(listen: Listen, port: int) -> str:
    """Where a browser on this machine opens the demo."""
    host = listen.host
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/demo/"


async def run_demo(
    *,
    listen: Listen,
    stop: asyncio.Event,
    announce: Callable[[str], None],
    workdir: Path | None = None,
    transport: TransportName = TransportName.AIOGRAM,
    clock: Clock | None = None,
) -> None:
    """Serve the demo until ``stop`` is set; ``announce`` is handed its URL once it is up.

    The database and the delivery journal live in ``workdir`` (a temporary directory, removed
    at the end, unless one is given).
    """
    from bot.demo.app import demo_application

    with tempfile.TemporaryDirectory(prefix="hotline-demo-") as scratch:
        where = workdir or Path(scratch)
        config = load_config(None)  # the built-in 建塘镇 defaults, whatever HOTLINE_CONFIG says
        clock = clock or SystemClock()
        database = Database(f"sqlite:///{where / 'demo.sqlite3'}")
        try:
            database.ensure_schema()
            async with FakeTelegramServer(
                bot_first_name=BOT_NAME, bot_username=BOT_USERNAME
            ) as server:
                cast = set_the_stage(server)
                enrol(database, config, cast, clock)
                await serve(
                    token=DEFAULT_TOKEN,
                    api_base=server.base_url,
                    config=config,
                    database=database,
                    journal=where / "delivery.journal",
                    transport=transport,
                    clock=clock,
                    stop=stop,
                    instance="demo",
                    # The outbox is handed to delivery at commit; this is only its fallback.
                    poll_interval=0.2,
                    started=lambda app: announce(demo_url(listen, app.http_port or listen.port)),
                    listen=listen,
                    mount={"/demo/": demo_application(server, cast)},
                )
        finally:
            database.dispose()
