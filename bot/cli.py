"""The ``hotline`` command (also ``python -m bot``).

Every failure an operator can cause (a missing token, an unreachable database, a broken config
file) ends in one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.table import Column, Table
from sqlalchemy.orm import Session

from bot.demo_cli import demo
from bot.desk_cli import desk_app
from bot.knowledge_cli import kb_app
from bot.logging_setup import Redactor, setup_logging
from bot.privacy_cli import privacy_app
from bot.route_cli import route
from bot.settings import Settings, SettingsError, get_settings
from bot.stats_cli import briefing, export, ranking, stats
from bot.tables import print_table
from handlers.config import ConfigError, HotlineConfig, load_config
from handlers.model import RequestType, Role
from scheduler.calendar import SHANGHAI, WorkingCalendar
from scheduler.clock import SystemClock
from scheduler.deadlines import due_after_working_days
from storage.admin import (
    AdminError,
    add_staff,
    list_departments,
    list_staff,
    remove_staff,
    set_department_chat,
    set_office_chat,
)
from storage.database import Database, DatabaseError
from storage.departments import sync_departments
from storage.repository import SqlStore, routing_history

app = typer.Typer(
    name="hotline",
    help="12345 政务服务便民热线 Telegram bot — the hotline's bot and its tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="The database: migrations.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff (承办人员) and supervisors (热线办).", no_args_is_help=True)
department_app = typer.Typer(help="Departments (承办单位) and their chats.", no_args_is_help=True)
office_app = typer.Typer(help="The hotline office (热线办) chat.", no_args_is_help=True)
calendar_app = typer.Typer(help="The working-day calendar (工作日).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(staff_app, name="staff")
app.add_typer(department_app, name="department")
app.add_typer(office_app, name="office")
app.add_typer(calendar_app, name="calendar")
app.add_typer(kb_app, name="kb")
app.add_typer(privacy_app, name="privacy")
app.add_typer(desk_app, name="desk")
app.command("route")(route)
app.command("stats")(stats)
app.command("export")(export)
app.command("ranking")(ranking)
app.command("briefing")(briefing)
app.command("demo")(demo)

EXIT_USAGE = 2


def fail(message: str) -> NoReturn:
    typer.echo(f"hotline: error: {message}", err=True)
    raise typer.Exit(EXIT_USAGE)


def settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        fail(f"bad HOTLINE_* setting: {str(exc).splitlines()[-1].strip()}")


def config(path: Path | None = None) -> HotlineConfig:
    try:
        return load_config(path or settings().config)
    except ConfigError as exc:
        fail(str(exc))


def database(*, ready: bool = True) -> Database:
    """The configured database; with ``ready``, reachable and at the code's schema."""
    try:
        db = Database(settings().database_url)
        if ready:
            db.ensure_schema()
        else:
            db.check()
    except DatabaseError as exc:
        fail(str(exc))
    return db


@app.command()
def run(
    transport: Annotated[
        str, typer.Option("--transport", help="aiogram (default) or ptb (python-telegram-bot)")
    ] = "aiogram",
    webhook: Annotated[
        str | None,
        typer.Option(
            "--webhook",
            metavar="URL",
            help="serve Telegram's webhook at this public https URL (HOTLINE_WEBHOOK_URL) "
            "instead of long polling",
        ),
    ] = None,
    listen: Annotated[
        str | None,
        typer.Option(
            "--listen",
            metavar="HOST:PORT",
            help="where the HTTP server listens (HOTLINE_LISTEN; 0.0.0.0:8080 with a webhook or "
            "HOTLINE_PUBLIC_URL): the webhook, /healthz, /metrics and the desk",
        ),
    ] = None,
) -> None:
    """Start the bot (long polling, or a webhook with --webhook) with the HOTLINE_* settings."""
    if transport not in ("aiogram", "ptb"):
        fail("--transport must be aiogram or ptb")
    current = settings()
    # Imported here and not at the top: aiohttp and prometheus_client are not needed by the
    # other commands.
    from bot.webhook import DEFAULT_LISTEN, Listen, check_webhook_url

    webhook = webhook or current.webhook_url or None
    # The webhook and the web desk (HOTLINE_PUBLIC_URL) need the HTTP server.
    serving = webhook or current.public_url
    listen = listen or current.listen or (DEFAULT_LISTEN if serving else None)
    try:
        if webhook:
            check_webhook_url(webhook)
        where = Listen.parse(listen) if listen else None
    except ValueError as exc:
        fail(str(exc))
    secret = current.webhook_secret.get_secret_value() if current.webhook_secret else None
    try:
        token = current.require_token()
    except SettingsError as exc:
        fail(str(exc))
    setup_logging(current.log_level, secrets=[token, *([secret] if secret else [])])
    hotline_config = config()
    db = database()
    # Imported only now: aiogram takes seconds to import, and a bad setting should not wait.
    from bot.runner import (
        StartupError,
        TransportName,
        exempt_startup_objects,
        install_signal_handlers,
        serve,
    )

    async def main() -> None:
        stop = asyncio.Event()
        install_signal_handlers(stop)
        await serve(
            token=token,
            api_base=current.telegram_api,
            config=hotline_config,
            database=db,
            journal=current.delivery_journal,
            stop=stop,
            instance=current.instance,
            transport=TransportName(transport),
            started=exempt_startup_objects,
            webhook=webhook,
            listen=where,
            webhook_secret=secret,
            public_url=current.public_url,
        )

    try:
        asyncio.run(main())
    except StartupError as exc:
        # The reason may quote a library's error, and a Bot API URL carries the token.
        fail(Redactor([token])(str(exc)))
    except OSError as exc:  # the address to listen on is taken or not ours
        fail(f"cannot listen on {listen}: {exc.strerror or exc}")
    finally:
        db.dispose()


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(metavar="REVISION", help="target revision")] = "head",
) -> None:
    """Apply the Alembic migrations to HOTLINE_DATABASE_URL."""
    db = database(ready=False)
    try:
        db.upgrade(revision)
    finally:
        db.dispose()
    typer.echo(f"database is at revision {db.current_revision()}")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and the one the code needs."""
    db = database(ready=False)
    typer.echo(f"database: {db.current_revision() or 'empty'}; code: {db.head_revision()}")


@db_app.command("revision", hidden=True)
def db_revision(message: str) -> None:
    """(developers) Autogenerate a migration from the models."""
    db = database(ready=False)
    db.make_revision(message)


@app.command("check-config")
def check_config(
    path: Annotated[
        Path | None, typer.Argument(metavar="FILE", help="TOML file (default: HOTLINE_CONFIG)")
    ] = None,
) -> None:
    """Validate a config file and summarise what it sets."""
    loaded = config(path)
    typer.echo(
        f"ok: {len(loaded.departments.departments)} departments, "
        f"{len(loaded.calendar)} calendar years added, "
        f"auto-dispatch threshold {loaded.auto_dispatch_threshold:.2f}"
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()


# -- staff and chats ----------------------------------------------------------------------------


@contextmanager
def operator_session() -> Iterator[Session]:
    """A transaction on the configured database, departments in step with the config; an
    AdminError becomes the one-line error."""
    db = database()
    try:
        with db.transaction() as session:
            sync_departments(session, config().departments)
            yield session
    except AdminError as exc:
        fail(str(exc))
    finally:
        db.dispose()


class StaffRole(StrEnum):
    """The roles an operator can enrol someone in (citizens and the system are not enrolled)."""

    STAFF = Role.STAFF.value
    SUPERVISOR = Role.SUPERVISOR.value


@staff_app.command("add")
def staff_add(
    telegram_id: Annotated[int, typer.Option("--telegram-id", help="their Telegram user id")],
    department: Annotated[str | None, typer.Option("--department", help="department code")] = None,
    role: Annotated[
        StaffRole, typer.Option("--role", help="staff (承办人员) or supervisor (热线办)")
    ] = StaffRole.STAFF,
    name: Annotated[str | None, typer.Option("--name", help="shown on cards")] = None,
) -> None:
    """Enrol a staff member or supervisor (or change their role and department)."""
    with operator_session() as session:
        member = add_staff(
            session,
            telegram_id,
            role=Role(role.value),
            department=department,
            name=name,
            now=SystemClock().now(),
        )
    typer.echo(
        f"{member.role.value} {member.telegram_user_id} ({member.name or '-'}) "
        f"department {member.department_code or '-'}"
    )


@staff_app.command("list")
def staff_list() -> None:
    """Active staff and supervisors."""
    with operator_session() as session:
        rows = list_staff(session)
        table = Table(
            Column("telegram id", no_wrap=True), "name", "role", Column("department", no_wrap=True)
        )
        for row in rows:
            table.add_row(
                str(row.telegram_user_id), row.name or "", row.role.value, row.department_code or ""
            )
    print_table(table)


@staff_app.command("remove")
def staff_remove(
    telegram_id: Annotated[int, typer.Option("--telegram-id", help="their Telegram user id")],
) -> None:
    """Take someone's staff rights away (their past actions stay in the log)."""
    with operator_session() as session:
        remove_staff(session, telegram_id)
    typer.echo(f"removed {telegram_id}")


@department_app.command("list")
def department_list(
    output: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Department codes and names (and the chat each is bound to)."""
    with operator_session() as session:
        rows = [
            {
                "code": r.code,
                "name_zh": r.name_zh,
                "name_en": r.name_en,
                "chat_id": r.chat_id,
                "active": r.active,
            }
            for r in list_departments(session)
        ]
    if output == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if output != "table":
        fail("--format must be table or json")
    # Codes and chat ids are never split; on a narrow terminal the names wrap instead.
    table = Table(
        Column("code", no_wrap=True), "名称", "name", Column("chat", no_wrap=True), "active"
    )
    for r in rows:
        table.add_row(
            str(r["code"]),
            str(r["name_zh"]),
            str(r["name_en"]),
            str(r["chat_id"] or ""),
            "yes" if r["active"] else "no",
        )
    print_table(table)


# Group chat ids are negative (-100…): the commands that take one read an unknown "option" as
# their argument, so the id works as /chatid writes it, without a "--" before it.
CHAT_ID_COMMAND = {"ignore_unknown_options": True}


@department_app.command("set-chat", context_settings=CHAT_ID_COMMAND)
def department_set_chat(
    code: Annotated[str, typer.Argument(metavar="CODE", help="department code")],
    chat_id: Annotated[
        int,
        typer.Argument(
            metavar="CHAT_ID", help="the group's chat id, like -1009876543210 (/chatid there)"
        ),
    ],
) -> None:
    """Bind a department's group chat: its ticket cards go there."""
    with operator_session() as session:
        set_department_chat(session, code, chat_id)
    typer.echo(f"{code} → chat {chat_id}")


@office_app.command("set-chat", context_settings=CHAT_ID_COMMAND)
def office_set_chat(
    chat_id: Annotated[
        int,
        typer.Argument(
            metavar="CHAT_ID",
            help="the office group's chat id, like -1001234567890 (/chatid there)",
        ),
    ],
) -> None:
    """Bind the hotline office's chat: dispatch queue, returns, extensions, reminders."""
    with operator_session() as session:
        set_office_chat(session, chat_id)
    typer.echo(f"office → chat {chat_id}")


# -- time: deadlines, the calendar, the sweep -----------------------------------------------------


def _moment(text: str, option: str) -> datetime:
    """An ISO date-time; without a zone it is Shanghai time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not an ISO date-time like 2026-09-30T10:00")
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


@app.command()
def deadline(
    received: Annotated[
        str, typer.Option("--received", help="ISO date-time; without a zone it is Shanghai time")
    ],
    days: Annotated[
        int | None, typer.Option("--days", help="working days (default: config)")
    ] = None,
    output: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """When a ticket received at RECEIVED is due (7 working days unless --days)."""
    moment = _moment(received, "--received")
    hotline_config = config()
    count = days if days is not None else hotline_config.sla.days_for(RequestType.HELP)
    if count < 1:
        fail("--days must be at least 1")
    result = due_after_working_days(moment, count, WorkingCalendar(hotline_config.calendar))
    due = result.due.astimezone(SHANGHAI)
    if output == "json":
        data = {
            "due": due.isoformat(),
            "estimated": result.estimated,
            "counted_days": [d.isoformat() for d in result.counted_days],
        }
        typer.echo(json.dumps(data))
        return
    if output != "text":
        fail("--format must be text or json")
    typer.echo(f"due {due:%Y-%m-%d %H:%M:%S} Asia/Shanghai ({count} working days)")
    typer.echo("counted: " + ", ".join(d.isoformat() for d in result.counted_days))
    if result.estimated:
        typer.echo("estimated: the holidays of a year in this span are not confirmed yet")


@calendar_app.command("check")
def calendar_check(year: Annotated[int, typer.Argument(metavar="YEAR", help="e.g. 2027")]) -> None:
    """Is YEAR's holiday schedule confirmed? If not, what to add to the config file."""
    status = WorkingCalendar(config().calendar).year_status(year)
    if status.confirmed:
        typer.echo(f"{year}: confirmed (from {status.source})")
        return
    typer.echo(f"{year}: NOT confirmed — deadlines in {year} are marked estimated")
    if status.estimated_holidays:
        typer.echo(
            "assumed days off: "
            + ", ".join(f"{day.isoformat()} {name}" for day, name in status.estimated_holidays)
        )
    typer.echo(status.hint)


@app.command()
def tick(
    at: Annotated[
        str | None,
        typer.Option("--at", help="sweep as of this ISO date-time (default: now), to replay"),
    ] = None,
) -> None:
    """Run one reminder sweep and exit (for deployments that prefer cron); the running bot
    delivers what it queues."""
    from bot.app import build_hotline
    from handlers.reminders import sweep

    current = settings()
    try:
        token = current.require_token()
    except SettingsError as exc:
        fail(str(exc))
    setup_logging(current.log_level, secrets=[token])
    now = SystemClock().now() if at is None else _moment(at, "--at")
    hotline_config = config()
    db = database()
    try:
        with db.transaction() as session:
            sync_departments(session, hotline_config.departments)
            hotline = build_hotline(
                hotline_config,
                secret=token,
                history=routing_history(session, hotline_config.routing.history_size),
            )
            report = sweep(SqlStore(session), hotline, now)
    finally:
        db.dispose()
    typer.echo(
        f"reminders {report.reminders or 'none'}; surveys closed {report.surveys_closed}; "
        f"held messages opened {report.held_opened}"
        + ("; outside working hours: only urgent tickets were chased" if report.held_back else "")
    )
