"""The desk's other pages in a real browser, next to the running bot, on SQLite and PostgreSQL:
the ranking and the 通报 (with its Word document), the 知识库's changes, a ticket's photos and
location, and the ticket list's exports."""

from __future__ import annotations

import csv
import io

import pytest
from docx import Document
from openpyxl import load_workbook
from PIL import Image
from playwright.async_api import Browser, FilePayload, Page, expect

from bot.fake_bot_api import FakeTelegramServer
from handlers.config import HotlineConfig
from handlers.knowledge import KnowledgeEntry
from handlers.knowledge_io import parse_entries
from scheduler.clock import FixedClock
from storage.knowledge import history, load_entries, save_entry
from tests.desk_browser import browser, screenshot, serving_desk
from tests.harness import RunningBot, running_bot
from tests.world import (
    World,
    build_world,
    button,
    dispatch_to,
    sign_and_answer,
    world_config,
)

pytestmark = pytest.mark.asyncio


async def sign_in(chromium: Browser, link: str) -> Page:
    page = await (await chromium.new_context(viewport={"width": 1280, "height": 800})).new_page()
    await page.goto(link)
    await page.click("#sign-in")
    await page.wait_for_selector("#open")
    return page


async def import_csv(page: Page, name: str, text: str) -> None:
    await page.click("details summary")  # the import form is folded away
    upload = FilePayload(name=name, mimeType="text/csv", buffer=text.encode())
    await page.set_input_files("#kb-import input[type=file]", files=[upload])
    await page.click("#kb-import button")


def entries_of(bot: RunningBot) -> dict[str, KnowledgeEntry]:
    with bot.database.read() as session:
        return {entry.id: entry for entry in load_entries(session)}


async def test_the_ranking_and_the_briefing(
    fake_telegram: FakeTelegramServer, database_url: str, clock: FixedClock
) -> None:
    config = world_config(assessment={"min_tickets": 1, "board_size": 1})
    world = build_world(fake_telegram, database_url, config)
    server = fake_telegram
    async with (
        running_bot(server, database_url, config, clock) as bot,
        serving_desk(bot) as desk,
        browser() as chromium,
    ):
        # As in the /ranking test: roads answered and the citizen is satisfied, labour not yet.
        _, card = await dispatch_to(world, "桥头的路灯一直不亮", "村镇规划建设")
        await sign_and_answer(world, card, "路灯已修好")
        answer = await server.wait_for_message(world.citizen.chat_id, contains="路灯已修好")
        server.press_button(world.citizen, answer, button(answer, "已解决"))
        await server.wait_for_message(
            world.citizen.chat_id,
            predicate=lambda m: m["message_id"] == answer["message_id"] and "✓" in m["text"],
        )
        await dispatch_to(world, "拖欠工资三个月", "劳动保障", server.user(600))

        page = await sign_in(chromium, desk.link_for(world.supervisor.id))
        await page.click("nav >> text=考评排名")
        # The default is last month, as /ranking's: nothing then.
        assert "2026-10" in await page.inner_text("h1")
        assert await page.query_selector("#no-units") is not None
        await page.select_option("#period-choice", "month")
        await page.click("#period-form button")
        await page.wait_for_selector("#ranking")
        assert "2026-11" in await page.inner_text("h1")
        rows = await page.locator("#ranking tbody tr").all_inner_texts()
        assert len(rows) == 2
        assert "村镇规划建设服务中心" in rows[0]
        assert "81.82" in rows[0]
        assert "红榜" in rows[0]
        assert "劳动保障服务中心" in rows[1]
        assert "黑榜" in rows[1]
        chart = page.locator("#ranking-chart")
        await chart.evaluate("img => img.decode()")  # the bar chart hotline ranking draws
        assert await chart.evaluate("img => img.naturalWidth") > 0
        await screenshot(page, "ranking")
        # A period typed by hand; one that cannot be read is said so, politely.
        await page.fill("#period-text", "2026-13")
        await page.click("#period-form button")
        assert "没有 13 月" in await page.inner_text("#period-error")
        await page.click("a.lang")
        await page.goto(desk.url("/desk/ranking?period=2026-11"))
        assert "Red list" in await page.inner_text("#ranking")
        await page.click("a.lang")

        await page.click("nav >> text=通报")
        await page.select_option("#period-choice", "month")
        await page.click("#period-form button")
        # The page comes at once; htmx fetches the 通报 into it.
        await page.wait_for_selector("#briefing")
        briefing = await page.inner_text("#briefing")
        assert "12345 热线工作通报 2026-11" in briefing
        assert "热点问题" in briefing
        assert "超期未办结" in briefing
        await screenshot(page, "briefing")
        # Without script, the link in <noscript> shows it whole.
        whole = await page.request.get(desk.url("/desk/briefing?period=2026-11&whole=1"))
        assert "12345 热线工作通报 2026-11（" in await whole.text()
        async with page.expect_download() as downloading:
            await page.click("#docx")
        download = await downloading.value
        assert download.suggested_filename == "briefing-2026-11-01..2026-11-27.docx"
        path = await download.path()
        document = Document(str(path))
        assert "12345 热线工作通报 2026-11" in document.paragraphs[0].text
        # A chart or document link with a period that cannot be read: 400, and why.
        for path_ in ("/desk/briefing.docx?period=2026-13", "/desk/ranking.png?period=2026-13"):
            unreadable = await page.request.get(desk.url(path_))
            assert unreadable.status == 400
            assert "没有 13 月" in await unreadable.text()

        # Staff: their own unit's row of the ranking, no 通报.
        roads = await sign_in(chromium, desk.link_for(world.roads.id))
        assert await roads.query_selector("nav >> text=通报") is None
        await roads.goto(desk.url("/desk/ranking?period=2026-11"))
        rows = await roads.locator("#ranking tbody tr").all_inner_texts()
        assert len(rows) == 1
        assert "村镇规划建设服务中心" in rows[0]
        assert "劳动保障" not in await roads.content()
        assert await roads.query_selector("#ranking-chart") is None
        for path_ in (
            "/desk/briefing",
            "/desk/briefing.docx?period=2026-11",
            "/desk/ranking.png?period=2026-11",
        ):
            refused = await roads.request.get(desk.url(path_))
            assert refused.status == 403


async def test_the_knowledge_base_is_edited_in_the_desk(
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
        with bot.database.transaction() as session:
            save_entry(
                session,
                KnowledgeEntry(
                    id="pension",
                    question="怎么领取养老金？",
                    answer="携带身份证到社会事务办办理。",
                    department="labour",
                ),
                now=bot.clock.now(),
                via="test",
            )
        page = await sign_in(chromium, desk.link_for(world.roads.id))
        await page.click("nav >> text=知识库")
        # Another unit's entry: listed, but not for this staff member to change.
        pension = page.locator("article[data-entry=pension]")
        await expect(pension).to_contain_text("养老金")
        assert await pension.locator(".edit").count() == 0

        await page.click("#kb-add")
        await page.fill("input[name=question]", "垃圾多久清运一次？")
        await page.fill("textarea[name=alternatives]", "垃圾什么时候拉走\n垃圾车几点来")
        await page.fill("textarea[name=answer]", "镇区生活垃圾每天清运两次。")
        await page.fill("input[name=keywords]", "垃圾、清运")
        await screenshot(page, "kb-form")
        await page.click("#kb-form button[type=submit]")
        assert "已保存" in await page.inner_text("#flash")
        (key,) = [k for k in entries_of(bot) if k != "pension"]
        added = entries_of(bot)[key]
        assert added.department == "roads"  # a staff member's entries are their unit's
        assert added.alternatives == ("垃圾什么时候拉走", "垃圾车几点来")
        assert added.keywords == ("垃圾", "清运")
        # The running bot uses it at once: /kb in Telegram finds it.
        fake_telegram.push_text(world.roads, "/kb 垃圾清运")
        found = await fake_telegram.wait_for_message(world.roads.chat_id, contains=key)
        assert "每天清运两次" in found["text"]
        # A citizen asking it is answered from it directly, and the unit's today page counts it.
        fake_telegram.push_text(world.citizen, "垃圾多久清运一次？")
        await fake_telegram.wait_for_message(world.citizen.chat_id, contains="每天清运两次")
        await page.click("nav >> text=今日")
        assert await page.inner_text("#direct-answers") == "1"
        await page.click("nav >> text=知识库")

        await page.locator(f"article[data-entry={key}] .edit").click()
        await page.fill("textarea[name=answer]", "镇区生活垃圾每天早晚各清运一次。")
        await page.click("#kb-form button[type=submit]")
        assert "已保存" in await page.inner_text("#flash")
        assert entries_of(bot)[key].answer == "镇区生活垃圾每天早晚各清运一次。"
        await page.locator(f"article[data-entry={key}] .retire").click()
        assert "已停用" in await page.inner_text("#flash")
        assert "已停用" in await page.inner_text(f"article[data-entry={key}] .state")
        assert entries_of(bot)[key].active is False
        with bot.database.read() as session:
            versions = history(session, key)
        assert [v.change for v in versions] == ["created", "updated", "deactivated"]
        assert all(v.changed_via.startswith("desk 张工") for v in versions)

        # Another unit's entry, by a URL or a forged form: refused, unchanged.
        response = await page.goto(desk.url("/desk/kb/edit?entry=pension"))
        assert response is not None
        assert response.status == 403
        await page.goto(desk.url("/desk/kb"))
        csrf = await page.get_attribute("#kb-import input[name=csrf]", "value")
        forms: list[tuple[str, dict[str, str | float | bool]]] = [
            ("/desk/kb/edit", {"entry": "pension", "question": "改", "answer": "改"}),
            ("/desk/kb/active", {"entry": "pension", "active": "0"}),
        ]
        for path, form in forms:
            refused = await page.request.post(desk.url(path), form={"csrf": csrf or "", **form})
            assert "属于其他单位" in await refused.text()
            forged = await page.request.post(desk.url(path), form=form)  # no CSRF token
            assert forged.status == 403
        assert entries_of(bot)["pension"].answer == "携带身份证到社会事务办办理。"
        assert entries_of(bot)["pension"].active is True

        # Import: a malformed row names its line and nothing is imported.
        before = entries_of(bot)
        bad = "question,answer\n路灯坏了找谁？,村镇规划建设服务中心负责维修。\n没有答复的问题,\n"
        await import_csv(page, "bad.csv", bad)
        flash = await page.inner_text("#flash")
        assert "未导入任何条目" in flash
        assert "line 3" in flash
        assert entries_of(bot) == before
        # A row of another unit is refused the same way.
        other = "question,answer,department\n路灯坏了找谁？,请找建设中心。,\n养老金,社保办,labour\n"
        await import_csv(page, "other.csv", other)
        assert "第 3 行" in await page.inner_text("#flash")
        assert entries_of(bot) == before
        good = "question,answer\n路灯坏了找谁？,村镇规划建设服务中心负责维修。\n"
        await import_csv(page, "good.csv", good)
        assert "新增 1 条" in await page.inner_text("#flash")
        imported = [e for k, e in entries_of(bot).items() if k not in before]
        assert [(e.question, e.department) for e in imported] == [("路灯坏了找谁？", "roads")]

        # Export: this staff member's entries, in the form the import reads.
        exported = await page.request.get(desk.url("/desk/kb/export.csv"))
        assert exported.status == 200
        entries = parse_entries((await exported.body()).decode("utf-8-sig"))
        assert {e.id for e in entries} == {key, imported[0].id}
        await page.fill("input[name=q]", "路灯")
        await page.click(".filters button[type=submit]")
        await expect(page.locator("#entries")).not_to_contain_text("垃圾")
        await screenshot(page, "kb")

        # A supervisor changes any unit's entry and exports them all.
        boss = await sign_in(chromium, desk.link_for(world.supervisor.id))
        await boss.goto(desk.url("/desk/kb/edit?entry=pension"))
        await boss.fill("textarea[name=answer]", "携带身份证和户口簿到社会事务办办理。")
        await boss.click("#kb-form button[type=submit]")
        assert "已保存" in await boss.inner_text("#flash")
        assert entries_of(bot)["pension"].answer == "携带身份证和户口簿到社会事务办办理。"
        exported = await boss.request.get(desk.url("/desk/kb/export.csv"))
        everything = parse_entries((await exported.body()).decode("utf-8-sig"))
        assert {e.id for e in everything} == set(entries_of(bot))


def _jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(out, "JPEG")
    return out.getvalue()


async def test_a_tickets_photos_location_and_exports(
    fake_telegram: FakeTelegramServer,
    world: World,
    database_url: str,
    config: HotlineConfig,
    clock: FixedClock,
) -> None:
    server, citizen = fake_telegram, world.citizen
    async with (
        running_bot(server, database_url, config, clock) as bot,
        serving_desk(bot, api_base=server.base_url) as desk,
        browser() as chromium,
    ):
        photo = _jpeg(64, 48)
        server.push_text(citizen, "桥边的护栏断了，很危险")
        await server.wait_for_message(citizen.chat_id, contains="工单编号")
        server.push_location(citizen, 27.83, 99.70)
        await server.wait_for_message(citizen.chat_id, contains="位置已附加")
        server.push_photo(citizen, caption="护栏的照片", content=photo)
        await server.wait_for_message(citizen.chat_id, contains="已附加到工单")
        (ticket,) = bot.tickets()
        worker = server.user(2, first_name="钱师傅")
        wages, _ = await dispatch_to(world, "工地拖欠我三个月工资，老板失联了", "劳动保障", worker)

        page = await sign_in(chromium, desk.link_for(world.supervisor.id))
        await page.goto(desk.url(f"/desk/tickets/{ticket.id}"))
        image = page.locator(".photo img")
        await expect(image).to_have_count(1)
        await image.evaluate("img => img.decode()")  # loaded and decoded
        assert await image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [64, 48]
        src = await image.get_attribute("src")
        assert src is not None
        assert src.startswith(f"/desk/tickets/{ticket.id}/photos/")  # the desk's own origin
        served = await page.request.get(desk.url(src))
        assert served.headers["content-type"] == "image/jpeg"
        assert await served.body() == photo
        assert "护栏的照片" in await page.inner_text("#timeline")
        # Fetched from Telegram once, then from the cache.
        await page.reload()
        await image.evaluate("img => img.decode()")
        assert len(server.calls("getFile")) == 1
        assert desk.files is not None
        assert desk.files.fetched == 1
        maps = [await a.get_attribute("href") for a in await page.query_selector_all("a.map")]
        assert maps == [
            "https://www.openstreetmap.org/?mlat=27.830000&mlon=99.700000"
            "#map=17/27.830000/99.700000"
        ]
        await screenshot(page, "ticket-photo")

        # Staff of another unit: no photo of this ticket by its URL either.
        labour = await sign_in(chromium, desk.link_for(world.labour.id))
        refused = await labour.request.get(desk.url(src))
        assert refused.status == 404

        # The list's exports are of the current view.
        await page.goto(desk.url("/desk/tickets"))
        await page.fill("input[name=q]", "工资")
        await page.click(".filters button[type=submit]")
        await expect(page.locator("table.tickets")).not_to_contain_text(ticket.number)
        for link in ("#export-csv", "#export-xlsx"):
            href = await page.get_attribute(link, "href")
            assert href is not None
            assert "q=" in href
        csv_href = await page.get_attribute("#export-csv", "href")
        exported = await page.request.get(desk.url(csv_href or ""))
        rows = list(csv.reader(io.StringIO((await exported.body()).decode("utf-8-sig"))))
        assert rows[0][0] == "工单编号"
        assert [row[0] for row in rows[1:]] == [wages]
        xlsx_href = await page.get_attribute("#export-xlsx", "href")
        exported = await page.request.get(desk.url(xlsx_href or ""))
        assert exported.headers["content-disposition"] == 'attachment; filename="tickets.xlsx"'
        sheet = load_workbook(io.BytesIO(await exported.body())).active
        assert sheet is not None
        values = [[cell.value for cell in row] for row in sheet.iter_rows()]
        assert [row[0] for row in values[1:]] == [wages]
        assert "拖欠" in str(values[1][-1])
