"""Webhook mode, several instances, /healthz and /metrics: the real bot over HTTP, on SQLite and
PostgreSQL, with the fake Bot API server delivering updates as Telegram does to a webhook."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from bot.fake_bot_api import DEFAULT_TOKEN, FakeTelegramServer
from bot.polling import ALLOWED_UPDATES
from bot.runner import TransportName
from bot.webhook import MAX_CONNECTIONS, SECRET_HEADER, Listen
from handlers.config import HotlineConfig
from scheduler.clock import FixedClock
from storage.models import ProcessedUpdateRow
from tests.harness import RunningBot, running_bot
from tests.test_cli import assert_one_line_error, hotline
from tests.test_delivery_faults_e2e import database_down

WEBHOOK = "https://hotline.example/telegram/hook"
PATH = "/telegram/hook"
LOCAL = Listen("127.0.0.1", 0)
NUMBER = re.compile(r"\d{8}-\d{4,}")
TRANSPORTS = [TransportName.AIOGRAM, TransportName.PTB]


def processed_count(bot: RunningBot) -> int:
    with bot.database.read() as session:
        return int(session.scalar(select(func.count()).select_from(ProcessedUpdateRow)) or 0)


async def test_two_instances_share_the_webhook_and_lose_no_request_when_one_stops(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    citizens = [fake_telegram.user(3001 + i, language_code="zh-hans") for i in range(7)]
    async with running_bot(
        fake_telegram,
        database_url,
        hotline_config,
        clock,
        instance="bot-b",
        webhook=WEBHOOK,
        listen=LOCAL,
    ) as b:
        async with running_bot(
            fake_telegram,
            database_url,
            hotline_config,
            clock,
            instance="bot-a",
            webhook=WEBHOOK,
            listen=LOCAL,
            transport=TransportName.PTB,
        ) as a:
            hook = fake_telegram.webhook()
            assert hook is not None
            assert hook["url"] == WEBHOOK
            assert hook["allowed_updates"] == ALLOWED_UPDATES
            assert int(hook["max_connections"]) == MAX_CONNECTIONS
            # Both instances set the webhook with the one secret the first kept in the database.
            secrets = {c.params["secret_token"] for c in fake_telegram.calls("setWebhook")}
            assert len(secrets) == 1
            assert len(next(iter(secrets))) >= 32
            targets = [a.url(PATH), b.url(PATH)]
            for citizen in citizens[:3]:
                fake_telegram.push_text(citizen, f"{citizen.id} 号楼门口的路灯坏了，晚上很黑")
            first = await fake_telegram.deliver_webhook(targets)
            # The load balancer spread them over both instances.
            assert {target for _, target, status in first if status == 200} == set(targets)
            # A commits one more request and is killed before its 200 reaches Telegram, which
            # therefore still holds the update and delivers it again.
            lost = fake_telegram.push_text(
                citizens[6], f"{citizens[6].id} 号楼门口的路灯坏了，晚上很黑"
            )
            async with aiohttp.ClientSession() as http:
                answer = await http.post(
                    a.url(PATH), json=lost.update, headers={SECRET_HEADER: next(iter(secrets))}
                )
                assert answer.status == 200
            assert fake_telegram.pending_updates == [lost.update]
        # Instance A is gone in the middle of the burst: its share goes to B.
        for citizen in citizens[3:6]:
            fake_telegram.push_text(citizen, f"{citizen.id} 号楼门口的路灯坏了，晚上很黑")
        second = await fake_telegram.deliver_webhook(targets)
        assert any(target == targets[0] and status != 200 for _, target, status in second)
        assert (lost.update["update_id"], targets[1], 200) in second  # the redelivery, to B
        assert b.app.delivery is not None
        await b.until(lambda: b.ticket_count() == 7)
        await b.app.delivery.idle()
        await b.until(
            lambda: all(
                any("工单编号" in m.get("text", "") for m in fake_telegram.sent_messages(c.chat_id))
                for c in citizens
            )
        )
        tickets = sorted(t.text for t in b.tickets())
        assert tickets == sorted(f"{c.id} 号楼门口的路灯坏了，晚上很黑" for c in citizens)
        confirmations = Counter(
            c.id
            for c in citizens
            for m in fake_telegram.sent_messages(c.chat_id)
            if "工单编号" in m.get("text", "")
        )
        assert confirmations == {c.id: 1 for c in citizens}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_redelivered_update_changes_nothing_twice(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
    transport: TransportName,
) -> None:
    citizen = fake_telegram.user(3101)
    async with running_bot(
        fake_telegram,
        database_url,
        hotline_config,
        clock,
        webhook=WEBHOOK,
        listen=LOCAL,
        transport=transport,
    ) as bot:
        pushed = fake_telegram.push_text(citizen, "小区门口的井盖丢了，很危险")
        await fake_telegram.deliver_webhook([bot.url(PATH)])
        await fake_telegram.wait_for_message(citizen.chat_id, contains="工单编号")
        secret = fake_telegram.webhook()["secret_token"]  # type: ignore[index]
        async with aiohttp.ClientSession() as http:
            again = await http.post(
                bot.url(PATH), json=pushed.update, headers={SECRET_HEADER: secret}
            )
        assert again.status == 200
        await fake_telegram.assert_no_message(citizen.chat_id, within=0.3)
        assert bot.ticket_count() == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_request_without_the_right_secret_is_refused_and_changes_nothing(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
    transport: TransportName,
) -> None:
    citizen = fake_telegram.user(3201)
    async with running_bot(
        fake_telegram,
        database_url,
        hotline_config,
        clock,
        webhook=WEBHOOK,
        listen=LOCAL,
        webhook_secret="the-operators-own-secret",
        transport=transport,
    ) as bot:
        assert fake_telegram.webhook()["secret_token"] == "the-operators-own-secret"  # type: ignore[index]
        pushed = fake_telegram.push_text(citizen, "路灯坏了")
        async with aiohttp.ClientSession() as http:
            for headers in ({SECRET_HEADER: "guessed"}, {}):
                answer = await http.post(bot.url(PATH), json=pushed.update, headers=headers)
                assert answer.status == 401
        await fake_telegram.assert_no_message(citizen.chat_id, within=0.3)
        assert bot.ticket_count() == 0
        assert processed_count(bot) == 0
        # The genuine delivery of the same update is then handled.
        await fake_telegram.deliver_webhook([bot.url(PATH)])
        await fake_telegram.wait_for_message(citizen.chat_id, contains="工单编号")
        assert bot.ticket_count() == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_update_the_database_cannot_take_gets_a_5xx_and_its_retry_one_ticket(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
    transport: TransportName,
) -> None:
    citizen = fake_telegram.user(3301)
    async with running_bot(
        fake_telegram,
        database_url,
        hotline_config,
        clock,
        webhook=WEBHOOK,
        listen=LOCAL,
        transport=transport,
    ) as bot:
        pushed = fake_telegram.push_text(citizen, "小区停水两天了")
        secret = fake_telegram.webhook()["secret_token"]  # type: ignore[index]
        async with aiohttp.ClientSession() as http:
            with database_down(bot.database):
                answer = await http.post(
                    bot.url(PATH), json=pushed.update, headers={SECRET_HEADER: secret}
                )
                assert answer.status >= 500
        assert bot.ticket_count() == 0
        # Telegram retries once the database is back: one ticket, one confirmation.
        attempts = await fake_telegram.deliver_webhook([bot.url(PATH)])
        assert attempts[-1][2] == 200
        await fake_telegram.wait_for_message(citizen.chat_id, contains="工单编号")
        assert bot.ticket_count() == 1
        confirmations = [
            m for m in fake_telegram.sent_messages(citizen.chat_id) if "工单编号" in m["text"]
        ]
        assert len(confirmations) == 1


async def test_long_polling_deletes_a_webhook_left_set(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    citizen = fake_telegram.user(3401)
    async with running_bot(
        fake_telegram, database_url, hotline_config, clock, webhook=WEBHOOK, listen=LOCAL
    ):
        assert fake_telegram.webhook() is not None
    async with running_bot(fake_telegram, database_url, hotline_config, clock) as bot:
        fake_telegram.push_text(citizen, "路灯坏了")
        await fake_telegram.wait_for_message(citizen.chat_id, contains="工单编号")
        assert fake_telegram.webhook() is None
        assert bot.ticket_count() == 1


# -- /healthz and /metrics -----------------------------------------------------------------------


def samples(text: str) -> dict[str, float]:
    """Every sample of a Prometheus text exposition by name (and labels), parsed."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found


async def test_health_and_metrics_are_served_in_long_polling_with_listen(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    citizens = [fake_telegram.user(3501 + i) for i in range(2)]
    async with running_bot(fake_telegram, database_url, hotline_config, clock, listen=LOCAL) as bot:
        for citizen in citizens:
            fake_telegram.push_text(citizen, f"{citizen.id} 小区的垃圾三天没人清运了")
            await fake_telegram.wait_for_message(citizen.chat_id, contains="工单编号")
        assert bot.app.delivery is not None
        await bot.app.delivery.idle()
        async with aiohttp.ClientSession() as http:
            scrape = await http.get(bot.url("/metrics"))
            assert scrape.status == 200
            assert scrape.headers["Content-Type"].startswith("text/plain")
            metrics = samples(await scrape.text())
            health = await http.get(bot.url("/healthz"))
            assert health.status == 200
            body = await health.json()
            assert body["status"] == "ok"
            assert body["checks"]["database"]["ok"] is True
            assert body["checks"]["bot_api"]["ok"] is True

            with database_down(bot.database):
                down = await http.get(bot.url("/healthz"))
                assert down.status == 503
                body = await down.json()
                assert body["checks"]["database"]["ok"] is False
                assert body["checks"]["bot_api"]["ok"] is True
        assert metrics["hotline_updates_handled_total"] == 2
        assert metrics["hotline_update_handling_seconds_count"] == 2
        assert metrics["hotline_tickets_open"] == 2
        assert metrics["hotline_tickets_overdue"] == 0
        assert metrics["hotline_outbox_pending"] == 0
        assert metrics["hotline_outbox_oldest_pending_seconds"] == 0


async def test_metrics_count_delivery_errors_by_kind_and_the_pending_outbox(
    fake_telegram: FakeTelegramServer,
    database_url: str,
    hotline_config: HotlineConfig,
    clock: FixedClock,
) -> None:
    blocked, unlucky = fake_telegram.user(3601), fake_telegram.user(3602)
    async with running_bot(fake_telegram, database_url, hotline_config, clock, listen=LOCAL) as bot:
        fake_telegram.fail_next(
            "sendMessage",
            status=403,
            description="Forbidden: bot was blocked by the user",
            chat_id=blocked.chat_id,
        )
        fake_telegram.fail_next("sendMessage", status=502, chat_id=unlucky.chat_id)
        fake_telegram.push_text(blocked, "路灯坏了三天")
        fake_telegram.push_text(unlucky, "井盖丢了")
        await bot.until(lambda: bot.ticket_count() == 2)
        assert bot.app.delivery is not None
        await bot.until(lambda: len(fake_telegram.calls("sendMessage")) >= 2)
        await bot.app.delivery.idle()
        clock.advance(timedelta(seconds=90))
        async with aiohttp.ClientSession() as http:
            metrics = samples(await (await http.get(bot.url("/metrics"))).text())
            health = await (await http.get(bot.url("/healthz"))).json()
    assert metrics["hotline_delivery_errors_total{kind=blocked}"] == 1
    assert metrics["hotline_delivery_errors_total{kind=retry_later}"] == 1
    # The confirmation Telegram failed to take waits for its retry, 90 s old by now.
    assert metrics["hotline_outbox_pending"] == 1
    assert metrics["hotline_outbox_oldest_pending_seconds"] == 90
    # A failed call among answered ones moments ago: the Bot API counts as answering.
    assert health["checks"]["bot_api"]["ok"] is True


# -- hotline run's options -----------------------------------------------------------------------


def test_a_webhook_url_telegram_would_refuse_is_one_line_at_start(tmp_path: Path) -> None:
    env = {"HOTLINE_BOT_TOKEN": DEFAULT_TOKEN}
    result = hotline("run", "--webhook", "http://hotline.example/hook", env=env, cwd=tmp_path)
    assert_one_line_error(result, "--webhook", "https://")
    from_env = hotline("run", env=env | {"HOTLINE_WEBHOOK_URL": "hotline.example"}, cwd=tmp_path)
    assert_one_line_error(from_env, "--webhook", "https://")


def test_a_listen_address_that_is_not_host_port_is_one_line_at_start(tmp_path: Path) -> None:
    env = {"HOTLINE_BOT_TOKEN": DEFAULT_TOKEN}
    result = hotline("run", "--listen", "8080", env=env, cwd=tmp_path)
    assert_one_line_error(result, "--listen", "HOST:PORT")
