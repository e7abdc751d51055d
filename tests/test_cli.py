"""The ``hotline`` command as an operator meets it: help, clear one-line errors with exit
status 2, migrations, and a real ``hotline run`` answering a citizen through the fake server."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fake_telegram import DEFAULT_TOKEN, FakeTelegramServer

ROOT = Path(__file__).resolve().parents[1]


def hotline(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """``python -m bot ARGS`` with only the given HOTLINE_* settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=clean | {"PYTHONPATH": str(ROOT)} | (env or {}),
        cwd=cwd,
        timeout=60,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("hotline: error:")]
    assert len(errors) == 1, f"expected one error line, got:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in errors[0]


def test_help_lists_the_commands() -> None:
    result = hotline("--help")
    assert result.returncode == 0
    for command in ("run", "db"):
        assert command in result.stdout


def test_run_without_a_token(tmp_path: Path) -> None:
    assert_one_line_error(hotline("run", cwd=tmp_path), "HOTLINE_BOT_TOKEN", "not set")


def test_run_with_a_malformed_token(tmp_path: Path) -> None:
    result = hotline("run", env={"HOTLINE_BOT_TOKEN": "not a token"}, cwd=tmp_path)
    assert_one_line_error(result, "HOTLINE_BOT_TOKEN", "malformed")
    assert "not a token" not in result.stderr  # secrets are not echoed


def test_run_with_a_bad_config_file(tmp_path: Path) -> None:
    config = tmp_path / "hotline.toml"
    config.write_text("[sla]\nurgent_hours = -3\n", encoding="utf-8")
    env = {"HOTLINE_BOT_TOKEN": DEFAULT_TOKEN, "HOTLINE_CONFIG": str(config)}
    assert_one_line_error(hotline("run", env=env, cwd=tmp_path), "sla.urgent_hours")
    config.write_text("[sla\n", encoding="utf-8")
    assert_one_line_error(hotline("run", env=env, cwd=tmp_path), "not valid TOML")
    env["HOTLINE_CONFIG"] = str(tmp_path / "missing.toml")
    assert_one_line_error(hotline("run", env=env, cwd=tmp_path), "does not exist")


def test_run_with_an_unreachable_database(tmp_path: Path) -> None:
    env = {
        "HOTLINE_BOT_TOKEN": DEFAULT_TOKEN,
        "HOTLINE_DATABASE_URL": "postgresql://hotline:secret@127.0.0.1:1/hotline",
    }
    result = hotline("run", env=env, cwd=tmp_path)
    assert_one_line_error(result, "cannot reach the database")
    assert "secret" not in result.stderr


def test_run_with_an_unreachable_bot_api(tmp_path: Path) -> None:
    env = {"HOTLINE_BOT_TOKEN": DEFAULT_TOKEN, "HOTLINE_TELEGRAM_API": "http://127.0.0.1:1"}
    assert_one_line_error(hotline("run", env=env, cwd=tmp_path), "cannot reach the Bot API")


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    env = {"HOTLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'h.sqlite3'}"}
    result = hotline("db", "upgrade", env=env)
    assert result.returncode == 0, result.stderr
    current = hotline("db", "current", env=env)
    assert "database: 0001" in current.stdout or "database: " in current.stdout
    code_head = current.stdout.strip().rsplit("code: ", 1)[1]
    assert f"database: {code_head};" in current.stdout


async def test_hotline_run_answers_a_citizen_on_a_fresh_machine(
    fake_telegram: FakeTelegramServer, tmp_path: Path
) -> None:
    """The README's promise: run the bot on the embedded default (an SQLite file in the working
    directory, created and migrated by the bot itself), write a request, get a ticket."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env = clean | {
        "PYTHONPATH": str(ROOT),
        "HOTLINE_BOT_TOKEN": DEFAULT_TOKEN,
        "HOTLINE_TELEGRAM_API": fake_telegram.base_url,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        citizen = fake_telegram.user(31)
        fake_telegram.push_text(citizen, "村口的自来水管爆了，水一直在流")
        reply = await fake_telegram.wait_for_message(
            citizen.chat_id, contains="工单编号", timeout=30
        )
        assert "办结时限" in reply["text"]
        assert (tmp_path / "hotline.sqlite3").exists()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, output.decode()
    assert b"Traceback" not in output


@pytest.mark.parametrize("args", [("db", "upgrade"), ("check-config",)])
def test_every_command_has_help(args: tuple[str, ...]) -> None:
    result = hotline(*args, "--help")
    assert result.returncode == 0
    assert "Usage" in result.stdout
