"""The desk's sign-in outside the browser: `hotline desk link`, the /desk command where no
link may go, the session cookie's signature and its 12 hours."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import aiohttp

from bot.desk.photos import TelegramFiles, image_type
from bot.desk.session import desk_key, new_session, read_session
from bot.fake_bot_api import DEFAULT_TOKEN, FakeTelegramServer
from bot.webhook import Listen
from handlers.config import HotlineConfig
from handlers.desk import token_digest
from handlers.model import ItemKind, Role
from scheduler.clock import FixedClock
from storage.admin import add_staff
from storage.database import Database
from storage.departments import sync_departments
from storage.desk import use_desk_login
from storage.models import TicketItemRow
from tests.conftest import TEST_NOW
from tests.harness import running_bot
from tests.test_cli import assert_one_line_error, hotline
from tests.world import ROADS_CHAT, World, dispatch_to

PUBLIC = "https://hotline.example.gov.cn"


def test_desk_link_signs_in_once_within_ten_minutes(
    database_url: str, hotline_config: HotlineConfig
) -> None:
    db = Database(database_url)
    try:
        with db.transaction() as session:
            sync_departments(session, hotline_config.departments)
            add_staff(
                session, 777, role=Role.SUPERVISOR, department=None, name="督办", now=TEST_NOW
            )
        env = {"HOTLINE_DATABASE_URL": database_url, "HOTLINE_PUBLIC_URL": PUBLIC + "/"}
        result = hotline("desk", "link", "--telegram-id", "777", env=env)
        assert result.returncode == 0, result.stderr
        link = result.stdout.strip()
        assert link.startswith(f"{PUBLIC}/desk/login?token=")
        digest = token_digest(link.split("token=")[1])
        now = datetime.now(UTC)  # the CLI's clock is the system's
        with db.transaction() as session:
            assert use_desk_login(session, digest, now + timedelta(minutes=11)) is None
            assert use_desk_login(session, digest, now) == 777
            assert use_desk_login(session, digest, now) is None  # used up

        not_staff = hotline("desk", "link", "--telegram-id", "778", env=env)
        assert_one_line_error(not_staff, "778", "not staff")
        no_url = hotline(
            "desk", "link", "--telegram-id", "777", env={"HOTLINE_DATABASE_URL": database_url}
        )
        assert_one_line_error(no_url, "HOTLINE_PUBLIC_URL")
    finally:
        db.dispose()


def test_the_session_cookie_is_signed_and_lasts_twelve_hours() -> None:
    key = desk_key("123:secret")
    session = new_session(key, 901, TEST_NOW)
    assert read_session(key, session.cookie, TEST_NOW + timedelta(hours=11, minutes=59)) == session
    assert read_session(key, session.cookie, TEST_NOW + timedelta(hours=12)) is None
    user, issued, signature = session.cookie.split(".")
    assert read_session(key, f"900.{issued}.{signature}", TEST_NOW) is None  # another user
    later = int(issued) + 3600
    assert read_session(key, f"{user}.{later}.{signature}", TEST_NOW) is None  # renewed by hand
    assert read_session(desk_key("456:other"), session.cookie, TEST_NOW) is None
    assert read_session(key, "garbage", TEST_NOW) is None


async def test_desk_links_go_to_private_chats_of_a_mounted_desk_only(
    fake_telegram: FakeTelegramServer,
    world: World,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
) -> None:
    async with running_bot(fake_telegram, database_url, config, clock) as bot:
        fake_telegram.push_text(world.roads, "/desk")
        answer = await fake_telegram.wait_for_message(world.roads.chat_id, contains="工作台")
        assert "尚未开通" in answer["text"]
        bot.app.hotline.desk_url = PUBLIC
        fake_telegram.push_text(world.roads, "/desk", chat_id=ROADS_CHAT)
        answer = await fake_telegram.wait_for_message(ROADS_CHAT, contains="/desk")
        assert "私聊" in answer["text"]
        assert "token=" not in answer["text"]
        fake_telegram.push_text(world.roads, "/desk")
        answer = await fake_telegram.wait_for_message(world.roads.chat_id, contains="token=")
        assert f"{PUBLIC}/desk/login?token=" in answer["text"]


async def test_hotline_run_serves_the_desk_on_its_own_server(
    fake_telegram: FakeTelegramServer,
    world: World,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
) -> None:
    """With HOTLINE_PUBLIC_URL the bot's HTTP server (``--listen``) carries the desk: the link
    /desk sends opens its sign-in page there, next to /healthz, and a ticket's photo comes
    from the Bot API the bot uses."""
    async with running_bot(
        fake_telegram,
        database_url,
        config,
        clock,
        listen=Listen("127.0.0.1", 0),
        public_url=PUBLIC,
    ) as bot:
        fake_telegram.push_text(world.roads, "/desk")
        answer = await fake_telegram.wait_for_message(world.roads.chat_id, contains="token=")
        link = re.search(r"https?://\S+", answer["text"])
        assert link is not None
        assert link.group(0).startswith(f"{PUBLIC}/desk/login?token=")
        async with aiohttp.ClientSession() as http:
            page = await http.get(bot.url(link.group(0).removeprefix(PUBLIC)))
            assert page.status == 200
            assert "<form" in await page.text()  # the one button that uses the link up
            assert (await http.get(bot.url("/healthz"))).status == 200
            token = link.group(0).split("token=")[1]
            signed_in = await http.post(
                bot.url("/desk/login"), data={"token": token}, allow_redirects=False
            )
            assert signed_in.status == 303
            # The cookie is Secure (the public URL is https): handed on by hand over http.
            cookie = {"Cookie": f"hotline_desk={signed_in.cookies['hotline_desk'].value}"}

            await dispatch_to(world, "幸福路的路灯坏了一个星期了", "村镇规划建设")
            photo = b"\xff\xd8\xff\xe0 a photo of the lamp"
            fake_telegram.push_photo(world.citizen, caption="路灯", content=photo)
            await fake_telegram.wait_for_message(world.citizen.chat_id, contains="已附加到工单")
            (item,) = bot.rows(TicketItemRow, TicketItemRow.kind == ItemKind.PHOTO)
            url = bot.url(f"/desk/tickets/{item.ticket_id}/photos/{item.id}")
            async with http.get(url, headers=cookie) as shown:
                assert shown.status == 200
                assert shown.content_type == "image/jpeg"
                assert await shown.read() == photo


async def test_photos_come_from_the_bot_api_and_the_cache_keeps_a_bound(
    fake_telegram: FakeTelegramServer,
) -> None:
    """getFile, then the file's download; kept until the cache's bytes are over its limit,
    the least recently shown photo first out; a file Telegram does not know is None."""
    files = TelegramFiles(fake_telegram.base_url, DEFAULT_TOKEN, limit=2500)
    jpeg = b"\xff\xd8\xff\xe0" + bytes(996)
    first, second, third = (
        fake_telegram.add_file(jpeg[:-1] + bytes([n]), "photo") for n in (1, 2, 3)
    )
    try:
        assert await files.get(first) == jpeg[:-1] + b"\x01"
        assert await files.get(second) == jpeg[:-1] + b"\x02"
        assert await files.get(first) is not None  # shown again: now the most recent
        assert files.fetched == 2
        assert await files.get(third) == jpeg[:-1] + b"\x03"  # 3,000 bytes: second goes
        assert files.fetched == 3
        await files.get(first)
        assert files.fetched == 3
        await files.get(second)
        assert files.fetched == 4
        assert len(fake_telegram.calls("getFile")) == 4
        assert await files.get("no-such-file") is None
        assert image_type(jpeg) == "image/jpeg"
        assert image_type(b"<script>alert(1)</script>") is None
    finally:
        await files.close()
