"""The ``hotline`` command as an operator meets it: help, clear one-line errors with exit
status 2, migrations, and a real ``hotline run`` answering a citizen through the fake server."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console
from rich.table import Column, Table
from typer.testing import CliRunner

from bot.cli import app
from bot.fake_bot_api import DEFAULT_TOKEN, FakeTelegramServer
from bot.tables import print_table
from handlers.config import load_config
from storage.admin import office_chat
from storage.database import Database

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


# -- setting up, word for word as the README writes it ------------------------------------------


def test_group_chat_ids_work_as_written(database_url: str) -> None:
    """Group ids are negative, as /chatid gives them: no "--" needed before them."""
    env = {"HOTLINE_DATABASE_URL": database_url}
    office = hotline("office", "set-chat", "-1001234567890", env=env)
    assert office.returncode == 0, office.stderr
    department = hotline("department", "set-chat", "construction", "-1009876543210", env=env)
    assert department.returncode == 0, department.stderr
    listed = hotline("department", "list", "--format", "json", env=env)
    chats = {row["code"]: row["chat_id"] for row in json.loads(listed.stdout)}
    assert chats["construction"] == -1009876543210
    db = Database(database_url)
    try:
        with db.read() as session:
            assert office_chat(session) == -1001234567890
    finally:
        db.dispose()
    # Anything else that looks like an option is still refused, in one line.
    refused = hotline("office", "set-chat", "-x", env=env)
    assert refused.returncode == 2
    assert "CHAT_ID" in refused.stderr


def test_route_works_from_any_directory(tmp_path: Path) -> None:
    """The built-in catalog ships in the package: `hotline route` needs no repository."""
    result = hotline("route", "村口的路灯坏了，晚上道路很黑", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0].split("\t")
    assert first[0] in load_config(None).departments.codes
    assert result.stdout.rstrip().splitlines()[-1].startswith("automatic:")


def test_route_uses_the_configured_departments(tmp_path: Path) -> None:
    """Without --catalog, `hotline route` routes to the departments the bot routes to."""
    config = tmp_path / "hotline.toml"
    config.write_text(
        '[[departments]]\ncode = "lights"\nname_zh = "路灯所"\nname_en = "Street Lights"\n'
        'keywords = ["路灯"]\n\n[[departments]]\ncode = "schools"\nname_zh = "教育办"\n'
        'name_en = "Education"\nkeywords = ["学校"]\n',
        encoding="utf-8",
    )
    result = hotline("route", "村口的路灯坏了", env={"HOTLINE_CONFIG": str(config)}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split("\t")[:2] == ["lights", "路灯所"]


def every_command(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every visible command and group under ``command`` (a Click command)."""
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        if not sub.hidden:
            yield from every_command(sub, (*path, name))


def test_help_texts_show_no_value_for_flags() -> None:
    """`--help` takes no value: no help text may show one (nor any other bare type name)."""
    runner = CliRunner()
    paths = list(every_command(typer.main.get_command(app)))
    assert ("office", "set-chat") in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "<bool>" not in result.output, (path, result.output)
        help_line = next(line for line in result.output.splitlines() if "--help" in line)
        assert help_line.split() == ["--help", "Show", "this", "message", "and", "exit."], path


def test_staff_add_offers_only_staff_roles(database_url: str) -> None:
    help_text = CliRunner().invoke(app, ["staff", "add", "--help"]).output
    assert "staff|supervisor" in help_text
    assert "citizen" not in help_text
    assert "system" not in help_text
    env = {"HOTLINE_DATABASE_URL": database_url}
    refused = hotline("staff", "add", "--telegram-id", "333", "--role", "citizen", env=env)
    assert refused.returncode == 2
    assert "--role" in refused.stderr
    added = hotline("staff", "add", "--telegram-id", "333", "--role", "supervisor", env=env)
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("supervisor 333")


def test_department_list_prints_whole_chinese_names(database_url: str) -> None:
    """Into a file or a pipe (not a terminal), every name is printed whole, on one line."""
    result = hotline("department", "list", env={"HOTLINE_DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    assert "…" not in result.stdout
    for department in load_config(None).departments.departments:
        row = next(line for line in result.stdout.splitlines() if f" {department.code} " in line)
        assert department.name_zh in row
        assert department.name_en in row


def test_tables_on_a_narrow_terminal_wrap_names_instead_of_cutting_them() -> None:
    table = Table(Column("code", no_wrap=True), "名称")
    names = {"agriculture": "农业农村综合服务中心", "construction": "村镇规划建设服务中心"}
    for code, name in names.items():
        table.add_row(code, name)
    screen = io.StringIO()
    print_table(table, Console(file=screen, width=24, force_terminal=True, color_system=None))
    assert "…" not in screen.getvalue()
    cells = [line.split("│") for line in screen.getvalue().splitlines() if "│" in line]
    for code, name in names.items():
        start = next(i for i, cell in enumerate(cells) if cell[1].strip() == code)
        wrapped = ""
        for cell in cells[start:]:
            if cell[1].strip() not in ("", code):
                break
            wrapped += cell[2].strip()
        assert wrapped == name
