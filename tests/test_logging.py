"""What the bot writes to its log: never the bot token, no phone number and no statement
parameters (names, texts), tracebacks included; no routine library lines at INFO."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from bot.fake_bot_api import DEFAULT_TOKEN, FakeTelegramServer
from bot.logging_setup import setup_logging
from handlers.model import Language
from storage.database import Database
from storage.models import CitizenRow

ROOT = Path(__file__).resolve().parents[1]
SECRET = DEFAULT_TOKEN.partition(":")[2]
PHONE = "13812345678"
CITIZEN_NAME = "王秀英"


async def run_the_bot(
    fake_telegram: FakeTelegramServer, database_url: str, transport: str, level: str, cwd: Path
) -> list[str]:
    """``hotline run`` answering one citizen, at ``level``; the lines it logged."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env = clean | {
        "PYTHONPATH": str(ROOT),
        "HOTLINE_BOT_TOKEN": DEFAULT_TOKEN,
        "HOTLINE_TELEGRAM_API": fake_telegram.base_url,
        "HOTLINE_DATABASE_URL": database_url,
        "HOTLINE_LOG_LEVEL": level,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--transport",
        transport,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        citizen = fake_telegram.user(41, first_name=CITIZEN_NAME)
        fake_telegram.push_text(citizen, f"村口的自来水管爆了，水一直在流，电话 {PHONE}")
        await fake_telegram.wait_for_message(citizen.chat_id, contains="工单编号", timeout=30)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, output.decode()
    return output.decode().splitlines()


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
@pytest.mark.parametrize("transport", ["aiogram", "ptb"])
async def test_no_log_line_holds_the_token_a_phone_or_a_name(
    fake_telegram: FakeTelegramServer, database_url: str, tmp_path: Path, transport: str, level: str
) -> None:
    lines = await run_the_bot(fake_telegram, database_url, transport, level, tmp_path)
    assert any("serving as" in line for line in lines), lines  # the log was captured
    for line in lines:
        assert SECRET not in line
        assert PHONE not in line
        assert CITIZEN_NAME not in line
    if level == "INFO":
        # APScheduler's start and its two lines a minute, httpx's line per request: routine.
        assert not [line for line in lines if " apscheduler" in line or " httpx:" in line]


def test_an_unreachable_bot_api_is_reported_without_the_token(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env = clean | {
        "PYTHONPATH": str(ROOT),
        "HOTLINE_BOT_TOKEN": DEFAULT_TOKEN,
        "HOTLINE_TELEGRAM_API": "http://127.0.0.1:1",
        "HOTLINE_LOG_LEVEL": "DEBUG",
    }
    for transport in ("aiogram", "ptb"):
        result = subprocess.run(
            [sys.executable, "-m", "bot", "run", "--transport", transport],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
        )
        assert result.returncode == 2, result.stderr
        assert "cannot reach the Bot API" in result.stderr
        assert SECRET not in result.stderr + result.stdout


class OperatorLog:
    """The bot's logging set up as ``hotline run`` does (the token as its secret), writing
    into a string instead of stderr."""

    def __init__(self) -> None:
        setup_logging("INFO", secrets=[DEFAULT_TOKEN])
        (self.handler,) = logging.getLogger().handlers
        assert isinstance(self.handler, logging.StreamHandler)
        self.stream = io.StringIO()
        self.handler.setStream(self.stream)
        self.log = logging.getLogger("hotline.test")

    def written(self) -> str:
        return self.stream.getvalue()


@pytest.fixture
def operator_log() -> Iterator[OperatorLog]:
    """An OperatorLog; the root logger's handlers and level are restored afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        yield OperatorLog()
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def test_tracebacks_and_stacks_are_masked(
    operator_log: OperatorLog,
) -> None:
    def fail_with_personal_data() -> None:
        raise ValueError(f"citizen {PHONE} via https://api.telegram.org/bot{DEFAULT_TOKEN}/getMe")

    try:
        fail_with_personal_data()
    except ValueError:
        operator_log.log.exception("the request failed for %s", PHONE, stack_info=True)
    text = operator_log.written()
    assert "Traceback" in text
    assert "Stack (most recent call last)" in text
    assert "fail_with_personal_data" in text  # the traceback itself is kept
    assert PHONE not in text
    assert "138****5678" in text
    assert SECRET not in text
    assert "/bot<token>/getMe" in text


def test_a_token_the_bot_was_not_given_is_redacted_in_urls(
    operator_log: OperatorLog,
) -> None:
    other = "987654321:AAE-another-bots-secret-0123456789ab"
    operator_log.log.warning("HTTP Request: POST http://127.0.0.1:8081/bot%s/getUpdates", other)
    text = operator_log.written()
    assert other.partition(":")[2] not in text
    assert "/bot<token>/getUpdates" in text


def test_database_errors_carry_no_statement_parameters(
    database: Database, operator_log: OperatorLog
) -> None:
    """A failed statement's parameters are citizens' names, phones and texts."""
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)

    def citizen() -> CitizenRow:
        return CitizenRow(
            telegram_user_id=77,
            chat_id=77,
            language=Language.ZH,
            name=CITIZEN_NAME,
            phone=PHONE,
            created_at=now,
        )

    def store() -> None:
        with database.transaction() as session:
            session.add(citizen())

    store()
    with pytest.raises(IntegrityError) as failure:
        store()  # the same Telegram user twice: a unique key
    assert CITIZEN_NAME not in str(failure.value)
    try:
        raise failure.value
    except IntegrityError:
        operator_log.log.exception("could not store the citizen")
    text = operator_log.written()
    assert "IntegrityError" in text
    assert "INSERT INTO citizens" in text
    assert CITIZEN_NAME not in text
    assert PHONE not in text
