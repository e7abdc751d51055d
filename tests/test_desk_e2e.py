"""The web desk in a real browser, next to the running bot, on SQLite and PostgreSQL: signing in
with a one-time link, what staff may see, an action that reaches the citizen in Telegram,
search, and a screenshot of each page."""

from __future__ import annotations

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import update

from bot.fake_bot_api import FakeTelegramServer
from handlers.config import HotlineConfig
from handlers.knowledge import KnowledgeEntry
from handlers.model import TicketStatus
from scheduler.clock import FixedClock
from storage.admin import remove_staff
from storage.knowledge import save_entry
from storage.models import CitizenRow, TicketEventRow, TicketRow
from tests.desk_browser import LINK, browser, screenshot, serving_desk
from tests.harness import running_bot
from tests.world import ROADS_CHAT, World, dispatch_to, number_in

pytestmark = pytest.mark.asyncio


async def sign_in(chromium: Browser, link: str) -> Page:
    page = await (await chromium.new_context(viewport={"width": 1280, "height": 800})).new_page()
    await page.goto(link)
    await page.click("#sign-in")
    await page.wait_for_selector("#open")  # the today page
    return page


async def test_a_one_time_link_signs_in_once(
    fake_telegram: FakeTelegramServer,
    world: World,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
) -> None:
    async with (
        running_bot(fake_telegram, database_url, config, clock) as bot,
        serving_desk(bot) as desk,
        browser() as chromium,
    ):
        fake_telegram.push_text(world.roads, "/desk")
        sent = await fake_telegram.wait_for_message(world.roads.chat_id, contains="/desk/login")
        found = LINK.search(sent["text"])
        assert found, sent["text"]
        link = found.group()

        page = await sign_in(chromium, link)
        assert "今日" in await page.inner_text("h1")
        await page.click("a.lang")
        assert await page.inner_text("h1") == "Today"
        await page.click("a.lang")
        assert await page.inner_text("h1") == "今日"
        cookies = {c["name"]: c for c in await page.context.cookies()}
        session = cookies["hotline_desk"]
        assert session["httpOnly"]
        assert session["sameSite"] == "Strict"
        response = await page.goto(desk.url())
        assert response is not None
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "http" not in csp

        # The same link in another browser: refused, and no way in.
        other = await (await chromium.new_context()).new_page()
        await other.goto(link)
        assert await other.query_selector("#sign-in") is None
        assert "已使用" in await other.inner_text("#refused")
        await other.goto(desk.url())
        assert "/desk/login" in other.url
        # Pressing the button of a page opened before the link was used is refused too.
        async with aiohttp.ClientSession() as http:
            token = link.split("token=")[1]
            async with http.post(desk.url("/desk/login"), data={"token": token}) as answer:
                assert answer.status == 403
                assert "hotline_desk" not in answer.cookies

        # Removing the staff member ends their session at their next click.
        with bot.database.transaction() as db_session:
            remove_staff(db_session, world.roads.id)
        response = await page.goto(desk.url("/desk/tickets"))
        assert response is not None
        assert response.status == 403
        assert "不是工作人员" in await page.inner_text("main")


async def test_staff_cannot_open_another_units_ticket(
    fake_telegram: FakeTelegramServer,
    world: World,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
) -> None:
    async with (
        running_bot(fake_telegram, database_url, config, clock) as bot,
        serving_desk(bot) as desk,
        browser() as chromium,
    ):
        number, _ = await dispatch_to(world, "工地拖欠我三个月工资，老板失联了", "劳动保障")
        ticket = next(t for t in bot.tickets() if t.number == number)
        page = await sign_in(chromium, desk.link_for(world.roads.id))

        response = await page.goto(desk.url(f"/desk/tickets/{ticket.id}"))
        assert response is not None
        assert response.status == 404
        assert "拖欠" not in await page.content()
        await page.goto(desk.url("/desk/tickets?q=工资"))
        assert number not in await page.content()

        # A forged form for it, with this session's own CSRF token, changes nothing.
        await page.goto(desk.url("/desk/tickets"))
        csrf = await page.get_attribute("input[name=csrf]", "value")
        forged = await page.request.post(
            desk.url(f"/desk/tickets/{ticket.id}/sign"), form={"csrf": csrf or ""}
        )
        assert forged.status == 404
        assert bot.rows(TicketRow, TicketRow.id == ticket.id)[0].status is TicketStatus.DISPATCHED

        # The labour staff member sees it; a form without the CSRF token is refused.
        labour = await sign_in(chromium, desk.link_for(world.labour.id))
        response = await labour.goto(desk.url(f"/desk/tickets/{ticket.id}"))
        assert response is not None
        assert response.status == 200
        assert "拖欠" in await labour.inner_text("#request-text")
        # The phone is masked until "show" is pressed, and the look is logged.
        with bot.database.transaction() as db_session:
            db_session.execute(
                update(CitizenRow)
                .where(CitizenRow.id == ticket.citizen_id)
                .values(phone="13812345678")
            )
        await labour.reload()
        assert "13812345678" not in await labour.content()
        assert await labour.inner_text("#masked-phone") == "138****5678"
        await labour.click("#show-phone")
        await labour.wait_for_selector("#phone")
        assert await labour.inner_text("#phone") == "13812345678"
        looks = bot.rows(TicketEventRow, TicketEventRow.action == "contact_viewed")
        assert [(e.ticket_id, e.actor_id) for e in looks] == [(ticket.id, world.labour.id)]
        forged = await labour.request.post(desk.url(f"/desk/tickets/{ticket.id}/sign"), form={})
        assert forged.status == 403
        assert bot.rows(TicketRow, TicketRow.id == ticket.id)[0].status is TicketStatus.DISPATCHED


async def test_a_ticket_resolved_in_the_desk_reaches_the_citizen(
    fake_telegram: FakeTelegramServer,
    world: World,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
) -> None:
    async with (
        running_bot(fake_telegram, database_url, config, clock) as bot,
        serving_desk(bot) as desk,
        browser() as chromium,
    ):
        number, _ = await dispatch_to(world, "幸福路的路灯坏了一个星期了", "村镇规划建设")
        login = await (await chromium.new_context()).new_page()
        await login.goto(desk.link_for(world.roads.id))
        await screenshot(login, "login")
        await login.click("#sign-in")
        await login.wait_for_selector("#open")
        page = login
        assert await page.inner_text("#received-today") == "1"
        assert await page.inner_text("#open") == "1"
        assert await page.inner_text("#overdue") == "0"
        assert await page.inner_text("#direct-answers") == "0"
        # The chart /stats sends, of the unit's last 30 days, drawn for the page.
        # (decode() waits for the image; a polled predicate would need eval, which the CSP bars)
        await page.locator("#chart").evaluate("img => img.decode()")
        assert await page.locator("#chart").evaluate("img => img.naturalWidth") > 0
        await screenshot(page, "today")

        await page.goto(desk.url("/desk/tickets"))
        await screenshot(page, "tickets")
        await page.click(f"text={number}")
        await page.wait_for_selector("#sign-form")
        await page.click("#sign-form button")
        await page.wait_for_selector("#resolve-form")
        assert "签收" in await page.inner_text("#flash")
        signed = await fake_telegram.wait_for_message(world.citizen.chat_id, contains="签收")
        assert number in signed["text"]

        answer = "路灯已于今日修复，感谢您的反映。"
        await page.fill("#resolve-form textarea", answer)
        await page.click("#resolve-form button")
        await page.wait_for_selector("#flash")
        assert "已办结" in await page.inner_text("#status") or "办结" in await page.inner_text(
            "#flash"
        )
        await screenshot(page, "ticket")
        reached = await fake_telegram.wait_for_message(world.citizen.chat_id, contains=answer)
        assert number in reached["text"]
        ticket = next(t for t in bot.tickets() if t.number == number)
        assert ticket.status is TicketStatus.RESOLVED
        actions = [
            e.action for e in bot.rows(TicketEventRow, TicketEventRow.ticket_id == ticket.id)
        ]
        assert "signed" in actions
        assert "resolved" in actions
        assert "修复" in await page.inner_text("#timeline")


async def test_search_finds_a_ticket_by_a_word_of_its_text(
    fake_telegram: FakeTelegramServer,
    world: World,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
) -> None:
    async with (
        running_bot(fake_telegram, database_url, config, clock) as bot,
        serving_desk(bot) as desk,
        browser() as chromium,
    ):
        lamp, _ = await dispatch_to(world, "幸福路的路灯坏了一个星期了", "村镇规划建设")
        worker = fake_telegram.user(2, first_name="钱师傅")
        wages, _ = await dispatch_to(world, "工地拖欠我三个月工资，老板失联了", "劳动保障", worker)
        page = await sign_in(chromium, desk.link_for(world.supervisor.id))
        await page.goto(desk.url("/desk/tickets"))
        listed = await page.inner_text("table.tickets")
        assert lamp in listed
        assert wages in listed
        # The filters update the list in place (htmx): the page is not loaded again, and its
        # address is the filtered view's.
        await page.evaluate("window.notReloaded = true")
        await page.fill("input[name=q]", "工资")
        await page.click(".filters button[type=submit]")
        await expect(page.locator("table.tickets")).not_to_contain_text(lamp)
        listed = await page.inner_text("table.tickets")
        assert wages in listed
        assert await page.evaluate("window.notReloaded") is True
        assert "q=%E5%B7%A5%E8%B5%84" in page.url
        # By number, and a word in no ticket.
        await page.goto(desk.url(f"/desk/tickets?q={lamp}"))
        listed = await page.inner_text("table.tickets")
        assert lamp in listed
        assert wages not in listed
        await page.goto(desk.url("/desk/tickets?q=%25"))
        assert await page.query_selector("#no-tickets") is not None
        assert len(bot.tickets()) == 2

        # 知识库: its entries, searched by a word.
        with bot.database.transaction() as db_session:
            for key, question, answer in (
                ("lamp", "路灯坏了找谁？", "路灯由村镇规划建设服务中心维修。"),
                ("pension", "怎么领取养老金？", "携带身份证到社会事务办办理。"),
            ):
                save_entry(
                    db_session,
                    KnowledgeEntry(id=key, question=question, answer=answer),
                    now=bot.clock.now(),
                    via="test",
                )
        await page.click("nav >> text=知识库")
        entries = await page.inner_text("#entries")
        assert "路灯坏了找谁" in entries
        assert "养老金" in entries
        await page.fill("input[name=q]", "身份证")
        await page.click(".filters button[type=submit]")
        await expect(page.locator("#entries")).not_to_contain_text("路灯")
        entries = await page.inner_text("#entries")
        assert "养老金" in entries
        assert "路灯" not in entries
        await screenshot(page, "kb")


async def test_a_supervisor_dispatches_from_the_desk(
    fake_telegram: FakeTelegramServer,
    world: World,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
) -> None:
    async with (
        running_bot(fake_telegram, database_url, config, clock) as bot,
        serving_desk(bot) as desk,
        browser() as chromium,
    ):
        fake_telegram.push_text(world.citizen, "幸福路的路灯坏了一个星期了")
        confirmation = await fake_telegram.wait_for_message(
            world.citizen.chat_id, contains="工单编号"
        )
        number = number_in(confirmation)
        (ticket,) = bot.tickets()
        # Staff do not see a ticket no unit has yet, and have no dispatch form anywhere.
        roads = await sign_in(chromium, desk.link_for(world.roads.id))
        response = await roads.goto(desk.url(f"/desk/tickets/{ticket.id}"))
        assert response is not None
        assert response.status == 404

        page = await sign_in(chromium, desk.link_for(world.supervisor.id))
        await page.goto(desk.url(f"/desk/tickets/{ticket.id}"))
        await page.select_option("#dispatch-form select", "roads")
        await page.click("#dispatch-form button")
        await page.wait_for_selector("#flash")
        assert number in await page.inner_text("#flash")
        card = await fake_telegram.wait_for_message(ROADS_CHAT, contains=f"工单 {number}")
        assert "签收" in str(card.get("reply_markup"))
        told = await fake_telegram.wait_for_message(world.citizen.chat_id, contains="村镇规划建设")
        assert number in told["text"]
        (dispatched,) = bot.tickets()
        assert dispatched.department_code == "roads"
        assert dispatched.status is TicketStatus.DISPATCHED
        # Now the roads staff member sees it.
        response = await roads.goto(desk.url(f"/desk/tickets/{ticket.id}"))
        assert response is not None
        assert response.status == 200
        assert await roads.query_selector("#dispatch-form") is None
        assert await roads.query_selector("#sign-form") is not None


async def test_the_desk_pre_checks_an_answer_and_sends_it_anyway_on_request(
    fake_telegram: FakeTelegramServer,
    world: World,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
) -> None:
    """答复预检 in the desk: a template answer comes back to the form with why; a corrected one
    could be submitted, or it is sent anyway with the box ticked (recorded)."""
    template = "您好，您反映的问题已收悉，我们会尽快处理，感谢您的关注！"
    async with (
        running_bot(fake_telegram, database_url, config, clock) as bot,
        serving_desk(bot) as desk,
        browser() as chromium,
    ):
        number, _ = await dispatch_to(world, "幸福路的路灯坏了一个星期了", "村镇规划建设")
        page = await sign_in(chromium, desk.link_for(world.roads.id))
        await page.goto(desk.url("/desk/tickets"))
        await page.click(f"text={number}")
        await page.wait_for_selector("#sign-form")
        await page.click("#sign-form button")
        await page.wait_for_selector("#resolve-form")
        assert not await page.query_selector("#send-anyway")  # only after a warning

        await page.fill("#resolve-form textarea", template)
        await page.click("#resolve-form button")
        await page.wait_for_selector("#precheck")
        warning = await page.inner_text("#precheck")
        assert "只有套话" in warning
        assert "没有共同的关键词" in warning
        assert await page.input_value("#resolve-form textarea") == template
        ticket = next(t for t in bot.tickets() if t.number == number)
        assert ticket.status is TicketStatus.IN_PROGRESS
        await screenshot(page, "precheck")

        await page.check("#send-anyway")
        await page.click("#resolve-form button")
        await page.wait_for_selector("#flash")
        reached = await fake_telegram.wait_for_message(world.citizen.chat_id, contains="已收悉")
        assert number in reached["text"]
        events = {
            e.action: e.data
            for e in bot.rows(TicketEventRow, TicketEventRow.ticket_id == ticket.id)
        }
        assert events["answer_flagged"] == {
            "flags": ["no_shared_term", "template_only"],
            "chars": 24,
            "again": False,
        }
        assert events["answer_sent_anyway"] == {"flags": ["no_shared_term", "template_only"]}
        assert "resolved" in events
        assert "预检提示后仍然发送" in await page.inner_text("#timeline")
